"""Bad input meets a clear error at the public boundary, and a failed call changes nothing.

Each row of the table: what is called, the exception type, and a regex that the message must
match — it names the argument and the bad value (and, for unknown names, suggests the right one).
"""
import copy
import inspect
import os
import re

import numpy as np
import pytest

import backprop_kit as bk

nan, inf = float("nan"), float("inf")


def names(registry) -> str:
    """A registry's names as the message lists them (a regex): 'relu', 'leaky_relu', ..."""
    return re.escape(", ".join(repr(name) for name in registry))


NET = bk.Network([2, 3, 1], activation="tanh", output="sigmoid", seed=0)
SOFTMAX_NET = bk.Network([2, 3, 3], activation="relu", output="softmax", seed=0)
X = np.array([[0.5, -1.0], [1.0, 2.0], [0.0, 0.3], [-0.7, 0.1]])
Y = np.array([1, 0, 1, 0])
TRACE = bk.forward(NET, X)
GRADS = bk.gradient(NET, TRACE, Y, "bce")
OTHER = bk.Network([2, 5, 1], seed=0)                    # same depth, other widths
OTHER_GRADS = bk.gradient(OTHER, bk.forward(OTHER, X), Y, "bce")
DATA = bk.datasets.make("xor", n=40, seed=0)             # 30 training points


def with_nan(array):
    array = np.array(array, dtype=float)
    array.flat[0] = nan
    return array


NAN_GRADS = bk.Gradients([with_nan(GRADS.weights[0]), GRADS.weights[1]], GRADS.biases, GRADS.deltas)
INF_GRADS = bk.Gradients(GRADS.weights, [GRADS.biases[0], np.array([inf])], GRADS.deltas)


def trainer(**options):
    options.setdefault("batch_size", 8)
    return bk.Trainer(NET, DATA, **options)


def used_adam():
    adam = bk.Adam(0.01)
    adam.step(NET, GRADS)
    return adam


