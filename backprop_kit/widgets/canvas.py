"""Live figures for the panels: one canvas, and one way to make a live plot.

    from backprop_kit import plots
    from backprop_kit.widgets.canvas import live_figure, show_together

    figure, canvas = live_figure(5.0, 3.2, "bk-plot-loss")    # a Matplotlib Figure and the widget showing it
    view = plots.LossView(figure.add_subplot(), limits="steady")
    canvas.follow([view])                     # the views whose moving artists the page draws from numbers
    ...                                       # then, each frame:
    view.update(trainer.history, draw=False)
    canvas.show()                             # or show_together([...]): several plots on one page frame

**A live view** (``LiveView``) is anything with an ``ax``, a ``moving_artists()`` method naming the
artists its updates change, and optionally a ``dirty_x``: the x range (data) where its lines
changed since the canvas last showed them (``plots.ALL``: anywhere; ``plots.NOTHING``: nowhere),
which the canvas sets back to ``plots.NOTHING`` each time it shows them. ``plots.LossView``,
``GradientNormView`` and ``BoundaryView`` are live views. A figure that follows no view (a board
redrawn per click, a figure whose axes change every frame) is simply shown whole when it changed.

**How it draws** (the design that measurement chose: benchmarks/README.md, "The live view").
A live view at 20+ frames a second cannot be a Matplotlib picture per frame: rendering one
plot and encoding it as a PNG costs the kernel 10-20 ms, three plots 35-60 ms, on top of the
training the view is meant to show. So the work is split:

- **Matplotlib draws the figure** (axes, ticks, labels, legends, the data points, every colour
  and every coordinate), but only when something other than the moving artists' data changed:
  an axis limit, a label, a legend (Matplotlib marks the figure stale). From that draw the kernel
  sends the *background* (the figure without its moving artists) and, for what lies above them
  inside the Axes (points over a decision boundary, a note over a loss curve), transparent
  *layer* pictures.
- **Each frame is numbers**: every moving Line2D as its vertices in the picture's pixels
  (Matplotlib's own transforms, log axes and all; float32) with its colour, width, dashes and
  markers; every moving image as its RGBA pixels and the box it fills. ~1 ms per plot. (A moving
  artist that is neither goes into a layer picture, redrawn each frame.)
- **The browser paints** (``layered.js``), on one animation frame for all the plots a panel
  showed at once (``show_together``), and only inside the columns of each Axes where lines
  changed: the background, the items in Matplotlib's drawing order, the layers, then the opaque
  legends ("covers") pasted back from the background. It says which frame it painted about once
  a second; the kernel keeps at most WINDOW frames beyond the last one painted and sends the
  newest when the page catches up, so a slow page or link gets fewer frames, never a backlog.

The figure stays a plain Matplotlib Figure (Agg canvas), whatever backend the notebook uses
(``%matplotlib widget`` or not, Voila): ``savefig`` gives the same plot whole, and
tests/test_layered.py holds what the page paints to a full draw.
"""
from __future__ import annotations

import collections
import itertools
import json
import math
import os
import pathlib
import random
import struct
import time
import weakref
import zlib
from contextlib import contextmanager
from typing import NamedTuple, Protocol, runtime_checkable

import anywidget
import matplotlib
import numpy as np
import traitlets
from matplotlib.axes import Axes
from matplotlib.backend_bases import ResizeEvent
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

from .. import plots


@runtime_checkable
class LiveView(Protocol):
    """What a canvas needs of a view it follows (see the module docstring)."""

    ax: Axes

    def moving_artists(self) -> list:
        """The artists an update changes (lines and images are sent as numbers)."""


# Flow control: the page says which frame it painted about once a second, or within 0.1 s when
# a scene asks it to ("ack"). The kernel holds frames back while the oldest one not yet said
# painted was sent more than LAG_SECONDS ago (a slow link, e.g. Binder: the plots lag ~2 s at
# most, never a backlog), or WINDOW frames are in flight, and asks for quick answers from
# URGENT_SECONDS on.
WINDOW = 60
LAG_SECONDS = 2.0
URGENT_SECONDS = 1.25
ACK_SECONDS = 3.0          # no acknowledgement at all for this long: taken as lost, send anyway
PAD = 3                    # pixels around each Axes kept and repainted (antialiased edges, spines)
PNG_LEVEL = 1              # zlib level of the PNGs: a local websocket prefers speed to bytes
_CAPS = {"butt": "butt", "round": "round", "projecting": "square"}
_JOINS = {"miter": "miter", "round": "round", "bevel": "bevel"}
_NO_MARKER = (None, "None", "none", "", " ")
# the kernel's canvases by key: the page says what several of them painted in one message
_CANVASES: "weakref.WeakValueDictionary[str, LayeredCanvas]" = weakref.WeakValueDictionary()


