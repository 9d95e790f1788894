"""Issue 14 item 3 (part): the output files join on label and sub-study, and say what they hold."""

import numpy as np
import pandas as pd
import pytest

from lstmtune.study import spec
from lstmtune.workflow import study
from lstmtune.data.series import load


@pytest.mark.slow  # 4 s in the full run, end to end: kept out of the fast subset
def test_outputs_join(tmp_path):
    s = spec.from_dict(
        {"name": "tidy", "seed": 2, "model": {"epochs": 4}, "runs": {"repeats": 2, "diagnostic_repeats": 2},
         "grids": {"u": {"units": [1, 2]}, "b": {"batch_size": [1, 4]}}}
    )
    out = study.run(s, tmp_path / "o").directory
    runs = pd.read_csv(out / "results.csv")
    summary = pd.read_csv(out / "summary.csv")
    assert list(runs.columns[:3]) == ["config", "label", "study"]
    # units=1 / batch 4 is in both sub-studies: one set of runs, labelled with both
    shared = runs[(runs["units"] == 1) & (runs["batch_size"] == 4)]
    assert set(shared["study"]) == {"u;b"}
    for _, row in summary.iterrows():
        mine = runs[runs["study"].str.split(";").map(lambda x: row["study"] in x) & (runs["units"] == row["units"]) & (runs["batch_size"] == row["batch_size"])]
        assert len(mine) == 2
        assert row["validation_rmse_mean"] == np.mean(mine["validation_rmse"])
    assert set(summary["metric"]) == {"validation_rmse"}
    assert {"units", "batch_size", "epochs", "mcs_p_value", "selected"} <= set(summary.columns)
    assert (summary.loc[summary["selected"], "mcs_p_value"] == 1.0).all()
    curves = pd.read_parquet(out / "curves.parquet")
    assert list(curves.columns) == ["config", "label", "repeat", "epoch", "split", "rmse"]
    assert set(curves["split"]) == {"train", "validation"}
    assert len(curves) == 3 * 2 * 4 * 2  # 3 distinct configurations x 2 repeats x 4 epochs x 2 splits
    # written by Arrow from each configuration's name once: the table pandas would write
    from lstmtune.study import results_io

    results, _ = results_io.read(out)
    pd.testing.assert_frame_equal(curves, results_io.curves_long(results), check_exact=True)


def test_series_csv_keeps_times_of_day(tmp_path):
    base = load("shampoo")
    dates = pd.date_range("2020-01-01 00:00", periods=36, freq="h")
    csv = tmp_path / "hourly.csv"
    pd.DataFrame({"time": dates.strftime("%Y-%m-%d %H:%M"), "v": base.values}).to_csv(csv, index=False)
    s = spec.from_dict({"name": "hourly", "data": {"source": str(csv)}, "model": {"epochs": 2}, "runs": {"repeats": 2, "mode": "summary"}})
    out = study.run(s, tmp_path / "o").directory
    written = pd.read_csv(out / "series.csv")
    assert written["date"].iloc[1] == "2020-01-01T01:00:00"
