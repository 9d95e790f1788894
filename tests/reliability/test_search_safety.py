"""Issue 9, search: no pickle from the store, resumable sampling, spaces within bounds, failed searches.

Items 2 (code execution through a study store), 4/5/7 (search spaces against the
parameters' bounds, int steps, huge grids) and 6 (a search whose every trial fails).
"""

import pickle
import re
import sqlite3
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from lstmtune.workflow import search
from lstmtune.study import spec
from lstmtune.cli.app import app
from lstmtune.errors import SpecError

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it

SRC = Path(__file__).resolve().parents[2] / "src" / "lstmtune"


def _spec(sampler="cmaes", trials=4, space=None, **model):
    return spec.from_dict(
        {
            "name": "safe",
            "seed": 2,
            "model": {"batch_size": 4, "epochs": 5, **model},
            "runs": {"repeats": 2},
            "search": {
                "sampler": sampler,
                "trials": trials,
                "batch": 2,
                "space": space or {"learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}, "units": {"type": "int", "low": 1, "high": 3}},
            },
        },
        "s.toml",
    )


# --- item 2: nothing from the store is ever unpickled ----------------------------------


class _Payload:
    """Unpickling this creates ``path``: proof that code from the store ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _plant(db: Path, marker: Path) -> int:
    """Put a live pickle under every key a CMA-ES sampler could read, and under a generic one."""
    payload = pickle.dumps(_Payload(marker)).hex()
    keys = ["cma:optimizer:0", "payload"]  # the key CmaEsSampler unpickles (one chunk), and another
    with sqlite3.connect(db) as con:
        ids = [r[0] for r in con.execute("select trial_id from trials")]
        for tid in ids:
            for key in keys:
                con.execute("insert or replace into trial_system_attributes (trial_id, key, value_json) values (?, ?, ?)", (tid, key, f'"{payload}"'))
            con.execute("insert or replace into trial_user_attributes (trial_id, key, value_json) values (?, 'payload', ?)", (tid, f'"{payload}"'))
        for (sid,) in con.execute("select study_id from studies").fetchall():
            con.execute("insert or replace into study_system_attributes (study_id, key, value_json) values (?, 'payload', ?)", (sid, f'"{payload}"'))
    return len(ids)


def test_a_cmaes_search_resumes_a_store_with_planted_pickles_without_running_them(tmp_path):
    out = tmp_path / "out"
    search.run(_spec(trials=4), out)
    marker = tmp_path / "pwned"
    assert _plant(out / "study.db", marker) == 4
    outcome, _ = search.run(_spec(trials=8), out)  # resumes: 4 more trials
    assert not marker.exists(), "a pickle from the store was executed"
    assert list(outcome.trials["trial"]) == list(range(8))
    assert set(outcome.trials["state"]) == {"COMPLETE"}
    # The payload is live: Optuna's stock sampler, resuming the same store, runs it.
    done = [t for t in outcome.study.trials if t.state.is_finished()]
    assert optuna.samplers.CmaEsSampler(seed=2)._restore_optimizer(done) is None  # what Path.touch returns
    assert marker.exists()


def test_our_cmaes_sampler_writes_no_pickle_into_the_store(tmp_path):
    out = tmp_path / "out"
    search.run(_spec(trials=10), out)
    with sqlite3.connect(out / "study.db") as con:
        keys = {k for (k,) in con.execute("select key from trial_system_attributes")}
        generations = [int(v) for (v,) in con.execute("select value_json from trial_system_attributes where key = 'cma:generation' order by trial_id")]
    assert not [k for k in keys if k.startswith("cma:optimizer")], keys
    # Trials 0 and 1 are random (asked before any trial finished); in 2 dimensions CMA-ES's
    # population is 6, so trials 8 and 9 are of generation 1, asked from the state rebuilt
    # from trials 2-7.
    assert generations == [0] * 6 + [1] * 2


@pytest.mark.parametrize("sampler", ["cmaes", "tpe", "random"])
def test_a_resumed_search_asks_what_an_uninterrupted_one_would(sampler, tmp_path):
    """Samplers are seeded per trial: Optuna's draw from one stream started at
    construction, so a resumed random search repeated its first trials' parameters."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = _spec(sampler, trials=12).search

    def drive(url, n):
        study = optuna.create_study(study_name="s", storage=url, sampler=search.make_sampler(s, 2), load_if_exists=True)
        while sum(t.state.is_finished() for t in study.trials) < n:  # rounds of 2, as run_search asks
            asked = [study.ask() for _ in range(2)]
            for trial in asked:
                p = search.suggest(trial, s)
                study.tell(trial, (p["learning_rate"] - 0.01) ** 2 * 1e4 + (p["units"] - 2) ** 2)
        return [t.params for t in study.trials]

    whole = drive(f"sqlite:///{tmp_path / 'a.db'}", 12)
    drive(f"sqlite:///{tmp_path / 'b.db'}", 6)
    resumed = drive(f"sqlite:///{tmp_path / 'b.db'}", 12)
    assert resumed == whole
    assert len({tuple(sorted(p.items())) for p in whole}) == 12  # no repeated draws


def test_a_resumed_cmaes_search_trains_the_same_trials(tmp_path):
    whole, _ = search.run(_spec(trials=8), tmp_path / "whole")
    search.run(_spec(trials=4), tmp_path / "parts")
    resumed, _ = search.run(_spec(trials=8), tmp_path / "parts")
    cols = ["trial", "units", "learning_rate", "value"]
    assert resumed.trials[cols].to_dict("list") == whole.trials[cols].to_dict("list")


def _unpickling(text: str) -> list[str]:
    """The calls in ``text`` that can unpickle: pickle/dill/joblib loads, np.load without allow_pickle=False."""
    found = []
    for pattern in (r"pickle\.loads?\(", r"allow_pickle\s*=\s*True", r"\bdill\b", r"cloudpickle", r"joblib\.load", r"shelve\.open", r"marshal\.loads?\("):
        found += [m.group(0) for m in re.finditer(pattern, text)]
    found += [f"np.load({m.group(1)})" for m in re.finditer(r"np\.load\(([^)]*)\)", text) if "allow_pickle=False" not in m.group(1)]
    return found


def test_no_unpickling_anywhere_in_the_package():
    offenders = [f"{path.relative_to(SRC)}: {call}" for path in sorted(SRC.rglob("*.py")) for call in _unpickling(path.read_text())]
    assert not offenders, offenders


def test_the_unpickling_scan_can_fail():
    sample = "state = pickle.loads(blob)\nz = np.load(path)\nok = np.load(path, allow_pickle=False)\nbad = np.load(p, allow_pickle=True)\n"
    assert _unpickling(sample) == ["pickle.loads(", "allow_pickle=True", "np.load(path)", "np.load(p, allow_pickle=True)"]


# --- items 5 and 7: search spaces within the parameters' bounds ---------------------------


@pytest.mark.parametrize(
    "space, message",
    [
        ({"units": {"type": "int", "low": -3, "high": 4}}, "s.toml: search.space.units: value -3: Input should be greater than or equal to 1"),
        ({"dropout": {"type": "float", "low": 0.0, "high": 1.5}}, "s.toml: search.space.dropout: value 1.5: Input should be less than 1"),
        ({"units": {"type": "categorical", "choices": [0, -1, "x"]}}, "s.toml: search.space.units: value 0: Input should be greater than or equal to 1"),
        ({"units": {"type": "categorical", "choices": [2, "x"]}}, "search.space.units: value 'x'"),
        ({"units": {"type": "categorical", "choices": [2.0]}}, "search.space.units: choice 2.0: give it as 2"),
        ({"units": {"type": "categorical", "choices": [[2, 2]]}}, "search.space.units: choice [2, 2]: a search chooses among single values"),
        ({"units": {"type": "int", "low": 1, "high": 4, "step": 0.5}}, "search.space.units: int: an int range needs a whole-number step, got 0.5"),
        ({"units": {"type": "float", "low": 1, "high": 3}}, 'search.space.units: units takes whole numbers: give type = "int"'),
        # a midpoint with a fraction: the fraction was refused, a value the user never wrote (a probe)
        ({"epochs": {"type": "float", "low": 1, "high": 20}}, 'search.space.epochs: epochs takes whole numbers: give type = "int"'),
        ({"stateful": {"type": "int", "low": 0, "high": 1}}, "search.space.stateful: value 0: Input should be a valid boolean"),
        ({"cell": {"type": "int", "low": 1, "high": 2}}, "search.space.cell: value 1: Input should be 'lstm' or 'gru'"),
        ({"epochs": {"type": "int", "low": 1, "high": 1e300}}, "search.space.epochs: value 1e+300: Input should be less than or equal to 1000000"),
        ({"learning_rate": {"type": "categorical", "choices": [0.01], "step": 0.1}}, "categorical: low/high/log/step do not apply"),
    ],
)
def test_search_spaces_are_checked_against_the_parameters_bounds(space, message, tmp_path):
    with pytest.raises(SpecError) as info:
        _spec("tpe", space=space)
    text = str(info.value)
    assert message in text and "\n" not in text and len(text) < 300
    # Through the CLI: one line, exit 2, nothing written.
    f = tmp_path / "s.toml"
    f.write_text("".join(f"[search.space.{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in p.items()) for name, p in space.items()))
    result = CliRunner().invoke(app, ["search", str(f), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert message.removeprefix("s.toml: ") in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def _toml(v):
    """A TOML value (strings, numbers, flat or nested lists)."""
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return f'"{v}"' if isinstance(v, str) else repr(v)


def test_valid_spaces_still_load():
    s = _spec("tpe", space={
        "units": {"type": "categorical", "choices": [1, 2]},
        "learning_rate": {"type": "categorical", "choices": [1, 0.01, None]},  # 1 for a float is fine; None: the optimizer's default
        "dropout": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
        "lags": {"type": "int", "low": 1, "high": 7, "step": 2},
    })
    assert set(s.search.space) == {"units", "learning_rate", "dropout", "lags"}


def test_a_huge_grid_is_refused_before_anything_is_listed(tmp_path):
    huge = {"epochs": {"type": "int", "low": 1, "high": 1_000_000}, "lags": {"type": "int", "low": 1, "high": 1000}}
    with pytest.raises(SpecError, match=r"s\.toml: search\.space: the grid sampler's grid has 1,000,000,000 points, more than 100,000"):
        _spec("grid", space=huge)
    tiny_step = {"dropout": {"type": "float", "low": 0.0, "high": 0.5, "step": 1e-12}}
    with pytest.raises(SpecError, match="500,000,000,001 points"):
        _spec("grid", space=tiny_step)
    # The other samplers draw from the range; they never list it.
    assert search.grid_size(_spec("tpe", space=huge).search) == 1_000_000_000
    # Counted arithmetically (run_search then lists only the points it will try).
    g = _spec("grid", trials=3, space={"units": {"type": "int", "low": 1, "high": 50}, "lags": {"type": "int", "low": 1, "high": 1000}})
    assert search.grid_size(g.search) == 50_000


def test_non_grid_samplers_draw_from_huge_ranges_without_listing_them():
    import resource

    s = _spec("tpe", space={"epochs": {"type": "int", "low": 1, "high": 1_000_000}, "lags": {"type": "int", "low": 1, "high": 10_000},
                            "learning_rate": {"type": "float", "low": 1e-6, "high": 0.9, "step": 1e-9}}).search
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for sampler in ("random", "tpe", "cmaes"):
        study = optuna.create_study(sampler=search.make_sampler(s.model_copy(update={"sampler": sampler}), 0))
        for _ in range(12):
            t = study.ask()
            p = search.suggest(t, s)
            assert 1 <= p["epochs"] <= 1_000_000 and 1 <= p["lags"] <= 10_000
            study.tell(t, p["epochs"] / 1e6 + p["lags"] / 1e4)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB: no 10^9-value list


def test_trials_and_batch_are_bounded():
    with pytest.raises(SpecError, match="search.trials: Input should be less than or equal to 100000"):
        spec.from_dict({"search": {"trials": 10**9, "space": {"units": {"type": "int", "low": 1, "high": 2}}}})
    with pytest.raises(SpecError, match="search.batch: Input should be less than or equal to 10000"):
        spec.from_dict({"search": {"batch": 10**9, "space": {"units": {"type": "int", "low": 1, "high": 2}}}})


# --- item 6: a search whose every trial fails says so and exits non-zero ------------------


def _write(path, text):
    path.write_text(text)
    return path


def test_a_search_whose_every_trial_is_invalid_exits_3_and_says_why(tmp_path):
    f = _write(tmp_path / "s.toml", 'name = "bad"\n[model]\nepochs = 5\n[runs]\nrepeats = 2\n[search]\nsampler = "random"\ntrials = 2\nbatch = 2\n'
               '[search.space.momentum]\ntype = "float"\nlow = 0.5\nhigh = 0.9\n')
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["search", str(f), "--out", str(out), "--quiet"])
    assert result.exit_code == 3, result.output
    assert "search failed: no trial completed: 2 failed (2: momentum applies to sgd and rmsprop, not adam)" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    html = (out / "search.html").read_text()
    assert "Search failed</b>: no trial completed: 2 failed" in html


def test_a_search_whose_every_trial_diverges_exits_3_and_says_so(tmp_path):
    f = _write(tmp_path / "s.toml", 'name = "div"\n[model]\nepochs = 5\noptimizer = "sgd"\n[runs]\nrepeats = 2\n[search]\nsampler = "random"\ntrials = 2\nbatch = 2\n'
               '[search.space.learning_rate]\ntype = "float"\nlow = 1e29\nhigh = 1e30\nlog = true\n')
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["search", str(f), "--out", str(out), "--quiet"])
    assert result.exit_code == 3, result.output
    assert "2 failed (2: every repeat diverged" in " ".join(result.output.split())
    assert "every repeat diverged" in (out / "search.html").read_text()
    assert not [p.name for p in out.iterdir() if p.name.startswith("study.db-")]  # the note read the trials after Optuna's storage closed: -wal, -shm


def test_a_search_with_a_completed_trial_has_no_failure_note(tmp_path):
    outcome, _ = search.run(_spec("random", trials=2), tmp_path / "o")
    assert search.failure_note(outcome) is None and outcome.failure is None


def test_a_search_no_trial_of_which_fits_the_data_is_refused_before_anything_is_written(tmp_path):
    """Batch sizes of 15 to 100 on the 24 months before shampoo's test set: `plan` said nothing,
    and `search` failed every trial after writing its run directory (a probe)."""

    def study(low, high):
        f = tmp_path / f"s{low}.toml"
        f.write_text(f'name = "s{low}"\n[model]\nepochs = 2\n[runs]\nrepeats = 1\n[search]\nsampler = "random"\ntrials = 1\nbatch = 1\n'
                     f'[search.space.batch_size]\ntype = "int"\nlow = {low}\nhigh = {high}\n')
        return f

    for command in (["plan", str(study(15, 100))], ["search", str(study(15, 100)), "--out", str(tmp_path / "o"), "-q"]):
        res = CliRunner().invoke(app, command)
        assert res.exit_code == 2, res.output
        assert "search.space: no trial can fit the data, not even its least demanding values (batch_size = 15)" in " ".join(res.output.split())
    assert not (tmp_path / "o").exists()
    assert CliRunner().invoke(app, ["plan", str(study(1, 100))]).exit_code == 0  # some trials fit: planned (those that do not fail, named)
