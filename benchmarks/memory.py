"""Peak memory of a training run, measured with tracemalloc (which sees NumPy's arrays too).

    python benchmarks/memory.py

For each network and data set: the size of the data (train + test) and of the parameters,
then the peak of memory allocated while ``Trainer.run(epochs)`` trains, above what was
held before it started, and what is still held when it is done. Last, what the History
keeps per step (a long run on a tiny set, so that nothing else grows).
"""
from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # run from a checkout without installing
import backprop_kit as bk  # noqa: E402

RUNS = [  # (sizes, batch, training samples, epochs, dtype)
    ((2, 8, 8, 1), 32, 2048, 20, "float64"),
    ((2, 64, 64, 1), 256, 16384, 5, "float64"),
    ((784, 128, 64, 1), 128, 8192, 2, "float32"),
]


def mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:8.2f}"


def main() -> None:
    print(f"numpy {np.__version__}; MiB; peak = the most allocated at once during run(), above the start\n")
    print(f"{'network / batch / samples':<34}{'data':>8}{'params':>8}{'peak':>8}{'after':>8}{'steps':>8}")
    for sizes, batch, n_train, epochs, dtype in RUNS:
        rng = np.random.default_rng(0)
        n = n_train + n_train // 4
        X = rng.normal(size=(n, sizes[0]))
        y = (X[:, 0] * X[:, -1] > 0).astype(int)
        data = bk.datasets.from_arrays(X, y, test_fraction=0.2, seed=0)
        net = bk.Network(sizes, activation="tanh", output="sigmoid", seed=0, dtype=dtype)
        trainer = bk.Trainer(net, data, loss="bce", lr=0.05, batch_size=batch, seed=0)
        data_bytes = sum(a.nbytes for a in (data.X_train, data.y_train, data.X_test, data.y_test))
        param_bytes = sum(a.nbytes for a in (*net.weights, *net.biases))

        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        trainer.run(epochs)
        end, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if trainer.diverged:
            raise RuntimeError(trainer.diverged)
        steps = trainer.steps
        name = f"{'-'.join(map(str, sizes))} / {batch} / {n_train} {dtype}"
        print(f"{name:<34}{mib(data_bytes)}{mib(param_bytes)}{mib(peak - start)}{mib(end - start)}{steps:8d}")

    data = bk.datasets.make("xor", n=4000, seed=0)       # 3000 steps an epoch: epoch records are rare
    trainer = bk.Trainer(bk.Network([2, 4, 4, 1], seed=0), data, batch_size=1, seed=0)
    trainer.step(100)
    tracemalloc.start()
    start, _ = tracemalloc.get_traced_memory()
    trainer.step(50_000)
    end, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\nHistory of a 3-layer network: {(end - start) / 50_000:.0f} bytes per step "
          f"(loss, global norm, clipped flag, one norm per layer)")
    print("\npeak: the Trainer's shuffled copy of the training set for the new epoch (mini-batches are"
          "\nslices of it) and the epoch-end evaluation, done in blocks of rows; after: that copy, the History.")


if __name__ == "__main__":
    main()
