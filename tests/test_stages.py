"""The four stages as DESIGN.md specifies them: record shapes, purity, and the formulas themselves."""
import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop_kit as bk

HIDDEN = bk.activations.HIDDEN
LOSSES = [("mse", "linear"), ("mse", "tanh"), ("bce", "sigmoid"), ("cross_entropy", "softmax")]


@st.composite
def problems(draw):
    """A random network, a batch and targets: depth 1-4 hidden, widths 1-8, batch 1-16, both dtypes."""
    depth = draw(st.integers(1, 4))
    loss, output = draw(st.sampled_from(LOSSES))
    k = {"mse": draw(st.integers(1, 3)), "bce": 1, "cross_entropy": draw(st.integers(2, 4))}[loss]
    sizes = [draw(st.integers(1, 5))] + draw(st.lists(st.integers(1, 8), min_size=depth,
                                                       max_size=depth)) + [k]
    hidden = draw(st.lists(st.sampled_from(HIDDEN), min_size=depth, max_size=depth))
    net = bk.Network(sizes, activation=hidden, output=output,
                     init=draw(st.sampled_from(["xavier", "he", "normal", "zeros"])),
                     seed=draw(st.integers(0, 1000)), dtype=draw(st.sampled_from(["float64", "float32"])))
    n = draw(st.integers(1, 16))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    X = rng.normal(size=(n, sizes[0]))
    y = {"mse": lambda: rng.normal(size=(n, k)), "bce": lambda: rng.integers(0, 2, n),
         "cross_entropy": lambda: rng.integers(0, k, n)}[loss]()
    return net, X, y, loss


def snapshot(net):
    return [W.copy() for W in net.weights], [b.copy() for b in net.biases]


def assert_unchanged(net, saved):
    weights, biases = saved
    for W, W0 in zip(net.weights, weights):
        np.testing.assert_array_equal(W, W0)
    for b, b0 in zip(net.biases, biases):
        np.testing.assert_array_equal(b, b0)


# --- record shapes ----------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(problems())
def test_trace_and_gradients_have_the_shapes_and_dtype_of_design_md(problem):
    net, X, y, loss = problem
    n, sizes = len(X), net.sizes
    trace = bk.forward(net, X)
    assert isinstance(trace, bk.Trace) and trace._fields == ("inputs", "pre", "post")
    assert trace.inputs.shape == (n, sizes[0])
    assert len(trace.pre) == len(trace.post) == net.n_layers == len(sizes) - 1
    for i in range(net.n_layers):
        assert trace.pre[i].shape == trace.post[i].shape == (n, sizes[i + 1])
    assert trace.output is trace.post[-1] and trace.output.shape == (n, sizes[-1])

    grads = bk.gradient(net, trace, y, loss)
    assert isinstance(grads, bk.Gradients) and grads._fields == ("weights", "biases", "deltas")
    assert len(grads.weights) == len(grads.biases) == len(grads.deltas) == net.n_layers
    for i in range(net.n_layers):
        assert grads.weights[i].shape == net.weights[i].shape == (sizes[i], sizes[i + 1])
        assert grads.biases[i].shape == net.biases[i].shape == (sizes[i + 1],)
        assert grads.deltas[i].shape == (n, sizes[i + 1])

    new_net = bk.update(net, grads, lr=0.1)
    arrays = [trace.inputs, *trace.pre, *trace.post, *grads.weights, *grads.biases, *grads.deltas,
              *new_net.weights, *new_net.biases]
    assert {a.dtype.name for a in arrays} == {net.dtype}, "every stage keeps the network's dtype"
    assert new_net.dtype == net.dtype and new_net.sizes == net.sizes
    assert new_net.activations == net.activations
    assert isinstance(bk.loss(trace.output, y, loss), float)


def test_float64_is_the_default_dtype():
    net = bk.Network([2, 3, 1])
    assert net.dtype == "float64"
    assert all(W.dtype == np.float64 for W in net.weights + net.biases)
    assert bk.forward(net, np.ones((2, 2), dtype=np.float32)).output.dtype == np.float64


@pytest.mark.parametrize("loss,output,k", [("mse", "linear", 2), ("bce", "sigmoid", 1),
                                           ("cross_entropy", "softmax", 3)])
def test_a_float32_network_stays_float32_through_every_stage(loss, output, k):
    net = bk.Network([2, 4, k], activation="tanh", output=output, dtype="float32")
    X = np.random.default_rng(0).normal(size=(6, 2))
    y = {"mse": np.zeros((6, k)), "bce": np.arange(6) % 2, "cross_entropy": np.arange(6) % k}[loss]
    grads = bk.gradient(net, bk.forward(net, X), y, loss)
    assert [g.dtype.name for g in (*grads.weights, *grads.biases, *grads.deltas)] == ["float32"] * 6
    for optimizer in (bk.SGD(0.1), bk.Momentum(0.1), bk.Adam(0.1)):
        stepped = optimizer.step(net, grads)
        assert {a.dtype.name for a in stepped.weights + stepped.biases} == {"float32"}
    updated = bk.update(net, grads, lr=0.1)
    assert {a.dtype.name for a in updated.weights + updated.biases} == {"float32"}


