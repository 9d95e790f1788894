import os
import sys
from pathlib import Path

# Keras is the fidelity reference. Its TensorFlow backend is the one whose stateful
# RNNs carry state through fit() and predict(): in Keras 3.15 the JAX backend silently
# resets it every batch and the torch backend raises (see tests/keras_reference.py).
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# The test workers already keep both cores busy: reports draw in their own process here, and
# tests/report/test_drawing.py checks the helper process that draws beside it.
os.environ.setdefault("LSTMTUNE_DRAW_PROCESSES", "1")
sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs the property tests on a fixed sequence of examples (.ci/run sets HYPOTHESIS_PROFILE=ci),
# so that a change lands or not on its own merits; elsewhere each run draws new examples, and
# what they find is fixed and kept as an @example (tests/data/test_transforms.py has one).
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _lanes_as_in_a_fresh_process():
    """Each test places its populations on the CPU lanes as a fresh process would
    (lstmtune.study.executor keeps a program's lane, and each lane's load, for the process).
    Without this a test's lanes depended on the tests its worker ran before it, so each run of
    the suite put some programs on the other device and compiled them again (82 of them in a
    second run, 2026-12-06)."""
    executor = sys.modules.get("lstmtune.study.executor")
    if executor is not None:
        executor._LANES.clear()
        executor._LOAD.clear()
    yield


@pytest.fixture(scope="module")
def ray_cluster(request):
    """A real local Ray cluster: a head and a worker node on loopback, one CPU each; the
    requesting test module is pickled by value (the workers cannot import it)."""
    ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'lstmtune[ray]'")
    from ray.cluster_utils import Cluster

    ray.shutdown()
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)  # a second node: its own raylet and workers
    ray.init(address=c.address, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(request.module)
    yield c
    ray.shutdown()
    c.shutdown()


# --------------------------------------------------------------------------- reliability matrix
# Outcomes of the reliability suite (and the fault-tolerance tests elsewhere) are kept in
# .reliability/last_run.json, from which tools/reliability_report.py writes docs/RELIABILITY.md.
_RELIABILITY_FILES = ("tests/reliability/", "tests/workflow/test_resume.py", "tests/store/test_store.py", "tests/study/test_evaluation.py",
                      "tests/auto/test_auto_resume.py::test_kill_9", "tests/auto/test_auto_resume.py::test_a_checkpointed", "tests/auto/test_auto_panels.py::test_a_panel_gives", "tests/auto/test_auto_resume.py::test_with_global_lstms")
_outcomes: dict[str, dict] = {}


def pytest_runtest_logreport(report):
    if not report.nodeid.startswith(_RELIABILITY_FILES):
        return
    if report.when == "call" or report.outcome != "passed":
        entry = _outcomes.setdefault(report.nodeid, {"outcome": report.outcome, "seconds": 0.0})
        entry["seconds"] += report.duration
        if report.outcome != "passed":
            entry["outcome"] = report.outcome
        if report.skipped and isinstance(report.longrepr, tuple):  # (file, line, "Skipped: why")
            entry["reason"] = str(report.longrepr[2]).removeprefix("Skipped: ")
        lines = [v for k, v in getattr(report, "user_properties", []) if k == "figure"]
        if lines:
            entry["figures"] = lines


def pytest_sessionfinish(session, exitstatus):
    if not _outcomes or hasattr(session.config, "workerinput"):  # pytest-xdist: the controller writes, once
        return
    import json
    import time

    path = Path(__file__).resolve().parents[1] / ".reliability" / "last_run.json"
    try:
        path.parent.mkdir(exist_ok=True)
        old = json.loads(path.read_text()) if path.is_file() else {}
        old.update(_outcomes)  # a partial run updates the tests it ran
        path.write_text(json.dumps({**old, "_updated": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1, sort_keys=True))
    except OSError:
        pass  # a read-only checkout: the matrix is only informational
