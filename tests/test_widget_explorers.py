"""The three lesson panels: learning rates side by side, batch sizes side by side, gradient flow.

Controls are found by their bk-* CSS class, set through ``.value`` and clicked with ``.click()``,
as the browser would; the assertions read the Trainers and the plotted data.
"""
import asyncio
import math

import numpy as np
import pytest

from backprop_kit.widgets import BatchSizeExplorer, GradientFlowExplorer, LearningRateExplorer
from backprop_kit.widgets import find
from backprop_kit.widgets.learning_rate import judge


def click(panel, css_class, times=1):
    for _ in range(times):
        find(panel, css_class).click()


def parameter_distance(a, b) -> float:
    """The L2 distance between two networks' weights and biases taken together."""
    return math.sqrt(sum(float(np.sum((x - y) ** 2)) for x, y in
                         zip(a.weights + a.biases, b.weights + b.biases)))


@pytest.fixture(scope="module")
def trained_rates():
    """The default learning-rate panel after its 50 epochs (Step clicked 50 times)."""
    panel = LearningRateExplorer()
    click(panel, "bk-step", 50)
    return panel


# --- LearningRateExplorer ----------------------------------------------------------------------

def test_learning_rate_explorer_draws_one_line_per_rate_on_one_log_plot():
    panel = LearningRateExplorer()
    assert find(panel, "bk-plot-loss") is panel.canvas
    assert panel.lrs == (0.001, 0.1, 3.0, 10.0)
    assert len(panel.lines) == len(panel.trainers) == 4
    assert all(line.axes is panel.ax for line in panel.lines)
    assert panel.ax.get_yscale() == "log"
    assert [t.lr for t in panel.trainers] == list(panel.lrs)


def test_every_rate_starts_from_the_same_weights_and_sees_the_same_first_batch():
    panel = LearningRateExplorer()
    assert all(trainer.net is panel.initial_net for trainer in panel.trainers)
    click(panel, "bk-step")
    first_losses = {trainer.history.loss[0] for trainer in panel.trainers}
    assert len(first_losses) == 1          # same weights, same mini-batch: the same first loss
    starts = {line.get_ydata()[0] for line in panel.lines}
    assert len(starts) == 1


def test_a_rate_of_10_is_labelled_diverged_and_the_good_rate_is_not(trained_rates):
    panel = trained_rates
    verdicts = dict(zip(panel.lrs, panel.verdicts))
    wild = panel.trainers[panel.lrs.index(10.0)]
    assert wild.diverged is not None
    assert verdicts[10.0].text == f"diverged at step {wild.steps}"
    assert verdicts[0.1].kind == "good"
    assert verdicts[0.001].text == "too small: slow"
    assert verdicts[3.0].text == "too large: oscillates"
    legend = [text.get_text() for text in panel._legend.get_texts()]
    assert legend[-1] == f"10: diverged at step {wild.steps}" and legend[1] == "0.1: good"
    # the divergence is shown in the status, not raised
    assert panel.status.kind == "warning" and "Training diverged at step" in panel.status.text
    assert panel.errors == []


def test_each_line_is_the_training_loss_before_training_and_after_each_epoch(trained_rates):
    panel = trained_rates
    for run in panel.runs:
        history = run.trainer.history
        if run.trainer.diverged:
            continue
        assert history.epochs == list(range(1, 51))
        np.testing.assert_array_equal(run.line.get_ydata(), [run.initial_loss, *history.train_loss])
        np.testing.assert_array_equal(run.line.get_xdata(), np.arange(51))
    assert "<table" in find(panel, "bk-table").value and "diverged at step" in panel.table.value


def test_judge_names_slow_good_oscillating_and_diverged_runs():
    smooth = np.geomspace(0.7, 0.3, 20)
    slow = np.linspace(0.7, 0.6, 20)
    bumpy = smooth * np.where(np.arange(20) % 2, 1.4, 1.0)
    verdicts = judge([slow, smooth, bumpy, smooth[:3]], [0.001, 0.1, 1.0, 10.0], [None, None, None, 7])
    assert [v.kind for v in verdicts] == ["slow", "good", "oscillates", "diverged"]
    assert verdicts[3].text == "diverged at step 7"
    assert judge([[0.7]], [0.1], [None])[0].text == "not trained yet"


