"""Playground, tested like a learner uses it: find controls by their bk-* class, set values,
click buttons, and look at the Trainer, the status line and the plotted data. No browser.

Run as a script to (re)draw the documentation images:
    .venv/bin/python tests/test_widget_playground.py docs/images
"""
import asyncio
import io
import re
import sys
import time

import numpy as np
import pytest

from backprop_kit.widgets import Playground, playground
from backprop_kit.widgets import find, find_all

CONTROL_CLASSES = {
    "dataset": "bk-dataset", "classes": "bk-classes", "n": "bk-n", "noise": "bk-noise",
    "test_fraction": "bk-test-fraction", "seed": "bk-seed", "layers": "bk-layers",
    "neurons": "bk-neurons", "activation": "bk-activation", "init": "bk-init",
    "scale": "bk-scale", "optimizer": "bk-optimizer", "lr": "bk-learning-rate",
    "batch_size": "bk-batch-size", "l2": "bk-l2", "clip": "bk-clip", "step_size": "bk-step-size",
    "log_loss": "bk-log-loss",
}


def control(panel, css_class):
    return find(panel, css_class)


def click(panel, css_class):
    find(panel, css_class).click()


def step_until_diverged(panel, clicks=40):
    for _ in range(clicks):
        click(panel, "bk-step")
        if panel.trainer.diverged:
            return
    raise AssertionError(f"no divergence after {panel.trainer.steps} steps")


# --- the contract: classes, controls, views ------------------------------------------------

def test_every_control_button_and_plot_carries_its_css_class():
    panel = Playground(seed=0)
    for name, css_class in CONTROL_CLASSES.items():
        assert find(panel, css_class) is panel.controls[name], css_class
    for css_class in ("bk-play", "bk-step", "bk-reset", "bk-as-code", "bk-status", "bk-code"):
        find(panel, css_class)
    for name in ("loss", "gradients", "boundary"):
        canvas = find(panel, f"bk-plot-{name}")
        assert canvas is panel.canvases[name] and canvas.figure is panel.figures[name]
        assert getattr(panel.views, name).ax.figure is panel.figures[name]
    assert find(panel, "bk-status") is panel.status
    assert panel.data is panel.trainer.data and panel.errors == []


def test_a_fresh_panel_is_built_from_its_arguments():
    panel = Playground(dataset="moons", n=200, noise=0.2, test_fraction=0.25, layers=3, neurons=5,
                       activation="relu", init="he", optimizer="adam", lr=0.01,
                       batch_size=8, l2=1e-3, clip=2.0, seed=4)
    trainer = panel.trainer
    assert trainer.net.sizes == (2, 5, 5, 5, 1)
    assert trainer.net.activations == ("relu", "relu", "relu", "sigmoid")
    assert (trainer.optimizer.name, trainer.lr, trainer.batch_size) == ("adam", 0.01, 8)
    assert (trainer.l2, trainer.clip, trainer.seed, trainer.loss) == (1e-3, 2.0, 4, "bce")
    assert len(panel.data.X_train) == 150 and panel.controls["batch_size"].max == 150
    assert panel.status.kind == "info" and "step 0" in panel.status.text


# --- Step ---------------------------------------------------------------------------------

def test_step_advances_the_step_count_and_the_loss_line_grows_by_exactly_the_steps_taken():
    panel = Playground(seed=0)
    control(panel, "bk-step-size").value = "10 steps"
    click(panel, "bk-step")
    assert panel.trainer.steps == 10
    assert len(panel.views.loss.step_line.get_ydata()) == 10
    np.testing.assert_array_equal(panel.views.loss.step_line.get_ydata(), panel.trainer.history.loss)
    panel.step(k_frames=3)                   # the same code path as the button, three times
    assert panel.trainer.steps == 40
    assert len(panel.views.loss.step_line.get_ydata()) == 40
    assert "step 40" in panel.status.text


def test_step_by_one_epoch_stops_at_the_end_of_the_epoch():
    panel = Playground(seed=0, step_size="1 step")
    click(panel, "bk-step")
    control(panel, "bk-step-size").value = "1 epoch"
    click(panel, "bk-step")                  # finishes the epoch begun by the single step
    assert panel.trainer.epoch == 1 and panel.trainer.steps == panel.trainer.steps_per_epoch
    click(panel, "bk-step")
    assert panel.trainer.epoch == 2
    assert len(panel.views.loss.test_line.get_ydata()) == 2       # one test point per epoch
    assert "epoch 2" in panel.status.text and "test loss" in panel.status.text


