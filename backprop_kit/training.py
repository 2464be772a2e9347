"""Trainer: the four stages in a loop over epochs of shuffled mini-batches, with a History.

    trainer = Trainer(net, data, loss="bce", lr=0.1, batch_size=32)
    trainer.run(50)                  # 50 whole epochs
    trainer.history.train_loss[-1], trainer.history.test_accuracy[-1]

Each step takes the next mini-batch and calls forward, loss, gradient and the optimizer's
update (the same functions as ``stages``), records the loss and each layer's gradient
norm, and checks that the numbers stay finite. When they do not, training stops and
``trainer.diverged`` says when, what blew up and what to try; the last good network is kept.
"""
from __future__ import annotations

import csv
import math
import os

import numpy as np

from . import _checks, losses, optimizers
from ._threads import one_blas_thread
from .datasets import TASK_DEFAULTS, Dataset
from .network import Network
from .stages import Gradients, _check_l2, _check_network, _forward, _gradient, _loss

# A run has "blown up" when its smoothed loss is this many times its first loss (and above
# BLOWUP_FLOOR): e.g. a BCE of 0.69 that climbs to 14, i.e. confidently wrong everywhere.
BLOWUP_FACTOR = 20.0
BLOWUP_FLOOR = 5.0
SMOOTHING = 0.05
DEFAULT_LR = 0.1
EVALUATION_BLOCK = 1024   # rows per forward pass when the Trainer evaluates a whole data set


