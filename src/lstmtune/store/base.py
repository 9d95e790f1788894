"""The contract of a results store: studies, configurations, runs and curves.

A *store* is the durable record of a study. Training happens in populations
(many runs at once); a population's results are committed together, so that an
interrupted study (Ctrl-C or ``kill -9``) loses at most the populations in
flight and nothing finished is ever recomputed. Several processes may work on
the same study at once: a run is *claimed* before it is trained, and a claim
is an atomic insert guarded by a unique constraint, so no run is trained twice
by processes that share a store.

Lifecycle of a run (keyed by study, configuration key and repeat)::

    (no row) --claim--> running --complete--> done
                          |
                          +--release / cleanup_stale--> (no row)

``owner`` is an opaque string naming the claiming process (for example
``"host:pid:uuid"``); it must be unique per process. Timestamps are seconds
since the epoch (UTC) from the clock of the process that writes them: hosts
sharing one database should keep their clocks in sync.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.selection.metrics import NAMES

SCHEMA_VERSION = 1
"""Version of the store's schema that this lstmtune reads and writes."""

RUNNING = "running"
DONE = "done"

METRIC_COLUMNS = (*(f"test_{m}" for m in NAMES), "train_rmse")
"""Per-run metrics stored by :meth:`Store.complete` (NaN for diverged runs)."""

STATUS_COLUMNS = ("study", "configs", "done", "diverged", "running")
"""Columns of :meth:`Store.status`."""


