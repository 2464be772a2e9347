"""ipywidgets panels for the lessons; each is a widget you can display or put in your own layout.

    from backprop_kit.widgets import Playground
    Playground(seed=0)

Panels: Playground, StageStepper, LearningRateExplorer, BatchSizeExplorer,
GradientFlowExplorer, ActivationExplorer, GraphStepper. Each makes its own ipympl canvases, so it works
whether or not the notebook ran ``%matplotlib widget``. Controls carry ``bk-*`` CSS classes
(see DESIGN.md) for tests and instructors.
"""
import importlib

_PANELS = {
    "Playground": "playground",
    "StageStepper": "stage_stepper",
    "LearningRateExplorer": "learning_rate",
    "BatchSizeExplorer": "batch_size",
    "GradientFlowExplorer": "gradient_flow",
    "ActivationExplorer": "activation",
    "GraphStepper": "graph_stepper",
}

__all__ = list(_PANELS)


def __getattr__(name):
    # each panel lives in its own module, imported on first use
    if name in _PANELS:
        return getattr(importlib.import_module(f".{_PANELS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
