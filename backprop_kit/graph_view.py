"""The computational graph drawn with Matplotlib: a layered layout, left to right, and a view of
it updated in place (no ipywidgets here; the GraphStepper panel shows it).

    plan = lay_out(L)                                  # where each node of L's graph sits, in inches
    figure = Figure(figsize=(plan.width, plan.height))
    view = GraphView(figure.add_axes([0, 0, 1, 1]), labels, plan)
    view.show(values, grads, complete, passed)         # what the boxes say, which are highlighted

Readable up to about 40 nodes (a small network on one sample: ``bk.graph.from_network``).
"""
from __future__ import annotations

from dataclasses import dataclass

from matplotlib.offsetbox import AnchoredOffsetbox, HPacker, TextArea
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from . import graph, plots
from .graph import Value

SWEEPS = 12                 # barycentre passes that order the nodes of each column

# sizes in inches (the figure's data coordinates are inches from the top left)
BOX_W, BOX_H, CONSTANT_H = 0.74, 0.47, 0.24
ROW_GAP = 0.19              # between boxes of one column (an operation's name sits above its box)
COLUMN = (0.94, 1.3)        # a column's width, a box and the gap after it: the widest that fits
MARGIN = 0.12
MAX_FIGURE_WIDTH = 9.6      # about a JupyterLab notebook's width
NOTE_GAP = 0.30             # the least gap between columns with room for numbers on the arrows
KEY_H = 0.18                # the key above the graph
HEADER_SIZE, NUMBER_SIZE, NOTE_SIZE, NAME_SIZE, KEY_SIZE = 8.5, 8.0, 6.5, 7.0, 7.5

INK, FAINT = plots.PALETTE["ink"], "#8a8a8a"
GRAD = "#c2410c"            # gradients: dark orange, the colour of the backward pass
PARTIAL = "#e8a57c"         # a gradient still being summed (not every consumer has sent its share)
EDGE = "#b8b8b8"
STYLES = {                  # (face, edge, line width) of a node's box
    "plain": ("white", "#9a9a9a", 0.9),
    "leaf": ("#f3f4f6", "#9a9a9a", 0.9),
    "constant": ("#fafafa", "#d4d4d4", 0.7),
    "hidden": ("white", "#d4d4d4", 0.9),            # not computed yet
    "passed": ("white", "#f3b88a", 1.1),            # the backward pass took it: its gradient went on
    "passed leaf": ("#f3f4f6", "#f3b88a", 1.1),
    "forward": ("#dbe7f4", plots.PALETTE["train"], 2.2),
    "backward": ("#fde3cc", GRAD, 2.4),
    "input": ("#fde6cf", "#e8894a", 1.6),
}


def number(value: float, digits: int = 3) -> str:
    """A value as the graph shows it: ``digits`` significant digits (no '-0')."""
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


# --- the layout: columns by longest path, rows by barycentre sweeps ------------------------------

@dataclass
class GraphLayout:
    """Where each node of a graph sits, in inches from the top left of the figure.

    ``nodes``: every node, in topological order; ``centre[node]``: (x, y) of its box;
    ``routes[(child, k)]``: the points the edge from the child's k-th input passes through,
    from the input's right side to the child's left side; ``columns`` and ``column`` (their
    number and width); ``width``, ``height``: the figure's.
    """

    nodes: list
    centre: dict
    routes: dict
    columns: int
    column: float
    width: float
    height: float


def _height(node) -> float:
    return CONSTANT_H if node.constant else BOX_H


