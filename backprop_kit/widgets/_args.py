"""A panel's keyword arguments, checked from one table: what each accepts, in one place.

    ARGUMENTS = {"dataset": Choice(datasets.NAMES), "n": Whole(20, 2000), "lr": Number(1e-4, 10),
                 "clip": Optional(Number(0.01, 100)), "batch_size": BatchSize()}
    settings = check(ARGUMENTS, locals())     # in __init__: a dict of the checked values

Rules run in the table's order, so a rule may read the values checked before it (a batch size
is checked against the training-set size that ``n`` gives). Every message names the argument,
the value and what it accepts, as ``backprop_kit._checks`` does for the core; the sliders of a
panel take their ranges from the same rules (``rule.low``, ``rule.high``).
"""
from __future__ import annotations

import numbers

from .. import _checks, datasets


class Number:
    """A finite number from ``low`` to ``high`` (either may be None: unbounded)."""

    integer = False

    def __init__(self, low=None, high=None, *, low_open: bool = False, accepts: str | None = None):
        self.low, self.high, self.low_open, self.accepts = low, high, low_open, accepts

    def __call__(self, name: str, value, settings: dict):
        return _checks.number(name, value, low=self.low, high=self.high, low_open=self.low_open,
                              integer=self.integer, accepts=self.accepts)

    def describe(self) -> str:
        return self.accepts or _checks._range_text("a whole number" if self.integer else "a number",
                                                   self.low, self.high, self.low_open)


class Whole(Number):
    """A whole number from ``low`` to ``high``."""

    integer = True


class Choice:
    """One of ``names`` (a registry's names)."""

    def __init__(self, names):
        self.names = tuple(names)

    def __call__(self, name: str, value, settings: dict):
        return _checks.choice(name, value, self.names)


class Optional:
    """``off`` (None, or 0 for a penalty), or what ``rule`` accepts."""

    def __init__(self, rule: Number, off=None, what: str = "off"):
        self.rule, self.off = rule, off
        self.low, self.high = rule.low, rule.high
        self.accepts = f"{'None' if off is None else f'{off:g}'} ({what}) or {rule.describe()}"

    def is_off(self, value) -> bool:
        if self.off is None:
            return value is None
        return (isinstance(value, numbers.Real) and not isinstance(value, bool)
                and value == self.off)

    def __call__(self, name: str, value, settings: dict):
        if self.is_off(value):
            return self.off
        return _checks.number(name, value, low=self.rule.low, high=self.rule.high,
                              low_open=self.rule.low_open, integer=self.rule.integer, accepts=self.accepts)


class BatchSize:
    """A whole number from 1 to the training-set size (of ``n`` points split by ``test_fraction``,
    as ``datasets.make`` splits them), or 'full' when ``full=True`` (then: that size)."""

    def __init__(self, full: bool = False, test_fraction: float = 0.25):
        self.full, self.test_fraction = full, test_fraction

    def __call__(self, name: str, value, settings: dict):
        fraction = settings.get("test_fraction", self.test_fraction)
        n_train = datasets.train_size(settings["n"], fraction)
        if self.full and value == "full":
            return n_train
        where = f"n={settings['n']}, test_fraction={fraction:g}"
        accepts = f"a whole number from 1 to {n_train} (the training-set size for {where})"
        if self.full:
            accepts = "'full' or " + accepts
        return _checks.number(name, value, low=1, high=n_train, integer=True, accepts=accepts)


class Custom:
    """Any check: ``function(name, value, settings) -> value``, raising with a clear message
    (``low`` and ``high``: the range of its slider, if it has one)."""

    def __init__(self, function, low=None, high=None):
        self.function, self.low, self.high = function, low, high

    def __call__(self, name: str, value, settings: dict):
        return self.function(name, value, settings)


def check(table: dict, given: dict) -> dict:
    """Each argument of ``table`` as its rule accepts it, in the table's order: ``{name: value}``.

    ``given`` holds the arguments by name (a constructor's ``locals()``; other names are ignored).
    """
    settings = {}
    for name, rule in table.items():
        settings[name] = rule(name, given[name], settings)
    return settings


# --- rules several panels share ---------------------------------------------------------------

SEED = Whole(0)
LR = Number(1e-4, 10.0, accepts="a learning rate from 0.0001 to 10")
