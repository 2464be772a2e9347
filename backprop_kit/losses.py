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


# --- targets: each loss's canonical form, checked ---------------------------------

def _numbers(y, given, n, k, argument, loss):
    """y of shape (n, k) holding finite real numbers, or an error naming the argument."""
    if y.shape != (n, k):
        raise ValueError(f"{argument} must have shape ({n}, {k}) to match the output for loss "
                         f"{loss!r}; got shape {given}")
    if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating):
        raise TypeError(f"{argument} must hold numbers; got dtype {y.dtype}")
    _checks.finite(argument, y)


def mse_targets(y, n, k, argument, dtype):
    """Real numbers, (n, k); (n,) is taken as (n, 1) for one output."""
    given = y.shape
    if y.ndim == 1 and k == 1:
        y = y.reshape(-1, 1)
    _numbers(y, given, n, k, argument, "mse")
    return y.astype(dtype)


def bce_targets(y, n, k, argument, dtype):
    """0/1, (n, 1); (n,) is taken as (n, 1)."""
    given = y.shape
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    _numbers(y, given, n, k, argument, "bce")
    if not ((y == 0) | (y == 1)).all():
        raise ValueError(f"{argument} must hold only 0 and 1 for loss 'bce'; "
                         f"got values {np.unique(y)[:8].tolist()}")
    return y.astype(dtype)


def cross_entropy_targets(y, n, k, argument, dtype):
    """Integer class labels 0..k-1, (n,); (n, 1) is taken as (n,)."""
    given = y.shape
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


# --- outputs a loss can take -------------------------------------------------------

def probabilities(output) -> None:
    """A sigmoid output: every entry in [0, 1]."""
    if output.min() < 0 or output.max() > 1:
        raise ValueError(f"output must hold probabilities in [0, 1] for loss 'bce' (a sigmoid output); "
                         f"got values from {output.min():.4g} to {output.max():.4g}")


def distributions(output) -> None:
    """A softmax output: rows of probabilities summing to 1."""
    if np.any(output < 0) or not np.allclose(output.sum(axis=1), 1.0):
        sums = output.sum(axis=1)
        raise ValueError(f"output must hold rows of probabilities summing to 1 for loss 'cross_entropy' "
                         f"(a softmax output); got values from {output.min():.4g} to {output.max():.4g}, "
                         f"row sums from {sums.min():.4g} to {sums.max():.4g}")


def _as_is(y, k, dtype):
    return y


# --- the registry -----------------------------------------------------------

@dataclass(frozen=True)
class Loss:
    """A loss: ``value(output, y) -> float`` and ``gradient(output, y) -> dL/doutput``.

    ``canonical(y, n, k, argument, dtype)`` checks targets for n outputs of width k and returns
    them in the form ``value`` and ``gradient`` take (see ``targets``). ``check_output(output)``
    raises when an output cannot be this loss's input (None: any output). ``fused_output`` names
    the output activation whose delta dL/dz simplifies to ``(output - dense(y, k, dtype)) / n``,
    where ``dense`` gives the targets as an (n, k) array (one-hot for cross-entropy).
    ``regression``: it takes real-valued targets, so it fits a regression dataset.
    """

    name: str
    value: Callable[[np.ndarray, np.ndarray], float]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    formula: str
    canonical: Callable
    fused_output: str | None = None
    needs_output: str | None = None
    check_output: Callable[[np.ndarray], None] | None = None
    dense: Callable = _as_is
    regression: bool = False


REGISTRY: dict[str, Loss] = {
    "mse": Loss("mse", mse, mse_gradient, "mean((output - y)^2)", mse_targets, regression=True),
    "bce": Loss("bce", bce, bce_gradient, "-mean(y log p + (1-y) log(1-p))", bce_targets,
                fused_output="sigmoid", needs_output="sigmoid", check_output=probabilities),
    "cross_entropy": Loss("cross_entropy", cross_entropy, cross_entropy_gradient, "-mean(log p[y])",
                          cross_entropy_targets, fused_output="softmax", needs_output="softmax",
                          check_output=distributions, dense=one_hot),
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
    """Check the targets ``y`` for a batch of n outputs of width k and return their canonical form
    (each loss's ``canonical``): mse -> float (n, k); bce -> float (n, 1) of 0/1;
    cross_entropy -> int (n,) in [0, k)."""
    return REGISTRY[loss_name].canonical(_checks._as_array(argument, y), n, k, argument, dtype)
