"""Optuna samplers that never unpickle what a study's storage holds.

Optuna's ``CmaEsSampler`` keeps its CMA-ES state as a pickle in the trials'
system attributes and resumes it with ``pickle.loads``: whoever can write the
study database (a shared PostgreSQL study, a ``study.db`` someone sent you)
could run code on the machine that resumes the search. :class:`SafeCmaEsSampler`
instead rebuilds the state from the finished trials: it starts the optimizer as
Optuna does and replays ``tell`` generation by generation, with the parameters
and values of the trials of each generation (plain JSON in the storage). The
CMA-ES update is deterministic given those solutions, so the rebuilt state is the
one the pickle would have held; nothing is pickled or unpickled, and pickles
planted in the storage are ignored.

This relies on ``CmaEsSampler``'s private helpers (``_init_optimizer``,
``_get_solution_trials``); the project pins Optuna below 6 and tests the replay.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection


class SafeCmaEsSampler(optuna.samplers.CmaEsSampler):
    """``CmaEsSampler`` whose state is rebuilt from trials, never unpickled (see module doc)."""

    def sample_relative(self, study: optuna.Study, trial: optuna.trial.FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        self._replay = (search_space, study.direction)
        return super().sample_relative(study, trial, search_space)

    def _restore_optimizer(self, completed_trials: list[optuna.trial.FrozenTrial]):
        """The optimizer after every generation the finished trials complete (replayed)."""
        import cmaes
        from optuna._transform import _SearchSpaceTransform

        search_space, direction = self._replay
        trans = _SearchSpaceTransform(search_space, transform_step=not self._with_margin, transform_0_1=True)
        optimizer = self._init_optimizer(trans, direction)
        if optimizer.dim != len(trans.bounds):
            return optimizer
        while True:
            generation = self._get_solution_trials(completed_trials, optimizer.generation)
            if len(generation) < optimizer.population_size:
                return optimizer
            solutions = []
            for t in generation[: optimizer.population_size]:
                if isinstance(optimizer, cmaes.CMAwM):
                    x = np.array(t.system_attrs["x_for_tell"])
                else:
                    x = trans.transform(t.params)
                solutions.append((x, t.value if direction == StudyDirection.MINIMIZE else -t.value))
            optimizer.tell(solutions)
