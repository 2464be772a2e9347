"""Playground: pick data, a network and a way to train it, then watch it learn, live.

    from backprop_kit.widgets import Playground
    panel = Playground(dataset="spiral", layers=2, neurons=8, lr=0.03, seed=0)
    panel                      # display it; Play trains without blocking the kernel

Controls (left, in three groups) and what a change does:

- Data (dataset, classes, points, noise, test share, seed) and Network (hidden layers,
  neurons, activation, init, its std ``scale``) and the optimizer: a new dataset / network / Trainer.
  The status says so ("architecture changed (...): network reset").
- Learning rate, batch size, L2 and clipping: applied to the running Trainer
  (``trainer.lr = ...``); the run goes on with its progress.

- Inputs (the features the network reads: x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)): a new
  network whose first layer takes them.
- Your points: a click on the boundary plot adds a training point of the class chosen in
  ``bk-add-class``; Shift-click removes the nearest one; "Clear points" starts from an empty
  plane. Training goes on with the new set (a new epoch order; the test set is kept).

Plots (right): decision boundary (or the fitted curve for 'sine'), loss per step and per
epoch, the network itself (each neuron a picture of its output over the plane, each edge its
weight; or the last step's gradients: ``bk-network-show``; hover or click on it for numbers),
and each layer's gradient norm with the clipping threshold. "As code" shows the Python that
reproduces the run exactly, live changes included, to carry into your own cells.

Play trains in a worker process where it can (``_worker``: another core trains while the kernel
shows, ~20 frames a second), else in the kernel; the run is the same, bit for bit. While playing,
``panel.trainer`` is the run as the last frame showed it; a control, a point, Reset, Step and Pause
first bring the worker's training home, so a change lands at the step shown (and "As code" says so).

The panel is thin: the network, the four stages and the Trainer are the ones the lessons
use; the views are ``backprop_kit.plots``; this module only wires controls to them.
For tests and instructors: ``panel.trainer``, ``panel.data``, ``panel.controls`` (name ->
widget), ``panel.buttons``, ``panel.views`` (loss, gradients, boundary, network), ``panel.figures``
(their Matplotlib figures, e.g. for ``savefig``), ``panel.step()``, ``panel.play()``,
``panel.pause()``, ``panel.reset()``, ``panel.as_code()``, ``panel.add_point(x1, x2, label)``,
``panel.remove_point(x1, x2)``, ``panel.clear_points()``.
"""
from __future__ import annotations

import html
import math
import time
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.layout_engine import ConstrainedLayoutEngine

from .. import _checks, activations, datasets, plots
from ..network import INITS, Network
from ..network_view import SHOWS, NetworkView
from ..optimizers import OPTIMIZERS
from ..training import Trainer
from . import _args, _base, _own_data, _worker, canvas
from ._play import PlayLoop, Rate, train_for

# What the Step button runs, by the name shown in its menu: ("steps" | "epochs", how many).
STEP_SIZES = {"1 step": ("steps", 1), "10 steps": ("steps", 10), "100 steps": ("steps", 100),
              "1 epoch": ("epochs", 1), "10 epochs": ("epochs", 10)}
# A Play frame trains (for as long as the one frame-budget policy says: _play.FrameBudget), then
# updates the views' data and shows them: each plot's moving lines and image go to the page as
# numbers, the rest of the plot is drawn by Matplotlib only when it changes (see canvas.py).
MAX_STEPS_PER_FRAME = 5000
BOUNDARY_RESOLUTION = 80      # grid points per side of the boundary image (bilinear in between)
# While playing, the boundary (a forward pass over its grid and a new image: the costliest view)
# is shown again once this many times its own cost has passed, so it takes <= 1/6 of the time,
# when the kernel also trains; WORKER_PICTURE_PACE when a worker process trains (_worker).
BOUNDARY_PACE = 6.0
WORKER_PICTURE_PACE = 2.0
STATUS_SECONDS = 0.1          # while playing, the status line changes at most this often
INFO_SECONDS = 0.25           # while playing, the training info (last gradient norm) changes at most this often
AHEAD_SECONDS = 1.0           # while playing, a step axis that grows makes room for this many seconds of steps
NOTICE_SECONDS = 4.0          # how long "network reset" / "applied live" stays in the status while playing
YOURS = "yours"               # the dataset menu's value for the data a learner gave (Playground(data=...))
PLAIN_INPUTS = ("x1", "x2")


def _classes(name, value, settings):
    classes = _checks.number(name, value, low=ARGUMENTS[name].low, high=ARGUMENTS[name].high, integer=True)
    if classes != 2 and settings["dataset"] not in datasets.MULTICLASS:
        raise ValueError(f"classes must be 2 for dataset {settings['dataset']!r}; only "
                         f"{' and '.join(map(repr, datasets.MULTICLASS))} have more classes; got {classes}")
    return classes


def _check_data(name, value, settings):
    if value is not None and (not isinstance(value, datasets.Dataset) or not len(value.X_train)):
        raise TypeError(f"{name} must be None or a backprop_kit Dataset with training points, e.g. "
                        f"bk.datasets.from_arrays(X, y); got {_checks._show(value)}")
    return value


def _check_features(name, value, settings):
    return datasets.feature_names(value if not isinstance(value, tuple) else list(value))


# the constructor's arguments, and the ranges of the sliders: it accepts what the controls can show
ARGUMENTS = {
    "dataset": _args.Choice(datasets.NAMES), "n": _args.Whole(20, 2000), "noise": _args.Number(0.0, 0.5),
    "test_fraction": _args.Number(0.0, 0.9), "classes": _args.Custom(_classes, low=2, high=6),
    "layers": _args.Whole(0, 6), "neurons": _args.Whole(1, 32),
    "activation": _args.Choice(activations.HIDDEN), "init": _args.Choice(INITS),
    "scale": _args.Number(1e-3, 10.0), "optimizer": _args.Choice(OPTIMIZERS), "lr": _args.Number(1e-4, 10.0),
    "batch_size": _args.BatchSize(), "l2": _args.Optional(_args.Number(1e-5, 1.0), off=0.0),
    "clip": _args.Optional(_args.Number(1e-2, 100.0, accepts="a max gradient norm from 0.01 to 100")),
    "seed": _args.Whole(0, 2**31 - 1), "step_size": _args.Choice(STEP_SIZES),
    "data": _args.Custom(_check_data), "features": _args.Custom(_check_features), "show": _args.Choice(SHOWS),
}

