"""Files: networks round-trip through .npz exactly; anything else is refused clearly; CSV export."""
import csv
import math
import os
import pickle
import re

import numpy as np
import pytest

import backprop_kit as bk


@pytest.fixture
def net():
    return bk.Network([3, 5, 4, 2], activation=["relu", "tanh"], output="softmax", seed=3)


def saved_arrays(net, tmp_path):
    """The arrays Network.save writes, as a dict we can tamper with."""
    path = tmp_path / "good.npz"
    net.save(path)
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def write_npz(tmp_path, arrays, name="tampered.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def refused(path, *fragments):
    """Network.load(path) raises a ValueError that names the path and says what is wrong."""
    with pytest.raises(ValueError) as error:
        bk.Network.load(path)
    message = str(error.value)
    assert re.search(re.escape(repr(os.fspath(path))), message), message
    for fragment in fragments:
        assert re.search(fragment, message, re.I), message
    return message


# --- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_save_then_load_gives_back_the_same_network_to_the_bit(tmp_path, dtype):
    net = bk.Network([2, 6, 3, 1], activation=["leaky_relu", "sigmoid"], output="sigmoid",
                     init="normal", scale=0.7, seed=5, dtype=dtype)
    trained = bk.Trainer(net, bk.datasets.make("moons", n=100), lr=0.5).run(2).net   # non-zero biases
    path = tmp_path / "net.npz"
    trained.save(path)
    loaded = bk.Network.load(path)
    assert loaded == trained
    assert loaded.sizes == trained.sizes and loaded.activations == trained.activations
    assert loaded.dtype == dtype
    for a, b in zip(loaded.weights + loaded.biases, trained.weights + trained.biases):
        assert a.dtype == b.dtype == np.dtype(dtype)
        assert a.tobytes() == b.tobytes()
    X = np.random.default_rng(0).normal(size=(4, 2))
    np.testing.assert_array_equal(bk.forward(loaded, X).output, bk.forward(trained, X).output)


def test_save_writes_to_exactly_the_path_given_str_or_pathlike(tmp_path, net):
    net.save(str(tmp_path / "model.weights"))
    net.save(tmp_path / "model.npz")
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "model.weights"]
    assert bk.Network.load(str(tmp_path / "model.weights")) == net == bk.Network.load(tmp_path / "model.npz")


def test_load_reads_with_allow_pickle_false(tmp_path, net, monkeypatch):
    net.save(tmp_path / "net.npz")
    calls = []
    original = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return original(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    bk.Network.load(tmp_path / "net.npz")
    assert calls == [False]


# --- refusals ---------------------------------------------------------------------------------

def test_refuses_an_npy_of_pickled_objects(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"W0": 1}], dtype=object), allow_pickle=True)
    assert "unsafely" not in refused(path, "pickled objects, which are never loaded")


