"""GraphStepper: a computational graph stepped one node at a time, forward then backward, showing
exactly the numbers output.backward() gives, and never changing the learner's graph."""
import math
import os
from pathlib import Path

import numpy as np
import pytest

import backprop_kit as bk
from backprop_kit.graph import Value, topological_order
from backprop_kit.widgets import GraphStepper
from backprop_kit.widgets._base import find
from backprop_kit.widgets.canvas import LayeredCanvas
from backprop_kit import graph_view
from backprop_kit.graph_view import BOX_W, _height, lay_out, number

DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
CLASSES = ("bk-graph", "bk-graph-forward", "bk-graph-backward", "bk-graph-run", "bk-graph-reset",
           "bk-graph-status")


def neuron():
    """L = (tanh(w x + b) - 1)**2, the one-neuron graph of DESIGN.md (5 operations, 1 constant)."""
    x, w, b = Value(0.5, name="x"), Value(-1.2, name="w"), Value(0.1, name="b")
    z = w * x + b
    z.name = "z"
    L = (z.tanh() - 1.0) ** 2
    L.name = "L"
    return L, {"x": x, "w": w, "b": b, "z": z}


def fan_out():
    """L = x * x + x at x = 3: x is used three times; dL/dx = 2x + 1 = 7."""
    x = Value(3.0, name="x")
    square = x * x
    square.name = "sq"
    L = square + x
    L.name = "L"
    return L, x


def click(panel, css_class):
    button = find(panel, css_class)
    assert not button.disabled, f"{css_class} is disabled"
    button.click()


def click_until_disabled(panel, css_class) -> int:
    clicks = 0
    while not find(panel, css_class).disabled:
        click(panel, css_class)
        clicks += 1
    return clicks


def after_forward(output):
    """A panel on ``output`` whose forward pass is done (by its Forward button): Backward is next."""
    panel = GraphStepper(output)
    click_until_disabled(panel, "bk-graph-forward")
    return panel


def gradients_of(output):
    """{node: grad} from output.backward() on the learner's graph (after checking nobody set one)."""
    nodes = topological_order(output)
    assert all(node.grad == 0.0 for node in nodes), "the panel changed a node's .grad"
    output.backward()
    return {node: node.grad for node in nodes}


# --- the controls -----------------------------------------------------------------------------

def test_every_control_is_found_by_its_css_class():
    panel = GraphStepper(neuron()[0])
    for css_class in CLASSES:
        assert find(panel, css_class) is not None
    assert find(panel, "bk-graph") is panel.canvas and isinstance(panel.canvas, LayeredCanvas)
    assert find(panel, "bk-graph-status") is panel.status is find(panel, "bk-status")
    assert panel.errors == []


def test_at_first_only_the_leaves_show_values_and_no_gradient_is_shown():
    L, leaves = neuron()
    panel = GraphStepper(L)
    assert set(panel.shown_values()) == set(leaves.values()) - {leaves["z"]}
    assert panel.shown_grads() == {}
    assert [find(panel, c).disabled for c in ("bk-graph-forward", "bk-graph-backward", "bk-graph-run")] == \
        [False, True, False]
    assert "3 leaves (values given) and 5 operations" in panel.status.text
    for node in panel.computed:
        assert panel.view.values[node].get_text() == "" and panel.view.grads[node].get_text() == ""


# --- forward ------------------------------------------------------------------------------------

def test_forward_computes_one_node_at_a_time_in_topological_order_and_writes_the_formula():
    L, leaves = neuron()
    panel = GraphStepper(L)
    order = [node for node in topological_order(L) if node.parents]
    for k, expected in enumerate(order, start=1):
        node = panel.step_forward()
        assert node is expected and panel.forward_done == k
        assert set(panel.shown_values()) >= set(order[:k]) and not set(panel.shown_values()) & set(order[k:])
        assert panel.view.values[node].get_text() == number(node.data)
        assert panel.status.text.startswith(f"Forward {k}/5: {panel.labels[node]} = ")
    assert panel.status.text.splitlines()[0] == "Forward 5/5: L = n3 **2 = -1.462 **2 = 2.138"
    assert "The forward pass is done" in panel.status.text
    assert panel.step_forward() is None and panel.forward_done == 5


def test_the_forward_text_of_a_sum_shows_the_inputs_and_their_values():
    L, leaves = neuron()
    panel = GraphStepper(L)
    panel.step_forward()
    assert panel.status.text == "Forward 1/5: n1 = w * x = -1.2 * 0.5 = -0.6"
    panel.step_forward()
    assert panel.status.text == "Forward 2/5: z = n1 + b = -0.6 + 0.1 = -0.5"