class History:
    """What happened during training.

    Per step: ``loss`` (list of floats, the mini-batch loss), ``grad_norms`` ((steps, layers)
    array: the L2 norm of each layer's weight gradient, before clipping), ``global_norms``
    (list: the norm of all gradients together, before clipping) and ``clipped`` (list of bool).
    Per epoch: ``epochs`` (1, 2, ...), ``epoch_steps`` (the step count at the epoch's end),
    ``train_loss``, ``test_loss``, ``train_accuracy``, ``test_accuracy`` (nan for regression
    or an empty test set).
    """

    EPOCH_FIELDS = ("epochs", "epoch_steps", "train_loss", "test_loss", "train_accuracy", "test_accuracy")

    def __init__(self, layers: int):
        self.loss: list[float] = []
        self.global_norms: list[float] = []
        self.clipped: list[bool] = []
        self._norms = np.empty((64, layers))
        for field in self.EPOCH_FIELDS:
            setattr(self, field, [])

    @property
    def steps(self) -> int:
        return len(self.loss)

    @property
    def grad_norms(self) -> np.ndarray:
        """(steps, layers): each layer's weight-gradient norm at each step (a read-only view)."""
        view = self._norms[:len(self.loss)]
        view.flags.writeable = False
        return view

    def _record_step(self, loss: float, layer_norms, global_norm: float, clipped: bool) -> None:
        step = len(self.loss)
        if step == len(self._norms):    # grow by doubling: appends stay O(1) on average
            self._norms = np.concatenate([self._norms, np.empty_like(self._norms)])
        self._norms[step] = layer_norms
        self.loss.append(loss)
        self.global_norms.append(global_norm)
        self.clipped.append(clipped)

    def _record_epoch(self, steps: int, train: tuple[float, float], test: tuple[float, float]) -> None:
        self.epochs.append(len(self.epochs) + 1)
        self.epoch_steps.append(steps)
        self.train_loss.append(train[0])
        self.train_accuracy.append(train[1])
        self.test_loss.append(test[0])
        self.test_accuracy.append(test[1])

    def to_csv(self, path) -> None:
        """Write one row per step: step, epoch, loss, global_norm, clipped, grad_norm_<layer>...,
        and on the last step of each epoch its train/test loss and accuracy (empty otherwise)."""
        layers = self._norms.shape[1]
        header = (["step", "epoch", "loss", "global_norm", "clipped"]
                  + [f"grad_norm_{i}" for i in range(layers)]
                  + ["train_loss", "test_loss", "train_accuracy", "test_accuracy"])
        at_epoch_end = {s: e for e, s in enumerate(self.epoch_steps)}
        with open(os.fspath(path), "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            epoch = 1
            for step in range(self.steps):
                row = [step + 1, epoch, repr(self.loss[step]), repr(self.global_norms[step]),
                       int(self.clipped[step])] + [repr(float(v)) for v in self._norms[step]]
                e = at_epoch_end.get(step + 1)
                if e is None:
                    row += [""] * 4
                else:
                    row += [repr(self.train_loss[e]), repr(self.test_loss[e]),
                            repr(self.train_accuracy[e]), repr(self.test_accuracy[e])]
                    epoch += 1
                writer.writerow(row)

    def __repr__(self) -> str:
        last = f", last loss {self.loss[-1]:.4g}" if self.loss else ""
        return f"History({self.steps} steps, {len(self.epochs)} epochs{last})"


class Trainer:
    """Trains a network on a Dataset with mini-batch gradient descent.

    Trainer(net, data, loss=None, lr=0.1, batch_size=32, optimizer="sgd", clip=None, l2=0.0, seed=0)

    - loss: one of losses.NAMES; default: the one the dataset's task needs (``data.loss``).
    - lr: learning rate > 0 (default 0.1, or an optimizer object's own). batch_size: 1 .. the
      training-set size. optimizer: one of optimizers.OPTIMIZERS, or an optimizer object.
      clip: None or a max global gradient norm > 0.
      l2: weight penalty >= 0. seed: fixes the mini-batch order.
    ``lr``, ``batch_size`` and ``clip`` may be changed between steps; progress is kept.

    As it trains: ``net`` (the current network), ``history``, ``epoch`` (epochs completed),
    ``gradients`` (the Gradients of the last step, before clipping: what the network view shows),
    ``diverged`` (None, or the message that stopped training).
    """

    # complexity: every argument is checked before anything is set (a failed call changes nothing)
    def __init__(self, net: Network, data: Dataset, loss: str | None = None, lr: float | None = None,
                 batch_size: int = 32, optimizer="sgd", clip: float | None = None, l2: float = 0.0,
                 seed: int | None = 0):
        _check_network(net)
        _check_dataset(data)
        loss = data.loss if loss is None else loss
        self._spec = losses.get(loss)
        losses.check_pairing(loss, net.output)
        self.loss = loss
        prepared = self._prepare(data, net)
        self.l2 = _check_l2(l2, net)
        if seed is not None:
            seed = _checks.number("seed", seed, low=0, integer=True)
        if lr is not None:
            lr = _checks.number("lr", lr, low=0, low_open=True)
        if not isinstance(optimizer, optimizers.Optimizer):
            optimizer = optimizers.make(optimizer, DEFAULT_LR if lr is None else lr)
        self._X_train = prepared[0]             # (the batch size is checked against its length)
        self.batch_size = batch_size
        self.clip = clip
        if lr is not None:      # only now that every argument is checked: a failed call changes nothing
            optimizer.lr = lr
        self.net = net           # (a property: also forgets what is known of the weights' size)
        self._data, (self._X_train, self._y_train, self._X_test, self._y_test) = data, prepared
        self.optimizer = optimizer
        self.seed = seed
        self.history = History(net.n_layers)
        self.diverged: str | None = None
        self.gradients: Gradients | None = None     # the last step's, before clipping (None before the first)
        self.epoch = 0            # completed epochs
        self._rng = np.random.default_rng(seed)
        self._shuffle()
        self._smoothed = None

    def _prepare(self, data, net: Network) -> tuple:
        """``data``'s arrays as a step uses them: (X_train, y_train, X_test, y_test) in the network's
        dtype, the targets in the loss's canonical form (once, so each step only slices them);
        refuses data the network or the loss cannot take."""
        _check_dataset(data)
        if net.sizes[0] != data.n_inputs:
            raise ValueError(f"net must take {data.n_inputs} inputs to fit dataset {data.name!r}; "
                             f"its sizes are {list(net.sizes)}")
        if net.sizes[-1] != data.n_outputs and not self._spec.regression:
            raise ValueError(f"net must have {data.n_outputs} output(s) for the {data.task} dataset "
                             f"{data.name!r}; its sizes are {list(net.sizes)}")
        if data.task == "regression" and not self._spec.regression:
            fits = [name for name, spec in losses.REGISTRY.items() if spec.regression]
            raise ValueError(f"loss must be one of {', '.join(map(repr, fits))} for the regression dataset "
                             f"{data.name!r}; got {self.loss!r}")
        k = net.sizes[-1]
        y_train = losses.targets(data.y_train, self.loss, len(data.y_train), k, argument="data.y_train",
                                 dtype=net.dtype)
        y_test = (losses.targets(data.y_test, self.loss, len(data.y_test), k, argument="data.y_test",
                                 dtype=net.dtype) if len(data.y_test) else None)
        return data.X_train.astype(net.dtype), y_train, data.X_test.astype(net.dtype), y_test

    @property
    def data(self) -> Dataset:
        """The Dataset being learnt. Setting another one (e.g. with points added or removed, the
        same task and inputs) goes on training the same network on it: progress, history and the
        optimizer's state are kept, the next step starts a new epoch order, and the batch size
        shrinks to the new training set if it must. Its training set may be empty; training then
        says so until there are points again."""
        return self._data

    @data.setter
    def data(self, value: Dataset) -> None:
        prepared = self._prepare(value, self._net)          # checks first: a refused set changes nothing
        self._data, (self._X_train, self._y_train, self._X_test, self._y_test) = value, prepared
        self._batch_size = min(self._batch_size, max(len(self._X_train), 1))
        self._shuffle()

    @property
    def net(self) -> Network:
        """The current network (a new one after each step; the one before is never changed)."""
        return self._net

    @net.setter
    def net(self, value: Network) -> None:
        self._net = value
        self._weight_bound = None       # see _nonfinite_layer: the next step scans the weights
        self._safe_bound = 1e-10 * float(np.finfo(value.dtype).max)

    # --- live hyperparameters ------------------------------------------------
    @property
    def lr(self) -> float:
        return self.optimizer.lr

    @lr.setter
    def lr(self, value) -> None:
        self.optimizer.lr = value

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value) -> None:
        n = max(len(self._X_train), 1)
        self._batch_size = _checks.number("batch_size", value, low=1, high=n, integer=True,
                                          accepts=f"a whole number from 1 to {n} (the training-set size)")

    @property
    def clip(self) -> float | None:
        return self._clip

    @clip.setter
    def clip(self, value) -> None:
        self._clip = None if value is None else _checks.number(
            "clip", value, low=0, low_open=True, accepts="None (no clipping) or a max gradient norm > 0")

    @property
    def steps(self) -> int:
        """Mini-batches taken so far."""
        return self.history.steps

    @property
    def steps_per_epoch(self) -> int:
        return max(math.ceil(len(self._X_train) / self._batch_size), 1)

    # --- training --------------------------------------------------------------
    def step(self, k: int = 1) -> "Trainer":
        """Run k mini-batches (crossing epoch ends as needed). Does nothing once diverged."""
        k = _checks.number("k", k, low=0, integer=True)
        self._check_points(k)
        # overflow is expected when a run diverges (_step reports it); one BLAS thread: see _threads
        with np.errstate(all="ignore"), one_blas_thread():
            for _ in range(k):
                if self.diverged is not None:
                    break
                self._step()
        return self

    def run(self, epochs: int = 1, progress: bool = False) -> "Trainer":
        """Train until ``epochs`` more epochs have ended (the current one, if begun, counts as one).

        ``progress=True`` shows a progress bar (tqdm: a widget in a notebook, text on stderr
        elsewhere) with the last epoch's training loss and accuracy.
        """
        epochs = _checks.number("epochs", epochs, low=0, integer=True)
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be True or False; got {_checks._show(progress)}")
        self._check_points(epochs)
        target = self.epoch + epochs
        bar = self._progress_bar(epochs) if progress else None
        try:
            with np.errstate(all="ignore"), one_blas_thread():
                while self.epoch < target and self.diverged is None:
                    epoch = self.epoch
                    self._step()
                    if bar is not None and self.epoch != epoch:
                        self._show_progress(bar)
        finally:
            if bar is not None:
                bar.close()
        return self

    def _check_points(self, wanted: int) -> None:
        if wanted and not len(self._X_train) and self.diverged is None:
            raise ValueError(f"data.X_train must hold points to train on; dataset {self._data.name!r} has "
                             f"none. Give the Trainer data with training points (trainer.data = ...)")

    def _progress_bar(self, epochs: int):
        from tqdm.auto import tqdm        # here, not at the top: ``import backprop_kit`` stays light
        return tqdm(total=epochs, desc=self.data.name, unit="epoch", leave=True, dynamic_ncols=True)

    def _show_progress(self, bar) -> None:
        h = self.history
        text = f"loss {h.train_loss[-1]:.4f}"
        if math.isfinite(h.train_accuracy[-1]):
            text += f", accuracy {h.train_accuracy[-1]:.1%}"
        bar.set_postfix_str(text, refresh=False)
        bar.update(1)

    def _shuffle(self) -> None:
        """A new epoch: a new order of the training set, and the set copied in that order, so that
        each mini-batch is a contiguous slice (a view, no copy per step)."""
        self._order = self._rng.permutation(len(self._X_train))
        self._X_epoch = self._y_epoch = None        # the last epoch's copy goes first: one copy at a time
        self._X_epoch, self._y_epoch = self._X_train[self._order], self._y_train[self._order]
        self._position = 0        # index into _order of the next mini-batch

    def _step(self) -> None:
        if self._position >= len(self._order):     # the last epoch has ended: a new order
            self._shuffle()
        net, spec = self.net, self._spec
        start, stop = self._position, self._position + self._batch_size
        X, y = self._X_epoch[start:stop], self._y_epoch[start:stop]
        # forward, loss, gradient, update: the four stages
        trace = _forward(net, X)
        loss = _loss(trace.output, y, spec, self.l2, net)
        grads = _gradient(net, trace, y, spec, self.l2)
        raw_grads = grads
        weight_sq = [float(np.vdot(g, g)) for g in grads.weights]
        global_norm = math.sqrt(sum(weight_sq) + sum(float(np.vdot(g, g)) for g in grads.biases))
        clipped = False
        if self._clip is not None and global_norm > self._clip:
            grads, _ = optimizers._clip(grads, self._clip, global_norm)
            clipped = True
        new_net = self.optimizer._step(net, grads)

        self.history._record_step(loss, [math.sqrt(s) for s in weight_sq], global_norm, clipped)
        problem = self._check_finite(loss, global_norm, new_net)
        ends_epoch = stop >= len(self._order)
        if problem is None and ends_epoch:
            # huge but finite weights can still overflow on the whole data set: check before keeping them
            evaluation = self._evaluate_all(new_net)
            if not all(math.isfinite(value) for value, _ in evaluation if value is not None):
                problem = (f"the loss over the whole training set became {evaluation[0][0]} "
                           f"(test set: {evaluation[1][0]}) at the end of the epoch")
        if problem is not None:
            self._stop(problem, global_norm)
            return
        self._net = new_net
        self.gradients = raw_grads
        self._position += len(X)
        if ends_epoch:
            self._end_epoch(evaluation)

    def _check_finite(self, loss: float, global_norm: float, new_net: Network) -> str | None:
        if not math.isfinite(loss):
            return f"the loss became {loss}"
        if not math.isfinite(global_norm):
            return "the gradients became infinite or NaN"
        layer = self._nonfinite_layer(new_net, global_norm)
        if layer is not None:
            return f"the weights of layer {layer} became infinite or NaN"
        first = self.history.loss[0]
        self._smoothed = loss if self._smoothed is None else (
            (1 - SMOOTHING) * self._smoothed + SMOOTHING * loss)
        if self._smoothed > max(BLOWUP_FACTOR * first, BLOWUP_FLOOR):
            return (f"the loss blew up: averaged over recent steps it is {self._smoothed:.3g}, "
                    f"{self._smoothed / first:.0f} times the first loss {first:.3g}")
        return None

    def _nonfinite_layer(self, new_net: Network, global_norm: float) -> int | None:
        """The first layer of ``new_net`` with an inf or NaN weight or bias, or None.

        Scanning every weight at every step costs a small network about as much as its update.
        After a plain SGD step a bound does instead: every weight was at most ``_weight_bound``
        in size and the step W - lr g moves it by at most lr * global_norm, so while that bound
        stays far below the largest float nothing can have overflowed (and the gradients are
        finite, so nothing became NaN). Other optimizers, or a bound grown large: scan, and
        restart the bound from what the scan measured.
        """
        if self._weight_bound is not None and type(self.optimizer) is optimizers.SGD:
            # x2 and x(1 + 1e-6): room for the rounding in the norm, the step and the subtraction
            bound = (self._weight_bound + 2.0 * self.optimizer.lr * global_norm) * (1 + 1e-6)
            if bound < self._safe_bound:
                self._weight_bound = bound
                return None
        squares = 0.0
        for i, (W, b) in enumerate(zip(new_net.weights, new_net.biases)):
            # a sum of squares is finite only if every entry is, and np.vdot is the cheapest such
            # test; when it is not, look closer: squares also overflow for weights above ~1e154
            layer_squares = float(np.vdot(W, W)) + float(np.vdot(b, b))
            if not math.isfinite(layer_squares) and not (np.isfinite(W).all() and np.isfinite(b).all()):
                self._weight_bound = None
                return i
            squares += layer_squares
        self._weight_bound = 2.0 * math.sqrt(squares)      # >= the largest weight (inf if squares overflowed)
        return None

    def _stop(self, problem: str, global_norm: float) -> None:
        advice = f"Try a lower learning rate (it is {self.lr:g}; try {self.lr / 10:g})"
        if self._clip is None:
            advice += " or turn on gradient clipping (e.g. clip=1.0)"
        else:
            advice += f" or a smaller clip (it is {self._clip:g})"
        self.diverged = (f"Training diverged at step {self.steps} (epoch {self.epoch + 1}): {problem}; "
                         f"the gradient norm was {global_norm:.3g}. {advice}. "
                         f"The network from before that step is kept.")

    def _end_epoch(self, evaluation) -> None:
        self.epoch += 1       # the next step draws the next epoch's order (_shuffle)
        train, (test_loss, test_accuracy) = evaluation
        self.history._record_epoch(self.steps, train,
                                   (math.nan if test_loss is None else test_loss, test_accuracy))

    # --- evaluation ------------------------------------------------------------
    def _evaluate_all(self, net: Network) -> tuple[tuple, tuple]:
        """((train loss, accuracy), (test loss, accuracy)) of ``net``; (None, nan) for an empty test set."""
        train = self._evaluate(self._X_train, self._y_train, net)
        test = self._evaluate(self._X_test, self._y_test, net) if len(self._X_test) else (None, math.nan)
        return train, test

    def _evaluate(self, X, y, net: Network | None = None) -> tuple[float, float]:
        net = self.net if net is None else net
        # in blocks of rows: the same outputs, but each block's activations still fit in the CPU's
        # cache (about twice as fast on a large set), and the whole set's are never held at once
        with one_blas_thread():
            output = np.concatenate([_forward(net, X[start:start + EVALUATION_BLOCK]).output
                                     for start in range(0, len(X), EVALUATION_BLOCK)])
        return _loss(output, y, self._spec, self.l2, net), _accuracy(output, y, self.data.task)

    def evaluate(self, split: str = "test") -> tuple[float, float]:
        """(loss, accuracy) of the current network on the 'train' or 'test' set (accuracy nan for regression)."""
        _checks.choice("split", split, ("train", "test"))
        if not len(self._X_test if split == "test" else self._X_train):
            return math.nan, math.nan
        return self._evaluate(*((self._X_train, self._y_train) if split == "train" else (self._X_test, self._y_test)))

    def predict(self, X) -> np.ndarray:
        """The current network's output for inputs X (n, d): probabilities or values, (n, k)."""
        from .stages import forward
        return forward(self.net, X).output

    def __repr__(self) -> str:
        status = f"diverged at step {self.steps}" if self.diverged else f"{self.steps} steps"
        return (f"Trainer({self.net.sizes}, {self.data.name!r}, loss={self.loss!r}, lr={self.lr:g}, "
                f"batch_size={self.batch_size}, optimizer={self.optimizer.name!r}, epoch {self.epoch}, {status})")


def _check_dataset(data) -> None:
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a backprop_kit Dataset (from bk.datasets.make or "
                        f"bk.datasets.from_arrays); got {_checks._show(data)}")


def accuracy(output: np.ndarray, y: np.ndarray, task: str) -> float:
    """Share of samples classified right: output > 0.5 for binary, argmax for multiclass; nan for regression.

    output: (n, k) probabilities; y: (n,) labels (or (n, 1)); task: 'binary', 'multiclass' or 'regression'.
    """
    _checks.choice("task", task, tuple(TASK_DEFAULTS))
    output = _checks.matrix("output", output)
    y = _checks._as_array("y", y)
    if y.size != len(output) or y.ndim > 2:
        raise ValueError(f"y must hold one label per row of output ({len(output)}), shape ({len(output)},); "
                         f"got shape {y.shape}")
    return _accuracy(output, y, task)


def _accuracy(output: np.ndarray, y: np.ndarray, task: str) -> float:
    if task == "regression":
        return math.nan
    if output.shape[1] == 1:
        return float(np.mean((output[:, 0] > 0.5) == (y.reshape(-1) > 0.5)))
    return float(np.mean(np.argmax(output, axis=1) == y))
