"""The Playground's live plots (issue 6): a LayeredCanvas sends a background picture, layer
pictures and each frame's moving artists as numbers; drawn in that order they make the same
plot as Matplotlib's own full draw. Here a small reference painter (the page's painting, done
with Matplotlib in pixel coordinates) draws what was sent, and the result is held to a full
draw of the figure. Also: frames are held back when the page is behind, and released when it
says it painted; strips; a page with another devicePixelRatio gets pictures at its resolution."""
import io
import json
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.transforms import Bbox, IdentityTransform  # noqa: E402
from PIL import Image  # noqa: E402

import backprop_kit as bk  # noqa: E402
from backprop_kit import plots  # noqa: E402
from backprop_kit.widgets import Playground, canvas  # noqa: E402

# a painted frame may differ from a full draw where antialiased edges are blended differently
# (line ends at the clip, markers, the legend's one-pixel edge, the image's resampling at its
# border): a thin fringe, never a region
OFF_LEVELS = 60          # a pixel is "off" when a channel differs by more than this
MAX_OFF_SHARE = 0.003    # at most this share of the pixels may be off (0.00-0.03% seen)


def png(data) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGBA"))


def _css_rgba(text):
    if text is None:
        return None
    r, g, b, a = json.loads("[" + text[5:-1] + "]")
    return (r / 255, g / 255, b / 255, a)


def paint(widget, skip_items=False) -> np.ndarray:
    """What the page shows for the widget's current pictures and scene (layered.js, in Matplotlib)."""
    pictures, scene = widget.pictures, canvas.unpack(widget.scene)
    assert scene["background"] == pictures["generation"]
    width, height = scene["size"]
    dpi = 100.0
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    background = png(pictures["background"])
    assert background.shape[:2] == (height, width)
    z = [0]

    def image(pixels, x, y):                  # pixels' top left corner at page pixel (x, y)
        z[0] += 1
        figure.figimage(pixels, xo=int(round(x)), yo=int(round(height - y - pixels.shape[0])),
                        origin="upper", zorder=z[0])

    def clip_box(rect):
        if rect is None:
            return None
        x, y, w, h = rect
        return Bbox.from_extents(x, height - y - h, x + w, height - y)

    image(background, 0, 0)
    for index, axes in enumerate(scene["axes"]):
        for item in scene["items"]:
            if item["axes"] != index or skip_items and item["kind"] != "layer":
                continue
            if item["kind"] == "line":
                xy = np.frombuffer(bytes(item["xy"]), dtype=np.float32).reshape(-1, 2).astype(float)
                marker = item["marker"] or {}
                points = 72 / dpi
                line = Line2D(xy[:, 0], height - xy[:, 1], transform=IdentityTransform(),
                              color=_css_rgba(item["stroke"]) or "none",
                              linestyle="-" if item["stroke"] else "none",
                              linewidth=item["width"] * points,
                              marker=marker.get("shape", "None"),
                              markersize=marker.get("size", 0) * points,
                              markerfacecolor=_css_rgba(marker.get("face")) or "none",
                              markeredgecolor=_css_rgba(marker.get("edge")) or "none",
                              markeredgewidth=marker.get("edge_width", 0) * points)
                if item["dash"]:          # pixels, already scaled by the line width
                    with matplotlib.rc_context({"lines.scale_dashes": False}):
                        line.set_linestyle((item["offset"] * points, [d * points for d in item["dash"]]))
                z[0] += 1
                line.set_zorder(z[0])
                figure.add_artist(line)
                if item["clip"] is not None:
                    line.set_clip_box(clip_box(item["clip"]))
            elif item["kind"] == "image":
                rows, columns = item["shape"]
                pixels = np.frombuffer(bytes(item["rgba"]), dtype=np.uint8).reshape(rows, columns, 4)
                x, y, w, h = item["rect"]
                scaled = np.asarray(Image.fromarray(pixels).resize((int(round(w)), int(round(h))),
                                                                   Image.BILINEAR))
                image(scaled, x, y)
            else:
                layer = pictures["layers"][item["index"]]
                image(png(layer["png"]), *layer["rect"])
        for x, y, w, h in axes["covers"]:
            image(background[y:y + h, x:x + w], x, y)
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).copy()