# --- purity -----------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(problems(), st.sampled_from([0.0, 0.1]))
def test_no_stage_changes_its_inputs(problem, l2):
    net, X, y, loss = problem
    X_saved, y_saved, net_saved = X.copy(), y.copy(), snapshot(net)
    sizes, names, dtype = net.sizes, net.activations, net.dtype

    trace = bk.forward(net, X)
    trace_saved = copy.deepcopy(trace)
    bk.loss(trace.output, y, loss, l2=l2, net=net)
    grads = bk.gradient(net, trace, y, loss, l2=l2)
    grads_saved = copy.deepcopy(grads)
    new_net = bk.update(net, grads, lr=0.5)
    bk.clip_gradients(grads, 1e-3)

    np.testing.assert_array_equal(X, X_saved)
    np.testing.assert_array_equal(y, y_saved)
    assert_unchanged(net, net_saved)
    assert (net.sizes, net.activations, net.dtype) == (sizes, names, dtype)
    for field in ("pre", "post"):
        for a, a0 in zip(getattr(trace, field), getattr(trace_saved, field)):
            np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(trace.inputs, trace_saved.inputs)
    for field in grads._fields:
        for g, g0 in zip(getattr(grads, field), getattr(grads_saved, field)):
            np.testing.assert_array_equal(g, g0)

    assert new_net is not net
    for new, old in zip(new_net.weights + new_net.biases, net.weights + net.biases):
        assert not np.shares_memory(new, old), "the new network shares no array with the old"


def test_update_returns_a_new_network_and_leaves_the_old_one_as_it_was():
    net = bk.Network([2, 3, 1], seed=0)
    saved = snapshot(net)
    X, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([1, 0])
    grads = bk.gradient(net, bk.forward(net, X), y, "bce")
    new_net = bk.update(net, grads, lr=0.1)
    assert new_net != net
    assert_unchanged(net, saved)
    for W, dW, W_new in zip(net.weights, grads.weights, new_net.weights):
        np.testing.assert_array_equal(W_new, W - 0.1 * dW)
    for b, db, b_new in zip(net.biases, grads.biases, new_net.biases):
        np.testing.assert_array_equal(b_new, b - 0.1 * db)


# --- forward, by hand -------------------------------------------------------------------------

def by_hand_forward(x, weights, biases, names):
    """One sample through the network with plain Python floats and loops."""
    functions = {"tanh": math.tanh, "relu": lambda z: max(z, 0.0),
                 "sigmoid": lambda z: 1 / (1 + math.exp(-z)), "linear": lambda z: z,
                 "leaky_relu": lambda z: z if z > 0 else 0.01 * z}
    a = list(x)
    for W, b, name in zip(weights, biases, names):
        z = [sum(a[i] * W[i][j] for i in range(len(a))) + b[j] for j in range(len(b))]
        if name == "softmax":
            exps = [math.exp(v) for v in z]
            a = [e / sum(exps) for e in exps]
        else:
            a = [functions[name](v) for v in z]
    return a


@pytest.mark.parametrize("names", [("tanh", "softmax"), ("relu", "sigmoid"), ("leaky_relu", "linear"),
                                   ("sigmoid", "tanh")])
