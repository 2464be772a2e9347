"""The live view (issue 6): blitting draws the same picture as a full draw, a LiveCanvas's diff
pictures rebuild the picture on any keyframe, its PNGs decode to the pixels, envelopes grow
as a fresh one would, and steady axis limits hold their lines while changing rarely."""
import base64
import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

import backprop_kit as bk  # noqa: E402
from backprop_kit import plots  # noqa: E402
from backprop_kit.widgets import _base  # noqa: E402

# A blitted picture may differ from a full draw only on the one-pixel edge of an opaque legend
# (blended with what lies beneath it in a full draw) and where a long line drawn through a strip
# is simplified a little differently: a few pixels, never a region.
MAX_PIXELS_OFF = 200            # pixels differing by more than OFF_LEVELS (of 160,000)
OFF_LEVELS = 8


def agg_figure(size=(5.0, 3.2)):
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def trainer_for(name, hidden=(8, 8), **options):
    data = bk.datasets.make(name, n=300, seed=0)
    net = bk.Network([data.n_inputs, *hidden, data.n_outputs], activation="tanh", output=data.output, seed=0)
    return bk.Trainer(net, data, lr=0.1, batch_size=8, seed=0, **options)


def views_for(kind, trainer):
    if kind == "loss":
        return lambda fig: plots.LossView(fig.add_subplot(), limits="steady")
    if kind == "loss-log":
        return lambda fig: plots.LossView(fig.add_subplot(), log=True, limits="steady")
    if kind == "gradients-clip":
        return lambda fig: plots.GradientNormView(fig.add_subplot(), layers=3, clip=1.0, limits="steady")
    return lambda fig: plots.BoundaryView(fig.add_subplot(), trainer.data, resolution=40)


CASES = [("loss", "xor"), ("loss-log", "moons"), ("gradients-clip", "circles"),
         ("boundary", "xor"), ("boundary", "spiral"), ("boundary", "sine")]


@pytest.mark.parametrize("kind, dataset", CASES, ids=[f"{k}-{d}" for k, d in CASES])
def test_blitted_frames_match_a_full_draw(kind, dataset):
    trainer = trainer_for(dataset, clip=1.0 if "clip" in kind else None)
    fig = agg_figure((4.0, 4.0) if kind == "boundary" else (5.0, 3.2))
    view = views_for(kind, trainer)(fig)
    blitter = plots.Blitter(fig, [view])
    fig.canvas.draw()
    fig.set_layout_engine("none")          # as the panels do once laid out: no sub-pixel moves between draws
    steps = 40
    for round_ in range(8):
        for _ in range(4):
            trainer.step(steps)
            view.update(trainer.net if kind == "boundary" else trainer.history, draw=False)
            blitter.draw()
        steps = int(steps * 1.6)
        blitted = np.asarray(fig.canvas.buffer_rgba()).astype(int)
        blitter.release()                  # the reference: Matplotlib's own full draw, no blitting
        fig.canvas.draw()
        full = np.asarray(fig.canvas.buffer_rgba()).astype(int)
        off = np.abs(blitted - full).max(axis=2)
        assert (off > OFF_LEVELS).sum() <= MAX_PIXELS_OFF, (round_, trainer.steps, (off > OFF_LEVELS).sum())
    assert blitter.counts["blit"] >= 10, blitter.counts       # it blitted, not only drew in full


def test_a_blit_redraws_only_what_moved_and_is_faster_than_a_full_draw():
    trainer = trainer_for("moons")
    fig = agg_figure()
    view = plots.LossView(fig.add_subplot(), limits="steady")
    blitter = plots.Blitter(fig, [view])
    fig.canvas.draw()
    fig.set_layout_engine("none")
    trainer.step(500)
    view.update(trainer.history, draw=False)
    blitter.draw()
    assert blitter.draw() == "same"                # nothing changed: nothing drawn
    trainer.step(5)
    view.update(trainer.history, draw=False)
    assert blitter.draw() == "blit"
    view.ax.set_title("a new title")               # anything else changed: a full draw
    assert blitter.draw() == "full"


def test_png_bytes_decode_to_the_same_pixels():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(_base.png_bytes(rgba))).convert("RGBA"))
    np.testing.assert_array_equal(decoded, rgba)


def apply_diff(base, png):
    """What ipympl's front end does with a diff picture: paint it over the last one, from the top left."""
    diff = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    out = base.copy()
    h, w = diff.shape[:2]
    region = out[:h, :w]
    painted = diff[..., 3] > 0
    region[painted] = diff[painted]
    return out


