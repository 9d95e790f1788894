"""lstmtune auto on panels, resumed: a checkpointed run reads back what it stored and recomputes
what changed (with global networks, only for the same panel), and kill -9 mid-panel then a
rerun gives the uninterrupted outputs. (A file of its own so that these slow tests and
test_auto_panels.py run on different test workers.)"""

import numpy as np
import pandas as pd
import pytest

from lstmtune.auto import lstm
from lstmtune.auto.run import auto
from test_auto import _monthly


@pytest.mark.slow  # trains LSTM ensembles
def test_with_global_lstms_a_checkpoint_is_reused_only_for_the_same_panel(tmp_path, monkeypatch):
    from lstmtune.auto import globalnet

    monkeypatch.setattr(globalnet, "MIN_SERIES", 2)
    frames = [_monthly("a", 60, 51), _monthly("b", 66, 52, level=40.0)]
    settings = lstm.Settings(epochs=5, seeds=1)
    first = auto(pd.concat(frames), 4, candidates=("lstm",), settings=settings, checkpoint=tmp_path / "ck", global_lstm=True)
    again = auto(pd.concat(frames), 4, candidates=("lstm",), settings=settings, checkpoint=tmp_path / "ck", global_lstm=True)
    assert (first.resumed, again.resumed) == (0, 2) and first.leaderboard["candidate"].str.startswith("GlobalLSTM(").any()
    pd.testing.assert_frame_equal(again.forecasts, first.forecasts, check_exact=True)
    import shutil

    from lstmtune.auto import checkpoint as ckpt

    shutil.rmtree(ckpt._folder(tmp_path / "ck", "b"))  # b was not finished: recomputed, its global networks learning from a (read back) too
    resumed = auto(pd.concat(frames), 4, candidates=("lstm",), settings=settings, checkpoint=tmp_path / "ck", global_lstm=True)
    assert resumed.resumed == 1
    for name in ("forecasts", "leaderboard", "backtests"):
        pd.testing.assert_frame_equal(getattr(resumed, name), getattr(first, name), check_exact=True)
    frames[1] = frames[1].assign(y=frames[1]["y"] + 1.0)  # b changed: a's global networks change too
    assert auto(pd.concat(frames), 4, candidates=("lstm",), settings=settings, checkpoint=tmp_path / "ck", global_lstm=True).resumed == 0


@pytest.mark.slow  # four runs of auto with the statistical models
def test_a_checkpointed_run_reads_back_what_it_stored_and_recomputes_what_changed(tmp_path, no_arima):
    frames = [_monthly("a", 60, 21), _monthly("b", 66, 22, level=40.0), _monthly("c", 20, 23)]  # c: a fallback
    first = auto(pd.concat(frames), 4, candidates=("stats", "combo"), checkpoint=tmp_path / "ck")
    again = auto(pd.concat(frames), 4, candidates=("stats", "combo"), checkpoint=tmp_path / "ck")
    assert (first.resumed, again.resumed) == (0, 3)
    for name in ("forecasts", "leaderboard", "backtests"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(first, name), check_exact=True)
    for uid in ("a", "b", "c"):
        pd.testing.assert_frame_equal(again.models[uid].forecast(4), first.models[uid].forecast(4), check_exact=True)
    frames[1] = frames[1].assign(y=frames[1]["y"] + 1.0)  # changed data: computed afresh, the others read back
    changed = auto(pd.concat(frames), 4, candidates=("stats", "combo"), checkpoint=tmp_path / "ck")
    assert changed.resumed == 2
    assert not np.allclose(changed.forecasts.loc[changed.forecasts["unique_id"] == "b", "mean"], first.forecasts.loc[first.forecasts["unique_id"] == "b", "mean"])
    other = auto(pd.concat(frames), 5, candidates=("stats", "combo"), checkpoint=tmp_path / "ck")  # another horizon: nothing reused
    assert other.resumed == 0



def test_a_checkpoint_written_under_other_reading_rules_is_computed_again(tmp_path, no_arima, monkeypatch):
    """Were the season of some frequency to change (minutes' was nearly made a day's), a
    checkpoint keyed on the data and options alone would give series read at the old season
    beside ones read at the new (a review)."""
    from lstmtune.auto import checkpoint

    frames = pd.concat([_monthly("a", 60, 21), _monthly("b", 66, 22, level=40.0)])
    now = checkpoint.READING
    monkeypatch.setattr(checkpoint, "READING", now - 1)
    assert auto(frames, 4, candidates=("stats",), checkpoint=tmp_path / "ck").resumed == 0
    monkeypatch.setattr(checkpoint, "READING", now)
    assert auto(frames, 4, candidates=("stats",), checkpoint=tmp_path / "ck").resumed == 0
    assert auto(frames, 4, candidates=("stats",), checkpoint=tmp_path / "ck").resumed == 2