def lay_out(output: Value) -> GraphLayout:
    """Lay the graph of ``output`` out left to right, the output in the last column.

    Columns: an operation sits one column right of its furthest input (the longest path from
    the leaves); a leaf sits just left of its first consumer. An edge that spans several
    columns passes through a bend point in each, which is ordered like a node. Rows: each
    column is ordered by the mean row of its neighbours, sweeping right and left (SWEEPS
    times, keeping the order with the fewest crossings), then the rows are placed as near
    their neighbours as the gaps between boxes allow.
    """
    nodes = graph.topological_order(output)
    column, columns = _columns(nodes)
    items, up, down, bends = _chains(nodes, column, columns)
    order = _order(items, up, down)
    height = {item: (_height(item) if isinstance(item, Value) else 0.0) for col in items for item in col}
    rows = _rows(order, up, down, height)

    top = min(rows[item] - height[item] / 2 for item in rows) - ROW_GAP - KEY_H    # (the key, a name on top)
    bottom = max(rows[item] + height[item] / 2 for item in rows)
    step = min(COLUMN[1], max(COLUMN[0], (MAX_FIGURE_WIDTH - 2 * MARGIN - BOX_W) / max(columns - 1, 1)))
    centre = {item: (MARGIN + step * column_of + BOX_W / 2, MARGIN + rows[item] - top)
              for column_of, col in enumerate(order) for item in col}
    width = 2 * MARGIN + step * (columns - 1) + BOX_W
    return GraphLayout(nodes, {n: centre[n] for n in nodes}, _routes(nodes, centre, bends), columns, step,
                       width, 2 * MARGIN + bottom - top)


def _columns(nodes) -> tuple[dict, int]:
    """({node: its column}, how many columns): an operation one column right of its furthest
    input, a leaf just left of its first consumer."""
    consumers = {node: [] for node in nodes}
    for node in nodes:
        for parent in node.parents:
            if node not in consumers[parent]:
                consumers[parent].append(node)
    column = {}
    for node in nodes:
        column[node] = 1 + max((column[p] for p in node.parents), default=-1)
    for node in reversed(nodes):                       # leaves move right, next to their first consumer
        if not node.parents and consumers[node]:
            column[node] = min(column[c] for c in consumers[node]) - 1
    shift = min(column.values())
    column = {node: c - shift for node, c in column.items()}
    return column, max(column.values()) + 1


def _chains(nodes, column: dict, columns: int):
    """The items of each column (nodes, and a bend point (parent, child, column) in every column an
    edge crosses), their neighbours one column left (``up``) and right (``down``), and each edge's
    bends: ``(items, up, down, bends)``."""
    items = [[] for _ in range(columns)]
    for node in nodes:
        items[column[node]].append(node)
    up = {node: [] for node in nodes}
    down = {node: [] for node in nodes}
    bends = {}
    for child in nodes:
        for parent in dict.fromkeys(child.parents):
            chain = [parent]
            for c in range(column[parent] + 1, column[child]):
                bend = (parent, child, c)
                items[c].append(bend)
                up[bend], down[bend] = [], []
                chain.append(bend)
            chain.append(child)
            for a, b in zip(chain, chain[1:]):
                down[a].append(b)
                up[b].append(a)
            bends[(parent, child)] = chain[1:-1]
    return items, up, down, bends


def _routes(nodes, centre: dict, bends: dict) -> dict:
    """The points each edge passes through: from the input's right side, through its bends, to a
    port on the child's left side (one port per input, spread over the box's height)."""
    routes = {}
    for child in nodes:
        x1, y1 = centre[child]
        k_inputs = len(child.parents)
        for k, parent in enumerate(child.parents):
            x0, y0 = centre[parent]
            port = y1 + (k - (k_inputs - 1) / 2) * min(0.12, 0.8 * BOX_H / max(k_inputs, 1))
            routes[(child, k)] = [(x0 + BOX_W / 2, y0), *(centre[bend] for bend in bends[(parent, child)]),
                                  (x1 - BOX_W / 2, port)]
    return routes


def _crossings(order, down) -> int:
    total = 0
    for left, right in zip(order, order[1:]):
        where = {item: k for k, item in enumerate(right)}
        edges = [(i, where[d]) for i, item in enumerate(left) for d in down[item] if d in where]
        total += sum(1 for a, (i, j) in enumerate(edges) for (k, m) in edges[a + 1:] if (i - k) * (j - m) < 0)
    return total


def _order(items, up, down) -> list:
    """Each column's items ordered to reduce crossings: barycentre sweeps, the best order kept."""
    order = [list(col) for col in items]
    best, fewest = [list(col) for col in order], _crossings(order, down)

    def sweep(columns, neighbours, reference):
        for c in columns:
            where = {item: k for k, item in enumerate(order[reference(c)])}

            def barycentre(k_item):
                k, item = k_item
                found = [where[n] for n in neighbours[item] if n in where]
                return sum(found) / len(found) if found else k
            order[c] = [item for _, item in sorted(enumerate(order[c]), key=barycentre)]

    for _ in range(SWEEPS):
        sweep(range(1, len(order)), up, lambda c: c - 1)
        sweep(range(len(order) - 2, -1, -1), down, lambda c: c + 1)
        count = _crossings(order, down)
        if count < fewest:
            best, fewest = [list(col) for col in order], count
    return best