def test_backward_before_the_forward_pass_is_done_says_so_and_changes_nothing():
    panel = GraphStepper(neuron()[0])
    panel.step_forward()
    assert panel.step_backward() is None
    assert panel.status.kind == "warning" and "needs every value first" in panel.status.text
    assert "4 node(s) to go" in panel.status.text
    assert panel.backward_done == 0 and panel.shown_grads() == {}


# --- backward -----------------------------------------------------------------------------------

def test_clicking_through_both_passes_shows_exactly_what_backward_gives():
    L, leaves = neuron()
    panel = GraphStepper(L)
    frames = panel.canvas.stats["frames"]
    assert click_until_disabled(panel, "bk-graph-forward") == 5
    assert not find(panel, "bk-graph-backward").disabled
    assert click_until_disabled(panel, "bk-graph-backward") == 8          # every node but the constant 1
    assert find(panel, "bk-graph-run").disabled and panel.errors == []
    assert panel.canvas.stats["frames"] == frames + 13                     # each click showed the figure
    shown = panel.shown_grads()
    expected = gradients_of(L)
    assert set(shown) == {node for node in expected if not node.constant}
    for node, grad in shown.items():
        assert grad == expected[node]                                      # bit for bit
        assert panel.view.grads[node].get_text() == number(expected[node])
    assert panel.complete_grads() == set(shown)
    t = math.tanh(-0.5)
    assert leaves["w"].grad == pytest.approx(2 * (t - 1) * (1 - t * t) * 0.5, rel=1e-14)


def test_each_backward_step_writes_upstream_times_local_for_each_input():
    L, leaves = neuron()
    panel = after_forward(L)
    step = panel.step_backward()
    assert step.node is L and step.grad == 1.0
    assert panel.status.text.splitlines()[:2] == ["Backward 1/8: L = n3 **2",
                                                  "Its gradient dL/dL = 1: the backward pass starts at the output."]
    assert "n3: 1 × -2.924 = -2.924   (local dL/dn3 = 2 n3)" in panel.status.text
    for _ in range(3):
        step = panel.step_backward()
    assert step.node is leaves["z"]
    t = math.tanh(-0.5)
    upstream = 2 * (t - 1) * (1 - t * t)
    lines = panel.status.text.splitlines()
    assert lines[0] == "Backward 4/8: z = n1 + b"
    assert lines[1] == f"Its gradient {number(upstream, 4)}, sent by its one consumer n2."
    assert lines[2] == "To each input, upstream × local = contribution:"
    assert lines[3] == f"  n1: {number(upstream, 4)} × 1 = {number(upstream, 4)}   (local dz/dn1 = 1)"
    assert lines[4] == f"  b: {number(upstream, 4)} × 1 = {number(upstream, 4)}   (local dz/db = 1)"
    assert panel.step_backward().node is leaves["b"]
    step = panel.step_backward()                                           # n1 = w * x: multiply swaps
    assert [(parent.name, local) for parent, local, _ in step.sent] == [("w", 0.5), ("x", -1.2)]
    assert f"  w: {number(upstream, 4)} × 0.5 = {number(upstream * 0.5, 4)}   (local dn1/dw = x)" in panel.status.text
    assert f"  x: {number(upstream, 4)} × -1.2 = {number(upstream * -1.2, 4)}   (local dn1/dx = w)" in panel.status.text


def test_a_value_used_several_times_shows_the_sum_of_what_each_use_sent():
    L, x = fan_out()
    panel = after_forward(L)
    steps = []
    while (step := panel.step_backward()) is not None and step.node is not x:
        steps.append(step)
        # a gradient still waiting for some uses is shown, but not as complete
        if steps[-1].node.name == "L":
            assert panel.shown_grads()[x] == 1.0 and x not in panel.complete_grads()
    assert step.node is x and step.grad == 7.0
    text = panel.status.text
    assert "Used 3 times: its gradient is the sum of what each use sent back, " \
           "1 (from L) + 3 (from sq) + 3 (from sq) = 7." in text
    assert "A leaf: nothing to pass on. dL/dx = 7." in text
    assert panel.view.grads[x].get_text() == "7"


def test_an_inner_node_used_twice_sums_too():
    x, w = Value(0.8, name="x"), Value(-0.5, name="w")
    a = x * w
    a.name = "a"
    L = a.tanh() * a + a
    panel = after_forward(L)
    while (step := panel.step_backward()).node is not a:
        pass
    parts = [number(c, 4) for _, c in step.received]
    assert len(parts) == 3
    assert "Used 3 times: its gradient is the sum of what each use sent back" in panel.status.text
    assert f"= {number(step.grad, 4)}." in panel.status.text
    assert step.grad == sum(c for _, c in step.received)
    assert step.grad == gradients_of(L)[a]


