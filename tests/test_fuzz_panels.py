"""Panel fuzzing: 1,000 random control changes and button clicks per panel, some while playing.

Every value-bearing control of a panel (found by walking its widgets, not from a hand-made
list) is set to random valid values, extremes included: slider min and max, every dropdown
option, checkboxes, and for the text fields random valid lists and garbage. Every button is
clicked, Play/Pause included. The first part of the fuzz runs without an event loop (what
plain pytest and a script see); the rest runs inside ``asyncio.run`` with short awaits between
actions, so the panel's PlayLoop task trains frames between the changes, as in a kernel.

After every action:
- no exception escaped the control or the button;
- ``panel.errors`` grew only by what a learner should see: a ValueError/TypeError message for a
  garbage text entry (or a stage that met inf/NaN outputs in the StageStepper), shown in the
  status line without a traceback;
- the status line matches the Trainer's state (the step count, the divergence message);
- the plots' data match the history (the loss line is ``history.loss``, one gradient line per
  layer holding ``history.grad_norms``, ...), and the controls match the Trainer they built.

The seeds are fixed, so the actions replay exactly (while playing, how many steps a frame
trains depends on the clock); a failure names the action number and the last actions. Each
action is kept cheap: small datasets and networks through the constructors, a Playground Step
click trains at most 300 mini-batches (a smaller step size is picked first, as an action of its
own), and the Playground's Play frames train 2 ms instead of 25 ms.
"""
from __future__ import annotations

import asyncio
import math
import re
import time

import ipywidgets as widgets
import numpy as np

from backprop_kit import datasets, plots
from backprop_kit.widgets import (ActivationExplorer, BatchSizeExplorer, GradientFlowExplorer,
                                  LearningRateExplorer, Playground, StageStepper)
from backprop_kit.widgets import _play, canvas
from backprop_kit.widgets import playground as playground_module
from backprop_kit.widgets import find

ACTIONS = 1000
PLAYING_ACTIONS = 350            # of those, the last ones run inside asyncio.run
CHECK_BOUNDARY_EVERY = 25        # the boundary image costs a forward pass over the grid to check
SLEEPS = (0.0, 0.0, 0.001, 0.002, 0.005, 0.012, 0.035)   # awaits between actions while playing


# --- finding what a learner can touch -------------------------------------------------------------

def walk(root):
    """Every widget below ``root`` (itself included), once each."""
    stack, seen = [root], set()
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        yield widget
        stack.extend(getattr(widget, "children", ()) or ())


def is_optional_slider(widget) -> bool:
    """The Playground's 'off or a number' control: a checkbox and a log slider with one ``value``."""
    return isinstance(widget, widgets.HBox) and widget.has_trait("value") and hasattr(widget, "slider")


def value_controls(panel) -> list:
    """Every control with a ``value`` a learner sets: sliders and int fields (min/max), dropdowns
    (options), checkboxes, one-line text fields, and composite controls with a ``value`` trait."""
    found = []
    for widget in walk(panel):
        if isinstance(widget, widgets.Button) or not widget.has_trait("value"):
            continue
        if (widget.has_trait("options") or (widget.has_trait("min") and widget.has_trait("max"))
                or isinstance(widget, (widgets.Checkbox, widgets.Text, widgets.ToggleButton))
                or is_optional_slider(widget)):
            found.append(widget)
    return found


def buttons(panel) -> list:
    return [widget for widget in walk(panel) if isinstance(widget, widgets.Button)]


def css(widget) -> str:
    classes = [c for c in getattr(widget, "_dom_classes", ()) if c.startswith("bk-")]
    return classes[0] if classes else f"{type(widget).__name__}({getattr(widget, 'description', '')!r})"


# --- random values -----------------------------------------------------------------------------

GARBAGE_TEXT = ["", " ", ",", ",,", "abc", "0.1,,x", "-1", "0", "nan", "inf", "-inf", "1e999", "0x10",
                "1/2", "one, two", "0.1; 0.1", "½", "²", "٣", "１", "'0.1'", "[0.1, 1]", "None",
                "0.1\n1", "\t", "🙂", "0.1 " * 12, "1e-400", "-0.0", "1,2,3,4,5,6,7,8,9", "full",
                "FULL, full", "0.5", "1.5", "3.", "  8  ,  full "]


