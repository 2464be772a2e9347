"""Backpropagation is right: it agrees with finite differences and with an independent autodiff.

Three witnesses for ``bk.gradient``:

1. ``bk.gradcheck`` (central differences) on every hidden activation x (loss, output) x init,
   relative error < 1e-6 per layer in float64;
2. the ``autograd`` package, differentiating a forward pass and loss written again below in
   ``autograd.numpy`` (only here, as a test oracle), on random networks drawn by hypothesis;
3. hand-computed deltas for saturated outputs, where only the fused delta (p - y) / n survives.
"""
import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backprop_kit as bk

HIDDEN = bk.activations.HIDDEN
# (loss, output activation, output width)
OUTPUTS = [("mse", "linear", 2), ("mse", "sigmoid", 2), ("mse", "tanh", 2),
           ("bce", "sigmoid", 1), ("cross_entropy", "softmax", 3)]
INITS = ["xavier", "he", "normal", "zeros"]

# A nudge of eps = 1e-6 (gradcheck's default) to one weight moves any pre-activation by at most
# about eps * max|a| ~ 1e-5 here; keeping every hidden |z| >= KINK_MARGIN means no central
# difference straddles the kink of relu / leaky_relu at z = 0, where the derivative jumps.
KINK_MARGIN = 1e-3


def make_targets(loss, n, k, rng):
    if loss == "mse":
        return rng.normal(size=(n, k))
    if loss == "bce":
        return np.arange(n) % 2            # both classes present
    return np.arange(n) % k                # every class present


def smallest_hidden_z(net, X):
    trace = bk.forward(net, X)
    return min(float(np.min(np.abs(z))) for z in trace.pre[:-1])


