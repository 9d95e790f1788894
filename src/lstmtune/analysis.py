"""Statistics of a finished study, per sub-study: computed here, drawn elsewhere."""

from __future__ import annotations

import dataclasses

import pandas as pd

from lstmtune import stats
from lstmtune.planner import StudyResults, group_scores, is_paired, studies


@dataclasses.dataclass(frozen=True)
class SubStudy:
    name: str
    varied: list[str]  # grid keys varied in this sub-study
    labels: list[str]
    table: pd.DataFrame  # stats.summary_table, index = label
    comparison: stats.StudyComparison
    paired: bool
    best_label: str


@dataclasses.dataclass(frozen=True)
class Analysis:
    persistence_rmse: float
    substudies: list[SubStudy]

    def best_overall(self) -> tuple[str, str, float]:
        """(sub-study, label, mean test RMSE) of the lowest mean across the study."""
        best = min(
            ((s.name, s.best_label, float(s.table.loc[s.best_label, "mean"])) for s in self.substudies),
            key=lambda t: t[2],
        )
        return best


def analyse(results: StudyResults, *, alpha: float = 0.05, seed: int = 0) -> Analysis:
    """Summary tables, confidence intervals and comparisons with the best, per sub-study."""
    persistence = results.baselines["persistence"]["rmse"]
    subs = []
    for name in studies(results):
        groups = group_scores(results, name)
        varied = list(dict.fromkeys(k for p in results.points if p.study == name for k in p.varied))
        paired = is_paired(results, name)
        table = stats.summary_table(groups, baseline_rmse=persistence, seed=seed)
        comparison = stats.compare_to_best(groups, paired=paired, alpha=alpha)
        subs.append(SubStudy(name, varied, list(groups), table, comparison, paired, comparison.best))
    return Analysis(persistence_rmse=persistence, substudies=subs)


def combined_table(analysis: Analysis) -> pd.DataFrame:
    """All sub-studies' summary tables stacked, with a ``study`` column."""
    frames = []
    for s in analysis.substudies:
        t = s.table.copy()
        t.insert(0, "study", s.name)
        t["best"] = [label == s.best_label for label in t.index]
        t["indistinguishable_from_best"] = [label in s.comparison.indistinguishable for label in t.index]
        frames.append(t)
    return pd.concat(frames)