# which controls rebuild what, and how a change is named in the status
DATA_CONTROLS = ("dataset", "classes", "n", "noise", "test_fraction", "seed")
NETWORK_CONTROLS = ("features", "layers", "neurons", "activation", "init", "scale")
RESET_CONTROLS = DATA_CONTROLS + NETWORK_CONTROLS + ("optimizer",)
LIVE_CONTROLS = ("lr", "batch_size", "l2", "clip")      # the Trainer's attributes of the same names
LABELS = {"dataset": "dataset", "classes": "classes", "n": "points", "noise": "noise",
          "test_fraction": "test share", "seed": "seed", "features": "inputs", "layers": "hidden layers",
          "neurons": "neurons per layer", "activation": "activation", "init": "init",
          "scale": "init std", "optimizer": "optimizer", "lr": "learning rate",
          "batch_size": "batch size", "l2": "L2", "clip": "clipping"}


class Views(NamedTuple):
    """The four live views of a Playground (each on its own figure and canvas)."""
    loss: plots.LossView
    gradients: plots.GradientNormView
    boundary: plots.BoundaryView
    network: NetworkView


# --- a control for "off, or a number on a log scale" (clipping, L2) -------------------------

class OptionalLogSlider(widgets.HBox):
    """A checkbox and a log slider with one ``value``: None (off) or a number in [low, high].

    Setting ``value`` moves the parts; moving the parts sets ``value``; observe ``value``.
    """

    value = traitlets.Any(None, allow_none=True)

    def __init__(self, description: str, value: float | None, low: float, high: float,
                 default: float, css_class: str, tooltip: str = ""):
        self.low, self.high = low, high
        self._syncing = False
        self.checkbox = widgets.Checkbox(value=value is not None, description=description, indent=False,
                                         tooltip=tooltip, layout=widgets.Layout(width="106px"))
        self.slider = widgets.FloatLogSlider(value=default if value is None else value, base=10,
                                             min=math.log10(low), max=math.log10(high), step=0.1,
                                             readout_format=".3", continuous_update=False,
                                             disabled=value is None, tooltip=tooltip,
                                             layout=widgets.Layout(width="182px"))
        super().__init__([self.checkbox, self.slider], layout=widgets.Layout(width="290px"))
        self.value = value
        self.add_class(css_class)
        self.checkbox.observe(self._from_parts, names="value")
        self.slider.observe(self._from_parts, names="value")

    @traitlets.validate("value")
    def _check(self, proposal):
        value = proposal["value"]
        if value is not None:
            value = _checks.number(self.checkbox.description, value, low=self.low, high=self.high,
                                   accepts=f"None (off) or a number from {self.low:g} to {self.high:g}")
        return value

    @traitlets.observe("value")
    def _to_parts(self, change) -> None:
        self._syncing = True
        try:
            self.checkbox.value = change["new"] is not None
            if change["new"] is not None:
                self.slider.value = change["new"]
            self.slider.disabled = change["new"] is None
        finally:
            self._syncing = False

    def _from_parts(self, _change) -> None:
        if not self._syncing:
            self.value = self.slider.value if self.checkbox.value else None


# --- the panel ------------------------------------------------------------------------------

