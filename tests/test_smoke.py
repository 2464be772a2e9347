"""A first end-to-end check of the four stages; the thorough suites live beside it."""
import numpy as np

import backprop_kit as bk


def test_four_stages_reduce_the_loss_on_xor():
    data = bk.datasets.make("xor", n=200, seed=0)
    net = bk.Network([2, 8, 1], activation="tanh", output="sigmoid", seed=0)
    first = bk.loss(bk.forward(net, data.X_train).output, data.y_train, "bce")
    for _ in range(300):
        trace = bk.forward(net, data.X_train)
        grads = bk.gradient(net, trace, data.y_train, "bce")
        net = bk.update(net, grads, lr=1.0)
    last = bk.loss(bk.forward(net, data.X_train).output, data.y_train, "bce")
    assert last < 0.5 * first


def test_gradcheck_of_a_small_tanh_network_is_tight():
    rng = np.random.default_rng(1)
    net = bk.Network([3, 4, 2], activation="tanh", output="softmax", seed=1)
    errors = bk.gradcheck(net, rng.normal(size=(5, 3)), rng.integers(0, 2, 5), "cross_entropy")
    assert len(errors) == 2 and max(errors) < 1e-7
