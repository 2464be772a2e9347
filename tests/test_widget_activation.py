"""ActivationExplorer: f and f' over a layer's real pre-activations, and how many of them saturate."""
import os
from pathlib import Path

import numpy as np
import pytest

import backprop_kit as bk
from backprop_kit import activations
from backprop_kit.plots import SATURATION_THRESHOLD
from backprop_kit.widgets import ActivationExplorer
from backprop_kit.widgets import find

DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def histogram_heights(panel) -> np.ndarray:
    """The bar heights of the plotted histogram."""
    return np.asarray(panel.view.histogram.get_data().values)


def expected_heights(panel, layer) -> np.ndarray:
    """A histogram of the layer's z from our own forward pass, on the plot's bins (values beyond
    the edges go to the end bins, as ActivationView documents), as shares of all values."""
    z = bk.forward(panel.net, panel.X).pre[layer - 1].ravel()
    edges = panel.view.edges
    counts, _ = np.histogram(np.clip(z, edges[0], edges[-1]), bins=edges)
    return counts / z.size


def saturated(activation, z) -> float:
    act = activations.get(activation)
    return float(np.mean(np.abs(act.derivative(z, act.value(z))) < SATURATION_THRESHOLD))


def test_every_control_and_the_plot_are_found_by_their_css_class():
    panel = ActivationExplorer()
    for css_class in ("bk-activation", "bk-init", "bk-scale", "bk-layers", "bk-layer", "bk-step",
                      "bk-reset", "bk-status", "bk-saturation", "bk-plot-activation"):
        assert find(panel, css_class) is not None
    assert find(panel, "bk-plot-activation") is panel.canvas and panel.canvas.figure is panel.figure
    assert panel.errors == []


def test_the_histogram_is_that_of_the_chosen_layers_pre_activations_from_bk_forward():
    panel = ActivationExplorer(activation="tanh", layers=3, init="normal", scale=0.8)
    selector = find(panel, "bk-layer")
    assert panel.layer == 3                             # the last hidden layer by default
    for layer in (1, 2, 3):
        selector.value = layer
        assert panel.layer == layer
        assert np.array_equal(panel.pre_activations, bk.forward(panel.net, panel.X).pre[layer - 1])
        assert np.allclose(histogram_heights(panel), expected_heights(panel, layer))
        assert panel.view.histogram.get_visible()


def test_the_saturated_share_is_the_share_of_small_derivatives_and_shown_as_text():
    panel = ActivationExplorer(activation="sigmoid", init="normal", scale=2.0)
    for layer in range(1, panel.layers + 1):
        z = bk.forward(panel.net, panel.X).pre[layer - 1]
        assert panel.saturated_shares[layer - 1] == pytest.approx(saturated("sigmoid", z))
    text = find(panel, "bk-saturation").value
    assert f"{panel.saturated_share:.0%}" in text and f"Layer {panel.layer} of 4" in text
    assert [bar.get_height() for bar in panel._bars] == pytest.approx(panel.saturated_shares)


def test_the_saturated_share_grows_with_the_scale_for_sigmoid():
    panel = ActivationExplorer(activation="sigmoid", init="normal", scale=0.1)
    scale = find(panel, "bk-scale")
    shares = []
    for value in (0.1, 0.5, 1.0, 2.0, 5.0):
        scale.value = value
        assert panel.net == bk.Network([2, 16, 16, 16, 16, 1], activation="sigmoid", init="normal",
                                       scale=value, seed=0)
        shares.append(panel.saturated_share)
    assert shares[0] == 0.0 and shares[-1] > 0.6
    assert all(later >= earlier for earlier, later in zip(shares, shares[1:]))
    assert np.allclose(histogram_heights(panel), expected_heights(panel, panel.layer))


def test_moving_the_scale_switches_init_to_normal_and_says_so():
    panel = ActivationExplorer(init="xavier")
    find(panel, "bk-scale").value = 3.0
    assert panel.init == "normal" and find(panel, "bk-init").value == "normal"
    assert "switched to 'normal'" in panel.status.text
    assert np.std(panel.net.weights[1]) == pytest.approx(3.0, rel=0.15)


def test_changing_the_activation_rebuilds_the_network_and_the_curves():
    panel = ActivationExplorer(activation="sigmoid")
    find(panel, "bk-activation").value = "relu"
    assert set(panel.net.activations[:-1]) == {"relu"} and panel.view.activation.name == "relu"
    z = np.linspace(-5, 5, 401)
    assert np.allclose(panel.view.f_line.get_ydata(), np.maximum(z, 0))
    assert np.allclose(histogram_heights(panel), expected_heights(panel, panel.layer))
    assert panel.saturated_share == pytest.approx(saturated("relu", panel.pre_activations))
    assert "dead" in find(panel, "bk-saturation").value


def test_changing_the_init_and_the_depth_rebuilds_and_keeps_the_layer_choice_valid():
    panel = ActivationExplorer(layers=4, layer=4)
    find(panel, "bk-init").value = "he"
    assert panel.net == bk.Network([2] + [16] * 4 + [1], activation="sigmoid", init="he", seed=0)
    find(panel, "bk-layers").value = 2
    assert panel.net.sizes == (2, 16, 16, 1) and panel.layer == 2
    assert [value for _, value in find(panel, "bk-layer").options] == [1, 2]
    assert len(panel._bars) == 2
    find(panel, "bk-layers").value = 6
    assert panel.layer == 2 and len(panel.saturated_shares) == 6
    assert np.allclose(histogram_heights(panel), expected_heights(panel, 2))
    assert panel.errors == []