@pytest.mark.slow  # two processes of lstmtune auto
def test_kill_9_mid_panel_then_rerun_gives_the_uninterrupted_outputs(tmp_path, monkeypatch):
    import os
    import signal
    import subprocess
    import sys
    import time

    panel = pd.concat([_monthly(f"s{k}", 36 + 4 * k, 30 + k) for k in range(6)])
    panel.to_csv(tmp_path / "p.csv", index=False)
    env = {**os.environ, "LSTMTUNE_PREFIT_SERIES": "1"}  # a chunk per series: series finish one by one
    cmd = [sys.executable, "-m", "lstmtune.cli", "auto", str(tmp_path / "p.csv"), "--horizon", "4", "--candidates", "stats", "-q"]
    from typer.testing import CliRunner

    from lstmtune.cli.app import app

    monkeypatch.setenv("LSTMTUNE_PREFIT_SERIES", "1")  # the uninterrupted run in this process: the same code, no interpreter to start
    whole = CliRunner().invoke(app, cmd[3:] + ["--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    partial = tmp_path / ".killed.lstmtune-auto-partial"
    run = subprocess.Popen(cmd + ["--out", str(tmp_path / "killed")], env=env)
    deadline = time.time() + 120
    while time.time() < deadline and run.poll() is None and len(list(partial.glob("*/slot.json"))) < 2:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before it could be killed"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    stored = {p.parent.name: p.stat().st_mtime_ns for p in partial.glob("*/slot.json")}
    assert 2 <= len(stored) < 6 and not (tmp_path / "killed").exists()
    again = subprocess.run(cmd[:-1] + ["--out", str(tmp_path / "killed")], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"{len(stored)} series read back" in again.stdout
    assert not partial.exists()  # a finished run leaves no checkpoint beside its output (it keeps its series inside)
    for name in ("forecasts.csv", "leaderboard.csv", "backtests.csv", "models/index.csv"):
        assert (tmp_path / "killed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_a_rerun_into_a_finished_output_recomputes_only_what_changed(tmp_path, no_arima, monkeypatch):
    """A finished run keeps its series in its output (``.lstmtune-series``): the same command again
    reads every one back (the outputs byte for byte the same), a changed series alone is computed
    (the outputs those of a fresh run), a series left out of the panel leaves the store, and series
    stored by other code are computed again (a probe: a finished panel's rerun recomputed all)."""
    from typer.testing import CliRunner

    from lstmtune.auto import checkpoint
    from lstmtune.cli.app import app

    frames = [_monthly(f"s{k}", 40 + 4 * k, 50 + k) for k in range(3)]
    pd.concat(frames).to_csv(tmp_path / "p.csv", index=False)
    out, store = tmp_path / "out", tmp_path / "out" / ".lstmtune-series"

    def run(target=out):
        res = CliRunner().invoke(app, ["auto", str(tmp_path / "p.csv"), "--horizon", "4", "--candidates", "stats", "--out", str(target)])
        assert res.exit_code == 0, res.output
        return " ".join(res.output.split())

    files = ("forecasts.csv", "leaderboard.csv", "backtests.csv", "models/index.csv")
    assert "read back" not in run() and len(list(store.glob("*/slot.json"))) == 3
    first = {name: (out / name).read_bytes() for name in files}
    assert "3 series read back from the earlier run into" in run()
    assert {name: (out / name).read_bytes() for name in files} == first
    assert not (tmp_path / ".out.lstmtune-auto-partial").exists() and not list(tmp_path.glob(".out.lstmtune-auto-partial*"))
    frames[1] = frames[1].assign(y=frames[1]["y"] + 1.0)
    pd.concat(frames).to_csv(tmp_path / "p.csv", index=False)
    assert "2 series read back" in run()
    run(tmp_path / "fresh")
    for name in files:
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
    pd.concat(frames[:2]).to_csv(tmp_path / "p.csv", index=False)
    assert "2 series read back" in run() and len(list(store.glob("*/slot.json"))) == 2
    monkeypatch.setattr(checkpoint, "code_digest", lambda: "other code")
    assert "read back" not in run()
    monkeypatch.setenv("JAX_PLATFORMS", "cuda")  # another machine: a GPU's networks give other bits (keyed alike before)
    assert "read back" not in run()
    assert "2 series read back" in run()


def test_what_a_finished_output_keeps_is_never_read_back_wrongly(tmp_path, no_arima):
    """A review of the kept series: a cell that no longer parses is NaN as an empty one was, so its
    series is skipped, not read back; a global network's panel key names the series (a renamed
    series changes the order they are seen in); a user's file among the stored series is refused,
    as in plots/; bad input found after the store was linked leaves nothing beside --out."""
    from typer.testing import CliRunner

    from lstmtune.auto import checkpoint
    from lstmtune.cli.app import app

    frames = [_monthly(f"s{k}", 40 + 4 * k, 60 + k) for k in range(2)]
    panel = pd.concat(frames, ignore_index=True)
    panel["y"] = panel["y"].astype(object)
    panel.loc[5, "y"] = ""
    panel.to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / "out"

    def run(*extra):
        res = CliRunner().invoke(app, ["auto", str(tmp_path / "p.csv"), "--horizon", "4", "--candidates", "stats", "--missing", "interpolate",
                                       "--out", str(out), *extra])
        return res.exit_code, " ".join(res.output.split())

    code, said = run()
    assert code == 0, said
    panel.loc[5, "y"] = "abc"
    panel.to_csv(tmp_path / "p.csv", index=False)
    code, said = run()
    assert code == 3 and "1 series read back" in said and "'abc' is not a number" in said, said
    # bad input found after the store was linked in: nothing left beside --out, the store kept
    code, said = run("--candidates", "stats,foo")
    assert code == 2 and not (tmp_path / ".out.lstmtune-auto-partial").exists(), said
    assert "read back from the earlier run" in run()[1]
    note = out / ".lstmtune-series" / "my-notes.txt"
    note.write_text("mine")
    code, said = run()
    assert code == 2 and "holds '.lstmtune-series/my-notes.txt', which `lstmtune auto` did not write" in said and note.read_text() == "mine", said
    renamed = pd.concat(frames).replace({"unique_id": {"s1": "a1"}})
    assert checkpoint.panel_key(pd.concat(frames)) != checkpoint.panel_key(renamed)


@pytest.mark.skipif(__import__("sys").platform == "win32", reason="SIGTERM sent to itself ends the process on Windows")
@pytest.mark.parametrize("sig, code, word", [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")])
def test_ctrl_c_or_sigterm_mid_panel_exits_with_one_line_and_keeps_the_checkpoint(tmp_path, monkeypatch, sig, code, word):
    import os
    import signal
    import time

    from typer.testing import CliRunner

    import lstmtune.auto.run as run_mod
    from lstmtune.cli.app import app

    csv = tmp_path / "p.csv"
    pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2000-01-01", periods=60, freq="MS"), "y": np.arange(60.0)}).to_csv(csv, index=False)

    def interrupted(frame, horizon, checkpoint=None, **_):
        checkpoint.mkdir(parents=True, exist_ok=True)
        (checkpoint / "a-finished").write_text("kept")  # what a finished series leaves
        os.kill(os.getpid(), getattr(signal, sig))
        time.sleep(30)
        raise AssertionError("not interrupted")

    monkeypatch.setattr(run_mod, "auto", interrupted)
    monkeypatch.setattr(signal, "getsignal", lambda s, real=signal.getsignal: signal.default_int_handler if s == signal.SIGINT else real(s))
    result = CliRunner().invoke(app, ["auto", str(csv), "--horizon", "6", "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == code, result.output
    said = " ".join(result.stderr.split())  # one message (Rich folds it at the terminal's width)
    assert said.startswith(f"{word}: the series finished so far are kept in") and said.endswith("run the same command again to resume."), said
    assert said.count(":") == 1 and "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "out").exists() and (tmp_path / ".out.lstmtune-auto-partial" / "a-finished").read_text() == "kept"


def test_a_signal_held_until_the_outputs_were_written_says_they_are_complete(tmp_path, monkeypatch, no_arima):
    """A signal arriving while the outputs are moved into place waits for the move; it then said
    "no series had finished; nothing was written" (the checkpoint was already dropped) although
    --out held the complete new outputs (a probe, Ctrl-C during the swap of an existing --out)."""
    from typer.testing import CliRunner

    from lstmtune.auto import output
    from lstmtune.cli import interrupts
    from lstmtune.cli.app import app

    csv = tmp_path / "p.csv"
    pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2000-01-01", periods=48, freq="MS"), "y": np.arange(48.0) % 12 + 5}).to_csv(csv, index=False)
    real = output.drop_checkpoint

    def held(partial):  # as the handler leaves a signal that arrived inside the store's write
        real(partial)
        interrupts._PENDING["error"] = interrupts._Terminated

    monkeypatch.setattr(output, "drop_checkpoint", held)
    result = CliRunner().invoke(app, ["auto", str(csv), "--horizon", "3", "--candidates", "stats", "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 143, result.output
    said = " ".join(result.stderr.split())
    assert said == f"terminated: the command had finished: its outputs in {tmp_path / 'out'} are complete", said
    assert result.stderr.strip().count("\n") == 0, result.stderr  # one line, not folded at a width (piped to a log)
    assert (tmp_path / "out" / "forecasts.csv").is_file()


@pytest.mark.skipif(__import__("sys").platform == "win32", reason="SIGTERM sent to itself ends the process on Windows")
def test_an_interruption_before_any_series_finished_says_so(tmp_path, monkeypatch):
    import os
    import signal
    import time

    from typer.testing import CliRunner

    import lstmtune.auto.run as run_mod
    from lstmtune.cli.app import app

    csv = tmp_path / "p.csv"
    pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2000-01-01", periods=60, freq="MS"), "y": np.arange(60.0)}).to_csv(csv, index=False)

    def interrupted(frame, horizon, **_):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)

    monkeypatch.setattr(run_mod, "auto", interrupted)
    result = CliRunner().invoke(app, ["auto", str(csv), "--horizon", "6", "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 143 and " ".join(result.stderr.split()) == "terminated: no series had finished; nothing was written."


@pytest.mark.slow  # three panels of auto each (the fast subset keeps the other checkpoint tests)
def test_with_missing_zero_a_series_whose_filled_data_did_not_change_is_read_back(tmp_path, no_arima):
    months = pd.date_range("2014-01-01", periods=40, freq="MS")
    def series(uid, n, seed):
        return pd.DataFrame({"unique_id": uid, "ds": months[:n], "y": np.random.default_rng(seed).poisson(20, n).astype(float)})
    base = [series("a", 40, 1), series("b", 40, 2), series("c", 34, 3)]  # c runs on to a's and b's last date with zeros
    run = lambda frames: auto(pd.concat(frames), 4, candidates=("stats",), missing="zero", checkpoint=tmp_path / "ck")  # noqa: E731
    first = run(base)
    later = [series(u, 37, 4 + k) for k, u in enumerate("def")]  # most series now end 3 months earlier: the end stays a's and b's
    same = run(base + later)
    assert (first.resumed, same.resumed) == (0, 3)  # a, b and c read back (c filled as before), the new ones computed
    months = pd.date_range("2014-01-01", periods=42, freq="MS")
    extra = [series(u, 42, 9 + k) for k, u in enumerate("gh")]  # two series end 2 months later: the end moves
    moved = run(base + later + extra)
    assert moved.resumed == 0  # every earlier series now runs on with zeros to the new end: none is read back as it was
    fresh = auto(pd.concat(base + later + extra), 4, candidates=("stats",), missing="zero")
    for name in ("forecasts", "leaderboard", "backtests"):
        pd.testing.assert_frame_equal(getattr(moved, name), getattr(fresh, name), check_exact=True)


@pytest.mark.slow  # three panels of auto each (the fast subset keeps the other checkpoint tests)
def test_with_missing_zero_a_row_without_a_value_and_an_absent_date_are_not_one_checkpoint(tmp_path, no_arima):
    months = pd.date_range("2014-01-01", periods=48, freq="MS")
    frames = [pd.DataFrame({"unique_id": u, "ds": months, "y": np.random.default_rng(k).poisson(20, 48).astype(float)}) for k, u in enumerate("abc")]
    empty = pd.concat(frames).reset_index(drop=True)
    empty.loc[(empty["unique_id"] == "c") & (empty["ds"] == "2016-07-01"), "y"] = np.nan  # a row without a value
    absent = empty.dropna()  # the same date without a row: filled alike, said otherwise
    run = lambda frame: auto(frame, 4, candidates=("stats",), missing="zero", freq="MS", checkpoint=tmp_path / "ck")  # noqa: E731
    assert run(empty).resumed == 0
    second = run(absent)
    assert second.resumed == 2
    reason = second.leaderboard.set_index("unique_id").loc["c", "reason"].iloc[0]
    assert reason == "1 date absent from its MS dates (2016-07-01) inserted and set to 0", reason
    twice = pd.concat([absent, absent[absent["unique_id"] == "a"].head(1)])  # a repeated date, --freq given: skipped and named
    res = auto(twice, 4, candidates=("stats",), missing="zero", freq="MS", checkpoint=tmp_path / "ck2")
    assert res.leaderboard.set_index("unique_id").loc["a", "status"] == "skipped"
