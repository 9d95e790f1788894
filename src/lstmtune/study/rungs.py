"""A search's races: the epoch budgets of successive halving and hyperband's brackets.

:func:`lstmtune.workflow.search.race` trains a round's trials at each rung in turn and keeps the
best ``1 / reduction_factor`` of them for the next; :func:`trainings` counts what that costs at
most, so that ``plan`` and ``--max-runs`` see a pruned search's real size.
"""

from __future__ import annotations

import math


def rungs(search, max_epochs: int, bracket: int = 0) -> list[int]:
    """Epoch budgets of successive halving, from ``min_epochs`` (times eta**bracket) to ``max_epochs``."""
    if search.pruner == "none":
        return [max_epochs]
    first = min(max_epochs, search.min_epochs * search.reduction_factor**bracket)
    out = []
    e = first
    while e < max_epochs:
        out.append(e)
        e *= search.reduction_factor
    return out + [max_epochs]


def bracket(search, epochs: int, round_number: int) -> int:
    """Hyperband's bracket for a round (brackets in turn, most aggressive first); 0 otherwise."""
    if search.pruner != "hyperband":
        return 0
    s_max = max(0, int(math.log(max(1, epochs // search.min_epochs), search.reduction_factor)))
    return round_number % (s_max + 1)


def trainings(search, epochs: int, trials: int) -> int:
    """Trial trainings (per selection phase and repeat) of ``trials`` trials asked in rounds of
    ``search.batch``, raced as :func:`lstmtune.workflow.search.race` races them: every trial at
    a round's first rung, then the best ``ceil(n / reduction_factor)`` (at least one) at each
    next. At most: a trial that fails or diverges trains less."""
    total = 0
    for number, first in enumerate(range(0, trials, search.batch)):
        alive = min(search.batch, trials - first)
        for _ in rungs(search, epochs, bracket(search, epochs, number)):
            total += alive
            alive = max(1, math.ceil(alive / search.reduction_factor))
    return total


__all__ = ["bracket", "rungs", "trainings"]