def test_the_gradient_plot_has_one_line_per_layer_and_follows_bk_layers():
    panel = Playground(seed=0, step_size="10 steps")
    assert len(panel.views.gradients.lines) == 3          # 2 hidden layers + output
    click(panel, "bk-step")
    for line, column in zip(panel.views.gradients.lines, panel.trainer.history.grad_norms.T):
        assert len(line.get_ydata()) == 10
    control(panel, "bk-layers").value = 5
    assert len(panel.views.gradients.lines) == 6 == panel.trainer.net.n_layers
    control(panel, "bk-layers").value = 0
    assert len(panel.views.gradients.lines) == 1 and panel.trainer.net.sizes == (2, 1)
    click(panel, "bk-step")
    assert len(panel.views.gradients.lines[0].get_ydata()) == 10 and panel.errors == []


# --- live changes and resets ---------------------------------------------------------------

def test_changing_the_learning_rate_mid_run_keeps_the_steps_and_the_history():
    panel = Playground(seed=0, step_size="10 steps")
    click(panel, "bk-step")
    trainer, history, losses = panel.trainer, panel.trainer.history, list(panel.trainer.history.loss)
    control(panel, "bk-learning-rate").value = 0.5
    assert panel.trainer is trainer and trainer.history is history
    assert trainer.lr == 0.5 and trainer.steps == 10 and history.loss == losses
    assert "learning rate 0.1 → 0.5 at step 10" in panel.status.text
    assert "progress kept" in panel.status.text
    click(panel, "bk-step")
    assert trainer.steps == 20 and len(panel.views.loss.step_line.get_ydata()) == 20


def test_batch_size_l2_and_clipping_apply_live_and_clipping_shows_its_threshold_and_share():
    panel = Playground(seed=0, step_size="10 steps")
    click(panel, "bk-step")
    trainer = panel.trainer
    control(panel, "bk-batch-size").value = 32
    control(panel, "bk-l2").value = 0.01
    control(panel, "bk-clip").value = 0.05
    assert panel.trainer is trainer and trainer.steps == 10
    assert (trainer.batch_size, trainer.l2, trainer.clip) == (32, 0.01, 0.05)
    gradients = panel.views.gradients
    assert gradients.clip == 0.05 and gradients.clip_line.get_visible()
    assert list(gradients.clip_line.get_ydata()) == [0.05, 0.05]
    click(panel, "bk-step")
    info = find(panel, "bk-training-info").value
    assert "pre-clip norm" in info and "clipped" in info
    share = np.mean(trainer.history.clipped)
    assert f"clipped {share:.0%} of steps" in info
    control(panel, "bk-clip").value = None
    assert trainer.clip is None and not gradients.clip_line.get_visible()
    control(panel, "bk-l2").value = None
    assert trainer.l2 == 0.0 and trainer.steps == 20 and panel.errors == []


def test_clip_and_l2_controls_are_a_checkbox_and_a_log_slider_with_one_value():
    panel = Playground(seed=0)
    clip = control(panel, "bk-clip")
    assert clip.value is None and clip.slider.disabled
    clip.checkbox.value = True                       # ticking it switches clipping on at the slider's value
    assert clip.value == clip.slider.value == panel.trainer.clip == 1.0
    clip.slider.value = 10.0
    assert panel.trainer.clip == 10.0
    clip.checkbox.value = False
    assert clip.value is None and panel.trainer.clip is None


def test_changing_the_layers_resets_the_network_and_says_so():
    panel = Playground(seed=0, step_size="10 steps")
    click(panel, "bk-step")
    old = panel.trainer
    control(panel, "bk-layers").value = 3
    assert panel.trainer is not old and panel.trainer.steps == 0
    assert panel.trainer.net.sizes == (2, 8, 8, 8, 1)
    assert "architecture changed (hidden layers 2 → 3): network reset" in panel.status.text
    assert len(panel.views.loss.step_line.get_ydata()) == 0


