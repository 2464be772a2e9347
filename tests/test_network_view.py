"""The network view: thumbnails of what each neuron computes, edges by weight or by gradient."""
import matplotlib
import numpy as np
import pytest

import backprop_kit as bk
from backprop_kit import plots
from backprop_kit import network_view as nv
from backprop_kit.network_view import NetworkView

DATA = bk.datasets.make("moons", n=120, seed=0)


def view_of(net, show="weights", data=DATA, features=None, zoom=False):
    fig = plots.new_figure((7, 4), pyplot=False, layout=None)
    ax = fig.add_axes([0, 0, 0.7, 0.9])
    zoom_ax = fig.add_axes([0.72, 0.2, 0.26, 0.6]) if zoom else None
    return NetworkView(ax, data, features=features, show=show, zoom_ax=zoom_ax)


def full_batch_trainer(net, steps=3):
    return bk.Trainer(net, DATA, lr=0.5, batch_size=len(DATA.X_train), seed=0).step(steps)


def test_each_thumbnail_is_the_neurons_output_over_the_plane():
    net = bk.Network([2, 5, 3, 1], activation="tanh", seed=1)
    view = view_of(net)
    view.update(net, draw=False)
    plane = nv._grid(view.extent, nv.RESOLUTION)
    trace = bk.forward(net, plane)
    for column, layer in ((1, 0), (2, 1)):
        for j in range(net.sizes[column]):
            a = trace.post[layer][:, j].reshape(nv.RESOLUTION, nv.RESOLUTION)[::-1]
            expected = plots.BINARY_COLORMAP(0.5 + 0.5 * a / np.abs(a).max(), bytes=True)   # RGBA bytes
            np.testing.assert_array_equal(view.picture(column, j), expected)
    p = trace.output[:, 0].reshape(nv.RESOLUTION, nv.RESOLUTION)[::-1]       # sigmoid: 0.5 is white
    np.testing.assert_array_equal(view.picture(3, 0), plots.BINARY_COLORMAP(p, bytes=True))


def test_a_column_is_one_image_its_thumbnails_apart_with_transparent_rows_between():
    net = bk.Network([2, 5, 1], activation="tanh", seed=1)
    view = view_of(net)
    view.update(net, draw=False)
    assert len(view.images) == 3 and view.moving_artists() == view.images + view.lines
    strip = view.images[1].get_array()
    assert strip.shape == (4 * nv.PITCH + nv.RESOLUTION, nv.RESOLUTION, 4)
    for j in range(5):
        np.testing.assert_array_equal(strip[j * nv.PITCH:j * nv.PITCH + nv.RESOLUTION], view.picture(1, j))
        assert (view.picture(1, j)[..., 3] == 255).all()
        if j:
            gap = strip[j * nv.PITCH - (nv.PITCH - nv.RESOLUTION):j * nv.PITCH]
            assert (gap[..., 3] == 0).all()          # see-through, in the colour of the nearest edge
            np.testing.assert_array_equal(gap[-1, :, :3], view.picture(1, j)[0, :, :3])
            np.testing.assert_array_equal(gap[0, :, :3], view.picture(1, j - 1)[-1, :, :3])
    # the picture spans the column's boxes exactly: thumbnail j over neuron j's box
    left, right, bottom, top = view.images[1].get_extent()
    assert (top, bottom) == pytest.approx((view.centres[1][0, 1] - nv.BOX / 2, view.centres[1][-1, 1] + nv.BOX / 2))
    assert (bottom - top) / strip.shape[0] == pytest.approx(nv.BOX / nv.RESOLUTION)
    with pytest.raises(ValueError, match=r"column and index must name a neuron shown.*got column 1, index 5"):
        view.picture(1, 5)


def test_a_frame_writes_into_the_images_own_array_and_a_full_draw_shows_it():
    # _set_pictures writes in place (no set_data copy): the image must still know it changed
    def drawn(view):
        view.ax.figure.canvas.draw()
        return np.asarray(view.ax.figure.canvas.buffer_rgba()).copy()
    trainer = full_batch_trainer(bk.Network([2, 4, 1], activation="tanh", seed=3), steps=1)
    view = view_of(trainer.net)
    view.update(trainer, draw=False)
    before = drawn(view)
    array = view.images[1].get_array()
    trainer.step(200)
    assert not view.images[1].stale
    view.update(trainer, draw=False)
    assert view.images[1].stale                                 # a figure that shows it redraws it
    after = drawn(view)
    assert view.images[1].get_array() is array                 # the same array, new pixels
    for j in range(4):                                          # what the image holds is what picture() says
        np.testing.assert_array_equal(array[j * nv.PITCH:j * nv.PITCH + nv.RESOLUTION], view.picture(1, j))
    fresh = view_of(trainer.net)
    fresh.update(trainer, draw=False)
    np.testing.assert_array_equal(after, drawn(fresh))         # as a view made for this network draws it
    assert np.mean(np.any(after != before, axis=2)) > 0.01     # and not the picture of 200 steps before


