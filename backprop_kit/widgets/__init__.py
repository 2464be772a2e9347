"""ipywidgets panels for the lessons; each is a widget you can display or put in your own layout.

    from backprop_kit.widgets import Playground, find
    panel = Playground(seed=0)
    find(panel, "bk-learning-rate").value = 0.3      # a control, by its bk-* CSS class

Panels: Playground, StageStepper, LearningRateExplorer, BatchSizeExplorer, GradientFlowExplorer,
ActivationExplorer, GraphStepper; all arguments by keyword. Each makes its own canvases, so it
works whether or not the notebook ran ``%matplotlib widget``. Controls carry ``bk-*`` CSS classes
(the README lists them) for tests and instructors: ``find`` and ``find_all`` reach them.
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

__all__ = [*_PANELS, "find", "find_all"]


def __getattr__(name):
    # each panel lives in its own module, imported on first use
    if name in _PANELS:
        return getattr(importlib.import_module(f".{_PANELS[name]}", __name__), name)
    if name in ("find", "find_all"):
        return getattr(importlib.import_module("._base", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
