"""A chunk of series' work done together, bit for bit what each series gets alone: the LSTM
backtests and the final fits of the chosen networks trained as stacked populations, the
statistical backtests and final forecasts as one statsforecast call per group of series alike.
Should a step fail together, each series does that work alone (where its failure stays its own).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from lstmtune.auto import final, globalnet, lstm
from lstmtune.auto.backtests import Scored
from lstmtune.errors import LstmtuneError


def attempt(step, *args) -> dict:
    """``step(*args)``, a chunk's work done together; should it fail, nothing (each series then
    does that work alone, where a failure stays its own: one series never stops the others)."""
    try:
        return step(*args)
    except Exception:  # noqa: BLE001
        return {}


def over_panel(groups: dict, call) -> dict:
    """``call(key, data, n_jobs) -> (table, failed)`` once per group of series (``key -> [(uid,
    frame)]``) of at least two, its processes on every core: ``uid -> (key, its rows)``. A group
    that fails, or where a model fails, is left out (its series then do that work alone, and
    a failure is named there)."""
    from lstmtune.engine.xla import usable_cores

    out = {}
    for key, members in groups.items():
        if len(members) < 2:
            continue
        data = pd.concat([f[["unique_id", "ds", "y"]] for _, f in members], ignore_index=True)
        try:
            table, failed = call(key, data, min(len(members), usable_cores()))
        except Exception:  # noqa: BLE001 - each series alone, later
            continue
        if failed:
            continue
        for uid, part in table.groupby("unique_id", sort=False):
            out[uid] = (key, part.reset_index(drop=True))
    return out


def stats_backtests(items, horizon: int, levels=(80, 95)) -> dict:
    """The statistical backtests of the series ``items`` (``(uid, frame, verdict, plan)``), one
    statsforecast call per (models, frequency, season, windows): ``uid -> (cross-validation table, models)``."""
    from lstmtune.selection import statistical

    groups: dict = {}
    for uid, frame, verdict, plan in items:
        if plan.stats:
            groups.setdefault((plan.stats, verdict.freq, verdict.season, len(plan.cutoffs)), []).append((uid, frame))

    def call(key, data, n_jobs):
        names, freq, m, w = key
        return statistical.backtest(data, horizon, w, freq, m, levels=levels, names=names, n_jobs=n_jobs)

    return {uid: (part, key[0]) for uid, (key, part) in over_panel(groups, call).items()}


def prefit(items, horizon: int, settings: lstm.Settings) -> dict:
    """Every LSTM and hybrid candidate's backtest fits of the series ``items`` (``(uid, frame,
    verdict, plan)``), trained together: ``(uid, name) -> [model or error per cutoff]``."""
    from lstmtune.forecast import batch

    keys, jobs = [], []
    for uid, frame, verdict, plan in items:
        for name, config, transform, _ in plan.neural:
            try:
                part = lstm.backtest_jobs(frame, plan.cutoffs, horizon, name, config, settings, transform, verdict.season)
            except (LstmtuneError, ValueError):
                continue  # backtested (and named) alone later
            keys.append(((uid, name), len(part)))
            jobs += part
    models = batch.fit_many(jobs) if jobs else []
    out, at = {}, 0
    for key, k in keys:
        out[key] = models[at : at + k]
        at += k
    return out


def final_fits(scored: Sequence[Scored], horizon: int, settings: lstm.Settings) -> dict:
    """The final fits of every series' chosen networks, trained together: ``(uid, name) -> model or error``."""
    from lstmtune.forecast import batch

    keys, jobs = [], []
    for sc in scored:
        for name in final.networks_needed(sc):
            if globalnet.is_global(name):
                continue  # trained with its panel beforehand (globalnet.fit)
            config, transform = sc.lstm_names[name]
            try:
                jobs.append(lstm.forecast_job(sc.frame, horizon, name, config, settings, transform, sc.m))
            except (LstmtuneError, ValueError):
                continue  # fitted (and its error raised) alone later
            keys.append((sc.uid, name))
    return dict(zip(keys, batch.fit_many(jobs))) if jobs else {}


def stats_finals(scored: Sequence[Scored], horizon: int, levels=(80, 95)) -> dict:
    """The final statistical forecasts of the series ``scored``, one statsforecast call per
    (models, frequency, season): ``uid -> {models: table}``."""
    from lstmtune.selection import statistical

    groups: dict = {}
    for sc in scored:
        names = final.stats_needed(sc)
        if names:
            groups.setdefault((names, sc.freq, sc.m), []).append((sc.uid, sc.frame))

    def call(key, data, n_jobs):
        names, freq, m = key
        return statistical.forecast(data, horizon, freq, m, levels=levels, names=names, n_jobs=n_jobs)

    return {uid: {key[0]: part} for uid, (key, part) in over_panel(groups, call).items()}


__all__ = ["attempt", "final_fits", "over_panel", "prefit", "stats_backtests", "stats_finals"]
