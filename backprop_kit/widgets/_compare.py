"""What the panels that compare runs share (LearningRateExplorer, BatchSizeExplorer).

Each run trains the same Network (one object: the same initial weights) with a Trainer of the
same seed (the same mini-batches in the same order); one setting differs from run to run. The
learner names the runs in a text field (the "landmarks") and adds one of their own with a slider.
Play trains every run that has not diverged up to the epochs set, Step gives every run one more
epoch, Reset starts all over, a run added while paused catches up with the others. Under the
plot, a table with a row per run; the status line says how far they are and which diverged.

A subclass says what differs: ``_parse_landmarks(text)``, ``_wanted()`` (the runs' keys, yours
last), ``_new_run(key)`` (a Run whose ``key`` and ``label`` say which it is), ``_make_lines()``,
``_draw()`` (the plot's data), ``TABLE`` (the table's columns) and ``_cells(run)`` (a row's cells after the run's own), ``_what()`` (the status line's summary),
and in its unit of progress (steps, or epochs): ``_position(run)``, ``_train_to(run, target)``,
``_play_goal()``, ``_one_more_epoch(position)``, ``_chunk_limits()``.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib
import numpy as np

from .. import activations, datasets
from ..network import Network
from ..training import Trainer
from . import _args, _base, canvas
from ._play import PlayLoop, Rate

TEST_FRACTION = 0.25       # datasets.make's split
# the arguments every comparison panel takes (each adds its own: what its runs compare)
ARGUMENTS = {
    "dataset": _args.Choice(datasets.NAMES), "epochs": _args.Whole(1, 1000), "layers": _args.Whole(0, 8),
    "neurons": _args.Whole(1, 256), "activation": _args.Choice(activations.HIDDEN), "n": _args.Whole(20, 5000),
    "noise": _args.Number(0, 2), "seed": _args.SEED,
}
RUN_COLOURS = ("#1f4e79", "#2a9d8f", "#e09f3e", "#c0392b")     # navy, teal, amber, red: small -> large
RUN_COLOURMAP = matplotlib.colors.LinearSegmentedColormap.from_list("bk_runs", RUN_COLOURS)
YOURS = "#111111"          # the learner's own run: black, dashed


def run_colours(count: int) -> list:
    """One colour per run, from navy (the smallest value) through teal and amber to red (the largest):
    up to four runs get those exact colours, more get colours between them."""
    if count <= len(RUN_COLOURS):
        picks = np.round(np.linspace(0, len(RUN_COLOURS) - 1, count)).astype(int) if count > 1 else [0]
        return [RUN_COLOURS[i] for i in picks]
    return [RUN_COLOURMAP(x) for x in np.linspace(0.0, 1.0, count)]


@dataclass
class Run:
    """One run: its Trainer, the training-set loss before training, and whether it is the learner's."""

    trainer: Trainer
    initial_loss: float
    yours: bool = False
    colour: str = YOURS

    @property
    def curve(self) -> np.ndarray:
        """(epochs + 1,): the loss on the training set before training, then after each epoch."""
        return np.array([self.initial_loss, *self.trainer.history.train_loss])

    @property
    def epochs_done(self) -> float:
        """Epochs trained, with fractions: steps / steps per epoch."""
        return self.trainer.steps / self.trainer.steps_per_epoch

    @property
    def diverged_at(self) -> int | None:
        return self.trainer.steps if self.trainer.diverged else None