def test_forward_equals_the_formula_computed_by_hand(names):
    weights = [[[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]], [[1.0, -2.0], [0.5, 0.3], [-1.2, 0.8]]]
    biases = [[0.1, -0.2, 0.3], [0.05, -0.05]]
    net = bk.Network.from_parameters([np.array(W) for W in weights], [np.array(b) for b in biases],
                                     list(names))
    X = np.array([[1.0, 2.0], [-0.5, 0.25], [0.0, 0.0]])
    trace = bk.forward(net, X)
    expected = [by_hand_forward(x, weights, biases, names) for x in X.tolist()]
    np.testing.assert_allclose(trace.output, expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(trace.inputs, X)
    np.testing.assert_allclose(trace.pre[0], X @ np.array(weights[0]) + biases[0], rtol=1e-15)
    for z, a, name in zip(trace.pre, trace.post, names):
        np.testing.assert_allclose(a, bk.activations.get(name, output=True).value(z), rtol=1e-15)


def test_backward_pass_follows_the_chain_rule_recurrence():
    """dW_i = a_i^T delta_i, db_i = sum_n delta_i, delta_{i-1} = (delta_i W_i^T) * f'(z_{i-1})."""
    net = bk.Network([3, 4, 5, 2], activation=["tanh", "sigmoid"], output="linear", seed=3)
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    trace = bk.forward(net, X)
    grads = bk.gradient(net, trace, y, "mse")
    np.testing.assert_allclose(grads.deltas[-1], 2 * (trace.output - y) / y.size, rtol=1e-14)
    inputs = [X] + trace.post[:-1]
    derivative = {"tanh": lambda a: 1 - a ** 2, "sigmoid": lambda a: a * (1 - a)}
    for i in range(net.n_layers):
        np.testing.assert_allclose(grads.weights[i], inputs[i].T @ grads.deltas[i], rtol=1e-14)
        np.testing.assert_allclose(grads.biases[i], grads.deltas[i].sum(axis=0), rtol=1e-14)
        if i > 0:
            a = trace.post[i - 1]
            expected = (grads.deltas[i] @ net.weights[i].T) * derivative[net.activations[i - 1]](a)
            np.testing.assert_allclose(grads.deltas[i - 1], expected, rtol=1e-14)


# --- loss, by the PyTorch definitions -------------------------------------------------------------

def clamped_log(p):
    return max(math.log(p), -100.0) if p > 0 else -100.0


def test_mse_is_the_mean_of_squared_errors_over_all_entries_without_a_half():
    output = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    y = np.array([[0.0, 2.5], [3.0, 1.0], [0.0, 0.0]])
    by_hand = (1.0 + 0.25 + 0.0 + 4.0 + 0.25 + 0.0) / 6
    assert bk.loss(output, y, "mse") == pytest.approx(by_hand, rel=1e-15)
    # torch.nn.functional.mse_loss(tensor([1., 2.]), tensor([0., 0.])) == 2.5
    assert bk.loss([[1.0], [2.0]], [[0.0], [0.0]], "mse") == 2.5
    assert bk.loss([[1.0], [2.0]], [0.0, 0.0], "mse") == 2.5, "y of shape (n,) for one output"


def test_bce_is_the_mean_negative_log_likelihood_with_logs_clamped_at_minus_100():
    p = np.array([0.9, 0.2, 0.5, 1e-3, 0.0, 1.0, 1.0, 0.0])
    y = np.array([1, 0, 1, 1, 1, 0, 1, 0])
    by_hand = -sum(t * clamped_log(q) + (1 - t) * clamped_log(1 - q) for q, t in zip(p, y)) / len(p)
    assert bk.loss(p.reshape(-1, 1), y, "bce") == pytest.approx(by_hand, rel=1e-14)
    assert bk.loss(p.reshape(-1, 1), y.reshape(-1, 1), "bce") == pytest.approx(by_hand, rel=1e-14)
    # torch.nn.functional.binary_cross_entropy(tensor([0.9, 0.2]), tensor([1., 0.])) = 0.164252
    assert bk.loss([[0.9], [0.2]], [1, 0], "bce") == pytest.approx(0.1642520, abs=1e-7)
    # certain and right costs 0, certain and wrong costs exactly 100 (not inf, not nan)
    assert bk.loss([[1.0], [0.0]], [1, 0], "bce") == 0.0
    assert bk.loss([[0.0], [1.0]], [1, 0], "bce") == 100.0


def test_cross_entropy_is_the_mean_negative_log_probability_of_the_true_class():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3], [1.0, 0.0, 0.0]])
    y = np.array([0, 1, 2, 1])
    by_hand = -sum(clamped_log(p[i, y[i]]) for i in range(len(y))) / len(y)
    assert bk.loss(p, y, "cross_entropy") == pytest.approx(by_hand, rel=1e-14)
    assert by_hand == pytest.approx((-math.log(0.7) - math.log(0.1) - math.log(0.3) + 100) / 4)
    # torch cross_entropy(logits z, y) is this loss on softmax(z)
    z = np.array([[2.0, 1.0, 0.1]])
    softmax = np.exp(z) / np.exp(z).sum()
    assert bk.loss(softmax, [0], "cross_entropy") == pytest.approx(0.4170300, abs=1e-7)


def test_l2_adds_half_l2_times_the_sum_of_squared_weights_not_biases():
    net = bk.Network.from_parameters([np.array([[1.0, -2.0]]), np.array([[3.0], [0.5]])],
                                     [np.array([10.0, 10.0]), np.array([10.0])], ["tanh", "linear"])
    output, y = np.array([[1.0]]), np.array([[0.0]])
    assert bk.loss(output, y, "mse", l2=0.2, net=net) == pytest.approx(1.0 + 0.1 * (1 + 4 + 9 + 0.25))
    assert bk.loss(output, y, "mse", l2=0.0, net=net) == 1.0
