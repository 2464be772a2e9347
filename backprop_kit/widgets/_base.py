"""Shared pieces of every panel: live figures, styled controls, a status line and a play loop.

Panels are thin. They observe their controls, call the same stages and Trainer the lessons
call, and update views from ``backprop_kit.plots`` in place. Nothing here trains or plots.
"""
from __future__ import annotations

import asyncio
import base64
import functools
import html
import itertools
import math
import struct
import threading
import time
import traceback
import zlib
from contextlib import contextmanager
from typing import Callable

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_figure_numbers = itertools.count(1000)


# --- live figures -------------------------------------------------------------

@contextmanager
def _keeping_backend():
    """Import ipympl without letting it switch the learner's Matplotlib backend.

    ``import ipympl`` calls ``matplotlib.use('module://ipympl.backend_nbagg')`` when Matplotlib
    is already imported; a learner who chose ``%matplotlib inline`` should keep it.
    """
    before = matplotlib.rcParams._get("backend")
    try:
        yield
    finally:
        if matplotlib.rcParams._get("backend") != before:
            import sys
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].switch_backend(before)
            else:
                matplotlib.rcParams._set("backend", before)


with _keeping_backend():
    from ipympl.backend_nbagg import Canvas, FigureManager

# How a live canvas streams its pictures (see LiveCanvas).
KEYFRAME_SECONDS = 1.0     # a whole picture at least this often while pictures stream
KEYFRAME_SHARE = 0.3       # ... and as soon as this share of the pixels changed since the last whole one
RETRY_SECONDS = 0.3        # ask the front end again after this long when a picture was not picked up
RETRIES = 8                # ... this many times in a row (then the page is gone or hidden)
PNG_LEVEL = 1              # zlib level of the PNGs: a local websocket prefers speed to bytes


def png_bytes(rgba) -> bytes:
    """A PNG of an (h, w, 4) uint8 array, written with zlib and no row filters.

    Several times faster than Pillow's encoder (which tries five filters on every row): a
    300 x 300 plot in ~2 ms, a diff image that is mostly transparent zeros in well under that.
    """
    h, w, _ = rgba.shape
    rows = np.zeros((h, 1 + 4 * w), np.uint8)         # each row: filter type 0, then its pixels
    rows[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_LEVEL)) + chunk(b"IEND", b""))


class FrameStats:
    """What a LiveCanvas sent: counts, and the seconds spent rendering and encoding (for benchmarks)."""

    def __init__(self):
        self.requests = self.full = self.diff = self.retries = 0
        self.render_seconds = self.encode_seconds = 0.0
        self.wait_seconds = 0.0       # from asking the front end to its request, summed
        self.last_seconds = 0.0       # render + encode of the last picture sent

    def __repr__(self) -> str:
        return (f"FrameStats({self.requests} requests: {self.full} whole, {self.diff} diff pictures, "
                f"{self.retries} retries; render {self.render_seconds:.3f} s, encode {self.encode_seconds:.3f} s)")


