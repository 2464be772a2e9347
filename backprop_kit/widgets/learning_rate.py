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

from .. import _checks, datasets, plots
from ..training import Trainer
from . import _args, _base, _compare

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
        elif len(curve) < 2:
            verdicts.append(Verdict("pending", "not trained yet"))
        else:
            verdicts.append(_trained_verdict(curve, climbs[i], lowest, below_leader=lrs[i] < lrs[leader]))
    return verdicts


def _trained_verdict(curve: np.ndarray, climb: float, lowest: float, below_leader: bool) -> Verdict:
    """Rules 3 to 5 of ``judge`` for a run that trained without diverging."""
    best_fall = curve[0] - lowest
    progress = float((curve[0] - curve[-1]) / best_fall) if best_fall > 0 else 1.0
    if climb > OSCILLATION_LIMIT:
        return Verdict("oscillates", "too large: oscillates", climb, progress)
    if progress < PROGRESS_NEEDED:
        if below_leader:
            return Verdict("slow", "too small: slow", climb, progress)
        return Verdict("stuck", "too large: stuck", climb, progress)
    return Verdict("good", "good", climb, progress)


def _climb(curve: np.ndarray) -> float:
    """The mean over epochs of max(0, log(loss after / loss before)): how much the loss climbs back."""
    with np.errstate(all="ignore"):
        return float(np.mean(np.clip(np.diff(np.log(np.maximum(curve, 1e-300))), 0, None)))


# --- one run ----------------------------------------------------------------------------------

@dataclass
class Run(_compare.Run):
    """One learning rate's training: its Trainer and its line on the plot."""

    lr: float = 0.1
    line: matplotlib.lines.Line2D | None = None      # the loss per epoch
    marker: matplotlib.lines.Line2D | None = None    # an X at the top where it diverged
    note: matplotlib.text.Text | None = None         # "diverged" next to it

    @property
    def key(self) -> tuple:
        return self.lr, self.yours

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


# --- the panel --------------------------------------------------------------------------------

ARGUMENTS = {"lrs": _args.Custom(check_rates), "your_lr": _args.Optional(_args.LR), **_compare.ARGUMENTS,
             "batch_size": _args.BatchSize(full=True, test_fraction=_compare.TEST_FRACTION)}


