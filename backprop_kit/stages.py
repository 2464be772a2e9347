"""The four stages of training a neural network: forward, loss, gradient, update.

Each stage is a pure function: it reads its inputs, returns a new value, and changes
nothing. A lesson calls them one at a time; the Trainer calls the same functions in a loop::

    trace = forward(net, X)                   # 1. forward:  a0 = X, z_i = a_i W_i + b_i, a_{i+1} = f_i(z_i)
    L = loss(trace.output, y, "bce")          # 2. loss:     one number, the mean over the batch
    grads = gradient(net, trace, y, "bce")    # 3. gradient: dL/dW_i, dL/db_i by the chain rule, last layer first
    net = update(net, grads, lr=0.1)          # 4. update:   W_i <- W_i - lr dL/dW_i

Shapes (n samples, layer i maps sizes[i] -> sizes[i+1]):
X, a_i: (n, sizes[i]); z_i, delta_i: (n, sizes[i+1]); W_i: (sizes[i], sizes[i+1]); b_i: (sizes[i+1],).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _checks, activations, losses
from .network import Network


class Trace(NamedTuple):
    """What the forward pass computed, kept for the backward pass (and for a lesson to look at).

    inputs: a0 = X, (n, d). pre[i]: z_i, (n, sizes[i+1]). post[i]: a_{i+1} = f_i(z_i), (n, sizes[i+1]).
    """

    inputs: np.ndarray
    pre: list
    post: list

    @property
    def output(self) -> np.ndarray:
        """The network's output, (n, sizes[-1])."""
        return self.post[-1]


class Gradients(NamedTuple):
    """dL/dW_i and dL/db_i for every layer (same shapes as the weights), and deltas[i] = dL/dz_i, (n, sizes[i+1])."""

    weights: list
    biases: list
    deltas: list


# --- 1. forward ---------------------------------------------------------------

def forward(net: Network, X) -> Trace:
    """Run the network on a batch: X (n, d) -> Trace with every z and a along the way.

    For each layer i:  z_i = a_i @ W_i + b_i,  a_{i+1} = f_i(z_i),  starting from a_0 = X.
    """
    _check_network(net)
    return _forward(net, _checks.matrix("X", X, columns=net.sizes[0], dtype=net.dtype))


def _forward(net: Network, X: np.ndarray) -> Trace:
    a, pre, post = X, [], []
    for W, b, name in zip(net.weights, net.biases, net.activations):
        z = a @ W + b
        a = activations.REGISTRY[name].value(z)
        pre.append(z)
        post.append(a)
    return Trace(X, pre, post)


# --- 2. loss ------------------------------------------------------------------

def loss(output, y, loss: str, *, l2: float = 0.0, net: Network | None = None) -> float:
    """The mean loss of a batch of outputs (n, k) against targets y; see ``losses`` for each formula.

    With ``l2 > 0`` (and the ``net`` whose weights to penalise) adds (l2 / 2) * sum of all W**2.
    """
    spec = losses.get(loss)
    output = _checks.matrix("output", output)
    n, k = output.shape
    y = losses.targets(y, loss, n, k)
    if spec.check_output is not None:
        spec.check_output(output)
    l2 = _check_l2(l2, net)
    return _loss(output, y, spec, l2, net)


def _loss(output, y, spec: losses.Loss, l2: float, net: Network | None) -> float:
    value = spec.value(output, y)
    if l2:
        value += 0.5 * l2 * sum(float(np.vdot(W, W)) for W in net.weights)
    return value


# --- 3. gradient (the backward pass) ------------------------------------------

def gradient(net: Network, trace: Trace, y, loss: str, *, l2: float = 0.0) -> Gradients:
    """Backpropagation: dL/dW_i, dL/db_i of the mean loss, from the forward ``trace`` of ``net``.

    Start at the output with delta_L = dL/dz_L, then walk the layers backwards:

        dL/dW_i = a_i^T delta_i        dL/db_i = sum of delta_i over the batch
        delta_{i-1} = (delta_i W_i^T) * f'_{i-1}(z_{i-1})

    For sigmoid + 'bce' and softmax + 'cross_entropy' the output delta is the fused,
    numerically stable (output - y) / n.  With ``l2 > 0`` adds l2 * W_i to dL/dW_i.
    """
    _check_network(net)
    spec = losses.get(loss)
    losses.check_pairing(loss, net.output)
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be the Trace returned by forward(net, X); got {_checks._show(trace)}")
    _check_trace(trace, net)
    n, k = trace.output.shape
    y = losses.targets(y, loss, n, k, dtype=net.dtype)
    return _gradient(net, trace, y, spec, _check_l2(l2, net))


