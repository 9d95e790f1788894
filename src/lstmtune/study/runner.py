"""Claims, owners and heartbeats: what makes executing a plan against a store
resumable and safe with several workers (:func:`lstmtune.study.executor.execute`).

A run is keyed by (study, configuration, repeat). For each population the worker
*claims* the runs still missing (an insert that only one worker can win), trains
the replicas it claimed, and commits their results in one short transaction.
So an interrupted study (Ctrl-C, ``kill -9``) loses at most the population in
flight, a rerun computes only what is missing, and two processes on one study
split the work instead of duplicating it.

Claims carry a heartbeat (a background thread refreshes it). At start-up, claims
of processes that are gone — same host and a dead pid, or a heartbeat older than
``stale_s`` — are released, so nothing stays marked running forever.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator


from lstmtune.study import identity
from lstmtune.study import spec as spec_mod
from lstmtune.data.series import Series
from lstmtune.study.planner import Plan, Population
from lstmtune.store import Store

HEARTBEAT_S = 15.0
STALE_S = 120.0


def new_owner() -> str:
    """``host:pid:random``: identifies this worker's claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _is_dead(owner: str) -> bool:
    """True for an owner on this host whose process no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    from lstmtune.store.fileio import pid_alive

    return not pid_alive(pid)  # a zombie (exited, not reaped) is dead


def release_dead(store: Store, study_id: int, stale_s: float = STALE_S) -> int:
    """Release claims of dead local processes and of workers silent for ``stale_s``."""
    released = 0
    for owner in store.running_owners(study_id):
        if _is_dead(owner):
            released += store.release(study_id, owner)
    return released + store.cleanup_stale(study_id, stale_s)


@contextlib.contextmanager
def heartbeat(store: Store, owner: str, every_s: float = HEARTBEAT_S) -> Iterator[None]:
    """Refresh ``owner``'s claims every ``every_s`` seconds while the block runs."""
    stop = threading.Event()

    def beat():
        while not stop.wait(every_s):
            store.heartbeat(owner)

    thread = threading.Thread(target=beat, name="lstmtune-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def open_study(store: Store, plan_: Plan, series: Series) -> tuple[int, list[str]]:
    """Register the plan's stored study and its configurations.

    The stored study is named after the study, the evaluation phase and the
    fingerprint of the data and settings (:mod:`lstmtune.study.identity`): runs of other
    data or settings are never reused.

    Returns:
      The study id, and notices for the user (e.g. that the data changed since
      runs were stored under this name, so everything is computed afresh).
    """
    fp = identity.fingerprint(plan_.spec, series, score_last=plan_.score_last, curve_repeats=plan_.curve_repeats)
    name = identity.store_name(plan_.spec.name, plan_.phase, fp)
    notices = []
    existing = dict((n, i) for i, n in store.studies())
    if name not in existing:
        stale = [n for n in existing if identity.parse(n)[:2] in ((plan_.spec.name, plan_.phase), (plan_.spec.name, None))]
        stored = [existing[n] for n in stale if not store.runs(existing[n]).empty]
        if stored:
            changes = _changed(store.spec_toml(max(stored)), plan_.spec, plan_.score_last)
            what = (f"the settings changed since results were stored ({changes})" if changes else
                    "the data changed since results were stored (their content, or the per-epoch curves kept)")
            notices.append(f"study {plan_.spec.name!r} ({plan_.phase} phase): {what}; those runs are kept but not reused: computing afresh")
    study_id = store.open_study(name, spec_mod.dumps(plan_.spec))
    store.add_configs(study_id, [(c.key, c.params()) for c in plan_.configs])
    return study_id, notices


_KEYED = {"source": "data.source", "holdout": "data.test_size", "feature_range": "transforms.feature_range", "seed": "seed",
          "seeding": "runs.seeding", "horizon": "evaluation.horizon", "covariates": "data.covariates", "calendar": "data.calendar"}
"""What of a study's settings keys its stored runs (:func:`lstmtune.study.identity.fingerprint`), as the study file names it."""


def _changed(before: str, now: spec_mod.StudySpec, score_last: int | None) -> str:
    """The settings that key stored runs (:data:`_KEYED`) and that the stored study (its resolved
    file, ``before``) set otherwise than ``now``, as ``key old -> new`` ("" when none: the data
    changed, or the curves kept)."""
    import tomllib

    def keyed(spec) -> dict:
        out = {**identity.settings(spec, score_last=score_last), "covariates": list(spec.data.covariates), "calendar": list(spec.data.calendar)}
        out.setdefault("horizon", 1)
        return out

    try:
        old = keyed(spec_mod.from_dict(tomllib.loads(before), "the stored study"))
    except Exception:  # noqa: BLE001 - a study stored by another version: what changed is not said
        return ""
    new = keyed(now)
    return ", ".join(f"{name} {old.get(k)!r} -> {new.get(k)!r}" for k, name in _KEYED.items() if old.get(k) != new.get(k))


def _items(pop: Population) -> list[tuple[str, int, int, str]]:
    """(config key, repeat, seed, family) for every run a population produces."""
    return [(c.key, r.repeat, r.seed, r.family) for r in pop.replicas for c in pop.configs if c.family == r.family]


def _done_keys(store: Store, study_id: int) -> tuple[list[str], list[int]]:
    frame = store.runs(study_id)
    if frame.empty:
        return [], []
    return list(frame["config"]), [int(r) for r in frame["repeat"]]


def _wait_for_others(store: Store, study_id: int, plan_: Plan, stale_s: float, poll_s: float) -> bool:
    """Wait while other workers finish the plan's runs.

    Returns True when every run is done, False when some are neither done nor
    claimed by anyone (the caller then computes them itself).
    """
    needed = {(c.key, r) for c in plan_.configs for r in range(plan_.repeats)}
    while True:
        missing = needed - set(zip(*_done_keys(store, study_id)))
        if not missing:
            return True
        release_dead(store, study_id, stale_s)
        if not store.running_owners(study_id):
            return False
        time.sleep(poll_s)


__all__ = ["heartbeat", "new_owner", "open_study", "release_dead"]
