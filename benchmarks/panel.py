"""Development panel for `lstmtune auto`: real series from statsmodels' own datasets (never R's
datasets collections: the acceptance panel comes from there and stays unseen).

Each series' last h observations (monthly 12, quarterly 8, yearly 6) are held out; auto and
each statsforecast model see only the rest; MASE on the held-out points is scaled by the
in-sample seasonal naive error of the training part. Prints a table and writes
benchmarks/panel_results.json.

Usage: python benchmarks/panel.py [--set dev|short|seasonal-short|check] [--quick] [--windows N] [--as-panel]
(--set short: a second development set of short series; --set seasonal-short: a third, short
seasonal stretches of the development panel's sources; --set check: the check set,
vega_datasets' series, scored once a change is settled; --set check2: a second check set of
other bundled files, assembled in the tenth session before any result on it was seen; --quick:
5 series, stats candidates only; --windows: backtest windows per series, default auto's;
--as-panel: auto is called once per group of series of one frequency and horizon, as a user
with a panel file would, with its global LSTMs on (global_lstm=True), so that they learn
across the group; otherwise once per series)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def dev_panel() -> list[tuple[str, pd.DataFrame, int, str]]:
    """(unique_id, frame ds/y, horizon, freq)."""
    from statsmodels import datasets as ds

    out = []
    mac = ds.macrodata.load_pandas().data
    dates = pd.date_range("1959-01-01", periods=len(mac), freq="QS")
    for col in ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp", "pop"):
        out.append((f"macro_{col}", pd.DataFrame({"ds": dates, "y": mac[col].to_numpy(float)}), 8, "QS"))
    nile = ds.nile.load_pandas().data
    out.append(("nile", pd.DataFrame({"ds": pd.date_range("1871-01-01", periods=len(nile), freq="YS"), "y": nile["volume"].to_numpy(float)}), 6, "YS"))
    sun = ds.sunspots.load_pandas().data
    out.append(("sunspots", pd.DataFrame({"ds": pd.date_range("1700-01-01", periods=len(sun), freq="YS"), "y": sun["SUNACTIVITY"].to_numpy(float)}), 6, "YS"))
    co2 = ds.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    out.append(("co2", pd.DataFrame({"ds": co2.index, "y": co2.to_numpy(float)}).tail(240).reset_index(drop=True), 12, "MS"))
    el = ds.elnino.load_pandas().data.drop(columns=["YEAR"]).to_numpy(float).ravel()
    out.append(("elnino", pd.DataFrame({"ds": pd.date_range("1950-01-01", periods=len(el), freq="MS"), "y": el}), 12, "MS"))
    infl = mac["infl"].to_numpy(float)
    out.append(("macro_infl", pd.DataFrame({"ds": dates, "y": infl}), 8, "QS"))
    return out


def short_panel() -> list[tuple[str, pd.DataFrame, int, str]]:
    """A second development set of short series, from statsmodels' own datasets (tuning
    allowed, like the development panel): Grunfeld's yearly investment of 11 firms (20 years,
    h = 4), Longley's yearly employment and GNP (16 years, h = 4), and Denmark's quarterly log
    money and income (55 quarters, h = 8)."""
    from statsmodels import datasets as ds

    out = []
    g = ds.grunfeld.load_pandas().data
    for firm, part in g.groupby("firm", sort=False):
        part = part.sort_values("year")
        dates = pd.to_datetime(part["year"].astype(int).astype(str))
        out.append((f"grunfeld_{firm.lower().replace(' ', '_')}", pd.DataFrame({"ds": dates.to_numpy(), "y": part["invest"].to_numpy(float)}), 4, "YS"))
    lg = ds.longley.load_pandas().data
    dates = pd.to_datetime(lg["YEAR"].astype(int).astype(str))
    for col in ("TOTEMP", "GNP"):
        out.append((f"longley_{col.lower()}", pd.DataFrame({"ds": dates.to_numpy(), "y": lg[col].to_numpy(float)}), 4, "YS"))
    dk = ds.danish_data.load_pandas().data
    dates = pd.date_range("1974-01-01", periods=len(dk), freq="QS")
    for col in ("lrm", "lry"):
        out.append((f"danish_{col}", pd.DataFrame({"ds": dates, "y": dk[col].to_numpy(float)}), 8, "QS"))
    return out


def seasonal_short_panel() -> list[tuple[str, pd.DataFrame, int, str]]:
    """A third development set: short seasonal series cut from the development panel's own
    sources (tuning allowed): El Nino's sea temperature in 8 stretches of 60 months, Mauna
    Loa's CO2 in 4 stretches of 60 months (h = 12), and 4 quarterly macrodata columns in
    stretches of 40 quarters (h = 8)."""
    from statsmodels import datasets as ds

    out = []
    el = ds.elnino.load_pandas().data.drop(columns=["YEAR"]).to_numpy(float).ravel()
    dates = pd.date_range("1950-01-01", periods=len(el), freq="MS")
    for k in range(8):
        a = 84 * k
        out.append((f"elnino_{dates[a].year}", pd.DataFrame({"ds": dates[a:a + 60], "y": el[a:a + 60]}), 12, "MS"))
    co2 = ds.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    for k in range(4):
        part = co2.iloc[120 * k + 12:120 * k + 72]
        out.append((f"co2_{part.index[0].year}", pd.DataFrame({"ds": part.index, "y": part.to_numpy(float)}), 12, "MS"))
    mac = ds.macrodata.load_pandas().data
    qd = pd.date_range("1959-01-01", periods=len(mac), freq="QS")
    for k, col in enumerate(("realcons", "cpi", "unemp", "m1")):
        a = 40 * k
        out.append((f"macro_{col}_{qd[a].year}", pd.DataFrame({"ds": qd[a:a + 40], "y": mac[col].to_numpy(float)[a:a + 40]}), 8, "QS"))
    return out


def check_panel() -> list[tuple[str, pd.DataFrame, int, str]]:
    """The check set: (unique_id, frame ds/y, horizon, freq) from vega_datasets' bundled files
    (U.S. employment by industry 2006-2015, monthly stock prices 2000-2010, Seattle's weather
    2012-2015 summed or averaged by month, Iowa's electricity by source and U.S. driving by year).
    Never tuned on: scored once a change is settled on the development panel."""
    from vega_datasets import local_data as vd

    out = []
    emp = vd.us_employment()
    ds_emp = pd.to_datetime(emp["month"])
    for col in ("nonfarm", "construction", "manufacturing", "retail_trade", "financial_activities", "professional_and_business_services",
                "education_and_health_services", "leisure_and_hospitality", "mining_and_logging", "government"):
        out.append((f"employment_{col}", pd.DataFrame({"ds": ds_emp, "y": emp[col].to_numpy(float)}), 12, "MS"))
    stocks = vd.stocks()
    for sym, g in stocks.groupby("symbol"):
        g = g.sort_values("date")
        out.append((f"stock_{sym}", pd.DataFrame({"ds": pd.to_datetime(g["date"]).to_numpy(), "y": g["price"].to_numpy(float)}), 12, "MS"))
    w = vd.seattle_weather().assign(date=lambda d: pd.to_datetime(d["date"])).set_index("date")
    monthly = w.resample("MS").agg({"temp_max": "mean", "precipitation": "sum", "wind": "mean"})
    for col in monthly.columns:
        out.append((f"seattle_{col}", pd.DataFrame({"ds": monthly.index, "y": monthly[col].to_numpy(float)}), 12, "MS"))
    iowa = vd.iowa_electricity()
    for src, g in iowa.groupby("source"):
        out.append((f"iowa_{src.lower().replace(' ', '_')}", pd.DataFrame({"ds": pd.to_datetime(g["year"]).to_numpy(), "y": g["net_generation"].to_numpy(float)}), 4, "YS"))
    drv = vd.driving().sort_values("year")
    for col in ("miles", "gas"):
        out.append((f"driving_{col}", pd.DataFrame({"ds": pd.to_datetime(drv["year"].astype(str)).to_numpy(), "y": drv[col].to_numpy(float)}), 6, "YS"))
    return out


def check2_panel() -> list[tuple[str, pd.DataFrame, int, str]]:
    """A second check set, assembled in the tenth session (2026-12-06) before any result on it was
    seen, from bundled files no other set here uses: statsmodels' World Bank fertility rates
    (yearly 1960-2011, every 20th country of those with no missing year, by country code),
    its quarterly U.S. inflation and interest rate 1972-1998, its yearly copper consumption and
    price (25 years) and vega_datasets' hourly temperatures of Seattle and San Francisco in 2010
    (daily means). Scored as the check set is."""
    from statsmodels import datasets as ds
    from vega_datasets import local_data as vd

    out = []
    fert = ds.fertility.load_pandas().data
    years = [c for c in fert.columns if c.isdigit() and c <= "2011"]
    full = fert.dropna(subset=years).sort_values("Country Code").reset_index(drop=True)
    for _, row in full.iloc[::20].iterrows():
        out.append((f"fertility_{row['Country Code']}", pd.DataFrame({"ds": pd.to_datetime(years), "y": row[years].to_numpy(float)}), 6, "YS"))
    ii = ds.interest_inflation.load_pandas().data
    q = pd.date_range(f"{int(ii['year'].iloc[0])}-{3 * int(ii['quarter'].iloc[0]) - 2:02d}-01", periods=len(ii), freq="QS")
    for col in ("Dp", "R"):
        out.append((f"interest_inflation_{col}", pd.DataFrame({"ds": q, "y": ii[col].to_numpy(float)}), 8, "QS"))
    cu = ds.copper.load_pandas().data
    for col in ("WORLDCONSUMPTION", "COPPERPRICE"):
        out.append((f"copper_{col.lower()}", pd.DataFrame({"ds": pd.date_range("1951-01-01", periods=len(cu), freq="YS"), "y": cu[col].to_numpy(float)}), 4, "YS"))
    for name, frame in (("seattle", vd.seattle_temps()), ("sf", vd.sf_temps())):
        daily = frame.assign(date=pd.to_datetime(frame["date"])).set_index("date")["temp"].resample("D").mean()
        out.append((f"{name}_temp_daily", pd.DataFrame({"ds": daily.index, "y": daily.to_numpy(float)}), 14, "D"))
    return out


def _mase(actual, forecast, train, m):
    m = m if len(train) > m else 1
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(actual - forecast)) / scale)


def main(quick: bool = False, windows: int | None = None, which: str = "dev", as_panel: bool = False) -> dict:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    from lstmtune.auto.run import auto

    panel = {"dev": dev_panel, "short": short_panel, "seasonal-short": seasonal_short_panel, "check": check_panel, "check2": check2_panel}[which]()
    panel = panel[:5] if quick else panel
    rows, times = [], {}
    runs = {"auto": ("lstm", "hybrid", "stats", "combo"), "auto --candidates lstm": ("lstm",)} if not quick else {"auto --candidates stats": ("stats", "combo")}
    kwargs = {} if windows is None else {"windows": windows}
    together: dict = {}  # (label, uid) -> forecasts of auto called on the series' group
    if as_panel:
        groups: dict = {}
        for uid, frame, h, freq in panel:
            groups.setdefault((h, freq), []).append(frame.iloc[:-h].assign(unique_id=uid))
        for label, fams in runs.items():
            for (h, _), parts in groups.items():
                t0 = time.perf_counter()
                r = auto(pd.concat(parts, ignore_index=True), h, candidates=fams, global_lstm=True, **kwargs)
                times[label] = times.get(label, 0.0) + time.perf_counter() - t0
                for uid, fc in r.forecasts.groupby("unique_id", sort=False):
                    together[(label, uid)] = fc.reset_index(drop=True)
    for uid, frame, h, freq in panel:
        m = {"MS": 12, "QS": 4, "YS": 1, "D": 7}[freq]  # daily: a week, as auto infers
        train, test = frame.iloc[:-h], frame.iloc[-h:]
        y_train, y_test = train["y"].to_numpy(), test["y"].to_numpy()
        row = {"unique_id": uid, "h": h, "n": len(train)}
        data = train.assign(unique_id=uid)
        for label, fams in runs.items():
            if as_panel:
                fc = together[(label, uid)]
            else:
                t0 = time.perf_counter()
                fc = auto(data, h, candidates=fams, **kwargs).forecasts
                times[label] = times.get(label, 0.0) + time.perf_counter() - t0
            row[label] = _mase(y_test, fc["mean"].to_numpy(), y_train, m)
            row[f"{label} model"] = fc["model"].iloc[0]
            if label == "auto":
                row["cover80"] = float(np.mean((fc["lower_80"].to_numpy() <= y_test) & (y_test <= fc["upper_80"].to_numpy())))
                row["cover95"] = float(np.mean((fc["lower_95"].to_numpy() <= y_test) & (y_test <= fc["upper_95"].to_numpy())))
        t0 = time.perf_counter()
        sf = StatsForecast(models=[AutoETS(season_length=m), AutoARIMA(season_length=m), AutoTheta(season_length=m), SeasonalNaive(season_length=m)], freq=freq)
        f = sf.forecast(df=data[["unique_id", "ds", "y"]], h=h, level=[80, 95])
        times["statsforecast (4 models)"] = times.get("statsforecast (4 models)", 0.0) + time.perf_counter() - t0
        for name in ("AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive"):
            row[name] = _mase(y_test, f[name].to_numpy(), y_train, m)
            for level in (80, 95):  # the peers' own intervals, for comparison with auto's coverage
                row[f"{name} cover{level}"] = float(np.mean((f[f"{name}-lo-{level}"].to_numpy() <= y_test) & (y_test <= f[f"{name}-hi-{level}"].to_numpy())))
        rows.append(row)
        print(uid, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items() if k != "unique_id"}, flush=True)
    table = pd.DataFrame(rows)
    methods = [*runs, "AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive"]
    peers = table[["AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive"]].min(axis=1)
    summary = {
        k: {
            "mean_mase": float(table[k].mean()), "median_mase": float(table[k].median()),
            "wins": int((table[methods].idxmin(axis=1) == k).sum()), "worst_ratio_to_best_peer": float((table[k] / peers).max()),
        }
        for k in methods
    }
    if "cover80" in table:
        summary["auto"]["coverage_80"] = float(table["cover80"].mean())
        summary["auto"]["coverage_95"] = float(table["cover95"].mean())
    for name in ("AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive"):
        summary[name]["coverage_80"] = float(table[f"{name} cover80"].mean())
        summary[name]["coverage_95"] = float(table[f"{name} cover95"].mean())
    out = {"series": rows, "summary": summary, "wall_s": times}
    print(pd.DataFrame(summary).T.round(3).to_string())
    print("wall seconds:", {k: round(v, 1) for k, v in times.items()})
    return out


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    windows = int(sys.argv[sys.argv.index("--windows") + 1]) if "--windows" in sys.argv else None
    which = sys.argv[sys.argv.index("--set") + 1] if "--set" in sys.argv else "dev"
    as_panel = "--as-panel" in sys.argv
    result = main(quick, windows, which, as_panel)
    if not quick:
        name = ("panel_results" if which == "dev" else f"panel_results_{which}") + ("" if windows is None else f"_w{windows}") + ("_as_panel" if as_panel else "") + ".json"
        Path(__file__).with_name(name).write_text(json.dumps(result, indent=1, default=str))