def random_rates(rng) -> str:
    pool = ["1e-300", "1e-06", "0.0001", "0.001", "0.01", "0.03", "0.1", "0.3", "1", "3", "10", "100", "1e300"]
    picks = rng.choice(pool, size=rng.integers(1, 9), replace=False)
    return rng.choice([", ", ",", " ", "; "]).join(picks)


def random_sizes(rng, n_train: int) -> str:
    pool = ["1", "2", "4", "8", str(n_train // 2), str(n_train), "full"]
    picks = list(dict.fromkeys(rng.choice(pool, size=rng.integers(1, 6))))
    return ", ".join(picks)


def random_text(widget, rng, panel) -> str:
    if rng.random() < 0.4:
        return str(rng.choice(GARBAGE_TEXT))
    if "bk-learning-rates" in widget._dom_classes:
        return random_rates(rng)
    if "bk-batch-sizes" in widget._dom_classes:
        return random_sizes(rng, len(panel.data.X_train))
    return str(rng.choice(GARBAGE_TEXT))


def extreme_or_uniform(rng, low, high, integer=False):
    """The minimum or the maximum one time in ten each, else a uniform draw."""
    pick = rng.random()
    if pick < 0.1:
        return low
    if pick < 0.2:
        return high
    return int(rng.integers(low, high + 1)) if integer else float(rng.uniform(low, high))


def random_value(widget, rng, panel):
    """A valid new value for ``widget`` (what a learner could pick), extremes included."""
    if is_optional_slider(widget):
        if rng.random() < 0.3:
            return None
        return float(10 ** extreme_or_uniform(rng, math.log10(widget.low), math.log10(widget.high)))
    if isinstance(widget, (widgets.Checkbox, widgets.ToggleButton)):
        return not widget.value
    if widget.has_trait("options"):
        return ("index", int(rng.integers(len(widget.options))))
    if isinstance(widget, widgets.FloatLogSlider):
        return float(widget.base ** extreme_or_uniform(rng, widget.min, widget.max))
    if isinstance(widget, (widgets.IntSlider, widgets.BoundedIntText)):
        return extreme_or_uniform(rng, widget.min, widget.max, integer=True)
    if widget.has_trait("min"):
        return extreme_or_uniform(rng, widget.min, widget.max)
    if isinstance(widget, widgets.Text):
        return random_text(widget, rng, panel)
    raise AssertionError(f"no random value for {css(widget)}")


class Fuzzer:
    """Random actions on a panel's controls and buttons, drawn from a seeded RNG."""

    def __init__(self, panel, seed: int, weights=None, before_click=None):
        self.panel = panel
        self.before_click = before_click
        self.rng = np.random.default_rng(seed)
        self.controls = value_controls(panel)
        self.buttons = buttons(panel)
        # plots that take clicks (the Playground's boundary: points) and moves (its network view)
        self.canvases = [w for w in walk(panel) if isinstance(w, canvas.LayeredCanvas) and w.mouse]
        self.targets = self.controls + self.buttons + self.canvases
        weights = weights or {}
        raw = np.array([weights.get(css(t), 2.0 if isinstance(t, widgets.Button) else 1.0)
                        for t in self.targets], dtype=float)
        self.p = raw / raw.sum()
        self.log: list[str] = []

    def act(self) -> tuple[str, object]:
        """Do one random action; returns (kind, widget): kind 'click', 'text' or 'set'."""
        target = self.targets[self.rng.choice(len(self.targets), p=self.p)]
        if isinstance(target, canvas.LayeredCanvas):
            return self.mouse(target)
        if isinstance(target, widgets.Button):
            if self.before_click is not None:
                self.before_click(self, target)
            self.log.append(f"click {css(target)} ({target.description})")
            target.click()
            return "click", target
        value = random_value(target, self.rng, self.panel)
        if isinstance(value, tuple) and value[0] == "index":
            self.log.append(f"{css(target)}.index = {value[1]} ({target.options[value[1]]!r})")
            target.index = value[1]
            return "set", target
        self.log.append(f"{css(target)}.value = {value!r}")
        target.value = value
        return ("text" if isinstance(target, widgets.Text) else "set"), target

    def mouse(self, target) -> tuple[str, object]:
        """A click (a Shift-click one time in three), a move or the pointer leaving, anywhere on the
        picture or a little outside it, as the page sends them."""
        kinds = ("click", "move", "leave") if target.mouse == "all" else ("click",)
        message = {"type": "mouse", "kind": str(self.rng.choice(kinds)),
                   "x": float(self.rng.uniform(-0.1, 1.1)), "y": float(self.rng.uniform(-0.1, 1.1)),
                   "shift": bool(self.rng.random() < 1 / 3)}
        self.log.append(f"{css(target)} mouse {message}")
        target._on_message(target, message, [])
        return "mouse", target

    def where(self, i: int) -> str:
        return f"action {i}: last actions:\n  " + "\n  ".join(self.log[-8:])


# --- what may land in panel.errors -------------------------------------------------------------------

def learner_message(error_text: str) -> tuple[str, str]:
    """(exception type, message) of a traceback in ``panel.errors``."""
    last = error_text.strip().splitlines()[-1]
    kind, _, message = last.partition(": ")
    return kind, message


def check_new_errors(panel, before: int, kind: str, allowed, where: str) -> None:
    """Errors may only come from actions that deserve one, as a learner's ValueError/TypeError."""
    new = panel.errors[before:]
    for text in new:
        error_type, message = learner_message(text)
        assert error_type in ("ValueError", "TypeError"), f"{where}\ninternal error:\n{text}"
        assert allowed(kind, message), f"{where}\nunexpected error for a {kind!r} action:\n{text}"
    if new:
        assert panel.status.kind == "error", where
        assert learner_message(new[-1])[1] in panel.status.text, where
    assert "Traceback" not in panel.status.text, where
    assert panel.status.kind in ("info", "warning", "error"), where


def no_errors(kind, message) -> bool:
    return False


def text_errors(*names):
    """A garbage entry in a text field: the message names the field and shows what was typed."""
    def allowed(kind, message):
        return kind == "text" and any(message.startswith(f"{name} must") or message.startswith(f"{name}[")
                                      for name in names) and "got" in message
    return allowed


def finite(values, positive=False) -> np.ndarray:
    """What a plot shows of ``values``: floats, with NaN for inf/NaN (and values <= 0 on a log axis)."""
    values = np.array(values, dtype=float)
    bad = ~np.isfinite(values)
    if positive:
        bad |= ~(values > 0)
    values[bad] = np.nan
    return values


def assert_line_shows(line, values, where, positive=False, x=None):
    """The line's y data are ``values`` (NaN where not drawable); beyond 2 * ENVELOPE_POINTS steps
    the panel draws the min/max envelope: same extremes, at most 2 * ENVELOPE_POINTS points."""
    expected = finite(values, positive)
    shown = np.asarray(line.get_ydata(), dtype=float)
    if len(expected) <= 2 * plots.ENVELOPE_POINTS:
        np.testing.assert_array_equal(shown, expected, err_msg=where)
        if x is not None:
            np.testing.assert_array_equal(np.asarray(line.get_xdata(), dtype=float), x, err_msg=where)
    else:
        assert len(shown) <= 2 * plots.ENVELOPE_POINTS, where
        if np.isfinite(expected).any():
            assert np.nanmax(shown) == np.nanmax(expected) and np.nanmin(shown) == np.nanmin(expected), where


def status_shows_divergence(panel, trainer, where):
    assert panel.status.kind == "warning", f"{where}\n{panel.status.text}"
    assert trainer.diverged in panel.status.text, f"{where}\n{panel.status.text}"


# --- the run: sync part, then inside asyncio.run ---------------------------------------------------

def fuzz(panel, fuzzer: Fuzzer, check, allowed, actions=ACTIONS, playing_actions=PLAYING_ACTIONS):
    """Run ``actions`` random actions, the last ``playing_actions`` with an event loop; check after each."""
    stats = {"frames_between_actions": 0, "actions_while_playing": 0, "diverged": 0}

    def one(i):
        before = len(panel.errors)
        try:
            kind, target = fuzzer.act()
        except Exception as error:                       # noqa: BLE001 (say which action, then fail)
            raise AssertionError(f"{fuzzer.where(i)}\nthe action raised {error!r}") from error
        check_new_errors(panel, before, kind, allowed, fuzzer.where(i))
        check(panel, fuzzer.where(i), i)
        stats["diverged"] += any(trainer.diverged for trainer in trainers(panel))

    for i in range(actions - playing_actions):
        one(i)

    async def playing():
        for i in range(actions - playing_actions, actions):
            frames = frames_so_far(panel)
            one(i)
            errors = len(panel.errors)
            await asyncio.sleep(float(fuzzer.rng.choice(SLEEPS)))
            if is_playing(panel):
                stats["actions_while_playing"] += 1
            if frames_so_far(panel) != frames:
                stats["frames_between_actions"] += 1
            where = fuzzer.where(i) + "\n(after the await: Play frames ran)"
            check_new_errors(panel, errors, "frame", allowed, where)      # a frame may never fail
            check(panel, where, i)
        pause(panel)
        await asyncio.sleep(0.05)                           # let the paused task see it and stop
        assert not is_playing(panel)
        check(panel, "after the fuzz, paused", -1)

    asyncio.run(playing())
    return stats


def trainers(panel) -> list:
    if hasattr(panel, "trainers"):
        return panel.trainers
    return [panel.trainer] if hasattr(panel, "trainer") else []


def loop_of(panel):
    return getattr(panel, "loop", None)


def is_playing(panel) -> bool:
    loop = loop_of(panel)
    return loop is not None and loop.playing


def task_running(panel) -> bool:
    """The play task is still there (playing, or paused but not yet woken to see it)."""
    loop = loop_of(panel)
    return loop is not None and loop.task is not None and not loop.task.done()


def frames_so_far(panel):
    """Which play loop, and how many frames it ran."""
    loop = loop_of(panel)
    return (id(loop), loop.frames) if loop is not None else 0


def pause(panel) -> None:
    if is_playing(panel):
        find(panel, "bk-play").click()


def play_button_matches(panel, where):
    play = find(panel, "bk-play")
    assert play.description == ("Pause" if is_playing(panel) else "Play"), where


def reset_then_step_works(panel, trainer_of):
    """Never frozen: after the fuzz, Reset gives a fresh run and Step trains it."""
    find(panel, "bk-reset").click()
    trainer = trainer_of(panel)
    assert trainer.steps == 0 and trainer.diverged is None
    find(panel, "bk-step").click()
    assert trainer_of(panel).steps > 0 or trainer_of(panel).diverged


# --- Playground ---------------------------------------------------------------------------------------

def time_frame_shows(panel) -> None:
    """Note in ``panel.frame_show_started`` when each Play frame's show began (``_show(playing=True)``,
    the only show that may leave the status line as it was)."""
    show = panel._show
    panel.frame_show_started = None

    def timed(playing=False):
        if playing:
            panel.frame_show_started = time.monotonic()
        return show(playing=playing)

    panel._show = timed


def status_may_lag(panel) -> bool:
    """While playing, a frame changes the status line only when it was shown STATUS_SECONDS or more
    before: the line may lag when the latest frame's show began sooner than that after it. (Not
    "sooner than that before now": the test looks later than the frame, at a time of its own.)"""
    started = panel.frame_show_started
    return started is not None and started - panel.status.shown_at < playground_module.STATUS_SECONDS


def check_playground(panel, where, i):
    trainer, c, views = panel.trainer, panel.controls, panel.views
    history, data = trainer.history, trainer.data
    # the controls and the Trainer they built (live changes reached it)
    assert trainer.lr == c["lr"].value, where
    assert trainer.batch_size == c["batch_size"].value and c["batch_size"].max == max(len(data.X_train), 1), where
    assert trainer.clip == c["clip"].value and trainer.l2 == (c["l2"].value or 0.0), where
    assert trainer.optimizer.name == c["optimizer"].value and trainer.seed == c["seed"].value, where
    assert data.name == c["dataset"].value, where
    points = panel._raw              # the points as made, or as clicked since (panel._edited)
    if not panel._edited:
        assert len(points.X_train) + len(points.X_test) == c["n"].value, where
    features = c["features"].value if points.n_inputs == 2 else None
    expected_X = points.X_train if features in (None, ("x1", "x2")) else datasets.features(points.X_train, features) \
        if len(points.X_train) else np.empty((0, len(features)))
    np.testing.assert_array_equal(data.X_train, expected_X, err_msg=where + "\n(the inputs the network reads)")
    assert trainer.net.sizes == ((data.n_inputs,) + (c["neurons"].value,) * c["layers"].value
                                 + (data.n_outputs,)), where
    assert set(trainer.net.activations[:-1]) <= {c["activation"].value}, where
    if data.name in datasets.MULTICLASS:
        assert data.classes == c["classes"].value, where
    # the status line
    if trainer.diverged:
        status_shows_divergence(panel, trainer, where)
    elif panel.status.text != _play.NO_LOOP:
        refused = panel.status.text.startswith("point refused: ")       # a click that adds no point
        assert panel.status.kind == ("warning" if refused else "info"), f"{where}\n{panel.status.text}"
        if is_playing(panel) and status_may_lag(panel):
            shown = int(re.search(r"step (\d+)", panel.status.text).group(1))
            assert shown <= trainer.steps, f"{where}\n{panel.status.text}"
        else:
            assert f"epoch {trainer.epoch}, step {trainer.steps}" in panel.status.text, f"{where}\n{panel.status.text}"
    play_button_matches(panel, where)
    # the plots: the loss line is the history, one gradient line per layer
    log = views.loss.log
    assert_line_shows(views.loss.step_line, history.loss, where + "\n(loss per step)", positive=log)
    assert_line_shows(views.loss.train_line, history.train_loss, where + "\n(train loss per epoch)",
                      positive=log, x=np.asarray(history.epoch_steps, dtype=float))
    assert_line_shows(views.loss.test_line, history.test_loss, where + "\n(test loss per epoch)", positive=log)
    norms = history.grad_norms
    assert len(views.gradients.lines) == trainer.net.n_layers == norms.shape[1], where
    assert views.gradients.smoothed.shape == norms.shape, where
    for line, raw, column, smoothed in zip(views.gradients.lines, views.gradients.raw_lines, norms.T,
                                           views.gradients.smoothed.T):
        assert_line_shows(line, smoothed, where + "\n(smoothed gradient norms)", positive=True)
        assert_line_shows(raw, column, where + "\n(gradient norms)", positive=True)
    assert views.gradients.clip == trainer.clip, where
    assert views.boundary.dataset is points and views.network.dataset is points, where
    assert views.network.show == c["show"].value, where
    # while playing, the boundary is redrawn every few frames (BOUNDARY_PACE), and once more when the
    # play task has seen a Pause and stopped: check it only then
    if i % CHECK_BOUNDARY_EVERY == 0 and not task_running(panel) and views.boundary.image is not None \
            and data.task == "binary":
        expected = finite(views.boundary.evaluate(trainer.net)[:, 0]).reshape(views.boundary.image.get_array().shape)
        np.testing.assert_array_equal(np.ma.filled(views.boundary.image.get_array(), np.nan), expected,
                                      err_msg=where + "\n(boundary image)")


MAX_STEPS_PER_CLICK = 300       # mini-batches
MAX_SAMPLES_PER_CLICK = 3000    # mini-batches x batch size


def keep_step_clicks_cheap(fuzzer, button):
    """Before a Step click that would train more than MAX_STEPS_PER_CLICK mini-batches or
    MAX_SAMPLES_PER_CLICK samples (10 epochs of batches of 1 on 2,000 points: 14,000 steps), pick
    the largest step size under those limits first, as an action of its own. Every step size is
    still used, each where it is cheap."""
    panel = fuzzer.panel
    if "bk-step" not in button._dom_classes:
        return
    trainer, menu = panel.trainer, panel.controls["step_size"]
    limit = min(MAX_STEPS_PER_CLICK, max(1, MAX_SAMPLES_PER_CLICK // trainer.batch_size))

    def steps(name):
        unit, count = playground_module.STEP_SIZES[name]
        return count * (trainer.steps_per_epoch if unit == "epochs" else 1)

    if steps(menu.value) > limit:
        cheaper = max((name for name in menu.options if steps(name) <= limit), key=steps, default="1 step")
        fuzzer.log.append(f"bk-step-size.value = {cheaper!r} (a cheaper Step)")
        menu.value = cheaper


def test_playground_survives_1000_random_actions_including_while_playing(monkeypatch):
    monkeypatch.setattr(_play, "FRAME_SECONDS", 0.002)    # short frames: more actions per second
    panel = Playground(n=60, neurons=4, layers=1, step_size="1 step", seed=0)
    time_frame_shows(panel)
    fuzzer = Fuzzer(panel, seed=1, weights={"bk-step": 4.0, "bk-play": 3.0, "bk-learning-rate": 2.0,
                                            "bk-n": 0.5, "bk-neurons": 0.5,
                                            "bk-layers": 0.5, "bk-as-code": 0.5, "bk-clear-points": 0.3,
                                            "bk-plot-boundary": 3.0, "bk-plot-network": 1.5},
                    before_click=keep_step_clicks_cheap)
    found = {css(c) for c in fuzzer.controls}
    assert {f"bk-{name.replace('_', '-')}" for name in playground_module.RESET_CONTROLS if name != "features"} <= found
    assert {f"ToggleButton({name!r})" for name in datasets.FEATURES} <= found      # the inputs, one toggle each
    assert {"bk-learning-rate", "bk-batch-size", "bk-l2", "bk-clip", "bk-step-size", "bk-log-loss"} <= found
    assert {css(b) for b in fuzzer.buttons} == {"bk-play", "bk-step", "bk-reset", "bk-as-code", "bk-clear-points"}
    assert {css(c) for c in fuzzer.canvases} == {"bk-plot-boundary", "bk-plot-network"}
    assert {"bk-add-class", "bk-network-show"} <= found and len(panel.controls["features"].toggles) == 7
    stats = fuzz(panel, fuzzer, check_playground, no_errors)
    assert panel.errors == []
    assert stats["actions_while_playing"] > 30 and stats["frames_between_actions"] > 10, stats
    assert stats["diverged"] > 0, stats
    # the run's record still rebuilds it bit for bit, after all those live changes and frames
    namespace = {}
    exec(panel.as_code().replace("print(trainer)", ""), namespace)
    rebuilt = namespace["trainer"]
    assert rebuilt.steps == panel.trainer.steps
    for W, W_panel in zip(rebuilt.net.weights, panel.trainer.net.weights):
        np.testing.assert_array_equal(W, W_panel)
    reset_then_step_works(panel, lambda p: p.trainer)
    assert panel.errors == []


# --- StageStepper ---------------------------------------------------------------------------------------

def check_stage_stepper(panel, where, i):
    enabled = [stage for stage, b in panel.stage_buttons.items() if not b.disabled]
    assert enabled == [panel.next_stage], where
    expected_losses = panel.batch_number - (1 if panel.next_stage == "loss" else 0)
    assert len(panel.losses) == expected_losses, where
    np.testing.assert_array_equal(panel.loss_line.get_ydata(), np.asarray(panel.losses, dtype=float),
                                  err_msg=where)
    blocks = panel.board.blocks
    if panel.batch_number:
        np.testing.assert_array_equal(blocks["X"].values, panel.X, err_msg=where)
        for k, z in enumerate(panel.trace.pre, start=1):
            np.testing.assert_array_equal(blocks[f"z{k}"].values, z, err_msg=where)
        if panel.next_stage != "loss":
            np.testing.assert_array_equal(blocks["sample_loss"].values.ravel(), panel.sample_losses, err_msg=where)
    else:
        assert np.isnan(blocks["X"].values).all(), where
    assert panel.net.activations[:-1] == (panel.activation,) * (panel.net.n_layers - 1), where
    text = panel.status.text
    if panel.status.kind == "error":
        assert "Reset" in text and "inf or NaN" in text, f"{where}\n{text}"
    elif text.startswith("Not yet"):
        assert panel.status.kind == "warning" and f"the next stage is {panel.next_stage.title()}" in text, where
    else:
        assert panel._next_text() in text, f"{where}\n{text}"


def stage_errors(kind, message) -> bool:
    """A stage that meets inf/NaN outputs or gradients (a learning rate of 10 can do it) says so and
    stops; nothing else may fail."""
    return (kind == "click" and message.startswith(("The outputs of batch", "The gradients of batch"))
            and "are inf or NaN" in message and "learning rate" in message)


def test_stage_stepper_survives_1000_random_actions():
    panel = StageStepper(dataset="sine", layers=2, neurons=4, seed=0)     # regression blows up readily
    # (the seed: one whose walk reaches blown-up states with the registry's activations as they are;
    # a new activation in the menu changes the walk)
    fuzzer = Fuzzer(panel, seed=3, weights={"bk-step": 4.0, "bk-reset": 0.7, "bk-activation": 0.7})
    assert {css(c) for c in fuzzer.controls} == {"bk-activation", "bk-learning-rate"}
    assert {css(b) for b in fuzzer.buttons} == {"bk-forward", "bk-loss", "bk-gradient", "bk-update",
                                                "bk-step", "bk-reset", "bk-gradcheck"}
    fuzz(panel, fuzzer, check_stage_stepper, stage_errors, playing_actions=100)
    assert panel.errors, "no stage met inf/NaN: the fuzz missed the blown-up states"
    find(panel, "bk-reset").click()
    find(panel, "bk-step").click()
    assert len(panel.losses) == 1 and np.isfinite(panel.losses[0]) and panel.status.kind == "info"


# --- ActivationExplorer ---------------------------------------------------------------------------------

def check_activation(panel, where, i):
    net, trainer = panel.net, panel.trainer
    assert net is trainer.net, where
    assert net.n_layers - 1 == panel.layers and net.activations[:-1] == (panel.activation,) * panel.layers, where
    assert [v for _, v in panel.layer_control.options] == list(range(1, panel.layers + 1)), where
    assert 1 <= panel.layer <= panel.layers and len(panel.saturated_shares) == panel.layers, where
    np.testing.assert_array_equal(panel.pre_activations, panel.trace.pre[panel.layer - 1], err_msg=where)
    assert panel.view.activation.name == panel.activation, where
    z = np.asarray(panel.pre_activations, dtype=float).ravel()
    z = z[np.isfinite(z)]
    counts, _ = np.histogram(np.clip(z, *panel.view.Z_RANGE), bins=panel.view.edges)
    np.testing.assert_allclose(panel.view.histogram.get_data().values, counts / max(len(z), 1), err_msg=where)
    if trainer.diverged:
        status_shows_divergence(panel, trainer, where)
    else:
        assert panel.status.kind == "info", f"{where}\n{panel.status.text}"


def test_activation_explorer_survives_1000_random_actions():
    panel = ActivationExplorer(layers=2, neurons=4, dataset="sine", lr=3.0, seed=0)
    fuzzer = Fuzzer(panel, seed=3)
    assert {css(c) for c in fuzzer.controls} == {"bk-activation", "bk-init", "bk-scale", "bk-layers", "bk-layer"}
    assert {css(b) for b in fuzzer.buttons} == {"bk-step", "bk-reset"}
    stats = fuzz(panel, fuzzer, check_activation, no_errors, playing_actions=100)
    assert stats["diverged"] > 20, stats            # a learning rate of 3 diverges now and then
    assert panel.errors == []
    reset_then_step_works(panel, lambda p: p.trainer)


# --- LearningRateExplorer and BatchSizeExplorer ---------------------------------------------------------

def check_runs_status(panel, where, epochs_done, unit):
    if panel.status.kind == "error":          # a garbage entry is on show: checked by check_new_errors
        return
    alive = [run for run in panel.runs if run.trainer.diverged is None]
    diverged = [run for run in panel.runs if run.trainer.diverged]
    text = panel.status.text
    if text.startswith("Play needs a running"):
        return
    if text.startswith("Every run has diverged"):
        assert not alive and panel.status.kind == "warning", where
        return
    epoch = min(epochs_done(r) for r in alive) if alive else max(epochs_done(r) for r in panel.runs)
    assert text.startswith(f"epoch {epoch:{unit}} of {panel.epochs}"), f"{where}\n{text}"
    if diverged:
        assert panel.status.kind == "warning" and diverged[0].trainer.diverged in text, f"{where}\n{text}"
    else:
        assert panel.status.kind == "info", f"{where}\n{text}"


def check_learning_rates(panel, where, i):
    rates = [run.lr for run in panel.runs if not run.yours]
    assert rates == sorted(rates) and tuple(rates) == panel._landmarks, where
    yours = [run for run in panel.runs if run.yours]
    assert [r.lr for r in yours] == ([] if panel.your_lr is None else [panel.your_lr])
    assert len(panel.verdicts) == len(panel.runs), where
    for run, verdict in zip(panel.runs, panel.verdicts):
        assert run.trainer.lr == run.lr and run.trainer.data is panel.data, where
        curve = np.array([run.initial_loss, *run.trainer.history.train_loss])
        shown = np.asarray(run.line.get_ydata(), dtype=float)
        np.testing.assert_array_equal(shown[:len(curve)], curve, err_msg=where)
        assert len(shown) == len(curve) + (1 if run.trainer.diverged else 0), where
        assert (verdict.kind == "diverged") == bool(run.trainer.diverged), where
    check_runs_status(panel, where, lambda run: run.trainer.epoch, "")
    play_button_matches(panel, where)


def test_learning_rate_explorer_survives_1000_random_actions_including_while_playing():
    panel = LearningRateExplorer(lrs=(0.01, 1.0, 10.0), dataset="xor", n=40, layers=1, neurons=4,
                                 epochs=5, batch_size=8, seed=0)
    fuzzer = Fuzzer(panel, seed=4, weights={"bk-play": 3.0, "bk-learning-rates": 2.0})
    assert {css(c) for c in fuzzer.controls} == {"bk-learning-rates", "bk-learning-rate", "bk-dataset", "bk-epochs"}
    assert {css(b) for b in fuzzer.buttons} == {"bk-play", "bk-step", "bk-reset"}
    stats = fuzz(panel, fuzzer, check_learning_rates, text_errors("learning rates"))
    assert stats["actions_while_playing"] > 30 and stats["diverged"] > 10, stats
    reset_then_step_works(panel, lambda p: p.trainers[0])


def check_batch_sizes(panel, where, i):
    n_train = len(panel.data.X_train)
    sizes = [(run.batch_size, run.full) for run in panel.runs if not run.yours]
    assert sizes == sorted(sizes) and tuple(sizes) == panel._landmarks, where
    assert all(1 <= size <= n_train and (size == n_train or not full) for size, full in sizes), where
    assert panel.yours_control.max == n_train, where
    for run in panel.runs:
        assert run.trainer.batch_size == run.batch_size and run.trainer.lr == panel.lr, where
        losses = run.trainer.history.loss
        np.testing.assert_array_equal(run.step_line.get_ydata(), finite(losses, positive=True), err_msg=where)
        np.testing.assert_array_equal(run.epoch_line.get_ydata(),
                                      np.array([run.initial_loss, *run.trainer.history.train_loss]), err_msg=where)
    check_runs_status(panel, where, lambda run: run.epochs_done, ".3g")
    play_button_matches(panel, where)


def test_batch_size_explorer_survives_1000_random_actions_including_while_playing():
    panel = BatchSizeExplorer(batch_sizes=(4, "full"), dataset="xor", n=40, layers=1, neurons=4, epochs=5, seed=0)
    fuzzer = Fuzzer(panel, seed=5, weights={"bk-play": 3.0, "bk-batch-sizes": 2.0})
    assert {css(c) for c in fuzzer.controls} == {"bk-batch-sizes", "bk-batch-size", "bk-dataset",
                                                 "bk-learning-rate", "bk-epochs"}
    assert {css(b) for b in fuzzer.buttons} == {"bk-play", "bk-step", "bk-reset"}
    stats = fuzz(panel, fuzzer, check_batch_sizes, text_errors("batch sizes"))
    assert stats["actions_while_playing"] > 30 and stats["diverged"] > 10, stats
    reset_then_step_works(panel, lambda p: p.trainers[0])


# --- GradientFlowExplorer -----------------------------------------------------------------------------------

def check_gradient_flow(panel, where, i):
    trainer, view = panel.trainer, panel.gradient_view
    assert trainer.clip == panel.clip_control.value and trainer.lr == panel.lr_control.value, where
    net = trainer.net
    assert net.sizes[1:-1] == (panel.neurons_control.value,) * panel.layers, where
    assert net.activations[:-1] == (panel.activation_control.value,) * panel.layers, where
    norms = trainer.history.grad_norms
    assert len(view.lines) == net.n_layers == norms.shape[1] == len(panel.bars), where
    for raw, column in zip(view.raw_lines, norms.T):
        assert_line_shows(raw, column, where + "\n(gradient norms)", positive=True)
    assert view.clip == trainer.clip, where
    assert len(panel.start_norms) == len(panel.current_norms) == net.n_layers, where
    text = panel.status.text
    if text.startswith("Play needs a running"):
        return
    assert text.startswith(plots.status(trainer)), f"{where}\n{text}"
    if trainer.diverged:
        status_shows_divergence(panel, trainer, where)
    else:
        assert panel.status.kind == "info", where
    play_button_matches(panel, where)


def test_gradient_flow_explorer_survives_1000_random_actions_including_while_playing():
    panel = GradientFlowExplorer(layers=3, neurons=4, dataset="xor", n=40, batch_size=8, seed=0)
    fuzzer = Fuzzer(panel, seed=6, weights={"bk-play": 3.0, "bk-layers": 0.5, "bk-neurons": 0.5})
    assert {css(c) for c in fuzzer.controls} == {"bk-layers", "bk-neurons", "bk-activation", "bk-init",
                                                 "bk-scale", "bk-clip", "bk-learning-rate"}
    assert {css(b) for b in fuzzer.buttons} == {"bk-play", "bk-step", "bk-reset"}
    stats = fuzz(panel, fuzzer, check_gradient_flow, no_errors)
    assert panel.errors == []
    assert stats["actions_while_playing"] > 30 and stats["diverged"] > 0, stats
    reset_then_step_works(panel, lambda p: p.trainer)