def full_draw(figure) -> np.ndarray:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return png(buffer.getvalue())


def off_share(a, b) -> float:
    assert a.shape == b.shape
    return float(np.mean(np.abs(a.astype(int) - b.astype(int)).max(axis=2) > OFF_LEVELS))


CASES = [("xor", {}), ("spiral", {"classes": 3}), ("sine", {}), ("circles", {"clip": 1.0, "layers": 3}),
         ("moons", {"show": "gradients", "layers": 5, "activation": "sigmoid", "features": ("x1", "x2", "x1*x2")})]


@pytest.mark.parametrize("dataset, options", CASES, ids=[c[0] for c in CASES])
def test_what_the_page_paints_is_the_full_draw(dataset, options):
    panel = Playground(dataset=dataset, seed=0, **options)
    for steps in (1, 40, 400):
        panel.trainer.step(steps)
        panel._show(playing=True)
        for name, widget in panel.canvases.items():
            painted, full = paint(widget), full_draw(panel.figures[name])
            share = off_share(painted, full)
            assert share < MAX_OFF_SHARE, f"{dataset} {name} after {panel.trainer.steps} steps: {share:.2%} off"
            # and the test sees the moving artists: without them the picture is far off
            if panel.trainer.steps > 100 and name != "boundary":
                assert off_share(paint(widget, skip_items=True), full) > 2 * MAX_OFF_SHARE


def test_a_scene_holds_the_lines_in_the_pictures_pixels():
    panel = Playground(seed=0)
    panel.controls["log_loss"].value = True
    panel.trainer.step(300)
    panel._show()
    view, scene = panel.views.loss, canvas.unpack(panel.canvases["loss"].scene)
    height = scene["size"][1]
    lines = [item for item in scene["items"] if item["kind"] == "line"]
    assert len(lines) == len(view.moving_artists())
    for line, item in zip(view.moving_artists(), lines):
        expected = line.get_transform().transform(line.get_xydata())
        got = np.frombuffer(bytes(item["xy"]), dtype=np.float32).reshape(-1, 2)
        assert np.allclose(got[:, 0], expected[:, 0], atol=0.01, equal_nan=True)
        assert np.allclose(got[:, 1], height - expected[:, 1], atol=0.01, equal_nan=True)
        assert item["width"] == pytest.approx(line.get_linewidth() * 100 / 72)
        assert item["sorted"]


class FakeClock:
    """The panel's clock, moved only by the test: when the boundary is due does not depend on how
    fast this machine trains or draws."""

    def __init__(self):
        self.now = time.perf_counter()          # (the panel was built on the real clock)

    def __call__(self):
        return self.now


def test_a_frame_redraws_only_the_strip_where_lines_changed():
    panel = Playground(seed=0)
    clock = FakeClock()
    panel.loop.budget.clock = clock
    panel.trainer.step(2000)
    clock.now += 100.0                 # long after the last picture of the boundary: it is due
    boundary = panel.canvases["boundary"]
    frames = boundary.stats["frames"]
    panel._show(playing=True)
    assert boundary.stats["frames"] == frames + 1
    panel.trainer.step(20)
    panel._show(playing=True)          # no time has passed: the boundary waits (BOUNDARY_PACE)
    assert boundary.stats["frames"] == frames + 1
    for name in ("loss", "gradients"):
        axes = canvas.unpack(panel.canvases[name].scene)["axes"][0]
        left, right = axes["dirty"]
        box = axes["box"]
        assert box[0] <= left < right <= box[0] + box[2]
        assert right - left < box[2] / 3, (name, axes)
    clock.now += 1.0                   # a second later it is due, and its image changes as a whole
    panel._show(playing=True)
    assert boundary.stats["frames"] == frames + 2
    assert canvas.unpack(boundary.scene)["axes"][0]["dirty"] is None


