"""Network: the layer sizes, one activation per layer, and the weights and biases.

Layer i maps ``sizes[i] -> sizes[i+1]`` with ``z = a @ W + b``, ``W: (sizes[i], sizes[i+1])``,
``b: (sizes[i+1],)``. A Network holds numbers only; the four stages in ``stages.py``
do the work, and ``update`` returns a new Network instead of changing this one.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from . import _checks
from . import activations as registry     # the activation functions, by name

INITS = ("xavier", "he", "normal", "zeros")
BIASES = ("like_weights", "zeros")
DTYPES = ("float64", "float32")
FORMAT = "backprop_kit.network/1"


def init_weights(init: str, fan_in: int, fan_out: int, rng: np.random.Generator,
                 scale: float, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Starting values for a layer of fan_in inputs and fan_out neurons, drawn by a scheme.

    Returns an array of ``shape``: by default the weights (fan_in, fan_out); (fan_out,) draws
    the layer's biases from the same distribution (Network's default, ``bias="like_weights"``).

    - xavier (Glorot & Bengio, 2010): uniform in +-sqrt(6 / (fan_in + fan_out)), i.e. a std of
      sqrt(2 / (fan_in + fan_out)); keeps tanh/sigmoid layers' variance level. (scikit-learn's
      MLP start, for tanh and relu networks.)
    - he (He et al., 2015): normal with std sqrt(2 / fan_in); keeps ReLU layers' variance level.
    - normal: normal with std ``scale`` (try 0.01 for vanishing, 2.0 for exploding signals).
    - zeros: all zero, so every neuron of a layer stays identical (the symmetry problem).
    """
    shape = (fan_in, fan_out) if shape is None else shape
    if init == "zeros":
        return np.zeros(shape)
    if init == "xavier":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, size=shape)
    std = {"he": np.sqrt(2.0 / fan_in), "normal": scale}[init]
    return rng.normal(0.0, std, size=shape)