def test_run_all_from_the_middle_finishes_both_passes():
    L, _ = neuron()
    panel = GraphStepper(L)
    panel.step_forward()
    panel.step_forward()
    click(panel, "bk-graph-run")
    assert panel.forward_done == 5 and panel.backward_done == 8
    assert panel.status.text.startswith("Both passes are done")
    assert "dL/dw = " in panel.status.text and "dL/dx = " in panel.status.text
    assert [find(panel, c).disabled for c in ("bk-graph-forward", "bk-graph-backward", "bk-graph-run")] == \
        [True, True, True]
    expected = gradients_of(L)
    assert all(grad == expected[node] for node, grad in panel.shown_grads().items())
    assert panel.step_backward() is None and "Both passes are done" in panel.status.text


def test_reset_goes_back_to_the_leaves_and_a_second_run_gives_the_same_numbers():
    L, _ = neuron()
    panel = GraphStepper(L)
    panel.run_all()
    first = panel.shown_grads()
    click(panel, "bk-graph-reset")
    assert panel.forward_done == panel.backward_done == 0 and panel.shown_grads() == {}
    assert all(panel.view.grads[node].get_text() == "" for node in panel.view.grads)
    assert not find(panel, "bk-graph-forward").disabled and find(panel, "bk-graph-backward").disabled
    panel.run_all()
    assert panel.shown_grads() == first


def test_the_panel_never_changes_the_graph_and_backward_still_runs_after_it():
    L, leaves = neuron()
    before = {node: (node.data, node.grad, node.name) for node in topological_order(L)}
    panel = GraphStepper(L)
    panel.run_all()
    panel.reset()
    panel.run_all()
    assert {node: (node.data, node.grad, node.name) for node in topological_order(L)} == before
    L.backward()                              # would refuse if the panel had left gradients behind
    assert leaves["w"].grad != 0.0


def test_a_graph_with_gradients_already_in_it_is_shown_with_its_own_fresh_numbers():
    L, leaves = neuron()
    L.backward()
    expected = {node: node.grad for node in topological_order(L)}
    panel = GraphStepper(L)
    panel.run_all()
    assert all(expected[node] == grad for node, grad in panel.shown_grads().items())
    assert leaves["w"].grad == expected[leaves["w"]]


def test_highlights_the_node_of_the_step_and_its_inputs():
    L, leaves = neuron()
    panel = after_forward(L)
    for _ in range(4):
        step = panel.step_backward()
    boxes, arrows = panel.view.boxes, panel.view.arrows
    assert step.node is leaves["z"]
    widths = {node: box.get_linewidth() for node, box in boxes.items()}
    assert widths[leaves["z"]] == max(widths.values())
    inputs = set(leaves["z"].parents)
    assert all(widths[node] > widths[leaves["x"]] for node in inputs)
    lit = {key for key, arrow in arrows.items() if arrow.get_linewidth() > 1.0}
    assert lit == {(leaves["z"], 0), (leaves["z"], 1)}
    notes = {key: note.get_text() for key, note in panel.view.notes.items() if note.get_visible()}
    assert set(notes) == lit and all(text == number(step.grad) for text in notes.values())


# --- from_network ---------------------------------------------------------------------------------

def test_a_two_two_one_network_graph_steps_to_bk_gradients_numbers():
    net = bk.Network([2, 2, 1], activation="tanh", init="normal", scale=1.0, seed=1)
    x = np.array([0.5, -1.0])
    G = bk.graph.from_network(net, x, 1, "bce")
    panel = GraphStepper(G)
    assert len(panel.graph_layout.nodes) <= 40
    click_until_disabled(panel, "bk-graph-forward")
    click_until_disabled(panel, "bk-graph-backward")
    shown = panel.shown_grads()
    grads = bk.gradient(net, bk.forward(net, x[None]), np.array([1]), "bce")
    for layer, (W, b) in enumerate(zip(G.weights, G.biases)):
        np.testing.assert_allclose([[shown[leaf] for leaf in row] for row in W], grads.weights[layer], atol=1e-12)
        np.testing.assert_allclose([shown[leaf] for leaf in b], grads.biases[layer], atol=1e-12)
    G.backward()
    assert all(node.grad == grad for node, grad in shown.items())


# --- the layout -----------------------------------------------------------------------------------

def boxes_of(plan):
    return {node: (x - BOX_W / 2, y - _height(node) / 2, x + BOX_W / 2, y + _height(node) / 2)
            for node, (x, y) in plan.centre.items()}


