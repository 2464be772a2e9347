"""The Voila app, apps/playground.ipynb (the README's Voila badge, `make demo`): it renders and responds to Step."""
from browser_helpers import (
    error_outputs,
    screenshot,
    scroll_into_view,
    step_number,
    wait_canvas_changed,
    wait_canvas_drawn,
    wait_for_css,
    wait_text_changed,
    wait_until,
)

NB = "apps/playground.ipynb"
PLOTS = [".bk-plot-loss", ".bk-plot-gradients", ".bk-plot-boundary", ".bk-plot-network"]


def test_playground_renders_in_voila_and_responds_to_step(voila, page):
    voila.open(page, NB, ".bk-playground button.bk-step")
    wait_for_css(page, ".bk-playground .bk-status", *(f".bk-playground {css}" for css in PLOTS))
    for css in PLOTS:
        wait_canvas_drawn(page, f".bk-playground {css}")
    assert error_outputs(page) == []

    status = page.locator(".bk-playground .bk-status").first
    before_text = status.inner_text()
    before_loss = wait_canvas_drawn(page, ".bk-playground .bk-plot-loss")
    page.locator(".bk-playground button.bk-step").first.click()
    text = wait_text_changed(status, before_text)
    wait_until(lambda: step_number(status.inner_text()) > max(step_number(before_text), 0),
               message=f"the step count in the status grows (was {before_text!r}, now {text!r})")
    wait_canvas_changed(page, ".bk-playground .bk-plot-loss", before_loss)
    wait_canvas_drawn(page, ".bk-playground .bk-plot-loss")

    scroll_into_view(page, ".bk-playground")
    screenshot(page, "playground-voila")
    assert error_outputs(page) == []
    assert page.bk_errors == []
