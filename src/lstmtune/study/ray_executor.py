"""Train a study's populations on a Ray cluster (``lstmtune run --executor ray``).

:class:`RayExecutor` is an executor of :func:`lstmtune.study.executor.execute`: the
process that runs the study claims the runs, sends each population to the
cluster as one Ray task (:func:`train_task`: the engine on that machine's CPU
or GPU), and commits each result to the study's store as it arrives, exactly
as the local executor does. Only that process touches the store, so a cluster
needs no shared database (PostgreSQL stays useful for several ``lstmtune run``
processes on one study).

A task whose worker process or machine dies is retried by Ray (``max_retries``);
the other populations are unaffected, and results committed before are kept. A
population's bits do not depend on where it runs (same engine, same seeds; see
:data:`lstmtune.engine.trainer.PAD`), so results equal the local executor's.

Needs the ``ray`` extra: ``pip install 'lstmtune[ray]'``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator

from lstmtune.errors import LstmtuneError
from lstmtune.study.executor import Job, population_hyper


def train_task(arch, schedule, hyper, seeds, problem, device=None):
    """What a Ray worker runs: one population on the engine (:func:`lstmtune.engine.trainer.train_population`),
    on ``device`` (``auto``, ``cpu`` or ``gpu``; None: the worker's ``$LSTMTUNE_DEVICE`` or auto)."""
    import os

    from lstmtune.engine import aot
    from lstmtune.engine import trainer as engine

    aot.release_if_crowded()  # a worker process serves task after task: free its compiled programs when they pile up
    if device is not None:
        os.environ["LSTMTUNE_DEVICE"] = device  # read by engine.device_for in this worker
    return engine.train_population(problem, arch, schedule, hyper, seeds=seeds)


@functools.cache
def _remote(task: Callable):
    import ray

    return ray.remote(task)


class RayExecutor:
    """Runs populations as Ray tasks (see the module docstring).

    Args:
      address: a running cluster's address (``HOST:6379``, or ``"auto"``); None
        starts a local Ray instance for this process.
      device: where each task trains on its worker (``auto``, ``cpu``, ``gpu``); None: the
        worker's own ``$LSTMTUNE_DEVICE`` or auto. The driver need not have that device.
      num_cpus / num_gpus: resources each task asks for (``num_gpus`` default: 1 with
        ``device="gpu"``, else 0: Ray then schedules tasks on GPU nodes only when asked).
      max_retries: retries of a task whose worker died.
      task: the function run per population (default :func:`train_task`; tests
        wrap it). It must be importable by the workers.
      init: extra arguments of ``ray.init``.

    Raises:
      LstmtuneError: Ray is not installed, or the cluster cannot be reached.
    """

    def __init__(
        self, address: str | None = None, *, device: str | None = None, num_cpus: float = 1, num_gpus: float | None = None, max_retries: int = 3, task: Callable = train_task, **init
    ):
        from lstmtune.engine.trainer import DEVICES

        if device is not None and device not in DEVICES:
            raise LstmtuneError(f"the device must be one of {', '.join(DEVICES)}, got {device!r}")
        connect(address, **init)
        if device == "gpu":
            _has_gpu(address)
        if num_gpus is None:
            num_gpus = 1 if device == "gpu" else 0
        self.options = {"num_cpus": num_cpus, "num_gpus": num_gpus, "max_retries": max_retries}
        self.task = task
        self.device = device

    def _submit(self, job: Job):
        pop = job.population
        seeds = [r.seed for r in pop.replicas]
        where = {} if self.device is None else {"device": self.device}
        return _remote(self.task).options(**self.options).remote(pop.arch, pop.schedule, population_hyper(pop), seeds, job.problem, **where)

    def run(self, population, problem, on_epochs=None):
        """Train one population on the cluster (waits for it)."""
        import ray

        return ray.get(self._submit(Job(0, population, problem, frozenset())))

    def map(self, jobs: Iterable[Job], on_epochs=None) -> Iterator[tuple[Job, object, float]]:
        """Submit every job, then yield ``(job, result, seconds)`` as each finishes.

        Every job is taken (claimed) first, since the cluster runs them at once.
        An interrupted iteration cancels the tasks still pending.
        """
        submitted = ((self._submit(job), (job, time.perf_counter())) for job in jobs)
        for (job, t0), result in as_completed(submitted, lambda tag: f"population {tag[0].index + 1}"):
            yield job, result, time.perf_counter() - t0


REACH_TIMEOUT_S = 10.0
"""How long a cluster's address may take to accept a connection before it is called unreachable."""


def _reachable(address: str | None) -> None:
    """One line for a ``HOST:PORT`` address nothing listens at: Ray itself retries such an address
    for ever (a refused 127.0.0.1:1 hung ``auto`` until killed), or fails after about 20 lines of
    warnings. Other forms (``auto``, ``ray://...``, None) are left to Ray."""
    import socket

    if not address or "://" in address or address == "auto" or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        port_number = int(port)
    except ValueError:
        raise LstmtuneError(f"--address {address}: the port {port!r} is not a number (HOST:PORT, e.g. 10.0.0.5:6379)") from None
    try:
        connection = socket.create_connection((host.strip("[]"), port_number), timeout=REACH_TIMEOUT_S)
    except OSError as err:
        raise LstmtuneError(f"cannot reach the Ray cluster at {address}: {err.strerror or type(err).__name__} (is its head node running there?)") from None
    with connection:
        if not _answers_grpc(connection):
            raise LstmtuneError(f"{address} answers, but not as a Ray cluster's head: give its GCS address (HOST:6379 by default; "
                                "the dashboard's 8265 is not it), or ray://HOST:10001 for Ray Client")


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
"""An HTTP/2 client's first bytes: its preface and an empty SETTINGS frame (RFC 9113, 3.4 and 6.5)."""


def _answers_grpc(connection) -> bool:
    """Whether what listens on ``connection`` speaks HTTP/2, as a Ray head's GCS (a gRPC server)
    does: it must answer the client preface with its own SETTINGS frame (frame type 4). Anything
    else listening there (a web server, the dashboard, a silent port) held ``ray.init`` for ever,
    printing a warning every few seconds (a probe). With TLS (``$RAY_USE_TLS``), left to Ray."""
    import os

    if os.environ.get("RAY_USE_TLS", "").strip().lower() in ("1", "true", "yes"):
        return True
    try:
        connection.sendall(HTTP2_PREFACE + EMPTY_SETTINGS)
        head = b""
        while len(head) < 9:
            part = connection.recv(9 - len(head))
            if not part:
                break
            head += part
    except OSError:
        return False
    return len(head) == 9 and head[3] == 0x04


def _has_gpu(address: str | None) -> None:
    """Refuse GPU tasks on a cluster without a GPU: Ray queues them for ever (a probe waited on
    "Pending Demands: GPU" with nothing printed)."""
    import ray

    if not ray.cluster_resources().get("GPU", 0) > 0:
        raise LstmtuneError(f"--device gpu: the Ray cluster at {address or 'a new local instance'} has no GPU (its resources: "
                            f"{', '.join(sorted(ray.cluster_resources())) or 'none'}); use --device cpu or a cluster with GPU nodes")


def connect(address: str | None = None, **init) -> None:
    """Join the Ray cluster at ``address`` (None: start a local instance), unless this process already has.

    Raises:
      LstmtuneError: Ray is not installed, or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError:
        raise LstmtuneError("--executor ray needs Ray: pip install 'lstmtune[ray]'") from None
    import logging
    import os

    joined = address or os.environ.get("RAY_ADDRESS", "").strip() or None  # Ray joins $RAY_ADDRESS when no address is given
    _reachable(joined)
    if not ray.is_initialized():
        try:
            # no address: a new local instance, as documented (Ray alone would join a cluster that
            # `ray start` left running on this machine: a probe's run landed on a shared one)
            ray.init(address=address or ("local" if joined is None else None), include_dashboard=False, log_to_driver=False,
                     logging_level=logging.WARNING, **init)
        except (ConnectionError, RuntimeError, ValueError) as err:
            hint = (" (give the head's GCS address, HOST:6379 by default; where the cluster was started with token authentication, "
                    "set RAY_AUTH_MODE=token here too)") if joined and isinstance(err, ConnectionError) else ""
            raise LstmtuneError(f"cannot reach the Ray cluster at {joined or 'a new local instance'}: {err}{hint}") from None


def as_completed(submitted: Iterable[tuple[object, object]], name: Callable[[object], str]) -> Iterator[tuple[object, object]]:
    """``(tag, result)`` of every ``(object ref, tag)`` submitted, in the order they finish.

    Everything is submitted first (the cluster runs it at once). A task that fails after Ray's
    retries raises :class:`LstmtuneError` naming it (``name(tag)``); an interrupted iteration
    cancels the tasks still pending.
    """
    import ray

    pending = {}
    try:
        for ref, tag in submitted:
            pending[ref] = tag
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            tag = pending.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as err:
                raise LstmtuneError(f"{name(tag)} failed on the Ray cluster: {_reason(err)}") from None
            yield tag, result
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


def _reason(err) -> str:
    """A failed task's reason in one line: the worker's own error where Ray carries it (its
    first line was Ray's header, ``ray::train_task() (pid=..., ip=...)`` in terminal colours:
    a probe), else Ray's first line, without colour codes."""
    import re

    cause = getattr(err, "cause", None)
    text = str(cause) if isinstance(cause, BaseException) and str(cause).strip() else str(err)
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


__all__ = ["RayExecutor", "as_completed", "connect", "train_task"]