@pytest.mark.parametrize("make", [lambda: neuron()[0], lambda: fan_out()[0],
                                  lambda: bk.graph.from_network(bk.Network([2, 2, 1], seed=0), np.ones(2), 0, "bce"),
                                  lambda: bk.graph.from_network(bk.Network([2, 3, 2], output="softmax", seed=0),
                                                                np.ones(2), 1, "cross_entropy")],
                         ids=["neuron", "fan-out", "2-2-1 bce", "2-3-2 softmax"])
def test_the_layout_flows_left_to_right_inside_the_figure_without_overlaps(make):
    output = make()
    plan = lay_out(output)
    boxes = boxes_of(plan)
    for node in plan.nodes:
        x = plan.centre[node][0]
        assert all(plan.centre[parent][0] < x for parent in node.parents)
        left, top, right, bottom = boxes[node]
        assert 0 <= left and right <= plan.width and 0 <= top and bottom <= plan.height
    assert plan.centre[output][0] == max(x for x, _ in plan.centre.values())
    nodes = list(boxes)
    for k, a in enumerate(nodes):
        for b in nodes[k + 1:]:
            (l1, t1, r1, b1), (l2, t2, r2, b2) = boxes[a], boxes[b]
            assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, f"{a} overlaps {b}"
    for (child, k), points in plan.routes.items():
        assert points[0][0] == pytest.approx(plan.centre[child.parents[k]][0] + BOX_W / 2)
        assert points[-1][0] == pytest.approx(plan.centre[child][0] - BOX_W / 2)


def test_the_barycentre_sweeps_undo_crossings():
    # two columns given crossed: a feeds q, b feeds p, c feeds r and p; drawn in this order, 2 crossings
    items = [["a", "b", "c"], ["p", "q", "r"]]
    down = {"a": ["q"], "b": ["p"], "c": ["r", "p"], "p": [], "q": [], "r": []}
    up = {"a": [], "b": [], "c": [], "p": ["b", "c"], "q": ["a"], "r": ["c"]}
    assert graph_view._crossings(items, down) == 2
    assert graph_view._crossings(graph_view._order(items, up, down), down) == 0


def test_a_tree_is_laid_out_without_crossings_and_compactly():
    a, b, c, d = (Value(v, name=n) for v, n in ((1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")))
    left, right = a * c, d * b
    plan = lay_out((left + right).tanh())
    rows = {node: y for node, (_, y) in plan.centre.items()}
    leaves, products = sorted([a, b, c, d], key=rows.get), sorted([left, right], key=rows.get)
    assert graph_view._crossings([leaves, products], {a: [left], c: [left], b: [right], d: [right]}) == 0
    assert lay_out(neuron()[0]).height < 2.5


# --- bad input --------------------------------------------------------------------------------------

def test_bad_options_are_refused_with_clear_messages():
    with pytest.raises(TypeError, match=r"output must be a backprop_kit.Value \(the node to differentiate"):
        GraphStepper(2.0)
    with pytest.raises(ValueError, match="digits must be a whole number from 2 to 6; got 9"):
        GraphStepper(neuron()[0], digits=9)
    with pytest.raises(TypeError, match="takes 2 positional arguments"):
        GraphStepper(neuron()[0], 3)


def test_graphs_too_big_to_read_are_refused():
    x = Value(0.1, name="x")
    wide = sum(x * float(k) for k in range(1, 40))
    with pytest.raises(ValueError, match=r"output must have a graph of at most 60 nodes to be drawn readably; got \d+"):
        GraphStepper(wide)
    deep = x
    for _ in range(15):
        deep = deep.tanh()
    with pytest.raises(ValueError, match="at most 14 operations deep to be drawn readably; got 15"):
        GraphStepper(deep)
    big = bk.graph.from_network(bk.Network([2, 4, 4, 1], seed=0), np.ones(2), 1, "bce")
    with pytest.raises(ValueError, match="at most 60 nodes"):
        GraphStepper(big)


# --- pictures ---------------------------------------------------------------------------------------

def test_the_figure_renders_mid_backward(tmp_path):
    """Small and quick; BK_WRITE_DOCS_IMAGES=1 writes docs/images/graph_stepper*.png instead."""
    write_docs = bool(os.environ.get("BK_WRITE_DOCS_IMAGES"))
    out, dpi = (DOCS_IMAGES, 110) if write_docs else (tmp_path, 30)
    net = bk.Network([2, 2, 1], activation="tanh", init="normal", scale=1.0, seed=1)
    pictures = [(after_forward(bk.graph.from_network(net, np.array([0.5, -1.0]), 1, "bce")), 6, "graph_stepper.png"),
                (after_forward(neuron()[0]), 3, "graph_stepper_neuron.png")]
    for panel, steps, name in pictures:
        for _ in range(steps):
            panel.step_backward()
        panel.figure.savefig(out / name, dpi=dpi)
        assert (out / name).stat().st_size > 2_000
