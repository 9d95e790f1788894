"""Issue 9 items 5-7: every bad input gets one clear line, exit 2, no traceback, nothing written."""

import errno
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.cli.app import app
from lstmtune.data.series import load

TINY = 'name = "t"\n[model]\nepochs = 5\n[runs]\nrepeats = 2\nmode = "summary"\n[grid]\nunits = [1]\n'


def _csv(path, dates=None, values=None):
    s = load("shampoo")
    dates = list(pd.DatetimeIndex(s.dates).strftime("%Y-%m-%d")) if dates is None else dates
    values = list(s.values) if values is None else values
    pd.DataFrame({"date": dates, "v": values}).to_csv(path, index=False)
    return path


def _write(path, data: bytes | str):
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _one_line(result, *needles):
    out = result.output
    assert result.exit_code == 2, out
    lines = [x for x in out.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), out
    assert "Traceback" not in out and "\x1b" not in out and len(out) < 1000, out[:2000]
    for n in needles:
        assert n in out.replace("\n", ""), (n, out)


CASES = {
    # name: (files to create, argv, needles)
    "non-UTF-8 study file": (lambda d: _write(d / "s.toml", b'name = "caf\xe9"\n'), ["run", "s.toml"], ["not UTF-8"]),
    "empty study file": (lambda d: _write(d / "s.toml", "# only a comment\n"), ["run", "s.toml"], ["empty"]),
    "baseline on a panel file": (lambda d: _write(d / "p.csv", "unique_id,ds,y\n" + "".join(f"{u},2010-{k:02d}-01,{k}\n" for u in "ab" for k in range(1, 13))),
                                 ["baseline", "p.csv"], ["p.csv: a long panel", "baseline scores one series"]),
    "search on a study without [search]": (lambda d: _write(d / "s.toml", 'name = "plain"\n'), ["search", "s.toml"], ["s.toml: no [search] section"]),
    "report on a search's run directory": (lambda d: (d.joinpath("sd").mkdir(), _write(d / "sd" / ".lstmtune-run", '{"format": 1, "kind": "search", "study": "s"}\n')),
                                           ["report", "sd"], ["sd: a search's run directory; its report is search.html"]),
    "a CSV given as the study": (lambda d: _write(d / "data.csv", "date,value\n2020-01-01,1\n"), ["run", "data.csv"],
                                 ["not valid TOML", "a data file goes in the study's [data] source, or `lstmtune run --data FILE`"]),
    "a missing value in a study's data": (lambda d: (_write(d / "m.csv", "date,value\n" + "".join(f"2010-{k:02d}-01,{'' if k == 3 else k}\n" for k in range(1, 13))),
                                                     _write(d / "s.toml", 'name = "m"\n[data]\nsource = "m.csv"\n')),
                                          ["run", "s.toml"], ["line 4, column 'value': is missing (use [data] missing = interpolate or drop)"]),
    "stateful = 1": (lambda d: _write(d / "s.toml", "[model]\nstateful = 1\n"), ["run", "s.toml"], ["model.stateful", "boolean"]),
    "infinite learning rate": (lambda d: _write(d / "s.toml", "[model]\nlearning_rate = inf\n"), ["run", "s.toml"], ["model.learning_rate", "finite"]),
    "infinite L2 in a grid": (lambda d: _write(d / "s.toml", "[grid]\nl2 = [0.0, inf]\n"), ["run", "s.toml"], ["grid.l2", "finite"]),
    "NaN Huber delta": (lambda d: _write(d / "s.toml", "[model]\nhuber_delta = nan\n"), ["run", "s.toml"], ["huber_delta", "finite"]),
    "infinite feature range": (lambda d: _write(d / "s.toml", "[transforms]\nfeature_range = [-1, inf]\n"), ["run", "s.toml"], ["feature_range"]),
    "search units -3": (lambda d: _write(d / "s.toml", '[search]\n[search.space.units]\ntype = "int"\nlow = -3\nhigh = 4\n'), ["search", "s.toml"], ["space.units", "-3"]),
    "search dropout 1.5": (lambda d: _write(d / "s.toml", '[search]\n[search.space.dropout]\ntype = "float"\nlow = 0.0\nhigh = 1.5\n'), ["search", "s.toml"], ["space.dropout", "1.5"]),
    "search choices [0, -1, x]": (lambda d: _write(d / "s.toml", '[search]\n[search.space.units]\ntype = "categorical"\nchoices = [0, -1, "x"]\n'), ["search", "s.toml"], ["space.units"]),
    "int search step 0.5": (lambda d: _write(d / "s.toml", '[search]\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 4\nstep = 0.5\n'), ["search", "s.toml"], ["whole-number step"]),
    "date 0001-01-01": (lambda d: _csv(d / "old.csv", dates=[f"{1 + i // 12:04d}-{i % 12 + 1:02d}-01" for i in range(36)]), ["baseline", "old.csv"], ["line 2", "outside the supported dates"]),
    "a FIFO as data": (lambda d: os.mkfifo(d / "fifo.csv"), ["baseline", "fifo.csv"], ["not a regular file"]),
    # worded as the single series' reader words them (a probe: "No columns to parse from file", "Is a directory")
    "an empty file to auto": (lambda d: _write(d / "e.csv", ""), ["auto", "e.csv", "--horizon", "3", "--out", "o"], ["e.csv: the file is empty"]),
    "an empty file to plan --horizon": (lambda d: _write(d / "e.csv", ""), ["plan", "e.csv", "--horizon", "3"], ["e.csv: the file is empty"]),
    "a folder to auto": (lambda d: (d / "adir").mkdir(), ["auto", "adir", "--horizon", "3", "--out", "o"], ["adir: is a directory, expected a CSV file"]),
    "a 1 MB cell": (lambda d: _write(d / "big.csv", "date,v\n2020-01-01," + "x" * 1_000_000 + "\n"), ["baseline", "big.csv"], ["line 2", "1,000,000 chars"]),
    "--period 0": (None, ["baseline", "--period", "0"], ["--period must be between 1 and 23"]),
    "--period 1000": (None, ["baseline", "--period", "1000"], ["--period must be between 1 and 23"]),
    "plot-series -o DIR": (lambda d: (d / "adir").mkdir(), ["plot-series", "-o", "adir"], ["is a directory"]),
    # a bad --storage was one line, but --out had been claimed already (a folder with its marker left behind)
    "run --storage not a URL": (lambda d: _write(d / "s.toml", TINY), ["run", "s.toml", "--out", "o", "--storage", "x.db"], ["'x.db' is not a database URL"]),
    "run --storage in a missing folder": (lambda d: _write(d / "s.toml", TINY), ["run", "s.toml", "--out", "o", "--storage", "sqlite:///nodir/x.db"], ["directory nodir does not exist"]),
    "search --storage of no dialect": (lambda d: _write(d / "s.toml", TINY.split("[grid]")[0] + '[search]\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 2\n'),
                                       ["search", "s.toml", "--out", "o", "--storage", "bogus://x"], ["cannot open database bogus://x"]),
    "plan STUDY.toml --horizon": (lambda d: _write(d / "s.toml", TINY), ["plan", "s.toml", "--horizon", "3"], ["s.toml: a study file; --horizon plans lstmtune auto on a CSV"]),
    "plot-series over its own data": (lambda d: _csv(d / "data.png"), ["plot-series", "data.png", "-o", "data.png"], ["is the data file itself"]),
    "plot-series under a file": (lambda d: _write(d / "f.txt", "x"), ["plot-series", "-o", "f.txt/p.png"], ["f.txt is a file, not a folder"]),
    "--out naming a file": (lambda d: (_write(d / "s.toml", TINY), _write(d / "f.txt", "x")), ["run", "s.toml", "--out", "f.txt"], ["is a file"]),
    "corrupt study.db": (lambda d: ((d / "r").mkdir(), _write(d / "r" / "study.db", os.urandom(4096))), ["status", "r"], ["file is not a database"]),
    "truncated study.db": (None, ["status", "trunc"], ["malformed"]),
    "status DIR --storage URL": (lambda d: (d / "r").mkdir(), ["status", "r", "--storage", "sqlite:///x.db"], ["give a run directory or --storage, not both"]),  # DIR dropped without a word (a probe)
    "constant series": (lambda d: (_csv(d / "c.csv", values=[5.0] * 36), _write(d / "s.toml", TINY + '[data]\nsource = "c.csv"\n')), ["run", "s.toml"], ["constant", "RMSE 0"]),
    "constant series (baseline)": (lambda d: _csv(d / "c.csv", values=[5.0] * 36), ["baseline", "c.csv"], ["c.csv", "constant", "RMSE 0"]),
    "year 1600 (wrapped to 2184)": (lambda d: _write(d / "y.csv", "year,v\n" + "".join(f"{1600 + i},{i % 7}\n" for i in range(30))), ["baseline", "y.csv"], ["line 2", "'1600' is outside the supported dates"]),
    "quarter 1600Q1": (lambda d: _write(d / "q.csv", "q,v\n" + "".join(f"{1600 + i // 4}Q{i % 4 + 1},{i % 7}\n" for i in range(30))), ["baseline", "q.csv"], ["line 2", "'1600Q1' is outside"]),
    "year 1000 with --date-format": (lambda d: _write(d / "y.csv", "date,v\n" + "".join(f"{1000 + i}-01-01,{i}\n" for i in range(30))), ["baseline", "y.csv", "--date-format", "%Y-%m-%d"], ["line 2", "outside the supported dates"]),
    "dates with and without offsets": (lambda d: _write(d / "tz.csv", "date,v\n" + "".join(f"2020-01-{i + 1:02d}T00:00{'+01:00' if i == 5 else ''},{i}\n" for i in range(30))), ["baseline", "tz.csv"], ["line 7", "has a time-zone offset, unlike the rows before it"]),
    "a ';' file with decimal commas": (lambda d: _write(d / "eu.csv", "date;value\n" + "".join(f"2000-{m:02d}-01;{100 + m},5\n" for m in range(1, 13))), ["baseline", "eu.csv"], ["eu.csv", "separated by ';'", "comma-separated"]),
    "a tab-separated file": (lambda d: _write(d / "tab.csv", "date\tvalue\n" + "".join(f"2000-{m:02d}-01\t{m}\n" for m in range(1, 13))), ["baseline", "tab.csv"], ["tab.csv", "separated by tabs"]),
    "unquoted thousands separators": (lambda d: _write(d / "th.csv", "date,value\n" + "".join(f"2000-{m:02d}-01,1,{m:03d}.0\n" for m in range(1, 13))), ["baseline", "th.csv"], ["more fields than its header", "thousands separator"]),
    "a panel's id and date the same column": (lambda d: _write(d / "p.csv", "unique_id,ds,y\n" + "".join(f"a,2000-{m:02d}-01,{m}\n" for m in range(1, 13))), ["auto", "p.csv", "--horizon", "2", "--id-column", "ds", "--date-column", "ds", "--out", "o"], ["--id-column and --date-column both name 'ds'"]),
    "report on a file": (lambda d: _write(d / "afile", "x"), ["report", "afile"], ["afile: a file, not a run directory"]),
    "a header naming a column twice": (lambda d: _write(d / "dd.csv", "date,date\n" + "".join(f"2000-{m:02d}-01,2000-{m:02d}-01\n" for m in range(1, 13))), ["baseline", "dd.csv"], ["dd.csv", "names column 'date' more than once"]),
    "a panel header naming a column twice": (lambda d: _write(d / "p.csv", "unique_id,ds,y,y\n" + "".join(f"a,2000-{m:02d}-01,{m},{m}\n" for m in range(1, 13))), ["auto", "p.csv", "--horizon", "2", "--out", "o"], ["p.csv", "names column 'y' more than once"]),
    "a 1 MB grid value": (lambda d: _write(d / "s.toml", f'[grid]\ncell = ["{"x" * 1_000_000}"]\n'), ["run", "s.toml"], ["grid.cell", "(1,000,002 chars)", "'lstm' or 'gru'"]),
    "a 1 MB unknown key": (lambda d: _write(d / "s.toml", f'["{"k" * 1_000_000}"]\na = 1\n'), ["run", "s.toml"], ["(1,000,002 chars): unknown key"]),
    "a 1 MB data path": (lambda d: _write(d / "s.toml", f'[data]\nsource = "{"p" * 1_000_000}.csv"\n'), ["run", "s.toml"], ["chars)", "File name too long"]),
    "a 1 MB --date-column": (None, ["baseline", "--date-column", "c" * 1_000_000], ["--date-column 'ccc", "(1,000,000 chars) not found"]),
    "an integer of 5000 digits": (lambda d: _write(d / "s.toml", "[grid]\nunits = [" + "9" * 5000 + "]\n"), ["run", "s.toml"], ["s.toml: not a usable study file", "4300 digits"]),
    "arrays nested 100,000 deep": (lambda d: _write(d / "s.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n"), ["run", "s.toml"], ["nested too deeply"]),
    "calendar inputs on a file without dates": (lambda d: (_write(d / "v.csv", "value\n" + "".join(f"{k}\n" for k in range(1, 41))), _write(d / "s.toml", '[data]\nsource = "v.csv"\ncalendar = ["month"]\ntest_size = 6\n')), ["run", "s.toml"], ["data.calendar = ['month']: calendar inputs need dates", "no date column"]),
    "escapes and a newline in a key": (lambda d: _write(d / "s.toml", '["a\\u000ab\\u001b[31m"]\nx = 1\n'), ["run", "s.toml"], ["'a\\nb\\x1b[31m': unknown key"]),
}


