"""How well the kit's default network learns, next to scikit-learn's MLPClassifier and PyTorch.

    python benchmarks/fit_quality.py            # 10 seeds per data set; ~2-4 min on 2 cores
    python benchmarks/fit_quality.py --quick    # 2 seeds, 20 epochs: a smoke run
    python benchmarks/fit_quality.py --kit-network bias=zeros    # the kit with other Network arguments

Every library trains the same network on the same data, seed by seed:

- data: ``bk.datasets.make(name, n=400, noise=0.1, test_fraction=0.25, seed=s)`` for s = 0..9,
  the same train/test split for every library (300 / 100 points);
- network: [2, 16, 16, out] with tanh hidden layers; out = 1 with a sigmoid (BCE) for the
  binary sets, 3 with a softmax (cross-entropy) for the 3-class spiral, 1 linear (MSE) for sine
  ([1, 16, 16, 1]);
- Adam, learning rate 0.01, betas (0.9, 0.999), eps 1e-8; mini-batches of 16 from a new
  shuffle every epoch (the last batch of an epoch is smaller); 200 epochs, no L2, no early
  stopping; each library starts its weights and biases its own default way, from seed s.

Library by library:

- kit: ``Network(sizes, activation="tanh", output=data.output, seed=s)`` (its default init)
  and ``Trainer(net, data, lr=0.01, batch_size=16, optimizer="adam", seed=s).run(200)``.
- sklearn: ``MLPClassifier`` / ``MLPRegressor(hidden_layer_sizes=(16, 16), activation="tanh",
  solver="adam", learning_rate_init=0.01, batch_size=16, max_iter=200, shuffle=True, alpha=0,
  tol=0, n_iter_no_change=10**9, early_stopping=False, random_state=s)``: Glorot-uniform
  weights and biases. Its loss for regression is half the mean square, which Adam's step
  does not see (the step divides the gradient by its own size).
- torch: ``nn.Sequential`` of ``nn.Linear`` (its default init: weights and biases uniform in
  +-1/sqrt(fan_in)) and ``nn.Tanh``, ``BCEWithLogitsLoss`` / ``CrossEntropyLoss`` /
  ``MSELoss``, ``torch.optim.Adam(lr=0.01)``, float64 like the others; a new ``randperm`` per
  epoch, sliced into batches of 16. Only where torch is installed (it is not a dependency).

Per data set the table gives, per library, the mean and the worst (lowest accuracy, highest
MSE) over the seeds, of the accuracy on the training and the test set after the last epoch
(for sine: the mean square error). The goal it checks: the kit's mean within 1 point of the
better library's, and its worst run no worse than the better library's worst.
Runs go to a process pool (--jobs, default: the CPU count), each on one BLAS thread.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")    # before NumPy loads its BLAS: the pool runs one process per core

import argparse  # noqa: E402
import ast  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # run from a checkout without installing
import backprop_kit as bk  # noqa: E402

# (label, datasets.make name, classes)
DATASETS = [("xor", "xor", 2), ("circles", "circles", 2), ("moons", "moons", 2),
            ("gaussians", "gaussians", 2), ("spiral", "spiral", 2), ("spiral, 3 classes", "spiral", 3),
            ("sine (MSE)", "sine", 2)]
N, NOISE, TEST_FRACTION = 400, 0.1, 0.25
HIDDEN = (16, 16)
LEARNING_RATE, BATCH_SIZE, EPOCHS = 0.01, 16, 200
LIBRARIES = ("kit", "sklearn", "torch")


def make_data(name: str, classes: int, seed: int) -> bk.datasets.Dataset:
    return bk.datasets.make(name, n=N, noise=NOISE, test_fraction=TEST_FRACTION, seed=seed, classes=classes)


def scores(output: np.ndarray, y: np.ndarray, task: str) -> float:
    """Accuracy for a classification task, the mean square error for regression."""
    if task == "regression":
        return float(np.mean((output.reshape(y.shape) - y) ** 2))
    return bk.training.accuracy(output, y, task)


# --- one run per library: (data set, seed) -> (train score, test score) ------------------------

def run_kit(data, seed, epochs, network_options):
    net = bk.Network([data.n_inputs, *HIDDEN, data.n_outputs], activation="tanh", output=data.output,
                     seed=seed, **network_options)
    trainer = bk.Trainer(net, data, lr=LEARNING_RATE, batch_size=BATCH_SIZE, optimizer="adam", seed=seed)
    trainer.run(epochs)
    if trainer.diverged:
        raise RuntimeError(trainer.diverged)
    return tuple(scores(trainer.predict(X), y, data.task)
                 for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test)))


def run_sklearn(data, seed, epochs, _):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    model_class = MLPRegressor if data.task == "regression" else MLPClassifier
    model = model_class(hidden_layer_sizes=HIDDEN, activation="tanh", solver="adam",
                        learning_rate_init=LEARNING_RATE, batch_size=BATCH_SIZE, max_iter=epochs,
                        shuffle=True, alpha=0.0, tol=0.0, n_iter_no_change=10**9, early_stopping=False,
                        beta_1=0.9, beta_2=0.999, epsilon=1e-8, random_state=seed)
    y_train = data.y_train[:, 0] if data.task == "regression" else data.y_train
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)     # it ran max_iter epochs, as asked
        model.fit(data.X_train, y_train)

    def output(X):
        if data.task == "regression":
            return model.predict(X).reshape(-1, 1)
        probabilities = model.predict_proba(X)
        return probabilities[:, 1:] if data.task == "binary" else probabilities
    return tuple(scores(output(X), y, data.task)
                 for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test)))


def run_torch(data, seed, epochs, _):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    sizes = [data.n_inputs, *HIDDEN, data.n_outputs]
    layers = []
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(m, n, dtype=torch.float64))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    X = torch.from_numpy(data.X_train)
    if data.task == "binary":
        criterion, y = torch.nn.BCEWithLogitsLoss(), torch.from_numpy(data.y_train.astype(np.float64)).reshape(-1, 1)
    elif data.task == "multiclass":
        criterion, y = torch.nn.CrossEntropyLoss(), torch.from_numpy(data.y_train.astype(np.int64))
    else:
        criterion, y = torch.nn.MSELoss(), torch.from_numpy(data.y_train)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        X_epoch, y_epoch = X[order], y[order]
        for start in range(0, len(X), BATCH_SIZE):
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(X_epoch[start:start + BATCH_SIZE]), y_epoch[start:start + BATCH_SIZE])
            loss.backward()
            optimizer.step()

    def output(X):
        with torch.no_grad():
            z = model(torch.from_numpy(X))
        if data.task == "binary":
            z = torch.sigmoid(z)
        elif data.task == "multiclass":
            z = torch.softmax(z, dim=1)
        return z.numpy()
    return tuple(scores(output(X), y, data.task)
                 for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test)))


RUNNERS = {"kit": run_kit, "sklearn": run_sklearn, "torch": run_torch}


def one_run(job):
    library, label, name, classes, seed, epochs, network_options = job
    data = make_data(name, classes, seed)
    return job, RUNNERS[library](data, seed, epochs, network_options)


# --- the table ----------------------------------------------------------------------------------

def summary(values, regression):
    """(mean, worst) of one library's scores over the seeds; worst = highest MSE / lowest accuracy."""
    values = np.asarray(values)
    return values.mean(), (values.max() if regression else values.min())