CASES = [
    # --- Network ----------------------------------------------------------------------------
    ("sizes zero", lambda: bk.Network([2, 0, 1]),
     ValueError, r"sizes\[1\] must be a positive whole number.*got 0"),
    ("sizes negative", lambda: bk.Network([2, -3, 1]), ValueError, r"sizes\[1\].*got -3"),
    ("sizes too short", lambda: bk.Network([2]), ValueError, r"sizes must be .*at least two.*got \[2\]"),
    ("sizes empty", lambda: bk.Network([]), ValueError, r"sizes must be .*got \[\]"),
    ("sizes a string", lambda: bk.Network("2,3,1"), TypeError, r"sizes must be a list.*got '2,3,1'"),
    ("sizes a float", lambda: bk.Network([2, 2.5, 1]), TypeError, r"sizes\[1\].*whole number.*got 2\.5"),
    ("sizes a bool", lambda: bk.Network([2, True, 1]), TypeError, r"sizes\[1\].*got True"),
    ("activation misspelt", lambda: bk.Network([2, 3, 1], activation="rleu"), ValueError,
     rf"activation must be one of {names(bk.activations.HIDDEN)}; got 'rleu' \(did you mean 'relu'\?\)"),
    ("activation softmax hidden", lambda: bk.Network([2, 3, 1], activation="softmax"), ValueError,
     r"activation must be one of .*; got 'softmax'"),
    ("activation not a name", lambda: bk.Network([2, 3, 1], activation=5), TypeError,
     r"activation must be a name.*got 5"),
    ("activation list too short", lambda: bk.Network([2, 3, 3, 1], activation=["relu"]), ValueError,
     r"activation must list one name per hidden layer \(2\); got 1: \['relu'\]"),
    ("activation list misspelt", lambda: bk.Network([2, 3, 3, 1], activation=["relu", "tahn"]), ValueError,
     r"activation\[1\] must be one of .*got 'tahn' \(did you mean 'tanh'\?\)"),
    ("output misspelt", lambda: bk.Network([2, 3, 1], output="sigmod"), ValueError,
     rf"output must be one of {names(bk.activations.OUTPUT)}; got 'sigmod' \(did you mean 'sigmoid'\?\)"),
    ("init misspelt", lambda: bk.Network([2, 3, 1], init="xaveir"), ValueError,
     rf"init must be one of {names(bk.network.INITS)}; got 'xaveir' \(did you mean 'xavier'\?\)"),
    ("scale zero", lambda: bk.Network([2, 3, 1], init="normal", scale=0),
     ValueError, r"scale must be a number > 0; got 0"),
    ("scale nan", lambda: bk.Network([2, 3, 1], init="normal", scale=nan),
     ValueError, r"scale must be .*; got nan"),
    ("dtype unknown", lambda: bk.Network([2, 3, 1], dtype="float16"), ValueError,
     r"dtype must be one of 'float64', 'float32'; got 'float16'"),
    ("seed negative", lambda: bk.Network([2, 3, 1], seed=-1),
     ValueError, r"seed must be a whole number >= 0; got -1"),
    ("from_parameters bias shape", lambda: bk.Network.from_parameters([np.ones((2, 3))], [np.ones(2)], ["linear"]),
     ValueError, r"biases\[0\] must have shape \(3,\).*got shape \(2,\)"),
    ("from_parameters nan weight", lambda: bk.Network.from_parameters([with_nan(np.ones((2, 3)))], [np.ones(3)],
                                                                      ["linear"]),
     ValueError, r"weights\[0\] must hold only finite numbers; got 1 NaN"),
    # --- forward ----------------------------------------------------------------------------
    ("forward net not a Network", lambda: bk.forward("net", X),
     TypeError, r"net must be a backprop_kit.Network; got 'net'"),
    ("forward X wrong columns", lambda: bk.forward(NET, np.ones((4, 3))), ValueError,
     r"X must have 2 columns.*got shape \(4, 3\)"),
    ("forward X 1-D", lambda: bk.forward(NET, np.ones(4)), ValueError, r"X must be a 2-D array.*got shape \(4,\)"),
    ("forward X 3-D", lambda: bk.forward(NET, np.ones((2, 2, 2))),
     ValueError, r"X must be a 2-D array.*\(2, 2, 2\)"),
    ("forward X NaN", lambda: bk.forward(NET, with_nan(X)),
     ValueError, r"X must hold only finite numbers; got 1 NaN"),
    ("forward X inf", lambda: bk.forward(NET, np.where(X > 1, inf, X)), ValueError,
     r"X must hold only finite numbers; got 1 NaN or inf value\(s\) in an array of shape \(4, 2\)"),
    ("forward X empty", lambda: bk.forward(NET, np.empty((0, 2))), ValueError,
     r"X must hold at least one sample; got shape \(0, 2\)"),
    ("forward X strings", lambda: bk.forward(NET, [["a", "b"]]),
     TypeError, r"X must hold real numbers; got dtype <U1"),
    ("forward X None", lambda: bk.forward(NET, None), TypeError, r"X must be an array of numbers; got None"),
    ("forward X complex", lambda: bk.forward(NET, X + 1j),
     TypeError, r"X must hold real numbers; got dtype complex128"),
    ("forward X ragged", lambda: bk.forward(NET, [[1.0, 2.0], [3.0]]),
     TypeError, r"X must be an array of numbers"),
    # --- loss -------------------------------------------------------------------------------
    ("loss misspelt", lambda: bk.loss(TRACE.output, Y, "msq"), ValueError,
     rf"loss must be one of {names(bk.losses.NAMES)}; got 'msq' \(did you mean 'mse'\?\)"),
    ("loss not a name", lambda: bk.loss(TRACE.output, Y, 3), TypeError, r"loss must be a name.*got 3"),
    ("loss y wrong length", lambda: bk.loss(TRACE.output, Y[:3], "bce"), ValueError,
     r"y must have shape \(4, 1\).*got shape \(3,\)"),
    ("loss bce y not 0/1", lambda: bk.loss(TRACE.output, [0, 1, 2, 1], "bce"), ValueError,
     r"y must hold only 0 and 1 for loss 'bce'; got values \[0, 1, 2\]"),
    ("loss y NaN", lambda: bk.loss(TRACE.output, with_nan(Y), "bce"),
     ValueError, r"y must hold only finite numbers"),
    ("loss bce output not probabilities", lambda: bk.loss([[0.5], [1.5], [0.2], [-0.25]], Y, "bce"), ValueError,
     r"output must hold probabilities in \[0, 1\].*got values from -0\.25 to 1\.5"),
    ("loss cross_entropy rows not summing to 1", lambda: bk.loss(np.full((4, 3), 0.5), [0, 1, 2, 0], "cross_entropy"),
     ValueError, r"output must hold rows of probabilities summing to 1.*row sums from 1\.5 to 1\.5"),
    ("loss cross_entropy label out of range", lambda: bk.loss(np.full((4, 3), 1 / 3), [0, 1, 5, 2], "cross_entropy"),
     ValueError, r"y must hold integer class labels 0 to 2.*got values \[0, 1, 2, 5\]"),
    ("loss cross_entropy fractional label", lambda: bk.loss(np.full((4, 3), 1 / 3), [0, 1, 0.5, 2], "cross_entropy"),
     ValueError, r"y must hold integer class labels.*0\.5"),
    ("loss l2 negative", lambda: bk.loss(TRACE.output, Y, "bce", l2=-0.1, net=NET), ValueError,
     r"l2 must be a number >= 0; got -0\.1"),
    ("loss l2 without net", lambda: bk.loss(TRACE.output, Y, "bce", l2=0.1),
     ValueError, r"l2 > 0 needs the network.*net="),
    ("loss output empty", lambda: bk.loss(np.empty((0, 1)), [], "mse"), ValueError,
     r"output must hold at least one sample; got shape \(0, 1\)"),
    # --- gradient ---------------------------------------------------------------------------
    ("gradient loss does not fit output", lambda: bk.gradient(NET, TRACE, Y, "cross_entropy"), ValueError,
     r"loss 'cross_entropy' needs a 'softmax' output.*output is 'sigmoid'"),
    ("gradient trace not a Trace", lambda: bk.gradient(NET, "trace", Y, "bce"), TypeError,
     r"trace must be the Trace returned by forward\(net, X\); got 'trace'"),
    ("gradient trace of another network", lambda: bk.gradient(NET, bk.forward(OTHER, X), Y, "bce"), ValueError,
     r"trace must come from forward\(\) on this network.*\(4, 5\)"),
    ("gradient trace of another depth", lambda: bk.gradient(SOFTMAX_NET, TRACE, Y, "cross_entropy"), ValueError,
     r"trace must come from forward\(\) on this network"),
    ("gradient y wrong length", lambda: bk.gradient(NET, TRACE, [0, 1], "bce"), ValueError,
     r"y must have shape \(4, 1\).*got shape \(2,\)"),
    ("gradient l2 inf", lambda: bk.gradient(NET, TRACE, Y, "bce", l2=inf), ValueError, r"l2 must be .*; got inf"),
    # --- update -----------------------------------------------------------------------------
    ("update lr zero", lambda: bk.update(NET, GRADS, lr=0), ValueError, r"lr must be a number > 0; got 0"),
    ("update lr negative", lambda: bk.update(NET, GRADS, lr=-1), ValueError, r"lr must be a number > 0; got -1"),
    ("update lr a string", lambda: bk.update(NET, GRADS, lr="0.1"),
     TypeError, r"lr must be a number > 0; got '0\.1' of type str"),
    ("update lr nan", lambda: bk.update(NET, GRADS, lr=nan), ValueError, r"lr must be a number > 0; got nan"),
    ("update grads not Gradients", lambda: bk.update(NET, "grads", 0.1), TypeError,
     r"grads must be the Gradients returned by gradient\(\); got 'grads'"),
    ("update grads of another network", lambda: bk.update(NET, OTHER_GRADS, 0.1), ValueError,
     r"grads.weights\[0\] must have shape \(2, 3\).*got \(2, 5\)"),
    ("update grads NaN", lambda: bk.update(NET, NAN_GRADS, 0.1), ValueError,
     r"grads.weights\[0\] must hold only finite numbers; got 1 NaN"),
    # --- datasets ---------------------------------------------------------------------------
    ("make name misspelt", lambda: bk.datasets.make("spirl"), ValueError,
     r"name must be one of 'xor', .*'sine'; got 'spirl' \(did you mean 'spiral'\?\)"),
    ("make n zero", lambda: bk.datasets.make("xor", n=0),
     ValueError, r"n must be a whole number from 4 to 100000; got 0"),
    ("make n too small", lambda: bk.datasets.make("xor", n=3), ValueError, r"n must be .*; got 3"),
    ("make n fractional", lambda: bk.datasets.make("xor", n=100.5),
     TypeError, r"n must be a whole number.*got 100\.5"),
    ("make noise negative", lambda: bk.datasets.make("xor", noise=-0.1),
     ValueError, r"noise must be a number from 0 to 2; got -0\.1"),
    ("make noise nan", lambda: bk.datasets.make("xor", noise=nan), ValueError, r"noise must be .*; got nan"),
    ("make test_fraction 1", lambda: bk.datasets.make("xor", test_fraction=1.0), ValueError,
     r"test_fraction must be a number from 0 to 0\.9; got 1\.0"),
    ("make classes for xor", lambda: bk.datasets.make("xor", classes=3), ValueError,
     r"classes must be 2 for dataset 'xor'.*got 3"),
    ("make classes 1", lambda: bk.datasets.make("spiral", classes=1),
     ValueError, r"classes must be .*from 2 to 10; got 1"),
    ("from_arrays y wrong length", lambda: bk.datasets.from_arrays(X, [0, 1]), ValueError,
     r"y must have one target per row of X \(4\).*got shape \(2,\)"),
    ("from_arrays X NaN", lambda: bk.datasets.from_arrays(with_nan(X), Y),
     ValueError, r"X must hold only finite numbers"),
    ("from_arrays y inf", lambda: bk.datasets.from_arrays(X, [0, 1, inf, 0]),
     ValueError, r"y must hold only finite numbers"),
    ("from_arrays X empty", lambda: bk.datasets.from_arrays(np.empty((0, 2)), []), ValueError,
     r"X must hold at least one sample; got shape \(0, 2\)"),
    ("from_arrays one sample", lambda: bk.datasets.from_arrays([[1.0, 2.0]], [1]), ValueError,
     r"X must hold at least 2 samples.*got 1"),
    ("from_arrays task misspelt", lambda: bk.datasets.from_arrays(X, Y, task="binry"), ValueError,
     r"task must be one of 'binary', 'multiclass', 'regression'; got 'binry' \(did you mean 'binary'\?\)"),
    ("from_arrays binary with fractions", lambda: bk.datasets.from_arrays(X, [0, 1, 0.5, 1], task="binary"),
     ValueError,
     r"y must hold integer class labels.*'binary'.*0\.5"),
    ("from_arrays strings", lambda: bk.datasets.from_arrays(X, ["a", "b", "a", "b"]), TypeError,
     r"y must hold numbers; got dtype <U1"),
    # --- Trainer ----------------------------------------------------------------------------
    ("Trainer data not a Dataset", lambda: bk.Trainer(NET, (X, Y)), TypeError,
     r"data must be a backprop_kit Dataset.*got \(array"),
    ("Trainer net not a Network", lambda: bk.Trainer("net", DATA),
     TypeError, r"net must be a backprop_kit.Network; got 'net'"),
    ("Trainer lr zero", lambda: trainer(lr=0), ValueError, r"lr must be a number > 0; got 0"),
    ("Trainer lr inf", lambda: trainer(lr=inf), ValueError, r"lr must be .*; got inf"),
    ("Trainer batch_size zero", lambda: trainer(batch_size=0), ValueError,
     r"batch_size must be a whole number from 1 to 30 \(the training-set size\); got 0"),
    ("Trainer batch_size too big", lambda: trainer(batch_size=31),
     ValueError, r"batch_size must be .* to 30 .*; got 31"),
    ("Trainer batch_size fractional", lambda: trainer(batch_size=2.5),
     TypeError, r"batch_size must be .*; got 2\.5"),
    ("Trainer optimizer misspelt", lambda: trainer(optimizer="adm"), ValueError,
     rf"optimizer must be one of {names(bk.optimizers.OPTIMIZERS)}; got 'adm' \(did you mean 'adam'\?\)"),
    ("Trainer optimizer a class", lambda: trainer(optimizer=bk.Adam),
     TypeError, r"optimizer must be a name.*Adam"),
    ("Trainer clip negative", lambda: trainer(clip=-1),
     ValueError, r"clip must be None \(no clipping\) or a max gradient norm > 0; got -1"),
    ("Trainer l2 negative", lambda: trainer(l2=-1), ValueError, r"l2 must be a number >= 0; got -1"),
    ("Trainer seed negative", lambda: trainer(seed=-5), ValueError, r"seed must be a whole number >= 0; got -5"),
    ("Trainer loss misspelt", lambda: trainer(loss="bec"),
     ValueError, r"loss must be one of .*got 'bec' \(did you mean 'bce'\?\)"),
    ("Trainer loss does not fit output", lambda: trainer(loss="cross_entropy"), ValueError,
     r"loss 'cross_entropy' needs a 'softmax' output.*'sigmoid'"),
    ("Trainer net inputs do not fit", lambda: bk.Trainer(bk.Network([3, 2, 1]), DATA, batch_size=8), ValueError,
     r"net must take 2 inputs to fit dataset 'xor'; its sizes are \[3, 2, 1\]"),
    ("Trainer net outputs do not fit", lambda: bk.Trainer(SOFTMAX_NET, DATA, loss="cross_entropy", batch_size=8),
     ValueError,
     r"net must have 1 output\(s\) for the binary dataset 'xor'; its sizes are \[2, 3, 3\]"),
    ("Trainer.step negative", lambda: trainer().step(-1), ValueError, r"k must be a whole number >= 0; got -1"),
    ("Trainer.run fractional", lambda: trainer().run(1.5),
     TypeError, r"epochs must be a whole number >= 0; got 1\.5"),
    ("Trainer.evaluate split", lambda: trainer().evaluate("valid"), ValueError,
     r"split must be one of 'train', 'test'; got 'valid'"),
    ("Trainer.predict X wrong columns", lambda: trainer().predict(np.ones((2, 5))), ValueError,
     r"X must have 2 columns.*got shape \(2, 5\)"),
    # --- optimizers and clipping --------------------------------------------------------------
    ("SGD lr zero", lambda: bk.SGD(0), ValueError, r"lr must be a number > 0; got 0"),
    ("Momentum beta above 1", lambda: bk.Momentum(0.1, beta=1.5),
     ValueError, r"beta must be a number from 0 to 1; got 1\.5"),
    ("Adam beta1 negative", lambda: bk.Adam(beta1=-0.1),
     ValueError, r"beta1 must be a number from 0 to 1; got -0\.1"),
    ("Adam eps zero", lambda: bk.Adam(eps=0), ValueError, r"eps must be a number > 0; got 0"),
    ("optimizer step grads not Gradients", lambda: bk.SGD(0.1).step(NET, [1, 2]), TypeError,
     r"grads must be the Gradients.*got \[1, 2\]"),
    ("optimizer step net not a Network", lambda: bk.SGD(0.1).step(None, GRADS),
     TypeError, r"net must be a backprop_kit.Network; got None"),
    ("optimizer step NaN grads", lambda: bk.Momentum(0.1).step(NET, NAN_GRADS), ValueError,
     r"grads.weights\[0\] must hold only finite numbers"),
    ("Adam reused on another shape", lambda: used_adam().step(OTHER, OTHER_GRADS), ValueError,
     r"net must have the shapes this adam optimizer was used with.*\(2, 5\).*reset\(\)"),
    ("clip max_norm zero", lambda: bk.clip_gradients(GRADS, 0),
     ValueError, r"max_norm must be a number > 0; got 0"),
    ("clip max_norm nan", lambda: bk.clip_gradients(GRADS, nan), ValueError, r"max_norm must be .*; got nan"),
    ("clip max_norm a string", lambda: bk.clip_gradients(GRADS, "1"), TypeError, r"max_norm must be .*; got '1'"),
    ("clip grads not Gradients", lambda: bk.clip_gradients({"W": 1}, 1.0),
     TypeError, r"grads must be the Gradients.*\{'W': 1\}"),
    ("clip grads inf", lambda: bk.clip_gradients(INF_GRADS, 1.0),
     ValueError, r"grads.biases\[1\] must hold only finite numbers"),
    # --- gradcheck ----------------------------------------------------------------------------
    ("gradcheck float32 net", lambda: bk.gradcheck(bk.Network([2, 3, 1], dtype="float32"), X, Y, "bce"),
     ValueError,
     r"net must be float64 for a gradient check.*got dtype 'float32'"),
    ("gradcheck eps zero", lambda: bk.gradcheck(NET, X, Y, "bce", eps=0),
     ValueError, r"eps must be a number .*; got 0"),
    ("gradcheck loss misspelt", lambda: bk.gradcheck(NET, X, Y, "cross_entropi"), ValueError,
     r"loss must be one of .*got 'cross_entropi' \(did you mean 'cross_entropy'\?\)"),
    ("gradcheck X wrong columns", lambda: bk.gradcheck(NET, np.ones((4, 3)), Y, "bce"), ValueError,
     r"X must have 2 columns.*\(4, 3\)"),
    ("gradcheck y NaN", lambda: bk.gradcheck(NET, X, with_nan(Y), "bce"),
     ValueError, r"y must hold only finite numbers"),
    ("numerical_gradient eps negative", lambda: bk.numerical_gradient(NET, X, Y, "bce", eps=-1e-6),
     ValueError, r"eps must be a number .*; got -1e-06"),
    ("relative_error shapes differ", lambda: bk.relative_error(np.ones(3), np.ones(4)),
     ValueError, r"a and b must have the same shape.*\(3,\) and \(4,\)"),
    ("relative_error NaN", lambda: bk.relative_error(np.ones(3), with_nan(np.ones(3))),
     ValueError, r"b must hold only finite numbers"),
    ("relative_error a string", lambda: bk.relative_error("grad", np.ones(3)),
     TypeError, r"a must be an array of numbers; got 'grad'"),
    ("global_norm not Gradients", lambda: bk.global_norm([np.ones(3)]),
     TypeError, r"grads must be the Gradients returned by gradient\(\); got \[array"),
    ("accuracy task misspelt", lambda: bk.accuracy(TRACE.output, Y, "binnary"),
     ValueError, r"task must be one of 'binary', 'multiclass', 'regression'; got 'binnary' \(did you mean 'binary'\?\)"),
    ("accuracy y too short", lambda: bk.accuracy(TRACE.output, Y[:3], "binary"),
     ValueError, r"y must hold one label per row of output \(4\).*got shape \(3,\)"),
    ("accuracy output 1-D", lambda: bk.accuracy(np.ones(4), Y, "binary"),
     ValueError, r"output must be a 2-D array"),
    ("save to a number", lambda: NET.save(42), TypeError, r"path must be a file name.*got 42 of type int"),
    ("sgd lr negative", lambda: bk.SGD(-0.1), ValueError, r"lr must be a number > 0; got -0.1"),
    ("features of 3 columns", lambda: bk.datasets.features(np.ones((4, 3)), ["x1"]),
     ValueError, r"X must have 2 columns.*\(4, 3\)"),
    ("features misspelt", lambda: bk.datasets.features(X, ["x1", "sin(x)"]),
     ValueError, r"names\[1\] must be one of 'x1'.*got 'sin\(x\)' \(did you mean"),
    # --- the scalar graph ---------------------------------------------------------------------
    ("Value of a string", lambda: bk.Value("a"), TypeError, r"data must be a finite number; got 'a' of type str"),
    ("Value log of a negative", lambda: bk.Value(-1.0).log(),
     ValueError, r"the input of log must be a positive number; got log\(-1\)"),
    ("Value max with a string", lambda: bk.Value(1.0).max("x"),
     TypeError, r"the other operand of max must be a Value or a finite number; got 'x'"),
    ("graph of a large network", lambda: bk.graph.from_network(bk.Network([2, 30, 30, 1]), [0, 0], 1, "bce"),
     ValueError, r"net must have at most 300 weights and biases.*got 1051"),
    # --- Network.load -------------------------------------------------------------------------
    ("load a number", lambda: bk.Network.load(123), TypeError, r"path must be a file name.*got 123 of type int"),
    ("load a missing file", lambda: bk.Network.load("/nonexistent/net.npz"), ValueError,
     r"path '/nonexistent/net.npz' is not a network file"),
]