@pytest.fixture()
def truncated(tmp_path):
    out = tmp_path / "full"
    _write(tmp_path / "s.toml", TINY)
    assert CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out), "--quiet"]).exit_code == 0
    (tmp_path / "trunc").mkdir()
    (tmp_path / "trunc" / "study.db").write_bytes((out / "study.db").read_bytes()[:6000])


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_one_line(case, tmp_path, monkeypatch, request, record_property):
    make, argv, needles = CASES[case]
    monkeypatch.chdir(tmp_path)
    if case == "truncated study.db":
        request.getfixturevalue("truncated")
    if make:
        make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(app, argv)
    _one_line(result, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "nothing may be written"
    record_property("figure", f"{case}: exit 2, one line")


def test_user_strings_never_reach_the_terminal_raw(tmp_path, monkeypatch):
    """Rich markup and terminal escapes in sub-study names and labels are printed inert."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "s.toml", 'name = "esc"\n[model]\nepochs = 3\n[runs]\nrepeats = 2\nmode = "summary"\n'
           '[evaluation]\nselection = "test"\n[grids."[/]"]\nunits = [1]\n[grids."\\u001b]0;pwned\\u0007x"]\nunits = [2]\n')
    result = CliRunner().invoke(app, ["run", "s.toml", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned" in result.output


def test_disk_full_while_storing_gives_one_line_and_no_running_claims(tmp_path, monkeypatch):
    import sqlite3

    from lstmtune.store import sql

    _write(tmp_path / "s.toml", TINY)
    monkeypatch.chdir(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "runs" / "t" / "study.db"))

    monkeypatch.setattr(sql.SQLStore, "complete", full)
    result = CliRunner().invoke(app, ["run", "s.toml", "--quiet"])
    _one_line(result, "No space left on device")
    with sqlite3.connect(tmp_path / "runs" / "t" / "study.db") as con:
        assert con.execute("select count(*) from lstmtune_runs where status = 'running'").fetchone()[0] == 0
    assert not (tmp_path / "runs" / "t" / "report.html").exists()


def test_a_read_only_database_gives_one_line(tmp_path, monkeypatch):
    """(Tests run as root, for whom permission bits do not apply: the database's refusal is simulated.)"""
    import sqlalchemy as sa

    from lstmtune.store import sql

    _write(tmp_path / "s.toml", TINY)
    monkeypatch.chdir(tmp_path)

    def readonly(*args, **kwargs):
        import sqlite3

        raise sa.exc.OperationalError("UPDATE", {}, sqlite3.OperationalError("attempt to write a readonly database"))

    monkeypatch.setattr(sql.SQLStore, "claim", readonly)
    _one_line(CliRunner().invoke(app, ["run", "s.toml", "--quiet"]), "readonly database")


def test_a_read_only_run_directory_is_read_without_creating_files(tmp_path, monkeypatch):
    """(Tests run as root, for whom permission bits do not apply: read-only is simulated.)"""
    _write(tmp_path / "s.toml", TINY)
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out), "--quiet"]).exit_code == 0
    for extra in ("study.db-wal", "study.db-shm"):
        (out / extra).unlink(missing_ok=True)
    before = sorted(p.name for p in out.iterdir())
    monkeypatch.setattr("lstmtune.store.sql._writable", lambda path: False)
    result = CliRunner().invoke(app, ["status", str(out)])
    assert result.exit_code == 0, result.output
    assert "t (test phase" in result.output.replace("\n", " ") or "t (validation phase" in result.output.replace("\n", " ")
    assert sorted(p.name for p in out.iterdir()) == before  # no -wal/-shm: opened immutable
    again = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out), "--quiet"])
    assert again.exit_code == 0 and "nothing trained, recomputed or redrawn" in " ".join(again.output.split())  # finished: nothing to write
    (out / ".lstmtune-finished").unlink()  # not stamped: the rerun opens the store to write
    before = sorted(p.name for p in out.iterdir())
    _one_line(CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out), "--quiet"]), "read-only")
    assert sorted(p.name for p in out.iterdir()) == before


