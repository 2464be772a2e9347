"""BatchSizeExplorer: the same network trained with mini-batches from 1 example to the whole set.

    from backprop_kit.widgets import BatchSizeExplorer
    BatchSizeExplorer(batch_sizes=(1, 8, 32, "full"), dataset="moons", lr=0.1)

Every run starts from the same Network and its Trainer has the same seed; only the batch size
differs. Two plots tell the trade-off: the loss of each mini-batch per step (small batches:
cheap steps, noisy loss) and the loss on the whole training set per epoch (one epoch = every
example seen once: small batches take many steps in it). A table adds the measured wall time
per epoch and the noise of the per-step loss.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib
import numpy as np

from .. import _checks, datasets, plots
from ..training import Trainer
from . import _args, _base, _compare

DEFAULT_SIZES = (1, 8, 32, "full")
MAX_SIZES = 8


def loss_noise(losses) -> float:
    """How noisy a per-step loss is: the standard deviation of its step-to-step changes
    (nan with fewer than 3 steps). A smooth descent scores near 0; mini-batches of 1 score high."""
    losses = np.asarray(losses, dtype=float)
    losses = losses[np.isfinite(losses)]
    return float(np.std(np.diff(losses))) if len(losses) >= 3 else math.nan


@dataclass
class Run(_compare.Run):
    """One batch size's training: its Trainer, the wall time it took, and its three lines."""

    batch_size: int = 1
    full: bool = False
    seconds: float = 0.0                                   # wall time spent in trainer.step
    step_line: matplotlib.lines.Line2D | None = None       # mini-batch loss per step (faint)
    mean_line: matplotlib.lines.Line2D | None = None       # its mean over the last epoch's steps
    epoch_line: matplotlib.lines.Line2D | None = None      # training-set loss per epoch

    @property
    def key(self) -> tuple:
        return self.batch_size, self.full, self.yours

    @property
    def label(self) -> str:
        name = f"full ({self.batch_size})" if self.full else f"{self.batch_size}"
        return name + (" (yours)" if self.yours else "")

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / self.epochs_done if self.trainer.steps else math.nan

    @property
    def noise(self) -> float:
        return loss_noise(self.trainer.history.loss)

    def train_to(self, epochs: float) -> None:
        """Train until ``epochs`` epochs are done (rounded up to whole steps), timing it."""
        steps = math.ceil(round(epochs * self.trainer.steps_per_epoch, 9)) - self.trainer.steps
        if steps > 0 and self.trainer.diverged is None:
            started = time.perf_counter()
            self.trainer.step(steps)
            self.seconds += time.perf_counter() - started


def epoch_mean(losses, window: int) -> np.ndarray:
    """The mean of each step's loss and the ``window - 1`` before it (fewer at the start)."""
    losses = np.asarray(losses, dtype=float)
    sums = np.concatenate([[0.0], np.cumsum(losses)])
    ends = np.arange(1, len(losses) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def check_sizes(argument: str, sizes, n_train: int) -> tuple[tuple[int, bool], ...]:
    """1..MAX_SIZES different batch sizes (whole numbers 1..n_train, or 'full') as sorted
    (size, is_full) pairs."""
    accepts = (f"a list of 1 to {MAX_SIZES} different batch sizes, each 'full' or a whole number "
               f"from 1 to {n_train} (the training-set size), e.g. (1, 8, 32, 'full')")
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"{argument} must be {accepts}; got {_checks._show(sizes)}")
    if not 1 <= len(sizes) <= MAX_SIZES:
        raise ValueError(f"{argument} must be {accepts}; got {len(sizes)} sizes")
    checked = []
    for i, size in enumerate(sizes):
        if isinstance(size, str) and size != "full":
            raise ValueError(f"{argument}[{i}] must be 'full' or a whole number from 1 to {n_train}; got {size!r}")
        checked.append((n_train, True) if size == "full" else (_checks.number(
            f"{argument}[{i}]", size, low=1, high=n_train, integer=True,
            accepts=f"'full' or a whole number from 1 to {n_train} (the training-set size)"), False))
    values = [size for size, _ in checked]
    if len(set(values)) != len(values):
        raise ValueError(f"{argument} must be {accepts}; got {list(sizes)!r}, which repeats a size "
                         f"('full' is {n_train})")
    return tuple(sorted(checked))


