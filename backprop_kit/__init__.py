"""backprop_kit: backpropagation in four stages you can call one by one.

    import backprop_kit as bk
    data = bk.datasets.make("spiral", n=400, noise=0.1, seed=0)
    net = bk.Network([2, 16, 16, 1], activation="tanh", output="sigmoid", init="xavier", seed=0)
    trace = bk.forward(net, data.X_train)                    # 1. forward
    L = bk.loss(trace.output, data.y_train, "bce")           # 2. loss
    grads = bk.gradient(net, trace, data.y_train, "bce")     # 3. gradient (backpropagation)
    net = bk.update(net, grads, lr=0.1)                      # 4. update

The core imports only NumPy; plots (matplotlib) and panels (``backprop_kit.widgets``)
are imported when you ask for them, and so is the scalar graph (``bk.Value``, ``bk.graph``).
"""
from . import activations, datasets, losses
from .datasets import Dataset
from .gradcheck import gradcheck, numerical_gradient, relative_error
from .network import Network
from .optimizers import SGD, Adam, Momentum, Optimizer, clip_gradients, global_norm
from .stages import Gradients, Trace, forward, gradient, loss, update
from .training import History, Trainer, accuracy

__version__ = "0.1.0"

# loaded on first use (``bk.Value``, ``bk.graph.from_network``): most lessons never need them
_LAZY = {"graph": None, "Value": "Value"}

__all__ = [
    "Network", "forward", "loss", "gradient", "update", "Trace", "Gradients",
    "SGD", "Momentum", "Adam", "Optimizer", "clip_gradients", "global_norm",
    "Trainer", "History", "accuracy", "gradcheck", "numerical_gradient", "relative_error",
    "datasets", "Dataset", "activations", "losses", "graph", "Value",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(".graph", __name__)
        return module if _LAZY[name] is None else getattr(module, _LAZY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
