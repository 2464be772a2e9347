"""The Playground with the learner's own data: points clicked on and off, input features, the
network view's controls (issue 17). Plain pytest: controls set by value, clicks sent as the page
sends them."""
import numpy as np
import pytest

import backprop_kit as bk
from backprop_kit.widgets import Playground, find

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, size=(40, 2))
Y = (X[:, 0] * X[:, 1] > 0).astype(int)


def page_click(panel, name, x1, x2, shift=False, kind="click"):
    """What the page sends for a click at data point (x1, x2) of the plot ``name``."""
    widget, view = panel.canvases[name], getattr(panel.views, name)
    figure = widget.figure
    figure.canvas.draw()
    x, y = view.ax.transData.transform((x1, x2))
    widget._on_message(widget, {"type": "mouse", "kind": kind, "x": x / figure.bbox.width,
                                "y": y / figure.bbox.height, "shift": shift}, [])


def test_your_own_arrays_are_what_the_playground_learns():
    mine = bk.datasets.from_arrays(X, Y, name="mine", seed=0)
    panel = Playground(data=mine, seed=0)
    menu = find(panel, "bk-dataset")
    assert menu.value == "yours" and menu.options[0] == ("mine (yours)", "yours")
    assert panel.trainer.data is mine and panel.views.boundary.dataset is mine
    assert all(find(panel, f"bk-{name}").disabled for name in ("n", "noise", "test-fraction"))
    menu.value = "moons"
    assert panel.trainer.data.name == "moons" and not find(panel, "bk-n").disabled
    menu.value = "yours"
    assert panel.trainer.data is mine
    with pytest.raises(TypeError, match=r"data must be None or a backprop_kit Dataset with training points"):
        Playground(data=X)


def test_a_click_adds_a_training_point_of_the_chosen_class_and_training_goes_on():
    panel = Playground(dataset="moons", n=100, seed=0)
    panel.step()
    steps, test_X = panel.trainer.steps, panel.trainer.data.X_test
    n_train = len(panel.trainer.data.X_train)
    find(panel, "bk-add-class").value = 1
    page_click(panel, "boundary", 0.25, -0.5)
    data = panel.trainer.data
    assert len(data.X_train) == n_train + 1 and data.y_train[-1] == 1
    np.testing.assert_allclose(data.X_train[-1], [0.25, -0.5], atol=0.02)     # (a pixel's worth)
    assert data.X_test is test_X and panel.trainer.steps == steps          # the test set and progress kept
    assert panel.trainer._position == 0 and sorted(panel.trainer._order) == list(range(n_train + 1))
    assert "added as class 1" in panel.status.text and panel.status.kind == "info"
    panel.step()
    assert panel.trainer.steps > steps
    assert panel.views.boundary.dataset.X_train is panel._raw.X_train      # the plot shows the new point


def test_shift_click_removes_the_nearest_training_point():
    panel = Playground(dataset="moons", n=100, seed=0)
    before = panel.trainer.data.X_train
    target = before[7]
    page_click(panel, "boundary", target[0] + 0.005, target[1] - 0.005, shift=True)
    after = panel.trainer.data.X_train
    assert len(after) == len(before) - 1
    assert not np.any(np.all(after == target, axis=1))
    assert panel.remove_point(*before[3]) and len(panel.trainer.data.X_train) == len(before) - 2


