"""Every lesson is committed executed, without errors, with a title, and listed in lesson 00.

nbval compares a lesson's stored outputs with a fresh run, so a lesson committed WITHOUT
outputs would pass nbval while checking nothing. These checks read the .ipynb files only
(no kernel), so they are fast. After changing a lesson, re-execute it: `make lessons`.
"""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("*.ipynb"))
START_HERE = NOTEBOOKS / "00_start_here.ipynb"


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def code_cells(path):
    return [cell for cell in cells(path) if cell["cell_type"] == "code" and source(cell).strip()]


def test_there_are_lessons_and_a_start_here():
    assert START_HERE in LESSONS, f"{START_HERE.name} is missing from {NOTEBOOKS}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_is_committed_executed_in_order(path):
    counts = [cell.get("execution_count") for cell in code_cells(path)]
    assert counts, f"{path.name} has no code cells"
    missing = [i for i, count in enumerate(counts) if count is None]
    assert not missing, (f"{path.name}: code cells {missing} (counting code cells from 0) were never run; "
                         f"re-execute it with `make lessons` and commit the outputs")
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(counts)}: run it top to bottom in a fresh "
        f"kernel (`make lessons`) before committing")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_has_no_error_outputs(path):
    for i, cell in enumerate(code_cells(path)):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", (
                f"{path.name}, code cell {i}: {output.get('ename')}: {output.get('evalue')}")
            if output["output_type"] == "stream" and output.get("name") == "stderr":
                text = source({"source": output.get("text", "")})
                assert "Traceback" not in text, f"{path.name}, code cell {i} printed a traceback:\n{text}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_starts_with_a_markdown_title(path):
    first = cells(path)[0]
    assert first["cell_type"] == "markdown", f"{path.name}: the first cell must be markdown (the title)"
    assert re.match(r"#\s+\S", source(first).lstrip()), (
        f"{path.name}: the first cell must start with a '# Title' line; got {source(first)[:60]!r}")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_is_listed_in_start_here(path):
    start_here = "\n".join(source(cell) for cell in cells(START_HERE) if cell["cell_type"] == "markdown")
    assert f"({path.name})" in start_here, (
        f"{path.name} is not linked from {START_HERE.name}'s map of lessons: add a row "
        f"`| NN | [Title]({path.name}) | idea | panel |` to its table")


def linked_lessons():
    if not START_HERE.exists():
        return []
    text = "\n".join(source(cell) for cell in cells(START_HERE) if cell["cell_type"] == "markdown")
    return sorted(set(re.findall(r"\]\((\d\d_[\w-]+\.ipynb)\)", text)))


@pytest.mark.parametrize("name", linked_lessons())
def test_every_lesson_linked_from_start_here_exists(name):
    if not (NOTEBOOKS / name).exists():
        pytest.skip(f"{name} is in the map of lessons but not written yet")
