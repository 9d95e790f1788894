"""Rules for choosing among `auto`'s candidates, scored on the development sets' held-out points.

One `auto` run per series gives every candidate's held-out forecast: `auto` on the whole series
with one more backtest window (`windows=3`) has the training part's two windows plus a last one
whose cutoff is the end of the training part, so its last window is the holdout, forecast by
every candidate from the training part alone (the windows' count follows
`backtests.windows_for`, which gives the training part one window fewer). A rule chooses on the
earlier windows and is scored on the last. Combinations that choose members (`Combo`, the pools)
are recomputed from the single candidates where a rule uses them, since the run's own choose
members on windows that include the holdout.

Usage: python benchmarks/choice_rules.py [SET ...]   (dev, short, seasonal-short, synth; default all)
Writes benchmarks/choice_rules_results.json; the backtests are kept in /tmp/lstmtune-choice-rules
so a second run only re-scores. The check sets are not run here.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import panel as P  # noqa: E402
from panel_scale import synthetic_panel  # noqa: E402

SEASON = {"MS": 12, "QS": 4, "YS": 1, "D": 7}
STATS = ("AutoETS", "AutoARIMA", "AutoTheta")
KEEP = Path("/tmp/lstmtune-choice-rules")


def _synthetic():
    return [(u, f.drop(columns="unique_id").reset_index(drop=True), 12, "MS") for u, f in synthetic_panel(30, seed=0).groupby("unique_id")]


SETS = {"dev": P.dev_panel, "short": P.short_panel, "seasonal-short": P.seasonal_short_panel, "synth": _synthetic}


def collect(which: str) -> list[dict]:
    """Each series' windows: actuals, every candidate's forecast, the MASE scale up to the cutoff."""
    path = KEEP / f"{which}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    from lstmtune.auto.run import auto

    out = []
    for uid, frame, h, freq in SETS[which]():
        r = auto(frame.assign(unique_id=uid), h, windows=3)
        families = dict(zip(r.leaderboard["candidate"], r.leaderboard["family"]))
        windows = []
        for cutoff, w in r.backtests.groupby("cutoff", sort=True):
            seen = frame.loc[frame["ds"] <= cutoff, "y"].to_numpy()
            m = SEASON[freq] if len(seen) > SEASON[freq] else 1
            windows.append({"y": w["y"].to_numpy(), "scale": float(np.mean(np.abs(seen[m:] - seen[:-m]))), "nonneg": bool((seen >= 0).all()),
                            "f": {c: w[c].to_numpy() for c in families if c in w}})
        out.append({"uid": uid, "families": families, "windows": windows})
    KEEP.mkdir(exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    return out


def mase(w: dict, f: np.ndarray) -> float:
    f = np.maximum(f, 0) if w["nonneg"] else f  # as delivered
    return float(np.mean(np.abs(w["y"] - f)) / w["scale"])


def singles(s: dict) -> list[str]:
    return [c for c, fam in s["families"].items() if c in s["windows"][0]["f"] and not c.startswith(("Pool", "Combo", "Ensemble")) and c != "StatsMedian"]


def network(s: dict) -> str | None:
    return next((c for c in singles(s) if s["families"][c] == "lstm"), None)


def fixed(s: dict, w: dict, name: str) -> np.ndarray | None:
    """A combination without choice, in window ``w``."""
    f, net = w["f"], network(s)
    stats = [f[c] for c in STATS if c in f]
    if name == "mean of the singles":
        return np.mean([f[c] for c in singles(s)], axis=0)
    if name == "median of the singles":
        return np.median([f[c] for c in singles(s)], axis=0)
    if net is None or len(stats) < 3:
        return None
    return {"LSTM + StatsMedian": (f[net] + f.get("StatsMedian", np.median(stats, axis=0))) / 2,
            "mean of LSTM, ETS, ARIMA, Theta": np.mean([f[net], *stats], axis=0),
            "median of LSTM, ETS, ARIMA, Theta": np.median([f[net], *stats], axis=0)}[name]


def seen(s: dict, get, idx) -> float:
    return float(np.mean([mase(s["windows"][i], get(s["windows"][i])) for i in idx]))


def rules() -> dict:
    def lowest(pool):
        def rule(s, idx):
            names = pool(s)
            best = min(names, key=lambda c: (seen(s, lambda w: w["f"][c], idx), c))
            return lambda w: w["f"][best]
        return rule

    def always(name):
        def rule(s, idx):
            if all(fixed(s, w, name) is not None for w in s["windows"]):
                return lambda w: fixed(s, w, name)
            return lowest(lambda s: singles(s) + ["StatsMedian"])(s, idx)
        return rule

    def top(k):
        def rule(s, idx):
            names = sorted(singles(s), key=lambda c: seen(s, lambda w: w["f"][c], idx))[:k]
            return lambda w: np.mean([w["f"][c] for c in names], axis=0)
        return rule

    def unless(name, margin):
        def rule(s, idx):
            base = always(name)(s, idx)
            best = lowest(lambda s: singles(s) + ["StatsMedian"])(s, idx)
            return best if seen(s, best, idx) < (1 - margin) * seen(s, base, idx) else base
        return rule

    out = {"lowest backtest MASE (auto's rule; singles and StatsMedian)": lowest(lambda s: singles(s) + ["StatsMedian"])}
    for name in ("LSTM + StatsMedian", "mean of LSTM, ETS, ARIMA, Theta", "median of LSTM, ETS, ARIMA, Theta", "mean of the singles", "median of the singles"):
        out[f"always the {name}"] = always(name)
    for k in (2, 3):
        out[f"mean of the {k} lowest"] = top(k)
    for name in ("LSTM + StatsMedian", "mean of LSTM, ETS, ARIMA, Theta"):
        for margin in (0.1, 0.2, 0.3):
            out[f"the {name} unless a candidate beats it by {int(margin * 100)}%"] = unless(name, margin)
    for c in ("AutoETS", "AutoARIMA", "AutoTheta"):
        out[f"always {c}"] = lowest(lambda s, c=c: [c])
    out["always the LSTM (auto --candidates lstm)"] = lowest(lambda s: [network(s)] if network(s) else singles(s))
    return out


def score(rows: list[dict]) -> dict:
    out = {}
    for name, rule in rules().items():
        values, ratios = [], []
        for s in rows:
            idx, last = range(len(s["windows"]) - 1), s["windows"][-1]
            values.append(mase(last, rule(s, idx)(last)))
            peers = [mase(last, last["f"][c]) for c in (*STATS, "SeasonalNaive") if c in last["f"]]
            ratios.append(values[-1] / max(min(peers), 1e-12))
        out[name] = {"mean_mase": round(float(np.mean(values)), 4), "worst_ratio": round(float(np.max(ratios)), 2), "above_2x": int(np.sum(np.array(ratios) > 2))}
    return out


def main(sets) -> dict:
    results = {}
    for which in sets:
        t0 = time.perf_counter()
        rows = collect(which)
        results[which] = {"series": len(rows), "scores": score(rows), "wall_s": round(time.perf_counter() - t0, 1)}
        print(which, json.dumps(results[which]["scores"], indent=1), flush=True)
    return results


if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SETS)
    result = main(chosen)
    Path(__file__).with_name("choice_rules_results.json").write_text(json.dumps(result, indent=1) + "\n")
