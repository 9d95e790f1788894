"""The selected configuration's forecasts of the test period, as the report shows them.

The study keeps scores, not forecasts. To draw forecast against actual, the
selected configuration is retrained with the study's seeds on the observations
its test scores were computed from (those before the test; with ``[evaluation]
refit = false``, those before the validation rows, which the model then walks
through with observed inputs, as the study scored it) and then:

- **one-step**: walk-forward through the test, each input observed, the state
  warmed through the training rows first: the forecasts the test RMSE scored;
- **multi-step**: recursive from the test's start, each step's forecast fed
  back as the next input (:meth:`lstmtune.forecast.forecaster.Forecaster.paths`),
  which is what a forecast of the future does. Covariates, if the study reads
  any, are their observed values in the test period (known in advance, as
  ``lstmtune forecast --future`` takes them).

Computed here, drawn by :func:`lstmtune.report.figures.test_forecasts`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lstmtune.errors import LstmtuneError


@dataclasses.dataclass(frozen=True)
class TestPaths:
    """Per-repeat forecasts of the test observations.

    Attributes:
      study / label: the sub-study and configuration drawn.
      config_key / params: that configuration's key and parameters (as in ``results.csv``).
      seeds: one per repeat (the study's).
      dates / actual: the test observations, ``(T,)``.
      one_step / multi_step: ``(R, T)`` forecasts in original units.
      history_dates / history_values: observations before the test (up to ``3 T``), for context.
    """

    study: str
    label: str
    seeds: tuple[int, ...]
    dates: np.ndarray
    actual: np.ndarray
    one_step: np.ndarray
    multi_step: np.ndarray
    history_dates: np.ndarray
    history_values: np.ndarray
    config_key: str = ""
    params: dict = dataclasses.field(default_factory=dict)

    def rmse(self, which: str = "one_step") -> np.ndarray:
        """Each repeat's RMSE over the test, ``(R,)``."""
        return np.sqrt(np.mean((getattr(self, which) - self.actual) ** 2, axis=1))

    def table(self) -> pd.DataFrame:
        """Long table, one row per (repeat, date): ``config, label, study``, the configuration's
        parameters (as ``results.csv`` has them), then ``date, actual, repeat, seed, one_step,
        multi_step`` (``test_forecasts.csv``)."""
        R, T = self.one_step.shape
        return pd.DataFrame(
            {
                "config": self.config_key,
                "label": self.label,
                "study": self.study,
                **{k: [v] * (R * T) for k, v in self.params.items()},
                "date": np.tile(self.dates, R),
                "actual": np.tile(self.actual, R),
                "repeat": np.repeat(np.arange(R), T),
                "seed": np.repeat(np.asarray(self.seeds), T),
                "one_step": self.one_step.ravel(),
                "multi_step": self.multi_step.ravel(),
            }
        )


def from_table(table: pd.DataFrame, series, test_size: int) -> TestPaths:
    """Read back :meth:`TestPaths.table` (``lstmtune report`` redraws without retraining)."""
    table = table.sort_values(["repeat", "date"], kind="stable")
    R = int(table["repeat"].nunique())
    T = len(table) // max(R, 1)
    if R < 1 or T != test_size or len(table) != R * T:
        raise LstmtuneError(f"test_forecasts.csv: expected {test_size} dates per repeat")
    before = len(series) - test_size
    k = min(3 * test_size, before)
    from lstmtune.study.spec import PARAMETERS

    first = table.iloc[0]
    return TestPaths(
        study=str(first["study"]),
        label=str(first["label"]),
        config_key=str(first["config"]),
        params={k: (None if pd.isna(first[k]) else first[k].item() if hasattr(first[k], "item") else first[k]) for k in table.columns if k in PARAMETERS},
        seeds=tuple(int(x) for x in table["seed"].to_numpy()[::T]),
        dates=np.asarray(series.dates[-test_size:]),
        actual=np.asarray(series.values[-test_size:], dtype=np.float64),
        one_step=table["one_step"].to_numpy(dtype=np.float64).reshape(R, T),
        multi_step=table["multi_step"].to_numpy(dtype=np.float64).reshape(R, T),
        history_dates=np.asarray(series.dates[before - k : before]),
        history_values=np.asarray(series.values[before - k : before], dtype=np.float64),
    )


def _from_study(results, config, seeds, before):
    """The forecaster of the weights the study itself trained on ``before`` with ``seeds``
    (``results.trained``), or None when it did not keep them all or trained on other rows."""
    import jax

    from lstmtune.data.problem import prepare
    from lstmtune.forecast import forecaster
    from lstmtune.study import planner

    kept = results.trained.get(config.key, {})
    if len(kept) < len(seeds):
        return None
    spec = results.spec
    framing = planner.framing_of(spec, config)  # the test phase's: the test held out
    problem = prepare(results.series, framing, config.batch_size if config.stateful else 1)  # as the study's executor did
    weights = [kept[r][0] for r in range(len(seeds))]
    params = jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *weights)
    diverged = np.array([kept[r][1] for r in range(len(seeds))])
    return forecaster.from_trained(before, config, seeds, params, diverged, problem, tuple(spec.transforms.feature_range),
                                   covariates=tuple(spec.data.covariates), calendar=tuple(spec.data.calendar))