def test_frames_wait_for_a_page_that_is_behind_and_follow_when_it_catches_up():
    panel = Playground(seed=0)
    widget = panel.canvases["loss"]
    widget._on_message(widget, {"type": "ready"}, [])
    sent = []
    widget.observe(lambda change: sent.append(change["new"]["frame"]), names="scene")
    for _ in range(canvas.WINDOW + 5):
        panel.trainer.step(5)
        panel._show(playing=True)
    assert len(sent) == canvas.WINDOW and widget.stats["held"] == 5
    widget._on_message(widget, {"type": "painted", "frames": {widget.key: sent[-1]}}, [])   # the page caught up
    assert len(sent) == canvas.WINDOW + 1            # the newest state, at once
    panel.trainer.step(5)
    panel._show(playing=True)
    assert len(sent) == canvas.WINDOW + 2


def test_one_message_from_the_page_says_what_each_of_its_canvases_painted():
    """The page acknowledges all the canvases of a kernel in one message, sent through any one of
    them (layered.js: acker): each canvas named gets its frame, and sends the frame it held back."""
    panel = Playground(seed=0)
    widgets = [panel.canvases[name] for name in ("loss", "gradients", "boundary")]
    assert len({w.key for w in widgets}) == 3 and all(w.key == w.model_id for w in widgets)
    for widget in widgets:
        widget._on_message(widget, {"type": "ready"}, [])
    for _ in range(canvas.WINDOW + 2):
        panel.trainer.step(5)
        panel._show()                  # (not playing: the boundary shows every frame too)
    assert [w._held for w in widgets] == [True, True, True]
    frames = {w.key: w._in_flight[-1][0] for w in widgets[1:]}
    waiting = len(widgets[0]._in_flight)
    widgets[0]._on_message(widgets[0], {"type": "painted", "frames": frames}, [])
    assert [w.stats["painted"] for w in widgets] == [0, 1, 1]
    assert [w._held for w in widgets] == [True, False, False]
    assert [len(w._in_flight) for w in widgets] == [waiting, 1, 1]   # the newest frame went out


def test_frames_wait_while_the_page_lags_and_ask_it_to_answer_quickly():
    """A slow link: frames reach the page late. From URGENT_SECONDS of lag the scenes ask the page
    to say what it painted at once; beyond LAG_SECONDS the kernel holds frames back."""
    panel = Playground(seed=0)
    widget = panel.canvases["loss"]
    widget._on_message(widget, {"type": "ready"}, [])
    panel.trainer.step(5)
    panel._show(playing=True)
    assert widget.scene["ack"] is False
    first, sent_at = widget._in_flight[0]
    widget._in_flight[0] = (first, sent_at - 1.5)             # as if sent 1.5 s ago, still unpainted
    widget._last_ack -= 0.5
    panel.trainer.step(5)
    panel._show(playing=True)
    assert widget.scene["ack"] is True and widget.stats["held"] == 0
    widget._in_flight[0] = (first, sent_at - 2.5)
    panel.trainer.step(5)
    panel._show(playing=True)
    assert widget.stats["held"] == 1
    widget._on_message(widget, {"type": "painted", "frames": {widget.key: widget.scene["frame"]}}, [])
    assert not widget._held and len(widget._in_flight) == 1     # the held frame went out at once


def test_a_frame_without_a_page_is_still_kept_in_the_model():
    panel = Playground(seed=0)
    for _ in range(3 * canvas.WINDOW):
        panel.trainer.step(5)
        panel._show(playing=True)
    assert panel.canvases["loss"].stats["held"] == 0
    assert panel.canvases["loss"].scene["frame"] == panel.canvases["loss"]._frame


def test_a_page_with_another_pixel_ratio_gets_pictures_at_its_resolution():
    panel = Playground(seed=0)
    widget = panel.canvases["boundary"]
    width, height = canvas.unpack(widget.scene)["size"]
    widget.ratio = 2.0
    panel._show()
    scene = canvas.unpack(widget.scene)
    assert scene["size"] == [2 * width, 2 * height]
    assert png(widget.pictures["background"]).shape[:2] == (2 * height, 2 * width)
    assert scene["ratio"] == 2.0 and widget.css_size == [width, height]
    assert off_share(paint(widget), full_draw(panel.figures["boundary"])) < MAX_OFF_SHARE
    widget.ratio = float("nan")                      # nonsense from a page is ignored
    assert panel.figures["boundary"].dpi == 200