def test_relative_data_paths_resolve_against_the_study_file(tmp_path, monkeypatch):
    (tmp_path / "proj" / "data").mkdir(parents=True)
    _csv(tmp_path / "proj" / "data" / "x.csv")
    _write(tmp_path / "proj" / "s.toml", TINY.replace('name = "t"', 'name = "rel"\n[data]\nsource = "data/x.csv"', 1).replace("[model]", "[model]", 1))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "proj" / "s.toml"), "--quiet"])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_no_runtime_warnings_reach_stderr(tmp_path):
    import subprocess
    import sys

    _write(tmp_path / "s.toml", 'name = "w"\n[model]\nepochs = 10\noptimizer = "sgd"\n[runs]\nrepeats = 2\ndiagnostic_repeats = 2\n[grid]\nlearning_rate = [0.01, 1e30]\n')
    _csv(tmp_path / "z.csv", values=[0.0 if i % 5 == 0 else float(i) for i in range(36)])  # zeros: MAPE is inf, sMAPE 0/0
    for argv in (["run", "s.toml", "--quiet"], ["baseline", "z.csv"]):
        p = subprocess.run([sys.executable, "-m", "lstmtune.cli", *argv], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        assert not re.search(r"Warning", p.stderr), p.stderr


def test_a_read_only_run_directory_refuses_report_in_one_line(tmp_path, monkeypatch):
    """(Tests run as root, for whom permission bits do not apply: the directory's refusal is simulated.)"""
    _write(tmp_path / "s.toml", TINY)
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out), "--quiet"]).exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.rglob("*")}
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == out and mode & os.W_OK else real(path, mode, **kw))
    _one_line(CliRunner().invoke(app, ["report", str(out)]), f"{out}: the run directory is read-only")
    assert {p.name: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_a_corrupt_database_mid_run_gives_one_line_but_programming_errors_keep_their_traceback(tmp_path, monkeypatch):
    import sqlite3

    import sqlalchemy as sa

    from lstmtune.store import sql

    _write(tmp_path / "s.toml", TINY)
    monkeypatch.chdir(tmp_path)

    def corrupt(*args, **kwargs):
        raise sa.exc.DatabaseError("SELECT", {}, sqlite3.DatabaseError("database disk image is malformed"))

    monkeypatch.setattr(sql.SQLStore, "claim", corrupt)
    _one_line(CliRunner().invoke(app, ["run", "s.toml", "--quiet"]), "database: database disk image is malformed")

    def bug(*args, **kwargs):
        raise sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))

    monkeypatch.setattr(sql.SQLStore, "claim", bug)
    result = CliRunner().invoke(app, ["run", "s.toml", "--quiet", "--out", "other"])
    assert result.exit_code == 1 and isinstance(result.exception, sa.exc.IntegrityError)