def live_figure(width: float, height: float, css_class: str | None = None, dpi: int = 100):
    """A Matplotlib Figure of ``width`` x ``height`` inches (constrained layout) and the
    LayeredCanvas widget that shows it: ``(figure, canvas)``. Put ``canvas`` in a layout."""
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    return figure, LayeredCanvas(figure, css_class=css_class)


def png_bytes(rgba) -> bytes:
    """A PNG of an (h, w, 4) uint8 array, written with zlib and no row filters: several times
    faster than Pillow's encoder (which tries five filters on every row)."""
    h, w, _ = rgba.shape
    rows = np.zeros((h, 1 + 4 * w), np.uint8)         # each row: filter type 0, then its pixels
    rows[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_LEVEL)) + chunk(b"IEND", b""))


def _css_colour(color, alpha=None) -> str | None:
    """A Matplotlib colour as CSS ``rgba(...)``; None when it is fully transparent or 'none'."""
    if color is None or (isinstance(color, str) and color.lower() == "none"):
        return None
    r, g, b, a = to_rgba(color, alpha)
    if a == 0:
        return None
    return f"rgba({round(r * 255)},{round(g * 255)},{round(b * 255)},{a:.4g})"


# --- what lies behind the moving artists --------------------------------------------------------

class _Backgrounds:
    """Which artists of a figure move, and what a full draw leaves behind them.

    The views' moving artists, and whatever else lies above them inside the same Axes (spines,
    points), are marked animated: a full draw leaves them out, and after it (``_on_draw``) each
    Axes' box is known (``saved``), with its "covers": opaque legends above the moving artists,
    which the page pastes back from the background over them (so no legend text is drawn per
    frame). ``needs_full_draw()`` says when anything but the moving artists' data changed.
    """

    def __init__(self, figure: Figure):
        self.figure = figure
        self.views: list = []
        self.saved = None                 # {Axes: _Saved} from the last full draw
        self.animated = {}                # {Axes: [(artist, moving?)], in drawing order}
        self._size = self._renderer = None
        figure.canvas.mpl_connect("draw_event", self._on_draw)

    @staticmethod
    def is_cover(artist) -> bool:
        """A legend with an opaque frame: inside its frame it hides all beneath it."""
        if not isinstance(artist, Legend) or not artist.get_frame_on():
            return False
        frame = artist.get_frame()
        return frame.get_alpha() in (None, 1.0) and matplotlib.colors.to_rgba(frame.get_facecolor())[3] == 1.0

    def _choose(self) -> dict:
        """{Axes: [(artist, moving)]}: each view's moving artists, and every artist above the
        lowest of them inside its Axes but the covers (not the title, not the axis with its
        ticks and labels, which lie outside), in Matplotlib's drawing order."""
        chosen = {}
        for view in self.views:
            moving = view.moving_artists()
            if moving:
                chosen.setdefault(view.ax, []).extend(moving)
        found = {}
        for ax, moving in chosen.items():
            lowest = min(a.get_zorder() for a in moving)
            outside = {ax.patch, ax.title, ax._left_title, ax._right_title, *ax._axis_map.values()}
            if not (ax.axison and ax.get_frame_on()):        # Axes.draw leaves its spines out then
                outside.update(ax.spines.values())
            found[ax] = [(a, a in moving) for a in sorted(
                (a for a in ax.get_children() if a not in outside and (
                    a in moving or (a.get_zorder() >= lowest and not self.is_cover(a)))),
                key=lambda a: a.get_zorder())]      # a stable sort: Matplotlib's own order
        return found

    def _mark(self) -> list:
        """Mark the artists to redraw animated; returns those that were not yet (a full draw is due)."""
        fresh = []
        for ax in {view.ax for view in self.views}:     # a live view's legends: opaque and square, to be covers
            for legend in ax.get_children():
                if isinstance(legend, Legend) and legend.get_frame_on() and not self.is_cover(legend):
                    legend.get_frame().set_alpha(1.0)
                    legend.get_frame().set_boxstyle("square", pad=0)
                    fresh.append(legend)
        self.animated = self._choose()
        for steps in self.animated.values():
            for artist, _ in steps:
                if not artist.get_animated():
                    artist.set_animated(True)
                    fresh.append(artist)
        return fresh

    def _on_draw(self, event) -> None:
        """After a full draw: note each Axes' box and covers (unless this draw marked new artists
        animated, and so drew them as usual: then the next one does)."""
        canvas = self.figure.canvas
        if event.canvas is not canvas or canvas.is_saving():
            return
        fresh = self._mark()
        self.saved = None if fresh else {
            ax: _Saved(ax, steps, canvas, event.renderer, self.is_cover) for ax, steps in self.animated.items()}
        self._size, self._renderer = canvas.get_width_height(physical=True), event.renderer
        for view in self.views:
            view.dirty_x = plots.NOTHING

    def needs_full_draw(self) -> bool:
        """Whether anything but the moving artists' data changed since the last full draw (or there
        was none yet). An added or changed artist marks the figure stale; a moving (animated) one does not."""
        canvas = self.figure.canvas
        return (self.figure.stale or self.saved is None or canvas.get_renderer() is not self._renderer
                or self._size != canvas.get_width_height(physical=True))

    def full_draw(self) -> None:
        """Draw the figure whole, its moving artists marked animated first (left out of the picture)."""
        self._mark()
        self.figure.canvas.draw()

    @contextmanager
    def quietly(self):
        """Drawing a legend moves its parts, which marks the figure stale: what the animated
        artists' drawing changes is drawn."""
        figure = self.figure
        callback, figure.stale_callback = figure.stale_callback, None
        try:
            yield
        finally:
            figure.stale_callback = callback
            figure.stale = False