def test_input_thumbnails_follow_the_chosen_features():
    net = bk.Network([3, 4, 1], seed=0)
    view = view_of(net, features=("x1^2", "x2^2", "x1*x2"))
    view.update(net, draw=False)
    inputs = view.neuron_outputs()[0]
    plane = nv._grid(view.extent, nv.RESOLUTION)
    np.testing.assert_allclose(inputs, bk.datasets.features(plane, ["x1^2", "x2^2", "x1*x2"]))
    with pytest.raises(ValueError, match=r"net must take 3 inputs \(x1\^2, x2\^2, x1\*x2\)"):
        view.update(bk.Network([2, 4, 1]))


def test_weight_edges_are_sorted_by_sign_and_size_into_lines_one_curve_each():
    net = bk.Network([2, 6, 4, 1], activation="tanh", init="normal", scale=1.0, seed=3)
    view = view_of(net)
    view.update(net, draw=False)
    curves = {line: np.sum(np.isnan(line.get_xdata())) for line in view.lines}   # one NaN after each curve
    assert sum(curves.values()) == 2 * 6 + 6 * 4 + 4 * 1
    for layer, W in enumerate(net.weights):
        for (i, j), w in np.ndenumerate(W):
            middle = view._edges[layer][i, j, nv.CURVE_POINTS // 2]
            holders = [line for line in view.lines if np.any(np.all(np.isclose(line.get_xydata(), middle), axis=1))]
            assert len(holders) == 1, (layer, i, j)
            colour, width = holders[0].bk_style
            assert colour == (nv.POSITIVE if w >= 0 else nv.NEGATIVE)
            assert width == nv.WEIGHT_WIDTHS[np.searchsorted(nv.WEIGHT_STEPS, abs(w), side="right")]


def test_the_gradients_view_shows_the_last_steps_gradients_as_bk_gradient_computes_them():
    net = bk.Network([2, 5, 1], activation="tanh", seed=0)
    trainer = full_batch_trainer(net, steps=2)
    before = trainer.net
    trainer.step(1)
    expected = bk.gradient(before, bk.forward(before, DATA.X_train), DATA.y_train, "bce")
    for got, want in zip(trainer.gradients.weights, expected.weights):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)
    view = view_of(net, show="gradients")
    view.update(trainer, draw=False)
    deltas = view.neuron_deltas()
    for got, want in zip(deltas, expected.deltas):
        np.testing.assert_allclose(got, np.abs(want).mean(axis=0), rtol=1e-8)
    # each edge sits in the line of its decade of |dL/dw|
    for layer, g in enumerate(expected.weights):
        for (i, j), value in np.ndenumerate(np.abs(g)):
            middle = view._edges[layer][i, j, nv.CURVE_POINTS // 2]
            index = [k for k, line in enumerate(view.lines)
                     if np.any(np.all(np.isclose(line.get_xydata(), middle), axis=1))]
            assert index == [int(nv._decade(np.log10(np.array([value])))[0])]
    # a neuron's colour is its mean |delta| on the same log scale
    j = 2
    assert (view.picture(1, j) == nv._log_colour(deltas[0][j])[0, 0]).all()


def test_vanishing_gradients_fade_towards_the_input_side():
    deep = bk.Network([2] + [8] * 6 + [1], activation="sigmoid", bias="zeros", seed=0)
    view = view_of(deep, show="gradients")
    view.update(full_batch_trainer(deep, steps=1), draw=False)
    first, last = view.neuron_deltas()[0].mean(), view.neuron_deltas()[-2].mean()
    assert first < last / 100
    decade = lambda layer: np.median(nv._decade(np.log10(np.abs(view.gradients.weights[layer]))))
    assert decade(0) < decade(len(deep.weights) - 2)


def test_wide_layers_show_their_first_eight_and_count_the_rest():
    net = bk.Network([2, 20, 1], seed=0)
    view = view_of(net)
    view.update(net, draw=False)
    assert view.shown == [2, 8, 1] and view.images[1].get_array().shape[0] == 7 * nv.PITCH + nv.RESOLUTION
    assert any(text.get_text() == "+12 more" for text in view.ax.texts)
    assert sum(np.isnan(line.get_xdata()).sum() for line in view.lines) == 2 * 8 + 8 * 1


def test_describe_names_the_neuron_or_edge_under_a_point_and_its_numbers():
    net = bk.Network([2, 4, 1], activation="tanh", seed=2)
    trainer = full_batch_trainer(net)
    view = view_of(net)
    view.update(trainer)
    view.ax.figure.canvas.draw()
    pixel = view.ax.transData.transform
    text = view.describe(*pixel(view.centres[1][3]))
    assert text.startswith("neuron a1[3] (tanh): from ") and f"b1[3] = {trainer.net.biases[0][3]:.3g}" in text
    assert "mean |δ|" in text
    middle = view._edges[1][2, 0, nv.CURVE_POINTS // 2]
    text = view.describe(*pixel(middle))
    w, g = trainer.net.weights[1][2, 0], abs(trainer.gradients.weights[1][2, 0])
    assert text == f"W2[2,0] from a1[2] to z2[0]: w = {w:.3g}, |dL/dw| = {g:.3g} (last step)"
    assert view.describe(*pixel((-0.5, -0.5))) is None


def test_enlarge_draws_one_neuron_large_with_the_data():
    net = bk.Network([2, 4, 1], activation="relu", seed=0)
    view = view_of(net, zoom=True)
    view.update(net, draw=False)
    view.enlarge(1, 2)
    assert view.zoom_ax.get_visible() and view.zoom_ax.get_title() == "a1[2] (relu)"
    assert view._zoom_image.get_array().shape == (nv.ZOOM_RESOLUTION, nv.ZOOM_RESOLUTION, 4)
    view.enlarge(None)
    assert not view.zoom_ax.get_visible()
    with pytest.raises(ValueError, match=r"column and index must name a neuron.*\[2, 4, 1\]; got column 1, index 4"):
        view.enlarge(1, 4)


def test_a_new_shape_rebuilds_and_bad_arguments_are_named():
    view = view_of(bk.Network([2, 3, 1]))
    view.update(bk.Network([2, 3, 1]), draw=False)
    view.update(bk.Network([2, 5, 5, 1]), draw=False)
    assert view.shown == [2, 5, 5, 1] and len(view.images) == 4
    with pytest.raises(ValueError, match="show must be one of"):
        view.set_show("both")
    with pytest.raises(TypeError, match="dataset must be a backprop_kit Dataset"):
        NetworkView(None, DATA.X_train)
    with pytest.raises(ValueError, match="features need 2-D data"):
        NetworkView(None, bk.datasets.make("sine"), features=["x1"])


def test_one_input_draws_each_neuron_as_a_strip_along_x_and_more_inputs_only_the_edges():
    sine = bk.datasets.make("sine", n=60, seed=0)
    net = bk.Network([1, 4, 1], activation="tanh", output="linear", seed=0)
    view = view_of(net, data=sine)
    view.update(net, draw=False)
    X = np.concatenate([sine.X_train, sine.X_test])
    xs = np.linspace(X.min(), X.max(), nv.RESOLUTION)[:, None]
    a = bk.forward(net, xs).post[0][:, 2]
    strip = plots.BINARY_COLORMAP(0.5 + 0.5 * a / np.abs(a).max(), bytes=True)
    for row in view.picture(1, 2):                   # every row of the thumbnail: the strip along x
        np.testing.assert_array_equal(row, strip)
    wide = bk.datasets.from_arrays(np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2)
    net3 = bk.Network([3, 4, 1], seed=0)
    view3 = view_of(net3, data=wide)
    view3.update(net3, draw=False)
    assert view3.neuron_outputs() is None and view3.features == ("x1", "x2", "x3")
    assert all((view3.picture(c, j) == nv._GREY[0, 0]).all() for c, n in enumerate(view3.shown) for j in range(n))
    assert sum(np.isnan(line.get_xdata()).sum() for line in view3.lines) == 3 * 4 + 4


def test_thumbnail_colours_are_the_colormaps_to_the_byte():
    rng = np.random.default_rng(0)
    unit = np.concatenate([rng.random(100_000), [0.0, 1.0, 0.5, 1 / 256, 255 / 256, np.nextafter(1.0, 0.0),
                                                 -1e-12, 1 + 1e-12, -3.0, 4.0, -1e300, 1e300]])
    for values in (unit, unit[:900].reshape(1, 30, 30), unit[:7200].reshape(8, 30, 30)):
        np.testing.assert_array_equal(nv._colour_bytes(values), plots.BINARY_COLORMAP(values, bytes=True))