class Playground(_base.Panel):
    """Train a small network on 2-D data (or a 1-D sine) and watch loss, gradients and boundary.

    Playground(*, dataset="spiral", n=300, noise=0.1, test_fraction=0.3, classes=2, layers=2,
               neurons=8, activation="tanh", init="xavier", scale=0.1, optimizer="sgd",
               lr=0.1, batch_size=16, l2=0.0, clip=None, seed=0, step_size="1 epoch",
               data=None, features=("x1", "x2"), show="weights")

    Every argument and what it accepts: ``ARGUMENTS`` (the sliders have the same ranges).

    - dataset: one of datasets.NAMES; n points (20..2000), noise (0..0.5), test_fraction
      (0..0.9), classes (2..6, for datasets.MULTICLASS).
    - layers: hidden layers (0..6) of ``neurons`` (1..32) each; activation: one of
      activations.HIDDEN; init: one of network.INITS ('normal' draws with std ``scale``).
      The output layer and loss follow the dataset's task (datasets.TASK_DEFAULTS).
    - optimizer: one of optimizers.OPTIMIZERS; lr: the learning rate (1e-4..10); batch_size (1..the
      training-set size); l2 (0, or 1e-5..1); clip (None, or a max gradient norm 0.01..100).
    - seed: the same seed draws the same data, weights and mini-batch order.
    - step_size: what the Step button runs: '1 step', '10 steps', '100 steps', '1 epoch', '10 epochs'.
    - data: your own Dataset (``bk.datasets.from_arrays(X, y)``) instead of a built-in one; the
      dataset menu offers it as "<name> (yours)" beside the built-in ones.
    - features: the inputs the network reads, names of datasets.FEATURES (2-D data).
    - show: what the network view carries, 'weights' or 'gradients'.
    """

    def __init__(self, *, dataset: str = "spiral", n: int = 300, noise: float = 0.1,
                 test_fraction: float = 0.3, classes: int = 2, layers: int = 2, neurons: int = 8,
                 activation: str = "tanh", init: str = "xavier", scale: float = 0.1,
                 optimizer: str = "sgd", lr: float = 0.1, batch_size: int = 16,
                 l2: float = 0.0, clip: float | None = None, seed: int = 0,
                 step_size: str = "1 epoch", data: datasets.Dataset | None = None,  # noqa: V107
                 features=PLAIN_INPUTS, show: str = "weights"):  # noqa: V107 (read by _args.check through locals())
        settings = _args.check(ARGUMENTS, locals())
        super().__init__()
        self.add_class("bk-playground")
        self.trainer: Trainer | None = None
        self._quiet = True                 # no control reacts while the panel is being built
        self._notice = ("", 0.0, 0, "info")  # (text, time.monotonic() it may go, trainer.steps when given, kind)
        self._rate = Rate()                # seconds per step, measured while playing
        self._boundary_due = 0.0           # loop.clock() from which a Play frame redraws the boundary
        self._yours = settings["data"]     # the data a learner gave, or None
        self._edited = False               # points were added or removed since the data was made
        self._worker: _worker.Worker | None = None   # trains while playing (one process per Play)
        self._worker_steps = 0             # steps trained in worker processes (for tests and measurements)
        self._kernel_only = not _worker.available()  # True: Play trains in the kernel (see _worker)
        self._uncopyable = None            # a Trainer the worker could not take: trained in the kernel
        self._fetched = None               # (loop.clock(), trainer.steps) at the last frame from the worker

        self.controls = self._make_controls(settings)
        self.buttons = {
            "play": _base.button("Play", "bk-play", icon="play", style="success",
                                 tooltip="Train continuously; click again to pause"),
            "step": _base.button("Step", "bk-step", icon="step-forward",
                                 tooltip="Train one chunk (see the menu next to it), then stop"),
            "reset": _base.button("Reset", "bk-reset", icon="refresh",
                                  tooltip="A fresh network and Trainer from the current controls"),
            "as_code": _base.button("As code", "bk-as-code", icon="code",
                                    tooltip="Python that reproduces this run exactly"),
            "clear": _base.button("Clear points", "bk-clear-points", icon="eraser",
                                  tooltip="Remove every point: draw your own data on the boundary plot"),
        }
        self.code = widgets.Textarea(value="", rows=14, layout=widgets.Layout(width="100%", display="none"))
        self.code.add_class("bk-code")
        self.info = {name: self._info_label(f"bk-{name}-info") for name in ("data", "network", "training")}
        # a fixed height: hovering must not move the plot under the pointer (the text may take two lines)
        self.network_info = widgets.HTML(layout=widgets.Layout(height="34px", width="430px", overflow="hidden",
                                                               margin="0 0 0 6px"))
        self.network_info.add_class("bk-network-details")

        # each plot: a Matplotlib figure, shown by a LayeredCanvas (the browser draws the moving
        # lines and images from numbers; Matplotlib draws the rest when it changes)
        self.figures, self.canvases = {}, {}
        for name, size in (("boundary", (3.15, 3.0)), ("loss", (3.25, 3.0)), ("network", (6.4, 3.2)),
                           ("gradients", (6.4, 2.45))):
            self.figures[name], self.canvases[name] = canvas.live_figure(*size, css_class=f"bk-plot-{name}")
        self._layout(self.canvases)

        data = self._make_data()
        network_figure = self.figures["network"]
        network_figure.set_layout_engine("none")      # two Axes placed by hand: the network, a neuron enlarged
        self.views = Views(
            loss=plots.LossView(self.figures["loss"].add_subplot(), log=self.controls["log_loss"].value,
                                limits="steady"),
            gradients=plots.GradientNormView(self.figures["gradients"].add_subplot(), layers=1,
                                             limits="steady"),
            boundary=plots.BoundaryView(self.figures["boundary"].add_subplot(), data,
                                        resolution=BOUNDARY_RESOLUTION),
            network=NetworkView(network_figure.add_axes([0.0, 0.01, 0.66, 0.93]), data, show=settings["show"],
                                zoom_ax=network_figure.add_axes([0.70, 0.16, 0.28, 0.62], visible=False)))
        self._tidy_axes()
        for name, view in self.views._asdict().items():
            self.canvases[name].follow([view])         # its moving artists go to the page as numbers
        self._lay_out_once()
        self.loop = PlayLoop(self.buttons["play"], self._train, lambda: self._show(playing=True),
                             say=self.status.show, on_error=self.report, prepare=self._can_play,
                             on_pause=self._on_pause, on_stop=self._on_stop)
        self._note = None                  # what the loss note shows (text and placement)
        self._info_due = 0.0               # time.monotonic() from which a Play frame updates the training info
        self._wire()
        self._reset(data=data)
        self._quiet = False

    # --- building -----------------------------------------------------------------------
    def _make_controls(self, s: dict) -> dict:
        def slider(kind, name, description, tooltip, **kwargs):
            low, high = ARGUMENTS[name].low, ARGUMENTS[name].high
            return _base.styled(kind(value=s[name], min=low, max=high, description=description,
                                     continuous_update=False, tooltip=tooltip, **kwargs),
                                f"bk-{name.replace('_', '-')}")

        def dropdown(name, options, description, tooltip):
            return _base.styled(widgets.Dropdown(options=options, value=s[name], description=description,
                                                 tooltip=tooltip), f"bk-{name.replace('_', '-')}")

        yours = s["data"]
        menu = ([(f"{yours.name} (yours)", YOURS)] if yours is not None else []) + [(n, n) for n in datasets.NAMES]
        c = {
            "dataset": _base.styled(widgets.Dropdown(
                options=menu, value=YOURS if yours is not None else s["dataset"], description="dataset",
                tooltip="Which data to learn; 'sine' is regression (fit a curve)"), "bk-dataset"),
            "classes": slider(widgets.IntSlider, "classes", "classes",
                              "Number of classes (spiral and gaussians only): softmax output"),
            "n": slider(widgets.IntSlider, "n", "points", "Number of points, train and test together", step=10),
            "noise": slider(widgets.FloatSlider, "noise", "noise", "Std of the noise added to the data",
                            step=0.01, readout_format=".2f"),
            "test_fraction": slider(widgets.FloatSlider, "test_fraction", "test share",
                                    "Share of the points held out for testing", step=0.05,
                                    readout_format=".0%"),
            "seed": _base.styled(widgets.BoundedIntText(value=s["seed"], min=ARGUMENTS["seed"].low,
                                                        max=ARGUMENTS["seed"].high, description="seed",
                                                        tooltip="Same seed: same data, weights and batches"),
                                 "bk-seed"),
            "features": _own_data.FeatureToggles(s["features"]),
            "layers": slider(widgets.IntSlider, "layers", "hidden layers", "Hidden layers between input and output"),
            "neurons": slider(widgets.IntSlider, "neurons", "neurons", "Neurons in each hidden layer"),
            "activation": dropdown("activation", activations.HIDDEN, "activation", "Activation of the hidden layers"),
            "init": dropdown("init", INITS, "init", "How the weights start: 'zeros' shows the symmetry problem"),
            "scale": _base.styled(widgets.FloatLogSlider(
                value=s["scale"], base=10, min=math.log10(ARGUMENTS["scale"].low),
                max=math.log10(ARGUMENTS["scale"].high), step=0.1, description="init std",
                readout_format=".3", continuous_update=False,
                tooltip="Std of the weights for init 'normal' (small: vanishing, large: exploding)"),
                "bk-scale"),
            "optimizer": dropdown("optimizer", tuple(OPTIMIZERS), "optimizer", "How gradients become steps"),
            "lr": _base.lr_slider(s["lr"]),
            "batch_size": _base.styled(widgets.IntSlider(
                value=s["batch_size"], min=1, max=datasets.train_size(s["n"], s["test_fraction"]),
                description="batch size",
                continuous_update=False, tooltip="Samples per step; the maximum is the whole training set"),
                "bk-batch-size"),
            "l2": OptionalLogSlider("L2", s["l2"] or None, ARGUMENTS["l2"].low, ARGUMENTS["l2"].high, default=1e-3, css_class="bk-l2",
                                    tooltip="Weight penalty l2 * sum of squared weights"),
            "clip": OptionalLogSlider("clip norm", s["clip"], ARGUMENTS["clip"].low, ARGUMENTS["clip"].high,
                                      default=1.0, css_class="bk-clip",
                                      tooltip="Scale the gradients down when their global norm exceeds this"),
            "step_size": _base.styled(widgets.Dropdown(options=tuple(STEP_SIZES), value=s["step_size"],
                                                       tooltip="What one click on Step trains"),
                                      "bk-step-size", width="110px"),
            "log_loss": widgets.Checkbox(value=True, description="log loss axis", indent=False,
                                         layout=widgets.Layout(width="auto")),
            "add_class": _base.styled(widgets.Dropdown(options=[("click adds class 0", 0)], value=0,
                                                       tooltip="The class a click on the boundary plot adds"),
                                      "bk-add-class", width="150px"),
            "show": _base.styled(widgets.ToggleButtons(options=SHOWS, value=s["show"],
                                                       tooltips=["each edge its weight, each neuron its output",
                                                                 "the last step's |dL/dw| and |delta|"],
                                                       style={"button_width": "96px"}),
                                 "bk-network-show", width="auto"),
        }
        c["log_loss"].add_class("bk-log-loss")
        c["lr"].tooltip = "Step size; live: changes apply to the running training"
        return c

    @staticmethod
    def _info_label(css_class: str) -> widgets.HTML:
        label = widgets.HTML(layout=widgets.Layout(width="290px", margin="0 0 0 4px"))
        label.add_class(css_class)
        return label

    def _layout(self, canvases: dict) -> None:
        c = self.controls

        def group(title, names, info, note="", extra=()):
            header = widgets.HTML(f'<b style="font-size:13px">{title}</b>'
                                  f'<span style="color:#777;font-size:11px"> {note}</span>')
            box = widgets.VBox([header, *(c[name] for name in names), *extra, info], layout=widgets.Layout(
                border="1px solid #e0e0e0", padding="2px 4px 4px 4px", margin="0 0 6px 0", width="302px"))
            box.add_class(f"bk-group-{title.lower()}")
            return box

        points = widgets.HBox([c["add_class"], self.buttons["clear"]], layout=widgets.Layout(align_items="center"))
        hint = widgets.HTML(_small("Your points: click the boundary plot to add one, Shift-click to remove the "
                                   "nearest; training goes on with them."))
        left = widgets.VBox([
            group("Data", ("dataset", "classes", "n", "noise", "test_fraction", "seed"), self.info["data"],
                  "change: new network", extra=(points, hint)),
            group("Network", NETWORK_CONTROLS, self.info["network"],
                  "change: new network"),
            group("Training", ("optimizer", *LIVE_CONTROLS), self.info["training"],
                  "lr, batch, L2, clip: live"),
        ], layout=widgets.Layout(flex="0 0 auto"))
        network_bar = widgets.HBox([c["show"], self.network_info], layout=widgets.Layout(align_items="center"))
        right = widgets.VBox([network_bar, canvases["network"], widgets.HBox([canvases["boundary"], canvases["loss"]]),
                              canvases["gradients"]], layout=widgets.Layout(flex="0 0 auto"))
        b = self.buttons
        toolbar = widgets.HBox([b["play"], b["step"], c["step_size"], b["reset"], b["as_code"],
                                c["log_loss"]], layout=widgets.Layout(align_items="center"))
        self.status.layout = widgets.Layout(margin="0 0 4px 4px")
        body = widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap",
                                                                 align_items="flex-start"))
        self.children = [toolbar, self.status, body, self.code]

    def _tidy_axes(self) -> None:
        """Step axes with few ticks, 1.5k for 1500 (they are narrow), and a note on the loss axes
        (what to do before the first step; where a run diverged)."""
        from matplotlib.ticker import FuncFormatter, MaxNLocator
        for view, bins in ((self.views.loss, 5), (self.views.gradients, 8)):
            view.ax.xaxis.set_major_locator(MaxNLocator(nbins=bins, integer=True, steps=[1, 2, 2.5, 5, 10]))
            view.ax.xaxis.set_major_formatter(FuncFormatter(_step_label))
        self.loss_note = self.views.loss.ax.text(
            0.5, 0.42, "", transform=self.views.loss.ax.transAxes, ha="center", va="center",
            fontsize=plots.LABEL_SIZE, color=plots.PALETTE["ink"], zorder=5,
            bbox=dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor="none", alpha=0.85))

    def _lay_out_once(self) -> None:
        """Constrained layout re-measures every label on every draw (about half of a frame's
        drawing): lay each figure out on its first draw only, then again on the draw after its
        labels changed (``_relayout_if_labels_changed``) or it was resized."""
        self._layout_keys = {}
        for name, figure in self.figures.items():
            if name == "network":            # its Axes are placed by hand
                continue
            figure.canvas.mpl_connect("draw_event", lambda _event, figure=figure: figure.set_layout_engine("none"))
            # a resize (a page with another devicePixelRatio): lay out the new size
            figure.canvas.mpl_connect("resize_event",
                                      lambda _event, figure=figure: figure.set_layout_engine("constrained"))

    def _wire(self) -> None:
        for name in RESET_CONTROLS:
            self.controls[name].observe(self.guard(lambda change, name=name: self._on_reset_control(name, change)),
                                        names="value")
        for name in LIVE_CONTROLS:
            self.controls[name].observe(self.guard(lambda change, name=name: self._on_live_control(name, change)),
                                        names="value")
        self.observe_value(self.controls["log_loss"], self._on_log_loss)
        self.on_click(self.buttons["play"], self.toggle_play)
        self.on_click(self.buttons["step"], self.step)
        self.on_click(self.buttons["reset"], self.reset)
        self.on_click(self.buttons["as_code"], self.toggle_code)
        self.on_click(self.buttons["clear"], self.clear_points)
        self.observe_value(self.controls["show"], self._on_show_control)
        self.canvases["boundary"].on_mouse(self.guard(self._on_boundary_mouse))
        self.canvases["network"].on_mouse(self.guard(self._on_network_mouse), moves=True)

    # --- public -------------------------------------------------------------------------
    @property
    def data(self) -> datasets.Dataset:
        """The dataset the current Trainer learns."""
        return self.trainer.data

    @property
    def playing(self) -> bool:
        return self.loop.playing

    def step(self, k_frames: int = 1) -> None:
        """What the Step button does, ``k_frames`` times: train one chunk (the step-size menu), then show it."""
        k_frames = _checks.number("k_frames", k_frames, low=1, integer=True)
        self.pause()
        if not self._can_play():
            return
        unit, count = STEP_SIZES[self.controls["step_size"].value]
        for _ in range(k_frames):
            if unit == "epochs":
                self.trainer.run(count)
            else:
                self.trainer.step(count)
        self._show()

    def toggle_play(self) -> None:
        """What the Play/Pause button does."""
        self.loop.toggle()

    def play(self) -> bool:
        """Start training in frames on the kernel's event loop; False (and a note) without one."""
        return self.loop.play()

    def pause(self) -> None:
        self.loop.pause()

    def reset(self) -> None:
        """What the Reset button does: pause, then a fresh network and Trainer from the current controls."""
        self.pause()
        self._reset(notice="reset: a fresh network")

    def add_point(self, x1: float, x2: float, label=None) -> bool:
        """What a click on the boundary plot does: add the training point (x1, x2) of class ``label``
        (default: the class chosen in ``bk-add-class``; for a regression task, the target). Training
        goes on with it. A point the data cannot take is refused in the status line: False."""
        label = self.controls["add_class"].value if label is None else label
        try:
            data = _own_data.with_point(self._raw, x1, x2, label, self.views.boundary.extent)
        except (ValueError, TypeError) as error:
            return self._refuse(error)
        what = f"class {data.y_train[-1]}" if data.task != "regression" else f"target {data.y_train[-1, 0]:.3g}"
        self._edit(data, f"point ({x1:.2f}, {x2:.2f}) added as {what}: {len(data.X_train)} training points, "
                         f"training goes on with them")
        return True

    def remove_point(self, x1: float, x2: float) -> bool:
        """What a Shift-click on the boundary plot does: remove the training point nearest to (x1, x2)."""
        try:
            data, point = _own_data.without_nearest(self._raw, x1, x2)
        except (ValueError, TypeError) as error:
            return self._refuse(error)
        self._edit(data, f"point ({point[0]:.2f}, {point[1]:.2f}) removed: {len(data.X_train)} training points "
                         f"left")
        return True

    def clear_points(self) -> None:
        """What "Clear points" does: no points at all, an empty plane to draw a data set on."""
        if self._raw.n_inputs != 2:
            self._refuse(ValueError(f"points can be drawn on 2-D data only (x1, x2); dataset "
                                    f"{self._raw.name!r} has {self._raw.n_inputs} input(s)"))
            return
        self._edit(_own_data.emptied(self._raw), "all points cleared (the test points too): an empty plane")

    def toggle_code(self) -> None:
        """Show or hide the code that reproduces this run."""
        shown = self.code.layout.display != "none"
        self.code.layout.display = "none" if shown else "block"
        self.buttons["as_code"].description = "As code" if shown else "Hide code"
        if not shown:
            self._refresh_code()

    def close(self) -> None:
        """Close the panel (ipywidgets' ``close``; also what a panel whose construction failed
        runs when it is collected): pause, and end the worker process of a Play."""
        if getattr(self, "loop", None) is not None:
            self.loop.pause()
        self._end_worker()
        super().close()

    def report(self, error: BaseException) -> None:
        """An error goes to the status line and stays there while Play stops (not overwritten by the
        status of the frame after it)."""
        super().report(error)
        self._notice = (self.status.text, time.monotonic() + NOTICE_SECONDS,
                        self.trainer.steps if self.trainer is not None else 0, "error")

    def as_code(self) -> str:
        """Python that rebuilds this run from scratch and ends with the same network, bit for bit."""
        return _code(self._built, self._log, self.trainer)

    # --- frames ---------------------------------------------------------------------------
    def _can_play(self) -> bool:
        if self.trainer.diverged or not len(self.trainer.data.X_train):
            self._show()             # the status says why: press Reset, or add points
            return False
        return True

    def _train(self, budget: float) -> bool | None:
        """A Play frame's training: in the worker process once it is ready (the frame fetches the
        worker's latest state), else here, in the kernel, for about ``budget`` seconds."""
        worker = self._worker_for_frame()
        if worker is None:
            self.loop.tick = None
            return train_for(self.trainer, budget, self._rate, self.loop.clock, MAX_STEPS_PER_FRAME)
        trainer = self.trainer
        if trainer.diverged:
            return None
        self.loop.tick = _worker.TICK_SECONDS
        try:
            if worker.training is None:
                worker.start(trainer)               # its first state comes with the next frame
                self._fetched = None
                return True
            self._worker_steps += worker.fetch()
        except _worker.WorkerGone as gone:
            self._lose_worker(gone)
            return True
        except _worker.WorkerError as error:
            self._worker_failed(error)
            return True
        now = self.loop.clock()
        if self._fetched is not None and now > self._fetched[0]:      # for the status line and the step axes
            rate = (trainer.steps - self._fetched[1]) / (now - self._fetched[0])
            before = self._rate.per_second     # (smoothed: a frame brings one slice more or less)
            self._rate.per_second = rate if not math.isfinite(before) else 0.8 * before + 0.2 * rate
        self._fetched = (now, trainer.steps)
        return trainer.diverged is None

    def _worker_for_frame(self) -> _worker.Worker | None:
        """The worker process that trains this Play frame, or None: train in the kernel (not in a
        Play task, no processes here, a Trainer it cannot take, or it is not ready yet)."""
        if not self.loop.live or self._kernel_only or self._uncopyable is self.trainer:
            return None
        worker = self._worker
        try:
            if worker is None:      # (a worker whose kernel ends sees its socket close, and ends too)
                worker = self._worker = _worker.Worker()
            if worker.training is not None and worker.training is not self.trainer:
                worker.stop()                       # panel.trainer was replaced from outside
            return worker if worker.training is not None or worker.ready() else None
        except _worker.WorkerGone as gone:
            self._lose_worker(gone)
            return None

    def _worker_failed(self, error: _worker.WorkerError) -> None:
        """The worker could not take this Trainer, or failed training it: the kernel trains it
        from the last state shown (where a step fails in the kernel too, that error is said)."""
        self._uncopyable = self.trainer
        if not error.refused:
            self._notify(f"{error}: training goes on in the kernel")

    def _lose_worker(self, gone: Exception) -> None:
        """The worker process ended: train in the kernel from the last state shown (no new worker)."""
        if self._worker is not None:
            self._worker.close()
        self._worker, self._kernel_only = None, True
        self._notify(f"{gone}: training goes on in the kernel", kind="warning")

    def _settle(self) -> None:
        """Bring the worker's training home: ``self.trainer`` is where it stopped. What every change
        of the run does first (a live control, a point, a reset, Pause); a playing panel's next
        frame hands the changed Trainer to the worker again."""
        worker = self._worker
        if worker is None or worker.training is None:
            return
        try:
            self._worker_steps += worker.stop()
        except _worker.WorkerGone as gone:
            self._lose_worker(gone)
        except _worker.WorkerError as error:
            self._worker_failed(error)
        self._fetched = None

    def _end_worker(self) -> None:
        """End the worker process (its training brought home first): when Play stops, so that
        panels left behind in a notebook keep no process; the next Play starts one (~0.3 s,
        training in the kernel meanwhile)."""
        if getattr(self, "_worker", None) is None:
            return
        try:
            self._settle()
        finally:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def _on_pause(self) -> None:
        self._settle()
        self._show()                  # where training stopped, now

    def _on_stop(self) -> None:
        self._end_worker()
        self._rate.per_second = math.nan
        self.loop.tick = None
        self._show()

    # --- reacting to controls ---------------------------------------------------------------
    def _on_reset_control(self, name: str, change) -> None:
        if self._quiet:
            return
        if name == "classes" and self.controls["dataset"].value not in datasets.MULTICLASS:
            return              # the control is off for this dataset: nothing changes
        if name == "scale" and self.controls["init"].value != "normal":
            return
        kind = ("data" if name in DATA_CONTROLS else "architecture" if name in NETWORK_CONTROLS
                else "optimizer")
        what = f"{LABELS[name]} {_format(name, change['old'])} → {_format(name, change['new'])}"
        if name == "features":
            self._reset(notice=f"inputs changed ({what}): a new network with {len(change['new'])} inputs")
        else:
            self._reset(notice=f"{kind} changed ({what}): network reset")

    def _on_live_control(self, name: str, change) -> None:
        if self._quiet:
            return
        self._settle()
        value = change["new"]
        if name == "l2" and value is None:
            value = 0.0
        setattr(self.trainer, name, value)        # the Trainer checks it; a bad value goes to the status
        self._record_change(name, getattr(self.trainer, name))
        if name == "clip":
            self.views.gradients.set_clip(self.trainer.clip)
        what = f"{LABELS[name]} {_format(name, change['old'])} → {_format(name, change['new'])}"
        self._notify(f"{what} at step {self.trainer.steps}: applied live, progress kept")
        self._show()

    def _on_log_loss(self) -> None:
        self.views.loss.set_log(self.controls["log_loss"].value)
        self._show()

    def _on_show_control(self) -> None:
        self.views.network.set_show(self.controls["show"].value)
        self._show()

    def _on_boundary_mouse(self, event) -> None:
        """A click adds a point where it landed, a Shift-click removes the nearest one."""
        if event.kind != "click":
            return
        x1, x2 = self.views.boundary.ax.transData.inverted().transform((event.x, event.y))
        if event.shift:
            self.remove_point(x1, x2)
        else:
            self.add_point(x1, x2)

    def _on_network_mouse(self, event) -> None:
        """Hover: name the neuron or edge under the pointer, with its numbers. Click on a neuron:
        draw it large beside the network (a second click on it puts it away)."""
        view = self.views.network
        text = "" if event.kind == "leave" else (view.describe(event.x, event.y) or "")
        if event.kind == "click":
            found = view.find(event.x, event.y)
            if found and found[0] == "neuron" and self._raw.n_inputs == 2:
                view.enlarge(None if view.zoomed == found[1:] else found[1], found[2])
                self._show()
        shown = _small(html.escape(text)) if text else ""
        if self.network_info.value != shown:
            self.network_info.value = shown

    def _refuse(self, error: Exception) -> bool:
        self._notify(f"point refused: {error}", kind="warning")
        self._show_status(playing=False)
        return False

    def _edit(self, data: datasets.Dataset, what: str) -> None:
        """Go on training on ``data`` (the same task and plane, other training points)."""
        self._settle()
        self._raw, self._edited = data, True
        self.trainer.data = self._trainer_data(data)
        self._fit_batch_control(len(data.X_train))
        self._sync_log()
        self._log.append(("data", data))
        self._show_data(data, keep_plane=True)
        self._describe_setup()
        self._notify(what)
        self._show()

    def _show_data(self, data: datasets.Dataset, keep_plane: bool = False) -> None:
        """The boundary's points and the network view's inputs for ``data``: over the same plane
        as before (points added or removed), or one fitted to the data (new data)."""
        views, features = self.views, self._features()
        plane = views.boundary.extent if keep_plane else None
        views.boundary.set_dataset(data, features, plane=plane)
        views.network.set_dataset(data, features, plane=views.boundary.extent if data.n_inputs == 2 else None)

    def _fit_batch_control(self, n_train: int) -> None:
        quiet, self._quiet = self._quiet, True
        try:
            batch = self.controls["batch_size"]
            batch.max = max(n_train, 1)
            batch.value = min(batch.value, batch.max)
        finally:
            self._quiet = quiet

    def _features(self) -> tuple | None:
        """The input features the network reads; None: the data's own inputs (not 2-D, or x1, x2)."""
        features = self.controls["features"].value
        return None if self._raw.n_inputs != 2 or features == PLAIN_INPUTS else features

    def _trainer_data(self, raw: datasets.Dataset) -> datasets.Dataset:
        features = self._features()
        return raw if features is None else datasets.with_features(raw, features)

    def _enable_dependent_controls(self) -> None:
        c = self.controls
        yours = c["dataset"].value == YOURS
        c["classes"].disabled = c["dataset"].value not in datasets.MULTICLASS
        for name in ("n", "noise", "test_fraction"):
            c[name].disabled = yours
        c["scale"].disabled = c["init"].value != "normal"

    def _enable_point_controls(self, data: datasets.Dataset) -> None:
        c, flat = self.controls, data.n_inputs == 2
        c["features"].disabled = not flat
        c["add_class"].options = ([(f"click adds class {k}", k) for k in range(data.classes)]
                                  if data.task != "regression" else
                                  [("click adds target 0", 0.0), ("click adds target 1", 1.0)])
        c["add_class"].disabled = not flat
        self.buttons["clear"].disabled = not flat

    # --- building a run ---------------------------------------------------------------------
    def _settings(self) -> dict:
        c = self.controls
        s = {name: c[name].value for name in RESET_CONTROLS + LIVE_CONTROLS}
        s["classes"] = s["classes"] if s["dataset"] in datasets.MULTICLASS else 2
        s["l2"] = s["l2"] or 0.0
        return s

    def _make_data(self) -> datasets.Dataset:
        s = self._settings()
        if s["dataset"] == YOURS:
            return self._yours
        return datasets.make(s["dataset"], n=s["n"], noise=s["noise"], test_fraction=s["test_fraction"],
                             seed=s["seed"], classes=s["classes"])

    def _same_data(self) -> datasets.Dataset | None:
        """The current points (as made, or as added and removed since) when the data controls still
        describe them: a change of the network, its inputs or the optimizer, or Reset, keeps them
        (the same seed would draw the same points, and the boundary keeps its scatter); else None."""
        if self.trainer is None:
            return None
        s = self._settings()
        return self._raw if all(self._built[name] == s[name] for name in DATA_CONTROLS) else None

    def _reset(self, notice: str | None = None, data: datasets.Dataset | None = None) -> None:
        """A new dataset, network and Trainer from the controls, shown in the (same) views."""
        if self.trainer is not None:
            self._settle()
        quiet, self._quiet = self._quiet, True
        try:
            self._enable_dependent_controls()
            if data is None:
                kept = self._same_data()
                data = kept or self._make_data()
                self._edited = self._edited and kept is not None
            self._raw = data
            self._enable_point_controls(data)
            self._fit_batch_control(len(data.X_train))
            learnt = self._trainer_data(data)
            s = self._settings()
            sizes = [learnt.n_inputs] + [s["neurons"]] * s["layers"] + [learnt.n_outputs]
            net = Network(sizes, activation=s["activation"], output=learnt.output, init=s["init"],
                          scale=s["scale"], seed=s["seed"])
            self.trainer = Trainer(net, learnt, loss=learnt.loss, lr=s["lr"], batch_size=s["batch_size"],
                                   optimizer=s["optimizer"], clip=s["clip"], l2=s["l2"], seed=s["seed"])
        finally:
            self._quiet = quiet
        self._rate = Rate()                 # re-measured on the first frames of the new network
        self._built = dict(s, sizes=sizes, output=data.output, loss=data.loss, data=data,
                           features=self._features(), edited=self._edited)
        self._log: list[tuple] = []         # ("step", k), ("set", attribute, value), ("data", Dataset), in order
        self._logged_steps = 0
        self._clipped_seen, self._clipped_count = 0, 0
        views = self.views
        if data is not views.boundary.dataset or self._features() != views.boundary.features:
            self._show_data(data, keep_plane=data is self._raw and self._edited)
        if len(views.gradients.lines) != net.n_layers:      # new lines (and legend) only for a new depth
            views.gradients.set_layers(net.n_layers)
        if views.gradients.clip != self.trainer.clip:
            views.gradients.set_clip(self.trainer.clip)
        self._layout_keys = {}              # lay the figures out afresh on the next _show
        self._describe_setup()
        self._notify(notice or "")
        self._show()

    def _describe_setup(self) -> None:
        data, net, trainer = self.trainer.data, self.trainer.net, self.trainer
        task = {"binary": "2 classes", "multiclass": f"{data.classes} classes",
                "regression": "regression"}[data.task]
        self.info["data"].value = _small(f"{len(data.X_train)} train · {len(data.X_test)} test points · {task}")
        arrows = " → ".join(map(str, net.sizes))
        self.info["network"].value = _small(f"{arrows} · {net.n_parameters} parameters<br>"
                                            f"output {net.output}, loss {trainer.loss} (from the task)")

    # --- showing ------------------------------------------------------------------------------
    def _notify(self, text: str, kind: str = "info") -> None:
        """Say what a change did; it stays until training moved on and NOTICE_SECONDS have passed."""
        self._notice = (text, time.monotonic() + NOTICE_SECONDS, self.trainer.steps, kind)

    def _show(self, playing: bool = False) -> None:
        """Update the views' data in place, send each plot's new state to the page (canvas.py), and
        update the status line, the info labels and the code.

        ``playing``: a Play frame, which may leave the boundary for a later frame (BOUNDARY_PACE).
        """
        self._sync_log()
        if self.trainer.clip != self.views.gradients.clip:
            self.views.gradients.set_clip(self.trainer.clip)
        started = self.loop.clock()
        # the pictures over the plane (the boundary, the network's neurons: a forward pass over a
        # grid each, and images) are the costliest views: while playing they are paced together
        pictures_due = not playing or started >= self._boundary_due
        if pictures_due:
            self.views.boundary.update(self.trainer.net, draw=False)
            self.views.network.update(self.trainer, draw=False)
        pictures_seconds = self.loop.clock() - started
        self._update_step_views(playing)
        self._show_note()
        self._relayout_if_labels_changed()
        pictures = [self.canvases["boundary"], self.canvases["network"]] if pictures_due else []
        before = sum(c.seconds_spent() for c in pictures)
        canvas.show_together(pictures + [self.canvases["loss"], self.canvases["gradients"]])   # one page frame
        if pictures_due:
            # their cost: the forward passes over their grids, their scenes and images (not the other views')
            spent = pictures_seconds + sum(c.seconds_spent() for c in pictures) - before
            self._boundary_due = started + (BOUNDARY_PACE if self.loop.tick is None else WORKER_PICTURE_PACE) * spent
        if not playing or time.monotonic() >= self._info_due:     # a message to the browser: a few a second
            self._info_due = time.monotonic() + INFO_SECONDS
            self._show_training_info()
        self._show_status(playing)
        if self.code.layout.display != "none":
            self._refresh_code()

    def _update_step_views(self, playing: bool) -> None:
        """The loss and gradient views: their data, and step axes that suit playing or not."""
        trainer, views = self.trainer, self.views
        ahead = AHEAD_SECONDS * self._rate.per_second if playing and self._rate.per_second > 0 else 0.0
        for view in (views.loss, views.gradients):
            # while playing, a step axis that grows leaves room for the next AHEAD_SECONDS of steps
            # (each change redraws the plot whole); when it stops, the axis fits the steps again
            view.ahead = ahead
            if not playing and view.ax.get_xlim()[1] > max(1.25 * trainer.steps, trainer.steps_per_epoch):
                view.ax.set_xlim(0, max(1.02 * trainer.steps, 1.0))
            view.update(trainer.history, draw=False)
        if not trainer.steps:
            self._empty_axes()

    def _empty_axes(self) -> None:
        """Before the first step: a step axis of one epoch (not -0.05..0.05), and a loss axis around
        the loss to come."""
        trainer, views = self.trainer, self.views
        for view in (views.loss, views.gradients):
            if view.ax.get_xlim() != (0, trainer.steps_per_epoch):
                view.ax.set_xlim(0, trainer.steps_per_epoch)
        start = trainer.evaluate("train")[0]
        if math.isfinite(start) and start > 0:
            limits = (start / 4, start * 4) if views.loss.log else (0, 1.5 * start)
            if views.loss.ax.get_ylim() != limits:
                views.loss.ax.set_ylim(*limits)

    def _show_note(self) -> None:
        trainer = self.trainer
        if trainer.diverged:        # bottom right: the loss is high there only after it blew up
            self._set_note(text=f"diverged at step {trainer.steps}: see the status line", position=(0.98, 0.04),
                           ha="right", va="bottom", color=plots.PALETTE["clip"], visible=True)
        else:
            self._set_note(text="press Play or Step to train", position=(0.5, 0.42), ha="center",
                           va="center", color=plots.PALETTE["ink"], visible=not trainer.steps)

    def _show_status(self, playing: bool) -> None:
        trainer = self.trainer
        if trainer.diverged:
            self.status.show(f"{trainer.diverged} Press Reset to start again.", "warning")
            return
        if playing and time.monotonic() - self.status.shown_at < STATUS_SECONDS:
            return                           # a message and a re-render: ~10 a second at most
        text = plots.status(trainer)
        if not len(trainer.data.X_train):
            text = "no training points: click the boundary plot to add some  ·  " + text
        elif trainer.steps == 0:
            text = "ready: press Play or Step  ·  " + text
        if self.playing and math.isfinite(self._rate.per_second):
            text += f"  ·  {self._rate.per_second:,.0f} steps/s"
        notice, until, steps, kind = self._notice
        if notice and (time.monotonic() < until or trainer.steps == steps):
            self.status.show(f"{notice}  ·  {text}", kind)
        else:
            self.status.show(text)

    def _set_note(self, **properties) -> None:
        """Show the loss note so; a change only when it changes (a change redraws the whole figure)."""
        if properties != self._note:
            self._note = properties
            self.loss_note.set(**properties)

    def _relayout_if_labels_changed(self) -> None:
        """Lay a frozen figure out again when its tick labels may have changed width (a new
        decade on a log axis, a new order of magnitude on a linear one), or after a reset."""
        for name, figure in self.figures.items():
            if name == "network":
                continue
            key = tuple(_label_key(ax) for ax in figure.axes)
            if self._layout_keys.get(name) != key:
                self._layout_keys[name] = key
                if not isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine):
                    figure.set_layout_engine("constrained")       # runs on the next draw,
                    figure.stale = True                           # which is due now

    def _show_training_info(self) -> None:
        trainer, history = self.trainer, self.trainer.history
        clipped = history.clipped
        self._clipped_count += sum(clipped[self._clipped_seen:])      # only the new steps
        self._clipped_seen = len(clipped)
        parts = [f"{trainer.steps_per_epoch} steps per epoch"]
        if history.steps:
            norm = history.global_norms[-1]
            if trainer.clip is None:
                parts.append(f"last gradient norm {norm:.3g}")
            else:
                share = self._clipped_count / max(history.steps, 1)
                parts.append(f"last pre-clip norm {norm:.3g} · clipped {share:.0%} of steps")
        self.info["training"].value = _small("<br>".join([parts[0], " · ".join(parts[1:])]) if len(parts) > 1
                                             else parts[0])

    def _refresh_code(self) -> None:
        self.code.value = self.as_code()
        self.code.rows = min(self.code.value.count("\n") + 2, 30)

    # --- the record of the run, for "As code" ---------------------------------------------------
    def _sync_log(self) -> None:
        """Add the steps taken since the last record (one entry per run of steps)."""
        taken = self.trainer.steps - self._logged_steps
        if taken:
            if self._log and self._log[-1][0] == "step":
                self._log[-1] = ("step", self._log[-1][1] + taken)
            else:
                self._log.append(("step", taken))
            self._logged_steps = self.trainer.steps

    def _record_change(self, attribute: str, value) -> None:
        """A live change: before the first step it is simply part of the setup."""
        self._sync_log()
        if not self._log:
            self._built[attribute] = value
        elif self._log[-1][0] == "set" and self._log[-1][1] == attribute:
            self._log[-1] = ("set", attribute, value)
        else:
            self._log.append(("set", attribute, value))


