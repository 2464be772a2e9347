"""Small 2-D datasets for classification (and a 1-D sine for regression), split into train and test.

    >>> from backprop_kit import datasets
    >>> data = datasets.make("moons", n=200, noise=0.1, test_fraction=0.25, seed=0)
    >>> data.X_train.shape, data.y_train.shape, data.task
    ((150, 2), (150,), 'binary')

Binary sets have integer labels 0/1 of shape (n,); ``classes=k`` gives k-class spiral or
gaussians (labels 0..k-1, task 'multiclass'); 'sine' has float targets of shape (n, 1).
Inputs lie roughly in [-1, 1]. ``noise`` is the std of Gaussian noise added to the points
(for 'sine', to the targets).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks

NAMES = ("xor", "circles", "moons", "gaussians", "spiral", "sine")
MULTICLASS = ("gaussians", "spiral")

# task -> (output activation, loss) the network should use
TASK_DEFAULTS = {"binary": ("sigmoid", "bce"), "multiclass": ("softmax", "cross_entropy"),
                 "regression": ("linear", "mse")}


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split. X_*: (n, d) float; y_*: (n,) int labels, or (n, 1) floats for regression."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str               # "binary" | "multiclass" | "regression"
    name: str
    classes: int = 2        # number of classes (1 for regression)

    @property
    def n_inputs(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Width of the output layer this task needs: 1 (binary, regression) or the number of classes."""
        return self.classes if self.task == "multiclass" else 1

    @property
    def output(self) -> str:
        """The output activation this task needs: 'sigmoid', 'softmax' or 'linear'."""
        return TASK_DEFAULTS[self.task][0]

    @property
    def loss(self) -> str:
        """The loss this task is trained with (TASK_DEFAULTS): one of losses.NAMES."""
        return TASK_DEFAULTS[self.task][1]

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, task={self.task!r}, train={len(self.X_train)}, "
                f"test={len(self.X_test)}, inputs={self.n_inputs}"
                + (f", classes={self.classes})" if self.task != "regression" else ")"))


# --- generators: (n, noise, rng, classes) -> X, y -------------------------------

def _labels(n, k, rng):
    """n labels as balanced as possible over k classes, in random order."""
    return rng.permutation(np.arange(n) % k)


def _xor(n, noise, rng, k):
    X = rng.uniform(-1, 1, size=(n, 2))
    X += np.sign(X) * 0.1                   # a gap along the axes, as in TensorFlow Playground
    y = (X[:, 0] * X[:, 1] < 0).astype(np.intp)   # 1 where the signs differ
    return X / 1.1 + rng.normal(0, noise, X.shape), y


def _circles(n, noise, rng, k):
    y = _labels(n, 2, rng)
    radius = np.where(y == 1, 0.4, 0.9) + rng.uniform(-0.05, 0.05, n)   # class 1 inside
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return X + rng.normal(0, noise, X.shape), y


def _moons(n, noise, rng, k):
    y = _labels(n, 2, rng)
    t = rng.uniform(0, np.pi, n)
    X = np.where(y[:, None] == 0,
                 np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))
    X = (X - [0.5, 0.25]) / 1.5
    return X + rng.normal(0, noise, X.shape), y


def _gaussians(n, noise, rng, k):
    y = _labels(n, k, rng)
    angles = 2 * np.pi * np.arange(k) / k + np.pi / 4
    centres = 0.55 * np.column_stack([np.cos(angles), np.sin(angles)])
    return centres[y] + rng.normal(0, 0.15 + noise, (n, 2)), y


def _spiral(n, noise, rng, k):
    y = _labels(n, k, rng)
    t = rng.uniform(0.05, 1, n)
    angle = 2 * np.pi * t + 2 * np.pi * y / k      # one full turn per arm
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
    return X + rng.normal(0, noise, X.shape), y


def _sine(n, noise, rng, k):
    X = rng.uniform(-1, 1, size=(n, 1))
    y = np.sin(np.pi * X) + rng.normal(0, noise, X.shape)
    return X, y


GENERATORS = {"xor": _xor, "circles": _circles, "moons": _moons, "gaussians": _gaussians,
              "spiral": _spiral, "sine": _sine}


def make(name: str, n: int = 200, noise: float = 0.1, test_fraction: float = 0.25,
         seed: int | None = 0, classes: int = 2) -> Dataset:
    """Make a dataset by name: 'xor', 'circles', 'moons', 'gaussians', 'spiral' or 'sine'.

    n: number of points (train + test), 4..100000. noise: std of the Gaussian noise, 0..2.
    test_fraction: share held out for testing, 0..0.9. classes: 2.. (only 'spiral', 'gaussians').
    """
    _checks.choice("name", name, NAMES)
    n = _checks.number("n", n, low=4, high=100_000, integer=True)
    noise = _checks.number("noise", noise, low=0, high=2)
    test_fraction = _checks.number("test_fraction", test_fraction, low=0, high=0.9)
    if seed is not None:
        seed = _checks.number("seed", seed, low=0, integer=True)
    classes = _checks.number("classes", classes, low=2, high=10, integer=True)
    if classes != 2 and name not in MULTICLASS:
        raise ValueError(f"classes must be 2 for dataset {name!r}; only 'spiral' and 'gaussians' "
                         f"have k classes; got {classes}")
    rng = np.random.default_rng(seed)
    X, y = GENERATORS[name](n, noise, rng, classes)
    task = "regression" if name == "sine" else ("binary" if classes == 2 else "multiclass")
    return _split(X, y, test_fraction, rng, task, name, 1 if task == "regression" else classes)


