"""The evaluation protocol: which observations choose a configuration, and which score it.

A study runs in *phases*. Each phase is an ordinary study on a prefix of the
series whose last ``holdout`` observations are forecast walk-forward (the
state of a stateful network continues from the training rows into them):

- ``selection = "test"`` (the tutorial): one phase on the whole series; the
  test set both chooses and scores, which is optimistic.
- ``selection = "validation"``: the *validation* phase runs on the series
  without its test part, so its holdout is the ``validation_size``
  observations before the test set; the scaler is fitted on that phase's
  training rows only.
- ``selection = "backtest"``: ``folds`` validation phases with rolling
  origins: fold ``k`` ends ``(k - 1) * validation_size`` observations before
  the test set. A configuration's validation score is the mean over folds.

With ``horizon = H > 1`` every holdout is scored by multi-step forecasts: from
each origin of the holdout with H observations after it, the network forecasts
H steps recursively (state walked forward with observed inputs up to the
origin, then each forecast fed back), and all those forecasts are scored
together. Configurations are then chosen on the error a forecast of H steps
will make. The per-epoch curves stay one-step.

Then the *test* phase scores the selected configurations (one per sub-study;
every configuration with ``test_all``): with ``refit`` they are retrained on
all observations before the test set; without, the model trained for selection
walks on through the validation rows and only the last ``test_size`` forecasts
are scored. No phase that selects ever holds a test observation, so perturbing
the test set cannot change a validation score or the selection.

Seeds depend on the configuration and repeat, never on the phase: the test
phase's replicas are the selection phase's seeds retrained on more rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.selection import metrics
from lstmtune.data.series import Series
from lstmtune.errors import SpecError
from lstmtune.study.spec import GridPoint, StudySpec, expand

METRICS = metrics.NAMES


@dataclasses.dataclass(frozen=True)
class Phase:
    """One ordinary study on a prefix of the series.

    Attributes:
      name: ``"test"``, ``"validation"`` or ``"fold1"``, ``"fold2"``, ...
      role: ``"select"`` (its scores choose) or ``"test"`` (it scores the choice).
      spec: the study with ``data.test_size`` set to the phase's holdout.
      series: the prefix of the series the phase sees.
      points: the configurations it trains.
      score_last: score only the last ``score_last`` holdout forecasts (the test
        part, when the selection model walks on through the validation rows).
    """

    name: str
    role: str
    spec: StudySpec
    series: Series
    points: tuple[GridPoint, ...]
    score_last: int | None = None


def validation_size(spec: StudySpec) -> int:
    return spec.evaluation.validation_size or spec.data.test_size


def head(series: Series, n: int) -> Series:
    """The first ``n`` observations of ``series``."""
    return series.head(n)


def _with_holdout(spec: StudySpec, holdout: int, *, summary: bool = False) -> StudySpec:
    data = spec.data.model_copy(update={"test_size": holdout})
    update = {"data": data}
    if summary:
        # The test phase keeps no per-epoch curves: it is scored once, at the end.
        n = max(spec.runs.repeats, spec.runs.diagnostic_repeats) if spec.runs.mode == "both" else (
            spec.runs.repeats if spec.runs.mode == "summary" else spec.runs.diagnostic_repeats
        )
        update["runs"] = spec.runs.model_copy(update={"mode": "summary", "repeats": n})
    return spec.model_copy(update=update)


def selection_phases(spec: StudySpec, series: Series, points: Sequence[GridPoint] | None = None) -> list[Phase]:
    """The phases whose scores choose a configuration.

    Raises:
      SpecError: the validation windows do not fit the series.
    """
    points = tuple(expand(spec) if points is None else points)
    ev = spec.evaluation
    test = spec.data.test_size
    if ev.horizon > test:
        raise SpecError(f"evaluation.horizon {ev.horizon} is longer than data.test_size {test}: no test origin has {ev.horizon} observations after it")
    if ev.selection == "test":
        return [Phase("test", "select", spec, series, points)]
    v = validation_size(spec)
    if ev.horizon > v:
        raise SpecError(f"evaluation.horizon {ev.horizon} is longer than evaluation.validation_size {v}: no validation origin has {ev.horizon} observations after it")
    folds = ev.folds if ev.selection == "backtest" else 1
    if test + folds * v >= len(series):
        raise SpecError(
            f"evaluation: data.test_size {test} + {folds} x validation_size {v} leaves no training rows "
            f"in a series of {len(series)} observations"
        )
    phases = []
    for k in range(folds):
        end = len(series) - test - k * v
        name = "validation" if ev.selection == "validation" else f"fold{k + 1}"
        phases.append(Phase(name, "select", _with_holdout(spec, v), head(series, end), points))
    return phases


def curves_persistence(spec: StudySpec, series: Series) -> float:
    """Persistence's one-step RMSE on the holdout the per-epoch curves score: the first selection
    phase's (the validation part just before the test, the latest backtest fold; the test under
    the tutorial's protocol). The selection scores' persistence is averaged over backtest folds
    and taken at the study's horizon: a line the one-step curves of one fold cannot be set against."""
    from lstmtune.selection.baselines import persistence_rmse

    phase = selection_phases(spec, series, [])[0]
    return persistence_rmse(phase.series.values, phase.spec.data.test_size)


