"""From a series to the arrays a model trains on, with what it takes to invert a forecast.

The flow is the tutorial's: difference -> frame -> split (last ``test_size``
pairs are the test set) -> fit the scaler on *all* training rows -> scale ->
drop the oldest training rows so the rest divides into stateful batches.
Every count along the way is kept in :class:`Counts` so it can be reported.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lstmtune.data import transforms
from lstmtune.data.series import Series
from lstmtune.errors import LstmtuneError


@dataclasses.dataclass(frozen=True)
class Framing:
    """How a series becomes supervised arrays (the evaluation split is a parameter).

    Attributes:
      interval: differencing lag (the tutorial: 1).
      lags: lagged values per input step (the tutorial: 1).
      timesteps: input steps per sample (the tutorial: 1).
      test_size: the last ``test_size`` observations are the test set.
      trim: oldest training rows to drop; None drops the fewest that make the
        training length divisible by the batch size (the tutorial drops 2).
      feature_range: the scaler's target range.
      covariates: the series' covariate columns used as inputs: each differenced
        (``interval``) and framed like the target (the same lags and timesteps).
      calendar: known-future inputs of each input step's next date (the date a
        step forecasts; for the last step, the target's): ``month``, ``quarter``,
        ``dayofweek``, each as a (sin, cos) pair; ``month:K`` as the first ``K``
        harmonics of its cycle (:func:`calendar_features`).

    Input features per timestep: the target's ``lags`` differences, then each
    covariate's ``lags``, then the calendar features.
    """

    interval: int = 1
    lags: int = 1
    timesteps: int = 1
    test_size: int = 12
    trim: int | None = None
    feature_range: tuple[float, float] = (-1.0, 1.0)
    covariates: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()

    @property
    def features(self) -> int:
        """Input features per timestep."""
        return self.lags * (1 + len(self.covariates)) + sum(calendar_width(kind) for kind in self.calendar)


@dataclasses.dataclass(frozen=True)
class Counts:
    """Row counts along the pipeline, for reports and tests."""

    values: int
    differences: int
    pairs: int
    train: int
    test: int
    trimmed: int
    train_used: int


@dataclasses.dataclass(frozen=True)
class Problem:
    """Scaled supervised arrays plus the information that inverts forecasts.

    Attributes:
      train_x: shape ``(train_used, timesteps, lags)``, scaled.
      train_y: shape ``(train_used,)``, scaled.
      test_x: shape ``(test, timesteps, lags)``, scaled.
      test_y: shape ``(test,)``, scaled.
      scaler: fitted on all (untrimmed) training rows of the matrix
        ``[inputs flattened..., target]``.
      train_prev / test_prev: the observed value ``interval`` steps before each
        target, in original units (what a forecast of the difference is added to).
      train_actual / test_actual: the observed targets in original units.
      counts: row counts along the way.
      framing: the settings used.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    scaler: transforms.MinMaxScaler
    train_prev: np.ndarray
    train_actual: np.ndarray
    test_prev: np.ndarray
    test_actual: np.ndarray
    counts: Counts
    framing: Framing

    def invert(self, scaled: np.ndarray, part: str) -> np.ndarray:
        """Turn scaled one-step forecasts into forecasts in original units.

        Each forecast of the (scaled) difference is unscaled with the target
        column's parameters and added to the *observed* previous value, so a
        forecast never builds on an earlier forecast (walk-forward).

        Args:
          scaled: forecasts, shape ``(..., len(part))``.
          part: ``"train"`` or ``"test"``.
        """
        prev = {"train": self.train_prev, "test": self.test_prev}[part]
        diff = (np.asarray(scaled, dtype=np.float64) - self.scaler.min[-1]) / self.scaler.scale[-1]
        return diff + prev


CALENDAR_PERIODS = {"month": 12, "quarter": 4, "dayofweek": 7}


def calendar_phase(stamps: pd.DatetimeIndex, kind: str) -> np.ndarray:
    """Each date's place in the cycle calendar input ``kind`` names: month 0-11, quarter 0-3, weekday 0-6."""
    return np.asarray(stamps.month - 1 if kind == "month" else stamps.quarter - 1 if kind == "quarter" else stamps.day_of_week)


def calendar_parts(kind: str) -> tuple[str, int]:
    """``(cycle, harmonics)`` of a calendar input: ``month`` is ``("month", 1)``, ``month:3``
    ``("month", 3)``; harmonics from 1 to half the cycle's period.

    Raises:
      ValueError: no such cycle, or harmonics out of that range (the message names ``kind``).
    """
    name, colon, k = str(kind).partition(":")
    period = CALENDAR_PERIODS.get(name)
    count = int(k) if colon and k.isdigit() else (1 if not colon else 0)
    if period is None or not 1 <= count <= period // 2:
        raise ValueError(f"{kind!r} is no calendar input: {', '.join(CALENDAR_PERIODS)}, each alone or as NAME:K with K harmonics, 1 to half its period")
    return name, count


def calendar_input(name: str, harmonics: int = 1) -> str:
    """The calendar input reading ``harmonics`` harmonics of cycle ``name`` (:func:`calendar_parts`'
    inverse): ``month`` for one, as models saved before harmonics name it; ``month:3``."""
    return name if harmonics == 1 else f"{name}:{harmonics}"


def calendar_width(kind: str) -> int:
    """The input features of calendar input ``kind`` (:func:`calendar_features`)."""
    name, count = calendar_parts(kind)
    return 2 * count - (1 if 2 * count == CALENDAR_PERIODS[name] else 0)


def calendar_label(kind: str) -> str:
    """``kind`` in words: ``month``, ``month (3 harmonics)``."""
    name, count = calendar_parts(kind)
    return name if count == 1 else f"{name} ({count} harmonics)"


