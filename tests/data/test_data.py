"""Loading series: every bad input names the file, line and column, in the library and the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lstmtune.cli.app import app
from lstmtune.data.series import load
from lstmtune.errors import DataError, LstmtuneError
from lstmtune.store.fileio import atomic_path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def err_text(result) -> str:
    """The CLI's error text (stderr when the runner keeps it apart), ANSI-free and unwrapped."""
    try:
        text = result.stderr or result.output
    except ValueError:  # older click: stderr not captured separately
        text = result.output
    return ANSI.sub("", text)


def out_text(result) -> str:
    return ANSI.sub("", result.output)


# --- bad inputs: (file name, content, fragments the message must contain) -----------

BAD_CASES = {
    "empty": ("empty.csv", "", ["the file is empty"]),
    "header_only": ("header.csv", "date,value\n", ["header but no data rows"]),
    "no_numeric_column": (
        "words.csv",
        "date,name,colour\n2020-01-01,a,red\n2020-02-01,b,blue\n",
        ["no numeric column among ['name', 'colour']", "--value-column"],
    ),
    "only_non_numeric_value_column": (
        "word.csv",
        "date,name\n2020-01-01,a\n2020-02-01,b\n",
        ["line 2", "column 'name'", "'a' is not a finite number"],
    ),
    "non_numeric_value": (
        "nonnum.csv",
        "date,value\n2020-01-01,1.5\n2020-02-01,2.5\n2020-03-01,abc\n2020-04-01,4\n",
        ["line 4", "column 'value'", "'abc' is not a finite number"],
    ),
    "non_numeric_value_with_brackets": (
        "brackets.csv",
        "date,value\n2020-01-01,1.5\n2020-02-01,[abc]\n",
        ["line 3", "column 'value'", "'[abc]' is not a finite number"],
    ),
    "missing_value": (
        "missing.csv",
        "date,value\n2020-01-01,1.5\n2020-02-01,\n2020-03-01,3\n",
        ["line 3", "column 'value'", "is missing"],
    ),
    "nan_value": (
        "nan.csv",
        "date,value\n2020-01-01,1.5\n2020-02-01,2\n2020-03-01,nan\n",
        ["line 4", "column 'value'", "is missing (use --missing interpolate or drop)"],
    ),
    "infinite_value": (
        "inf.csv",
        "date,value\n2020-01-01,1.5\n2020-02-01,inf\n",
        ["line 3", "column 'value'", "'inf' is not a finite number"],
    ),
    "duplicate_dates": (
        "dup.csv",
        "date,value\n2020-01-01,1\n2020-02-01,2\n2020-03-01,3\n2020-03-01,4\n",
        ["line 5", "column 'date'", "duplicate date 2020-03-01 (first at line 4)"],
    ),
    "duplicate_dates_out_of_order": (
        "dup2.csv",
        "date,value\n2020-03-01,1\n2020-01-01,2\n2020-02-01,3\n2020-01-01,4\n",
        ["line 5", "column 'date'", "duplicate date 2020-01-01 (first at line 3)"],
    ),
    "ambiguous_value_columns": (
        "two.csv",
        "date,a,b\n2020-01-01,1,10\n2020-02-01,2,20\n",
        ["several numeric columns ['a', 'b']", "--value-column"],
    ),
    # a missing cell or a typo in the target made the other column the target silently (a docs probe)
    "ambiguous_value_columns_one_with_a_missing_cell": (
        "two_missing.csv",
        "date,sales,cpi\n2020-01-01,1,10\n2020-02-01,,20\n2020-03-01,3,30\n",
        ["several numeric columns ['sales', 'cpi']", "--value-column"],
    ),
    "ambiguous_value_columns_one_with_a_typo": (
        "two_typo.csv",
        "date,sales,cpi,extra\n2020-01-01,1,10,5\n2020-02-01,1o,20,6\n2020-03-01,3,30,7\n",
        ["several numeric columns ['sales', 'cpi', 'extra']", "--value-column"],
    ),
    "no_date_column": (
        "nodates.csv",
        "x,y\n1,2\n3,4\n",
        ["no column parses as dates", "--date-column"],
    ),
    "ambiguous_date_columns": (
        "twodates.csv",
        "start,end,value\n2020-01-01,2020-01-31,1\n2020-02-01,2020-02-29,2\n",
        ["several columns look like dates ['start', 'end']", "--date-column"],
    ),
    "only_a_date_column": (
        "onecol.csv",
        "date\n2020-01-01\n2020-02-01\n",
        ["no value column besides the date column 'date'"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_load_bad_input(tmp_path, case):
    name, content, fragments = BAD_CASES[case]
    path = write(tmp_path, name, content)
    with pytest.raises(DataError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message
    assert isinstance(info.value, LstmtuneError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_cli_bad_input_exits_2_with_message(tmp_path, case):
    name, content, fragments = BAD_CASES[case]
    path = write(tmp_path, name, content)
    result = invoke("baseline", str(path))
    assert result.exit_code == 2
    text = err_text(result)
    assert text.startswith("error: ")
    assert str(path) in text
    for fragment in fragments:
        assert fragment in text
    assert "Traceback" not in result.output


def test_load_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "series.csv"
    with pytest.raises(DataError) as info:
        load(path)
    assert str(path) in str(info.value)
    assert "no such file" in str(info.value)
    assert "built-ins: shampoo" in str(info.value)


def test_cli_missing_file(tmp_path):
    path = tmp_path / "series.csv"
    result = invoke("baseline", str(path))
    assert result.exit_code == 2
    text = err_text(result)
    assert str(path) in text
    assert "no such file" in text


def test_load_directory(tmp_path):
    with pytest.raises(DataError, match="is a directory, expected a CSV file"):
        load(tmp_path)


def test_missing_date_with_explicit_date_column(tmp_path):
    path = write(tmp_path, "nodate.csv", "date,value\n2020-01-01,1\n,2\n2020-03-01,3\n")
    with pytest.raises(DataError) as info:
        load(path, date_column="date")
    assert "line 3" in str(info.value)
    assert "column 'date'" in str(info.value)
    assert "is missing" in str(info.value)


def test_bad_date_with_explicit_date_column(tmp_path):
    path = write(tmp_path, "baddate.csv", "date,value\n2020-01-01,1\n2020-02-01,2\nsoon,3\n")
    with pytest.raises(DataError, match=r"line 4, column 'date': 'soon' is not a date"):
        load(path, date_column="date")


def test_bad_tutorial_month_with_explicit_date_column(tmp_path):
    path = write(tmp_path, "badmonth.csv", '"Month","Sales"\n"1-01",1\n"1-13",2\n')
    with pytest.raises(DataError, match=r"line 3, column 'Month': '1-13' is not a date"):
        load(path, date_column="Month")


def test_unknown_columns_requested(tmp_path):
    path = write(tmp_path, "ok.csv", "date,value\n2020-01-01,1\n2020-02-01,2\n")
    with pytest.raises(DataError, match=r"--date-column 'when' not found; columns are \['date', 'value'\]"):
        load(path, date_column="when")
    with pytest.raises(DataError, match=r"--value-column 'sales' not found; columns are \['date', 'value'\]"):
        load(path, value_column="sales")
    with pytest.raises(DataError, match="cannot be both the date and the value column"):
        load(path, value_column="date")


def test_cli_value_column_option(tmp_path):
    path = write(tmp_path, "two.csv", "date,a,b\n" + "".join(f"2020-{m:02d}-01,{m},{m * m}\n" for m in range(1, 13)))
    result = invoke("baseline", str(path), "--value-column", "b", "--test-size", "3", "--period", "3")
    assert result.exit_code == 0, err_text(result)
    # persistence on b = m^2: forecasts 81,100,121 for 100,121,144 -> errors 19,21,23
    expected = np.sqrt((19**2 + 21**2 + 23**2) / 3)
    assert f"{expected:.3f}" in out_text(result)
    assert "12 observations, last 3 are the test set" in " ".join(out_text(result).split())  # rich wraps at 80


@pytest.mark.parametrize("rows, args, needle", [
    (48, ["--test-size", "46"], "--test-size must be between 1 and 43 for 48 observations (the baselines train on 5 or more with --lags 1), got 46"),
    (48, ["--test-size", "42", "--lags", "3"], "--test-size must be between 1 and 39 for 48 observations (the baselines train on 9 or more with --lags 3)"),
    (4, ["--test-size", "1"], "4 observations are too few for the baselines: 5 to train on (--lags 1) and 1 to test, at least"),
    (48, ["--lags", "0"], "--lags must be 1 or more, got 0"),
])
def test_baseline_bounds_are_the_ones_that_work(tmp_path, rows, args, needle):
    # --test-size 46 of 48 said "--lags must be between 1 and 0, got 1" (no --lags given); a
    # one-row file "--test-size must be between 1 and -1"
    path = write(tmp_path, "s.csv", "date,v\n" + "".join(f"{2000 + i // 12}-{i % 12 + 1:02d}-01,{i % 5 + 1}\n" for i in range(rows)))
    result = invoke("baseline", str(path), *args)
    assert result.exit_code == 2 and needle in err_text(result), err_text(result)
    ok = invoke("baseline", str(path), "--test-size", str(rows - 5)) if rows > 5 else None
    assert ok is None or (ok.exit_code == 0 and "Warning" not in err_text(ok)), err_text(ok)


# --- good inputs ------------------------------------------------------------------


def test_ambiguous_columns_resolved_with_value_column(tmp_path):
    path = write(tmp_path, "two.csv", "date,a,b\n2020-01-01,1,10\n2020-02-01,2,20\n")
    series = load(path, value_column="b")
    assert series.values.tolist() == [10.0, 20.0]
    assert series.value_name == "b"
    series = load(path, value_column="a")
    assert series.values.tolist() == [1.0, 2.0]


def test_iso_dates_parse(tmp_path):
    path = write(tmp_path, "iso.csv", "when,amount\n2020-01-31, 1.5\n2020-02-29,2\n2020-03-31,-3e2\n")
    series = load(path)
    assert series.dates.dtype == np.dtype("datetime64[ns]")
    assert series.dates.tolist() == np.array(["2020-01-31", "2020-02-29", "2020-03-31"], dtype="datetime64[ns]").tolist()
    assert series.values.tolist() == [1.5, 2.0, -300.0]
    assert series.values.dtype == np.float64
    assert series.value_name == "amount"
    assert series.name == str(path)
    assert len(series) == 3


def test_value_column_first_is_detected(tmp_path):
    path = write(tmp_path, "swapped.csv", "value,date\n5,2020-01-01\n6,2020-02-01\n")
    series = load(path)
    assert series.values.tolist() == [5.0, 6.0]
    assert series.dates[0] == np.datetime64("2020-01-01")


def test_tutorial_month_form_parses(tmp_path):
    path = write(tmp_path, "tutorial.csv", '"Month","Sales"\n"1-01",266.0\n"1-02",145.9\n"2-12",342.3\n')
    series = load(path)
    assert series.dates.tolist() == np.array(["1901-01-01", "1901-02-01", "1902-12-01"], dtype="datetime64[ns]").tolist()
    assert series.values.tolist() == [266.0, 145.9, 342.3]
    assert series.value_name == "Sales"


def test_builtin_shampoo():
    series = load("shampoo")
    assert series.name == "shampoo"
    assert len(series) == 36
    assert series.values[0] == 266.0
    assert series.values[-1] == 646.9
    assert series.dates[0] == np.datetime64("1901-01-01")
    assert series.dates[-1] == np.datetime64("1903-12-01")
    assert np.all(np.diff(series.dates) > np.timedelta64(0))
    pd_series = series.to_pandas()
    assert pd_series.index.name == "date"
    assert pd_series.name == "Sales"
    assert pd_series.iloc[0] == 266.0


def test_file_named_like_builtin_takes_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "shampoo", "date,value\n2020-01-01,1\n2020-02-01,2\n")
    series = load("shampoo")
    assert series.values.tolist() == [1.0, 2.0]
    assert series.name == "shampoo"


# --- no half-written results ----------------------------------------------------------


def test_plot_series_bad_input_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "BAD.csv", "date,value\n2020-01-01,1\n2020-02-01,oops\n")
    result = invoke("plot-series", "BAD.csv", "-o", "out.png")
    assert result.exit_code == 2
    assert "line 3, column 'value': 'oops' is not a finite number" in err_text(result)
    assert not (tmp_path / "out.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BAD.csv"]


def test_plot_series_bad_test_size_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("plot-series", "shampoo", "-o", "out.png", "--test-size", "36")
    assert result.exit_code == 2
    assert "--test-size must be between 0 and 35, got 36" in err_text(result)
    assert list(tmp_path.iterdir()) == []
    # a series of 12 or fewer without --test-size: drawn unshaded (the default 12 was refused, an option never given)
    import pandas as pd

    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=10, freq="MS").strftime("%Y-%m-%d"), "v": range(10)}).to_csv("ten.csv", index=False)
    result = invoke("plot-series", "ten.csv", "-o", "ten.png")
    assert result.exit_code == 0 and (tmp_path / "ten.png").is_file(), err_text(result)