class LiveCanvas(Canvas):
    """An ipympl canvas that sends a picture only when the front end asks, and whose diff
    pictures cannot leave the front end with a wrong one.

    ipympl's front end paints a picture once its PNG has loaded; a picture that arrives before
    the one before it loaded replaces that one unseen. Matplotlib's diff pictures (only the
    pixels that changed since the last one sent) then land on the wrong base and leave old
    pixels behind for good. Here:

    - ``draw_idle()``, ``draw()`` and ``blit()`` ask the front end for a request; the picture
      is rendered (``render_frame()`` if given, e.g. ``plots.Blitter.draw``, else a full draw
      when one is due) and sent when that request comes, so the kernel never renders a picture
      the front end is not ready for, and never queues pictures faster than it can show them.
    - A diff picture holds every pixel that changed since the last *whole* picture (a keyframe),
      not only since the last picture: losing any diff picture loses nothing. A whole picture
      goes out every KEYFRAME_SECONDS, when KEYFRAME_SHARE of the pixels changed, and as the
      last picture once the stream stops, so what stays on screen is always whole. Only the
      regions blitted since the last picture are compared, and a diff picture is cut to the
      changed pixels (from the top left corner, where the front end paints it).
    - An ask the front end ignored (it ignores asks while a picture is on its way) is repeated
      after RETRY_SECONDS: the last picture after Pause is never lost.

    ``stats`` (a FrameStats) counts what was sent.
    """

    def __init__(self, figure, *args, **kwargs):
        super().__init__(figure, *args, **kwargs)
        self.render_frame: Callable[[], object] | None = None
        self.stats = FrameStats()
        self._needs_draw = True       # draw_idle() was called: the Agg buffer is out of date
        self._drawn = None            # the renderer of the last full draw
        self._answering = False       # inside handle_draw: draw() and blit() need not ask
        self._dirty = "all"           # what changed in the buffer since the last picture: "all" or boxes
        self._keyframe = None         # the last whole picture sent, as (h, w) uint32
        self._changed = None          # pixels that differ from it in some picture since, (h, w) bool
        self._extent = (0, 0)         # rows, columns from the top left that hold every changed pixel
        self._keyframe_time = 0.0
        self._asked = self._answered = 0     # asks made, asks answered (a request came after them)
        self._sent_at = self._last_ask = self._waiting_since = 0.0
        self._last_was_diff = False
        self._retry = None
        self._retries = 0

    # -- what Matplotlib and the panels call --
    def draw_idle(self):
        if self.render_frame is None:             # with a render_frame, it decides what to draw
            self._needs_draw = True
        self._ask()

    def draw(self):
        self._needs_draw = False
        FigureCanvasAgg.draw(self)
        self._drawn = self.renderer               # (savefig draws into a renderer of its own size)
        self._png_is_old = True
        self._dirty = "all"
        if not self._answering:
            self._ask()

    def blit(self, bbox=None):
        self._png_is_old = True
        if bbox is None or self._dirty == "all":
            self._dirty = "all"
        else:
            self._dirty = [*(self._dirty or []), bbox]
        if not self._answering:
            self._ask()

    # -- the front end's request --
    def handle_draw(self, event):
        """The front end asks for a picture; it waits for one, so one is always sent."""
        started = time.perf_counter()
        self.stats.requests += 1
        if self._answered < self._asked:
            self.stats.wait_seconds += time.monotonic() - self._waiting_since
        self._answered = self._asked
        self._answering = True
        try:
            try:
                if self.render_frame is not None:
                    self._needs_draw = False
                    self.render_frame()
            except Exception:
                self._needs_draw = True
                raise
            finally:
                if self._needs_draw or self.get_renderer() is not self._drawn:    # not rendered, or it failed
                    self.draw()
        finally:
            self._answering = False
            rendered = time.perf_counter()
            self._png_is_old = True
            self.manager.refresh_all()
            done = time.perf_counter()
            self.stats.render_seconds += rendered - started
            self.stats.encode_seconds += done - rendered
            self.stats.last_seconds = done - started

    def handle_refresh(self, event):
        self._keyframe = None                        # a new view of the canvas: start from a whole picture
        self._answered = self._asked                 # and forget asks nobody heard
        super().handle_refresh(event)

    def send_binary(self, data: bytes) -> None:
        """Send a picture (PNG bytes) to the front end: ipympl's, mended.

        Until a front end has said "initialized" (``syncing_data_url``), ipympl sends the raw
        pixels in place of the PNG and keeps a data URL without its ``data:`` prefix; either
        leaves the front end's image "broken", and the canvas view fails to render ("Error
        setting state ... drawImage ... broken state"). Here the PNG is always what is sent, and
        the data URL is a valid one of it (whole pictures only while syncing: see get_diff_image).
        """
        if self.syncing_data_url:
            self._data_url = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        self.send({"data": '{"type": "binary"}'}, buffers=[data])

    def get_diff_image(self):
        if not self._png_is_old:
            return None
        pixels = np.asarray(self.get_renderer().buffer_rgba())
        picture = pixels.view(np.uint32).squeeze(2)
        height, width = picture.shape
        dirty, self._dirty = self._dirty, None
        whole = (self._force_full or self.syncing_data_url or self._keyframe is None
                 or picture.shape != self._keyframe.shape
                 or time.monotonic() - self._keyframe_time > KEYFRAME_SECONDS)
        if not whole:
            for rows, columns in self._regions(dirty, height, width):
                if (pixels[rows, columns, 3] != 255).any():     # a diff cannot carry transparency
                    whole = True
                    break
                changed = picture[rows, columns] != self._keyframe[rows, columns]
                if changed.any():
                    self._changed[rows, columns] |= changed
                    self._extent = (max(self._extent[0], rows.stop), max(self._extent[1], columns.stop))
            region = self._changed[:self._extent[0], :self._extent[1]]
            whole = whole or np.count_nonzero(region) > KEYFRAME_SHARE * picture.size
        if whole:
            self.set_image_mode("full")
            self._keyframe, self._keyframe_time = picture.copy(), time.monotonic()
            self._changed, self._extent = np.zeros(picture.shape, bool), (0, 0)
            output = pixels
            self.stats.full += 1
        else:
            self.set_image_mode("diff")
            rows, columns = max(self._extent[0], 1), max(self._extent[1], 1)
            output = np.where(self._changed[:rows, :columns], picture[:rows, :columns], 0)
            output = output.view(np.uint8).reshape(rows, columns, 4)
            self.stats.diff += 1
        self._last_was_diff = not whole
        self._force_full = False
        self._png_is_old = False
        return png_bytes(output)

    @staticmethod
    def _regions(dirty, height: int, width: int) -> list:
        """(rows, columns) slices of the buffer (top row first) for "all" or a list of Bboxes."""
        if dirty is None:
            return []
        if dirty == "all":
            return [(slice(0, height), slice(0, width))]
        regions = []
        for box in dirty:
            x0, x1 = max(int(box.x0), 0), min(int(np.ceil(box.x1)), width)
            r0, r1 = max(height - int(np.ceil(box.y1)), 0), min(height - int(box.y0), height)
            if x1 > x0 and r1 > r0:
                regions.append((slice(r0, r1), slice(x0, x1)))
        return regions

    # -- asking, and asking again --
    def _ask(self) -> None:
        """Ask the front end for a request (once: an ask still unanswered is repeated only after
        RETRY_SECONDS, in case the front end ignored it)."""
        now = time.monotonic()
        outstanding = self._answered < self._asked
        if not outstanding:
            self._waiting_since = now
        self._asked += 1
        self._last_ask = now
        if not outstanding or now - self._sent_at > RETRY_SECONDS:
            self._sent_at = now
            self.send_event("draw")
        self._retries = 0
        self._schedule_retry(RETRY_SECONDS)

    def _schedule_retry(self, delay: float) -> None:
        if self._retry is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:          # no event loop (a script, a test): nobody to ask again
            return
        self._retry = loop.call_later(delay, self._retry_now)

    def _retry_now(self) -> None:
        """RETRY_SECONDS after the last ask: ask again if it was ignored, or end on a whole picture."""
        self._retry = None
        quiet = time.monotonic() - self._last_ask
        if quiet < RETRY_SECONDS:                    # still streaming: look again when it stops
            self._schedule_retry(RETRY_SECONDS - quiet)
            return
        if self._closed or self._retries >= RETRIES:
            return
        if self._answered < self._asked:             # the front end ignored the last ask
            pass
        elif self._last_was_diff:                    # the stream stopped on a diff picture
            self._force_full = True
            self._waiting_since = time.monotonic()
            self._asked += 1
        else:
            return
        self._retries += 1
        self.stats.retries += 1
        self._sent_at = time.monotonic()
        self.send_event("draw")
        self._last_ask = time.monotonic() - RETRY_SECONDS      # look again without waiting for quiet
        self._schedule_retry(RETRY_SECONDS)


