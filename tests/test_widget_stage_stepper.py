"""StageStepper: the four stages one at a time, in order, showing exactly what the real stages return."""
import os
from pathlib import Path

import numpy as np
import pytest

import backprop_kit as bk
from backprop_kit.widgets import StageStepper
from backprop_kit.widgets import find

STAGES = ("forward", "loss", "gradient", "update")
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


@pytest.fixture(scope="module")
def fresh():
    """A factory for panels (the first build pays for the imports once per module)."""
    return lambda **kwargs: StageStepper(**kwargs)


def press(panel, stage):
    find(panel, f"bk-{stage}").click()


def shown(panel, key):
    """The numbers a table of the stage figure shows."""
    return panel.board.blocks[key].values


# --- the controls ----------------------------------------------------------------------

def test_every_control_and_figure_is_found_by_its_css_class(fresh):
    panel = fresh()
    for css_class in ("bk-forward", "bk-loss", "bk-gradient", "bk-update", "bk-step", "bk-reset",
                      "bk-gradcheck", "bk-learning-rate", "bk-activation", "bk-status",
                      "bk-plot-stage", "bk-plot-network"):
        assert find(panel, css_class) is not None
    assert find(panel, "bk-status") is panel.status
    assert find(panel, "bk-plot-stage") is panel.board.canvas and panel.board.canvas.figure is panel.stage_figure


def test_only_the_next_stage_button_is_enabled(fresh):
    panel = fresh()
    for expected_next in STAGES * 2:
        enabled = [stage for stage in STAGES if not find(panel, f"bk-{stage}").disabled]
        assert enabled == [expected_next] and panel.next_stage == expected_next
        press(panel, expected_next)


# --- the order --------------------------------------------------------------------------

@pytest.mark.parametrize("wrong", ["loss", "gradient", "update"])
def test_a_stage_pressed_out_of_order_changes_nothing_and_says_what_is_next(fresh, wrong):
    panel = fresh()
    net = panel.net
    press(panel, wrong)
    assert panel.net is net and panel.next_stage == "forward" and panel.batch_number == 0
    assert panel.trace is None and panel.losses == []
    assert panel.status.kind == "warning" and "next stage is Forward" in panel.status.text
    assert panel.errors == []


def test_the_stages_are_enforced_in_order_within_a_batch(fresh):
    panel = fresh()
    press(panel, "forward")
    press(panel, "update")          # too early: the gradient is not computed yet
    assert panel.next_stage == "loss" and panel.net_before is None
    assert "next stage is Loss" in panel.status.text
    press(panel, "forward")         # a second Forward would skip this batch's other stages
    assert panel.batch_number == 1
    for stage in ("loss", "gradient", "update"):
        press(panel, stage)
    assert panel.next_stage == "forward" and panel.batch_number == 1 and panel.errors == []


# --- each stage shows what the real stage returns -----------------------------------------

def test_forward_shows_the_trace_bk_forward_gives_for_the_batch(fresh):
    panel = fresh()
    net = panel.net
    press(panel, "forward")
    X = panel.data.X_train[panel.batch]
    assert len(panel.batch) == 4 and np.array_equal(panel.X, X)
    expected = bk.forward(net, X)
    for i in range(net.n_layers):
        assert np.array_equal(panel.trace.pre[i], expected.pre[i])
        assert np.array_equal(panel.trace.post[i], expected.post[i])
        assert np.array_equal(shown(panel, f"z{i + 1}"), expected.pre[i])
        assert np.array_equal(shown(panel, f"a{i + 1}"), expected.post[i])
    assert np.array_equal(shown(panel, "X"), X)
    labels = [text.get_text() for text in panel.board.blocks["X"].row_texts]
    assert labels == [f"#{i}" for i in panel.batch]
    # the later stages of this batch are not shown yet
    assert np.isnan(shown(panel, "output")).all() and np.isnan(shown(panel, "dW1")).all()


