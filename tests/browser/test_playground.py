"""The Playground panel in JupyterLab, driven as a learner would (fixtures/playground.ipynb:
`Playground(seed=0)`: spiral, 2 hidden layers of 8 tanh units, lr 0.1, Step = 1 epoch).

Every check polls the page; nothing sleeps a fixed time. Controls are found by the bk-* classes
of DESIGN.md ("Widgets").
"""
import re
import time

from browser_helpers import (
    canvas_fingerprint,
    error_outputs,
    kernel_execute,
    open_and_run,
    screenshot,
    scroll_into_view,
    step_number,
    wait_canvas_changed,
    wait_canvas_drawn,
    wait_for_css,
    wait_text_changed,
    wait_text_matches,
    wait_text_steady,
    wait_until,
)

NB = "playground.ipynb"

# DESIGN.md "Widgets": every control and plot of the Playground carries one of these
CLASSES = ["bk-dataset", "bk-activation", "bk-learning-rate", "bk-batch-size", "bk-layers", "bk-neurons",
           "bk-init", "bk-optimizer", "bk-clip", "bk-play", "bk-step", "bk-reset", "bk-status",
           "bk-plot-loss", "bk-plot-gradients", "bk-plot-boundary",
           "bk-plot-network", "bk-network-show", "bk-add-class", "bk-clear-points", "bk-features"]
PLOTS = [".bk-plot-loss", ".bk-plot-gradients", ".bk-plot-boundary", ".bk-plot-network"]


def readout_value(readout) -> float:
    """A slider's readout as a number (the log slider's ".4g" reads "0.1000" in the browser)."""
    return float(readout.inner_text().strip())


def open_playground(lab, page):
    """Open and run the fixture; return the status locator once the panel is drawn."""
    cells = open_and_run(lab, page, NB)
    assert [c["errors"] for c in cells if c["errors"]] == []
    wait_for_css(page, ".bk-playground", "button.bk-step", ".bk-status")
    for css in PLOTS:
        wait_canvas_drawn(page, css)
    scroll_into_view(page, ".bk-playground")
    assert error_outputs(page) == []
    status = page.locator(".bk-playground .bk-status")
    assert "ready: press Play or Step" in status.inner_text()
    return status


def finish(page):
    """What every Playground test ends with: no error output, no JavaScript exception."""
    assert error_outputs(page) == []
    assert page.bk_errors == []


def test_playground_renders_every_control_and_step_trains(lab, page):
    status = open_playground(lab, page)
    missing = [cls for cls in CLASSES if page.locator(f".bk-playground .{cls}").count() == 0]
    assert missing == [], f"bk-* classes missing from the rendered Playground: {missing}"
    for cls in CLASSES:
        assert page.locator(f".bk-playground .{cls}").first.is_visible(), f".{cls} is not visible"

    before_text, before_loss = status.inner_text(), wait_canvas_drawn(page, ".bk-plot-loss")
    assert step_number(before_text) == 0
    page.locator("button.bk-step").click()
    text = wait_text_changed(status, before_text)
    text = wait_text_matches(status, r"epoch 1, step \d+").string
    assert step_number(text) > 0 and "train loss" in text
    wait_canvas_changed(page, ".bk-plot-loss", before_loss)

    # a second Step: one more epoch, the loss plot moves again
    before_text, before_loss = status.inner_text(), wait_canvas_drawn(page, ".bk-plot-loss")
    page.locator("button.bk-step").click()
    wait_text_matches(status, r"epoch 2, step \d+")
    wait_canvas_changed(page, ".bk-plot-loss", before_loss)
    finish(page)


_SAVEFIG = """
import base64 as _b64, io as _io
for _name in ("loss", "gradients", "boundary", "network"):
    _buffer = _io.BytesIO()
    panel.figures[_name].savefig(_buffer, format="png", dpi=panel.figures[_name].dpi)
    print(_name, _b64.b64encode(_buffer.getvalue()).decode("ascii"))
print("background", _b64.b64encode(panel.canvases["loss"].pictures["background"]).decode("ascii"))
"""
OFF_LEVELS, MAX_OFF_SHARE = 60, 0.01     # Chromium's antialiased lines are not Agg's: a fringe (0.0-0.1% seen)