@pytest.mark.parametrize("css_class, value, says", [
    ("bk-neurons", 4, "architecture changed (neurons per layer 8 → 4)"),
    ("bk-activation", "relu", "architecture changed (activation tanh → relu)"),
    ("bk-init", "zeros", "architecture changed (init xavier → zeros)"),
    ("bk-optimizer", "adam", "optimizer changed (optimizer sgd → adam)"),
    ("bk-dataset", "xor", "data changed (dataset spiral → xor)"),
    ("bk-noise", 0.3, "data changed (noise 0.1 → 0.3)"),
    ("bk-test-fraction", 0.5, "data changed (test share 30% → 50%)"),
    ("bk-seed", 7, "data changed (seed 0 → 7)"),
])
def test_every_rebuilding_control_resets_and_names_the_change(css_class, value, says):
    panel = Playground(seed=0, step_size="10 steps")
    click(panel, "bk-step")
    control(panel, css_class).value = value
    assert panel.trainer.steps == 0
    assert says in panel.status.text and "network reset" in panel.status.text
    assert panel.status.kind == "info" and panel.errors == []


def test_the_batch_size_maximum_follows_the_training_set():
    panel = Playground(seed=0)
    control(panel, "bk-n").value = 100                     # 70 training points
    batch = control(panel, "bk-batch-size")
    assert batch.max == 70 == len(panel.data.X_train)
    batch.value = 70                                       # full batch: one step per epoch
    assert panel.trainer.batch_size == 70 and panel.trainer.steps_per_epoch == 1
    control(panel, "bk-test-fraction").value = 0.5         # 50 training points: the batch shrinks with them
    assert batch.max == 50 and batch.value == 50 and panel.trainer.batch_size == 50


def test_more_classes_give_a_softmax_output_and_only_where_the_dataset_has_them():
    panel = Playground(seed=0)
    classes = control(panel, "bk-classes")
    assert not classes.disabled
    classes.value = 3
    assert panel.trainer.net.sizes[-1] == 3 and panel.trainer.net.output == "softmax"
    assert panel.trainer.loss == "cross_entropy" and panel.data.task == "multiclass"
    control(panel, "bk-dataset").value = "moons"
    assert classes.disabled and panel.trainer.net.sizes[-1] == 1 and panel.trainer.loss == "bce"


def test_init_std_is_used_only_by_the_normal_init():
    panel = Playground(seed=0)
    scale = control(panel, "bk-scale")
    assert scale.disabled
    control(panel, "bk-init").value = "normal"
    assert not scale.disabled
    scale.value = 2.0
    assert "init std 0.1 → 2" in panel.status.text
    assert 1.0 < np.std(panel.trainer.net.weights[1]) < 3.0


def test_sine_shows_the_fitted_curve_with_a_linear_output_and_mse():
    panel = Playground(dataset="sine", seed=0, step_size="10 epochs")
    assert panel.data.task == "regression"
    assert panel.trainer.net.output == "linear" and panel.trainer.loss == "mse"
    boundary = panel.views.boundary
    assert boundary.curve is not None and boundary.image is None
    before = np.array(boundary.curve.get_ydata())
    click(panel, "bk-step")
    after = np.array(boundary.curve.get_ydata())
    assert np.all(np.isfinite(after)) and not np.array_equal(before, after)
    assert "accuracy" not in panel.status.text and "test loss" in panel.status.text


@pytest.mark.parametrize("dataset", ["xor", "circles", "moons", "gaussians", "spiral", "sine"])
def test_every_dataset_trains_and_is_drawn(dataset):
    panel = Playground(dataset=dataset, seed=0, step_size="10 steps")
    click(panel, "bk-step")
    assert panel.trainer.steps == 10 and panel.errors == []
    boundary = panel.views.boundary
    drawn = boundary.curve.get_ydata() if dataset == "sine" else boundary.image.get_array()
    assert np.all(np.isfinite(drawn))


def test_without_a_test_set_the_status_shows_the_training_numbers_only():
    panel = Playground(seed=0, test_fraction=0.0, step_size="1 epoch")
    click(panel, "bk-step")
    assert len(panel.data.X_test) == 0 and panel.errors == []
    assert "train loss" in panel.status.text and "test loss" not in panel.status.text


