"""Optimizers and gradient clipping, step by step against the formulas computed by hand."""
import copy
import math

import numpy as np
import pytest

import backprop_kit as bk


def tiny_net():
    """A [2, 1] network: W = [[1], [-2]], b = [0.5]."""
    return bk.Network.from_parameters([np.array([[1.0], [-2.0]])], [np.array([0.5])], ["linear"])


def grads_of(dW, db):
    return bk.Gradients([np.array(dW, dtype=float)], [np.array(db, dtype=float)], [])


# three steps' worth of gradients for the tiny network
STEPS = [([[0.4], [-1.0]], [2.0]), ([[0.1], [0.5]], [-1.0]), ([[-0.3], [0.2]], [0.25])]


def parameters(net):
    return [*net.weights[0].ravel(), *net.biases[0]]


def run(optimizer, net=None):
    net = net or tiny_net()
    seen = []
    for dW, db in STEPS:
        net = optimizer.step(net, grads_of(dW, db))
        seen.append(parameters(net))
    return seen


def flat(dW, db):
    return [dW[0][0], dW[1][0], db[0]]


def test_sgd_subtracts_lr_times_the_gradient():
    theta = [1.0, -2.0, 0.5]
    expected = []
    for dW, db in STEPS:
        theta = [t - 0.1 * g for t, g in zip(theta, flat(dW, db))]
        expected.append(theta)
    np.testing.assert_allclose(run(bk.SGD(0.1)), expected, rtol=1e-15)


def test_momentum_accumulates_a_velocity():
    theta, velocity = [1.0, -2.0, 0.5], [0.0, 0.0, 0.0]
    expected = []
    for dW, db in STEPS:
        velocity = [0.9 * v + g for v, g in zip(velocity, flat(dW, db))]      # v <- beta v + g
        theta = [t - 0.1 * v for t, v in zip(theta, velocity)]                # W <- W - lr v
        expected.append(theta)
    np.testing.assert_allclose(run(bk.Momentum(0.1, beta=0.9)), expected, rtol=1e-15)
    # step 2 by hand for the first weight: v = 0.9 * 0.4 + 0.1 = 0.46, W = 0.96 - 0.046
    assert expected[1][0] == pytest.approx(1.0 - 0.04 - 0.046)


def test_adam_uses_bias_corrected_moment_estimates():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    theta, m, s = [1.0, -2.0, 0.5], [0.0] * 3, [0.0] * 3
    expected = []
    for t, (dW, db) in enumerate(STEPS, start=1):
        g = flat(dW, db)
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        s = [b2 * si + (1 - b2) * gi * gi for si, gi in zip(s, g)]
        theta = [th - lr * (mi / (1 - b1 ** t)) / (math.sqrt(si / (1 - b2 ** t)) + eps)
                 for th, mi, si in zip(theta, m, s)]
        expected.append(theta)
    np.testing.assert_allclose(run(bk.Adam(lr)), expected, rtol=1e-13)
    # Adam's first step moves every parameter by about lr, whatever the gradient's size
    np.testing.assert_allclose(np.abs(np.subtract(expected[0], [1.0, -2.0, 0.5])), lr, rtol=1e-6)


def test_changing_the_learning_rate_between_steps_applies_from_the_next_step():
    optimizer = bk.Momentum(0.1, beta=0.5)
    net = optimizer.step(tiny_net(), grads_of(*STEPS[0]))
    optimizer.lr = 1.0
    after = optimizer.step(net, grads_of(*STEPS[1]))
    velocity = [0.5 * a + b for a, b in zip(flat(*STEPS[0]), flat(*STEPS[1]))]
    assert parameters(after) == pytest.approx([p - 1.0 * v for p, v in zip(parameters(net), velocity)])


def test_reset_forgets_the_optimizer_state():
    optimizer = bk.Adam(0.01)
    run(optimizer)
    optimizer.reset()
    assert optimizer.t == 0
    fresh = bk.Adam(0.01)
    assert run(optimizer) == run(fresh)


@pytest.mark.parametrize("optimizer", [bk.SGD(0.1), bk.Momentum(0.1), bk.Adam(0.1)],
                         ids=["sgd", "momentum", "adam"])
def test_optimizers_never_change_the_network_or_the_gradients_they_are_given(optimizer):
    net = bk.Network([3, 4, 2], activation="relu", output="softmax", seed=0)
    saved = copy.deepcopy((net.weights, net.biases))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    grads = bk.gradient(net, bk.forward(net, X), y, "cross_entropy")
    grads_saved = copy.deepcopy(grads)
    current = net
    for _ in range(3):
        stepped = optimizer.step(current, grads)
        assert stepped is not current
        current = stepped
    for a, b in zip(net.weights + net.biases, saved[0] + saved[1]):
        np.testing.assert_array_equal(a, b)
    for field in grads._fields:
        for g, g0 in zip(getattr(grads, field), getattr(grads_saved, field)):
            np.testing.assert_array_equal(g, g0)
    assert current != net


# --- gradient clipping ----------------------------------------------------------------------------

def big_grads():
    # norm over all weights and biases: sqrt(9 + 16 + 0 + 144) = 13 (weights alone: 5)
    return bk.Gradients([np.array([[3.0, 0.0]]), np.array([[4.0], [0.0]])],
                        [np.array([0.0, 0.0]), np.array([12.0])], [np.ones((1, 2)), np.ones((1, 1))])


def test_clip_gradients_returns_the_clipped_gradients_and_the_global_norm_before():
    grads = big_grads()
    clipped, norm_before = bk.clip_gradients(grads, 6.5)
    assert norm_before == 13.0
    assert bk.global_norm(clipped) == pytest.approx(6.5, rel=1e-15)
    # the direction is kept: every gradient is scaled by the same factor 6.5 / 13
    for g, c in zip(grads.weights + grads.biases, clipped.weights + clipped.biases):
        np.testing.assert_allclose(c, 0.5 * g, rtol=1e-15)
    for g, original in zip(grads.weights + grads.biases, big_grads().weights + big_grads().biases):
        np.testing.assert_array_equal(g, original)     # the gradients passed in are left as they were


def test_clip_gradients_counts_the_biases_in_the_global_norm():
    # the weights alone have norm 5 < 6, but with the biases the norm is 13 > 6: clipping applies
    clipped, norm_before = bk.clip_gradients(big_grads(), 6.0)
    assert norm_before == 13.0
    assert bk.global_norm(clipped) == pytest.approx(6.0)
    assert clipped.biases[1][0] == pytest.approx(12.0 * 6 / 13)


@pytest.mark.parametrize("max_norm", [13.0, 13.5, 1e6])
def test_clip_gradients_leaves_gradients_at_or_below_max_norm_as_they_are(max_norm):
    grads = big_grads()
    clipped, norm_before = bk.clip_gradients(grads, max_norm)
    assert norm_before == 13.0
    for g, c in zip(grads.weights + grads.biases, clipped.weights + clipped.biases):
        np.testing.assert_array_equal(c, g)


def test_global_norm_is_the_l2_norm_of_every_weight_and_bias_gradient_together():
    net = bk.Network([3, 5, 2], activation="tanh", output="softmax", seed=1)
    X = np.random.default_rng(1).normal(size=(4, 3))
    grads = bk.gradient(net, bk.forward(net, X), [0, 1, 1, 0], "cross_entropy")
    everything = np.concatenate([g.ravel() for g in grads.weights + grads.biases])
    assert bk.global_norm(grads) == pytest.approx(np.linalg.norm(everything), rel=1e-14)