class _Saved:
    """One Axes after a full draw: its box (whole pixels, PAD around), its covers, and how far
    its moving lines' ink reaches beyond their points (``margin``)."""

    def __init__(self, ax, steps, canvas, renderer, is_cover):
        self.ax = ax
        box = ax.bbox
        self.box = Bbox.intersection(Bbox.from_extents(
            math.floor(box.x0) - PAD, math.floor(box.y0) - PAD,
            math.ceil(box.x1) + PAD, math.ceil(box.y1) + PAD), canvas.figure.bbox)
        self.height = int(renderer.height)
        lowest = min((a.get_zorder() for a, _ in steps), default=math.inf)
        self.covers = []              # [(rows, columns)] of the buffer, top row first
        for artist in ax.get_children():
            if is_cover(artist) and artist.get_visible() and artist.get_zorder() >= lowest:
                # the whole pixels inside the frame (its antialiased edge blends with what is beneath)
                frame = artist.get_frame().get_window_extent(renderer)
                cover = Bbox.from_extents(math.ceil(frame.x0), math.ceil(frame.y0),
                                          math.floor(frame.x1), math.floor(frame.y1))
                cover = Bbox.intersection(cover, canvas.figure.bbox) if cover.width > 0 and cover.height > 0 else None
                if cover is not None and self.box is not None and Bbox.intersection(cover, self.box) is not None:
                    self.covers.append(self.rows(cover))
        self.margin = 2 + max((_reach(a, renderer) for a, moving in steps if moving), default=0)

    def rows(self, box) -> tuple:
        """The (rows, columns) of the pixel buffer (top row first) inside ``box`` (whole pixels)."""
        x0, y0, x1, y1 = (int(round(v)) for v in box.extents)
        return slice(self.height - y1, self.height - y0), slice(x0, x1)

    def strip(self, start: float, end: float):
        """The part of the Axes to repaint for lines changed between x = ``start`` and ``end``
        (data; -inf: anywhere): None for nothing."""
        if self.box is None or start > end:
            return None
        left, right = (self.ax.transData.transform([(v, 0.0) for v in (start, end)])[:, 0]
                       if math.isfinite(start) and math.isfinite(end) else (math.nan, math.nan))
        if not (math.isfinite(left) and math.isfinite(right)):
            return self.box
        x0, x1 = int(self.box.x0), int(self.box.x1)
        left = min(max(math.floor(left - self.margin), x0), x1)
        right = min(max(math.ceil(right + self.margin), left), x1)
        return Bbox.from_extents(left, self.box.y0, right, self.box.y1) if right > left else None


def _reach(artist, renderer) -> float:
    """How far (pixels) an artist's ink reaches beyond its data points: half its line width, its markers."""
    if not isinstance(artist, Line2D):
        return 0.0
    points = max(artist.get_linewidth() / 2,
                 artist.get_markersize() / 2 + artist.get_markeredgewidth() if artist.get_marker() not in _NO_MARKER else 0)
    return renderer.points_to_pixels(points) + 1