def test_loss_shows_bk_loss_and_per_sample_losses_whose_mean_is_the_loss(fresh):
    panel = fresh()
    press(panel, "forward")
    press(panel, "loss")
    expected = bk.loss(panel.trace.output, panel.y, "bce")
    assert panel.loss == "bce" and panel.loss_value == expected and panel.losses == [expected]
    assert np.isclose(panel.sample_losses.mean(), expected)
    assert np.array_equal(shown(panel, "sample_loss").ravel(), panel.sample_losses)
    assert np.array_equal(panel.board.blocks["bars"].values, panel.sample_losses)
    assert np.array_equal(shown(panel, "output"), panel.trace.output)
    assert np.array_equal(shown(panel, "target").ravel(), panel.y)
    assert f"{expected:.4f}" in panel.status.text and "Next: Gradient" in panel.status.text


def test_gradient_shows_the_deltas_and_weight_gradients_of_bk_gradient(fresh):
    panel = fresh()
    for stage in ("forward", "loss", "gradient"):
        press(panel, stage)
    expected = bk.gradient(panel.net, bk.forward(panel.net, panel.X), panel.y, "bce")
    for i in range(panel.net.n_layers):
        assert np.array_equal(panel.grads.weights[i], expected.weights[i])
        assert np.array_equal(shown(panel, f"delta{i + 1}"), expected.deltas[i])
        assert np.array_equal(shown(panel, f"dW{i + 1}"), np.vstack([expected.weights[i], expected.biases[i]]))


def test_update_gives_bk_update_of_the_old_network_with_the_chosen_learning_rate(fresh):
    panel = fresh()
    for stage in ("forward", "loss", "gradient"):
        press(panel, stage)
    old = panel.net
    find(panel, "bk-learning-rate").value = 0.3      # applies to this batch's Update
    press(panel, "update")
    grads = bk.gradient(old, bk.forward(old, panel.X), panel.y, "bce")
    assert panel.net == bk.update(old, grads, 0.3)
    assert panel.net_before is old and panel.update_lr == pytest.approx(0.3)
    for i in range(old.n_layers):
        before = np.vstack([old.weights[i], old.biases[i]])
        after = np.vstack([panel.net.weights[i], panel.net.biases[i]])
        change = -0.3 * np.vstack([grads.weights[i], grads.biases[i]])
        assert np.array_equal(shown(panel, f"before{i + 1}"), before)
        assert np.array_equal(shown(panel, f"after{i + 1}"), after)
        assert np.allclose(shown(panel, f"change{i + 1}"), change, rtol=1e-9, atol=1e-15)
    assert "Forward on batch 2" in panel.status.text


def test_step_finishes_the_batch_then_runs_whole_batches_through_every_sample(fresh):
    panel = fresh()
    press(panel, "forward")
    find(panel, "bk-step").click()                    # the three stages left of batch 1
    assert panel.batch_number == 1 and panel.next_stage == "forward" and len(panel.losses) == 1
    seen = list(panel.batch)
    for _ in range(9):                                 # 40 points in batches of 4: one epoch
        find(panel, "bk-step").click()
        seen += list(panel.batch)
    assert sorted(seen) == list(range(40))
    assert panel.batch_number == 10 and len(panel.losses) == 10 and panel.errors == []
    assert np.array_equal(panel.loss_line.get_ydata(), panel.losses)


def test_the_same_seed_gives_the_same_batches_and_numbers(fresh):
    first, second = fresh(seed=3), fresh(seed=3)
    for panel in (first, second):
        for _ in range(3):
            find(panel, "bk-step").click()
    assert np.array_equal(first.batch, second.batch) and first.net == second.net
    assert first.losses == second.losses


def test_learning_on_xor_lowers_the_loss_over_epochs(fresh):
    panel = fresh(lr=1.0)
    for _ in range(100):
        panel.step()
    assert np.mean(panel.losses[-10:]) < np.mean(panel.losses[:10]) - 0.1


# --- gradient check ------------------------------------------------------------------------

def test_gradient_check_shows_per_layer_errors_below_1e_7_with_a_verdict(fresh):
    panel = fresh()
    find(panel, "bk-gradcheck").click()               # before any batch: on batch 1
    assert len(panel.gradcheck_errors) == panel.net.n_layers
    assert max(panel.gradcheck_errors) < 1e-7
    result = find(panel, "bk-gradcheck-result").value
    assert "batch 1" in result and result.count("agrees") == panel.net.n_layers
    assert panel.batch_number == 0 and panel.next_stage == "forward"   # checking consumed no batch
    for stage in ("forward", "loss"):
        press(panel, stage)
    find(panel, "bk-gradcheck").click()
    assert panel.gradcheck_errors == bk.gradcheck(panel.net, panel.X, panel.y, "bce")
    assert "largest relative error" in panel.status.text and panel.next_stage == "gradient"


