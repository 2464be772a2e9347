"""binder/ opens the lessons on Binder: repo2docker must accept it and pick our Python."""
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def repo2docker():
    found = shutil.which("repo2docker") or str(pathlib.Path(sys.executable).with_name("repo2docker"))
    if not pathlib.Path(found).exists():
        pytest.fail("repo2docker is missing: it is in the test extra (pip install -e '.[test]')")
    return found


def test_binder_folder_installs_the_kit_itself_and_voila():
    lines = [line.split("#")[0].strip() for line in (ROOT / "binder/requirements.txt").read_text().splitlines()]
    assert "-e ." in lines or "." in lines, "repo2docker ignores the repo root's pyproject once binder/ exists"
    assert any(line.startswith("voila") for line in lines), "the playground runs as a Voila app"
    assert (ROOT / "binder/runtime.txt").read_text().strip().startswith("python-3.")


def test_repo2docker_accepts_the_binder_folder_and_uses_its_python():
    result = subprocess.run([repo2docker(), "--no-build", "--debug", str(ROOT)],
                            capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-2000:]
    runtime = (ROOT / "binder/runtime.txt").read_text().strip().removeprefix("python-")
    assert f"python={runtime}" in out, "repo2docker did not pick binder/runtime.txt's Python"
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in out
