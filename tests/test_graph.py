"""The scalar computational graph (bk.Value, bk.graph): every op's gradient, random graphs against
finite differences and autograd, fan-out, depth, from_network against bk.gradient, bad input."""
import math
import re
import sys

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import backprop_kit as bk
from backprop_kit import graph
from backprop_kit.graph import BackwardPass, Value, from_network, topological_order

H = 1e-6


def central_differences(f, values):
    """d f / d values[i] by central differences: f takes a list of floats, returns a float."""
    grads = []
    for i in range(len(values)):
        up, down = list(values), list(values)
        up[i] += H
        down[i] -= H
        grads.append((f(up) - f(down)) / (2 * H))
    return grads


# --- every operation ----------------------------------------------------------------------

# (name, function of Values or floats alike, inputs away from kinks and singularities)
OPS = [
    ("add", lambda a, b: a + b, (0.7, -1.3)),
    ("add a number on the left", lambda a, b: 2.5 + a, (0.7, 0.0)),
    ("sub", lambda a, b: a - b, (0.7, -1.3)),
    ("sub from a number", lambda a, b: 2.5 - a, (0.7, 0.0)),
    ("mul", lambda a, b: a * b, (0.7, -1.3)),
    ("mul by a number on the left", lambda a, b: -3.0 * a, (0.7, 0.0)),
    ("div", lambda a, b: a / b, (0.7, -1.3)),
    ("number divided by a value", lambda a, b: 2.0 / a, (0.7, 0.0)),
    ("neg", lambda a, b: -a, (0.7, 0.0)),
    ("square", lambda a, b: a ** 2, (-0.7, 0.0)),
    ("cube of a negative", lambda a, b: a ** 3, (-0.7, 0.0)),
    ("square root", lambda a, b: a ** 0.5, (0.7, 0.0)),
    ("reciprocal", lambda a, b: a ** -1, (-0.7, 0.0)),
    ("tanh", lambda a, b: a.tanh() if isinstance(a, Value) else math.tanh(a), (0.7, 0.0)),
    ("sigmoid", lambda a, b: a.sigmoid() if isinstance(a, Value) else 1 / (1 + math.exp(-a)), (-0.7, 0.0)),
    ("relu above 0", lambda a, b: a.relu() if isinstance(a, Value) else max(a, 0.0), (0.7, 0.0)),
    ("relu below 0", lambda a, b: a.relu() if isinstance(a, Value) else max(a, 0.0), (-0.7, 0.0)),
    ("leaky_relu above 0", lambda a, b: a.leaky_relu() if isinstance(a, Value) else (a if a > 0 else 0.01 * a),
     (0.7, 0.0)),
    ("leaky_relu below 0", lambda a, b: a.leaky_relu() if isinstance(a, Value) else (a if a > 0 else 0.01 * a),
     (-0.7, 0.0)),
    ("exp", lambda a, b: a.exp() if isinstance(a, Value) else math.exp(a), (0.7, 0.0)),
    ("log", lambda a, b: a.log() if isinstance(a, Value) else math.log(a), (0.7, 0.0)),
    ("log with a floor it is above", lambda a, b: a.log(-100.0) if isinstance(a, Value) else math.log(a),
     (0.7, 0.0)),
    ("max, first larger", lambda a, b: a.max(b) if isinstance(a, Value) else max(a, b), (0.7, -1.3)),
    ("max, second larger", lambda a, b: a.max(b) if isinstance(a, Value) else max(a, b), (-1.7, -1.3)),
]


