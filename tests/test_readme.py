"""The README stays true: its lists of names are the registries', its examples use public names only,
and its command line parses."""
import re
import shlex
from pathlib import Path

import backprop_kit as bk
from backprop_kit import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def bullet(start: str) -> str:
    """The README's bullet that begins with ``start`` (its continuation lines included)."""
    match = re.search(rf"^- {re.escape(start)}.*?(?=^- |^$)", README, re.S | re.M)
    assert match, start
    return match.group(0)


def test_the_core_section_lists_every_registrys_names_and_no_other():
    text = bullet("Activations (`bk.activations.HIDDEN`)")
    for registry in (bk.activations.OUTPUT, bk.losses.NAMES, bk.network.INITS, bk.optimizers.OPTIMIZERS):
        for name in registry:
            assert f"`{name}`" in text, (name, text)
    listed = set(re.findall(r"`([a-z_]+)`", text))
    known = {*bk.activations.OUTPUT, *bk.losses.NAMES, *bk.network.INITS, *bk.optimizers.OPTIMIZERS}
    assert listed - known <= {"scale"}, listed - known


def test_the_readme_names_no_private_module_or_function():
    private = re.findall(r"(?:backprop_kit|bk|widgets|plots)(?:\.\w+)*\._\w+", README)
    assert private == []


def test_the_readmes_command_line_parses_with_the_names_it_documents():
    command = re.search(r"backprop-kit train (.*?)\n\s*--batch-size (.*?)\n", README, re.S)
    arguments = shlex.split(command.group(1).replace("\\", "")) + ["--batch-size", *shlex.split(command.group(2))]
    args = cli.build_parser().parse_args(["train", *arguments])
    assert (args.layers, args.neurons, args.lr) == (2, 16, 0.03)
