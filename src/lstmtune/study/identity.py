"""What stored runs are the results *of*: a fingerprint of the data and of every setting
that changes a run's numbers but is not part of its configuration key.

A configuration key (:attr:`lstmtune.study.spec.Config.key`) names the model and its
training; a run is (configuration, repeat). The same run on other data, another
split or other seeds is another result, so the store keeps runs per *stored
study*, named ``NAME:PHASE@FINGERPRINT``: a study whose CSV changed, whose
``test_size`` or evaluation protocol changed, never finds the old runs (they are
left in the store, untouched, and the CLI says it computed afresh).

The identity is derived from the spec and series actually passed to
:func:`lstmtune.study.executor.execute`, so phases of one study (validation,
backtest folds, test) on prefixes of one series never share runs. A search's
Optuna study is named the same way, by :func:`search_fingerprint`. Seeds do not
depend on any of this (:func:`lstmtune.study.planner.seed_for`): a study computed
afresh gives the numbers it gave before.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from lstmtune.data.series import Series
from lstmtune.study.spec import StudySpec

FINGERPRINT_VERSION = 1


def settings(spec: StudySpec, *, score_last: int | None = None) -> dict[str, Any]:
    """The settings outside the configuration key that change a run's numbers (the scoring
    horizon only when multi-step, so one-step studies keep the fingerprints they had)."""
    horizon = {"horizon": spec.evaluation.horizon} if spec.evaluation.horizon > 1 else {}
    return {
        "version": FINGERPRINT_VERSION,
        "source": _source(spec.data.source),
        "holdout": spec.data.test_size,
        "score_last": score_last,
        "feature_range": list(spec.transforms.feature_range),
        "seed": spec.seed,
        "seeding": spec.runs.seeding,
        **horizon,
    }


def _source(source: str) -> str:
    """The data's source as its runs are keyed: a built-in name, or a file's name without its
    folder. The runs depend on the data's content (:func:`data_hash`), not on where the file
    lies: a run directory moved elsewhere (a panel's series name their data inside it) or a
    study pointed at a copy of its data elsewhere keeps its stored runs."""
    from pathlib import PurePath

    from lstmtune.data.series import BUILTINS

    return source if source in BUILTINS else PurePath(str(source)).name


def data_hash(series: Series) -> str:
    """SHA-256 of the dates and values, exactly as trained on."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(series.dates.astype("datetime64[ns]").view(np.int64)).tobytes())
    h.update(np.ascontiguousarray(np.asarray(series.values, dtype=np.float64)).tobytes())
    for name, column in series.covariates:  # none: the hash is what it always was
        h.update(name.encode())
        h.update(np.ascontiguousarray(np.asarray(column, dtype=np.float64)).tobytes())
    return h.hexdigest()


def fingerprint(spec: StudySpec, series: Series, *, score_last: int | None = None, curve_repeats: int = 0) -> str:
    """16 hex digits identifying (data content, settings) of a phase's runs.

    Args:
      spec: the phase's study (``data.test_size`` is the phase's holdout).
      series: the data exactly as passed to :func:`lstmtune.study.executor.execute`
        (a selection phase passes a prefix of the series).
      score_last: see :attr:`lstmtune.study.planner.Plan.score_last`.
      curve_repeats: repeats whose per-epoch curves are stored. Runs stored without
        curves cannot serve a plan that reports them, so a study switched from
        ``mode = "summary"`` to ``"both"`` is computed afresh. (Left out of the hash
        when 0, so the fingerprints of summary studies stored before it counted stay.)

    Returns:
      Hex digits; equal exactly when data and settings are.
    """
    payload = {"data": data_hash(series), **settings(spec, score_last=score_last)}
    if curve_repeats:
        payload["curve_repeats"] = curve_repeats
    if spec.data.covariates or spec.data.calendar:  # the inputs the models read (absent: as before)
        payload["inputs"] = {"covariates": list(spec.data.covariates), "calendar": list(spec.data.calendar)}
    return digest(payload)


def digest(payload: dict[str, Any]) -> str:
    """16 hex digits of a JSON-able dict (keys sorted): add a setting by adding a key."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def search_fingerprint(spec: StudySpec, phases: list[tuple[StudySpec, Series]]) -> str:
    """What a search's trial values are *of*: every selection phase's data and settings,
    and the settings outside the trial's parameters that change a value (the model and
    transforms the space leaves fixed, repeats, the objective, the pruner, the space).

    The sampler, trial budget, timeout and batch are left out: a search resumed with
    more trials or another sampler continues on the same values.

    Args:
      spec: the study with its ``[search]`` section.
      phases: ``(phase spec, phase series)`` of each selection phase.
    """
    return digest(
        {
            "phases": [fingerprint(s, x) for s, x in phases],
            "model": spec.model.model_dump(mode="json"),
            "transforms": spec.transforms.model_dump(mode="json"),
            "repeats": spec.runs.repeats,
            "search": None if spec.search is None else spec.search.model_dump(mode="json", exclude={"sampler", "trials", "timeout_s", "batch"}),
        }
    )


def store_name(name: str, phase: str, fp: str) -> str:
    """The stored study's name: ``NAME:PHASE@FINGERPRINT``."""
    return f"{name}:{phase}@{fp}"


def parse(stored: str) -> tuple[str, str | None, str | None]:
    """``(name, phase, fingerprint)`` of a stored study's name (phase and fingerprint None for old stores)."""
    head, at, fp = stored.rpartition("@")
    if not at:
        return stored, None, None
    name, colon, phase = head.rpartition(":")
    return (name, phase, fp) if colon else (head, None, fp)


__all__ = ["data_hash", "digest", "fingerprint", "parse", "search_fingerprint", "settings", "store_name"]
