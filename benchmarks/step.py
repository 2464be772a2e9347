"""Time one training step (forward + BCE + backward + SGD update) five ways, side by side.

    python benchmarks/step.py            # all sizes; PyTorch rows only if torch is installed
    python benchmarks/step.py --quick    # fewer repeats, for a smoke run

Per step, in microseconds, the minimum over repeats of (time of a block of steps) / steps:

- numpy:    a bare, hand-written NumPy loop (in-place SGD, contiguous mini-batches of a
            per-epoch shuffled copy): the fastest honest way to write this in NumPy.
- stages:   bk.forward + bk.loss + bk.gradient + bk.update, the public, checked functions.
- _stages:  the unchecked internal functions the public ones call (and the Trainer calls).
- Trainer:  Trainer.step() with its history bookkeeping and divergence checks, inside an epoch.
- +epoch:   Trainer.run(epochs) per step, i.e. including the end-of-epoch evaluation of the
            whole training and test sets (its share depends on how many steps an epoch has).
- torch:    PyTorch eager, one thread: nn.Sequential, BCELoss, optim.SGD, same dtype.

Every row uses the same data and dtype: tanh hidden layers, sigmoid output, float64 (the kit's
default), except the last table: float32 at 784-128-64-1 (``Network(..., dtype="float32")``).
BLAS runs on one thread (OPENBLAS_NUM_THREADS=1 unless set), like torch.set_num_threads(1).
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")    # before NumPy loads its BLAS: one thread, like torch below

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # run from a checkout without installing
import backprop_kit as bk  # noqa: E402

try:
    import torch
except ImportError:     # the torch rows are skipped with a note
    torch = None

LR = 0.1
STEPS_PER_EPOCH = 64    # mini-batches per training epoch in the Trainer's data set
SMALL = [((2, 8, 8, 1), 32), ((2, 16, 16, 16, 1), 64), ((2, 64, 64, 1), 256)]
LARGE = ((784, 128, 64, 1), 128)


def make_data(sizes, batch, dtype, seed=0):
    """STEPS_PER_EPOCH batches of training data (and a test set a quarter of that), labels 0/1."""
    rng = np.random.default_rng(seed)
    n_train = STEPS_PER_EPOCH * batch
    n = n_train + n_train // 4
    X = rng.normal(size=(n, sizes[0]))
    y = (X[:, 0] * X[:, -1] + 0.3 * rng.normal(size=n) > 0).astype(int)    # an XOR-like rule
    data = bk.datasets.from_arrays(X, y, test_fraction=0.2, seed=seed)
    return data, data.X_train.astype(dtype), data.y_train.astype(dtype).reshape(-1, 1)


CLOCK = time.process_time     # CPU seconds of this process: other programs on the machine don't count


def best_per_step(run_block, steps, repeats, prepare=None):
    """min over repeats of the seconds per step of ``run_block(steps)``; ``prepare(steps)`` runs untimed first."""
    best = math.inf
    for _ in range(repeats):
        if prepare is not None:
            prepare(steps)
        start = CLOCK()
        run_block(steps)
        best = min(best, (CLOCK() - start) / steps)
    return best


# --- the contenders -------------------------------------------------------------

def bare_numpy(sizes, batch, X, y, dtype):
    """The hand-written loop: returns run(steps)."""
    net = bk.Network(sizes, activation="tanh", output="sigmoid", seed=0, dtype=dtype)
    Ws = [W.copy() for W in net.weights]
    bs = [b.copy() for b in net.biases]
    rng = np.random.default_rng(0)
    state = {"pos": len(X), "Xs": X, "ys": y}
    losses = []

    def run(steps):
        for _ in range(steps):
            pos = state["pos"]
            if pos + batch > len(X):                # new epoch: shuffle once, then slice views
                order = rng.permutation(len(X))
                state["Xs"], state["ys"], pos = X[order], y[order], 0
            xb, yb = state["Xs"][pos:pos + batch], state["ys"][pos:pos + batch]
            state["pos"] = pos + batch
            # forward
            acts = [xb]
            a = xb
            for W, b in zip(Ws[:-1], bs[:-1]):
                a = np.tanh(a @ W + b)
                acts.append(a)
            p = 1.0 / (1.0 + np.exp(-(a @ Ws[-1] + bs[-1])))
            # loss (BCE, clamped logs as PyTorch does)
            losses.append(float(-np.mean(yb * np.maximum(np.log(p), -100)
                                         + (1 - yb) * np.maximum(np.log(1 - p), -100))))
            # backward, and update in place as we go
            delta = (p - yb) * (1.0 / batch)
            for i in range(len(Ws) - 1, -1, -1):
                dW = acts[i].T @ delta
                db = delta.sum(axis=0)
                if i:
                    delta = (delta @ Ws[i].T) * (1.0 - acts[i] * acts[i])
                Ws[i] -= LR * dW
                bs[i] -= LR * db
            if len(losses) > 10000:
                losses.clear()
    return run


def kit_stages(sizes, batch, X, y, dtype, public=True, kit=bk):
    """The four stages in a loop; ``kit``: the backprop_kit module to time (another version, for compare.py)."""
    net = kit.Network(sizes, activation="tanh", output="sigmoid", seed=0, dtype=dtype)
    spec = kit.losses.get("bce")
    stages = kit.stages
    rng = np.random.default_rng(0)
    state = {"pos": len(X), "Xs": X, "ys": y, "net": net}

    def run(steps):
        net = state["net"]
        for _ in range(steps):
            pos = state["pos"]
            if pos + batch > len(X):
                order = rng.permutation(len(X))
                state["Xs"], state["ys"], pos = X[order], y[order], 0
            xb, yb = state["Xs"][pos:pos + batch], state["ys"][pos:pos + batch]
            state["pos"] = pos + batch
            if public:
                trace = kit.forward(net, xb)
                kit.loss(trace.output, yb, "bce")
                grads = kit.gradient(net, trace, yb, "bce")
                net = kit.update(net, grads, lr=LR)
            else:
                trace = stages._forward(net, xb)
                stages._loss(trace.output, yb, spec, 0.0, None)
                grads = stages._gradient(net, trace, yb, spec, 0.0)
                net = stages._update(net, grads, LR)
        state["net"] = net
    return run


def trainer(sizes, batch, data, dtype, kit=bk):
    net = kit.Network(sizes, activation="tanh", output="sigmoid", seed=0, dtype=dtype)
    if kit is not bk:
        data = kit.datasets.from_arrays(np.vstack([data.X_train, data.X_test]),
                                        np.concatenate([data.y_train, data.y_test]), test_fraction=0.2, seed=0)
    return kit.Trainer(net, data, loss="bce", lr=LR, batch_size=batch, optimizer="sgd", seed=0)


def trainer_within_epoch(tr, steps=32):
    """(run, steps, prepare): prepare finishes the epoch (untimed) if the block would cross its end."""
    def prepare(steps):
        if tr.steps_per_epoch - tr.steps % tr.steps_per_epoch <= steps:   # the block would reach the end
            tr.run(1)

    def run(steps):
        tr.step(steps)
        if tr.diverged:
            raise RuntimeError(tr.diverged)
    return run, steps, prepare


def trainer_whole_epochs(tr):
    def run(steps):
        tr.run(steps // tr.steps_per_epoch)
        if tr.diverged:
            raise RuntimeError(tr.diverged)
    return run


def torch_eager(sizes, batch, X, y, dtype):
    torch.manual_seed(0)
    tdtype = getattr(torch, dtype)
    layers = []
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(m, n, dtype=tdtype))
        layers.append(torch.nn.Tanh() if i < len(sizes) - 2 else torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    criterion = torch.nn.BCELoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(0)
    state = {"pos": len(X), "Xs": Xt, "ys": yt}

    def run(steps):
        for _ in range(steps):
            pos = state["pos"]
            if pos + batch > len(Xt):
                order = torch.randperm(len(Xt), generator=generator)
                state["Xs"], state["ys"], pos = Xt[order], yt[order], 0
            xb, yb = state["Xs"][pos:pos + batch], state["ys"][pos:pos + batch]
            state["pos"] = pos + batch
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss.item()     # the kit and the bare loop turn the loss into a Python float too
    return run


# --- the report ------------------------------------------------------------------

def us(seconds):
    return f"{'-':>9}" if math.isnan(seconds) else f"{seconds * 1e6:9.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, noisier numbers)")
    parser.add_argument("--wall", action="store_true",
                        help="time wall-clock seconds (default: this process's CPU seconds, which a busy "
                             "machine disturbs less)")
    args = parser.parse_args(argv)
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    repeats = 5 if args.quick else 40
    if torch is not None:
        torch.set_num_threads(1)

    print(machine())
    print(f"\nfloat64, tanh hidden, sigmoid output, BCE, SGD lr={LR}; microseconds per step "
          f"(min over {repeats} repeats, {'wall-clock' if args.wall else 'CPU'} time); "
          f"an epoch = {STEPS_PER_EPOCH} mini-batches")
    header = (f"{'network / batch':<22}{'numpy':>9}{'_stages':>9}{'stages':>9}{'Trainer':>9}{'+epoch':>9}"
              f"{'torch':>9} | {'Trainer/np':>10}{'_stg/np':>8}{'stg/np':>8}{'torch/Tr':>9}")
    print(header)
    print("-" * len(header))
    for sizes, batch in SMALL:
        row(sizes, batch, "float64", repeats)
    print("\nfloat32 (Network(..., dtype='float32') vs torch float32), same columns")
    print(header)
    print("-" * len(header))
    row(*LARGE, "float32", repeats)
    if torch is None:
        print("\ntorch: not installed, its column is skipped (pip install torch to compare)")
    print("\nTrainer/np and the goals: Trainer <= 1.3x numpy; torch/Trainer >= 3 at the two small sizes;"
          "\n+epoch adds the end-of-epoch evaluation of the whole training and test sets, amortised.")


def row(sizes, batch, dtype, repeats):
    data, X, y = make_data(sizes, batch, dtype)
    steps = 32     # a block: long enough to time, short enough to stay inside one epoch
    contenders = {
        "numpy": (bare_numpy(sizes, batch, X, y, dtype), steps, None),
        "_stages": (kit_stages(sizes, batch, X, y, dtype, public=False), steps, None),
        "stages": (kit_stages(sizes, batch, X, y, dtype, public=True), steps, None),
        "Trainer": (*trainer_within_epoch(trainer(sizes, batch, data, dtype)),),
        "+epoch": (trainer_whole_epochs(trainer(sizes, batch, data, dtype)), STEPS_PER_EPOCH, None),
        "torch": (torch_eager(sizes, batch, X, y, dtype), steps, None) if torch is not None else None,
    }
    times = dict.fromkeys(contenders, math.inf)
    # round-robin: every contender gets one block per round, so a busy spell of the machine
    # hits them all alike; the minimum over rounds is each one's undisturbed time
    for round_ in range(repeats):
        for name, contender in contenders.items():
            if contender is None or (name == "+epoch" and round_ % 4):    # whole epochs are long: fewer
                continue
            run, block, prepare = contender
            times[name] = min(times[name], best_per_step(run, block, 1, prepare))
    times = {name: (value if contenders[name] is not None else math.nan) for name, value in times.items()}
    name = f"{'-'.join(map(str, sizes))} / {batch}"
    base = times["numpy"]
    torch_ratio = times["torch"] / times["Trainer"]
    print(f"{name:<22}" + "".join(us(times[k]) for k in times)
          + f" | {times['Trainer'] / base:9.2f}x{times['_stages'] / base:7.2f}x{times['stages'] / base:7.2f}x"
          + (f"{torch_ratio:8.2f}x" if not math.isnan(torch_ratio) else f"{'-':>9}"), flush=True)
    return times


def machine():
    lines = [f"python {sys.version.split()[0]}, numpy {np.__version__}"
             + (f", torch {torch.__version__} (1 thread)" if torch is not None else ", torch not installed")]
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            lines.append(f"{pool['user_api']}: {pool['internal_api']} {pool.get('version')} "
                         f"{pool.get('architecture', '')}, {pool['num_threads']} thread(s)")
    except ImportError:
        lines.append("BLAS: see numpy.show_config() (threadpoolctl not installed)")
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "?") if os.path.exists("/proc/cpuinfo") else "?"
    lines.append(f"cpu: {cpu}, {os.cpu_count()} cores; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
