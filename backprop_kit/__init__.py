"""backprop_kit: backpropagation in four stages you can call one by one.

    import backprop_kit as bk
    data = bk.datasets.make("spiral", n=400, noise=0.1, seed=0)
    net = bk.Network([2, 16, 16, 1], activation="tanh", output="sigmoid", init="xavier", seed=0)
    trace = bk.forward(net, data.X_train)                    # 1. forward
    L = bk.loss(trace.output, data.y_train, "bce")           # 2. loss
    grads = bk.gradient(net, trace, data.y_train, "bce")     # 3. gradient (backpropagation)
    net = bk.update(net, grads, lr=0.1)                      # 4. update

The core imports only NumPy; plots (matplotlib) and panels (``backprop_kit.widgets``)
are imported when you ask for them.
"""
from . import activations, datasets, losses
from .datasets import Dataset
from .gradcheck import gradcheck, numerical_gradient, relative_error
from .network import Network
from .optimizers import SGD, Adam, Momentum, Optimizer, clip_gradients, global_norm
from .stages import Gradients, Trace, forward, gradient, loss, update
from .training import History, Trainer, accuracy

__version__ = "0.1.0"

__all__ = [
    "Network", "forward", "loss", "gradient", "update", "Trace", "Gradients",
    "SGD", "Momentum", "Adam", "Optimizer", "clip_gradients", "global_norm",
    "Trainer", "History", "accuracy", "gradcheck", "numerical_gradient", "relative_error",
    "datasets", "Dataset", "activations", "losses",
]
