"""Trainer: learning, the History it keeps, step/run semantics, live changes and divergence."""
import dataclasses
import copy
import math
import re
import warnings

import numpy as np
import pytest

import backprop_kit as bk

HIDDEN = bk.activations.HIDDEN


def make_trainer(name="xor", n=200, classes=2, sizes=(16, 16), activation="tanh", **options):
    data = bk.datasets.make(name, n=n, noise=0.1, test_fraction=0.25, seed=0, classes=classes)
    net = bk.Network([data.n_inputs, *sizes, data.n_outputs], activation=activation,
                     output=data.output, seed=0)
    return bk.Trainer(net, data, **options)


def all_finite(values):
    return all(math.isfinite(float(v)) for v in np.ravel(values))


# --- it learns ------------------------------------------------------------------------------

# Test accuracies measured at seed 0 (n=400, noise 0.1, 30% test, [2, 16, 16, 1] tanh, batch 32,
# 100 epochs): adam lr 0.01 -> xor 0.958, circles 0.975, moons 1.000, spiral 0.950;
# sgd lr 0.5 -> xor 0.967, circles 0.975, moons 0.958.
@pytest.mark.parametrize("name,optimizer,lr", [
    ("xor", "adam", 0.01), ("circles", "adam", 0.01), ("moons", "adam", 0.01), ("spiral", "adam", 0.01),
    ("xor", "sgd", 0.5), ("circles", "sgd", 0.5), ("moons", "sgd", 0.5)])
def test_trainer_learns_the_2d_datasets_to_90_percent_test_accuracy(name, optimizer, lr):
    data = bk.datasets.make(name, n=400, noise=0.1, test_fraction=0.3, seed=0)
    net = bk.Network([2, 16, 16, 1], activation="tanh", output="sigmoid", init="xavier", seed=0)
    trainer = bk.Trainer(net, data, loss="bce", lr=lr, batch_size=32, optimizer=optimizer, seed=0)
    trainer.run(100)
    assert trainer.diverged is None
    assert trainer.history.test_accuracy[-1] >= 0.9
    assert trainer.history.train_loss[-1] < 0.5 * trainer.history.train_loss[0]
    loss, accuracy = trainer.evaluate("test")
    assert accuracy == trainer.history.test_accuracy[-1] and loss == trainer.history.test_loss[-1]


def test_trainer_fits_the_sine_regression_with_mse():
    trainer = make_trainer("sine", n=200, optimizer="adam", lr=0.01)
    assert trainer.loss == "mse" and trainer.data.task == "regression"
    trainer.run(100)
    assert trainer.history.test_loss[-1] < 0.05          # the targets' variance is ~0.5
    assert all(math.isnan(a) for a in trainer.history.test_accuracy)


# --- History ------------------------------------------------------------------------------

def test_history_records_one_entry_per_step_and_per_epoch():
    trainer = make_trainer("moons", n=200, batch_size=32)     # 150 training points: 5 steps per epoch
    assert trainer.steps_per_epoch == 5
    trainer.run(3)
    history = trainer.history
    assert history.steps == trainer.steps == 15
    assert len(history.loss) == 15 and all(type(v) is float for v in history.loss)
    assert isinstance(history.grad_norms, np.ndarray) and history.grad_norms.shape == (15, 3)
    assert np.all(history.grad_norms > 0)
    assert len(history.global_norms) == len(history.clipped) == 15
    assert history.epochs == [1, 2, 3] and history.epoch_steps == [5, 10, 15]
    for field in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
        values = getattr(history, field)
        assert len(values) == 3 and all(isinstance(v, float) and math.isfinite(v) for v in values)
    assert all(0.0 <= a <= 1.0 for a in history.train_accuracy + history.test_accuracy)


def test_the_first_step_records_the_loss_and_weight_gradient_norms_of_that_batch_before_clipping():
    data = bk.datasets.make("circles", n=100, seed=0)
    net = bk.Network([2, 8, 1], activation="tanh", seed=0)
    X, y = data.X_train, data.y_train
    trainer = bk.Trainer(net, data, batch_size=len(X), clip=1e-3)   # one full batch: order is moot
    trainer.step(1)
    grads = bk.gradient(net, bk.forward(net, X), y, "bce")
    assert trainer.history.loss[0] == pytest.approx(bk.loss(bk.forward(net, X).output, y, "bce"), rel=1e-14)
    np.testing.assert_allclose(trainer.history.grad_norms[0], [np.linalg.norm(g) for g in grads.weights],
                               rtol=1e-12)
    assert trainer.history.global_norms[0] == pytest.approx(bk.global_norm(grads), rel=1e-12)
    assert trainer.history.clipped == [True]
    # the step itself used the clipped gradients: SGD moved the parameters by lr * 1e-3 in all
    moved = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in
                        zip(trainer.net.weights + trainer.net.biases, net.weights + net.biases)))
    assert moved == pytest.approx(0.1 * 1e-3, rel=1e-9)