@pytest.mark.parametrize("error, words", [(3e-8, "agrees"), (2e-6, "close"), (5e-3, "suspicious"),
                                          (0.05, "likely a bug")])
def test_gradient_check_verdicts_use_lesson_04s_bands(error, words):
    # lesson 04: < 1e-7 agrees, 1e-7..1e-4 close, 1e-4..1e-2 suspicious, >= 1e-2 likely a bug
    from backprop_kit.widgets.stage_stepper import _gradcheck_table
    table = _gradcheck_table([error], "batch 1")
    assert words in table
    others = {"agrees", "close", "suspicious", "likely a bug"} - {words}
    assert not any(other in table for other in others)


def test_gradient_check_on_regression_and_two_hidden_layers(fresh):
    panel = fresh(dataset="sine", layers=2, neurons=3, activation="sigmoid")
    panel.step()
    errors = panel.check_gradient()
    assert panel.loss == "mse" and len(errors) == 3 and max(errors) < 1e-6


# --- controls rebuild or apply live -----------------------------------------------------------

def test_changing_the_activation_rebuilds_the_network_and_starts_again(fresh):
    panel = fresh()
    for _ in range(3):
        panel.step()
    find(panel, "bk-activation").value = "relu"
    assert panel.net.activations == ("relu", "sigmoid")
    assert panel.net == bk.Network([2, 3, 1], activation="relu", output="sigmoid", seed=0)
    assert panel.batch_number == 0 and panel.next_stage == "forward" and panel.losses == []
    assert "relu" in panel.status.text and "batch 1" in panel.status.text
    assert panel.board.blocks["a1"].title.get_text() == r"$a_1 = \mathrm{relu}(z_1)$"
    assert np.isnan(shown(panel, "z1")).all()        # the old batch's tables are emptied
    panel.step()
    assert np.array_equal(panel.trace.pre[0], bk.forward(panel.net_before, panel.X).pre[0])


def test_reset_starts_again_from_the_same_network_and_batches(fresh):
    panel = fresh()
    panel.step()
    first_batch, first_net = panel.batch.copy(), panel.net_before
    for _ in range(4):
        panel.step()
    find(panel, "bk-reset").click()
    assert panel.batch_number == 0 and panel.net == first_net and panel.status.text.startswith("Reset")
    panel.step()
    assert np.array_equal(panel.batch, first_batch)


def test_the_status_says_which_stage_is_next_and_the_batch_and_loss(fresh):
    panel = fresh()
    assert "Next: Forward on batch 1" in panel.status.text
    press(panel, "forward")
    assert "Batch 1" in panel.status.text and "Next: Loss" in panel.status.text
    press(panel, "loss")
    assert f"loss {panel.loss_value:.4f}" in panel.status.text and "Next: Gradient" in panel.status.text
    press(panel, "gradient")
    press(panel, "update")
    assert "Next: Forward on batch 2" in panel.status.text
    find(panel, "bk-learning-rate").value = 0.1
    assert "Learning rate 0.1" in panel.status.text


# --- robustness ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, words", [
    (dict(dataset="xr"), ["dataset", "'xr'", "'xor'"]),
    (dict(dataset=3), ["dataset", "3"]),
    (dict(neurons=9), ["neurons", "1 to 4", "9"]),
    (dict(layers=3), ["layers", "1 to 2", "3"]),
    (dict(layers=0), ["layers", "1 to 2", "0"]),
    (dict(neurons=0), ["neurons", "0"]),
    (dict(neurons="3"), ["neurons", "'3'"]),
    (dict(activation="rleu"), ["activation", "'rleu'", "did you mean 'relu'"]),
    (dict(lr=0), ["lr", "0"]),
    (dict(lr=100.0), ["lr", "100.0", "10"]),
    (dict(lr="fast"), ["lr", "'fast'"]),
    (dict(batch_size=0), ["batch_size", "0", "1 to 8"]),
    (dict(batch_size=9), ["batch_size", "9", "1 to 8"]),
    (dict(batch_size=2.5), ["batch_size", "2.5"]),
    (dict(init="glorot"), ["init", "'glorot'", "'xavier'"]),
    (dict(seed=-1), ["seed", "-1"]),
])
def test_bad_arguments_raise_an_error_naming_argument_value_and_what_is_accepted(kwargs, words):
    with pytest.raises((ValueError, TypeError)) as error:
        StageStepper(**kwargs)
    for word in words:
        assert word in str(error.value)


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        StageStepper("xor")