def test_a_bouncing_run_that_dips_lowest_does_not_make_the_steady_runs_slow():
    steady = np.geomspace(0.7, 0.3, 20)
    bouncing = np.geomspace(0.7, 0.05, 20) * np.where(np.arange(20) % 2, 3.0, 1.0)   # touches 0.05
    verdicts = judge([steady, bouncing], [0.1, 3.0], [None, None])
    assert [v.kind for v in verdicts] == ["good", "oscillates"]
    # measured against the bouncing run's lowest loss, the steady run would have made ~62%: "slow"
    assert (steady[0] - steady[-1]) / (steady[0] - bouncing.min()) < 0.9


def test_your_rate_adds_a_run_from_the_same_start_and_keeps_the_others():
    panel = LearningRateExplorer(lrs=(0.01, 0.1), epochs=5)
    click(panel, "bk-step", 2)
    before = list(panel.trainers)
    find(panel, "bk-learning-rate").value = 0.5
    assert panel.lrs == (0.01, 0.1, 0.5) and len(panel.lines) == 3
    assert panel.trainers[:2] == before and before[0].steps == 2 * before[0].steps_per_epoch
    yours = panel.trainers[2]
    assert yours.net is panel.initial_net and yours.steps == 0
    click(panel, "bk-step")                      # the run that is behind catches up first
    assert yours.steps == yours.steps_per_epoch and before[0].steps == 2 * before[0].steps_per_epoch


def test_in_a_kernel_your_new_run_catches_up_with_the_others_by_itself():
    panel = LearningRateExplorer(lrs=(0.03, 0.3), epochs=20)
    click(panel, "bk-step", 3)

    async def scenario():
        find(panel, "bk-learning-rate").value = 0.1
        assert panel.loop.playing                 # catching up in the background
        for _ in range(200):
            await asyncio.sleep(0.02)
            if not panel.loop.playing:
                break

    asyncio.run(scenario())
    assert [t.epoch for t in panel.trainers] == [3, 3, 3]     # level, and no further


def test_the_rates_field_sets_the_rates_and_a_bad_entry_is_reported_not_raised():
    panel = LearningRateExplorer()
    field = find(panel, "bk-learning-rates")
    field.value = "1, 0.01"
    assert panel.lrs == (0.01, 1.0) and len(panel.lines) == 2
    field.value = "0.1, fast"
    assert panel.status.kind == "error" and "learning rates must be numbers" in panel.status.text
    field.value = "0, 1"
    assert "learning rates[0] must be a learning rate > 0" in panel.status.text
    assert panel.lrs == (0.01, 1.0)


def test_a_new_dataset_starts_every_rate_again():
    panel = LearningRateExplorer(epochs=3)
    click(panel, "bk-step")
    find(panel, "bk-dataset").value = "xor"
    assert panel.data.name == "xor"
    assert all(t.steps == 0 and t.data is panel.data for t in panel.trainers)
    click(panel, "bk-reset")
    assert all(t.steps == 0 for t in panel.trainers)


# --- BatchSizeExplorer ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained_sizes():
    panel = BatchSizeExplorer(epochs=5)
    click(panel, "bk-step", 5)
    return panel


def test_steps_per_epoch_are_the_training_set_size_over_the_batch_size_rounded_up(trained_sizes):
    panel = trained_sizes
    n_train = len(panel.data.X_train)
    assert panel.batch_sizes == (1, 8, 32, n_train)
    for run in panel.runs:
        assert run.trainer.steps_per_epoch == math.ceil(n_train / run.batch_size)
        assert run.trainer.steps == 5 * math.ceil(n_train / run.batch_size)
        assert run.trainer.epoch == 5
        assert f"<td>{math.ceil(n_train / run.batch_size)}</td>" in panel.table.value


def test_one_example_per_batch_is_much_noisier_than_the_full_batch(trained_sizes):
    one, *_, full = trained_sizes.runs
    assert one.batch_size == 1 and full.full
    assert one.noise > 10 * full.noise
    assert all(run.seconds_per_epoch > 0 for run in trained_sizes.runs)


