"""The Ray executor on a real local Ray cluster: a head and a worker node on loopback
(issue 13, item 4). Needs the ``ray`` extra (CI installs it)."""

import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="the Ray executor needs the ray extra: pip install 'lstmtune[ray]'")

# Ray starts its processes with fork + exec (subprocess); JAX warns on any fork after it has
# started threads, but an exec'd child inherits none of them.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")]

from lstmtune.data import series as data
from lstmtune.study import executor
from lstmtune.study import planner
from lstmtune.study import ray_executor  # noqa: E402
from lstmtune.study import spec as spec_mod  # noqa: E402
from lstmtune.errors import LstmtuneError  # noqa: E402


SPEC = {"name": "ray", "model": {"epochs": 30, "batch_size": 4}, "grid": {"units": [1, 2], "batch_size": [2, 4]}, "runs": {"mode": "both", "repeats": 3, "diagnostic_repeats": 2}}


def _results(trainer):
    s = spec_mod.from_dict(SPEC)
    return executor.execute(planner.plan(s), data.load("shampoo"), executor=trainer)


def _same(a, b):
    cols = [c for c in a.runs.columns if c.startswith(("test_", "train_", "validation_")) or c in ("config", "repeat", "seed", "diverged")]
    pd.testing.assert_frame_equal(a.runs[cols], b.runs[cols])  # exact: same bits
    assert a.curves.keys() == b.curves.keys() and all(np.array_equal(a.curves[k], b.curves[k]) for k in a.curves)


def test_results_equal_the_local_executor(ray_cluster):
    assert len(ray.nodes()) == 2
    local = _results(None)
    remote = _results(ray_executor.RayExecutor())
    assert len(local.runs) == 12 and remote.timings["populations_trained"] == 4
    _same(local, remote)


def _dying_once(marks: str, victim: tuple):
    """A task that records each attempt and, on the victim population's first attempt, kills its worker process."""

    def task(arch, schedule, hyper, seeds, problem):
        tag = f"{arch.units[0]}-{arch.batch_size}"
        Path(marks, f"{tag}.{uuid.uuid4().hex}").touch()
        if (arch.units[0], arch.batch_size) == victim and not Path(marks, "died").exists():
            Path(marks, "died").touch()
            os._exit(1)  # the worker process dies mid-study, as when a machine is lost
        return ray_executor.train_task(arch, schedule, hyper, seeds, problem)

    return task


def test_a_worker_dying_loses_nothing_and_recomputes_only_its_population(ray_cluster, tmp_path):
    local = _results(None)
    remote = _results(ray_executor.RayExecutor(task=_dying_once(str(tmp_path), (2, 4)), max_retries=2))
    _same(local, remote)
    assert (tmp_path / "died").exists()
    attempts = sorted(p.name.split(".")[0] for p in tmp_path.iterdir() if p.name != "died")
    assert attempts == ["1-2", "1-4", "2-2", "2-4", "2-4"]  # the lost population twice, every other once


def test_cli_runs_a_study_on_the_cluster(ray_cluster, tmp_path):
    from typer.testing import CliRunner

    from lstmtune.cli.app import app

    study = tmp_path / "s.toml"
    study.write_text(spec_mod.dumps(spec_mod.from_dict({**SPEC, "runs": {"mode": "summary", "repeats": 3}})))
    runner = CliRunner()
    for name, extra in (("local", []), ("ray", ["--executor", "ray", "--address", ray_cluster.address])):
        res = runner.invoke(app, ["run", str(study), "--out", str(tmp_path / name), "-q", *extra])
        assert res.exit_code == 0, res.output
    a, b = (pd.read_csv(tmp_path / n / "results.csv") for n in ("local", "ray"))
    pd.testing.assert_frame_equal(a.drop(columns=["train_seconds"], errors="ignore"), b.drop(columns=["train_seconds"], errors="ignore"))
    # the finished local study rerun on Ray: the same bits, so nothing to do (it started Ray and redrew: a probe)
    res = runner.invoke(app, ["run", str(study), "--out", str(tmp_path / "local"), "-q", "--executor", "ray", "--address", "127.0.0.1:1"])
    assert res.exit_code == 0 and "nothing trained, recomputed or redrawn" in " ".join(res.output.split()), res.output


