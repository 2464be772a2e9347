"""Live Matplotlib views of training: made once on an Axes, then updated in place.

    from backprop_kit import plots
    view = plots.TrainingFigure(trainer)      # loss, gradient norms per layer, decision boundary
    trainer.step(50); view.update(trainer)    # set_data / set_array on the same artists, then draw_idle
    view.save("run.png")                      # PNG, SVG, PDF: by the file's extension

Each view (``LossView``, ``GradientNormView``, ``BoundaryView``, ``ActivationView``) draws
on a Matplotlib ``Axes`` you give it, or makes its own figure when you give none. Its
artists (lines, image, histogram) are created once; ``update(...)`` only changes their data
(``Line2D.set_data``, ``AxesImage.set_data``, ``StepPatch.set_data``, new axis limits
computed from the arrays at hand) and asks the canvas for a redraw with ``draw_idle()``.
Pass ``draw=False`` to update several views and draw once. Axes whose limits never change
(the boundary image, the activation curves) cost only the new data.

Figures are made by ``new_figure``, which calls ``plt.figure`` inside ``with plt.ioff():``.
Under the ipympl backend (``%matplotlib widget``) the figure's ``.canvas`` is then a live
ipywidgets widget that is *not* displayed on its own: put ``fig.canvas`` into your layout.
Under any other backend (Agg in scripts and tests, inline in notebooks) the same code draws
to images. This module never imports ipywidgets, and ``import backprop_kit`` never imports it.
"""
from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator

from . import activations as _activations
from .datasets import Dataset, features
from ._threads import one_blas_thread
from .network import Network
from .stages import _forward

# --- one small palette, shared by every view ------------------------------------
PALETTE = {
    "train": "#1f4e79",        # dark blue: training loss, f(z)
    "train_step": "#c5d5e8",   # pale blue: the raw per-step loss
    "train_smooth": "#5b8cc0", # mid blue: its moving average
    "test": "#d1495b",         # crimson: test loss, f'(z)
    "fit": "#f28e2b",          # orange: a regression network's curve
    "clip": "#c0392b",         # red: the clipping threshold
    "global": "#555555",       # grey: the global gradient norm
    "histogram": "#b8b8b8",    # light grey: pre-activation histogram
    "ink": "#333333",          # text
    "grid": "#e8e8e8",
}
# class k is drawn in CLASS_COLORS[k]: points full strength, the output image paler
CLASS_COLORS = ("#2b83ba", "#f28e2b", "#59a14f", "#b07aa1", "#e15759",
                "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#7f7f7f")
DEPTH_COLORMAP = "viridis"     # gradient lines: dark purple (input side) -> green (output)
BACKGROUND_STRENGTH = 0.55     # how much of a class colour the output image shows at certainty
SATURATION_THRESHOLD = 0.05    # |f'(z)| below this counts as saturated (or dead, for relu)

TITLE_SIZE, LABEL_SIZE, TICK_SIZE, LEGEND_SIZE = 10, 9, 8, 7.5
LEGEND_FRAME = dict(frameon=True, framealpha=0.85, edgecolor="none", borderpad=0.3,
                    handlelength=1.6, columnspacing=1.0, labelspacing=0.3)


def pale(color, strength=BACKGROUND_STRENGTH) -> np.ndarray:
    """The colour mixed with white: strength 1 is the colour, 0 is white."""
    return 1.0 - strength * (1.0 - np.asarray(to_rgb(color)))


BINARY_COLORMAP = LinearSegmentedColormap.from_list(
    "bk_binary", [pale(CLASS_COLORS[0]), (1.0, 1.0, 1.0), pale(CLASS_COLORS[1])]
).with_extremes(bad="#d0d0d0")     # a NaN output shows grey


# --- figures ------------------------------------------------------------------------

def new_figure(figsize=(5.0, 3.4), *, pyplot: bool = True, layout="constrained", **kwargs) -> Figure:
    """A new, not-yet-shown Matplotlib Figure of ``figsize`` inches (100 px per inch on screen).

    With ``pyplot=True`` (default) the figure comes from ``plt.figure`` inside ``with plt.ioff():``,
    so it belongs to the current backend: under ipympl (``%matplotlib widget``) ``fig.canvas``
    is an ipywidgets widget (shown without its "Figure 1" header and footer) that you place in a
    layout; nothing is displayed until you do. Close it with ``plt.close(fig)`` when done.
    With ``pyplot=False`` it is a bare ``Figure`` that pyplot does not track (for scripts that
    only save images, e.g. the CLI): it draws with Agg whatever the pyplot backend, and
    nothing needs closing.
    Other keyword arguments go to ``plt.figure`` / ``Figure``.
    """
    if not pyplot:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        fig = Figure(figsize=figsize, layout=layout, **kwargs)
        FigureCanvasAgg(fig)                   # so fig.canvas.draw() renders (savefig works either way)
        return fig
    import matplotlib.pyplot as plt
    with plt.ioff():
        fig = plt.figure(figsize=figsize, layout=layout, **kwargs)
    canvas = fig.canvas
    if hasattr(canvas, "header_visible"):      # an ipympl widget: no title bar, no footer
        canvas.header_visible = False
        canvas.footer_visible = False
    return fig


