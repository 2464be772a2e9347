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

import html
import math
import time
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib
import numpy as np

from .. import _checks, activations, datasets, plots
from ..network import Network
from ..training import Trainer
from . import _args, _base
from .learning_rate import run_colours

DEFAULT_SIZES = (1, 8, 32, "full")
MAX_SIZES = 8


def loss_noise(losses) -> float:
    """How noisy a per-step loss is: the standard deviation of its step-to-step changes
    (nan with fewer than 3 steps). A smooth descent scores near 0; mini-batches of 1 score high."""
    losses = np.asarray(losses, dtype=float)
    losses = losses[np.isfinite(losses)]
    return float(np.std(np.diff(losses))) if len(losses) >= 3 else math.nan


@dataclass
class Run:
    """One batch size's training: its Trainer, the wall time it took, and its two lines."""

    batch_size: int
    trainer: Trainer
    initial_loss: float
    full: bool = False
    yours: bool = False
    seconds: float = 0.0                                   # wall time spent in trainer.step
    step_line: matplotlib.lines.Line2D | None = None       # mini-batch loss per step (faint)
    mean_line: matplotlib.lines.Line2D | None = None       # its mean over the last epoch's steps
    epoch_line: matplotlib.lines.Line2D | None = None      # training-set loss per epoch

    @property
    def label(self) -> str:
        name = f"full ({self.batch_size})" if self.full else f"{self.batch_size}"
        return name + (" (yours)" if self.yours else "")

    @property
    def epochs_done(self) -> float:
        """Epochs trained, with fractions: steps / steps per epoch."""
        return self.trainer.steps / self.trainer.steps_per_epoch

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / self.epochs_done if self.trainer.steps else math.nan

    @property
    def noise(self) -> float:
        return loss_noise(self.trainer.history.loss)

    @property
    def curve(self) -> np.ndarray:
        """(epochs + 1,): the loss on the training set before training, then after each epoch."""
        return np.array([self.initial_loss, *self.trainer.history.train_loss])

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
    return check_sizes(name, value, datasets.train_size(settings["n"], TEST_FRACTION))


def _your_size(name, value, settings):
    return None if value is None else _args.BatchSize(full=True)(name, value, settings)


TEST_FRACTION = 0.25        # datasets.make's split
ARGUMENTS = {
    "n": _args.Whole(20, 5000), "batch_sizes": _args.Custom(_sizes), "your_batch_size": _args.Custom(_your_size),
    "dataset": _args.Choice(datasets.NAMES), "lr": _args.LR, "epochs": _args.Whole(1, 1000),
    "layers": _args.Whole(0, 8), "neurons": _args.Whole(1, 256), "activation": _args.Choice(activations.HIDDEN),
    "noise": _args.Number(0, 2), "seed": _args.SEED,
}