@pytest.mark.parametrize("name, f, inputs", OPS, ids=[op[0] for op in OPS])
def test_every_operation_gradient_matches_central_differences(name, f, inputs):
    a, b = Value(inputs[0], name="a"), Value(inputs[1], name="b")
    out = f(a, b)
    assert out.data == pytest.approx(f(*inputs), rel=1e-15)
    out.backward()
    expected = central_differences(lambda v: f(*v), list(inputs))
    assert [a.grad, b.grad] == pytest.approx(expected, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("name, f, inputs", OPS, ids=[op[0] for op in OPS])
def test_each_node_keeps_one_local_gradient_per_input(name, f, inputs):
    out = f(Value(inputs[0]), Value(inputs[1]))
    assert len(out.local_grads) == len(out.parents) >= 1
    assert out.op and all(isinstance(g, float) for g in out.local_grads)
    assert len(graph.local_formulas(out)) == len(out.parents)           # a formula for each, to show


def test_local_formulas_name_the_inputs():
    x, w = Value(0.5, name="x"), Value(2.0, name="w")
    name = {x: "x", w: "w"}.get
    assert graph.local_formulas(x * w, lambda n: name(n) or "out") == ["w", "x"]
    assert graph.local_formulas(x / w, lambda n: name(n) or "out") == ["1/w", "-x/w²"]
    assert graph.local_formulas(x.tanh(), lambda n: name(n) or "y") == ["1 - y²"]
    assert graph.local_formulas(x ** 2) == ["2 a"] and graph.local_formulas(x ** 3) == ["3 a^2"]
    assert graph.local_formulas(x ** 1) == ["1"] and graph.local_formulas(graph._sum([x, w, x])) == ["1"] * 3


def test_the_floored_log_is_the_floor_with_no_gradient_below_it():
    for p in (1e-50, 0.0, -1.0):
        x = Value(p)
        out = x.log(-100.0)
        assert out.data == -100.0 and out.local_grads == (0.0,)
        assert out.data == -bk.losses.bce(np.array([[p if p >= 0 else 0.0]]), np.array([[1.0]]))


def test_a_plain_number_becomes_a_constant_leaf():
    x = Value(2.0, name="x")
    out = 3.0 * x - 1.0
    constants = [node for node in topological_order(out) if node.constant]
    assert sorted(c.data for c in constants) == [1.0, 3.0]
    assert not x.constant and all(not c.parents for c in constants)


def test_numpy_scalars_work_on_either_side():
    x = Value(2.0)
    for out in (np.float64(3.0) * x, x * np.float64(3.0), np.int64(3) * x):
        assert isinstance(out, Value) and out.data == 6.0


def test_the_design_md_example():
    x, w, b = Value(0.5, name="x"), Value(-1.2, name="w"), Value(0.1, name="b")
    a = (x * w + b).tanh()
    L = (a - 1.0) ** 2
    L.backward()
    t = math.tanh(0.5 * -1.2 + 0.1)
    upstream = 2 * (t - 1) * (1 - t * t)            # dL/dz, z = x w + b
    assert (x.grad, w.grad, b.grad) == pytest.approx((upstream * -1.2, upstream * 0.5, upstream), rel=1e-14)
    assert L.grad == 1.0 and L.op == "**2" and L.name is None
    assert a.op == "tanh" and a.parents[0].op == "+" and {p.name for p in a.parents[0].parents[0].parents} == {"x", "w"}


# --- fan-out, depth, the order of the walk ----------------------------------------------------

def test_a_value_used_twice_adds_up_the_gradients_it_receives():
    x = Value(3.0, name="x")
    L = x * x + x                                   # dL/dx = 2x + 1 = 7: three paths
    L.backward()
    assert x.grad == 7.0


def test_an_inner_node_used_twice_adds_up_too():
    x, w = Value(0.8, name="x"), Value(-0.5, name="w")
    a = x * w
    L = a.tanh() * a + a                            # dL/da = (1 - tanh² a) a + tanh a + 1
    L.backward()
    t = math.tanh(-0.4)
    dL_da = (1 - t * t) * -0.4 + t + 1
    assert a.grad == pytest.approx(dL_da, rel=1e-15)
    assert x.grad == pytest.approx(dL_da * -0.5, rel=1e-15) and w.grad == pytest.approx(dL_da * 0.8, rel=1e-15)


def test_the_backward_pass_records_what_each_consumer_sent_and_sums_it():
    x = Value(3.0, name="x")
    L = x * 2.0 + x.exp()
    run = BackwardPass(L)
    steps = {step.node: step for step in iter(lambda: None if run.done else run.step(), None)}
    received = steps[x].received
    assert len(received) == 2
    assert sorted(c for _, c in received) == pytest.approx(sorted([2.0, math.exp(3.0)]))
    assert steps[x].grad == received[0][1] + received[1][1]
    assert steps[L].grad == 1.0 and steps[L].received == ()
    for step in steps.values():                     # upstream x local = contribution, for every input
        for parent, local, contribution in step.sent:
            assert contribution == step.grad * local


def test_a_ten_thousand_node_chain_needs_no_recursion():
    assert sys.getrecursionlimit() < 20_000
    x = Value(0.5, name="x")
    v = x
    for _ in range(10_000):
        v = v * 1.0001
    assert len(topological_order(v)) == 20_001      # 10,000 products, 10,000 constants, x
    v.backward()
    assert x.grad == pytest.approx(1.0001 ** 10_000, rel=1e-10)
    v.zero_grad()
    assert x.grad == 0.0 and v.grad == 0.0


def test_a_deep_chain_of_functions_matches_autograd():
    def chain(x, n=3000, tanh=math.tanh):
        for _ in range(n):
            x = tanh(x) * 1.5 + 0.1
        return x
    x = Value(0.3)
    out = chain(x, tanh=lambda v: v.tanh())
    out.backward()
    assert out.data == pytest.approx(chain(0.3), rel=1e-14)
    assert x.grad == pytest.approx(autograd.grad(lambda t: chain(t, tanh=anp.tanh))(0.3), rel=1e-10)


def test_topological_order_puts_every_node_after_its_inputs():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    out = d * c
    order = topological_order(out)
    position = {node: k for k, node in enumerate(order)}
    assert len(order) == len(position) == 5 and order[-1] is out
    for node in order:
        assert all(position[parent] < position[node] for parent in node.parents)


# --- random expression graphs (hypothesis) -------------------------------------------------------

UNARY = {
    "neg": (lambda v: -v, lambda a: -a),
    "tanh": (lambda v: v.tanh(), anp.tanh),
    "sigmoid": (lambda v: v.sigmoid(), lambda a: 0.5 * (anp.tanh(a / 2) + 1)),     # (never overflows)
    "relu": (lambda v: v.relu(), lambda a: anp.where(a > 0, a, 0.0)),
    "leaky_relu": (lambda v: v.leaky_relu(), lambda a: anp.where(a > 0, a, 0.01 * a)),
    "exp": (lambda v: v.exp(), anp.exp),
    "log": (lambda v: v.log(), anp.log),
    "square": (lambda v: v ** 2, lambda a: a ** 2),
    "cube": (lambda v: v ** 3, lambda a: a ** 3),
    "plus a number": (lambda v: v + 0.5, lambda a: a + 0.5),
    "times a number": (lambda v: 1.5 * v, lambda a: 1.5 * a),
}
BINARY = {
    "+": (lambda v, w: v + w, lambda a, b: a + b),
    "-": (lambda v, w: v - w, lambda a, b: a - b),
    "*": (lambda v, w: v * w, lambda a, b: a * b),
    "/": (lambda v, w: v / w, lambda a, b: a / b),
    "max": (lambda v, w: v.max(w), lambda a, b: anp.where(a >= b, a, b)),
}
KINKS = {"relu", "leaky_relu", "max"}        # kept away from their kink, where differences straddle it


@st.composite
def programs(draw):
    """Leaf values and a list of operations, each on earlier nodes (so nodes get reused: fan-out)."""
    leaves = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=4))
    steps = []
    for k in range(draw(st.integers(1, 14))):
        available = len(leaves) + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, available - 1)), None))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))), draw(st.integers(0, available - 1)),
                          draw(st.integers(0, available - 1))))
    return leaves, steps


