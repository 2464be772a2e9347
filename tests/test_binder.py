"""binder/ opens the lessons on Binder: repo2docker must accept it and pick our Python, and its pins
are the versions the kit allows and the tests ran with."""
import importlib.metadata
import pathlib
import re
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


def binder_pins() -> dict:
    """{distribution name: version} of binder/requirements.txt's `name==version` lines."""
    pins = {}
    for line in (ROOT / "binder/requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[canonical(name)] = version.strip()
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def test_binder_pins_every_runtime_dependency_at_a_version_pyproject_allows():
    from packaging.requirements import Requirement
    pins = binder_pins()
    runtime = [Requirement(text) for text in importlib.metadata.requires("backprop-kit")
               if "extra ==" not in text]
    assert runtime, "the installed kit declares no dependencies: is it installed (pip install -e .)?"
    for requirement in runtime:
        name = canonical(requirement.name)
        assert name in pins, f"binder/requirements.txt does not pin {requirement.name} (pyproject: {requirement})"
        assert requirement.specifier.contains(pins[name]), (
            f"binder/requirements.txt pins {name}=={pins[name]}, which pyproject.toml's {requirement} refuses")


def test_the_installed_versions_are_the_pinned_ones():
    """`make` installs with the pins as constraints: what the tests run is what Binder gets."""
    for name, version in binder_pins().items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue        # voila: only with the browser extra
        assert installed == version, f"{name} {installed} is installed; binder/requirements.txt pins {version}"