def live_figure(width: float, height: float, css_class: str | None = None, dpi: int = 100):
    """A Matplotlib Figure with its own ipympl canvas widget (a LiveCanvas): ``(figure, canvas)``.

    The canvas is a live widget to place in a layout, whatever backend the notebook uses
    (no ``%matplotlib widget`` needed), so ``figure.canvas.draw_idle()`` redraws it in place.
    """
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    canvas = LiveCanvas(figure)
    FigureManager(canvas, next(_figure_numbers))
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    canvas.capture_scroll = False
    canvas._closed = False          # it is shown inside a layout, not by plt.show()
    if css_class:
        canvas.add_class(css_class)
    return figure, canvas


def full_frames(canvas) -> None:
    """Make an ipympl ``canvas`` send every frame whole, never as a diff against the last one.

    For figures redrawn per click whose pictures change mostly whole (the stage board): a
    whole frame is always right, whatever the front end did with the frames before it; it costs
    more bytes. (A LiveCanvas's own diff pictures are safe too: see its docstring.)
    """
    canvas._force_full = True
    canvas.observe(lambda change: setattr(canvas, "_force_full", True), names="_force_full")


# --- controls -------------------------------------------------------------------

DESCRIPTION_WIDTH = "110px"


def styled(widget: widgets.Widget, css_class: str | None = None, width: str | None = "290px") -> widgets.Widget:
    """Give a control its stable ``bk-*`` CSS class (a hook for tests and instructors) and a tidy width."""
    if css_class:
        widget.add_class(css_class)
    if hasattr(widget, "style") and hasattr(widget.style, "description_width"):
        widget.style.description_width = DESCRIPTION_WIDTH
    if width and isinstance(widget, (widgets.ValueWidget,)) and not isinstance(widget, widgets.Button):
        widget.layout.width = width
    return widget


