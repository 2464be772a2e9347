"""tests/portable_lessons.py (make test-portable): a configuration this CPU cannot run is skipped
with its reason, never run into a kernel that dies under nbval and hangs CI."""
import platform
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import portable_lessons  # noqa: E402

CPUINFO = Path("/proc/cpuinfo")
x86_linux = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64") or not CPUINFO.exists(),
                               reason="OpenBLAS's x86 kernels, and /proc/cpuinfo to tell what the CPU has")


def cpu_flags() -> set:
    for line in CPUINFO.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def test_the_machine_as_it_is_is_probed_with_its_simd_targets_and_blas_kernel():
    native = portable_lessons.probe({})
    assert isinstance(native, dict), native
    assert native["blas"] and all(threads >= 1 for _, _, threads in native["blas"])


@x86_linux
def test_the_avx512_kernel_runs_only_where_the_cpu_has_avx512():
    state = portable_lessons.probe({"OPENBLAS_CORETYPE": "SkylakeX"})
    if "avx512f" in cpu_flags():
        assert isinstance(state, dict) and any(kernel == "SkylakeX" for _, kernel, _ in state["blas"]), state
    else:               # OpenBLAS takes the setting, then dies at the first product: the probe multiplies
        assert state == "it died of SIGILL at its first matrix product: an instruction this CPU lacks"


@x86_linux
def test_the_oldest_configuration_runs_on_any_x86_64_cpu():
    native = portable_lessons.probe({})
    name, changes = next(c for c in portable_lessons.configurations(native) if c[0].startswith("(3)"))
    state = portable_lessons.probe(changes)
    assert isinstance(state, dict) and any(kernel == "Nehalem" for _, kernel, _ in state["blas"]), state


def test_a_run_that_hangs_fails_after_the_timeout_instead_of_hanging(monkeypatch, capsys):
    monkeypatch.setattr(portable_lessons, "RUN_TIMEOUT", 0.5)      # no lesson's nbval run ends that soon
    assert portable_lessons.main(["notebooks/01_feedforward.ipynb"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: no result after 0.5 s (a lesson's kernel hung or died)" in out
    assert "passed  (1)" not in out and "FAILED  (1) the machine as it is" in out


def test_a_probe_that_does_not_finish_is_a_reason_to_skip_not_a_traceback(monkeypatch):
    monkeypatch.setattr(portable_lessons, "PROBE_TIMEOUT", 0.001)    # no Python starts that fast
    assert portable_lessons.probe({}) == "Python did not finish a matrix product this way in 0.001 s"
