"""The GraphStepper in JupyterLab (fixtures/graph_stepper.ipynb: one neuron, L = (tanh(w x + b) - 1)**2):
Forward computes the five operations one by one, then each Backward click redraws the graph and
writes the next chain-rule step in the status line, with no error anywhere."""
from browser_helpers import (
    error_outputs,
    kernel_execute,
    open_and_run,
    screenshot,
    scroll_into_view,
    wait_canvas_changed,
    wait_canvas_drawn,
    wait_for_css,
    wait_text_matches,
)

NB = "graph_stepper.ipynb"
CLASSES = ["bk-graph", "bk-graph-forward", "bk-graph-backward", "bk-graph-run", "bk-graph-reset", "bk-graph-status"]


def press(page, css_class, status, says, before_pixels):
    """Click a button, wait for the status to say ``says`` and the graph's pixels to change."""
    page.locator(f".bk-graph-stepper button.{css_class}").click()
    wait_text_matches(status, says)
    return wait_canvas_changed(page, ".bk-graph", before_pixels)


def test_graph_stepper_forward_then_backward_clicks_redraw_the_graph_and_say_each_step(lab, page):
    cells = open_and_run(lab, page, NB)
    assert [c["errors"] for c in cells if c["errors"]] == []
    wait_for_css(page, ".bk-graph-stepper", "button.bk-graph-forward", ".bk-graph-status", ".bk-graph canvas")
    missing = [cls for cls in CLASSES if page.locator(f".bk-graph-stepper .{cls}").count() == 0]
    assert missing == [], f"bk-graph-* classes missing from the rendered GraphStepper: {missing}"
    scroll_into_view(page, ".bk-graph-stepper")
    status = page.locator(".bk-graph-stepper .bk-graph-status")
    wait_text_matches(status, r"3 leaves \(values given\) and 5 operations")
    assert page.locator("button.bk-graph-backward").is_disabled()
    assert error_outputs(page) == []

    pixels = wait_canvas_drawn(page, ".bk-graph")
    for k in range(1, 6):
        pixels = press(page, "bk-graph-forward", status, rf"^Forward {k}/5: ", pixels)
    wait_text_matches(status, r"Forward 5/5: L = n3 \*\*2 = -1\.462 \*\*2 = 2\.138")
    assert page.locator("button.bk-graph-forward").is_disabled()

    seen = []
    for k in range(1, 6):
        pixels = wait_canvas_drawn(page, ".bk-graph")
        press(page, "bk-graph-backward", status, rf"^Backward {k}/8: ", pixels)
        seen.append(status.inner_text().splitlines()[0])
        if k == 4:
            screenshot(page, "graph-stepper-lab-panel", css=".bk-graph-stepper")
    assert seen == ["Backward 1/8: L = n3 **2", "Backward 2/8: n3 = n2 - 1", "Backward 3/8: n2 = tanh(z)",
                    "Backward 4/8: z = n1 + b", "Backward 5/8: b"]
    wait_text_matches(status, r"A leaf: nothing to pass on\. dL/db = -2\.3\.")
    assert kernel_execute(page, "print(stepper.backward_done, stepper.errors, w.grad)").split() == ["5", "[]", "0.0"]

    pixels = wait_canvas_drawn(page, ".bk-graph")
    press(page, "bk-graph-run", status, r"^Both passes are done", pixels)
    assert error_outputs(page) == []
    assert page.bk_errors == []
