"""Figures drawn on two cores: a helper process draws some of a report's figures while this
process draws the others.

A study's report draws tens of figures, one after another, on one core (about 0.15 s each
here), after training has let both cores go. The helper is *spawned* (a fresh interpreter:
forking a process that runs JAX's threads can deadlock), so it costs about a second of
imports; it is only started for :data:`MIN_JOBS` figures or more, on a machine of two cores
or more. Work is shared as it goes: this process takes figures from the front of the list,
the helper one at a time from the back, so neither waits on the other. A figure the helper
could not draw is drawn here; a helper that cannot start leaves every figure to this process.
The same figure function draws the same bytes in either process (tests/report/test_drawing.py).

``LSTMTUNE_DRAW_PROCESSES=1`` draws everything in this process.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

MIN_JOBS = 8
"""Fewer figures than this are drawn here: the helper's start would cost more than it saves."""


@dataclasses.dataclass(frozen=True)
class Job:
    """One figure: ``draw(*args, path, **kwargs)`` (a function of :mod:`lstmtune.report.figures`)."""

    draw: Callable
    args: tuple
    path: Path
    kwargs: dict = dataclasses.field(default_factory=dict)
    portable: bool = True
    """False keeps the job in this process (its arguments would make the helper import much more)."""

    def __call__(self) -> None:
        self.draw(*self.args, self.path, **self.kwargs)


def _processes() -> int:
    try:
        wanted = int(os.environ.get("LSTMTUNE_DRAW_PROCESSES", "2"))
    except ValueError:
        wanted = 2
    return max(1, min(wanted, os.cpu_count() or 1))


def _run_job(job: Job) -> None:  # in the helper
    job()


def draw_all(jobs: Sequence[Job]) -> None:
    """Draw every job, with a helper process when there are enough of them (see the module)."""
    jobs = list(jobs)
    portable = collections.deque(j for j in jobs if j.portable)
    local = [j for j in jobs if not j.portable]
    if len(jobs) < MIN_JOBS or _processes() < 2 or len(portable) < 2:
        for job in jobs:
            job()
        return
    lock = threading.Lock()
    left_over: list[Job] = []

    def take(front: bool) -> Job | None:
        with lock:
            if not portable:
                return None
            return portable.popleft() if front else portable.pop()

    def helper() -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        try:
            pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        except Exception:  # noqa: BLE001 - no helper: this process draws everything
            return
        try:
            while (job := take(front=False)) is not None:
                try:
                    pool.submit(_run_job, job).result()
                except Exception:  # noqa: BLE001 - drawn here instead (a broken helper fails every later job too)
                    left_over.append(job)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    thread = threading.Thread(target=helper, name="lstmtune-draw-helper", daemon=True)
    thread.start()
    try:
        for job in local:
            job()
        while (job := take(front=True)) is not None:
            job()
    finally:
        with lock:  # interrupted: the helper takes nothing more
            portable.clear()
        thread.join()
    for job in left_over:
        job()


__all__ = ["MIN_JOBS", "Job", "draw_all"]
