"""How far a stored study has got: done, diverged and pending runs against its plan."""

from __future__ import annotations

import tomllib

import pandas as pd

from lstmtune import planner
from lstmtune import spec as spec_mod
from lstmtune.store import Store


def study_status(store: Store) -> pd.DataFrame:
    """One row per study in ``store``: configurations done/total and runs done/diverged/running/pending.

    Totals come from each study's stored spec (its grid expanded), so a study
    that was interrupted shows what is left to compute.
    """
    rows = []
    for study_id, name in store.studies():
        plan = planner.plan(spec_mod.from_dict(tomllib.loads(store.spec_toml(study_id)), f"study {name!r}"))
        wanted = {(c.key, r) for c in plan.configs for r in range(plan.repeats)}
        frame = store.runs(study_id, status=None)
        keys = list(zip(frame["config"], frame["repeat"].astype(int))) if len(frame) else []
        status = dict(zip(keys, frame["status"])) if len(frame) else {}
        diverged = dict(zip(keys, frame["diverged"])) if len(frame) else {}
        done = {k for k in wanted if status.get(k) == "done"}
        running = {k for k in wanted if status.get(k) == "running"}
        configs_done = sum(all((c.key, r) in done for r in range(plan.repeats)) for c in plan.configs)
        rows.append(
            {
                "study": name,
                "configs done": configs_done,
                "configs": len(plan.configs),
                "runs done": len(done),
                "diverged": sum(bool(diverged.get(k)) for k in done),
                "running": len(running),
                "pending": len(wanted) - len(done) - len(running),
                "runs": len(wanted),
            }
        )
    return pd.DataFrame(rows)