def _pixels(data_url_or_base64: str):
    import base64
    import io

    import numpy as np
    from PIL import Image
    data = data_url_or_base64.split(",", 1)[-1]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")).astype(int)


def test_the_plots_the_page_paints_are_matplotlibs_full_draws(lab, page):
    """The page draws the moving lines and images itself (LayeredCanvas): what it shows after
    some training is, pixel for pixel but a thin fringe, the figure as Matplotlib draws it whole."""
    status = open_playground(lab, page)
    for epoch in (1, 2, 3):
        page.locator("button.bk-step").click()
        wait_text_matches(status, rf"epoch {epoch}, step \d+")
    shown = {css: wait_canvas_drawn(page, css, settle=1.0) for css in PLOTS}
    drawn = {}
    for line in kernel_execute(page, _SAVEFIG).strip().splitlines():
        name, data = line.split(" ", 1)
        drawn[name] = data
    import numpy as np
    report = []
    for css in PLOTS:
        name = css.removeprefix(".bk-plot-")
        painted, full = _pixels(shown[css]), _pixels(drawn[name])
        assert painted.shape == full.shape, (name, painted.shape, full.shape)
        share = float(np.mean(np.abs(painted - full).max(axis=2) > OFF_LEVELS))
        report.append(f"{name} {share:.2%}")
        assert share < MAX_OFF_SHARE, report
    # and the page did draw the lines: the loss plot is far from its background (no lines)
    background = float(np.mean(np.abs(_pixels(shown[".bk-plot-loss"]) - _pixels(drawn["background"])).max(axis=2)
                               > OFF_LEVELS))
    assert background > 2 * MAX_OFF_SHARE, (background, report)
    print("pixels off (page vs Matplotlib's full draw):", ", ".join(report), f"(loss vs its background {background:.1%})")
    screenshot(page, "playground-layered", ".bk-playground")
    finish(page)


def test_learning_rate_slider_moves_with_the_keyboard_and_reaches_the_trainer(lab, page):
    status = open_playground(lab, page)
    readout = page.locator(".bk-learning-rate .widget-readout")
    assert readout_value(readout) == 0.1
    page.locator(".bk-learning-rate .noUi-handle").focus()
    page.keyboard.press("ArrowRight")               # one step of 0.1 on the log10 scale
    wait_until(lambda: readout_value(readout) == 0.1259, message="readout 0.1259")
    # the kernel got it: the panel says the change was applied to the Trainer...
    wait_text_matches(status, r"learning rate 0\.1 → 0\.126 at step 0: applied live")
    # ...and the Trainer uses it: "As code" rebuilds the run with the new rate
    page.locator("button.bk-as-code").click()
    code = page.locator(".bk-code textarea")
    wait_until(lambda: "lr=0.12589" in code.input_value(), message="lr=0.12589 in As code")

    handle = page.locator(".bk-learning-rate .noUi-handle")
    handle.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_until(lambda: readout_value(readout) == 0.07943, message="readout 0.07943")
    wait_text_matches(status, r"learning rate [\d.]+ → 0\.0794 at step 0: applied live")
    wait_until(lambda: "lr=0.0794" in code.input_value(), message="lr=0.0794 in As code")
    finish(page)


