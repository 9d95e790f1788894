"""Error rate and power of the model confidence set as `lstmtune auto` uses it.

auto reports, beside its choice, the candidates indistinguishable from the best
(:func:`lstmtune.selection.stats.best_set`, 10% level) on the per-observation scaled absolute
errors of the backtests, paired across candidates: few observations (2 windows x horizon),
heavy tails, errors shared across candidates (one series, one period) and correlated within
a window. This simulates losses of that shape:

    L[i, t] = mu_i * b_t * exp(0.3 z[i, t]),  log b_t AR(1) (phi 0.5) within a window,
    b_t = |t_3| scaled, z ~ N(0, 1)

with 8 candidates: all equal (size: how often any is excluded; nominal 10%), or one 20% / 50%
worse (power: how often that one is excluded). Usage: python benchmarks/mcs_auto.py [sims]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from lstmtune.selection.stats import best_set


def losses(rng, mu, windows, horizon, phi=0.5):
    n = windows * horizon
    common = np.empty(n)
    for w in range(windows):
        eps = rng.standard_t(3, size=horizon)
        x = np.empty(horizon)
        x[0] = eps[0]
        for h in range(1, horizon):
            x[h] = phi * x[h - 1] + eps[h]
        common[w * horizon:(w + 1) * horizon] = x
    base = np.abs(common) + 0.1
    return [m * base * np.exp(0.3 * rng.standard_normal(n)) for m in mu]


def main(sims: int = 300) -> dict:
    out = {}
    for windows, horizon in ((2, 12), (2, 8), (3, 12)):
        rng = np.random.default_rng(windows * 100 + horizon)
        size = power20 = power50 = 0
        for s in range(sims):
            excl, _ = best_set(losses(rng, [1.0] * 8, windows, horizon), paired=True, alpha=0.10, reps=1000, seed=s)
            size += bool(excl.any())
            excl, _ = best_set(losses(rng, [1.0] * 7 + [1.2], windows, horizon), paired=True, alpha=0.10, reps=1000, seed=s)
            power20 += bool(excl[-1])
            excl, _ = best_set(losses(rng, [1.0] * 7 + [1.5], windows, horizon), paired=True, alpha=0.10, reps=1000, seed=s)
            power50 += bool(excl[-1])
        key = f"{windows} windows x h {horizon}"
        out[key] = {"n": windows * horizon, "size_any_of_8_equal_excluded": size / sims, "power_20pct_worse": power20 / sims, "power_50pct_worse": power50 / sims, "sims": sims}
        print(key, out[key], flush=True)
    return out


if __name__ == "__main__":
    sims = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    result = main(sims)
    Path(__file__).with_name("mcs_auto_results.json").write_text(json.dumps(result, indent=1))
