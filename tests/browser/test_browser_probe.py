"""Proves the browser-test infrastructure on fixtures/probe.ipynb (a tiny self-made panel).

The real lesson and panel tests follow the same pattern; see README.md in this folder.
"""
from browser_helpers import (
    canvas_fingerprint,
    error_outputs,
    run_all,
    screenshot,
    wait_canvas_changed,
    wait_canvas_drawn,
    wait_for_css,
    wait_text_changed,
    wait_until_executed,
)

PROBE = "probe.ipynb"
CLASSES = ["bk-probe", "bk-probe-slider", "bk-probe-step", "bk-probe-status", "bk-probe-plot"]


def test_probe_in_jupyterlab(lab, page):
    lab.open_notebook(page, PROBE)
    run_all(page)
    cells = wait_until_executed(page, PROBE)
    assert [c["errors"] for c in cells if c["errors"]] == []
    wait_for_css(page, *(f".{cls}" for cls in CLASSES))
    assert error_outputs(page) == []
    assert "probe ready: 3" in page.locator(".jp-OutputArea-output").last.inner_text()

    # Step: the status text and the plot's pixels change.
    status = page.locator(".bk-probe-status")
    before_text = status.inner_text()
    before_pixels = wait_canvas_drawn(page, ".bk-probe-plot")
    screenshot(page, "probe-lab-before")
    page.locator("button.bk-probe-step").click()
    assert wait_text_changed(status, before_text).startswith("steps: 1")
    wait_canvas_changed(page, ".bk-probe-plot", before_pixels)

    # The slider handle moves with the keyboard, and the kernel sees the new value.
    handle = page.locator(".bk-probe-slider .noUi-handle")
    readout = page.locator(".bk-probe-slider .widget-readout")
    assert readout.inner_text().strip() == "3"
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.bk-probe-slider .widget-readout').textContent.trim() === '5'"
    )
    page.locator("button.bk-probe-step").click()
    wait_text_changed(status, "steps: 1, slider: 3")
    assert status.inner_text().strip() == "steps: 2, slider: 5"

    screenshot(page, "probe-lab")
    screenshot(page, "probe-lab-panel", css=".bk-probe")
    assert page.bk_errors == []


def test_probe_in_voila(voila, page):
    voila.open(page, PROBE, "button.bk-probe-step")
    wait_for_css(page, *(f".{cls}" for cls in CLASSES))
    assert error_outputs(page) == []

    status = page.locator(".bk-probe-status")
    before_pixels = wait_canvas_drawn(page, ".bk-probe-plot")
    page.locator("button.bk-probe-step").click()
    assert wait_text_changed(status, "steps: 0").startswith("steps: 1")
    wait_canvas_changed(page, ".bk-probe-plot", before_pixels)
    assert canvas_fingerprint(page, ".bk-probe-plot")

    screenshot(page, "probe-voila", full_page=True)
    assert page.bk_errors == []


def test_error_outputs_are_seen(lab, page):
    """The error helpers must see a real error (else "no errors" would prove nothing)."""
    name = "probe_errors.ipynb"
    lab.open_notebook(page, name)
    run_all(page, name)
    cells = wait_until_executed(page, name)
    assert [bool(c["errors"]) for c in cells] == [True, False, True, False]
    assert cells[1]["count"] is not None and cells[3]["count"] is None
    errors = error_outputs(page)
    assert len(errors) == 1 and "ZeroDivisionError" in errors[0]
    assert len(error_outputs(page, include_expected=True)) == 2
