"""GraphStepper: backpropagation on a computational graph, one node at a time, every number shown.

    import backprop_kit as bk
    from backprop_kit.widgets import GraphStepper
    x, w, b = bk.Value(0.5, name="x"), bk.Value(-1.2, name="w"), bk.Value(0.1, name="b")
    GraphStepper(((x * w + b).tanh() - 1.0) ** 2)

Forward computes the nodes one at a time, in topological order (the leaves are given).
Backward then takes them from the output back: each step shows the node's gradient (1 at the
output; for a node used several times, the sum of what its consumers sent) and, for each of
its inputs, upstream x local = contribution. The numbers are those of ``bk.graph.BackwardPass``,
the same code ``output.backward()`` runs, kept in the panel's own table: the learner's nodes
(their ``.grad``) are never changed.
"""
from __future__ import annotations

import collections

import ipywidgets as widgets

from backprop_kit import _checks, graph
from backprop_kit.graph import Value
from backprop_kit.graph_view import GraphView, lay_out, number

from . import _args
from .canvas import live_figure
from ._base import Panel, Status, button

MAX_NODES = 60              # more than this is refused: ~40 stay readable, 60 is crowded
MAX_COLUMNS = 14            # ... and so is a graph deeper than this (a long chain)


# --- the panel ------------------------------------------------------------------------------------

class ChainRuleStatus(Status):
    """The status line, on several lines: one per input of a backward step."""

    def show(self, text: str, kind: str = "info") -> None:
        super().show(text, kind)
        self.value = f'<div style="white-space:pre-line;line-height:1.35">{self.value}</div>'


def _output(name: str, value, settings: dict) -> Value:
    if not isinstance(value, Value):
        raise TypeError(f"{name} must be a backprop_kit.Value (the node to differentiate, e.g. a loss); "
                        f"got {_checks._show(value)} of type {type(value).__name__}")
    return value


ARGUMENTS = {"output": _args.Custom(_output), "digits": _args.Whole(2, 6)}
# (class suffix, label, icon, tooltip) of the four buttons, left to right
_BUTTONS = (("forward", "Forward", "step-forward", "Compute the next node's value from its inputs"),
            ("backward", "Backward", "step-backward",
             "The next node from the output back: its gradient, passed to its inputs"),
            ("run", "Run all", "fast-forward", "The rest of the forward pass and of the backward pass"),
            ("reset", "Reset", "undo", "Back to the leaves only"))