def test_plot_series_failure_keeps_existing_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.png").write_bytes(b"previous")
    write(tmp_path, "BAD.csv", "")
    result = invoke("plot-series", "BAD.csv", "-o", "out.png")
    assert result.exit_code == 2
    assert "the file is empty" in err_text(result)
    assert (tmp_path / "out.png").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BAD.csv", "out.png"]


def test_plot_series_writes_png(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("plot-series", "shampoo", "-o", "out.png")
    assert result.exit_code == 0, err_text(result)
    assert "wrote out.png" in out_text(result)
    data = (tmp_path / "out.png").read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 1000
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp files left beside it


def test_plot_series_csv_into_new_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "good.csv", "date,value\n" + "".join(f"2021-{m:02d}-01,{m * 1.5}\n" for m in range(1, 13)))
    result = invoke("plot-series", "good.csv", "-o", "figs/series.png", "--test-size", "0")
    assert result.exit_code == 0, err_text(result)
    assert (tmp_path / "figs" / "series.png").read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in (tmp_path / "figs").iterdir()] == ["series.png"]


def test_atomic_path_failure_leaves_nothing(tmp_path):
    target = tmp_path / "result.txt"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_failure_keeps_previous_target(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("new, half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


# --- other commands ---------------------------------------------------------------


def test_cli_baseline_shampoo():
    result = invoke("baseline", "shampoo")
    assert result.exit_code == 0, err_text(result)
    text = out_text(result)
    assert "shampoo: 36 observations, last 12 are the test set" in text
    assert "136.761" in text
    persistence_row = next(line for line in text.splitlines() if "persistence" in line)
    assert "136.761" in persistence_row


def test_cli_datasets():
    result = invoke("datasets")
    assert result.exit_code == 0, err_text(result)
    row = next(line for line in out_text(result).splitlines() if "shampoo" in line)
    assert re.search(r"\b36\b", row)
    assert "1901-01-01" in row
    assert "1903-12-01" in row


def test_a_value_beyond_float32s_reach_is_refused_naming_its_cell(tmp_path):
    path = write(tmp_path, "huge.csv", "date,value\n2020-01-01,1\n2020-02-01,2e31\n2020-03-01,3\n")
    with pytest.raises(DataError, match=r"line 3, column 'value': '2e31' is beyond 1e\+30"):
        load(path, date_column="date")


def test_a_given_date_format_that_fits_no_column_and_a_value_column_named_as_covariate_are_said_so(tmp_path):
    # "give its format with --date-format" when it was given; "no value column besides the date column"
    # when the one value column was named as a covariate
    path = write(tmp_path, "s.csv", "date,v\n" + "".join(f"2000-{m:02d}-01,{m}\n" for m in range(1, 13)))
    result = invoke("baseline", str(path), "--date-format", "%d/%m/%Y")
    assert result.exit_code == 2 and "no column parses as dates in the format '%d/%m/%Y' (--date-format)" in err_text(result), err_text(result)
    with pytest.raises(DataError, match="'v' is named as a covariate, and no other column is left for the values"):
        load(path, covariates=["v"])


def test_an_output_that_cannot_be_moved_into_place_is_named_not_its_temporary_copy(tmp_path):
    """A folder where a file goes (or a file where a folder goes): the message named the
    temporary copy beside it (``.d.png.c5xnq3ze.png``, ``.outputs.host.pid.x/plots``)."""
    from lstmtune.store.fileio import atomic_outputs

    (tmp_path / "d.png").mkdir()
    with pytest.raises(OSError) as err:
        with atomic_path(tmp_path / "d.png") as tmp:
            tmp.write_text("x")
    assert err.value.filename == str(tmp_path / "d.png") and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "plots").write_text("a file")
    with pytest.raises(OSError) as err:
        with atomic_outputs(tmp_path / "run") as tmp:
            (tmp / "plots").mkdir()
    assert err.value.filename == str(tmp_path / "run" / "plots") and (tmp_path / "run" / "plots").read_text() == "a file"


def test_a_pandas_series_is_checked_as_a_file_is():
    """lstmtune.fit and load_series took an unsorted, duplicated, NaT-dated, empty or overflowing
    Series silently: forecasts dated before the data, or NaT, or 1e302."""
    import pandas as pd

    from lstmtune.data.sources import load_series
    from lstmtune.errors import DataError

    idx = pd.date_range("2020-01-01", periods=12, freq="MS")
    base = pd.Series(np.arange(12.0) + 1, index=idx, name="sales")
    shuffled = load_series(base.sample(frac=1, random_state=0))
    np.testing.assert_array_equal(shuffled.values, base.to_numpy())
    np.testing.assert_array_equal(shuffled.dates, idx.to_numpy(dtype="datetime64[ns]"))
    assert shuffled.notes == ("the series: its values sorted by date (they were given out of order)",)
    assert load_series(base).notes == ()
    frame = pd.DataFrame({"y": base, "x": base * 2}).iloc[::-1]
    back = load_series(frame, value_column="y", covariates=["x"])
    np.testing.assert_array_equal(back.covariates[0][1], base.to_numpy() * 2)
    for bad, needle in ((pd.concat([base, base.iloc[[3]]]), "duplicate date 2020-04-01 00:00:00 (positions 3 and 12)"),
                        (pd.Series(base.to_numpy(), index=idx.insert(3, pd.NaT)[:12]), "position 3 has no date (NaT)"),
                        (base.iloc[:0], "no values"), (base * 1e300, "is beyond 1e+30")):
        with pytest.raises(DataError, match=re.escape(needle)):
            load_series(bad)


def test_a_missing_cell_in_the_target_keeps_it_a_candidate_under_every_missing_policy(tmp_path):
    path = write(tmp_path, "amb.csv", "date,sales,cpi\n2020-01-01,1,10\n2020-02-01,,20\n2020-03-01,3,30\n2020-04-01,4,40\n")
    for missing in ("error", "interpolate", "drop"):
        with pytest.raises(DataError, match=r"several numeric columns \['sales', 'cpi'\]"):
            load(path, missing=missing)
    values = load(path, value_column="sales", missing="interpolate").values
    assert values[[0, 2, 3]].tolist() == [1.0, 3.0, 4.0] and 1.0 < values[1] < 3.0  # interpolated by date


def test_a_dollar_in_a_name_is_drawn_as_written_and_dates_are_labelled_concisely(tmp_path, monkeypatch):
    """'d$x^$.csv' or a column '$\\alpha^$' was parsed as a formula: matplotlib's parser error ended
    `plot-series`, and `run` after its training with no outputs (a probe). Monthly tick labels
    ran together ("2000-012000-04...")."""
    from pathlib import Path

    import pandas as pd
    from matplotlib import dates

    from lstmtune.report import figures

    monkeypatch.chdir(tmp_path)
    when = pd.date_range("2000-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"date": when, "v": range(30)}).to_csv("d$x^$.csv", index=False)
    pd.DataFrame({"date": when, "$\\alpha^$": range(30)}).to_csv("m.csv", index=False)
    for name in ("d$x^$.csv", "m.csv"):
        result = invoke("plot-series", name, "-o", f"{name}.png")
        assert result.exit_code == 0 and (tmp_path / f"{name}.png").is_file(), err_text(result)
    kept = []
    monkeypatch.setattr(figures, "_write_tight_png", lambda fig, path: (kept.append(fig), Path(path).write_bytes(b"")))
    figures.series_plot(pd.DatetimeIndex(when).to_numpy(), np.arange(30.0), tmp_path / "x.png", title="$\\alpha^$ (v)")
    (fig,) = kept
    assert isinstance(fig.axes[0].xaxis.get_major_formatter(), dates.ConciseDateFormatter)
    assert fig.axes[0].get_title() == "$\\alpha^$ (v)"
