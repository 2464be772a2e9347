"""StageStepper: one mini-batch at a time through forward, loss, gradient and update, every number shown.

    from backprop_kit.widgets import StageStepper
    StageStepper()                         # xor, a [2, 3, 1] tanh network, batches of 4

The learner presses Forward, Loss, Gradient, Update in that order (only the next one is
enabled); each button calls the real stage (``bk.forward``, ``bk.loss``, ``bk.gradient``,
``bk.update``) and the figure below fills in what it produced: the batch's z and a per
layer, the loss per sample, the deltas and weight gradients, the weights before and after.
"Check gradient" compares ``bk.gradient`` with finite differences (``bk.gradcheck``).
The network is tiny on purpose, so that every number fits on the screen.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

import backprop_kit as bk
from backprop_kit import _checks, activations, datasets, losses, plots
from backprop_kit.network import INITS

from . import _args
from ._base import ControlValue, Panel, button, intro, lr_slider, styled
from .canvas import live_figure, show_together

STAGES = ("forward", "loss", "gradient", "update")
TITLES = {"forward": "Forward", "loss": "Loss", "gradient": "Gradient", "update": "Update"}
POINTS = 40                 # points in the dataset: 10 batches of 4 per epoch
MAX_HIDDEN_LAYERS = 2       # the limits that keep every number readable on one screen
MAX_WIDTH = 4
MAX_BATCH = 8

# gradcheck verdicts: relative error below the first bound agrees, above the second is a bug
# lesson 04's bands for the relative error (CS231n's): agrees, close, suspicious, likely a bug
AGREES, CLOSE, SUSPICIOUS = 1e-7, 1e-4, 1e-2
# above this batch loss the network has blown up: central differences (eps 1e-6) of a loss this
# large cannot resolve its gradient, so a gradient check would only report rounding
CHECKABLE_LOSS = 1e8

INK, FAINT, EMPTY = plots.PALETTE["ink"], "#8a8a8a", "#f3f3f3"
NEGATIVE, POSITIVE = "#2166ac", "#b2182b"        # blue < 0 < red, everywhere in this panel


def _pale(color, strength):
    return plots.pale(color, strength)


SIGN_COLORMAP = LinearSegmentedColormap.from_list(
    "bk_sign", [_pale(NEGATIVE, 0.55), (1.0, 1.0, 1.0), _pale(POSITIVE, 0.55)])
LOSS_COLORMAP = LinearSegmentedColormap.from_list("bk_loss", [(1.0, 1.0, 1.0), _pale(POSITIVE, 0.45)])


# --- the stage board: annotated heatmaps placed on a grid of cells, made once -------------

CELL_W, CELL_H = 0.54, 0.25     # inches
MAX_FIGURE_WIDTH = 8.4      # inches: about the width of a JupyterLab notebook with its side bar open
MARGIN, LABEL_W, GAP = 0.15, 0.42, 0.30
TITLE_H, HEADING_H, ROW_GAP, SECTION_GAP, FOOTER_H = 0.40, 0.28, 0.14, 0.16, 0.24
TITLE_SIZE, VALUE_SIZE, LABEL_SIZE, HEADING_SIZE = 8.5, 7.5, 7.0, 10.0


@lru_cache(maxsize=512)
def _text_width(text: str, size: float) -> float:
    """Width in inches of ``text`` (mathtext allowed) at font ``size``: for laying out before drawing."""
    from matplotlib.backends.backend_agg import RendererAgg
    width, _, _ = RendererAgg(10, 10, 72).get_text_width_height_descent(
        text, FontProperties(size=size), ismath="$" in text)
    return width / 72


def number(value: float) -> str:
    """A value as the board prints it: 3 decimals (no '-0.000'); whole numbers from 1000 on, and
    a short 2.6e306 once that gets too long for a cell."""
    if not np.isfinite(value):
        return str(value)
    if abs(value) >= 1e5:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


@dataclass
class Block:
    """Where and how one matrix is drawn: ``rows x cols`` cells (or a bar chart, ``bars=True``)."""

    key: str
    title: str
    rows: int
    cols: int
    row_labels: list | None = None
    col_labels: list | None = None
    colors: str = "sign"            # 'sign' (blue < 0 < red), 'class' (around 0.5), 'loss' (from 0)
    bias_row: bool = False          # the last row holds the biases: draw a line above it
    bars: bool = False
    bars_width: float = 1.6
    measure: str | None = None      # lay out room for this title (the longest it can become)
    arrow: bool = True              # an arrow from the block before (it is computed from it)


class Matrix:
    """One annotated heatmap: an image and one text per cell, updated in place.

    Drawn on the board's single Axes, whose data coordinates are inches from the top left:
    ``left, top`` place the table and ``width`` is its width (rows are CELL_H high). One Axes
    for the whole board, without ticks, builds and draws several times faster than one per table.
    """

    def __init__(self, ax, left: float, top: float, width: float, block: Block, value_size: float):
        self.block, self.value_size, self.ax = block, value_size, ax
        rows, cols = block.rows, block.cols
        height, cell = rows * CELL_H, width / cols
        xs = left + cell * (np.arange(cols) + 0.5)
        ys = top + CELL_H * (np.arange(rows) + 0.5)
        self.values = np.full((rows, cols), np.nan)
        ax.add_patch(Rectangle((left, top), width, height, facecolor=EMPTY, edgecolor="none", zorder=0))
        colormap = {"sign": SIGN_COLORMAP, "class": plots.BINARY_COLORMAP, "loss": LOSS_COLORMAP}[block.colors]
        self.image = ax.imshow(self.values, cmap=colormap, vmin=-1, vmax=1, aspect="auto", zorder=1,
                               interpolation="nearest", extent=(left, left + width, top + height, top))
        grid = [[(x, top), (x, top + height)] for x in left + cell * np.arange(1, cols)]
        grid += [[(left, y), (left + width, y)] for y in top + CELL_H * np.arange(1, rows)]
        ax.add_collection(LineCollection(grid, colors="white", linewidths=1.2, zorder=2))
        ax.add_patch(Rectangle((left, top), width, height, facecolor="none", edgecolor="#d9d9d9",
                               linewidth=0.8, zorder=3))
        if block.bias_row:
            ax.plot([left, left + width], [top + height - CELL_H] * 2, color=INK, linewidth=0.9, zorder=3)
        self.texts = [[ax.text(x, y, "", ha="center", va="center", fontsize=value_size, color=INK, zorder=4)
                       for x in xs] for y in ys]
        label = dict(fontsize=LABEL_SIZE, color=FAINT, zorder=4)
        for x, name in zip(xs, block.col_labels or ()):
            ax.text(x, top - 0.03, name, ha="center", va="bottom", **label)
        self.row_texts = [ax.text(left - 0.05, y, name, ha="right", va="center", **label)
                          for y, name in zip(ys, block.row_labels or ())]
        lift = 0.05 + (0.14 if block.col_labels else 0.0)
        self.title = ax.text(left + width / 2, top - lift, block.title, ha="center", va="bottom",
                             fontsize=TITLE_SIZE, color=INK, zorder=4)
        self.clear()

    def show(self, values, vmax: float | None = None) -> None:
        """Show ``values`` (rows, cols): colours scaled to +-vmax (default: the largest |value|)."""
        values = np.asarray(values, dtype=float).reshape(self.block.rows, self.block.cols)
        self.values = values.copy()
        colors = self.block.colors
        if colors == "class":
            low, high = 0.0, 1.0
        else:
            top = vmax if vmax is not None else _largest(values)
            low, high = (0.0, top) if colors == "loss" else (-top, top)
        self.image.set_data(values)
        self.image.set_clim(low, high)
        self.image.set_visible(True)
        for row, texts in zip(values, self.texts):
            for value, text in zip(row, texts):
                shown = number(value)
                text.set_text(shown)
                text.set_fontsize(self.value_size * min(1.0, 6.0 / max(len(shown), 1)))

    def clear(self) -> None:
        """Empty cells (a stage not run yet for this batch): the grid stays, as a preview of the shape."""
        self.values = np.full((self.block.rows, self.block.cols), np.nan)
        self.image.set_visible(False)
        for texts in self.texts:
            for text in texts:
                text.set_text("")

    def set_row_labels(self, labels) -> None:
        for text, label in zip(self.row_texts, labels):
            text.set_text(label)


class Bars:
    """Horizontal bars, one per row of the neighbouring tables (the loss of each sample), and their mean.
    Placed like a Matrix, in inches on the board's Axes."""

    def __init__(self, ax, left: float, top: float, width: float, block: Block, value_size: float):
        self.block, self.ax = block, ax
        self.left, self.width = left, width
        rows = block.rows
        height = rows * CELL_H
        self.ys = top + CELL_H * (np.arange(rows) + 0.5)
        self.values = np.full(rows, np.nan)
        self.bars = [Rectangle((left, y - 0.31 * CELL_H), 0.0, 0.62 * CELL_H, facecolor=_pale(POSITIVE, 0.45),
                               edgecolor=_pale(POSITIVE, 0.8), linewidth=0.6, zorder=2) for y in self.ys]
        for bar in self.bars:
            ax.add_patch(bar)
        ax.plot([left, left + width], [top + height] * 2, color="#bbbbbb", linewidth=0.8)
        self.mean_line, = ax.plot([left, left], [top, top + height], color=INK, linewidth=1.1,
                                  linestyle="--", zorder=3)
        self.labels = [ax.text(left, y, "", va="center", ha="left", fontsize=value_size - 0.5, color=FAINT,
                               zorder=4, bbox=dict(boxstyle="square,pad=0.25", facecolor="white", edgecolor="none"))
                       for y in self.ys]
        self.title = ax.text(left + width / 2, top - 0.05, block.title, ha="center", va="bottom",
                             fontsize=TITLE_SIZE, color=INK, zorder=4)
        self.clear()

    def show(self, values, mean: float) -> None:
        values = np.asarray(values, dtype=float).ravel()
        self.values = values.copy()
        inches = self.width / (_largest(values, [mean]) * 1.45)
        for bar, label, value in zip(self.bars, self.labels, values):
            length = value * inches if np.isfinite(value) else 0.0
            bar.set_width(length)
            bar.set_visible(True)
            label.set_x(self.left + length + 0.04)
            label.set_text(number(value))
        x = self.left + (mean * inches if np.isfinite(mean) else 0.0)
        self.mean_line.set_xdata([x, x])
        self.mean_line.set_visible(True)
        self.title.set_text(f"their mean: $L$ = {number(mean)}")

    def clear(self) -> None:
        self.values = np.full(self.block.rows, np.nan)
        for bar, label in zip(self.bars, self.labels):
            bar.set_visible(False)
            label.set_text("")
        self.mean_line.set_visible(False)
        self.title.set_text(self.block.title)