def show(value, regression):
    return f"{value:.4f}" if regression else f"{100 * value:5.1f}"


def table(results, libraries, seeds):
    """The printed table: per data set and split, each library's mean (worst), and the goal's verdict."""
    width = 16
    head = "".join(f"{lib:>{width}}" for lib in libraries)
    lines = [f"{'data set':<19}{'split':<7}{head}   kit vs the better library",
             "-" * (26 + width * len(libraries) + 28)]
    for label, name, _ in DATASETS:
        regression = name == "sine"
        for split, index in (("train", 0), ("test", 1)):
            cells, stats = [], {}
            for lib in libraries:
                values = [results[(lib, label, seed)][index] for seed in seeds if (lib, label, seed) in results]
                if len(values) != len(seeds):
                    cells.append(f"{'-':>{width}}")
                    continue
                stats[lib] = summary(values, regression)
                mean, worst = stats[lib]
                cells.append(f"{show(mean, regression) + ' (' + show(worst, regression).strip() + ')':>{width}}")
            lines.append(f"{(label if split == 'train' else ''):<19}{split:<7}{''.join(cells)}   "
                         f"{verdict(stats, regression)}")
    return "\n".join(lines)


def verdict(stats, regression):
    """The goal: the kit's mean within 1 point (accuracy) or 10% (MSE) of the better library's,
    its worst no worse than the better library's worst."""
    others = [s for lib, s in stats.items() if lib != "kit"]
    if "kit" not in stats or not others:
        return ""
    mean, worst = stats["kit"]
    if regression:
        best_mean, best_worst = min(m for m, _ in others), min(w for _, w in others)
        mean_ok, worst_ok = mean <= 1.1 * best_mean, worst <= best_worst
        gap = f"mean {mean / best_mean:.2f}x, worst {worst / best_worst:.2f}x"
    else:
        best_mean, best_worst = max(m for m, _ in others), max(w for _, w in others)
        mean_ok, worst_ok = mean >= best_mean - 0.01, worst >= best_worst
        gap = f"mean {100 * (mean - best_mean):+.1f}, worst {100 * (worst - best_worst):+.1f}"
    return f"{gap}  {'ok' if mean_ok and worst_ok else 'NOT MET'}"