def freeze_layout(fig: Figure) -> None:
    """Lay ``fig`` out once (constrained layout) and keep those positions for the frames to come.

    A live constrained layout re-measures every tick label on every draw: about half the time
    of a redraw. Call this after the first update; call it again (``relayout``) when the figure
    is resized or its labels change a lot. ``TrainingFigure`` does both, and lays out afresh
    whenever it saves.
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        engine = ConstrainedLayoutEngine()
    engine.execute(fig)
    fig.set_layout_engine("none")
    fig._bk_layout = engine           # kept for relayout()


def relayout(fig: Figure) -> None:
    """Run the layout once more on a figure frozen by ``freeze_layout`` (e.g. after a resize)."""
    engine = getattr(fig, "_bk_layout", None)
    if engine is not None:
        engine.execute(fig)


def close(fig: Figure) -> None:
    """Let pyplot forget a figure made by ``new_figure`` (harmless for a bare Figure)."""
    import sys
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)


def _axes(ax, figsize):
    if ax is None:
        ax = new_figure(figsize).add_subplot()
    return ax


def style(ax, title=None, xlabel=None, ylabel=None) -> None:
    """The kit's look for an Axes: title, labels, ticks and grid in its palette, no top/right spines."""
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE, color=PALETTE["ink"])
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=LABEL_SIZE, color=PALETTE["ink"])
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=LABEL_SIZE, color=PALETTE["ink"])
    ax.tick_params(which="both", labelsize=TICK_SIZE, colors=PALETTE["ink"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, color=PALETTE["grid"], linewidth=0.8)
    ax.set_axisbelow(True)


def step_axis(ax) -> None:
    """Steps are whole numbers: no ticks at 0.5."""
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _draw(ax, draw: bool) -> None:
    if draw:
        ax.figure.canvas.draw_idle()


def _finite(values, positive: bool = False) -> np.ndarray:
    """values as a float array with inf/NaN (and, for a log axis, values <= 0) replaced by NaN: not drawn."""
    values = np.array(values, dtype=float)
    bad = ~np.isfinite(values)
    if positive:
        bad |= values <= 0      # NaN compares False, so no warning
    values[bad] = np.nan
    return values


class _Smoother:
    """Bias-corrected exponential moving average down the rows of a (steps, k) array, extended as
    steps arrive (each call only averages the new rows). NaN entries are skipped."""

    CHUNK = 256

    def __init__(self, beta: float):
        self.beta = beta
        lag = np.subtract.outer(np.arange(self.CHUNK), np.arange(self.CHUNK))
        # out[t] = sum_s (1 - beta) beta^(t - s) x[s] + beta^(t + 1) carry: one matrix product per chunk
        self._weights = np.where(lag >= 0, (1 - beta) * beta ** np.maximum(lag, 0), 0.0)
        self._carry = beta ** np.arange(1, self.CHUNK + 1)[:, None]
        self.reset()

    def reset(self) -> None:
        self._out, self._done = np.empty((0, 0)), 0

    def __call__(self, values: np.ndarray) -> np.ndarray:
        steps, k = values.shape
        if self._done > steps or self._out.shape[1] != k:
            self._out, self._done = np.empty((0, k)), 0
            self._sum, self._weight = np.zeros(k), np.zeros(k)
        if len(self._out) < steps:             # grow by doubling: O(1) per step on average
            grown = np.empty((max(steps, 2 * len(self._out)), k))
            grown[:self._done] = self._out[:self._done]
            self._out = grown
        for start in range(self._done, steps, self.CHUNK):
            x = values[start:start + self.CHUNK]
            m, seen = len(x), np.isfinite(x)
            weights, carry = self._weights[:m, :m], self._carry[:m]
            total = weights @ np.where(seen, x, 0.0) + carry * self._sum
            weight = weights @ seen + carry * self._weight
            out = self._out[start:start + m]
            out[:] = np.nan
            np.divide(total, weight, out=out, where=weight > 0)
            self._sum, self._weight = total[-1], weight[-1]
        self._done = steps
        return self._out[:steps]


ENVELOPE_POINTS = 500          # a per-step line longer than twice this is drawn as its min/max envelope


class _Series:
    """A float array, (n,) or (n, k), that follows a growing sequence (a History list or array):
    ``follow(n, rows)`` converts only the rows added since the last call (``rows(start, stop)``),
    so a frame costs the new steps, not the whole run. It also keeps the smallest and largest
    finite value seen (``low``, ``high``), for the axis limits. ``reset()`` starts over."""

    def __init__(self):
        self.data = np.empty(0)
        self.reset()

    def reset(self) -> None:
        self.n, self.low, self.high = 0, math.inf, -math.inf

    def follow(self, n: int, rows) -> np.ndarray:
        if n < self.n:
            self.reset()
        if n > self.n:
            new = np.asarray(rows(self.n, n), dtype=float)
            if len(self.data) < n or self.data.shape[1:] != new.shape[1:]:
                grown = np.empty((max(n, 2 * len(self.data)),) + new.shape[1:])    # doubling: O(1) per step
                if self.n:
                    grown[:self.n] = self.data[:self.n]
                self.data = grown
            self.data[self.n:n] = new
            self.n = n
            flat = new.ravel()
            self.low = min(self.low, float(np.fmin.reduce(flat, initial=math.inf)))     # NaN-skipping
            self.high = max(self.high, float(np.fmax.reduce(flat, initial=-math.inf)))
        return self.data[:n]


class _Envelope:
    """A long, noisy series as a zigzag through each bucket's min and max, extended as it grows.

    The axes are a few hundred pixels wide, so 100,000 steps draw no better than the min and
    max of each pixel's worth of steps, and rasterising the zigzag is many times cheaper.
    ``envelope(x, values, span)``: x, values (n,) (x increasing); the bucket size is
    ceil(max(n, span) / buckets), so with a steady ``span`` (the x axis' length, in points) the
    buckets stay where they are as the series grows: old buckets keep their pixels and only
    the last one is recomputed. Returns x, y of length <= 2 * buckets (x, values unchanged
    while n <= 2 * ENVELOPE_POINTS).
    """

    def __init__(self, buckets: int = ENVELOPE_POINTS):
        self.buckets = buckets
        self.size, self.done = 0, 0             # bucket size; buckets complete and stored
        self.low = self.high = self.centre = np.empty(0)

    def __call__(self, x: np.ndarray, values: np.ndarray, span: float = 0):
        n = len(values)
        if n <= 2 * ENVELOPE_POINTS:
            return x, values
        size = math.ceil(max(n, span) / self.buckets)
        if size != self.size or self.done * size > n:
            self.size, self.done = size, 0
            count = math.ceil(max(n, span) / size) + 1
            self.low, self.high, self.centre = np.empty(count), np.empty(count), np.empty(count)
        count = math.ceil(n / size)
        if count > len(self.low):               # the series outgrew its span: more buckets
            for name in ("low", "high", "centre"):
                grown = np.empty(2 * count)
                grown[:self.done] = getattr(self, name)[:self.done]
                setattr(self, name, grown)
        start = self.done * size
        chunks = np.full((count - self.done) * size, np.nan)
        chunks[:n - start] = values[start:]
        chunks = chunks.reshape(-1, size)
        self.low[self.done:count] = np.fmin.reduce(chunks, axis=1)      # NaN-skipping, no warning
        self.high[self.done:count] = np.fmax.reduce(chunks, axis=1)
        firsts = x[start:n:size]
        lasts = x[np.minimum(np.arange(start + size - 1, start + len(chunks) * size, size), n - 1)]
        self.centre[self.done:count] = (firsts + lasts) / 2
        self.done = n // size                   # the last bucket, if not full, is redone next time
        return (np.repeat(self.centre[:count], 2),
                np.column_stack([self.low[:count], self.high[:count]]).ravel())


LIMITS = ("tight", "steady")
STEADY_GROWTH = 3.0            # a steady step axis grows to this many times the steps taken
# when a steady log axis changes, the room it leaves (in spans of the values shown) to fall
# below them and to rise above them (beyond the legend's headroom): losses and gradient norms
# drift by decades while training, and each change redraws the plot whole. (The room must keep
# the values below 85% of the new height and, with the headroom, above 1/LOG_SHRINK of it, or
# the next frame changes the limits again: tests/test_live_view.py holds that.)
LOG_ROOM_BELOW, LOG_ROOM_ABOVE = 1.0, 0.3
LOG_SHRINK = 5.0               # a steady log axis zooms in when its values use less than 1/this
ALL, NOTHING = (-math.inf, math.inf), (math.inf, -math.inf)     # x ranges where a picture changed


def _set_limits(ax, low: float, high: float, steps: int, log: bool, steady: bool = False,
                ahead: float = 0.0) -> None:
    """x from step 0 to ``steps``; y around ``low``..``high`` (the finite values the caller shows:
    smoothed lines and only the latest raw value, so one lucky mini-batch does not squash the
    axis while a blow-up stays in view), with 35% headroom on top for the legend.

    ``steady=False`` fits the numbers at hand on every call. ``steady=True`` (a live view) keeps
    the limits while they still fit: x grows to STEADY_GROWTH times the steps when they reach
    its end (or to ``ahead`` steps beyond them, if more: the steps expected in the next seconds),
    y changes only when the values leave it (or use less than a third of it; a fifth on a log
    axis, which gets room to drift: LOG_ROOM_BELOW, LOG_ROOM_ABOVE), so most frames leave the
    axes alone and only the lines are redrawn (see ``widgets.canvas``): a change redraws the whole
    plot, text and all.
    """
    if log:
        low = max(low, 1e-300)
    _set_step_limits(ax, steps, steady, ahead)
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        return
    scale = math.log10 if log else float
    low, high = scale(low), scale(high)
    bottom, top, span = _padded(low, high, log)
    if steady:
        if _still_fits(ax, low, high, top - bottom, log, scale):
            return
        if log:                   # room to drift a while before the next change (10.0 ** 309 overflows,
            # 10.0 ** -324 is 0.0, which a log axis ignores with a warning)
            bottom, top = max(bottom - LOG_ROOM_BELOW * span, -300), min(top + LOG_ROOM_ABOVE * span, 300)
    ax.set_ylim(*((10.0 ** bottom, 10.0 ** top) if log else (bottom, top)))


def _set_step_limits(ax, steps: int, steady: bool, ahead: float) -> None:
    """x from 0 to ``steps`` (see ``_set_limits``)."""
    x_low, x_high = ax.get_xlim()
    if not steady:
        ax.set_xlim(0, steps * 1.02 if steps else 1)    # an empty history: a plain 0..1, not -0.05..0.05
    elif x_low != 0 or steps > x_high or (steps and steps + ahead < x_high / 8):
        ax.set_xlim(0, max(STEADY_GROWTH * steps, steps + ahead, 1.0))


def _padded(low: float, high: float, log: bool) -> tuple:
    """y limits (decades on a log axis) around ``low``..``high`` with room for the legend: (bottom, top, span)."""
    if log:
        bottom, top, span = _padded_decades(low, high, below=0.06, above=0.35)
        return max(bottom, -200), min(top, 200), span
    low = 0.0 if low >= 0 else low     # losses: show the zero
    span = (high - low) or 1.0
    return low - 0.03 * span, high + 0.35 * span, span


def _still_fits(ax, low: float, high: float, wanted: float, log: bool, scale) -> bool:
    """Whether the y limits shown still hold ``low``..``high`` well (below 85% of their height, and
    using more than 1/LOG_SHRINK, or 1/3, of it: ``wanted`` is the height they would get now)."""
    shown = [scale(v) if v > 0 or not log else -math.inf for v in ax.get_ylim()]
    height = shown[1] - shown[0]
    return (shown[0] <= low and high <= shown[0] + 0.85 * height
            and wanted >= height / (LOG_SHRINK if log else 3.0) and math.isfinite(height))


def _padded_decades(low: float, high: float, below: float, above: float, min_span: float = 0.3) -> tuple:
    """Log-axis limits in decades (log10) around ``low``..``high`` (decades too): ``below`` and
    ``above`` times the span (at least ``min_span`` decades) of room; returns (bottom, top, span)."""
    span = max(high - low, min_span)
    return low - below * span, high + above * span, span


def log_limits(values, below: float, above: float, min_span: float = 0.3) -> tuple:
    """Limits of a log axis showing ``values`` (their finite positive ones; 1 when there are none),
    with ``below`` and ``above`` times their span in decades (at least ``min_span``) of room."""
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values) & (values > 0)]     # 0 has no place on a log axis
    low, high = (math.log10(values.min()), math.log10(values.max())) if len(values) else (0.0, 0.0)
    bottom, top, _ = _padded_decades(low, high, below, above, min_span)
    return 10.0 ** bottom, 10.0 ** top