@dataclass
class Section:
    """One stage's part of the board: a heading and rows of blocks (each row read left to right)."""

    key: str
    heading: str
    explanation: str
    rows: list


class Board:
    """All four stages on one figure, top to bottom: blocks placed on a grid of equal cells so that a
    number takes the same room everywhere; a row too wide for the screen wraps onto the next line.
    Made once per network shape; ``blocks[key]`` is the Matrix (or Bars) to ``show(...)`` or
    ``clear()``; ``say(section, text)`` sets a section's state (right of its heading).
    """

    def __init__(self, sections: list[Section], footer: str = "", css_class: str = "bk-plot-stage"):
        self.sections = sections
        lines = {section.key: [line for row in section.rows for line in self._wrap(row)] for section in sections}
        width = max(self._line_width(line) for key in lines for line in lines[key]) + MARGIN
        height = FOOTER_H + sum(HEADING_H + SECTION_GAP + sum(self._line_height(line) for line in lines[key])
                                + ROW_GAP * (len(lines[key]) - 1) for key in lines)
        self.figure, self.canvas = live_figure(width, height, css_class)
        self.figure.set_layout_engine("none")
        self.width, self.height = width, height
        # one Axes over the whole figure, in inches from the top left corner
        self.ax = ax = self.figure.add_axes([0, 0, 1, 1])
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.set_autoscale_on(False)
        ax.set_axis_off()
        self.blocks: dict = {}
        self.state_texts: dict = {}
        y = 0.0
        for section in sections:
            y = self._place_section(section, lines[section.key], y + SECTION_GAP)
        if footer:
            ax.text(MARGIN, height - FOOTER_H * 0.45, footer, fontsize=LABEL_SIZE, color=FAINT, va="center")

    def _place_section(self, section: Section, lines: list, y: float) -> float:
        """A section's heading at ``y`` (inches from the top), then its lines of blocks; returns the y below."""
        ax, middle = self.ax, y + HEADING_H * 0.5
        ax.text(MARGIN, middle, section.heading, fontsize=HEADING_SIZE, fontweight="bold", color=INK, va="center")
        ax.text(MARGIN + _text_width(section.heading, HEADING_SIZE) * 1.1 + 0.15, middle, section.explanation,
                fontsize=LABEL_SIZE + 1, color=FAINT, va="center")
        self.state_texts[section.key] = ax.text(self.width - MARGIN, middle, "", va="center", ha="right",
                                                fontsize=LABEL_SIZE + 1.5, color=INK)
        y += HEADING_H
        for k, line in enumerate(lines):
            top = y + (ROW_GAP if k else 0.0) + self._title_height(line)
            y = top + self._place_line(line, top)
        return y

    def _place_line(self, line: list, top: float) -> float:
        """One line of blocks (each with its arrow), their tables' tops at ``top``; returns their height."""
        rows_high = max(block.rows for block, _ in line) * CELL_H
        x = MARGIN
        for block, arrow in line:
            if arrow:
                self.ax.text(x + GAP / 2, top + min(block.rows * CELL_H, rows_high) / 2, "→", fontsize=12,
                             color="#b0b0b0", ha="center", va="center")
            x += GAP if arrow or x > MARGIN else 0.0
            label, body, slot = self._slot(block)
            kind = Bars if block.bars else Matrix
            self.blocks[block.key] = kind(self.ax, x + label + (slot - label - body) / 2, top, body, block, VALUE_SIZE)
            x += slot
        return rows_high

    # -- layout in inches --
    @staticmethod
    def _slot(block: Block) -> tuple[float, float, float]:
        """(label room, body width, slot width) of a block: the body widened to its title if needed."""
        label = LABEL_W if block.row_labels else 0.0
        body = block.bars_width if block.bars else block.cols * CELL_W
        title = _text_width(block.measure or block.title, TITLE_SIZE) + 0.08
        return label, body, label + max(body, title)

    def _wrap(self, row: list[Block]) -> list[list[tuple[Block, bool]]]:
        """Split a row into lines that fit MAX_FIGURE_WIDTH: [(block, arrow before it), ...] per line.
        A line that continues a row starts with an arrow."""
        lines, line, x = [], [], MARGIN
        for k, block in enumerate(row):
            arrow = k > 0 and block.arrow
            step = (GAP if line or arrow else 0.0) + self._slot(block)[2]
            if line and x + step + MARGIN > MAX_FIGURE_WIDTH:
                lines.append(line)
                line, x = [], MARGIN
                step = (GAP if arrow else 0.0) + self._slot(block)[2]
            line.append((block, arrow))
            x += step
        return lines + [line]

    def _line_width(self, line) -> float:
        return MARGIN + sum(self._slot(block)[2] for block, _ in line) + GAP * (
            len(line) - 1 + (1 if line[0][1] else 0))

    @staticmethod
    def _title_height(line) -> float:
        return TITLE_H if any(block.col_labels for block, _ in line) else TITLE_H - 0.13

    def _line_height(self, line) -> float:
        return self._title_height(line) + max(block.rows for block, _ in line) * CELL_H

    # -- updating --
    def say(self, section: str, text: str, color: str = INK) -> None:
        self.state_texts[section].set_text(text)
        self.state_texts[section].set_color(color)