def test_figures_are_laid_out_on_their_first_draw_and_again_when_their_labels_change(monkeypatch):
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    laid_out = []
    execute = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute",
                        lambda self, fig: laid_out.append(fig) or execute(self, fig))
    panel = Playground(seed=0, step_size="10 steps")
    figure = panel.figures["gradients"]
    assert figure in laid_out
    assert not isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine)   # frozen after the first draw
    click(panel, "bk-step")
    laid_out.clear()
    panel._show()
    assert figure not in laid_out                        # nothing changed: no layout
    control(panel, "bk-layers").value = 4                 # a new legend: laid out again, at once
    assert figure in laid_out
    assert not isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine)


# --- divergence ------------------------------------------------------------------------------

def test_learning_rate_10_with_tanh_ends_in_a_divergence_warning_and_reset_recovers():
    panel = Playground(seed=0, activation="tanh")
    control(panel, "bk-learning-rate").value = 10.0
    step_until_diverged(panel)
    assert panel.status.kind == "warning" and panel.errors == []
    assert "diverged" in panel.status.text and "lower learning rate" in panel.status.text
    assert "Press Reset" in panel.status.text
    assert panel.loss_note.get_visible() and "diverged" in panel.loss_note.get_text()
    steps = panel.trainer.steps
    click(panel, "bk-step")                              # nothing more to train; still a warning
    assert panel.trainer.steps == steps and panel.status.kind == "warning"
    click(panel, "bk-reset")
    assert panel.trainer.diverged is None and panel.trainer.steps == 0
    assert panel.status.kind == "info" and "reset" in panel.status.text
    control(panel, "bk-learning-rate").value = 0.1
    click(panel, "bk-step")
    assert panel.trainer.steps > 0 and panel.trainer.diverged is None and panel.errors == []


def test_an_error_in_a_callback_goes_to_the_status_line_not_into_the_void():
    panel = Playground(seed=0)

    def broken(*args):
        raise RuntimeError("the network caught fire")

    panel.trainer.step = broken
    panel.trainer.run = broken
    click(panel, "bk-step")
    assert panel.status.kind == "error" and "the network caught fire" in panel.status.text
    assert len(panel.errors) == 1 and "RuntimeError" in panel.errors[0]
    click(panel, "bk-reset")                             # a fresh Trainer works again
    click(panel, "bk-step")
    assert panel.trainer.steps > 0 and panel.status.kind == "info"


# --- As code ---------------------------------------------------------------------------------

def run_code(code):
    namespace = {}
    exec(compile(code, "<as code>", "exec"), namespace)       # noqa: S102  (our own generated code)
    return namespace["trainer"]


def assert_same_run(panel, trainer):
    net = panel.trainer.net
    assert trainer.net.sizes == net.sizes and trainer.net.activations == net.activations
    for mine, theirs in zip(net.weights + net.biases, trainer.net.weights + trainer.net.biases):
        assert mine.tobytes() == theirs.tobytes()          # bit for bit
    assert trainer.history.loss == panel.trainer.history.loss
    assert (trainer.lr, trainer.batch_size, trainer.clip, trainer.l2) == (
        panel.trainer.lr, panel.trainer.batch_size, panel.trainer.clip, panel.trainer.l2)
    assert trainer.diverged == panel.trainer.diverged


def test_as_code_reproduces_a_run_with_live_changes_bit_for_bit(capsys):
    panel = Playground(seed=3, optimizer="momentum", step_size="100 steps")
    control(panel, "bk-learning-rate").value = 0.05         # before any step: part of the setup
    click(panel, "bk-step")
    control(panel, "bk-learning-rate").value = 0.2
    control(panel, "bk-batch-size").value = 7               # mid-epoch
    click(panel, "bk-step")
    control(panel, "bk-clip").value = 0.3
    control(panel, "bk-l2").value = 0.001
    control(panel, "bk-step-size").value = "1 epoch"
    click(panel, "bk-step")
    click(panel, "bk-as-code")
    code = find(panel, "bk-code")
    assert code.layout.display != "none" and code.value == panel.as_code()
    assert "trainer.lr = 0.2" in code.value and "trainer.batch_size = 7" in code.value
    assert "lr=0.05" in code.value and "trainer.clip = 0.3" in code.value
    assert_same_run(panel, run_code(code.value))
    click(panel, "bk-as-code")
    assert code.layout.display == "none"


