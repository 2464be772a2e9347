"""Shared pieces of every panel: the panel base (a status line, guarded callbacks, one thread for
panel code), styled controls, and finding a control by its bk-* class.

Panels are thin. They observe their controls, call the same stages and Trainer the lessons
call, and update views from ``backprop_kit.plots`` in place; their figures are shown by
``canvas.LayeredCanvas`` and Play/Pause is ``_play.PlayLoop``. Nothing here trains or plots.
"""
from __future__ import annotations

import asyncio
import functools
import html
import threading
import time
import traceback
from typing import Callable

import ipywidgets as widgets


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


class ControlValue:
    """A panel attribute that reads one of its controls: ``lr = ControlValue("lr_control", float)``."""

    def __init__(self, control: str, kind: Callable | None = None, doc: str = ""):
        self.control, self.kind, self.__doc__ = control, kind, doc or f"The value of ``{control}``."

    def __get__(self, panel, _owner=None):
        if panel is None:
            return self
        value = getattr(panel, self.control).value
        return value if self.kind is None else self.kind(value)


def intro(title: str, text: str) -> widgets.HTML:
    """A panel's first line: what it shows, in bold, then how to use it (HTML)."""
    return widgets.HTML(f"<b>{title}</b> {text}")


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


# --- one thread for all panel code --------------------------------------------------

class KernelThread:
    """The thread (and its asyncio loop) that runs the kernel's cells.

    JupyterLab 4.4+ with ipykernel 7 may deliver widget messages on a kernel *subshell*, a
    second thread. A panel's callbacks, its Play frames and its canvases' messages would then
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
