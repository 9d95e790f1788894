"""Reproduce the tutorial: its three studies, side by side with its published statistics.

The study is package data (``reference/tutorial.toml``); the published numbers are
transcribed in ``reference/tutorial_results.toml`` with the section each comes from.
For each study we report our statistics next to the tutorial's, whether the
tutorial's mean lies inside our 95% interval of the mean, and whether the ranking
of configurations by mean agrees (Kendall's tau, and the best configuration).
"""

from __future__ import annotations

import dataclasses
import tomllib
from importlib import resources

import pandas as pd
from scipy import stats as sstats

from lstmtune.study import spec as spec_mod
from lstmtune.study.analysis import Analysis


def tutorial_spec() -> spec_mod.StudySpec:
    text = (resources.files("lstmtune.workflow.reference") / "tutorial.toml").read_text()
    return spec_mod.from_dict(tomllib.loads(text), "tutorial.toml")


def published() -> dict[str, dict[str, dict[str, float]]]:
    """study -> config value (as written, e.g. "500") -> describe() statistics."""
    raw = tomllib.loads((resources.files("lstmtune.workflow.reference") / "tutorial_results.toml").read_text())
    return {k: {c: v for c, v in rows.items() if c != "section"} for k, rows in raw.items() if isinstance(rows, dict)}


@dataclasses.dataclass(frozen=True)
class StudyAgreement:
    study: str
    table: pd.DataFrame  # per config: ours vs tutorial
    kendall_tau: float
    best_ours: str
    best_tutorial: str

    @property
    def best_agrees(self) -> bool:
        return self.best_ours == self.best_tutorial


def compare(analysis: Analysis) -> list[StudyAgreement]:
    """Side-by-side statistics and ranking agreement for each tutorial study."""
    ref = published()
    out = []
    for sub in analysis.substudies:
        theirs = ref[sub.name]
        rows = []
        for label, r in sub.table.iterrows():
            value = label.split("=", 1)[1]
            t = theirs[value]
            rows.append(
                {
                    sub.name: value,
                    "mean": r["mean"],
                    "tutorial mean": t["mean"],
                    "mean 95% CI": f"{r['mean_ci_low']:.1f}–{r['mean_ci_high']:.1f}",
                    "tutorial mean in CI": bool(r["mean_ci_low"] <= t["mean"] <= r["mean_ci_high"]),
                    "std": r["std"],
                    "tutorial std": t["std"],
                    "median": r["50%"],
                    "tutorial median": t["median"],
                    "min": r["min"],
                    "tutorial min": t["min"],
                    "max": r["max"],
                    "tutorial max": t["max"],
                }
            )
        table = pd.DataFrame(rows)
        tau = float(sstats.kendalltau(table["mean"], table["tutorial mean"]).statistic) if len(table) > 1 else float("nan")
        best_ours = str(table.loc[table["mean"].idxmin(), sub.name])
        best_theirs = str(table.loc[table["tutorial mean"].idxmin(), sub.name])
        out.append(StudyAgreement(sub.name, table, tau, best_ours, best_theirs))
    return out


def html_block(agreements: list[StudyAgreement]) -> str:
    """The side-by-side section of the reproduce report."""
    parts = [
        "<h2>Against the tutorial's published results</h2>",
        "<p>Our statistics (30 repeats per configuration) next to the tutorial's. "
        "Ranking agreement is Kendall's τ between the two orderings by mean (1 = same order).</p>",
    ]
    for a in agreements:
        verdict = "agrees" if a.best_agrees else "differs"
        parts.append(
            f"<h3>{a.study}</h3><p>Best by mean: ours <b>{a.best_ours}</b>, tutorial <b>{a.best_tutorial}</b> "
            f"(best {verdict}); Kendall τ = {a.kendall_tau:.2f}.</p>"
        )
        parts.append(a.table.to_html(index=False, float_format=lambda x: f"{x:.2f}", border=0))
    return "\n".join(parts)


def run(out, *, on_population=None, on_epochs=None, started: float | None = None, **options) -> tuple:
    """Run every experiment of the tutorial into the run directory ``out`` and compare
    with its published statistics (``lstmtune reproduce``, from Python).

    Args:
      out: the run directory.
      on_population / on_epochs / started / options: as :func:`lstmtune.workflow.study.run`.

    Returns:
      ``(outcome, agreements)``: the study's :class:`lstmtune.workflow.study.Outcome` and one
      :class:`StudyAgreement` per tutorial experiment (also in the report).
    """
    from pathlib import Path

    from lstmtune.workflow import study

    holder = {}

    def extra(results, analysis):
        holder["agreements"] = compare(analysis)
        return {"tutorial": html_block(holder["agreements"])}

    outcome = study.run(tutorial_spec(), Path(out), on_population=on_population, on_epochs=on_epochs, started=started, extra_report=extra, **options)
    return outcome, holder.get("agreements", [])
