"""Where a fresh default study's time goes, and what a rerun costs (issue 24).

Each figure is the median of ``--repeats`` fresh processes on a warm compilation cache (a
user's second study), the stored programs of engine/aot.py on and off side by side in one
run. A process's time is split into: start and imports (to ``lstmtune.workflow.study``
imported), data and planning, training (tracing/lowering, compiled programs read from the
caches, running), and results, figures and the report. Also: ``lstmtune run`` whole in a
fresh process, and its rerun on the finished study.

Usage: python benchmarks/study_profile.py [--repeats 3]    (writes study_profile.json)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from lstmtune.workflow import study
from lstmtune.study import spec as spec_mod
t1 = time.perf_counter()
outcome = study.run(spec_mod.default_study(), sys.argv[1], started=t1)
t2 = time.perf_counter()
t = outcome.results.timings
print(json.dumps({"imports": t1 - t0, "plan_and_data": t["wall_s"] - t["train_s"], "training": t["train_s"], "outputs_figures_report": t2 - t1 - t["wall_s"], "in_process": t2 - t0}))
"""


def _child(out: str, env: dict) -> dict:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, out], env=env, capture_output=True, text=True, check=True)
    got = json.loads(r.stdout.strip().splitlines()[-1])
    got["process"] = time.perf_counter() - t
    return got


def _cli(args, env, cwd) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lstmtune.cli", *args], env=env, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - t


def main(repeats: int = 3) -> dict:
    base = dict(os.environ)
    out: dict = {"machine": f"{os.cpu_count()} cores", "repeats": repeats}
    with tempfile.TemporaryDirectory() as tmp:
        for label, aot in (("stored programs (default)", "1"), ("traced afresh (LSTMTUNE_AOT=0)", "0")):
            env = {**base, "LSTMTUNE_AOT": aot}
            _child(os.path.join(tmp, "warm"), env)  # fills the caches
            rows = [_child(os.path.join(tmp, f"{aot}-{k}"), env) for k in range(repeats)]
            out[label] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            cli = [_cli(["run", "-q", "--out", os.path.join(tmp, f"cli{aot}-{k}")], env, tmp) for k in range(repeats)]
            out[label]["lstmtune run (fresh process)"] = statistics.median(cli)
            out[label]["lstmtune run, rerun of the finished study"] = statistics.median(_cli(["run", "-q", "--out", os.path.join(tmp, f"cli{aot}-0")], env, tmp) for _ in range(repeats))
    return out


if __name__ == "__main__":
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 3
    result = main(repeats)
    (HERE / "study_profile.json").write_text(json.dumps(result, indent=1))
    for label in ("stored programs (default)", "traced afresh (LSTMTUNE_AOT=0)"):
        print(label, {k: round(v, 2) for k, v in result[label].items()})