def test_bad_executor_settings_are_one_clear_error(tmp_path):
    from typer.testing import CliRunner

    from lstmtune.cli.app import app

    res = CliRunner().invoke(app, ["run", "--executor", "spark", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--executor must be local or ray, got 'spark'" in res.output
    res = CliRunner().invoke(app, ["run", "--address", "10.0.0.1:6379", "--out", str(tmp_path / "y")])
    assert res.exit_code == 2 and "--address applies to --executor ray" in res.output


def _checking_device(expected: str):
    """The real task, asserting that the worker trains on the device the driver asked for."""

    def task(arch, schedule, hyper, seeds, problem, device=None):
        result = ray_executor.train_task(arch, schedule, hyper, seeds, problem, device=device)
        assert device == expected and os.environ.get("LSTMTUNE_DEVICE") == expected
        return result

    return task


def test_the_device_choice_reaches_the_workers(ray_cluster):
    local = _results(None)
    remote = _results(ray_executor.RayExecutor(task=_checking_device("cpu"), device="cpu"))
    _same(local, remote)
    # GPU tasks on a cluster without a GPU waited for one for ever, printing nothing (a probe)
    with pytest.raises(LstmtuneError, match="--device gpu: the Ray cluster at a new local instance has no GPU"):
        ray_executor.RayExecutor(device="gpu")
    import unittest.mock

    with unittest.mock.patch.object(ray_executor, "_has_gpu", lambda address: None):  # a cluster with GPU nodes
        # A GPU task asks Ray for one GPU (the driver itself need not have one); CPU tasks for none.
        assert ray_executor.RayExecutor(device="gpu").options["num_gpus"] == 1
        assert ray_executor.RayExecutor(device="gpu", num_gpus=0.5).options["num_gpus"] == 0.5
    assert ray_executor.RayExecutor(device="auto").options["num_gpus"] == 0
    with pytest.raises(LstmtuneError, match="the device must be one of auto, cpu, gpu"):
        ray_executor.RayExecutor(device="tpu")


def test_a_failed_tasks_reason_is_the_workers_own_error_in_one_line():
    """The message kept Ray's header line, "\\x1b[36mray::train_task()\\x1b[39m (pid=..., ip=...)",
    in place of the worker's error (a probe)."""

    class Header(Exception):
        pass

    err = ray.exceptions.RayTaskError("train_task", "Traceback ...", LstmtuneError("--device gpu: JAX sees no GPU here; install ..."))
    assert ray_executor._reason(err) == "--device gpu: JAX sees no GPU here; install ..."
    assert ray_executor._reason(ray.exceptions.RayError("\x1b[36mray::x()\x1b[39m (pid=1)\nmore")) == "ray::x() (pid=1)"


def test_an_unreachable_ray_address_in_the_environment_is_one_line(monkeypatch):
    """$RAY_ADDRESS, which Ray joins when no --address is given, was not checked: an unreachable
    one retried for ever (a probe)."""
    import socket

    with socket.socket() as s:  # a port nothing listens at
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    with pytest.raises(LstmtuneError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}"):
        ray_executor._reachable(None or os.environ.get("RAY_ADDRESS"))
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(LstmtuneError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}"):
        ray_executor.connect(None)


def test_an_address_where_something_else_listens_is_one_line(monkeypatch):
    """A web server's port, the dashboard's or a port that accepts and says nothing held
    ``ray.init`` for ever, printing a warning every few seconds (a probe: killed after 150 s).
    A Ray head's GCS port (a gRPC server) passes: test_cli_runs_a_study_on_the_cluster."""
    import http.server
    import socket
    import threading

    web = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    monkeypatch.setattr(ray_executor, "REACH_TIMEOUT_S", 1.0)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("ray.init was reached"))
    try:
        for port in (web.server_address[1], silent.getsockname()[1]):
            with pytest.raises(LstmtuneError, match=f"^127.0.0.1:{port} answers, but not as a Ray cluster's head: give its GCS address"):
                ray_executor.connect(f"127.0.0.1:{port}")
    finally:
        web.shutdown()
        silent.close()


def test_without_an_address_a_new_local_instance_is_started_and_failures_say_what_to_check(monkeypatch):
    """No --address and no $RAY_ADDRESS: a new local instance, as documented (Ray alone joined a
    cluster ``ray start`` left on the machine: a probe); $RAY_ADDRESS is Ray's to join; a port that
    is not a number is one line; a head that refuses the connection names what to check."""
    calls = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda *a, **k: calls.append(k["address"]))
    monkeypatch.setattr(ray_executor, "_reachable", lambda address: None)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    ray_executor.connect(None)
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    ray_executor.connect(None)
    ray_executor.connect("10.0.0.6:6379")
    assert calls == ["local", None, "10.0.0.6:6379"]

    def refused(*a, **k):
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.6:6379")

    monkeypatch.setattr(ray, "init", refused)
    with pytest.raises(LstmtuneError, match="10.0.0.6:6379: Failed to connect .* set RAY_AUTH_MODE=token here too"):
        ray_executor.connect("10.0.0.6:6379")
    monkeypatch.undo()
    with pytest.raises(LstmtuneError, match=r"^--address 127.0.0.1:abc: the port 'abc' is not a number"):
        ray_executor.connect("127.0.0.1:abc")
