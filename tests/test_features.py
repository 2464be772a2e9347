"""bk.datasets.features: TensorFlow Playground's input features, as columns of an array."""
import math

import numpy as np
import pytest

import backprop_kit as bk

POINTS = np.array([[0.5, -2.0], [0.0, 1.0], [-1.5, 0.25]])


def test_each_feature_is_its_formula_computed_by_hand():
    by_hand = {
        "x1": [0.5, 0.0, -1.5], "x2": [-2.0, 1.0, 0.25],
        "x1^2": [0.25, 0.0, 2.25], "x2^2": [4.0, 1.0, 0.0625],
        "x1*x2": [-1.0, 0.0, -0.375],
        "sin(x1)": [math.sin(0.5), 0.0, math.sin(-1.5)], "sin(x2)": [math.sin(-2.0), math.sin(1.0), math.sin(0.25)],
    }
    assert set(by_hand) == set(bk.datasets.FEATURES)
    for name, column in by_hand.items():
        np.testing.assert_allclose(bk.datasets.features(POINTS, [name])[:, 0], column, rtol=1e-15)


def test_columns_come_in_the_order_asked_for():
    got = bk.datasets.features(POINTS, ["x2^2", "x1", "sin(x2)"])
    assert got.shape == (3, 3)
    np.testing.assert_array_equal(got[:, 0], POINTS[:, 1] ** 2)
    np.testing.assert_array_equal(got[:, 1], POINTS[:, 0])
    np.testing.assert_array_equal(got[:, 2], np.sin(POINTS[:, 1]))


def test_squares_let_a_network_without_hidden_layers_separate_the_circles():
    data = bk.datasets.make("circles", n=300, noise=0.05, seed=0)
    squared = bk.datasets.from_arrays(bk.datasets.features(np.vstack([data.X_train, data.X_test]), ["x1^2", "x2^2"]),
                                      np.concatenate([data.y_train, data.y_test]), seed=0)
    trainer = bk.Trainer(bk.Network([2, 1], output="sigmoid", seed=0), squared, lr=1.0, batch_size=16).run(60)
    assert trainer.history.test_accuracy[-1] > 0.95
    plain = bk.Trainer(bk.Network([2, 1], output="sigmoid", seed=0), data, lr=1.0, batch_size=16).run(60)
    assert plain.history.test_accuracy[-1] < 0.75       # a line cannot


@pytest.mark.parametrize("X,names,error,pattern", [
    (np.ones((3, 3)), ["x1"], ValueError, r"X must have 2 columns.*\(3, 3\)"),
    (POINTS, [], TypeError, r"names must be a non-empty list of feature names.*got \[\]"),
    (POINTS, "x1", TypeError, r"names must be a non-empty list.*got 'x1'"),
    (POINTS, ["x1", "x3"], ValueError, r"names\[1\] must be one of 'x1', 'x2', .*got 'x3'"),
    (POINTS, ["x1", "sin(x1)", "x1"], ValueError, r"names must list each feature once; got \['x1'\]"),
])
def test_bad_arguments_are_named(X, names, error, pattern):
    with pytest.raises(error, match=pattern):
        bk.datasets.features(X, names)
