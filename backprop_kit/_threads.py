"""One BLAS thread for the kit's own matrix products, only while the kit computes.

The kit's matrices are small (a mini-batch of 16-256 rows, layers of 2-64 neurons; at most the
boundary's 80 x 80 grid). For those, OpenBLAS's extra threads only cost: they wake, split a
product that one core finishes in microseconds, and compete with the browser for the same cores.
Measured in JupyterLab (issue 13): the Playground's loss plot painted ~16 frames/s with one BLAS
thread and ~12 with OpenBLAS's default two.

``with one_blas_thread():`` puts every loaded BLAS on one thread for the block and restores the
learner's setting on the way out, so the learner's own NumPy (and ``OPENBLAS_NUM_THREADS``) is
left alone. threadpoolctl finds the BLAS libraries, once, on first use (``import backprop_kit``
stays light). Entering and leaving a block costs ~3 microseconds (threadpoolctl's own
``limit()`` ~16: it re-reads every library's settings), and nothing when BLAS is on one thread
already; blocks nest.
"""
from __future__ import annotations

_libraries = None


def _blas_libraries() -> list:
    global _libraries
    if _libraries is None:
        from threadpoolctl import ThreadpoolController
        _libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    return _libraries


class one_blas_thread:
    """A context manager: the block runs with every loaded BLAS on one thread; the thread
    counts from before are restored after it."""

    __slots__ = ("_saved",)

    def __enter__(self) -> None:
        self._saved = [(lib, n) for lib in _blas_libraries() if (n := lib.get_num_threads()) != 1]
        for lib, _ in self._saved:
            lib.set_num_threads(1)

    def __exit__(self, *_exc) -> None:
        for lib, n in self._saved:
            lib.set_num_threads(n)
