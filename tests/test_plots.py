"""plots: views made once on an Axes and updated in place, with the Agg backend."""
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import backprop_kit as bk  # noqa: E402
from backprop_kit import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def spiral():
    return bk.datasets.make("spiral", n=200, noise=0.1, test_fraction=0.25, seed=0)


def make_trainer(data, hidden=(8, 8), **options):
    net = bk.Network([data.n_inputs, *hidden, data.n_outputs], activation="tanh", output=data.output, seed=0)
    return bk.Trainer(net, data, **options)


def axes():
    return plots.new_figure((4, 3)).add_subplot()


def draw(view):
    view.ax.figure.canvas.draw()


# --- module boundaries ------------------------------------------------------------------

def test_plots_imports_neither_ipywidgets_nor_pyplot_and_the_core_imports_no_matplotlib():
    code = ("import sys, backprop_kit; assert 'matplotlib' not in sys.modules; "
            "import backprop_kit.plots; "
            "assert 'ipywidgets' not in sys.modules and 'matplotlib.pyplot' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    source = Path(plots.__file__).read_text()
    assert "import ipywidgets" not in source and "from ipywidgets" not in source


def test_new_figure_without_pyplot_is_not_tracked_by_pyplot():
    before = plt.get_fignums()
    fig = plots.new_figure((3, 2), pyplot=False)
    assert plt.get_fignums() == before
    assert fig.get_size_inches().tolist() == [3, 2]
    tracked = plots.new_figure((3, 2))
    assert len(plt.get_fignums()) == len(before) + 1
    plots.close(tracked)
    assert plt.get_fignums() == before


def test_a_view_without_an_axes_makes_its_own_figure(spiral):
    for view in (plots.LossView(), plots.GradientNormView(layers=2), plots.BoundaryView(dataset=spiral),
                 plots.ActivationView(name="relu")):
        assert view.ax.figure is not None


# --- LossView ---------------------------------------------------------------------------

def test_loss_view_updates_the_same_lines_and_grows_with_the_steps(spiral):
    trainer = make_trainer(spiral, batch_size=30)
    view = plots.LossView(axes())
    lines = (view.step_line, view.smooth_line, view.train_line, view.test_line)
    trainer.step(5)
    view.update(trainer.history)
    assert len(view.step_line.get_ydata()) == 5
    trainer.run(3)
    view.update(trainer.history)
    assert (view.step_line, view.smooth_line, view.train_line, view.test_line) == lines
    assert view.ax.get_lines() == list(lines)
    assert len(view.step_line.get_ydata()) == len(view.smooth_line.get_ydata()) == trainer.steps
    np.testing.assert_allclose(view.step_line.get_ydata(), trainer.history.loss)
    np.testing.assert_array_equal(view.test_line.get_xdata(), trainer.history.epoch_steps)
    np.testing.assert_allclose(view.test_line.get_ydata(), trainer.history.test_loss)
    low, high = view.ax.get_ylim()
    assert low <= min(trainer.history.train_loss) and high >= max(trainer.history.train_loss)
    draw(view)


def test_loss_view_smoothing_extended_step_by_step_equals_smoothing_all_at_once(spiral):
    trainer = make_trainer(spiral, batch_size=10)
    growing = plots.LossView(axes())
    for _ in range(7):
        trainer.step(97)       # crosses the 256-step chunks at odd places
        growing.update(trainer.history, draw=False)
    fresh = plots.LossView(axes())
    fresh.update(trainer.history, draw=False)
    np.testing.assert_allclose(growing.smooth_line.get_ydata(), fresh.smooth_line.get_ydata(), rtol=1e-12)
    # and it is the bias-corrected exponential moving average, written out the slow way
    beta, average, weight, expected = 0.9, 0.0, 0.0, []
    for value in trainer.history.loss:
        average, weight = beta * average + (1 - beta) * value, beta * weight + (1 - beta)
        expected.append(average / weight)
    np.testing.assert_allclose(fresh.smooth_line.get_ydata(), expected, rtol=1e-10)


def test_loss_view_starts_afresh_for_a_new_history(spiral):
    view = plots.LossView(axes())
    first = make_trainer(spiral).run(3)
    view.update(first.history)
    second = make_trainer(spiral, lr=0.5).step(4)
    view.update(second.history)
    assert len(view.smooth_line.get_ydata()) == 4
    assert view.smooth_line.get_ydata()[0] == pytest.approx(second.history.loss[0])


def test_loss_view_log_axis_can_be_switched_in_place(spiral):
    trainer = make_trainer(spiral).run(2)
    view = plots.LossView(axes(), log=True)
    view.update(trainer.history)
    assert view.ax.get_yscale() == "log"
    line = view.step_line
    view.set_log(False)
    assert view.ax.get_yscale() == "linear" and view.step_line is line
    assert view.ax.get_ylim()[0] <= 0.0
    draw(view)


def test_loss_view_rejects_a_smoothing_of_one():
    with pytest.raises(ValueError, match="smoothing"):
        plots.LossView(axes(), smoothing=1.0)


# --- GradientNormView -------------------------------------------------------------------

def test_gradient_view_draws_one_line_per_layer_coloured_by_depth_on_a_log_axis(spiral):
    trainer = make_trainer(spiral, hidden=(8, 8, 8)).run(2)
    view = plots.GradientNormView(axes(), layers=4)
    view.update(trainer.history)
    assert view.ax.get_yscale() == "log"
    assert len(view.lines) == trainer.net.n_layers == 4
    assert [line.get_label() for line in view.lines] == [
        "layer 1 (input side)", "layer 2", "layer 3", "layer 4 (output)"]
    assert len({line.get_color() for line in view.lines}) == 4
    assert [t.get_text() for t in view.legend.get_texts()][0] == "layer 1 (input side)"
    for line, raw, column in zip(view.lines, view.raw_lines, trainer.history.grad_norms.T):
        assert len(line.get_ydata()) == trainer.steps
        np.testing.assert_allclose(raw.get_ydata(), column)
    draw(view)


def test_gradient_view_keeps_its_lines_and_rebuilds_them_only_for_a_new_depth(spiral):
    trainer = make_trainer(spiral).step(3)
    view = plots.GradientNormView(axes(), layers=3)
    view.update(trainer.history)
    lines = list(view.lines)
    trainer.step(20)
    view.update(trainer.history)
    assert view.lines == lines and len(lines[0].get_xdata()) == 23
    deeper = make_trainer(spiral, hidden=(4, 4, 4, 4)).step(2)
    view.update(deeper.history)
    assert len(view.lines) == 5 and all(line not in view.ax.get_lines() for line in lines)
    assert len(view.ax.get_lines()) == 2 * 5 + 1 + 1      # raw + smoothed per layer, global, clip
    draw(view)


def test_gradient_view_shows_the_clip_threshold_the_global_norm_and_the_clipped_share(spiral):
    trainer = make_trainer(spiral, clip=0.05).step(20)
    view = plots.GradientNormView(axes(), layers=3, clip=0.05)
    view.update(trainer.history)
    assert view.clip_line.get_visible() and view.global_line.get_visible()
    assert list(view.clip_line.get_ydata()) == [0.05, 0.05]
    share = np.mean(trainer.history.clipped)
    assert view.clip_text.get_text() == f"clipped: {share:.0%} of steps"
    assert "clip at 0.05" in [t.get_text() for t in view.legend.get_texts()]
    view.set_clip(None)
    assert not view.clip_line.get_visible() and not view.clip_text.get_visible()
    draw(view)


def test_gradient_view_without_raw_lines(spiral):
    view = plots.GradientNormView(axes(), layers=3, raw=False, smoothing=0.0)
    trainer = make_trainer(spiral).step(5)
    view.update(trainer.history)
    assert view.raw_lines == []
    np.testing.assert_allclose(view.lines[0].get_ydata(), trainer.history.grad_norms[:, 0])


# --- non-finite values ------------------------------------------------------------------

def test_views_draw_non_finite_and_zero_values_without_crashing():
    history = bk.History(2)
    for loss, norms in [(0.7, [0.1, 0.2]), (0.0, [0.0, 0.3]), (np.inf, [np.inf, np.nan]),
                        (np.nan, [1e300, 1e-300])]:
        history._record_step(loss, np.array(norms), float(np.sum(norms)), False)
    history._record_epoch(4, (np.nan, np.nan), (np.inf, np.nan))
    loss_view, gradient_view = plots.LossView(axes(), log=True), plots.GradientNormView(axes(), layers=2, clip=1.0)
    loss_view.update(history)
    gradient_view.update(history)
    for view in (loss_view, gradient_view):
        draw(view)
        assert np.all(np.isfinite(view.ax.get_ylim()))
    assert np.isnan(loss_view.step_line.get_ydata()[2:]).all()        # inf and NaN: not drawn
    assert np.isnan(loss_view.step_line.get_ydata()[1])               # 0 on a log axis: not drawn
    loss_view.set_log(False)
    assert loss_view.step_line.get_ydata()[1] == 0.0
    empty = bk.History(3)
    plots.LossView(axes()).update(empty)
    plots.GradientNormView(axes()).update(empty)


def test_a_diverged_run_is_drawn_with_its_message_in_red(spiral):
    trainer = make_trainer(spiral, lr=200.0).run(5)
    assert trainer.diverged is not None
    figure = plots.TrainingFigure(trainer, pyplot=False)
    figure.fig.canvas.draw()
    assert "DIVERGED" in figure.title.get_text()
    assert figure.title.get_color() == plots.PALETTE["clip"]


def test_boundary_of_a_network_with_huge_weights_is_still_an_image(spiral):
    net = bk.Network([2, 8, 1], init="normal", scale=1e150, seed=0)
    view = plots.BoundaryView(axes(), spiral)
    view.update(net)
    draw(view)
    assert view.image.get_array().shape == (100, 100)


# --- BoundaryView -----------------------------------------------------------------------

def test_boundary_image_is_updated_in_place_and_changes_with_training(spiral):
    trainer = make_trainer(spiral, lr=0.5)
    view = plots.BoundaryView(axes(), spiral, resolution=40)
    view.update(trainer.net)
    image, before = view.image, np.array(view.image.get_array())
    limits = view.ax.get_xlim(), view.ax.get_ylim()
    trainer.run(20)
    view.update(trainer)                      # a Trainer works too: its .net is drawn
    assert view.image is image and view.ax.get_images() == [image]
    after = np.array(view.image.get_array())
    assert after.shape == (40, 40) and not np.allclose(before, after)
    assert (view.ax.get_xlim(), view.ax.get_ylim()) == limits
    assert 0.0 <= after.min() and after.max() <= 1.0
    draw(view)


def test_boundary_image_pixels_are_the_network_output_at_those_points(spiral):
    net = make_trainer(spiral).run(5).net
    view = plots.BoundaryView(axes(), spiral, resolution=30)
    view.update(net)
    left, right, bottom, top = view.image.get_extent()
    xs, ys = np.linspace(left, right, 30), np.linspace(bottom, top, 30)
    pixels = np.asarray(view.image.get_array())
    for row, column in [(0, 0), (3, 25), (29, 7)]:
        expected = bk.forward(net, np.array([[xs[column], ys[row]]])).output[0, 0]
        assert pixels[row, column] == pytest.approx(expected, rel=1e-4)   # drawn in float32
    everything = np.concatenate([spiral.X_train, spiral.X_test])
    assert left < everything[:, 0].min() and right > everything[:, 0].max()
    assert bottom < everything[:, 1].min() and top > everything[:, 1].max()


def test_boundary_marks_train_and_test_points_differently(spiral):
    view = plots.BoundaryView(axes(), spiral)
    train, test = view.ax.collections
    assert len(train.get_offsets()) == len(spiral.X_train) and len(test.get_offsets()) == len(spiral.X_test)
    assert tuple(train.get_edgecolor()[0][:3]) == (1, 1, 1) and tuple(test.get_edgecolor()[0][:3]) == (0, 0, 0)
    assert [t.get_text() for t in view.ax.get_legend().get_texts()] == ["train", "test"]


def test_multiclass_boundary_blends_the_class_colours():
    data = bk.datasets.make("gaussians", n=150, classes=3, seed=1)
    trainer = make_trainer(data, lr=0.5).run(30)
    view = plots.BoundaryView(axes(), data, resolution=25)
    view.update(trainer.net)
    rgb = np.asarray(view.image.get_array())
    assert rgb.shape == (25, 25, 3) and rgb.min() >= 0 and rgb.max() <= 1
    # where the network is surest, the pixel is nearest to that class's (pale) colour
    p = view.evaluate(trainer.net)
    surest = np.argmax(p.max(axis=1))
    pale = [plots.pale(color) for color in plots.CLASS_COLORS[:3]]
    pixel = rgb.reshape(-1, 3)[surest]
    assert np.argmin([np.linalg.norm(pixel - color) for color in pale]) == np.argmax(p[surest])
    draw(view)


def test_regression_shows_the_fitted_curve_over_the_data():
    sine = bk.datasets.make("sine", n=120, seed=0)
    trainer = make_trainer(sine, lr=0.05, optimizer="adam").run(30)
    view = plots.BoundaryView(axes(), sine)
    assert view.image is None and view.curve is not None
    curve = view.curve
    view.update(trainer.net)
    x, y = view.curve.get_data()
    assert view.curve is curve
    np.testing.assert_allclose(y, bk.forward(trainer.net, x.reshape(-1, 1)).output[:, 0], rtol=1e-4, atol=1e-5)
    assert x.min() < sine.X_train.min() and x.max() > sine.X_train.max()
    draw(view)


def test_switching_dataset_rebuilds_the_picture_on_the_same_axes(spiral):
    ax = axes()
    view = plots.BoundaryView(ax, spiral)
    view.update(make_trainer(spiral).net)
    sine = bk.datasets.make("sine", n=60, seed=0)
    view.set_dataset(sine)
    assert view.ax is ax and view.image is None and ax.get_images() == []
    assert len(ax.collections) == 2 and ax.get_lines() == [view.curve]
    view.update(make_trainer(sine).net)
    moons = bk.datasets.make("moons", n=80, seed=0)
    view.set_dataset(moons)
    assert view.curve is None and ax.get_images() == [view.image] and ax.get_lines() == []
    view.update(make_trainer(moons).net)
    assert "moons" in ax.get_title()
    draw(view)


def test_boundary_of_a_float32_network(spiral):
    net = bk.Network([2, 8, 1], seed=0, dtype="float32")
    view = plots.BoundaryView(axes(), spiral, resolution=20)
    view.update(net)
    assert np.isfinite(np.asarray(view.image.get_array())).all()


def test_boundary_refuses_a_network_that_does_not_fit_the_data(spiral):
    view = plots.BoundaryView(axes(), spiral)
    with pytest.raises(ValueError, match="net must take 2 inputs"):
        view.update(bk.Network([3, 4, 1]))
    with pytest.raises(TypeError, match="dataset"):
        plots.BoundaryView(axes(), "spiral")
    with pytest.raises(ValueError, match="resolution"):
        plots.BoundaryView(axes(), spiral, resolution=1)


# --- ActivationView ---------------------------------------------------------------------

@pytest.mark.parametrize("name", bk.activations.HIDDEN)
def test_activation_view_draws_f_and_its_derivative(name):
    view = plots.ActivationView(axes(), name)
    act = bk.activations.get(name)
    z, f = view.f_line.get_data()
    np.testing.assert_allclose(f, act.value(z))
    np.testing.assert_allclose(view.d_line.get_ydata(), act.derivative(z, act.value(z)))
    assert (z.min(), z.max()) == (-5.0, 5.0)
    assert view.ax.get_title() == name
    assert view.legend.get_texts()[0].get_text() == f"f(z) = {act.formula}"


def test_activation_view_shows_a_histogram_and_the_saturated_share():
    view = plots.ActivationView(axes(), "tanh", bins=20)
    z = np.array([[0.0, 0.1, 4.0, -8.0]])          # tanh'(4) and tanh'(-8) are below 0.05
    view.update(z)
    shares, edges = view.histogram.get_data().values, view.histogram.get_data().edges
    assert shares.sum() == pytest.approx(1.0) and len(edges) == 21
    assert shares[0] == pytest.approx(0.25)          # -8 is counted in the first bin
    assert view.saturated_share(z) == 0.5
    assert "50% of 4 values" in view.text.get_text() and view.text.get_visible()
    histogram = view.histogram
    view.update(np.zeros((3, 5)))
    assert view.histogram is histogram and view.saturated_share(np.zeros(3)) == 0.0
    view.update(None)
    assert not view.histogram.get_visible() and not view.text.get_visible()
    draw(view)


def test_activation_view_switches_activation_in_place_and_handles_non_finite_z():
    view = plots.ActivationView(axes(), "sigmoid")
    line = view.f_line
    view.set_activation("relu")
    assert view.f_line is line and view.f_line.get_ydata().max() == 5.0
    view.update(np.array([np.nan, np.inf, -1.0, 2.0]))
    assert view.saturated_share([-1.0, 2.0]) == 0.5
    view.update(np.array([np.nan]))
    draw(view)
    with pytest.raises(ValueError, match="activation"):
        view.set_activation("softmax")


def test_activation_view_of_a_real_layer(spiral):
    net = bk.Network([2, 16, 16, 1], activation="sigmoid", init="normal", scale=3.0, seed=0)
    view = plots.ActivationView(axes(), "sigmoid")
    z = bk.forward(net, spiral.X_train).pre[1]
    view.update(z)
    assert view.saturated_share(z) > 0.3        # large weights saturate sigmoid


# --- TrainingFigure and plot_history ----------------------------------------------------

def test_training_figure_updates_every_view_in_place(spiral):
    trainer = make_trainer(spiral).step(3)
    figure = plots.TrainingFigure(trainer)
    artists = (figure.loss.step_line, figure.gradients.lines[0], figure.boundary.image)
    before = np.array(figure.boundary.image.get_array())
    trainer.run(10)
    figure.update(trainer)
    assert (figure.loss.step_line, figure.gradients.lines[0], figure.boundary.image) == artists
    assert len(figure.loss.step_line.get_ydata()) == trainer.steps
    assert not np.allclose(before, figure.boundary.image.get_array())
    assert f"step {trainer.steps}" in figure.title.get_text() and "spiral" in figure.title.get_text()
    figure.fig.canvas.draw()
    assert len(figure.fig.axes) == 3            # boundary, loss, gradients


def test_training_figure_follows_a_new_trainer_with_other_data_depth_and_clip(spiral):
    figure = plots.TrainingFigure(make_trainer(spiral).step(2), pyplot=False)
    sine = bk.datasets.make("sine", n=60, seed=0)
    other = make_trainer(sine, hidden=(4, 4, 4), clip=0.5).step(3)
    figure.update(other)
    assert figure.boundary.dataset is sine and figure.boundary.curve is not None
    assert len(figure.gradients.lines) == 4 and figure.gradients.clip_line.get_visible()
    figure.fig.canvas.draw()


@pytest.mark.parametrize("suffix, signature", [(".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<?xml"),
                                                (".pdf", b"%PDF")])
def test_training_figure_saves_by_extension(spiral, tmp_path, suffix, signature):
    figure = plots.TrainingFigure(make_trainer(spiral).run(2), pyplot=False)
    path = tmp_path / f"run{suffix}"
    figure.save(path)
    assert path.read_bytes().startswith(signature) and path.stat().st_size > 10_000


def test_plot_history_makes_a_static_figure(spiral):
    trainer = make_trainer(spiral, clip=1.0).run(3)
    fig = plots.plot_history(trainer.history)
    assert len(fig.axes) == 2
    fig = plots.plot_history(trainer.history, spiral, trainer.net, clip=1.0)
    assert len(fig.axes) == 3 and fig.axes[0].get_images()
    fig.canvas.draw()


def test_layer_labels():
    assert plots.layer_labels(1) == ["layer 1 (output)"]
    assert plots.layer_labels(3) == ["layer 1 (input side)", "layer 2", "layer 3 (output)"]


@pytest.mark.parametrize("limits, minor, labelled", [
    ((0.3, 0.9), ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"], True),   # narrow: every 2..9, labelled
    ((0.05, 2), 24, False),                      # under two decades: every 2..9
    ((0.01, 3), ["0.002", "0.005", "0.02", "0.05", "0.2", "0.5", "2", "5"], False),   # up to four: 2 and 5
    ((1e-5, 3), [], False),                      # wider: none (a dense comb, and half a full draw)
])
def test_log_axes_get_as_many_minor_ticks_as_their_span_calls_for(limits, minor, labelled):
    ax = plots.new_figure((5, 3), pyplot=False).add_subplot()
    ax.set_yscale("log")
    plots.plain_log_labels(ax)
    ax.set_ylim(*limits)
    ticks = [f"{value:g}" for value in ax.yaxis.get_minorticklocs()]
    assert (len(ticks) if isinstance(minor, int) else ticks) == minor
    labels = [text.get_text() for text in ax.yaxis.get_minorticklabels() if text.get_text()]
    assert (labels == ticks) if labelled else labels == []