def plain_log_labels(ax) -> None:
    """Label a log y axis 0.01, 0.1, 1 instead of 10^-2 in mathtext (easier to read next to the
    loss values printed elsewhere), with 0.2 and 0.5 (and 0.3) between when the axis spans
    a decade or so, and every minor tick when it spans less than a factor of 4."""
    from matplotlib.ticker import FuncFormatter

    def label(value, _position):
        return f"{value:g}"
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.yaxis.set_major_formatter(FuncFormatter(label))

    def minor_label(value, position):
        low, high = ax.get_ylim()
        ratio = high / low if low > 0 else math.inf
        digit = round(value / 10 ** math.floor(math.log10(value)), 6)
        wanted = ratio < 4 or (ratio < 10 and digit in (2, 3, 5)) or (ratio < 30 and digit in (2, 5))
        return label(value, position) if wanted else ""
    ax.yaxis.set_minor_formatter(FuncFormatter(minor_label))
    ax.yaxis.set_minor_locator(_LogMinorLocator())


def _log_minor_subs(decades: float) -> tuple:
    """The minor ticks within each decade of a log axis spanning ``decades``: every 2..9 up to two
    decades (they carry the labels 0.2, 0.3, 0.5 of a narrow axis), 2 and 5 up to four, and none
    beyond, where they would be a dense comb. Each tick is drawn whole (its lines, its grid
    line, an empty label) on every full draw: 48 of them took half the draw of a
    5-decade gradient plot."""
    if decades <= 2:
        return tuple(range(2, 10))
    return (2, 5) if decades <= 4 else ()


class _LogMinorLocator(LogLocator):
    """Minor ticks of a log y axis, as many as its span calls for (``_log_minor_subs``)."""

    def __init__(self):
        super().__init__(base=10, subs=tuple(range(2, 10)))

    def tick_values(self, vmin, vmax):
        if vmin > 0 and vmax > 0:
            subs = _log_minor_subs(abs(math.log10(vmax) - math.log10(vmin)))
            if not subs:
                return np.array([])
            self.set_params(subs=subs)
        return super().tick_values(vmin, vmax)


def layer_labels(layers: int) -> list[str]:
    """'layer 1 (input side)', 'layer 2', ..., 'layer L (output)' for a network of ``layers`` weight layers."""
    labels = [f"layer {i + 1}" for i in range(layers)]
    if layers > 1:
        labels[0] += " (input side)"
    labels[-1] += " (output)"
    return labels


def depth_colors(layers: int) -> list:
    """One colour per layer from DEPTH_COLORMAP, input side first."""
    cmap = matplotlib.colormaps[DEPTH_COLORMAP]
    return [cmap(x) for x in np.linspace(0.0, 0.85, layers)] if layers > 1 else [cmap(0.0)]


def _step_view_axes(view, ax, limits: str):
    """The Axes of a view over the steps (given, or a new figure's), and its live-view state."""
    if limits not in LIMITS:
        raise ValueError(f"limits must be one of {LIMITS}; got {limits!r}")
    view.steady = limits == "steady"
    view.dirty_x = ALL              # the x range (data) where lines changed since a canvas showed them
    view.ahead = 0.0                # steady limits: steps to leave room for when x grows
    return _axes(ax, (5.0, 3.2))