class LearningRateExplorer(_compare.RunsPanel):
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

    NAME = "rate"
    TABLE = ("learning rate", "loss now", "lowest loss", "test accuracy", "climb per epoch", "outcome")
    NOTE = ("climb per epoch: how much the loss went back up from one epoch to the next, on average; above "
            "2%: oscillates. Good: at least 90% of the best run's progress, without oscillating.")
    ALL_DIVERGED = "Every run has diverged: press Reset, or choose smaller rates."

    def __init__(self, *, lrs=DEFAULT_RATES, your_lr=None, dataset: str = "moons", epochs: int = 50,  # noqa: V107 (read by _args.check through locals())
                 layers: int = 2, neurons: int = 16, activation: str = "tanh", batch_size=32,
                 n: int = 200, noise: float = 0.2, seed: int = 0):
        s = _args.check(ARGUMENTS, locals())
        self._landmarks, self._yours, self.batch_size = s["lrs"], s["your_lr"], s["batch_size"]
        self.verdicts: list[Verdict] = []
        self._legend = None
        landmarks = _base.styled(widgets.Text(value=", ".join(f"{r:g}" for r in self._landmarks),
                                              description="learning rates", continuous_update=False),
                                 "bk-learning-rates")
        yours = _base.lr_slider(self._yours or 0.3)
        yours.description = "your rate"
        data = datasets.make(dataset, n=s["n"], noise=s["noise"], seed=s["seed"])
        super().__init__(s, data, css_class="bk-learning-rate-explorer", landmarks=landmarks, yours=yours,
                         hint="Move <b>your rate</b> to add a run of your own; it starts from the same weights.")
        # the plot: made once; a change of the set of rates remakes only its lines
        self.figure.set_layout_engine(None)      # fixed margins: the legend text changes per frame
        self.figure.subplots_adjust(left=0.09, right=0.655, bottom=0.14, top=0.9)
        self.ax = self.figure.add_subplot()
        self.ax.set_yscale("log")
        plots.plain_log_labels(self.ax)
        plots.style(self.ax, "Loss on the training set: same start, same mini-batches", "epoch", "loss (log scale)")
        self._new_dataset(data)

    # --- the runs ---------------------------------------------------------------------------
    @property
    def your_lr(self) -> float | None:
        return self._yours

    @property
    def lrs(self) -> tuple[float, ...]:
        """Every rate compared, in the order of ``runs`` (the landmarks sorted, yours last)."""
        return tuple(run.lr for run in self.runs)

    @property
    def lines(self) -> list:
        return [run.line for run in self.runs]

    @property
    def steps_per_epoch(self) -> int:
        return self.runs[0].trainer.steps_per_epoch

    def _parse_landmarks(self, text: str) -> tuple:
        return parse_rates(text)

    def _your_value(self, value) -> float:
        return float(value)

    def _wanted(self) -> list:
        return [(rate, False) for rate in self._landmarks] + ([] if self._yours is None else [(self._yours, True)])

    def _new_run(self, key) -> Run:
        rate, yours = key
        trainer = Trainer(self.initial_net, self.data, lr=rate, batch_size=self.batch_size, seed=self.seed)
        return Run(trainer, self._initial_loss, yours, lr=rate)

    def _make_lines(self) -> None:
        """One line per run (a new set of rates, not a frame: the lines are remade)."""
        for line in self.ax.get_lines():
            line.remove()
        handles = []
        for run in self.runs:
            style = dict(color=run.colour, linewidth=2.0 if run.yours else 1.6, linestyle="--" if run.yours else "-")
            run.line, = self.ax.plot([], [], **style)
            run.marker, = self.ax.plot([], [], linestyle="none", marker="X", markersize=9, color=run.colour,
                                       markeredgecolor="white", markeredgewidth=0.6, clip_on=False, zorder=4)
            run.note = self.ax.text(0, 1, "", color=run.colour, fontsize=plots.LEGEND_SIZE + 0.5, va="center",
                                    ha="left", clip_on=False, visible=False)
            handles.append(matplotlib.lines.Line2D([], [], **style))
        if self._legend is not None:
            self._legend.remove()
        self._legend = self.ax.legend(handles=handles, labels=[run.label for run in self.runs],
                                      title="learning rate: outcome", title_fontsize=plots.LEGEND_SIZE + 1,
                                      fontsize=plots.LEGEND_SIZE + 1, loc="upper left",
                                      bbox_to_anchor=(1.03, 1.0), alignment="left", **plots.LEGEND_FRAME)

    # --- training: progress in steps (see _compare) ----------------------------------------------
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

    # --- showing --------------------------------------------------------------------------------
    def _draw(self) -> None:
        curves = [run.curve for run in self.runs]
        self.verdicts = judge(curves, self.lrs, [run.diverged_at for run in self.runs])
        # the y axis follows the runs that did not diverge; a diverging one leaves through the top
        kept = [c for c, v in zip(curves, self.verdicts) if v.kind != "diverged"] or [c[:1] for c in curves]
        bottom, top = plots.log_limits(np.concatenate(kept), below=0.1, above=0.25)
        self.ax.set_ylim(bottom, top)
        self.ax.set_xlim(0, max(self.epochs, max(len(c) - 1 for c in curves)))
        for run, curve, verdict, text in zip(self.runs, curves, self.verdicts, self._legend.get_texts()):
            x = np.arange(len(curve), dtype=float)
            if verdict.kind == "diverged":
                where = run.epochs_done
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

    def _cells(self, run: Run) -> list:
        verdict = self.verdicts[self.runs.index(run)]
        curve, h = run.curve, run.trainer.history
        accuracy = h.test_accuracy[-1] if h.epochs else math.nan
        return [f"{curve[-1]:.3g}", f"{curve.min():.3g}", "–" if math.isnan(accuracy) else f"{accuracy:.0%}",
                "–" if math.isnan(verdict.climb) else f"{verdict.climb:.1%}",
                f'<b style="color:{VERDICT_COLOURS[verdict.kind]}">{html.escape(verdict.text)}</b>']

    def _what(self) -> str:
        return f"{len(self.runs)} rates, batch size {self.batch_size}"

    def _epochs_shown(self, run: Run) -> float:
        return run.trainer.epoch
