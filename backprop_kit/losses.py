"""Loss functions: how wrong the network's output is, as one number (the mean over the batch).

Each loss has a value ``L(output, y)`` and its gradient ``dL/doutput``. Targets are
first put in one canonical form by ``targets()``:

- ``"mse"``: mean of (output - y)**2 over all n*k entries (no 1/2); y of shape (n, k).
- ``"bce"``: binary cross-entropy, -mean(y log p + (1 - y) log(1 - p)) for a sigmoid
  output p of shape (n, 1); y of 0/1 of shape (n,) or (n, 1).
- ``"cross_entropy"``: -mean(log p[i, y_i]) for a softmax output p of shape (n, k);
  y integer class labels of shape (n,).

Logs are clamped at -100, as PyTorch does, so a saturated wrong answer costs 100, not inf.
The numbers agree with torch's ``mse_loss``, ``binary_cross_entropy`` and ``cross_entropy``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _checks

LOG_FLOOR = -100.0
# the smallest positive float32 (1.4e-45, log = -103.3): p is raised to it before the log, so that
# log(0) is never taken (no -inf, no warning) and still comes out as LOG_FLOOR
_TINY = np.float32(1e-45)


def _log(p):
    """log p, floored at -100 (see above)."""
    return np.maximum(np.log(np.maximum(p, _TINY)), LOG_FLOOR)


def _mean(x) -> float:
    """The mean of all entries as a Python float: the sum / count that np.mean computes, without
    its Python wrapper (a few microseconds, much of a small network's loss)."""
    return float(np.add.reduce(x, axis=None)) / x.size


# --- value and gradient side by side -------------------------------------------

def mse(output, y):
    """L = mean((output - y)**2) over all entries."""
    return _mean((output - y) ** 2)


def mse_gradient(output, y):
    """dL/doutput = 2 (output - y) / (n k)"""
    return 2.0 * (output - y) / output.size


def bce(output, y):
    """L = -mean(y log p + (1 - y) log(1 - p))"""
    # each y is 0 or 1, so one of the two terms is 0: the sum is log p where y = 1 and
    # log(1 - p) where y = 0 (the same numbers, with one log per sample instead of two)
    return -_mean(_log(np.where(y == 1, output, 1.0 - output)))


def bce_gradient(output, y):
    """dL/dp = (p - y) / (p (1 - p)) / n — huge or 0/0 once p saturates; see ``output_delta``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (output - y) / (output * (1.0 - output)) / output.shape[0]


def cross_entropy(output, y):
    """L = -mean(log p[i, y_i])"""
    return -_mean(_log(output[np.arange(len(y)), y]))


def cross_entropy_gradient(output, y):
    """dL/dp[i, j] = -1 / (n p[i, j]) where j = y_i, else 0."""
    grad = np.zeros_like(output)
    rows = np.arange(len(y))
    with np.errstate(divide="ignore"):
        grad[rows, y] = -1.0 / (output[rows, y] * len(y))
    return grad


def one_hot(y, k, dtype=np.float64):
    """Labels (n,) -> (n, k) rows with a single 1."""
    encoded = np.zeros((len(y), k), dtype=dtype)
    encoded[np.arange(len(y)), y] = 1.0
    return encoded


# --- the registry -----------------------------------------------------------

@dataclass(frozen=True)
class Loss:
    """A loss: ``value(output, y) -> float`` and ``gradient(output, y) -> dL/doutput``.

    ``fused_output`` names the output activation whose delta dL/dz simplifies to
    ``(output - Y) / n`` (Y the targets, one-hot for cross-entropy).
    """

    name: str
    value: Callable[[np.ndarray, np.ndarray], float]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    formula: str
    fused_output: str | None = None
    needs_output: str | None = None


REGISTRY: dict[str, Loss] = {
    "mse": Loss("mse", mse, mse_gradient, "mean((output - y)^2)"),
    "bce": Loss("bce", bce, bce_gradient, "-mean(y log p + (1-y) log(1-p))",
                fused_output="sigmoid", needs_output="sigmoid"),
    "cross_entropy": Loss("cross_entropy", cross_entropy, cross_entropy_gradient, "-mean(log p[y])",
                          fused_output="softmax", needs_output="softmax"),
}
NAMES = tuple(REGISTRY)


def get(name: str) -> Loss:
    """Look up a loss by name."""
    _checks.choice("loss", name, NAMES)
    return REGISTRY[name]


def check_pairing(loss_name: str, output_activation: str) -> None:
    """Raise a ValueError if the loss cannot be used with this output activation."""
    needs = REGISTRY[loss_name].needs_output
    if needs is not None and output_activation != needs:
        raise ValueError(f"loss {loss_name!r} needs a {needs!r} output layer (its outputs must be "
                         f"probabilities); the network's output is {output_activation!r}. Use "
                         f"Network(..., output={needs!r}) or loss='mse'")


def targets(y, loss_name: str, n: int, k: int, *, argument: str = "y", dtype=np.float64) -> np.ndarray:
    """Check the targets ``y`` for a batch of n outputs of width k and return their canonical form.

    mse -> float (n, k); bce -> float (n, 1) of 0/1; cross_entropy -> int (n,) in [0, k).
    """
    y = _checks._as_array(argument, y)
    given = y.shape
    if loss_name == "cross_entropy":
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.shape != (n,):
            raise ValueError(f"{argument} must be integer class labels of shape ({n},) for loss "
                             f"'cross_entropy'; got shape {given}")
        if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating):
            raise TypeError(f"{argument} must hold integer class labels; got dtype {y.dtype}")
        _checks.finite(argument, y)
        if np.any(y != np.round(y)) or np.any(y < 0) or np.any(y >= k):
            raise ValueError(f"{argument} must hold integer class labels 0 to {k - 1} for loss "
                             f"'cross_entropy' with {k} outputs; got values {np.unique(y)[:8].tolist()}")
        return y.astype(np.intp)
    if loss_name == "bce" and y.ndim == 1:
        y = y.reshape(-1, 1)
    if loss_name == "mse" and y.ndim == 1 and k == 1:
        y = y.reshape(-1, 1)
    if y.shape != (n, k):
        raise ValueError(f"{argument} must have shape ({n}, {k}) to match the output for loss "
                         f"{loss_name!r}; got shape {given}")
    if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating):
        raise TypeError(f"{argument} must hold numbers; got dtype {y.dtype}")
    _checks.finite(argument, y)
    if loss_name == "bce" and not ((y == 0) | (y == 1)).all():
        raise ValueError(f"{argument} must hold only 0 and 1 for loss 'bce'; "
                         f"got values {np.unique(y)[:8].tolist()}")
    return y.astype(dtype)