def test_a_diverging_network_ends_in_a_status_message_and_reset_recovers(fresh):
    panel = fresh(dataset="sine", activation="linear", lr=10, seed=1)   # seed 1: the outputs overflow first
    for _ in range(60):
        find(panel, "bk-step").click()                 # never raises: the error goes to the status
        if panel.errors:
            break
    assert panel.status.kind == "error" and "Reset" in panel.status.text
    assert "inf or NaN" in panel.status.text
    assert panel.next_stage == "loss"                  # the failed stage left everything as it was
    find(panel, "bk-reset").click()
    assert panel.status.kind == "info" and np.all(np.isfinite(panel.net.weights[0]))
    find(panel, "bk-step").click()
    assert len(panel.losses) == 1 and np.isfinite(panel.losses[0])


def test_an_error_inside_a_stage_goes_to_the_status_not_into_the_void(fresh, monkeypatch):
    panel = fresh()

    def broken(net, X):
        raise RuntimeError("forward broke")

    monkeypatch.setattr(bk, "forward", broken)
    press(panel, "forward")                            # must not raise
    assert panel.status.kind == "error" and "forward broke" in panel.status.text
    assert len(panel.errors) == 1 and "RuntimeError" in panel.errors[0]
    assert panel.batch_number == 0 and panel.next_stage == "forward"
    monkeypatch.undo()
    press(panel, "forward")
    assert panel.batch_number == 1 and panel.next_stage == "loss"


def test_random_presses_and_control_changes_never_raise(fresh):
    panel = fresh()
    rng = np.random.default_rng(0)
    controls = ["bk-forward", "bk-loss", "bk-gradient", "bk-update", "bk-step", "bk-reset", "bk-gradcheck"]
    for _ in range(120):
        pick = rng.integers(len(controls) + 2)
        if pick < len(controls):
            find(panel, controls[pick]).click()
        elif pick == len(controls):
            find(panel, "bk-learning-rate").value = float(10 ** rng.uniform(-4, 1))
        else:
            find(panel, "bk-activation").value = str(rng.choice(bk.activations.HIDDEN))
    assert panel.errors == [] and panel.status.kind in ("info", "warning")


# --- pictures -----------------------------------------------------------------------------------

def test_the_figures_render_in_each_state(fresh, tmp_path):
    """Draw the figures after the stages (small and quick; BK_WRITE_DOCS_IMAGES=1 writes the
    full-size pictures of docs/images instead)."""
    write_docs = bool(os.environ.get("BK_WRITE_DOCS_IMAGES"))
    out, dpi = (DOCS_IMAGES, 110) if write_docs else (tmp_path, 30)
    out.mkdir(parents=True, exist_ok=True)
    panel = fresh()
    for _ in range(5):
        panel.step()
    press(panel, "forward")
    press(panel, "loss")
    panel.stage_figure.savefig(out / "stage_stepper_loss.png", dpi=dpi)
    press(panel, "gradient")
    press(panel, "update")
    panel.stage_figure.savefig(out / "stage_stepper.png", dpi=dpi)
    panel.network_figure.savefig(out / "stage_stepper_network.png", dpi=dpi)
    names = ["stage_stepper_loss.png", "stage_stepper.png", "stage_stepper_network.png"]
    if write_docs:
        two_layers = fresh(layers=2, neurons=3, activation="relu", batch_size=3)
        for _ in range(3):
            two_layers.step()
        two_layers.stage_figure.savefig(out / "stage_stepper_two_hidden_layers.png", dpi=90)
        names.append("stage_stepper_two_hidden_layers.png")
    for name in names:
        assert (out / name).stat().st_size > 2_000
