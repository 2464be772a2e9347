"""The StageStepper panel in JupyterLab (fixtures/stage_stepper.ipynb: `StageStepper()`: xor,
a [2, 3, 1] tanh network, batches of 4): Forward, Loss, Gradient, Update in order, each
filling in its part of the stage figure, the status saying which stage is next.
"""
from browser_helpers import (
    error_outputs,
    open_and_run,
    screenshot,
    scroll_into_view,
    wait_canvas_changed,
    wait_canvas_drawn,
    wait_for_css,
    wait_text_matches,
    wait_until,
)

NB = "stage_stepper.ipynb"
CLASSES = ["bk-forward", "bk-loss", "bk-gradient", "bk-update", "bk-step", "bk-reset", "bk-gradcheck",
           "bk-activation", "bk-learning-rate", "bk-status", "bk-plot-stage", "bk-plot-network"]
# (button, what the status says next, and whether the loss-per-batch plot above moves too)
STAGES = [
    ("forward", r"Batch 1: forward pass done\. Next: Loss \(batch 1\)\.", False),
    ("loss", r"Batch 1: loss \d\.\d{4}\. Next: Gradient \(batch 1\)\.", True),
    ("gradient", r"Batch 1: loss \d\.\d{4}\. Next: Update \(batch 1\)\.", False),
    ("update", r"Batch 1: loss \d\.\d{4}\. Weights updated \(learning rate 0\.5\)\. Next: Forward on batch 2\.", True),
]


def enabled_stage_buttons(page) -> list[str]:
    return [stage for stage, *_ in STAGES if page.locator(f"button.bk-{stage}").is_enabled()]


def test_stage_stepper_forward_loss_gradient_update_in_order(lab, page):
    cells = open_and_run(lab, page, NB)
    assert [c["errors"] for c in cells if c["errors"]] == []
    wait_for_css(page, ".bk-stage-stepper", "button.bk-forward", ".bk-status")
    missing = [cls for cls in CLASSES if page.locator(f".bk-stage-stepper .{cls}").count() == 0]
    assert missing == [], f"bk-* classes missing from the rendered StageStepper: {missing}"
    scroll_into_view(page, ".bk-stage-stepper")
    status = page.locator(".bk-stage-stepper .bk-status")
    wait_text_matches(status, r"^Next: Forward on batch 1\. Or Step to run all four stages at once\.")
    assert enabled_stage_buttons(page) == ["forward"]
    assert error_outputs(page) == []

    for k, (stage, says, network_moves) in enumerate(STAGES):
        board = wait_canvas_drawn(page, ".bk-plot-stage")
        network = wait_canvas_drawn(page, ".bk-plot-network")
        page.locator(f"button.bk-{stage}").click()
        wait_text_matches(status, says)
        wait_canvas_changed(page, ".bk-plot-stage", board)        # the stage's tables are filled in
        if network_moves:                                          # loss per batch; the new weights
            wait_canvas_changed(page, ".bk-plot-network", network)
        following = STAGES[(k + 1) % len(STAGES)][0]
        wait_until(lambda: enabled_stage_buttons(page) == [following],
                   message=f"only {following} enabled after {stage}")
        if stage == "gradient":
            screenshot(page, "stage-stepper-lab")
    screenshot(page, "stage-stepper-lab-panel", css=".bk-stage-stepper")

    # after Update only Forward is enabled: a stage out of order cannot be pressed
    assert page.locator("button.bk-loss").is_disabled()

    # Step runs all four stages of batch 2 at once
    board = wait_canvas_drawn(page, ".bk-plot-stage")
    page.locator(".bk-stage-stepper button.bk-step").click()
    wait_text_matches(status, r"Batch 2: loss \d\.\d{4}\. Weights updated .* Next: Forward on batch 3\.")
    wait_canvas_changed(page, ".bk-plot-stage", board)
    assert error_outputs(page) == []
    assert page.bk_errors == []
