"""The live views' data (issue 6): the canvas's PNGs decode to the pixels, envelopes grow as a
fresh one would, and steady axis limits hold their lines while changing rarely. (What the page
paints of a live view is held to a full draw in tests/test_layered.py.)"""
import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import backprop_kit as bk  # noqa: E402
from backprop_kit import plots  # noqa: E402
from backprop_kit.widgets import canvas  # noqa: E402


def trainer_for(name, hidden=(8, 8), **options):
    data = bk.datasets.make(name, n=300, seed=0)
    net = bk.Network([data.n_inputs, *hidden, data.n_outputs], activation="tanh", output=data.output, seed=0)
    return bk.Trainer(net, data, lr=0.1, batch_size=8, seed=0, **options)


def test_png_bytes_decode_to_the_same_pixels():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(canvas.png_bytes(rgba))).convert("RGBA"))
    np.testing.assert_array_equal(decoded, rgba)


@pytest.mark.parametrize("span", [0, 5000])
def test_an_envelope_grown_step_by_step_equals_a_fresh_one(span):
    rng = np.random.default_rng(1)
    values = rng.lognormal(size=4000)
    values[rng.integers(0, 4000, 50)] = np.nan
    x = np.arange(1.0, 4001.0)
    growing = plots._Envelope()
    for n in (900, 1001, 1002, 1500, 2222, 3001, 3999, 4000):
        grown = growing(x[:n], values[:n], span)
        fresh = plots._Envelope()(x[:n], values[:n], span)
        for a, b in zip(grown, fresh):
            np.testing.assert_array_equal(a, b)
        if n > 2 * plots.ENVELOPE_POINTS:
            assert len(grown[0]) <= 2 * (plots.ENVELOPE_POINTS + 2)
            assert np.nanmax(grown[1]) == np.nanmax(values[:n]) and np.nanmin(grown[1]) == np.nanmin(values[:n])


@pytest.mark.parametrize("log", [False, True])
def test_steady_limits_hold_the_lines_and_change_rarely(log):
    trainer = trainer_for("moons")
    view = plots.LossView(plots.new_figure((5, 3), pyplot=False).add_subplot(), log=log, limits="steady")
    changes, last = 0, None
    for _ in range(100):
        trainer.step(25)
        view.update(trainer.history, draw=False)
        limits = (view.ax.get_xlim(), view.ax.get_ylim())
        changes += limits != last
        last = limits
        low, high = view.ax.get_ylim()
        smoothed = view.smoothed[np.isfinite(view.smoothed)]
        assert low <= smoothed.min() and smoothed.max() <= high, (limits, smoothed.min(), smoothed.max())
        assert view.ax.get_xlim()[1] >= trainer.steps
    assert changes <= 25, changes            # a tight view changes its limits on every update


@pytest.mark.parametrize("log", [False, True])
def test_steady_limits_that_just_changed_hold_the_same_values(log):
    # a change must leave room for the values it was made for, or every frame redraws the plot
    ax = plots.new_figure((5, 3), pyplot=False).add_subplot()
    if log:
        ax.set_yscale("log")
    rng = np.random.default_rng(0)
    for _ in range(200):
        low = 10.0 ** rng.uniform(-6, 1) if log else rng.uniform(0, 5)
        high = low * 10.0 ** rng.uniform(0, 4) if log else low + rng.uniform(0, 10)
        ax.set_ylim(1e-9, 1e-8) if log else ax.set_ylim(-100.0, -99.0)      # far from the values: a change
        plots._set_limits(ax, low, high, 100, log=log, steady=True)
        changed = ax.get_ylim()
        assert changed[0] <= low and high <= changed[1]
        # values that moved a little since (2% of their span, either way): the limits hold
        for shift in (-0.02, 0.02):
            if log:
                factor = (high / low) ** shift
                moved = (low * factor, high * factor)
            else:
                moved = (low + shift * (high - low), high + shift * (high - low))
            plots._set_limits(ax, *moved, 100, log=log, steady=True)
            assert ax.get_ylim() == changed, (low, high, moved)


@pytest.mark.parametrize("steady", [False, True])
def test_log_limits_of_values_hundreds_of_decades_apart_are_set_without_a_warning(steady):
    # a run that blew up: a loss of 1e-250 before, 1e+200 after; 10 ** -400 is 0.0, which a log
    # axis ignores with a UserWarning in the learner's notebook (and keeps its old limits)
    import warnings
    ax = plots.new_figure((5, 3), pyplot=False).add_subplot()
    ax.set_yscale("log")
    ax.set_ylim(1e-9, 1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots._set_limits(ax, 1e-250, 1e200, 100, log=True, steady=steady)
    bottom, top = ax.get_ylim()
    assert 0 < bottom <= 1e-200 and 1e200 <= top < math.inf


def test_limits_must_be_tight_or_steady():
    with pytest.raises(ValueError, match="limits must be one of"):
        plots.LossView(limits="loose")
    with pytest.raises(ValueError, match="limits must be one of"):
        plots.GradientNormView(limits=3)