# --- loss -----------------------------------------------------------------------------

class LossView:
    """Training loss per step (a thin light line and a smoothed line) and train/test loss per epoch.

    LossView(ax=None, log=False, smoothing=0.9, limits="tight"). ``update(history)`` reads
    ``history.loss`` (steps,) and the per-epoch ``epoch_steps``, ``train_loss``, ``test_loss``
    (epochs,): the epoch values are drawn at x = the step that ended the epoch, so both share
    the step axis. ``smoothing`` is the weight of the past in the exponential moving average
    (0: none); the y range follows the smoothed and per-epoch losses, so a lucky mini-batch does
    not squash it. Non-finite losses (a diverging run) are left out of the lines, not drawn as
    inf. Lines longer than 2 * ENVELOPE_POINTS points are drawn as their min/max envelope; the
    numbers themselves are ``losses`` and ``smoothed`` ((steps,) arrays). ``limits="steady"``
    (a live view) changes the axis limits only when the lines outgrow them, leaving room for
    ``ahead`` more steps (see ``_set_limits``). An update costs the steps added since the last
    one, however long the run.
    """

    def __init__(self, ax=None, log: bool = False, smoothing: float = 0.9, limits: str = "tight"):
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be a number from 0 to 1 (below 1); got {smoothing!r}")
        self.ax = ax = _step_view_axes(self, ax, limits)
        self.step_line, = ax.plot([], [], color=PALETTE["train_step"], linewidth=0.6,
                                  label="train (step)")
        self.smooth_line, = ax.plot([], [], color=PALETTE["train_smooth"], linewidth=1.5,
                                    label="train (smoothed)")
        self.train_line, = ax.plot([], [], color=PALETTE["train"], linewidth=1.3, marker="o",
                                   markersize=3.5, markeredgecolor="white", markeredgewidth=0.5,
                                   label="train (epoch)")
        self.test_line, = ax.plot([], [], color=PALETTE["test"], linewidth=1.3, marker="s",
                                  markersize=3.2, markeredgecolor="white", markeredgewidth=0.5,
                                  label="test (epoch)")
        style(ax, "Loss", "step (mini-batch)", "loss")
        step_axis(ax)
        self.legend = ax.legend(fontsize=LEGEND_SIZE, loc="upper right", ncol=2, **LEGEND_FRAME)
        self._smoother = _Smoother(smoothing)
        self._series = {name: _Series() for name in ("loss", "smoothed", "epoch_steps", "train", "test")}
        self._envelopes = {line: _Envelope() for line in self.moving_artists()}
        self._history = None
        self.set_log(log)

    def moving_artists(self) -> list:
        """The artists an update changes (a live view: see ``widgets.canvas``)."""
        return [self.step_line, self.smooth_line, self.train_line, self.test_line]

    @property
    def losses(self) -> np.ndarray:
        """The loss of each step shown, (steps,): NaN where it cannot be drawn."""
        return self._series["loss"].data[:self._series["loss"].n]

    @property
    def smoothed(self) -> np.ndarray:
        """Its exponential moving average, (steps,)."""
        return self._series["smoothed"].data[:self._series["smoothed"].n]

    def _restart(self) -> None:
        self._smoother.reset()
        for series in self._series.values():
            series.reset()
        for envelope in self._envelopes.values():
            envelope.size = 0

    def set_log(self, log: bool) -> None:
        """Switch the y axis between log and linear scale."""
        self.log = bool(log)
        self.ax.set_yscale("log" if self.log else "linear")
        if self.log:
            plain_log_labels(self.ax)
        self._restart()                          # a log axis leaves out losses <= 0: convert afresh
        if self._history is not None:
            self.update(self._history, draw=False)

    def update(self, history, draw: bool = True) -> None:
        """Show ``history`` (a training.History); the artists stay, their data changes."""
        s, log = self._series, self.log
        if history is not self._history or len(history.loss) < s["loss"].n:    # a new run: start afresh
            self._history = history
            self._restart()
        losses = s["loss"].follow(len(history.loss), lambda a, b: _finite(history.loss[a:b], positive=log))
        n = len(losses)
        smoothed = s["smoothed"].follow(n, lambda a, b: self._smoother(losses[:, None])[a:b, 0])
        epochs = len(history.epoch_steps)
        epoch_steps = s["epoch_steps"].follow(epochs, lambda a, b: history.epoch_steps[a:b])
        train = s["train"].follow(epochs, lambda a, b: _finite(history.train_loss[a:b], log))
        test = s["test"].follow(epochs, lambda a, b: _finite(history.test_loss[a:b], log))
        # a blow-up stays in view (steady limits follow the smoothed line: a noisy step is no reason to redraw)
        last = [losses[-1]] if n and np.isfinite(losses[-1]) and not self.steady else []
        low = min(s["smoothed"].low, s["train"].low, s["test"].low, *last)
        high = max(s["smoothed"].high, s["train"].high, s["test"].high, *last)
        _set_limits(self.ax, low, high, n, self.log, self.steady, self.ahead)
        span = self.ax.get_xlim()[1] if self.steady else 0
        steps = _step_numbers(n)
        e = self._envelopes
        few = epochs <= 60                      # beyond that the dots merge into a line anyway
        for line, marker in ((self.train_line, "o"), (self.test_line, "s")):
            if line.get_marker() != (marker if few else "None"):
                line.set_marker(marker if few else "None")
                self.dirty_x = ALL
        for line, x, y in ((self.step_line, steps, losses), (self.smooth_line, steps, smoothed),
                           (self.train_line, epoch_steps, train), (self.test_line, epoch_steps, test)):
            self.dirty_x = _widen(self.dirty_x, _set_line(line, *e[line](x, y, span)))
        _draw(self.ax, draw)


_STEPS = np.arange(1.0, 2.0)


def _step_numbers(n: int) -> np.ndarray:
    """1.0, 2.0, ..., n as a float array (a view of one shared array, grown by doubling)."""
    global _STEPS
    if len(_STEPS) < n:
        _STEPS = np.arange(1.0, max(n, 2 * len(_STEPS)) + 1.0)
        _STEPS.flags.writeable = False
    return _STEPS[:n]


# --- gradient norms -------------------------------------------------------------------

