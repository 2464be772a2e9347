"""LayeredCanvas: a Matplotlib figure whose moving lines and images the browser draws itself.

A live view at 20+ frames a second cannot be a Matplotlib picture per frame: rendering one
plot (even blitting only its lines) and encoding it as a PNG costs the kernel 10-20 ms, three
plots 35-60 ms, on top of the training the view is meant to show. So the work is split:

- **Matplotlib draws the figure** (axes, ticks, labels, legends, the data points, every
  colour and every coordinate), but only when something other than the moving artists'
  data changed: an axis limit, a label, a legend (``plots.Blitter.needs_full_draw``). From
  that draw the kernel sends the *background* (the figure without its moving artists) and,
  for what lies above them inside the Axes (points over a decision boundary, a note over a
  loss curve), transparent *layer* pictures.
- **Each frame is numbers**: every moving Line2D as its vertices in the picture's pixels
  (Matplotlib's own transforms, log axes and all; float32) with its colour, width, dashes and
  markers; every moving image as its RGBA pixels and the box it fills. ~1 ms per plot.
- **The browser paints** (``layered.js``), on one animation frame for all the plots a panel
  showed at once (``show_together``: the page's frame costs about as much for one canvas as
  for three), and only inside the columns of each Axes where lines changed (``_dirty``): the
  background, the items in Matplotlib's drawing order, the layers, then the opaque legends
  pasted back from the background. It says which frame it painted about once a second (each
  message to the kernel makes JupyterLab show the kernel busy, a page-wide update); the kernel
  keeps at most WINDOW frames beyond the last one painted and sends the newest when the page
  catches up, so a slow page or network gets fewer frames, never a backlog (see LAG_SECONDS).

The figure stays a plain Matplotlib Figure (Agg canvas): ``savefig`` gives the same plot
whole, and tests/test_layered.py checks a scene drawn by Matplotlib itself against a full draw.
"""
from __future__ import annotations

import collections
import itertools
import json
import math
import os
import pathlib
import random
import time

import anywidget
import numpy as np
import traitlets
from matplotlib.backend_bases import ResizeEvent
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D

from .. import plots
from . import _base

# Flow control: the page says which frame it painted about once a second, or within 0.1 s when
# a scene asks it to ("ack"). The kernel holds frames back while the oldest one not yet said
# painted was sent more than LAG_SECONDS ago (a slow link, e.g. Binder: the plots lag ~2 s at
# most, never a backlog), or WINDOW frames are in flight, and asks for quick answers from
# URGENT_SECONDS on.
WINDOW = 60
LAG_SECONDS = 2.0
URGENT_SECONDS = 1.25
ACK_SECONDS = 3.0          # no acknowledgement at all for this long: taken as lost, send anyway
_CAPS = {"butt": "butt", "round": "round", "projecting": "square"}
_JOINS = {"miter": "miter", "round": "round", "bevel": "bevel"}
_NO_MARKER = (None, "None", "none", "", " ")


def _css_colour(color, alpha=None) -> str | None:
    """A Matplotlib colour as CSS ``rgba(...)``; None when it is fully transparent or 'none'."""
    if color is None or (isinstance(color, str) and color.lower() == "none"):
        return None
    r, g, b, a = to_rgba(color, alpha)
    if a == 0:
        return None
    return f"rgba({round(r * 255)},{round(g * 255)},{round(b * 255)},{a:.4g})"


