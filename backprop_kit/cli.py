"""The command line: ``backprop-kit train`` runs a network headless, ``backprop-kit lab`` opens the lessons.

    backprop-kit train --dataset spiral --layers 2 --neurons 16 --activation tanh --lr 0.03 \\
        --batch-size 16 --epochs 200 --plot run.png --history run.csv
    backprop-kit lab

``train`` builds the same Dataset, Network and Trainer a notebook would (the output layer
and the loss follow the dataset's task), shows a progress bar (tqdm) on stderr, prints a summary
line, and writes the figure (PNG, SVG or PDF, by extension) and the per-step history (CSV).
Exit status: 0 done; 1 bad arguments (one line on stderr, no traceback); 2 training diverged
(the figure and CSV are still written, so you can see where it went wrong).
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PROG = "backprop-kit"
EXIT_OK, EXIT_USAGE, EXIT_DIVERGED = 0, 1, 2

# the core names its arguments as Python does; on the command line they are options
OPTION_FOR = {"name": "--dataset", "n": "--n", "noise": "--noise", "test_fraction": "--test-fraction",
              "classes": "--classes", "seed": "--seed", "activation": "--activation", "init": "--init",
              "scale": "--scale", "lr": "--lr", "batch_size": "--batch-size", "optimizer": "--optimizer",
              "clip": "--clip", "l2": "--l2", "epochs": "--epochs"}


class UsageError(Exception):
    """A bad command line: reported as one line, ``backprop-kit: error: ...``."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):        # argparse would print the usage and exit; we report one line
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _choices(names) -> str:
    """'a, b or c': a registry's names for a help text."""
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _whole(option: str, low: int):
    """An argparse type: a whole number >= low, or a UsageError naming the option."""
    def parse(text: str) -> int:
        if not text.strip().isdecimal() or int(text) < low:
            raise UsageError(f"{option} must be a whole number >= {low}; got {text!r}"
                             + (" (--layers counts the hidden layers; --neurons is each one's width, "
                                "e.g. --layers 2 --neurons 16)" if "," in text else ""))
        return int(text)
    return parse


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .activations import HIDDEN
    from .datasets import NAMES
    from .network import INITS
    from .optimizers import OPTIMIZERS
    parser = _Parser(prog=PROG, description="A teaching kit for backpropagation: train from the "
                     "command line, or open the lessons in JupyterLab.",
                     epilog="Exit status: 0 done, 1 bad arguments, 2 training diverged.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{train,lab}")

    train = commands.add_parser(
        "train", help="train a network headless; write a figure and the history",
        description="Train a network on a small dataset and write a figure (--plot) and the "
        "per-step history (--history). The output layer and loss follow the dataset: sigmoid + "
        "bce (binary), softmax + cross_entropy (--classes > 2), linear + mse (sine).",
        epilog="Example: backprop-kit train --dataset spiral --layers 2 --neurons 16 --activation tanh "
        "--lr 0.03 --batch-size 16 --epochs 200 --plot run.png --history run.csv. "
        "Exit status: 0 done, 1 bad arguments, 2 training diverged (files still written).")
    data = train.add_argument_group("data")
    data.add_argument("--dataset", default="spiral", help=f"{_choices(NAMES)} (default: spiral)")
    data.add_argument("--n", type=int, default=400, help="number of points, train + test (default: 400)")
    data.add_argument("--noise", type=float, default=0.1, help="std of the noise (default: 0.1)")
    data.add_argument("--test-fraction", type=float, default=0.3,
                      help="share of points held out for testing (default: 0.3)")
    data.add_argument("--classes", type=int, default=2, help="classes for spiral or gaussians (default: 2)")
    network = train.add_argument_group("network")
    network.add_argument("--layers", type=_whole("--layers", 0), default=2,
                         help="how many hidden layers; 0 for none (default: 2)")
    network.add_argument("--neurons", type=_whole("--neurons", 1), default=16,
                         help="neurons in each hidden layer (default: 16)")
    network.add_argument("--activation", default="tanh",
                         help=f"{_choices(HIDDEN)}; or one per hidden layer, "
                         "comma-separated (default: tanh)")
    network.add_argument("--init", default="xavier", help=f"{_choices(INITS)} (default: xavier)")
    network.add_argument("--scale", type=float, default=0.1, help="weight std for --init normal (default: 0.1)")
    training = train.add_argument_group("training")
    training.add_argument("--lr", type=float, default=0.1, help="learning rate (default: 0.1)")
    training.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default: 32)")
    training.add_argument("--epochs", type=int, default=100, help="epochs to train (default: 100)")
    training.add_argument("--optimizer", default="sgd", help=f"{_choices(OPTIMIZERS)} (default: sgd)")
    training.add_argument("--clip", type=float, default=None,
                          help="clip the global gradient norm at this value (default: off)")
    training.add_argument("--l2", type=float, default=0.0, help="L2 weight penalty (default: 0)")
    training.add_argument("--seed", type=int, default=0, help="seed for data, weights and batches (default: 0)")
    output = train.add_argument_group("output")
    output.add_argument("--plot", metavar="PATH", help="write the figure here (.png, .svg, .pdf)")
    output.add_argument("--history", metavar="PATH", help="write the per-step history here (.csv)")
    output.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    lab = commands.add_parser(
        "lab", help="open the lessons (the notebooks/ folder) in JupyterLab",
        description="Open JupyterLab on the lessons. Other arguments go to 'jupyter lab'.")
    lab.add_argument("--notebooks", metavar="DIR", help="the lessons folder (default: found next to "
                     "the package or in the current folder)")
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if args.command != "lab" and extra:
            raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see '{PROG} --help')")
        if args.command == "train":
            return train(args)
        if args.command == "lab":
            return lab(args, extra)
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130