def test_phase(spec: StudySpec, series: Series, points: Sequence[GridPoint]) -> Phase | None:
    """The phase that scores ``points`` on the test set (None under ``selection = "test"``)."""
    ev = spec.evaluation
    if ev.selection == "test":
        return None
    test = spec.data.test_size
    if ev.refit:
        return Phase("test", "test", _with_holdout(spec, test, summary=True), series, tuple(points))
    v = validation_size(spec)  # the selection model continues through the validation rows
    return Phase("test", "test", _with_holdout(spec, test + v, summary=True), series, tuple(points), score_last=test)


def protocol(spec: StudySpec, series: Series, points: Sequence[GridPoint] | None = None) -> list[Phase]:
    """A study's phases in the order they run: the selection phases (validation, or rolling-origin
    folds), then the test phase, which scores once what they select (refit on training +
    validation rows, or walking on through them). Its ``points`` are empty until selection
    has chosen them (:func:`with_points`; every configuration under ``evaluation.test_all``,
    still chosen after selection and never used for it). Under ``selection = "test"`` the one phase does both.

    Raises:
      SpecError: the validation windows do not fit the series.
    """
    phases = selection_phases(spec, series, points)
    test = test_phase(spec, series, ())
    return phases if test is None else [*phases, test]


def with_points(phase: Phase, points: Sequence[GridPoint]) -> Phase:
    """``phase`` training ``points`` (a test phase once selection has chosen them)."""
    return dataclasses.replace(phase, points=tuple(points))


def select(runs: pd.DataFrame, points: Sequence[GridPoint], metric: str) -> dict[str, GridPoint]:
    """Per sub-study, the configuration with the lowest mean ``metric`` over its finite repeats.

    Ties go to the first in file order. A sub-study whose every run diverged
    selects nothing.
    """
    means = runs.groupby("config")[metric].mean()  # NaN (diverged) runs are skipped by mean()
    chosen: dict[str, GridPoint] = {}
    for p in points:
        m = means.get(p.config.key, np.nan)
        if not np.isfinite(m):
            continue
        best = chosen.get(p.study)
        if best is None or m < means[best.config.key]:
            chosen[p.study] = p
    return chosen


def combine_folds(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Per (config, repeat): the mean of each fold's holdout metrics, renamed ``validation_*``.

    A run counts as diverged when it diverged in any fold; its scores are then NaN.
    The training RMSE and curves come from the first fold (the latest origin).
    """
    first = frames[0].copy()
    keys = ["config", "repeat"]
    stacked = pd.concat([f[keys + [f"test_{m}" for m in METRICS] + ["diverged"]] for f in frames])
    grouped = stacked.groupby(keys, sort=False)
    # a metric undefined in any fold (MAPE with a zero in that fold's holdout) is undefined for
    # the run: pandas' mean would skip the fold (the baselines' fold means do not)
    scores = [f"test_{m}" for m in METRICS]
    means = grouped[scores].mean().where(~stacked[scores].isna().groupby([stacked[k] for k in keys], sort=False).any())
    diverged = grouped["diverged"].any()
    first = first.drop(columns=[f"test_{m}" for m in METRICS]).set_index(keys)
    first["diverged"] = diverged.reindex(first.index).fillna(True).astype(bool)
    for m in METRICS:
        col = means[f"test_{m}"].reindex(first.index)
        first[f"validation_{m}"] = col.where(~first["diverged"])
    first["train_rmse"] = first["train_rmse"].where(~first["diverged"])
    return first.reset_index()


def merge_test(selection_runs: pd.DataFrame, test_runs: pd.DataFrame | None) -> pd.DataFrame:
    """Add the test phase's ``test_*`` metrics to the selection rows (NaN where not tested)."""
    out = selection_runs.copy()
    cols = [f"test_{m}" for m in METRICS]
    if test_runs is None or test_runs.empty:
        for c in cols:
            out[c] = np.nan
        out["tested"] = False
        return out
    t = test_runs[["config", "repeat", *cols, "diverged"]].rename(columns={"diverged": "test_diverged"})
    out = out.merge(t, on=["config", "repeat"], how="left")
    out["tested"] = out["test_diverged"].notna()
    out = out.drop(columns=["test_diverged"])
    return out


def column_order(columns: Sequence[str]) -> list[str]:
    """``config``, parameters, ``repeat``, ``seed``, validation and test metrics, then the rest."""
    metrics = [f"{split}_{m}" for split in ("validation", "test") for m in METRICS]
    tail = ["train_rmse", "diverged", "diverged_epoch", "tested"]
    head_ = [c for c in columns if c not in metrics and c not in tail]
    return head_ + [c for c in metrics + tail if c in columns]


__all__ = ["Phase", "column_order", "combine_folds", "head", "merge_test", "protocol", "select", "selection_phases", "test_phase", "validation_size", "with_points"]