class GraphStepper(Panel):
    """Step through the forward and backward pass of a computational graph, one node at a time.

    GraphStepper(output, *, digits=3)

    - output: the Value to differentiate (e.g. a loss built from ``bk.Value`` leaves, or
      ``bk.graph.from_network(...)``): at most MAX_NODES (60) nodes and MAX_COLUMNS (14) deep.
    - digits: significant digits of the numbers on the graph, 2 to 6 (the status shows 4).

    Controls (CSS classes): ``bk-graph-forward`` (compute the next node), ``bk-graph-backward``
    (the next node from the output back), ``bk-graph-run`` (the rest of both passes),
    ``bk-graph-reset``; the status ``bk-graph-status`` (also ``bk-status``) writes each step
    with its numbers; the figure ``bk-graph``. Methods ``step_forward()``, ``step_backward()``,
    ``run_all()``, ``reset()`` do what the buttons do.

    The panel never changes the graph: it computes the gradients in its own table with
    ``bk.graph.BackwardPass``, the code ``output.backward()`` runs, so what it shows is what
    ``output.backward()`` gives, and the nodes' ``.grad`` stay as they were. Attributes:
    ``output``, ``graph_layout``, ``labels`` ({node: its name, or n1, n2, ... for unnamed
    operations}), ``computed`` (the operation nodes in forward order), ``forward_done``,
    ``backward_nodes`` (every node but the constants, output first), ``backward_done``,
    ``last_step`` (the graph.Step of the last backward step), ``shown_values()``,
    ``shown_grads()``.
    """

    def __init__(self, output: Value, *, digits: int = 3):
        digits = _args.check(ARGUMENTS, locals())["digits"]       # output too: it must be a Value
        _check_size(output)
        super().__init__()
        self.add_class("bk-graph-stepper")
        self.output, self.digits, self.graph_layout = output, digits, lay_out(output)
        self.status = ChainRuleStatus()
        self.status.add_class("bk-graph-status")
        nodes = self.graph_layout.nodes
        self.computed = [node for node in nodes if node.parents]
        self.backward_nodes = [node for node in reversed(nodes) if not node.constant]
        self.labels = _labels(nodes)
        self._uses = collections.Counter(parent for node in nodes for parent in node.parents)

        self.forward_button, self.backward_button, self.run_button, self.reset_button = (
            button(label, f"bk-graph-{name}", icon=icon, tooltip=tooltip) for name, label, icon, tooltip in _BUTTONS)
        self.on_click(self.forward_button, self.step_forward)
        self.on_click(self.backward_button, self.step_backward)
        self.on_click(self.run_button, self.run_all)
        self.on_click(self.reset_button, self.reset)

        self.figure, self.canvas = live_figure(self.graph_layout.width, self.graph_layout.height, css_class="bk-graph")
        self.figure.set_layout_engine("none")
        self.view = GraphView(self.figure.add_axes([0, 0, 1, 1]), self.labels, self.graph_layout, self.digits)
        self.canvas.follow([])           # nothing moves between full draws: every change is drawn whole

        intro = widgets.HTML(
            "<b>Backpropagation on a computational graph.</b> <b>Forward</b> computes one node's value from "
            "its inputs. <b>Backward</b> starts at the output (gradient 1) and takes one node at a time "
            "back towards the leaves: each input gets <i>upstream × local = contribution</i>, and a node "
            "used several times adds up what it gets.")
        self.children = [intro, widgets.HBox([self.forward_button, self.backward_button, self.run_button,
                                              self.reset_button]), self.status, self.canvas]
        self.reset()

    # --- what the buttons do ---------------------------------------------------------------------
    def step_forward(self) -> Value | None:
        """Compute the next node (show its value); returns it, or None when the forward pass is done."""
        if self.forward_done == len(self.computed):
            self.status.show("The forward pass is done: every value is known. Next: Backward.")
            return None
        node = self.computed[self.forward_done]
        self.forward_done += 1
        self._focus, self._mode, self._contributions = node, "forward", {}
        self.status.show(self._forward_text(node))
        self._refresh()
        return node

    def step_backward(self) -> graph.Step | None:
        """The next node from the output back; returns its graph.Step, or None (forward pass not
        done yet: the status says so; or the backward pass is done)."""
        if self.forward_done < len(self.computed):
            self.status.show(f"Not yet: the backward pass needs every value first. Press Forward "
                             f"({len(self.computed) - self.forward_done} node(s) to go) or Run all.", "warning")
            return None
        if self.backward_done == len(self.backward_nodes):
            self.status.show(self._done_text())
            return None
        step = self._next_step()
        self._focus, self._mode = step.node, "backward"
        self._contributions = {(step.node, k): f"{number(c, self.digits)}" for k, (_, _, c) in enumerate(step.sent)}
        self.status.show(self._backward_text(step))
        self._refresh()
        return step

    def run_all(self) -> None:
        """The rest of the forward pass and of the backward pass, at once."""
        self.forward_done = len(self.computed)
        while self.backward_done < len(self.backward_nodes):
            self._next_step()
        self._focus, self._mode, self._contributions = None, None, {}
        self.status.show(self._done_text())
        self._refresh()

    def reset(self) -> None:
        """Back to the start: the leaves' values only, no gradients."""
        self.forward_done = self.backward_done = 0
        self._pass = graph.BackwardPass(self.output, self.graph_layout.nodes)
        self._final: set = set()
        self.last_step = None
        self._focus, self._mode, self._contributions = None, None, {}
        operations, leaves = len(self.computed), len(self.backward_nodes) - len(self.computed)
        self.status.show(f"The graph of {self.labels[self.output]}: {_count(leaves, 'leaf', 'leaves')} (values given) "
                         f"and {_count(operations, 'operation', 'operations')}. "
                         + ("Press Forward to compute them one at a time, or Run all." if operations else
                            "Nothing to compute: press Backward."))
        self._refresh()

    # --- what is shown -------------------------------------------------------------------------
    def shown_values(self) -> dict:
        """{node: value} for every node whose value the graph shows (leaves, and the nodes computed so far)."""
        done = set(self.computed[:self.forward_done])
        return {node: node.data for node in self.graph_layout.nodes
                if not node.constant and (not node.parents or node in done)}

    def shown_grads(self) -> dict:
        """{node: gradient} for every node the backward pass reached so far (partial for those
        still waiting for some of their consumers: see complete_grads())."""
        grads = self._pass.grads
        return {node: grads[node] for node in self.backward_nodes
                if node in self._final or self._pass.received[node]}

    def complete_grads(self) -> set:
        """The nodes whose gradient is complete: every use of them has sent its share back."""
        received = self._pass.received
        return {node for node in self.backward_nodes if node in self._final or 0 < self._uses[node] == len(received[node])}

    def _next_step(self) -> graph.Step:
        step = self._pass.step()
        while step.node.constant:          # a constant has no inputs: nothing to show or pass on
            step = self._pass.step()
        self._final.add(step.node)
        self.backward_done += 1
        self.last_step = step
        return step

    def _refresh(self) -> None:
        self.view.show(self.shown_values(), self.shown_grads(), self.complete_grads(), self._final, self._focus,
                       self._mode, self._contributions)
        forward_left = self.forward_done < len(self.computed)
        backward_left = self.backward_done < len(self.backward_nodes)
        self.forward_button.disabled = not forward_left
        self.backward_button.disabled = forward_left or not backward_left
        self.run_button.disabled = not (forward_left or backward_left)
        self.forward_button.button_style = "primary" if forward_left else ""
        self.backward_button.button_style = "primary" if not forward_left and backward_left else ""
        self.canvas.show()

    # --- the status line -------------------------------------------------------------------------
    def _n(self, value: float) -> str:
        return number(value, 4)

    def _forward_text(self, node: Value) -> str:
        labels = [self.labels[p] for p in node.parents]
        values = [self._n(p.data) for p in node.parents]
        text = (f"Forward {self.forward_done}/{len(self.computed)}: {self.labels[node]} = "
                f"{graph.expression(node.op, labels)} = {graph.expression(node.op, values)} = {self._n(node.data)}")
        if self.forward_done == len(self.computed):
            text += "\nThe forward pass is done. Next: Backward, from the output back to the leaves."
        return text

    def _backward_text(self, step: graph.Step) -> str:
        node, label = step.node, self.labels[step.node]
        formula = f" = {graph.expression(node.op, [self.labels[p] for p in node.parents])}" if node.parents else ""
        lines = [f"Backward {self.backward_done}/{len(self.backward_nodes)}: {label}{formula}"]
        if node is self.output:
            lines.append(f"Its gradient dL/d{label} = 1: the backward pass starts at the output.")
        elif len(step.received) == 1:
            consumer, _ = step.received[0]
            lines.append(f"Its gradient {self._n(step.grad)}, sent by its one consumer {self.labels[consumer]}.")
        else:
            parts = " + ".join(f"{self._n(c)} (from {self.labels[consumer]})" for consumer, c in step.received)
            lines.append(f"Used {len(step.received)} times: its gradient is the sum of what each use sent back, "
                         f"{parts} = {self._n(step.grad)}.")
        if not node.parents:
            lines.append(f"A leaf: nothing to pass on. dL/d{label} = {self._n(step.grad)}.")
            return "\n".join(lines)
        lines.append("To each input, upstream × local = contribution:")
        formulas = graph.local_formulas(node, self.labels.__getitem__)
        for (parent, local, contribution), formula_ in zip(step.sent, formulas):
            lines.append(f"  {self.labels[parent]}: {self._n(step.grad)} × {self._n(local)} = "
                         f"{self._n(contribution)}   (local d{label}/d{self.labels[parent]} = {formula_})")
        return "\n".join(lines)

    def _done_text(self) -> str:
        leaves = [node for node in self.backward_nodes if not node.parents][::-1]
        shown = ", ".join(f"dL/d{self.labels[leaf]} = {self._n(self._pass.grads[leaf])}" for leaf in leaves[:6])
        more = f" (and {len(leaves) - 6} more)" if len(leaves) > 6 else ""
        return (f"Both passes are done: every node shows dL/d(node), the numbers {self.labels[self.output]}"
                f".backward() gives. {shown}{more}. Reset to start again.")


def _count(n: int, one: str, several: str) -> str:
    return f"{n} {one if n == 1 else several}"


def _check_size(output: Value) -> None:
    nodes = graph.topological_order(output)
    if len(nodes) > MAX_NODES:
        raise ValueError(f"output must have a graph of at most {MAX_NODES} nodes to be drawn readably; got "
                         f"{len(nodes)}. Try a smaller expression or network (e.g. bk.Network([2, 2, 1]))")
    depth = {}
    for node in nodes:
        depth[node] = 1 + max((depth[p] for p in node.parents), default=0)
    if depth[output] > MAX_COLUMNS + 1:
        raise ValueError(f"output must have a graph at most {MAX_COLUMNS} operations deep to be drawn readably; "
                         f"got {depth[output] - 1}")


def _labels(nodes) -> dict:
    """{node: name}: the node's own name, or n1, n2, ... for the unnamed ones (a number for a constant)."""
    labels, count = {}, 0
    for node in nodes:
        if node.constant:
            labels[node] = number(node.data, 4)
        elif node.name:
            labels[node] = node.name
        else:
            count += 1
            labels[node] = f"n{count}"
    return labels