class GradientNormView:
    """Each layer's weight-gradient norm ||dL/dW_i|| over the steps, on a log axis, coloured by depth.

    GradientNormView(ax=None, layers=None, clip=None, smoothing=0.9, raw=True, limits="tight").
    ``update(history)`` reads ``history.grad_norms`` (steps, layers), and with a clip
    ``history.global_norms`` and ``history.clipped`` (steps,). Each layer gets a line of its
    norm smoothed on the log scale (a geometric moving average; ``smoothing=0`` for none) and,
    with ``raw=True``, a faint line of the raw per-step norm behind it. A change in the number
    of layers rebuilds the lines (an architecture change, not a frame). ``set_clip(max_norm)``
    shows the clipping threshold with the global norm it is compared with and the share of
    clipped steps; ``None`` hides them. Zeros and non-finite norms cannot sit on a log axis:
    they are left out. Long lines are drawn as their min/max envelope (see ``LossView``); the
    smoothed norms are ``smoothed`` ((steps, layers)). ``limits="steady"``: see ``LossView``.
    """

    def __init__(self, ax=None, layers: int | None = None, clip: float | None = None,
                 smoothing: float = 0.9, raw: bool = True, limits: str = "tight"):
        self.ax = ax = _step_view_axes(self, ax, limits)
        ax.set_yscale("log")
        plain_log_labels(ax)
        style(ax, "Gradient norm per layer", "step (mini-batch)", "‖∂L/∂W‖")
        step_axis(ax)
        self.global_line, = ax.plot([], [], color=PALETTE["global"], linewidth=1.0, linestyle=":",
                                    label="all layers", visible=False)
        self.clip_line = ax.axhline(1.0, color=PALETTE["clip"], linewidth=1.2, linestyle="--",
                                    label="clip", visible=False)
        self.clip_text = ax.text(0.99, 0.03, "", transform=ax.transAxes, ha="right", va="bottom",
                                 fontsize=LEGEND_SIZE, color=PALETTE["clip"], visible=False, zorder=5,
                                 bbox=dict(facecolor="white", alpha=0.85, edgecolor="none", pad=1.5))
        self.raw = raw
        self.smoothing = smoothing
        self.lines: list[Line2D] = []          # one smoothed line per layer, input side first
        self.raw_lines: list[Line2D] = []      # the raw norms, faint (empty with raw=False)
        self.legend = None
        self.clip = None
        self._history = None
        self.set_layers(layers or 1)
        self.set_clip(clip)

    def moving_artists(self) -> list:
        """The artists an update changes (a live view: see ``widgets.canvas``)."""
        return [*self.raw_lines, *self.lines, self.global_line]

    @property
    def smoothed(self) -> np.ndarray:
        """Each layer's smoothed norm, (steps, layers)."""
        series = self._series["smoothed"]
        if series.n == 0:
            return np.empty((0, len(self.lines)))
        return series.data[:series.n]

    def set_layers(self, layers: int) -> None:
        """Make one line per layer (removing the old ones)."""
        for line in self.lines + self.raw_lines:
            line.remove()
        colors, labels = depth_colors(layers), layer_labels(layers)
        self.raw_lines = [self.ax.plot([], [], color=color, linewidth=0.5, alpha=0.15)[0]
                          for color in colors] if self.raw else []
        self.lines = [self.ax.plot([], [], color=color, linewidth=1.5, label=label)[0]
                      for color, label in zip(colors, labels)]
        self._smoother = _Smoother(self.smoothing)
        self._global_smoother = _Smoother(self.smoothing)
        self._series = {name: _Series() for name in ("raw", "log", "smoothed", "global", "global_log",
                                                     "global_smoothed")}
        self._envelopes = {line: _Envelope() for line in self.moving_artists()}
        self._clipped = [0, 0]                 # clipped steps counted, steps looked at
        self._legend()

    def _restart(self) -> None:
        self._smoother.reset()
        self._global_smoother.reset()
        for series in self._series.values():
            series.reset()
        for envelope in self._envelopes.values():
            envelope.size = 0
        self._clipped = [0, 0]

    def _legend(self) -> None:
        if self.legend is not None:
            self.legend.remove()
        handles = list(self.lines)
        if self.clip is not None:
            handles += [self.global_line, self.clip_line]
        self.legend = self.ax.legend(handles=handles, fontsize=LEGEND_SIZE, loc="upper right",
                                     ncol=2 if len(handles) > 2 else 1, **LEGEND_FRAME)

    def set_clip(self, max_norm: float | None) -> None:
        """Show the clipping threshold (a max global norm), or hide it with None."""
        self.clip = max_norm
        shown = max_norm is not None
        if shown:
            self.clip_line.set_ydata([max_norm, max_norm])
            self.clip_line.set_label(f"clip at {max_norm:g}")
        for artist in (self.clip_line, self.global_line, self.clip_text):
            artist.set_visible(shown)
        self._legend()

    def update(self, history, draw: bool = True) -> None:
        """Show ``history`` (a training.History); the lines stay, their data changes."""
        norms = history.grad_norms
        if norms.shape[1] != len(self.lines):
            self.set_layers(norms.shape[1])
        s, n = self._series, len(norms)
        if history is not self._history or s["raw"].n > n:
            self._history = history
            self._restart()
        raw = s["raw"].follow(n, lambda a, b: _finite(norms[a:b], positive=True))
        logs = s["log"].follow(n, lambda a, b: np.log10(raw[a:b]))          # NaN stays NaN, quietly
        smoothed = s["smoothed"].follow(n, lambda a, b: 10 ** self._smoother(logs)[a:b])
        low, high = s["smoothed"].low, s["smoothed"].high
        if n and not self.steady:               # a blow-up stays in view (see LossView)
            last = raw[-1][np.isfinite(raw[-1])]
            low, high = min([low, *last]), max([high, *last])
        if self.clip is not None:
            global_norms = s["global"].follow(n, lambda a, b: _finite(history.global_norms[a:b], positive=True))
            global_logs = s["global_log"].follow(n, lambda a, b: np.log10(global_norms[a:b]))
            global_smoothed = s["global_smoothed"].follow(
                n, lambda a, b: 10 ** self._global_smoother(global_logs[:, None])[a:b, 0])
            low, high = min(low, s["global_smoothed"].low, self.clip), max(high, s["global_smoothed"].high, self.clip)
            if n and np.isfinite(global_norms[-1]) and not self.steady:
                low, high = min(low, global_norms[-1]), max(high, global_norms[-1])
            counted, seen = self._clipped
            self._clipped = [counted + sum(history.clipped[seen:]), len(history.clipped)]
            share = self._clipped[0] / self._clipped[1] if self._clipped[1] else 0.0
            text = f"clipped: {share:.0%} of steps"
            if text != self.clip_text.get_text():
                self.clip_text.set_text(text)
                self.dirty_x = ALL          # (the text lies beyond the lines' strip: redraw the Axes)
        _set_limits(self.ax, low, high, n, log=True, steady=self.steady, ahead=self.ahead)
        span = self.ax.get_xlim()[1] if self.steady else 0
        steps, e = _step_numbers(n), self._envelopes
        shown = [*zip(self.raw_lines, raw.T), *zip(self.lines, smoothed.T)]
        if self.clip is not None:
            shown.append((self.global_line, global_smoothed))
        for line, values in shown:
            self.dirty_x = _widen(self.dirty_x, _set_line(line, *e[line](steps, values, span)))
        _draw(self.ax, draw)


# --- decision boundary / fitted curve -------------------------------------------------

def square_plane(X) -> tuple[float, float, float, float]:
    """The square (x1 low, high, x2 low, high) around 2-D points X with a 12% margin: the plane
    the boundary and the network's neurons are drawn over."""
    X = np.asarray(X, dtype=float)
    if not len(X):
        return (-1.0, 1.0, -1.0, 1.0)
    low, high = X.min(axis=0), X.max(axis=0)
    centre, half = (low + high) / 2, (high - low).max() / 2 * 1.12 + 1e-9
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