# --- train -----------------------------------------------------------------------------

def _option_message(error: Exception) -> str:
    """The core's message with its argument name swapped for the option: 'lr must ...' -> '--lr must ...'."""
    message = str(error)
    match = re.match(r"(\w+)(\[\d+\])?( .*)", message, re.DOTALL)
    if match and match.group(1) in OPTION_FOR:
        return OPTION_FOR[match.group(1)] + (match.group(2) or "") + match.group(3)
    return message


def _check_output_path(option: str, path: str | None, formats) -> None:
    if path is None:
        return
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise UsageError(f"{option} must end in one of {', '.join('.' + f for f in formats)}; got {path!r}")
    folder = Path(path).parent
    if not folder.is_dir():
        raise UsageError(f"{option} must be in an existing folder; {str(folder)!r} does not exist")
    if Path(path).is_dir():
        raise UsageError(f"{option} must be a file name; {path!r} is a folder")


def build(args):
    """The Dataset, Network and Trainer that ``args`` describe; bad values raise UsageError."""
    import backprop_kit as bk
    activation = args.activation.split(",") if "," in args.activation else args.activation
    if args.epochs < 1:
        raise UsageError(f"--epochs must be a whole number >= 1; got {args.epochs}")
    try:
        widths = [args.neurons] * args.layers
        data = bk.datasets.make(args.dataset, n=args.n, noise=args.noise, test_fraction=args.test_fraction,
                                seed=args.seed, classes=args.classes)
        net = bk.Network([data.n_inputs, *widths, data.n_outputs], activation=activation,
                         output=data.output, init=args.init, scale=args.scale, seed=args.seed)
        trainer = bk.Trainer(net, data, loss=data.loss, lr=args.lr, batch_size=args.batch_size,
                             optimizer=args.optimizer, clip=args.clip, l2=args.l2, seed=args.seed)
    except (ValueError, TypeError) as error:
        raise UsageError(_option_message(error)) from None
    except MemoryError:
        sizes = [2, *[args.neurons] * min(args.layers, 10**6), 1]
        parameters = sum((m + 1) * n for m, n in zip(sizes, sizes[1:]))
        raise UsageError(f"--layers and --neurons must make a network that fits in memory; got "
                         f"{args.layers} x {args.neurons}: {parameters:.3g} parameters") from None
    return data, net, trainer


