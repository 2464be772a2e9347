"""ActivationExplorer: each activation and its derivative, over a layer's real pre-activations.

    from backprop_kit.widgets import ActivationExplorer
    ActivationExplorer(activation="sigmoid", init="normal", scale=2.0)

A network runs a forward pass (``bk.forward``) on a dataset; the panel shows the histogram of
one hidden layer's pre-activations z behind f(z) and f'(z), and how many of them sit where
|f'(z)| is small: there the gradient hardly passes back (saturated sigmoid or tanh, dead relu).
Turn up the weight scale and watch the histogram spread into the flat ends.
"""
from __future__ import annotations

import html
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np

import backprop_kit as bk
from backprop_kit import _checks, activations, datasets, plots
from backprop_kit.network import INITS

from . import _args
from ._base import ControlValue, Panel, button, intro, styled
from .canvas import live_figure

MAX_LAYERS = 8
MAX_NEURONS = 64
SCALE_RANGE = (0.01, 10.0)        # the std of init 'normal' on the slider (log scale)
TRAIN_STEPS = 25                  # mini-batches per press of "Train"
BATCH_SIZE = 32
POINTS = 400


def _layer(name, value, settings):
    if value is None:
        return settings["layers"]
    layers = settings["layers"]
    return _checks.number(name, value, low=1, high=layers, integer=True,
                          accepts=f"a hidden layer from 1 (input side) to {layers} (layers)")


ARGUMENTS = {
    "activation": _args.Choice(activations.HIDDEN), "layers": _args.Whole(1, MAX_LAYERS),
    "neurons": _args.Whole(1, MAX_NEURONS), "init": _args.Choice(INITS), "scale": _args.Number(*SCALE_RANGE),
    "layer": _args.Custom(_layer), "dataset": _args.Choice(datasets.NAMES), "lr": _args.Number(1e-4, 10.0),
    "seed": _args.SEED,
}


