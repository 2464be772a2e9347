"""Training in a worker process while a Playground plays: the kernel only shows.

One process can train or show, not both at once: in the kernel, each Play frame's training and
its showing take turns on one core. With the training in a process of its own, the kernel's
frames only fetch the latest state and show it (measured in JupyterLab on 2 cores,
benchmarks/README.md: all four plots at 14.7-20.9 frames/s with the kernel at ~0.3 cores, against
10.0-11.2 when the kernel also trains).

    worker = Worker()              # starts the process (~0.3 s until it is ready)
    worker.ready()                 # True once it can take a Trainer (until then: train in the kernel)
    worker.start(trainer)          # it trains a copy of ``trainer`` without pause, in slices
    worker.fetch()                 # a frame: the copy's latest state grafted into ``trainer``
    worker.stop()                  # stop training; ``trainer`` is where the copy stopped
    worker.close()

The copy is the same computation as ``trainer.step()`` in the kernel (same NumPy, the same one
BLAS thread, the same seeds): a run played this way ends bit for bit where the same number of
steps in the kernel ends (tests/test_worker.py). What goes back each frame is small: the
Trainer's state without its data set and history (the data only changes in the kernel), and the
history's new rows.

The process is a new Python (``sys.executable``) that imports this module, joined to the kernel
by a socket pair (what ``multiprocessing.Pipe`` uses), not a ``multiprocessing`` child: a
spawned child imports the parent's main script again, which a learner's script would not guard.
Where that cannot be done (Windows: no inherited sockets; JupyterLite: Pyodide has no processes;
fewer than 2 CPUs to use, where a second process only competes with the first: ``usable_cpus``)
``available()`` is False and the panel trains in the kernel. It does so too until the worker is
ready, for a Trainer the worker cannot take or fails on (a class or an activation defined in a
notebook cell), and after the worker died. A worker whose kernel ends sees its socket close, and
ends too.
"""
from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time
import traceback
from multiprocessing.connection import Connection

import numpy as np

SLICE_SECONDS = 0.01       # the worker looks for the kernel's requests this often while training
STEPS_PER_LOOK = 5         # steps between looks at the clock
TICK_SECONDS = 0.040       # a kernel frame fetches and shows this often (~22 a second)
ANSWER_SECONDS = 20.0      # a worker that has not answered in this long (a slice is 10 ms) is taken as gone
# the Trainer's own attributes that stay in the kernel: the worker never changes them (the history
# goes back as new rows)
KERNELS_OWN = ("history", "_data", "_X_train", "_y_train", "_X_test", "_y_test")


class WorkerError(RuntimeError):
    """The worker could not take the Trainer (``refused``) or failed while training."""

    def __init__(self, message: str, refused: bool = False):
        super().__init__(message)
        self.refused = refused


class WorkerGone(RuntimeError):
    """The worker process ended (killed, out of memory): train in the kernel from the last state."""


def available() -> bool:
    """Whether a Playground trains in a worker process while it plays (see the module docstring)."""
    return os.name == "posix" and sys.platform not in ("emscripten", "wasi") and usable_cpus() >= 2


def usable_cpus(cgroup: str = "/sys/fs/cgroup") -> float:
    """The CPUs this process may use: those it may run on, fewer under a container's CPU quota
    (Binder gives a notebook about one CPU on a host of many, and os.cpu_count() says the host's)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cpu_quota(cgroup)
    return count if quota is None else min(count, quota)


def cpu_quota(cgroup: str = "/sys/fs/cgroup") -> float | None:
    """The container's CPU quota in CPUs (cgroup v2's cpu.max, or v1's cpu.cfs_quota_us over
    cpu.cfs_period_us), or None: no quota, or none to be read."""
    try:
        with open(os.path.join(cgroup, "cpu.max")) as v2:
            quota, period = v2.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(cgroup, "cpu", "cpu.cfs_quota_us")) as quota_file, \
                open(os.path.join(cgroup, "cpu", "cpu.cfs_period_us")) as period_file:
            quota, period = int(quota_file.read()), int(period_file.read())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


# --- the worker process ------------------------------------------------------------------------

def _news(trainer, steps_sent: int, epochs_sent: int) -> bytes:
    """What a frame needs: the Trainer's state except the kernel's own, and the history's new rows."""
    h = trainer.history
    rows = (h.loss[steps_sent:], h.grad_norms[steps_sent:].copy(), h.global_norms[steps_sent:],
            h.clipped[steps_sent:], {field: getattr(h, field)[epochs_sent:] for field in h.EPOCH_FIELDS})
    state = {key: value for key, value in trainer.__dict__.items() if key not in KERNELS_OWN}
    return pickle.dumps((state, rows), protocol=pickle.HIGHEST_PROTOCOL)