def test_as_code_reproduces_multiclass_normal_init_adam_and_a_diverged_run():
    panel = Playground(dataset="gaussians", classes=4, init="normal", scale=0.5,
                       optimizer="adam", lr=0.01, batch_size=5, seed=2, step_size="10 steps")
    panel.step(3)
    assert_same_run(panel, run_code(panel.as_code()))
    diverging = Playground(seed=1, lr=10.0, clip=50.0)
    step_until_diverged(diverging)
    code = diverging.as_code()
    assert "diverged" in code
    assert_same_run(diverging, run_code(code))


# --- Play / Pause on the event loop ---------------------------------------------------------

def test_play_trains_on_the_event_loop_applies_changes_while_playing_and_pause_stops_it():
    panel = Playground(seed=0)
    play = find(panel, "bk-play")
    show, frame_shows = panel._show, []

    def timed(playing=False):           # when each Play frame's show began (it may leave the status as it was)
        if playing:
            frame_shows.append(time.monotonic())
        return show(playing=playing)

    panel._show = timed

    async def scenario():
        play.click()
        assert panel.playing and play.description == "Pause" and play.icon == "pause"
        await asyncio.sleep(0.3)
        trainer, steps, status = panel.trainer, panel.trainer.steps, panel.status.text
        # the status line follows: a frame leaves it as it was only if it was shown less than
        # STATUS_SECONDS before that frame's show began
        shown = int(re.search(r"step (\d+)", status).group(1))
        assert steps > 0 and 0 < shown <= steps
        assert shown == steps or frame_shows[-1] - panel.status.shown_at < playground.STATUS_SECONDS
        assert len(panel.views.loss.smoothed) == steps    # one point per step (a long line draws its envelope)
        control(panel, "bk-learning-rate").value = 0.3         # live, while playing
        assert panel.trainer is trainer and trainer.lr == 0.3
        await asyncio.sleep(0.15)
        assert trainer.steps > steps and panel.playing
        control(panel, "bk-neurons").value = 4                  # rebuilds, and keeps playing
        assert panel.trainer is not trainer and "network reset" in panel.status.text
        await asyncio.sleep(0.15)
        assert panel.trainer.steps > 0 and panel.playing
        play.click()                                            # pause
        assert not panel.playing and play.description == "Play"
        await asyncio.sleep(0.1)
        stopped = panel.trainer.steps
        await asyncio.sleep(0.15)
        assert panel.trainer.steps == stopped
        # a quick Pause -> Play: the old, sleeping task must not come back as a second player
        play.click()
        play.click()
        play.click()
        await asyncio.sleep(0.2)
        players = [task for task in asyncio.all_tasks()
                   if not task.done() and task.get_coro().__qualname__ == "PlayLoop._run"]
        assert len(players) == 1 and panel.playing
        play.click()
        await asyncio.sleep(0.1)

    asyncio.run(scenario())
    assert panel.errors == [] and not panel.playing
    assert panel.trainer.history.steps == len(panel.views.loss.smoothed)


def test_playing_stops_by_itself_when_the_run_diverges():
    panel = Playground(seed=0, lr=10.0)

    async def scenario():
        find(panel, "bk-play").click()
        for _ in range(100):
            await asyncio.sleep(0.02)
            if not panel.playing:
                break

    asyncio.run(scenario())
    assert panel.trainer.diverged and not panel.playing
    assert panel.status.kind == "warning" and find(panel, "bk-play").description == "Play"
    assert panel.errors == []


def test_play_without_a_running_event_loop_says_so():
    panel = Playground(seed=0)
    click(panel, "bk-play")
    assert not panel.playing and panel.status.kind == "warning"
    assert "event loop" in panel.status.text and panel.errors == []