@pytest.mark.parametrize("extra, needle", [
    ("[evaluation]\nvalidation_size = 28\n", "validation_size 28"),  # 36 - 6 = 30 observations before the test set
    ("[transforms]\ninterval = 26\n", "differencing interval 26"),   # fits the whole series, not the 30 before the test set
])
def test_settings_that_fit_the_test_phase_but_not_the_selection_phase_are_refused_before_anything_is_written(tmp_path, monkeypatch, extra, needle):
    # plan accepted these and run left --out holding its marker and a study.db; the message named data.test_size
    monkeypatch.chdir(tmp_path)
    _csv(tmp_path / "d.csv")
    _write(tmp_path / "s.toml", f'name = "s"\n[data]\nsource = "d.csv"\ntest_size = 6\n[model]\nbatch_size = 1\nepochs = 2\n[runs]\nrepeats = 1\ndiagnostic_repeats = 1\n{extra}')
    for args in (["plan", "s.toml"], ["run", "s.toml", "--out", "o", "--quiet"]):
        _one_line(CliRunner().invoke(app, args), "evaluation.validation_size", needle, "selection phase validation: the first 30 of 36 observations")
    assert not (tmp_path / "o").exists()


def test_a_refused_rerun_leaves_a_finished_run_directory_as_it_found_it(tmp_path):
    """A rerun over a damaged study.db was refused in one line, but it had already removed the
    finished study's stamp: the one file it changed. Every file is now as it was."""
    (tmp_path / "s.toml").write_text(TINY)
    out = tmp_path / "r"
    assert CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out), "-q"]).exit_code == 0
    assert (out / ".lstmtune-finished").is_file()
    (out / "study.db").write_bytes((out / "study.db").read_bytes()[:5000])
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir() if p.is_file()}
    refused = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out), "-q"])
    assert refused.exit_code == 2 and "study.db" in refused.output, refused.output
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir() if p.is_file()} == before


