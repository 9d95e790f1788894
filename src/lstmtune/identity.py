"""What stored runs are the results *of*: a fingerprint of the data and of every setting
that changes a run's numbers but is not part of its configuration key.

A configuration key (:attr:`lstmtune.spec.Config.key`) names the model and its
training; a run is (configuration, repeat). The same run on other data, another
split or other seeds is another result, so the store keeps runs per *stored
study*, named ``NAME:PHASE@FINGERPRINT``: a study whose CSV changed, whose
``test_size`` or evaluation protocol changed, never finds the old runs (they are
left in the store, untouched, and the CLI says it computed afresh).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from lstmtune.data import Series
from lstmtune.spec import StudySpec

FINGERPRINT_VERSION = 1


def settings(spec: StudySpec, *, score_last: int | None = None) -> dict[str, Any]:
    """The settings outside the configuration key that change a run's numbers."""
    return {
        "version": FINGERPRINT_VERSION,
        "source": spec.data.source,
        "holdout": spec.data.test_size,
        "score_last": score_last,
        "feature_range": list(spec.transforms.feature_range),
        "seed": spec.seed,
        "seeding": spec.runs.seeding,
    }


def data_hash(series: Series) -> str:
    """SHA-256 of the dates and values, exactly as trained on."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(series.dates.astype("datetime64[ns]").view(np.int64)).tobytes())
    h.update(np.ascontiguousarray(np.asarray(series.values, dtype=np.float64)).tobytes())
    return h.hexdigest()


def fingerprint(spec: StudySpec, series: Series, *, score_last: int | None = None) -> str:
    """16 hex digits identifying (data content, settings) of a phase's runs."""
    payload = json.dumps({"data": data_hash(series), **settings(spec, score_last=score_last)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


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


__all__ = ["data_hash", "fingerprint", "parse", "settings", "store_name"]