def test_play_trains_while_the_page_responds_then_pause_and_reset(lab, page):
    status = open_playground(lab, page)
    play = page.locator("button.bk-play")
    play.click()
    wait_until(lambda: "Pause" in play.inner_text(), message="Play button turns into Pause")

    # the status keeps changing over several polls while it plays
    seen = []
    for _ in range(4):
        seen.append(wait_text_changed(status, status.inner_text(), timeout=30))
    steps = [step_number(t) for t in seen]
    assert steps == sorted(steps) and steps[-1] > steps[0] > 0, seen

    # a click on another control takes effect during play: clipping on
    info = page.locator(".bk-training-info")
    assert "pre-clip" not in info.inner_text()
    page.locator(".bk-clip input[type=checkbox]").click()
    wait_text_matches(status, r"clipping off → 1 at step \d+: applied live, progress kept")
    wait_text_matches(info, r"last pre-clip norm [\d.e+-]+ · clipped \d+% of steps")
    assert "Pause" in play.inner_text(), "clicking clip stopped the play"
    at_click = step_number(status.inner_text())
    wait_until(lambda: step_number(status.inner_text()) > at_click + 10, message="training goes on after the click")

    # the same through the keyboard on the learning-rate slider, still playing
    page.locator(".bk-learning-rate .noUi-handle").focus()
    page.keyboard.press("ArrowLeft")
    wait_text_matches(status, r"learning rate 0\.1 → 0\.0794 at step \d+: applied live")
    assert "Pause" in play.inner_text()

    # Pause: the button says Play again and the status holds still
    play.click()
    wait_until(lambda: "Play" in play.inner_text(), message="Pause button turns back into Play")
    paused = wait_text_steady(status, seconds=0.5)
    # training has stopped: the step number holds still for a second (the line itself may
    # still be refreshed once, e.g. to drop the steps/s rate that only shows while playing)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert step_number(status.inner_text()) == step_number(paused) > 0, "training went on after Pause"
        time.sleep(0.1)
    screenshot(page, "playground-lab")
    screenshot(page, "playground-lab-panel", css=".bk-playground")

    # Reset: a fresh network, step 0
    page.locator("button.bk-reset").click()
    text = wait_text_matches(status, r"reset: a fresh network .*epoch 0, step 0").string
    assert step_number(text) == 0
    finish(page)


def test_another_dataset_redraws_the_decision_boundary(lab, page):
    status = open_playground(lab, page)
    before = wait_canvas_drawn(page, ".bk-plot-boundary")
    page.locator(".bk-dataset select").select_option("moons")
    wait_text_matches(status, r"data changed \(dataset spiral → moons\): network reset")
    after = wait_canvas_changed(page, ".bk-plot-boundary", before)
    # and the new boundary learns: a Step changes it again
    after = wait_canvas_drawn(page, ".bk-plot-boundary")
    page.locator("button.bk-step").click()
    wait_text_matches(status, r"epoch 1, step \d+")
    wait_canvas_changed(page, ".bk-plot-boundary", after)
    finish(page)


def test_an_absurd_learning_rate_ends_in_the_divergence_message(lab, page):
    status = open_playground(lab, page)
    assert page.locator(".bk-activation select").input_value() == "tanh"
    readout = page.locator(".bk-learning-rate .widget-readout")
    page.locator(".bk-learning-rate .noUi-handle").focus()
    for _ in range(30):                              # 0.1 -> 10 is 20 steps of 0.1 on the log10 scale
        if readout_value(readout) == 10:
            break
        before = readout.inner_text()
        page.keyboard.press("ArrowRight")
        wait_text_changed(readout, before, timeout=30)
    assert readout_value(readout) == 10
    wait_text_matches(status, r"→ 10 at step 0: applied live")

    play = page.locator("button.bk-play")
    before_loss = wait_canvas_drawn(page, ".bk-plot-loss")
    play.click()
    text = wait_text_matches(status, r"Training diverged at step \d+", timeout=120).string
    assert "lower learning rate" in text and "Press Reset to start again" in text
    wait_until(lambda: "Play" in play.inner_text(), message="Play stops by itself on divergence")
    assert not re.search(r"Traceback|Error", text), text
    # the loss plot shows the run up to the divergence (and its note), not the empty start
    wait_canvas_changed(page, ".bk-plot-loss", before_loss)
    wait_canvas_drawn(page, ".bk-plot-loss")
    screenshot(page, "playground-lab-diverged", css=".bk-playground")
    finish(page)


_WHERE = """
_view = panel.views.{view}
_figure = _view.ax.figure
_figure.canvas.draw()
_x, _y = _view.ax.transData.transform(({x}, {y}))
print(_x / _figure.bbox.width, 1 - _y / _figure.bbox.height)
"""


