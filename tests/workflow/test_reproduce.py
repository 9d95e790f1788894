"""The tutorial's published numbers and study, as shipped in the package."""

import os
import re
from pathlib import Path

import pytest

from typer.testing import CliRunner

from lstmtune.workflow import reproduce
from lstmtune.study import spec
from lstmtune.cli.app import app

TUTORIAL = Path(__file__).resolve().parents[3] / "shared" / "reference" / "lstm-tuning-tutorial.txt"
ROWS = ("mean", "std", "min", "q25", "median", "q75", "max")


def _published_tables(text: str) -> list[list[float]]:
    """The three describe() tables of the tutorial: header line of labels, then count..max."""
    tables = []
    for line in text.splitlines():
        if " count 30.000000" in line:
            tables.append([float(x) for x in re.findall(r"\d+\.\d+", line)])
    return tables


def test_transcription_matches_the_tutorial_text():
    if not TUTORIAL.is_file():
        # A user's clone has no ../shared beside it; CI has, and must check the transcription.
        if os.environ.get("CI"):
            pytest.fail(f"CI: the tutorial is expected at {TUTORIAL} (../shared beside the checkout)")
        pytest.skip(f"the tutorial's text is not beside this clone ({TUTORIAL}); CI checks the transcription")
    tables = _published_tables(TUTORIAL.read_text())
    ref = reproduce.published()
    assert [len(ref[s]) for s in ("epochs", "batch_size", "units")] == [5, 3, 5]
    for study, numbers in zip(("epochs", "batch_size", "units"), tables):
        labels = list(ref[study])
        k = len(labels)
        assert numbers[:k] == [30.0] * k  # the count row
        for i, row in enumerate(ROWS, start=1):
            for j, label in enumerate(labels):
                assert ref[study][label][row] == pytest.approx(numbers[i * k + j], abs=1e-9), (study, label, row)


def test_tutorial_spec_has_the_three_studies():
    s = reproduce.tutorial_spec()
    points = spec.expand(s)
    assert [p.study for p in points].count("epochs") == 5
    assert {p.study for p in points} == {"epochs", "batch_size", "units"}
    assert len(points) == 13
    # units=1, batch 4, 1000 epochs is the same configuration in all three studies.
    assert len({p.config for p in points}) == 11
    assert (s.runs.repeats, s.runs.diagnostic_repeats, s.transforms.trim) == (30, 10, 2)


def _small_tutorial(monkeypatch) -> None:
    """The tutorial's batch-size experiment only, 20 epochs, 3 repeats: the whole workload is a benchmark."""
    full = reproduce.tutorial_spec()
    small = full.model_copy(
        update={
            "model": full.model.model_copy(update={"epochs": 20}),
            "runs": full.runs.model_copy(update={"repeats": 3, "diagnostic_repeats": 2}),
            "grids": {"batch_size": full.grids["batch_size"]},
        }
    )
    monkeypatch.setattr(reproduce, "tutorial_spec", lambda: small)


@pytest.mark.slow  # 4 s in the full run, end to end: kept out of the fast subset
def test_reproduce_runs_from_python_in_one_call(tmp_path, monkeypatch):
    """``lstmtune.workflow.reproduce.run``: the study, its report block and the comparison with the
    tutorial (on a reduced workload, see :func:`_small_tutorial`)."""
    _small_tutorial(monkeypatch)
    outcome, agreements = reproduce.run(tmp_path / "rep")
    assert [a.study for a in agreements] == ["batch_size"]
    assert list(agreements[0].table["batch_size"]) == ["1", "2", "4"]
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Against the tutorial&#39;s published results" in html or "Against the tutorial's published results" in html
    assert f"tutorial <b>{agreements[0].best_tutorial}</b>" in html
    assert len(outcome.results.runs) == 9


@pytest.mark.slow  # 3 s in the full run, end to end: kept out of the fast subset
def test_the_reproduce_command_is_thin_over_reproduce_run(tmp_path, monkeypatch):
    """``lstmtune reproduce`` runs :func:`lstmtune.workflow.reproduce.run` once and prints what it returns."""
    _small_tutorial(monkeypatch)
    calls, real = [], reproduce.run

    def recording(out, **options):
        calls.append((out, real(out, **options)))
        return calls[-1][1]

    monkeypatch.setattr(reproduce, "run", recording)
    result = CliRunner().invoke(app, ["reproduce", "--out", str(tmp_path / "rep"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert [out for out, _ in calls] == [tmp_path / "rep"]
    [(_, (_, [a]))] = calls  # one call, one tutorial experiment compared
    assert f"batch_size: best by mean ours {a.best_ours}, tutorial {a.best_tutorial}" in result.output
    assert f"Kendall tau {a.kendall_tau:.2f}" in result.output
    for _, r in a.table.iterrows():  # the comparison table, one row per batch size
        assert f"{r['mean']:.2f}" in result.output and f"{r['tutorial mean']:.2f}" in result.output
    assert (tmp_path / "rep" / "report.html").is_file()
