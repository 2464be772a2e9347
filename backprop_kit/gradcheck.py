"""Gradient checking: compare backpropagation with numerical derivatives.

The central difference  dL/dw ~ (L(w + eps) - L(w - eps)) / (2 eps)  needs only the
forward pass and the loss, so if it agrees with ``gradient`` the backward pass is right.
Agreement is measured per layer by the relative error ||g_backprop - g_numeric|| /
(||g_backprop|| + ||g_numeric||), read as lesson 04 reads it (CS231n's bands): below 1e-7 the
two agree; 1e-7 to 1e-4 is close, fine when you can name the cause (a kink, tiny gradients);
1e-4 to 1e-2 is suspicious; 1e-2 or above is likely a bug. One honest exception: ReLU (and leaky ReLU) has a kink at z = 0, where its
derivative jumps; when a pre-activation lies within eps of 0 (e.g. a unit that is exactly off
for a sample), the central difference straddles the kink and the error can be large although
backpropagation is right. Check with other samples, or a smooth activation.
"""
from __future__ import annotations

import numpy as np

from . import _checks, losses
from .network import Network
from .stages import Gradients, _check_l2, _check_network, _forward, _gradient, _loss


def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||), and 0 when both are zero."""
    a, b = _checks._as_array("a", a), _checks._as_array("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape (two gradients of one parameter); "
                         f"got shapes {a.shape} and {b.shape}")
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    _checks.finite("a", a)
    _checks.finite("b", b)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def numerical_gradient(net: Network, X, y, loss: str, *, l2: float = 0.0, eps: float = 1e-6) -> Gradients:
    """dL/dW_i and dL/db_i by central differences, nudging one parameter at a time (slow: 2 forward
    passes per parameter; for small networks). ``deltas`` is left empty."""
    net, X, y, spec, l2 = _prepare(net, X, y, loss, l2)
    eps = _checks.number("eps", eps, low=0, low_open=True, high=1)
    return _numerical(net, X, y, spec, l2, eps)


def gradcheck(net: Network, X, y, loss: str, *, l2: float = 0.0, eps: float = 1e-6) -> list[float]:
    """The relative error between ``gradient`` and central differences for each layer (weights and
    biases together): a list with one float per layer."""
    net, X, y, spec, l2 = _prepare(net, X, y, loss, l2)
    eps = _checks.number("eps", eps, low=0, low_open=True, high=1)
    analytic = _gradient(net, _forward(net, X), y, spec, l2)
    numeric = _numerical(net, X, y, spec, l2, eps)
    return [relative_error(np.concatenate([aW.ravel(), ab]), np.concatenate([nW.ravel(), nb]))
            for aW, ab, nW, nb in zip(analytic.weights, analytic.biases, numeric.weights, numeric.biases)]


def _prepare(net, X, y, loss, l2):
    _check_network(net)
    if net.dtype != "float64":
        raise ValueError(f"net must be float64 for a gradient check (float32 is too coarse for "
                         f"finite differences); got dtype {net.dtype!r}")
    spec = losses.get(loss)
    losses.check_pairing(loss, net.output)
    X = _checks.matrix("X", X, columns=net.sizes[0])
    y = losses.targets(y, loss, X.shape[0], net.sizes[-1])
    return net.copy(), X, y, spec, _check_l2(l2, net)


def _numerical(net, X, y, spec, l2, eps) -> Gradients:
    def loss_now():
        return _loss(_forward(net, X).output, y, spec, l2, net)

    result = {"weights": [], "biases": []}
    for kind in ("weights", "biases"):
        for param in getattr(net, kind):      # our own copy: nudged in place, then restored
            grad = np.zeros_like(param)
            for index in np.ndindex(param.shape):
                original = param[index]
                param[index] = original + eps
                plus = loss_now()
                param[index] = original - eps
                minus = loss_now()
                param[index] = original
                grad[index] = (plus - minus) / (2 * eps)
            result[kind].append(grad)
    return Gradients(result["weights"], result["biases"], [])
