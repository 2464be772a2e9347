"""`import backprop_kit` is light (NumPy only), and every public name of DESIGN.md exists."""
import inspect
import subprocess
import sys

import numpy as np
import pytest

import backprop_kit as bk


def python(code: str) -> list[str]:
    """The lines ``code`` prints in a fresh interpreter (which must print nothing on stderr)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_importing_the_kit_imports_neither_matplotlib_nor_ipywidgets():
    heavy = python("import sys, backprop_kit\n"
                   "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
                   "{'matplotlib', 'ipywidgets', 'ipympl', 'IPython', 'autograd', 'torch', 'tqdm'})\n"
                   "print(','.join(heavy))")
    assert heavy == [""], f"import backprop_kit pulled in: {heavy}"


def test_import_backprop_kit_loads_the_scalar_graph_only_when_asked():
    assert python("import sys, backprop_kit as bk\n"
                  "print('backprop_kit.graph' in sys.modules)\n"
                  "print(bk.Value(2.0).data, 'backprop_kit.graph' in sys.modules, callable(bk.graph.from_network))\n"
                  "print('Value' in dir(bk), 'graph' in dir(bk))") == ["False", "2.0 True True", "True True"]
    from backprop_kit import graph
    assert bk.graph is graph and bk.Value is graph.Value


@pytest.mark.parametrize("name", ["Network", "forward", "loss", "gradient", "update", "Trace", "Gradients",
                                  "SGD", "Momentum", "Adam", "clip_gradients", "Trainer", "History",
                                  "gradcheck", "datasets", "Dataset"])
def test_design_md_public_name_exists(name):
    assert hasattr(bk, name)
    assert name in bk.__all__


def test_every_name_in_all_exists():
    for name in bk.__all__:
        assert hasattr(bk, name), name


def parameters(function):
    return {name: p.default for name, p in inspect.signature(function).parameters.items()}


def test_signatures_follow_design_md():
    network = parameters(bk.Network)
    assert list(network)[:1] == ["sizes"]
    assert {"activation", "output", "init", "scale", "seed"} <= set(network)
    assert list(parameters(bk.forward)) == ["net", "X"]
    assert list(parameters(bk.loss))[:3] == ["output", "y", "loss"] and parameters(bk.loss)["l2"] == 0.0
    assert list(parameters(bk.gradient))[:4] == ["net", "trace", "y", "loss"]
    assert parameters(bk.gradient)["l2"] == 0.0
    assert list(parameters(bk.update)) == ["net", "grads", "lr"]
    assert list(parameters(bk.clip_gradients)) == ["grads", "max_norm"]
    assert list(parameters(bk.gradcheck))[:4] == ["net", "X", "y", "loss"]
    assert list(parameters(bk.Momentum)) == ["lr", "beta"] and parameters(bk.Momentum)["beta"] == 0.9
    trainer = parameters(bk.Trainer)
    assert list(trainer)[:2] == ["net", "data"]
    assert {k: trainer[k] for k in ("batch_size", "optimizer", "clip", "l2", "seed")} == {
        "batch_size": 32, "optimizer": "sgd", "clip": None, "l2": 0.0, "seed": 0}
    assert {"loss", "lr"} <= set(trainer)
    make = parameters(bk.datasets.make)
    assert list(make)[0] == "name" and {"n", "noise", "test_fraction", "seed", "classes"} <= set(make)
    assert {"X", "y", "test_fraction", "seed"} <= set(parameters(bk.datasets.from_arrays))


def test_the_design_md_example_runs_and_has_the_promised_attributes():
    data = bk.datasets.make("spiral", n=400, noise=0.1, test_fraction=0.3, seed=0)
    for field in ("X_train", "y_train", "X_test", "y_test", "task", "name"):
        assert hasattr(data, field)
    assert data.task == "binary" and data.name == "spiral"
    assert len(data.X_test) == 120 and data.y_train.shape == (280,)
    net = bk.Network([2, 16, 16, 1], activation="tanh", output="sigmoid", init="xavier", seed=0)
    assert net.sizes == (2, 16, 16, 1) and net.activations == ("tanh", "tanh", "sigmoid")
    assert isinstance(net.weights[0], np.ndarray) and isinstance(net.biases[0], np.ndarray)
    trace = bk.forward(net, data.X_train)
    assert all(hasattr(trace, f) for f in ("inputs", "pre", "post", "output"))
    value = bk.loss(trace.output, data.y_train, "bce")
    assert isinstance(value, float)
    grads = bk.gradient(net, trace, data.y_train, "bce")
    assert all(hasattr(grads, f) for f in ("weights", "biases", "deltas"))
    new_net = bk.update(net, grads, lr=0.1)
    assert isinstance(new_net, bk.Network) and new_net is not net
    clipped, norm_before = bk.clip_gradients(grads, 1.0)
    assert isinstance(clipped, bk.Gradients) and isinstance(norm_before, float)
    for optimizer in (bk.SGD(0.1), bk.Momentum(0.1, beta=0.9), bk.Adam(0.01)):
        assert isinstance(optimizer.step(net, grads), bk.Network)
    trainer = bk.Trainer(net, data, loss="bce", lr=0.1, batch_size=32, optimizer="sgd", clip=None,
                         l2=0.0, seed=0)
    assert trainer.step(3) is trainer and trainer.run(1) is trainer
    assert isinstance(trainer.net, bk.Network) and trainer.diverged is None
    history = trainer.history
    for field in ("loss", "grad_norms", "train_loss", "test_loss", "train_accuracy", "test_accuracy"):
        assert hasattr(history, field)
    assert bk.Trainer(net, data).lr == 0.1, "the default learning rate"
    assert bk.Trainer(net, data, optimizer=bk.Adam(0.01)).lr == 0.01, "an optimizer object keeps its own"
    errors = bk.gradcheck(bk.Network([2, 3, 1], seed=0), data.X_train[:5], data.y_train[:5], "bce")
    assert len(errors) == 2 and all(isinstance(e, float) for e in errors)
    assert callable(bk.Network.load) and callable(net.save)


def test_the_registries_hold_the_names_design_md_promises():
    # DESIGN.md's names are there (a registry may hold more: adding one is adding one entry)
    assert set(bk.activations.HIDDEN) >= {"relu", "leaky_relu", "sigmoid", "tanh", "linear"}
    assert set(bk.activations.OUTPUT) == set(bk.activations.HIDDEN) | {"softmax"}
    assert set(bk.losses.NAMES) >= {"mse", "bce", "cross_entropy"}
    assert set(bk.datasets.NAMES) == {"xor", "circles", "moons", "gaussians", "spiral", "sine"}
    for init in ("xavier", "he", "normal", "zeros"):
        bk.Network([2, 2, 1], init=init)
    assert bk.activations.leaky_relu(np.array([-1.0]))[0] == -0.01, "leaky slope 0.01"
