"""Issue 9: fuzzed study files are always a clean refusal or a valid study, never a
traceback or a hang (hypothesis over keys, value types, huge and non-finite numbers)."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmtune.study import budget
from lstmtune.study import spec
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


# --------------------------------------------------------------------------- the same dicts, as TOML files
def _toml_str(text: str) -> str:
    """A TOML basic string (control characters and DEL as \\u escapes)."""
    body = "".join(
        "\\" + c if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text
    )
    return f'"{body}"'


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{_toml_str(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"


def _toml(raw: dict) -> str:
    return "".join(f"{_toml_str(str(k))} = {_toml_value(v)}\n" for k, v in raw.items())


huge = st.sampled_from([10**30, -(10**25), 2**63, -(2**63) - 1, 1e308, -1e308, 5e-324])
toml_values = st.recursive(
    st.one_of(scalars, huge, st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=12,
)
toml_dicts = st.one_of(
    study_dicts,
    st.dictionaries(st.one_of(st.sampled_from([*SECTIONS, "name", "seed", "grid", "grids", "search"]), st.text(max_size=8)), toml_values, max_size=6),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(toml_dicts)
def test_fuzzed_toml_study_files_load_or_refuse_in_short_lines(tmp_path, raw):
    """Random study dicts (schema keys and unknown ones; numbers huge, non-finite, of every type;
    nested lists and tables) written as TOML: ``spec.load`` gives a StudySpec or a SpecError
    whose every line names the file and is short — never another exception."""
    path = tmp_path / "s.toml"
    path.write_text(_toml(raw), encoding="utf-8")
    try:
        s = spec.load(path)
    except SpecError as err:
        lines = str(err).splitlines()
        assert lines and all(line.startswith(str(path)) and len(line) < 1000 for line in lines), str(err)[:2000]
        return
    assert isinstance(s, spec.StudySpec)
    for v in (s.model.learning_rate, s.model.huber_delta, s.model.l1, s.model.l2, *s.transforms.feature_range):
        assert v is None or math.isfinite(v)
