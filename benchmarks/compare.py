"""Before / after: time another git revision of the kit against this checkout, in ONE process.

    python benchmarks/compare.py 7fbc644          # that commit's backprop_kit vs the working tree

Separate runs of step.py on a shared machine differ by 10% or more from run to run; here
both versions are imported side by side (the old one from ``git archive``, under another
package name) and timed in interleaved rounds, so what one sees the other sees too.
Rows: the internal stages loop, Trainer.step inside an epoch, Trainer.run (whole epochs,
with the epoch-end evaluation) per step, and the evaluation of the whole data set alone.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.modules.setdefault("torch", None)       # not needed here: step.py then skips importing it
import step  # noqa: E402


def import_revision(revision: str, folder: str):
    """backprop_kit as it was at ``revision``, imported as the package ``backprop_kit_before``."""
    archive = subprocess.run(["git", "archive", revision, "backprop_kit"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder)
    os.rename(os.path.join(folder, "backprop_kit"), os.path.join(folder, "backprop_kit_before"))
    sys.path.insert(0, folder)
    return importlib.import_module("backprop_kit_before")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the git revision to compare with, e.g. a commit hash")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        before = import_revision(args.revision, folder)
        print(f"before: {args.revision}; after: the working tree; float64, microseconds per step "
              f"(min over {args.rounds} interleaved rounds, CPU time)\n")
        print(f"{'network / batch':<20}{'row':<26}{'before':>9}{'after':>9}{'after/before':>14}")
        for sizes, batch in step.SMALL:
            data, X, y = step.make_data(sizes, batch, "float64")
            contenders = {}
            for label, kit in (("before", before), ("after", step.bk)):
                contenders[("_stages", label)] = (step.kit_stages(sizes, batch, X, y, "float64", False, kit), 32, None)
                contenders[("Trainer.step", label)] = step.trainer_within_epoch(
                    step.trainer(sizes, batch, data, "float64", kit))
                contenders[("Trainer.run (+epoch)", label)] = (
                    step.trainer_whole_epochs(step.trainer(sizes, batch, data, "float64", kit)),
                    step.STEPS_PER_EPOCH, None)
                evaluated = step.trainer(sizes, batch, data, "float64", kit)
                contenders[("evaluation of all data", label)] = (
                    lambda steps, t=evaluated: [t._evaluate_all(t.net) for _ in range(steps)], 1, None)
            best = dict.fromkeys(contenders, float("inf"))
            for round_ in range(args.rounds):
                for key, (run, block, prepare) in contenders.items():
                    if key[0] == "Trainer.run (+epoch)" and round_ % 3:
                        continue
                    best[key] = min(best[key], step.best_per_step(run, block, 1, prepare))
            name = f"{'-'.join(map(str, sizes))} / {batch}"
            for row in ("_stages", "Trainer.step", "Trainer.run (+epoch)", "evaluation of all data"):
                old, new = best[(row, "before")], best[(row, "after")]
                print(f"{name:<20}{row:<26}{old * 1e6:9.1f}{new * 1e6:9.1f}{new / old:13.2f}x")
                name = ""


if __name__ == "__main__":
    main()
