"""Time the tutorial's loop in Keras 3 (run in its own process; backend from KERAS_BACKEND).

For each requested (units, batch) it builds one stateful model as the tutorial does
(set-up: build + compile + the first fit call, which compiles), then times
``EPOCHS_SAMPLED`` further epochs of fit(epochs=1) + reset_states, and the
walk-forward forecast (predict train, predict test). Prints JSON.

Usage: KERAS_BACKEND=jax python benchmarks/keras_loop.py UNITS:BATCH[:TIMESTEPS] ... [--epochs N] [--models M]
(UNITS may be stacked layers written 10-10.)
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
from keras_reference import build_model, forecast_test, reset  # noqa: E402

from lstmtune.data import series as data
from lstmtune.data import problem  # noqa: E402


def measure(units, batch: int, epochs: int, models: int, timesteps: int = 1) -> dict:
    framing = problem.Framing(trim=2) if timesteps == 1 else problem.Framing(timesteps=timesteps)
    prob = problem.prepare(data.load("shampoo"), framing, batch)
    x = prob.train_x.astype(np.float32)
    y = prob.train_y.astype(np.float32)
    tx = prob.test_x.astype(np.float32)
    setups, per_epoch, predicts = [], [], []
    for _ in range(models):
        t0 = time.perf_counter()
        model = build_model(units, batch, timesteps)
        model.fit(x, y, epochs=1, batch_size=batch, verbose=0, shuffle=False)
        reset(model)
        t1 = time.perf_counter()
        times = []
        for _ in range(epochs):
            s = time.perf_counter()
            model.fit(x, y, epochs=1, batch_size=batch, verbose=0, shuffle=False)
            reset(model)
            times.append(time.perf_counter() - s)
        t2 = time.perf_counter()
        forecast_test(model, x, tx, batch)
        t3 = time.perf_counter()
        setups.append(t1 - t0)
        per_epoch.append(statistics.mean(times))
        predicts.append(t3 - t2)
    return {
        "units": units,
        "batch": batch,
        "timesteps": timesteps,
        "setup_s": statistics.median(setups),
        "epoch_s_mean": statistics.median(per_epoch),
        "predict_s": statistics.median(predicts),
        "epochs_sampled": epochs,
        "models": models,
    }


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = dict(a[2:].split("=") for a in sys.argv[1:] if a.startswith("--"))
    epochs = int(opts.get("epochs", 100))
    models = int(opts.get("models", 2))
    out = []
    for a in args:
        parts = a.split(":")
        units = tuple(int(u) for u in parts[0].split("-"))
        units = units[0] if len(units) == 1 else units
        out.append(measure(units, int(parts[1]), epochs=epochs, models=models, timesteps=int(parts[2]) if len(parts) > 2 else 1))
    print(json.dumps({"backend": os.environ["KERAS_BACKEND"], "measurements": out}))