# complexity: a flat list of checks of the learner's own arrays, one branch per mistake and its message
def from_arrays(X, y, test_fraction: float = 0.25, seed: int | None = 0, task: str | None = None,
                name: str = "custom") -> Dataset:
    """Make a Dataset from your own arrays: X (n, d) numbers; y (n,) labels or (n, 1) targets.

    task: 'binary', 'multiclass' or 'regression'; by default integer labels with two values
    0/1 are 'binary', more integer values 0..k-1 'multiclass', anything else 'regression'.
    """
    X = _checks.matrix("X", X)
    y = _checks._as_array("y", y)
    if y.ndim == 2 and y.shape[1] == 1 and task != "regression":
        y = y[:, 0] if np.all(y == np.round(y)) else y
    if y.shape[0] != X.shape[0] or y.ndim not in (1, 2):
        raise ValueError(f"y must have one target per row of X ({X.shape[0]}), shape ({X.shape[0]},) "
                         f"or ({X.shape[0]}, 1); got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating):
        raise TypeError(f"y must hold numbers; got dtype {y.dtype}")
    _checks.finite("y", y)
    if X.shape[0] < 2:
        raise ValueError(f"X must hold at least 2 samples (one to train, one to test); got {X.shape[0]}")
    test_fraction = _checks.number("test_fraction", test_fraction, low=0, high=0.9)
    integral = y.ndim == 1 and np.all(y == np.round(y)) and np.all(y >= 0)
    if task is None:
        task = "regression" if not integral or y.max() < 1 else ("binary" if y.max() == 1 else "multiclass")
    _checks.choice("task", task, tuple(TASK_DEFAULTS))
    if task == "regression":
        y, classes = y.reshape(len(y), -1).astype(np.float64), 1
    else:
        if not integral:
            raise ValueError(f"y must hold integer class labels 0, 1, ... for task {task!r}; "
                             f"got values {np.unique(y)[:8].tolist()}")
        y = y.astype(np.intp)
        classes = max(int(y.max()) + 1, 2)
        if task == "binary" and classes != 2:
            raise ValueError(f"y must hold only 0 and 1 for task 'binary'; got labels up to {classes - 1}")
    if seed is not None:
        seed = _checks.number("seed", seed, low=0, integer=True)
    return _split(X, y, test_fraction, np.random.default_rng(seed), task, name, classes)


def train_size(n: int, test_fraction: float) -> int:
    """How many of ``n`` points a split with ``test_fraction`` keeps for training (at least one)."""
    return n - min(int(round(n * test_fraction)), n - 1)


def _split(X, y, test_fraction, rng, task, name, classes) -> Dataset:
    n = len(X)
    order = rng.permutation(n)
    n_test = n - train_size(n, test_fraction)
    test, train = order[:n_test], order[n_test:]
    return Dataset(X[train], y[train], X[test], y[test], task, name, classes)


# --- input features (TensorFlow Playground's): new columns computed from the two inputs --------

FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}


def feature_names(names) -> tuple[str, ...]:
    """``names`` checked: a non-empty list of FEATURES' names, each once; as a tuple."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not names:
        raise TypeError(f"names must be a non-empty list of feature names, e.g. ['x1', 'x2']; "
                        f"got {_checks._show(names)}")
    for i, name in enumerate(names):
        _checks.choice(f"names[{i}]", name, FEATURES)
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if list(names).count(name) > 1})
        raise ValueError(f"names must list each feature once; got {twice} more than once in {list(names)!r}")
    return tuple(names)


def features(X, names) -> np.ndarray:
    """The columns ``names`` computed from 2-D inputs X (n, 2), in that order: (n, len(names)).

    X's columns are x1 and x2; a name is one of 'x1', 'x2', 'x1^2', 'x2^2', 'x1*x2', 'sin(x1)',
    'sin(x2)'. With ['x1^2', 'x2^2'] a network with no hidden layer can draw a circle: its one
    neuron sums w1 x1^2 + w2 x2^2 + b, which is a circle's equation when w1 = w2.

        >>> features(np.array([[0.5, -2.0]]), ["x1", "x1*x2", "x2^2"])
        array([[ 0.5, -1. ,  4. ]])
    """
    X = _checks.matrix("X", X, columns=2)
    names = feature_names(names)
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([FEATURES[name](x1, x2) for name in names])


def with_features(data: Dataset, names) -> Dataset:
    """The same split of 2-D ``data`` with each X replaced by ``features(X, names)``: what a network
    over those input features trains on (``Network([len(names), ...])``). Labels, task and name stay."""
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a backprop_kit Dataset; got {_checks._show(data)}")
    if data.n_inputs != 2:
        raise ValueError(f"data must have 2 inputs (x1, x2) to compute features from; dataset "
                         f"{data.name!r} has {data.n_inputs}")
    names = feature_names(names)
    X_train = features(data.X_train, names) if len(data.X_train) else np.empty((0, len(names)))
    X_test = features(data.X_test, names) if len(data.X_test) else np.empty((0, len(names)))
    return Dataset(X_train, data.y_train, X_test, data.y_test, data.task, data.name, data.classes)