def parse_options(pairs):
    """['bias=zeros', 'scale=0.5'] -> {'bias': 'zeros', 'scale': 0.5} (values as Python literals or strings)."""
    options = {}
    for pair in pairs:
        key, _, text = pair.partition("=")
        try:
            options[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[key] = text
    return options


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds and 20 epochs: a smoke run")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per data set (default 10)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--libraries", default=",".join(LIBRARIES),
                        help="comma-separated, from kit, sklearn, torch (default: all that are installed)")
    parser.add_argument("--kit-network", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra keyword argument for the kit's Network, e.g. bias=zeros (repeatable)")
    args = parser.parse_args(argv)
    seeds = range(2 if args.quick else args.seeds)
    epochs = 20 if args.quick else args.epochs
    network_options = parse_options(args.kit_network)

    libraries, missing = [], []
    for lib in args.libraries.split(","):
        if lib not in RUNNERS:
            parser.error(f"--libraries: unknown library {lib!r}; choose from {', '.join(LIBRARIES)}")
        module = {"kit": None, "sklearn": "sklearn", "torch": "torch"}[lib]
        try:
            if module:
                __import__(module)
            libraries.append(lib)
        except ImportError:
            missing.append(lib)

    versions = [f"numpy {np.__version__}"]
    for lib, module in (("sklearn", "sklearn"), ("torch", "torch")):
        if lib in libraries:
            versions.append(f"{module} {sys.modules[module].__version__}")
    print(f"Python {platform.python_version()}, {', '.join(versions)}; {os.cpu_count()} CPUs, {args.jobs} jobs")
    kit_call = ", ".join(["activation='tanh'", "output=data.output", "seed=s"]
                         + [f"{k}={v!r}" for k, v in network_options.items()])
    print(f"data: make(name, n={N}, noise={NOISE}, test_fraction={TEST_FRACTION}, seed=s), s = 0..{len(seeds) - 1}; "
          f"network [in, {HIDDEN[0]}, {HIDDEN[1]}, out] tanh; Adam lr={LEARNING_RATE}, batch {BATCH_SIZE}, "
          f"{epochs} epochs")
    print(f"kit: Network(sizes, {kit_call})")
    for lib in missing:
        print(f"({lib} is not installed: its column is left out. `pip install scikit-learn` or "
              f"`pip install torch==2.13.0` in a separate venv; see benchmarks/README.md)")

    jobs = [(lib, label, name, classes, seed, epochs, network_options if lib == "kit" else {})
            for label, name, classes in DATASETS for seed in seeds for lib in libraries]
    start = time.perf_counter()
    results = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for job, result in pool.map(one_run, jobs):
            results[(job[0], job[1], job[4])] = result
    print(f"{len(jobs)} runs in {time.perf_counter() - start:.0f} s\n")
    print(f"Accuracy in % (MSE for sine), mean over {len(seeds)} seeds (worst)")
    print(table(results, libraries, list(seeds)))


if __name__ == "__main__":
    main()
