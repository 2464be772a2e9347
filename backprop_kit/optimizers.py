"""Optimizers turn gradients into a weight update; gradient clipping caps the step.

Each optimizer keeps its own state (velocities, moment estimates) and exposes
``step(net, grads) -> new Network``; ``net`` itself is never changed.

- SGD:       W <- W - lr g
- Momentum:  v <- beta v + g;  W <- W - lr v
- Adam:      m <- b1 m + (1-b1) g;  s <- b2 s + (1-b2) g^2;  W <- W - lr m^ / (sqrt(s^) + eps)
             with bias-corrected m^ = m / (1 - b1^t), s^ = s / (1 - b2^t)
"""
from __future__ import annotations

import numpy as np

from . import _checks
from .network import Network
from .stages import Gradients, _check_finite_gradients, _check_gradients, _check_network, _update


class Optimizer:
    """Base class: holds the learning rate ``lr`` (changeable between steps) and per-layer state."""

    name = "optimizer"

    def __init__(self, lr: float = 0.1):
        self.lr = lr
        self.reset()

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _checks.number("lr", value, low=0, low_open=True)

    def step(self, net: Network, grads: Gradients) -> Network:
        """Apply one update to ``net`` with ``grads``; returns a new Network."""
        _check_network(net)
        _check_gradients(grads, net)
        return self._step(net, grads)

    def _step(self, net: Network, grads: Gradients) -> Network:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the state (velocities, moments) so the next step starts afresh."""
        self.t = 0
        self._shapes = None          # the weight shapes the state was made for

    def _state_for(self, net: Network, names: tuple[str, ...]) -> None:
        """Per-layer state named ``names`` (each a pair of lists of zeros like the weights and the
        biases), made on the first step and kept while the network keeps its shapes."""
        shapes = [W.shape for W in net.weights]
        if getattr(self, "_shapes", None) != shapes:
            if self.t:
                raise ValueError(f"net must have the shapes this {self.name} optimizer was used with "
                                 f"({self._shapes}); got {shapes}. Call .reset() first for a new network")
            self._shapes = shapes
            for attr in names:
                setattr(self, attr, ([np.zeros_like(W) for W in net.weights],
                                     [np.zeros_like(b) for b in net.biases]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g})"


class SGD(Optimizer):
    """Plain gradient descent: W <- W - lr g."""

    name = "sgd"

    def _step(self, net, grads):
        self.t += 1
        return _update(net, grads, self._lr)


class Momentum(Optimizer):
    """Heavy-ball momentum: v <- beta v + g; W <- W - lr v. Speeds along steady directions."""

    name = "momentum"

    def __init__(self, lr: float = 0.1, beta: float = 0.9):
        super().__init__(lr)
        self.beta = _checks.number("beta", beta, low=0, high=1)

    def _step(self, net, grads):
        self._state_for(net, ("velocity",))
        self.t += 1
        vW, vb = self.velocity
        for i in range(net.n_layers):
            vW[i] = self.beta * vW[i] + grads.weights[i]
            vb[i] = self.beta * vb[i] + grads.biases[i]
        return _update(net, Gradients(vW, vb, grads.deltas), self._lr)


class Adam(Optimizer):
    """Adam: a step per weight scaled by running estimates of the gradient's mean and size."""

    name = "adam"

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1 = _checks.number("beta1", beta1, low=0, high=1)
        self.beta2 = _checks.number("beta2", beta2, low=0, high=1)
        self.eps = _checks.number("eps", eps, low=0, low_open=True)

    def _step(self, net, grads):
        self._state_for(net, ("m", "s"))
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        correct1, correct2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        mW, mb = self.m
        sW, sb = self.s
        new_weights, new_biases = [], []
        for i in range(net.n_layers):
            for means, squares, g, param, out in ((mW, sW, grads.weights[i], net.weights[i], new_weights),
                                                  (mb, sb, grads.biases[i], net.biases[i], new_biases)):
                means[i] = b1 * means[i] + (1 - b1) * g
                squares[i] = b2 * squares[i] + (1 - b2) * g * g
                out.append(param - self._lr * (means[i] / correct1) / (np.sqrt(squares[i] / correct2) + self.eps))
        return Network._from_parameters(net, new_weights, new_biases)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make(optimizer: str, lr: float) -> Optimizer:
    """A new optimizer from a name (one of OPTIMIZERS) and a learning rate."""
    if isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a name here; got the object {optimizer!r}")
    _checks.choice("optimizer", optimizer, OPTIMIZERS)
    return OPTIMIZERS[optimizer](lr)


# --- gradient clipping --------------------------------------------------------

def global_norm(grads: Gradients) -> float:
    """The L2 norm of all weight and bias gradients taken together: sqrt(sum of every g**2)."""
    if not isinstance(grads, Gradients):
        raise TypeError(f"grads must be the Gradients returned by gradient(); got {_checks._show(grads)}")
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in (*grads.weights, *grads.biases))))


def clip_gradients(grads: Gradients, max_norm: float) -> tuple[Gradients, float]:
    """Scale all gradients down together so their global L2 norm is at most ``max_norm``.

    Returns ``(clipped, norm_before)``. The direction is kept; only the length shrinks.
    When the norm is already <= max_norm the same gradients come back. Deltas are left as they are.
    """
    if not isinstance(grads, Gradients):
        raise TypeError(f"grads must be the Gradients returned by gradient(); got {_checks._show(grads)}")
    max_norm = _checks.number("max_norm", max_norm, low=0, low_open=True)
    _check_finite_gradients(grads)
    return _clip(grads, max_norm, global_norm(grads))


def _clip(grads: Gradients, max_norm: float, norm: float) -> tuple[Gradients, float]:
    if not norm > max_norm:     # also keeps NaN gradients as they are, for the divergence check to see
        return grads, norm
    factor = max_norm / norm
    return Gradients([g * factor for g in grads.weights], [g * factor for g in grads.biases],
                     grads.deltas), norm
