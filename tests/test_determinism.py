"""The same seed gives the same run to the bit; a different seed gives a different one."""
import numpy as np
import pytest

import backprop_kit as bk
from backprop_kit import training

BATCH = 32


def make_trainer(seed=0, net_seed=0, data_seed=0, optimizer="sgd", **options):
    data = bk.datasets.make("moons", n=200, noise=0.2, seed=data_seed)
    net = bk.Network([2, 8, 8, 1], activation="tanh", seed=net_seed)
    return bk.Trainer(net, data, lr=0.3 if optimizer != "adam" else 0.01, batch_size=BATCH,
                      optimizer=optimizer, seed=seed, **options)


def record_batches(monkeypatch):
    """Spy on the forward pass the Trainer calls: the mini-batches it sees, in order."""
    batches = []
    original = training._forward

    def spy(net, X):
        if len(X) <= BATCH:        # the epoch-end evaluations pass the whole sets
            batches.append(X.copy())
        return original(net, X)

    monkeypatch.setattr(training, "_forward", spy)
    return batches


def assert_same_history(a, b):
    assert a.loss == b.loss
    assert a.global_norms == b.global_norms and a.clipped == b.clipped
    np.testing.assert_array_equal(a.grad_norms, b.grad_norms)
    for field in a.EPOCH_FIELDS:
        assert getattr(a, field) == getattr(b, field), field


@pytest.mark.parametrize("init", ["xavier", "he", "normal"])
def test_same_seed_gives_the_same_weights_and_another_seed_other_weights(init):
    a, b = (bk.Network([3, 5, 2], init=init, seed=7) for _ in range(2))
    assert a == b
    np.random.seed(123)          # the global NumPy generator plays no part
    c = bk.Network([3, 5, 2], init=init, seed=7)
    assert c == a
    d = bk.Network([3, 5, 2], init=init, seed=8)
    assert not any(np.array_equal(x, y) for x, y in zip(a.weights, d.weights))


@pytest.mark.parametrize("name", ["xor", "circles", "moons", "gaussians", "spiral", "sine"])
def test_same_seed_gives_the_same_dataset_and_another_seed_another(name):
    a, b, c = (bk.datasets.make(name, n=100, seed=s) for s in (3, 3, 4))
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_same_seed_gives_the_same_batches_history_and_network_to_the_bit(monkeypatch, optimizer):
    batches = record_batches(monkeypatch)
    first = make_trainer(optimizer=optimizer, clip=0.5).run(3)
    first_batches = list(batches)
    batches.clear()
    second = make_trainer(optimizer=optimizer, clip=0.5).run(3)
    assert len(first_batches) == len(batches) == first.steps == 15
    for x, y in zip(first_batches, batches):
        np.testing.assert_array_equal(x, y)
    assert_same_history(first.history, second.history)
    assert first.net == second.net


def test_each_epoch_is_a_fresh_shuffle_that_visits_every_training_point_once(monkeypatch):
    batches = record_batches(monkeypatch)
    trainer = make_trainer().run(2)
    index = {tuple(row): i for i, row in enumerate(trainer.data.X_train.tolist())}
    per_step = [[index[tuple(row)] for row in X.tolist()] for X in batches]
    steps = trainer.steps_per_epoch
    epochs = [sum(per_step[e * steps:(e + 1) * steps], []) for e in range(2)]
    for order in epochs:
        assert sorted(order) == list(range(len(trainer.data.X_train)))
    assert epochs[0] != epochs[1]
    assert epochs[0] != sorted(epochs[0]), "shuffled, not in data order"


def test_a_different_trainer_seed_gives_another_batch_order_and_history(monkeypatch):
    batches = record_batches(monkeypatch)
    first = make_trainer(seed=0).run(1)
    first_batches = list(batches)
    batches.clear()
    other = make_trainer(seed=1).run(1)
    assert not np.array_equal(first_batches[0], batches[0])
    assert first.history.loss != other.history.loss
    assert first.net != other.net


def test_training_in_pieces_gives_the_same_run_as_training_at_once():
    whole = make_trainer(optimizer="adam").step(12)
    pieces = make_trainer(optimizer="adam")
    for k in (1, 4, 0, 7):
        pieces.step(k)
    assert_same_history(whole.history, pieces.history)
    assert whole.net == pieces.net
    by_epochs = make_trainer(optimizer="adam").run(2)
    by_steps = make_trainer(optimizer="adam").step(2 * by_epochs.steps_per_epoch)
    assert_same_history(by_epochs.history, by_steps.history)


def test_same_seed_gives_the_same_divergence_message():
    messages = []
    for _ in range(2):
        trainer = make_trainer(optimizer="momentum")
        trainer.lr = 10.0
        trainer.run(20)
        messages.append(trainer.diverged)
    assert messages[0] is not None and messages[0] == messages[1]
