"""`lstmtune plan DATA --horizon H` reads and counts what `lstmtune auto` would, with auto's
options (found by a probe of plan's claims: a panel auto reads with --id-column could not be
planned, fallbacks were not named, options were ignored, cores were the machine's)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.auto import lstm
from lstmtune.auto import plan as auto_plan
from lstmtune.cli.app import app


def _monthly(uid, n, seed, start="2010-01-01"):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=n, freq="MS"), "y": y})


def test_plan_reads_a_panel_with_autos_column_and_date_options(tmp_path):
    data = pd.concat([_monthly("a", 60, 1), _monthly("b", 48, 2)])
    other = data.rename(columns={"unique_id": "store", "ds": "month", "y": "sales"}).assign(month=lambda f: f["month"].dt.strftime("%d/%m/%Y"))
    other.to_csv(tmp_path / "p.csv", index=False)
    data.to_csv(tmp_path / "q.csv", index=False)
    plain = CliRunner().invoke(app, ["plan", str(tmp_path / "q.csv"), "--horizon", "6"])
    named = CliRunner().invoke(app, ["plan", str(tmp_path / "p.csv"), "--horizon", "6", "--id-column", "store", "--date-column", "month",
                                     "--value-column", "sales", "--date-format", "%d/%m/%Y"])
    assert plain.exit_code == 0 and named.exit_code == 0, named.output
    counts = lambda out: [line for line in out.splitlines() if "series:" in line or "seed ensembles" in line]  # noqa: E731
    assert counts(named.output) == counts(plain.output) and "2 series: 2 with candidates" in named.output
    # the header names the options planned with (it said "lstmtune auto p.csv --horizon 6:" whatever they were: a probe)
    assert f"lstmtune auto {tmp_path / 'p.csv'} --horizon 6 --id-column store --date-column month --value-column sales --date-format %d/%m/%Y:" in " ".join(named.output.split())
    assert f"lstmtune auto {tmp_path / 'q.csv'} --horizon 6:" in " ".join(plain.output.split())


def test_plan_names_each_series_on_a_fallback_and_why(tmp_path):
    pd.concat([_monthly("a", 60, 1), _monthly("short", 14, 2)]).to_csv(tmp_path / "p.csv", index=False)
    res = CliRunner().invoke(app, ["plan", str(tmp_path / "p.csv"), "--horizon", "6"])
    assert res.exit_code == 0 and "1 on a fallback or constant" in res.output
    line = next(line for line in res.output.splitlines() if "on a fallback: " in line)
    assert "short" in line and "too few" in line, res.output


@pytest.mark.parametrize("argv, needle", [
    (["--candidates", "bogus"], "--candidates applies with --horizon"),
    (["--id-column", "store"], "--id-column applies with --horizon"),
    (["--global-lstm"], "--global-lstm applies with --horizon"),
    (["--time-budget", "10"], "--time-budget applies with --horizon"),
])
def test_autos_options_without_horizon_are_refused_not_ignored(argv, needle):
    res = CliRunner().invoke(app, ["plan", *argv])
    assert res.exit_code == 2 and needle in res.output, res.output


def test_max_runs_with_horizon_is_refused(tmp_path):
    _monthly("a", 60, 1).to_csv(tmp_path / "p.csv", index=False)
    res = CliRunner().invoke(app, ["plan", str(tmp_path / "p.csv"), "--horizon", "6", "--max-runs", "1"])
    assert res.exit_code == 2 and "--max-runs applies to a study" in res.output


def test_a_bad_device_is_refused_by_plan_as_by_run(monkeypatch):
    monkeypatch.setenv("LSTMTUNE_DEVICE", "bogus")
    res = CliRunner().invoke(app, ["plan"])
    assert res.exit_code == 2 and "bogus" in res.output, res.output


def test_a_prefit_chunk_of_zero_series_is_refused(tmp_path, monkeypatch):
    _monthly("a", 60, 1).to_csv(tmp_path / "p.csv", index=False)
    monkeypatch.setenv("LSTMTUNE_PREFIT_SERIES", "0")
    res = CliRunner().invoke(app, ["plan", str(tmp_path / "p.csv"), "--horizon", "6"])
    assert res.exit_code == 2 and "LSTMTUNE_PREFIT_SERIES must be a positive whole number, got '0'" in res.output, res.output


def test_global_networks_and_the_time_budget_are_counted():
    data = pd.concat([_monthly(u, 60 + 6 * k, k) for k, u in enumerate("abcd")])
    settings = lstm.Settings()
    local = auto_plan.plan(data, 6, candidates=("lstm",), settings=settings, memory_bytes=2**36)
    pooled = auto_plan.plan(data, 6, candidates=("lstm",), settings=settings, memory_bytes=2**36, global_lstm=True)
    # two global configurations (d=1 and d=12), each at the two windows and once on everything
    assert pooled.networks == local.networks + 2 * 3 and pooled.steps > local.steps
    assert any("global LSTMs: 6 seed ensembles" in line for line in pooled.lines())
    tight = auto_plan.plan(data, 6, candidates=("lstm",), settings=settings, memory_bytes=2**36, time_budget=0.6 * (local.seconds - auto_plan.START_SECONDS - auto_plan.NETWORK_START_SECONDS))
    assert tight.steps < local.steps and any("time budget" in line and "instead of 5 x 300" in line and "counted so above" in line for line in tight.lines())
    none = auto_plan.plan(data, 6, candidates=("lstm",), settings=settings, memory_bytes=2**36, time_budget=0)
    assert none.networks == 0 and any("LSTM candidates left out" in line and "not counted above" in line for line in none.lines())


def test_the_memory_refusal_states_its_threshold_and_useful_advice():
    from lstmtune.errors import LstmtuneError

    data = _monthly("a", 60, 1)
    with pytest.raises(LstmtuneError, match=r"more than 90% of this machine's available .*the process alone needs about"):
        auto_plan.check(auto_plan.plan(data, 6, memory_bytes=780 * 2**20))


def test_the_cores_are_those_this_process_may_use(monkeypatch):
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    p = auto_plan.plan(_monthly("a", 60, 1), 6, memory_bytes=2**36)
    assert any("on 1 core (" in line for line in p.lines())


def test_a_study_of_layers_wider_than_the_calibration_says_its_estimate_may_be_far_low(tmp_path):
    (tmp_path / "wide.toml").write_text('name = "wide"\n[model]\nepochs = 2\nunits = [300]\n[runs]\nmode = "summary"\nrepeats = 1\n')
    (tmp_path / "narrow.toml").write_text('name = "narrow"\n[model]\nepochs = 2\nunits = [4]\n[runs]\nmode = "summary"\nrepeats = 1\n')
    wide = CliRunner().invoke(app, ["plan", str(tmp_path / "wide.toml")])
    narrow = CliRunner().invoke(app, ["plan", str(tmp_path / "narrow.toml")])
    assert wide.exit_code == narrow.exit_code == 0, wide.output
    assert "layers of up to 300 units: beyond the 64 units" in wide.output and "beyond the" not in narrow.output


def test_a_series_name_with_a_line_break_stays_on_its_line(tmp_path):
    data = pd.concat([_monthly("a", 60, 1), _monthly("b\nsecond line", 12, 2)])
    data.to_csv(tmp_path / "p.csv", index=False)
    res = CliRunner().invoke(app, ["plan", str(tmp_path / "p.csv"), "--horizon", "6"])
    assert res.exit_code == 0, res.output
    assert not any(line.startswith("second line") for line in res.output.splitlines())
    assert any("b\\nsecond line" in line and ("skipped: " in line or "on a fallback: " in line) for line in res.output.splitlines()), res.output


def test_a_budget_counts_from_the_commands_start_as_autos_does():
    """plan assumed 6 s already spent when it fitted the settings to a budget, so a 5 s budget
    left out LSTMs that auto, which measures its own start, trained (a docs probe)."""
    from lstmtune.auto import cost
    from lstmtune.auto.backtests import plan_series
    from lstmtune.data import panel

    data = pd.concat([_monthly(u, 60, k) for k, u in enumerate("ab")])
    p = auto_plan.plan(data, 6, candidates=("lstm",), memory_bytes=2**36, time_budget=5.0)
    items = []
    for _, f in data.groupby("unique_id"):
        v = panel.triage(f, 6)
        items.append((f, plan_series(f, v, 6, ("lstm",), lstm.Settings(), 2)))
    assert cost.seconds(items, 6, cost.cheapest(lstm.Settings()), 2) < 0.5 * 5.0  # the fewest seeds and epochs fit a 5 s budget
    assert p.networks > 0 and not any("left out" in line for line in p.lines()), p.lines()


def test_a_statistical_only_plan_counts_the_memory_of_statistical_results_and_says_so():
    """`plan --candidates stats` on 10,000 weekly series said "about 22.2 GiB (a stacked population
    of 0 networks x 0 rows)" and refused a panel auto runs in about 2 GiB (a probe)."""
    data = pd.concat([_monthly(f"s{i}", 60, i) for i in range(40)])
    stats = auto_plan.plan(data, 6, candidates=("stats",), memory_bytes=2**36)
    nets = auto_plan.plan(data, 6, candidates=("lstm", "stats"), memory_bytes=2**36)
    assert stats.networks == 0 and stats.peak_bytes == auto_plan.BASE_BYTES + 40 * auto_plan.STATS_SERIES_BYTES
    assert nets.peak_bytes > auto_plan.BASE_BYTES + 40 * auto_plan.SERIES_BYTES
    assert not any("stacked population" in line for line in stats.lines())
    small = dataclasses.replace(stats, memory_bytes=stats.peak_bytes)  # a machine with too little
    with pytest.raises(Exception, match=r"its 40 series' results\), more than 90%"):
        auto_plan.check(small)


