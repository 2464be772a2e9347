"""How a new Network's weights and biases start: the distributions Network's docstring states."""
import math

import numpy as np
import pytest

import backprop_kit as bk

# A layer with many neurons, so that its biases alone are a large sample: 2 inputs, 6000 neurons.
WIDE = [2, 6000, 1]


def uniform_cdf_gap(values, bound):
    """The largest gap between the sample's CDF and that of U(-bound, bound) (Kolmogorov-Smirnov)."""
    values = np.sort(values)
    n = len(values)
    expected = np.clip((values + bound) / (2 * bound), 0, 1)
    return max(np.max(np.arange(1, n + 1) / n - expected), np.max(expected - np.arange(n) / n))


def normal_cdf_gap(values, std):
    """The same gap against N(0, std^2)."""
    values = np.sort(values)
    n = len(values)
    expected = 0.5 * (1 + np.vectorize(math.erf)(values / (std * math.sqrt(2))))
    return max(np.max(np.arange(1, n + 1) / n - expected), np.max(expected - np.arange(n) / n))


# With 6000 values, a sample of the right distribution lies within 1.63 / sqrt(6000) = 0.021 of
# its CDF in 99% of draws; the seed is fixed, so these tests give the same answer every run.
GAP = 0.025


def test_xavier_draws_weights_and_biases_uniform_within_sqrt_6_over_fan_in_plus_fan_out():
    net = bk.Network(WIDE, init="xavier", seed=0)
    bound = math.sqrt(6 / (2 + 6000))
    for values in (net.biases[0], net.weights[0].ravel()):
        assert np.max(np.abs(values)) <= bound
        assert np.max(np.abs(values)) > 0.99 * bound          # a bound too large leaves this gap empty
        assert uniform_cdf_gap(values, bound) < GAP
        assert np.std(values) == pytest.approx(math.sqrt(2 / (2 + 6000)), rel=0.03)
    # the output layer: fan_in 6000, fan_out 1, one bias
    assert abs(net.biases[1][0]) <= math.sqrt(6 / 6001)


def test_a_wrong_bound_fails_the_uniform_check():
    """The check above is sharp enough: the biases are not uniform within a bound 10% off, nor normal."""
    biases = bk.Network(WIDE, init="xavier", seed=0).biases[0]
    bound = math.sqrt(6 / 6002)
    assert uniform_cdf_gap(biases, 1.1 * bound) > GAP
    assert uniform_cdf_gap(biases, bound / 1.1) > GAP
    assert normal_cdf_gap(biases, math.sqrt(2 / 6002)) > GAP


def test_he_draws_weights_and_biases_normal_with_std_sqrt_2_over_fan_in():
    net = bk.Network(WIDE, init="he", activation="relu", seed=0)
    std = math.sqrt(2 / 2)        # the first layer's fan_in is 2
    assert normal_cdf_gap(net.biases[0], std) < GAP
    assert np.std(net.biases[0]) == pytest.approx(std, rel=0.03)
    assert normal_cdf_gap(net.weights[0].ravel(), std) < GAP
    assert normal_cdf_gap(net.biases[0], 1.2 * std) > GAP          # sharp enough to see a 20% error
    assert normal_cdf_gap(net.biases[0], std / 1.2) > GAP


@pytest.mark.parametrize("scale", [0.01, 0.5, 2.0])
def test_normal_draws_weights_and_biases_normal_with_std_scale(scale):
    net = bk.Network(WIDE, init="normal", scale=scale, seed=0)
    assert normal_cdf_gap(net.biases[0], scale) < GAP
    assert normal_cdf_gap(net.weights[0].ravel(), scale) < GAP
    assert normal_cdf_gap(net.biases[0], 1.2 * scale) > GAP


def test_init_zeros_starts_weights_and_biases_at_zero():
    net = bk.Network([2, 8, 8, 1], init="zeros", seed=0)
    assert all(not W.any() for W in net.weights) and all(not b.any() for b in net.biases)


@pytest.mark.parametrize("init", ["xavier", "he", "normal", "zeros"])
def test_bias_zeros_starts_biases_at_zero_with_the_same_weights_as_the_default(init):
    default = bk.Network([2, 16, 16, 3], init=init, seed=4)
    zeros = bk.Network([2, 16, 16, 3], init=init, seed=4, bias="zeros")
    assert all(b.shape == (n,) and not b.any() for b, n in zip(zeros.biases, (16, 16, 3)))
    assert all(np.array_equal(a, b) for a, b in zip(default.weights, zeros.weights))
    if init != "zeros":
        assert all(np.all(b != 0) for b in default.biases)


@pytest.mark.parametrize("bias", ["like_weights", "zeros"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_same_seed_draws_the_same_network_and_another_seed_another(bias, dtype):
    def make(seed):
        return bk.Network([2, 16, 16, 1], seed=seed, bias=bias, dtype=dtype)
    assert make(3) == make(3)
    assert make(3) != make(4)
    assert all(b.dtype == np.dtype(dtype) for b in make(3).biases)


@pytest.mark.parametrize("value, error, message", [
    ("zero", ValueError, r"bias must be one of 'like_weights', 'zeros'; got 'zero' \(did you mean 'zeros'\?\)"),
    ("random", ValueError, r"bias must be one of 'like_weights', 'zeros'; got 'random'"),
    (0, TypeError, r"bias must be a name, one of 'like_weights', 'zeros'; got 0 of type int"),
    (None, TypeError, r"bias must be a name, one of 'like_weights', 'zeros'; got None"),
])
def test_a_bad_bias_gets_an_error_naming_the_argument(value, error, message):
    with pytest.raises(error, match=message):
        bk.Network([2, 3, 1], bias=value)