def calendar_features(phase: np.ndarray, kind: str) -> list[np.ndarray]:
    """The features of calendar input ``kind`` at each phase (:func:`calendar_phase`): for each
    harmonic k of its cycle (period P), sin and cos of ``2 pi k phase / P``, as Fourier terms
    model a season (dynamic harmonic regression; TBATS): one harmonic is one (sin, cos) pair;
    the sine of harmonic P / 2, 0 at every phase, is left out."""
    name, count = calendar_parts(kind)
    period, out = CALENDAR_PERIODS[name], []
    for k in range(1, count + 1):
        angle = 2 * np.pi * k * phase / period
        out += ([np.sin(angle)] if 2 * k != period else []) + [np.cos(angle)]
    return out


def extra_inputs(series, framing: Framing, pairs: int) -> list[np.ndarray]:
    """Covariate and calendar input features, each ``(pairs, timesteps, k)``.

    Raises:
      LstmtuneError: a covariate the series lacks, or calendar inputs of a series without dates.
    """
    if not isinstance(series, Series):
        raise LstmtuneError("covariates and calendar inputs need a Series (with its dates and covariate columns)")
    out = []
    for name in framing.covariates:
        column = np.asarray(series.covariate(name), dtype=np.float64)
        cx, _ = transforms.frame(transforms.difference(column, framing.interval), framing.lags, framing.timesteps)
        out.append(cx[:pairs])
    if framing.calendar:
        if series.positional:
            raise LstmtuneError(f"{series.name}: calendar inputs need dates; this series is indexed by position")
        # Input step k of pair j holds the lags before difference j + lags + k, whose date is
        # that of observation j + lags + k + interval: the date the step forecasts.
        j = np.arange(pairs)[:, None] + np.arange(framing.timesteps)[None, :] + framing.lags + framing.interval
        stamps = pd.DatetimeIndex(np.asarray(series.dates)[j.ravel()])
        parts = [f for kind in framing.calendar for f in calendar_features(calendar_phase(stamps, calendar_parts(kind)[0]), kind)]
        out.append(np.stack(parts, axis=-1).reshape(pairs, framing.timesteps, len(parts)))
    return out


def frame_inputs(series: Series | np.ndarray, framing: Framing) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every framed pair's raw (unscaled) inputs: ``(differences, inputs (pairs, timesteps, features), targets (pairs,))``.

    Features per timestep as :attr:`Framing.features` orders them: the target's lags,
    each covariate's lags, the calendar pairs.
    """
    values = np.asarray(series.values if isinstance(series, Series) else series, dtype=np.float64)
    diffs = transforms.difference(values, framing.interval)
    inputs, targets = transforms.frame(diffs, framing.lags, framing.timesteps)
    if framing.covariates or framing.calendar:
        inputs = np.concatenate([inputs, *extra_inputs(series, framing, len(targets))], axis=2)
    return diffs, inputs, targets


def minimum_length(framing: Framing, batch_size: int) -> int:
    """Fewest observations :func:`prepare` accepts for these settings."""
    span = framing.lags + framing.timesteps - 1
    return framing.interval + span + framing.test_size + batch_size + (framing.trim or 0)


def prepare(series: Series | np.ndarray, framing: Framing, batch_size: int, *, require_test: bool = True) -> Problem:
    """Difference, frame, split, scale and trim a series.

    Args:
      series: the observations (a :class:`Series` or a 1-D array).
      framing: transform settings.
      batch_size: the stateful batch size the training rows must divide into.
      require_test: refuse ``test_size = 0``. The forecaster passes False to
        train on every pair (empty test arrays, scaler fit on all pairs).

    Returns:
      The :class:`Problem`.

    Raises:
      LstmtuneError: the series is too short for the settings, or a setting is
        out of range.
    """
    values = np.asarray(series.values if isinstance(series, Series) else series, dtype=np.float64)
    if framing.test_size < (1 if require_test else 0):
        raise LstmtuneError(f"test_size must be >= 1, got {framing.test_size}")
    need = minimum_length(framing, batch_size)
    if len(values) < need:
        raise LstmtuneError(
            f"series of {len(values)} observations is too short: differencing interval {framing.interval} "
            f"+ lags {framing.lags} + timesteps {framing.timesteps} - 1 + test_size {framing.test_size} "
            f"+ batch_size {batch_size}" + (f" + trim {framing.trim}" if framing.trim else "") + f" needs at least {need}"
        )
    diffs, inputs, targets = frame_inputs(series, framing)
    pairs = len(targets)
    span = framing.lags + framing.timesteps - 1
    # pair j targets diffs[span + j] = values[span + j + interval] - values[span + j]
    actual = values[span + framing.interval :]
    prev = values[span : span + pairs]

    n_test = framing.test_size
    n_train = pairs - n_test
    matrix = np.concatenate([inputs.reshape(pairs, -1), targets[:, None]], axis=1)
    scaler = transforms.fit_scaler(matrix[:n_train], framing.feature_range)
    scaled = transforms.scale(scaler, matrix)
    x = scaled[:, :-1].reshape(inputs.shape)
    y = scaled[:, -1]

    drop = transforms.trim_count(n_train, batch_size, framing.trim)
    train = slice(drop, n_train)
    test = slice(n_train, pairs)
    return Problem(
        train_x=x[train],
        train_y=y[train],
        test_x=x[test],
        test_y=y[test],
        scaler=scaler,
        train_prev=prev[train],
        train_actual=actual[train],
        test_prev=prev[test],
        test_actual=actual[test],
        counts=Counts(
            values=len(values),
            differences=len(diffs),
            pairs=pairs,
            train=n_train,
            test=n_test,
            trimmed=drop,
            train_used=n_train - drop,
        ),
        framing=framing,
    )
