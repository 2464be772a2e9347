"""The command line: `backprop-kit train` writes a figure and a CSV; bad input is one line, not a traceback."""
import csv
import math
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_kit import cli

SCRIPT = Path(sys.executable).parent / "backprop-kit"
EXAMPLE = ["train", "--dataset", "spiral", "--layers", "2", "--neurons", "16", "--activation", "tanh", "--lr", "0.03",
           "--batch-size", "16", "--epochs", "20"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from the PNG header."""
    data = Path(path).read_bytes()
    assert data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_issue_example_writes_a_png_and_a_csv(tmp_path, capsys):
    plot, history = tmp_path / "run.png", tmp_path / "run.csv"
    status = cli.main(EXAMPLE + ["--plot", str(plot), "--history", str(history)])
    out, err = capsys.readouterr()
    assert status == 0, err
    width, height = png_size(plot)
    assert (width, height) == (1350, 660)                  # 9 x 4.4 inches at 150 dpi
    assert plot.stat().st_size > 50_000                    # a picture, not an empty canvas
    with open(history, newline="") as handle:
        rows = list(csv.reader(handle))
    header, rows = rows[0], rows[1:]
    assert header[:5] == ["step", "epoch", "loss", "global_norm", "clipped"]
    assert header[5:8] == ["grad_norm_0", "grad_norm_1", "grad_norm_2"]
    steps_per_epoch = math.ceil(280 / 16)                  # 400 points, 30% held out for testing
    assert len(rows) == 20 * steps_per_epoch
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    assert sum(1 for r in rows if r[-1] != "") == 20       # one row per epoch carries the epoch's numbers
    summary = out.splitlines()[0]
    assert summary.startswith(f"spiral: 20 epochs, {len(rows)} steps in ")
    assert "train loss" in summary and "test loss" in summary and "accuracy" in summary
    assert f"wrote {plot}" in out and f"wrote {history} ({len(rows)} steps)" in out


def test_progress_bar_goes_to_stderr_and_quiet_silences_it(capsys):
    assert cli.main(["train", "--dataset", "xor", "--epochs", "3", "--n", "100"]) == 0
    out, err = capsys.readouterr()
    last = err.rstrip("\n").split("\r")[-1]              # the bar as it stays on the terminal (tqdm)
    assert last.startswith("xor: 100%") and "3/3" in last and "loss" in last and "accuracy" in last, err
    assert err.endswith("\n") and "\r" not in out
    assert cli.main(["train", "--dataset", "xor", "--epochs", "3", "--n", "100", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("xor: 3 epochs")


def test_regression_needs_no_accuracy_and_multiclass_gets_a_softmax(tmp_path, capsys):
    assert cli.main(["train", "--dataset", "sine", "--epochs", "2", "-q", "--plot", str(tmp_path / "s.svg")]) == 0
    out = capsys.readouterr().out
    assert "accuracy" not in out and (tmp_path / "s.svg").read_bytes().startswith(b"<?xml")
    args = cli.build_parser().parse_args(["train", "--dataset", "gaussians", "--classes", "3"])
    data, net, trainer = cli.build(args)
    assert net.sizes == (2, 16, 16, 3) and net.output == "softmax" and trainer.loss == "cross_entropy"


def test_options_reach_the_network_and_trainer():
    args = cli.build_parser().parse_args(
        ["train", "--dataset", "moons", "--layers", "2", "--neurons", "8", "--activation", "relu,tanh", "--init", "he",
         "--optimizer", "adam", "--lr", "0.01", "--batch-size", "8", "--clip", "2", "--l2", "0.001",
         "--seed", "3", "--n", "120", "--noise", "0.2", "--test-fraction", "0.25"])
    data, net, trainer = cli.build(args)
    assert net.sizes == (2, 8, 8, 1) and net.activations == ("relu", "tanh", "sigmoid")
    assert (trainer.optimizer.name, trainer.lr, trainer.batch_size, trainer.clip, trainer.l2) == (
        "adam", 0.01, 8, 2.0, 0.001)
    assert len(data.X_train) == 90 and trainer.seed == 3
    args = cli.build_parser().parse_args(["train", "--layers", "0"])
    assert cli.build(args)[1].sizes == (2, 1)                 # no hidden layer: logistic regression


@pytest.mark.parametrize("arguments, option", [
    (["--dataset", "spirall"], "--dataset"),
    (["--lr", "-1"], "--lr"),
    (["--layers", "16,x"], "--layers"),
    (["--lr", "fast"], "--lr"),
    (["--activation", "rleu"], "--activation"),
    (["--batch-size", "5000"], "--batch-size"),
    (["--epochs", "0"], "--epochs"),
    (["--classes", "3", "--dataset", "moons"], "--classes"),
    (["--plot", "run.jpeg2000"], "--plot"),
    (["--history", "no/such/folder/run.csv"], "--history"),
    (["--frobnicate"], "--frobnicate"),
])
def test_bad_arguments_give_one_line_naming_the_option(arguments, option, capsys):
    status = cli.main(["train", "--epochs", "1", *arguments])
    out, err = capsys.readouterr()
    assert status == cli.EXIT_USAGE
    assert err.startswith("backprop-kit: error: ") and err.count("\n") == 1
    assert option in err and "Traceback" not in err and out == ""


def test_bad_arguments_from_the_console_script_print_no_traceback():
    result = subprocess.run([str(SCRIPT), "train", "--dataset", "spirall"], capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("backprop-kit: error: --dataset must be one of 'xor', 'circles', 'moons', "
                             "'gaussians', 'spiral', 'sine'; got 'spirall' (did you mean 'spiral'?)\n")


def test_divergence_exits_2_with_the_message_and_still_writes_the_files(tmp_path, capsys):
    plot, history = tmp_path / "div.png", tmp_path / "div.csv"
    status = cli.main(["train", "--dataset", "sine", "--lr", "10", "--epochs", "20", "-q",
                       "--plot", str(plot), "--history", str(history)])
    out, err = capsys.readouterr()
    assert status == cli.EXIT_DIVERGED == 2
    assert "backprop-kit: Training diverged at step" in err and "lower learning rate" in err
    assert "DIVERGED" in out and "Traceback" not in err
    png_size(plot)
    assert len(history.read_text().splitlines()) > 1


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == "backprop-kit 0.1.0"
    assert cli.main([]) == cli.EXIT_USAGE
    assert "train" in capsys.readouterr().err


@pytest.mark.parametrize("uid,extra", [(1000, []), (0, ["--allow-root"])])
def test_lab_opens_jupyterlab_on_the_lessons_and_allows_root_only_for_root(monkeypatch, capsys, uid, extra):
    calls = []
    monkeypatch.setattr(cli.subprocess, "call", lambda command: calls.append(command) or 0)
    monkeypatch.setattr(cli.os, "geteuid", lambda: uid, raising=False)
    assert cli.main(["lab", "--no-browser"]) == 0
    command, = calls
    notebooks = Path(cli.__file__).resolve().parent.parent / "notebooks"
    assert command == [sys.executable, "-m", "jupyter", "lab", str(notebooks), "--no-browser", *extra]
    assert "opening JupyterLab on" in capsys.readouterr().err


def test_lab_passes_allow_root_once_when_the_user_gave_it(monkeypatch):
    calls = []
    monkeypatch.setattr(cli.subprocess, "call", lambda command: calls.append(command) or 0)
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0, raising=False)
    cli.main(["lab", "--allow-root"])
    assert calls[0].count("--allow-root") == 1


def test_lab_says_clearly_when_there_are_no_lessons(tmp_path, capsys):
    assert cli.main(["lab", "--notebooks", str(tmp_path / "missing")]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("backprop-kit: error: no lessons folder found") and err.count("\n") == 1


def test_the_console_script_trains(tmp_path):
    result = subprocess.run([str(SCRIPT), "train", "--dataset", "xor", "--epochs", "2", "--n", "80", "-q",
                             "--history", str(tmp_path / "h.csv")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("xor: 2 epochs") and (tmp_path / "h.csv").exists()