# Public names that take no input a learner could get wrong, or only what the kit itself made:
NOT_ENTRY_POINTS = {
    "Trace", "Gradients", "Dataset", "History",     # containers the stages, datasets and Trainer fill
    "Optimizer",                                    # the base class; SGD, Momentum and Adam are checked
}


def public_entry_points() -> set[str]:
    """Every public function, constructor and method with arguments, named as its code is
    (``forward``, ``Trainer.__init__``, ``Trainer.step``, ``make`` for bk.datasets.make)."""
    names = set()
    for name in bk.__all__:
        obj = getattr(bk, name)
        if inspect.isfunction(obj):
            names.add(obj.__qualname__)
        elif inspect.isclass(obj) and name not in NOT_ENTRY_POINTS:
            names.add(obj.__init__.__qualname__)         # SGD's is Optimizer.__init__
            for method_name, method in vars(obj).items():
                if isinstance(method, classmethod):
                    method = method.__func__
                takes = inspect.isfunction(method) and len(inspect.signature(method).parameters) > 1
                if not method_name.startswith("_") and takes:
                    names.add(method.__qualname__)
    names |= {f.__qualname__ for f in (bk.datasets.make, bk.datasets.from_arrays, bk.datasets.features,
                                       bk.graph.from_network)}
    return names