def test_live_canvas_diff_pictures_rebuild_the_picture_on_the_last_keyframe():
    fig, canvas = _base.live_figure(5.0, 3.2)
    trainer = trainer_for("xor")
    view = plots.LossView(fig.add_subplot(), limits="steady")
    blitter = plots.Blitter(fig, [view])
    canvas.render_frame = blitter.draw
    canvas.syncing_data_url = False          # as after a front end's "initialized"
    canvas.draw()
    fig.set_layout_engine("none")
    keyframe = np.asarray(Image.open(io.BytesIO(canvas.get_diff_image())).convert("RGBA"))
    assert canvas._current_image_mode == "full"
    diffs = 0
    for _ in range(12):
        trainer.step(30)
        view.update(trainer.history, draw=False)
        blitter.draw()
        png = canvas.get_diff_image()
        now = np.asarray(canvas.get_renderer().buffer_rgba())
        if canvas._current_image_mode == "full":
            keyframe = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
            np.testing.assert_array_equal(keyframe, now)
        else:
            diffs += 1
            # any diff picture, laid on the last keyframe, gives the whole picture: losing the diffs
            # before it loses nothing
            np.testing.assert_array_equal(apply_diff(keyframe, png), now)
    assert diffs >= 5
    assert canvas.stats.diff == diffs


def test_live_canvas_sends_a_whole_picture_when_most_pixels_changed(monkeypatch):
    monkeypatch.setattr(_base, "KEYFRAME_SHARE", 0.0)
    fig, canvas = _base.live_figure(4.0, 3.0)
    ax = fig.add_subplot()
    line, = ax.plot([0, 1], [0, 1], animated=False)
    canvas.draw()
    canvas.get_diff_image()
    line.set_ydata([1, 0])
    canvas.draw()
    canvas.get_diff_image()
    assert canvas._current_image_mode == "full"


def test_live_canvas_handle_draw_renders_with_render_frame():
    fig, canvas = _base.live_figure(4.0, 3.0)
    calls = []
    canvas.render_frame = lambda: calls.append(1)
    canvas.handle_draw({"type": "draw"})
    assert calls == [1] and canvas.stats.requests == 1
    assert canvas.get_renderer() is canvas._drawn          # a first picture needs a full draw too


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


def test_a_picture_sent_before_the_front_end_is_ready_is_a_whole_png_with_a_valid_data_url():
    """ipympl (0.9-0.10) sends raw pixels and keeps a data URL without its prefix until the front
    end says "initialized": the front end's image breaks and the canvas view fails to render."""
    fig, canvas = _base.live_figure(4.0, 3.0)
    fig.add_subplot().plot([0, 1], [1, 0])
    sent = []
    canvas.send = lambda content, buffers=None: sent.append((content, buffers))
    assert canvas.syncing_data_url
    canvas.handle_draw({"type": "draw"})
    binaries = [buffers[0] for content, buffers in sent if buffers]
    assert len(binaries) == 1
    picture = np.asarray(Image.open(io.BytesIO(binaries[0])).convert("RGBA"))      # a PNG, not raw pixels
    np.testing.assert_array_equal(picture, np.asarray(canvas.get_renderer().buffer_rgba()))
    assert canvas._current_image_mode == "full"
    prefix = "data:image/png;base64,"
    assert canvas._data_url.startswith(prefix)
    decoded = Image.open(io.BytesIO(base64.b64decode(canvas._data_url[len(prefix):])))
    assert decoded.size == (picture.shape[1], picture.shape[0])


def test_an_ask_the_front_end_ignored_is_repeated_and_a_stream_ends_on_a_whole_picture(monkeypatch):
    """What lets a panel stop playing without redrawing again: the last picture reaches the page."""
    import asyncio
    import json
    monkeypatch.setattr(_base, "RETRY_SECONDS", 0.02)
    fig, canvas = _base.live_figure(4.0, 3.0)
    line, = fig.add_subplot().plot([0, 1], [1, 0])
    canvas.syncing_data_url = False
    sent = []
    canvas.send = lambda content, buffers=None: sent.append("picture" if buffers else json.loads(content["data"]).get("type"))

    async def scenario():
        canvas.draw_idle()                       # an ask the front end never answers
        await asyncio.sleep(0.15)
        assert sent.count("draw") >= 2, sent      # asked again
        canvas.handle_draw({"type": "draw"})     # answered: the first picture is whole
        assert sent[-1] == "picture" and canvas._current_image_mode == "full"
        line.set_ydata([0.5, 0.4])
        canvas.draw_idle()
        canvas.handle_draw({"type": "draw"})     # a diff picture, and the stream stops
        assert canvas._current_image_mode == "diff"
        asks = sent.count("draw")
        await asyncio.sleep(0.15)
        assert sent.count("draw") > asks, sent        # asked again, for a whole picture to end on
        canvas.handle_draw({"type": "draw"})
        assert canvas._current_image_mode == "full"
        asks = sent.count("draw")
        await asyncio.sleep(0.15)
        assert sent.count("draw") == asks, sent       # and then quiet

    asyncio.run(scenario())