class LayeredCanvas(anywidget.AnyWidget):
    """A widget showing ``figure``; ``show()`` sends its current state (see the module docstring).

    ``LayeredCanvas(figure, css_class=None)`` gives the figure a plain Agg canvas.
    ``follow(views)`` says which views it shows (before the first ``show()``): a ``plots.Blitter``
    over them names the moving artists and keeps the backgrounds. ``stats`` counts what was sent.
    """

    _esm = pathlib.Path(__file__).with_name("layered.js")
    _css = ".bk-layered { line-height: 0; }"
    pictures = traitlets.Dict({}).tag(sync=True)   # {generation, background: PNG, layers: [{png, rect}]}
    scene = traitlets.Dict({}).tag(sync=True)      # one frame: _scene(), packed (see pack)
    css_size = traitlets.List([]).tag(sync=True)   # [width, height] in CSS pixels
    ratio = traitlets.Float(1.0).tag(sync=True)    # the page's devicePixelRatio (set by the front end)

    def __init__(self, figure: Figure, css_class: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.figure = figure
        FigureCanvasAgg(figure)
        self.base_dpi = figure.dpi
        width, height = figure.get_size_inches() * figure.dpi
        self.css_size = [int(round(width)), int(round(height))]
        self.blitter = None
        # frames and pictures sent, frames held back, acknowledgements; seconds spent checking
        # for a full draw (and drawing, when one was due), building scenes, sending them
        self.stats = {"frames": 0, "pictures": 0, "held": 0, "painted": 0, "check_seconds": 0.0,
                      "scene_seconds": 0.0, "send_seconds": 0.0}
        self._plan = None            # [(ax, [("line" | "image", artist) | ("layer", index)], covers)]
        self._redraw_always = False  # a moving artist that is neither a line nor an image: full draws
        self._generation = 0
        self._frame = 0
        self._in_flight = collections.deque()    # (frame, time.monotonic() sent) not yet said painted
        self._showing = False        # a page has said "ready": frames wait for its acknowledgements
        self._last_ack = 0.0
        self._held = False           # a frame was held back (the window was full): send it on the next ack
        if css_class:
            self.add_class(css_class)
        self.on_msg(self._on_message)
        self.observe(self._on_ratio, names="ratio")

    # -- what a panel calls --
    def follow(self, views) -> "plots.Blitter":
        """Show these views (``plots`` views on this figure): their moving artists are the ones
        sent as numbers. Returns the Blitter that names them and keeps what lies behind them."""
        self.blitter = plots.Blitter(self.figure, views, paint_after_draw=False)
        return self.blitter

    def show(self) -> str:
        """Send the figure's current state: "frame", "pictures" (a full draw and a frame), or
        "held" (the page has WINDOW frames to paint already; the newest follows its next ack).
        Several canvases shown at once go through ``show_together``."""
        return show_together([self])[0]

    def _prepare(self):
        """What ``show`` sends, made ready: (kind, pictures or None, packed scene), or ("held", None, None)."""
        if self._showing and self._window_full() and time.monotonic() - self._last_ack < ACK_SECONDS:
            self._held = True
            self.stats["held"] += 1
            return "held", None, None
        self._held = False
        started = time.perf_counter()
        kind = "frame"
        drew = False
        for _ in range(2):           # (a draw that changes the figure, e.g. a relayout, needs another)
            if not (self.blitter.needs_full_draw() or self._redraw_always and not drew):
                break
            self.blitter.full_draw()
            drew = True
        pictures = None
        if drew or self._plan is None:
            pictures = self._pictures()
            kind = "pictures"
        checked = time.perf_counter()
        scene = pack(self._scene())
        if self._showing:
            self._in_flight.append((scene["frame"], time.monotonic()))
            scene["ack"] = self._lag() > URGENT_SECONDS              # "say so at once"
        self.stats["check_seconds"] += checked - started
        self.stats["scene_seconds"] += time.perf_counter() - checked
        return kind, pictures, scene

    def _send_prepared(self, pictures, scene) -> None:
        started = time.perf_counter()
        with self.hold_sync():
            if pictures is not None:
                self.pictures = pictures
                self.stats["pictures"] += 1
            self.scene = scene
        self.stats["frames"] += 1
        self.stats["send_seconds"] += time.perf_counter() - started

    def seconds_spent(self) -> float:
        """The seconds all this canvas's ``show``s took so far (checks, full draws, scenes, sending)."""
        return self.stats["check_seconds"] + self.stats["scene_seconds"] + self.stats["send_seconds"]

    def _lag(self) -> float:
        """Seconds since the oldest frame not yet said painted was sent (0: none)."""
        return time.monotonic() - self._in_flight[0][1] if self._in_flight else 0.0

    def _window_full(self) -> bool:
        return len(self._in_flight) >= WINDOW or self._lag() > LAG_SECONDS

    # -- the pictures (after a full draw) --
    def _pictures(self) -> dict:
        canvas = self.figure.canvas
        renderer = canvas.get_renderer()
        height, width = int(renderer.height), int(renderer.width)
        background = np.asarray(renderer.buffer_rgba()).copy()   # drawn without the moving artists
        plan, layers, boxes = [], [], []
        self._redraw_always = False
        saved_all = self.blitter._saved or {}
        for ax, steps in self.blitter._animated.items():
            saved = saved_all.get(ax)
            if saved is None or saved.box is None:
                continue
            rows, columns = saved._rows(saved.box)
            entries, run = [], []
            for artist, moving in steps:
                if not artist.get_visible():
                    continue
                if moving and isinstance(artist, (Line2D, AxesImage)):
                    if run:
                        entries.append(("layer", len(layers)))
                        layers.append((run, saved))
                        run = []
                    entries.append(("line" if isinstance(artist, Line2D) else "image", artist))
                else:                # drawn into a layer picture, which a full draw renews
                    run.append(artist)
                    self._redraw_always |= moving
            if run:
                entries.append(("layer", len(layers)))
                layers.append((run, saved))
            covers = [[w[1].start, w[0].start, w[1].stop - w[1].start, w[0].stop - w[0].start]
                      for w, _ in saved.covers]
            plan.append((ax, entries, covers))
            boxes.append([columns.start, rows.start, columns.stop - columns.start, rows.stop - rows.start])
        self._plan, self._boxes = plan, boxes
        self._generation += 1
        sent_layers = []
        for run, saved in layers:
            layer = RendererAgg(width, height, self.figure.dpi)
            layer.clear()
            with self.blitter._quietly():
                for artist in run:
                    artist.draw(layer)
            rows, columns = saved._rows(saved.box)
            pixels = np.asarray(layer.buffer_rgba())[rows, columns]
            sent_layers.append({"png": _base.png_bytes(np.ascontiguousarray(pixels)),
                                "rect": [columns.start, rows.start]})
        return {"generation": self._generation, "background": _base.png_bytes(background),
                "layers": sent_layers}

    # -- a frame --
    def _scene(self) -> dict:
        renderer = self.figure.canvas.get_renderer()
        height = float(renderer.height)
        axes, items = [], []
        for index, (ax, entries, covers) in enumerate(self._plan):
            for kind, what in entries:
                if kind == "layer":
                    items.append({"kind": "layer", "index": what, "axes": index})
                    continue
                item = _line_item(what, renderer, height) if kind == "line" else _image_item(what, height)
                if item is not None:
                    item["axes"] = index
                    items.append(item)
            axes.append({"box": self._boxes[index], "dirty": self._dirty(ax, index), "covers": covers})
        self._frame += 1
        return {"frame": self._frame, "background": self._generation,
                "size": [int(renderer.width), int(renderer.height)],
                "ratio": self.figure.dpi / self.base_dpi, "axes": axes, "items": items}

    def _dirty(self, ax, index: int):
        """The columns of the Axes' box (pixels: [left, right]) whose picture the views' updates
        changed since the last frame (None: all of it, []: none), from each view's ``dirty_x``
        (the x range in data where its lines changed; see ``plots._set_line``)."""
        start, end = plots.NOTHING
        for view in self.blitter.views:
            if view.ax is ax:
                start, end = plots._widen((start, end), getattr(view, "dirty_x", plots.ALL))
                view.dirty_x = plots.NOTHING
        saved = (self.blitter._saved or {}).get(ax)
        if saved is None:
            return None
        strip = saved.strip(start, end)
        if strip is None:
            return []
        if strip.extents.tolist() == saved.box.extents.tolist():
            return None
        return [float(strip.x0), float(strip.x1)]

    # -- the page's messages --
    def _on_message(self, _widget, content, _buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ready":                # a new view of this widget: it paints what the model holds
            self._showing = True
            self._in_flight.clear()
            self._last_ack = time.monotonic()
            if self._held:                 # ... which must be the newest state
                self.show()
        elif kind == "painted" and isinstance(content.get("frame"), int):
            self.stats["painted"] += 1
            while self._in_flight and self._in_flight[0][0] <= content["frame"]:     # (sent in order)
                self._in_flight.popleft()
            self._last_ack = time.monotonic()
            if self._held:
                self.show()

    def _on_ratio(self, change) -> None:
        """A page with another devicePixelRatio: render at it, so the picture is sharp there."""
        ratio = change["new"]
        if not (isinstance(ratio, (int, float)) and math.isfinite(ratio) and 0.5 <= ratio <= 4):
            return
        self.figure.set_dpi(self.base_dpi * ratio)
        ResizeEvent("resize_event", self.figure.canvas)._process()
        self.figure.stale = True


_BURST_PREFIX = f"{os.getpid():x}-{random.getrandbits(32):08x}-"    # unique on a page of several kernels
_bursts = itertools.count(1)


def show_together(canvases) -> list:
    """Show these LayeredCanvases as one burst, and say what each sent (see ``LayeredCanvas.show``).

    Every scene is made ready first (full draws and all), then all are sent back to back, each
    tagged ``burst = [token, how many scenes the burst holds, which one this is]``: the page
    paints them on one animation frame as soon as every one has arrived (layered.js: painter),
    together with the page's other changes of that moment (a status line sent just after)."""
    prepared = [canvas._prepare() for canvas in canvases]
    sent = [(canvas, pictures, scene) for canvas, (kind, pictures, scene) in zip(canvases, prepared)
            if kind != "held"]
    token = _BURST_PREFIX + str(next(_bursts))
    for which, (canvas, pictures, scene) in enumerate(sent):
        scene["burst"] = [token, len(sent), which]
        canvas._send_prepared(pictures, scene)
    return [kind for kind, _, _ in prepared]


def pack(scene: dict) -> dict:
    """A scene as sent: {frame, background, meta: the scene as JSON with each item's "xy" or
    "rgba" bytes replaced by [offset, length] into data, data: those bytes, each at an offset
    that is a multiple of 4 (a Float32Array's alignment)}. Two strings and one buffer are far
    cheaper for ipywidgets to send than a tree of small dicts and buffers."""
    chunks, offset, items = [], 0, []
    for item in scene["items"]:
        item = dict(item)
        for key in ("xy", "rgba"):
            if key in item:
                data = item[key]
                item[key] = [offset, len(data)]
                padding = b"\0" * (-len(data) % 4)
                chunks += [data, padding]
                offset += len(data) + len(padding)
        items.append(item)
    meta = json.dumps(dict(scene, items=items), separators=(",", ":"))
    return {"frame": scene["frame"], "background": scene["background"], "meta": meta, "data": b"".join(chunks),
            "ack": False, "burst": None}


def unpack(sent: dict) -> dict:
    """The scene that ``pack`` packed (what the page reads from it)."""
    scene = json.loads(sent["meta"])
    data = bytes(sent["data"])
    for item in scene["items"]:
        for key in ("xy", "rgba"):
            if key in item:
                start, length = item[key]
                item[key] = data[start:start + length]
    return scene


def _line_item(line: Line2D, renderer, height: float) -> dict:
    x, y = line.get_xdata(orig=True), line.get_ydata(orig=True)
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.dtype.kind == y.dtype.kind == "f":
        xy = np.column_stack([x, y])       # the views' float arrays, without Line2D's recaching
    else:
        xy = np.asarray(line.get_xydata(), dtype=float)
    xy = line.get_transform().transform(xy)
    xy[:, 1] = height - xy[:, 1]
    xy[~np.isfinite(xy).all(axis=1)] = np.nan
    pixels = renderer.points_to_pixels
    alpha = line.get_alpha()
    style = line.get_linestyle()
    stroke = None if style in ("None", "none", "", " ") else _css_colour(line.get_color(), alpha)
    offset, dashes = line._dash_pattern          # points, scaled by the line width as Matplotlib does
    x = xy[:, 0][~np.isnan(xy[:, 0])]
    item = {"kind": "line", "xy": xy.astype(np.float32).tobytes(), "stroke": stroke,
            "sorted": bool(np.all(x[1:] >= x[:-1])),      # x never decreases: the page can find a strip's part
            "width": float(pixels(line.get_linewidth())),
            "dash": [float(pixels(d)) for d in dashes] if dashes else [],
            "offset": float(pixels(offset or 0.0)),
            "cap": _CAPS.get(line.get_dash_capstyle() if dashes else line.get_solid_capstyle(), "butt"),
            "join": _JOINS.get(line.get_dash_joinstyle() if dashes else line.get_solid_joinstyle(), "round"),
            "clip": _clip(line, height), "marker": None}
    marker = line.get_marker()
    if marker not in _NO_MARKER:
        item["marker"] = {"shape": str(marker), "size": float(pixels(line.get_markersize())),
                          "face": _css_colour(line.get_markerfacecolor(), alpha),
                          "edge": _css_colour(line.get_markeredgecolor(), alpha),
                          "edge_width": float(pixels(line.get_markeredgewidth()))}
    return item


def _image_item(image: AxesImage, height: float) -> dict | None:
    array = image.get_array()
    if array is None:
        return None
    rgba = image.to_rgba(array, bytes=True)
    left, right, bottom, top = image.get_extent()
    (x0, y0), (x1, y1) = image.get_transform().transform([(left, bottom), (right, top)])
    if image.origin == "lower":              # row 0 at the bottom: the page wants the top row first
        rgba = rgba[::-1]
    if y1 < y0:                               # the extent's "top" is below its "bottom" on screen
        rgba, (y0, y1) = rgba[::-1], (y1, y0)
    if x1 < x0:
        rgba, (x0, x1) = rgba[:, ::-1], (x1, x0)
    return {"kind": "image", "rgba": np.ascontiguousarray(rgba).tobytes(), "shape": list(rgba.shape[:2]),
            "rect": [float(x0), float(height - y1), float(x1 - x0), float(y1 - y0)],
            "smooth": image.get_interpolation() not in ("nearest", "none"),
            "alpha": 1.0 if image.get_alpha() is None else float(image.get_alpha()),
            "clip": _clip(image, height)}


def _clip(artist, height: float) -> list | None:
    if not artist.get_clip_on() or artist.get_clip_box() is None:
        return None
    box = artist.get_clip_box()
    return [float(box.x0), float(height - box.y1), float(box.width), float(box.height)]


def layered_figure(width: float, height: float, css_class: str | None = None, dpi: int = 100):
    """A Matplotlib Figure and the LayeredCanvas widget that shows it: ``(figure, widget)``."""
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    return figure, LayeredCanvas(figure, css_class=css_class)