# --- the network diagram and the loss per batch -------------------------------------------

def unit_names(sizes) -> list[list[str]]:
    """Names of every unit, layer by layer: x1, x2 | h1, h2, h3 | out (h1.2 = unit 2 of hidden layer 1
    when there are several hidden layers)."""
    hidden = len(sizes) - 2
    names = [[f"x{j + 1}" for j in range(sizes[0])]]
    for layer in range(1, len(sizes) - 1):
        prefix = "h" if hidden == 1 else f"h{layer}."
        names.append([f"{prefix}{j + 1}" for j in range(sizes[layer])])
    names.append(["out"] if sizes[-1] == 1 else [f"out{j + 1}" for j in range(sizes[-1])])
    return names


class NetworkDiagram:
    """Units as circles, weights as lines: blue for w < 0, red for w > 0, thicker for larger |w|;
    each unit's bias under it. ``update(net)`` restyles the same lines."""

    def __init__(self, ax, sizes):
        self.ax = ax
        names = unit_names(sizes)
        self.positions = [[(layer, (len(units) - 1) / 2 - j) for j in range(len(units))]
                          for layer, units in enumerate(names)]
        segments = [(self.positions[i][a], self.positions[i + 1][b])
                    for i in range(len(sizes) - 1) for a in range(sizes[i]) for b in range(sizes[i + 1])]
        self.edges = LineCollection(segments, zorder=1, capstyle="round")
        ax.add_collection(self.edges)
        xy = np.array([p for layer in self.positions for p in layer])
        ax.scatter(xy[:, 0], xy[:, 1], s=430, facecolor="white", edgecolor=INK, linewidth=1.0, zorder=2)
        for layer, units in zip(self.positions, names):
            for (x, y), name in zip(layer, units):
                ax.text(x, y, name, ha="center", va="center", fontsize=7, color=INK, zorder=3)
        self.bias_texts = [[ax.text(x, y - 0.36, "", ha="center", va="top", fontsize=6.2, color=FAINT, zorder=3)
                            for x, y in layer] for layer in self.positions[1:]]
        tall = max(sizes)
        ax.set_xlim(-0.4, len(sizes) - 0.6)
        ax.set_ylim(-(tall - 1) / 2 - 0.75, (tall - 1) / 2 + 0.45)
        ax.set_axis_off()
        ax.set_title("weights: blue < 0 < red, thickness |w|", fontsize=TITLE_SIZE, color=INK, pad=2)

    def update(self, net) -> None:
        weights = np.concatenate([W.ravel() for W in net.weights])
        biggest = float(np.abs(weights[np.isfinite(weights)]).max(initial=0.0)) or 1.0
        safe = np.nan_to_num(weights)
        self.edges.set_color([POSITIVE if w > 0 else NEGATIVE for w in safe])
        self.edges.set_linewidth(0.4 + 4.2 * np.abs(safe) / biggest)
        self.edges.set_alpha(0.85)
        for texts, b in zip(self.bias_texts, net.biases):
            for text, value in zip(texts, b):
                text.set_text(f"b {number(value)}")