def test_both_plots_show_every_batch_size(trained_sizes):
    panel = trained_sizes
    assert find(panel, "bk-plot-loss") is panel.canvas
    for run in panel.runs:
        history = run.trainer.history
        np.testing.assert_array_equal(run.step_line.get_ydata(), history.loss)
        np.testing.assert_array_equal(run.epoch_line.get_ydata(), [run.initial_loss, *history.train_loss])
    legend = [t.get_text() for t in panel.epoch_ax.get_legend().get_texts()]
    assert [text.split(":")[0] for text in legend] == ["1", "8", "32", "full (150)"]
    assert legend[0].startswith("1: 150 steps, ") and legend[-1].startswith("full (150): 1 step, ")


def test_your_batch_size_and_the_learning_rate_change_the_runs():
    panel = BatchSizeExplorer(batch_sizes=(10, "full"), epochs=2)
    find(panel, "bk-batch-size").value = 50
    assert panel.batch_sizes == (10, 150, 50)
    assert panel.runs[-1].trainer.net is panel.initial_net
    click(panel, "bk-step")
    find(panel, "bk-learning-rate").value = 1.0
    assert all(t.steps == 0 and t.lr == 1.0 for t in panel.trainers)
    find(panel, "bk-batch-sizes").value = "0, full"
    assert panel.status.kind == "error" and "batch sizes[0] must be" in panel.status.text


# --- GradientFlowExplorer ---------------------------------------------------------------------------

def test_deep_sigmoid_gradients_vanish_toward_the_input():
    panel = GradientFlowExplorer(layers=8, activation="sigmoid", init="xavier")
    assert find(panel, "bk-plot-gradients") is panel.canvas
    assert len(panel.bars) == 9 and len(panel.gradient_view.lines) == 9
    np.testing.assert_allclose([bar.get_height() for bar in panel.bars], panel.start_norms)
    assert panel.ratio < 1 / 100
    assert "layer 1 gets 1/" in panel.ratio_text and "vanishing" in panel.ratio_text
    assert panel.ratio_text in find(panel, "bk-gradient-ratio").value


def test_relu_with_he_init_keeps_every_layer_within_10x():
    panel = GradientFlowExplorer()
    find(panel, "bk-activation").value = "relu"
    find(panel, "bk-init").value = "he"
    assert panel.initial_net.activations[:-1] == ("relu",) * 8
    assert 0.1 <= panel.ratio <= 10
    find(panel, "bk-layers").value = 12
    assert len(panel.bars) == len(panel.gradient_view.lines) == 13


def test_an_exploding_init_with_clipping_steps_exactly_at_the_clip():
    panel = GradientFlowExplorer(activation="relu")
    find(panel, "bk-init").value = "normal"
    assert not find(panel, "bk-scale").disabled
    find(panel, "bk-scale").value = 3.0
    find(panel, "bk-clip").value = 1.0
    assert panel.start_norms.max() > 1e3 and "exploding" in panel.ratio_text
    before = panel.trainer.net
    panel.trainer.step(1)
    history = panel.trainer.history
    assert history.global_norms[0] > 1e3 and history.clipped == [True]
    # SGD moves the weights by lr x the applied gradient norm: the clip, not the raw norm
    assert parameter_distance(before, panel.trainer.net) == pytest.approx(0.1 * 1.0, rel=1e-6)
    click(panel, "bk-step")
    assert panel.trainer.diverged is None and all(history.clipped)
    assert "before clipping" in panel.norm_label.value and "1 applied" in panel.norm_label.value


def test_an_exploding_init_without_clipping_diverges_into_the_status_and_reset_recovers():
    panel = GradientFlowExplorer(activation="relu", init="normal", scale=3.0)
    click(panel, "bk-step")
    assert panel.trainer.diverged is not None
    assert panel.status.kind == "warning" and "Training diverged" in panel.status.text
    assert panel.errors == []
    click(panel, "bk-reset")
    assert panel.trainer.diverged is None and panel.trainer.steps == 0
    find(panel, "bk-clip").value = 1.0
    click(panel, "bk-step")
    assert panel.trainer.diverged is None and panel.trainer.steps == 10


