"""GradientFlowExplorer: how much gradient reaches each layer, for a depth, activation and init.

    from backprop_kit.widgets import GradientFlowExplorer
    GradientFlowExplorer(layers=8, activation="sigmoid")          # vanishing: layer 1 gets almost nothing
    GradientFlowExplorer(layers=8, activation="relu", init="he")   # healthy: every layer gets a similar share
    GradientFlowExplorer(layers=8, activation="relu", init="normal", scale=3.0, clip=1.0)   # exploding, clipped

Left, a bar per weight layer: the norm of its gradient ||dL/dW_i|| on the whole training set,
computed by the stages ``forward`` and ``gradient`` for the network as it starts (bars) and as it
is now (dots). Right, the norms over the training steps (``plots.GradientNormView``) with the
clipping threshold and the global norm before clipping. Training is the real ``Trainer``.
"""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import traitlets
from ipywidgets.widgets.widget_selection import findvalue
from matplotlib.ticker import LogLocator, NullLocator

from .. import _checks, activations, datasets, plots
from ..network import INITS, Network
from ..stages import forward, gradient
from ..training import Trainer
from . import _args, _base, canvas
from ._play import PlayLoop, Rate, train_for

CLIP_CHOICES = (("off", None), ("0.1", 0.1), ("0.5", 0.5), ("1", 1.0), ("5", 5.0), ("10", 10.0))
MAX_LAYERS = 20
STEP_SIZE = 10        # mini-batches per click of Step
MAX_STEPS_PER_FRAME = 500   # a Play frame shows the whole training set's gradients: at most this many steps between
VANISHING, EXPLODING = 1 / 100, 100    # first/last ratios beyond these get a name
LARGE_NORM = 1e3                        # a global norm above this is called exploding


def layer_norms(net: Network, data) -> np.ndarray:
    """(layers,) ||dL/dW_i|| of each layer on the whole training set (nan where not finite)."""
    with np.errstate(all="ignore"):     # a huge network overflows; that is what we show, not an error
        trace = forward(net, data.X_train)
        grads = gradient(net, trace, data.y_train, data.loss)
        norms = np.array([np.linalg.norm(g) for g in grads.weights])
    norms[~np.isfinite(norms)] = np.nan
    return norms


def readable(x: float) -> str:
    """2 significant digits, written for people: 3,000 / 2.3 / 8.3 × 10¹²."""
    if x >= 1e6:
        exponent = math.floor(math.log10(x))
        mantissa = x / 10 ** exponent
        superscript = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
        return f"{mantissa:.2g} × 10{superscript}"
    return f"{float(f'{x:.2g}'):,.0f}" if x >= 10 else f"{x:.2g}"


def describe_ratio(norms) -> str:
    """'layer 1 gets 1/3,000 of the last layer's gradient (vanishing)' from per-layer norms."""
    norms = np.asarray(norms, dtype=float)
    first, last = norms[0], norms[-1]
    if len(norms) < 2:
        return "one layer only: add hidden layers to compare"
    if not (np.isfinite(first) and np.isfinite(last)):
        return "the gradients overflowed (inf or NaN): the network's numbers are too large"
    if last == 0 or first == 0:
        which = "layer 1" if first == 0 else "the last layer"
        return f"{which} gets no gradient at all (0): its weights cannot learn"
    ratio = first / last
    share = f"1/{readable(1 / ratio)} of" if ratio < 1 else f"{readable(ratio)} times"
    text = f"layer 1 gets {share} the last layer's gradient"
    largest = np.nanmax(norms)
    if ratio < VANISHING:
        text += " (vanishing)"
    elif ratio > EXPLODING:
        text += " (exploding toward the input)"
    elif largest > LARGE_NORM:
        text += f" (exploding: norms up to {readable(largest)})"
    elif 0.1 <= ratio <= 10:
        text += " (healthy: within 10×)"
    return text