def refusing_function(call) -> str:
    """The qualified name of the kit's function that refused the call: the first frame inside the kit."""
    package = os.path.dirname(bk.__file__)
    try:
        call()
    except Exception as error:
        frame = error.__traceback__
        while frame is not None and not frame.tb_frame.f_code.co_filename.startswith(package):
            frame = frame.tb_next
        assert frame is not None, f"{error!r} was raised outside the kit"
        code = frame.tb_frame.f_code
        return getattr(code, "co_qualname", code.co_name)
    raise AssertionError("the call was accepted")


def test_every_public_entry_point_refuses_bad_input_itself():
    """Every public function, constructor and method has a case above that it refuses: a new one
    with no checked arguments (or no case) fails here, so a learner's mistake with any of them
    meets the clear error the table holds it to."""
    refused_by = {refusing_function(case[1]) for case in CASES}
    missing = public_entry_points() - refused_by
    assert not missing, f"no bad-input case is refused by {sorted(missing)}: add one to CASES"


@pytest.mark.parametrize("call,error,pattern", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_gets_a_clear_error_naming_the_argument_and_value(call, error, pattern):
    with pytest.raises(error) as raised:
        call()
    assert type(raised.value) is error, f"{type(raised.value).__name__}: {raised.value}"
    assert re.search(pattern, str(raised.value)), str(raised.value)


# --- nothing is mutated when a call fails -------------------------------------------------------

@pytest.mark.parametrize("attribute,bad", [("lr", -0.1), ("lr", nan), ("lr", "fast"), ("batch_size", 0),
                                           ("batch_size", 1000), ("batch_size", 2.5), ("clip", 0), ("clip", -1)])
def test_a_refused_setting_leaves_the_trainer_as_it_was(attribute, bad):
    live = bk.Trainer(NET, DATA, lr=0.2, batch_size=8, clip=2.0).step(3)
    before = (live.lr, live.batch_size, live.clip, live.steps, live.net, live.optimizer.t)
    with pytest.raises((ValueError, TypeError), match=attribute):
        setattr(live, attribute, bad)
    assert (live.lr, live.batch_size, live.clip, live.steps, live.net, live.optimizer.t) == before
    live.step(1)
    assert live.steps == 4 and live.diverged is None


def test_a_refused_optimizer_learning_rate_leaves_it_as_it_was():
    adam = bk.Adam(0.01)
    with pytest.raises(ValueError, match="lr"):
        adam.lr = 0
    assert adam.lr == 0.01


def test_a_failed_trainer_construction_leaves_the_given_optimizer_alone():
    adam = bk.Adam(0.01)
    with pytest.raises(ValueError, match="batch_size"):
        bk.Trainer(NET, DATA, optimizer=adam, lr=0.5, batch_size=0)
    assert adam.lr == 0.01 and adam.t == 0


def test_failed_stage_calls_leave_their_inputs_as_they_were():
    net = bk.Network([2, 3, 1], seed=1)
    saved = copy.deepcopy((net.weights, net.biases))
    grads = bk.gradient(net, bk.forward(net, X), Y, "bce")
    grads_saved = copy.deepcopy(grads)
    X_saved = X.copy()
    failing = [lambda: bk.update(net, grads, lr=-1), lambda: bk.update(net, OTHER_GRADS, lr=0.1),
               lambda: bk.gradient(net, bk.forward(net, X), [0, 1], "bce"),
               lambda: bk.loss(bk.forward(net, X).output, Y, "bce", l2=-1, net=net),
               lambda: bk.clip_gradients(grads, -1), lambda: bk.SGD(0.1).step(net, OTHER_GRADS)]
    for call in failing:
        with pytest.raises((ValueError, TypeError)):
            call()
    for a, b in zip(net.weights + net.biases, saved[0] + saved[1]):
        np.testing.assert_array_equal(a, b)
    for field in grads._fields:
        for g, g0 in zip(getattr(grads, field), getattr(grads_saved, field)):
            np.testing.assert_array_equal(g, g0)
    np.testing.assert_array_equal(X, X_saved)


def test_a_failed_step_leaves_the_optimizer_state_as_it_was():
    adam = used_adam()
    state = copy.deepcopy((adam.t, adam.m, adam.s))
    for bad in (NAN_GRADS, OTHER_GRADS):
        with pytest.raises(ValueError):
            adam.step(NET, bad)
    with pytest.raises(ValueError):
        adam.step(OTHER, OTHER_GRADS)
    assert adam.t == state[0]
    for now, then in zip(adam.m[0] + adam.m[1] + adam.s[0] + adam.s[1], state[1][0] + state[1][1] + state[2][0]
                         + state[2][1]):
        np.testing.assert_array_equal(now, then)


def test_failed_trainer_calls_leave_the_trainer_as_it_was():
    live = bk.Trainer(NET, DATA, batch_size=8).step(2)
    history = (list(live.history.loss), live.history.grad_norms.copy())
    for call in (lambda: live.step(-1), lambda: live.run(-2), lambda: live.run("1"), lambda: live.evaluate("dev")):
        with pytest.raises((ValueError, TypeError)):
            call()
    assert live.steps == 2 and live.history.loss == history[0]
    np.testing.assert_array_equal(live.history.grad_norms, history[1])