def test_a_straight_line_is_studied_though_a_baseline_forecasts_it_exactly(tmp_path):
    """AR(1) forecasts a straight line's test set exactly (RMSE 0): the run stopped after training
    with "baseline RMSE must be positive, got 0.0", its directory half written."""
    pd.DataFrame({"date": pd.date_range("2000-01-01", periods=30, freq="MS").strftime("%Y-%m-%d"), "value": [100 + 2 * i for i in range(30)]}).to_csv(tmp_path / "lin.csv", index=False)
    (tmp_path / "s.toml").write_text(TINY + '[data]\nsource = "lin.csv"\ntest_size = 6\n')
    result = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    assert "AR(1) 0.000 (exact on the test set: no skill is measurable against it)" in " ".join(result.output.split())
    assert "no skill measurable vs the best baseline" in (tmp_path / "o" / "report.html").read_text()


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_a_section_the_command_does_not_read_is_named(tmp_path, monkeypatch):
    """run passed over a [search] section, and search a [grid], without a word."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "s.toml", TINY + '[search]\ntrials = 1\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 2\n')
    ran = CliRunner().invoke(app, ["run", "s.toml", "--out", "r", "-q"])
    assert ran.exit_code == 0 and "s.toml's [search] section is read by `lstmtune search`" in " ".join(ran.output.split())
    searched = CliRunner().invoke(app, ["search", "s.toml", "--out", "q", "-q"])
    assert searched.exit_code == 0 and "s.toml's [grid] is read by `lstmtune run`" in " ".join(searched.output.split()), searched.output
