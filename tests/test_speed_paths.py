"""The shortcuts taken for speed give the same answers as the plain way.

- the Trainer's SGD steps check the weights for inf/NaN with a running bound instead of a scan;
- the Trainer evaluates a whole data set in blocks of rows;
- mini-batches are slices of a per-epoch shuffled copy of the training set;
- the losses take one log per sample for BCE and the mean without np.mean's wrapper;
- float32 networks train in float32 throughout.
"""
import warnings

import numpy as np
import pytest

import backprop_kit as bk
from backprop_kit import losses, optimizers, training


class ScanningSGD(optimizers.SGD):
    """SGD itself, but not `type(...) is SGD`: the Trainer scans the weights after each of its steps."""


def trainers(optimizer_lr, dtype="float64", data_name="moons", **options):
    data = bk.datasets.make(data_name, n=200, noise=0.2, seed=0)
    made = []
    for optimizer in (bk.SGD(optimizer_lr), ScanningSGD(optimizer_lr)):
        net = bk.Network([2, 8, 8, data.n_outputs], activation="tanh", output=data.output, seed=0, dtype=dtype)
        made.append(bk.Trainer(net, data, optimizer=optimizer, batch_size=16, seed=0, **options))
    return made


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("lr", [0.1, 3.0, 1e3])
def test_the_weight_bound_gives_the_same_run_as_scanning_every_step(dtype, lr):
    fast, scanning = trainers(lr, dtype)
    for trainer in (fast, scanning):
        trainer.run(4)
    assert fast.diverged == scanning.diverged
    assert fast.history.loss == scanning.history.loss
    assert fast.net == scanning.net


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_weights_that_overflow_after_a_learning_rate_jump_are_caught_at_that_step(dtype):
    moons = bk.datasets.make("moons", n=200, noise=0.2, seed=0)
    data = bk.datasets.from_arrays(1000 * np.vstack([moons.X_train, moons.X_test]),
                                   np.concatenate([moons.y_train, moons.y_test]), seed=0)
    huge = float(np.finfo(dtype).max)       # lr * a gradient entry above 1 overflows: the weights become inf
    verdicts = []
    for optimizer in (bk.SGD(1e-6), ScanningSGD(1e-6)):
        net = bk.Network([2, 8, 8, 1], activation="relu", seed=0, dtype=dtype)
        trainer = bk.Trainer(net, data, optimizer=optimizer, batch_size=16, seed=0)
        trainer.step(5)
        kept = trainer.net
        trainer.lr = huge
        trainer.step(5)
        assert trainer.steps == 6 and trainer.net is kept
        assert "the weights of layer" in trainer.diverged and "at step 6" in trainer.diverged
        assert all(np.isfinite(W).all() for W in trainer.net.weights)
        verdicts.append(trainer.diverged)
    assert verdicts[0] == verdicts[1]


def test_the_weight_bound_always_covers_the_largest_weight():
    fast, _ = trainers(0.5)
    for _ in range(60):
        fast.step(1)
        largest = max(np.abs(a).max() for a in (*fast.net.weights, *fast.net.biases))
        assert fast._weight_bound is not None and fast._weight_bound >= largest


def test_a_network_set_by_hand_is_scanned_before_the_bound_is_trusted_again():
    fast, _ = trainers(0.1)
    fast.step(3)
    bad = fast.net.copy()
    bad.weights[1][0, 0] = np.inf
    fast.net = bad
    assert fast._weight_bound is None
    fast.step(1)                 # the step from an infinite weight: caught by the scan
    assert fast.diverged is not None and fast.net is bad


@pytest.mark.parametrize("block", [1, 7, 64])
def test_evaluating_in_blocks_of_rows_gives_the_whole_set_answer(monkeypatch, block):
    data = bk.datasets.make("spiral", n=300, noise=0.1, classes=3, seed=0)
    trainer = bk.Trainer(bk.Network([2, 16, 3], seed=0), data, lr=0.3, seed=0)
    trainer.run(2)
    output = bk.forward(trainer.net, data.X_train).output
    whole_loss = bk.loss(output, data.y_train, "cross_entropy")
    whole_accuracy = bk.accuracy(output, data.y_train, "multiclass")
    monkeypatch.setattr(training, "EVALUATION_BLOCK", block)
    loss, accuracy = trainer.evaluate("train")
    assert loss == pytest.approx(whole_loss, rel=1e-12) and accuracy == whole_accuracy


def test_each_epoch_visits_every_training_sample_once_in_the_seeded_order(monkeypatch):
    data = bk.datasets.make("moons", n=200, noise=0.2, seed=0)
    X_before = data.X_train.copy()
    trainer = bk.Trainer(bk.Network([2, 4, 1], seed=0), data, batch_size=32, seed=5)
    seen = []
    original = training._forward
    monkeypatch.setattr(training, "_forward", lambda net, X: (seen.append(X.copy()), original(net, X))[1])
    order = np.random.default_rng(5).permutation(len(data.X_train))
    trainer.step(trainer.steps_per_epoch)
    batches = [X for X in seen if len(X) <= 32]
    np.testing.assert_array_equal(np.concatenate(batches), data.X_train[order])
    np.testing.assert_array_equal(data.X_train, X_before)            # the data set is never changed


def textbook_bce(p, y):
    with np.errstate(divide="ignore"):
        log_p, log_q = np.maximum(np.log(p), -100.0), np.maximum(np.log(1.0 - p), -100.0)
    return float(-np.mean(y * log_p + (1.0 - y) * log_q))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_one_log_per_sample_is_the_textbook_formula_to_the_bit(dtype):
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.random(200), [0.0, 1.0, 1e-45, 1e-300, 1 - 1e-16, 0.5]]).astype(dtype).reshape(-1, 1)
    y = (rng.random(p.shape) > 0.5).astype(dtype)
    y[-6:] = [[1], [0], [1], [0], [0], [1]]
    expected = textbook_bce(p, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # and log(0) warns no more
        got = losses.bce(p, y)
    assert got == pytest.approx(expected, rel=0 if dtype is np.float64 else 1e-6)
    assert losses.bce(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]])) == 100.0


def test_the_mean_of_the_losses_is_numpys_mean_to_the_bit():
    rng = np.random.default_rng(1)
    for shape in [(1, 1), (32, 1), (257, 3), (1000, 10)]:
        x = rng.normal(size=shape)
        assert losses._mean(x) == float(np.mean(x))
        output, y = rng.random(shape), rng.random(shape)
        assert losses.mse(output, y) == float(np.mean((output - y) ** 2))


def test_a_float32_trainer_stays_float32_and_learns_like_float64():
    data = bk.datasets.make("moons", n=300, noise=0.1, seed=0)
    runs = {}
    for dtype in ("float32", "float64"):
        net = bk.Network([2, 16, 16, 1], activation="tanh", seed=0, dtype=dtype)
        runs[dtype] = trainer = bk.Trainer(net, data, lr=0.3, batch_size=32, seed=0).run(30)
        assert trainer.diverged is None
        assert {a.dtype.name for a in (*trainer.net.weights, *trainer.net.biases)} == {dtype}
        assert trainer.predict(data.X_test).dtype.name == dtype
    assert runs["float32"].history.train_loss[-1] == pytest.approx(runs["float64"].history.train_loss[-1], rel=1e-3)
    assert runs["float32"].history.test_accuracy[-1] == pytest.approx(runs["float64"].history.test_accuracy[-1],
                                                                       abs=0.02)
