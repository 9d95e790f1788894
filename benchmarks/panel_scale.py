"""Panels at scale: `lstmtune auto PANEL.csv --horizon 12` on a synthetic monthly panel, the
whole command in a fresh process, beside statsforecast's AutoETS and AutoARIMA on the same
panel; MASE of each on the last 12 months (held out from every method).

The panel (seeded): 72-240 months per series; a level, a trend (some damped), additive or
multiplicative yearly seasonality, AR(1) noise; some series positive only.

Usage: python benchmarks/panel_scale.py [SERIES ...] [--candidates FAMILIES] [--prefit N]
  SERIES: panel sizes (default 100); --prefit: series trained together (auto's PREFIT_SERIES;
  1 = no stacking across series) -- set through LSTMTUNE_PREFIT_SERIES for the benchmark only.
Writes benchmarks/panel_scale_results.json (appends one record per run). Peak memory: the
largest process's peak resident set (the command's; run one size per invocation, since the
peak of earlier children carries over).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

H = 12


def synthetic_panel(n_series: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n_series):
        n = int(rng.integers(72, 241))
        t = np.arange(n)
        level = rng.uniform(50, 500)
        slope = rng.normal(0, 0.004) * level
        trend = slope * (t if rng.random() < 0.6 else (1 - 0.98 ** t) / 0.02)
        amp = rng.uniform(0.02, 0.25)
        season = np.sin(2 * np.pi * (t + rng.integers(12)) / 12) + 0.5 * np.sin(4 * np.pi * t / 12)
        noise = np.zeros(n)
        phi, sd = rng.uniform(0, 0.7), rng.uniform(0.01, 0.06) * level
        for i in range(1, n):
            noise[i] = phi * noise[i - 1] + rng.normal(0, sd)
        base = level + trend
        y = base * (1 + amp * season) + noise if rng.random() < 0.5 else base + amp * level * season + noise
        parts.append(pd.DataFrame({"unique_id": f"s{k:04d}", "ds": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y}))
    return pd.concat(parts, ignore_index=True)


def mase(actual, forecast, train, m=12):
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))) / scale)


def run(n_series: int, candidates: str | None, prefit: int | None) -> dict:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS

    panel = synthetic_panel(n_series)
    test = panel.groupby("unique_id").tail(H)
    train = panel.drop(test.index)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "panel.csv"
        train.to_csv(csv, index=False)
        env = {**os.environ, **({"LSTMTUNE_PREFIT_SERIES": str(prefit)} if prefit else {})}
        cmd = [sys.executable, "-m", "lstmtune.cli", "auto", str(csv), "--horizon", str(H), "--out", str(Path(tmp) / "out"), "-q"]
        if candidates:
            cmd += ["--candidates", candidates]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        import resource

        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest process's peak (KiB on Linux)
        if done.returncode not in (0, 3):
            raise SystemExit(done.stderr[-2000:])
        fc = pd.read_csv(Path(tmp) / "out" / "forecasts.csv", parse_dates=["ds"])
        chosen = pd.read_csv(Path(tmp) / "out" / "leaderboard.csv")
    t0 = time.perf_counter()
    sf = StatsForecast(models=[AutoETS(season_length=12), AutoARIMA(season_length=12)], freq="MS", n_jobs=1)
    peers = sf.forecast(df=train, h=H)
    peer_wall = time.perf_counter() - t0
    scores = {"auto": [], "AutoETS": [], "AutoARIMA": []}
    for uid, actual in test.groupby("unique_id"):
        tr = train.loc[train["unique_id"] == uid, "y"].to_numpy()
        a = actual["y"].to_numpy()
        scores["auto"].append(mase(a, fc.loc[fc["unique_id"] == uid, "mean"].to_numpy(), tr))
        for name in ("AutoETS", "AutoARIMA"):
            scores[name].append(mase(a, peers.loc[peers["unique_id"] == uid, name].to_numpy(), tr))
    models = chosen.loc[chosen["chosen"] == True, "candidate"].astype(str)  # noqa: E712
    return {
        "series": n_series, "candidates": candidates or "all", "prefit_series": prefit or "default",
        "auto_wall_s": round(wall, 1), "auto_s_per_series": round(wall / n_series, 3), "auto_peak_rss_mib": round(peak_mib),
        "statsforecast_ets_arima_wall_s": round(peer_wall, 1),
        "mean_mase": {k: round(float(np.mean(v)), 4) for k, v in scores.items()},
        "chosen_lstm_share": round(float(models.str.contains("LSTM").mean()), 3),
        "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores", "lstmtune": _version(),
    }


def _version() -> str:
    """The commit of the lstmtune the command imports (PYTHONPATH may point at another tree);
    "+changes" when its sources differ from that commit."""
    import lstmtune

    root = Path(lstmtune.__file__).resolve().parents[2]
    done = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", "src"], capture_output=True, text=True).stdout.strip()
    return (done.stdout.strip() or "unknown") + ("+changes" if dirty else "")


if __name__ == "__main__":
    args = sys.argv[1:]
    candidates = prefit = None
    if "--candidates" in args:
        candidates = args.pop(args.index("--candidates") + 1)
        args.remove("--candidates")
    if "--prefit" in args:
        prefit = int(args.pop(args.index("--prefit") + 1))
        args.remove("--prefit")
    sizes = [int(a) for a in args] or [100]
    out = Path(__file__).with_name("panel_scale_results.json")
    records = json.loads(out.read_text()) if out.exists() else []
    for n in sizes:
        rec = run(n, candidates, prefit)
        print(json.dumps(rec), flush=True)
        records.append(rec)
        out.write_text(json.dumps(records, indent=1))
