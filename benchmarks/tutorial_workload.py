"""The tutorial's whole summary workload with lstmtune, end to end, in this process.

30 repeats each of: epochs 500/1000/2000/4000/6000 (batch 4, 1 unit); batch 1, 2, 4
(1000 epochs, 1 unit); units 1-5 (1000 epochs, batch 4). 13 configurations, 390
trainings. Configurations that are the same model (units 1, batch 4, 1000 epochs
appears in all three studies) share their runs; the epoch study is checkpoints of
one 6000-epoch run. Prints one JSON line: wall time from process start.

Run it in a fresh process: ``python benchmarks/tutorial_workload.py [tutorial|single]``
(``single``: 30 repeats x 1000 epochs, batch 4, 1 unit).
Set LSTMTUNE_CACHE_DIR to a new empty folder for a cold compilation cache.
"""

import time

T0 = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.selection import metrics
from lstmtune.data import problem  # noqa: E402

REPEATS = 30


WORKLOADS = {
    # the tutorial's 13 summary configurations as 7 programs
    "tutorial": [((1, 4), (500, 1000, 2000, 4000, 6000)), ((1, 1), (1000,)), ((1, 2), (1000,))]
    + [((u, 4), (1000,)) for u in (2, 3, 4, 5)],
    # 30 repeats x 1000 epochs, batch 4, 1 unit
    "single": [((1, 4), (1000,))],
    # extensions: 30 repeats x 1000 epochs, batch 4: two stacked 10-unit layers; 1 unit with 6 timesteps
    "stacked": [(((10, 10), 4), (1000,))],
    "timesteps6": [((1, 4, 6), (1000,))],
}


def main(workload: str = "tutorial") -> dict:
    series = data.load("shampoo")
    jobs = WORKLOADS[workload]
    results = {}
    t_setup = time.perf_counter()
    for shape, ckpts in jobs:
        units, batch, timesteps = (*shape, 1)[:3]
        framing = problem.Framing(trim=2) if timesteps == 1 else problem.Framing(timesteps=timesteps)
        prob = problem.prepare(series, framing, batch)
        res = engine.train_population(
            prob, engine.Architecture(units, batch), engine.Schedule.for_checkpoints(ckpts), seeds=range(REPEATS)
        )
        for k, epochs in enumerate(ckpts):
            rmse = metrics.rmse(prob.test_actual, prob.invert(res.test_pred[:, k], "test"))
            results[f"units={units} batch={batch} timesteps={timesteps} epochs={epochs}"] = float(np.mean(rmse))
    t_end = time.perf_counter()
    return {
        "workload": workload,
        "configs": len(results),
        "trainings": REPEATS * len(results),
        "programs": len(jobs),
        "wall_s_from_process_start": round(t_end - T0, 3),
        "import_s": round(t_setup - T0, 3),
        "mean_test_rmse": {k: round(v, 2) for k, v in results.items()},
    }


if __name__ == "__main__":
    out = main(sys.argv[1] if len(sys.argv) > 1 else "tutorial")
    json.dump(out, sys.stdout)
    print()