def run(program, leaves, backend):
    """The program's last node, built with Values (backend 0) or autograd.numpy (backend 1)."""
    nodes = list(leaves)
    for op, i, j in program:
        table = UNARY if j is None else BINARY
        nodes.append(table[op][backend](nodes[i]) if j is None else table[op][backend](nodes[i], nodes[j]))
    return nodes[-1]


def margin(program, values) -> float:
    """How far the inputs of every kink and singularity stay from it, on plain floats."""
    nodes, closest = list(values), math.inf
    for op, i, j in program:
        a = nodes[i]
        if op in ("relu", "leaky_relu"):
            closest = min(closest, abs(a))
        elif op == "max":
            closest = min(closest, abs(a - nodes[j]))
        elif op == "/":
            closest = min(closest, abs(nodes[j]) * 10)
        elif op == "log":
            closest = min(closest, a * 10)
        nodes.append(float(run([(op, i, j)], nodes, 1)))
    return closest


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(programs())
def test_random_graphs_agree_with_autograd_and_central_differences(case):
    values, program = case
    leaves = [Value(v, name=f"x{k}") for k, v in enumerate(values)]
    try:
        out = run(program, leaves, 0)
    except (ValueError, ZeroDivisionError):          # log of a negative, a / 0, overflow: refused, fine
        reject()
    if abs(out.data) > 1e6 or margin(program, values) < 1e-2:
        reject()
    out.backward()
    ours = np.array([leaf.grad for leaf in leaves])

    def f(x):
        return run(program, [x[k] for k in range(len(values))], 1)
    assert float(f(np.array(values))) == pytest.approx(out.data, rel=1e-12, abs=1e-12)
    with np.errstate(over="ignore"):        # autograd's tanh' is 1 / cosh² (cosh overflows to inf: 0)
        theirs = autograd.grad(f)(np.array(values, dtype=float))
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    differences = central_differences(lambda v: float(f(np.array(v))), values)
    np.testing.assert_allclose(ours, differences, rtol=1e-4, atol=1e-4)


