"""Search over populations: samplers, objective, pruning by epochs, storage, bad spaces."""

import optuna
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.workflow import search
from lstmtune.study import spec
from lstmtune.cli.app import app
from lstmtune.errors import SpecError
from lstmtune.store import open_store

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it


def _spec(search_section, **runs):
    return spec.from_dict(
        {
            "name": "s",
            "seed": 5,
            "transforms": {"trim": 2},
            "model": {"batch_size": 4, "epochs": 40},
            "runs": {"repeats": 3, **runs},
            "search": search_section,
        },
        "test.toml",
    )


SPACE = {
    "units": {"type": "int", "low": 1, "high": 3},
    "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True},
    "epochs": {"type": "categorical", "choices": [20, 40]},
}


@pytest.mark.figures
def test_tpe_search_completes_and_stores_its_best_trial(tmp_path):
    s = _spec({"sampler": "tpe", "trials": 6, "batch": 3, "space": SPACE})
    outcome, report = search.run(s, tmp_path / "out")
    assert report.is_file() and "optimisation history" in report.read_text()
    assert "How the best trials train" in report.read_text()
    # the pruner's bookkeeping is no parameter, and 10 diagnostic reruns are not all the trials' 3 seeds (a report probe)
    assert "epochs_measured =" not in report.read_text() and "the trials' 3 seeds and 7 more" in report.read_text()
    assert len(list((tmp_path / "out" / "plots").glob("band_trial-*.png"))) == 3
    assert len(outcome.trials) == 6 and set(outcome.trials["state"]) == {"COMPLETE"}
    # Optuna's study is in the run's database, with the best trial.
    url = f"sqlite:///{tmp_path / 'out' / 'study.db'}"
    from lstmtune.data import series as data
    from lstmtune.study import identity

    stored = optuna.load_study(study_name=search.optuna_name(s, data.load("shampoo")), storage=url)
    best = stored.best_trial
    assert best.value == pytest.approx(outcome.trials["value"].min())
    # ... and its runs are in lstmtune's store: the objective is their mean validation RMSE
    # (the holdout of the validation phase).
    with open_store(url) as store:
        ids = {identity.parse(n)[1]: i for i, n in store.studies()}
        runs = store.runs(ids["validation"])
    mine = runs[runs["config"] == best.user_attrs["config"]]
    assert len(mine) == 3
    assert mine["test_rmse"].mean() == pytest.approx(best.value, rel=1e-12)
    assert set(best.params) == {"units", "learning_rate", "epochs"}
    assert int(mine["units"].iloc[0]) == best.params["units"] and int(mine["epochs"].iloc[0]) == best.params["epochs"]


def test_grid_sampler_covers_the_grid_once(tmp_path):
    s = _spec({"sampler": "grid", "trials": 100, "batch": 4, "space": {"units": {"type": "int", "low": 1, "high": 2}, "epochs": {"type": "categorical", "choices": [10, 20, 30]}}})
    outcome, _ = search.run(s, tmp_path / "g")
    combos = sorted(zip(outcome.trials["units"], outcome.trials["epochs"]))
    assert combos == sorted((u, e) for u in (1, 2) for e in (10, 20, 30))