def output_delta(net: Network, trace: Trace, y: np.ndarray, spec: losses.Loss) -> np.ndarray:
    """delta_L = dL/dz_L at the output layer, (n, k)."""
    output, n = trace.output, trace.output.shape[0]
    if spec.fused_output == net.output:
        # sigmoid + bce, softmax + cross-entropy: dL/dz = (p - y) / n, exact and stable even
        # when p saturates at 0 or 1, where dL/dp and dp/dz alone would give inf * 0.
        return (output - spec.dense(y, output.shape[1], output.dtype)) / n
    grad_output = spec.gradient(output, y)
    return activations.REGISTRY[net.output].backward(trace.pre[-1], output, grad_output)


def _gradient(net: Network, trace: Trace, y, spec: losses.Loss, l2: float) -> Gradients:
    L = net.n_layers
    dW, db, deltas = [None] * L, [None] * L, [None] * L
    delta = output_delta(net, trace, y, spec)
    for i in range(L - 1, -1, -1):
        a_in = trace.post[i - 1] if i > 0 else trace.inputs
        deltas[i] = delta
        dW[i] = a_in.T @ delta
        if l2:
            dW[i] = dW[i] + l2 * net.weights[i]
        db[i] = delta.sum(axis=0)
        if i > 0:
            act = activations.REGISTRY[net.activations[i - 1]]
            delta = act.backward(trace.pre[i - 1], trace.post[i - 1], delta @ net.weights[i].T)
    return Gradients(dW, db, deltas)


# --- 4. update ----------------------------------------------------------------

def update(net: Network, grads: Gradients, lr: float) -> Network:
    """One step of gradient descent: W_i - lr * dL/dW_i, b_i - lr * dL/db_i. Returns a NEW Network."""
    _check_network(net)
    lr = _checks.number("lr", lr, low=0, low_open=True)
    _check_gradients(grads, net)
    return _update(net, grads, lr)


def _update(net: Network, grads: Gradients, lr: float) -> Network:
    return Network._from_parameters(
        net,
        [W - lr * dW for W, dW in zip(net.weights, grads.weights)],
        [b - lr * db for b, db in zip(net.biases, grads.biases)])


# --- boundary checks ----------------------------------------------------------

def _check_network(net) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"net must be a backprop_kit.Network; got {_checks._show(net)} "
                        f"of type {type(net).__name__}")


def _check_l2(l2, net) -> float:
    l2 = _checks.number("l2", l2, low=0)
    if l2 and not isinstance(net, Network):
        raise ValueError("l2 > 0 needs the network whose weights it penalises: pass net=...")
    return l2


def _check_trace(trace: Trace, net: Network) -> None:
    got = [a.shape if isinstance(a, np.ndarray) else np.shape(a) for a in (trace.inputs, *trace.pre, *trace.post)]
    n = got[0][0] if len(got[0]) == 2 else None
    expected = [(n, net.sizes[0])] + [(n, size) for size in net.sizes[1:]] * 2
    if n is None or len(trace.pre) != net.n_layers or len(trace.post) != net.n_layers or got != expected:
        raise ValueError(f"trace must come from forward() on this network (layer widths {list(net.sizes)}); "
                         f"got a trace of {len(trace.pre)} layers with shapes {got[:1 + len(trace.pre)]}")


def _check_gradients(grads, net: Network) -> None:
    if not isinstance(grads, Gradients):
        raise TypeError(f"grads must be the Gradients returned by gradient(); got {_checks._show(grads)}")
    for i, (W, dW, b, db) in enumerate(zip(net.weights, grads.weights, net.biases, grads.biases)):
        if np.shape(dW) != W.shape or np.shape(db) != b.shape:
            raise ValueError(f"grads.weights[{i}] must have shape {W.shape} (and grads.biases[{i}] "
                             f"{b.shape}) to match the network; got {np.shape(dW)} and {np.shape(db)}")
    if len(grads.weights) != net.n_layers or len(grads.biases) != net.n_layers:
        raise ValueError(f"grads must hold {net.n_layers} layers to match the network; got {len(grads.weights)}")
    _check_finite_gradients(grads)


def _check_finite_gradients(grads: Gradients) -> None:
    # a sum of squares is finite only if every entry is: one cheap test per array (np.vdot),
    # and only when one fails, the entry-by-entry check that says where
    if all(isinstance(g, np.ndarray) and g.dtype.kind == "f" and math.isfinite(np.vdot(g, g))
           for g in (*grads.weights, *grads.biases)):
        return
    for kind in ("weights", "biases"):
        for i, g in enumerate(getattr(grads, kind)):
            _checks.finite(f"grads.{kind}[{i}]", np.asarray(g))