def test_training_moves_the_histogram_to_the_trained_networks_pre_activations():
    panel = ActivationExplorer(activation="tanh", layers=2)
    untrained = panel.net
    before = histogram_heights(panel).copy()
    find(panel, "bk-step").click()
    assert panel.trainer.steps == 25 and panel.net is panel.trainer.net and panel.net != untrained
    assert np.allclose(histogram_heights(panel), expected_heights(panel, panel.layer))
    assert not np.array_equal(histogram_heights(panel), before)
    assert "Trained 25 steps" in panel.status.text
    find(panel, "bk-reset").click()
    assert panel.net == untrained and panel.trainer.steps == 0
    assert np.array_equal(histogram_heights(panel), before)


def test_a_diverging_run_is_a_status_warning_not_an_exception():
    panel = ActivationExplorer(activation="relu", init="normal", scale=10.0, lr=10.0, dataset="sine")
    for _ in range(4):
        find(panel, "bk-step").click()
    assert panel.errors == []
    assert panel.trainer.diverged and panel.status.kind == "warning"
    assert "Training diverged" in panel.status.text


@pytest.mark.parametrize("kwargs, words", [
    (dict(activation="sigmod"), ["activation", "'sigmod'", "did you mean 'sigmoid'"]),
    (dict(activation="softmax"), ["activation", "'softmax'"]),
    (dict(layers=0), ["layers", "0", "1 to 8"]),
    (dict(layers=9), ["layers", "9", "1 to 8"]),
    (dict(layers=2.0), ["layers", "2.0"]),
    (dict(neurons=0), ["neurons", "0", "1 to 64"]),
    (dict(init="glorot"), ["init", "'glorot'", "'xavier'"]),
    (dict(scale=0), ["scale", "0", "0.01 to 10"]),
    (dict(scale=float("nan")), ["scale", "nan"]),
    (dict(layer=5), ["layer", "5", "1 (input side) to 4"]),
    (dict(layers=2, layer=0), ["layer", "0", "to 2"]),
    (dict(dataset="moon"), ["dataset", "'moon'", "did you mean 'moons'"]),
    (dict(lr=-1), ["lr", "-1"]),
    (dict(seed="zero"), ["seed", "'zero'"]),
])
def test_bad_arguments_raise_an_error_naming_argument_value_and_what_is_accepted(kwargs, words):
    with pytest.raises((ValueError, TypeError)) as error:
        ActivationExplorer(**kwargs)
    for word in words:
        assert word in str(error.value)


def test_an_error_in_a_callback_goes_to_the_status(monkeypatch):
    panel = ActivationExplorer()

    def broken(net, X):
        raise RuntimeError("forward broke")

    monkeypatch.setattr(bk, "forward", broken)
    find(panel, "bk-activation").value = "tanh"          # must not raise
    assert panel.status.kind == "error" and "forward broke" in panel.status.text
    assert len(panel.errors) == 1


def test_random_control_changes_never_raise():
    panel = ActivationExplorer(layers=3, neurons=8)
    rng = np.random.default_rng(1)
    for _ in range(60):
        pick = rng.integers(6)
        if pick == 0:
            find(panel, "bk-activation").value = str(rng.choice(activations.HIDDEN))
        elif pick == 1:
            find(panel, "bk-init").value = str(rng.choice(bk.network.INITS))
        elif pick == 2:
            find(panel, "bk-scale").value = float(10 ** rng.uniform(-2, 1))
        elif pick == 3:
            find(panel, "bk-layers").value = int(rng.integers(1, 9))
        elif pick == 4:
            find(panel, "bk-layer").value = int(rng.integers(1, panel.layers + 1))
        else:
            find(panel, "bk-step" if rng.random() < 0.7 else "bk-reset").click()
        assert len(panel.saturated_shares) == panel.layers and 1 <= panel.layer <= panel.layers
    assert panel.errors == []
    assert np.allclose(histogram_heights(panel), expected_heights(panel, panel.layer))


def test_the_figure_renders(tmp_path):
    """Draw the figure (small; BK_WRITE_DOCS_IMAGES=1 writes the pictures of docs/images instead)."""
    write_docs = bool(os.environ.get("BK_WRITE_DOCS_IMAGES"))
    out, dpi = (DOCS_IMAGES, 110) if write_docs else (tmp_path, 30)
    out.mkdir(parents=True, exist_ok=True)
    panel = ActivationExplorer(activation="sigmoid", init="xavier")
    panel.figure.savefig(out / "activation_sigmoid_xavier.png", dpi=dpi)
    find(panel, "bk-scale").value = 4.0
    panel.figure.savefig(out / "activation_sigmoid_normal_4.png", dpi=dpi)
    names = ["activation_sigmoid_xavier.png", "activation_sigmoid_normal_4.png"]
    if write_docs:
        relu = ActivationExplorer(activation="relu", init="he", layers=6)
        relu.figure.savefig(out / "activation_relu_he.png", dpi=dpi)
        names.append("activation_relu_he.png")
    for name in names:
        assert (out / name).stat().st_size > 2_000
