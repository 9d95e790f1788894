"""Issue 9 item 1, continued: what a stored run or trial is *of* (lstmtune.study.identity).

test_stale_resume.py covers data, split and source; here: the fingerprint's inputs
one by one, curves (summary -> both), phases sharing a study name in one store,
and a search's Optuna trials (objective, repeats, folds, fixed model settings).
"""

import dataclasses

import numpy as np
import pytest
from typer.testing import CliRunner

from lstmtune.study import executor
from lstmtune.study import identity
from lstmtune.study import planner
from lstmtune.workflow import search
from lstmtune.study import spec
from lstmtune.cli.app import app
from lstmtune.data.series import load
from lstmtune.store import open_store

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it


def _spec(**sections):
    base = {"name": "ident", "seed": 3, "model": {"batch_size": 4, "epochs": 6}, "runs": {"mode": "summary", "repeats": 2},
            "evaluation": {"selection": "test"}, "grid": {"units": [1, 2]}}
    for k, v in sections.items():
        base[k] = {**base[k], **v} if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return spec.from_dict(base)


def test_fingerprint_changes_with_every_input_that_changes_numbers():
    s, x = _spec(), load("shampoo")
    fp = identity.fingerprint(s, x)
    changed = {
        "values": identity.fingerprint(s, dataclasses.replace(x, values=x.values * 10)),
        "one value": identity.fingerprint(s, dataclasses.replace(x, values=np.r_[x.values[:-1], x.values[-1] + 1e-9])),
        "dates": identity.fingerprint(s, dataclasses.replace(x, dates=x.dates + np.timedelta64(1, "D"))),
        "truncated": identity.fingerprint(s, dataclasses.replace(x, dates=x.dates[:-6], values=x.values[:-6])),
        "test_size": identity.fingerprint(_spec(data={"test_size": 6}), x),
        "source": identity.fingerprint(_spec(data={"source": "airline"}), x),
        "feature_range": identity.fingerprint(_spec(transforms={"feature_range": [0.0, 1.0]}), x),
        "seed": identity.fingerprint(_spec(seed=4), x),
        "seeding": identity.fingerprint(_spec(runs={"seeding": "shared"}), x),
        "score_last": identity.fingerprint(s, x, score_last=6),
        "curves": identity.fingerprint(s, x, curve_repeats=2),
    }
    assert all(v != fp for v in changed.values()), [k for k, v in changed.items() if v == fp]
    assert len(set(changed.values())) == len(changed)
    # What is in the configuration key, or changes no run, leaves it alone.
    same = [_spec(data={"period": 4}), _spec(model={"epochs": 9}), _spec(runs={"repeats": 5}), _spec(grid={"units": [3]})]
    assert {identity.fingerprint(t, x) for t in same} == {fp}
    assert identity.fingerprint(s, x, curve_repeats=0) == fp


def test_phases_sharing_a_study_name_never_mix(tmp_path):
    """Two calls of execute_stored in one store, same study name and phase, other prefix
    of the series and other test_size: each gets its own runs, equal to a store of its own."""
    x = load("shampoo")
    cases = [(_spec(), x), (_spec(data={"test_size": 6}), dataclasses.replace(x, dates=x.dates[:-12], values=x.values[:-12]))]
    with open_store(f"sqlite:///{tmp_path / 'shared.db'}") as store:
        shared = [executor.execute(dataclasses.replace(planner.plan(s), phase="validation"), ser, store) for s, ser in cases]
        assert len(store.studies()) == 2
    for k, (s, ser) in enumerate(cases):
        with open_store(f"sqlite:///{tmp_path / f'alone{k}.db'}") as store:
            alone = executor.execute(dataclasses.replace(planner.plan(s), phase="validation"), ser, store)
        assert shared[k].timings["runs_trained"] == 4
        np.testing.assert_array_equal(shared[k].runs["test_rmse"].to_numpy(), alone.runs["test_rmse"].to_numpy())
    assert not np.allclose(shared[0].runs["test_rmse"], shared[1].runs["test_rmse"])


STUDY = """
name = "curves"
seed = 1
[data]
source = "shampoo"
[model]
batch_size = 4
epochs = 5
[runs]
mode = "{mode}"
repeats = 2
diagnostic_repeats = 2
[evaluation]
selection = "test"
[grid]
units = [1, 2]
"""


