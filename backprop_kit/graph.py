"""Backpropagation on a computational graph of scalars: each node passes upstream x local to its inputs.

    x, w, b = Value(0.5, name="x"), Value(-1.2, name="w"), Value(0.1, name="b")
    a = (x * w + b).tanh()        # forward: every operation computes its value at once
    L = (a - 1.0) ** 2
    L.backward()                  # backward: dL/d(node) into every node's .grad
    w.grad, x.grad

Every node holds its value (``data``), its inputs (``parents``) and, per input, its *local*
gradient d(node)/d(input) (``local_grads``), worked out when the node was made. So the
backward pass needs no calculus: starting from dL/dL = 1 at the output, it visits the nodes
from the output back (reverse topological order, so a node's gradient is complete before it
is passed on) and sends each input ``upstream x local``. A node used several times adds up
(+=) what each of its consumers sent: the gradient of a sum of paths is the sum of theirs.

``from_network`` builds this graph for a small ``Network`` on one sample, one leaf per weight
and bias: its gradients are the ones ``stages.gradient`` computes with matrices.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _checks, activations, losses, stages
from .network import Network

MAX_PARAMETERS = 300        # from_network: a graph of one node per weight, small enough to look at

# each operation's local gradient d(out)/d(input), one formula per input, in its inputs {a}, {b}
# and its own value {out} (for the docs, and the GraphStepper's status line: see local_formulas)
LOCAL_GRADIENTS = {
    "+": ("1",),                                    # any number of inputs: 1 for each
    "-": ("1", "-1"),
    "*": ("{b}", "{a}"),
    "/": ("1/{b}", "-{a}/{b}²"),
    "**": ("p {a}^(p-1)",),                         # a ** p
    "neg": ("-1",),
    "tanh": ("1 - {out}²",),
    "sigmoid": ("{out} (1 - {out})",),
    "relu": ("1 if {a} > 0 else 0",),
    "leaky_relu": ("1 if {a} > 0 else 0.01",),
    "exp": ("{out}",),
    "log": ("1/{a}",),                              # (0 where a floor holds)
    "max": ("1 if {a} >= {b} else 0", "0 if {a} >= {b} else 1"),
}


class Value:
    """A scalar node of a computational graph.

    Value(data, name=None): a leaf (an input or a parameter); operations on Values make the other nodes.

    - data: a finite number. name: a label for printing and drawing, e.g. "w".
    - Operators: ``+ - * /`` with Values or plain numbers on either side, ``** p`` (p a
      constant number), unary ``-``; methods ``tanh() sigmoid() relu() leaky_relu() exp()
      log() max(other)``. A plain number in an operation becomes a ``constant`` leaf.

    Attributes: ``data`` (float), ``grad`` (float: dL/d(this node) after ``L.backward()``, else
    0), ``name`` (str or None), ``op`` ('' for a leaf; '+', '*', 'tanh', '**2', ...),
    ``parents`` (the input nodes, a tuple), ``local_grads`` (one float per parent: d(this
    node)/d(parent) at these values), ``constant`` (True for a number an operation wrapped).
    """

    __slots__ = ("data", "grad", "name", "op", "parents", "local_grads", "constant")
    __array_ufunc__ = None       # NumPy scalars defer to Value: np.float64(2) * v is a Value

    def __init__(self, data, name: str | None = None):
        self.data = _checks.number("data", data, accepts="a finite number")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None; got {_checks._show(name)} of type {type(name).__name__}")
        self.grad = 0.0
        self.name = name
        self.op = ""
        self.parents = ()
        self.local_grads = ()
        self.constant = False

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name is not None else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{name}{op})"

    # --- arithmetic: each result knows its inputs and its local gradient per input --------
    def __add__(self, other):
        other = _operand(other, "+")
        return _node("+", self.data + other.data, (self, other), (1.0, 1.0))

    def __radd__(self, other):
        return _operand(other, "+") + self

    def __sub__(self, other):
        other = _operand(other, "-")
        return _node("-", self.data - other.data, (self, other), (1.0, -1.0))

    def __rsub__(self, other):
        return _operand(other, "-") - self

    def __mul__(self, other):
        other = _operand(other, "*")
        return _node("*", self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return _operand(other, "*") * self

    def __truediv__(self, other):
        other = _operand(other, "/")
        if other.data == 0:
            raise ZeroDivisionError(f"the divisor of a / b must not be 0; got a / b = {self.data:g} / 0")
        return _node("/", self.data / other.data, (self, other),
                     (1.0 / other.data, -self.data / other.data ** 2))

    def __rtruediv__(self, other):
        return _operand(other, "/") / self

    def __neg__(self):
        return _node("neg", -self.data, (self,), (-1.0,))

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            raise TypeError("the exponent of a ** p must be a constant number, not a Value "
                            "(for a Value exponent write (p * a.log()).exp())")
        p = _checks.number("the exponent of a ** p", exponent, accepts="a finite number")
        a = self.data
        if a < 0 and not p.is_integer():
            raise ValueError(f"a ** p with a < 0 needs a whole number p; got {a:g} ** {p:g} (not a real number)")
        if a == 0 and p != 0 and p < 1:
            raise ValueError(f"a ** p at a = 0 needs p = 0 or p >= 1 (else it or its local gradient "
                             f"p a^(p-1) is infinite there); got 0 ** {p:g}")
        try:
            out, local = a ** p, (p * a ** (p - 1) if p != 0 else 0.0)
        except OverflowError:
            out = local = math.inf
        return _node(f"**{p:g}", out, (self,), (local,))

    def __rpow__(self, _base):
        raise TypeError("the exponent of a ** p must be a constant number, not a Value "
                        "(for c ** x write (x * math.log(c)).exp())")

    # --- functions ------------------------------------------------------------------
    def tanh(self):
        out = math.tanh(self.data)
        return _node("tanh", out, (self,), (1.0 - out * out,))

    def sigmoid(self):
        # exp(-log(1 + exp(-a))), as activations.sigmoid: no overflow, full precision in the tails
        t = -self.data
        out = math.exp(-(max(t, 0.0) + math.log1p(math.exp(-abs(t)))))
        return _node("sigmoid", out, (self,), (out * (1.0 - out),))

    def relu(self):
        a = self.data
        return _node("relu", a if a > 0 else 0.0, (self,), (1.0 if a > 0 else 0.0,))

    def leaky_relu(self):
        a, slope = self.data, activations.LEAKY_SLOPE
        return _node("leaky_relu", a if a > 0 else slope * a, (self,), (1.0 if a > 0 else slope,))

    def exp(self):
        try:
            out = math.exp(self.data)
        except OverflowError:
            out = math.inf
        return _node("exp", out, (self,), (out,))

    def log(self, floor: float | None = None):
        """log(a). With ``floor`` (e.g. -100, as losses.py clamps): max(log a, floor), and
        a <= 0 gives ``floor``; the local gradient is 0 where the floor holds."""
        a = self.data
        if floor is None:
            if a <= 0:
                raise ValueError(f"the input of log must be a positive number; got log({a:g})"
                                 + (f" ({_label(self)})" if self.name else ""))
            return _node("log", math.log(a), (self,), (1.0 / a,))
        floor = _checks.number("floor", floor, accepts="a finite number or None")
        if a <= 0 or math.log(a) < floor:
            return _node("log", floor, (self,), (0.0,))
        return _node("log", math.log(a), (self,), (1.0 / a,))

    def max(self, other):
        """max(a, b): the larger passes its gradient on unchanged, the other gets 0 (a wins a tie)."""
        other = _operand(other, "max")
        first = self.data >= other.data
        return _node("max", self.data if first else other.data, (self, other),
                     (1.0, 0.0) if first else (0.0, 1.0))

    # --- the backward pass ----------------------------------------------------------------
    def backward(self) -> None:
        """dL/d(node) for every node of this node's graph, into its ``.grad`` (this node is L).

        The output's gradient is 1; then each node, from the output back, sends each input
        upstream x local, added (+=) to what the input got from its other consumers.
        Calling it again without ``zero_grad()`` raises a RuntimeError: the gradients would be
        added to those already there, giving twice the true ones. (The same happens for a
        second output sharing nodes with this one: add the outputs up, then call backward.)
        Runs without recursion, so a graph thousands of nodes deep is fine.
        """
        order = topological_order(self)
        stale = next((node for node in order if node.grad != 0.0), None)
        if stale is not None:
            raise RuntimeError(
                f"backward() found gradients already in this graph ({_label(stale)} has grad {stale.grad:.6g}), "
                f"left by an earlier backward(): running it again would add to them (+=) and double them. "
                f"Call zero_grad() on the output first")
        steps = BackwardPass(self, order)
        steps.run()
        for node in order:
            node.grad += steps.grads[node]

    def zero_grad(self) -> None:
        """Set ``grad`` to 0 on every node of this node's graph (before another ``backward()``)."""
        for node in topological_order(self):
            node.grad = 0.0