# --- the panel -----------------------------------------------------------------------------

ARGUMENTS = {
    "dataset": _args.Choice(datasets.NAMES), "layers": _args.Whole(1, MAX_HIDDEN_LAYERS),
    "neurons": _args.Whole(1, MAX_WIDTH), "activation": _args.Choice(activations.HIDDEN),
    "lr": _args.Number(1e-4, 10.0), "init": _args.Choice(INITS), "seed": _args.SEED,
    "batch_size": _args.Whole(1, MAX_BATCH, accepts=f"a whole number from 1 to {MAX_BATCH} (every sample is shown)"),
}


class StageStepper(Panel):
    """Step one mini-batch through the four stages of training, seeing every number each produces.

    StageStepper(*, dataset="xor", layers=1, neurons=3, activation="tanh", lr=0.5, batch_size=4,
                 init="xavier", seed=0)

    - dataset: 'xor', 'circles', 'moons', 'gaussians', 'spiral' (binary, loss 'bce') or 'sine'
      (regression, loss 'mse'); 40 points, batches drawn in a shuffled order, epoch after epoch.
    - layers: hidden layers (1 or 2) of ``neurons`` (1 to 4) units each, then 1 output: every
      number must fit on the screen. (``stepper.net.sizes`` are the widths, input first.)
    - activation: of the hidden layers, one of activations.HIDDEN.
    - lr: the learning rate (step size) of Update, 0.0001 to 10. batch_size: 1 to 8 samples.
    - init: one of network.INITS. seed: the weights and the batch order.
    Every argument and what it accepts: ``ARGUMENTS``.

    Controls (CSS classes): the stage buttons ``bk-forward``, ``bk-loss``, ``bk-gradient``,
    ``bk-update`` (only the next stage's is enabled), ``bk-step`` (run the stages left for
    this batch, all four when a new batch is next), ``bk-reset``, ``bk-gradcheck``,
    ``bk-activation`` (a new network), ``bk-learning-rate`` (used by the next Update) and the
    status line ``bk-status``. Figures: ``bk-plot-stage`` (the four stages), ``bk-plot-network``.

    Attributes: ``net`` (the current Network), ``data``, ``loss`` (the loss's name),
    ``next_stage``, ``batch_number``, ``batch`` (indices into ``data.X_train``), ``X``, ``y``,
    and what the stages of this batch produced: ``trace``, ``loss_value``, ``sample_losses``,
    ``grads``, ``net_before`` (the network Update started from), ``update_lr``; ``losses``
    (one per batch so far) and ``gradcheck_errors`` (the last check, one per layer).
    """

    def __init__(self, *, dataset: str = "xor", layers: int = 1, neurons: int = 3, activation: str = "tanh",
                 lr: float = 0.5, batch_size: int = 4, init: str = "xavier", seed: int = 0):
        s = _args.check(ARGUMENTS, locals())
        seed, lr, batch_size = s["seed"], s["lr"], s["batch_size"]
        data = datasets.make(dataset, n=POINTS, noise=0.05 if dataset != "sine" else 0.1,
                             test_fraction=0.0, seed=seed)
        sizes = (data.n_inputs,) + (s["neurons"],) * s["layers"] + (1,)
        super().__init__()
        self.add_class("bk-stage-stepper")
        self.data, self._sizes, self.init, self.seed = data, sizes, init, seed
        self.loss = data.loss
        self.batch_size = batch_size

        # controls
        self.activation_control = styled(widgets.Dropdown(options=list(activations.HIDDEN), value=activation,
                                                           description="activation"), "bk-activation")
        self.lr_control = lr_slider(lr)
        self.stage_buttons = {stage: button(f"{k + 1} {TITLES[stage]}", f"bk-{stage}",
                                            tooltip=_TOOLTIPS[stage])
                              for k, stage in enumerate(STAGES)}
        self.step_button = button("Step", "bk-step", icon="forward",
                                  tooltip="Run the stages left for this batch (all four for a new batch)")
        self.reset_button = button("Reset", "bk-reset", icon="undo",
                                   tooltip="A fresh network with the same seed, back to batch 1")
        self.gradcheck_button = button("Check gradient", "bk-gradcheck", icon="check",
                                       tooltip="Compare backpropagation with finite differences (bk.gradcheck)")
        self.gradcheck_output = widgets.HTML()
        self.gradcheck_output.add_class("bk-gradcheck-result")

        # figures: the network and loss per batch on top, the four stages below
        self.network_figure, self.network_canvas = live_figure(7.2, 2.2, "bk-plot-network")
        self.network_figure.set_layout_engine("none")
        diagram_ax = self.network_figure.add_axes([0.01, 0.02, 0.44, 0.86])
        self.diagram = NetworkDiagram(diagram_ax, sizes)
        self.loss_ax = self.network_figure.add_axes([0.57, 0.2, 0.40, 0.66])
        self.loss_line, = self.loss_ax.plot([], [], color=plots.PALETTE["train"], marker="o", markersize=3.5,
                                            linewidth=1.3, markeredgecolor="white", markeredgewidth=0.5)
        plots.style(self.loss_ax, "loss per batch", "batch", None)
        plots.step_axis(self.loss_ax)
        self._sample_labels = [str(k + 1) for k in range(batch_size)]
        self.board = Board(_sections(sizes, self._sample_labels, self.loss, data.task, activation),
                           footer="Colours: blue < 0 < red, scaled per table. Numbers rounded to 3 decimals. "
                                  "Rows of X, z, a and δ are the samples of the batch (# = index in the data).")
        self.stage_figure = self.board.figure

        self.observe_value(self.activation_control, self._activation_changed)
        self.observe_value(self.lr_control, self._lr_changed)
        for stage, stage_button in self.stage_buttons.items():
            self.on_click(stage_button, lambda stage=stage: self._press(stage))
        self.on_click(self.step_button, self.step)
        self.on_click(self.reset_button, self.reset)
        self.on_click(self.gradcheck_button, self.check_gradient)

        buttons = widgets.HBox([*self.stage_buttons.values(), _spacer(), self.step_button, self.reset_button,
                                _spacer(), self.gradcheck_button], layout=widgets.Layout(flex_flow="row wrap"))
        self.children = [
            intro("One mini-batch through the four stages of training.", "Press the numbered buttons in "
                  "order; each calls the real stage (<code>bk.forward</code>, <code>bk.loss</code>, "
                  "<code>bk.gradient</code>, <code>bk.update</code>) and fills in its part of the figure."),
            widgets.HBox([self.activation_control, self.lr_control]),
            buttons,
            self.status,
            self.gradcheck_output,
            self.network_canvas,
            self.board.canvas,
        ]
        self._build_network(activation)
        self._say_next()
        self._draw()

    # --- what the buttons do ------------------------------------------------------------
    activation = ControlValue("activation_control")
    lr = ControlValue("lr_control", float, "The learning rate the next Update uses.")

    def run(self, stage: str) -> None:
        """Run ``stage`` ('forward', 'loss', 'gradient', 'update') if it is the next one; otherwise
        say which stage is next and change nothing."""
        _checks.choice("stage", stage, STAGES)
        if stage != self.next_stage:
            self.status.show(f"Not yet: the next stage is {TITLES[self.next_stage]} "
                             f"(they run in order forward → loss → gradient → update).", "warning")
            return
        with np.errstate(all="ignore"):       # overflow shows as inf in the tables; the stages check it
            getattr(self, f"_{stage}")()
        self.next_stage = STAGES[(STAGES.index(stage) + 1) % len(STAGES)]
        self._say_next()

    def step(self) -> None:
        """Run the stages left for the current batch, or all four for the next batch."""
        try:
            for stage in STAGES[STAGES.index(self.next_stage):]:
                self.run(stage)
        finally:
            self._draw()

    def reset(self, message: str | None = None) -> None:
        """A fresh network (same settings and seed), the first batch again, the figure emptied."""
        self._build_network(self.activation)
        self._say_next(f"Reset: a fresh network (seed {self.seed}). " if message is None else message)
        self._draw()

    def check_gradient(self) -> list[float]:
        """Run ``bk.gradcheck`` on the current network and batch (the next batch when none has
        started); show the relative error per layer with a verdict, and return the errors."""
        if self.X is None:
            X, y, which = *self._batch_data(self._peek_batch()), "batch 1"
        else:
            X, y, which = self.X, self.y, f"batch {self.batch_number}"
        with np.errstate(all="ignore"):       # a blown-up network overflows: said below, not warned about
            output = bk.forward(self.net, X).output
            batch_loss = bk.loss(output, y, self.loss) if np.all(np.isfinite(output)) else np.inf
            errors = bk.gradcheck(self.net, X, y, self.loss) if batch_loss <= CHECKABLE_LOSS else None
        if errors is None or not np.all(np.isfinite(errors)):
            # finite differences of a loss this large round to 0 or inf: the check cannot tell anything
            self.gradcheck_errors = errors = [np.nan] * self.net.n_layers
            self.gradcheck_output.value = _gradcheck_hint()
            self.status.show(f"Gradient check on {which}: not possible, the loss is {batch_loss:.3g} (the weights "
                             f"grew too large for finite differences). Press Reset (a lower learning rate may "
                             f"help). " + self._next_text(), "warning")
            return errors
        self.gradcheck_errors = errors
        worst = max(errors)
        verdict = _verdict(worst)[0]
        self.gradcheck_output.value = _gradcheck_table(errors, which)
        self.status.show(f"Gradient check on {which}: largest relative error {worst:.1e} per layer — {verdict}. "
                         + self._next_text(), "info" if worst < CLOSE else "warning")
        return errors

    def _press(self, stage: str) -> None:
        try:
            self.run(stage)
        finally:
            self._draw()

    def report(self, error: BaseException) -> None:
        super().report(error)
        self.status.show(self.status.text + " — press Reset to start again (a lower learning rate may help).",
                         "error")

    # --- the four stages: each calls the real one and shows what it returned -----------
    # Each computes first and keeps the results only when the stage succeeded, so a failing
    # stage (e.g. a diverged network) leaves the panel as it was.
    def _forward(self) -> None:
        batch = self._peek_batch()
        X, y = self._batch_data(batch)
        trace = bk.forward(self.net, X)
        self._next_batch()
        self.batch_number += 1
        self.batch, self.X, self.y, self.trace = batch, X, y, trace
        self.loss_value = self.sample_losses = self.grads = self.net_before = self.update_lr = None
        blocks, labels = self.board.blocks, [f"#{i}" for i in batch]
        for block in blocks.values():
            if block.block.row_labels is self._sample_labels:
                block.set_row_labels(labels)
        blocks["X"].show(X)
        for i, (z, a) in enumerate(zip(trace.pre, trace.post), start=1):
            blocks[f"z{i}"].show(z)
            blocks[f"a{i}"].show(a)
        for section in ("loss", "gradient", "update"):
            self._clear(section)
        self.board.say("forward", f"batch {self.batch_number} ✓", plots.PALETTE["train"])

    def _loss(self) -> None:
        output = self.trace.output
        if not np.all(np.isfinite(output)):
            raise ValueError(f"The outputs of batch {self.batch_number} are inf or NaN: the weights grew "
                             f"too large (learning rate {self.update_lr or self.lr:g})")
        loss_value = bk.loss(output, self.y, self.loss)
        # each sample's loss is the same stage on a batch of one; their mean is the batch loss
        sample_losses = np.array([bk.loss(output[k:k + 1], self.y[k:k + 1], self.loss)
                                  for k in range(len(output))])
        self.loss_value, self.sample_losses = loss_value, sample_losses
        self.losses.append(loss_value)
        blocks = self.board.blocks
        blocks["output"].show(output)
        blocks["target"].show(np.asarray(self.y, dtype=float).reshape(len(output), -1))
        blocks["sample_loss"].show(sample_losses)
        blocks["bars"].show(sample_losses, loss_value)
        self.board.say("loss", f"batch {self.batch_number}:  L = {loss_value:.4f}", plots.PALETTE["train"])
        self.loss_line.set_data(np.arange(1, len(self.losses) + 1), self.losses)
        self.loss_ax.set_xlim(0.5, max(len(self.losses), 5) + 0.5)
        self.loss_ax.set_ylim(0, _largest(self.losses) * 1.15)

    def _gradient(self) -> None:
        grads = bk.gradient(self.net, self.trace, self.y, self.loss)
        if not all(np.all(np.isfinite(g)) for g in grads.weights + grads.biases):
            raise ValueError(f"The gradients of batch {self.batch_number} are inf or NaN: the weights grew "
                             f"too large (learning rate {self.update_lr or self.lr:g})")
        self.grads = grads
        blocks = self.board.blocks
        for i in range(1, self.net.n_layers + 1):
            blocks[f"delta{i}"].show(self.grads.deltas[i - 1])
            blocks[f"dW{i}"].show(_with_bias(self.grads.weights[i - 1], self.grads.biases[i - 1]))
        self.board.say("gradient", f"batch {self.batch_number} ✓", plots.PALETTE["train"])

    def _update(self) -> None:
        lr = self.lr
        new_net = bk.update(self.net, self.grads, lr)
        self.net_before, self.net, self.update_lr = self.net, new_net, lr
        blocks = self.board.blocks
        for i in range(1, new_net.n_layers + 1):
            before = _with_bias(self.net_before.weights[i - 1], self.net_before.biases[i - 1])
            after = _with_bias(new_net.weights[i - 1], new_net.biases[i - 1])
            top = _largest(before, after)      # one colour scale, so a change of colour is a change of value
            blocks[f"before{i}"].show(before, top)
            blocks[f"change{i}"].show(after - before)    # what bk.update changed: -lr dL/dW
            blocks[f"after{i}"].show(after, top)
        self.diagram.update(new_net)
        self.board.say("update", f"batch {self.batch_number}:  η = {lr:g} ✓", plots.PALETTE["train"])

    # --- batches ------------------------------------------------------------------------
    def _peek_batch(self) -> np.ndarray:
        # a stream of shuffled passes over the data, so every batch is full
        while len(self._queue) < self.batch_size:
            self._queue = np.concatenate([self._queue, self._rng.permutation(len(self.data.X_train))])
        return self._queue[:self.batch_size]

    def _next_batch(self) -> np.ndarray:
        batch = self._peek_batch()
        self._queue = self._queue[self.batch_size:]
        return batch

    def _batch_data(self, batch):
        return self.data.X_train[batch], self.data.y_train[batch]

    # --- controls -------------------------------------------------------------------------
    def _activation_changed(self) -> None:
        for i in range(1, self.net.n_layers):
            self.board.blocks[f"a{i}"].title.set_text(_activation_title(i, self.activation))
        self.reset(f"Activation is now {self.activation}: a new network (seed {self.seed}), back to batch 1. ")

    def _lr_changed(self) -> None:
        when = "this batch's Update" if self.next_stage == "update" else "the next Update"
        self.status.show(f"Learning rate {self.lr:g}: used by {when}. " + self._next_text())

    # --- state and display ------------------------------------------------------------------
    def _build_network(self, activation: str) -> None:
        self.net = bk.Network(self._sizes, activation=activation, output=self.data.output, init=self.init,
                              seed=self.seed)
        self._rng = np.random.default_rng(self.seed)
        self._queue = np.empty(0, dtype=np.intp)
        self.next_stage = "forward"
        self.batch_number = 0
        self.batch = self.X = self.y = self.trace = None
        self.loss_value = self.sample_losses = self.grads = self.net_before = self.update_lr = None
        self.losses: list[float] = []
        self.gradcheck_errors = None
        self.gradcheck_output.value = _gradcheck_hint()
        self.loss_line.set_data([], [])
        self.loss_ax.set_xlim(0.5, 5.5)
        self.loss_ax.set_ylim(0, 1)
        self.diagram.update(self.net)
        for section in STAGES:
            self._clear(section)

    def _clear(self, section: str) -> None:
        for key in _SECTION_KEYS[section](self.net.n_layers):
            self.board.blocks[key].clear()
        self.board.say(section, f"press {TITLES[section]}", FAINT)

    def _next_text(self) -> str:
        if self.next_stage == "forward":
            return f"Next: Forward on batch {self.batch_number + 1}."
        return f"Next: {TITLES[self.next_stage]} (batch {self.batch_number})."

    def _say_next(self, prefix: str = "") -> None:
        for stage, stage_button in self.stage_buttons.items():
            stage_button.disabled = stage != self.next_stage
            stage_button.button_style = "primary" if stage == self.next_stage else ""
        done = {"forward": "", "loss": "forward pass done. ", "gradient": "", "update": "gradients computed. "}
        text = prefix
        if self.batch_number:
            text += f"Batch {self.batch_number}: "
            if self.loss_value is not None:
                text += f"loss {self.loss_value:.4f}. "
            else:
                text += done[self.next_stage]
        if self.next_stage == "forward" and self.batch_number:
            text += f"Weights updated (learning rate {self.update_lr:g}). "
        text += self._next_text()
        if not self.batch_number:
            text += " Or Step to run all four stages at once."
        self.status.show(text)

    def _draw(self) -> None:
        show_together([self.network_canvas, self.board.canvas])     # (each sent whole when it changed)


