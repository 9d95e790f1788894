"""GPU against CPU per replica-epoch, for choosing ``engine.GPU_MIN_REPLICAS`` / ``GPU_MIN_UNITS``.

Sized for the device tool (one GPU, about 10 minutes in all): for each case, one
population is trained once to compile, then ``--trials`` times; the median run time per
replica-epoch is reported for ``--device`` gpu and cpu, and the test RMSE of both is
compared (float32 kept; expect ~1e-6 relative).

Cases: the tutorial's model (1 unit, batch 4, shampoo) at 30, 3,000 and 30,000 replicas,
and a realistic one (a 1,000-point sine-plus-noise series, batch 32) at 50 and 128 units
with 30 and 300 replicas.

    python benchmarks/gpu_bench.py [--quick] [--out gpu_bench.json]

``--quick`` shrinks every case (for checking the script on a CPU-only machine). On a GPU,
the largest realistic case is also run under ``jax.default_matmul_precision`` "highest"
(true float32) and "tensorfloat32", each compared with the CPU's test RMSE: whether the
default precision is TF32 there, and what float32 costs.

The whole device check (this script and ``cpu_shards.py`` on the machine's cores) is
``benchmarks/device_check.sh``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.data.problem import Framing, prepare


def _series(n: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    return 100 + 0.05 * t + 10 * np.sin(2 * np.pi * t / 50) + np.random.default_rng(0).normal(0, 1, n)


def case(name, values, units, batch, replicas, epochs, device, trials):
    problem = prepare(values, Framing(1, 1, 1, test_size=min(100, len(values) // 5), trim=None, feature_range=(-1.0, 1.0)), batch)
    arch = engine.Architecture(units=(units,), batch_size=batch)
    sched = engine.Schedule.for_checkpoints([epochs])
    seeds = list(range(replicas))
    chosen = engine.device_for(replicas, arch, device)
    t0 = time.perf_counter()
    engine.train_population(problem, arch, sched, seeds=seeds)
    first = time.perf_counter() - t0
    runs = []
    for _ in range(trials):
        t0 = time.perf_counter()
        r = engine.train_population(problem, arch, sched, seeds=seeds)
        runs.append(time.perf_counter() - t0)
    med = statistics.median(runs)
    rmse = np.sqrt(np.mean((problem.invert(r.test_pred[:, -1], "test") - problem.test_actual) ** 2, axis=1))
    return {"case": name, "device": str(chosen), "units": units, "batch": batch, "replicas": replicas, "epochs": epochs,
            "first_s": first, "median_s": med, "us_per_replica_epoch": med / (replicas * epochs) * 1e6, "test_rmse": rmse.tolist()}


def main() -> None:
    import os

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    q = args.quick
    shampoo = data.load("shampoo").values
    long = _series(200 if q else 1000)
    cases = [("tutorial", shampoo, 1, 4, p, 20 if q else 100) for p in ((8, 64) if q else (30, 3000, 30000))]
    cases += [("realistic", long, u, 32, p, 2 if q else 10) for u in ((4,) if q else (50, 128)) for p in ((8,) if q else (30, 300))]
    import jax

    devices = ["cpu"] + (["gpu"] if any(d.platform == "gpu" for d in jax.devices()) else [])
    rows = []
    for name, values, units, batch, p, epochs in cases:
        for device in devices:
            os.environ["LSTMTUNE_DEVICE"] = device
            row = case(name, values, units, batch, p, epochs, device, args.trials)
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "test_rmse"}), flush=True)
    if "gpu" in devices:
        # Matmul precision on the GPU: does the default use TF32 (a fidelity question: compare each
        # variant's test RMSE with the CPU's), and what does each cost? Realistic case, largest units.
        name, values, units, batch, p, epochs = cases[-1]
        on_cpu = lambda r: not any(k in r["device"].lower() for k in ("cuda", "gpu"))  # noqa: E731
        cpu = next(r for r in rows if (r["case"], r["units"], r["replicas"]) == (name, units, p) and on_cpu(r))
        os.environ["LSTMTUNE_DEVICE"] = "gpu"
        for precision in ("highest", "tensorfloat32"):
            with jax.default_matmul_precision(precision):
                row = case(name, values, units, batch, p, epochs, "gpu", args.trials)
            row["precision"] = precision
            row["max_rel_rmse_vs_cpu"] = float(np.max(np.abs(np.asarray(row["test_rmse"]) - cpu["test_rmse"]) / np.asarray(cpu["test_rmse"])))
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "test_rmse"}), flush=True)
    for name, _, units, batch, p, _ in cases:  # GPU against CPU results
        pair = [r for r in rows if (r["case"], r["units"], r["replicas"]) == (name, units, p) and "precision" not in r]
        if len(pair) == 2:
            a, b = (np.asarray(r["test_rmse"]) for r in pair)
            print(f"{name} units={units} P={p}: max relative test-RMSE difference gpu vs cpu {np.max(np.abs(a - b) / a):.2e}")
    report = {"machine": platform.platform(), "jax": jax.__version__, "devices": [str(d) for d in jax.devices()], "rows": rows}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