def test_successive_halving_prunes_by_epochs(tmp_path):
    s = spec.from_dict(
        {
            "name": "sh",
            "seed": 1,
            "transforms": {"trim": 2},
            "model": {"batch_size": 4, "epochs": 90},
            "runs": {"repeats": 2},
            "search": {
                "sampler": "random", "trials": 9, "batch": 9, "pruner": "successive_halving",
                "min_epochs": 10, "reduction_factor": 3,
                "space": {"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True}},
            },
        }
    )
    assert search.rungs(s.search, 90) == [10, 30, 90]
    outcome, _ = search.run(s, tmp_path / "sh")
    states = outcome.trials["state"].value_counts().to_dict()
    assert states == {"PRUNED": 8, "COMPLETE": 1}
    # 9 trials x 2 repeats at 10 epochs, 3 x 2 at 30, 1 x 2 at 90.
    assert outcome.trainings == 18 + 6 + 2
    trials = {t.number: t for t in outcome.study.trials}
    done = [t for t in trials.values() if t.state.name == "COMPLETE"][0]
    assert set(done.intermediate_values) == {10, 30}
    # The survivor was the best at each rung it passed.
    at10 = {n: t.intermediate_values[10] for n, t in trials.items()}
    assert min(at10, key=at10.get) in {n for n, t in trials.items() if 30 in t.intermediate_values}


def _count_trainings(monkeypatch):
    """Replicas trained by the engine from now on, one entry per population."""
    from lstmtune.engine import trainer as engine

    calls, real = [], engine.train_population

    def counting(*args, **kwargs):
        calls.append(len(kwargs["seeds"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "train_population", counting)
    return calls


def _trained_seeds(monkeypatch):
    """Seeds of the replicas the engine trains from now on, whatever the phase (selection,
    diagnostics, test). Seeds are per configuration (``runs.seeding = "per-config"``), so
    they say which trials' runs were trained."""
    from lstmtune.engine import trainer as engine

    seeds, real = [], engine.train_population

    def recording(*args, **kwargs):
        seeds.extend(int(s) for s in kwargs["seeds"])
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "train_population", recording)
    return seeds


def _stored_runs(run_dir):
    """Every run row of a run directory's store, (study, config, repeat) -> (seed, owner,
    claimed_at, finished_at, train_seconds): a retrained run would get a new owner and times."""
    import sqlalchemy as sa

    from lstmtune.store.schema import runs_table
    from lstmtune.store.sql import default_url

    t = runs_table.c
    engine = sa.create_engine(default_url(run_dir))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(t.study_id, t.config_key, t.repeat, t.seed, t.owner, t.claimed_at, t.finished_at, t.train_seconds)).all()
    finally:
        engine.dispose()
    return {tuple(r[:3]): tuple(r[3:]) for r in rows}


def test_search_resumes_with_a_larger_budget(tmp_path, monkeypatch):
    out = tmp_path / "r"
    s = _spec({"sampler": "random", "trials": 3, "batch": 3, "space": SPACE})
    first, _ = search.run(s, out)
    assert first.trainings == 3 * 3
    stored = _stored_runs(out)
    assert len(stored) > 3 * 3  # the trials' runs, their diagnostic reruns and the best one's test runs
    calls = _count_trainings(monkeypatch)
    again, _ = search.run(s, out)  # finished: nothing is retrained, diagnostics included
    assert calls == [] and again.trainings == 0
    pd.testing.assert_frame_equal(again.trials, first.trials)
    assert _stored_runs(out) == stored
    more = _spec({"sampler": "random", "trials": 5, "batch": 3, "space": SPACE})
    seeds = _trained_seeds(monkeypatch)
    outcome, _ = search.run(more, out)
    assert len(outcome.trials) == 5
    assert outcome.trainings == 2 * 3  # only the 2 new trials' 3 repeats
    pd.testing.assert_frame_equal(outcome.trials.head(3), first.trials)
    # The engine trained the 2 new trials' runs, and no run stored before (in no phase:
    # the finished trials' selection runs, their diagnostic reruns, the best one's test runs) ...
    new = set(outcome.runs["seed"]) - set(first.runs["seed"])
    assert len(new) == 2 * 3 and new <= set(seeds)
    assert not set(seeds) & {row[0] for row in stored.values()}
    # ... which are untouched in the store (same owner and timestamps); what was trained was added.
    after = _stored_runs(out)
    assert {k: after[k] for k in stored} == stored
    assert set(seeds) <= {row[0] for k, row in after.items() if k not in stored}
    # The budget lowered again: the file's first 3 trials, as a search of 3 gave them, and said
    # (a probe: the rerun reported all 5 stored trials, with another best and test score).
    calls = _count_trainings(monkeypatch)
    fewer, _ = search.run(s, out)
    assert calls == [] and fewer.trainings == 0
    pd.testing.assert_frame_equal(fewer.trials, first.trials)
    assert fewer.test["trial"] == first.test["trial"]
    np.testing.assert_array_equal(fewer.test["test_rmse"], first.test["test_rmse"])
    assert any("2 more trials are stored than the study file's budget of 3: the first 3 are used" in n for n in fewer.notices)
    pd.testing.assert_frame_equal(pd.read_csv(out / "trials.csv"), pd.read_csv(out / "trials.csv").head(3))


@pytest.mark.parametrize(
    "space, message",
    [
        ({"units": {"type": "int", "low": 5, "high": 1}}, "search.space.units: low (5) > high (1)"),
        ({"learning_rate": {"type": "float", "low": 0, "high": 0.1, "log": True}}, "log scale needs low > 0"),
        ({"cell": {"type": "categorical", "choices": []}}, "search.space.cell: categorical: choices must be a non-empty list"),
        ({"neurons": {"type": "int", "low": 1, "high": 3}}, "space.neurons: unknown parameter"),
        ({}, "no parameters to search"),
        # Optuna's Decimal arithmetic failed on such a step (InvalidOperation), the grid's count overflowed
        ({"learning_rate": {"type": "float", "low": 0.001, "high": 0.01, "step": 1e-40}}, "into more than 1,000,000,000,000,000 values; give a coarser step"),
        # Optuna moved high with a UserWarning of its own on stderr
        ({"learning_rate": {"type": "float", "low": 0.001, "high": 0.01, "step": 0.004}}, "is not a multiple of step 0.004"),
    ],
)
def test_bad_search_spaces_are_rejected(space, message, tmp_path):
    with pytest.raises(SpecError, match="test.toml") as info:
        _spec({"space": space})
    assert message in str(info.value)
    # Through the CLI: exit 2, the message, nothing written.
    path = tmp_path / "bad.toml"
    lines = ["[search]", "[search.space]"] if not space else ["[search]"]
    for name, p in space.items():
        lines.append(f"[search.space.{name}]")
        for k, v in p.items():
            lines.append(f"{k} = {v!r}".replace("'", '"').replace("True", "true"))
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["search", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message.split(": ")[-1] in result.output
    assert not (tmp_path / "o").exists()


def test_objective_statistics():
    import numpy as np

    values = np.array([1.0, 2.0, 3.0, 10.0, np.nan])
    mk = lambda **kw: _spec({"space": SPACE, **kw}).search  # noqa: E731
    assert search.objective(values, mk(objective="mean")) == pytest.approx(4.0)
    assert search.objective(values, mk(objective="median")) == pytest.approx(2.5)
    assert search.objective(values, mk(objective="quantile", quantile=0.75)) == pytest.approx(np.quantile([1, 2, 3, 10], 0.75))
    assert search.objective(values, mk(objective="mean+std", k=2.0)) == pytest.approx(4.0 + 2 * np.std([1, 2, 3, 10], ddof=1))
    assert search.objective(np.array([np.nan]), mk()) is None


def test_cmaes_sampler_runs_numeric_spaces(tmp_path):
    s = _spec({"sampler": "cmaes", "trials": 4, "batch": 2, "space": {"learning_rate": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}, "units": {"type": "int", "low": 1, "high": 2}}})
    outcome, _ = search.run(s, tmp_path / "c")
    assert len(outcome.trials) == 4 and set(outcome.trials["state"]) == {"COMPLETE"}
    assert all(1e-3 <= v <= 1e-2 for v in outcome.trials["learning_rate"])
    with pytest.raises(SpecError, match="CMA-ES samples numbers only"):
        _spec({"sampler": "cmaes", "space": {"cell": {"type": "categorical", "choices": ["lstm", "gru"]}}})


def test_a_search_run_directory_has_per_repeat_results(tmp_path):
    s = _spec({"sampler": "random", "trials": 3, "batch": 3, "space": SPACE})
    outcome, _ = search.run(s, tmp_path / "p")
    runs = pd.read_csv(tmp_path / "p" / "results.csv")
    trials = pd.read_csv(tmp_path / "p" / "trials.csv")
    done = trials[trials["state"] == "COMPLETE"]
    assert len(runs) == 3 * len(done) and set(runs["trial"]) == set(done["trial"])
    assert {"trial", "config", "repeat", "seed", "validation_rmse"} <= set(runs.columns)
    # A trial's value is its objective over these per-repeat scores.
    for _, t in done.iterrows():
        mine = runs[runs["trial"] == t["trial"]]
        assert sorted(mine["repeat"]) == [0, 1, 2]
        np.testing.assert_allclose(search.objective(mine["validation_rmse"].to_numpy(), s.search), t["value"], rtol=1e-12)


def test_trials_that_drew_one_configuration_each_have_its_rows_in_results_csv(tmp_path):
    """A small space makes TPE draw a configuration twice: results.csv credited the runs to the
    last trial that drew it, so the best trial (the first) had no rows (a probe)."""
    s = _spec({"sampler": "grid", "trials": 2, "batch": 2, "space": {"units": {"type": "categorical", "choices": [1, 2]}}})
    tpe = s.model_copy(update={"search": s.search.model_copy(update={"sampler": "tpe", "trials": 4, "batch": 4})})
    outcome, _ = search.run(tpe, tmp_path / "p")
    runs, trials = pd.read_csv(tmp_path / "p" / "results.csv"), pd.read_csv(tmp_path / "p" / "trials.csv")
    done = trials[trials["state"] == "COMPLETE"]
    assert done["config"].duplicated().any()  # two trials drew one configuration
    assert len(runs) == 3 * len(done) and sorted(set(runs["trial"])) == sorted(done["trial"])
    for _, t in done.iterrows():
        mine = runs[runs["trial"] == t["trial"]]
        assert (mine["config"] == t["config"]).all()
        np.testing.assert_allclose(search.objective(mine["validation_rmse"].to_numpy(), s.search), t["value"], rtol=1e-12)


def test_fit_from_a_search_run_directory_takes_its_best_trial(tmp_path):
    from lstmtune.workflow import studyfit

    s = _spec({"sampler": "random", "trials": 4, "batch": 4, "space": SPACE})
    outcome, _ = search.run(s, tmp_path / "p")
    trials = search.completed(outcome.trials)
    best = trials.sort_values("value").iloc[0]
    assert int(best["trial"]) == outcome.test["trial"]  # the trial the search scored on the test set
    res = CliRunner().invoke(app, ["fit", str(tmp_path / "p"), "--out", str(tmp_path / "model"), "--repeats", "2", "--horizon", "2"])
    assert res.exit_code == 0, res.output
    model = studyfit.fit_source(tmp_path / "p", repeats=2, horizon=2)
    assert model.info["label"] == f"trial {int(best['trial'])}" and model.info["chosen"] == "selected"
    assert model.config.key == best["config"]
    runs = pd.read_csv(tmp_path / "p" / "results.csv")
    assert list(model.seeds) == runs[runs["trial"] == best["trial"]].sort_values("repeat")["seed"].tolist()[:2]  # the trial's own seeds
    other = int(trials.sort_values("value").iloc[-1]["trial"])
    assert studyfit.fit_source(tmp_path / "p", label=f"trial {other}", repeats=1, horizon=2).config.key == trials.set_index("trial").loc[other, "config"]
    (tmp_path / "p" / "study.toml").unlink()
    res = CliRunner().invoke(app, ["fit", str(tmp_path / "p"), "--out", str(tmp_path / "m2")])
    assert res.exit_code == 2 and "missing study.toml; not a complete search run directory" in res.output


def test_a_sampled_point_that_does_not_fit_the_data_fails_alone():
    # a batch larger than the training rows once stopped the whole search (and left its store
    # with trials stuck running); now it is told failed, with the reason, before any training
    from lstmtune.data import series as data

    s = _spec({"sampler": "grid", "trials": 10, "batch": 2, "space": {"batch_size": {"type": "categorical", "choices": [2, 60]}}}, repeats=2)
    summary = s.model_copy(update={"runs": s.runs.model_copy(update={"mode": "summary"})})
    shampoo = data.load("shampoo")
    study = optuna.create_study(sampler=search.make_sampler(s.search, s.seed))
    for params in ({"batch_size": 2}, {"batch_size": 60}):
        study.enqueue_trial(params)
    asked = search.ask_round(study, s.search, search.base_params(s), 2, unfit=lambda config: search._unfit(summary, shampoo, config))
    assert [params for _, params, _ in asked] == [{"batch_size": 2}]
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert [t.params for t in failed] == [{"batch_size": 60}] and "batch_size 60 + trim 2 needs at least" in failed[0].user_attrs["error"]


def test_a_time_limit_spent_before_any_trial_is_a_failed_search_not_a_traceback(tmp_path):
    """KeyError: 'value' came out of the report when no trial had started."""
    path = tmp_path / "s.toml"
    path.write_text('name = "t"\n[data]\ntest_size = 6\n[model]\nepochs = 5\n[runs]\nrepeats = 2\n'
                    '[search]\ntrials = 1\ntimeout_s = 0.001\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 3\n')
    result = CliRunner().invoke(app, ["search", str(path), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 3 and "no trial finished" in " ".join(result.output.split()), result.output
    # its trials.csv was written empty, without a header, and `fit` on it raised pandas' EmptyDataError (exit 1)
    assert pd.read_csv(tmp_path / "o" / "trials.csv").columns[:4].tolist() == ["trial", "state", "value", "epochs_measured"]
    for trials_csv in ("as written", ""):
        if not trials_csv:
            (tmp_path / "o" / "trials.csv").write_text("")  # as searches before this wrote it
        result = CliRunner().invoke(app, ["fit", str(tmp_path / "o"), "--out", str(tmp_path / "m")])
        assert result.exit_code == 2 and "no trial of the search completed; nothing to fit" in result.output and not (tmp_path / "m").exists()


@pytest.mark.parametrize("sampler, pruner, interrupt_at, running", [("grid", "none", 1, 2), ("tpe", "successive_halving", 4, 1)])
def test_a_search_interrupted_mid_round_resumes_with_the_trials_an_uninterrupted_one_runs(tmp_path, monkeypatch, sampler, pruner, interrupt_at, running):
    """Ctrl-C while a round trained left its trials RUNNING: the rerun asked new ones beside them,
    so a grid never trained two of its points (and trained another three times), and TPE's later
    trials and best trial differed from an uninterrupted search's. The stranded round is now
    finished first, with the same trials (a pruned race resumes at the rung it had reached)."""
    import socket
    import subprocess
    import sys

    from lstmtune.workflow import study as study_mod

    space = {"units": {"type": "int", "low": 1, "high": 2}, "learning_rate": {"type": "categorical", "choices": [0.001, 0.01]}}
    section = {"sampler": sampler, "trials": 4, "batch": 2, "space": space, "pruner": pruner}
    if pruner != "none":
        section |= {"min_epochs": 10, "reduction_factor": 2}
    s = spec.from_dict({"name": "s", "seed": 5, "transforms": {"trim": 2}, "model": {"batch_size": 4, "epochs": 20}, "runs": {"repeats": 2}, "search": section})
    whole, _ = search.run(s, tmp_path / "whole")

    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()  # a process that no longer exists: the interrupted one
    monkeypatch.setattr(search, "new_owner", lambda: f"{socket.gethostname()}:{gone.pid}:0", raising=False)
    real, calls = study_mod.run_selection, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(study_mod, "run_selection", interrupted)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        search.run(s, out)
    storage = f"sqlite:///{out / 'study.db'}"
    left = optuna.load_study(study_name=whole.study.study_name, storage=storage).trials
    assert [t.state.name for t in left].count("RUNNING") == running
    monkeypatch.setattr(study_mod, "run_selection", real)
    resumed, _ = search.run(s, out)
    pd.testing.assert_frame_equal(resumed.trials, whole.trials)
    assert resumed.test is not None and resumed.test.keys() == whole.test.keys()
    assert all(np.array_equal(resumed.test[k], whole.test[k]) for k in whole.test)  # the best trial's test score


def test_a_finished_searchs_study_db_alone_holds_its_trials_and_runs(tmp_path):
    """Optuna's storage kept a connection open to the end, so SQLite never copied its write-ahead
    log back: a finished search's study.db was 4 KB, its 750 KB in study.db-wal, and a study.db
    copied alone (a backup, a colleague) held no results. Optuna's own engine was never closed
    either, so a finished search also left study.db-wal and study.db-shm beside it."""
    import shutil

    s = _spec({"sampler": "random", "trials": 2, "batch": 2, "space": SPACE})
    outcome, _ = search.run(s, tmp_path / "r")
    assert not [p.name for p in (tmp_path / "r").iterdir() if p.name.startswith("study.db-")]
    alone = tmp_path / "copy"
    alone.mkdir()
    shutil.copy(tmp_path / "r" / "study.db", alone / "study.db")  # without study.db-wal
    assert len(optuna.load_study(study_name=outcome.study.study_name, storage=f"sqlite:///{alone / 'study.db'}").trials) == 2
    assert _stored_runs(alone) == _stored_runs(tmp_path / "r")


def test_a_second_process_on_the_same_search_shares_its_trial_budget(tmp_path):
    """Two `lstmtune search` on one --out each asked rounds up to the budget from the trials
    *finished*: a budget of 12 ended with 14 trials, trained (a probe). Trials another live
    process is training count against the budget; this process stops when none are left to ask."""
    import socket

    s = _spec({"sampler": "random", "trials": 2, "batch": 2, "space": SPACE})
    outcome, _ = search.run(s, tmp_path / "out")
    url = f"sqlite:///{tmp_path / 'out' / 'study.db'}"
    stored = optuna.load_study(study_name=outcome.study.study_name, storage=url)
    for _ in range(2):  # another worker's round, still training (pid 1 is alive)
        trial = stored.ask()
        trial.set_user_attr("owner", f"{socket.gethostname()}:1:other")
        trial.set_user_attr("round", 1)
    more = _spec({"sampler": "random", "trials": 4, "batch": 2, "space": SPACE})
    again, _ = search.run(more, tmp_path / "out")
    states = [t.state.name for t in optuna.load_study(study_name=outcome.study.study_name, storage=url).trials]
    assert len(states) == 4 and states.count("RUNNING") == 2, states  # none asked beyond the budget
    assert len(again.trials) == 2  # its outcome: the finished trials


def test_a_multi_step_search_is_set_against_multi_step_persistence_and_its_figures_name_the_holdout(tmp_path, monkeypatch):
    """With ``horizon = 2`` the trials and the test are scored on 2-step forecasts: persistence
    too, as `run` scores it (before, one-step persistence made every skill look higher). The
    history's axis names the holdout the trials were chosen on (before, "test" for validation)."""
    from lstmtune.data import series as data
    from lstmtune.report import figures
    from lstmtune.selection import baselines

    drawn = {}
    for name, key in (("search_history", "history"),):
        real = getattr(figures, name)
        monkeypatch.setattr(figures, name, lambda *a, real=real, key=key, **k: (drawn.setdefault(key, k), real(*a, **k))[1])
    raw = {"name": "h", "seed": 5, "data": {"test_size": 6}, "model": {"batch_size": 4, "epochs": 20}, "runs": {"repeats": 2, "diagnostic_repeats": 2},
           "evaluation": {"selection": "validation", "validation_size": 6, "horizon": 2},
           "search": {"sampler": "grid", "trials": 2, "batch": 2, "space": {"units": {"type": "categorical", "choices": [1, 2]}}}}
    search.run(spec.from_dict(raw, "h.toml"), tmp_path / "out")
    values = data.load("shampoo").values
    two_step = {b.name: b.scores["rmse"] for b in baselines.evaluate(values, test_size=6, horizon=2)[0]}["persistence"]
    assert baselines.persistence_rmse(values, 6, 2) == pytest.approx(two_step, rel=1e-12)
    assert baselines.persistence_rmse(values, 6, 2) != pytest.approx(baselines.persistence_rmse(values, 6))
    validation = baselines.persistence_rmse(values[:-6], 6, 2)
    assert drawn["history"]["baseline"] == pytest.approx(validation, rel=1e-12) and drawn["history"]["metric"] == "validation RMSE"
    assert f"{baselines.persistence_rmse(values, 6, 2):.3f}" in (tmp_path / "out" / "search.html").read_text()


def test_a_backtest_searchs_curves_are_set_against_persistence_on_their_own_fold(tmp_path, monkeypatch):
    """The best trials' curves are one-step errors on the latest fold; their figures drew the
    persistence averaged over folds at the study's horizon (81.8 beside a fold whose one-step
    persistence is 98.3: a report probe). The history keeps the trials' own."""
    from lstmtune.report import figures

    drawn = {}
    for name in ("diagnostic_band", "search_history"):
        real = getattr(figures, name)
        monkeypatch.setattr(figures, name, lambda *a, real=real, name=name, **k: (drawn.setdefault(name, set()).add(round(k["baseline"], 6)), real(*a, **k))[1])
    s = spec.from_dict({"name": "s", "seed": 5, "model": {"batch_size": 4, "epochs": 5}, "runs": {"repeats": 2, "diagnostic_repeats": 2},
                        "evaluation": {"selection": "backtest", "folds": 2, "validation_size": 6, "horizon": 2},
                        "search": {"sampler": "grid", "objective": "quantile", "quantile": 0.6, "space": {"units": {"type": "int", "low": 1, "high": 2}}}}, "test.toml")
    _, report = search.run(s, tmp_path / "out")
    assert "objective: quantile 0.6 of validation RMSE" in report.read_text()  # which quantile (the report named none)
    from lstmtune.data import series as data

    values = data.load("shampoo").values[:-s.data.test_size]
    one_step = float(np.sqrt(np.mean(np.diff(values[-7:]) ** 2)))  # the latest fold's 6 points and the one before them
    assert drawn["diagnostic_band"] == {round(one_step, 6)}
    assert drawn["search_history"] != {round(one_step, 6)}


def test_settings_that_do_not_fit_a_backtest_fold_are_refused_before_anything_is_written(tmp_path):
    """`run` refuses a trim that leaves a fold's training rows indivisible by the batch; `search`
    checked the whole series only, then failed every trial and wrote a report (a report probe)."""
    s = spec.from_dict({"name": "s", "seed": 5, "transforms": {"trim": 2}, "model": {"batch_size": 4, "epochs": 5}, "runs": {"repeats": 2},
                        "evaluation": {"selection": "backtest", "folds": 2, "validation_size": 6},
                        "search": {"sampler": "grid", "space": {"units": {"type": "int", "low": 1, "high": 2}}}}, "test.toml")
    with pytest.raises(SpecError, match="selection phase fold1"):
        search.run(s, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["rung", "ask"])
def test_a_search_interrupted_mid_race_or_mid_ask_resumes_as_an_uninterrupted_one(tmp_path, monkeypatch, where):
    """Two windows a probe found (kill -9 and a replay of each):
    - ``rung``: killed after a round's first rung, its survivors were raced again from the first
      rung on their own, so the cut kept ceil(2/3) = 1 of them where the uninterrupted race
      kept both (a trial pruned at 10 epochs instead of 30);
    - ``ask``: killed while a round's trials were asked, the rest were asked in the next round,
      after the first part had finished, so TPE drew them from another history.
    The round is now replayed whole (its pruned trials' runs read back) and finished being asked."""
    import socket
    import subprocess
    import sys

    from lstmtune.workflow import study as study_mod

    space = {"units": {"type": "int", "low": 1, "high": 2}, "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}}
    if where == "rung":
        section = {"sampler": "random", "trials": 6, "batch": 6, "space": space, "pruner": "successive_halving", "min_epochs": 10, "reduction_factor": 3}
        epochs = 90
    else:
        section = {"sampler": "tpe", "trials": 15, "batch": 6, "space": space}
        epochs = 10
    s = spec.from_dict({"name": "s", "seed": 5, "transforms": {"trim": 2}, "model": {"batch_size": 4, "epochs": epochs}, "runs": {"repeats": 2}, "search": section})
    whole, _ = search.run(s, tmp_path / "whole")

    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()  # a process that no longer exists: the interrupted one
    monkeypatch.setattr(search, "new_owner", lambda: f"{socket.gethostname()}:{gone.pid}:0", raising=False)
    calls = []
    if where == "rung":  # the second rung's training (trials pruned at the first told already)
        real = study_mod.run_selection

        def interrupted(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(study_mod, "run_selection", interrupted)
    else:  # the 12th trial not asked yet: the second round half asked (TPE's 10 random start-up trials not all asked)
        real = optuna.study.Study.ask

        def interrupted(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 12:
                raise KeyboardInterrupt
            return real(self, *args, **kwargs)

        monkeypatch.setattr(optuna.study.Study, "ask", interrupted)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        search.run(s, out)
    left = optuna.load_study(study_name=whole.study.study_name, storage=f"sqlite:///{out / 'study.db'}").trials
    states = [t.state.name for t in left]
    assert states.count("RUNNING") == (2 if where == "rung" else 5) and len(left) == (6 if where == "rung" else 11)
    monkeypatch.setattr(study_mod, "run_selection", study_mod.run_selection if where == "ask" else real)
    monkeypatch.setattr(optuna.study.Study, "ask", real if where == "ask" else optuna.study.Study.ask)
    if where == "ask":  # the resuming process interrupted too, once it has asked the rest: a review found the
        # round then split in two (the first process's trials and the second's), each topped up to the
        # round's size again: 18 trials of a budget of 15
        again = subprocess.Popen([sys.executable, "-c", ""])
        again.wait()
        monkeypatch.setattr(search, "new_owner", lambda: f"{socket.gethostname()}:{again.pid}:0", raising=False)
        selection, tries = study_mod.run_selection, []

        def stopped(*args, **kwargs):
            tries.append(1)
            raise KeyboardInterrupt

        monkeypatch.setattr(study_mod, "run_selection", stopped)
        with pytest.raises(KeyboardInterrupt):
            search.run(s, out)
        monkeypatch.setattr(study_mod, "run_selection", selection)
    resumed, _ = search.run(s, out)
    pd.testing.assert_frame_equal(resumed.trials, whole.trials)


def test_a_grid_of_float_steps_lists_the_decimal_points_within_the_range():
    """low + i * step in floats gave 0.30000000000000004 and, for high = 0.7, 0.7000000000000001:
    written so in trials.csv and search.html, the last point outside the declared range (a probe)."""
    s = spec.from_dict({"search": {"sampler": "grid", "space": {
        "dropout": {"type": "float", "low": 0.1, "high": 0.7, "step": 0.2},
        "learning_rate": {"type": "float", "low": 0.001, "high": 0.01, "step": 0.003},
    }}})
    grid = search.grid_space(s.search)
    assert grid == {"dropout": [0.1, 0.3, 0.5, 0.7], "learning_rate": [0.001, 0.004, 0.007, 0.01]}
    study = optuna.create_study(sampler=search.make_sampler(s.search, 0))
    study.enqueue_trial({"dropout": 0.7, "learning_rate": 0.01})
    assert search.suggest(study.ask(), s.search) == {"dropout": 0.7, "learning_rate": 0.01}  # Optuna takes the points as in its range


def test_a_finished_searchs_rerun_keeps_its_report(tmp_path):
    """A rerun with nothing to train rewrote search.html with "0 trainings in 0.0 s" (a probe):
    the report now gives the search's trainings so far, which only a run that trained adds to."""
    s = _spec({"sampler": "random", "trials": 2, "batch": 2, "space": SPACE})
    first, page = search.run(s, tmp_path / "p")
    before = page.read_text()
    assert f"{first.trainings} trainings in" in before and first.trainings > 0
    again, page = search.run(s, tmp_path / "p")
    assert again.trainings == 0 and page.read_text() == before


def test_outputs_are_written_from_the_trials_stored_when_this_process_writes(tmp_path, monkeypatch):
    """Two searches on one --out: the one that finished its rounds first, while the other still
    trained the last trials, moved its older view into place after the other's fuller one
    (a probe: trials.csv listed 14 of 16 stored trials). Writers now take turns, each reading the
    trials in its turn: here this process's rounds end with one trial and another process's two
    more finish before it writes, and the files hold every stored trial."""
    import dataclasses

    s = _spec({"sampler": "random", "trials": 3, "batch": 3, "space": SPACE})
    real = search.search_rounds

    def then_another(spec, *args, **kwargs):
        mine = real(spec.model_copy(update={"search": spec.search.model_copy(update={"trials": 1})}), *args, **kwargs)  # trial 0
        real(spec, *args, **kwargs)  # another process of the search, meanwhile: trials 1 and 2
        return dataclasses.replace(mine, spec=spec, budget=3)

    monkeypatch.setattr(search, "search_rounds", then_another)
    outcome, _ = search.run(s, tmp_path / "out")
    assert len(outcome.trials) == 3
    assert sorted(pd.read_csv(tmp_path / "out" / "trials.csv")["trial"]) == [0, 1, 2]


def test_writers_of_one_directory_take_turns(tmp_path):
    """While one process holds a directory's writing turn, another cannot take it."""
    import subprocess
    import sys

    from lstmtune.store import fileio

    probe = ("import fcntl, sys\n"
             f"h = open({str(tmp_path / fileio.WRITING)!r}, 'a+b')\n"
             "try:\n    fcntl.flock(h.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(3)\n")
    with fileio.writers_in_turn(tmp_path):
        assert subprocess.run([sys.executable, "-c", probe]).returncode == 3
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0


def test_a_file_system_that_takes_no_locks_writes_unlocked(tmp_path, monkeypatch):
    """NFS without a lock daemon answers flock with ENOLCK: the outputs are written as before
    (a review: the search's outputs were lost after all its training)."""
    import errno
    import fcntl

    from lstmtune.store import fileio

    def refuse(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refuse)
    with fileio.writers_in_turn(tmp_path):
        (tmp_path / "written").write_text("x")
    assert (tmp_path / "written").read_text() == "x"