class BatchSizeExplorer(_base.RunsPanel):
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

    def __init__(self, *, batch_sizes=DEFAULT_SIZES, your_batch_size=None, dataset: str = "moons",
                 lr: float = 0.1, epochs: int = 20, layers: int = 2, neurons: int = 16,
                 activation: str = "tanh", n: int = 200, noise: float = 0.2, seed: int = 0):
        s = _args.check(ARGUMENTS, locals())
        self.layers, self.neurons, self.activation = s["layers"], s["neurons"], s["activation"]
        self.n, self.noise, self.seed = s["n"], s["noise"], s["seed"]
        lr, epochs, your_batch_size = s["lr"], s["epochs"], s["your_batch_size"]
        data = datasets.make(dataset, n=self.n, noise=self.noise, seed=self.seed)
        n_train = len(data.X_train)
        self._landmarks = s["batch_sizes"]
        super().__init__()
        self.add_class("bk-batch-size-explorer")
        self.your_batch_size = your_batch_size
        self.runs: list[Run] = []
        self._goal = 0.0
        self._chunk = 1.0            # epochs per frame while playing

        self.sizes_control = _base.styled(widgets.Text(
            value=", ".join("full" if full else str(size) for size, full in self._landmarks),
            description="batch sizes", continuous_update=False), "bk-batch-sizes")
        self.your_size_control = _base.styled(widgets.IntSlider(
            value=your_batch_size or min(4, n_train), min=1, max=n_train, description="your batch size",
            continuous_update=False), "bk-batch-size")
        self.dataset_control = _base.styled(widgets.Dropdown(options=datasets.NAMES, value=dataset,
                                                             description="dataset"), "bk-dataset")
        self.lr_control = _base.lr_slider(lr)
        self.epochs_control = _base.styled(widgets.IntSlider(value=epochs, min=1, max=max(100, epochs),
                                                             description="epochs", continuous_update=False),
                                           "bk-epochs")
        self.play_button = _base.button("Play", "bk-play", icon="play", style="success",
                                        tooltip="train every batch size up to the epochs set; again to pause")
        self.step_button = _base.button("Step", "bk-step", icon="step-forward", tooltip="one epoch for every size")
        self.reset_button = _base.button("Reset", "bk-reset", icon="undo", tooltip="back to the initial weights")
        hint = widgets.HTML('<span style="font-size:12px;color:#555">Move <b>your batch size</b> to add a '
                            'run of your own.</span>')

        # two plots, made once; a new set of sizes remakes only their lines
        self.figure, self.canvas = _base.live_figure(9.0, 3.4, "bk-plot-loss")
        self.figure.set_layout_engine(None)      # fixed margins: a frame is not worth a layout pass
        self.step_ax, self.epoch_ax = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.075, right=0.985, bottom=0.145, top=0.92, wspace=0.2)
        self.step_ax.set_xscale("log")
        plots._step_axis(self.epoch_ax)
        for ax in (self.step_ax, self.epoch_ax):
            ax.set_yscale("log")
            plots._plain_log_labels(ax)
        plots._style(self.step_ax, "Loss of each mini-batch, per step", "step (log scale)", "loss (log scale)")
        plots._style(self.epoch_ax, "Loss on the training set, per epoch", "epoch (every example seen once)",
                     "loss (log scale)")
        self.table = widgets.HTML()
        self.table.add_class("bk-table")

        self.loop = _base.PlayLoop(self._frame, on_error=self.report, on_stop=self._loop_ended)
        self.observe_value(self.sizes_control, self._sizes_changed)
        self.observe_value(self.your_size_control, self._your_size_changed)
        self.observe_value(self.dataset_control, self._dataset_changed)
        self.observe_value(self.lr_control, self.reset_runs)
        self.observe_value(self.epochs_control, self._epochs_changed)
        self.on_click(self.play_button, self._toggle_play)
        self.on_click(self.step_button, self.step)
        self.on_click(self.reset_button, self.reset)

        controls = widgets.VBox([self.sizes_control, self.your_size_control, hint])
        settings = widgets.VBox([self.dataset_control, self.lr_control, self.epochs_control,
                                 widgets.HBox([self.play_button, self.step_button, self.reset_button])])
        self.children = [widgets.HBox([controls, settings]), self.canvas, self.table, self.status]
        self._new_dataset(data)

    # --- the runs -------------------------------------------------------------------------------
    @property
    def batch_sizes(self) -> tuple[int, ...]:
        """Every batch size compared, in the order of ``runs`` ('full' as the training-set size)."""
        return tuple(run.batch_size for run in self.runs)

    @property
    def trainers(self) -> list[Trainer]:
        return [run.trainer for run in self.runs]

    @property
    def lr(self) -> float:
        return float(self.lr_control.value)

    @property
    def epochs(self) -> int:
        return self.epochs_control.value

    def _new_dataset(self, data) -> None:
        self.data = data
        self.initial_net = Network([data.n_inputs] + [self.neurons] * self.layers + [data.n_outputs],
                                   activation=self.activation,
                                   output=data.output, seed=self.seed)
        n_train = len(data.X_train)
        # the loss before training (a batch size that fits any training set: it only evaluates)
        self._initial_loss = Trainer(self.initial_net, data, batch_size=n_train).evaluate("train")[0]
        self._landmarks = tuple(sorted({(n_train if full else min(size, n_train), full)
                                        for size, full in self._landmarks}))
        self.your_size_control.max = n_train
        if self.your_batch_size is not None:
            self.your_batch_size = min(self.your_batch_size, n_train)
        self.runs = []
        self._make_runs()

    def _make_runs(self) -> None:
        """Runs for the landmark sizes and yours, keeping those whose size has not changed."""
        kept = {(run.batch_size, run.full, run.yours): run for run in self.runs}
        wanted = [(size, full, False) for size, full in self._landmarks]
        if self.your_batch_size is not None:
            wanted.append((self.your_batch_size, False, True))
        self.runs = [kept.get(key) or Run(key[0], Trainer(self.initial_net, self.data, lr=self.lr,
                                                          batch_size=key[0], seed=self.seed),
                                          self._initial_loss, full=key[1], yours=key[2])
                     for key in wanted]
        self._make_lines()
        self._refresh()

    def reset_runs(self) -> None:
        """Every run back to the initial weights, with the current learning rate; playing goes on."""
        self.runs = []
        self._make_runs()

    def _make_lines(self) -> None:
        for ax in (self.step_ax, self.epoch_ax):
            for line in ax.get_lines():
                line.remove()
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        colours = run_colours(len(self._landmarks))
        for rank, run in enumerate(self.runs):
            colour = "#111111" if run.yours else colours[self._landmarks.index((run.batch_size, run.full))]
            style = dict(color=colour, linestyle="--" if run.yours else "-")
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

    # --- training: progress in epochs, fractions of one while playing (see RunsPanel) -----------
    ALL_DIVERGED = "Every run has diverged: press Reset, or lower the learning rate."

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

    # --- controls ------------------------------------------------------------------------------
    def _sizes_changed(self) -> None:
        self._landmarks = parse_sizes(self.sizes_control.value, len(self.data.X_train))
        self._make_runs()
        self._catch_up()

    def _your_size_changed(self) -> None:
        self.your_batch_size = int(self.your_size_control.value)
        self._make_runs()
        self._catch_up()

    def _dataset_changed(self) -> None:
        self._new_dataset(datasets.make(self.dataset_control.value, n=self.n, noise=self.noise, seed=self.seed))

    # --- showing --------------------------------------------------------------------------------
    def _refresh(self) -> None:
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
        kept = np.concatenate(curves)
        kept = kept[np.isfinite(kept) & (kept > 0)]
        span = max(math.log10(kept.max() / kept.min()), 0.3)
        self.epoch_ax.set_ylim(kept.min() / 10 ** (0.08 * span), kept.max() * 10 ** (0.3 * span))
        self.epoch_ax.set_xlim(0, max(self.epochs, max(len(c) - 1 for c in curves)))
        self._show_table()
        self._show_status()
        self.canvas.draw_idle()

    def _show_table(self) -> None:
        rows = []
        for run in self.runs:
            h = run.trainer.history
            accuracy = h.test_accuracy[-1] if h.epochs else math.nan
            per_epoch = run.seconds_per_epoch
            colour = matplotlib.colors.to_hex(run.step_line.get_color())
            cells = [f'<span style="color:{colour}">&#9644;</span> {html.escape(run.label)}',
                     f"{run.trainer.steps_per_epoch}",
                     "–" if math.isnan(per_epoch) else _duration(per_epoch),
                     "–" if math.isnan(run.noise) else f"{run.noise:.3f}",
                     f"{run.curve[-1]:.3g}",
                     "–" if math.isnan(accuracy) else f"{accuracy:.0%}",
                     '<b style="color:#b91c1c">diverged</b>' if run.trainer.diverged else f"{run.epochs_done:.3g}"]
            title = html.escape(run.trainer.diverged or "", quote=True)
            rows.append(f'<tr title="{title}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        head = "".join(f"<th>{h}</th>" for h in ("batch size", "steps per epoch", "time per epoch",
                                                   "noise", "training loss", "test accuracy", "epochs"))
        value = ('<table style="font-size:12px;border-collapse:collapse" cellpadding="3">'
                 f"<tr style='text-align:left'>{head}</tr>{''.join(rows)}</table>"
                 '<div style="font-size:11px;color:#666">noise: the standard deviation of the change in '
                 'mini-batch loss from one step to the next. Time per epoch: measured on this machine.</div>')
        if self.table.value != value:
            self.table.value = value

    def _show_status(self) -> None:
        alive = self._alive(math.inf)
        epochs = min(run.epochs_done for run in alive) if alive else max(run.epochs_done for run in self.runs)
        text = (f"epoch {epochs:.3g} of {self.epochs}  ·  {len(self.runs)} batch sizes, "
                f"learning rate {self.lr:.3g}")
        if epochs == 0:
            text += "  ·  press Play to train them all, or Step for one epoch"
        diverged = [run for run in self.runs if run.trainer.diverged]
        if diverged:
            more = f" (and {len(diverged) - 1} more)" if len(diverged) > 1 else ""
            text += f"  ·  batch size {diverged[0].label}{more}: {diverged[0].trainer.diverged}"
        self.status.show(text, "warning" if diverged else "info")


def _duration(seconds: float) -> str:
    """0.0123 -> '12 ms', 1.5 -> '1.5 s' (rounded: timings vary from run to run)."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2g} ms" if seconds < 0.01 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2g} s"
