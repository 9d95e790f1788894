"""``lstmtune auto`` across machines: each chunk of series a Ray task (``--executor ray``).

The process running ``auto`` triages the panel, trains the global networks (when asked), then
sends each chunk of good series (:class:`lstmtune.auto.run._Chunk`: plain values) to the
cluster as one task, :func:`chunk_task`, which backtests, chooses and fits that chunk exactly
as the local run does (:func:`lstmtune.auto.run.run_chunk`). Results come back as chunks
finish and each series is checkpointed then, so an interrupted panel resumes from the chunks
that came back. A task whose worker or machine dies is retried by Ray (``max_retries``): only
its chunk is recomputed. A series' bits do not depend on where it ran.

Needs the ``ray`` extra: ``pip install 'lstmtune[ray]'``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence


def chunk_task(job, deadline: float | None):
    """What a Ray worker runs: one chunk of series (:func:`lstmtune.auto.run.run_chunk`);
    ``deadline``: the time budget's end on the wall clock (None: no budget), so a chunk that
    waited for a worker, or ran again after one died, has only what is left of it."""
    import time

    from lstmtune.auto import run
    from lstmtune.engine import aot

    aot.release()  # a worker runs chunk after chunk: the last one's compiled programs are read back if needed
    return run.run_chunk(job, None if deadline is None else deadline - time.time())


@functools.cache
def _remote(task: Callable):
    import ray

    return ray.remote(task)


class RayChunks:
    """Runs ``auto``'s chunks as Ray tasks.

    Args:
      address: a running cluster's address (``HOST:6379`` or ``"auto"``); None starts a local instance.
      num_cpus: CPUs each task asks for.
      max_retries: retries of a task whose worker died.
      task: the function run per chunk (default :func:`chunk_task`; tests wrap it), importable by the workers.
      init: extra arguments of ``ray.init``.

    Raises:
      LstmtuneError: Ray is not installed, or the cluster cannot be reached.
    """

    def __init__(self, address: str | None = None, *, num_cpus: float = 1, max_retries: int = 3, task: Callable = chunk_task, **init):
        from lstmtune.study.ray_executor import connect

        connect(address, **init)
        self.options = {"num_cpus": num_cpus, "max_retries": max_retries}
        self.task = task

    def map_chunks(self, jobs: Sequence, budget_left: Callable[[], float | None]) -> Iterator[tuple[object, list]]:
        """Submit every chunk (each told when the budget ends, on the wall clock), yield
        ``(chunk, [(i, slot)])`` as each finishes."""
        import time

        from lstmtune.study.ray_executor import as_completed

        remote = _remote(self.task).options(**self.options)
        left = budget_left()
        deadline = None if left is None else time.time() + left
        submitted = ((remote.remote(job, deadline), job) for job in jobs)
        return as_completed(submitted, lambda job: f"the chunk of series {job.items[0][1]!r}..{job.items[-1][1]!r}")


__all__ = ["RayChunks", "chunk_task"]
