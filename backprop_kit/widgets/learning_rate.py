"""LearningRateExplorer: one network trained with several learning rates, side by side.

    from backprop_kit.widgets import LearningRateExplorer
    LearningRateExplorer(lrs=(0.001, 0.1, 3.0, 10.0), dataset="moons")

Every run starts from the same Network (one object: the same initial weights) and its Trainer
has the same seed (the same mini-batches in the same order), so the learning rate is the only
difference. Each run's loss on the whole training set, before training and after each epoch,
is a line on one log-scale plot, and each run gets a verdict from ``judge``.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib
import numpy as np

from .. import _checks, activations, datasets, plots
from ..network import Network
from ..training import Trainer
from . import _args, _base

DEFAULT_RATES = (0.001, 0.1, 3.0, 10.0)
MAX_RATES = 8
OSCILLATION_LIMIT = 0.02    # the loss climbs back by more than 2% per epoch on average: oscillates
PROGRESS_NEEDED = 0.9       # a good run makes at least 90% of the best run's progress

VERDICT_COLOURS = {"good": "#2e7d32", "slow": "#1f4e79", "oscillates": "#b45309",
                   "stuck": "#b45309", "diverged": "#b91c1c", "pending": "#777777"}


# --- the verdict --------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """A run's outcome: ``kind`` ('good', 'slow', 'oscillates', 'stuck', 'diverged', 'pending'),
    ``text`` for the legend, ``climb`` (how much the loss went back up per epoch, on average, as
    a fraction: 0.05 = 5%) and ``progress`` (its fall / the best run's fall); nan where not defined."""

    kind: str
    text: str
    climb: float = math.nan
    progress: float = math.nan


def judge(curves, lrs, diverged_at) -> list[Verdict]:
    """The verdict of each run, from its loss curve compared with the others'.

    curves[i]: (epochs + 1,) the run's loss on the training set before training, then after each
    epoch. lrs[i]: its learning rate. diverged_at[i]: the step at which the Trainer stopped it
    as diverged, or None. The rule, first match wins:

    1. it diverged                                    -> "diverged at step N"
    2. no epoch has ended yet                         -> "not trained yet"
    3. climb = the mean over epochs of max(0, log(loss after / loss before)) is above
       OSCILLATION_LIMIT (0.02): on average the loss climbs back by more than 2% per epoch
       (a mean, not a sum, so a longer run is not judged harsher)
                                                      -> "too large: oscillates"
    4. progress = (first - last loss) / (first loss - the lowest loss a smooth run reached) is
       below PROGRESS_NEEDED (0.9): "too small: slow" if its rate is below that of the smooth
       run with the lowest last loss, else "too large: stuck"
    5. otherwise                                      -> "good"

    Progress is measured against the smooth runs (neither diverged nor oscillating): a bouncing
    run that happens to touch a low loss does not make every steady run look slow, and the best
    steady run is "good" by this rule.
    """
    curves = [np.asarray(c, dtype=float) for c in curves]
    trained = [i for i, c in enumerate(curves) if diverged_at[i] is None and len(c) > 1]
    climbs = {i: _climb(curves[i]) for i in trained}
    smooth = [i for i in trained if climbs[i] <= OSCILLATION_LIMIT] or trained
    lowest = min((curves[i].min() for i in smooth), default=math.nan)
    leader = min(smooth, key=lambda i: curves[i][-1], default=None)
    verdicts = []
    for i, curve in enumerate(curves):
        if diverged_at[i] is not None:
            verdicts.append(Verdict("diverged", f"diverged at step {diverged_at[i]}"))
            continue
        if len(curve) < 2:
            verdicts.append(Verdict("pending", "not trained yet"))
            continue
        climb = climbs[i]
        best_fall = curve[0] - lowest
        progress = float((curve[0] - curve[-1]) / best_fall) if best_fall > 0 else 1.0
        if climb > OSCILLATION_LIMIT:
            verdict = Verdict("oscillates", "too large: oscillates", climb, progress)
        elif progress < PROGRESS_NEEDED:
            if lrs[i] < lrs[leader]:
                verdict = Verdict("slow", "too small: slow", climb, progress)
            else:
                verdict = Verdict("stuck", "too large: stuck", climb, progress)
        else:
            verdict = Verdict("good", "good", climb, progress)
        verdicts.append(verdict)
    return verdicts


def _climb(curve: np.ndarray) -> float:
    """The mean over epochs of max(0, log(loss after / loss before)): how much the loss climbs back."""
    with np.errstate(all="ignore"):
        return float(np.mean(np.clip(np.diff(np.log(np.maximum(curve, 1e-300))), 0, None)))


# --- one run ----------------------------------------------------------------------------------

@dataclass
class Run:
    """One learning rate's training: its Trainer and its line on the plot."""

    lr: float
    trainer: Trainer
    initial_loss: float
    yours: bool = False
    line: matplotlib.lines.Line2D | None = None      # the loss per epoch
    marker: matplotlib.lines.Line2D | None = None    # an X at the top where it diverged
    note: matplotlib.text.Text | None = None         # "diverged" next to it

    @property
    def curve(self) -> np.ndarray:
        """(epochs + 1,): the loss on the training set before training, then after each epoch."""
        return np.array([self.initial_loss, *self.trainer.history.train_loss])

    @property
    def diverged_at(self) -> int | None:
        return self.trainer.steps if self.trainer.diverged else None

    @property
    def label(self) -> str:
        return f"{self.lr:.3g}" + (" (yours)" if self.yours else "")


# --- checking arguments --------------------------------------------------------------------

def check_rates(argument: str, rates, settings=None) -> tuple[float, ...]:
    """1..MAX_RATES different learning rates > 0, as a sorted tuple of floats (an _args rule)."""
    accepts = f"a list of 1 to {MAX_RATES} different learning rates > 0, e.g. (0.001, 0.1, 3.0)"
    if isinstance(rates, (str, bytes)) or not hasattr(rates, "__len__"):
        raise TypeError(f"{argument} must be {accepts}; got {_checks._show(rates)}")
    if not 1 <= len(rates) <= MAX_RATES:
        raise ValueError(f"{argument} must be {accepts}; got {len(rates)} rates")
    checked = [_checks.number(f"{argument}[{i}]", r, low=0, low_open=True, accepts="a learning rate > 0")
               for i, r in enumerate(rates)]
    if len(set(checked)) != len(checked):
        raise ValueError(f"{argument} must be {accepts}; got {list(rates)!r}, which repeats a rate")
    return tuple(sorted(checked))


def parse_rates(text: str) -> tuple[float, ...]:
    """'0.001, 0.1, 3' -> (0.001, 0.1, 3.0), or a ValueError naming 'learning rates'."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        rates = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"learning rates must be numbers separated by commas, e.g. 0.001, 0.1, 3; "
                         f"got {text!r}") from None
    return check_rates("learning rates", rates)


RUN_COLOURS = ("#1f4e79", "#2a9d8f", "#e09f3e", "#c0392b")     # navy, teal, amber, red: small -> large
RUN_COLOURMAP = matplotlib.colors.LinearSegmentedColormap.from_list("bk_runs", RUN_COLOURS)


def run_colours(count: int) -> list:
    """One colour per run, from navy (the smallest value) through teal and amber to red (the largest):
    up to four runs get those exact colours, more get colours between them."""
    if count <= len(RUN_COLOURS):
        picks = np.round(np.linspace(0, len(RUN_COLOURS) - 1, count)).astype(int) if count > 1 else [0]
        return [RUN_COLOURS[i] for i in picks]
    return [RUN_COLOURMAP(x) for x in np.linspace(0.0, 1.0, count)]


# --- the panel --------------------------------------------------------------------------------

ARGUMENTS = {
    "lrs": _args.Custom(check_rates),
    "your_lr": _args.Optional(_args.LR), "dataset": _args.Choice(datasets.NAMES),
    "epochs": _args.Whole(1, 1000), "layers": _args.Whole(0, 8), "neurons": _args.Whole(1, 256),
    "activation": _args.Choice(activations.HIDDEN), "n": _args.Whole(20, 5000), "noise": _args.Number(0, 2),
    "batch_size": _args.BatchSize(full=True), "seed": _args.SEED,
}


class LearningRateExplorer(_base.RunsPanel):
    """The same network trained with several learning rates, their losses on one plot.

    LearningRateExplorer(*, lrs=(0.001, 0.1, 3.0, 10.0), your_lr=None, dataset="moons", epochs=50,
    layers=2, neurons=16, activation="tanh", batch_size=32, n=200, noise=0.2, seed=0)

    - lrs: 1..8 different learning rates > 0 (shown sorted); your_lr: None, or a learning rate
      from 1e-4 to 10 compared as well (the "your rate" slider; moving it adds the run).
    - dataset: one of datasets.NAMES; n, noise: its size and noise; epochs: 1..1000, how far
      Play trains; layers (0..8) hidden layers of neurons (1..256) each, activation (one of
      activations.HIDDEN): the network (output and loss follow the dataset);
      batch_size: 1..the training-set size or 'full'; seed: weights and mini-batch order.
      Every argument and what it accepts: ``ARGUMENTS``.

    Controls (CSS class): learning rates text (bk-learning-rates), your rate (bk-learning-rate),
    dataset (bk-dataset), epochs (bk-epochs), Play/Pause (bk-play), Step = one epoch for every
    run (bk-step), Reset (bk-reset); the plot (bk-plot-loss), the table of outcomes (bk-table),
    the status line (bk-status).
    Attributes: ``runs`` (Run: lr, trainer, initial_loss, line, curve), and in the same
    order ``lrs``, ``trainers``, ``lines``, ``verdicts`` (Verdict, see ``judge``);
    ``initial_net`` (the one Network every run starts from), ``data``, ``figure``, ``ax``, ``loop``.
    """

    def __init__(self, *, lrs=DEFAULT_RATES, your_lr=None, dataset: str = "moons", epochs: int = 50,
                 layers: int = 2, neurons: int = 16, activation: str = "tanh", batch_size=32,
                 n: int = 200, noise: float = 0.2, seed: int = 0):
        s = _args.check(ARGUMENTS, locals())
        rates, your_lr, epochs = s["lrs"], s["your_lr"], s["epochs"]
        self.layers, self.neurons, self.activation = s["layers"], s["neurons"], s["activation"]
        self.n, self.noise, self.seed, self.batch_size = s["n"], s["noise"], s["seed"], s["batch_size"]
        probe = datasets.make(dataset, n=self.n, noise=self.noise, seed=self.seed)
        super().__init__()
        self.add_class("bk-learning-rate-explorer")
        self._landmarks = rates
        self.your_lr = your_lr
        self.runs: list[Run] = []
        self.verdicts: list[Verdict] = []
        self._goal = 0
        self._chunk = 1
        self._legend = None

        # controls
        self.rates_control = _base.styled(widgets.Text(
            value=", ".join(f"{r:g}" for r in rates), description="learning rates",
            continuous_update=False), "bk-learning-rates")
        self.your_rate_control = _base.lr_slider(your_lr or 0.3)
        self.your_rate_control.description = "your rate"
        self.dataset_control = _base.styled(widgets.Dropdown(options=datasets.NAMES, value=dataset,
                                                             description="dataset"), "bk-dataset")
        self.epochs_control = _base.styled(widgets.IntSlider(value=epochs, min=1, max=max(200, epochs),
                                                             description="epochs", continuous_update=False),
                                           "bk-epochs")
        self.play_button = _base.button("Play", "bk-play", icon="play", style="success",
                                        tooltip="train every rate up to the epochs set; again to pause")
        self.step_button = _base.button("Step", "bk-step", icon="step-forward", tooltip="one epoch for every rate")
        self.reset_button = _base.button("Reset", "bk-reset", icon="undo", tooltip="back to the initial weights")
        hint = widgets.HTML('<span style="font-size:12px;color:#555">Move <b>your rate</b> to add a '
                            'run of your own; it starts from the same weights.</span>')

        # the plot: made once; a change of the set of rates remakes only its lines
        self.figure, self.canvas = _base.live_figure(7.4, 3.5, "bk-plot-loss")
        self.figure.set_layout_engine(None)      # fixed margins: the legend text changes per frame
        self.figure.subplots_adjust(left=0.09, right=0.655, bottom=0.14, top=0.9)
        self.ax = self.figure.add_subplot()
        self.ax.set_yscale("log")
        plots._plain_log_labels(self.ax)
        plots._style(self.ax, "Loss on the training set: same start, same mini-batches",
                     "epoch", "loss (log scale)")
        self.table = widgets.HTML()
        self.table.add_class("bk-table")

        self.loop = _base.PlayLoop(self._frame, on_error=self.report, on_stop=self._loop_ended)
        self.observe_value(self.rates_control, self._rates_changed)
        self.observe_value(self.your_rate_control, self._your_rate_changed)
        self.observe_value(self.dataset_control, self._dataset_changed)
        self.observe_value(self.epochs_control, self._epochs_changed)
        self.on_click(self.play_button, self._toggle_play)
        self.on_click(self.step_button, self.step)
        self.on_click(self.reset_button, self.reset)

        controls = widgets.VBox([self.rates_control, self.your_rate_control, hint])
        settings = widgets.VBox([self.dataset_control, self.epochs_control,
                                 widgets.HBox([self.play_button, self.step_button, self.reset_button])])
        self.children = [widgets.HBox([controls, settings]), self.canvas, self.table, self.status]
        self._new_dataset(probe)

    # --- the runs ---------------------------------------------------------------------------
    @property
    def lrs(self) -> tuple[float, ...]:
        """Every rate compared, in the order of ``runs`` (the landmarks sorted, yours last)."""
        return tuple(run.lr for run in self.runs)

    @property
    def trainers(self) -> list[Trainer]:
        return [run.trainer for run in self.runs]

    @property
    def lines(self) -> list:
        return [run.line for run in self.runs]

    @property
    def epochs(self) -> int:
        return self.epochs_control.value

    @property
    def steps_per_epoch(self) -> int:
        return self.runs[0].trainer.steps_per_epoch

    def _new_dataset(self, data) -> None:
        self.data = data
        self.initial_net = Network([data.n_inputs] + [self.neurons] * self.layers + [data.n_outputs],
                                   activation=self.activation,
                                   output=data.output, seed=self.seed)
        self.runs = []
        self._make_runs()

    def _new_run(self, rate: float, yours: bool = False) -> Run:
        trainer = Trainer(self.initial_net, self.data, lr=rate, batch_size=self.batch_size, seed=self.seed)
        return Run(rate, trainer, self._initial_loss, yours)

    def _make_runs(self) -> None:
        """Runs for the landmark rates and yours, keeping those whose rate has not changed."""
        if not self.runs:
            self._initial_loss = Trainer(self.initial_net, self.data,
                                         batch_size=self.batch_size).evaluate("train")[0]
        kept = {(run.lr, run.yours): run for run in self.runs}
        wanted = [(rate, False) for rate in self._landmarks]
        if self.your_lr is not None:
            wanted.append((self.your_lr, True))
        self.runs = [kept.get(key) or self._new_run(*key) for key in wanted]
        self._chunk = self.steps_per_epoch
        self._make_lines()
        self._refresh()

    def _make_lines(self) -> None:
        """One line per run (a new set of rates, not a frame: the lines are remade)."""
        for line in self.ax.get_lines():
            line.remove()
        colours = run_colours(len(self._landmarks))
        handles = []
        for run in self.runs:
            colour = "#111111" if run.yours else colours[self._landmarks.index(run.lr)]
            style = dict(color=colour, linewidth=2.0 if run.yours else 1.6, linestyle="--" if run.yours else "-")
            run.line, = self.ax.plot([], [], **style)
            run.marker, = self.ax.plot([], [], linestyle="none", marker="X", markersize=9, color=colour,
                                       markeredgecolor="white", markeredgewidth=0.6, clip_on=False, zorder=4)
            run.note = self.ax.text(0, 1, "", color=colour, fontsize=plots.LEGEND_SIZE + 0.5, va="center",
                                    ha="left", clip_on=False, visible=False)
            handles.append(matplotlib.lines.Line2D([], [], **style))
        if self._legend is not None:
            self._legend.remove()
        self._legend = self.ax.legend(handles=handles, labels=[run.label for run in self.runs],
                                      title="learning rate: outcome", title_fontsize=plots.LEGEND_SIZE + 1,
                                      fontsize=plots.LEGEND_SIZE + 1, loc="upper left",
                                      bbox_to_anchor=(1.03, 1.0), alignment="left", **plots.LEGEND_FRAME)

    # --- training: progress in steps (see RunsPanel) ----------------------------------------------
    ALL_DIVERGED = "Every run has diverged: press Reset, or choose smaller rates."

    def _position(self, run: Run) -> int:
        return run.trainer.steps

    def _train_to(self, run: Run, target: int) -> None:
        run.trainer.step(target - run.trainer.steps)

    def _play_goal(self) -> int:
        return self.epochs * self.steps_per_epoch

    def _one_more_epoch(self, position: int) -> int:
        return position + self.steps_per_epoch

    def _chunk_limits(self) -> tuple:
        return 1, self.steps_per_epoch

    # --- controls -------------------------------------------------------------------------------
    def _rates_changed(self) -> None:
        self._landmarks = parse_rates(self.rates_control.value)
        self._make_runs()
        self._catch_up()

    def _your_rate_changed(self) -> None:
        self.your_lr = float(self.your_rate_control.value)
        self._make_runs()
        self._catch_up()

    def _dataset_changed(self) -> None:
        self._new_dataset(datasets.make(self.dataset_control.value, n=self.n, noise=self.noise, seed=self.seed))
        if self.loop.playing:
            self._goal = self._play_goal()

    # --- showing --------------------------------------------------------------------------------
    def _refresh(self) -> None:
        curves = [run.curve for run in self.runs]
        self.verdicts = judge(curves, self.lrs, [run.diverged_at for run in self.runs])
        # the y axis follows the runs that did not diverge; a diverging one leaves through the top
        kept = [c for c, v in zip(curves, self.verdicts) if v.kind != "diverged"] or [c[:1] for c in curves]
        kept = np.concatenate(kept)
        kept = kept[np.isfinite(kept) & (kept > 0)]     # a loss of exactly 0 has no place on a log axis
        low, high = (kept.min(), kept.max()) if len(kept) else (1.0, 1.0)
        span = max(math.log10(high / low), 0.3)
        bottom, top = low / 10 ** (0.1 * span), high * 10 ** (0.25 * span)
        self.ax.set_ylim(bottom, top)
        self.ax.set_xlim(0, max(self.epochs, max(len(c) - 1 for c in curves)))
        for run, curve, verdict, text in zip(self.runs, curves, self.verdicts, self._legend.get_texts()):
            x = np.arange(len(curve), dtype=float)
            if verdict.kind == "diverged":
                where = run.trainer.steps / run.trainer.steps_per_epoch
                x, curve = np.append(x, where), np.append(curve, top * 100)
                run.marker.set_data([where], [top])
                run.note.set_position((where, top))
                run.note.set_text(f"   {run.label} diverged")
            else:
                run.marker.set_data([], [])
            run.note.set_visible(verdict.kind == "diverged")
            run.line.set_data(x, curve)
            text.set_text(f"{run.label}: {verdict.text}")
            text.set_color(VERDICT_COLOURS[verdict.kind])
        self._show_table(curves)
        self._show_status()
        self.canvas.draw_idle()

    def _show_table(self, curves) -> None:
        rows = []
        for run, curve, verdict in zip(self.runs, curves, self.verdicts):
            h = run.trainer.history
            accuracy = h.test_accuracy[-1] if h.epochs else math.nan
            colour = matplotlib.colors.to_hex(run.line.get_color())
            cells = [f'<span style="color:{colour}">&#9644;</span> {html.escape(run.label)}',
                     f"{curve[-1]:.3g}", f"{curve.min():.3g}",
                     "–" if math.isnan(accuracy) else f"{accuracy:.0%}",
                     "–" if math.isnan(verdict.climb) else f"{verdict.climb:.1%}",
                     f'<b style="color:{VERDICT_COLOURS[verdict.kind]}">{html.escape(verdict.text)}</b>']
            title = html.escape(run.trainer.diverged or "", quote=True)
            rows.append(f'<tr title="{title}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        head = "".join(f"<th>{h}</th>" for h in ("learning rate", "loss now", "lowest loss", "test accuracy",
                                                   "climb per epoch", "outcome"))
        value = ('<table style="font-size:12px;border-collapse:collapse" cellpadding="3">'
                 f"<tr style='text-align:left'>{head}</tr>{''.join(rows)}</table>"
                 '<div style="font-size:11px;color:#666">climb per epoch: how much the loss went back '
                 'up from one epoch to the next, on average; above 2%: oscillates. '
                 'Good: at least 90% of the best run\'s progress, without oscillating.</div>')
        if self.table.value != value:
            self.table.value = value

    def _show_status(self) -> None:
        alive = self._alive(math.inf)
        epoch = min(run.trainer.epoch for run in alive) if alive else max(r.trainer.epoch for r in self.runs)
        text = f"epoch {epoch} of {self.epochs}  ·  {len(self.runs)} rates, batch size {self.batch_size}"
        if epoch == 0:
            text += "  ·  press Play to train them all, or Step for one epoch"
        diverged = [run for run in self.runs if run.trainer.diverged]
        if diverged:
            more = f" (and {len(diverged) - 1} more)" if len(diverged) > 1 else ""
            text += f"  ·  rate {diverged[0].lr:g}{more}: {diverged[0].trainer.diverged}"
        self.status.show(text, "warning" if diverged else "info")