# --- building nodes ------------------------------------------------------------------------

def _constant(number: float) -> Value:
    value = Value(number)
    value.constant = True
    return value


def _operand(other, op: str) -> Value:
    """The other side of an operation as a Value: a Value, or a plain number made a constant."""
    if isinstance(other, Value):
        return other
    return _constant(_checks.number(f"the other operand of {op}", other, accepts="a Value or a finite number"))


def _node(op: str, data: float, parents: tuple, local_grads: tuple, cls=Value) -> Value:
    """A new node: its value, its inputs and d(node)/d(input) for each; refused if not finite."""
    if not (math.isfinite(data) and all(math.isfinite(g) for g in local_grads)):
        what = "value" if not math.isfinite(data) else "local gradient"
        raise ValueError(f"{expression(op, [f'{p.data:g}' for p in parents])} has a {what} that is not a "
                         f"finite number (value {data:g}, local gradients {', '.join(f'{g:g}' for g in local_grads)}): "
                         f"its inputs are too large, or too close to where it is undefined")
    node = cls.__new__(cls)
    node.data, node.grad, node.name, node.op = data + 0.0, 0.0, None, op     # + 0.0: no -0.0
    node.parents, node.local_grads, node.constant = parents, local_grads, False
    return node


def _sum(values, name: str | None = None) -> Value:
    """One '+' node over several inputs (a z = sum of products + bias), local gradient 1 each."""
    total = 0.0
    for value in values:
        total += value.data
    node = _node("+", total, tuple(values), (1.0,) * len(values))
    node.name = name
    return node