# --- from_network: the same numbers as bk.gradient ------------------------------------------

HIDDEN = ["relu", "leaky_relu", "sigmoid", "tanh", "linear"]
OUTPUTS = [("mse", "linear", 2), ("mse", "tanh", 1), ("mse", "relu", 2), ("mse", "leaky_relu", 2),
           ("mse", "sigmoid", 1), ("mse", "softmax", 3), ("bce", "sigmoid", 1),
           ("cross_entropy", "softmax", 3)]


def sample(loss, k, rng):
    return {"mse": rng.normal(size=k) if k > 1 else float(rng.normal()), "bce": int(rng.integers(2)),
            "cross_entropy": int(rng.integers(k))}[loss]


def matrix_gradients(net, x, y, loss):
    trace = bk.forward(net, x[None])
    return bk.loss(trace.output, np.asarray(y)[None], loss), bk.gradient(net, trace, np.asarray(y)[None], loss)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("loss, output, k", OUTPUTS, ids=[f"{o}-{loss}" for loss, o, _ in OUTPUTS])
def test_from_network_gives_bk_gradient_numbers(hidden, loss, output, k):
    rng = np.random.default_rng(abs(hash((hidden, loss, output))) % 2**32)
    for seed in range(3):
        net = bk.Network([3, 4, 3, k], activation=hidden, output=output, init="normal", scale=0.8, seed=seed)
        x, y = rng.normal(size=3), sample(loss, k, rng)
        G = from_network(net, x, y, loss)
        G.backward()
        value, grads = matrix_gradients(net, x, y, loss)
        assert G.data == pytest.approx(value, rel=1e-12, abs=1e-12)
        ours = G.gradients()
        for kind in ("weights", "biases", "deltas"):
            for mine, theirs in zip(getattr(ours, kind), getattr(grads, kind)):
                assert mine.shape == theirs.shape
                np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12, err_msg=kind)