class BoundaryView:
    """What the network computes over the input space, with the data on top.

    BoundaryView(ax=None, dataset, resolution=100). For 2-D inputs: an image of the output over
    a fixed (resolution x resolution) grid covering the data: p(class 1) on a blue-white-orange
    scale (binary), the class colours blended by probability and paled where unsure (multiclass),
    or the value (regression). For 1-D inputs: the output as a curve over the data (regression,
    or p(class 1) for binary). Training points have a white edge, test points a black edge.
    The grid is made once per dataset; ``update(net)`` runs the forward pass on it
    (the core's ``_forward``, no checks per frame) and calls ``set_data`` on the same image or line.
    ``set_dataset(dataset)`` rebuilds the artists for another dataset (a learner's choice, not a frame).

    ``features``: for 2-D data, the names of ``bk.datasets.features`` the network reads instead of
    x1, x2 (the picture stays over the x1, x2 plane). ``set_dataset(dataset, plane=view.extent)``
    keeps the plane (x1 from .. to, x2 from .. to) when only the points change.
    """

    def __init__(self, ax=None, dataset: Dataset | None = None, resolution: int = 100, features=None):
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be a backprop_kit Dataset; got {dataset!r}")
        if not (isinstance(resolution, int) and 2 <= resolution <= 1000):
            raise ValueError(f"resolution must be a whole number from 2 to 1000; got {resolution!r}")
        self.ax = _axes(ax, (4.2, 4.0))
        self.dirty_x = ALL              # a live view's changed x range: an update changes the whole picture
        self.resolution = resolution
        self.dataset = None
        self.extent = None
        self.image = None          # AxesImage (2-D inputs)
        self.curve = None          # Line2D (1-D inputs)
        self._artists = []
        self.set_dataset(dataset, features)

    # -- building (once per dataset) --
    def set_dataset(self, dataset: Dataset, features=None, plane=None) -> None:
        """Show another dataset: new grid (over ``plane``, if given: (x1 low, high, x2 low, high)),
        new points, same Axes; ``features``: what the network reads (see the class)."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be a backprop_kit Dataset; got {dataset!r}")
        if features is not None and dataset.n_inputs != 2:
            raise ValueError(f"features need 2-D data (x1, x2); dataset {dataset.name!r} has "
                             f"{dataset.n_inputs} inputs")
        self.features = None if features is None else tuple(features)
        self.extent = None                 # the x1, x2 plane of a 2-D picture (set by _build_image)
        for artist in self._artists:
            artist.remove()
        self._artists, self.image, self.curve = [], None, None
        if self.ax.get_legend() is not None:
            self.ax.get_legend().remove()
        self.dataset, ax = dataset, self.ax
        X = np.concatenate([dataset.X_train, dataset.X_test])
        d = dataset.n_inputs
        if d == 2:
            self._build_image(X, plane)
        elif d == 1 and dataset.task != "multiclass":
            self._build_curve(X)
        else:
            self._grid = None
            self._artists.append(ax.text(0.5, 0.5, f"no picture for {d}-D inputs", ha="center",
                                         va="center", transform=ax.transAxes, color=PALETTE["ink"]))
        what = {"binary": "p(class 1)", "multiclass": "most likely class",
                "regression": "network output"}[dataset.task]
        style(ax, f"{dataset.name}: {what}", "x₁", "x₂" if d == 2 else ("y" if d == 1 else None))
        ax.grid(d != 2)

    def _build_image(self, X, plane=None) -> None:
        ax, data, n = self.ax, self.dataset, self.resolution
        extent = tuple(float(v) for v in (plane or square_plane(X)))
        xs = np.linspace(extent[0], extent[1], n)
        ys = np.linspace(extent[2], extent[3], n)
        gx, gy = np.meshgrid(xs, ys)
        plane_points = np.column_stack([gx.ravel(), gy.ravel()])                 # (n*n, 2), rows from the bottom
        self._grid = (plane_points if self.features is None else features(plane_points, self.features)
                      ).astype(np.float32)
        self.extent = extent
        if data.task == "binary":
            blank = np.full((n, n), 0.5)
            self.image = ax.imshow(blank, cmap=BINARY_COLORMAP, vmin=0.0, vmax=1.0, origin="lower",
                                   extent=extent, interpolation="bilinear", zorder=0)
        elif data.task == "multiclass":
            self._class_rgb = np.array([to_rgb(CLASS_COLORS[k % len(CLASS_COLORS)])
                                        for k in range(data.classes)])
            self.image = ax.imshow(np.ones((n, n, 3)), origin="lower", extent=extent,
                                   interpolation="bilinear", zorder=0)
        else:
            span = np.concatenate([data.y_train, data.y_test]).ravel()
            span = span if len(span) else np.array([0.0, 1.0])
            self.image = ax.imshow(np.zeros((n, n)), cmap="viridis", vmin=span.min(), vmax=span.max(),
                                   origin="lower", extent=extent, interpolation="bilinear", zorder=0)
        self._artists.append(self.image)
        self._scatter(lambda X, y: (X[:, 0], X[:, 1]))
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
        ax.set_aspect("equal")

    def _build_curve(self, X) -> None:
        ax, data = self.ax, self.dataset
        low, high = float(X.min()), float(X.max())
        margin = 0.05 * (high - low) + 1e-9
        xs = np.linspace(low - margin, high + margin, 4 * self.resolution)
        self._grid = xs.reshape(-1, 1).astype(np.float32)
        self.curve, = ax.plot(xs, np.full(len(xs), np.nan), color=PALETTE["fit"], linewidth=2.2,
                              zorder=3, label="network")
        self._artists.append(self.curve)
        self._scatter(lambda X, y: (X[:, 0], np.asarray(y, dtype=float).ravel()))
        ys = np.concatenate([data.y_train, data.y_test]).ravel().astype(float)
        pad = 0.15 * (ys.max() - ys.min()) + 1e-9
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys.min() - pad, ys.max() + pad)
        ax.set_aspect("auto")

    def _scatter(self, coordinates) -> None:
        """Train points (white edge) and test points (black edge), coloured by class."""
        data, handles = self.dataset, []
        for X, y, edge, size, label in ((data.X_train, data.y_train, "white", 16, "train"),
                                        (data.X_test, data.y_test, "black", 18, "test")):
            if not len(X):
                continue
            if data.task == "regression":
                colors = CLASS_COLORS[0]
            else:
                colors = [CLASS_COLORS[k % len(CLASS_COLORS)] for k in np.asarray(y).ravel()]
            points = self.ax.scatter(*coordinates(X, y), c=colors, s=size, edgecolors=edge,
                                     linewidths=0.7, zorder=2, label=label)
            self._artists.append(points)
            handles.append(Line2D([], [], linestyle="none", marker="o", markersize=5,
                                  markerfacecolor="#999999", markeredgecolor=edge, label=label))
        if self.curve is not None:
            handles.append(self.curve)
        # 2-D data leave the corners empty; a 1-D curve leaves the upper left (sine starts at 0)
        self.ax.legend(handles=handles, fontsize=LEGEND_SIZE, handletextpad=0.3,
                       loc="upper right" if self.curve is None else "upper left", **LEGEND_FRAME)

    # -- updating (per frame) --
    def moving_artists(self) -> list:
        """The artists an update changes (a live view: see ``widgets.canvas``): the image, or the curve."""
        return [artist for artist in (self.image, self.curve) if artist is not None]

    def evaluate(self, net: Network) -> np.ndarray:
        """The network's output on the grid, (points, outputs) in float32: the numbers ``update`` draws.

        A picture needs no more than float32, which runs the forward pass several times faster.
        """
        inputs = self._grid.shape[1] if self._grid is not None else self.dataset.n_inputs
        if net.sizes[0] != inputs:
            reads = f" ({', '.join(self.features)})" if self.features else ""
            raise ValueError(f"net must take {inputs} inputs{reads} to draw dataset "
                             f"{self.dataset.name!r}; its sizes are {list(net.sizes)}")
        with np.errstate(all="ignore"), one_blas_thread():
            display = Network._from_parameters(net, [W.astype(np.float32) for W in net.weights],
                                               [b.astype(np.float32) for b in net.biases])
            return _forward(display, self._grid).output

    def update(self, net, draw: bool = True) -> None:
        """Draw what ``net`` (a Network, or anything with a ``.net``, e.g. a Trainer) computes."""
        net = getattr(net, "net", net)
        if self._grid is None:
            return
        output = self.evaluate(net)
        if self.curve is not None:
            self.curve.set_ydata(_finite(output[:, 0]))
        elif self.dataset.task == "multiclass":
            self.image.set_data(self._blend(output))
        else:
            n = self.resolution
            self.image.set_data(_finite(output[:, 0]).reshape(n, n))
        self.dirty_x = ALL
        _draw(self.ax, draw)

    def _blend(self, probabilities: np.ndarray) -> np.ndarray:
        """(points, k) probabilities -> (n, n, 3) RGB: class colours mixed, paler where unsure."""
        k, n = probabilities.shape[1], self.resolution
        p = np.nan_to_num(probabilities, nan=1.0 / k)
        mixed = p @ self._class_rgb
        certainty = (p.max(axis=1, keepdims=True) - 1.0 / k) * (k / (k - 1.0))
        strength = BACKGROUND_STRENGTH * np.clip(certainty, 0.0, 1.0)
        return np.clip(1.0 - strength * (1.0 - mixed), 0.0, 1.0).reshape(n, n, 3)


# --- activations -----------------------------------------------------------------------

class ActivationView:
    """An activation f and its derivative f' over z in [-5, 5], with a histogram of a layer's z.

    ActivationView(ax=None, name="tanh", bins=50). ``update(pre_activations)`` takes any array
    of pre-activations z (e.g. ``trace.pre[i]``, (n, width)) and shows their histogram (values
    beyond +-5 are counted in the end bins) and the share with |f'(z)| < 0.05, where the
    gradient hardly passes (saturated tanh/sigmoid, dead relu). ``update(None)`` hides them.
    ``set_activation(name)`` switches f and f' in place.
    """

    Z_RANGE = (-5.0, 5.0)

    def __init__(self, ax=None, name: str = "tanh", bins: int = 50):
        self.ax = ax = _axes(ax, (4.6, 3.2))
        self.z = np.linspace(*self.Z_RANGE, 401)
        self.edges = np.linspace(*self.Z_RANGE, bins + 1)
        # the histogram lives on a twin axis behind the curves, scaled to its own height
        self.hist_ax = ax.twinx()
        self.hist_ax.set_zorder(ax.get_zorder() - 1)
        ax.patch.set_visible(False)
        self.hist_ax.set_yticks([])
        for side in ("top", "right", "left"):
            self.hist_ax.spines[side].set_visible(False)
        self.histogram = self.hist_ax.stairs(np.zeros(bins), self.edges, fill=True,
                                             color=PALETTE["histogram"], alpha=0.6,
                                             label="z of the layer", visible=False)
        self.f_line, = ax.plot([], [], color=PALETTE["train"], linewidth=2.0, label="f(z)")
        self.d_line, = ax.plot([], [], color=PALETTE["test"], linewidth=1.6, linestyle="--", label="f′(z)")
        ax.axhline(0.0, color="#999999", linewidth=0.6, zorder=0)
        ax.axvline(0.0, color="#999999", linewidth=0.6, zorder=0)
        self.text = ax.text(0.02, 0.97, "", transform=ax.transAxes, ha="left", va="top",
                            fontsize=LEGEND_SIZE, color=PALETTE["ink"], visible=False)
        style(ax, None, "z (pre-activation)", None)
        ax.set_xlim(*self.Z_RANGE)
        ax.set_ylim(-1.25, 1.6)
        from matplotlib.patches import Patch
        histogram_key = Patch(color=PALETTE["histogram"], alpha=0.6, label="z in the layer")
        self.legend = ax.legend(handles=[self.f_line, self.d_line, histogram_key], fontsize=LEGEND_SIZE,
                                loc="upper left", bbox_to_anchor=(0.0, 0.92), **LEGEND_FRAME)
        self.set_activation(name)

    def set_activation(self, name: str) -> None:
        """Show activation ``name`` (one of activations.OUTPUT)."""
        self.activation = _activations.get(name)
        f = self.activation.value(self.z)
        self.f_line.set_data(self.z, f)
        self.d_line.set_data(self.z, self.activation.derivative(self.z, f))
        self.ax.set_title(name, fontsize=TITLE_SIZE, color=PALETTE["ink"])
        self.f_line.set_label(f"f(z) = {self.activation.formula}")     # the formula, in the legend
        self.legend.get_texts()[0].set_text(self.f_line.get_label())

    def saturated_share(self, pre_activations) -> float:
        """Share of the values z with |f'(z)| < SATURATION_THRESHOLD (nan for no values)."""
        z = np.asarray(pre_activations, dtype=float).ravel()
        z = z[np.isfinite(z)]
        if not len(z):
            return math.nan
        with np.errstate(all="ignore"):
            slope = self.activation.derivative(z, self.activation.value(z))
        return float(np.mean(np.abs(slope) < SATURATION_THRESHOLD))

    def update(self, pre_activations=None, draw: bool = True) -> None:
        """Show the histogram of ``pre_activations`` (any shape) and its saturated share; None hides them."""
        shown = pre_activations is not None
        if shown:
            z = np.asarray(pre_activations, dtype=float).ravel()
            z = z[np.isfinite(z)]
            counts, _ = np.histogram(np.clip(z, *self.Z_RANGE), bins=self.edges)
            share = counts / max(len(z), 1)
            self.histogram.set_data(share)
            self.hist_ax.set_ylim(0, max(share.max(), 1e-9) * 1.6)   # the tallest bar reaches ~60%
            self.text.set_text(f"|f′(z)| < {SATURATION_THRESHOLD:g}:  "
                               f"{self.saturated_share(z):.0%} of {len(z):,} values")
        self.histogram.set_visible(shown)
        self.text.set_visible(shown)
        _draw(self.ax, draw)