def _rows(order, up, down, height) -> dict:
    """Rows (inches, downwards) for every item: near the mean of its neighbours, in the given order,
    never closer than the boxes' heights and ROW_GAP allow (a least-squares fit, see _fit)."""
    rows = {}
    for col in order:                                  # start: each column stacked from the top
        y = 0.0
        for item in col:
            rows[item] = y + height[item] / 2
            y += height[item] + ROW_GAP
    for sweep in range(2 * SWEEPS):
        columns = range(len(order)) if sweep % 2 == 0 else range(len(order) - 1, -1, -1)
        for c in columns:
            col = order[c]
            wanted = []
            for item in col:
                near = [rows[n] for n in up[item] + down[item]]
                wanted.append(sum(near) / len(near) if near else rows[item])
            for item, y in zip(col, _fit(wanted, [height[i] + (ROW_GAP if isinstance(i, Value) else ROW_GAP / 2)
                                                  for i in col])):
                rows[item] = y
    return rows


def _fit(wanted: list, sizes: list) -> list:
    """Positions as near ``wanted`` as possible (least squares) keeping their order, each at least
    (sizes[k] + sizes[k+1]) / 2 after the one before: pool-adjacent-violators on the offsets."""
    offsets, total = [], 0.0
    for k in range(len(wanted)):
        if k:
            total += (sizes[k - 1] + sizes[k]) / 2
        offsets.append(total)
    blocks = []                                        # [mean, count] of pooled targets, non-decreasing
    for target in (w - o for w, o in zip(wanted, offsets)):
        blocks.append([target, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            blocks[-1] = [(blocks[-1][0] * blocks[-1][1] + mean * count) / (blocks[-1][1] + count),
                          blocks[-1][1] + count]
    fitted = [mean for mean, count in blocks for _ in range(count)]
    return [f + o for f, o in zip(fitted, offsets)]


# --- the drawing: boxes, edges and texts, made once and updated in place ------------------------

def _symbol(op: str) -> str:
    return {"neg": "negate", "-": "−", "*": "×", "/": "÷"}.get(op, op)


class GraphView:
    """A laid-out graph (``plan``) drawn on ``ax`` (whose data coordinates are the plan's
    inches): a box per node with its operation (its name above it) or a leaf's name, its value
    and its gradient, and an arrow per input; ``labels``: {node: the name to show}.

    ``show(...)`` updates what the boxes say and which are highlighted; nothing is created after
    __init__, so a figure that shows it changes only when ``show`` changed something.
    """

    def __init__(self, ax, labels: dict, plan: GraphLayout, digits: int = 3):
        self.ax, self.plan, self.digits, self.labels = ax, plan, digits, labels
        ax.set_xlim(0, plan.width)
        ax.set_ylim(plan.height, 0)
        ax.set_axis_off()
        self.boxes, self.values, self.grads = {}, {}, {}
        self.notes_fit = plan.column - BOX_W >= NOTE_GAP      # room for a contribution on each arrow
        for node in plan.nodes:
            x, y = plan.centre[node]
            h = _height(node)
            box = FancyBboxPatch((x - BOX_W / 2, y - h / 2), BOX_W, h, boxstyle="round,pad=0,rounding_size=0.05",
                                 zorder=3)
            ax.add_patch(box)
            self.boxes[node] = box
            if node.constant:
                ax.text(x, y, labels[node], ha="center", va="center", fontsize=NUMBER_SIZE, color=FAINT, zorder=4)
                continue
            top = y - h / 2
            if node.parents:            # an operation: its name above the box, the operation inside
                ax.text(x - BOX_W / 2 + 0.02, top - 0.025, labels[node], ha="left", va="bottom",
                        fontsize=NAME_SIZE, color=INK, zorder=4)
            header = _symbol(node.op) if node.parents else labels[node]
            ax.text(x, y - 0.115, header, ha="center", va="center", fontweight="bold", color=INK, zorder=4,
                    fontsize=HEADER_SIZE * min(1.0, 8 / max(len(header), 1)))
            self.values[node] = ax.text(x, y + 0.02, "", ha="center", va="center", fontsize=NUMBER_SIZE,
                                        color=INK, zorder=4)
            self.grads[node] = ax.text(x, y + 0.14, "", ha="center", va="center", fontsize=NUMBER_SIZE,
                                       color=GRAD, zorder=4)
        _key(ax)
        self.arrows, self.notes = {}, {}
        for (child, k), points in plan.routes.items():
            arrow = FancyArrowPatch(path=_curve(points), arrowstyle="-|>", mutation_scale=7, shrinkA=0,
                                    shrinkB=0, color=EDGE, linewidth=0.9, zorder=1)
            ax.add_patch(arrow)
            self.arrows[(child, k)] = arrow
            (x0, y0), (x1, y1) = points[-2], points[-1]
            self.notes[(child, k)] = ax.text(
                x0 + 0.5 * (x1 - x0), y0 + 0.5 * (y1 - y0), "", ha="center", va="center", fontsize=NOTE_SIZE,
                color=GRAD, zorder=5, visible=False,
                bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none"))

    def show(self, values: dict, grads: dict, complete: set, passed: set, focus=None, mode: str | None = None,
             contributions: dict | None = None) -> None:
        """values/grads: {node: number shown} (missing: not known yet); complete: the nodes whose
        gradient is complete (every consumer sent its share; the others' are drawn paler); passed:
        those the backward pass took; focus: the node of this step ('forward' or 'backward'
        ``mode``), whose inputs are highlighted too; contributions: {(focus, k): text} on its
        input arrows (drawn when the gap between columns has room)."""
        inputs = set(focus.parents) if focus is not None else set()
        for node, box in self.boxes.items():
            face, edge, width = STYLES[_style(node, focus, mode, inputs, values, passed)]
            box.set_facecolor(face)
            box.set_edgecolor(edge)
            box.set_linewidth(width)
            if node.constant:
                continue
            self.values[node].set_text(number(values[node], self.digits) if node in values else "")
            self.grads[node].set_text(number(grads[node], self.digits) if node in grads else "")
            self.grads[node].set_color(GRAD if node in complete else PARTIAL)
        contributions = contributions or {}
        for key, arrow in self.arrows.items():
            lit = focus is not None and key[0] is focus
            arrow.set_color((GRAD if mode == "backward" else plots.PALETTE["train"]) if lit else EDGE)
            arrow.set_linewidth(1.8 if lit else 0.9)
            arrow.set_zorder(2 if lit else 1)
            note = self.notes[key]
            note.set_visible(key in contributions and self.notes_fit)
            note.set_text(contributions.get(key, ""))


def _style(node, focus, mode, inputs, values, passed) -> str:
    """The STYLES entry of a node's box: this step's node, its inputs, then by what is known."""
    if node is focus:
        return mode
    if node in inputs:
        return "input"
    if node.constant:
        return "constant"
    if node not in values:
        return "hidden"
    if node in passed:
        return "passed leaf" if not node.parents else "passed"
    return "leaf" if not node.parents else "plain"


def _key(ax) -> None:
    """What a box shows, in one line above the graph."""
    parts = [("Each box: its ", FAINT, "normal"), ("operation", INK, "bold"), (" (or a leaf's name), ", FAINT, "normal"),
             ("value", INK, "normal"), (" and ", FAINT, "normal"), ("gradient dL/d(node)", GRAD, "normal"),
             (" (paler while its parts are still arriving)", FAINT, "normal")]
    line = HPacker(children=[TextArea(text, textprops=dict(color=colour, fontsize=KEY_SIZE, fontweight=weight))
                             for text, colour, weight in parts], sep=0, pad=0)
    ax.add_artist(AnchoredOffsetbox("upper left", child=line, pad=0, borderpad=0, frameon=False,
                                    bbox_to_anchor=(MARGIN, MARGIN / 2), bbox_transform=ax.transData))


def _curve(points) -> Path:
    """A smooth path through ``points`` (left to right): a cubic Bezier between each pair."""
    vertices, codes = [points[0]], [Path.MOVETO]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        dx = (x1 - x0) / 2
        vertices += [(x0 + dx, y0), (x1 - dx, y1), (x1, y1)]
        codes += [Path.CURVE4] * 3
    return Path(vertices, codes)