def parse_sizes(text: str, n_train: int) -> tuple[tuple[int, bool], ...]:
    """'1, 8, 32, full' -> ((1, False), (8, False), (32, False), (n_train, True))."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    sizes = []
    for part in parts:
        if part.strip().lower() == "full":
            sizes.append("full")
        elif part.strip().isdecimal():       # not isdigit: '²' is a digit that int() refuses
            sizes.append(int(part))
        else:
            raise ValueError(f"batch sizes must be whole numbers or 'full', separated by commas, "
                             f"e.g. 1, 8, 32, full; got {text!r}")
    return check_sizes("batch sizes", sizes, n_train)


def _sizes(name, value, settings):
    return check_sizes(name, value, datasets.train_size(settings["n"], _compare.TEST_FRACTION))


def _your_size(name, value, settings):
    return None if value is None else _args.BatchSize(full=True, test_fraction=_compare.TEST_FRACTION)(
        name, value, settings)


ARGUMENTS = {**_compare.ARGUMENTS, "batch_sizes": _args.Custom(_sizes), "your_batch_size": _args.Custom(_your_size),
             "lr": _args.LR}


class BatchSizeExplorer(_compare.RunsPanel):
    """The same network trained with several batch sizes: noise and speed side by side.

    BatchSizeExplorer(*, batch_sizes=(1, 8, 32, "full"), your_batch_size=None, dataset="moons",
    lr=0.1, epochs=20, layers=2, neurons=16, activation="tanh", n=200, noise=0.2, seed=0)

    - batch_sizes: 1..8 different sizes, each 1..the training-set size or 'full' (shown sorted);
      your_batch_size: None or one more size (the "your batch size" slider; moving it adds the run).
    - dataset: one of datasets.NAMES, with n points and noise; lr: the learning rate, 1e-4..10,
      the same for every run; epochs: 1..1000, how far Play trains; layers (0..8) hidden layers
      of neurons (1..256) each, activation (one of activations.HIDDEN): the network.
      Every argument and what it accepts: ``ARGUMENTS``.

    Controls (CSS class): batch sizes text (bk-batch-sizes), your batch size (bk-batch-size),
    dataset (bk-dataset), learning rate (bk-learning-rate), epochs (bk-epochs), Play/Pause
    (bk-play), Step = one epoch for every run (bk-step), Reset (bk-reset); the plots (bk-plot-loss),
    the table (bk-table), the status line (bk-status).
    Attributes: ``runs`` (Run: batch_size, trainer, seconds, seconds_per_epoch, noise, step_line,
    epoch_line) and in the same order ``batch_sizes``, ``trainers``; ``initial_net``, ``data``,
    ``figure``, ``step_ax``, ``epoch_ax``, ``loop``.
    """

    NAME = "batch size"
    TABLE = ("batch size", "steps per epoch", "time per epoch", "noise", "training loss", "test accuracy", "epochs")
    NOTE = ("noise: the standard deviation of the change in mini-batch loss from one step to the next. "
            "Time per epoch: measured on this machine.")
    ALL_DIVERGED = "Every run has diverged: press Reset, or lower the learning rate."

    def __init__(self, *, batch_sizes=DEFAULT_SIZES, your_batch_size=None, dataset: str = "moons",  # noqa: V107 (read by _args.check through locals())
                 lr: float = 0.1, epochs: int = 20, layers: int = 2, neurons: int = 16,
                 activation: str = "tanh", n: int = 200, noise: float = 0.2, seed: int = 0):
        s = _args.check(ARGUMENTS, locals())
        data = datasets.make(dataset, n=s["n"], noise=s["noise"], seed=s["seed"])
        n_train = len(data.X_train)
        self._landmarks, self._yours = s["batch_sizes"], s["your_batch_size"]
        landmarks = _base.styled(widgets.Text(
            value=", ".join("full" if full else str(size) for size, full in self._landmarks),
            description="batch sizes", continuous_update=False), "bk-batch-sizes")
        yours = _base.styled(widgets.IntSlider(
            value=self._yours or min(4, n_train), min=1, max=n_train, description="your batch size",
            continuous_update=False), "bk-batch-size")
        self.lr_control = _base.lr_slider(s["lr"])
        super().__init__(s, data, css_class="bk-batch-size-explorer", landmarks=landmarks, yours=yours,
                         hint="Move <b>your batch size</b> to add a run of your own.",
                         settings=[self.lr_control], figsize=(9.0, 3.4), epochs_max=100)
        self.observe_value(self.lr_control, self.reset_runs)
        # two plots, made once; a new set of sizes remakes only their lines
        self.figure.set_layout_engine(None)      # fixed margins: a frame is not worth a layout pass
        self.step_ax, self.epoch_ax = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.075, right=0.985, bottom=0.145, top=0.92, wspace=0.2)
        self.step_ax.set_xscale("log")
        plots.step_axis(self.epoch_ax)
        for ax in (self.step_ax, self.epoch_ax):
            ax.set_yscale("log")
            plots.plain_log_labels(ax)
        plots.style(self.step_ax, "Loss of each mini-batch, per step", "step (log scale)", "loss (log scale)")
        plots.style(self.epoch_ax, "Loss on the training set, per epoch", "epoch (every example seen once)",
                    "loss (log scale)")
        self._new_dataset(data)

    # --- the runs -------------------------------------------------------------------------------
    @property
    def batch_sizes(self) -> tuple[int, ...]:
        """Every batch size compared, in the order of ``runs`` ('full' as the training-set size)."""
        return tuple(run.batch_size for run in self.runs)

    @property
    def your_batch_size(self) -> int | None:
        return self._yours

    @property
    def lr(self) -> float:
        return float(self.lr_control.value)

    def _new_dataset(self, data) -> None:
        n_train = len(data.X_train)
        self._landmarks = tuple(sorted({(n_train if full else min(size, n_train), full)
                                        for size, full in self._landmarks}))
        self.yours_control.max = n_train
        if self._yours is not None:
            self._yours = min(self._yours, n_train)
        super()._new_dataset(data)

    def _parse_landmarks(self, text: str) -> tuple:
        return parse_sizes(text, len(self.data.X_train))

    def _your_value(self, value) -> int:
        return int(value)

    def _wanted(self) -> list:
        wanted = [(size, full, False) for size, full in self._landmarks]
        return wanted + ([] if self._yours is None else [(self._yours, False, True)])

    def _new_run(self, key) -> Run:
        size, full, yours = key
        trainer = Trainer(self.initial_net, self.data, lr=self.lr, batch_size=size, seed=self.seed)
        return Run(trainer, self._initial_loss, yours, batch_size=size, full=full)

    def _make_lines(self) -> None:
        for ax in (self.step_ax, self.epoch_ax):
            for line in ax.get_lines():
                line.remove()
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        for rank, run in enumerate(self.runs):
            style = dict(color=run.colour, linestyle="--" if run.yours else "-")
            # the raw losses faint and behind, small batches furthest back; the epoch means on top
            run.step_line, = self.step_ax.plot([], [], linewidth=0.5, alpha=0.35, zorder=1 + rank / 10, **style)
            run.mean_line, = self.step_ax.plot([], [], linewidth=1.8, zorder=3 + rank / 10, **style)
            run.epoch_line, = self.epoch_ax.plot([], [], linewidth=1.8, marker="o", markersize=3,
                                                 markeredgecolor="white", markeredgewidth=0.4,
                                                 label=run.label, zorder=3 + rank / 10, **style)
        self._legend = self.epoch_ax.legend(title="batch size: steps and time per epoch",
                                            title_fontsize=plots.LEGEND_SIZE + 0.5,
                                            fontsize=plots.LEGEND_SIZE + 0.5, loc="upper right",
                                            alignment="left", **plots.LEGEND_FRAME)
        faint = matplotlib.lines.Line2D([], [], color="#777777", linewidth=0.6, alpha=0.5)
        mean = matplotlib.lines.Line2D([], [], color="#777777", linewidth=1.8)
        self.step_ax.legend([faint, mean], ["each step", "mean over the last epoch"],
                            fontsize=plots.LEGEND_SIZE + 0.5, loc="lower left", **plots.LEGEND_FRAME)

    # --- training: progress in epochs, fractions of one while playing (see _compare) -----------
    def _position(self, run: Run) -> float:
        return run.epochs_done

    def _train_to(self, run: Run, target: float) -> None:
        run.train_to(target)

    def _play_goal(self) -> float:
        return float(self.epochs)

    def _one_more_epoch(self, position: float) -> float:
        return math.floor(position + 1e-9) + 1

    def _chunk_limits(self) -> tuple:
        return 1 / 64, 1.0

    # --- showing --------------------------------------------------------------------------------
    def _draw(self) -> None:
        step_losses, curves = [], []
        for run in self.runs:
            losses = np.array(run.trainer.history.loss, dtype=float)
            losses[~(np.isfinite(losses) & (losses > 0))] = np.nan
            run.step_line.set_data(np.arange(1, len(losses) + 1), losses)
            run.mean_line.set_data(np.arange(1, len(losses) + 1),
                                   epoch_mean(np.nan_to_num(losses), run.trainer.steps_per_epoch))
            curve = run.curve
            run.epoch_line.set_data(np.arange(len(curve)), curve)
            run.epoch_line.set_marker("o" if len(curve) <= 40 else "None")
            step_losses.append(losses)
            curves.append(curve)
        for run, text in zip(self.runs, self._legend.get_texts()):
            per_epoch = run.seconds_per_epoch
            timing = "" if math.isnan(per_epoch) else f", {_duration(per_epoch)}"
            steps = run.trainer.steps_per_epoch
            text.set_text(f"{run.label}: {steps} step{'s' if steps > 1 else ''}{timing}")
        steps = max(len(losses) for losses in step_losses)
        self.step_ax.set_xlim(0.8, max(steps, 10) * 1.3)
        # a single example's loss can be ~0: the bottom follows the bulk of the losses, not the extremes
        every = np.concatenate(step_losses + [np.array([self._initial_loss])])
        every = every[np.isfinite(every)]
        low = max(np.percentile(every, 2), every.max() / 1e4)
        self.step_ax.set_ylim(low / 1.3, every.max() * 1.3)
        self.epoch_ax.set_ylim(*plots.log_limits(np.concatenate(curves), below=0.08, above=0.3))
        self.epoch_ax.set_xlim(0, max(self.epochs, max(len(c) - 1 for c in curves)))

    def _cells(self, run: Run) -> list:
        h = run.trainer.history
        accuracy = h.test_accuracy[-1] if h.epochs else math.nan
        per_epoch = run.seconds_per_epoch
        return [f"{run.trainer.steps_per_epoch}", "–" if math.isnan(per_epoch) else _duration(per_epoch),
                "–" if math.isnan(run.noise) else f"{run.noise:.3f}", f"{run.curve[-1]:.3g}",
                "–" if math.isnan(accuracy) else f"{accuracy:.0%}",
                '<b style="color:#b91c1c">diverged</b>' if run.trainer.diverged else f"{run.epochs_done:.3g}"]

    def _what(self) -> str:
        return f"{len(self.runs)} batch sizes, learning rate {self.lr:.3g}"


def _duration(seconds: float) -> str:
    """0.0123 -> '12 ms', 1.5 -> '1.5 s' (rounded: timings vary from run to run)."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2g} ms" if seconds < 0.01 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2g} s"