def train(args) -> int:
    """``backprop-kit train``: build, train with a progress bar, summarise, write the files."""
    if args.plot is not None:
        from matplotlib.figure import Figure
        _check_output_path("--plot", args.plot, sorted(Figure().canvas.get_supported_filetypes()))
    _check_output_path("--history", args.history, ["csv"])
    data, net, trainer = build(args)
    start = time.perf_counter()
    trainer.run(args.epochs, progress=not args.quiet)        # a tqdm bar on stderr
    print(summary(trainer, time.perf_counter() - start))
    if trainer.diverged is not None:
        print(f"{PROG}: {trainer.diverged}", file=sys.stderr)
    write_outputs(trainer, args.plot, args.history)
    return EXIT_DIVERGED if trainer.diverged is not None else EXIT_OK


def write_outputs(trainer, plot: str | None, history: str | None) -> None:
    """Write the figure and the CSV; a file that cannot be written is a UsageError naming it."""
    if plot is not None:
        from . import plots
        figure = plots.TrainingFigure(trainer, pyplot=False)    # a bare Figure: no backend needed
        with _writing("--plot", plot):
            figure.save(plot)
        print(f"wrote {plot}")
    if history is not None:
        with _writing("--history", history):
            trainer.history.to_csv(history)
        print(f"wrote {history} ({trainer.steps} steps)")


@contextmanager
def _writing(option: str, path: str):
    try:
        yield
    except OSError as error:        # no permission, a full disk, a folder that is not one, ...
        raise UsageError(f"{option} could not be written to {path!r}: "
                         f"{error.strerror or error}") from None


def summary(trainer, seconds: float) -> str:
    """'spiral: 200 epochs, 3600 steps in 2.1 s | train loss 0.336, accuracy 89.3% | test ...'."""
    parts = [f"{trainer.data.name}: {_count(trainer.epoch, 'epoch')}, {_count(trainer.steps, 'step')} "
             f"in {seconds:.1f} s"]
    for split in ("train", "test"):
        loss, accuracy = trainer.evaluate(split)
        if math.isfinite(loss):
            parts.append(f"{split} loss {loss:.4g}" + (f", accuracy {accuracy:.1%}" if math.isfinite(accuracy) else ""))
    if trainer.diverged is not None:
        parts.append("DIVERGED")
    return " | ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


# --- lab ---------------------------------------------------------------------------------

def find_notebooks(explicit: str | None = None) -> Path | None:
    """The lessons folder: ``explicit``, else notebooks/ beside the package (a clone), else in the cwd."""
    if explicit is not None:
        return Path(explicit) if Path(explicit).is_dir() else None
    for candidate in (Path(__file__).resolve().parent.parent / "notebooks", Path.cwd() / "notebooks"):
        if candidate.is_dir():
            return candidate
    return None


def lab(args, extra) -> int:
    """``backprop-kit lab``: run ``jupyter lab <notebooks>`` (extra arguments passed on)."""
    folder = find_notebooks(args.notebooks)
    if folder is None:
        where = repr(args.notebooks) if args.notebooks else (
            f"{Path(__file__).resolve().parent.parent / 'notebooks'} or {Path.cwd() / 'notebooks'}")
        raise UsageError(f"no lessons folder found (looked for {where}); run this in a clone of "
                         f"the backprop_kit repository, or pass --notebooks DIR")
    if importlib.util.find_spec("jupyterlab") is None:
        raise UsageError(f"JupyterLab is not installed for {sys.executable}; "
                         f"install it with: {sys.executable} -m pip install jupyterlab")
    command = [sys.executable, "-m", "jupyter", "lab", os.fspath(folder), *extra]
    if _is_root() and "--allow-root" not in extra:
        # JupyterLab refuses to start as root without it; containers and CI machines often are root
        command.append("--allow-root")
    print(f"opening JupyterLab on {folder}: open the http://... URL it prints below "
          f"(with its token) in your browser; Ctrl-C twice stops it", file=sys.stderr)
    return subprocess.call(command)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


if __name__ == "__main__":
    sys.exit(main())
