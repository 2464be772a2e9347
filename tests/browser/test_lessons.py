"""Every lesson in notebooks/ opens in JupyterLab, runs all its cells without an error output,
and the panels it builds render (their bk-* root classes are on the page, their plots drawn).

A screenshot of each goes to results/browser/lesson-NN.png: its first panel in view, or its
title when it has no panel.
"""
import re

import pytest

from browser_helpers import (
    REPO,
    error_outputs,
    open_and_run,
    screenshot,
    scroll_into_view,
    wait_canvas_drawn,
    wait_for_css,
)

LESSONS = sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# panel class -> the CSS class on its root (and every panel root carries bk-panel)
PANEL_ROOTS = {
    "Playground": "bk-playground",
    "StageStepper": "bk-stage-stepper",
    "LearningRateExplorer": "bk-learning-rate-explorer",
    "BatchSizeExplorer": "bk-batch-size-explorer",
    "GradientFlowExplorer": "bk-gradient-flow-explorer",
    "ActivationExplorer": "bk-activation-explorer",
    "GraphStepper": "bk-graph-stepper",
}


def panels_built(cells) -> list[str]:
    """The panel classes a lesson's code calls (e.g. `StageStepper(...)`)."""
    source = "\n".join(c["source"] for c in cells)
    return sorted({name for name in PANEL_ROOTS if re.search(rf"\b{name}\s*\(", source)})


def canvases_in_panels(page) -> list[str]:
    """One CSS selector per plot inside a panel (a LayeredCanvas; nth-of-type paths
    are brittle: tag them)."""
    return page.evaluate(
        """() => {
          const found = [];
          document.querySelectorAll('.bk-panel .jupyter-matplotlib-canvas-div, .bk-panel .bk-layered').forEach((div, i) => {
            div.setAttribute('data-bk-test-canvas', String(i));
            found.push(`[data-bk-test-canvas="${i}"]`);
          });
          return found;
        }"""
    )


def test_no_lessons_is_a_failure():
    assert LESSONS, "no lessons found in notebooks/"


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_in_jupyterlab(lab, page, name):
    cells = open_and_run(lab, page, name)
    failed = [(c["source"][:80], c["errors"]) for c in cells
              if c["errors"] and "raises-exception" not in c["tags"]]
    assert failed == [], f"cells with an error: {failed}"
    not_run = [c["source"][:80] for c in cells if c["source"].strip() and c["count"] is None]
    assert not_run == [], f"cells that never ran: {not_run}"

    expected = panels_built(cells)
    if expected:
        wait_for_css(page, *(f".{PANEL_ROOTS[panel]}" for panel in expected), ".bk-panel .bk-status")
        for css in canvases_in_panels(page):
            wait_canvas_drawn(page, css)        # every plot of every panel is drawn (not blank)
        scroll_into_view(page, ".bk-panel")
    else:
        scroll_into_view(page, ".jp-Notebook .jp-Cell")      # run-all left it at the end: the title
    assert error_outputs(page) == []
    assert page.bk_errors == []
    number = name.split("_", 1)[0]
    screenshot(page, f"lesson-{number}")