class Store(abc.ABC):
    """Durable, concurrency-safe record of studies, configurations, runs and curves.

    Every method that writes does so in one short transaction: it either takes
    effect completely or not at all. Implementations must be safe to use from
    several processes at once on the same database.
    """

    SCHEMA_VERSION = SCHEMA_VERSION

    @abc.abstractmethod
    def open_study(self, name: str, spec_toml: str) -> int:
        """Create a study or return the existing one of that name.

        Args:
          name: the study's name; the same name always means the same study.
          spec_toml: the resolved study specification as TOML text. The latest
            text given is kept (it replaces an earlier one).

        Returns:
          The study's id, stable for the life of the database.
        """

    @abc.abstractmethod
    def spec_toml(self, study_id: int) -> str:
        """The study's specification text, as last given to :meth:`open_study`.

        Raises:
          KeyError: no study has this id.
        """

    @abc.abstractmethod
    def add_configs(self, study_id: int, configs: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Record configurations of a study. Idempotent.

        Args:
          study_id: from :meth:`open_study`.
          configs: ``(key, params)`` pairs (``Config.key``, ``Config.params()``);
            params must be JSON-serialisable. A key already recorded is left as
            it is (a key is a hash of its params, so they cannot differ).
            Configurations keep the order in which they were first added;
            :meth:`runs` lists runs in that order.
        """

    @abc.abstractmethod
    def claim(self, study_id: int, items: Sequence[tuple[str, int, int]], owner: str) -> list[tuple[str, int]]:
        """Atomically claim runs that nobody has claimed or finished.

        For every item without a row yet, a row with status ``"running"``,
        this ``owner`` and fresh ``claimed_at``/``heartbeat_at`` timestamps is
        inserted. Items that already have a row (running for any owner, this
        one included, or done) are not claimed. Safe against concurrent
        claimers: of several processes claiming the same item at once, exactly
        one gets it.

        Args:
          study_id: from :meth:`open_study`.
          items: ``(config_key, repeat, seed)`` triples; every config key must
            have been added with :meth:`add_configs`. Duplicates are ignored.
          owner: the claiming process.

        Returns:
          The ``(config_key, repeat)`` pairs this call claimed, in the order of
          ``items``.

        Raises:
          ValueError: a config key was not added to the study.
        """

    @abc.abstractmethod
    def complete(
        self,
        study_id: int,
        owner: str,
        results: Sequence[Mapping[str, Any]],
        curves: Mapping[tuple[str, int], np.ndarray] | None = None,
    ) -> int:
        """Record finished runs (one population) and their curves in one transaction.

        Each run becomes ``"done"`` with its metrics, ``train_seconds`` (when
        given) and ``finished_at``; all or none of ``results`` are recorded.
        Runs normally are rows claimed by ``owner``. A finished result is never
        thrown away: a run whose claim was lost meanwhile (released by
        :meth:`cleanup_stale`, perhaps re-claimed by another owner that is
        still running it) is recorded all the same, under this owner. A run
        already done (by anyone) is left untouched, with its curve.

        Args:
          study_id: from :meth:`open_study`.
          owner: the process that trained the runs.
          results: one mapping per run with keys ``config`` (the config key),
            ``repeat``, ``seed``, the metrics of :data:`METRIC_COLUMNS` (NaN or
            None when diverged), ``diverged`` (bool), ``diverged_epoch`` (int
            or None) and optionally ``train_seconds``; other keys (the params)
            are ignored.
          curves: ``(config_key, repeat)`` -> per-epoch array of a run listed
            in ``results``; stored as float32, returned by :meth:`curves` with
            the same shape.

        Returns:
          How many runs this call recorded (those already done are not counted).

        Raises:
          ValueError: a curve is given for a run not in ``results``.
        """

    @abc.abstractmethod
    def release(self, study_id: int, owner: str) -> int:
        """Give up ``owner``'s unfinished claims in a study (e.g. on Ctrl-C).

        Deletes the ``"running"`` rows of ``owner``; done rows and other
        owners' rows are untouched.

        Returns:
          How many claims were released.
        """

    @abc.abstractmethod
    def heartbeat(self, owner: str) -> int:
        """Mark ``owner`` alive: refresh ``heartbeat_at`` of its running rows (all studies).

        Call it more often than the ``max_age_s`` that :meth:`cleanup_stale`
        is given, or the claims may be taken away.

        Returns:
          How many rows were refreshed.
        """

    @abc.abstractmethod
    def cleanup_stale(self, study_id: int, max_age_s: float) -> int:
        """Delete ``"running"`` rows whose heartbeat is older than ``max_age_s`` seconds.

        A process killed without :meth:`release` leaves running rows behind;
        this makes them claimable again. Done rows are never deleted.

        Returns:
          How many rows were deleted.
        """

    @abc.abstractmethod
    def studies(self) -> list[tuple[int, str]]:
        """Every study as ``(id, name)``, oldest first."""

    @abc.abstractmethod
    def running_owners(self, study_id: int) -> list[str]:
        """The distinct owners holding ``"running"`` rows in a study (to find dead ones)."""

    @abc.abstractmethod
    def runs(self, study_id: int, status: str | None = DONE) -> pd.DataFrame:
        """The runs of a study as a table.

        Args:
          study_id: from :meth:`open_study`.
          status: only runs with this status (``"done"`` or ``"running"``);
            ``None`` for all.

        Returns:
          One row per run, ordered by configuration (in the order added) and
          repeat, with columns ``config`` (the key), the configuration's params
          (one column each), ``repeat``, ``seed``, the metrics of
          :data:`METRIC_COLUMNS` (float, NaN when diverged or not done),
          ``diverged`` (bool), ``diverged_epoch`` (nullable Int64), ``status``
          and ``train_seconds`` (float, NaN when unknown). The leading columns
          match the rows that :mod:`lstmtune.study.planner` produces.
        """

    @abc.abstractmethod
    def curves(self, study_id: int) -> dict[tuple[str, int], np.ndarray]:
        """All stored curves of a study: ``(config_key, repeat)`` -> float32 array."""

    @abc.abstractmethod
    def status(self) -> pd.DataFrame:
        """One row per study in the database, with what the database knows.

        Returns:
          Columns :data:`STATUS_COLUMNS`: ``study`` (name), ``configs``
          (configurations with at least one run row), ``done`` (finished
          runs), ``diverged`` (finished runs that diverged) and ``running``
          (claimed, unfinished runs), ordered by study name.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store's connections. The store must not be used afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