# --- helpers --------------------------------------------------------------------------------

def _step_label(value, _position) -> str:
    """Tick label of a step axis: 800, 1.5k, 12k."""
    return f"{value / 1000:g}k" if abs(value) >= 1000 else f"{value:g}"


def _label_key(ax) -> tuple:
    """What decides the width of an axes' y tick labels: the longest decade label (log: 0.001 is
    wider than 0.1) or the magnitude (linear) shown."""
    low, high = ax.get_ylim()
    if ax.get_yscale() == "log":
        decades = range(math.floor(math.log10(max(low, 1e-300))), math.ceil(math.log10(max(high, 1e-300))) + 1)
        return ("log", max((len(f"{10.0 ** d:g}") for d in decades), default=0))
    span = abs(high - low) or 1.0
    return ("linear", math.floor(math.log10(span)), low < 0,
            math.floor(math.log10(max(abs(low), abs(high), 1e-300))))


def _small(text: str) -> str:
    return f'<span style="color:#666;font-size:11px;line-height:1.3">{text}</span>'


def _format(name: str, value) -> str:
    """A control value as the status shows it."""
    if value is None:
        return "off"
    if isinstance(value, tuple):
        return ", ".join(value)
    if name == "test_fraction":
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _code(built: dict, log: list, trainer: Trainer) -> str:
    """The Python for a run: its setup, then its steps, live changes and new points in the order
    they happened."""
    b = built
    classes = f", classes={b['classes']}" if b["classes"] != 2 else ""
    scale = f", scale={b['scale']!r}" if b["init"] == "normal" else ""
    features = b["features"]
    lines = ["import backprop_kit as bk"]
    if b["dataset"] == YOURS or b["edited"] or any(entry[0] == "data" for entry in log):
        lines += ["import numpy as np"]
    lines += ["", "# Reproduces a Playground run exactly: same seed, same settings, same steps."]
    if b["dataset"] == YOURS or b["edited"]:
        lines.append(f"data = {_dataset_code(b['data'])}")
    else:
        lines.append(f"data = bk.datasets.make({b['dataset']!r}, n={b['n']}, noise={b['noise']!r}, "
                     f"test_fraction={b['test_fraction']!r}, seed={b['seed']}{classes})")
    if features is not None:
        lines.append(f"data = bk.datasets.with_features(data, {list(features)!r})   # the inputs the network reads")
    lines += [
        f"net = bk.Network({list(b['sizes'])}, activation={b['activation']!r}, output={b['output']!r}, "
        f"init={b['init']!r}{scale}, seed={b['seed']})",
        f"trainer = bk.Trainer(net, data, loss={b['loss']!r}, lr={b['lr']!r}, "
        f"batch_size={b['batch_size']}, optimizer={b['optimizer']!r},",
        f"                     clip={b['clip']!r}, l2={b['l2']!r}, seed={b['seed']})",
    ]
    lines += _log_code(log, features)
    if trainer.diverged:
        lines.append(f"# the run diverged at step {trainer.steps}: print(trainer.diverged) says why")
    lines.append("print(trainer)")
    return "\n".join(lines) + "\n"