class ActivationExplorer(Panel):
    """An activation f and its derivative f', with a hidden layer's pre-activation histogram.

    ActivationExplorer(*, activation="sigmoid", layers=4, neurons=16, init="xavier", scale=1.0,
                       layer=None, dataset="spiral", lr=0.1, seed=0)

    - activation: of every hidden layer, one of activations.HIDDEN.
    - layers: hidden layers, 1 to 8; neurons: units per hidden layer, 1 to 64.
    - init: one of network.INITS ('normal' draws with std ``scale``, 0.01 to 10).
    - layer: the hidden layer to show, 1 (input side) to ``layers``; default the last.
    - dataset: the inputs of the forward pass (its 300 training points); lr: the learning rate of "Train".
    Every argument and what it accepts: ``ARGUMENTS``.
    - seed: the data, the weights and the mini-batch order.

    Controls (CSS classes): ``bk-activation``, ``bk-init``, ``bk-scale`` (the std of init 'normal';
    moving it switches init to 'normal'), ``bk-layers``, ``bk-layer``, ``bk-step`` (train 25
    mini-batches and look again), ``bk-reset``, the status line ``bk-status`` and the text
    ``bk-saturation``. Figure: ``bk-plot-activation`` (f, f', histogram; saturated share per layer).

    Attributes: ``net``, ``data``, ``X`` (the inputs), ``trace`` (``bk.forward(net, X)``), ``layer``,
    ``pre_activations`` (``trace.pre[layer - 1]``), ``saturated_shares`` and ``mean_slopes``
    (per hidden layer), ``trainer`` (a ``bk.Trainer`` on ``net``), ``view`` (a plots.ActivationView).
    """

    def __init__(self, *, activation: str = "sigmoid", layers: int = 4, neurons: int = 16,
                 init: str = "xavier", scale: float = 1.0, layer: int | None = None,
                 dataset: str = "spiral", lr: float = 0.1, seed: int = 0):
        s = _args.check(ARGUMENTS, locals())
        layers, neurons, scale, layer, lr, seed = (s[k] for k in ("layers", "neurons", "scale", "layer", "lr", "seed"))
        super().__init__()
        self.add_class("bk-activation-explorer")
        self.data = datasets.make(dataset, n=POINTS, noise=0.1, seed=seed)
        self.X = self.data.X_train
        self.neurons, self.lr, self.seed = neurons, lr, seed
        self._quiet = False

        self.activation_control = styled(widgets.Dropdown(options=list(activations.HIDDEN), value=activation,
                                                           description="activation"), "bk-activation")
        self.init_control = styled(widgets.Dropdown(options=list(INITS), value=init, description="init"), "bk-init")
        self.scale_control = styled(widgets.FloatLogSlider(
            value=scale, base=10, min=np.log10(SCALE_RANGE[0]), max=np.log10(SCALE_RANGE[1]), step=0.05,
            description="normal std", readout_format=".3", continuous_update=False,
            tooltip="The std of the weights for init 'normal' (moving it selects 'normal')"), "bk-scale")
        self.layers_control = styled(widgets.IntSlider(value=layers, min=1, max=MAX_LAYERS,
                                                       description="hidden layers", continuous_update=False),
                                     "bk-layers")
        self.layer_control = styled(widgets.Dropdown(options=_layer_options(layers), value=layer,
                                                     description="show layer"), "bk-layer")
        self.step_button = button(f"Train {TRAIN_STEPS} steps", "bk-step", icon="forward",
                                  tooltip=f"Train {TRAIN_STEPS} mini-batches of {BATCH_SIZE} (SGD), then look again")
        self.reset_button = button("Reset", "bk-reset", icon="undo", tooltip="The untrained network again")
        self.saturation = widgets.HTML()
        self.saturation.add_class("bk-saturation")

        self.figure, self.canvas = live_figure(8.2, 3.3, "bk-plot-activation")
        grid = self.figure.add_gridspec(2, 2, width_ratios=(1.5, 1.0), height_ratios=(1.45, 1.0))
        self.view = plots.ActivationView(self.figure.add_subplot(grid[:, 0]), name=activation)
        self.share_ax = self.figure.add_subplot(grid[0, 1])
        self.slope_ax = self.figure.add_subplot(grid[1, 1], sharex=self.share_ax)
        self._bars = None
        self._build_network()

        for control in (self.activation_control, self.init_control, self.layers_control):
            self.observe_value(control, self._rebuild)
        self.observe_value(self.scale_control, self._scale_changed)
        self.observe_value(self.layer_control, self._layer_changed)
        self.on_click(self.step_button, self.train)
        self.on_click(self.reset_button, self.reset)

        self.children = [
            intro("Activations and saturation.", "The grey histogram is the pre-activation z of one hidden "
                  "layer over the data (a real forward pass). Where f′(z) is nearly 0 the gradient hardly "
                  "gets back through: turn up the weight scale and watch."),
            widgets.HBox([widgets.VBox([self.activation_control, self.init_control, self.scale_control]),
                          widgets.VBox([self.layers_control, self.layer_control,
                                        widgets.HBox([self.step_button, self.reset_button])])]),
            self.status,
            self.canvas,
            self.saturation,
        ]
        self._show(f"{self._describe()}.")

    # --- state ------------------------------------------------------------------------
    activation = ControlValue("activation_control")
    init = ControlValue("init_control")
    scale = ControlValue("scale_control", float)
    layers = ControlValue("layers_control", int)
    layer = ControlValue("layer_control", int, "The hidden layer shown, 1 (input side) to ``layers``.")

    @property
    def pre_activations(self) -> np.ndarray:
        """z of the layer shown, (samples, neurons): ``trace.pre[layer - 1]``."""
        return self.trace.pre[self.layer - 1]

    @property
    def saturated_share(self) -> float:
        """Share of the shown layer's z with |f'(z)| < plots.SATURATION_THRESHOLD."""
        return self.saturated_shares[self.layer - 1]

    # --- what the controls do --------------------------------------------------------------
    def train(self) -> None:
        """Train ``TRAIN_STEPS`` mini-batches with ``bk.Trainer``, then run the forward pass again."""
        if self.trainer.diverged:
            self.status.show(self.trainer.diverged + " Press Reset.", "warning")
            return
        self.trainer.step(TRAIN_STEPS)
        self.net = self.trainer.net
        if self.trainer.diverged:
            self._show(self.trainer.diverged, "warning")
            return
        loss = self.trainer.history.loss[-1]
        self._show(f"Trained {self.trainer.steps} steps in all (learning rate {self.lr:g}); "
                   f"last mini-batch loss {loss:.3f}. {self._describe()}.")

    def reset(self) -> None:
        """The untrained network of the current settings again."""
        self._build_network()
        self._show(f"Reset: {self._describe()}.")

    def _rebuild(self) -> None:
        if self._quiet:
            return
        layer = min(self.layer, self.layers)
        with self._quietly():
            if list(self.layer_control.options) != _layer_options(self.layers):
                self.layer_control.options = _layer_options(self.layers)
                self.layer_control.value = layer
        self.view.set_activation(self.activation)
        self._build_network()
        self._show(f"A new network: {self._describe()}.")

    def _scale_changed(self) -> None:
        if self._quiet:
            return
        switched = self.init != "normal"
        with self._quietly():
            self.init_control.value = "normal"
        self._build_network()
        note = "Init switched to 'normal' (the weight scale is its std). " if switched else ""
        self._show(f"{note}A new network: {self._describe()}.")

    def _layer_changed(self) -> None:
        if self._quiet:
            return
        if self.trainer.diverged:          # another layer of the same network: the warning stays
            self._show(self.trainer.diverged + " Press Reset.", "warning")
        else:
            self._show(f"{self._describe()}.")

    @contextmanager
    def _quietly(self):
        """Set controls from code without their observers rebuilding the network again."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    # --- the forward pass and the plots --------------------------------------------------
    def _build_network(self) -> None:
        sizes = [self.data.n_inputs] + [self.neurons] * self.layers + [self.data.n_outputs]
        self.net = bk.Network(sizes, activation=self.activation, output=self.data.output, init=self.init,
                              scale=self.scale, seed=self.seed)
        self.trainer = bk.Trainer(self.net, self.data, lr=self.lr, batch_size=BATCH_SIZE,
                                  seed=self.seed)

    def _show(self, message: str, kind: str = "info") -> None:
        """Run the forward pass of the current network and show the chosen layer and all layers' shares."""
        with np.errstate(all="ignore"):
            self.trace = bk.forward(self.net, self.X)
        hidden = self.trace.pre[:-1]
        self.saturated_shares = [self.view.saturated_share(z) for z in hidden]
        act = activations.get(self.activation)
        with np.errstate(all="ignore"):
            self.mean_slopes = [float(np.nanmean(np.abs(act.derivative(z, a))))
                                for z, a in zip(hidden, self.trace.post[:-1])]
        self.view.update(self.pre_activations, draw=False)
        self._draw_layers()
        self.saturation.value = self._saturation_text()
        self.status.show(message, kind)
        self.canvas.show()

    def _draw_layers(self) -> None:
        """Every hidden layer at a glance: its saturated share (top) and its mean |f'(z)| (bottom)."""
        L = self.layers
        if self._bars is None or len(self._bars) != L:       # depth changed: new bars (not a frame)
            self._make_layer_bars(L)
        for k, (bar, slope_bar, text, slope_text, share, slope) in enumerate(zip(
                self._bars, self._slope_bars, self._bar_texts, self._slope_texts,
                self.saturated_shares, self.mean_slopes), start=1):
            chosen = k == self.layer
            bar.set_height(share)
            bar.set_color(plots.PALETTE["train"] if chosen else "#b9c8da")
            text.set_position((k, share))
            text.set_text(f"{share:.0%}")
            shown = min(slope, 1.0) if np.isfinite(slope) else 0.0
            slope_bar.set_height(shown)
            slope_bar.set_color(plots.PALETTE["test"] if chosen else "#eab5bd")
            slope_text.set_position((k, shown))
            slope_text.set_text(f"{slope:.2f}")

    def _make_layer_bars(self, L: int) -> None:
        positions = np.arange(1, L + 1)
        labels = dict(ha="center", va="bottom", fontsize=plots.LEGEND_SIZE, color=plots.PALETTE["ink"])
        small = L > 6
        for ax in (self.share_ax, self.slope_ax):
            ax.clear()
        ax = self.share_ax
        self._bars = ax.bar(positions, np.zeros(L), width=0.62)
        self._bar_texts = [ax.text(x, 0, "", **labels) for x in positions]
        plots.style(ax, f"saturated share (|f′(z)| < {plots.SATURATION_THRESHOLD:g})")
        ax.set_ylim(0, 1.22)
        ax.set_yticks([0, 0.5, 1.0], ["0", "50%", "100%"])
        ax.tick_params(labelbottom=False)
        ax = self.slope_ax
        self._slope_bars = ax.bar(positions, np.zeros(L), width=0.62)
        self._slope_texts = [ax.text(x, 0, "", **labels) for x in positions]
        plots.style(ax, None, "hidden layer (1 = input side)", None)
        ax.text(0.01, 0.97, "mean |f′(z)|: the factor a gradient is multiplied by", transform=ax.transAxes,
                ha="left", va="top", fontsize=plots.LEGEND_SIZE, color=plots.PALETTE["ink"])
        ax.set_ylim(0, 1.6)
        ax.set_yticks([0, 0.5, 1.0])
        ax.set_xticks(positions)
        ax.set_xlim(0.4, L + 0.6)
        for text in self._bar_texts + self._slope_texts:
            text.set_fontsize(plots.LEGEND_SIZE - (1 if small else 0))

    def _describe(self) -> str:
        init = f"normal (std {self.scale:.3g})" if self.init == "normal" else self.init
        return (f"{self.activation}, {self.layers} hidden layer{'s' if self.layers > 1 else ''} of "
                f"{self.neurons}, init {init}, on {self.data.name}")

    def _saturation_text(self) -> str:
        z = self.pre_activations
        share, slope = self.saturated_share, self.mean_slopes[self.layer - 1]
        word = "dead (z < 0, so f′(z) = 0)" if self.activation == "relu" else "saturated"
        product = float(np.prod(self.mean_slopes))
        return ('<div style="font-size:13px;line-height:1.5">'
                f"<b>Layer {self.layer} of {self.layers}:</b> {share:.0%} of its {z.size:,} pre-activations "
                f"({len(z)} samples × {z.shape[1]} units) are {html.escape(word)}: "
                f"|f′(z)| &lt; {plots.SATURATION_THRESHOLD:g}, so almost no gradient passes back through them. "
                f"Mean |f′(z)| here: {slope:.3f}.<br>"
                f'<span style="color:#666">On its way back to layer 1 a gradient is multiplied by f′(z) once '
                f"per layer: the product of the mean |f′(z)| over all {self.layers} hidden layers is "
                f"{product:.2g}.</span></div>")


def _layer_options(layers: int) -> list[tuple[str, int]]:
    """Dropdown options: ('layer 1 (input side)', 1), ..., ('layer L (last hidden)', L)."""
    options = []
    for k in range(1, layers + 1):
        label = f"layer {k}"
        if layers > 1 and k == 1:
            label += " (input side)"
        if k == layers:
            label += " (last hidden)"
        options.append((label, k))
    return options
