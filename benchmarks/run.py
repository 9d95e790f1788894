"""lstmtune vs the tutorial's Keras 3 loop, measured side by side in one run.

Whole workloads are timed in fresh processes (imports, compilation, set-up and
training included): lstmtune with a cold compilation cache (a new empty folder)
and again with that cache warm. Keras is timed per epoch and per model set-up on
a sample of epochs (``--keras-epochs``) and extrapolated to the full workload; the
extrapolation is stated in the output. Run-only figures (compiled program
already in memory) are labelled as such.

Usage: python benchmarks/run.py [--keras-epochs 100] [--keras-models 2] [--repeats 3]
Writes benchmarks/results.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

TUTORIAL = [  # (units, batch, epochs) x 30 repeats: the tutorial's 13 summary configurations
    *[(1, 4, e) for e in (500, 1000, 2000, 4000, 6000)],
    *[(1, b, 1000) for b in (1, 2, 4)],
    *[(u, 4, 1000) for u in (1, 2, 3, 4, 5)],
]


def fresh(workload: str, cache: str) -> dict:
    env = dict(os.environ, LSTMTUNE_CACHE_DIR=cache)
    out = subprocess.run([PY, str(HERE / "tutorial_workload.py"), workload], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def lstmtune_fresh(workload: str, repeats: int) -> dict:
    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(fresh(workload, cache)["wall_s_from_process_start"])
            warm.append(fresh(workload, cache)["wall_s_from_process_start"])
    return {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm), "cold_all": cold, "warm_all": warm}


def lstmtune_run_only(replicas: int, epochs: int = 1000, repeats: int = 3) -> dict:
    """Training time of one population with the program already compiled."""
    code = f"""
import time, json
from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.data import problem
p = problem.prepare(data.load('shampoo'), problem.Framing(trim=2), 4)
arch, s = engine.Architecture(1, 4), engine.Schedule.for_checkpoints([{epochs}])
engine.train_population(p, arch, s, seeds=range({replicas}))
ts = []
for r in range({repeats}):
    t = time.perf_counter(); engine.train_population(p, arch, s, seeds=range(r * {replicas}, (r + 1) * {replicas})); ts.append(time.perf_counter() - t)