def test_refuses_a_pickle_file_and_never_runs_it(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "net.pkl"
    with open(path, "wb") as handle:
        pickle.dump({"W0": Payload()}, handle)
    assert "unsafely" not in refused(path, "pickled objects, which are never loaded")
    assert not marker.exists()


def test_refuses_an_npz_holding_an_object_array(tmp_path, net):
    arrays = saved_arrays(net, tmp_path)
    arrays["activations"] = np.array(["relu", "tanh", "softmax", None], dtype=object)
    refused(write_npz(tmp_path, arrays), "pickled")


@pytest.mark.parametrize("missing", ["b1", "W0", "sizes", "activations"])
def test_refuses_a_file_with_an_array_missing(tmp_path, net, missing):
    arrays = saved_arrays(net, tmp_path)
    del arrays[missing]
    refused(write_npz(tmp_path, arrays), "not a valid network file")


def test_refuses_a_file_with_an_extra_array(tmp_path, net):
    arrays = saved_arrays(net, tmp_path)
    arrays["W3"] = np.zeros((2, 2))
    refused(write_npz(tmp_path, arrays), "W3")


@pytest.mark.parametrize("name,shape,fragment", [("W0", (3, 6), r"W0.*shape \(3, 6\)"),
                                                 ("W2", (4,), r"W2.*shape \(4,\)"),
                                                 ("b1", (5,), r"biases\[1\].*\(4,\).*\(5,\)")])
def test_refuses_arrays_of_the_wrong_shape(tmp_path, net, name, shape, fragment):
    arrays = saved_arrays(net, tmp_path)
    arrays[name] = np.zeros(shape)
    refused(write_npz(tmp_path, arrays), fragment)


def test_refuses_sizes_that_do_not_match_the_weights(tmp_path, net):
    arrays = saved_arrays(net, tmp_path)
    arrays["sizes"] = np.array([3, 5, 4, 3])
    refused(write_npz(tmp_path, arrays), r"W2.*shape")


@pytest.mark.parametrize("activations,fragment", [
    (["relu", "tanh"], "3 activations|2 activations"),              # one too few
    (["relu", "tanh", "softmax", "relu"], "activations"),          # one too many
    (["rleu", "tanh", "softmax"], r"'rleu'.*did you mean 'relu'"),  # unknown name
    (["softmax", "tanh", "softmax"], r"activations\[0\].*'softmax'"),  # softmax is output-only
])
def test_refuses_activations_that_do_not_match_the_layers(tmp_path, net, activations, fragment):
    arrays = saved_arrays(net, tmp_path)
    arrays["activations"] = np.array(activations)
    refused(write_npz(tmp_path, arrays), fragment)


@pytest.mark.parametrize("tag", ["backprop_kit.network/2", "something else", None])
def test_refuses_a_wrong_or_missing_format_tag(tmp_path, net, tag):
    arrays = saved_arrays(net, tmp_path)
    if tag is None:
        del arrays["format"]
    else:
        arrays["format"] = np.array(tag)
    refused(write_npz(tmp_path, arrays), "format")


def test_refuses_non_finite_or_non_float_weights(tmp_path, net):
    arrays = saved_arrays(net, tmp_path)
    arrays["W1"] = arrays["W1"].copy()
    arrays["W1"][0, 0] = np.nan
    refused(write_npz(tmp_path, arrays, "nan.npz"), "finite")
    arrays = saved_arrays(net, tmp_path)
    arrays["W1"] = arrays["W1"].astype(np.int64)
    refused(write_npz(tmp_path, arrays, "int.npz"), "dtype")
    arrays = saved_arrays(net, tmp_path)
    arrays["b0"] = arrays["b0"].astype(np.float32)
    refused(write_npz(tmp_path, arrays, "mixed.npz"), "dtype")


@pytest.mark.parametrize("content", [b"W0 = [[1, 2], [3, 4]]\n", b"", b"PK\x03\x04 truncated zip"])
def test_refuses_a_file_that_is_not_an_npz_archive(tmp_path, content):
    path = tmp_path / "notes.npz"
    path.write_bytes(content)
    refused(path, "not a")


def test_refuses_an_archive_whose_data_was_changed_after_saving(tmp_path, net):
    path = tmp_path / "net.npz"
    net.save(path)
    content = bytearray(path.read_bytes())
    where = bytes(content).index(net.weights[1].tobytes())      # W1's numbers, stored uncompressed
    content[where + 3] ^= 0xFF                                  # flip one byte: the CRC no longer matches
    path.write_bytes(bytes(content))
    refused(path, "not a valid network file")


def test_refuses_a_path_that_is_not_a_file_name(net):
    with pytest.raises(TypeError, match=r"path must be a file name.*got 123 of type int"):
        bk.Network.load(123)
    with pytest.raises(TypeError, match=r"path must be a file name.*None"):
        net.save(None)


def test_refuses_a_single_plain_array(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.zeros((2, 3)))
    refused(path, "single array")


def test_a_failed_load_does_not_change_the_file(tmp_path, net):
    arrays = saved_arrays(net, tmp_path)
    arrays["format"] = np.array("other")
    path = write_npz(tmp_path, arrays)
    before = path.read_bytes()
    refused(path, "format")
    assert path.read_bytes() == before


# --- History.to_csv -----------------------------------------------------------------------------

def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("dataset", ["moons", "sine"])
def test_history_to_csv_round_trips_every_number_exactly(tmp_path, dataset):
    data = bk.datasets.make(dataset, n=120, seed=0)
    net = bk.Network([data.n_inputs, 5, 4, data.n_outputs], output=data.output, seed=0)
    trainer = bk.Trainer(net, data, lr=0.2, batch_size=25).run(1)
    trainer.clip = 1e-6              # clipped from epoch 2 on: the column holds both 0 and 1
    trainer.run(1).step(2)
    history = trainer.history
    path = tmp_path / "history.csv"
    history.to_csv(path)
    rows = read_csv(path)

    layers = net.n_layers
    assert list(rows[0]) == (["step", "epoch", "loss", "global_norm", "clipped"]
                             + [f"grad_norm_{i}" for i in range(layers)]
                             + ["train_loss", "test_loss", "train_accuracy", "test_accuracy"])
    assert len(rows) == history.steps == 2 * trainer.steps_per_epoch + 2
    ends = {step: e for e, step in enumerate(history.epoch_steps)}
    for i, row in enumerate(rows):
        assert int(row["step"]) == i + 1
        assert int(row["epoch"]) == 1 + sum(1 for s in history.epoch_steps if s <= i)
        assert float(row["loss"]) == history.loss[i]
        assert float(row["global_norm"]) == history.global_norms[i]
        assert bool(int(row["clipped"])) == history.clipped[i]
        assert [float(row[f"grad_norm_{j}"]) for j in range(layers)] == history.grad_norms[i].tolist()
        e = ends.get(i + 1)
        for field in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
            if e is None:
                assert row[field] == ""
            else:
                value, expected = float(row[field]), getattr(history, field)[e]
                assert value == expected or (math.isnan(value) and math.isnan(expected))
    assert any(history.clipped) and not all(history.clipped)
