"""The default study (`lstmtune run`) against the same trainings in Keras 3, side by side (issue 24).

The default study trains, for units 1-5, 30 repeats x 1000 epochs of the tutorial's stateful
model twice: on the validation phase's rows (16 training rows, 6 validation, batch 4) and
refitted on the test phase's (20 training rows after trimming, 12 test). Keras (JAX backend,
the fastest here) is timed on exactly those shapes, each model as the tutorial builds it (set-up:
build, compile and the first fit), ``--keras-epochs`` epochs of ``fit(epochs=1)`` +
``reset_states()``, and the walk-forward forecast; it is extrapolated to 30 repeats x 1000 epochs
per (units, phase). lstmtune is the whole `lstmtune run` command in fresh processes on a warm
compilation cache (a user's second study), the median of ``--repeats``.

Usage: python benchmarks/default_vs_keras.py [--keras-epochs 100] [--keras-models 2] [--repeats 3]
Writes benchmarks/default_vs_keras.json.
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
PHASES = {"validation": (16, 6), "test": (20, 12)}  # training rows used, scored rows (the study prints them)
UNITS = (1, 2, 3, 4, 5)
REPEATS, EPOCHS, BATCH = 30, 1000, 4

KERAS = r"""
import json, os, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from keras_reference import build_model, forecast_test, reset
epochs, models = int(sys.argv[2]), int(sys.argv[3])
out = []
rng = np.random.default_rng(0)
for spec in sys.argv[4:]:
    units, rows, scored = (int(v) for v in spec.split(":"))
    x = rng.uniform(-1, 1, (rows, 1, 1)).astype(np.float32)
    y = rng.uniform(-1, 1, (rows, 1)).astype(np.float32)
    tx = rng.uniform(-1, 1, (scored, 1, 1)).astype(np.float32)
    setups, per_epoch, predicts = [], [], []
    for _ in range(models):
        t0 = time.perf_counter()
        model = build_model((units,), 4, 1)
        model.fit(x, y, epochs=1, batch_size=4, verbose=0, shuffle=False)
        reset(model)
        t1 = time.perf_counter()
        times = []
        for _ in range(epochs):
            s = time.perf_counter()
            model.fit(x, y, epochs=1, batch_size=4, verbose=0, shuffle=False)
            reset(model)
            times.append(time.perf_counter() - s)
        t2 = time.perf_counter()
        forecast_test(model, x, tx, 4)
        setups.append(t1 - t0)
        per_epoch.append(statistics.mean(times))
        predicts.append(time.perf_counter() - t2)
    out.append({"units": units, "rows": rows, "scored": scored, "setup_s": statistics.median(setups), "epoch_s": statistics.median(per_epoch), "predict_s": statistics.median(predicts)})
print(json.dumps(out))
"""


def keras(epochs: int, models: int) -> list[dict]:
    specs = [f"{u}:{rows}:{scored}" for u in UNITS for rows, scored in PHASES.values()]
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", KERAS, str(HERE.parent / "tests"), str(epochs), str(models), *specs], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ours(repeats: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "lstmtune.cli", "run", "-q", "--out", os.path.join(tmp, "warm")], capture_output=True, check=True)
        for k in range(repeats):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lstmtune.cli", "run", "-q", "--out", os.path.join(tmp, f"r{k}")], capture_output=True, check=True)
            times.append(time.perf_counter() - t)
    return times


def main(keras_epochs: int = 100, keras_models: int = 2, repeats: int = 3) -> dict:
    measured = keras(keras_epochs, keras_models)
    keras_s = sum(REPEATS * (m["setup_s"] + EPOCHS * m["epoch_s"] + m["predict_s"]) for m in measured)
    runs = ours(repeats)
    mine = statistics.median(runs)
    return {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores",
        "keras_backend": "jax", "keras_sampling": f"{keras_models} models x {keras_epochs} timed epochs per (units, phase), extrapolated to {REPEATS} x {EPOCHS}",
        "keras_per_shape": measured, "keras_estimated_s": keras_s,
        "lstmtune_run_s": runs, "lstmtune_run_median_s": mine, "ratio": keras_s / mine,
    }


if __name__ == "__main__":
    def opt(name, default):
        return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default

    result = main(opt("--keras-epochs", 100), opt("--keras-models", 2), opt("--repeats", 3))
    (HERE / "default_vs_keras.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "keras_per_shape"}, indent=1))
    for m in result["keras_per_shape"]:
        print(m)