print(json.dumps(sorted(ts)))
"""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, LSTMTUNE_CACHE_DIR=cache)
        out = subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True, check=True)
    times = json.loads(out.stdout.strip().splitlines()[-1])
    med = statistics.median(times)
    return {"replicas": replicas, "epochs": epochs, "run_s_median": med, "us_per_replica_epoch": med / (replicas * epochs) * 1e6}


EXTENSIONS = {  # workload name in tutorial_workload.py -> Keras shape argument
    "stacked": "10-10:4",
    "timesteps6": "1:4:6",
}


def keras_measure(epochs: int, models: int, args: list[str] | None = None) -> dict:
    shapes = sorted({(u, b) for u, b, _ in TUTORIAL})
    env = dict(os.environ, KERAS_BACKEND="jax")
    args = args or [f"{u}:{b}" for u, b in shapes]
    out = subprocess.run([PY, str(HERE / "keras_loop.py"), *args, f"--epochs={epochs}", f"--models={models}"], env=env, capture_output=True, text=True, check=True)
    meas = json.loads(out.stdout.strip().splitlines()[-1])["measurements"]
    return {(m["units"] if isinstance(m["units"], int) else tuple(m["units"]), m["batch"]): m for m in meas}


def keras_estimate(meas: dict, configs: list[tuple[int, int, int]], repeats: int = 30) -> float:
    """Seconds for ``repeats`` models of each config: set-up + epochs x epoch time + forecast."""
    total = 0.0
    for u, b, e in configs:
        m = meas[(u, b)]
        total += repeats * (m["setup_s"] + e * m["epoch_s_mean"] + m["predict_s"])
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keras-epochs", type=int, default=100)
    ap.add_argument("--keras-models", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    t0 = time.time()
    keras = keras_measure(args.keras_epochs, args.keras_models)
    single = lstmtune_fresh("single", args.repeats)
    tutorial = lstmtune_fresh("tutorial", args.repeats)
    run_30 = lstmtune_run_only(30)
    run_3000 = lstmtune_run_only(3000)
    extensions = {}
    for name, arg in EXTENSIONS.items():
        ours = lstmtune_fresh(name, args.repeats)
        m = next(iter(keras_measure(args.keras_epochs, args.keras_models, [arg]).values()))
        k = 30 * (m["setup_s"] + 1000 * m["epoch_s_mean"] + m["predict_s"])
        extensions[name] = {
            "keras_shape": arg, "lstmtune_fresh_cold_s": ours["cold_s"], "lstmtune_fresh_warm_s": ours["warm_s"],
            "keras_estimated_s": k, "ratio_cold": k / ours["cold_s"], "ratio_warm": k / ours["warm_s"],
            "keras_epoch_ms": m["epoch_s_mean"] * 1e3, "keras_setup_s": m["setup_s"],
        }
    k_single = keras_estimate(keras, [(1, 4, 1000)])
    k_tutorial = keras_estimate(keras, TUTORIAL)
    k4 = keras[(1, 4)]
    result = {
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "versions": _versions(),
        "keras_backend": "jax",
        "keras_sampling": f"{args.keras_models} models x {args.keras_epochs} timed epochs per (units, batch); extrapolated to 30 repeats x full epochs",
        "keras_per_shape": {f"units={u} batch={b}": v for (u, b), v in keras.items()},
        "single_30x1000": {
            "lstmtune_fresh_cold_s": single["cold_s"], "lstmtune_fresh_warm_s": single["warm_s"],
            "keras_estimated_s": k_single, "ratio_cold": k_single / single["cold_s"], "ratio_warm": k_single / single["warm_s"],
            "lstmtune_run_only_s": run_30["run_s_median"],
            "keras_run_only_s": 30 * 1000 * k4["epoch_s_mean"],
        },
        "tutorial_summary_workload": {
            "lstmtune_fresh_cold_s": tutorial["cold_s"], "lstmtune_fresh_warm_s": tutorial["warm_s"],
            "keras_estimated_s": k_tutorial, "ratio_cold": k_tutorial / tutorial["cold_s"], "ratio_warm": k_tutorial / tutorial["warm_s"],
            "cold_all": tutorial["cold_all"], "warm_all": tutorial["warm_all"],
        },
        "scale_run_only": [run_30, run_3000],
        "extensions_30x1000": extensions,
        "benchmark_wall_s": time.time() - t0,
    }
    (HERE / "results.json").write_text(json.dumps(result, indent=2))
    s, t = result["single_30x1000"], result["tutorial_summary_workload"]
    print(f"machine: {result['machine']}")
    print(f"{'workload':44s} {'lstmtune cold':>14s} {'lstmtune warm':>14s} {'Keras 3 JAX':>12s} {'ratio cold':>11s} {'ratio warm':>11s}")
    print(f"{'30 x 1000 epochs, batch 4, 1 unit':44s} {s['lstmtune_fresh_cold_s']:13.2f}s {s['lstmtune_fresh_warm_s']:13.2f}s {s['keras_estimated_s']:11.1f}s {s['ratio_cold']:10.0f}x {s['ratio_warm']:10.0f}x")
    print(f"{'tutorial summary workload (13 configs x 30)':44s} {t['lstmtune_fresh_cold_s']:13.2f}s {t['lstmtune_fresh_warm_s']:13.2f}s {t['keras_estimated_s']:11.1f}s {t['ratio_cold']:10.0f}x {t['ratio_warm']:10.0f}x")
    print(f"run-only 30 x 1000: lstmtune {s['lstmtune_run_only_s'] * 1e3:.1f} ms vs Keras {s['keras_run_only_s']:.1f} s (epochs only, no set-up)")
    for name, e in extensions.items():
        label = {"stacked": "2 layers x 10 units, 30 x 1000 epochs", "timesteps6": "timesteps 6, 30 x 1000 epochs"}[name]
        print(f"{label:44s} {e['lstmtune_fresh_cold_s']:13.2f}s {e['lstmtune_fresh_warm_s']:13.2f}s {e['keras_estimated_s']:11.1f}s {e['ratio_cold']:10.0f}x {e['ratio_warm']:10.0f}x")
    for r in result["scale_run_only"]:
        print(f"run-only P={r['replicas']}: {r['run_s_median']:.3f} s for {r['epochs']} epochs = {r['us_per_replica_epoch']:.3f} us per replica-epoch")


def _versions() -> dict:
    from importlib.metadata import version

    return {p: version(p) for p in ("jax", "jaxlib", "optax", "keras", "numpy")}


if __name__ == "__main__":
    main()
