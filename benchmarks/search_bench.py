"""Search throughput: lstmtune's population search vs an Optuna loop that trains one Keras model per trial.

Same space (units 1-5, learning rate 1e-4..1e-2 log, epochs 250/500/1000), same data
and protocol. lstmtune: TPE, 24 trials x 10 repeats, batches of 8 trials, in a fresh
process with a cold compilation cache, wall time from process start. Keras 3 (JAX
backend): ``optuna.study.optimize`` with TPE, one model per trial, ``--keras-trials``
trials timed end to end. Throughput = trainings (trial x repeat) per second.

Usage: python benchmarks/search_bench.py [--keras-trials 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

KERAS_LOOP = r"""
import os, sys, time, json
t0 = time.perf_counter()
os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, sys.argv[2])
import numpy as np, optuna
from keras_reference import build_model, fit_tutorial, forecast_test
from lstmtune.data import series as data
from lstmtune.selection import metrics
from lstmtune.data import problem
optuna.logging.set_verbosity(optuna.logging.WARNING)
series = data.load("shampoo")
prob = problem.prepare(series, problem.Framing(trim=2), 4)
x, y, tx = prob.train_x.astype(np.float32), prob.train_y.astype(np.float32), prob.test_x.astype(np.float32)

def objective(trial):
    units = trial.suggest_int("units", 1, 5)
    lr = trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
    epochs = trial.suggest_categorical("epochs", [250, 500, 1000])
    model = build_model(units, 4, learning_rate=lr)
    fit_tutorial(model, x, y, 4, epochs)
    return float(metrics.rmse(prob.test_actual, prob.invert(forecast_test(model, x, tx, 4), "test")))

study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=3))
study.optimize(objective, n_trials=int(sys.argv[1]))
print(json.dumps({"trials": len(study.trials), "wall_s": time.perf_counter() - t0}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keras-trials", type=int, default=6)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LSTMTUNE_CACHE_DIR=str(Path(tmp) / "xla"))
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "lstmtune.cli", "search", str(ROOT / "examples" / "search_tpe.toml"), "--out", str(Path(tmp) / "out"), "--quiet"],
            env=env, check=True, capture_output=True, text=True,
        )
        ours_s = time.perf_counter() - t0
    ours_trainings = 24 * 10
    out = subprocess.run(
        [sys.executable, "-c", KERAS_LOOP, str(args.keras_trials), str(ROOT / "tests")],
        env=dict(os.environ, KERAS_BACKEND="jax"), check=True, capture_output=True, text=True,
    )
    keras = json.loads(out.stdout.strip().splitlines()[-1])
    result = {
        "lstmtune": {"trainings": ours_trainings, "wall_s": ours_s, "trainings_per_s": ours_trainings / ours_s},
        "keras_optuna": {"trainings": keras["trials"], "wall_s": keras["wall_s"], "trainings_per_s": keras["trials"] / keras["wall_s"]},
    }
    result["ratio"] = result["lstmtune"]["trainings_per_s"] / result["keras_optuna"]["trainings_per_s"]
    (HERE / "search_results.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