class RunsPanel(_base.Panel):
    """Base of the panels that compare runs (see the module docstring)."""

    NAME = "run"                       # what a run is called in the status line ("rate", "batch size")
    TABLE: tuple = ()                  # the table's columns, the run's own first
    NOTE = ""                          # the line under the table
    ALL_DIVERGED = "Every run has diverged: press Reset."

    def __init__(self, s: dict, data, *, css_class: str, landmarks: widgets.Text, yours: widgets.Widget,
                 hint: str, settings=(), figsize=(7.4, 3.5), epochs_max: int = 200):
        super().__init__()
        self.add_class(css_class)
        self.layers, self.neurons, self.activation = s["layers"], s["neurons"], s["activation"]
        self.n, self.noise, self.seed = s["n"], s["noise"], s["seed"]
        self.runs: list = []
        self._goal = 0
        self._rate = Rate()
        self.landmarks_control, self.yours_control = landmarks, yours
        self.dataset_control = _base.styled(widgets.Dropdown(options=datasets.NAMES, value=data.name,
                                                             description="dataset"), "bk-dataset")
        self.epochs_control = _base.styled(widgets.IntSlider(
            value=s["epochs"], min=1, max=max(epochs_max, s["epochs"]), description="epochs",
            continuous_update=False), "bk-epochs")
        self.play_button = _base.button("Play", "bk-play", icon="play", style="success",
                                        tooltip=f"train every {self.NAME} up to the epochs set; again to pause")
        self.step_button = _base.button("Step", "bk-step", icon="step-forward",
                                        tooltip=f"one epoch for every {self.NAME}")
        self.reset_button = _base.button("Reset", "bk-reset", icon="undo", tooltip="back to the initial weights")
        self.figure, self.canvas = canvas.live_figure(*figsize, "bk-plot-loss")
        self.table = widgets.HTML()
        self.table.add_class("bk-table")
        self.loop = PlayLoop(self.play_button, self._train, self._refresh, say=self.status.show,
                             on_error=self.report, prepare=self._prepare_play)
        self.observe_value(landmarks, self._landmarks_changed)
        self.observe_value(yours, self._yours_changed)
        self.observe_value(self.dataset_control, self._dataset_changed)
        self.observe_value(self.epochs_control, self._epochs_changed)
        self.on_click(self.play_button, self.loop.toggle)
        self.on_click(self.step_button, self.step)
        self.on_click(self.reset_button, self.reset)
        hint = widgets.HTML(f'<span style="font-size:12px;color:#555">{hint}</span>')
        column = widgets.VBox([self.dataset_control, *settings, self.epochs_control,
                               widgets.HBox([self.play_button, self.step_button, self.reset_button])])
        self.children = [widgets.HBox([widgets.VBox([landmarks, yours, hint]), column]),
                         self.canvas, self.table, self.status]

    # --- the runs ---------------------------------------------------------------------------------
    @property
    def trainers(self) -> list[Trainer]:
        return [run.trainer for run in self.runs]

    @property
    def epochs(self) -> int:
        return self.epochs_control.value

    def _new_dataset(self, data) -> None:
        """Every run afresh on ``data``, from one new Network."""
        self.data = data
        self.initial_net = Network([data.n_inputs] + [self.neurons] * self.layers + [data.n_outputs],
                                   activation=self.activation, output=data.output, seed=self.seed)
        # the loss before training (a batch size that fits any training set: it only evaluates)
        self._initial_loss = Trainer(self.initial_net, data, batch_size=len(data.X_train)).evaluate("train")[0]
        self.runs = []
        self._make_runs()

    def _make_runs(self) -> None:
        """A run for each wanted key, keeping those that exist already; new lines and colours."""
        kept = {run.key: run for run in self.runs}
        self.runs = [kept.get(key) or self._new_run(key) for key in self._wanted()]
        colours = run_colours(len(self.runs) - sum(run.yours for run in self.runs))
        for run, colour in zip([run for run in self.runs if not run.yours], colours):
            run.colour = colour
        self._make_lines()
        self._refresh()

    def reset_runs(self) -> None:
        """Every run back to the initial weights; playing goes on."""
        self.runs = []
        self._make_runs()

    # --- training ---------------------------------------------------------------------------------
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

    def _train(self, budget: float) -> bool | None:
        """A Play frame's training: every run that is not done advances about ``budget`` seconds'
        worth together (those behind first)."""
        alive = self._alive(self._goal)
        if not alive:
            return None
        low, high = self._chunk_limits()
        chunk = min(max(type(low)(self._rate.units(budget)), low), high)
        slowest = min(self._position(run) for run in alive)
        target = min(self._goal, slowest + chunk)
        started = self.loop.clock()
        self._advance(target)
        self._rate.measured(target - slowest, self.loop.clock() - started)
        return bool(self._alive(self._goal))

    def _prepare_play(self) -> bool:
        self._goal = self._play_goal()
        if not self._alive(self._goal):         # finished (or all diverged): play it again from the start
            self.reset()
        return True

    def _catch_up(self) -> None:
        """After a run is added: train it up to the others, in the background if there is a loop."""
        if not self.loop.playing:
            self._goal = max(self._position(run) for run in self.runs)
            if self._alive(self._goal):
                self.loop.start()

    def reset(self) -> None:
        """Pause, and every run back to the initial weights (what Reset does)."""
        self.loop.pause()
        self.reset_runs()

    # --- controls ---------------------------------------------------------------------------------
    def _landmarks_changed(self) -> None:
        self._landmarks = self._parse_landmarks(self.landmarks_control.value)
        self._make_runs()
        self._catch_up()

    def _yours_changed(self) -> None:
        self._yours = self._your_value(self.yours_control.value)
        self._make_runs()
        self._catch_up()

    def _dataset_changed(self) -> None:
        self._new_dataset(datasets.make(self.dataset_control.value, n=self.n, noise=self.noise, seed=self.seed))
        if self.loop.playing:
            self._goal = self._play_goal()

    def _epochs_changed(self) -> None:
        if self.loop.playing:
            self._goal = self._play_goal()
        self._refresh()

    # --- showing ----------------------------------------------------------------------------------
    def _refresh(self) -> None:
        self._draw()
        self._show_table()
        self._show_status()
        self.canvas.show()

    def _show_table(self) -> None:
        rows = []
        for run in self.runs:
            swatch = f'<span style="color:{matplotlib.colors.to_hex(run.colour)}">&#9644;</span>'
            cells = [f"{swatch} {html.escape(run.label)}", *self._cells(run)]
            title = html.escape(run.trainer.diverged or "", quote=True)
            rows.append(f'<tr title="{title}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        head = "".join(f"<th>{h}</th>" for h in self.TABLE)
        value = ('<table style="font-size:12px;border-collapse:collapse" cellpadding="3">'
                 f"<tr style='text-align:left'>{head}</tr>{''.join(rows)}</table>"
                 f'<div style="font-size:11px;color:#666">{self.NOTE}</div>')
        if self.table.value != value:
            self.table.value = value

    def _show_status(self) -> None:
        alive = self._alive(math.inf)
        runs = alive or self.runs
        epochs = (min if alive else max)(self._epochs_shown(run) for run in runs)
        shown = f"{epochs:.3g}" if isinstance(epochs, float) else str(epochs)    # (whole epochs: as they are)
        text = f"epoch {shown} of {self.epochs}  ·  {self._what()}"
        if epochs == 0:
            text += "  ·  press Play to train them all, or Step for one epoch"
        diverged = [run for run in self.runs if run.trainer.diverged]
        if diverged:
            more = f" (and {len(diverged) - 1} more)" if len(diverged) > 1 else ""
            text += f"  ·  {self.NAME} {diverged[0].label}{more}: {diverged[0].trainer.diverged}"
        self.status.show(text, "warning" if diverged else "info")

    def _epochs_shown(self, run) -> float:
        """How far a run is, as the status line says it (epochs)."""
        return run.epochs_done