def test_the_learning_rate_and_clip_apply_to_the_running_trainer():
    panel = GradientFlowExplorer(layers=3)
    click(panel, "bk-step")
    trainer = panel.trainer
    find(panel, "bk-learning-rate").value = 0.01
    find(panel, "bk-clip").value = 0.5
    assert panel.trainer is trainer and trainer.lr == 0.01 and trainer.clip == 0.5
    assert panel.gradient_view.clip == 0.5 and trainer.steps == 10
    assert find(panel, "bk-scale").disabled      # scale is for init 'normal' only


# --- all three: play, errors, bad arguments ------------------------------------------------------------

def progress(panel) -> int:
    trainers = panel.trainers if hasattr(panel, "trainers") else [panel.trainer]
    return sum(t.steps for t in trainers)


@pytest.mark.parametrize("make", [lambda: LearningRateExplorer(epochs=200),
                                  lambda: BatchSizeExplorer(epochs=200),
                                  lambda: GradientFlowExplorer()],
                         ids=["learning_rate", "batch_size", "gradient_flow"])
def test_play_trains_in_the_background_until_paused(make):
    panel = make()
    play = find(panel, "bk-play")

    async def scenario():
        play.click()
        assert panel.loop.playing and play.description == "Pause"
        await asyncio.sleep(0.3)
        during = progress(panel)
        play.click()
        await asyncio.sleep(0.1)
        return during

    async def paused():
        settled = progress(panel)
        await asyncio.sleep(0.1)
        return settled

    during = asyncio.run(scenario())
    assert during > 0
    assert not panel.loop.playing and play.description == "Play"
    assert asyncio.run(paused()) == progress(panel)      # paused: no more steps
    assert panel.errors == []


def test_play_stops_by_itself_when_the_epochs_are_done():
    panel = LearningRateExplorer(lrs=(0.03, 0.3), epochs=3)

    async def scenario():
        find(panel, "bk-play").click()
        for _ in range(100):
            await asyncio.sleep(0.02)
            if not panel.loop.playing:
                break

    asyncio.run(scenario())
    assert [t.epoch for t in panel.trainers] == [3, 3]
    assert find(panel, "bk-play").description == "Play"


def test_pause_and_play_at_once_keep_a_single_task():
    panel = GradientFlowExplorer(layers=2)
    play = find(panel, "bk-play")

    async def scenario():
        play.click()
        first = panel.loop.task
        await asyncio.sleep(0.05)
        play.click()
        play.click()                 # before the task wakes up to see the pause
        assert panel.loop.task is first and panel.loop.playing
        await asyncio.sleep(0.05)
        play.click()
        await asyncio.sleep(0.1)

    asyncio.run(scenario())
    assert not panel.loop.playing


@pytest.mark.parametrize("make", [LearningRateExplorer, BatchSizeExplorer, GradientFlowExplorer])
def test_play_without_an_event_loop_says_so_and_a_failing_callback_lands_in_the_status(make, monkeypatch):
    panel = make()
    find(panel, "bk-play").click()
    assert panel.status.kind == "warning" and "Step" in panel.status.text
    target = panel.trainers[0] if hasattr(panel, "trainers") else panel.trainer

    def broken(k=1):
        raise RuntimeError("a bug in a callback")

    monkeypatch.setattr(target, "step", broken)
    find(panel, "bk-step").click()
    assert panel.status.kind == "error" and "a bug in a callback" in panel.status.text
    assert len(panel.errors) == 1 and "RuntimeError" in panel.errors[0]


def test_clipping_off_is_a_visible_choice_of_the_clip_control():
    panel = GradientFlowExplorer(clip=1.0)
    clip = find(panel, "bk-clip")
    clip.value = None
    assert clip.label == "off" and clip.index == 0 and panel.trainer.clip is None
    assert panel.gradient_view.clip is None


def test_a_custom_clip_value_joins_the_clip_choices():
    panel = GradientFlowExplorer(clip=2.5)
    assert find(panel, "bk-clip").value == 2.5 and panel.trainer.clip == 2.5
