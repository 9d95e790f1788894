"""Issue 9: fuzzed study files are always a clean refusal or a valid study, never a
traceback or a hang (hypothesis over keys, value types, huge and non-finite numbers)."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmtune import budget, spec
from lstmtune.errors import SpecError

SECTIONS = {
    "data": ["source", "test_size", "date_column", "value_column"],
    "transforms": ["interval", "lags", "timesteps", "trim", "feature_range"],
    "model": list(spec.ModelSpec.model_fields),
    "runs": ["mode", "repeats", "diagnostic_repeats", "seeding"],
    "evaluation": ["selection", "validation_size", "folds", "refit", "test_all"],
}

scalars = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2, 4, 12, 1000, 10**9, 10**12, -1, 0.5, 1e-9, 1e300, "shampoo", "lstm", "gru", "adam", "sgd", "validation", "test", "backtest", True, False]),
    st.text(max_size=12),
    st.booleans(),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4))


def _section(keys):
    return st.dictionaries(st.one_of(st.sampled_from(keys), st.text(max_size=6)), values, max_size=5)


study_dicts = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=10), st.sampled_from(["ok", "..", "a b", "x" * 200])),
        "seed": scalars,
        **{k: _section(v) for k, v in SECTIONS.items()},
        "grid": st.dictionaries(st.sampled_from(["units", "epochs", "batch_size", "lags", "dropout", "bogus"]), st.lists(scalars, max_size=5), max_size=3),
        "search": st.fixed_dictionaries(
            {"space": st.dictionaries(st.sampled_from(["units", "learning_rate", "bogus"]), st.fixed_dictionaries({"type": st.sampled_from(["int", "float", "categorical", "x"])}, optional={"low": scalars, "high": scalars, "step": scalars, "choices": st.lists(scalars, max_size=3), "log": scalars}), max_size=2)},
            optional={"sampler": st.sampled_from(["grid", "random", "tpe", "cmaes", "x"]), "trials": scalars},
        ),
        "bogus": scalars,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(study_dicts)
def test_fuzzed_study_dicts_validate_or_refuse_cleanly(raw):
    try:
        s = spec.from_dict(raw, "fuzz")
    except SpecError as err:
        assert str(err).startswith("fuzz") and len(str(err)) < 20_000
        return
    points = spec.expand(s)
    assert 1 <= len(points) <= spec.MAX_CONFIGS
    try:
        est = budget.check(s, 36, max_runs=budget.DEFAULT_MAX_RUNS)
    except SpecError:
        return
    assert est.runs >= 1 and math.isfinite(est.seconds)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzzed_study_files_validate_or_refuse_cleanly(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "s.toml"
    path.write_bytes(data)
    try:
        spec.load(path)
    except SpecError as err:
        assert str(path) in str(err)
