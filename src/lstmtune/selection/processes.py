"""Worker processes for statsforecast over a panel, that can neither hang nor run the parent's
finalizers.

statsforecast's ``n_jobs`` forks a :class:`multiprocessing.pool.Pool` of this process. Two
things went wrong with it in a process that holds JAX (or TensorFlow) objects:

- a forked child's garbage collector ran the parent's finalizers (a TensorFlow function's
  ``__del__`` calling into its runtime) in a child without the parent's threads, and the child
  aborted;
- a :class:`multiprocessing.pool.Pool` whose worker dies loses the task: ``get()`` waits for ever
  (a test run hung there).

:class:`Pool` gives statsforecast the same ``apply_async(...).get()`` over
:class:`concurrent.futures.ProcessPoolExecutor`, which raises
:class:`~concurrent.futures.process.BrokenProcessPool` when a worker dies (the caller then does
that work in this process), and forks its workers with every object of this process frozen out
of the collector (:func:`gc.freeze`, as CPython's documentation advises before a fork), so a
child never finalizes them. On Linux each worker asks to be killed when this process dies
(``prctl(PR_SET_PDEATHSIG)``): after a ``kill -9`` of the command its workers stayed, blocked on
their pipe, for ever (a probe).
"""

from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent(parent: int) -> None:
    """A worker's initializer: killed when the process that started it dies (Linux; elsewhere
    nothing). If that process died before the request was made, exit now."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: as before
        return
    if os.getppid() != parent:
        os._exit(1)


class _Result:
    def __init__(self, future: concurrent.futures.Future):
        self._future = future

    def get(self, timeout: float | None = None):
        return self._future.result(timeout)


class Pool:
    """``multiprocessing.Pool(processes)``'s ``apply_async`` and context manager, over forked
    :class:`concurrent.futures.ProcessPoolExecutor` workers (see the module)."""

    def __init__(self, processes: int):
        self._executor = concurrent.futures.ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                                                                initializer=_die_with_parent, initargs=(os.getpid(),))
        self._started = False

    def apply_async(self, fn, args=(), kwds=None) -> _Result:
        if self._started:
            return _Result(self._executor.submit(fn, *args, **(kwds or {})))
        # with the fork start method every worker is forked at the first submission: with this
        # process's objects frozen, then given back to the collector here
        gc.freeze()
        try:
            future = self._executor.submit(fn, *args, **(kwds or {}))
        finally:
            gc.unfreeze()
        self._started = True
        return _Result(future)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, kind, *exc) -> None:
        if kind is not None:  # Ctrl-C, SIGTERM or an error while fits run: the workers end now, not after their fits
            for worker in list((getattr(self._executor, "_processes", None) or {}).values()):
                try:
                    worker.kill()
                except (OSError, ValueError, AttributeError):
                    pass
        self._executor.shutdown(wait=kind is None, cancel_futures=True)
