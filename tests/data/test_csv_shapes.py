"""Issue 14 item 1: the CSV shapes people keep series in, and missing-value policies."""

import re
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.study import spec
from lstmtune.workflow import study
from lstmtune.cli.app import app
from lstmtune.data.series import infer_frequency, infer_period, load
from lstmtune.errors import DataError

SHAMPOO = load("shampoo").values


def _write(path, **columns):
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def test_integer_years_named_year(tmp_path):
    s = load(_write(tmp_path / "y.csv", year=range(1700, 1736), v=SHAMPOO))
    assert pd.Timestamp(s.dates[0]) == pd.Timestamp("1700-01-01") and infer_period(s.dates) is None
    np.testing.assert_array_equal(s.values, SHAMPOO)


def test_integer_years_in_a_chosen_column(tmp_path):
    path = _write(tmp_path / "y.csv", t=range(1900, 1936), v=SHAMPOO)
    with pytest.raises(DataError, match="no column parses as dates"):
        load(path)  # plain numbers are not dates unless the column is named or chosen
    s = load(path, date_column="t", value_column="v")
    assert pd.Timestamp(s.dates[-1]) == pd.Timestamp("1935-01-01")


@pytest.mark.parametrize("fmt", ["{y}Q{q}", "{y}-Q{q}", "{y}q{q}"])
def test_quarters(tmp_path, fmt):
    labels = [fmt.format(y=1959 + i // 4, q=i % 4 + 1) for i in range(36)]
    s = load(_write(tmp_path / "q.csv", quarter=labels, v=SHAMPOO))
    assert pd.Timestamp(s.dates[1]) == pd.Timestamp("1959-04-01") and infer_period(s.dates) == 4


def test_a_bad_quarter_names_its_line(tmp_path):
    labels = [f"{1959 + i // 4}Q{i % 4 + 1}" for i in range(36)]
    labels[7] = "1960Q5"
    with pytest.raises(DataError, match=r"line 9, column 'quarter': '1960Q5' is not a quarter"):
        load(_write(tmp_path / "q.csv", quarter=labels, v=SHAMPOO))


def test_us_dates_with_a_date_format(tmp_path):
    dates = pd.date_range("1958-03-01", periods=36, freq="MS").strftime("%m/%d/%Y")
    path = _write(tmp_path / "us.csv", date=dates, v=SHAMPOO)
    with pytest.raises(DataError, match="--date-format"):
        load(path)
    s = load(path, date_format="%m/%d/%Y")
    assert pd.Timestamp(s.dates[0]) == pd.Timestamp("1958-03-01") and infer_frequency(s.dates) == "MS"
    bad = list(dates)
    bad[3] = "13/01/1958"
    with pytest.raises(DataError, match=r"line 5, column 'date': '13/01/1958' is not a date in the format %m/%d/%Y"):
        load(_write(tmp_path / "bad.csv", date=bad, v=SHAMPOO), date_format="%m/%d/%Y")


def _with_missing(tmp_path):
    v = SHAMPOO.astype(object)
    v[5], v[9] = "", "NA"
    dates = pd.date_range("2000-01-01", periods=36, freq="MS").strftime("%Y-%m-%d")
    return _write(tmp_path / "m.csv", date=dates, v=v)


def test_missing_values_are_an_error_by_default(tmp_path):
    with pytest.raises(DataError, match=r"line 7, column 'v': is missing \(use --missing interpolate or drop\)"):
        load(_with_missing(tmp_path))


def test_missing_values_interpolated_in_time(tmp_path):
    s = load(_with_missing(tmp_path), missing="interpolate")
    t = pd.DatetimeIndex(s.dates).asi8.astype(float)
    want = np.interp(t[5], t[[4, 6]], SHAMPOO[[4, 6]])  # months differ in length: interpolation is in time
    assert s.values[5] == pytest.approx(want, rel=1e-12) and len(s) == 36
    assert s.values[9] == pytest.approx(np.interp(t[9], t[[8, 10]], SHAMPOO[[8, 10]]), rel=1e-12)
    assert "2 missing values of column 'v' interpolated" in s.notes[0] and "lines 7, 11" in s.notes[0]


def test_missing_values_dropped(tmp_path):
    s = load(_with_missing(tmp_path), missing="drop")
    assert len(s) == 34 and not np.isnan(s.values).any()
    assert any("2 rows with a missing v dropped" in n for n in s.notes)
    assert any("2 are missing" in n for n in s.notes)  # and the gaps it leaves are named


def test_missing_at_the_ends_cannot_be_interpolated(tmp_path):
    v = SHAMPOO.astype(object)
    v[0] = ""
    path = _write(tmp_path / "m.csv", date=pd.date_range("2000-01-01", periods=36, freq="MS").strftime("%Y-%m-%d"), v=v)
    with pytest.raises(DataError, match="line 2.*start or end"):
        load(path, missing="interpolate")


def test_gaps_in_a_regular_frequency_are_named(tmp_path):
    d = pd.date_range("2000-01-01", periods=46, freq="MS")
    keep = np.r_[0:20, 30:46]
    s = load(_write(tmp_path / "g.csv", date=d[keep].strftime("%Y-%m-%d"), v=np.r_[SHAMPOO, SHAMPOO][:36]))
    assert len(s.notes) == 1 and "10 are missing (2001-09-01" in s.notes[0]
    assert load("shampoo").notes == ()


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_study_file_keys_and_the_notes_reach_the_cli(tmp_path):
    _with_missing(tmp_path)
    f = tmp_path / "s.toml"
    f.write_text('name = "m"\n[data]\nsource = "m.csv"\nmissing = "interpolate"\n[model]\nepochs = 3\n[runs]\nrepeats = 2\nmode = "summary"\n')
    result = CliRunner().invoke(app, ["run", str(f), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "2 missing values of column 'v' interpolated" in result.output.replace("\n", " ")
    assert spec.load(f).data.missing == "interpolate"
    with pytest.raises(Exception, match="missing"):
        spec.from_dict({"data": {"missing": "guess"}})


def test_cli_options(tmp_path):
    dates = pd.date_range("1958-03-01", periods=36, freq="MS").strftime("%m/%d/%Y")
    path = _write(tmp_path / "us.csv", date=dates, v=SHAMPOO)
    result = CliRunner().invoke(app, ["baseline", str(path), "--date-format", "%m/%d/%Y"])
    assert result.exit_code == 0, result.output
    assert "frequency MS; seasonal period 12 (inferred)" in result.output
    result = CliRunner().invoke(app, ["baseline", str(_with_missing(tmp_path)), "--missing", "guess"])
    assert result.exit_code == 2 and "--missing must be one of" in result.output


@pytest.mark.parametrize("header", [True, False])
def test_values_only_csv_is_indexed_by_position(tmp_path, header):
    path = tmp_path / "v.csv"
    path.write_text(("sales\n" if header else "") + "\n".join(map(str, SHAMPOO)) + "\n")
    s = load(path)
    assert s.positional and s.period is None and len(s) == 36
    np.testing.assert_array_equal(s.values, SHAMPOO)
    assert "observations indexed by position" in s.notes[0]
    np.testing.assert_array_equal(s.axis, np.arange(36))
    bad = SHAMPOO.astype(object)
    bad[4] = "abc"
    path.write_text(("sales\n" if header else "") + "\n".join(map(str, bad)) + "\n")
    with pytest.raises(DataError, match=f"line {6 if header else 5}, .*'abc' is not a finite number"):
        load(path)


def test_a_values_only_study_runs_and_reads_back(tmp_path):
    from lstmtune.study import results_io

    (tmp_path / "v.csv").write_text("\n".join(map(str, SHAMPOO)) + "\n")
    s = spec.from_dict({"name": "vo", "data": {"source": str(tmp_path / "v.csv")}, "model": {"epochs": 3}, "runs": {"repeats": 2, "mode": "summary"}})
    out = study.run(s, tmp_path / "o").directory
    back, _ = results_io.read(out)
    assert back.series.positional and "position 35" in (out / "report.html").read_text()
    assert not any(n.startswith("seasonal naive") for n in back.baselines)


@pytest.mark.parametrize("date_format", [None, "%Y-%m-%d %H:%M%z"])
def test_dates_with_offsets_keep_their_days_or_become_utc_hours_as_in_a_panel(tmp_path, date_format):
    """The panel reader's rule (data.dates.without_zone): monthly dates in Paris time, two
    offsets in one file, keep their calendar months (before: refused, and one offset alone
    moved every date to 23:00 the day before); hourly ones across the autumn change become
    UTC hours, none repeated."""
    from lstmtune.data import panel

    months = pd.date_range("2015-01-01", periods=36, freq="MS", tz="Europe/Paris")
    written = months.strftime("%Y-%m-%d %H:%M%z") if date_format else months.map(lambda t: t.isoformat())
    f = tmp_path / "paris.csv"
    pd.DataFrame({"date": written, "v": np.arange(36.0)}).to_csv(f, index=False)
    s = load(f, date_format=date_format)
    assert list(s.dates) == list(months.tz_localize(None)) and infer_frequency(s.dates) == "MS"
    long = pd.DataFrame({"unique_id": "p", "ds": written, "y": np.arange(36.0)})
    assert list(panel.to_dates(long["ds"], date_format)) == list(s.dates)  # one rule for both readers
    one_offset = tmp_path / "winter.csv"
    pd.DataFrame({"date": [f"2020-01-{d:02d}T00:00+01:00" for d in range(1, 31)], "v": np.arange(30.0)}).to_csv(one_offset, index=False)
    assert load(one_offset).dates[0] == np.datetime64("2020-01-01")
    hours = pd.date_range("2023-10-28", periods=72, freq="h", tz="Europe/Paris")
    h = tmp_path / "hours.csv"
    pd.DataFrame({"date": hours.map(lambda t: t.isoformat()), "v": np.arange(72.0)}).to_csv(h, index=False)
    assert list(load(h).dates) == list(hours.tz_convert("UTC").tz_localize(None))


def test_which_dates_with_offsets_are_read_as_utc_times(tmp_path):
    """Readings finer than daily with offsets become UTC times (data.dates.without_zone); the
    loader notes it and the panel reader names the series, from what was done (a review found a
    reading of the text alone missing compact formats such as %Y%m%dT%H%M%S%z, and naming a
    skipped series)."""
    from lstmtune.data import panel
    from lstmtune.data.dates import UTC_NOTE

    def noted(path, **kw):
        return any(n.startswith(UTC_NOTE) for n in load(path, **kw).notes)

    hours = pd.date_range("2023-10-28", periods=72, freq="h", tz="Europe/Paris")
    utc = list(hours.tz_convert("UTC").tz_localize(None))
    for name, written, fmt in (("iso", hours.map(lambda t: t.isoformat()), None), ("compact", hours.strftime("%Y%m%dT%H%M%S%z"), "%Y%m%dT%H%M%S%z"),
                               ("hours_only", hours.strftime("%Y-%m-%d %H%z"), "%Y-%m-%d %H%z")):
        f = tmp_path / f"{name}.csv"
        pd.DataFrame({"date": written, "v": np.arange(72.0)}).to_csv(f, index=False)
        assert list(load(f, date_format=fmt).dates) == utc and noted(f, date_format=fmt), name
        assert panel.read(f, date_format=fmt).attrs[panel.UTC] == [name]
    days = tmp_path / "days.csv"
    pd.DataFrame({"date": pd.date_range("2023-10-01", periods=60, freq="D", tz="Europe/Paris").map(lambda t: t.isoformat()), "v": np.arange(60.0)}).to_csv(days, index=False)
    assert not noted(days) and panel.UTC not in panel.read(days).attrs
    # a panel: the hourly series named, the daily one not; a skipped series (a cell that is no date) not
    # named; a series without offsets after one with them keeps its times (pandas lent it the offset
    # before it, moving it by two hours)
    naive = pd.date_range("2023-10-28", periods=72, freq="h")
    rows = [pd.DataFrame({"unique_id": "h", "ds": hours.map(lambda t: t.isoformat()), "y": 1.0}),
            pd.DataFrame({"unique_id": "n", "ds": naive.strftime("%Y-%m-%d %H:%M:%S"), "y": 2.0}),
            pd.DataFrame({"unique_id": "d", "ds": pd.read_csv(days)["date"], "y": 3.0}),
            pd.DataFrame({"unique_id": "bad", "ds": [*hours.map(lambda t: t.isoformat())[:-1], "2023-10-32T05:00:00+02:00"], "y": 4.0})]
    f = tmp_path / "panel.csv"
    pd.concat(rows).to_csv(f, index=False)
    read = panel.read(f)
    assert read.attrs[panel.UTC] == ["h"] and "bad" in read.attrs[panel.UNREADABLE]
    assert list(read.loc[read["unique_id"] == "n", "ds"]) == list(naive) and list(read.loc[read["unique_id"] == "h", "ds"]) == utc
    given = pd.read_csv(f)
    assert panel.from_frame(given[given["unique_id"] != "bad"]).attrs[panel.UTC] == ["h"]
    assert panel.from_frame(read[read["unique_id"] != "bad"]).attrs[panel.UTC] == ["h"]  # a frame panel.read made UTC keeps saying so


def test_daily_readings_at_one_local_hour_across_a_change_to_summer_time_keep_their_local_times(tmp_path):
    """A reading at 09:00 Berlin time each day became 08:00 then 07:00 UTC at the change to
    summer time: "dates of no regular frequency", and with --freq D "2020-03-29 where 2020-03-29
    was due" (a probe). One time of day is daily data: kept as the local calendar has it."""
    from lstmtune.auto.run import auto
    from lstmtune.data import panel

    days = pd.date_range("2020-03-01 09:00", periods=60, freq="D", tz="Europe/Berlin")
    f = tmp_path / "tzdaily9.csv"
    pd.DataFrame({"date": [t.isoformat() for t in days], "value": np.arange(1.0, 61.0)}).to_csv(f, index=False)
    s = load(f)
    assert list(s.dates) == list(days.tz_localize(None)) and infer_frequency(s.dates) == "D"
    long = pd.DataFrame({"unique_id": "b", "ds": [t.isoformat() for t in days], "y": np.arange(1.0, 61.0)})
    assert list(panel.to_dates(long["ds"])) == list(s.dates)
    r = auto(pd.DataFrame({"unique_id": "b", "ds": s.dates, "y": s.values}), horizon=3, candidates="stats")
    assert r.forecasts["ds"].tolist() == list(pd.date_range("2020-04-30 09:00", periods=3, freq="D"))
    irregular = pd.DataFrame({"unique_id": "b", "ds": pd.to_datetime(["2020-03-28 08:00", "2020-03-29 07:00", "2020-03-30 07:00", "2020-03-31 07:00"]), "y": 1.0})
    v = panel.triage(irregular.assign(y=[1.0, 2.0, 3.0, 4.0]), 1, freq="D")
    assert "2020-03-28 08:00:00 where 2020-03-28 08:00:00 was due" not in v.reason and "2020-03-29 07:00:00 where 2020-03-29 08:00:00 was due" in v.reason, v.reason


def test_rows_out_of_date_order_are_sorted_as_in_a_panel_and_lines_stay_the_files(tmp_path):
    """Before, a file listing the newest month first was refused ("dates are not in increasing
    order") where a panel sorted it. Now it is sorted and says so; a later message still names
    the file's line, and interpolation runs in time order."""
    months = pd.date_range("2020-01-01", periods=30, freq="MS")
    f = tmp_path / "newest_first.csv"
    pd.DataFrame({"date": months.strftime("%Y-%m-%d")[::-1], "v": np.arange(30.0)[::-1]}).to_csv(f, index=False)
    s = load(f)
    assert list(s.dates) == list(months) and list(s.values) == list(np.arange(30.0))
    assert any("rows sorted by date: the file lists them newest first" in n for n in s.notes)
    shuffled = tmp_path / "shuffled.csv"
    rows = [f"{d:%Y-%m-%d},{i}" for i, d in enumerate(months)]
    rows[3], rows[4] = rows[4], rows[3]
    rows[10] = rows[10].split(",")[0] + ","  # month 10 missing, on the file's line 12
    shuffled.write_text("date,v\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="line 12, column 'v': is missing"):
        load(shuffled)
    s = load(shuffled, missing="interpolate")
    assert 9.9 < s.values[10] < 10.1 and list(s.values[3:5]) == [3.0, 4.0]  # linear in time: months differ in length
    assert any("out of order (line 6: 2020-05-01 then 2020-04-01)" in n for n in s.notes)
    assert any("(line 12)" in n for n in s.notes)


def test_lines_are_the_files_when_pandas_reads_row_names(tmp_path):
    """Rows with one field more than the header (R's write.table) give pandas row names; the
    line named is still the file's (a review found a traceback here once lines came from the
    frame's index)."""
    f = tmp_path / "rownames.csv"
    f.write_text("date,v\nr1,2020-01-01,1\nr2,2020-02-01,\nr3,2020-03-01,3\n")
    with pytest.raises(DataError, match="line 3, column 'v': is missing"):
        load(f)
    g = tmp_path / "numbered.csv"
    g.write_text('date,v\n"1",2020-01-01,1\n"2",2020-02-01,x\n"3",2020-03-01,3\n')
    with pytest.raises(DataError, match="line 3, column 'v': 'x' is not a finite number"):
        load(g)


def test_a_repeated_date_on_a_dropped_row_is_no_repeat(tmp_path):
    """With --missing drop, dates repeat only among the rows kept (as before rows were sorted)."""
    months = [f"{d:%Y-%m-%d},{i}" for i, d in enumerate(pd.date_range("2018-01-01", periods=36, freq="MS"))]
    f = tmp_path / "dup_drop.csv"
    f.write_text("date,v\n" + "\n".join(months[:10] + ["2018-11-01,"] + months[10:]) + "\n")
    s = load(f, missing="drop")
    assert len(s) == 36 and infer_frequency(s.dates) == "MS"
    with pytest.raises(DataError, match=r"line 13, column 'date': duplicate date 2018-11-01 \(first at line 12\)"):
        load(f, missing="interpolate")


def test_a_date_without_an_offset_among_dates_with_one_is_refused_wherever_it_is(tmp_path):
    """pandas gives a cell without an offset the offset of the cells before it; the loader reads
    the text, so the row is named whichever comes first."""
    rows = [f"2020-01-{d:02d}T00:00+01:00,{d}" for d in range(1, 31)]
    rows[5] = "2020-01-06T00:00,6"
    f = tmp_path / "naive_after.csv"
    f.write_text("date,v\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="line 7, column 'date': '2020-01-06T00:00' has no time-zone offset, unlike the rows before it"):
        load(f)


def test_a_pandas_history_with_a_time_zone_keeps_its_calendar_dates():
    """The same rule as a CSV's: Paris months stay months (before: the day before at 23:00 UTC,
    which a monthly model refused as another frequency)."""
    from lstmtune.data.sources import load_series

    index = pd.date_range("2000-01-01", periods=24, freq="MS", tz="Europe/Paris")
    s = load_series(pd.Series(np.arange(24.0), index=index, name="y"))
    assert list(s.dates) == list(index.tz_localize(None)) and infer_frequency(s.dates) == "MS"


def test_a_panel_series_mixing_dates_with_and_without_offsets_is_skipped_alone(tmp_path):
    """As a single file refuses it: pandas would lend the date without an offset the offset
    of the rows before it. In a panel only that series is skipped, named by its line."""
    from lstmtune.data import panel

    rows = []
    for d in pd.date_range("2020-01-01", periods=30, freq="D"):
        rows += [("a", f"{d:%Y-%m-%d}T00:00+01:00", 1.0), ("b", f"{d:%Y-%m-%d}", 2.0)]
    rows[10] = ("a", "2020-01-06T00:00", 1.0)
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    frame.to_csv(tmp_path / "p.csv", index=False)
    read = panel.read(tmp_path / "p.csv")
    assert panel.unreadable(read) == {"a": f"{tmp_path / 'p.csv'}: line 12, column 'ds': '2020-01-06T00:00' has no time-zone offset, unlike its series' first date"}
    with pytest.raises(DataError, match="row 10, column 'ds': '2020-01-06T00:00' has no time-zone offset"):
        panel.from_frame(frame)
    frame.loc[10, "ds"] = "2020-01-06T00:00+01:00"  # every date of 'a' with its offset, none of 'b''s: both read
    frame.to_csv(tmp_path / "p.csv", index=False)
    assert len(panel.from_frame(frame)) == 60 and not panel.unreadable(panel.read(tmp_path / "p.csv"))


@pytest.mark.parametrize("dates, freq, alias, absent", [
    (pd.date_range("2021-01-04", periods=20, freq="W-MON").delete([5, 6]), None, "W-MON", ["2021-02-08", "2021-02-15"]),
    (pd.bdate_range("2021-01-04", periods=30).delete([7]), None, "B", ["2021-01-13"]),  # not D and every weekend
    (pd.date_range("2000-01-01", periods=30, freq="MS").delete([3]), None, "MS", ["2000-04-01"]),
    (pd.date_range("2000-01-01", periods=30, freq="MS").delete([3]), "MS", "MS", ["2000-04-01"]),
])
def test_absent_dates_are_those_a_regular_series_lacks(dates, freq, alias, absent):
    from lstmtune.data.series import absent_dates

    found, missing = absent_dates(dates.to_numpy(), freq)
    assert found == alias and [str(pd.Timestamp(d).date()) for d in missing] == absent


@pytest.mark.parametrize("dates, freq", [
    (pd.date_range("2000-01-01", periods=30, freq="MS"), None),  # nothing absent
    (pd.to_datetime(["2020-01-01", "2020-01-05", "2020-02-11", "2020-03-01"]), None),  # on no grid
    (pd.date_range("2021-01-04", periods=20, freq="W-MON").delete([5]), "W-TUE"),  # not on the grid given
])
def test_no_absent_dates_where_none_are_absent_or_there_is_no_grid(dates, freq):
    from lstmtune.data.series import absent_dates

    assert absent_dates(dates.to_numpy(), freq) is None


@pytest.mark.parametrize("fmt, words", [("%Q", "'Q' is a bad directive"), ("%Y-%m-%d%", "stray %")])
def test_a_date_format_python_cannot_parse_with_is_one_line_before_reading(tmp_path, fmt, words):
    # it once escaped as a traceback from the panel reader's cell-by-cell fallback
    from lstmtune.data import panel
    from lstmtune.data.series import load

    single = tmp_path / "s.csv"
    single.write_text("date,value\n2020-01-01,1\n2020-02-01,2\n")
    long = tmp_path / "p.csv"
    long.write_text("unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,2\n")
    for read in (lambda: load(single, date_column="date", date_format=fmt), lambda: load(single, date_format=fmt), lambda: panel.read(long, date_format=fmt)):
        with pytest.raises(DataError, match=f"date format '{re.escape(fmt)}': .*{re.escape(words)}"):
            read()
    assert len(panel.read(long, date_format="%Y-%m-%d")) == 2


def test_lines_are_the_files_after_blank_lines_and_quoted_line_breaks(tmp_path):
    """pandas skips blank lines and reads a quoted field over several lines as one row, so its
    row numbers (and its tokenizer's "line N") fell behind the file's lines: each message named
    the line before the one meant."""
    blank = tmp_path / "blank.csv"
    blank.write_text("date,v\n2020-01-01,1\n\n2020-02-01,2\n2020-03-01,abc\n2020-04-01,4\n")
    with pytest.raises(DataError, match=r"line 5, column 'v': 'abc' is not a finite number"):
        load(blank)
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('date,v,note\n2020-01-01,1,"a\nb"\n2020-02-01,2,\n2020-03-01,,c\n2020-04-01,4,\n')
    with pytest.raises(DataError, match=r"line 5, column 'v': is missing"):  # the note's line break is line 3
        load(quoted, value_column="v")
    s = load(quoted, value_column="v", missing="interpolate")
    assert any("(line 5)" in n for n in s.notes)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text('date,v\n2020-01-01,"1\n"\n2020-02-01,2\n2020-03-01,3,4\n')
    with pytest.raises(DataError, match=r"line 5 has 3 fields, the lines before it 2"):
        load(ragged)
    plain = tmp_path / "plain.csv"
    plain.write_text("date,v\n2020-01-01,1\n2020-02-01,2,9\n")
    with pytest.raises(DataError, match=r"line 3 has 3 fields"):
        load(plain)


def test_a_panels_lines_are_the_files_after_a_blank_line(tmp_path):
    from lstmtune.data import panel

    f = tmp_path / "panel.csv"
    f.write_text("unique_id,ds,y\na,2020-01-01,1\n\na,2020-02-01,2\nb,2020-01-01,3\n\nb,2020-01-01,4\nb,2020-02-01,5\n")
    why = panel.unreadable(panel.read(f))
    assert set(why) == {"b"} and "line 7, column 'ds': duplicate date 2020-01-01 (first at line 5)" in why["b"]


def test_each_panel_series_keeps_its_own_days_or_utc_hours(tmp_path):
    """The midnight rule applies per series, as each gets alone: before, an hourly series in
    the same file made a daily one UTC times, forecast from 23:00 on its own last day, or
    skipped as irregular where it crossed a change to summer time."""
    from lstmtune.data import panel

    hours = pd.date_range("2024-03-30", periods=60, freq="h", tz="Europe/Berlin")
    days = pd.date_range("2024-03-01", periods=40, freq="D", tz="Europe/Berlin")  # across 2024-03-31
    frame = pd.concat([pd.DataFrame({"unique_id": "hourly", "ds": hours.map(lambda t: t.isoformat()), "y": np.arange(60.0)}),
                       pd.DataFrame({"unique_id": "daily", "ds": days.map(lambda t: t.isoformat()), "y": np.arange(40.0)})])
    frame.to_csv(tmp_path / "zones.csv", index=False)
    for read in (panel.read(tmp_path / "zones.csv"), panel.from_frame(frame)):
        got = {uid: list(g["ds"]) for uid, g in read.groupby("unique_id")}
        assert got["daily"] == list(days.tz_localize(None)) and infer_frequency(np.array(got["daily"], dtype="datetime64[ns]")) == "D"
        assert got["hourly"] == list(hours.tz_convert("UTC").tz_localize(None))
    for uid in ("daily", "hourly"):  # as alone
        alone = frame[frame["unique_id"] == uid]
        alone.to_csv(tmp_path / f"{uid}.csv", index=False)
        assert list(panel.read(tmp_path / f"{uid}.csv")["ds"]) == list(panel.read(tmp_path / "zones.csv").query("unique_id == @uid")["ds"])


def test_quarter_labels_are_dates_in_a_panel_as_in_a_single_file(tmp_path):
    """``1990Q1`` was refused in a panel ("is not a date") though a single file reads it; a
    panel may mix them with ISO dates, series by series."""
    from lstmtune.data import panel

    labels = [f"{1990 + i // 4}Q{i % 4 + 1}" for i in range(12)]
    iso = [f"{d:%Y-%m-%d}" for d in pd.date_range("2000-01-01", periods=12, freq="QS")]
    f = tmp_path / "quarters.csv"
    pd.DataFrame({"unique_id": ["x"] * 12 + ["y"] * 12, "ds": labels + iso, "y": np.arange(24.0)}).to_csv(f, index=False)
    read = panel.read(f)
    assert not panel.unreadable(read)
    assert list(read[read["unique_id"] == "x"]["ds"]) == list(pd.date_range("1990-01-01", periods=12, freq="QS"))
    single = tmp_path / "single.csv"
    pd.DataFrame({"quarter": labels, "v": np.arange(12.0)}).to_csv(single, index=False)
    assert list(load(single).dates) == list(read[read["unique_id"] == "x"]["ds"])
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"unique_id": ["x"] * 3, "ds": ["1990Q1", "1990Q5", "1990Q3"], "y": [1.0, 2.0, 3.0]}).to_csv(bad, index=False)
    assert panel.unreadable(panel.read(bad)) == {"x": f"{bad}: line 3, column 'ds': '1990Q5' is not a date"}


def test_monthly_dates_on_a_fixed_day_are_skipped_with_what_to_do():
    """Dates on the 15th of each month were "of no regular frequency: give --freq", though no
    --freq describes them: the reason now says how to date them."""
    from lstmtune.data import panel

    mid = pd.date_range("2015-01-01", periods=48, freq="MS") + pd.Timedelta(days=14)
    v = panel.triage(pd.DataFrame({"ds": mid, "y": np.arange(48.0)}), 3)
    assert v.status == "skip" and v.reason.startswith("monthly dates on day 15 of each month, which no pandas frequency (freq) describes")
    odd = mid.to_numpy().copy()
    odd[5] = np.datetime64("2015-06-20")
    assert "day 15" not in panel.triage(pd.DataFrame({"ds": odd, "y": np.arange(48.0)}), 3).reason


def test_a_panel_whose_every_row_ends_in_a_comma_is_one_line(tmp_path):
    """pandas made each row's first field its name, and auto, run --data and plan raised a
    traceback (Length of values does not match length of index)."""
    from typer.testing import CliRunner

    from lstmtune.cli.app import app
    from lstmtune.data import panel

    f = tmp_path / "trail.csv"
    f.write_text("unique_id,ds,y\n" + "".join(f"{u},2001-{m:02d}-01,{m}.0,\n" for u in "ab" for m in range(1, 13)))
    with pytest.raises(DataError, match=r"trail.csv: line 2 has 4 fields, the header 3, as every row has \(a ',' at the end of each line"):
        panel.read(f)
    for argv in (["auto", str(f), "--horizon", "3", "--candidates", "stats", "--out", str(tmp_path / "o")], ["plan", str(f), "--horizon", "3"]):
        res = CliRunner().invoke(app, argv)
        assert res.exit_code == 2 and "as every row has" in res.output and "Traceback" not in res.output, res.output
    assert not (tmp_path / "o").exists()


def test_a_freq_that_does_not_fit_the_dates_is_explained_by_the_dates_own_frequency():
    """--freq D on monthly dates said "1383 dates absent from its D dates ... fill them", and
    --freq BME on month ends "2010-01-31 where 2010-02-26 was due" (a probe)."""
    from lstmtune.data import panel

    months = pd.DataFrame({"ds": pd.date_range("2000-01-01", periods=48, freq="MS"), "y": np.arange(48.0)})
    v = panel.triage(months, 6, freq="D")
    assert v.status == "skip" and v.reason.startswith("dates regular at MS, not at freq D (on which 1383 dates would be absent: 2000-01-02, ")
    assert v.reason.endswith("): give freq MS, or leave freq out") and "missing" not in v.reason  # from Python: its parameters
    ends = pd.DataFrame({"ds": pd.date_range("2010-01-31", periods=48, freq="ME"), "y": np.arange(48.0)})
    v = panel.triage(ends, 6, freq="BME")
    assert v.reason == "dates not regular at freq BME: the first, 2010-01-31, is not a BME date (the next one is 2010-02-26) (they are regular at ME: give freq ME, or leave freq out)"


def test_dates_written_month_or_day_first_are_refused_with_the_date_format_that_reads_them(tmp_path):
    """'06/26/2023 is not a date' gave no hint that --date-format reads it (a probe)."""
    from lstmtune.data import panel
    from lstmtune.data.dates import format_hint

    assert format_hint("06/26/2023") == " (give --date-format %m/%d/%Y)"
    assert format_hint("26.06.2023") == " (give --date-format %d.%m.%Y)"
    assert format_hint("05/06/2023") == " (give --date-format %m/%d/%Y or %d/%m/%Y)"
    assert format_hint("2023-06-26") == format_hint("soon") == ""
    assert format_hint("06/26/2023 14:00") == format_hint("13/31/2023") == ""  # a time the format would need too; neither order reads it (a review)
    days = pd.date_range("2023-06-26", periods=30, freq="D")
    f = tmp_path / "us.csv"
    pd.DataFrame({"date": days.strftime("%m/%d/%Y"), "value": np.arange(30.0)}).to_csv(f, index=False)
    with pytest.raises(DataError, match=r"give its format with --date-format \(e.g. %m/%d/%Y\)"):  # a single file: no column parses
        load(f)
    long = tmp_path / "us_panel.csv"
    pd.DataFrame({"unique_id": "a", "ds": days.strftime("%m/%d/%Y"), "y": np.arange(30.0)}).to_csv(long, index=False)
    why = panel.unreadable(panel.read(long))
    assert "'06/26/2023' is not a date (give --date-format %m/%d/%Y)" in why["a"], why
    assert len(load(f, date_format="%m/%d/%Y")) == 30


@pytest.mark.parametrize("header, prefix", [("ds,y", ""), ("unique_id,ds,y", "a,")])
def test_an_unclosed_quote_and_a_byte_not_utf8_are_named_at_their_lines(tmp_path, header, prefix):
    """pandas said "EOF inside string starting at row 3" of a quote opened on line 4, and a byte
    position ("position 1020") for a file saved as cp1252 (a probe)."""
    from lstmtune.data import panel

    quoted = tmp_path / "quoted.csv"
    quoted.write_text(f'{header}\n{prefix}2020-01-01,1\n{prefix}2020-02-01,2\n{prefix}2020-03-01,"3\n{prefix}2020-04-01,4\n')
    with pytest.raises(DataError, match=re.escape("line 4: a quoted field opens there and is never closed")):
        panel.read(quoted)
    rows = [f"{prefix}{2000 + i // 12}-{i % 12 + 1:02d}-01,{i}" for i in range(3000)]
    rows[2500] += " caf\xe9"
    latin = tmp_path / "latin.csv"
    latin.write_bytes(("\n".join([header, *rows]) + "\n").encode("cp1252"))
    with pytest.raises(DataError, match=re.escape("line 2502: byte b'\\xe9' is not UTF-8 text")):
        panel.read(latin)
    wide = tmp_path / "wide.csv"
    wide.write_bytes(("\n".join([header, *rows[:5]]) + "\n").encode("utf-16"))
    with pytest.raises(DataError, match="the file is UTF-16 text"):
        panel.read(wide)
    import gzip

    packed = tmp_path / "latin.csv.gz"
    packed.write_bytes(gzip.compress(latin.read_bytes()))
    with pytest.raises(DataError) as err:  # pandas decompresses it: its raw bytes name no line
        panel.read(packed)
    assert "line 1:" not in str(err.value)


def test_a_number_past_floats_range_in_a_panel_is_said_to_be_one():
    from lstmtune.data import panel

    values, bad = panel.to_values(pd.Series(["1", "1e309", "-2E400", "1e30x", "abc", "9" * 400]))
    assert list(bad) == [3, 4] and np.isinf(values.iloc[1]) and values.iloc[2] == -np.inf and np.isinf(values.iloc[5])
    assert panel.out_of_range(values.to_numpy()) == {1: "is not a finite number", 2: "is not a finite number", 5: "is not a finite number"}


@pytest.mark.parametrize("header, prefix", [("date,value", ""), ("unique_id,ds,y", "a,")])
def test_a_nul_byte_in_a_cell_is_refused_at_its_line(tmp_path, header, prefix):
    """pandas' reader ends a cell at a NUL byte without a word: ``12\\x003`` was read as 12 (a probe)."""
    from lstmtune.data import panel

    rows = [f"{prefix}{2000 + i // 12}-{i % 12 + 1:02d}-01,{i + 10}" for i in range(30)]
    rows[4] = rows[4][:-1] + "\x00" + rows[4][-1:]
    f = tmp_path / "nul.csv"
    f.write_bytes(("\n".join([header, *rows]) + "\n").encode())
    with pytest.raises(DataError, match=re.escape("line 6: a NUL byte (\\x00)")):
        panel.read(f)
    with pytest.raises(DataError, match=re.escape(f"{f}: not a readable CSV file (line 6: a NUL byte")):
        load(f) if not prefix else panel.read(f)
    wide = tmp_path / "wide.csv"  # UTF-16 without its byte-order mark: valid UTF-8, a NUL after every letter
    wide.write_bytes(("\n".join([header, *rows[:5]]) + "\n").encode("utf-16-le"))
    with pytest.raises(DataError, match=re.escape("line 1: a NUL byte")):
        panel.read(wide)


def test_every_number_in_a_file_is_read_exactly_as_the_frame_it_was_written_from(tmp_path):
    """pandas' to_numeric, which read the cells, was one unit in the last place off on about one
    in six 17-digit decimals (a probe: 14 of a 150-row file's values; a file and the frame it was
    written from then forecast differently)."""
    from lstmtune.data import known_inputs, panel

    y = np.random.default_rng(0).normal(size=300) * 100
    days = pd.date_range("2000-01-01", periods=300, freq="D")
    long = tmp_path / "p.csv"
    pd.DataFrame({"unique_id": "a", "ds": days, "y": y}).to_csv(long, index=False)
    assert np.array_equal(panel.read(long)["y"].to_numpy(), y)
    single = tmp_path / "s.csv"
    pd.DataFrame({"date": days, "value": y, "x": y[::-1]}).to_csv(single, index=False)
    s = load(single, covariates=["x"])
    assert np.array_equal(s.values, y) and np.array_equal(s.covariate("x"), y[::-1])
    future = tmp_path / "f.csv"
    pd.DataFrame({"date": pd.date_range("2000-10-27", periods=5, freq="D"), "x": y[:5]}).to_csv(future, index=False)
    assert np.array_equal(known_inputs.read_future(future, ["x"], False, None)["x"].to_numpy(), y[:5])
    values, bad = panel.to_values(pd.Series(["55.640422650443284", "1_000", "NA", " 3 "]))
    assert values.iloc[0] == 55.640422650443284 and values.iloc[3] == 3.0 and list(bad) == [1]


def test_one_missing_value_is_said_in_the_singular(tmp_path):
    """"1 missing value values interpolated ... (lines 32)" and "1 rows with a missing value dropped" (a probe)."""
    f = tmp_path / "one.csv"
    rows = [f"{2000 + i // 12}-{i % 12 + 1:02d}-01,{'' if i == 5 else i + 1}" for i in range(36)]
    f.write_text("date,value\n" + "\n".join(rows) + "\n")
    assert "1 missing value of column 'value' interpolated linearly in time (line 7)" in load(f, missing="interpolate").notes[0]
    assert any("1 row with a missing value dropped (line 7)" in n for n in load(f, missing="drop").notes)


@pytest.mark.parametrize("first, second", [(" A", "A"), ("A ", "A"), ('" A"', "A")])
def test_a_panel_id_and_the_same_id_with_spaces_around_it_are_refused(tmp_path, first, second):
    """An unquoted id with a space before it was read as the same id without (the file is read
    with skipinitialspace), so two products became one series without a word (a probe)."""
    from lstmtune.data import panel
    from lstmtune.errors import DataError

    path = tmp_path / "p.csv"
    rows = [f"{first},2020-0{m}-01,{m}" for m in range(1, 4)] + [f"{second},2021-0{m}-01,{m}" for m in range(1, 4)]
    path.write_text("unique_id,ds,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="are one series once the spaces around them are dropped: rename one"):
        panel.read(path)
    path.write_text("unique_id, ds, y\n" + "\n".join(f'B, 2020-0{m}-01, "{m}"' for m in range(1, 4)) + "\n")  # spaces after commas, quoted cells
    assert panel.read(path)["unique_id"].unique().tolist() == ["B"]


@pytest.mark.parametrize("freq", ["2B", "3B"])
def test_every_kth_business_day_is_its_own_grid(tmp_path, freq):
    """pandas infers ``B`` but no multiple of it: a series every second business day was read on
    a ``2D`` grid whose weekends it lacked, so ``auto --missing zero`` inserted them as zeros and
    forecast from a Saturday (a probe). Every k-th business day is now that grid, absent dates
    are named on it, and the forecast continues it."""
    from lstmtune.data import panel
    from lstmtune.data.series import absent_dates, dates_after

    days = pd.date_range("2019-01-07", periods=40, freq=freq)
    assert infer_frequency(days.to_numpy()) == freq
    assert infer_frequency(pd.date_range("2019-01-07 09:30", periods=40, freq=freq).to_numpy()) == freq  # a time of day kept
    assert infer_frequency(pd.date_range("2019-01-07", periods=40, freq="2D").to_numpy()) == "2D"  # weekends included: calendar days
    gaps = days.delete([5, 17]).to_numpy()
    alias, absent = absent_dates(gaps)
    assert alias == freq and list(absent) == list(days[[5, 17]].to_numpy())
    assert panel.grid_frequency(gaps) == freq
    assert list(dates_after(days.to_numpy(), 3)) == list(pd.date_range(days[-1], periods=4, freq=freq)[1:].to_numpy())


def test_plan_notes_how_the_data_was_read_as_run_does(tmp_path):
    """`run`, `baseline` and `plot-series` say that rows were sorted by date; `plan` and
    `forecast --data` read the same file silently (a probe)."""
    s = load("shampoo")
    csv = tmp_path / "newest_first.csv"
    pd.DataFrame({"date": pd.DatetimeIndex(s.dates).strftime("%Y-%m-%d"), "sales": s.values}).iloc[::-1].to_csv(csv, index=False)
    (tmp_path / "s.toml").write_text(f'name = "n"\n[data]\nsource = "{csv.name}"\n[model]\nepochs = 5\n[runs]\nmode = "summary"\nrepeats = 2\n[grid]\nunits = [1]\n')
    res = CliRunner().invoke(app, ["plan", str(tmp_path / "s.toml")])
    assert res.exit_code == 0, res.output
    assert "note: rows sorted by date: the file lists them newest first" in " ".join(res.output.split()), res.output


def test_business_hours_have_a_business_days_season():
    """Hourly readings 09:00-16:00 on weekdays (pandas' ``bh``) were given no season (a probe):
    a business day is 8 of them, a week 40 (MSTL's second season)."""
    from lstmtune.data.series import season_of
    from lstmtune.selection.statistical import second_season

    hours = pd.date_range("2021-01-04 09:00", periods=80, freq="bh").to_numpy()
    assert infer_frequency(hours) == "bh" and infer_period(hours) == 8
    assert second_season("bh", 8) == 40 and season_of("2bh") == 4


def test_an_hour_a_clock_change_skips_or_repeats_is_named_as_one(tmp_path):
    """Hourly local times across a clock change: the spring hour the clock never showed was to be
    "added", the autumn hour it showed twice a plain duplicate (a probe). Both now say what
    they look like and what reads them (times with their UTC offsets); other gaps do not."""
    from lstmtune.data.messages import CLOCK_CHANGE, clock_change

    hours = pd.date_range("2021-03-27 00:00", "2021-03-29 00:00", freq="h")
    spring = hours[hours != pd.Timestamp("2021-03-28 02:00")]
    _write = lambda p, d: pd.DataFrame({"ds": d.strftime("%Y-%m-%d %H:%M:%S"), "y": np.arange(len(d)) % 24 + 1.0}).to_csv(p, index=False)  # noqa: E731
    _write(tmp_path / "spring.csv", spring)
    res = CliRunner().invoke(app, ["auto", str(tmp_path / "spring.csv"), "--horizon", "3", "--candidates", "stats", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 2 and "absent from its h dates (2021-03-28 02:00:00)" in " ".join(res.output.split())
    assert " ".join(CLOCK_CHANGE.split()) in " ".join(res.output.split())
    autumn = pd.DatetimeIndex(list(hours[:27]) + [hours[26]] + list(hours[27:])).shift(217, freq="D")  # 2021-10-31 02:00 twice
    assert pd.Timestamp(autumn[27]) == pd.Timestamp("2021-10-31 02:00")
    _write(tmp_path / "autumn.csv", autumn)
    with pytest.raises(DataError, match="duplicate date 2021-10-31 02:00:00 .*local clock times\\?"):
        load(str(tmp_path / "autumn.csv"))
    assert clock_change([pd.Timestamp("2021-03-24 02:00")]) == ""  # a Wednesday: no clock change
    assert clock_change([pd.Timestamp("2021-06-06 01:17")]) == ""  # a minute in June, a Sunday night's gap: no clock change (a review)
    assert clock_change([pd.Timestamp("2021-06-06 02:00")]) == ""
    assert clock_change([pd.Timestamp("2021-03-28")]) == ""  # a day, not a time
