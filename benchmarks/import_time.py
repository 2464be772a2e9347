"""How long `import backprop_kit` takes in a fresh Python: the median of many runs (goal: < 0.15 s).

    python benchmarks/import_time.py            # 21 runs of each
    python benchmarks/import_time.py --runs 51

Each run is a new interpreter doing one import, timed two ways: wall-clock seconds, and the
child's CPU seconds (user + sys), which a busy machine disturbs less. Those include starting
Python itself (also timed, as "a Python that imports nothing"). The goal is held to the import
statement alone, timed inside a fresh interpreter just before and after it: what
``%time import backprop_kit`` shows in a notebook, whose kernel is already running. ``numpy`` alone is
timed the same way, since the kit's share is what the kit can change. Two kinds of run:

- warm: with compiled bytecode cached (as after any install; in a temporary cache folder here,
  so the checkout is left as it was) -- what a learner sees;
- cold: PYTHONDONTWRITEBYTECODE=1 and no cache in the checkout, so every module of the kit is
  compiled from source first, on every import (NumPy still has the bytecode its install wrote).

Last, the modules that ``import backprop_kit`` loads beyond NumPy's own, and the ten slowest
imports of one warm run (``python -X importtime``).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_import(statement: str, env: dict) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one fresh interpreter running ``statement``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], env=env, check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def time_statement(statement: str, env: dict) -> float:
    """Seconds the statement itself takes in a fresh interpreter (what ``%time import
    backprop_kit`` shows in a notebook): the clock read just before and just after it."""
    code = f"import time; _t = time.perf_counter(); {statement}; print(time.perf_counter() - _t)"
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def medians(statement: str, env: dict, runs: int) -> tuple[float, float]:
    samples = [time_import(statement, env) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args(argv)

    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    with tempfile.TemporaryDirectory() as cache:
        warm = dict(base, PYTHONPYCACHEPREFIX=cache)
        # cold: the kit's modules compiled on every import (NumPy keeps the bytecode its install wrote)
        cold = dict(base, PYTHONDONTWRITEBYTECODE="1")
        time_import("import backprop_kit", warm)      # fills the bytecode cache
        print(f"python {sys.version.split()[0]} ({sys.executable}); {args.runs} runs each, median seconds\n")
        print(f"{'':34}{'wall':>8}{'CPU':>8}")
        results = {}
        for label, statement, env in (("import numpy", "import numpy", warm),
                                      ("import backprop_kit (warm)", "import backprop_kit", warm),
                                      ("import backprop_kit (cold)", "import backprop_kit", cold)):
            results[label] = medians(statement, env, args.runs)
            wall, cpu = results[label]
            print(f"{label:<34}{wall:8.3f}{cpu:8.3f}")
        numpy_wall, numpy_cpu = results["import numpy"]
        kit_wall, kit_cpu = results["import backprop_kit (warm)"]
        print(f"{'the kit beyond numpy (warm)':<34}{kit_wall - numpy_wall:8.3f}{kit_cpu - numpy_cpu:8.3f}")
        started = statistics.median(time_import("pass", warm)[0] for _ in range(args.runs))
        print(f"{'a Python that imports nothing':<34}{started:8.3f}")
        # the statement alone, as a notebook cell times it (the interpreter is already running)
        statement = {label: statistics.median(time_statement(code, warm) for _ in range(args.runs))
                     for label, code in (("import numpy", "import numpy"), ("import backprop_kit", "import backprop_kit"),
                                                 ("... and a panel (matplotlib, ipywidgets)",
                                                  "import backprop_kit; from backprop_kit.widgets import Playground"))}
        print("\nthe import statement alone, in a fresh interpreter (median seconds):")
        for label, seconds in statement.items():
            print(f"  {label:<44}{seconds:8.3f}")
        kit = statement["import backprop_kit"]
        print(f"\ngoal: import backprop_kit < 0.150 s: {'met' if kit < 0.15 else 'NOT met'} "
              f"(the statement, warm: median {kit:.3f} s; a whole new Python doing it: {kit_wall:.3f} s)")

        modules = subprocess.run(
            [sys.executable, "-c", "import sys; import numpy; before = set(sys.modules); import backprop_kit; "
             "print(' '.join(sorted(m for m in set(sys.modules) - before if not m.startswith('backprop_kit'))))"],
            env=warm, check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()
        print(f"\nmodules imported beyond numpy's own ({len(modules)}): {' '.join(modules)}")
        own = []
        for _ in range(args.runs):
            report = subprocess.run([sys.executable, "-X", "importtime", "-c", "import backprop_kit"],
                                    env=warm, check=True, capture_output=True, text=True, cwd=ROOT).stderr
            rows = []
            for line in report.splitlines()[1:]:
                fields = line.replace("import time:", "|").split("|")
                _, self_us, cumulative_us, name = (part.strip() for part in fields)
                rows.append((int(self_us), int(cumulative_us), name))
            own.append(sum(us for us, _, name in rows
                           if name.startswith("backprop_kit") or name in modules) / 1e6)
        print(f"\nthe kit's own import (python -X importtime: the self time of its modules and of those "
              f"above), median of {args.runs}: {statistics.median(own) * 1000:.1f} ms")
        print("\nslowest imports of one warm run (self ms, cumulative ms):")
        for self_us, cumulative_us, name in sorted(rows, reverse=True)[:10]:
            print(f"  {self_us / 1000:6.1f} {cumulative_us / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
