"""Issue 9 item 1: a stored run is reused only for the same data and settings."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.cli.app import app
from lstmtune.data.series import load

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it

STUDY = """
name = "stale"
seed = 4
[data]
source = "{source}"
test_size = {test_size}
[model]
batch_size = 4
epochs = 8
[runs]
mode = "summary"
repeats = 2
[evaluation]
selection = "{selection}"
[grid]
units = [1, 2]
"""


def _write_csv(path, scale=1.0):
    s = load("shampoo")
    pd.DataFrame({"date": pd.DatetimeIndex(s.dates).strftime("%Y-%m-%d"), "sales": s.values * scale}).to_csv(path, index=False)


def _run(tmp_path, out, *, source, test_size=12, selection="test", name="s.toml"):
    f = tmp_path / name
    f.write_text(STUDY.format(source=source, test_size=test_size, selection=selection))
    result = CliRunner().invoke(app, ["run", str(f), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return result.output, pd.read_csv(out / "results.csv")


@pytest.mark.parametrize("selection", ["test", "validation"])
def test_changed_data_and_split_are_computed_afresh(tmp_path, selection, record_property):
    csv = tmp_path / "series.csv"
    _write_csv(csv)
    out = tmp_path / "out"
    _run(tmp_path, out, source=csv, selection=selection)
    _write_csv(csv, scale=10.0)  # same file, other content, other split
    text, rerun = _run(tmp_path, out, source=csv, test_size=6, selection=selection)
    assert "changed since results were stored" in text
    _, fresh = _run(tmp_path, tmp_path / "fresh", source=csv, test_size=6, selection=selection)
    metric = "test_rmse" if selection == "test" else "validation_rmse"
    np.testing.assert_array_equal(rerun[metric].to_numpy(), fresh[metric].to_numpy())
    record_property("figure", f"{selection}: CSV x10 and test_size 12 -> 6 into the same --out: recomputed, equal to a fresh run")


def test_changing_the_source_is_not_reused(tmp_path):
    csv = tmp_path / "series.csv"
    _write_csv(csv, scale=3.0)
    out = tmp_path / "out"
    _, first = _run(tmp_path, out, source=csv)
    text, second = _run(tmp_path, out, source="shampoo")
    assert "changed since results were stored" in text
    assert not np.allclose(first["test_rmse"], second["test_rmse"])


def test_same_data_is_reused_without_training(tmp_path):
    out = tmp_path / "out"
    _, first = _run(tmp_path, out, source="shampoo")
    text, second = _run(tmp_path, out, source="shampoo")
    assert "changed since results were stored" not in text
    pd.testing.assert_frame_equal(first, second)
