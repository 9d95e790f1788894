"""The search's parts alone, without training: ``ask_round`` (Optuna's trials of one round)
and ``race`` (successive halving of a round over its rungs), with a stand-in ``evaluate``."""

import types

import numpy as np
import optuna
import pandas as pd
import pytest

from lstmtune.workflow import search
from lstmtune.study import spec

REPEATS = 2


def _spec(space, **section):
    return spec.from_dict(
        {
            "name": "race",
            "seed": 1,
            "model": {"epochs": 27},
            "runs": {"repeats": REPEATS},
            "search": {"sampler": "random", "min_epochs": 3, "reduction_factor": 3, "space": space, **section},
        }
    )


LR = {"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True}}


def _study():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="minimize")


def _evaluator(score, calls):
    """A stand-in for the selection phases: each point's ``REPEATS`` runs score ``score(point)``
    (None: every repeat diverged); ``calls`` records the ``(label, epochs)`` evaluated."""

    def evaluate(points):
        calls.append([(p.label, p.config.epochs) for p in points])
        rows = []
        for p in points:
            v = score(p)
            rows += [{"config": p.config.key, "repeat": r, "validation_rmse": np.nan if v is None else v + 0.01 * r} for r in range(REPEATS)]
        trained = types.SimpleNamespace(timings={"runs_trained": len(rows)})
        return types.SimpleNamespace(runs=pd.DataFrame(rows), metric="validation_rmse", results=(trained,))

    return evaluate


def test_ask_round_resolves_each_trial_and_fails_inconsistent_ones():
    s = _spec({"optimizer": {"type": "categorical", "choices": ["adam", "sgd"]}, "momentum": {"type": "float", "low": 0.5, "high": 0.9}})
    study = _study()
    asked = search.ask_round(study, s.search, spec.base_params(s), 8)
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    # adam with momentum is inconsistent: told as failed, with the reason; sgd trials are asked.
    assert len(asked) + len(failed) == 8 and asked and failed
    assert all(t.params["optimizer"] == "adam" for t in failed)
    assert all("momentum applies to sgd and rmsprop, not adam" in t.user_attrs["error"] for t in failed)
    running = {t.number for t in study.trials if t.state.name == "RUNNING"}
    assert {trial.number for trial, _, _ in asked} == running
    for trial, params, config in asked:
        assert params["optimizer"] == "sgd"
        assert (config.optimizer, config.momentum, config.epochs) == ("sgd", params["momentum"], 27)


def test_race_halves_a_round_over_its_rungs():
    s = _spec(LR, pruner="successive_halving")
    study = _study()
    asked = search.ask_round(study, s.search, spec.base_params(s), 9)
    lr = {t.number: c.learning_rate for t, _, c in asked}
    worst = max(lr, key=lr.get)
    # Smaller learning rates score better, more so with more epochs; the largest one diverges.
    calls = []
    evaluate = _evaluator(lambda p: None if p.label == f"trial {worst}" else p.config.learning_rate + 1 / p.config.epochs, calls)
    trainings = search.race(study, s.search, asked, [3, 9, 27], evaluate)
    # 9 at 3 epochs; the best 3 of them at 9; the best of those at 27.
    assert [len(c) for c in calls] == [9, 3, 1] and [{e for _, e in c} for c in calls] == [{3}, {9}, {27}]
    assert trainings == (9 + 3 + 1) * REPEATS
    ranked = sorted((n for n in lr if n != worst), key=lr.get)
    assert [label for label, _ in calls[1]] == [f"trial {n}" for n in sorted(ranked[:3])]
    states = {t.number: t.state.name for t in study.trials}
    assert states[worst] == "FAIL" and "diverged" in study.trials[worst].user_attrs["error"]
    assert [n for n, st in states.items() if st == "COMPLETE"] == [ranked[0]]
    best = study.trials[ranked[0]]
    # The complete trial's value is its mean at 27 epochs; its rungs were reported on the way.
    assert best.value == pytest.approx(lr[ranked[0]] + 1 / 27 + 0.005, rel=1e-12)
    assert set(best.intermediate_values) == {3, 9}
    assert best.user_attrs["config"] == {t.number: c for t, _, c in asked}[ranked[0]].key  # at model.epochs = 27
    pruned = {t.number: t.last_step for t in study.trials if t.state.name == "PRUNED"}
    assert pruned == {**{n: 3 for n in ranked[3:]}, **{n: 9 for n in ranked[1:3]}}


def test_race_without_a_pruner_keeps_each_trials_epochs():
    s = _spec({**LR, "epochs": {"type": "categorical", "choices": [5, 20]}})
    study = _study()
    asked = search.ask_round(study, s.search, spec.base_params(s), 4)
    calls = []
    trainings = search.race(study, s.search, asked, search.rungs(s.search, 27), _evaluator(lambda p: p.config.learning_rate, calls))
    assert len(calls) == 1 and trainings == 4 * REPEATS
    assert [e for _, e in calls[0]] == [params["epochs"] for _, params, _ in asked]
    assert {t.state.name for t in study.trials} == {"COMPLETE"}