def page_point(page, view: str, x: float, y: float) -> tuple[float, float]:
    """Where the data point (x, y) of a Playground view lies on the page (its canvas's pixels)."""
    fx, fy = map(float, kernel_execute(page, _WHERE.format(view=view, x=x, y=y)).split())
    box = page.locator(f".bk-playground .bk-plot-{view} canvas").bounding_box()
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def training_points(page) -> int:
    return int(kernel_execute(page, "print(len(panel.trainer.data.X_train))"))


def test_a_click_on_the_boundary_adds_a_point_and_shift_click_removes_one(lab, page):
    status = open_playground(lab, page)
    before, picture = training_points(page), wait_canvas_drawn(page, ".bk-plot-boundary")
    scroll_into_view(page, ".bk-plot-boundary")
    page.mouse.click(*page_point(page, "boundary", 0.3, -0.4))
    text = wait_text_matches(status, r"point \((0\.\d\d), (-0\.\d\d)\) added as class 0").groups()
    assert abs(float(text[0]) - 0.3) < 0.03 and abs(float(text[1]) + 0.4) < 0.03
    assert training_points(page) == before + 1
    wait_canvas_changed(page, ".bk-plot-boundary", picture)           # the new point is drawn
    page.keyboard.down("Shift")
    page.mouse.click(*page_point(page, "boundary", 0.3, -0.4))
    page.keyboard.up("Shift")
    wait_text_matches(status, r"point \(0\.\d\d, -0\.\d\d\) removed: \d+ training points left")
    assert training_points(page) == before
    screenshot(page, "playground-points", ".bk-playground")
    finish(page)


def test_the_network_view_names_the_neuron_under_the_pointer_and_shows_gradients(lab, page):
    open_playground(lab, page)
    page.locator("button.bk-step").click()
    scroll_into_view(page, ".bk-plot-network")
    centre = kernel_execute(page, "print(*panel.views.network.centres[1][3])").split()
    x, y = page_point(page, "network", float(centre[0]), float(centre[1]))
    page.mouse.move(x - 6, y - 6)
    page.mouse.move(x, y, steps=4)                    # the pointer moves onto the neuron
    details = page.locator(".bk-playground .bk-network-details")
    wait_text_matches(details, r"neuron a1\[3\] \(tanh\): from -?[\d.]+ to -?[\d.]+ over the plane")
    picture = wait_canvas_drawn(page, ".bk-plot-network")
    box = page.locator(".bk-playground .bk-plot-network canvas").bounding_box()
    page.mouse.click(x, y)                                      # a click: the neuron drawn large
    picture = wait_canvas_changed(page, ".bk-plot-network", picture)
    assert page.locator(".bk-playground .bk-plot-network canvas").bounding_box() == box   # hovering moved nothing
    assert kernel_execute(page, "print(panel.views.network.zoomed)").strip() == "(1, 3)"
    kernel_execute(page, "panel.trainer.run(150)\npanel._show()")   # (trained a while, for the screenshot)
    picture = wait_canvas_changed(page, ".bk-plot-network", picture)
    screenshot(page, "playground-network-weights", ".bk-playground")
    page.locator(".bk-network-show button", has_text="gradients").click()
    wait_canvas_changed(page, ".bk-plot-network", picture)
    assert kernel_execute(page, "print(panel.views.network.show)").strip() == "gradients"
    screenshot(page, "playground-network-gradients", ".bk-plot-network")
    # a deep sigmoid network: its gradients fade towards the inputs, in the same picture
    picture = wait_canvas_drawn(page, ".bk-plot-network")
    kernel_execute(page, "from backprop_kit.widgets import find\n"
                         "find(panel, 'bk-activation').value = 'sigmoid'\nfind(panel, 'bk-layers').value = 6")
    page.locator("button.bk-step").click()
    wait_canvas_changed(page, ".bk-plot-network", picture)
    fade = kernel_execute(page, "_d = panel.views.network.neuron_deltas()\nprint(_d[0].mean() / _d[-2].mean())")
    assert float(fade) < 0.01, fade                 # layer 1's |delta| under 1/100 of layer 6's
    screenshot(page, "playground-network-vanishing", ".bk-playground")
    finish(page)
