"""Empirical coverage of the forecaster's 80% / 95% intervals on real series (docs/FORECAST_COVERAGE.md).

For each series (statsmodels' bundled datasets), the last ``held`` observations
are held back. The forecaster is fitted (30 seeds, with its calibration) on the
rest only; then from every origin in the held-back part it forecasts
``horizon`` steps, conditioned on the observations before the origin without
retraining, and we count how often the held-back values fall inside the
intervals: the raw ensemble quantiles and the calibrated ones.

    python benchmarks/forecast_coverage.py        # a few minutes on 2 CPU cores
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.forecast import forecaster
from lstmtune.forecast import intervals
from lstmtune.selection import metrics
from lstmtune.study.spec import Config


def _series() -> dict[str, tuple[pd.Series, int, int]]:
    """name -> (series, held back, horizon)."""
    import statsmodels.api as sm

    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate().iloc[-240:]
    co2.index = co2.index.astype("datetime64[ns]")
    mac = sm.datasets.macrodata.load_pandas().data
    unemp = pd.Series(mac["unemp"].to_numpy(), index=pd.date_range("1959-01-01", periods=len(mac), freq="QS-JAN"), name="unemp")
    ss = sm.datasets.sunspots.load_pandas().data
    sun = pd.Series(ss["SUNACTIVITY"].to_numpy(), index=pd.date_range("1700-01-01", periods=len(ss), freq="YS"), name="sunspots")
    nile = sm.datasets.nile.load_pandas().data
    nil = pd.Series(nile["volume"].to_numpy(), index=pd.date_range("1871-01-01", periods=len(nile), freq="YS"), name="nile")
    return {
        "CO2 Mauna Loa, monthly 1982-2001 (240)": (co2.rename("co2"), 48, 12),
        "US unemployment rate, quarterly 1959-2009 (203)": (unemp, 40, 6),
        "Sunspots, yearly 1700-2008 (309)": (sun, 60, 6),
        "Nile flow, yearly 1871-1970 (100)": (nil, 24, 4),
    }


CONFIG = Config(units=4, batch_size=4, epochs=300, learning_rate=0.01, recurrent_activation="sigmoid", interval=1, lags=1, timesteps=1, trim=None)


def evaluate(series: pd.Series, held: int, horizon: int, seeds) -> dict:
    n = len(series)
    model = forecaster.fit(series.iloc[: n - held], CONFIG, seeds=seeds, horizon=horizon)
    hits = {k: [] for k in ("ens80", "ens95", "cal80", "cal95")}
    widths = {k: [] for k in ("ens80", "cal80", "ens95", "cal95")}
    iscores = {k: [] for k in ("ens80", "cal80", "ens95", "cal95")}
    scale = metrics.naive_scale(series.to_numpy()[: n - held])  # MASE's (and M4's MSIS) scale
    err, naive = [], []
    for t in range(n - held, n):
        k = min(horizon, n - t)
        paths, _, _ = model.paths(horizon, series.iloc[:t])
        y = series.to_numpy()[t : t + k]
        for cal in (False, True):
            table = model.summarize(paths, np.arange(horizon), calibrated=cal)
            for level in (80, 95):
                lo, hi = table[f"lower_{level}"].to_numpy()[:k], table[f"upper_{level}"].to_numpy()[:k]
                key = f"{'cal' if cal else 'ens'}{level}"
                hits[key].extend((lo <= y) & (y <= hi))
                widths[key].extend(hi - lo)
                iscores[key].extend(intervals.interval_score(lo, hi, y, level / 100) / scale)
        err.extend(paths.mean(axis=0)[:k] - y)
        naive.extend(series.to_numpy()[t - 1] - y)
    out = {f"coverage_{k}": float(np.mean(v)) for k, v in hits.items()}
    out.update({f"width_{k}": float(np.mean(v)) for k, v in widths.items()})
    out.update({f"msis_{k}": float(np.mean(v)) for k, v in iscores.items()})
    out.update(
        pairs=len(err),
        rmse=float(np.sqrt(np.mean(np.square(err)))),
        persistence_rmse=float(np.sqrt(np.mean(np.square(naive)))),
        calibration_origins=int(model.calibration.origins[0]),
    )
    return out


def main() -> None:
    seeds = list(range(30))
    rows = {}
    t0 = time.perf_counter()
    for name, (s, held, horizon) in _series().items():
        t = time.perf_counter()
        rows[name] = {"held": held, "horizon": horizon, **evaluate(s, held, horizon, seeds), "seconds": time.perf_counter() - t}
        print(name, json.dumps(rows[name]), flush=True)
    Path(__file__).with_name("forecast_coverage.json").write_text(json.dumps({"config": CONFIG.params(), "seeds": 30, "results": rows, "total_s": time.perf_counter() - t0}, indent=2))


if __name__ == "__main__":
    main()
