"""The Playground's own-data pieces: points added and removed by hand, and the input-feature toggles.

Points change the *training* set only (the test set is what the network is judged on); each
function returns a new Dataset and leaves the one it was given as it was.
"""
from __future__ import annotations

import numbers

import ipywidgets as widgets
import numpy as np
import traitlets

from .. import _checks, datasets
from ..datasets import Dataset


def with_point(data: Dataset, x1: float, x2: float, label, plane) -> Dataset:
    """``data`` with the training point (x1, x2) of class (or target) ``label`` added.

    Refused with a ValueError that a learner can act on: data that is not 2-D, a point outside
    ``plane`` (x1 low, high, x2 low, high: the plot), a label that is not one of the classes, a
    target that is not a number."""
    if data.n_inputs != 2:
        raise ValueError(f"points can be added to 2-D data only (x1, x2); dataset {data.name!r} has "
                         f"{data.n_inputs} input(s)")
    x1 = _checks.number("x1", x1)
    x2 = _checks.number("x2", x2)
    if not (plane[0] <= x1 <= plane[1] and plane[2] <= x2 <= plane[3]):
        raise ValueError(f"the point ({x1:.3g}, {x2:.3g}) is outside the plot (x1 from {plane[0]:.3g} to "
                         f"{plane[1]:.3g}, x2 from {plane[2]:.3g} to {plane[3]:.3g}): click inside it")
    label = _label(data, label)
    y_new = np.array([label], dtype=data.y_train.dtype).reshape((1, *data.y_train.shape[1:]))
    return _replaced(data, np.vstack([data.X_train, [[x1, x2]]]), np.concatenate([data.y_train, y_new]))


def _label(data: Dataset, label):
    if data.task == "regression":
        return _checks.number("label", label, accepts="a number (the target of a regression task)")
    classes = data.classes
    if isinstance(label, bool) or not isinstance(label, numbers.Real) or label != int(label):
        raise ValueError(f"label must be a class, a whole number from 0 to {classes - 1} for the {data.task} "
                         f"dataset {data.name!r}; got {_checks._show(label)} (a regression target on a "
                         f"classification task?)")
    if not 0 <= label < classes:
        raise ValueError(f"label must be a class from 0 to {classes - 1} for dataset {data.name!r}; got {label}")
    return int(label)


def without_nearest(data: Dataset, x1: float, x2: float) -> tuple[Dataset, np.ndarray]:
    """``data`` without the training point nearest to (x1, x2), and that point (raw inputs)."""
    x1, x2 = _checks.number("x1", x1), _checks.number("x2", x2)
    if not len(data.X_train):
        raise ValueError("there are no training points to remove: click (without Shift) to add some")
    if data.n_inputs != 2:
        raise ValueError(f"points can be removed from 2-D data only; dataset {data.name!r} has "
                         f"{data.n_inputs} input(s)")
    nearest = int(np.argmin(np.hypot(data.X_train[:, 0] - x1, data.X_train[:, 1] - x2)))
    keep = np.arange(len(data.X_train)) != nearest
    return _replaced(data, data.X_train[keep], data.y_train[keep]), data.X_train[nearest]


def emptied(data: Dataset) -> Dataset:
    """``data`` with no points at all: an empty plane to draw on (its task and classes kept)."""
    nothing = np.empty((0, data.n_inputs))
    empty_y = data.y_train[:0]
    return Dataset(nothing, empty_y, nothing.copy(), empty_y.copy(), data.task, data.name, data.classes)


def _replaced(data: Dataset, X_train, y_train) -> Dataset:
    return Dataset(X_train, y_train, data.X_test, data.y_test, data.task, data.name, data.classes)


class FeatureToggles(widgets.HBox):
    """One toggle per input feature (bk.datasets.FEATURES) with one ``value``: the names switched on,
    in FEATURES' order. Setting ``value`` moves the toggles; a toggle sets ``value``; at least one
    stays on (switching off the last one is undone)."""

    value = traitlets.Tuple(("x1", "x2"))

    def __init__(self, value=("x1", "x2"), css_class: str = "bk-features"):
        self.toggles = {}
        for name in datasets.FEATURES:
            toggle = widgets.ToggleButton(value=name in value, description=name, tooltip=f"input feature {name}",
                                          layout=widgets.Layout(width="auto", padding="0 6px"))
            toggle.observe(self._from_toggles, names="value")
            self.toggles[name] = toggle
        super().__init__(list(self.toggles.values()), layout=widgets.Layout(flex_flow="row wrap", width="290px"))
        self._syncing = False
        self.value = tuple(value)
        self.add_class(css_class)

    @traitlets.validate("value")
    def _check(self, proposal):
        names = datasets.feature_names(list(proposal["value"]))
        return tuple(name for name in datasets.FEATURES if name in names)        # FEATURES' order

    @traitlets.observe("value")
    def _to_toggles(self, change) -> None:
        self._syncing = True
        try:
            for name, toggle in self.toggles.items():
                toggle.value = name in change["new"]
        finally:
            self._syncing = False

    def _from_toggles(self, change) -> None:
        if self._syncing:
            return
        chosen = tuple(name for name, toggle in self.toggles.items() if toggle.value)
        if chosen:
            self.value = chosen
        else:                                   # the last one: keep it on
            change["owner"].value = True

    @property
    def disabled(self) -> bool:
        return all(toggle.disabled for toggle in self.toggles.values())

    @disabled.setter
    def disabled(self, value: bool) -> None:
        for toggle in self.toggles.values():
            toggle.disabled = value
