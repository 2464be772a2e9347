"""Play trains in a worker process (backprop_kit.widgets._worker): the same run, bit for bit, as
steps in the kernel; live changes, points and resets while it trains; a worker that fails, dies or
cannot take the Trainer; and the process ends with its panel.

The tests wait for conditions (the worker has sent steps, Play has stopped) with generous
deadlines, never for a time to pass, so a slow machine makes them slower, not red.
"""
import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import psutil
import pytest

from backprop_kit import activations
from backprop_kit.network import Network
from backprop_kit.widgets import Playground, _worker, find

pytestmark = pytest.mark.skipif(not _worker.available(), reason="no worker processes on this platform")

DEADLINE = 60.0        # seconds a condition may take on a loaded machine


def control(panel, css_class):
    return find(panel, css_class)


async def until(condition, message):
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.02)


def worker_steps(panel):
    return panel._worker_steps


async def until_the_worker_trained(panel, steps=200):
    """Play until the worker has sent ``steps`` more steps."""
    before = worker_steps(panel)
    await until(lambda: worker_steps(panel) >= before + steps, "the worker process never sent steps")


def assert_same_run(trainer, reference):
    """Two Trainers at the same point of the same run, bit for bit."""
    assert trainer.steps == reference.steps and trainer.epoch == reference.epoch
    for mine, theirs in zip(trainer.net.weights + trainer.net.biases, reference.net.weights + reference.net.biases):
        assert mine.tobytes() == theirs.tobytes()
    mine, theirs = trainer.history, reference.history
    assert mine.loss == theirs.loss and mine.global_norms == theirs.global_norms and mine.clipped == theirs.clipped
    assert mine.grad_norms.tobytes() == theirs.grad_norms.tobytes()
    for field in mine.EPOCH_FIELDS:
        assert np.array_equal(getattr(mine, field), getattr(theirs, field), equal_nan=True), field
    assert trainer._rng.bit_generator.state == reference._rng.bit_generator.state
    assert trainer.diverged == reference.diverged


def as_code_trainer(panel):
    namespace = {}
    exec(compile(panel.as_code(), "<as code>", "exec"), namespace)       # noqa: S102  (the kit's own code)
    return namespace["trainer"]


def test_a_run_played_in_the_worker_ends_bit_for_bit_where_the_same_steps_in_the_kernel_end():
    panel = Playground(seed=0)

    async def scenario():
        assert panel.play()
        await until_the_worker_trained(panel, steps=3000)
        assert panel.loop.tick == _worker.TICK_SECONDS      # the kernel only fetches and shows, on a tick
        panel.pause()

    asyncio.run(scenario())
    assert not panel.playing and panel.errors == []
    assert panel._worker is None                         # Pause brought the training home, and ended the process
    steps = panel.trainer.steps
    assert worker_steps(panel) >= 3000 and steps >= worker_steps(panel)
    assert_same_run(panel.trainer, Playground(seed=0).trainer.step(steps))
    assert f"step {steps}" in panel.status.text and len(panel.views.loss.smoothed) == steps
    assert_same_run(panel.trainer, as_code_trainer(panel))


def test_live_changes_points_and_resets_while_the_worker_trains_are_applied_at_the_step_shown():
    panel = Playground(seed=1, optimizer="momentum")

    async def scenario():
        assert panel.play()
        await until_the_worker_trained(panel)
        control(panel, "bk-learning-rate").value = 0.05
        assert panel._worker.training is None          # the worker stopped first: the change lands at a known step
        changed_at = panel.trainer.steps
        await until_the_worker_trained(panel)          # and it trains again with the change
        assert panel.trainer.lr == 0.05 and panel.trainer.steps > changed_at
        control(panel, "bk-batch-size").value = 7
        await until_the_worker_trained(panel)
        assert panel.add_point(0.5, -0.5, 1)
        await until_the_worker_trained(panel)
        assert panel.remove_point(0.0, 0.0)
        control(panel, "bk-clip").value = 0.5
        await until_the_worker_trained(panel)
        panel.pause()

    asyncio.run(scenario())
    assert panel.errors == [] and panel.trainer.batch_size == 7 and panel.trainer.clip == 0.5
    assert_same_run(panel.trainer, as_code_trainer(panel))      # every change at the step it was made

    async def rebuild():
        assert panel.play()
        await until_the_worker_trained(panel)
        old = panel.trainer
        control(panel, "bk-neurons").value = 4                 # a new network while the worker trains the old
        assert panel.trainer is not old and panel.trainer.net.sizes == (2, 4, 4, 1)
        await until_the_worker_trained(panel)
        assert panel._worker.training is panel.trainer
        panel.pause()

    asyncio.run(rebuild())
    assert panel.errors == [] and panel.trainer.net.sizes == (2, 4, 4, 1)
    assert_same_run(panel.trainer, as_code_trainer(panel))