class Network:
    """A fully connected feed-forward network.

    Network(sizes, activation="tanh", output=None, init="xavier", scale=0.1, seed=0,
            dtype="float64", bias="like_weights")

    - sizes: layer widths from input to output, e.g. [2, 16, 16, 1] (at least two).
    - activation: one name for every hidden layer, or a list with one name per hidden layer:
      each one of activations.HIDDEN.
    - output: the output layer's activation, one of activations.OUTPUT (the hidden ones and
      'softmax'). Default: 'sigmoid' for one output, 'softmax' for several.
    - init: how the weights start, one of INITS (see ``init_weights``): 'xavier' (uniform, std
      sqrt(2 / (fan_in + fan_out))), 'he' (normal, std sqrt(2 / fan_in)), 'normal' (std = scale)
      or 'zeros'.
    - bias: how the biases start, one of BIASES. 'like_weights' (default): each bias is drawn from
      the same distribution as its layer's weights, as if it were the weight of one more input
      that is always 1; with init='zeros' they are zero too. 'zeros': every bias starts at 0 (to
      teach with, e.g. the variance argument behind Xavier and He, which assumes zero biases).
    - seed: the weights and biases drawn are the same for the same seed.
    - dtype: 'float64' (default) or 'float32' (faster, for big networks).

    Why random biases: on data centred at the origin, zero biases put every first-layer
    boundary (where z = 0) through the origin, so the layer starts with lines that all cross at
    one point and must first learn to move them apart. With the same [2, 16, 16, 1] tanh network,
    Adam (lr 0.01, batch 16, 200 epochs, 10 seeds), zero biases (and normal Xavier weights) left
    some runs stuck (worst training accuracy on 'moons' 91.7%, on 'spiral' 55.3%), where
    scikit-learn's MLPClassifier and PyTorch, which both draw each bias like its layer's weights
    (Glorot-uniform, and U(+-1/sqrt(fan_in))), reached 98.7-99.0% and 95.0-95.3%. With the
    default start (Glorot-uniform weights and biases, as scikit-learn's) the kit reaches 99.3% and
    95.7%, and its mean is within 0.4 points of the better library on every built-in data set
    (benchmarks/fit_quality.py; the tables in benchmarks/README.md). The weights are drawn first
    and the biases after them, so ``bias="zeros"`` gives the same weights as the default.

    Attributes: ``sizes`` (tuple), ``activations`` (one name per layer, output last),
    ``weights[i]`` and ``biases[i]`` (plain ndarrays), ``dtype``.
    """

    def __init__(self, sizes: Sequence[int], activation="tanh", output: str | None = None,
                 init: str = "xavier", scale: float = 0.1, seed: int | None = 0,
                 dtype: str = "float64", bias: str = "like_weights"):
        sizes = _check_sizes(sizes)
        hidden = _check_hidden_activations(activation, len(sizes) - 2)
        if output is None:
            output = "sigmoid" if sizes[-1] == 1 else "softmax"
        registry.get(output, argument="output", output=True)
        _checks.choice("init", init, INITS)
        scale = _checks.number("scale", scale, low=0, low_open=True)
        _checks.choice("dtype", dtype, DTYPES)
        _checks.choice("bias", bias, BIASES)
        if seed is not None:
            seed = _checks.number("seed", seed, low=0, integer=True)
        rng = np.random.default_rng(seed)
        layers = list(zip(sizes[:-1], sizes[1:]))
        weights = [init_weights(init, m, n, rng, scale).astype(dtype) for m, n in layers]
        # after every weight, so that the weights do not depend on ``bias``
        biases = [(init_weights(init, m, n, rng, scale, shape=(n,)) if bias == "like_weights"
                   else np.zeros(n)).astype(dtype) for m, n in layers]
        self._set(sizes, (*hidden, output), weights, biases)

    def _set(self, sizes, activation_names, weights, biases):
        self.sizes = tuple(sizes)
        self.activations = tuple(activation_names)
        self.weights = weights
        self.biases = biases
        self.dtype = weights[0].dtype.name

    @classmethod
    def _from_parameters(cls, like: "Network", weights, biases) -> "Network":
        """A new Network with ``like``'s shape and activations and these parameters (no checks: internal)."""
        net = cls.__new__(cls)
        net.sizes = like.sizes
        net.activations = like.activations
        net.weights = weights
        net.biases = biases
        net.dtype = like.dtype
        return net

    @classmethod
    def from_parameters(cls, weights, biases, activations: Sequence[str]) -> "Network":
        """Build a Network from your own weights and biases, e.g. to do a forward pass by hand.

        weights[i]: (sizes[i], sizes[i+1]); biases[i]: (sizes[i+1],); activations: one name
        per layer, output last.
        """
        if not isinstance(weights, (list, tuple)) or not weights:
            raise TypeError(f"weights must be a non-empty list of 2-D arrays; got {_checks._show(weights)}")
        if not isinstance(biases, (list, tuple)) or len(biases) != len(weights):
            raise ValueError(f"biases must be a list with one array per layer ({len(weights)}); "
                             f"got {_checks._show(biases)}")
        weights = [_checks.matrix(f"weights[{i}]", w) for i, w in enumerate(weights)]
        sizes = [weights[0].shape[0]] + [w.shape[1] for w in weights]
        for i, w in enumerate(weights):
            if w.shape[0] != sizes[i]:
                raise ValueError(f"weights[{i}] must have {sizes[i]} rows to follow weights[{i - 1}] "
                                 f"of shape {weights[i - 1].shape}; got shape {w.shape}")
        checked_biases = []
        for i, b in enumerate(biases):
            b = np.asarray(_checks._as_array(f"biases[{i}]", b), dtype=np.float64)
            if b.shape != (sizes[i + 1],):
                raise ValueError(f"biases[{i}] must have shape ({sizes[i + 1]},) to match "
                                 f"weights[{i}]; got shape {b.shape}")
            _checks.finite(f"biases[{i}]", b)
            checked_biases.append(b.copy())
        if isinstance(activations, str) or len(activations) != len(weights):
            raise ValueError(f"activations must be a list with one name per layer ({len(weights)}); "
                             f"got {_checks._show(activations)}")
        for i, name in enumerate(activations):
            registry.get(name, argument=f"activations[{i}]", output=(i == len(weights) - 1))
        net = cls.__new__(cls)
        net._set(sizes, tuple(activations), [w.copy() for w in weights], checked_biases)
        return net

    # --- small conveniences --------------------------------------------------
    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + the output layer)."""
        return len(self.weights)

    @property
    def n_parameters(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    @property
    def output(self) -> str:
        """The output layer's activation."""
        return self.activations[-1]

    def copy(self) -> "Network":
        return Network._from_parameters(self, [w.copy() for w in self.weights],
                                        [b.copy() for b in self.biases])

    def __repr__(self) -> str:
        hidden = sorted(set(self.activations[:-1]))
        act = hidden[0] if len(hidden) == 1 else list(self.activations[:-1])
        act = f", activation={act!r}" if hidden else ""        # no hidden layers: nothing to say
        extra = "" if self.dtype == "float64" else f", dtype={self.dtype!r}"
        return (f"Network({list(self.sizes)}{act}, output={self.output!r}{extra}) "
                f"with {self.n_parameters} parameters")

    def __eq__(self, other) -> bool:
        return (isinstance(other, Network) and self.sizes == other.sizes
                and self.activations == other.activations
                and all(np.array_equal(a, b) for a, b in zip(self.weights, other.weights))
                and all(np.array_equal(a, b) for a, b in zip(self.biases, other.biases)))

    __hash__ = None

    # --- files ---------------------------------------------------------------
    def save(self, path) -> None:
        """Write the network to an ``.npz`` file (plain arrays, no pickle)."""
        path = _check_path(path)
        arrays = {"format": np.array(FORMAT), "sizes": np.array(self.sizes, dtype=np.int64),
                  "activations": np.array(self.activations)}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            arrays[f"W{i}"], arrays[f"b{i}"] = w, b
        with open(path, "wb") as handle:   # a file handle: np.savez would append ".npz" to a str path
            np.savez(handle, **arrays)

    # complexity: one branch per way a file can be wrong, each with its own message; a flat list reads best
    @classmethod
    def load(cls, path) -> "Network":
        """Read a network written by ``save``; refuses pickled, malformed or inconsistent files."""
        import zipfile  # here, not at the top: with what it imports it is most of the kit's import time
        import zlib

        path = _check_path(path)
        try:
            archive = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            if _pickled(error):
                error = "it holds pickled objects, which are never loaded"
            raise ValueError(f"path {path!r} is not a network file written by Network.save "
                             f"(an .npz archive): {error}") from None
        if not hasattr(archive, "files"):
            raise ValueError(f"path {path!r} holds a single array, not a network file written by Network.save")
        with archive:
            try:
                if "format" not in archive.files or str(archive["format"]) != FORMAT:
                    raise ValueError("its 'format' entry is missing or unknown")
                sizes = [int(s) for s in archive["sizes"]]
                names = [str(a) for a in archive["activations"]]
                layers = len(sizes) - 1
                if layers < 1 or len(names) != layers:
                    raise ValueError(f"it has {len(sizes)} sizes and {len(names)} activations")
                expected = {"format", "sizes", "activations"} | {f"W{i}" for i in range(layers)} | {
                    f"b{i}" for i in range(layers)}
                if set(archive.files) != expected:
                    raise ValueError(f"its arrays are {sorted(archive.files)}, expected {sorted(expected)}")
                weights = [archive[f"W{i}"] for i in range(layers)]
                biases = [archive[f"b{i}"] for i in range(layers)]
            except (ValueError, TypeError, KeyError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                # KeyError: a missing entry; BadZipFile / zlib.error: a damaged archive member
                if _pickled(error):
                    error = "it holds pickled objects, which are never loaded"
                elif isinstance(error, KeyError):
                    error = f"an entry is missing ({error.args[0]})"
                raise ValueError(f"path {path!r} is not a valid network file: {error}") from None
        dtypes = {w.dtype.name for w in weights} | {b.dtype.name for b in biases}
        if len(dtypes) != 1 or not dtypes <= set(DTYPES):
            raise ValueError(f"path {path!r} is not a valid network file: its arrays have dtypes "
                             f"{sorted(dtypes)}, expected all float64 or all float32")
        for i, w in enumerate(weights):
            if w.shape != (sizes[i], sizes[i + 1]):
                raise ValueError(f"path {path!r} is not a valid network file: W{i} has shape {w.shape}, "
                                 f"but sizes {sizes} need {(sizes[i], sizes[i + 1])}")
        try:
            net = cls.from_parameters(weights, biases, names)
        except (ValueError, TypeError) as error:
            raise ValueError(f"path {path!r} is not a valid network file: {error}") from None
        dtype = dtypes.pop()
        net.weights = [w.astype(dtype) for w in net.weights]
        net.biases = [b.astype(dtype) for b in net.biases]
        net.dtype = dtype
        return net


def _pickled(error: Exception) -> bool:
    """Whether NumPy refused to read ``error``'s file because it holds pickled objects."""
    return any(word in str(error) for word in ("allow_pickle", "Object arrays", "pickled"))


def _check_path(path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (a str or pathlib.Path); got {_checks._show(path)} "
                        f"of type {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"path must be a file name (a str or pathlib.Path); got {path!r}")
    return path


def _check_sizes(sizes) -> tuple[int, ...]:
    accepts = "a list of at least two positive whole numbers, e.g. [2, 16, 1]"
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be {accepts}; got {_checks._show(sizes)}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must be {accepts}; got {list(sizes)!r}")
    for i, s in enumerate(sizes):
        _checks.number(f"sizes[{i}]", s, low=1, integer=True,
                       accepts="a positive whole number (a layer width)")
    return tuple(int(s) for s in sizes)


def _check_hidden_activations(activation, n_hidden: int) -> tuple[str, ...]:
    if isinstance(activation, str):
        registry.get(activation)
        return (activation,) * n_hidden
    if not isinstance(activation, (list, tuple)):
        raise TypeError(f"activation must be a name or a list of names, one per hidden layer; "
                        f"got {_checks._show(activation)}")
    if len(activation) != n_hidden:
        raise ValueError(f"activation must list one name per hidden layer ({n_hidden}); "
                         f"got {len(activation)}: {list(activation)!r}")
    for i, name in enumerate(activation):
        registry.get(name, argument=f"activation[{i}]")
    return tuple(activation)