def button(description: str, css_class: str, icon: str = "", tooltip: str = "",
           style: str = "") -> widgets.Button:
    b = widgets.Button(description=description, icon=icon, tooltip=tooltip or description,
                       button_style=style, layout=widgets.Layout(width="auto", min_width="80px"))
    b.add_class(css_class)
    return b


def lr_slider(value: float = 0.03, css_class: str = "bk-learning-rate") -> widgets.FloatLogSlider:
    """A log slider of the learning rate from 1e-4 to 10 (the range where learning rates are interesting)."""
    return styled(widgets.FloatLogSlider(value=value, base=10, min=-4, max=1, step=0.1,
                                         description="learning rate", readout_format=".4",
                                         continuous_update=False), css_class)


# --- the status line -------------------------------------------------------------

class Status(widgets.HTML):
    """One line under a panel: progress, or a warning (divergence) or error in colour.

    ``text`` is the plain text, for tests; ``kind`` is 'info', 'warning' or 'error';
    ``shown_at`` the ``time.monotonic()`` of the last ``show``.
    """

    COLOURS = {"info": "inherit", "warning": "#b45309", "error": "#b91c1c"}

    def __init__(self, text: str = "", **kwargs):
        super().__init__(**kwargs)
        self.add_class("bk-status")
        self.text, self.kind = "", "info"
        self.show(text)

    def show(self, text: str, kind: str = "info") -> None:
        self.text, self.kind = text, kind
        self.shown_at = time.monotonic()
        weight = "600" if kind != "info" else "normal"
        self.value = (f'<span style="color:{self.COLOURS[kind]};font-weight:{weight};'
                      f'font-family:var(--jp-code-font-family, monospace);font-size:12px">'
                      f"{html.escape(text)}</span>")


# --- the panel base ----------------------------------------------------------------

