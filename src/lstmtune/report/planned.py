"""How many figures a study's report will draw, known from its plan before anything trains,
so that the drawing helpers can be started early (:func:`lstmtune.report.drawing.prestart`).

The count follows :func:`lstmtune.report.html.start_figures`: the series and the test
period's forecasts; per sub-study a box plot, and a median-curves figure when curves are
kept; per family of configurations with curves, its lines and its band. It is an estimate
(a run that diverges everywhere keeps no curves, say): it only sizes the helpers.
"""

from __future__ import annotations


def figures(plan) -> int:
    """The number of figures the report of :class:`lstmtune.study.planner.Plan` ``plan`` draws."""
    studies = {p.study for p in plan.points}
    families = {(p.study, p.config.family) for p in plan.points} if plan.curve_repeats else set()
    with_curves = {study for study, _ in families}
    return 2 + len(studies) + len(with_curves) + 2 * len(families)


__all__ = ["figures"]