# --- helpers --------------------------------------------------------------------------------

_TOOLTIPS = {
    "forward": "Forward: z = a W + b and a = f(z), layer by layer, for the next batch (bk.forward)",
    "loss": "Loss: how wrong the outputs are, one number per sample and their mean (bk.loss)",
    "gradient": "Gradient: backpropagation, output layer first (bk.gradient)",
    "update": "Update: W ← W − learning rate × dL/dW (bk.update)",
}

_SECTION_KEYS = {
    "forward": lambda L: ["X"] + [f"{k}{i}" for i in range(1, L + 1) for k in ("z", "a")],
    "loss": lambda L: ["output", "target", "sample_loss", "bars"],
    "gradient": lambda L: [f"{k}{i}" for i in range(1, L + 1) for k in ("delta", "dW")],
    "update": lambda L: [f"{k}{i}" for i in range(1, L + 1) for k in ("before", "change", "after")],
}


def _spacer() -> widgets.Box:
    return widgets.Box(layout=widgets.Layout(width="14px"))


def _largest(*arrays) -> float:
    """The largest finite |value| in the arrays (1.0 when there is none, or it is 0)."""
    values = np.abs(np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays]))
    values = values[np.isfinite(values)]
    return float(values.max()) if len(values) and values.max() > 0 else 1.0


