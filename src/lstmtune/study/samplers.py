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

Every sampler here also reseeds its random streams before each trial from the
study's seed and the trial's number alone. Optuna's samplers draw from one stream
started when they are built, so a search resumed in a new process drew its first
trials' parameters again (a resumed random search repeated the configurations it
had already tried); seeded per trial, a resumed search asks for what the
uninterrupted one would have.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection


def trial_seed(seed: int, number: int) -> int:
    """The seed of trial ``number`` of a search seeded ``seed`` (a function of the two only)."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


class SeededRandomSampler(optuna.samplers.RandomSampler):
    """``RandomSampler`` whose draws for a trial depend only on the seed and the trial's number."""

    def __init__(self, *, seed: int) -> None:
        super().__init__(seed=seed)
        self._base_seed = seed

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._rng.rng.seed(trial_seed(self._base_seed, trial.number))
        super().before_trial(study, trial)


class SeededTPESampler(optuna.samplers.TPESampler):
    """``TPESampler`` whose draws for a trial depend only on the seed, the trial's number and
    the finished trials."""

    def __init__(self, *, seed: int) -> None:
        super().__init__(seed=seed)
        self._base_seed = seed
        self._random_sampler = SeededRandomSampler(seed=seed)  # its startup trials

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._rng.rng.seed(trial_seed(self._base_seed, trial.number))
        super().before_trial(study, trial)


class SafeCmaEsSampler(optuna.samplers.CmaEsSampler):
    """``CmaEsSampler`` whose state is rebuilt from trials, never unpickled nor stored (see
    module doc); its draws for a trial depend only on the seed, the trial's number and the
    finished trials."""

    def __init__(self, *, seed: int, warn_independent_sampling: bool = True) -> None:
        super().__init__(seed=seed, independent_sampler=SeededRandomSampler(seed=seed), warn_independent_sampling=warn_independent_sampling)
        self._base_seed = seed

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        # Two draws per trial come from this stream: the replayed optimizer's seed and
        # (in ``CmaEsSampler.sample_relative``) the seed of the trial's ``ask``.
        self._cma_rng.rng.seed(trial_seed(self._base_seed, trial.number))
        super().before_trial(study, trial)

    def _split_optimizer_str(self, optimizer_str: str) -> dict[str, str]:
        # ``CmaEsSampler`` stores the pickled optimizer under these keys after each
        # generation; storing nothing keeps pickles out of the storage altogether.
        return {}

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
