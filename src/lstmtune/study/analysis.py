"""Statistics of a finished study, per sub-study: computed here, drawn elsewhere."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lstmtune.selection import stats
from lstmtune.errors import LstmtuneError
from lstmtune.study.results import StudyResults, group_scores, is_paired, studies


@dataclasses.dataclass(frozen=True)
class SubStudy:
    name: str
    varied: list[str]  # grid keys varied in this sub-study
    labels: list[str]
    table: pd.DataFrame  # stats.summary_table, index = label
    comparison: stats.StudyComparison
    paired: bool
    best_label: str


class AllDiverged(LstmtuneError):
    """Every run of every sub-study diverged."""


@dataclasses.dataclass(frozen=True)
class TestScore:
    """The test set's verdict on one sub-study's selected configuration (scored once).

    Attributes:
      study: the sub-study.
      label: the configuration selected on the selection metric.
      summary: its test RMSE statistics (a :func:`stats.summary_table` row, skill
        against persistence on the test set).
      skill_vs_best_baseline: percent skill of its mean against the best baseline (NaN where that baseline's RMSE is 0).
      test_selected: what choosing on the test set would have picked (with
        ``test_all``; None otherwise), and its mean test RMSE.
      optimism: ``selected mean - test-selected mean`` (>= 0): how much better the
        test-selected score looks than the honest one.
    """

    study: str
    label: str
    summary: pd.Series
    skill_vs_best_baseline: float
    test_selected: tuple[str, float] | None
    optimism: float | None


@dataclasses.dataclass(frozen=True)
class Analysis:
    """Statistics of a study.

    Attributes:
      persistence_rmse: persistence on the selection holdout (what the tables'
        skill is measured against; the test split's under the tutorial's protocol).
      substudies: per sub-study, statistics of the selection metric.
      selection_metric: ``validation_rmse`` or ``test_rmse``.
      tests: per sub-study, the selected configuration's test score.
      test_persistence_rmse: persistence on the test split.
      best_baseline: (name, test RMSE) of the baseline best on the selection holdout (chosen
        there, as the configuration is: the baseline best on the test points would be an oracle).
      test_tables: with ``test_all``, per sub-study every configuration's test
        statistics (not used for selection).
    """

    persistence_rmse: float
    substudies: list[SubStudy]
    selection_metric: str = "test_rmse"
    tests: list[TestScore] = dataclasses.field(default_factory=list)
    test_persistence_rmse: float = float("nan")
    best_baseline: tuple[str, float] = ("persistence", float("nan"))
    best_baseline_on: str = "selection"  # where best_baseline was chosen: "selection" (the holdout) or "test"
    test_tables: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)

    @property
    def honest(self) -> bool:
        """True when the test set did not choose (validation or backtest selection)."""
        return self.selection_metric != "test_rmse"

    def best_overall(self) -> tuple[str, str, float]:
        """(sub-study, label, mean of the selection metric) of the lowest mean across the study."""
        best = min(
            ((s.name, s.best_label, float(s.table.loc[s.best_label, "mean"])) for s in self.substudies),
            key=lambda t: t[2],
        )
        return best


def _best_baseline(results: StudyResults) -> tuple[str, float, str]:
    """``(name, test RMSE, where it was chosen)`` of the baseline of lowest RMSE on the selection
    holdout (``"selection"``); on the test split (``"test"``) under the tutorial's protocol, where
    the test set chooses everything, and for a run directory stored before the selection's
    baselines were. A baseline is matched across the splits by its procedure: the AIC's
    autoregression is named by the order it chose on each (``AR(3) AIC`` on validation,
    ``AR(4) AIC`` on the test), and the test's row is the one named."""
    from lstmtune.selection.baselines import row_of

    given = results.selection_baselines
    lags = results.spec.transforms.lags
    rows = {n: row_of(n, results.baselines, lags) for n in (given or {})}
    chosen_on = {n: v for n, v in (given or {}).items() if rows[n] is not None and np.isfinite(v.get("rmse", np.nan))}
    if not chosen_on or given is results.baselines or results.selection_metric == "test_rmse":  # (results_io reads an older run's as its test baselines)
        chosen_on, where, rows = results.baselines, "test", {n: n for n in results.baselines}
    else:
        where = "selection"
    name = rows[min(chosen_on, key=lambda n: chosen_on[n]["rmse"])]
    return name, float(results.baselines[name]["rmse"]), where


def analyse(results: StudyResults, *, alpha: float = 0.05, seed: int = 0) -> Analysis:
    """Summary tables, confidence intervals and comparisons with the best, per sub-study.

    Statistics and comparisons are of the selection metric (validation RMSE, or
    test RMSE under the tutorial's protocol); the test set's statistics are of
    the selected configurations only, plus, with ``test_all``, every
    configuration's (not used for selection).
    """
    persistence = (results.selection_baselines or results.baselines)["persistence"]["rmse"]
    subs = []
    for name in studies(results):
        groups = group_scores(results, name)
        if not any(np.isfinite(v).any() for v in groups.values()):
            continue  # every run of this sub-study diverged: nothing to compare (the report says so)
        varied = list(dict.fromkeys(k for p in results.points if p.study == name for k in p.varied))
        paired = is_paired(results, name)
        table = stats.summary_table(groups, baseline_rmse=persistence)
        comparison = stats.compare_to_best(groups, paired=paired, alpha=alpha, seed=seed)
        subs.append(SubStudy(name, varied, list(groups), table, comparison, paired, results.selected.get(name, comparison.best)))
    if not subs:
        raise AllDiverged(f"every run of study {results.spec.name!r} diverged (NaN or infinite scores); nothing to compare")
    test_persistence = results.baselines["persistence"]["rmse"]
    best_name, best_rmse, best_baseline_on = _best_baseline(results)
    best_baseline = (best_name, best_rmse)
    tests, test_tables = [], {}
    if results.selection_metric != "test_rmse":
        for sub in subs:
            scores = group_scores(results, sub.name, "test_rmse")
            tested = {label: v for label, v in scores.items() if np.isfinite(v).any()}
            if not tested:
                continue
            table = stats.summary_table(tested, baseline_rmse=test_persistence)
            if len(tested) > 1:
                test_tables[sub.name] = table
            if sub.best_label not in table.index:
                continue
            row = table.loc[sub.best_label]
            pick = (str(table["mean"].idxmin()), float(table["mean"].min())) if len(tested) == len(scores) > 1 else None
            tests.append(
                TestScore(
                    study=sub.name,
                    label=sub.best_label,
                    summary=row,
                    skill_vs_best_baseline=stats.skill(row["mean"], best_baseline[1]) if np.isfinite(best_baseline[1]) and best_baseline[1] > 0 else float("nan"),  # a baseline forecasting the test set exactly (a straight line's AR(1)): no skill is measurable
                    test_selected=pick,
                    optimism=None if pick is None else float(row["mean"] - pick[1]),
                )
            )
    return Analysis(
        persistence_rmse=persistence,
        substudies=subs,
        selection_metric=results.selection_metric,
        tests=tests,
        test_persistence_rmse=test_persistence,
        best_baseline=best_baseline,
        best_baseline_on=best_baseline_on,
        test_tables=test_tables,
    )


def combined_table(analysis: Analysis, points=None) -> pd.DataFrame:
    """All sub-studies' summary tables stacked, with a ``study`` column.

    The statistics are of the selection metric, prefixed with its name (e.g.
    ``validation_rmse_mean``); ``selected`` marks one row per sub-study; the
    ``test_rmse_*`` columns hold test statistics where a configuration was
    tested (the selected one; every one with ``test_all``, not used for selection).
    """
    frames = []
    prefix = analysis.selection_metric
    params = {}
    for p in points or []:
        params[(p.study, p.label)] = {k: (str(v) if isinstance(v, (list, tuple)) else v) for k, v in p.config.params().items()}
    test_rows = {(t.study, t.label): t.summary for t in analysis.tests}
    for s in analysis.substudies:
        t = s.table.copy()
        t.columns = [f"{prefix}_{c}" for c in t.columns]
        t.insert(0, "study", s.name)
        t.insert(1, "metric", prefix)
        if params:
            names = [k for k in next(iter(params.values()))]
            for j, name in enumerate(names):
                t.insert(2 + j, name, [params.get((s.name, label), {}).get(name) for label in t.index])
        t["selected"] = [label == s.best_label for label in t.index]
        p_of = {c.config: c.p_adjusted for c in s.comparison.comparisons}
        t["mcs_p_value"] = [1.0 if label == s.comparison.best else p_of.get(label, float("nan")) for label in t.index]
        t["indistinguishable_from_best"] = [label in s.comparison.indistinguishable for label in t.index]
        if analysis.honest:
            full = analysis.test_tables.get(s.name)
            for col in ("count", "mean", "mean_ci_low", "mean_ci_high", "std", "50%", "skill_%"):
                values = []
                for label in t.index:
                    if full is not None and label in full.index:
                        values.append(full.loc[label, col])
                    elif (s.name, label) in test_rows:
                        values.append(test_rows[(s.name, label)][col])
                    else:
                        values.append(np.nan)
                t[f"test_rmse_{col}"] = values
            t["test_used_for_selection"] = False
        frames.append(t)
    return pd.concat(frames)