def _label(node: Value) -> str:
    return f"the node {node.name!r}" if node.name else f"a {node.op or 'leaf'} node"


def expression(op: str, operands: list) -> str:
    """How an operation reads with these operand texts: 'x * w', 'a + b + c', 'tanh(z)', 'a ** 2', '-a'."""
    if op in ("+", "-", "*", "/"):
        return f" {op} ".join(operands)
    if op.startswith("**"):
        return f"{operands[0]} {op}"
    if op == "neg":
        return f"-{operands[0]}"
    return f"{op}({', '.join(operands)})"


def local_formulas(node: Value, label=None) -> list:
    """The local gradient of ``node`` with respect to each of its inputs, as formulas (see
    LOCAL_GRADIENTS), written with ``label(n)`` for each node n (default: a, b for the inputs,
    out for the node itself): e.g. ['w', 'x'] for the node x * w; [] for a leaf (it has no inputs)."""
    if not node.parents:
        return []
    names = [label(p) for p in node.parents] if label else ["a", "b"][:len(node.parents)]
    out = label(node) if label else "out"
    if node.op == "+":
        return ["1"] * len(node.parents)
    if node.op.startswith("**"):                    # p a^(p-1), written plainly for p = 0, 1 and 2
        p = float(node.op[2:])
        return [{-1.0: "0", 0.0: "1", 1.0: f"{p:g} {names[0]}"}.get(p - 1, f"{p:g} {names[0]}^{p - 1:g}")]
    values = dict(a=names[0], b=names[-1], out=out)
    return [formula.format(**values) for formula in LOCAL_GRADIENTS[node.op]]


# --- walking the graph ---------------------------------------------------------------------