# --- live views: what changed since the last frame ------------------------------------------------

def _set_line(line, x, y) -> tuple:
    """``line.set_data(x, y)``, returning the x range (data) over which the line's picture may
    have changed: from the point before the first one that differs to the last point, old or
    new; (inf, -inf) when nothing changed, and -inf as its start when anything may have."""
    old_x, old_y = line.get_xdata(orig=True), line.get_ydata(orig=True)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    m = min(len(old_x), len(x))
    if m and isinstance(old_x, np.ndarray) and isinstance(old_y, np.ndarray) and old_x.dtype.kind == "f":
        same = ((old_x[:m] == x[:m]) | (np.isnan(old_x[:m]) & np.isnan(x[:m]))) & \
               ((old_y[:m] == y[:m]) | (np.isnan(old_y[:m]) & np.isnan(y[:m])))
        first = int(np.argmin(same)) if not same.all() else m
    else:
        first = 0
    if first == m and len(old_x) == len(x):
        return math.inf, -math.inf
    end = max(float(old_x[-1]) if len(old_x) else -math.inf, float(x[-1]) if len(x) else -math.inf)
    line.set_data(x, y)
    return (float(x[first - 1]) if first > 0 else -math.inf), end


def _widen(dirty: tuple, more: tuple) -> tuple:
    """The union of two x ranges (start, end)."""
    return min(dirty[0], more[0]), max(dirty[1], more[1])


