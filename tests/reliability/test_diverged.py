"""Issue 9 item 6: a study whose every run diverges still writes its results and a report saying so."""

import pytest
from typer.testing import CliRunner

from lstmtune.cli.app import app

STUDY = 'name = "div"\n[model]\nepochs = 10\noptimizer = "sgd"\nlearning_rate = 1e30\n[runs]\nrepeats = 2\ndiagnostic_repeats = 2\n[grid]\nunits = [1, 2]\n'


def test_all_diverged_study_reports_it(tmp_path, record_property):
    f = tmp_path / "s.toml"
    f.write_text(STUDY)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(f), "--out", str(out), "--quiet"])
    assert result.exit_code == 3, result.output
    assert "every run diverged" in result.output and "Traceback" not in result.output
    html = (out / "report.html").read_text()
    assert "Every run diverged" in html and "results.csv" in html
    assert (out / "results.csv").read_text().count("True") >= 4
    again = CliRunner().invoke(app, ["report", str(out)])
    assert again.exit_code == 0, again.output
    record_property("figure", "all 4 runs diverged: results + report written, exit 3")


@pytest.mark.slow  # 3 s in the full run, end to end: kept out of the fast subset
def test_a_study_whose_every_run_diverged_leaves_no_earlier_studys_summary_or_figures(tmp_path):
    """Written into the directory of a finished study, it kept that study's summary.csv (a
    configuration selected, its test score), test_forecasts.csv and plots/ beside its own
    diverged results, and lstmtune.results() returned them together (a probe)."""
    import lstmtune

    out = tmp_path / "out"
    fine, diverged = tmp_path / "fine.toml", tmp_path / "div.toml"
    fine.write_text(STUDY.replace("learning_rate = 1e30", "learning_rate = 0.01"))
    diverged.write_text(STUDY)
    assert CliRunner().invoke(app, ["run", str(fine), "--out", str(out), "--quiet"]).exit_code == 0
    assert {"summary.csv", "test_forecasts.csv", "plots"} <= {p.name for p in out.iterdir()}
    result = CliRunner().invoke(app, ["run", str(diverged), "--out", str(out), "--quiet"])
    assert result.exit_code == 3, result.output
    assert not {"summary.csv", "test_forecasts.csv", "plots"} & {p.name for p in out.iterdir()}
    runs, summary = lstmtune.results(out)
    assert runs["diverged"].all() and summary is None


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_partly_diverged_study_reports_the_rest(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(STUDY.replace("learning_rate = 1e30\n", "").replace("units = [1, 2]", "learning_rate = [0.01, 1e30]"))
    result = CliRunner().invoke(app, ["run", str(f), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "runs diverged" in result.output
