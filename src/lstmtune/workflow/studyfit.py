"""Which configuration to fit, with which seeds: from a run directory, a study file or Python.

- A run directory (``lstmtune run``): the configuration its evaluation protocol
  selected (``environment.json``'s ``selected``), or the one labelled ``label``;
  the series it ran on (``series.csv``).
- A search's run directory (``lstmtune search``): its best trial (the one it ranked
  first, on validation unless ``selection = "test"``), or ``label`` (``trial N``).
- A study file: its single configuration (or the one labelled ``label``) and its data.
- Seeds are the study's: repeat ``r`` gets ``planner.seed_for(spec, config, r)``,
  so the first ``runs.repeats`` replicas are the study's own runs retrained on all data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lstmtune.forecast import forecaster
from lstmtune.errors import LstmtuneError
from lstmtune.study.planner import seeds_for  # noqa: F401  (re-exported: the seeds a fit uses)
from lstmtune.study.spec import Config, GridPoint, StudySpec, expand


def choose(points: Sequence[GridPoint], label: str | None, selected: dict[str, str] | None = None, source: str = "study") -> tuple[GridPoint, str]:
    """The configuration to fit and how it was chosen.

    Args:
      points: the study's configurations.
      label: a configuration's label (as in the summary table), or None.
      selected: sub-study -> selected label (a finished run), or None (a study file).
      source: named in error messages.

    Raises:
      LstmtuneError: the label is unknown, or the choice is ambiguous.
    """
    if label is not None:
        match = [p for p in points if p.label == label or f"{p.study}:{p.label}" == label]
        if not match:
            shown = ", ".join(dict.fromkeys(p.label for p in points))
            raise LstmtuneError(f"{source}: no configuration labelled {label!r}; labels: {shown}")
        if len({p.config for p in match}) > 1:
            options = ", ".join(f"{p.study}:{p.label}" for p in match)
            raise LstmtuneError(f"{source}: label {label!r} names different configurations in several sub-studies; use one of {options}")
        return match[0], "named"
    if selected is not None:
        chosen = [p for p in points if selected.get(p.study) == p.label]
        if not chosen:
            raise LstmtuneError(f"{source}: the study selected no configuration (every run diverged?); name one with --config LABEL")
        if len({p.config for p in chosen}) > 1:
            options = ", ".join(f"{p.study}:{p.label}" for p in chosen)
            raise LstmtuneError(f"{source}: the sub-studies selected different configurations ({options}); choose one with --config")
        return chosen[0], "selected"
    if len({p.config for p in points}) > 1:
        shown = ", ".join(dict.fromkeys(p.label for p in points))
        raise LstmtuneError(f"{source}: the study has {len({p.config for p in points})} configurations; choose one with --config LABEL ({shown})")
    return points[0], "the only configuration"


def fit_source(source: str | Path, *, label: str | None = None, repeats: int | None = None, horizon: int | None = None) -> forecaster.Forecaster:
    """Fit from a run directory or a study file (``lstmtune fit``).

    Args:
      source: a run directory or a study TOML file.
      label: the configuration to fit (default: the selected one / the only one).
      repeats: ensemble size (default: the study's ``runs.repeats``).
      horizon: steps calibrated and backtested (default: the study's ``data.test_size``).

    Raises:
      LstmtuneError: the source is not a run directory or study file, or the choice is ambiguous.
    """
    source = Path(source)
    if source.is_dir() and (source / "trials.csv").is_file():
        from lstmtune.workflow import search

        spec, series, points, selected = search.read_run(source)
        point, how = choose(points, label, selected, str(source))
    elif source.is_dir():
        from lstmtune.study import results_io

        results, _ = results_io.read(source)
        spec, series = results.spec, results.series
        point, how = choose(results.points, label, results.selected, str(source))
    elif source.is_file():
        from lstmtune.study import spec as spec_mod
        from lstmtune.workflow.study import load_series

        spec = spec_mod.load(source)
        series = load_series(spec)
        point, how = choose(expand(spec), label, None, str(source))
    else:
        raise LstmtuneError(f"{source}: no such run directory or study file")
    if how == "selected" and spec.evaluation.horizon > 1:  # what it was chosen for, said by describe (a probe)
        how = f"selected on its {spec.evaluation.horizon}-step forecasts"
    info = {"source": str(source), "study": spec.name, "label": point.label, "sub_study": point.study, "chosen": how, "config_key": point.config.key,
            "selection_horizon": spec.evaluation.horizon}
    return fit_spec(series, spec, point.config, repeats=repeats, horizon=horizon, info=info)


def fit_spec(series, spec: StudySpec, config: Config, *, repeats: int | None = None, horizon: int | None = None, info: dict | None = None) -> forecaster.Forecaster:
    """Fit ``config`` with the study's seeds, feature range and horizon defaults."""
    n = spec.runs.repeats if repeats is None else repeats
    _check_ensemble(config, n, len(series))
    _refuse_constant(series)
    if spec.data.calendar:  # as `run` refuses it
        import pandas as pd

        from lstmtune.study.executor import refuse_constant_calendar

        dates = getattr(series, "dates", None)
        if dates is None and isinstance(getattr(series, "index", None), pd.DatetimeIndex):
            dates = series.index.to_numpy()
        if dates is not None and not getattr(series, "positional", False):
            refuse_constant_calendar(dates, tuple(spec.data.calendar), getattr(series, "name", None) or "the series")
    if spec.data.date_format:  # `lstmtune forecast` reads a --data or --future file's dates as the study read its own
        info = {**(info or {}), "date_format": spec.data.date_format}
    return forecaster.fit(
        series,
        config,
        seeds=seeds_for(spec, config, n),
        feature_range=tuple(spec.transforms.feature_range),
        horizon=spec.data.test_size if horizon is None else horizon,
        info=info,
        covariates=tuple(spec.data.covariates),
        calendar=tuple(spec.data.calendar),
        value_column=spec.data.value_column,
    )


def _refuse_constant(series) -> None:
    """Refuse a series whose every value is the same: a network fitted to it has nothing to
    learn, and an undertrained one forecast a drift away from the constant with bands that
    excluded it (5.48, 5.98, 6.48 ... from 5s after 20 epochs; a probe). ``lstmtune run``
    refuses such a series too (its persistence error is 0), and ``lstmtune auto`` forecasts the constant."""
    import numpy as np

    try:
        values = np.asarray(getattr(series, "values", series), dtype=np.float64)
    except (TypeError, ValueError):
        return  # not numbers: refused, naming why, where the series is read
    values = values[np.isfinite(values)]
    if values.size >= 2 and values.min() == values.max():
        name = getattr(series, "name", None) or "the series"
        raise LstmtuneError(f"{name}: every value is {values[0]:g}: a constant series leaves a network nothing to learn "
                            "(its forecast is that value; `lstmtune auto` forecasts it so)")


MAX_REPEATS = 1_000_000
"""The largest ensemble a fit trains: a study file's limit on ``runs.repeats``."""


def _check_ensemble(config: Config, repeats: int, rows: int) -> None:
    """Refuse an ensemble larger than :data:`MAX_REPEATS`, or one whose networks would need more
    than :data:`lstmtune.study.budget.MEMORY_SHARE` of the available memory (estimated as a
    study's are), before anything is trained.

    Raises:
      LstmtuneError: naming --repeats, the estimate and the memory.
    """
    from lstmtune.study import budget

    import numpy as np

    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise LstmtuneError(f"repeats must be a whole number, at least 1, got {repeats!r}")
    if repeats > MAX_REPEATS:
        raise LstmtuneError(f"--repeats {repeats}: at most {MAX_REPEATS:,} networks in an ensemble (a study file's limit on runs.repeats)")
    units = config.units if isinstance(config.units, tuple) else (config.units,)
    per = budget.replica_bytes(units, features=config.lags, timesteps=config.timesteps, batch_size=config.batch_size, cell=config.cell,
                               rows=max(int(rows), 1), checkpoints=1, segments=1, stateful=config.stateful)
    memory = budget.available_memory()
    if per * repeats > memory * budget.MEMORY_SHARE:
        raise LstmtuneError(f"--repeats {repeats}: an ensemble of {repeats:,} networks needs about {budget._size(per * repeats)} of memory, "
                            f"more than half of the {budget._size(memory)} available; give fewer")


def fit(series, study: StudySpec | Config, *, label: str | None = None, repeats: int | None = None, horizon: int | None = None) -> forecaster.Forecaster:
    """Fit a forecaster on a pandas Series (``lstmtune.fit``).

    Args:
      series: the observations, a pandas Series with a DatetimeIndex.
      study: a study spec (its single configuration, or ``label``; its seed,
        repeats and feature range), or a :class:`~lstmtune.study.spec.Config`
        (seed 0, feature range (-1, 1)).
      label: which configuration of ``study``.
      repeats: ensemble size (default: the study's ``runs.repeats``; 30 for a Config).
      horizon: steps calibrated and backtested (default: the study's ``data.test_size``).

    Returns:
      A :class:`~lstmtune.forecast.forecaster.Forecaster`; save it with ``lstmtune.forecast.modelio.save``.

    Example:
      >>> model = lstmtune.fit(sales, lstmtune.study_from_dict({"model": {"units": 4, "epochs": 500}}), repeats=30)
      >>> model.forecast(12)
    """
    from lstmtune.study import spec as spec_mod

    if isinstance(study, Config):
        spec = spec_mod.from_dict({"name": "python"})
        return fit_spec(series, spec, study, repeats=30 if repeats is None else repeats, horizon=horizon, info={"source": "python"})  # 0 was taken as 30 (a probe)
    point, how = choose(expand(study), label, None, "study")
    info = {"source": "python", "study": study.name, "label": point.label, "chosen": how, "config_key": point.config.key}
    return fit_spec(series, study, point.config, repeats=repeats, horizon=horizon, info=info)