def _run(tmp_path, out, mode):
    f = tmp_path / "s.toml"
    f.write_text(STUDY.format(mode=mode))
    result = CliRunner().invoke(app, ["run", str(f), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    with np.load(out / "curves.npz") as z:
        return result.output, {k: z[k] for k in z.files}


def test_runs_stored_without_curves_do_not_serve_a_study_that_reports_them(tmp_path, record_property):
    out = tmp_path / "out"
    _, none = _run(tmp_path, out, "summary")
    assert none == {}
    text, rerun = _run(tmp_path, out, "both")
    assert "changed since results were stored" in text.replace("\n", " ")
    _, fresh = _run(tmp_path, tmp_path / "fresh", "both")
    assert sorted(rerun) == sorted(fresh) and len(fresh) == 2
    for k in fresh:
        assert rerun[k].shape == (2, 5, 2)
        np.testing.assert_array_equal(rerun[k], fresh[k])
    # Back to summary: the first stored runs serve it again, without training.
    text, _ = _run(tmp_path, out, "summary")
    assert "0 trained now" in text.replace("\n", " ")
    record_property("figure", "summary -> both into the same --out: recomputed with curves, equal to a fresh run")


def _search_spec(**search_over):
    return spec.from_dict(
        {
            "name": "srch", "seed": 2, "model": {"batch_size": 4, "epochs": 5}, "runs": {"repeats": 2},
            "evaluation": {"selection": "backtest", "folds": 2, "validation_size": 6},
            "search": {"sampler": "random", "trials": 2, "batch": 2, "space": {"units": {"type": "int", "low": 1, "high": 3}}, **search_over},
        }
    )


def test_a_search_is_named_by_what_its_trial_values_are_of():
    x = load("shampoo")
    name = search.optuna_name(_search_spec(), x)
    other = {
        "objective": _search_spec(objective="median"),
        "pruner": _search_spec(pruner="successive_halving", min_epochs=2),
        "space": _search_spec(space={"units": {"type": "int", "low": 1, "high": 4}}),
        "folds": _search_spec().model_copy(update={"evaluation": _search_spec().evaluation.model_copy(update={"folds": 3})}),
        "repeats": _search_spec().model_copy(update={"runs": _search_spec().runs.model_copy(update={"repeats": 3})}),
        "epochs": _search_spec().model_copy(update={"model": _search_spec().model.model_copy(update={"epochs": 7})}),
    }
    assert all(search.optuna_name(s, x) != name for s in other.values()), [k for k, s in other.items() if search.optuna_name(s, x) == name]
    # More trials, another sampler or batch: the same trials continue.
    for s in (_search_spec(trials=5), _search_spec(sampler="tpe"), _search_spec(batch=1)):
        assert search.optuna_name(s, x) == name


def test_a_search_with_another_objective_does_not_reuse_trial_values(tmp_path, record_property):
    out = tmp_path / "out"
    first, _ = search.run(_search_spec(), out)
    second, _ = search.run(_search_spec(objective="mean+std"), out)
    assert any("changed since its trials were stored" in n for n in second.notices)
    assert first.notices == []
    for outcome, reduce in ((first, np.mean), (second, lambda v: v.mean() + v.std(ddof=1))):
        for _, t in outcome.trials.iterrows():
            runs = outcome.runs[outcome.runs["config"] == t["config"]]
            assert t["value"] == pytest.approx(reduce(runs[outcome.metric].to_numpy()), rel=1e-12)
    assert len(second.trials) == 2  # its own trials, not the first search's two plus none
    record_property("figure", "search objective mean -> mean+std into the same --out: new trials, values of the new objective")


def test_status_lists_each_stored_fingerprint_once(tmp_path):
    from lstmtune.study.progress import study_status
    from lstmtune.store import default_url

    out = tmp_path / "out"
    _run(tmp_path, out, "summary")
    _run(tmp_path, out, "both")
    listing = sorted(p.name for p in out.iterdir())
    assert CliRunner().invoke(app, ["status", str(out)]).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == listing  # it left study.db-wal and study.db-shm behind
    with open_store(default_url(out), read_only=True) as store:
        frame = study_status(store)
    assert len(frame) == 2 and frame["study"].nunique() == 2  # one stored study per fingerprint
    assert frame["study"].str.startswith("curves (test phase, data ").all()
    assert list(frame["runs done"]) == [4, 4] and list(frame["pending"]) == [0, 0]