def test_a_run_that_diverges_in_the_worker_stops_play_with_the_warning():
    panel = Playground(dataset="sine", activation="linear", n=100, lr=0.01, seed=0)

    async def scenario():
        assert panel.play()
        await until_the_worker_trained(panel)
        control(panel, "bk-learning-rate").value = 10.0
        await until(lambda: not panel.playing, "Play went on after the run diverged")

    asyncio.run(scenario())
    assert panel.trainer.diverged and panel.status.kind == "warning" and panel.errors == []
    assert find(panel, "bk-play").description == "Play"
    assert_same_run(panel.trainer, as_code_trainer(panel))


def test_a_killed_worker_is_said_in_the_status_line_and_training_goes_on_in_the_kernel():
    panel = Playground(seed=0)

    async def scenario():
        assert panel.play()
        await until_the_worker_trained(panel)
        os.kill(panel._worker.process.pid, signal.SIGKILL)
        await until(lambda: panel._worker is None, "the panel did not notice its worker's end")
        # (the status line changes at most every STATUS_SECONDS while playing)
        await until(lambda: "training process ended (exit code -9): training goes on in the kernel"
                    in panel.status.text, "the status line did not say the worker ended")
        assert panel.status.kind == "warning"
        steps = panel.trainer.steps
        await until(lambda: panel.trainer.steps > steps + 500, "training did not go on in the kernel")
        assert panel.loop.tick is None
        panel.pause()

    asyncio.run(scenario())
    assert panel.errors == []
    # what the worker sent before it died, then the kernel's steps: still the one run
    assert_same_run(panel.trainer, Playground(seed=0).trainer.step(panel.trainer.steps))


def test_a_step_that_fails_only_in_the_worker_goes_on_in_the_kernel(monkeypatch):
    # an activation added in a cell: the kernel knows it, the worker process does not
    monkeypatch.setitem(activations.REGISTRY, "my_tanh", activations.REGISTRY["tanh"])
    monkeypatch.setattr(activations, "HIDDEN", activations.HIDDEN + ("my_tanh",))
    panel = Playground(seed=0)
    net = panel.trainer.net
    panel.trainer.net = Network.from_parameters(net.weights, net.biases, ("my_tanh", "my_tanh", net.output))

    async def scenario():
        assert panel.play()
        await until(lambda: panel._uncopyable is panel.trainer, "the worker did not fail")
        await until(lambda: "training goes on in the kernel" in panel.status.text, "the status line did not say it")
        steps = panel.trainer.steps
        await until(lambda: panel.trainer.steps > steps + 500, "training did not go on in the kernel")
        panel.pause()

    asyncio.run(scenario())
    assert "training in the worker process failed: KeyError: 'my_tanh'" in panel._notice[0]
    assert panel.errors == [] and worker_steps(panel) == 0


def test_a_step_that_fails_in_the_kernel_too_goes_to_the_status_line_and_stops_play():
    panel = Playground(seed=0)

    async def scenario():
        assert panel.play()
        await until_the_worker_trained(panel)
        panel.pause()
        panel.trainer._X_epoch = None            # broken on purpose: the next step fails, anywhere
        panel.trainer._position = 0
        assert panel.play()
        await until(lambda: not panel.playing, "Play went on after training failed")

    asyncio.run(scenario())
    assert panel.status.kind == "error" and "'NoneType' object is not subscriptable" in panel.status.text
    assert len(panel.errors) == 1 and "TypeError" in panel.errors[0]
    assert panel._uncopyable is panel.trainer                 # the worker failed first


class Note:
    """A class the worker process cannot import (this test module is not on its path), as one
    defined in a notebook cell: pickled here, it cannot be unpickled there."""


@pytest.mark.parametrize("note", [lambda: "a lambda cannot even be pickled", Note()], ids=["kernel", "worker"])
def test_a_trainer_the_worker_cannot_take_trains_in_the_kernel(note):
    panel = Playground(seed=0)
    panel.trainer.note = note

    async def scenario():
        assert panel.play()
        await until(lambda: panel.trainer.steps > 2000, "Play did not train")
        panel.pause()

    asyncio.run(scenario())
    assert panel.errors == [] and panel._uncopyable is panel.trainer and worker_steps(panel) == 0