def _main() -> None:
    """The worker process: ``python -c "...; _main()" FD``, FD its end of the socket pair."""
    _serve(Connection(int(sys.argv[1])))


def _serve(connection) -> None:
    """The worker's loop: train the Trainer it was given, in slices, and answer the kernel between
    slices. Requests: ("train", pickled Trainer) and ("frame",) are answered after the next slice
    (so that each frame brings steps, unless the run diverged): with the news, or ("refused", why)
    at once when the Trainer cannot be unpickled; ("stop",) at once; ("quit",) ends the process."""
    copy = _Copy()
    connection.send(("ready", os.getpid()))
    while True:
        if copy.trains():
            copy.train_slice()
        if copy.owed:
            connection.send(copy.news())
        if copy.trains() and not connection.poll(0):
            continue
        try:
            request = connection.recv()           # (blocks while there is nothing to train)
        except EOFError:                          # the kernel is gone
            return
        if request[0] == "quit":
            return
        answer = copy.take(request)
        if answer is not None:
            connection.send(answer)


class _Copy:
    """The worker's copy of a Trainer: trained in slices, its news sent on request."""

    def __init__(self):
        self.trainer = None
        self.failed = None           # what a slice raised, said in the next answer
        self.owed = False            # a "train" or "frame" waits for its answer
        self.steps_sent = self.epochs_sent = 0

    def trains(self) -> bool:
        return self.trainer is not None and self.trainer.diverged is None

    def train_slice(self) -> None:
        """About SLICE_SECONDS of steps."""
        started = time.perf_counter()
        try:
            with np.errstate(all="ignore"):
                while time.perf_counter() - started < SLICE_SECONDS and self.trainer.diverged is None:
                    self.trainer.step(STEPS_PER_LOOK)
        except Exception as error:
            self.failed = "".join(traceback.format_exception_only(type(error), error)).strip()
            self.trainer = None

    def take(self, request: tuple):
        """Take a request; its answer now, or None (it is owed: sent after the next slice)."""
        kind = request[0]
        if kind == "train":
            try:
                self.trainer, self.failed = pickle.loads(request[1]), None
            except Exception as error:     # e.g. an activation defined in the kernel's __main__
                self.trainer = None
                return ("refused", f"{type(error).__name__}: {error}")
            self.steps_sent, self.epochs_sent = self.trainer.steps, len(self.trainer.history.epochs)
        if kind == "stop":
            answer = self.news()
            self.trainer = None
            return answer
        self.owed = True
        return None

    def news(self) -> tuple:
        """("state", the steps since the last news) or ("error", what failed)."""
        self.owed = False
        if self.failed is not None:
            failed, self.failed = self.failed, None
            return ("error", failed)
        if self.trainer is None:
            return ("state", None)
        news = _news(self.trainer, self.steps_sent, self.epochs_sent)
        self.steps_sent, self.epochs_sent = self.trainer.steps, len(self.trainer.history.epochs)
        return ("state", news)


# --- the kernel's side -------------------------------------------------------------------------