# --- the widget -----------------------------------------------------------------------------------

class MouseEvent(NamedTuple):
    """A click on a LayeredCanvas's picture, or the pointer moving over it or leaving it."""

    kind: str                  # 'click', 'move' or 'leave'
    x: float | None            # display pixels of the figure, from the left (None: 'leave')
    y: float | None            # ... from the bottom, as Matplotlib's transforms count
    shift: bool = False

    @classmethod
    def from_page(cls, content: dict, figure: Figure) -> "MouseEvent | None":
        """The event the page sent ({kind, x, y as fractions of the picture, shift}), or None if malformed."""
        kind = content.get("kind")
        if kind == "leave":
            return cls("leave", None, None, False)
        x, y = content.get("x"), content.get("y")
        if kind not in ("click", "move") or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (x, y)):
            return None
        return cls(kind, float(x) * figure.bbox.width, float(y) * figure.bbox.height, bool(content.get("shift")))


class LayeredCanvas(anywidget.AnyWidget):
    """A widget showing ``figure``; ``show()`` sends its current state (see the module docstring).

    ``LayeredCanvas(figure, css_class=None)`` gives the figure a plain Agg canvas.
    ``follow(views)`` says which live views it shows (before the first ``show()``).
    ``stats`` counts what was sent and the seconds it took.
    """

    _esm = pathlib.Path(__file__).with_name("layered.js")
    _css = ".bk-layered { line-height: 0; }"
    pictures = traitlets.Dict({}).tag(sync=True)   # {generation, background: PNG, layers: [{png, rect}]}
    scene = traitlets.Dict({}).tag(sync=True)      # one frame: _scene(), packed (see pack)
    css_size = traitlets.List([]).tag(sync=True)   # [width, height] in CSS pixels
    ratio = traitlets.Float(1.0).tag(sync=True)    # the page's devicePixelRatio (set by the front end)
    mouse = traitlets.Unicode("").tag(sync=True)   # what the page sends: "", "clicks" or "all" (see on_mouse)
    key = traitlets.Unicode("").tag(sync=True)     # this canvas's name in the page's "painted" messages

    def __init__(self, figure: Figure, css_class: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.figure = figure
        FigureCanvasAgg(figure)
        self.base_dpi = figure.dpi
        width, height = figure.get_size_inches() * figure.dpi
        self.css_size = [int(round(width)), int(round(height))]
        self._backgrounds = _Backgrounds(figure)
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
        self._mouse_handlers = []
        self.key = self.model_id
        _CANVASES[self.key] = self
        if css_class:
            self.add_class(css_class)
        self.on_msg(self._on_message)
        self.observe(self._on_ratio, names="ratio")

    # -- what a panel calls --
    def follow(self, views) -> None:
        """Show these live views (on this figure): their moving artists are sent as numbers."""
        views = list(views)
        for view in views:
            if not isinstance(view, LiveView) or view.ax.figure is not self.figure:
                raise TypeError(f"views must be live views on this canvas's figure (an ax and "
                                f"moving_artists()); got {view!r}")
        self._backgrounds.views = views
        self._backgrounds.saved = None
        self._plan = None

    def on_mouse(self, handler, moves: bool = False) -> None:
        """Call ``handler(event)`` for each click on the picture (and with ``moves``, as the pointer
        moves over it and leaves it): ``event`` is a MouseEvent with ``kind`` ('click', 'move',
        'leave'), ``x``, ``y`` in the figure's display pixels (Matplotlib's, from the bottom left:
        ``ax.transData`` turns them into data) and ``shift`` (the Shift key was down). Moves are
        asked for only when wanted: each message makes the kernel busy for a moment."""
        self._mouse_handlers.append(handler)
        self.mouse = "all" if moves or self.mouse == "all" else "clicks"

    @property
    def views(self) -> list:
        return list(self._backgrounds.views)

    def show(self) -> str:
        """Send the figure's current state: "frame", "pictures" (a full draw and a frame), or
        "held" (the page has WINDOW frames to paint already; the newest follows its next ack).
        Several canvases shown at once go through ``show_together``."""
        return show_together([self])[0]

    def seconds_spent(self) -> float:
        """The seconds all this canvas's ``show``s took so far (checks, full draws, scenes, sending)."""
        return self.stats["check_seconds"] + self.stats["scene_seconds"] + self.stats["send_seconds"]

    def _prepare(self):
        """What ``show`` sends, made ready: (kind, pictures or None, packed scene), or ("held", None, None)."""
        if self._showing and self._window_full() and time.monotonic() - self._last_ack < ACK_SECONDS:
            self._held = True
            self.stats["held"] += 1
            return "held", None, None
        self._held = False
        started = time.perf_counter()
        drew = self._draw_if_needed()
        kind, pictures = "frame", None
        if drew or self._plan is None:
            kind, pictures = "pictures", self._pictures()
        checked = time.perf_counter()
        scene = pack(self._scene())
        if self._showing:
            self._in_flight.append((scene["frame"], time.monotonic()))
            scene["ack"] = self._lag() > URGENT_SECONDS              # "say so at once"
        self.stats["check_seconds"] += checked - started
        self.stats["scene_seconds"] += time.perf_counter() - checked
        return kind, pictures, scene

    def _draw_if_needed(self) -> bool:
        """A full draw when one is due; True if it drew. (A draw that changes the figure, e.g. a
        relayout, or marks new artists animated, needs another.)"""
        drew = False
        for _ in range(2):
            if not (self._backgrounds.needs_full_draw() or self._redraw_always and not drew):
                break
            self._backgrounds.full_draw()
            drew = True
        return drew

    def _send_prepared(self, pictures, scene) -> None:
        started = time.perf_counter()
        with self.hold_sync():
            if pictures is not None:
                self.pictures = pictures
                self.stats["pictures"] += 1
            self.scene = scene
        self.stats["frames"] += 1
        self.stats["send_seconds"] += time.perf_counter() - started

    def _lag(self) -> float:
        """Seconds since the oldest frame not yet said painted was sent (0: none)."""
        return time.monotonic() - self._in_flight[0][1] if self._in_flight else 0.0

    def _window_full(self) -> bool:
        return len(self._in_flight) >= WINDOW or self._lag() > LAG_SECONDS

    # -- the pictures (after a full draw) --
    def _pictures(self) -> dict:
        renderer = self.figure.canvas.get_renderer()
        height, width = int(renderer.height), int(renderer.width)
        background = np.asarray(renderer.buffer_rgba()).copy()   # drawn without the moving artists
        plan, layers, boxes = [], [], []
        self._redraw_always = False
        for ax, steps in self._backgrounds.animated.items():
            saved = (self._backgrounds.saved or {}).get(ax)
            if saved is None or saved.box is None:
                continue
            entries = self._entries(steps, saved, layers)
            rows, columns = saved.rows(saved.box)
            covers = [[c.start, r.start, c.stop - c.start, r.stop - r.start] for r, c in saved.covers]
            plan.append((ax, entries, covers))
            boxes.append([columns.start, rows.start, columns.stop - columns.start, rows.stop - rows.start])
        self._plan, self._boxes = plan, boxes
        self._generation += 1
        return {"generation": self._generation, "background": png_bytes(background),
                "layers": [self._layer_picture(run, saved, width, height) for run, saved in layers]}

    def _entries(self, steps, saved, layers: list) -> list:
        """An Axes' items in drawing order: its moving lines and images, and runs of other artists
        (collected into ``layers``, drawn into one picture each)."""
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
        return entries

    def _layer_picture(self, run, saved, width: int, height: int) -> dict:
        layer = RendererAgg(width, height, self.figure.dpi)
        layer.clear()
        with self._backgrounds.quietly():
            for artist in run:
                artist.draw(layer)
        rows, columns = saved.rows(saved.box)
        pixels = np.asarray(layer.buffer_rgba())[rows, columns]
        return {"png": png_bytes(np.ascontiguousarray(pixels)), "rect": [columns.start, rows.start]}

    # -- a frame --
    def _scene(self) -> dict:
        renderer = self.figure.canvas.get_renderer()
        height = float(renderer.height)
        axes, items = [], []
        affines = {}                # a transform's affine part, made once per scene (see _line_item)
        for index, (ax, entries, covers) in enumerate(self._plan):
            for kind, what in entries:
                if kind == "layer":
                    items.append({"kind": "layer", "index": what, "axes": index})
                    continue
                item = _line_item(what, renderer, height, affines) if kind == "line" else _image_item(what, height)
                if item is not None:
                    item["axes"] = index
                    items.append(item)
            axes.append({"box": self._boxes[index], "dirty": self._dirty(ax), "covers": covers})
        self._frame += 1
        return {"frame": self._frame, "background": self._generation,
                "size": [int(renderer.width), int(renderer.height)],
                "ratio": self.figure.dpi / self.base_dpi, "axes": axes, "items": items}

    def _dirty(self, ax):
        """The columns of the Axes' box (pixels: [left, right]) whose picture the views' updates
        changed since the last frame (None: all of it, []: none), from each view's ``dirty_x``."""
        start, end = plots.NOTHING
        for view in self._backgrounds.views:
            if view.ax is ax:
                changed = getattr(view, "dirty_x", plots.ALL)
                start, end = min(start, changed[0]), max(end, changed[1])
                view.dirty_x = plots.NOTHING
        saved = (self._backgrounds.saved or {}).get(ax)
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
        elif kind == "mouse":
            event = MouseEvent.from_page(content, self.figure)
            if event is not None:
                for handler in self._mouse_handlers:
                    handler(event)
        elif kind == "painted" and isinstance(content.get("frames"), dict):
            # one message a second for all the page's canvases of this kernel (layered.js: acker):
            # each message makes the kernel busy for a moment, which JupyterLab shows page-wide
            for key, frame in content["frames"].items():
                painted = _CANVASES.get(key)
                if painted is not None and isinstance(frame, int) and not isinstance(frame, bool):
                    painted._painted(frame)

    def _painted(self, frame: int) -> None:
        """The page painted ``frame`` (and every one before it)."""
        self.stats["painted"] += 1
        while self._in_flight and self._in_flight[0][0] <= frame:     # (sent in order)
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


def _line_item(line: Line2D, renderer, height: float, affines: dict) -> dict:
    """A moving line as the page draws it: its vertices in the picture's pixels (y from the top,
    float32; NaN for both coordinates where it breaks) and its style. ``affines``: the affine
    parts of the transforms met so far in this scene, by id (Matplotlib makes a composite
    transform's affine part anew on every call; the lines of an Axes share one transform)."""
    x, y = line.get_xdata(orig=True), line.get_ydata(orig=True)
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.dtype.kind == y.dtype.kind == "f":
        xy = np.empty((len(x), 2))         # the views' float arrays, without Line2D's recaching
        xy[:, 0], xy[:, 1] = x, y
    else:
        xy = np.asarray(line.get_xydata(), dtype=float)
    transform = line.get_transform()
    known = affines.get(id(transform))
    if known is None:                      # (the transform is kept with it: its id stays its own)
        known = affines[id(transform)] = (transform, transform.get_affine())
    xy = known[1].transform(transform.transform_non_affine(xy))
    xy[:, 1] *= -1.0
    xy[:, 1] += height                     # y from the top, as the page counts
    x = xy[:, 0]
    finite = np.isfinite(xy).all(axis=1)
    if not finite.all():                   # a gap (NaN, or an infinite log): both coordinates NaN
        xy[~finite] = np.nan
        x = x[finite]
    return {"kind": "line", "xy": xy.astype(np.float32).tobytes(),
            "sorted": bool((x[1:] >= x[:-1]).all()),      # x never decreases: the page can find a strip's part
            "clip": _clip(line, height), **_line_style(line, renderer.points_to_pixels)}


def _line_style(line: Line2D, pixels) -> dict:
    """A line's stroke and markers as the page draws them (pixels, CSS colours)."""
    alpha = line.get_alpha()
    style = line.get_linestyle()
    offset, dashes = line._dash_pattern          # points, scaled by the line width as Matplotlib does
    out = {"stroke": None if style in _NO_MARKER else _css_colour(line.get_color(), alpha),
           "width": float(pixels(line.get_linewidth())),
           "dash": [float(pixels(d)) for d in dashes] if dashes else [],
           "offset": float(pixels(offset or 0.0)),
           "cap": _CAPS.get(line.get_dash_capstyle() if dashes else line.get_solid_capstyle(), "butt"),
           "join": _JOINS.get(line.get_dash_joinstyle() if dashes else line.get_solid_joinstyle(), "round"),
           "marker": None}
    marker = line.get_marker()
    if marker not in _NO_MARKER:
        out["marker"] = {"shape": str(marker), "size": float(pixels(line.get_markersize())),
                         "face": _css_colour(line.get_markerfacecolor(), alpha),
                         "edge": _css_colour(line.get_markeredgecolor(), alpha),
                         "edge_width": float(pixels(line.get_markeredgewidth()))}
    return out


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
