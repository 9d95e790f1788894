"""`lstmtune auto`'s interval coverage on the benchmark sets, after a change that moves only the
intervals: every series' MASE and choice are compared with the stored `panel_results*.json`
(they must be equal), and the coverage of the 80% and 95% intervals on the held-out points is
reported beside the stored one.

Usage: python benchmarks/coverage_check.py [SET ...]   (dev, short, seasonal-short, check, check2;
writes coverage_check.json)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from panel import _mase, check2_panel, check_panel, dev_panel, seasonal_short_panel, short_panel  # noqa: E402

SETS = {"dev": dev_panel, "short": short_panel, "seasonal-short": seasonal_short_panel, "check": check_panel, "check2": check2_panel}
SEASON = {"MS": 12, "QS": 4, "YS": 1, "D": 7}


def main(names) -> dict:
    from lstmtune.auto.run import auto

    out = {}
    for name in names:
        stored = json.loads(Path(__file__).with_name("panel_results.json" if name == "dev" else f"panel_results_{name}.json").read_text())
        before = {r["unique_id"]: r for r in stored["series"]}
        rows = []
        for uid, frame, h, freq in SETS[name]():
            train, test = frame.iloc[:-h].assign(unique_id=uid), frame.iloc[-h:]
            fc = auto(train, h).forecasts
            y = test["y"].to_numpy()
            mase = _mase(y, fc["mean"].to_numpy(), train["y"].to_numpy(), SEASON[freq])
            rows.append({"unique_id": uid, "mase": mase, "model": fc["model"].iloc[0],
                         "same_mase_and_choice": bool(mase == before[uid]["auto"] and fc["model"].iloc[0] == before[uid]["auto model"]),
                         **{f"cover{lv}": float(np.mean((fc[f"lower_{lv}"].to_numpy() <= y) & (y <= fc[f"upper_{lv}"].to_numpy()))) for lv in (80, 95)},
                         **{f"stored_cover{lv}": before[uid][f"cover{lv}"] for lv in (80, 95)}})
        summary = {k: float(np.mean([r[k] for r in rows])) for k in ("cover80", "cover95", "stored_cover80", "stored_cover95")}
        summary["every_mase_and_choice_as_stored"] = all(r["same_mase_and_choice"] for r in rows)
        out[name] = {"summary": summary, "series": rows}
        print(name, summary, flush=True)
    return out


if __name__ == "__main__":
    names = sys.argv[1:] or list(SETS)
    result = main(names)
    Path(__file__).with_name("coverage_check.json").write_text(json.dumps(result, indent=1))