class Worker:
    """A worker process for one Play of a panel (see the module docstring). Every method that talks to the
    process raises WorkerGone when it has ended, and WorkerError when it refused or failed."""

    def __init__(self):
        mine, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", f"from {__name__} import _main; _main()", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        self._connection = Connection(mine.detach())
        self._ready = False
        self.training = None          # the kernel's Trainer whose copy the worker trains, or None
        self._asked = False           # a ("frame",) is on its way: its answer is the next message

    def ready(self) -> bool:
        """Whether the worker can take a Trainer (it has started: ~0.3 s after the Worker)."""
        if not self._ready and self._poll():
            kind, _ = self._receive()
            self._ready = kind == "ready"
        return self._ready

    def start(self, trainer) -> None:
        """Train a copy of ``trainer`` (its state now) without pause until ``stop``."""
        if self.training is not None:
            raise RuntimeError("the worker trains another Trainer: stop it first")
        try:
            copied = pickle.dumps(trainer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:      # pickle raises AttributeError, TypeError, PicklingError...
            raise WorkerError(f"the worker process could not take this Trainer ({type(error).__name__}: {error})",
                              refused=True) from None
        self._send(("train", copied))          # answered like a frame, after the first slice
        self.training, self._asked = trainer, True

    def fetch(self) -> int:
        """Graft the copy's latest state into the Trainer given to ``start`` and ask for the next;
        the steps it brought. The state is the one the worker sent after its last slice: at most a
        slice old when frames come more slowly than slices."""
        trainer = self.training
        self._asked = False
        steps = self._graft(trainer)
        if trainer.diverged is None:
            self._send(("frame",))
            self._asked = True
        return steps

    def stop(self) -> int:
        """Stop training; the Trainer given to ``start`` is where the copy stopped. The steps it
        brought (0 when it was not training)."""
        trainer = self.training
        if trainer is None:
            return 0
        try:
            steps = self._graft(trainer) if self._asked else 0
            self._asked = False
            self._send(("stop",))
            return steps + self._graft(trainer)
        finally:
            self.training = None

    def close(self) -> None:
        """End the process (when Play stops, and when its panel is closed)."""
        try:
            self._send(("quit",))
        except (WorkerGone, OSError):
            pass
        self._connection.close()            # (a worker that missed "quit" sees the end of its socket)
        try:
            self.process.wait(1.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    # --- talking to the process ---
    def _graft(self, trainer) -> int:
        kind, payload = self._receive()
        if kind == "error":
            self.training, self._asked = None, False
            raise WorkerError(f"training in the worker process failed: {payload}")
        if kind == "refused":
            self.training, self._asked = None, False
            raise WorkerError(f"the worker process could not take this Trainer ({payload})", refused=True)
        if payload is None:
            return 0
        state, (loss, norms, global_norms, clipped, epochs) = pickle.loads(payload)
        history = trainer.history
        for row in zip(loss, norms, global_norms, clipped):
            history._record_step(*row)
        for field, values in epochs.items():
            getattr(history, field).extend(values)
        trainer.__dict__.update(state)
        return len(loss)

    def _poll(self) -> bool:
        try:
            return self._connection.poll(0)
        except (EOFError, OSError) as error:
            raise self._gone(error) from None

    def _send(self, message) -> None:
        try:
            self._connection.send(message)
        except (EOFError, OSError) as error:
            raise self._gone(error) from None

    def _receive(self):
        try:
            if not self._connection.poll(ANSWER_SECONDS):
                self.process.terminate()
                raise self._gone(TimeoutError(f"no answer in {ANSWER_SECONDS:g} s"))
            return self._connection.recv()
        except (EOFError, OSError) as error:
            raise self._gone(error) from None

    def _gone(self, error: BaseException) -> WorkerGone:
        self.training, self._asked = None, False
        try:
            code = self.process.wait(0.5)
        except subprocess.TimeoutExpired:
            code = None
        how = f"exit code {code}" if code is not None else str(error) or type(error).__name__
        return WorkerGone(f"the training process ended ({how})")
