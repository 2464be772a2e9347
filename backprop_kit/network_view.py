"""The network itself, drawn as TensorFlow Playground draws it, and what its gradients do.

    view = NetworkView(dataset=data)            # an Axes of its own, or ax=...
    view.update(trainer)                        # each neuron: its output over the input plane
    view.set_show("gradients")                  # edges |dL/dw| of the last step, neurons |delta|

Columns from left to right: the inputs (the features the network reads), each hidden layer, the
output. Each neuron is a thumbnail of what it computes over the input plane (the same plane as
the decision boundary; 2-D data only), blue below zero, white at zero, orange above (as the
boundary: a sigmoid or softmax neuron is white at 0.5). Each edge from neuron i of one column to
neuron j of the next is the weight W[i, j]: orange if positive, blue if negative, wider the
larger it is. ``set_show("gradients")`` shows the backward pass on the same picture instead:
each edge's |dL/dw| of the last step and each neuron's mean |delta| = |dL/dz| over that step's
mini-batch, on one log colour scale from 1e-8 (pale, thin: vanishing) to 1e2 (dark, wide:
exploding), so a network whose gradients vanish fades towards the input side and one whose
gradients explode flares. Layers wider than ``SHOWN`` neurons show their first ``SHOWN`` and
"+k more". ``describe(x, y)`` names the neuron or edge under a point of the figure (pixels) and
its numbers; ``enlarge(layer, index)`` draws one neuron large, with the data, on ``zoom_ax``.

Like the views of ``plots``, its artists are made once per network shape and an update only
changes their data: the thumbnails of a column are one image (``set_data``; the thumbnails one
under the other, with transparent rows between them), and the edges are a few lines, one per
colour and width (``set_data`` with NaN between the edges), so that a live canvas sends numbers,
not pictures, and a frame costs a few images and lines however many neurons there are.
``picture(column, index)`` is one neuron's thumbnail. No ipywidgets here.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_rgba
from matplotlib.patches import Rectangle

from . import datasets, plots
from .datasets import Dataset
from .network import Network
from .stages import Gradients, _forward

SHOWS = ("weights", "gradients")
SHOWN = 8                   # neurons drawn per layer; the rest are counted: "+k more"
RESOLUTION = 24             # thumbnail pixels per side (the grid the neurons are computed on)
PITCH = 32                  # a column's picture: rows from one thumbnail's top to the next one's
ZOOM_RESOLUTION = 80
BOX = 0.64                  # a thumbnail's side (the unit of the layout: 1 = a neuron's pitch)
ROW = BOX * PITCH / RESOLUTION     # 0.853: from one neuron's centre to the next one's, down a column
COLUMN = 1.9                # from one column's centre to the next one's: room for the edges

# weights: |w| at which an edge gets the next width; gradients: log10 |g| from LOG_RANGE[0] to [1]
WEIGHT_STEPS = (0.25, 0.5, 1.0, 2.0)
WEIGHT_WIDTHS = (0.4, 0.8, 1.3, 2.0, 2.8)
LOG_RANGE = (-8.0, 2.0)
GRADIENT_BINS = 10          # one line per decade
# pale where gradients vanish, orange in the healthy range (1e-3 .. 1), dark red to black where they explode
GRADIENT_COLORMAP = LinearSegmentedColormap.from_list(
    "bk_gradient", [(0.0, "#f4f4f4"), (0.3, "#fde4cc"), (0.5, "#fdb57d"), (0.7, "#f0802e"),
                    (0.8, "#d9480f"), (0.9, "#8c2d04"), (1.0, "#3b0f02")])
POSITIVE, NEGATIVE = plots.CLASS_COLORS[1], plots.CLASS_COLORS[0]     # orange, blue: as the boundary
CURVE_POINTS = 12           # points along each edge's curve


class NetworkView:
    """The network as columns of neuron thumbnails joined by weighted edges (see the module).

    NetworkView(ax=None, dataset, features=("x1", "x2"), show="weights", zoom_ax=None).
    ``dataset``: a 2-D Dataset (its points set the plane); ``features``: the names of
    ``bk.datasets.features`` the network's inputs are, in order. ``update(source)`` takes a
    Trainer (its ``net`` and, for the gradients view, its ``gradients``: the last step's) or a
    Network (weights only).
    """

    def __init__(self, ax=None, dataset: Dataset | None = None, features=None,
                 show: str = "weights", zoom_ax=None):
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be a backprop_kit Dataset (its points set the plane the neurons "
                            f"are drawn over); got {dataset!r}")
        if show not in SHOWS:
            raise ValueError(f"show must be one of {SHOWS}; got {show!r}")
        self.ax = plots._axes(ax, (5.6, 3.4))
        self.zoom_ax = zoom_ax
        self.dirty_x = plots.ALL          # an update changes the whole picture
        self.show = show
        self.dataset = dataset
        self.sizes = None                 # the network shape the artists are built for
        self.net = None
        self.gradients = None
        self.zoomed = None                # (layer, index) drawn on zoom_ax, or None
        self._artists, self.images, self.lines = [], [], []
        self._zoom_image = self._hint = None
        self.set_dataset(dataset, features)

    # -- building (once per dataset and network shape) --
    def set_dataset(self, dataset: Dataset, features=None, plane=None) -> None:
        """Another dataset, input features or plane ((x1 low, high, x2 low, high); default: around
        the points, as the boundary's): the grid is made anew and the next update rebuilds.

        2-D data: each neuron over the plane, the inputs ``features`` (default x1, x2). 1-D data:
        each neuron along x, as a strip. Other data: the network's edges only, grey neurons."""
        d = dataset.n_inputs
        if features is not None and d != 2:
            raise ValueError(f"features need 2-D data (x1, x2); dataset {dataset.name!r} has {d} inputs")
        self.dataset, self.sizes = dataset, None
        if self.zoom_ax is not None:             # its picture and points are the old data's
            self.zoom_ax.cla()
            self._zoom_image = None
            if d != 2:
                self.zoomed = None
                self.zoom_ax.set_visible(False)
        X = np.concatenate([dataset.X_train, dataset.X_test])
        if d == 2:
            self.features = datasets.feature_names(features or ("x1", "x2"))
            self.extent = tuple(plane or plots.square_plane(X))
            self._inputs = datasets.features(_grid(self.extent, RESOLUTION), self.features)
        elif d == 1:
            self.features = ("x",)
            low, high = (float(X.min()), float(X.max())) if len(X) else (-1.0, 1.0)
            self.extent = (low, high, 0.0, 1.0)
            self._inputs = np.linspace(low, high, RESOLUTION)[:, None]
        else:
            self.features = tuple(f"x{i + 1}" for i in range(d))
            self.extent, self._inputs = None, None

    def set_show(self, show: str) -> None:
        """'weights' or 'gradients': what the edges and neurons carry. Rebuilds the artists."""
        if show not in SHOWS:
            raise ValueError(f"show must be one of {SHOWS}; got {show!r}")
        self.show = show
        self.sizes = None
        if self.net is not None:
            self.update(self.net if self.gradients is None else _Source(self.net, self.gradients), draw=False)

    def _build(self, net: Network) -> None:
        for artist in self._artists:
            artist.remove()
        self._artists, self.images, self.lines = [], [], []
        self.sizes, self.activations = net.sizes, net.activations
        self.shown = [min(w, SHOWN) for w in net.sizes]
        tallest = max(self.shown)
        self.centres = []                 # per column: (shown, 2) centres in data coordinates
        for c, n in enumerate(self.shown):
            top = (tallest - n) * ROW / 2
            self.centres.append(np.column_stack([np.full(n, c * COLUMN), top + ROW * np.arange(n) + ROW / 2]))
        self._edges = self._edge_curves()
        # each curve followed by a NaN point, so that the curves of one line stay apart
        self._padded = [np.concatenate([curves, np.full(curves.shape[:2] + (1, 2), np.nan)], axis=2)
                        for curves in self._edges]
        self._make_lines()
        self._make_neurons()
        self._make_labels()
        self._artists.extend(self.lines)
        ax, columns = self.ax, len(net.sizes)
        ax.set_xlim(-1.5, (columns - 1) * COLUMN + 0.75)      # room on the left for the inputs' names
        ax.set_ylim(tallest * ROW + 0.2, -0.45)            # ... and above each column for its name
        ax.set_aspect("equal")
        ax.set_axis_off()
        what = ("weights: orange > 0 > blue, wider = larger |w|" if self.show == "weights" else
                "last step's |dL/dw| (edges), |δ| (neurons): pale 1e-8 … dark 1e2")
        ax.set_title(what, fontsize=plots.TICK_SIZE, color=plots.PALETTE["ink"], pad=2)

    def _edge_curves(self) -> list:
        """Per layer, (shown_in, shown_out, CURVE_POINTS, 2): each edge a curve from the right side
        of a neuron to the left side of one in the next column."""
        t = np.linspace(0.0, 1.0, CURVE_POINTS)
        ease, half = t * t * (3 - 2 * t), BOX / 2
        curves = []
        for left, right in zip(self.centres, self.centres[1:]):
            start, end = left + [half, 0], right - [half, 0]
            x = start[:, None, None, 0] + (end[None, :, None, 0] - start[:, None, None, 0]) * t
            y = start[:, None, None, 1] + (end[None, :, None, 1] - start[:, None, None, 1]) * ease
            curves.append(np.stack([x, y], axis=-1))
        return curves

    def _make_lines(self) -> None:
        """One line per edge style: (colour, width) by sign and size, or by decade of |dL/dw|."""
        if self.show == "weights":
            styles = [(color, width) for color in (POSITIVE, NEGATIVE) for width in WEIGHT_WIDTHS]
        else:
            styles = [(GRADIENT_COLORMAP((b + 0.5) / GRADIENT_BINS), _gradient_width(b))
                      for b in range(GRADIENT_BINS)]
        for color, width in styles:
            line, = self.ax.plot([], [], color=color, linewidth=width, solid_capstyle="butt", zorder=1)
            line.bk_style = (color, width)
            self.lines.append(line)

    def _make_neurons(self) -> None:
        """One image per column (its thumbnails PITCH rows apart), a grey frame around each
        thumbnail, and "+k more" under a wide layer."""
        half = BOX / 2
        self._strips = []
        for c, centres in enumerate(self.centres):
            for x, y in centres:
                # the frame lies over the picture's edge (where a browser and Matplotlib resample it alike)
                frame = Rectangle((x - half, y - half), BOX, BOX, facecolor="none", edgecolor="#a8a8a8",
                                  linewidth=1.4, zorder=4)
                self.ax.add_patch(frame)
                self._artists.append(frame)
            # the column's picture: thumbnail j in rows j * PITCH .. + RESOLUTION, transparent between
            strip = np.zeros(((len(centres) - 1) * PITCH + RESOLUTION, RESOLUTION, 4), dtype=np.uint8)
            x, top, bottom = centres[0, 0], centres[0, 1] - half, centres[-1, 1] + half
            image = self.ax.imshow(strip, extent=(x - half, x + half, bottom, top), origin="upper",
                                   interpolation="bilinear", zorder=3)
            # the image's own array (imshow copied the strip): a frame writes into it and calls changed()
            self._strips.append(np.ma.getdata(image.get_array()))
            self.images.append(image)
            self._artists.append(image)
            hidden = self.sizes[c] - self.shown[c]
            if hidden:
                self._artists.append(self.ax.text(c * COLUMN, centres[-1, 1] + half + 0.12, f"+{hidden} more",
                                                  ha="center", va="top", fontsize=plots.TICK_SIZE,
                                                  color=plots.PALETTE["ink"]))

    def _make_labels(self) -> None:
        """Each input's name to its left; above each other column, its layer and activation."""
        ink, size, columns = plots.PALETTE["ink"], plots.TICK_SIZE, len(self.sizes)
        for (x, y), name in zip(self.centres[0], self.features):
            self._artists.append(self.ax.text(x - BOX / 2 - 0.08, y, name, ha="right", va="center",
                                              fontsize=size - 0.5, color=ink))
        room = self._column_points()
        for c in range(1, columns):
            output = c == columns - 1
            name, short = ("output", "out") if output else (f"layer {c}", f"L{c}")
            # the longest name that fits between the columns (about 0.55 of a font size per character)
            fits = [text for text in (f"{name}: {self.activations[c - 1]}", name, short)
                    if len(text) * 0.55 * (size - 0.5) <= room] or ["y" if output else str(c)]
            self._artists.append(self.ax.text(c * COLUMN, self.centres[c][0, 1] - BOX / 2 - 0.1, fits[0],
                                              ha="center", va="bottom", fontsize=size - 0.5, color=ink))

    def _column_points(self) -> float:
        """The distance from one column to the next, in points, on the figure as it is laid out."""
        columns = len(self.sizes)
        width_units = (columns - 1) * COLUMN + 2.25
        height_units = max(self.shown) * ROW + 0.65
        box = self.ax.get_position()
        width_in = box.width * self.ax.figure.get_figwidth()
        height_in = box.height * self.ax.figure.get_figheight()
        inches_per_unit = min(width_in / width_units, height_in / height_units)    # aspect equal: the tighter
        return COLUMN * inches_per_unit * 72

    # -- updating (per frame) --
    def size(self) -> tuple[float, float]:
        """The layout's (width, height) in its units (a neuron's pitch): for a figure of the same aspect."""
        return self.ax.get_xlim()[1] - self.ax.get_xlim()[0], self.ax.get_ylim()[0] - self.ax.get_ylim()[1]

    def moving_artists(self) -> list:
        """The artists an update changes: each column's picture and every edge line."""
        return self.images + self.lines

    def picture(self, column: int, index: int) -> np.ndarray:
        """Neuron ``index`` of ``column`` (0: the inputs) as shown: (RESOLUTION, RESOLUTION, 4) RGBA
        bytes, rows from the top (1-D data: every row the same strip along x)."""
        if self.sizes is None or not (0 <= column < len(self.shown) and 0 <= index < self.shown[column]):
            raise ValueError(f"column and index must name a neuron shown for a network of sizes "
                             f"{list(self.sizes or [])} (at most {SHOWN} a layer); got column {column}, index {index}")
        return self._strips[column][index * PITCH:index * PITCH + RESOLUTION]

    def _set_pictures(self, column: int, tiles) -> None:
        """Column ``column``'s thumbnails: ``tiles`` (k, rows, RESOLUTION, 4) RGBA bytes, rows 1
        (a strip along x, or one colour) or RESOLUTION. The rows between them take the colour of
        the nearest thumbnail's edge, transparent, so that resampling blends no dark fringe in.
        The pixels are written into the image's own array (``set_data`` would copy and check them)."""
        strip, gap = self._strips[column], PITCH - RESOLUTION
        for j, tile in enumerate(tiles):
            top = j * PITCH
            strip[top:top + RESOLUTION] = tile
            if j:                                  # the gap above: half the edge above, half this edge
                strip[top - gap:top - gap // 2] = strip[top - gap - 1]
                strip[top - gap // 2:top] = strip[top]
                strip[top - gap:top, :, 3] = 0
        self.images[column].changed()

    def update(self, source, draw: bool = True) -> None:
        """Show ``source``: a Trainer (its network and last gradients) or a Network."""
        net = getattr(source, "net", source)
        if not isinstance(net, Network):
            raise TypeError(f"source must be a Trainer or a Network; got {source!r}")
        if net.sizes[0] != len(self.features):
            raise ValueError(f"net must take {len(self.features)} inputs ({', '.join(self.features)}); "
                             f"its sizes are {list(net.sizes)}")
        self.net, self.gradients = net, getattr(source, "gradients", None)
        if net.sizes != self.sizes or net.activations != self.activations:
            self._build(net)
        if self.show == "weights":
            self._show_weights(net)
        else:
            self._show_gradients()
        if self.zoom_ax is not None:
            self._draw_zoom()
        self.dirty_x = plots.ALL
        plots._draw(self.ax, draw)

    def _show_weights(self, net: Network) -> None:
        outputs = self.neuron_outputs(net)
        for c, shown in enumerate(self.shown):
            self._set_pictures(c, [_GREY] * shown if outputs is None else self._thumbnails(outputs[c][:, :shown], c))
        self._set_edges([np.asarray(W) for W in net.weights])

    def _show_gradients(self) -> None:
        deltas = self.neuron_deltas()
        for c, shown in enumerate(self.shown):
            self._set_pictures(c, [_log_colour(None if c == 0 or deltas is None else deltas[c - 1][j])
                                   for j in range(shown)])
        self._set_edges(None if self.gradients is None else [np.abs(g) for g in self.gradients.weights])

    def neuron_outputs(self, net: Network | None = None) -> list[np.ndarray] | None:
        """Per column, (points, width) values over the plane (RESOLUTION**2 points; RESOLUTION along
        x for 1-D data): the inputs, then each layer's a. None for data of more than 2 inputs."""
        net = self.net if net is None else net
        if self._inputs is None:
            return None
        with np.errstate(all="ignore"):
            trace = _forward(net, self._inputs.astype(net.dtype))
        return [self._inputs] + list(trace.post)

    def neuron_deltas(self) -> list[np.ndarray] | None:
        """Per layer, (width,): the mean |delta| = |dL/dz| of each neuron over the last step's batch."""
        if self.gradients is None or not self.gradients.deltas:
            return None
        return [np.abs(d).mean(axis=0) for d in self.gradients.deltas]

    def _thumbnail(self, values: np.ndarray, column: int, resolution: int = RESOLUTION, index: int = 0) -> np.ndarray:
        """(resolution, resolution, 4) RGBA bytes of neuron ``index``'s values over the plane, rows
        from the top (1-D data: (1, resolution), a strip along x)."""
        return self._thumbnails(np.asarray(values, dtype=float)[:, None], column, resolution, index)[0]

    def _thumbnails(self, values: np.ndarray, column: int, resolution: int = RESOLUTION,
                    first: int = 0) -> np.ndarray:
        """(k, rows, resolution, 4) RGBA bytes of the k neurons whose values over the plane are the
        columns of ``values`` (neurons first, first + 1, ...): one colormap call for a whole layer."""
        values = np.asarray(values, dtype=float).T
        k = len(values)
        v = values[:, None, :] if self.dataset.n_inputs == 1 else values.reshape(k, resolution, resolution)[:, ::-1]
        name = None if column == 0 else self.activations[column - 1]
        if name == "softmax":                         # p(class j): white at 0, class j's colour at 1
            colours = np.array([to_rgba(plots.CLASS_COLORS[j % len(plots.CLASS_COLORS)])
                                for j in range(first, first + k)])[:, None, None, :]
            p = np.clip(np.nan_to_num(v, nan=0.0), 0.0, 1.0)[..., None]
            return _bytes((1.0 - p) * np.ones(4) + p * colours)
        if name == "sigmoid":
            unit = v                                  # 0..1, white at 0.5
        else:                                         # each neuron on its own scale, white at 0
            scale = np.abs(np.where(np.isfinite(v), v, 0.0)).reshape(k, -1).max(axis=1)[:, None, None]
            unit = np.where(scale > 0, 0.5 + 0.5 * v / np.where(scale > 0, scale, 1.0), 0.5)
        return _colour_bytes(np.nan_to_num(unit, nan=0.5))

    def _set_edges(self, values) -> None:
        """Sort the edges of every layer into the lines by colour and width, NaN between them."""
        buckets = [[] for _ in self.lines]
        for c, padded in enumerate(self._padded if values is not None else []):
            n_in, n_out = padded.shape[:2]
            shown = np.asarray(values[c])[:n_in, :n_out]
            if self.show == "weights":
                size = np.searchsorted(WEIGHT_STEPS, np.abs(shown), side="right")
                index = np.where(shown >= 0, 0, len(WEIGHT_WIDTHS)) + size
            else:
                with np.errstate(divide="ignore"):
                    logs = np.log10(shown)
                index = _decade(logs)
            index = np.where(np.isfinite(shown), index, -1)        # a non-finite value: no edge
            for b in np.unique(index[index >= 0]):
                buckets[b].append(padded[index == b])             # (edges, points + 1, 2), row by row
        for line, curves in zip(self.lines, buckets):
            if curves:
                points = np.concatenate(curves).reshape(-1, 2)
                line.set_data(points[:, 0], points[:, 1])
            else:
                line.set_data([], [])

    # -- looking closer --
    def describe(self, x: float, y: float) -> str | None:
        """What lies under the figure pixel (x, y) (Matplotlib's display coordinates): a neuron or
        an edge, named as the lessons name them, with its numbers; None over empty space."""
        if self.net is None:
            return None
        found = self.find(x, y)
        if found is None:
            return None
        if found[0] == "neuron":
            return self._describe_neuron(*found[1:])
        return self._describe_edge(*found[1:])

    def find(self, x: float, y: float):
        """("neuron", column, index) or ("edge", layer, i, j) under the figure pixel (x, y), or None."""
        data_x, data_y = self.ax.transData.inverted().transform((x, y))
        half = BOX / 2
        for c, centres in enumerate(self.centres):
            inside = (np.abs(centres[:, 0] - data_x) <= half) & (np.abs(centres[:, 1] - data_y) <= half)
            if inside.any():
                return ("neuron", c, int(np.argmax(inside)))
        pixels_per_unit = abs(self.ax.transData.transform((1, 0))[0] - self.ax.transData.transform((0, 0))[0])
        reach = 4.0 / max(pixels_per_unit, 1e-9)       # 4 pixels
        best = None
        for c, curves in enumerate(self._edges):
            if not (curves[0, 0, 0, 0] <= data_x <= curves[0, 0, -1, 0]):
                continue
            distance = np.hypot(curves[..., 0] - data_x, curves[..., 1] - data_y).min(axis=-1)
            i, j = np.unravel_index(np.argmin(distance), distance.shape)
            if distance[i, j] <= reach and (best is None or distance[i, j] < best[0]):
                best = (distance[i, j], ("edge", c + 1, int(i), int(j)))
        return None if best is None else best[1]

    def _describe_neuron(self, column: int, index: int) -> str:
        outputs = self.neuron_outputs()
        if outputs is None:
            return (f"input {self.features[index]}" if column == 0 else
                    f"neuron a{column}[{index}] ({self.activations[column - 1]}): "
                    f"bias b{column}[{index}] = {self.net.biases[column - 1][index]:.3g}")
        values = outputs[column][:, index]
        if column == 0:
            return (f"input {self.features[index]}: from {np.nanmin(values):.3g} to {np.nanmax(values):.3g} "
                    f"over the plane")
        last = column == len(self.sizes) - 1
        name = f"{'output' if last else 'neuron'} a{column}[{index}] ({self.activations[column - 1]})"
        text = (f"{name}: from {np.nanmin(values):.3g} to {np.nanmax(values):.3g} over the plane, "
                f"bias b{column}[{index}] = {self.net.biases[column - 1][index]:.3g}")
        deltas = self.neuron_deltas()
        if deltas is not None:
            text += f"; mean |δ| = |dL/dz{column}[{index}]| = {deltas[column - 1][index]:.3g} (last step)"
        return text

    def _describe_edge(self, layer: int, i: int, j: int) -> str:
        w = self.net.weights[layer - 1][i, j]
        source = self.features[i] if layer == 1 else f"a{layer - 1}[{i}]"
        text = f"W{layer}[{i},{j}] from {source} to z{layer}[{j}]: w = {w:.3g}"
        if self.gradients is not None:
            text += f", |dL/dw| = {abs(self.gradients.weights[layer - 1][i, j]):.3g} (last step)"
        return text

    def enlarge(self, column: int | None, index: int = 0) -> None:
        """Draw neuron ``index`` of ``column`` (0 = inputs) large on ``zoom_ax``, with the data; None: none."""
        if self.zoom_ax is None:
            raise ValueError("enlarge needs a zoom_ax: NetworkView(..., zoom_ax=an Axes)")
        if column is not None and self.dataset.n_inputs != 2:
            raise ValueError(f"enlarge draws a neuron over the x1, x2 plane: it needs 2-D data; dataset "
                             f"{self.dataset.name!r} has {self.dataset.n_inputs} inputs")
        if column is None:
            self.zoomed = None
        else:
            if self.sizes is None or not (0 <= column < len(self.sizes) and 0 <= index < self.sizes[column]):
                raise ValueError(f"column and index must name a neuron of a network of sizes "
                                 f"{list(self.sizes or [])}; got column {column}, index {index}")
            self.zoomed = (column, index)
        self._draw_zoom()

    def _draw_zoom(self) -> None:
        ax = self.zoom_ax
        self._zoom_hint().set_visible(self.zoomed is None and self.dataset.n_inputs == 2)
        if self.zoomed is None:
            ax.set_visible(False)
            return
        ax.set_visible(True)
        column, index = self.zoomed
        plane = _grid(self.extent, ZOOM_RESOLUTION)
        inputs = datasets.features(plane, self.features)
        if column == 0:
            values = inputs[:, index]
        else:
            with np.errstate(all="ignore"):
                values = _forward(self.net, inputs.astype(self.net.dtype)).post[column - 1][:, index]
        picture = self._thumbnail(values, column, ZOOM_RESOLUTION, index)
        if self._zoom_image is None:
            self._zoom_image = ax.imshow(picture, extent=self.extent, origin="upper", interpolation="bilinear",
                                         zorder=0)
            data = self.dataset
            if data.task != "regression":
                colors = [plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)] for k in data.y_train]
                ax.scatter(data.X_train[:, 0], data.X_train[:, 1], c=colors, s=10, edgecolors="white",
                           linewidths=0.5, zorder=2)
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            self._zoom_image.set_data(picture)
        name = (f"input {self.features[index]}" if column == 0 else
                f"a{column}[{index}] ({self.activations[column - 1]})")
        ax.set_title(name, fontsize=plots.LABEL_SIZE, color=plots.PALETTE["ink"])


    def _zoom_hint(self):
        """A line where the enlarged neuron goes, while there is none: what a click does."""
        if self._hint is None:
            box = self.zoom_ax.get_position()
            self._hint = self.zoom_ax.figure.text((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2,
                                                  "click a neuron\nto see it large", ha="center", va="center",
                                                  fontsize=plots.TICK_SIZE, color="#8a8a8a")
        return self._hint


class _Source:
    """A network with gradients, as a Trainer offers them (for set_show without a Trainer at hand)."""

    def __init__(self, net: Network, gradients: Gradients):
        self.net, self.gradients = net, gradients




def _grid(extent, resolution: int) -> np.ndarray:
    xs = np.linspace(extent[0], extent[1], resolution)
    ys = np.linspace(extent[2], extent[3], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])      # rows from the bottom of the plane


def _decade(logs: np.ndarray) -> np.ndarray:
    """The gradient line (bin) of each log10 |g|: one per decade of LOG_RANGE, the ends open."""
    low, high = LOG_RANGE
    position = (np.nan_to_num(logs, nan=low, neginf=low, posinf=high) - low) / (high - low)
    return np.clip((position * GRADIENT_BINS).astype(int), 0, GRADIENT_BINS - 1)


def _gradient_width(bin_index: int) -> float:
    return 0.3 + 2.4 * (bin_index / (GRADIENT_BINS - 1)) ** 1.5


def _log_colour(value) -> np.ndarray:
    """A 1 x 1 RGBA image: |delta| on the gradient scale (light grey when there is none yet)."""
    if value is None or not math.isfinite(value):
        return _bytes(np.array([[to_rgba("#f7f7f7")]]))
    low, high = LOG_RANGE
    position = (math.log10(value) - low) / (high - low) if value > 0 else 0.0
    return np.array([[GRADIENT_COLORMAP(min(max(position, 0.0), 1.0), bytes=True)]])


# plots.BINARY_COLORMAP's colours as bytes, each RGBA as one uint32 (a lookup takes one number per pixel)
_BINARY_WORDS = plots.BINARY_COLORMAP(np.arange(plots.BINARY_COLORMAP.N), bytes=True).view(np.uint32).ravel()


def _colour_bytes(unit: np.ndarray) -> np.ndarray:
    """``plots.BINARY_COLORMAP(unit, bytes=True)`` for finite values (0..1; beyond, the end colours,
    as the colormap's default under and over), by one lookup in its table of colours: about half
    the colormap's time (no masked arrays, no NaN pass)."""
    n = len(_BINARY_WORDS)
    index = np.multiply(unit, n, dtype=float)
    np.clip(index, 0, n - 1, out=index)
    return _BINARY_WORDS.take(index.astype(np.intp)).view(np.uint8).reshape(np.shape(unit) + (4,))


def _bytes(rgba: np.ndarray) -> np.ndarray:
    """RGBA in 0..1 as uint8 (0..255), as a colormap's bytes=True gives it: what the canvas sends as is."""
    return np.round(np.clip(rgba, 0.0, 1.0) * 255).astype(np.uint8)


_GREY = _bytes(np.array([[to_rgba("#e4e4e4")]]))     # a neuron with no picture (data of more than 2 inputs)
