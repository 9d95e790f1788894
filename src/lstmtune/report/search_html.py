"""The search report (``search.html``): its figures and page, from a search's computed outcome.

:func:`lstmtune.workflow.search.write_report` computes what to show (ranked complete trials,
pruned ones apart, importances, the best trials' scores and summary table, diagnostic
curves, the test score of the best trial) and calls :func:`write`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.report import figures
from lstmtune.report.pages import environment, inline


def write(
    out: Path,
    *,
    spec,
    trials: pd.DataFrame,
    complete: pd.DataFrame,
    importances: dict[str, float],
    importance_note: str | None,
    groups: dict[str, np.ndarray],
    table: pd.DataFrame | None,
    curves: dict[str, np.ndarray],
    persistence_rmse: float,
    metric_name: str,
    curves_persistence: float,
    test: dict | None,
    wall_s: float,
    trainings: int,
    failure: str | None,
) -> Path:
    """Draw the search's figures into ``out/plots`` and write ``out/search.html``."""
    plots = out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    figures.search_history(complete["trial"].to_numpy(), complete["value"].to_numpy(), plots / "history.png", baseline=persistence_rmse, metric=metric_name)
    if importances:
        figures.importance_bars(importances, plots / "importance.png")
    if groups:
        figures.box_plot(groups, plots / "box_top.png", title=f"best trials: {metric_name} over repeats", xlabel="trial", baseline=persistence_rmse, rotate=True)
    diagnostics = []
    for label, c in curves.items():
        name = f"band_{label.replace(' ', '-')}.png"
        figures.diagnostic_band(c, plots / name, title=f"{label}: median and IQR over {c.shape[0]} repeats", baseline=curves_persistence,
                                holdout=metric_name.removesuffix(" RMSE"))  # the curves of the holdout the trials were chosen on
        diagnostics.append((label, name))
    pruned = trials[trials["state"] == "PRUNED"] if len(trials) else trials
    html = environment().get_template("search.html").render(
        spec=spec,
        trials=trials,
        complete_trials=complete.drop(columns=["config"], errors="ignore"),
        pruned_trials=pruned.drop(columns=["config"], errors="ignore"),
        other_trials=trials[~trials["state"].isin(["COMPLETE", "PRUNED"])].drop(columns=["config"], errors="ignore") if len(trials) else trials,
        n_complete=len(complete),
        n_pruned=int((trials["state"] == "PRUNED").sum()) if len(trials) else 0,
        n_failed=int((trials["state"] == "FAIL").sum()) if len(trials) else 0,
        best=complete.sort_values("value").iloc[0].to_dict() if len(complete) else None,
        history=inline(plots, "history.png"),
        importance=inline(plots, "importance.png") if importances else None,
        importance_note=importance_note,
        importances=importances,
        table=table,
        box=inline(plots, "box_top.png") if groups else None,
        diagnostics=[(label, inline(plots, name)) for label, name in diagnostics],
        persistence=persistence_rmse,
        metric_name=metric_name,
        test=test,
        wall_s=wall_s,
        trainings=trainings,
        failure=failure,
    )
    path = out / "search.html"
    path.write_text(html)
    return path
