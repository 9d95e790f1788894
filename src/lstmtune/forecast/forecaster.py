"""From a chosen configuration to a forecaster: a seed ensemble trained on all observations.

:func:`fit` trains one configuration as an ensemble of seeds (one population,
one compiled program) on **every observation** of the series:

- the framing is the study's (differencing ``interval``, ``lags``,
  ``timesteps``); every framed pair is a training row (no holdout,
  ``problem.prepare(..., require_test=False)``), less the oldest
  ``pairs % batch_size`` rows that a stateful network's streams cannot use
  (the study's trimming rule; the study's fixed ``trim`` when it divides);
- the min-max scaler is refit on all framed pairs (inputs and target), the
  trimmed ones included, as ``prepare`` fits it on all training rows;
- epochs are the configuration's (for a study: the selected configuration's).

Then the network is warmed through the whole series (as the walk-forward
scoring warms it through the training rows) and each stream's final state is
kept, so :meth:`Forecaster.forecast` continues from the end of the data.

Calibration (see :mod:`lstmtune.forecast.intervals`): a second ensemble with the same
seeds is trained on the series without its last ``calibration_size``
observations and forecasts ``horizon`` steps recursively from each later
origin, conditioned on the observations before it without retraining; its
errors calibrate the final ensemble's intervals per horizon and give
``backtest.csv``. A model that reads covariates is backtested with their observed
values, so its intervals assume the future values given to :meth:`Forecaster.forecast`
are exact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.forecast import intervals
from lstmtune.data import known_inputs
from lstmtune.engine import rollout
from lstmtune.data import transforms
from lstmtune.data.messages import day, some_dates
from lstmtune.data.series import Series, absent_dates, dates_after, frequency_offset, infer_frequency, positions, regular_frequency
from lstmtune.errors import LstmtuneError
from lstmtune.data.problem import Framing, calendar_label, minimum_length, prepare
from lstmtune.study.spec import Config

RECENT = 120  # observations kept with the model (at least those a forecast step needs)


MAX_HORIZON = 100_000
"""The longest forecast a model makes (``lstmtune auto``'s limit too)."""


@dataclasses.dataclass(frozen=True)
class Forecaster:
    """A fitted seed ensemble and what it needs to continue its series.

    Attributes:
      config: the configuration trained.
      framing: its framing (``test_size = 0``).
      scaler: fitted on every framed pair of the training series.
      net: the ensemble's weights (leading axis P = seeds).
      state: each stream's state at the end of the series, leaves ``(P, B, units)``.
      next_rows: rows run through the streams (the next step runs on stream ``next_rows % B``).
      seeds: one per replica.
      tail_dates / tail_values: the last observations: at least the ``interval + lags + timesteps - 1``
        a forecast step needs, and up to :data:`RECENT` to plot.
      first_date: date of the first training target (row 0 of stream 0), aligns a new history's streams.
      frequency: the series' pandas frequency alias (None: irregular).
      positional: a values-only series (dates are positions).
      series_name / value_name: where the data came from, and the value column.
      calibration: per-horizon widening of the intervals.
      backtest: the backtest table (see :func:`lstmtune.forecast.intervals.backtest_table`), or None.
      info: provenance: source, label, training rows and dates.
      tail_covariates: the covariates' values at ``tail_dates`` (``framing.covariates`` order), or None.
    """

    config: Config
    framing: Framing
    scaler: transforms.MinMaxScaler
    net: rollout.Network
    state: tuple
    next_rows: int
    seeds: tuple[int, ...]
    tail_dates: np.ndarray
    tail_values: np.ndarray
    first_date: np.datetime64
    frequency: str | None
    positional: bool
    series_name: str
    value_name: str
    calibration: intervals.Calibration
    backtest: pd.DataFrame | None = None
    info: dict = dataclasses.field(default_factory=dict)
    tail_covariates: np.ndarray | None = None  # (len(tail_values), covariates): the covariates' last observations
    created: str | None = dataclasses.field(default=None, compare=False)  # when it was first written: kept when a model read back is written again

    def __repr__(self) -> str:
        """One line (a notebook cell showing a model printed every weight array: a probe)."""
        last = "position" if self.positional else "date"
        end = len(self.tail_values) - 1 if self.positional else str(pd.Timestamp(self.tail_dates[-1]))
        return (f"Forecaster({self.series_name!r}: {len(self.seeds)} seeds, units={self.config.units}, epochs={self.config.epochs}, "
                f"frequency={self.frequency}, last {last} {end})")

    # ------------------------------------------------------------------ forecasting
    def forecast(self, horizon: int, history: pd.Series | pd.DataFrame | Series | None = None, *, future=None, calibrated: bool = True, levels=None) -> pd.DataFrame:
        """Recursive multi-step forecasts for the ``horizon`` dates after the last observation.

        Args:
          horizon: steps ahead, >= 1.
          history: a newer history of the same series (a pandas Series with a
            DatetimeIndex, a DataFrame with the target and covariate columns, or a
            :class:`~lstmtune.data.series.Series`): the ensemble is warmed through it from a
            zero state, without retraining. None: continue from the end of the training data.
          future: a model that reads covariates needs their values at the first
            ``horizon - 1`` forecast dates (step h's inputs end one step before its
            target): a DataFrame with one column per covariate (indexed by those dates,
            or by position), or a dict of column -> values. Rows past ``horizon - 1``
            are ignored. Calendar inputs need nothing: the dates are known.
          calibrated: widen the ensemble's quantiles by the calibration (False: raw quantiles).
          levels: interval levels (fractions) of raw quantiles (default: the calibration's).

        Returns:
          Columns ``date, mean, median, lower_80, upper_80, lower_95, upper_95``, one row per step.

        Raises:
          LstmtuneError: a bad horizon, history or future.
        """
        return self.forecast_with_paths(horizon, history, future=future, calibrated=calibrated, levels=levels)[0]

    def forecast_with_paths(self, horizon: int, history=None, *, future=None, calibrated: bool = True, levels=None) -> tuple[pd.DataFrame, np.ndarray]:
        """:meth:`forecast`'s table and the replicas' paths ``(P, horizon)`` it summarises."""
        paths, _, dates = self.paths(horizon, history, future=future)
        return self.summarize(paths, self.future_dates(horizon, dates), calibrated=calibrated, levels=levels), paths

    def paths(self, horizon: int, history=None, *, future=None) -> tuple[np.ndarray, np.datetime64, np.ndarray]:
        """Each replica's recursive forecast ``(P, horizon)``, the last observed date, and the history's dates."""
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise LstmtuneError(f"horizon must be a positive whole number of steps, got {horizon!r}")
        if horizon > MAX_HORIZON:  # refused before the rollout (10**7 steps ran for over ten minutes: a probe)
            raise LstmtuneError(f"horizon {horizon}: at most {MAX_HORIZON:,} steps")
        horizon = int(horizon)
        if history is None:
            dates, values, covariates = self.tail_dates, self.tail_values, self.tail_covariates
            state, rows = self.state, self.next_rows
        else:
            s = self.as_history(history)
            warmed = self._warm(s)
            dates, values, covariates = s.dates, s.values, known_inputs.covariate_matrix(s, self.framing.covariates)
            state, rows = rollout.stream_states(warmed, warmed.rows, self.net.batch_size), warmed.rows
        extras = None
        ahead = self.future_dates(horizon, dates)  # dates past pandas' last refused here, before the rollout
        if known_inputs.has_extras(self.framing):
            known = known_inputs.future_covariates(future, self.framing.covariates, horizon, None if self.positional else ahead)
            extras = [known_inputs.step_inputs(self.framing, dates, covariates, ahead, known, self.positional)]
        out = rollout.recursive(self.net, self.framing, self.scaler, [values], [state], [rows], horizon, extras)
        return out[:, 0, :], dates[-1], dates

    def one_step(self, history: pd.Series | pd.DataFrame | Series, *, rows_as_steps: bool = False) -> pd.DataFrame:
        """Walk-forward one-step forecasts through ``history`` (observed inputs), as a study scores them.

        ``rows_as_steps``: take consecutive rows as consecutive steps whatever their dates, as a
        study does with the rows ``[data] missing = "drop"`` left (its own series, not a user's history).

        Returns:
          One row per forecast target (indexed by its date), one column per seed.
        """
        s = self.as_history(history, rows_as_steps=rows_as_steps)
        warmed = self._warm(s)
        span = self.framing.lags + self.framing.timesteps - 1
        first = span + warmed.offset  # index of the first prev value (Problem.train_prev)
        prev = s.values[first : first + warmed.rows]
        fc = prev + rollout.unscale_target(warmed.one_step, self.scaler)
        index = pd.DatetimeIndex(s.dates[first + self.framing.interval : first + self.framing.interval + warmed.rows], name="date")
        return pd.DataFrame(fc.T, index=index, columns=[str(x) for x in self.seeds])

    def as_history(self, history, *, rows_as_steps: bool = False) -> Series:
        """``history`` as a :class:`~lstmtune.data.series.Series` with this model's covariates (named in errors).

        Raises:
          LstmtuneError: its dates have another frequency than the training series' (a model
            fitted on monthly data warmed through weekly observations would forecast nonsense);
            it has dates where the training series had none, or none where it had them (the
            forecast's dates, and the phase of the model's stateful streams, come from them).
        """
        s = as_series(history, value_name=self.value_name, covariates=self.framing.covariates, positional=self.positional)
        if s.positional != self.positional:
            if s.positional:
                raise LstmtuneError(f"{s.name}: the history has no dates, but this model was fitted on dated data{f' (frequency {self.frequency})' if self.frequency else ''}: give its dates too")
            raise LstmtuneError(f"{s.name}: the history has dates, but this model was fitted on values without dates: give the values alone "
                                "(a pandas Series without a DatetimeIndex, or a CSV of one column)")
        if not self.positional and not s.positional and self.frequency and len(s.dates) > 2:
            given = infer_frequency(s.dates)
            if given is not None and not _same_frequency(given, self.frequency):
                raise LstmtuneError(f"{s.name}: its dates are of frequency {given}, but this model was fitted on data of frequency {self.frequency}")
            if given is None and not rows_as_steps:  # gaps or no rhythm at all: the lags the network reads would not be consecutive
                absent = absent_dates(s.dates, self.frequency)
                if absent:
                    raise LstmtuneError(f"{s.name}: {len(absent[1])} date{'s' if len(absent[1]) > 1 else ''} absent from its {self.frequency} dates ({some_dates(absent[1])}): "
                                        "give the history with a row for every date (an empty value can be filled with --missing interpolate)")
                raise LstmtuneError(f"{s.name}: its dates have no regular frequency; this model was fitted on data of frequency {self.frequency}")
        return s

    def summarize(self, paths: np.ndarray, dates, *, calibrated: bool = True, levels=None) -> pd.DataFrame:
        """Ensemble paths ``(P, H)`` -> the forecast table (:func:`lstmtune.forecast.intervals.summarize`)."""
        return intervals.summarize(paths, dates, self.calibration if calibrated else None, self.check_levels(levels, calibrated))

    def check_levels(self, levels, calibrated: bool = True) -> tuple[float, ...] | None:
        """``levels`` as fractions, refused in one line where they are not: percentages, a single
        number, outside (0, 1), or not among the calibrated levels with ``calibrated`` (numpy's
        and a KeyError's tracebacks before: a probe).

        Raises:
          LstmtuneError: naming ``levels``.
        """
        if levels is None:
            return None
        if isinstance(levels, (str, bytes)) or not hasattr(levels, "__iter__"):
            raise LstmtuneError(f"levels {levels!r}: give a sequence of fractions, e.g. levels=(0.8, 0.95)")
        out = []
        for level in levels:
            number = isinstance(level, (int, float, np.integer, np.floating)) and not isinstance(level, bool)
            if not number or not 0 < float(level) < 1:
                hint = f" (fractions: {float(level) / 100:g} for {level}%)" if number and 1 <= level < 100 else ""
                raise LstmtuneError(f"levels: {level!r} is not a fraction between 0 and 1{hint}")
            out.append(float(level))
        if not out:
            raise LstmtuneError("levels: give at least one level, e.g. levels=(0.8, 0.95)")
        known = self.calibration.levels
        if calibrated and any(level not in known for level in out):
            raise LstmtuneError(f"levels {out}: this model's bands are calibrated at {', '.join(f'{k:g}' for k in known)}; "
                                "other levels are the ensemble's raw quantiles (calibrated=False)")
        return tuple(sorted(set(out)))

    def future_dates(self, horizon: int, history_dates: np.ndarray):
        """The ``horizon`` dates after the history's last: positions for a values-only series, else
        :func:`lstmtune.data.series.dates_after` (the history's frequency, else the training series')."""
        if self.positional:
            start = int((np.datetime64(history_dates[-1], "D") - np.datetime64("1970-01-01", "D")).astype(int)) + 1
            return np.arange(start, start + horizon)
        return dates_after(history_dates, horizon, self.frequency)

    def describe(self) -> list[str]:
        """What this model is, in lines: where it came from, its configuration, data and calibration."""
        info, fr = self.info, self.framing
        shown = {k: v for k, v in self.config._canonical().items() if v is not None}  # extension settings at their defaults omitted; trim=None (its default, said on the data line) too
        if tuple(fr.feature_range) != (-1.0, 1.0):  # kept in the manifest, but not said (a probe)
            shown["feature_range"] = [float(x) for x in fr.feature_range]
        lines = []
        if info.get("source"):
            how = f" ({info['chosen']})" if info.get("chosen") else ""
            lines.append(f"fitted from {info['source']}: {info.get('label', '')}{how}")
        lines.append("configuration: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
        lines.append(f"ensemble: {len(self.seeds)} seeds, each trained {self.config.epochs} epochs on every observation")
        last = int(self.tail_values.size)
        where = "positions" if self.positional else f"dates to {day(self.tail_dates[-1])}"
        data = f"data: {self.series_name} ({self.value_name}), {info.get('observations', last)} observations, {where}"
        if self.frequency:
            data += f", frequency {self.frequency}"
        if info.get("times") == "UTC":
            data += ", times UTC (read from dates with UTC offsets)"
        if info.get("date_format"):
            data += f", dates written {info['date_format']} (forecast reads --data and --future so unless --date-format)"
        lines.append(data + f"; {info.get('training_rows', '?')} training rows ({info.get('trimmed_rows', 0)} oldest trimmed)")
        inputs = f"inputs per step: {fr.lags} lag(s) of the {fr.interval}-step difference x {fr.timesteps} timestep(s)"
        if fr.covariates:
            inputs += f"; covariates {', '.join(fr.covariates)} (a forecast needs their future values)"
        if fr.calendar:
            inputs += f"; calendar {', '.join(calendar_label(k) for k in fr.calendar)}"
        lines.append(inputs)
        held = info.get("calibration_held_back", 0)
        if held and self.calibration.origins:
            lines.append(f"calibration: the last {held} observations held back; origins per horizon 1..{len(self.calibration.origins)}: {', '.join(map(str, self.calibration.origins))}")
        elif info.get("calibration"):  # calibrated elsewhere (lstmtune auto: on its backtests)
            lines.append(f"calibration: {info['calibration']}")
        else:
            lines.append("calibration: none (intervals are the raw ensemble quantiles)")
        return lines

    def save(self, directory) -> Path:
        """Write the model directory (see :mod:`lstmtune.forecast.modelio`)."""
        from lstmtune.forecast import modelio

        return modelio.save(self, directory)

    # ------------------------------------------------------------------ warming a history
    def _warm(self, s: Series) -> rollout.Warmed:
        need = self.framing.interval + self.framing.lags + self.framing.timesteps
        if len(s) < need:
            raise LstmtuneError(f"{s.name + ': ' if s.name else ''}the history has {len(s)} observations; this model needs at least {need}")
        if self.framing.calendar and s.positional:
            raise LstmtuneError(f"{s.name + ': ' if s.name else ''}the history has no dates; this model's calendar inputs need them")
        return rollout.warm(self.net, s, self.framing, self.scaler, self.offset(s.dates))

    def offset(self, dates: np.ndarray) -> int:
        """First pair of a history to run, so each row lands on the stream it had in training.

        The pair whose target is ``first_date`` starts stream 0; a history that
        starts later continues the streams' phase (counted in steps of the
        series' frequency); rows before ``first_date`` are not used, as in training.
        """
        targets = np.asarray(dates, dtype="datetime64[ns]")[self.framing.interval + self.framing.lags + self.framing.timesteps - 1 :]
        i = int(np.searchsorted(targets, self.first_date))
        if i < len(targets) and targets[i] == self.first_date:
            return i
        if i == 0 and self.frequency is not None:
            steps = len(pd.date_range(pd.Timestamp(self.first_date), pd.Timestamp(targets[0]), freq=self.frequency)) - 1
            return (-steps) % self.net.batch_size
        return min(i, max(len(targets) - 1, 0))


# ---------------------------------------------------------------------- fitting
def _same_frequency(a: str, b: str) -> bool:
    """Whether two pandas frequency aliases name the same steps ("W" and "W-SUN", "M" and "ME")."""
    x, y = frequency_offset(a), frequency_offset(b)
    return a == b if x is None or y is None else x == y


def as_series(data, *, value_name: str | None = None, covariates: Sequence[str] = (), positional: bool = False, what: str = "history") -> Series:
    """A :class:`~lstmtune.data.series.Series` from a pandas Series or DataFrame (DatetimeIndex) or a Series.

    Args:
      data: the observations; a DataFrame holds the target (``value_name``, or its
        only column besides the covariates) and the ``covariates`` columns.
      value_name: the target column of a DataFrame.
      covariates: columns the model reads besides the target.
      positional: for a model fitted on values without dates: a pandas object whose index
        is not dates is read as values indexed by position.
      what: the argument ``data`` was given as, which a message names (``series`` for
        :func:`fit`, whose errors said "history:": a probe).

    Raises:
      LstmtuneError: not a series, no dates, a missing column or value.
    """
    covariates = list(covariates)
    if isinstance(data, Series):
        have = {k for k, _ in data.covariates}
        lacking = [c for c in covariates if c not in have]
        if lacking:
            raise LstmtuneError(f"{data.name}: no covariate {lacking[0]!r}; this model reads {', '.join(covariates)}")
        return data
    if isinstance(data, (pd.Series, pd.DataFrame)):
        from lstmtune.data.sources import load_series

        if isinstance(data, pd.Series) and covariates:
            raise LstmtuneError(f"this model reads covariates ({', '.join(covariates)}): give a DataFrame with the target and those columns")
        kwargs = {}
        if isinstance(data, pd.DataFrame):
            if value_name is not None and value_name not in data.columns and len(data.columns) > len(covariates) + 1:
                raise LstmtuneError(f"no target column {value_name!r} in the DataFrame; columns: {', '.join(map(str, data.columns))}")
            target = value_name if value_name in data.columns else None
            kwargs = {"value_column": target, "covariates": covariates}
        by_position = positional and not isinstance(data.index, pd.DatetimeIndex)
        if by_position:
            data = data.set_axis(pd.DatetimeIndex(positions(len(data))))
        try:
            s = load_series(data, **kwargs)
        except (TypeError, ValueError) as err:
            raise LstmtuneError(f"{what}: {err}") from None
        return dataclasses.replace(s, positional=True) if by_position else s
    raise LstmtuneError(f"expected a pandas Series or DataFrame with a DatetimeIndex, got {type(data).__name__}")


def architecture(config: Config):
    """The engine's static settings for ``config`` (as :func:`lstmtune.study.planner.plan` builds them)."""
    from lstmtune.study import planner

    return planner.architecture([config])


def framing_for(config: Config, n: int, feature_range: tuple[float, float], covariates: Sequence[str] = (), calendar: Sequence[str] = ()) -> Framing:
    """The config's framing with no holdout; its fixed ``trim`` only where it divides the rows."""
    pairs = n - config.interval - (config.lags + config.timesteps - 1)
    B = config.batch_size if config.stateful else 1
    trim = config.trim if config.trim is not None and (pairs - config.trim) % B == 0 and pairs - config.trim >= B else None
    return Framing(config.interval, config.lags, config.timesteps, test_size=0, trim=trim, feature_range=tuple(feature_range), covariates=tuple(covariates), calendar=tuple(calendar))


def train(series: Series, config: Config, seeds: Sequence[int], feature_range: tuple[float, float], covariates: Sequence[str] = (), calendar: Sequence[str] = ()) -> tuple[rollout.Network, Framing, transforms.MinMaxScaler, int]:
    """Train the ensemble on every pair of ``series``: ``(network, framing, scaler, offset)``.

    Raises:
      LstmtuneError: the series is too short, or every replica diverged.
    """
    from lstmtune.engine import trainer as engine

    framing, problem = problem_for(series, config, feature_range, covariates, calendar)
    arch = architecture(config)
    result = engine.train_population(problem, arch, engine.Schedule.for_checkpoints([config.epochs]), hyper_for(config, seeds), seeds=list(seeds))
    return network_of(config, seeds, result.params, result.diverged_epoch), framing, problem.scaler, problem.counts.trimmed


def problem_for(series: Series, config: Config, feature_range: tuple[float, float] = (-1.0, 1.0), covariates: Sequence[str] = (), calendar: Sequence[str] = ()):
    """``(framing, problem)``: every pair of ``series`` framed as ``config`` frames it (no holdout)."""
    framing = framing_for(config, len(series), feature_range, covariates, calendar)
    B = config.batch_size if config.stateful else 1
    return framing, prepare(series, framing, B, require_test=False)


def hyper_for(config: Config, seeds: Sequence[int]):
    """The engine's numeric settings of ``config``, one per seed."""
    from lstmtune.engine import trainer as engine
    from lstmtune.study.spec import NUMERIC

    return engine.make_hyper(architecture(config), list(seeds), **{name: getattr(config, name) for name in NUMERIC})


def network_of(config: Config, seeds: Sequence[int], params, diverged_epoch) -> rollout.Network:
    """The trained ensemble (weights with leading axis P).

    Raises:
      LstmtuneError: a replica diverged.
    """
    if (np.asarray(diverged_epoch) > 0).any():
        bad = [int(s) for s, d in zip(seeds, diverged_epoch) if d > 0]
        raise LstmtuneError(f"{len(bad)} of {len(seeds)} replicas diverged (seeds {bad[:5]}); lower the learning rate or choose another configuration")
    return rollout.network_for(config, params)


def calibration_size(n: int, config: Config, horizon: int) -> int:
    """Observations held back for calibration: ``min(max(3 * horizon, horizon + 29), n // 3)``.

    ``horizon + 29`` gives the last horizon 30 origins, more than the 19 the 95%
    conformal rank needs; ``n // 3`` keeps two thirds of the series for the
    calibration ensemble's training (and at least what the framing needs).
    """
    need = minimum_length(framing_for(config, n, (-1.0, 1.0)), config.batch_size if config.stateful else 1) + 1
    return max(0, min(max(3 * horizon, horizon + 29), n // 3, n - need))


def backtest(series: Series, config: Config, seeds: Sequence[int], feature_range, horizon: int, held: int, covariates: Sequence[str] = (), calendar: Sequence[str] = ()):
    """Train on ``series`` without its last ``held`` observations, forecast ``horizon`` steps from every later origin.

    Steps from the last origins run past the data; their covariates are not observed, so
    the last observed ones stand in. Those steps have no actual value and are not scored.

    Returns:
      ``(paths (P, R, H), actual (R, H) with NaN beyond the data, histories, train values)``.
    """
    values = series.values
    n = len(values)
    net, framing, scaler, offset = train(series.head(n - held), config, seeds, feature_range, covariates, calendar)
    origins = list(range(n - held, n))
    histories = [values[:t] for t in origins]
    extras = known_inputs.backtest_steps(series, framing, origins, horizon) if known_inputs.has_extras(framing) else None
    paths = rollout.from_origins(net, series, framing, scaler, offset, origins, horizon, extras)
    actual = np.full((len(origins), horizon), np.nan)
    for i, t in enumerate(origins):
        k = min(horizon, n - t)
        actual[i, :k] = values[t : t + k]
    return paths, actual, histories, values[: n - held]


def fit(
    series,
    config: Config,
    *,
    seeds: Sequence[int],
    feature_range: tuple[float, float] = (-1.0, 1.0),
    horizon: int = 12,
    calibrate: bool = True,
    info: dict | None = None,
    covariates: Sequence[str] = (),
    calendar: Sequence[str] = (),
    value_column: str | None = None,
) -> Forecaster:
    """Train ``config`` as a seed ensemble on all of ``series`` (see the module docstring).

    Args:
      series: a pandas Series with a DatetimeIndex, or a :class:`~lstmtune.data.series.Series`.
      config: the configuration (its ``epochs`` are trained).
      seeds: one seed per replica (a study's: ``planner.seed_for(spec, config, repeat)``).
      feature_range: the scaler's target range (the study's ``transforms.feature_range``).
      horizon: steps calibrated and backtested (longer forecasts reuse the last step's calibration).
      calibrate: run the backtest and calibrate (False: raw ensemble quantiles, no backtest).
      info: provenance recorded in the manifest.
      covariates: the series' covariate columns the model reads (``[data] covariates``);
        ``series`` must then be a DataFrame (or Series) holding them.
      calendar: calendar inputs (``[data] calendar``); the series needs regular dates.
      value_column: the target column when ``series`` is a DataFrame with other columns.

    Returns:
      The :class:`Forecaster`.

    Raises:
      LstmtuneError: the series is too short for the configuration, or the training diverged.
    """
    covariates, calendar = tuple(covariates), tuple(calendar)
    s = as_series(series, value_name=value_column, covariates=covariates, what="series")
    values = s.values
    if len(seeds) < 1:
        raise LstmtuneError("repeats must be >= 1")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise LstmtuneError(f"horizon must be a whole number of steps, at least 1, got {horizon!r}")
    if calendar and s.positional:
        raise LstmtuneError(f"{s.name}: calendar inputs need dates; this series is indexed by position")
    if calendar and not s.positional and infer_frequency(s.dates) is None:
        raise LstmtuneError(f"{s.name}: calendar inputs need regular dates to know the forecast dates; this series' dates are irregular")
    held = calibration_size(len(values), config, horizon) if calibrate else 0
    calibration, table = intervals.Calibration.none(horizon), None
    if held >= 2:
        paths, actual, histories, train_values = backtest(s, config, seeds, feature_range, horizon, held, covariates, calendar)
        calibration = intervals.calibrate(paths, actual)
        table = intervals.backtest_table(paths, actual, histories, train_values, s.period)
    net, framing, scaler, offset = train(s, config, seeds, feature_range, covariates, calendar)
    return assemble(s, config, seeds, net, framing, scaler, offset, calibration, table, held, info, covariates)


def from_trained(series, config: Config, seeds: Sequence[int], params, diverged_epoch, problem, feature_range: tuple[float, float] = (-1.0, 1.0),
                 info: dict | None = None, covariates: Sequence[str] = (), calendar: Sequence[str] = ()) -> Forecaster | None:
    """:func:`fit` without calibration and without training, from weights trained elsewhere on
    ``problem`` (a study's, with the same seeds): the forecaster, or None when ``problem``'s
    training rows and scaler are not exactly those :func:`train` would use on ``series`` (the
    weights would then not be the ones :func:`fit` trains), and the caller trains instead."""
    s = as_series(series, covariates=tuple(covariates), what="series")
    framing, own = problem_for(s, config, feature_range, tuple(covariates), tuple(calendar))
    same = (own.counts.trimmed == problem.counts.trimmed and np.array_equal(own.train_x, problem.train_x) and np.array_equal(own.train_y, problem.train_y)
            and np.array_equal(own.scaler.min, problem.scaler.min) and np.array_equal(own.scaler.scale, problem.scaler.scale))
    if not same:
        return None
    net = network_of(config, seeds, params, diverged_epoch)
    return assemble(s, config, seeds, net, framing, own.scaler, own.counts.trimmed, intervals.Calibration.none(12), None, 0, info, covariates)


def assemble(s: Series, config: Config, seeds: Sequence[int], net: rollout.Network, framing: Framing, scaler, offset: int,
             calibration: intervals.Calibration, table: pd.DataFrame | None = None, held: int = 0, info: dict | None = None,
             covariates: Sequence[str] = ()) -> Forecaster:
    """The :class:`Forecaster` of an ensemble trained on ``s`` (:func:`train`'s outputs): warmed through the series."""
    values = s.values
    warmed = rollout.warm(net, s, framing, scaler, offset)
    tail = framing.interval + framing.lags + framing.timesteps - 1
    keep = max(tail, RECENT)  # what a step needs, and recent history to plot beside a forecast
    details = {
        "training_rows": int(warmed.rows),
        "trimmed_rows": int(offset),
        "scaler_rows": int(warmed.rows + offset),
        "first_training_target": str(np.datetime64(s.dates[tail + offset], "ns")),
        "last_observation": str(np.datetime64(s.dates[-1], "ns")),
        "observations": len(values),
        "calibration_held_back": int(held),
    }
    return Forecaster(
        config=config,
        framing=framing,
        scaler=scaler,
        net=net,
        state=rollout.stream_states(warmed, warmed.rows, net.batch_size),
        next_rows=int(warmed.rows),
        seeds=tuple(int(x) for x in seeds),
        tail_dates=np.asarray(s.dates[-keep:], dtype="datetime64[ns]"),
        tail_values=np.asarray(values[-keep:], dtype=np.float64),
        first_date=np.datetime64(s.dates[tail + offset], "ns"),
        frequency=None if s.positional else regular_frequency(s.dates),
        positional=s.positional,
        series_name=s.name,
        value_name=s.value_name,
        calibration=calibration,
        backtest=table,
        # times made UTC from dates with offsets (a file's, or a pandas object's zoned index): its forecasts' are too, and say so
        info={**({"times": "UTC"} if s.utc else {}), **(info or {}), **details},
        tail_covariates=None if not covariates else known_inputs.covariate_matrix(s, covariates)[-keep:],
    )




def load(directory) -> Forecaster:
    """A forecaster from a model directory written by :meth:`Forecaster.save`.

    Raises:
      LstmtuneError: the directory, manifest or weights are missing, corrupted, edited, or
        of another format version; the message names the file.
    """
    import os

    from lstmtune.forecast import modelio

    if not isinstance(directory, (str, os.PathLike)):
        raise LstmtuneError(f"give a model directory's path, not {directory!r}")
    return Forecaster(**modelio.read(directory))


__all__ = ["Forecaster", "architecture", "as_series", "assemble", "fit", "hyper_for", "load", "network_of", "problem_for", "train"]
