"""The LSTM space of `lstmtune auto`: the grid chosen among on the backtests (`--lstm-space full`)
against one default network per series (`--lstm-space default`), on the development sets.

Each run is `auto` on every series of one set, its last h points held out, as benchmarks/panel.py
scores it: mean MASE on the held-out points (scaled by the training part's in-sample seasonal naive
error), for `auto --candidates lstm` and for `auto` with every family. The synthetic set is
benchmarks/panel_scale.py's panel (`synth0x30`: seed 0, 30 series). The check sets are not
run here (benchmarks/panel.py --set check / check2 score them, once a change is settled).

Usage: python benchmarks/lstm_space.py SPACE FAMILIES SET   (SPACE: full or default; FAMILIES:
lstm or all; SET: dev, short, seasonal-short or synthSEEDxN). Prints one JSON line; the twentieth
session's lines are in lstm_space_results.jsonl (their "default" is the grid, now `full`, and
"defaultnet" the one network, now `default`: written before the setting existed, by replacing
`lstm.space` from outside; the new default gives the same bits, checked on the short set).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import panel as P  # noqa: E402
from panel_scale import synthetic_panel  # noqa: E402

SEASON = {"MS": 12, "QS": 4, "YS": 1}


def sets_of(which: str):
    if which.startswith("synth"):
        seed, n = map(int, which[5:].split("x"))
        pan = synthetic_panel(n, seed=seed)
        return [(u, f.drop(columns="unique_id").reset_index(drop=True), 12, "MS") for u, f in pan.groupby("unique_id")]
    return {"dev": P.dev_panel, "short": P.short_panel, "seasonal-short": P.seasonal_short_panel}[which]()


def main(space: str, families: str, which: str) -> dict:
    from lstmtune.auto import lstm
    from lstmtune.auto.run import auto

    settings = lstm.Settings(space=space)
    t0, out = time.perf_counter(), {}
    for uid, frame, h, freq in sets_of(which):
        train, test = frame.iloc[:-h].assign(unique_id=uid), frame.iloc[-h:]
        r = auto(train, h, settings=settings, **({"candidates": ("lstm",)} if families == "lstm" else {}))
        chosen = str(r.leaderboard.loc[r.leaderboard["chosen"] == True, "candidate"].iloc[0])  # noqa: E712
        out[uid] = (round(P._mase(test["y"].to_numpy(), r.forecasts["mean"].to_numpy(), train["y"].to_numpy(), SEASON[freq]), 4), chosen)
    return {"space": space, "families": families, "set": which, "mean_mase": round(float(np.mean([v[0] for v in out.values()])), 4),
            "wall_s": round(time.perf_counter() - t0, 1), "series": out}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])), flush=True)