def network_and_batch(hidden, loss, output, k, init, n=8):
    """A [3, 5, 4, k] network and a batch X whose hidden pre-activations all keep |z| >= KINK_MARGIN.

    X is drawn from seeds 0, 1, 2, ... until that holds (seed 0 or 1 nearly always does).
    For init 'zeros' every weight is 0, so every hidden z equals its bias: the biases are set to
    +-0.1 .. 0.5 (a tiny perturbation, still symmetric in the weights), away from the kink.
    """
    # 'normal' with std 1: at the default std 0.1 two sigmoid layers shrink the first layer's
    # gradient to ~1e-5, where rounding in the central differences alone gives relative errors ~3e-7.
    net = bk.Network([3, 5, 4, k], activation=hidden, output=output, init=init, scale=1.0, seed=0)
    if init == "zeros":
        rng = np.random.default_rng(123)
        biases = [rng.choice([-1.0, 1.0], size=b.shape) * rng.uniform(0.1, 0.5, size=b.shape)
                  for b in net.biases]
        net = bk.Network.from_parameters(net.weights, biases, net.activations)
    for seed in range(200):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(n, 3))
        if smallest_hidden_z(net, X) >= KINK_MARGIN:
            return net, X, make_targets(loss, n, k, rng)
    raise AssertionError("no batch keeps the hidden pre-activations away from 0")


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("loss,output,k", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_matches_finite_differences(hidden, loss, output, k, init):
    net, X, y = network_and_batch(hidden, loss, output, k, init)
    errors = bk.gradcheck(net, X, y, loss)
    assert len(errors) == net.n_layers
    assert max(errors) < 1e-6, errors


@pytest.mark.parametrize("loss,output,k", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_with_l2_matches_finite_differences(hidden, loss, output, k):
    net, X, y = network_and_batch(hidden, loss, output, k, "xavier")
    errors = bk.gradcheck(net, X, y, loss, l2=0.3)
    assert max(errors) < 1e-6, errors


def test_l2_adds_l2_times_w_to_the_weight_gradients_and_nothing_to_the_biases():
    net, X, y = network_and_batch("tanh", "bce", "sigmoid", 1, "xavier")
    trace = bk.forward(net, X)
    plain = bk.gradient(net, trace, y, "bce")
    penalised = bk.gradient(net, trace, y, "bce", l2=0.3)
    for W, g, g_l2 in zip(net.weights, plain.weights, penalised.weights):
        np.testing.assert_allclose(g_l2, g + 0.3 * W, rtol=1e-14, atol=1e-15)
    for g, g_l2 in zip(plain.biases, penalised.biases):
        np.testing.assert_array_equal(g_l2, g)
    for d, d_l2 in zip(plain.deltas, penalised.deltas):
        np.testing.assert_array_equal(d_l2, d)


def test_zeros_init_keeps_every_neuron_of_a_hidden_layer_identical():
    """The symmetry problem: with all weights 0, the neurons of a hidden layer stay clones."""
    net = bk.Network([3, 4, 4, 1], activation="sigmoid", init="zeros", seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    y = np.array([1, 1, 1, 1, 0, 0])     # unbalanced, so the constant hidden outputs matter
    for _ in range(5):
        grads = bk.gradient(net, bk.forward(net, X), y, "bce")
        net = bk.update(net, grads, lr=1.0)
    for W in net.weights[:-1]:
        assert np.all(W == W[:, :1]), "every column (neuron) of a zero-initialised layer is the same"
    assert np.all(net.weights[-1] == net.weights[-1][0]) and np.any(net.weights[-1] != 0)
    assert np.any(net.weights[1] != 0), "the neurons did learn, all in the same way"


# --- an independent oracle: the same network written again in autograd.numpy ----------------

ORACLE_ACTIVATIONS = {
    "relu": lambda z: anp.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: anp.where(z > 0, z, 0.01 * z),
    "elu": lambda z: anp.where(z > 0, z, anp.exp(anp.where(z > 0, 0.0, z)) - 1.0),   # exp only where z <= 0
    "sigmoid": lambda z: 1.0 / (1.0 + anp.exp(-z)),
    "tanh": anp.tanh,
    "linear": lambda z: z,
}


def oracle_logsumexp(z):
    top = anp.max(z, axis=1, keepdims=True)
    return top[:, 0] + anp.log(anp.sum(anp.exp(z - top), axis=1))


def oracle_loss(parameters, X, y, activation_names, loss, l2):
    """Forward pass and mean loss, from logits where the loss has a logit form."""
    layers, offsets = parameters   # offsets: zeros added to every z, so d loss / d offset = delta
    a = X
    for (W, b), offset, name in zip(layers, offsets, activation_names):
        z = anp.dot(a, W) + b + offset
        a = None if name == "softmax" else ORACLE_ACTIVATIONS[name](z)
    if loss == "mse":
        value = anp.mean((a - y) ** 2)
    elif loss == "bce":              # -[y log s(z) + (1-y) log(1 - s(z))] = softplus(z) - y z
        value = anp.mean(anp.logaddexp(0.0, z[:, 0]) - y * z[:, 0])
    else:                            # -log softmax(z)[y] = logsumexp(z) - z[y]
        value = anp.mean(oracle_logsumexp(z) - z[np.arange(len(y)), y])
    return value + 0.5 * l2 * sum(anp.sum(W * W) for W, _ in layers)


@st.composite
def random_problems(draw):
    depth = draw(st.integers(1, 4))
    widths = draw(st.lists(st.integers(1, 8), min_size=depth, max_size=depth))
    hidden = draw(st.lists(st.sampled_from(HIDDEN), min_size=depth, max_size=depth))
    loss, output, _ = draw(st.sampled_from(OUTPUTS))
    k = {"mse": draw(st.integers(1, 4)), "bce": 1, "cross_entropy": draw(st.integers(2, 5))}[loss]
    return dict(sizes=[draw(st.integers(1, 5))] + widths + [k], hidden=hidden, loss=loss, output=output,
                init=draw(st.sampled_from(["xavier", "he", "normal"])), n=draw(st.integers(1, 16)),
                seed=draw(st.integers(0, 2**32 - 1)), l2=draw(st.sampled_from([0.0, 0.01, 0.5])))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_problems())
def test_backprop_agrees_with_autograd_on_random_networks(problem):
    sizes, loss, n = problem["sizes"], problem["loss"], problem["n"]
    net = bk.Network(sizes, activation=problem["hidden"], output=problem["output"],
                     init=problem["init"], scale=0.5, seed=problem["seed"] % 1000)
    rng = np.random.default_rng(problem["seed"])
    X = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    y = {"mse": lambda: rng.normal(size=(n, k)), "bce": lambda: rng.integers(0, 2, n),
         "cross_entropy": lambda: rng.integers(0, k, n)}[loss]()

    trace = bk.forward(net, X)
    grads = bk.gradient(net, trace, y, loss, l2=problem["l2"])

    layers = [(W, b) for W, b in zip(net.weights, net.biases)]
    offsets = [np.zeros_like(z) for z in trace.pre]
    y_oracle = y.astype(float) if loss == "bce" else y
    oracle = autograd.grad(oracle_loss)((layers, offsets), X, y_oracle, net.activations, loss,
                                        problem["l2"])
    oracle_layers, oracle_deltas = oracle

    def close(ours, theirs):
        scale = max(1.0, float(np.max(np.abs(theirs))))
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12 * scale)

    for i, ((dW, db), delta) in enumerate(zip(oracle_layers, oracle_deltas)):
        close(grads.weights[i], dW)
        close(grads.biases[i], db)
        close(grads.deltas[i], delta)
    # the loss value: PyTorch's definitions on the network's own output (probabilities for bce and
    # cross-entropy; the logit form above would differ by rounding once p nears 0 or 1)
    p = trace.output
    with np.errstate(divide="ignore"):
        log = lambda q: np.maximum(np.log(q), -100.0)                     # noqa: E731
        value = {"mse": lambda: np.mean((p - y) ** 2),
                 "bce": lambda: -np.mean(y * log(p[:, 0]) + (1 - y) * log(1 - p[:, 0])),
                 "cross_entropy": lambda: -np.mean(log(p[np.arange(n), y]))}[loss]()
    value += 0.5 * problem["l2"] * sum(np.sum(W * W) for W in net.weights)
    assert bk.loss(p, y, loss, l2=problem["l2"], net=net) == pytest.approx(value, rel=1e-12, abs=1e-15)


# --- the fused output delta survives saturation ---------------------------------------------

def test_saturated_sigmoid_output_with_wrong_labels_still_passes_back_p_minus_y_over_n():
    # z = +-50: the sigmoid is 1 - 2e-22 and 2e-22 (1.0 and 0.0 after rounding), and each label is
    # the wrong one, so dL/dp (p - y) / (p (1 - p)) is 1/0 while dL/dz = (p - y) / n is +-0.5.
    net = bk.Network.from_parameters([np.array([[1.0, -1.0], [0.5, 0.5]]), np.array([[50.0], [0.0]])],
                                     [np.zeros(2), np.zeros(1)], ["linear", "sigmoid"])
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])      # hidden a = [1, -1] and [-1, 1]; z_out = +50, -50
    y = np.array([0, 1])
    trace = bk.forward(net, X)
    assert trace.pre[-1][:, 0].tolist() == [50.0, -50.0]
    p = trace.output
    assert p[0, 0] == 1.0 and p[1, 0] < 1e-21      # saturated: p (1 - p) is 0 or below 1e-21

    grads = bk.gradient(net, trace, y, "bce")
    expected = (p - y.reshape(-1, 1)) / 2
    np.testing.assert_array_equal(grads.deltas[-1], expected)
    np.testing.assert_allclose(grads.deltas[-1], [[0.5], [-0.5]], atol=1e-21)
    for g in (*grads.weights, *grads.biases, *grads.deltas):
        assert np.all(np.isfinite(g))
    assert np.all(grads.weights[-1] != 0)
    assert np.any(grads.weights[0] != 0), "the hidden layer still receives a gradient"
    np.testing.assert_allclose(grads.weights[-1], trace.post[0].T @ expected, rtol=1e-15)
    # a saturated wrong answer costs at most 100 per sample (the log is clamped at -100, as in
    # PyTorch), never inf
    by_hand = -(max(math.log(1 - p[0, 0]) if p[0, 0] < 1 else -math.inf, -100.0)
                + max(math.log(p[1, 0]) if p[1, 0] > 0 else -math.inf, -100.0)) / 2
    value = bk.loss(p, y, "bce")
    assert value == pytest.approx(by_hand, rel=1e-12)
    assert 50.0 <= value <= 100.0