def topological_order(output: Value) -> list:
    """Every node ``output`` depends on, each after all of its inputs (leaves first, ``output`` last).

    A depth-first walk kept on a list of its own, not Python's call stack (no recursion limit).
    """
    if not isinstance(output, Value):
        raise TypeError(f"output must be a Value (a node of a graph); got {_checks._show(output)} "
                        f"of type {type(output).__name__}")
    order, seen, stack = [], set(), [(output, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((parent, False) for parent in reversed(node.parents) if parent not in seen)
    return order


class Step(NamedTuple):
    """One node of the backward pass: its gradient, where it came from, where it goes.

    grad: dL/d(node), complete (every consumer has sent its share; 1 for the output).
    received: ((consumer, contribution), ...): what each consumer sent; grad is their sum.
    sent: ((parent, local, contribution), ...): for each input, contribution = grad x local.
    """

    node: Value
    grad: float
    received: tuple
    sent: tuple


class BackwardPass:
    """The backward pass of ``output``'s graph, one node at a time, into a table of its own.

    BackwardPass(output): ``step()`` takes the next node in reverse topological order and
    returns its Step; ``grads`` holds {node: gradient so far}; ``done`` says all were taken.
    The nodes' ``.grad`` are not touched: ``Value.backward()`` runs one to the end and adds
    its table into them, and the GraphStepper steps one to show it, so both give the same numbers.
    """

    def __init__(self, output: Value, order: list | None = None):
        self.order = list(reversed(order if order is not None else topological_order(output)))
        self.grads = dict.fromkeys(self.order, 0.0)
        self.received = {node: [] for node in self.order}
        self.grads[output] = 1.0          # dL/dL
        self.position = 0

    @property
    def done(self) -> bool:
        return self.position == len(self.order)

    def step(self) -> Step:
        node = self.order[self.position]
        self.position += 1
        upstream = self.grads[node]
        sent = []
        for parent, local in zip(node.parents, node.local_grads):
            contribution = upstream * local
            self.grads[parent] += contribution
            self.received[parent].append((node, contribution))
            sent.append((parent, local, contribution))
        return Step(node, upstream, tuple(self.received[node]), tuple(sent))

    def run(self) -> None:
        while not self.done:
            self.step()


# --- a network as a graph --------------------------------------------------------------------

class NetworkGraph(Value):
    """The loss node of ``from_network``'s graph, which also knows where each parameter's leaf is.

    Attributes (besides a Value's): ``weights[i]``, ``biases[i]``: object arrays of the leaf
    Values, shaped like ``net.weights[i]`` and ``net.biases[i]``; ``inputs``: the leaves of x;
    ``pre[i]``: the nodes of z_i (the layer's sums before its activation).
    """

    __slots__ = ("weights", "biases", "inputs", "pre")

    def gradients(self) -> stages.Gradients:
        """The leaves' ``.grad`` as arrays shaped like the network's (after ``backward()``): a
        ``Gradients`` to compare with ``bk.gradient`` (deltas[i] = dL/dz_i, shape (1, sizes[i+1]))."""
        if self.grad != 1.0:
            raise RuntimeError("gradients() reads the leaves' .grad: call backward() on this graph first")

        def grads(nodes):
            return np.array([node.grad for node in nodes.flat]).reshape(nodes.shape)
        return stages.Gradients([grads(W) for W in self.weights], [grads(b) for b in self.biases],
                                [grads(z)[None, :] for z in self.pre])


def from_network(net: Network, x, y, loss: str) -> NetworkGraph:
    """The computational graph of a small network's loss on one sample, one leaf per weight and bias.

    - net: a Network with at most MAX_PARAMETERS (300) weights and biases.
    - x: one sample, shape (d,). y: its target as ``bk.loss`` takes it for one sample: a
      label (0/1 for 'bce', a class index for 'cross_entropy') or the k targets for 'mse'.
    - loss: 'mse', 'bce' or 'cross_entropy' (with the output layer each needs).

    Leaves are named after the lessons' maths, layers counted from 1 (``W1`` is
    ``net.weights[0]``, the lessons' W^[1]), entries from 0 as in NumPy: "W1[0,2]" is
    ``net.weights[0][0, 2]``, "b2[0]" is ``net.biases[1][0]``, "x[1]" is ``x[1]``. Inner nodes:
    "z1[j]" (the sum a W + b of layer 1, unit j), "a1[j]" (its activation), and "L" (the loss).
    A 'linear' layer adds no node (a = z); softmax is exp(z_j - max z) / sum_k exp(z_k - max z),
    with max z a constant; the logs of 'bce' and 'cross_entropy' are floored at -100 as in losses.py.

    Returns the loss node (a NetworkGraph: a Value that also has ``weights``, ``biases``,
    ``inputs``, ``pre`` and ``gradients()``). After ``G.backward()`` its leaves' gradients are
    ``bk.gradient(net, bk.forward(net, x[None]), y[None], loss)``'s (to about 1e-15). Where an
    output saturates so far that the floored log holds (p within 1e-44 of the wrong answer),
    the graph, the plain chain rule, passes back 0, while bk.gradient's fused output delta
    (p - y) still passes a gradient. The graph computes in float64 (Python floats).
    """
    stages._check_network(net)
    spec = losses.get(loss)
    losses.check_pairing(loss, net.output)
    count = sum(W.size + b.size for W, b in zip(net.weights, net.biases))
    if count > MAX_PARAMETERS:
        raise ValueError(f"net must have at most {MAX_PARAMETERS} weights and biases to become a graph of "
                         f"scalars (one node each, and more for every product and sum); got {count} "
                         f"(layer widths {list(net.sizes)}). Try e.g. bk.Network([2, 2, 1])")
    x = _checks._as_array("x", x)
    if x.shape != (net.sizes[0],):
        raise ValueError(f"x must be one sample of shape ({net.sizes[0]},) for this network; got shape "
                         f"{x.shape} (for one row of a batch X write X[0])")
    x = _checks.matrix("x", x[None], columns=net.sizes[0])[0]
    y = losses.targets(_checks._as_array("y", y)[None], loss, 1, net.sizes[-1])[0]

    inputs = [Value(float(v), name=f"x[{i}]") for i, v in enumerate(x)]
    a, weights, biases, pre = inputs, [], [], []
    for layer, (W, b, activation) in enumerate(zip(net.weights, net.biases, net.activations), start=1):
        W_leaves = _leaves(W, lambda i, j: f"W{layer}[{i},{j}]")
        b_leaves = _leaves(b, lambda j: f"b{layer}[{j}]")
        z = [_sum([a[i] * W_leaves[i, j] for i in range(W.shape[0])] + [b_leaves[j]], name=f"z{layer}[{j}]")
             for j in range(W.shape[1])]
        a = _activate(z, activation)
        if activation != "linear":
            for j, node in enumerate(a):
                node.name = f"a{layer}[{j}]"
        weights.append(W_leaves)
        biases.append(b_leaves)
        pre.append(np.array(z, dtype=object))
    L = _loss(a, y, spec.name)
    graph = _node(L.op, L.data, L.parents, L.local_grads, cls=NetworkGraph)
    graph.name = "L"
    graph.weights, graph.biases, graph.inputs, graph.pre = weights, biases, inputs, pre
    return graph


def _leaves(array: np.ndarray, name) -> np.ndarray:
    """An object array of leaf Values shaped like ``array``, each named ``name(*index)``."""
    leaves = np.empty(array.shape, dtype=object)
    for index, v in np.ndenumerate(array):
        leaves[index] = Value(float(v), name=name(*index))
    return leaves


def _activate(z: list, activation: str) -> list:
    """The layer's activation on its z nodes, as graph nodes (see activations.py for the formulas)."""
    if activation == "linear":
        return z
    if activation == "softmax":
        shift = max(node.data for node in z)     # a constant: softmax does not change when z shifts
        exps = [(node - shift).exp() for node in z]
        total = _sum(exps)
        return [e / total for e in exps]
    return [getattr(node, activation)() for node in z]


def _loss(outputs: list, y: np.ndarray, loss: str) -> Value:
    """The loss of one sample as a graph node: losses.py's formulas for a batch of one."""
    floor = losses.LOG_FLOOR
    if loss == "mse":
        squares = [(p - float(t)) ** 2 for p, t in zip(outputs, y)]
        return squares[0] if len(squares) == 1 else _sum(squares) / len(squares)
    if loss == "bce":
        p = outputs[0]
        return -(p.log(floor) if y[0] == 1 else (1.0 - p).log(floor))
    return -outputs[int(y)].log(floor)         # cross_entropy: -log p[y]