def test_a_long_line_is_never_folded_when_output_is_not_a_terminal(tmp_path):
    """Piped or logged, each of plan's lines stays one line whatever its length: a long file
    path folded "skipped: d: FILE: line 154, column 'ds': duplicate date ..." in two, so a
    grep for the series' reason missed it (a test failed or passed by its temporary folder's name)."""
    deep = tmp_path / ("a_folder_whose_name_is_long_enough_to_push_a_line_past_120_columns" * 2)
    deep.mkdir()
    bad = _monthly("d", 40, 74)
    bad.loc[5, "ds"] = bad.loc[4, "ds"]
    pd.concat([_monthly("a", 60, 1), bad]).to_csv(deep / "p.csv", index=False)
    said = CliRunner().invoke(app, ["plan", str(deep / "p.csv"), "--horizon", "4"])
    assert said.exit_code == 0, said.output
    (line,) = [line for line in said.output.splitlines() if "skipped: d: " in line]
    assert len(line) > 120 and line.endswith("duplicate date 2010-05-01 (first at line 66)")
    first = said.output.splitlines()[0]
    assert first.startswith("lstmtune auto /") and first.endswith("--horizon 4:")


def test_a_missing_value_is_named_by_its_line_in_the_file_by_plan_and_auto(tmp_path):
    # named by date only before, where every other bad cell of a file is named by its line (a probe)
    b = _monthly("b", 40, 3)
    b.loc[[5, 9], "y"] = np.nan  # the file's lines 2-15 hold "short"; b's row 5 is line 21
    pd.concat([_monthly("short", 14, 2), b]).to_csv(tmp_path / "p.csv", index=False)
    path = tmp_path / "p.csv"
    assert path.read_text().splitlines()[20].startswith("b,2010-06-01,")  # line 21 (the header is line 1)
    said = f"2 missing values (2010-06-01, 2010-10-01; the first at line 21 of {path}): use --missing interpolate or --missing zero"
    planned = CliRunner().invoke(app, ["plan", str(path), "--horizon", "6"])
    assert said in " ".join(planned.output.split()), planned.output
    res = CliRunner().invoke(app, ["auto", str(path), "--horizon", "6", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 3, res.output
    board = pd.read_csv(tmp_path / "o" / "leaderboard.csv")
    assert board.set_index("unique_id").loc["b", "reason"] == said
