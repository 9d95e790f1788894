"""Every LSTM candidate of `auto`'s full grid, per series, on the held-out points: how much the
choice among them on two backtest windows costs (the twentieth session's diagnosis).

Per series of a development set (benchmarks/lstm_space.py's sets): `auto --candidates lstm
--lstm-space full` (its leaderboard and choice), and the final forecast of every single LSTM
candidate of its plan (the configurations planned before the first backtest origin, as auto
plans them; trained together), each written as one JSON line. benchmarks/lstm_oracle_rules.py
scores choice rules on these lines (the held-out points are looked at only to score, never to
choose). The session's lines are in lstm_oracle/.

Usage: python benchmarks/lstm_oracle.py SET > lstm_oracle/o3_SET.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from lstm_space import SEASON, sets_of  # noqa: E402


def main(which: str) -> None:
    from lstmtune.auto import backtests, lstm
    from lstmtune.auto.run import auto
    from lstmtune.data import panel
    from lstmtune.forecast import batch

    settings = lstm.Settings(space="full")
    for uid, frame, h, freq in sets_of(which):
        m = SEASON[freq]
        train, te = frame.iloc[:-h].assign(unique_id=uid), frame.iloc[-h:]
        a, tr = te["y"].to_numpy(), train["y"].to_numpy()
        res = auto(train, h, candidates=("lstm",), settings=settings)
        lb = res.leaderboard
        row = {"uid": uid, "set": which, "n": len(train), "h": h, "m": m, "actual": a.tolist(), "train_scale": float(np.mean(np.abs(tr[m:] - tr[:-m]))),
               "chosen": str(lb.loc[lb["chosen"] == True, "candidate"].iloc[0]), "auto": res.forecasts["mean"].tolist(),  # noqa: E712
               "board": {str(c): (None if pd.isna(v) else float(v)) for c, v in zip(lb["candidate"], lb["mase"])}}
        plan = backtests.plan_series(train, panel.triage(train, h), h, ("lstm",), settings, 2)
        cands = [(name, config, transform) for name, config, transform, fam in plan.neural if fam == "lstm"]
        fitted = batch.fit_many([lstm.forecast_job(train, h, name, config, settings, transform, m) for name, config, transform in cands])
        row["final"] = {}
        for (name, config, transform), f in zip(cands, fitted):
            if not isinstance(f, Exception):
                table, _ = lstm.forecast(train, h, name, config, settings, None, transform, m, fitted=f)
                row["final"][name] = table[name].tolist()
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