def test_a_trial_asked_beyond_the_budget_is_failed_untrained_and_no_more_are_asked():
    """Two processes of one search each asked the budget's last trials at once (a probe: 19
    trials trained for a budget of 16): Optuna numbers trials in the order asked, so the one
    numbered at or above the budget is told failed, untrained, and the round stops there."""
    s = _spec(LR, trials=4)
    study = _study()
    first = search.ask_round(study, s.search, spec.base_params(s), 3, budget=4)  # this process: trials 0-2
    other = search.ask_round(study, s.search, spec.base_params(s), 2, budget=4)  # the other one, at the same time: 3, then 4
    assert [t.number for t, _, _ in first] == [0, 1, 2]
    assert [t.number for t, _, _ in other] == [3]
    beyond = study.trials[4]
    assert beyond.state.name == "FAIL" and "beyond the search's budget of 4 trials" in beyond.user_attrs["error"]
    assert len(study.trials) == 5  # the round stopped at the first trial beyond
    assert beyond.user_attrs[search.BEYOND] and beyond.user_attrs["round_size"] == 2
    # It counts in no budget: a search of 4 has trials 0-3; raised to 6, 0-3 and the next two asked.
    assert [t.number for t in search.in_budget(study.trials, 4)] == [0, 1, 2, 3]
    more = search.ask_round(study, s.search, spec.base_params(s), 3, budget=6)
    assert [t.number for t, _, _ in more] == [5, 6] and study.trials[7].user_attrs.get(search.BEYOND)
    assert [t.number for t in search.in_budget(study.trials, 6)] == [0, 1, 2, 3, 5, 6]


def test_a_pruner_whose_first_rung_is_the_last_is_refused():
    with pytest.raises(spec.SpecError, match=r"search.min_epochs: 27 is not below model.epochs \(27\)"):
        _spec(LR, pruner="hyperband", min_epochs=27)
    _spec(LR, pruner="hyperband", min_epochs=26)
    _spec(LR, min_epochs=100)  # no pruner: min_epochs unused


def test_a_round_cut_at_the_budget_and_left_by_a_dead_process_resumes_without_more_trials():
    """A round cut by the budget (trial 3 asked, trial 4 beyond it) whose process died: the
    resumed round is trial 3 alone; before, the "missing" member was asked and trained (a review)."""
    import socket

    s = _spec(LR, trials=4)
    study = _study()
    base = spec.base_params(s)
    first = search.ask_round(study, s.search, base, 3, owner=f"{socket.gethostname()}:999998:a", budget=4)
    cut = search.ask_round(study, s.search, base, 2, owner=f"{socket.gethostname()}:999999:b", round_number=1, budget=4)
    for trial, _, _ in first:
        study.tell(trial, 1.0)
    assert [t.number for t, _, _ in cut] == [3]
    stranded = search.resume_rounds(study, s.search, base, owner="me", budget=4)
    assert [[p[0].number for p in st.points] for st in stranded] == [[3]]
    assert len(study.trials) == 5


def test_a_trial_just_asked_has_no_owner_yet_and_is_not_taken_as_stranded(monkeypatch):
    """ask_round records the owner just after Optuna asks the trial; another process resuming
    rounds in that instant took the live process's trial and both told it (a probe:
    UpdateFinishedTrialError). An ownerless RUNNING trial is stranded only once it is old
    (stores written before owners were recorded)."""
    s = _spec(LR, trials=4)
    study = _study()
    study.ask()  # RUNNING, no owner yet
    assert search.resume_rounds(study, s.search, spec.base_params(s), owner="me") == []
    monkeypatch.setattr(search, "OWNERLESS_S", -1.0)  # as if it had started long ago
    assert [[p[0].number for p in st.points] for st in search.resume_rounds(study, s.search, spec.base_params(s), owner="me")] == [[0]]


def test_a_search_whose_other_trials_are_still_running_says_so():
    s = _spec(LR, trials=3)
    study = _study()
    asked = search.ask_round(study, s.search, spec.base_params(s), 3, budget=3)
    study.tell(asked[0][0], 1.0)
    said = search._elsewhere(s, study, 3)
    assert len(said) == 1 and "2 trials are still being trained by another process of this search" in said[0]
    for trial, _, _ in asked[1:]:
        study.tell(trial, 2.0)
    assert search._elsewhere(s, study, 3) == []


def test_a_store_created_by_another_process_at_the_same_moment_is_opened_again(tmp_path, monkeypatch):
    """Two searches creating one store at once: one failed on alembic_version's unique
    constraint (a probe); the store exists by then, and opening it again works."""
    import sqlalchemy.exc

    real, calls = optuna.storages.RDBStorage, []

    def racing(url, *args, **kwargs):
        calls.append(url)
        if len(calls) == 1:
            raise sqlalchemy.exc.IntegrityError("INSERT INTO alembic_version", {}, Exception("UNIQUE constraint failed: alembic_version.version_num"))
        return real(url, *args, **kwargs)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    with search.optuna_storage(f"sqlite:///{tmp_path / 'study.db'}") as storage:
        assert storage.get_all_studies() == []
    assert len(calls) == 2
