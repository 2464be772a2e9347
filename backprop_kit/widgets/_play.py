"""Play/Pause: training in frames on the kernel's event loop, with one frame-budget policy.

Every panel that plays (Playground, LearningRateExplorer, BatchSizeExplorer, GradientFlowExplorer)
makes one PlayLoop with its Play button and two functions:

    train(budget) -> True (go on) | False (stop after showing) | None (nothing to train: stop now)
                     trains for about ``budget`` seconds (a Rate turns seconds into its own units:
                     steps, epochs), then
    show()        -> updates the views, the canvases and the status line.

Between frames the task sleeps a moment, so the kernel handles clicks and slider moves while a
network trains. How long a frame trains is the FrameBudget's call, the same for every panel.
A panel whose training goes on elsewhere (the Playground's worker process: ``_worker``) makes
its ``train`` fetch that training's latest state and sets ``loop.tick``: frames then start a
tick apart, and the kernel sleeps in between.
"""
from __future__ import annotations

import asyncio
import collections
import math
import time
from typing import Callable

# A frame trains FRAME_SECONDS, or more when the rest of a frame (showing it, sending it, handling
# clicks) took longer, so that training keeps TRAINING_SHARE of the kernel's time: about 20 frames
# a second while showing takes under ~12 ms a frame, and fewer (but most of the time for training)
# when showing costs more (a panel whose figure Matplotlib draws whole each frame, a slow machine).
FRAME_SECONDS = 0.035
TRAINING_SHARE = 0.75
MAX_FRAME_SECONDS = 0.25
PAUSE_SECONDS = 0.0005     # the least sleep between frames: a cell run while playing waits ~50 ms, not ~250
NO_LOOP = "Play needs a running Jupyter kernel (an asyncio event loop); use Step here."


class FrameBudget:
    """Seconds of training for each frame: FRAME_SECONDS, or TRAINING_SHARE of the time when the
    rest of a frame is slower than that leaves room for; plus, for a while, time to catch up
    after an occasional long interruption (a full redraw of a plot), so that over the last
    seconds training gets its share while the frames keep coming. ``clock``: seconds (injectable,
    so that a test can make the pacing deterministic)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self._others = collections.deque(maxlen=9)   # time between one frame's training and the next's
        self.start()

    def start(self) -> None:
        """A new Play: forget what the last one measured."""
        self._trained_until = None           # clock() when the last frame's training ended
        self._others.clear()
        self._spent = [0.0, 0.0]             # recent seconds of training, and of all else
        self._last = 0.0                     # seconds the last frame trained

    def __call__(self) -> float:
        """The seconds the frame starting now may train."""
        now = self.clock()
        if self._trained_until is None:     # the first frame of a Play
            return FRAME_SECONDS
        ratio = TRAINING_SHARE / (1.0 - TRAINING_SHARE)
        other = now - self._trained_until    # all the kernel did since the last frame's training
        self._others.append(other)
        decay = 0.5 ** ((self._last + other) / 2.0)    # the accounts look back ~2 s
        trained, elsewhere = self._spent
        self._spent = [trained * decay, (elsewhere + other) * decay]
        typical = sorted(self._others)[len(self._others) // 3]     # a full redraw now and then is not typical
        budget = max(FRAME_SECONDS, ratio * typical)
        behind = ratio * self._spent[1] - self._spent[0]
        return min(budget + min(max(behind, 0.0), budget), MAX_FRAME_SECONDS)

    def trained(self, seconds: float) -> None:
        """The frame's training took ``seconds`` and has just ended."""
        self._trained_until = self.clock()
        self._spent[0] += seconds
        self._last = seconds

    def between_trainings(self) -> list[float]:
        """The last few times (s) between one frame's training and the next's (for measurements)."""
        return sorted(self._others)


class Rate:
    """Seconds per unit of training (a step, an epoch of every run), measured frame by frame."""

    def __init__(self, seconds_per_unit: float = 1e-3):
        self.seconds = seconds_per_unit
        self.per_second = math.nan           # units per second in the last frame (nan: none yet)

    def units(self, budget: float) -> float:
        """How many units fit in ``budget`` seconds."""
        return budget / self.seconds

    def measured(self, units: float, seconds: float) -> None:
        if units > 0 and seconds > 0:
            per_unit = seconds / units
            self.seconds = 0.5 * self.seconds + 0.5 * per_unit
            self.per_second = 1.0 / per_unit


