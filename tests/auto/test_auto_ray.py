"""lstmtune auto --executor ray: each chunk of series a task on a real local Ray cluster (a head
and a worker node on loopback). The same bits as the local run (the networks, the part a
remote process could change; the statistical candidates run in the same chunk code); a worker that dies mid-chunk
costs only that chunk, retried. Needs the ``ray`` extra (CI installs it)."""

import os
from pathlib import Path

import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="auto --executor ray needs the ray extra: pip install 'lstmtune[ray]'")

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")]

from lstmtune.auto import distributed, lstm  # noqa: E402
from lstmtune.auto import run as auto_run  # noqa: E402
from test_auto import _monthly  # noqa: E402


def dies_once(job, deadline, marks=None):
    """A chunk task that records each attempt, and whose first attempt at series 'b' kills its worker."""
    marks = Path(marks)
    first = job.items[0][1]
    attempt = len(list(marks.glob(f"{first}-*"))) + 1
    (marks / f"{first}-{attempt}").touch()
    if first == "b" and attempt == 1:
        os._exit(1)  # the worker process dies mid-chunk
    return distributed.chunk_task(job, deadline)


def _frames():
    return pd.concat([_monthly("a", 60, 11), _monthly("b", 72, 12, level=50.0)])


def _same(a, b):
    for name in ("forecasts", "backtests", "leaderboard"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_chunks_on_ray_give_the_local_bits_and_a_dead_worker_costs_only_its_chunk(ray_cluster, monkeypatch, tmp_path):
    monkeypatch.setattr(auto_run, "PREFIT_SERIES", 1)  # two chunks: a, b
    settings = lstm.Settings(epochs=10, seeds=2)
    local = auto_run.auto(_frames(), 4, settings=settings, candidates=("lstm",))
    marks = tmp_path / "marks"
    marks.mkdir()
    where = str(marks)

    def task(job, deadline):
        return dies_once(job, deadline, where)

    flaky = distributed.RayChunks(task=task, max_retries=2)
    retried = auto_run.auto(_frames(), 4, settings=settings, candidates=("lstm",), executor=flaky, checkpoint=tmp_path / "ckpt")
    _same(local, retried)
    assert sorted(p.name for p in marks.iterdir()) == ["a-1", "b-1", "b-2"]  # only b's chunk ran again


def test_bad_executor_options_are_one_line(tmp_path):
    from typer.testing import CliRunner

    from lstmtune.cli.app import app

    _frames().to_csv(tmp_path / "p.csv", index=False)
    res = CliRunner().invoke(app, ["auto", str(tmp_path / "p.csv"), "--horizon", "4", "--out", str(tmp_path / "o"), "--address", "127.0.0.1:1"])
    assert res.exit_code == 2 and "--address applies to --executor ray" in res.output
    res = CliRunner().invoke(app, ["auto", str(tmp_path / "p.csv"), "--horizon", "4", "--out", str(tmp_path / "o"), "--executor", "slurm"])
    assert res.exit_code == 2 and "--executor must be local or ray" in res.output
    # nothing listening at the address: Ray retried it for ever (auto hung until killed)
    res = CliRunner().invoke(app, ["auto", str(tmp_path / "p.csv"), "--horizon", "4", "--out", str(tmp_path / "o"), "--executor", "ray", "--address", "127.0.0.1:1"])
    assert res.exit_code == 2 and "cannot reach the Ray cluster at 127.0.0.1:1" in res.output, res.output
    assert not (tmp_path / "o").exists()
