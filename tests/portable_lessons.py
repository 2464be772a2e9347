"""`make test-portable`: nbval over every lesson as other machines would run it.

A lesson's printed numbers must come out the same on any CPU, BLAS kernel and thread count.
NumPy picks its SIMD code for exp/tanh/log per CPU (NPY_DISABLE_CPU_FEATURES switches the
faster paths off), OpenBLAS its kernel per CPU (OPENBLAS_CORETYPE picks another) and its
threads per machine (OPENBLAS_NUM_THREADS). So this runs the whole nbval check once per
configuration below, each in a fresh process:

  (1) the machine as it is (those variables unset);
  (2) an AVX2 CPU: NumPy's AVX-512 paths off, OpenBLAS's Haswell kernel;
  (3) an older x86-64 CPU (SSE4.2, no AVX, no FMA): NumPy's AVX2/AVX-512 paths off, OpenBLAS's
      Nehalem kernel -- other rounding in every product and every exp/tanh/log;
  (4) BLAS on 1 thread, and (5) BLAS on 2 threads;
  (6) OpenBLAS's AVX-512 kernel (SkylakeX), where the CPU has AVX-512.

Before running one, it asks a fresh Python what the configuration really is: the NumPy
dispatch targets left on, OpenBLAS's kernel and thread count. A configuration that comes out
the same as one already run is said to be equivalent and not run again (e.g. (2) on a CPU without
AVX-512); one the machine cannot run is said to be skipped: an x86 kernel on ARM, or a kernel
for instructions this CPU lacks (OpenBLAS takes OPENBLAS_CORETYPE=SkylakeX on a CPU without
AVX-512 and dies of SIGILL at the first product, so the probe multiplies two matrices).
A run that hangs (a kernel that died under nbval) fails after RUN_TIMEOUT seconds.
Exits non-zero if any run failed, or if fewer than three different configurations ran.

    python tests/portable_lessons.py [pytest arguments, e.g. notebooks/07_learning_rate.ipynb]
"""
from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIABLES = ("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "OPENBLAS_CORETYPE",
             "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "GOTO_NUM_THREADS")
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg"]
RUN_TIMEOUT = 1200       # seconds for one configuration's nbval run (all lessons: ~2 min)
PROBE_TIMEOUT = 120      # seconds for the probe (~1 s)

# NumPy's dispatch targets above AVX2 (NumPy 2.x names, then 1.x names), and AVX2 itself
ABOVE_AVX2 = ("X86_V4", "AVX512_ICL", "AVX512_SPR", "AVX512_SKX", "AVX512_CLX", "AVX512_CNL",
              "AVX512F", "AVX512CD", "AVX512_KNL", "AVX512_KNM")
AVX2_LEVEL = ("X86_V3", "AVX2", "FMA3", "AVX", "F16C", "FMA4")

PROBE = """
import json, numpy, threadpoolctl
square = numpy.full((64, 64), 0.5)
assert (square @ square)[0, 0] == 16.0 and numpy.tanh(square).all()   # BLAS's kernel and NumPy's SIMD at work
try:
    from numpy._core._multiarray_umath import __cpu_features__ as on, __cpu_dispatch__ as dispatch
except ImportError:     # NumPy 1.x
    from numpy.core._multiarray_umath import __cpu_features__ as on, __cpu_dispatch__ as dispatch
blas = [(p["internal_api"], p["architecture"], p["num_threads"]) for p in threadpoolctl.threadpool_info()
        if p["user_api"] == "blas"]
print(json.dumps({"simd": [t for t in dispatch if on.get(t)], "blas": blas, "numpy": numpy.__version__}))
"""


def configurations(native: dict) -> list[tuple[str, dict]]:
    """(name, environment changes) for each configuration; {} is the machine as it is."""
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    dispatch_on = set(native["simd"])

    def disable(names):
        return " ".join(n for n in names if n in dispatch_on)

    configs = [("(1) the machine as it is", {})]
    if x86:
        configs += [
            ("(2) an AVX2 CPU: NumPy's AVX-512 paths off, OpenBLAS Haswell",
             {"NPY_DISABLE_CPU_FEATURES": disable(ABOVE_AVX2), "OPENBLAS_CORETYPE": "Haswell"}),
            ("(3) an SSE4.2 CPU: NumPy's AVX/AVX-512 paths off, OpenBLAS Nehalem",
             {"NPY_DISABLE_CPU_FEATURES": disable(ABOVE_AVX2 + AVX2_LEVEL), "OPENBLAS_CORETYPE": "Nehalem"}),
        ]
    configs += [("(4) BLAS on 1 thread", {"OPENBLAS_NUM_THREADS": "1"}),
                ("(5) BLAS on 2 threads", {"OPENBLAS_NUM_THREADS": "2"})]
    if x86:
        configs.append(("(6) OpenBLAS SkylakeX (AVX-512)", {"OPENBLAS_CORETYPE": "SkylakeX"}))
    return configs


def environment(changes: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update({k: v for k, v in changes.items() if v})
    return env


def probe(changes: dict) -> dict | str:
    """What a fresh Python with these changes runs (see PROBE), or why it could not."""
    try:
        done = subprocess.run([sys.executable, "-c", PROBE], env=environment(changes),
                              capture_output=True, text=True, timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"Python did not finish a matrix product this way in {PROBE_TIMEOUT} s"
    if done.returncode == 0:
        return json.loads(done.stdout)
    if done.returncode == -signal.SIGILL:
        return "it died of SIGILL at its first matrix product: an instruction this CPU lacks"
    last = (done.stderr.strip().splitlines() or ["no message"])[-1]
    return f"Python does not start this way on this machine (exit {done.returncode}: {last})"


def describe(state: dict) -> str:
    blas = ", ".join(f"{api} {kernel} on {threads} thread(s)" for api, kernel, threads in state["blas"])
    top = state["simd"][-1] if state["simd"] else "baseline only"
    return f"NumPy {state['numpy']} SIMD up to {top} ({len(state['simd'])} dispatch targets on); {blas}"


def main(arguments: list[str]) -> int:
    targets = arguments or ["notebooks/"]
    native = probe({})
    if isinstance(native, str):
        print(f"cannot start Python with NumPy and threadpoolctl here ({native}); run `make test` once first")
        return 2
    ran: list[tuple[str, dict]] = []
    results = []
    for name, changes in configurations(native):
        state = probe(changes)
        shown = " ".join(f"{k}={v!r}" for k, v in changes.items() if v) or "no variables set"
        print(f"\n=== {name}\n    {shown}")
        if isinstance(state, str):
            print(f"    skipped: {state}")
            results.append((name, "skipped"))
            continue
        print(f"    {describe(state)}")
        same = next((earlier for earlier, s in ran if s == state), None)
        if same is not None:
            print(f"    equivalent to {same.split(')')[0]}): not run again")
            results.append((name, f"equivalent to {same.split(')')[0]})"))
            continue
        started = time.monotonic()
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", "-q", *NBVAL, *targets],
                                  cwd=ROOT, env=environment(changes), capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired as timeout:
            output = timeout.stdout.decode(errors="replace") if isinstance(timeout.stdout, bytes) else timeout.stdout
            done = subprocess.CompletedProcess(timeout.cmd, 1, output or "", "")
            done.stdout += f"\nFAILED: no result after {RUN_TIMEOUT} s (a lesson's kernel hung or died)"
        summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        verdict = "passed" if done.returncode == 0 else "FAILED"
        print(f"    {verdict} in {time.monotonic() - started:.0f} s: {summary}")
        if done.returncode != 0:
            print("\n".join("    " + line for line in done.stdout.splitlines()
                            if line.startswith(("FAILED", "ERROR", "  -", "  +"))))
        ran.append((name, state))
        results.append((name, verdict))
    print("\n=== portability of the lessons' outputs")
    for name, verdict in results:
        print(f"    {verdict:>24}  {name}")
    failed = [name for name, verdict in results if verdict == "FAILED"]
    if len(ran) < 3:
        print(f"only {len(ran)} different configurations could run here; at least 3 are needed")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