def _with_bias(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """W (m, k) with b (k,) as one more row: the layer's parameters as one table, (m + 1, k)."""
    return np.vstack([W, b[None, :]])


def _tex_name(name: str) -> str:
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


def _sections(sizes, samples: list[str], loss: str, task: str, activation: str) -> list[Section]:
    """The board's layout for a network of ``sizes`` and batches of samples labelled ``samples``
    (blocks with these row labels get the batch's indices after each forward pass)."""
    names, L, n = unit_names(sizes), len(sizes) - 1, len(samples)
    forward = [Block("X", "$X = a_0$ (inputs)", n, sizes[0], samples, names[0])]
    for i in range(1, L + 1):
        forward.append(Block(f"z{i}", f"$z_{i} = a_{i - 1} W_{i} + b_{i}$", n, sizes[i], None, names[i]))
        if i < L:
            forward.append(Block(f"a{i}", _activation_title(i, activation), n, sizes[i], None, names[i],
                                 measure=_activation_title(i, "leaky_relu")))
        else:
            output = "linear" if task == "regression" else "sigmoid"
            forward.append(Block(f"a{i}", _activation_title(i, output), n, sizes[i], None, names[i],
                                 colors="sign" if task == "regression" else "class"))
    output_colors = "class" if task != "regression" else "sign"
    loss_row = [Block("output", f"output $a_{L}$", n, 1, samples, None, colors=output_colors),
                Block("target", "target $y$", n, 1, None, None, colors=output_colors, arrow=False),
                Block("sample_loss", "loss per sample", n, 1, None, None, colors="loss"),
                Block("bars", "their mean: $L$", n, 1, bars=True, measure="their mean: $L$ = 0.000")]
    gradient = []
    for i in range(L, 0, -1):
        gradient.append(Block(f"delta{i}", rf"$\delta_{i} = \partial L/\partial z_{i}$", n, sizes[i],
                              samples, names[i]))
        gradient.append(Block(f"dW{i}", rf"$\partial L/\partial W_{i}$, $\partial L/\partial b_{i}$",
                              sizes[i - 1] + 1, sizes[i], names[i - 1] + ["b"], names[i], bias_row=True))
    update = [[Block(f"before{i}", f"$W_{i}$, $b_{i}$ before", sizes[i - 1] + 1, sizes[i],
                     names[i - 1] + ["b"], names[i], bias_row=True),
               Block(f"change{i}", rf"change $= -\eta\,\partial L/\partial W_{i}$", sizes[i - 1] + 1, sizes[i],
                     None, names[i], bias_row=True),
               Block(f"after{i}", f"$W_{i}$, $b_{i}$ after", sizes[i - 1] + 1, sizes[i], None, names[i],
                     bias_row=True)] for i in range(1, L + 1)]
    formula = losses.REGISTRY[loss].formula
    return [
        Section("forward", "1  Forward", "each layer: z = a W + b, then a = f(z)", [forward]),
        Section("loss", "2  Loss", f"{loss}: L = {formula}, over the samples", [loss_row]),
        Section("gradient", "3  Gradient", "backpropagation, from the output back: "
                "δ = ∂L/∂z, ∂L/∂W = aᵀδ, ∂L/∂b = Σ δ", [gradient]),
        Section("update", "4  Update", "W ← W − η ∂L/∂W and b ← b − η ∂L/∂b (η: the learning rate)", update),
    ]


def _activation_title(i: int, activation: str) -> str:
    return f"$a_{i} = {_tex_name(activation)}(z_{i})$"


def _verdict(error: float) -> tuple[str, str]:
    """Lesson 04's band for a gradient check's relative error: its words and colour."""
    if error < AGREES:
        return "agrees: backpropagation is right", "#15803d"
    if error < CLOSE:
        return "close: fine if you can name the cause (a relu kink, tiny gradients)", "#b45309"
    if error < SUSPICIOUS:
        return "suspicious: check other samples or a smooth activation", "#c2410c"
    return "likely a bug in the gradient", "#b91c1c"


def _gradcheck_hint() -> str:
    return ('<div style="font-size:12px;color:#666">"Check gradient" compares the gradient from '
            "backpropagation with finite differences, (L(w + ε) − L(w − ε)) / 2ε, one weight at a time.</div>")


def _gradcheck_table(errors, which: str) -> str:
    cell = 'style="padding:0 10px 0 0;white-space:nowrap"'
    rows = []
    for i, error in enumerate(errors, start=1):
        verdict, color = _verdict(error)
        rows.append(f"<tr><td {cell}>layer {i}</td><td {cell}><code>{error:.1e}</code></td>"
                    f'<td {cell}><span style="color:{color}">{html.escape(verdict)}</span></td></tr>')
    return ('<div style="font-size:12px"><b>Gradient check</b> on ' + html.escape(which)
            + ": relative error ‖g<sub>backprop</sub> − g<sub>numeric</sub>‖ / (‖g<sub>backprop</sub>‖ + "
            "‖g<sub>numeric</sub>‖) per layer, weights and biases together"
            '<table style="margin:2px 0 4px 0">' + "".join(rows) + "</table></div>")