def test_history_epoch_values_are_the_loss_and_accuracy_of_the_network_after_the_epoch():
    trainer = make_trainer("spiral", n=200, classes=3, batch_size=50).run(2)
    data = trainer.data
    output = bk.forward(trainer.net, data.X_test).output
    assert trainer.history.test_loss[-1] == pytest.approx(bk.loss(output, data.y_test, "cross_entropy"),
                                                          rel=1e-14)
    assert trainer.history.test_accuracy[-1] == np.mean(output.argmax(axis=1) == data.y_test)


def test_trainer_never_changes_the_network_or_dataset_it_was_given():
    data = bk.datasets.make("xor", n=100, seed=0)
    net = bk.Network([2, 4, 1], seed=0)
    saved_net = copy.deepcopy((net.weights, net.biases))
    saved_data = [a.copy() for a in (data.X_train, data.y_train, data.X_test, data.y_test)]
    trainer = bk.Trainer(net, data, lr=0.5).run(3)
    assert trainer.net != net
    for a, b in zip(net.weights + net.biases, saved_net[0] + saved_net[1]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip((data.X_train, data.y_train, data.X_test, data.y_test), saved_data):
        np.testing.assert_array_equal(a, b)


# --- step(k) and run(epochs) ----------------------------------------------------------------

def test_step_runs_k_mini_batches_across_epoch_ends():
    trainer = make_trainer("xor", n=200, batch_size=32)      # 150 training points: 5 steps per epoch
    trainer.step(3)
    assert (trainer.steps, trainer.epoch) == (3, 0)
    trainer.step(4)
    assert (trainer.steps, trainer.epoch) == (7, 1)
    assert trainer.history.epoch_steps == [5]
    trainer.step(0)
    assert trainer.steps == 7
    assert trainer.step() is trainer and trainer.steps == 8


def test_run_finishes_whole_epochs_and_a_begun_epoch_counts_as_one():
    trainer = make_trainer("xor", n=200, batch_size=32)
    trainer.run(2)
    assert (trainer.steps, trainer.epoch) == (10, 2)
    trainer.step(2)
    trainer.run(1)                          # finishes the begun epoch 3
    assert (trainer.steps, trainer.epoch) == (15, 3)
    assert trainer.run(0) is trainer and trainer.steps == 15
    assert trainer.history.epoch_steps == [5, 10, 15]


def test_an_epoch_ends_with_a_smaller_last_batch():
    trainer = make_trainer("xor", n=200, batch_size=40)      # 150 = 40 + 40 + 40 + 30
    assert trainer.steps_per_epoch == 4
    trainer.run(1)
    assert trainer.steps == 4


# --- live changes keep progress ---------------------------------------------------------------

def test_changing_batch_size_mid_epoch_keeps_the_position_in_the_epoch():
    trainer = make_trainer("xor", n=200, batch_size=32)      # 150 training points
    trainer.step(2)                                          # 64 seen, 86 left in this epoch
    net_before = trainer.net
    trainer.batch_size = 50                                  # 86 = 50 + 36: two more steps
    assert trainer.net is net_before and trainer.steps == 2
    trainer.run(1)
    assert (trainer.steps, trainer.epoch) == (4, 1)
    trainer.run(1)                                           # then 150 = 3 x 50
    assert trainer.steps == 7 and trainer.history.epoch_steps == [4, 7]


def test_changing_the_learning_rate_mid_run_keeps_the_network_history_and_optimizer_state():
    trainer = make_trainer("moons", optimizer="adam", lr=0.01)
    trainer.step(7)
    net, steps, t = trainer.net, trainer.steps, trainer.optimizer.t
    trainer.lr = 0.001
    assert trainer.lr == trainer.optimizer.lr == 0.001
    assert (trainer.net, trainer.steps, trainer.optimizer.t) == (net, steps, t)
    trainer.step(3)
    assert trainer.steps == 10 and trainer.optimizer.t == 10 and len(trainer.history.loss) == 10


def test_turning_clipping_on_mid_run_caps_every_later_step():
    trainer = make_trainer("moons", lr=0.5)
    trainer.step(4)
    assert trainer.history.clipped == [False] * 4
    trainer.clip = 1e-4
    before = trainer.net
    trainer.step(3)
    assert trainer.steps == 7 and trainer.history.clipped[4:] == [True] * 3
    moved = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in
                        zip(trainer.net.weights + trainer.net.biases, before.weights + before.biases)))
    assert moved <= 3 * 0.5 * 1e-4 * (1 + 1e-9)
    trainer.clip = None
    trainer.step(1)
    assert trainer.history.clipped[-1] is False