def test_saturated_softmax_output_with_wrong_labels_still_passes_back_p_minus_onehot_over_n():
    net = bk.Network.from_parameters([np.array([[50.0, -50.0, 0.0]])], [np.zeros(3)], ["softmax"])
    X = np.array([[1.0], [-1.0], [1.0]])          # z rows: [50, -50, 0], [-50, 50, 0], [50, -50, 0]
    y = np.array([1, 0, 2])                       # never the winning class
    trace = bk.forward(net, X)
    p = trace.output
    assert p[0, 1] < 1e-40 and p[1, 0] < 1e-40

    grads = bk.gradient(net, trace, y, "cross_entropy")
    onehot = np.eye(3)[y]
    np.testing.assert_array_equal(grads.deltas[-1], (p - onehot) / 3)
    for g in (*grads.weights, *grads.biases):
        assert np.all(np.isfinite(g))
    assert np.all(np.abs(grads.deltas[-1][np.arange(3), y]) > 0.33)
    np.testing.assert_allclose(grads.weights[0], X.T @ ((p - onehot) / 3), rtol=1e-15)


# --- each activation on its own: its value and its derivative --------------------------------

Z = np.concatenate([np.linspace(-6, -0.01, 40), np.linspace(0.01, 6, 40)])     # away from any kink at 0


@pytest.mark.parametrize("name", HIDDEN)
def test_every_activation_has_an_oracle_and_the_same_value(name):
    assert set(ORACLE_ACTIVATIONS) == set(HIDDEN), "a new activation needs its line in ORACLE_ACTIVATIONS"
    np.testing.assert_allclose(bk.activations.get(name).value(Z), ORACLE_ACTIVATIONS[name](Z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", HIDDEN)
def test_every_activations_derivative_matches_finite_differences_and_autograd(name):
    act, eps = bk.activations.get(name), 1e-6
    derivative = act.derivative(Z, act.value(Z))
    central = (act.value(Z + eps) - act.value(Z - eps)) / (2 * eps)
    np.testing.assert_allclose(derivative, central, rtol=1e-6, atol=1e-9)
    by_autograd = autograd.elementwise_grad(ORACLE_ACTIVATIONS[name])(Z)
    np.testing.assert_allclose(derivative, by_autograd, rtol=1e-12, atol=1e-15)