def _log_code(log: list, features) -> list[str]:
    lines, done = [], 0
    for entry in log:
        if entry[0] == "step":
            k = entry[1]
            lines.append(f"{f'trainer.step({k})':<28}# steps {done + 1}-{done + k}" if k > 1 else
                         f"{f'trainer.step({k})':<28}# step {done + 1}")
            done += k
        elif entry[0] == "set":
            _, attribute, value = entry
            lines.append(f"{f'trainer.{attribute} = {value!r}':<28}# changed in the panel after step {done}")
        else:
            data = _dataset_code(entry[1])
            if features is not None:
                data = f"bk.datasets.with_features({data}, {list(features)!r})"
            lines.append(f"# points added or removed in the panel after step {done}:")
            lines.append(f"trainer.data = {data}")
    return lines


def _dataset_code(data: datasets.Dataset) -> str:
    """A Dataset written out in full (its numbers as Python floats: the same bits when read back)."""
    def array(values, dtype):
        return f"np.array({np.asarray(values).tolist()!r}, dtype={dtype!r})"
    x_shape = f"reshape(-1, {data.n_inputs})"
    return (f"bk.datasets.Dataset(\n    X_train={array(data.X_train, 'float64')}.{x_shape},\n"
            f"    y_train={array(data.y_train, data.y_train.dtype.name)},\n"
            f"    X_test={array(data.X_test, 'float64')}.{x_shape},\n"
            f"    y_test={array(data.y_test, data.y_test.dtype.name)},\n"
            f"    task={data.task!r}, name={data.name!r}, classes={data.classes})")
