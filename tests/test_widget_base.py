"""The shared panel machinery: live figures, the status line, guarded callbacks, the play loop."""
import asyncio
import sys

import ipywidgets as widgets
import pytest
import matplotlib

from backprop_kit.widgets import _base


def test_importing_the_widgets_keeps_the_learners_matplotlib_backend():
    import matplotlib.pyplot as plt
    before = plt.get_backend()
    import ipympl  # noqa: F401  (already imported by _base; must not have switched anything)
    assert plt.get_backend() == before
    assert "ipympl" not in matplotlib.rcParams._get("backend")


def test_live_figure_has_an_ipympl_canvas_with_its_css_class():
    figure, canvas = _base.live_figure(3, 2, "bk-plot-loss")
    assert figure.canvas is canvas
    assert isinstance(canvas, widgets.DOMWidget)
    assert "bk-plot-loss" in canvas._dom_classes
    ax = figure.add_subplot()
    (line,) = ax.plot([0, 1], [0, 1])
    canvas.draw()   # renders without a front-end


def test_a_failing_callback_is_reported_in_the_status_not_raised():
    panel = _base.Panel()
    control = widgets.IntSlider()

    def broken():
        raise ValueError("lr must be a number > 0; got -1")

    panel.observe_value(control, broken)
    control.value = 3
    assert panel.status.kind == "error"
    assert "lr must be a number" in panel.status.text
    assert len(panel.errors) == 1 and "ValueError" in panel.errors[0]


def test_play_loop_runs_frames_on_the_event_loop_until_paused():
    frames = []
    loop = _base.PlayLoop(lambda: frames.append(1) or True, on_error=print, frame_interval=0.001)

    async def scenario():
        assert loop.play()
        await asyncio.sleep(0.05)
        loop.pause()
        await asyncio.sleep(0.02)
        return len(frames)

    counted = asyncio.run(scenario())
    assert counted >= 3
    assert not loop.playing and len(frames) == counted


def test_play_loop_stops_when_a_frame_says_so_and_reports_errors():
    errors = []

    def frame():
        raise RuntimeError("boom")

    loop = _base.PlayLoop(frame, on_error=errors.append)
    assert loop.step_frame() is False
    assert isinstance(errors[0], RuntimeError)


def test_play_without_a_running_loop_says_no():
    loop = _base.PlayLoop(lambda: True, on_error=print)
    assert loop.play() is False and not loop.playing


def test_find_locates_a_control_by_its_css_class():
    slider = _base.styled(widgets.FloatSlider(), "bk-learning-rate")
    root = widgets.VBox([widgets.HBox([widgets.Label("x"), slider])])
    from backprop_kit.widgets import find, find_all
    assert find(root, "bk-learning-rate") is slider
    assert find_all(root, "bk-learning-rate") == [slider] and find_all(root, "bk-missing") == []
    with pytest.raises(LookupError, match="bk-missing"):
        find(root, "bk-missing")


class _ClickPanel(_base.Panel):
    def __init__(self):
        super().__init__()
        self.button = _base.button("Step", "bk-step")
        self.threads = []
        self.on_click(self.button, lambda: self.threads.append(__import__("threading").current_thread()))
        self.children = [self.button, self.status]


def _click_message(widget):
    return {"content": {"comm_id": widget.comm.comm_id,
                        "data": {"method": "custom", "content": {"event": "click"}}}, "buffers": []}


def test_a_click_delivered_on_a_subshell_thread_runs_on_the_kernel_thread():
    # JupyterLab 4.4+ may deliver widget messages on a kernel subshell (another thread); panel
    # code must still run on the one thread that runs cells and Play frames.
    import threading

    async def scenario():
        panel = _ClickPanel()
        assert _base.KernelThread.thread is threading.current_thread()
        worker = threading.Thread(target=panel.button.comm.handle_msg, args=(_click_message(panel.button),))
        worker.start()
        worker.join()
        assert panel.threads == []            # handed over, not run on the subshell thread
        await asyncio.sleep(0.01)
        return panel.threads

    try:
        threads = asyncio.run(scenario())
    finally:
        _base.KernelThread.loop = _base.KernelThread.thread = None
    assert threads == [threading.main_thread()]


def test_widgets_added_to_a_panel_later_are_pinned_too():
    panel = _ClickPanel()
    late = widgets.IntSlider()
    panel.children = [*panel.children, widgets.HBox([late])]
    assert getattr(late, "_bk_pinned", False)
    late.comm.handle_msg({"content": {"comm_id": late.comm.comm_id,
                                      "data": {"method": "update", "state": {"value": 7}}},
                            "buffers": []})
    assert late.value == 7                     # no kernel loop here: handled at once


# --- one name per idea, every argument by keyword and checked by its panel's table -----------

PANEL_NAMES = ["Playground", "StageStepper", "LearningRateExplorer", "BatchSizeExplorer",
               "GradientFlowExplorer", "ActivationExplorer"]
# the names the kit does not use, and the one it uses for that idea (README: "One name per idea")
OTHER_NAMES = {"learning_rate": "lr", "learning_rates": "lrs", "init_scale": "scale", "depth": "layers",
               "hidden": "layers and neurons", "sizes": "layers and neurons (sizes: only in Network)"}


@pytest.mark.parametrize("name", PANEL_NAMES)
def test_every_panel_argument_is_keyword_only_and_checked_by_the_panels_table(name):
    import inspect
    import sys
    from backprop_kit import widgets as panels
    panel = getattr(panels, name)
    parameters = list(inspect.signature(panel.__init__).parameters.values())[1:]
    assert parameters and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters), parameters
    table = sys.modules[panel.__module__].ARGUMENTS
    assert [p.name for p in parameters if p.name not in table] == []
    assert set(table) == {p.name for p in parameters}
    for parameter in parameters:
        assert parameter.name not in OTHER_NAMES, f"{name}({parameter.name}=): the kit calls it {OTHER_NAMES[parameter.name]}"
    with pytest.raises(TypeError):
        panel(0)                                   # nothing by position


def test_a_table_rule_names_the_argument_the_value_and_what_it_accepts():
    from backprop_kit.widgets import _args
    table = {"n": _args.Whole(20, 100), "clip": _args.Optional(_args.Number(0.01, 100)),
             "batch_size": _args.BatchSize(full=True)}
    assert _args.check(table, dict(n=40, clip=None, batch_size="full", other=1)) == dict(n=40, clip=None, batch_size=30)
    for given, words in ((dict(n=10, clip=None, batch_size=4), ["n must be a whole number from 20 to 100; got 10"]),
                         (dict(n=40, clip=0, batch_size=4), ["clip must be None (off) or a number from 0.01 to 100",
                                                            "got 0"]),
                         (dict(n=40, clip=1, batch_size=31), ["batch_size must be 'full' or a whole number from 1 to 30",
                                                             "n=40", "got 31"])):
        with pytest.raises(ValueError) as raised:
            _args.check(table, given)
        for word in words:
            assert word in str(raised.value), (word, str(raised.value))