def test_clear_points_starts_an_empty_plane_and_training_waits_for_points():
    panel = Playground(dataset="spiral", n=100, seed=0)
    plane = panel.views.boundary.extent
    find(panel, "bk-clear-points").click()
    data = panel.trainer.data
    assert len(data.X_train) == len(data.X_test) == 0 and panel.views.boundary.extent == plane
    find(panel, "bk-step").click()
    assert panel.trainer.steps == 0 and panel.errors == []
    assert "no training points: click the boundary plot to add some" in panel.status.text
    for k, (x1, x2) in enumerate([(-0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (0.5, -0.5)]):
        assert panel.add_point(x1, x2, label=k % 2)
    find(panel, "bk-step").click()                      # one epoch (the batch shrank to 1 with no points)
    assert panel.trainer.steps == 4 and panel.trainer.epoch == 1 and len(panel.trainer.data.X_train) == 4


@pytest.mark.parametrize("point, label, message", [
    ((5.0, 0.0), 0, r"point refused: the point \(5, 0\) is outside the plot"),
    ((0.1, 0.1), 2, r"point refused: label must be a class from 0 to 1 for dataset 'moons'; got 2"),
    ((0.1, 0.1), 0.5, r"point refused: label must be a class, a whole number .*a regression target on a "
                      r"classification task\?"),
    ((0.1, float("nan")), 0, r"point refused: x2 must be a number; got nan"),
])
def test_a_bad_point_is_refused_in_the_status_line_and_nothing_changes(point, label, message):
    panel = Playground(dataset="moons", n=100, seed=0)
    data = panel.trainer.data
    assert panel.add_point(*point, label=label) is False
    assert panel.trainer.data is data and panel.errors == []
    assert panel.status.kind == "warning"
    import re
    assert re.search(message, panel.status.text), panel.status.text


def test_points_need_two_dimensional_data():
    panel = Playground(dataset="sine", n=60, seed=0)
    assert find(panel, "bk-add-class").disabled and find(panel, "bk-clear-points").disabled
    assert find(panel, "bk-features").disabled
    assert panel.add_point(0.1, 0.2, label=0.3) is False
    assert "2-D data only" in panel.status.text


def test_input_features_make_a_new_network_that_reads_them():
    panel = Playground(dataset="circles", n=100, layers=0, seed=0)
    features = find(panel, "bk-features")
    features.value = ("x1^2", "x2^2")
    trainer = panel.trainer
    assert trainer.net.sizes == (2, 1)
    np.testing.assert_array_equal(trainer.data.X_train, panel._raw.X_train ** 2)
    assert "inputs changed (inputs x1, x2 → x1^2, x2^2): a new network with 2 inputs" in panel.status.text
    assert panel.views.boundary.features == ("x1^2", "x2^2") and panel.views.network.features == ("x1^2", "x2^2")
    features.toggles["x1*x2"].value = True
    assert features.value == ("x1^2", "x2^2", "x1*x2") and panel.trainer.net.sizes == (3, 1)
    for name in ("x1^2", "x2^2"):
        features.toggles[name].value = False
    features.toggles["x1*x2"].value = False                 # the last one stays on
    assert features.value == ("x1*x2",) and features.toggles["x1*x2"].value


def test_as_code_reproduces_a_run_with_features_your_data_and_clicked_points():
    mine = bk.datasets.from_arrays(X, Y, name="mine", seed=0)
    panel = Playground(data=mine, layers=1, neurons=3, seed=2, step_size="10 steps")
    find(panel, "bk-features").value = ("x1", "x2", "x1*x2")
    panel.step()
    panel.add_point(0.3, -0.2, label=1)
    panel.remove_point(0.0, 0.0)
    find(panel, "bk-learning-rate").value = 0.5
    panel.step()
    code = panel.as_code()
    assert "bk.datasets.with_features(data, ['x1', 'x2', 'x1*x2'])" in code and "trainer.data = " in code
    namespace = {}
    exec(code.replace("print(trainer)", ""), namespace)
    rebuilt = namespace["trainer"]
    assert rebuilt.steps == panel.trainer.steps
    for W, W_panel in zip(rebuilt.net.weights, panel.trainer.net.weights):
        np.testing.assert_array_equal(W, W_panel)


def test_the_network_view_switches_to_gradients_and_names_what_the_pointer_is_over():
    panel = Playground(dataset="moons", n=100, seed=0)
    panel.step()
    find(panel, "bk-network-show").value = "gradients"
    assert panel.views.network.show == "gradients"
    view = panel.views.network
    x, y = view.centres[1][2]
    page_click(panel, "network", x, y, kind="move")
    info = find(panel, "bk-network-details").value
    assert "neuron a1[2] (tanh)" in info and "mean |δ|" in info
    page_click(panel, "network", x, y)                  # a click on a neuron: drawn large
    assert view.zoomed == (1, 2) and view.zoom_ax.get_visible()
    page_click(panel, "network", x, y)                  # again: put away
    assert view.zoomed is None and not view.zoom_ax.get_visible()
    widget = panel.canvases["network"]
    widget._on_message(widget, {"type": "mouse", "kind": "leave"}, [])
    assert find(panel, "bk-network-details").value == ""
    assert panel.errors == []
