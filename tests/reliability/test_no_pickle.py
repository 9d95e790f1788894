"""Issue 9 item 2: no store content is ever unpickled (CMA-ES state rebuilt from trials)."""

import pickle
import re
import sqlite3
from pathlib import Path

import numpy as np
import optuna
import pytest

from lstmtune.workflow import search
from lstmtune.study import spec
from lstmtune.study.samplers import SafeCmaEsSampler

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it

SRC = Path(__file__).resolve().parents[2] / "src" / "lstmtune"


def _objective(trial):
    x, y = trial.suggest_float("x", -3, 3), trial.suggest_float("y", -3, 3)
    return (x - 1) ** 2 + 2 * (y + 0.5) ** 2


def test_replayed_state_equals_optunas_pickled_state(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{tmp_path / 'o.db'}"
    study = optuna.create_study(storage=url, sampler=optuna.samplers.CmaEsSampler(seed=3, n_startup_trials=0))
    study.optimize(_objective, n_trials=40)
    done = [t for t in study.trials if t.state.is_finished()]
    original = optuna.samplers.CmaEsSampler(seed=3)
    pickled = original._restore_optimizer(done)  # Optuna's own path: the pickle it stored
    safe = SafeCmaEsSampler(seed=3)
    safe._replay = (study.trials[-1].distributions, study.direction)
    replayed = safe._restore_optimizer(done)
    assert pickled.generation == replayed.generation >= 3
    np.testing.assert_allclose(replayed._mean, pickled._mean, rtol=1e-12, atol=1e-15)
    assert replayed._sigma == pytest.approx(pickled._sigma, rel=1e-12)
    np.testing.assert_allclose(replayed._C, pickled._C, rtol=1e-12, atol=1e-15)


class _Boom:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _search_spec(trials):
    return spec.from_dict(
        {
            "name": "cma",
            "seed": 1,
            "model": {"batch_size": 4, "epochs": 5},
            "runs": {"repeats": 2},
            "search": {
                "sampler": "cmaes",
                "trials": trials,
                "batch": 2,
                "space": {"learning_rate": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}, "units": {"type": "int", "low": 1, "high": 3}},
            },
        }
    )


def _plant(db: Path, marker: Path) -> int:
    """Replace every trial's stored CMA-ES state by a payload that creates ``marker``."""
    payload = pickle.dumps(_Boom(marker)).hex()
    with sqlite3.connect(db) as con:
        trial_ids = [r[0] for r in con.execute("select trial_id from trials")]
        con.execute("delete from trial_system_attributes where key like 'cma:optimizer%'")
        for tid in trial_ids:
            con.execute(
                "insert into trial_system_attributes (trial_id, key, value_json) values (?, 'cma:optimizer:0', ?)",
                (tid, f'"{payload}"'),
            )
    return len(trial_ids)


def test_a_planted_pickle_in_the_store_is_never_loaded(tmp_path, record_property):
    out = tmp_path / "out"
    search.run(_search_spec(4), out)
    marker = tmp_path / "pwned"
    n = _plant(out / "study.db", marker)
    outcome, _ = search.run(_search_spec(8), out)  # resume: 4 more trials
    assert not marker.exists(), "a pickle from the store was executed"
    assert len(outcome.trials) == 8 and set(outcome.trials["state"]) == {"COMPLETE"}
    record_property("figure", f"planted pickle payloads in {n} trials: none executed on resume")


def test_the_planted_payload_is_live_for_optunas_stock_sampler(tmp_path, monkeypatch):
    """Control: the same store resumed with Optuna's own CmaEsSampler runs the payload,
    so the test above can fail."""
    out = tmp_path / "out"
    search.run(_search_spec(4), out)
    marker = tmp_path / "pwned"
    _plant(out / "study.db", marker)
    monkeypatch.setattr(search, "make_sampler", lambda s, seed: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False))
    try:
        search.run(_search_spec(8), out)
    except Exception:  # the payload returns None where an optimizer is expected
        pass
    assert marker.exists()


def test_no_unpickling_anywhere_in_the_package():
    offenders = []
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        for pattern in (r"pickle\.loads?\(", r"allow_pickle\s*=\s*True", r"\bdill\b", r"cloudpickle", r"joblib\.load"):
            for m in re.finditer(pattern, text):
                offenders.append(f"{path.relative_to(SRC)}: {m.group(0)}")
        for m in re.finditer(r"np\.load\(([^)]*)\)", text):
            if "allow_pickle=False" not in m.group(1) and ".npz" not in m.group(1):
                offenders.append(f"{path.relative_to(SRC)}: np.load without allow_pickle=False")
    assert not offenders, offenders