def train_for(trainer, budget: float, rate: Rate, clock: Callable[[], float], most: int) -> bool | None:
    """A Play frame's training of one Trainer: about ``budget`` seconds of steps (``rate`` says how
    many; at least 1, at most ``most``), measured into ``rate``. None when it had diverged already;
    else whether it is still fine (False: it diverged now)."""
    if trainer.diverged:
        return None
    steps = int(min(most, max(1, rate.units(budget))))
    before, started = trainer.steps, clock()
    trainer.step(steps)
    rate.measured(trainer.steps - before, clock() - started)
    return trainer.diverged is None


class PlayLoop:
    """Play/Pause of one panel: ``button`` says Play or Pause, and frames of ``train`` and ``show``
    (see the module docstring) run as an asyncio task on the kernel's own event loop.

    ``prepare()`` (optional) runs when Play is pressed, before playing: False refuses to play
    (e.g. a diverged run: it says why itself). ``on_pause()`` runs when Pause stops a Play (at once,
    e.g. to show where training stopped); ``on_stop()`` when the task has stopped.
    ``say(text, kind)`` shows NO_LOOP when there is no event loop to play on (a plain script);
    ``on_error(exception)`` gets what a frame raised (and the loop stops).
    """

    def __init__(self, button, train: Callable[[float], bool | None], show: Callable[[], None], *,
                 say: Callable, on_error: Callable[[BaseException], None], prepare: Callable[[], bool] | None = None,
                 on_pause: Callable[[], None] | None = None, on_stop: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.button, self.train, self.show = button, train, show
        self.say, self.on_error, self.prepare = say, on_error, prepare
        self.on_pause, self.on_stop = on_pause, on_stop
        self.budget = FrameBudget(clock)
        self.playing = False
        self.task: asyncio.Task | None = None
        self.frames = 0
        self.live = False         # True while the Play task runs its frames (not a test's step_frame)
        # None: the next frame starts after PAUSE_SECONDS. A number: frames start this many seconds
        # apart (a panel whose training goes on elsewhere, in a worker process, sets it)
        self.tick: float | None = None
        self._frame_started = 0.0

    @property
    def clock(self) -> Callable[[], float]:
        return self.budget.clock

    def toggle(self) -> None:
        """What the Play/Pause button does."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> bool:
        """Play (after ``prepare``); False when refused or when there is no event loop to play on."""
        if self.playing:
            return True
        if self.prepare is not None and not self.prepare():
            return False
        return self.start()

    def start(self) -> bool:
        """Play without ``prepare`` (e.g. to let a new run catch up with the others)."""
        if self.playing:
            return True
        if self.task is not None and not self.task.done():
            # paused, but the task is still asleep and has not seen it: let that task go on,
            # rather than start a second one beside it (Pause then Play within one frame)
            self._set(True)
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.say(NO_LOOP, "warning")
            return False
        self.budget.start()
        self._set(True)
        self.task = loop.create_task(self._run())
        return True

    def pause(self) -> None:
        playing = self.playing
        self._set(False)
        if playing and self.on_pause is not None:
            self.on_pause()

    def _set(self, playing: bool) -> None:
        self.playing = playing
        button = self.button
        button.description, button.icon = ("Pause", "pause") if playing else ("Play", "play")
        button.button_style = "warning" if playing else "success"

    async def _run(self) -> None:
        self.live = True
        try:
            while self.playing and self.step_frame():
                await asyncio.sleep(self._rest())    # the kernel handles a click, a picture's ack
        finally:
            self.live = False
            self._set(False)
            if self.on_stop is not None:
                self.on_stop()

    def _rest(self) -> float:
        """Seconds to sleep before the next frame: PAUSE_SECONDS, or the rest of the tick."""
        if self.tick is None:
            return PAUSE_SECONDS
        return max(PAUSE_SECONDS, self._frame_started + self.tick - self.clock())

    def step_frame(self) -> bool:
        """Run one frame now (also what tests call to play synchronously); False means stop."""
        self.frames += 1
        try:
            started = self._frame_started = self.clock()
            go_on = self.train(self.budget())
            if go_on is None:
                return False
            self.budget.trained(self.clock() - started)
            self.show()
            return bool(go_on)
        except Exception as error:        # a panel must survive anything; the error goes to its status
            self.on_error(error)
            return False