def test_from_network_with_two_hidden_layers_of_different_activations():
    net = bk.Network([2, 3, 2, 1], activation=["relu", "sigmoid"], output="sigmoid", init="normal", scale=1.0)
    x = np.array([0.4, -1.1])
    G = from_network(net, x, 1, "bce")
    G.backward()
    _, grads = matrix_gradients(net, x, 1, "bce")
    for mine, theirs in zip(G.gradients().weights, grads.weights):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)


def test_from_network_names_leaves_like_the_lessons_layer_one_is_weights_0():
    net = bk.Network([2, 3, 1], init="normal", scale=1.0, seed=4)
    G = from_network(net, np.array([0.5, -0.3]), 0, "bce")
    assert G.name == "L"
    assert G.weights[0].shape == (2, 3) and G.biases[1].shape == (1,)
    assert G.weights[0][0, 2].name == "W1[0,2]" and G.weights[0][0, 2].data == net.weights[0][0, 2]
    assert G.weights[1][2, 0].name == "W2[2,0]" and G.biases[0][2].name == "b1[2]"
    assert [leaf.name for leaf in G.inputs] == ["x[0]", "x[1]"]
    leaves = [node for node in topological_order(G) if not node.parents and not node.constant]
    names = sorted(leaf.name for leaf in leaves)
    assert len(names) == len(set(names)) == 2 + 2 * 3 + 3 + 3 * 1 + 1       # x, W1, b1, W2, b2
    assert [z.name for z in G.pre[0]] == ["z1[0]", "z1[1]", "z1[2]"]
    assert G.pre[1][0].parents and "a2[0]" in {node.name for node in topological_order(G)}


def test_from_network_leaf_gradients_move_the_loss_as_predicted():
    """The bridge works both ways: nudging the weight named W1[1,0] changes the loss by its grad."""
    net = bk.Network([2, 2, 1], init="normal", scale=1.0, seed=2)
    x, y = np.array([0.3, 0.9]), 1
    G = from_network(net, x, y, "bce")
    G.backward()
    nudged = bk.Network.from_parameters([W.copy() for W in net.weights], net.biases, net.activations)
    nudged.weights[0][1, 0] += H
    change = (from_network(nudged, x, y, "bce").data - G.data) / H
    assert G.weights[0][1, 0].grad == pytest.approx(change, rel=1e-4)


def test_gradients_needs_backward_first():
    G = from_network(bk.Network([2, 2, 1]), np.zeros(2), 1, "bce")
    with pytest.raises(RuntimeError, match="call backward"):
        G.gradients()


