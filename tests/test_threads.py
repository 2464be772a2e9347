"""The kit runs its own matrix products on one BLAS thread and leaves the learner's setting alone."""
import numpy as np
import pytest
import threadpoolctl

import backprop_kit as bk
from backprop_kit import training
from backprop_kit._threads import one_blas_thread


def blas_threads() -> int:
    return max(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")


@pytest.fixture
def two_threads():
    """The learner's setting: BLAS on 2 threads (what a 2-core machine starts with)."""
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        if blas_threads() != 2:
            pytest.skip("this BLAS cannot run 2 threads here")
        yield


def recording_forward(monkeypatch, module, seen):
    original = module._forward

    def forward(net, X):
        seen.append(blas_threads())
        return original(net, X)
    monkeypatch.setattr(module, "_forward", forward)


def test_trainer_steps_runs_and_evaluations_use_one_blas_thread_and_restore_the_setting(monkeypatch, two_threads):
    seen = []
    recording_forward(monkeypatch, training, seen)
    data = bk.datasets.make("moons", n=120, seed=0)
    trainer = bk.Trainer(bk.Network([2, 8, 1]), data, batch_size=30)
    trainer.step(3)
    trainer.run(2)          # epoch ends: the whole-set evaluation too
    trainer.evaluate("test")
    assert len(seen) > 10 and set(seen) == {1}
    assert blas_threads() == 2


def test_the_boundary_picture_is_computed_on_one_blas_thread(monkeypatch, two_threads):
    plots = pytest.importorskip("backprop_kit.plots")
    seen = []
    recording_forward(monkeypatch, plots, seen)
    data = bk.datasets.make("moons", n=60, seed=0)
    view = plots.BoundaryView(dataset=data)
    view.update(bk.Network([2, 8, 1]), draw=False)
    plots.close(view.ax.figure)
    assert seen == [1] and blas_threads() == 2


def test_blocks_nest_and_an_error_inside_still_restores_the_setting(two_threads):
    with pytest.raises(ZeroDivisionError):
        with one_blas_thread():
            with one_blas_thread():
                assert blas_threads() == 1
            assert blas_threads() == 1
            1 / 0
    assert blas_threads() == 2


def test_one_thread_gives_the_same_numbers_as_the_learners_setting(two_threads):
    """Limiting threads changes speed, not results, for the products the kit computes."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6400, 16)), rng.normal(size=(16, 16))
    outside = a @ b
    with one_blas_thread():
        inside = a @ b
    np.testing.assert_array_equal(inside, outside)