# --- bad arguments ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, words", [
    (dict(dataset="spirals"), ValueError, ["dataset", "'spirals'", "'spiral'"]),
    (dict(dataset=3), TypeError, ["dataset", "3"]),
    (dict(n=10), ValueError, ["n must be", "20", "2000", "10"]),
    (dict(n=300.5), TypeError, ["n must be a whole number", "300.5"]),
    (dict(noise=-0.1), ValueError, ["noise", "-0.1"]),
    (dict(test_fraction=0.95), ValueError, ["test_fraction", "0.95"]),
    (dict(classes=3, dataset="xor"), ValueError, ["classes must be 2", "'xor'", "3"]),
    (dict(layers=7), ValueError, ["layers", "0 to 6", "7"]),
    (dict(neurons=0), ValueError, ["neurons", "1 to 32", "0"]),
    (dict(activation="rleu"), ValueError, ["activation", "'rleu'", "did you mean 'relu'"]),
    (dict(init="glorot"), ValueError, ["init", "'xavier'", "'glorot'"]),
    (dict(optimizer="rmsprop"), ValueError, ["optimizer", "'adam'", "'rmsprop'"]),
    (dict(lr=0), ValueError, ["lr", "0.0001", "10", "0"]),
    (dict(lr="fast"), TypeError, ["lr", "'fast'"]),
    (dict(batch_size=500), ValueError, ["batch_size", "1 to 210", "training-set size", "500"]),
    (dict(n=20), ValueError, ["batch_size", "1 to 14", "n=20", "16"]),
    (dict(l2=-1), ValueError, ["l2", "0 (off)", "-1"]),
    (dict(l2=1e-9), ValueError, ["l2", "0 (off)", "1e-09"]),
    (dict(clip=0), ValueError, ["clip", "None (off)", "0"]),
    (dict(seed=-1), ValueError, ["seed", "-1"]),
    (dict(seed=True), TypeError, ["seed", "True"]),
    (dict(step_size="1 week"), ValueError, ["step_size", "'1 epoch'", "'1 week'"]),
])
def test_bad_constructor_arguments_raise_naming_the_argument_value_and_accepted_values(kwargs, error, words):
    with pytest.raises(error) as raised:
        Playground(**kwargs)
    for word in words:
        assert word in str(raised.value), (word, str(raised.value))


def test_arguments_must_be_given_by_keyword():
    with pytest.raises(TypeError):
        Playground("spiral")


def test_controls_refuse_values_outside_their_range():
    panel = Playground(seed=0)
    with pytest.raises(Exception, match="clip norm must be None"):
        control(panel, "bk-clip").value = -1.0
    assert panel.trainer.clip is None


# --- pictures --------------------------------------------------------------------------------

def compose(panel, dpi=110):
    """The three figures as the panel lays them out (boundary | loss over gradients): an RGBA array."""
    import matplotlib.image as mpimg
    images = {}
    for name, figure in panel.figures.items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        buffer.seek(0)
        images[name] = mpimg.imread(buffer)

    def pad(image, height, width):
        out = np.ones((height, width, 4))
        out[:image.shape[0], :image.shape[1]] = image
        return out
    top = [images["boundary"], images["loss"]]
    height = max(image.shape[0] for image in top)
    row = np.concatenate([pad(image, height, image.shape[1]) for image in top], axis=1)
    width = max(row.shape[1], images["gradients"].shape[1])
    return np.concatenate([pad(row, height, width), pad(images["gradients"], images["gradients"].shape[0], width)])


def states():
    """(name, panel) for the documentation pictures: fresh, trained on the spiral, diverged, sine."""
    yield "fresh", Playground(seed=0)
    panel = Playground(seed=0, step_size="10 epochs")
    panel.step(k_frames=60)
    yield "spiral", panel
    panel = Playground(seed=0, lr=10.0)
    step_until_diverged(panel)
    yield "diverged", panel
    panel = Playground(dataset="sine", neurons=16, optimizer="adam", lr=0.01, clip=1.0,
                       seed=0, step_size="10 epochs")
    panel.step(k_frames=20)
    yield "sine", panel


def test_every_state_renders_to_png(tmp_path):
    import matplotlib.image as mpimg
    panel = Playground(seed=0, lr=10.0)
    step_until_diverged(panel)
    picture = compose(panel, dpi=40)
    mpimg.imsave(tmp_path / "diverged.png", picture)
    assert picture.shape[0] > 50 and (tmp_path / "diverged.png").stat().st_size > 1000


if __name__ == "__main__":            # draw docs/images/playground_*.png
    import pathlib

    import matplotlib.image as mpimg
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
    folder.mkdir(parents=True, exist_ok=True)
    for name, panel in states():
        mpimg.imsave(folder / f"playground_{name}.png", compose(panel))
        print(folder / f"playground_{name}.png", "·", panel.status.text[:100])
