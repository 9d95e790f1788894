"""Cost of `fit` (30-seed ensemble + calibration backtest) against one study configuration's training.

One study configuration = its 30 repeats trained as one population on the study's
training rows (``executor.LocalExecutor``), which is what ``lstmtune run`` spends per
configuration. ``fit`` trains twice (the calibration ensemble on the series without
its last ``min(3 x horizon, n/3)`` observations, then the final ensemble on all of
them), warms the state and forecasts from every backtest origin.

Each is timed once with compilation (first call in the process; the persistent
XLA cache may already hold the programs) and then ``--trials`` times interleaved;
the best steady time is reported, since the machine may be shared.

    python benchmarks/fit_bench.py [--epochs 500] [--repeats 30]
"""

from __future__ import annotations

import argparse
import json
import time

import lstmtune
from lstmtune.study import executor
from lstmtune.forecast import forecaster
from lstmtune.study import planner
from lstmtune.study import spec as spec_mod


def _timed(fn):
    """``(wall, cpu)`` seconds; CPU time (all threads) is less disturbed by other processes."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()
    series = lstmtune.load_series("shampoo")
    spec = spec_mod.from_dict(
        {"name": "bench", "model": {"units": 1, "batch_size": 4, "epochs": args.epochs}, "runs": {"mode": "summary", "repeats": args.repeats}, "evaluation": {"selection": "test"}}
    )
    plan = planner.plan(spec)
    pop = plan.populations[0]
    prob = executor.validate(plan, series)[executor.problem_key(pop)]
    config = plan.configs[0]
    seeds = [r.seed for r in pop.replicas]

    runs = {
        "study_config": lambda: executor.LocalExecutor().run(pop, prob),
        "fit_with_calibration": lambda: forecaster.fit(series, config, seeds=seeds, horizon=12),
        "fit_without_calibration": lambda: forecaster.fit(series, config, seeds=seeds, calibrate=False),
    }
    first = {name: _timed(fn) for name, fn in runs.items()}  # includes compilation
    # steady state: interleaved, best of args.trials (the machine is shared; the minimum is the least disturbed)
    steady = {name: [] for name in runs}
    for _ in range(args.trials):
        for name, fn in runs.items():
            steady[name].append(_timed(fn))
    wall = {name: min(w for w, _ in v) for name, v in steady.items()}
    cpu = {name: min(c for _, c in v) for name, v in steady.items()}
    out = {
        "epochs": args.epochs,
        "repeats": args.repeats,
        "first_call_wall_cpu_s": first,
        "steady_best_wall_s": wall,
        "steady_best_cpu_s": cpu,
        "ratio_wall_with_calibration": wall["fit_with_calibration"] / wall["study_config"],
        "ratio_wall_without_calibration": wall["fit_without_calibration"] / wall["study_config"],
        "ratio_cpu_with_calibration": cpu["fit_with_calibration"] / cpu["study_config"],
        "ratio_cpu_without_calibration": cpu["fit_without_calibration"] / cpu["study_config"],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