def test_without_worker_processes_play_trains_in_the_kernel(monkeypatch):
    monkeypatch.setattr(_worker, "available", lambda: False)
    panel = Playground(seed=0)

    async def scenario():
        assert panel.play()
        await until(lambda: panel.trainer.steps > 2000, "Play did not train")
        assert panel.loop.tick is None
        panel.pause()

    asyncio.run(scenario())
    assert panel._worker is None and panel.errors == []
    assert_same_run(panel.trainer, Playground(seed=0).trainer.step(panel.trainer.steps))


def test_the_worker_process_ends_when_play_stops_and_with_its_panel():
    panel = Playground(seed=0)
    processes = []

    async def scenario():
        assert panel.play()
        await until_the_worker_trained(panel)
        processes.append(panel._worker.process)
        control(panel, "bk-learning-rate").value = 0.05       # a change while playing keeps the process
        await until_the_worker_trained(panel)
        assert panel._worker.process is processes[0]
        panel.pause()
        await until(lambda: panel._worker is None, "the worker outlived Play")
        assert panel.play()                                   # a new Play, a new process
        await until_the_worker_trained(panel)
        processes.append(panel._worker.process)
        panel.close()                                         # closing a playing panel ends it too

    asyncio.run(scenario())
    assert processes[0] is not processes[1] and panel._worker is None and not panel.playing
    assert [process.wait(DEADLINE) for process in processes] == [0, 0]
    assert panel.errors == []


def test_the_worker_protocol_fetches_and_stops_a_copy_of_the_trainer():
    trainer = Playground(seed=2, dataset="gaussians", classes=3).trainer
    worker = _worker.Worker()
    try:
        deadline = time.monotonic() + DEADLINE
        while not worker.ready():
            assert time.monotonic() < deadline, "the worker never said it was ready"
            time.sleep(0.02)
        trainer.step(5)                                # a run begun in the kernel goes on in the worker
        worker.start(trainer)
        with pytest.raises(RuntimeError, match="stop it first"):
            worker.start(trainer)
        fetched = sum(worker.fetch() for _ in range(5))
        fetched += worker.stop()
        assert worker.training is None and fetched == trainer.steps - 5 > 0
        assert_same_run(trainer, Playground(seed=2, dataset="gaussians", classes=3).trainer.step(trainer.steps))
    finally:
        worker.close()
    assert worker.process.returncode == 0


@pytest.mark.parametrize("files, quota", [
    ({"cpu.max": "100000 100000\n"}, 1.0),                          # cgroup v2, one CPU (Binder)
    ({"cpu.max": "250000 100000\n"}, 2.5),
    ({"cpu.max": "max 100000\n"}, None),                            # no quota
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),     # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),                                                     # nothing to read
])
def test_a_container_cpu_quota_is_read_and_below_2_cpus_play_trains_in_the_kernel(tmp_path, monkeypatch,
                                                                                   files, quota):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _worker.cpu_quota(str(tmp_path)) == quota
    cpus = len(os.sched_getaffinity(0))
    usable = cpus if quota is None else min(cpus, quota)
    assert _worker.usable_cpus(str(tmp_path)) == usable
    read = _worker.cpu_quota
    monkeypatch.setattr(_worker, "cpu_quota", lambda cgroup="/sys/fs/cgroup": read(str(tmp_path)))   # as this container's
    assert _worker.available() == (usable >= 2)


def test_a_worker_ends_by_itself_when_its_kernel_is_killed(tmp_path):
    # the kernel: a Python that starts a worker on a Playground's Trainer, says its pid, and waits
    kernel = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import time
        from backprop_kit.widgets import Playground, _worker
        worker = _worker.Worker()
        while not worker.ready():
            time.sleep(0.01)
        worker.start(Playground(seed=0).trainer)
        print(worker.process.pid, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(kernel.stdout.readline())
        assert psutil.Process(pid).status() != psutil.STATUS_ZOMBIE      # training
        kernel.kill()                                                    # no chance to say "quit"
        kernel.wait(DEADLINE)
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            assert time.monotonic() < deadline, "the worker outlived its kernel"
            time.sleep(0.05)
    finally:
        kernel.kill()
