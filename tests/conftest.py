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


RENDERED = ("tests/report/", "tests/reliability/test_bad_inputs.py", "tests/reliability/test_diverged.py", "tests/workflow/test_reproduce.py",
            "tests/data/test_data.py")
"""Where every figure is rendered; elsewhere only in tests marked ``figures``."""


def _unrendered_png(fig, path) -> None:
    """A 1x1 PNG in place of the figure's rendering (see :func:`_figures_rendered_where_tested`)."""
    from matplotlib import image

    image.imsave(path, [[[1.0, 1.0, 1.0, 1.0]]], format="png")


@pytest.fixture(autouse=True)
def _figures_rendered_where_tested(request, monkeypatch):
    """Rendering the figures (matplotlib laying out ticks and text and rasterising) was a fifth
    of the test workers' time in a profile of the suite (2026-12-07), in tests about something
    else: stores, resumes, searches, panels. Outside :data:`RENDERED` and tests marked
    ``figures``, each figure is built as ever (every plotting call on the real data) and then
    written as a 1x1 PNG instead of rendered. The figure tests, the unusual inputs and diverged
    runs of the reliability suite, ``reproduce`` and one marked test per kind of study, search,
    panel, covariates and ``auto`` render every figure."""
    if request.node.nodeid.startswith(RENDERED) or request.node.get_closest_marker("figures"):
        yield
        return
    from lstmtune.report import figures

    monkeypatch.setattr(figures, "_write_tight_png", _unrendered_png)
    yield


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


RAY_FILES = ("tests/study/test_ray_executor.py", "tests/auto/test_auto_ray.py")
"""The test files that start a Ray cluster: one worker runs them one after the other, on one
cluster (:func:`pytest_xdist_make_scheduler`). Two clusters, one per file, each started a head,
a worker node and their workers, which imported lstmtune again: about 7 s of a test worker's
time each, and their processes about 70 s of the cores' in a profile of the suite (2026-12-07)."""
_RAY: dict = {}


@pytest.hookimpl(optionalhook=True)  # without pytest-xdist (-p no:xdist) the hook is unknown
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` (the README's command) with :data:`RAY_FILES` as one unit of work."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class _OneRayCluster(LoadFileScheduling):
        def _split_scope(self, nodeid):
            scope = super()._split_scope(nodeid)
            return "ray" if scope.replace("\\", "/").endswith(RAY_FILES) else scope

    return _OneRayCluster(config, log)


@pytest.fixture(scope="module")
def ray_cluster(request):
    """A real local Ray cluster: a head and a worker node on loopback, one CPU each; the
    requesting test module is pickled by value (the workers cannot import it). One cluster
    serves every module of :data:`RAY_FILES` run in a row, shut down after the last."""
    ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'lstmtune[ray]'")
    if not request.node.nodeid.replace("\\", "/").endswith(RAY_FILES):
        raise RuntimeError(f"{request.node.nodeid}: a test file that uses ray_cluster belongs in tests/conftest.py's RAY_FILES")
    if "cluster" not in _RAY:
        from ray.cluster_utils import Cluster

        ray.shutdown()
        c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        c.add_node(num_cpus=1)  # a second node: its own raylet and workers
        ray.init(address=c.address, log_to_driver=False)
        _RAY["cluster"] = c
    ray.cloudpickle.register_pickle_by_value(request.module)
    yield _RAY["cluster"]


def _stop_ray() -> None:
    c = _RAY.pop("cluster", None)
    if c is not None:
        import ray

        ray.shutdown()
        c.shutdown()


def pytest_runtest_teardown(item, nextitem):
    """The cluster stops once the next test is not in :data:`RAY_FILES` (or there is none)."""
    if "cluster" in _RAY and (nextitem is None or not nextitem.nodeid.split("::", 1)[0].endswith(RAY_FILES)):
        _stop_ray()


# --------------------------------------------------------------------------- reliability matrix
# Outcomes of the reliability suite (and the fault-tolerance tests elsewhere) are kept in
# .reliability/last_run.json, from which tools/reliability_report.py writes docs/RELIABILITY.md.
_RELIABILITY_FILES = ("tests/reliability/", "tests/workflow/test_resume.py", "tests/store/test_store.py", "tests/study/test_evaluation.py",
                      "tests/auto/test_auto_resume.py::test_kill_9", "tests/auto/test_auto_resume.py::test_a_checkpointed", "tests/auto/test_auto_panels.py::test_a_panel_gives", "tests/auto/test_auto_resume.py::test_with_global_lstms",
                      "tests/auto/test_auto_resume.py::test_a_rerun_into_a_finished", "tests/auto/test_auto_resume.py::test_what_a_finished")
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
    _stop_ray()  # an interrupted run
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
