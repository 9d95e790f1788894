"""How far a stored study has got: done, diverged and pending runs against its plan."""

from __future__ import annotations

import tomllib

import pandas as pd

from lstmtune.study import identity
from lstmtune.study import planner
from lstmtune.study import spec as spec_mod
from lstmtune.store import Store


def study_status(store: Store) -> pd.DataFrame:
    """One row per study in ``store``: configurations done/total and runs done/diverged/running/pending.

    Totals come from each study's stored spec (its grid expanded), so a study
    that was interrupted shows what is left to compute.
    """
    rows, phases, specs = [], {}, {}
    for study_id, stored in store.studies():
        base, phase, fp = identity.parse(stored)
        name = base if phase is None else f"{base} ({phase} phase, data {fp[:8]})"
        spec = spec_mod.from_dict(tomllib.loads(store.spec_toml(study_id)), f"study {base!r}")
        phases.setdefault(base, set()).add(phase)
        specs.setdefault(base, spec)
        if spec.search is not None or (phase == "test" and spec.evaluation.selection != "test" and not spec.evaluation.test_all):
            # A search, or the test phase of honest selection: what is tested depends on
            # what was selected, so only what is stored is counted (with test_all, every
            # configuration is tested: the plan's totals).
            rows.append(_search_row(store, study_id, name, "search" if spec.search is not None else "selected only"))
            continue
        plan = planner.plan(spec)
        wanted = {(c.key, r) for c in plan.configs for r in range(plan.repeats)}
        frame = store.runs(study_id, status=None)
        keys = list(zip(frame["config"], frame["repeat"].astype(int))) if len(frame) else []
        status = dict(zip(keys, frame["status"])) if len(frame) else {}
        diverged = dict(zip(keys, frame["diverged"])) if len(frame) else {}
        done = {k for k in wanted if status.get(k) == "done"}
        running = {k for k in wanted if status.get(k) == "running"}
        configs_done = sum(all((c.key, r) in done for r in range(plan.repeats)) for c in plan.configs)
        abandoned = _abandoned(store, study_id, len(running))
        rows.append(
            {
                "study": name,
                "configs done": configs_done,
                "configs": len(plan.configs),
                "runs done": len(done),
                "diverged": sum(bool(diverged.get(k)) for k in done),
                "running": len(running) - abandoned,
                "abandoned": abandoned,
                "pending": len(wanted) - len(done) - len(running),
                "runs": len(wanted),
            }
        )
    rows += [_not_started(base, specs[base]) for base, seen in phases.items() if "test" not in seen and seen - {None} and specs[base].search is None]
    return pd.DataFrame(rows)


def _not_started(base: str, spec) -> dict:
    """The test phase of a study interrupted during its selection: nothing stored yet, so the
    listing left it out and its totals fell short of `plan`'s (a probe). With ``test_all`` every
    configuration is tested (the plan's totals); otherwise what is tested depends on the choice."""
    if spec.evaluation.test_all:
        plan = planner.plan(spec)
        n = len(plan.configs) * plan.repeats
        counts = {"configs done": 0, "configs": len(plan.configs), "runs done": 0, "diverged": 0, "running": 0, "abandoned": 0, "pending": n, "runs": n}
    else:
        counts = {"configs done": 0, "configs": "-", "runs done": 0, "diverged": 0, "running": 0, "abandoned": 0, "pending": "-", "runs": "-"}
    return {"study": f"{base} (test phase: not started)", **counts}


def _abandoned(store: Store, study_id: int, running: int) -> int:
    """Claims held only by processes of this host that are gone (or zombies): shown as abandoned,
    not running. (They are released when the study next runs.)"""
    from lstmtune.study.runner import _is_dead

    owners = store.running_owners(study_id)
    return running if owners and all(_is_dead(o) for o in owners) else 0


def _search_row(store: Store, study_id: int, name: str, kind: str = "search") -> dict:
    """No fixed plan (a search, a test phase): count what is stored (pending is unknown)."""
    frame = store.runs(study_id, status=None)
    done = frame[frame["status"] == "done"] if len(frame) else frame
    return {
        "study": f"{name} ({kind})",
        "configs done": int(done["config"].nunique()) if len(done) else 0,
        "configs": "-",
        "runs done": len(done),
        "diverged": int(done["diverged"].sum()) if len(done) else 0,
        "running": int((frame["status"] == "running").sum()) - _abandoned(store, study_id, int((frame["status"] == "running").sum())) if len(frame) else 0,
        "abandoned": _abandoned(store, study_id, int((frame["status"] == "running").sum())) if len(frame) else 0,
        "pending": "-",
        "runs": "-",
    }
