"""Usage: python benchmarks/pool_rule_auto.py [FAMILIES]  (comma list; default every family)

auto (all families, or lstm only) on the development sets with the rule: where the lowest
backtest MASE is a single LSTM network or the LSTM pair, Pool(top3 LSTM) is chosen instead."""
import dataclasses, json, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import numpy as np
from panel import _mase, dev_panel, seasonal_short_panel, short_panel
from lstmtune.auto import backtests, run as auto_run
SEASON = {"MS": 12, "QS": 4, "YS": 1}
families = tuple(sys.argv[1].split(",")) if len(sys.argv) > 1 else auto_run.FAMILIES
score = backtests.score_series
def pooled(*args, **kwargs):
    sc = score(*args, **kwargs)
    board = sc.board.set_index("candidate")
    single = sc.chosen in board.index and board.loc[sc.chosen, "family"] == "lstm" and sc.chosen != auto_run.POOL_LSTM
    if single and auto_run.POOL_LSTM in board.index:
        return dataclasses.replace(sc, chosen=auto_run.POOL_LSTM)
    return sc
backtests.score_series = pooled
out = {}
for name, panel_of in {"dev": dev_panel, "short": short_panel, "seasonal-short": seasonal_short_panel}.items():
    t0, series = time.perf_counter(), {}
    for uid, frame, h, freq in panel_of():
        train, test = frame.iloc[:-h].assign(unique_id=uid), frame.iloc[-h:]
        r = auto_run.auto(train, h, candidates=families)
        series[uid] = (float(_mase(test["y"].to_numpy(), r.forecasts["mean"].to_numpy(), train["y"].to_numpy(), SEASON[freq])), str(r.forecasts["model"].iloc[0]))
    out[name] = {"mean_mase": float(np.mean([v[0] for v in series.values()])), "wall_s": time.perf_counter() - t0, "series": series}
    print(name, round(out[name]["mean_mase"], 3), round(out[name]["wall_s"], 1), flush=True)
json.dump(out, open(Path(__file__).with_name(f"pool_rule_auto_{'_'.join(families)}.json"), "w"), indent=1)  # kept in lstm_pool_results.json