# --- the whole run ------------------------------------------------------------------------

def describe(trainer) -> str:
    """One line with a Trainer's setup: dataset, sizes, activation, optimizer, lr, batch size."""
    net = trainer.net
    hidden = sorted(set(net.activations[:-1])) or ["none"]
    parts = [trainer.data.name, "-".join(map(str, net.sizes)), "/".join(hidden),
             f"{trainer.optimizer.name} lr {trainer.lr:g}", f"batch {trainer.batch_size}"]
    if trainer.clip is not None:
        parts.append(f"clip {trainer.clip:g}")
    if trainer.l2:
        parts.append(f"l2 {trainer.l2:g}")
    return "  ·  ".join(parts)


def status(trainer) -> str:
    """One line with where a Trainer is: epoch, step, last train/test loss and accuracy, or divergence."""
    h = trainer.history
    text = f"epoch {trainer.epoch}, step {trainer.steps}"
    if h.epochs:
        for split, loss, acc in (("train", h.train_loss[-1], h.train_accuracy[-1]),
                                 ("test", h.test_loss[-1], h.test_accuracy[-1])):
            if math.isfinite(loss):
                text += f"  ·  {split} loss {loss:.3g}"
                if math.isfinite(acc):
                    text += f", accuracy {acc:.1%}"
    if trainer.diverged:
        text += "  ·  DIVERGED"
    return text


class TrainingFigure:
    """One Trainer at a glance: decision boundary (left), loss and gradient norms per layer (right).

    TrainingFigure(trainer, fig=None, figsize=(9.0, 4.4), log_loss=True, resolution=100,
    pyplot=True, freeze=True). ``update(trainer)`` refreshes every view in place (switching
    dataset or layer count if the trainer's changed) and redraws once; ``save(path)`` writes
    PNG, SVG or PDF by extension. With ``freeze=True`` the layout is computed once, on resize
    and on save, not on every frame (see ``freeze_layout``).
    The views are ``.loss``, ``.gradients`` and ``.boundary``; the figure is ``.fig``.
    """

    def __init__(self, trainer, fig: Figure | None = None, figsize=(9.0, 4.4), log_loss: bool = True,
                 resolution: int = 100, pyplot: bool = True, freeze: bool = True):
        self.fig = fig = fig if fig is not None else new_figure(figsize, pyplot=pyplot)
        grid = fig.add_gridspec(2, 2, width_ratios=(1.0, 1.15))
        boundary_ax = fig.add_subplot(grid[:, 0])
        loss_ax = fig.add_subplot(grid[0, 1])
        gradient_ax = fig.add_subplot(grid[1, 1], sharex=loss_ax)
        self.boundary = BoundaryView(boundary_ax, trainer.data, resolution=resolution)
        self.loss = LossView(loss_ax, log=log_loss)
        self.gradients = GradientNormView(gradient_ax, layers=trainer.net.n_layers, clip=trainer.clip)
        loss_ax.set_xlabel("")
        loss_ax.tick_params(labelbottom=False)
        self.title = fig.suptitle("", fontsize=TITLE_SIZE, color=PALETTE["ink"])
        self.update(trainer, draw=False)
        if freeze:
            freeze_layout(fig)
            fig.canvas.mpl_connect("resize_event", lambda event: relayout(fig))

    def update(self, trainer, draw: bool = True) -> None:
        """Show ``trainer``'s current network and history (same artists, new data)."""
        rebuilt = (trainer.data is not self.boundary.dataset
                   or trainer.net.n_layers != len(self.gradients.lines))
        if trainer.data is not self.boundary.dataset:
            self.boundary.set_dataset(trainer.data)
        if trainer.clip != self.gradients.clip:
            self.gradients.set_clip(trainer.clip)
        self.boundary.update(trainer.net, draw=False)
        self.loss.update(trainer.history, draw=False)
        self.gradients.update(trainer.history, draw=False)
        self.title.set_text(f"{describe(trainer)}\n{status(trainer)}")
        self.title.set_color(PALETTE["clip"] if trainer.diverged else PALETTE["ink"])
        if rebuilt:                          # new legend and labels: make room for them
            relayout(self.fig)
        if draw:
            self.fig.canvas.draw_idle()

    def save(self, path, dpi: int = 150) -> None:
        """Write the figure to ``path``; the format follows the extension (.png, .svg, .pdf, ...)."""
        relayout(self.fig)
        self.fig.savefig(path, dpi=dpi)

    def close(self) -> None:
        close(self.fig)


def plot_history(history, dataset: Dataset | None = None, net: Network | None = None, *,
                 log_loss: bool = True, clip: float | None = None, figsize=None,
                 pyplot: bool = True) -> Figure:
    """A static figure of a finished run: loss and gradient norms, plus the boundary if given
    ``dataset`` and ``net``. Returns the Figure (save it with ``fig.savefig(path)``)."""
    with_boundary = dataset is not None and net is not None
    fig = new_figure(figsize or ((9.0, 4.4) if with_boundary else (9.0, 3.2)), pyplot=pyplot)
    if with_boundary:
        grid = fig.add_gridspec(2, 2, width_ratios=(1.0, 1.15))
        BoundaryView(fig.add_subplot(grid[:, 0]), dataset).update(net, draw=False)
        loss_ax, gradient_ax = fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 1])
    else:
        loss_ax, gradient_ax = fig.subplots(1, 2)
    LossView(loss_ax, log=log_loss).update(history, draw=False)
    GradientNormView(gradient_ax, layers=history.grad_norms.shape[1], clip=clip).update(history, draw=False)
    return fig