# --- one thread for all panel code --------------------------------------------------

class KernelThread:
    """The thread (and its asyncio loop) that runs the kernel's cells.

    JupyterLab 4.4+ with ipykernel 7 may deliver widget messages on a kernel *subshell*, a
    second thread. A panel's callbacks, its Play frames and ipympl's draw requests would then
    run at the same time on two threads, and a figure could be drawn half-updated or left
    stale. So every message to a panel's widgets is handed to this thread's loop, and panel
    code runs on one thread, one piece at a time, as it did before subshells.
    """

    loop: asyncio.AbstractEventLoop | None = None
    thread: threading.Thread | None = None

    @classmethod
    def capture(cls) -> None:
        """Remember the running loop of the main thread (called when a panel is built in a cell)."""
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            cls.loop, cls.thread = asyncio.get_running_loop(), threading.current_thread()
        except RuntimeError:       # a plain script or pytest: there is only one thread anyway
            pass

    @classmethod
    def run(cls, function: Callable, *args) -> None:
        """Queue ``function(*args)`` on the kernel thread's loop (or call it now outside a kernel).

        Messages from either thread go through the one queue, so they run in the order they
        arrived; running the main thread's own at once could overtake a subshell's earlier one.
        """
        loop = cls.loop
        if loop is None or loop.is_closed():
            function(*args)
        else:
            loop.call_soon_threadsafe(function, *args)


def pin_to_kernel_thread(root: widgets.Widget) -> None:
    """Make every widget below ``root`` (and any added later) handle its messages on the kernel thread."""
    for widget in find_all_widgets(root):
        if getattr(widget, "_bk_pinned", False) or getattr(widget, "comm", None) is None:
            continue
        handler = widget._handle_msg
        widget.comm.on_msg(lambda msg, handler=handler: KernelThread.run(handler, msg))
        widget._bk_pinned = True
        if isinstance(widget, widgets.Box):
            widget.observe(lambda change: pin_to_kernel_thread(change["owner"]), names="children")