class ClipDropdown(widgets.Dropdown):
    """A Dropdown of max gradient norms in which ``None`` is the option 'off' (in a plain Dropdown,
    None means "nothing selected" and shows an empty box)."""

    @traitlets.validate("value")
    def _validate_value(self, proposal):
        try:
            return findvalue(self._options_values, proposal.value, self.equals)
        except ValueError:
            raise traitlets.TraitError(f"clip must be one of {list(self._options_values)}; "
                                       f"got {proposal.value!r}") from None

    @traitlets.observe("value")
    def _propagate_value(self, change):
        index = self._options_values.index(change.new)
        if self.index != index:
            self.index = index


ARGUMENTS = {
    "layers": _args.Whole(1, MAX_LAYERS), "activation": _args.Choice(activations.HIDDEN),
    "init": _args.Choice(INITS), "scale": _args.Number(0.01, 10), "neurons": _args.Whole(1, 128),
    "clip": _args.Optional(_args.Number(0, low_open=True, accepts="a max gradient norm > 0"), what="no clipping"),
    "lr": _args.LR, "dataset": _args.Choice(datasets.NAMES), "n": _args.Whole(20, 5000),
    "noise": _args.Number(0, 2), "batch_size": _args.BatchSize(full=True), "seed": _args.SEED,
}


