"""Argument checks for the public boundary.

Every message names the argument, what it got and what it accepts, so a learner
sees ``activation must be one of 'relu', ...; got 'rleu' (did you mean 'relu'?)``
instead of a NumPy traceback from deep inside a stage.
"""
from __future__ import annotations

import difflib
import numbers

import numpy as np


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def choice(argument: str, value, accepted) -> str:
    """Return ``value`` if it is one of the ``accepted`` names, else raise a ValueError."""
    accepted = list(accepted)
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a name, one of {_names(accepted)}; "
                        f"got {_show(value)} of type {type(value).__name__}")
    if value not in accepted:
        close = difflib.get_close_matches(value.lower(), accepted, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{argument} must be one of {_names(accepted)}; got {value!r}{hint}")
    return value


def _names(accepted) -> str:
    return ", ".join(repr(a) for a in accepted)


# complexity: one branch per kind of bad number (not a number, a bool, NaN or inf, out of range)
def number(argument: str, value, *, low=None, high=None, low_open=False,
           integer=False, accepts: str | None = None) -> float | int:
    """Return ``value`` as a float (or int) if it is a finite number within the bounds."""
    kind = "a whole number" if integer else "a number"
    wanted = accepts or _range_text(kind, low, high, low_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            integer and not isinstance(value, numbers.Integral)):
        raise TypeError(f"{argument} must be {wanted}; got {_show(value)} of type {type(value).__name__}")
    # whole numbers are always finite (and may be too big for np.isfinite: 2**70)
    if not isinstance(value, numbers.Integral) and not np.isfinite(value):
        raise ValueError(f"{argument} must be {wanted}; got {value!r}")
    if (low is not None and (value < low or (low_open and value == low))) or (
            high is not None and value > high):
        raise ValueError(f"{argument} must be {wanted}; got {_show(value)}")
    return int(value) if integer else float(value) + 0.0     # + 0.0 turns -0.0 into 0.0


def _range_text(kind, low, high, low_open) -> str:
    if low is not None and high is not None:
        return f"{kind} from {low} to {high}" + (f" (above {low})" if low_open else "")
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{kind} <= {high}"
    return kind


def matrix(argument: str, value, *, columns: int | None = None, dtype=np.float64) -> np.ndarray:
    """Return ``value`` as a finite 2-D float array of shape (n, columns) with n >= 1."""
    array = _as_array(argument, value)
    if array.ndim == 1 and columns == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        want = f"(n, {columns})" if columns is not None else "(n, d)"
        raise ValueError(f"{argument} must be a 2-D array of shape {want}, one sample per row; "
                         f"got shape {array.shape}")
    if columns is not None and array.shape[1] != columns:
        raise ValueError(f"{argument} must have {columns} columns (one per input of the network); "
                         f"got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{argument} must hold at least one sample; got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{argument} must hold real numbers; got dtype {array.dtype}")
    array = array.astype(dtype, copy=False)
    finite(argument, array)
    return array


def finite(argument: str, array: np.ndarray) -> None:
    """Raise a ValueError if ``array`` holds NaN or inf, saying where."""
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{argument} must hold only finite numbers; got {bad} NaN or inf "
                         f"value(s) in an array of shape {np.shape(array)}")


def _as_array(argument: str, value) -> np.ndarray:
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{argument} must be an array of numbers; got {_show(value)}")
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{argument} must be an array of numbers; got {_show(value)} ({error})") from None