class Panel(widgets.VBox):
    """Base of every panel: a ``status`` line, ``errors`` (every exception a callback raised,
    also shown in the status) and ``guard`` to wrap callbacks so no error is lost.

    A subclass builds its children in ``__init__``; when that returns, every widget of the
    panel is pinned to the kernel thread (see ``KernelThread``).
    """

    def __init__(self, children=(), **kwargs):
        KernelThread.capture()
        self.status = Status()
        self.errors: list[str] = []
        super().__init__(children=list(children), **kwargs)
        self.add_class("bk-panel")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__init__

        @functools.wraps(build)
        def __init__(self, *args, **kwargs):
            build(self, *args, **kwargs)
            if type(self) is cls:          # the outermost __init__ is done: the panel is built
                pin_to_kernel_thread(self)

        cls.__init__ = __init__

    # --- Play / Pause, for panels with a ``play_button`` and a PlayLoop in ``self.loop`` -----
    PLAY_NEEDS_A_LOOP = "Play needs a running Jupyter kernel (an asyncio event loop); use Step here."

    def _show_playing(self, playing: bool) -> None:
        """The Play button says Pause while playing, Play when not."""
        self.play_button.description, self.play_button.icon = ("Pause", "pause") if playing else ("Play", "play")

    def _start_playing(self) -> bool:
        """Start ``self.loop``; without an event loop to play on, the status says so."""
        if self.loop.play():
            self._show_playing(True)
            return True
        self.status.show(self.PLAY_NEEDS_A_LOOP, "warning")
        return False

    def _pause(self) -> None:
        self.loop.pause()
        self._show_playing(False)

    def _loop_ended(self) -> None:
        """The PlayLoop's ``on_stop``: the button back to Play. (The last picture reaches the page
        for sure: a LiveCanvas asks again for an ask the front end ignored, and ends on a whole
        picture.)"""
        self._show_playing(False)

    def guard(self, handler: Callable) -> Callable:
        """Wrap a callback: an exception goes to the status line and ``errors``, not into the void."""
        @functools.wraps(handler)
        def guarded(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except Exception as error:       # a panel must survive anything a learner does
                self.report(error)
        return guarded

    def report(self, error: BaseException) -> None:
        self.errors.append("".join(traceback.format_exception(type(error), error, error.__traceback__)))
        message = str(error) if isinstance(error, (ValueError, TypeError)) else f"{type(error).__name__}: {error}"
        self.status.show(message, "error")

    def observe_value(self, control: widgets.Widget, handler: Callable[[], None]) -> None:
        """Call ``handler()`` (guarded) whenever ``control.value`` changes."""
        guarded = self.guard(handler)
        control.observe(lambda change: guarded(), names="value")

    def on_click(self, button_: widgets.Button, handler: Callable[[], None]) -> None:
        guarded = self.guard(handler)
        button_.on_click(lambda _: guarded())


# --- playing without blocking the kernel ---------------------------------------------

class PlayLoop:
    """Calls ``frame()`` again and again as an asyncio task on the kernel's own event loop.

    Between frames the task sleeps, so the kernel handles clicks and slider moves while a
    network trains. ``frame()`` returns False to stop (e.g. when training diverged).
    ``frame_interval`` is the time from one frame's start to the next's (1/30 s by default);
    ``pause`` the least time between frames, even when a frame overran (5 ms by default), in
    which the kernel handles what came in (clicks, the front end's requests for pictures).
    Without a running event loop (a plain script), ``play()`` runs nothing and says so.
    """

    def __init__(self, frame: Callable[[], bool], on_error: Callable[[BaseException], None],
                 on_stop: Callable[[], None] | None = None, frame_interval: float = 1 / 30,
                 pause: float = 0.005):
        self.frame = frame
        self.on_error = on_error
        self.on_stop = on_stop
        self.frame_interval = frame_interval
        self.pause_seconds = pause
        self.playing = False
        self.task: asyncio.Task | None = None
        self.frames = 0

    def play(self) -> bool:
        """Start playing; False when there is no running event loop to play on."""
        if self.playing:
            return True
        if self.task is not None and not self.task.done():
            # paused, but the task is still asleep and has not seen it: let that task go on,
            # rather than start a second one beside it (Pause then Play within one frame)
            self.playing = True
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self.playing = True
        self.task = loop.create_task(self._run())
        return True

    def pause(self) -> None:
        self.playing = False

    async def _run(self) -> None:
        try:
            while self.playing:
                started = time.perf_counter()
                if not self.step_frame():
                    break
                # sleep even when the frame overran, so the kernel can handle a click
                await asyncio.sleep(max(self.pause_seconds, self.frame_interval - (time.perf_counter() - started)))
        finally:
            self.playing = False
            if self.on_stop is not None:
                self.on_stop()

    def step_frame(self) -> bool:
        """Run one frame now; also what tests call to play synchronously. False means stop."""
        try:
            self.frames += 1
            return bool(self.frame())
        except Exception as error:
            self.on_error(error)
            return False


FRAME_BUDGET = 0.05         # seconds of training per Play frame of the comparison panels


class RunsPanel(Panel):
    """Base of the panels that train several runs side by side from the same start
    (LearningRateExplorer, BatchSizeExplorer): Play trains every run that has not diverged up
    to a goal, a chunk per frame kept under FRAME_BUDGET seconds; Step gives every run one more
    epoch; Reset starts all over; a run added while paused catches up with the others.

    A subclass builds ``runs`` (each with a ``trainer``), ``play_button``, ``canvas``, ``loop``
    (a PlayLoop of ``_frame``), ``status`` and ``_refresh()``/``_make_runs()``, and says, in its
    own unit of progress (steps, or epochs): ``_position(run)``, ``_train_to(run, target)``,
    ``_play_goal()`` (how far Play goes), ``_one_more_epoch(position)`` (where Step goes from the
    slowest run) and ``_chunk_limits()`` (the smallest and largest chunk per frame).
    """

    FRAME_BUDGET = FRAME_BUDGET
    ALL_DIVERGED = "Every run has diverged: press Reset."

    # --- what a subclass says ---
    def _position(self, run) -> float:
        raise NotImplementedError

    def _train_to(self, run, target) -> None:
        raise NotImplementedError

    def _play_goal(self) -> float:
        raise NotImplementedError

    def _one_more_epoch(self, position):
        raise NotImplementedError

    def _chunk_limits(self) -> tuple:
        raise NotImplementedError

    # --- training ---
    def _alive(self, below: float) -> list:
        """The runs that have not diverged and are short of ``below``."""
        return [run for run in self.runs if run.trainer.diverged is None and self._position(run) < below - 1e-9]

    def _advance(self, target) -> None:
        """Every run that has not diverged trains up to ``target`` (those behind catch up)."""
        for run in self._alive(target):
            self._train_to(run, target)

    def step(self) -> None:
        """One more epoch for every run, from the slowest run's position (what Step does)."""
        alive = self._alive(math.inf)
        if not alive:
            self.status.show(self.ALL_DIVERGED, "warning")
            return
        self._advance(self._one_more_epoch(min(self._position(run) for run in alive)))
        self._refresh()

    def _frame(self) -> bool:
        alive = self._alive(self._goal)
        if not alive:
            return False
        started = time.perf_counter()
        self._advance(min(self._goal, min(self._position(run) for run in alive) + self._chunk))
        elapsed = time.perf_counter() - started
        low, high = self._chunk_limits()
        if elapsed > self.FRAME_BUDGET and self._chunk > low:      # keep frames short: the kernel stays free
            self._chunk = max(low, type(low)(self._chunk / 2))
        elif elapsed < self.FRAME_BUDGET / 4 and self._chunk < high:
            self._chunk = min(high, 2 * self._chunk)
        self._refresh()
        return bool(self._alive(self._goal))

    def _toggle_play(self) -> None:
        if self.loop.playing:
            self._pause()
            return
        self._goal = self._play_goal()
        if not self._alive(self._goal):         # finished (or all diverged): play it again from the start
            self.reset()
        self._start_playing()

    def _catch_up(self) -> None:
        """After a run is added: train it up to the others, in the background if there is a loop."""
        if not self.loop.playing:
            self._goal = max(self._position(run) for run in self.runs)
            if self._alive(self._goal) and self.loop.play():
                self._show_playing(True)

    def reset(self) -> None:
        """Pause, and every run back to the initial weights (what Reset does)."""
        self._pause()
        self.runs = []
        self._make_runs()

    def _epochs_changed(self) -> None:
        if self.loop.playing:
            self._goal = self._play_goal()
        self._refresh()

# --- finding controls by their bk-* class (for tests and instructors) ----------------

def find_all_widgets(root: widgets.Widget) -> list[widgets.Widget]:
    """``root`` and every widget in its layout below it, in layout order."""
    found, stack, seen = [], [root], set()
    while stack:
        widget = stack.pop(0)
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        found.append(widget)
        stack.extend(getattr(widget, "children", ()) or ())
    return found


def find_all(root: widgets.Widget, css_class: str) -> list[widgets.Widget]:
    """Every widget below ``root`` (itself included) carrying ``css_class``, in layout order."""
    return [w for w in find_all_widgets(root) if css_class in getattr(w, "_dom_classes", ())]


def find(root: widgets.Widget, css_class: str) -> widgets.Widget:
    """The one widget below ``root`` carrying ``css_class``; a LookupError if there is none or several."""
    found = find_all(root, css_class)
    if len(found) != 1:
        raise LookupError(f"expected one widget with class {css_class!r} in {type(root).__name__}; "
                          f"found {len(found)}")
    return found[0]