def compute(results, study: str, label: str) -> TestPaths:
    """Retrain ``label`` of sub-study ``study`` on the data its test scores came from (see the
    module) and forecast the test (the weights the study trained there, when it kept them: the
    same bits without training again).

    Args:
      results: the :class:`lstmtune.study.results.StudyResults`.
      study / label: which configuration (e.g. :meth:`lstmtune.study.analysis.Analysis.best_overall`).

    Raises:
      LstmtuneError: no such configuration, no repeat scored on the test, or the retraining diverged.
    """
    from lstmtune.forecast import forecaster
    from lstmtune.study import evaluation
    from lstmtune.study.planner import seeds_for

    point = next((p for p in results.points if p.study == study and p.label == label), None)
    if point is None:
        raise LstmtuneError(f"no configuration {study}:{label} in the study")
    runs = results.runs
    tested = runs[(runs["config"] == point.config.key) & runs["test_rmse"].notna()]
    if tested.empty:
        raise LstmtuneError(f"{label}: no repeat was scored on the test set")
    spec, series = results.spec, results.series
    T = spec.data.test_size
    before = series.head(len(series) - T)
    seeds = seeds_for(spec, point.config, int(tested["repeat"].max()) + 1)
    covariates = tuple(spec.data.covariates)
    ev = spec.evaluation
    # without refit the test scored the selection's model, trained before the validation rows
    walked = 0 if ev.refit or ev.selection == "test" else evaluation.validation_size(spec)
    model = _from_study(results, point.config, seeds, before) if not walked else None
    if model is None:  # weights not kept (runs read back from a store): trained again, the same seeds
        model = forecaster.fit(
            series.head(len(series) - T - walked), point.config, seeds=seeds, feature_range=tuple(spec.transforms.feature_range), calibrate=False,
            covariates=covariates, calendar=tuple(spec.data.calendar),
        )
    one = model.one_step(series, rows_as_steps=True).to_numpy().T[:, -T:]  # the study's own rows, as it scored them
    # Covariates in the test period are taken as known (their observed values), as a
    # forecast of the future takes them from --future.
    future = {name: series.covariate(name)[-T:] for name in covariates} or None
    multi, _, _ = model.paths(T, history=before, future=future)
    k = min(3 * T, len(before))
    return TestPaths(
        study=study,
        label=label,
        config_key=point.config.key,
        params=point.config.params(),
        seeds=tuple(seeds),
        dates=np.asarray(series.dates[-T:]),
        actual=np.asarray(series.values[-T:], dtype=np.float64),
        one_step=np.asarray(one, dtype=np.float64),
        multi_step=np.asarray(multi, dtype=np.float64),
        history_dates=np.asarray(before.dates[-k:]),
        history_values=np.asarray(before.values[-k:], dtype=np.float64),
    )