class GradientFlowExplorer(_base.Panel):
    """Per-layer gradient norms for a deep network: vanishing, exploding, and clipping.

    GradientFlowExplorer(*, layers=8, activation="sigmoid", init="xavier", scale=1.0, clip=None,
    neurons=16, lr=0.1, dataset="moons", batch_size=32, n=200, noise=0.2, seed=0)

    - layers: hidden layers, 1..20 (the network has layers + 1 weight layers); neurons: 1..128 per
      hidden layer; activation: one of activations.HIDDEN; init: one of network.INITS ('normal'
      draws with std ``scale``, 0.01..10).
    - clip: None or a max global gradient norm > 0; lr: the learning rate, 1e-4..10; dataset, n,
      noise, batch_size ('full' or 1..training-set size), seed: the data and training.
      Every argument and what it accepts: ``ARGUMENTS``.
    - The network starts with zero biases (``Network(..., bias="zeros")``), the setting of the
      variance argument behind Xavier and He, so the bars show what the weights' scale does
      (random biases add variance at every layer: ReLU + He then spreads ~2x wider).

    Controls (CSS class): hidden layers (bk-layers), neurons (bk-neurons), activation
    (bk-activation), init (bk-init), scale for 'normal' (bk-scale), clip (bk-clip, 'off' = None),
    learning rate (bk-learning-rate), Play/Pause (bk-play), Step = 10 mini-batches (bk-step),
    Reset (bk-reset); the plots (bk-plot-gradients), the ratio line (bk-gradient-ratio), the
    status line (bk-status).
    Attributes: ``trainer`` (the Trainer), ``initial_net``, ``data``, ``start_norms`` and
    ``current_norms`` ((layers,) whole-training-set ||dL/dW_i||), ``ratio`` (first/last at the
    start), ``ratio_text``, ``bars``, ``now_line``, ``gradient_view`` (plots.GradientNormView),
    ``figure``, ``bar_ax``, ``loop``.
    """

    def __init__(self, *, layers: int = 8, activation: str = "sigmoid", init: str = "xavier", scale: float = 1.0,
                 clip: float | None = None, neurons: int = 16, lr: float = 0.1,
                 dataset: str = "moons", batch_size=32, n: int = 200, noise: float = 0.2, seed: int = 0):
        s = _args.check(ARGUMENTS, locals())
        layers, scale, clip, neurons, lr = s["layers"], s["scale"], s["clip"], s["neurons"], s["lr"]
        self.seed, self.batch_size = s["seed"], s["batch_size"]
        self.data = datasets.make(dataset, n=s["n"], noise=s["noise"], seed=self.seed)
        super().__init__()
        self.add_class("bk-gradient-flow-explorer")
        self._rate = Rate()
        self.bars = []

        clip_choices = list(CLIP_CHOICES)
        if clip is not None and clip not in [value for _, value in clip_choices]:
            clip_choices.append((f"{clip:g}", clip))
            clip_choices.sort(key=lambda choice: -1 if choice[1] is None else choice[1])
        self.layers_control = _base.styled(widgets.IntSlider(value=layers, min=1, max=MAX_LAYERS,
                                                             description="hidden layers",
                                                             continuous_update=False), "bk-layers")
        self.neurons_control = _base.styled(widgets.IntSlider(value=neurons, min=1, max=128,
                                                              description="neurons", continuous_update=False),
                                            "bk-neurons")
        self.activation_control = _base.styled(widgets.Dropdown(options=activations.HIDDEN, value=activation,
                                                                description="activation"), "bk-activation")
        self.init_control = _base.styled(widgets.Dropdown(options=INITS, value=init, description="init"),
                                         "bk-init")
        self.scale_control = _base.styled(widgets.FloatLogSlider(value=scale, base=10, min=-2, max=1, step=0.1,
                                                                 description="scale (normal)",
                                                                 readout_format=".3", continuous_update=False),
                                          "bk-scale")
        self.clip_control = _base.styled(ClipDropdown(options=clip_choices, value=clip, description="clip"),
                                         "bk-clip")
        self.lr_control = _base.lr_slider(lr)
        self.play_button = _base.button("Play", "bk-play", icon="play", style="success",
                                        tooltip="train until paused")
        self.step_button = _base.button("Step", "bk-step", icon="step-forward",
                                        tooltip=f"{STEP_SIZE} mini-batches")
        self.reset_button = _base.button("Reset", "bk-reset", icon="undo", tooltip="back to the initial weights")
        self.ratio_label = widgets.HTML()
        self.ratio_label.add_class("bk-gradient-ratio")
        self.norm_label = widgets.HTML()

        # the plots: made once; a new architecture remakes only the bars (and the view's lines)
        self.figure, self.canvas = canvas.live_figure(9.2, 3.7, "bk-plot-gradients")
        self.figure.set_layout_engine(None)      # fixed margins: a frame is not worth a layout pass
        grid = self.figure.add_gridspec(1, 2, width_ratios=(1.0, 1.2), left=0.08, right=0.99,
                                        bottom=0.135, top=0.86, wspace=0.2)
        self.bar_ax = self.figure.add_subplot(grid[0])
        self.bar_ax.set_yscale("log")
        plots.plain_log_labels(self.bar_ax)
        plots.style(self.bar_ax, None, "layer (1 = input side)", "‖∂L/∂W‖ (log scale)")
        self.now_line, = self.bar_ax.plot([], [], linestyle="none", marker="o", markersize=5, color="#111111",
                                          markeredgecolor="white", markeredgewidth=0.6, zorder=4, label="now")
        self.ratio_note = self.bar_ax.text(0.02, 0.97, "", transform=self.bar_ax.transAxes, ha="left", va="top",
                                           fontsize=plots.LEGEND_SIZE + 0.5, color=plots.PALETTE["ink"],
                                           bbox=dict(boxstyle="round,pad=0.3", facecolor="white",
                                                     edgecolor="none", alpha=0.85), zorder=5)
        self.ratio_note.set_in_layout(False)      # a long note must not squeeze the axes
        self.gradient_view = plots.GradientNormView(self.figure.add_subplot(grid[1]), layers=layers + 1, clip=clip)
        self.gradient_view.ax.set_title("Gradient per layer over the steps\n(each on its mini-batch)",
                                        fontsize=plots.TITLE_SIZE, color=plots.PALETTE["ink"])

        self.loop = PlayLoop(self.play_button, self._train, self._refresh, say=self.status.show,
                             on_error=self.report, prepare=self._prepare_play)
        for control in (self.layers_control, self.neurons_control, self.activation_control, self.init_control):
            self.observe_value(control, self._architecture_changed)
        self.observe_value(self.scale_control, self._scale_changed)
        self.observe_value(self.clip_control, self._clip_changed)
        self.observe_value(self.lr_control, self._lr_changed)
        self.on_click(self.play_button, self.loop.toggle)
        self.on_click(self.step_button, self.step)
        self.on_click(self.reset_button, self.reset)

        network = widgets.VBox([self.layers_control, self.neurons_control, self.activation_control,
                                self.init_control, self.scale_control])
        training = widgets.VBox([self.clip_control, self.lr_control,
                                 widgets.HBox([self.play_button, self.step_button, self.reset_button])])
        self.children = [widgets.HBox([network, training]), self.ratio_label, self.canvas, self.norm_label,
                         self.status]
        self._build()

    # --- the network ---------------------------------------------------------------------------
    @property
    def layers(self) -> int:
        """Hidden layers."""
        return self.layers_control.value

    @property
    def clip(self) -> float | None:
        return self.clip_control.value

    def _build(self) -> None:
        """A new network from the controls, its Trainer, and the bars of its starting gradients."""
        init = self.init_control.value
        self.scale_control.disabled = init != "normal"
        data = self.data
        self.initial_net = Network([data.n_inputs] + [self.neurons_control.value] * self.layers + [data.n_outputs],
                                   activation=self.activation_control.value, output=data.output, init=init,
                                   scale=self.scale_control.value, seed=self.seed, bias="zeros")
        self.start_norms = layer_norms(self.initial_net, data)
        self.current_norms = self.start_norms
        self.ratio_text = describe_ratio(self.start_norms)
        self._make_trainer()
        self._make_bars()
        self.gradient_view.set_layers(self.initial_net.n_layers)
        self._compact_legend()
        self._refresh()

    def _make_trainer(self) -> None:
        self.trainer = Trainer(self.initial_net, self.data, lr=float(self.lr_control.value),
                               batch_size=self.batch_size, clip=self.clip, seed=self.seed)

    @property
    def ratio(self) -> float:
        """||dL/dW_1|| / ||dL/dW_last|| at the start (nan when not finite)."""
        first, last = self.start_norms[0], self.start_norms[-1]
        return float(first / last) if last > 0 else math.nan

    def _make_bars(self) -> None:
        for bar in self.bars:
            bar.remove()
        layers = self.initial_net.n_layers
        heights = np.where(self.start_norms > 0, self.start_norms, np.nan)
        container = self.bar_ax.bar(np.arange(1, layers + 1), heights, width=0.75,
                                    color=plots.depth_colors(layers), alpha=0.8, label="at the start")
        self.bars = list(container)
        self.bar_ax.set_xlim(0.3, layers + 0.7)
        self.bar_ax.set_xticks(np.arange(1, layers + 1))
        self.bar_ax.tick_params(axis="x", labelsize=plots.TICK_SIZE - (1 if layers > 12 else 0))

    def _compact_legend(self) -> None:
        """A deep network's view names only the first and last layer (the colours go between)."""
        view = self.gradient_view
        if len(view.lines) <= 4:
            return
        handles = [view.lines[0], view.lines[-1]]
        if view.clip is not None:
            handles += [view.global_line, view.clip_line]
        view.legend.remove()
        view.legend = view.ax.legend(handles=handles, fontsize=plots.LEGEND_SIZE, loc="upper right",
                                     ncol=2, **plots.LEGEND_FRAME)

    # --- training -----------------------------------------------------------------------------
    def step(self) -> None:
        """STEP_SIZE mini-batches (what Step does)."""
        self.trainer.step(STEP_SIZE)
        self._refresh()

    def _train(self, budget: float) -> bool | None:
        return train_for(self.trainer, budget, self._rate, self.loop.clock, MAX_STEPS_PER_FRAME)

    def _prepare_play(self) -> bool:
        if self.trainer.diverged:       # play it again from the start
            self.reset()
        return True

    def reset(self) -> None:
        """Pause, and start again from the initial weights (what Reset does)."""
        self.loop.pause()
        self._make_trainer()
        self.current_norms = self.start_norms
        self._refresh()

    # --- controls -----------------------------------------------------------------------------
    def _architecture_changed(self) -> None:
        self._build()

    def _scale_changed(self) -> None:
        if self.init_control.value == "normal":      # the scale is the std of init 'normal' only
            self._build()

    def _clip_changed(self) -> None:
        self.trainer.clip = self.clip
        self.gradient_view.set_clip(self.clip)
        self._compact_legend()
        self._refresh()

    def _lr_changed(self) -> None:
        self.trainer.lr = float(self.lr_control.value)
        self._refresh()

    # --- showing ------------------------------------------------------------------------------
    def _refresh(self) -> None:
        trainer, view = self.trainer, self.gradient_view
        if trainer.steps:
            self.current_norms = layer_norms(trainer.net, self.data)
        layers = len(self.current_norms)
        self.now_line.set_data(np.arange(1, layers + 1), np.where(self.current_norms > 0, self.current_norms, np.nan))
        shown = np.concatenate([self.start_norms, self.current_norms])
        shown = shown[np.isfinite(shown) & (shown > 0)]
        if len(shown):
            bottom, top = plots.log_limits(shown, below=0.1, above=0.35, min_span=1.0)
            self.bar_ax.set_ylim(bottom, top)
            # unlabelled minor ticks over many decades only cost drawing time
            span = math.log10(shown.max() / shown.min())
            self.bar_ax.yaxis.set_minor_locator(NullLocator() if span > 3 else LogLocator(subs="auto"))
        self.ratio_note.set_text(f"at the start: {self.ratio_text}".replace(" (", "\n("))
        self.bar_ax.set_title("Gradient per layer, on the whole training set\nbars: at the start  ·  dots: "
                              + (f"after {trainer.steps} steps" if trainer.steps else "now"),
                              fontsize=plots.TITLE_SIZE, color=plots.PALETTE["ink"])
        view.update(trainer.history, draw=False)
        label = f"At the start, <b>{self.ratio_text}</b>."
        if trainer.steps:
            now = describe_ratio(self.current_norms)
            label += f" After {trainer.steps} steps, {now}."
        self.ratio_label.value = f'<span style="font-size:13px">{label}</span>'
        self.norm_label.value = f'<span style="font-size:12px">{self._norm_text()}</span>'
        text = plots.status(trainer)
        if trainer.diverged:
            self.status.show(f"{text}  ·  {trainer.diverged}", "warning")
        else:
            self.status.show(text + ("" if trainer.steps else "  ·  press Play, or Step for "
                                     f"{STEP_SIZE} mini-batches"))
        self.canvas.show()

    def _norm_text(self) -> str:
        """The global gradient norm before clipping, and what clipping made of it."""
        h = self.trainer.history
        if not h.steps:
            start = math.sqrt(np.nansum(self.start_norms ** 2))
            text = f"global norm of the weight gradients at the start: {start:.3g}"
            if start > LARGE_NORM:
                text += " (exploding)"
            return text + ("" if self.clip is None else f"; clipping caps each step's at {self.clip:g}")
        norm = h.global_norms[-1]
        text = f"last step: global gradient norm {norm:.3g} before clipping"
        if self.clip is None:
            text += " (clipping off)"
        else:
            applied = min(norm, self.clip) if math.isfinite(norm) else self.clip
            share = float(np.mean(h.clipped))
            text += f", {applied:.3g} applied (clip at {self.clip:g})  ·  clipped in {share:.0%} of steps"
        return text