def test_the_playground_shows_its_figures_on_layered_canvases():
    panel = Playground(seed=0)
    for name in ("loss", "gradients", "boundary"):
        shown = bk.widgets.find(panel, f"bk-plot-{name}")
        assert isinstance(shown, canvas.LayeredCanvas) and shown is panel.canvases[name]
        assert shown.figure is panel.figures[name] is getattr(panel.views, name).ax.figure
        assert shown.views == [getattr(panel.views, name)]
    assert "export default { render }" in str(canvas.LayeredCanvas._esm)     # the page's half, loaded


def test_a_page_that_opens_later_gets_the_newest_frame_and_junk_messages_are_ignored():
    panel = Playground(seed=0)
    widget = panel.canvases["loss"]
    widget._on_message(widget, {"type": "ready"}, [])
    for _ in range(canvas.WINDOW + 3):
        panel.trainer.step(5)
        panel._show(playing=True)
    assert widget.stats["held"] == 3
    for junk in ({"frames": {widget.key: "soon"}}, {"frames": {widget.key: True}}, {"frames": {"no-such-key": 3}},
                 {"frames": [widget.key, 3]}, {"frame": 3}):
        widget._on_message(widget, {"type": "painted", **junk}, [])    # ignored
    widget._on_message(widget, {"type": "mystery"}, [])
    assert widget.stats["painted"] == 0
    widget._on_message(widget, {"type": "ready"}, [])                     # the page was reloaded
    assert widget.scene["frame"] == widget._frame and not widget._held


class _PointsView:
    """A view whose moving artist is neither a line nor an image (points that move)."""

    def __init__(self, ax):
        self.ax = ax
        self.points = ax.scatter([0.2, 0.8], [0.3, 0.6])
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)

    def moving_artists(self):
        return [self.points]


def test_moving_artists_that_are_not_lines_or_images_are_redrawn_whole_each_frame():
    figure, widget = canvas.live_figure(3.0, 3.0)
    view = _PointsView(figure.add_subplot())
    widget.follow([view])
    assert widget.show() == "pictures"
    view.points.set_offsets([[0.5, 0.5], [0.1, 0.9]])
    assert widget.show() == "pictures"                      # a new layer picture holds them
    assert off_share(paint(widget), full_draw(figure)) < MAX_OFF_SHARE


def test_a_panel_sends_its_plots_scenes_as_one_burst_that_says_how_many_it_holds():
    """The page paints a burst's scenes on one animation frame once the last has arrived
    (layered.js: painter), so each scene says which burst it belongs to and how many it holds:
    the scenes actually sent, not one held back for a page that is behind."""
    panel = Playground(seed=0)
    sent = []
    for name, widget in panel.canvases.items():
        widget.observe(lambda change, name=name: sent.append((name, change["new"]["burst"])), names="scene")
    panel.trainer.step(5)
    panel._show()
    assert [name for name, _ in sent] == ["boundary", "network", "loss", "gradients"]
    assert [burst[1:] for _, burst in sent] == [[4, 0], [4, 1], [4, 2], [4, 3]]    # how many, which one
    (token,) = {burst[0] for _, burst in sent}
    sent.clear()
    panel._show()
    assert len({burst[0] for _, burst in sent}) == 1 and sent[0][1][0] != token    # a new burst each time
    # a page that is behind the loss plot: that scene is held back, the burst holds the other three
    loss = panel.canvases["loss"]
    loss._on_message(loss, {"type": "ready"}, [])
    for _ in range(canvas.WINDOW):
        panel._show()
    sent.clear()
    panel._show()
    assert [(name, burst[1:]) for name, burst in sent] == [("boundary", [3, 0]), ("network", [3, 1]),
                                                            ("gradients", [3, 2])]
    assert loss.stats["held"] == 1
    # a canvas shown alone is a burst of one
    sent.clear()
    assert panel.canvases["gradients"].show() == "frame"
    assert sent[0][0] == "gradients" and sent[0][1][1:] == [1, 0]