# --- divergence -------------------------------------------------------------------------------

def test_a_huge_learning_rate_ends_in_a_divergence_message_not_an_exception():
    data = bk.datasets.make("xor", n=400, noise=0.1, test_fraction=0.3, seed=0)
    net = bk.Network([2, 16, 16, 1], activation="tanh", output="sigmoid", seed=0)
    trainer = bk.Trainer(net, data, lr=10, batch_size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # any RuntimeWarning escaping would raise here
        trainer.run(50)
    message = trainer.diverged
    assert message is not None
    assert f"step {trainer.steps}" in message                                   # when
    assert re.search(r"loss|gradient|weights", message)                         # what blew up
    assert re.search(r"lower learning rate", message, re.I) and "10" in message  # what to try
    assert re.search(r"clip", message, re.I)
    assert trainer.epoch < 50
    for array in trainer.net.weights + trainer.net.biases:
        assert np.all(np.isfinite(array))
    # the kept network is the one from before the step that blew up
    again = bk.Trainer(net, data, lr=10, batch_size=32)
    again.step(trainer.steps - 1)
    assert again.diverged is None and again.net == trainer.net
    # after divergence, step and run do nothing
    steps = trainer.steps
    trainer.step(5)
    trainer.run(2)
    assert trainer.steps == steps and trainer.diverged == message


def test_the_divergence_advice_mentions_a_smaller_clip_when_clipping_is_on():
    trainer = make_trainer("xor", activation="linear", lr=10, clip=100.0, batch_size=16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.run(30)
    assert trainer.diverged is not None and "smaller clip" in trainer.diverged


@pytest.mark.parametrize("name,classes", [("xor", 2), ("circles", 2), ("moons", 2), ("gaussians", 2),
                                          ("spiral", 2), ("spiral", 3), ("gaussians", 4), ("sine", 2)])
def test_any_learning_rate_up_to_10_trains_or_diverges_cleanly(name, classes):
    """lr in [0.1, 1, 3, 10] x every hidden activation x sgd/momentum/adam, 4 epochs each."""
    data = bk.datasets.make(name, n=200, noise=0.1, seed=0, classes=classes)
    outcomes = {"diverged": 0, "finite": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for activation in HIDDEN:
            for lr in [0.1, 1, 3, 10]:
                for optimizer in ["sgd", "momentum", "adam"]:
                    net = bk.Network([data.n_inputs, 16, 16, data.n_outputs], activation=activation,
                                     output=data.output, seed=0)
                    trainer = bk.Trainer(net, data, lr=lr, optimizer=optimizer, batch_size=32).run(4)
                    history = trainer.history
                    everything = [history.loss, history.grad_norms, history.global_norms,
                                  history.train_loss, history.test_loss]
                    if trainer.diverged is None:
                        assert trainer.epoch == 4 and all(all_finite(v) for v in everything)
                        outcomes["finite"] += 1
                    else:
                        # every value before the step that blew up is finite, and so is the kept net
                        assert all(all_finite(v[:-1]) for v in everything[:3])
                        assert all_finite(history.train_loss + history.test_loss)
                        outcomes["diverged"] += 1
                    assert all(all_finite(a) for a in trainer.net.weights + trainer.net.biases)
    assert outcomes["finite"] > 0


def test_a_run_that_stops_at_an_epoch_end_never_leaves_non_finite_epoch_losses():
    # linear hidden layers at lr 10: after epoch 2 the weights are ~1e145, finite, but the loss
    # over the whole training set overflows; that is divergence, not a nan in the history.
    trainer = make_trainer("xor", activation="linear", lr=10, batch_size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.run(2)
    assert all_finite(trainer.history.train_loss + trainer.history.test_loss)
    assert trainer.diverged is not None or trainer.epoch == 2


# --- vanishing gradients ----------------------------------------------------------------------

def layer_gradient_norms(activation, init, bias="like_weights"):
    """Each layer's weight-gradient norm averaged over the first 5 steps of an 8x16 hidden network."""
    data = bk.datasets.make("moons", n=400, noise=0.1, test_fraction=0.3, seed=0)
    net = bk.Network([2] + [16] * 8 + [1], activation=activation, output="sigmoid", init=init, seed=0,
                     bias=bias)
    trainer = bk.Trainer(net, data, lr=0.1, batch_size=32, seed=0).step(5)
    return trainer.history.grad_norms.mean(axis=0)


def test_deep_sigmoid_gradients_vanish_towards_the_first_layer_while_relu_he_stays_level():
    # Measured (seed 0): sigmoid + xavier, last / first layer ~1e5, shrinking ~3-4x per layer.
    # relu + he with zero biases (the setting of He's variance argument): largest / smallest
    # layer 3.1; with the default biases, each layer's bias adds variance (2 / fan_in) to z, so
    # the later layers' norms grow: 10.8 (over seeds 0-19: median 7.4, zero biases 3.8).
    sigmoid = layer_gradient_norms("sigmoid", "xavier")
    assert sigmoid[-1] / sigmoid[0] >= 100
    assert np.all(np.diff(sigmoid) > 0), "the norm grows layer by layer towards the output"
    relu = layer_gradient_norms("relu", "he", bias="zeros")
    assert relu.max() / relu.min() <= 10
    relu_default = layer_gradient_norms("relu", "he")
    assert relu_default.max() / relu_default.min() <= 20


def test_run_with_progress_shows_a_tqdm_bar_with_the_last_epochs_loss(capsys):
    trainer = make_trainer("xor", n=100)
    trainer.run(3, progress=True)
    err = capsys.readouterr().err
    last = err.rstrip("\n").split("\r")[-1]
    assert last.startswith("xor: 100%") and "3/3" in last and "loss" in last and "accuracy" in last, err
    trainer.run(2)
    assert capsys.readouterr().err == ""                      # no bar unless asked
    with pytest.raises(TypeError, match="progress must be True or False; got 'yes'"):
        trainer.run(1, progress="yes")
    assert trainer.epoch == 5


def test_a_run_that_diverges_closes_its_progress_bar(capsys):
    trainer = make_trainer("xor", n=100, lr=50.0)
    trainer.run(20, progress=True)
    assert trainer.diverged is not None and capsys.readouterr().err.endswith("\n")


def test_the_trainer_keeps_the_last_steps_gradients_before_clipping():
    data = bk.datasets.make("moons", n=80, seed=0)
    net = bk.Network([2, 6, 1], seed=0)
    trainer = bk.Trainer(net, data, lr=0.1, batch_size=len(data.X_train), clip=1e-3)
    assert trainer.gradients is None
    trainer.step(1)
    expected = bk.gradient(net, bk.forward(net, data.X_train), data.y_train, "bce")
    for got, want in zip(trainer.gradients.weights, expected.weights):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    assert bk.global_norm(trainer.gradients) > 1e-3         # the raw gradients: the step was clipped
    assert trainer.history.clipped == [True]


def test_new_data_goes_on_training_the_same_network_from_a_new_epoch_order():
    data = bk.datasets.make("moons", n=100, seed=0)
    trainer = bk.Trainer(bk.Network([2, 6, 1], seed=0), data, batch_size=50).step(3)
    net, steps, optimizer_t = trainer.net, trainer.steps, trainer.optimizer.t
    assert trainer.epoch == 1                        # 75 points in batches of 50: step 3 began epoch 2
    more = dataclasses.replace(data, X_train=np.vstack([data.X_train, [[0.1, 0.2]]]),
                               y_train=np.append(data.y_train, 1))
    trainer.data = more
    assert trainer.data is more and trainer.net is net and trainer.steps == steps
    assert trainer.optimizer.t == optimizer_t and trainer._position == 0
    assert sorted(trainer._order) == list(range(76))
    trainer.step(2)
    assert trainer.steps == steps + 2 and trainer.epoch == 2          # the new order's 76 points: 2 steps


def test_new_data_with_fewer_points_shrinks_the_batch_and_an_empty_set_says_so():
    data = bk.datasets.make("moons", n=100, seed=0)
    trainer = bk.Trainer(bk.Network([2, 6, 1], seed=0), data, batch_size=50)
    few = dataclasses.replace(data, X_train=data.X_train[:10], y_train=data.y_train[:10])
    trainer.data = few
    assert trainer.batch_size == 10
    empty = dataclasses.replace(data, X_train=data.X_train[:0], y_train=data.y_train[:0])
    trainer.data = empty
    with pytest.raises(ValueError, match=r"data.X_train must hold points to train on; dataset 'moons' has none"):
        trainer.step(1)
    trainer.step(0)                                  # asking for nothing is fine
    assert trainer.steps == 0


def test_new_data_the_network_cannot_take_is_refused_and_changes_nothing():
    data = bk.datasets.make("moons", n=100, seed=0)
    trainer = bk.Trainer(bk.Network([2, 6, 1], seed=0), data)
    with pytest.raises(ValueError, match=r"net must take 1 inputs to fit dataset 'sine'"):
        trainer.data = bk.datasets.make("sine", n=50)
    with pytest.raises(ValueError, match=r"net must have 3 output\(s\) for the multiclass dataset"):
        trainer.data = bk.datasets.make("spiral", n=60, classes=3)
    assert trainer.data is data