# --- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda: Value(float("nan")), ValueError, "data must be a finite number; got nan"),
    (lambda: Value(float("inf")), ValueError, "data must be a finite number; got inf"),
    (lambda: Value("1.5"), TypeError, "data must be a finite number; got '1.5' of type str"),
    (lambda: Value(True), TypeError, "data must be a finite number; got True of type bool"),
    (lambda: Value(1.0, name=3), TypeError, "name must be a string or None; got 3 of type int"),
    (lambda: Value(1.0) + "a", TypeError, "the other operand of + must be a Value or a finite number; got 'a'"),
    (lambda: [1.0] * Value(2.0), TypeError, "the other operand of * must be a Value or a finite number; got [1.0]"),
    (lambda: Value(1.0) - float("nan"), ValueError, "the other operand of - must be a Value or a finite number; got nan"),
    (lambda: Value(-1.0, name="x").log(), ValueError, "the input of log must be a positive number; got log(-1) (the node 'x')"),
    (lambda: Value(0.0).log(), ValueError, "the input of log must be a positive number; got log(0)"),
    (lambda: Value(800.0).exp(), ValueError, "exp(800) has a value that is not a finite number"),
    (lambda: Value(1e200) * 1e200, ValueError, "1e+200 * 1e+200 has a value that is not a finite number"),
    (lambda: Value(1.0) / 0, ZeroDivisionError, "the divisor of a / b must not be 0; got a / b = 1 / 0"),
    (lambda: Value(-8.0) ** 0.5, ValueError, "a ** p with a < 0 needs a whole number p; got -8 ** 0.5"),
    (lambda: Value(0.0) ** 0.5, ValueError, "a ** p at a = 0 needs p = 0 or p >= 1"),
    (lambda: Value(2.0) ** Value(3.0), TypeError, "the exponent of a ** p must be a constant number"),
    (lambda: 2.0 ** Value(3.0), TypeError, "the exponent of a ** p must be a constant number"),
    (lambda: Value(2.0) ** "2", TypeError, "the exponent of a ** p must be a finite number; got '2'"),
    (lambda: topological_order(3.0), TypeError, "output must be a Value (a node of a graph); got 3.0"),
])
def test_bad_input_is_refused_with_a_message_that_names_it(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_from_network_refuses_big_networks_and_bad_samples():
    big = bk.Network([2, 16, 16, 1])          # 337 parameters
    with pytest.raises(ValueError, match=r"at most 300 weights and biases .* got 337 \(layer widths \[2, 16, 16, 1\]\)"):
        from_network(big, np.zeros(2), 1, "bce")
    net = bk.Network([2, 2, 1])
    with pytest.raises(ValueError, match=r"x must be one sample of shape \(2,\) .* got shape \(1, 2\)"):
        from_network(net, np.zeros((1, 2)), 1, "bce")
    with pytest.raises(ValueError, match="x must hold only finite numbers"):
        from_network(net, np.array([0.0, np.nan]), 1, "bce")
    with pytest.raises(ValueError, match="y must hold only 0 and 1 for loss 'bce'"):
        from_network(net, np.zeros(2), 0.5, "bce")
    with pytest.raises(ValueError, match="loss must be one of 'mse', 'bce', 'cross_entropy'; got 'bse'"):
        from_network(net, np.zeros(2), 1, "bse")
    with pytest.raises(ValueError, match="loss 'cross_entropy' needs a 'softmax' output layer"):
        from_network(net, np.zeros(2), 0, "cross_entropy")
    with pytest.raises(TypeError, match="net must be a backprop_kit.Network"):
        from_network("net", np.zeros(2), 1, "bce")
    assert from_network(bk.Network([2, 2, 2], output="softmax"), np.zeros(2), 1, "cross_entropy").data > 0


# --- backward twice -------------------------------------------------------------------------

def test_backward_twice_without_zero_grad_is_an_error_and_changes_nothing():
    x = Value(2.0, name="x")
    L = (x * 3.0).tanh()
    L.backward()
    before = x.grad
    with pytest.raises(RuntimeError, match="backward\\(\\) found gradients already .* Call zero_grad\\(\\)"):
        L.backward()
    assert x.grad == before and L.grad == 1.0
    L.zero_grad()
    L.backward()
    assert x.grad == before


def test_a_second_output_sharing_nodes_is_refused_too():
    x = Value(2.0, name="x")
    first, second = x * 3.0, x.exp()
    first.backward()
    with pytest.raises(RuntimeError, match="the node 'x' has grad 3"):
        second.backward()
    first.zero_grad()
    (first + second).backward()
    assert x.grad == pytest.approx(3.0 + math.exp(2.0))


def test_a_backward_pass_object_leaves_the_nodes_grad_alone_and_gives_backwards_numbers():
    x, w = Value(0.7, name="x"), Value(-0.2, name="w")
    L = ((x * w).sigmoid() - x) ** 2
    run = BackwardPass(L)
    run.run()
    assert all(node.grad == 0.0 for node in topological_order(L))
    L.backward()
    assert all(run.grads[node] == node.grad for node in topological_order(L))      # bit for bit


def test_a_leaf_has_no_local_formulas():
    assert bk.graph.local_formulas(bk.Value(2.0, name="x")) == []
