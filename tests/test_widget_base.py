"""The shared panel machinery: live figures, the status line, guarded callbacks, the play loop."""
import asyncio
import sys

import ipywidgets as widgets
import pytest

from backprop_kit.widgets import _base, _play


def test_the_panels_draw_on_their_own_canvases_whatever_the_learners_backend():
    import subprocess
    import sys
    code = ("import matplotlib, matplotlib.pyplot as plt; plt.switch_backend('svg'); "
            "from matplotlib.backends.backend_agg import FigureCanvasAgg; "
            "from backprop_kit.widgets import Playground; panel = Playground(seed=0); panel.step(); "
            "assert plt.get_backend() == 'svg', plt.get_backend(); "
            "assert all(type(f.canvas) is FigureCanvasAgg for f in panel.figures.values()); "
            "assert plt.get_fignums() == []; "
            "import sys; assert 'ipympl' not in sys.modules; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def test_live_figure_is_a_figure_and_its_layered_canvas_with_the_css_class():
    from backprop_kit.widgets.canvas import LayeredCanvas, live_figure
    figure, canvas = live_figure(3, 2, "bk-plot-loss")
    assert isinstance(canvas, LayeredCanvas) and canvas.figure is figure
    assert "bk-plot-loss" in canvas._dom_classes
    figure.add_subplot().plot([0, 1], [0, 1])
    assert canvas.show() == "pictures" and canvas.show() == "frame"   # drawn once, then only frames


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


def play_loop(train, show=lambda: None, **options):
    button = widgets.Button(description="Play")
    said = []
    loop = _play.PlayLoop(button, train, show, say=lambda text, kind: said.append(text), on_error=said.append,
                          **options)
    return loop, button, said


def test_play_loop_runs_frames_on_the_event_loop_until_training_is_done_and_says_so_on_its_button():
    frames = []
    loop, button, _ = play_loop(lambda budget: frames.append(budget) or len(frames) < 5)

    async def scenario():
        assert loop.play() and button.description == "Pause"
        await loop.task                                  # the task ends when training says it is done

    asyncio.run(scenario())
    assert len(frames) == 5 and frames[0] == _play.FRAME_SECONDS
    assert not loop.playing and button.description == "Play"


def test_pause_stops_the_frames_at_once():
    frames = []
    loop, button, _ = play_loop(lambda budget: frames.append(budget) or True)

    async def scenario():
        loop.play()
        while len(frames) < 3:
            await asyncio.sleep(0)
        loop.pause()                                     # between two frames (one thread: never within one)
        paused_at = len(frames)
        await loop.task
        return paused_at

    paused_at = asyncio.run(scenario())
    assert len(frames) == paused_at and button.description == "Play"


def test_play_loop_stops_when_training_says_so_and_reports_errors():
    shown = []
    loop, _, said = play_loop(lambda budget: False, show=lambda: shown.append(1))
    assert loop.step_frame() is False and shown == [1]          # False: shown, then stopped
    loop, _, said = play_loop(lambda budget: None, show=lambda: shown.append(2))
    assert loop.step_frame() is False and shown == [1]          # None: nothing trained, nothing shown

    def frame(budget):
        raise RuntimeError("boom")

    loop, _, said = play_loop(frame)
    assert loop.step_frame() is False
    assert isinstance(said[0], RuntimeError)


def test_play_without_a_running_loop_says_no():
    loop, button, said = play_loop(lambda budget: True)
    assert loop.play() is False and not loop.playing and said == [_play.NO_LOOP]
    assert button.description == "Play"
    loop, _, said = play_loop(lambda budget: True, prepare=lambda: False)
    assert loop.play() is False and said == []                 # refused by prepare: it says why itself


class FakeClock:
    """A clock that moves only when told: the frame budget's arithmetic, without the machine's speed."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_frame_budget_keeps_training_its_share_of_the_time():
    clock = FakeClock()
    budget = _play.FrameBudget(clock)
    assert budget() == _play.FRAME_SECONDS                     # the first frame of a Play
    clock.now += _play.FRAME_SECONDS
    budget.trained(_play.FRAME_SECONDS)
    for _ in range(20):                                       # showing is cheap: frames of FRAME_SECONDS
        clock.now += 0.005
        seconds = budget()
        clock.now += seconds
        budget.trained(seconds)
    assert seconds == pytest.approx(_play.FRAME_SECONDS)
    for _ in range(40):                                       # showing costs 60 ms: training gets 75%
        clock.now += 0.060
        seconds = budget()
        clock.now += seconds
        budget.trained(seconds)
    ratio = _play.TRAINING_SHARE / (1 - _play.TRAINING_SHARE)
    assert seconds == pytest.approx(min(ratio * 0.060, _play.MAX_FRAME_SECONDS), rel=0.05)
    budget.start()
    assert budget() == _play.FRAME_SECONDS


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
