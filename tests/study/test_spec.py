"""Study specifications: defaults, TOML round trip, grid expansion, and rejection of
bad study files with the file and the key's path in the message (library and CLI)."""

import tomllib

import pydantic
import pytest
from typer.testing import CliRunner

from lstmtune.study import params, spec
from lstmtune.cli.app import app
from lstmtune.errors import SpecError


# --------------------------------------------------------------------------- defaults
def test_default_study_is_the_tutorial_units_study():
    s = spec.default_study()
    assert s.name == "units"
    assert s.seed == 1
    assert s.grid == {"units": [1, 2, 3, 4, 5]}
    assert s.grids is None
    assert s.runs.repeats == 30
    assert s.runs.diagnostic_repeats == 10
    assert s.runs.mode == "both"
    assert s.model.batch_size == 4
    assert s.model.epochs == 1000
    assert s.transforms.trim is None  # fewest rows that divide by the batch: 2 on the test phase, as the tutorial
    assert s.data.source == "shampoo"
    assert s.data.test_size == 12
    ev = s.evaluation
    assert (ev.selection, ev.validation_size, ev.refit, ev.test_all) == ("validation", 6, True, True)
    points = spec.expand(s)
    assert [p.label for p in points] == [f"units={u}" for u in range(1, 6)]
    assert {p.study for p in points} == {"units"}
    assert all(p.config.batch_size == 4 and p.config.epochs == 1000 and p.config.trim is None for p in points)


# --------------------------------------------------------------------------- TOML round trip
def _rich_spec():
    return spec.from_dict(
        {
            "name": "round-trip",
            "seed": 7,
            "data": {"source": "shampoo", "test_size": 10},
            "transforms": {"trim": 1, "feature_range": [0.0, 1.0]},
            "model": {"units": 3, "batch_size": 2, "epochs": 25, "learning_rate": 0.005},
            "runs": {"mode": "both", "repeats": 4, "diagnostic_repeats": 2, "seeding": "shared"},
            "grids": {
                "units": {"units": [1, 2, 3]},
                "lr_act": {"learning_rate": [1e-3, 1e-2], "recurrent_activation": ["sigmoid", "hard_sigmoid"]},
                "epochs": {"epochs": [5, 10, 20]},
            },
        }
    )


def test_toml_round_trip_with_grids_and_feature_range(tmp_path):
    s = _rich_spec()
    path = tmp_path / "study.toml"
    path.write_text(spec.dumps(s))
    back = spec.load(path)
    assert back == s
    assert back.transforms.feature_range == (0.0, 1.0)
    assert list(back.grids) == ["units", "lr_act", "epochs"]
    assert spec.expand(back) == spec.expand(s)


def test_toml_round_trip_keeps_sub_study_names_that_are_not_bare_keys(tmp_path):
    # Sub-study names are free text (e.g. [grids."units vs lr"] in a study file);
    # the written study.toml must still parse back to the same spec.
    s = spec.from_dict({"name": "q", "grids": {"units vs lr": {"units": [1, 2]}, "a.b": {"epochs": [5]}}})
    text = spec.dumps(s)
    assert tomllib.loads(text)["grids"].keys() == {"units vs lr", "a.b"}
    path = tmp_path / "study.toml"
    path.write_text(text)
    assert spec.load(path) == s


def test_default_study_round_trips(tmp_path):
    path = tmp_path / "default.toml"
    path.write_text(spec.dumps(spec.default_study()))
    assert spec.load(path) == spec.default_study()


# --------------------------------------------------------------------------- expand
def test_expand_is_the_cartesian_product_in_file_order():
    s = spec.from_dict({"name": "g", "grid": {"units": [1, 2], "batch_size": [1, 2, 4]}})
    points = spec.expand(s)
    assert len(points) == 6
    assert [p.label for p in points] == [
        "units=1, batch_size=1",
        "units=1, batch_size=2",
        "units=1, batch_size=4",
        "units=2, batch_size=1",
        "units=2, batch_size=2",
        "units=2, batch_size=4",
    ]
    assert [(p.config.units, p.config.batch_size) for p in points] == [(1, 1), (1, 2), (1, 4), (2, 1), (2, 2), (2, 4)]
    assert points[4].varied == {"units": 2, "batch_size": 2}
    assert all(p.study == "g" for p in points)
    # the rest comes from the [model] / [transforms] defaults
    assert all(p.config.epochs == 1000 and p.config.learning_rate == 1e-3 and p.config.trim is None for p in points)
    assert len({p.config.key for p in points}) == 6


def test_expand_grids_gives_each_sub_study_its_own_points():
    s = _rich_spec()
    points = spec.expand(s)
    assert [(p.study, p.label) for p in points] == [
        ("units", "units=1"),
        ("units", "units=2"),
        ("units", "units=3"),
        ("lr_act", "learning_rate=0.001, recurrent_activation=sigmoid"),
        ("lr_act", "learning_rate=0.001, recurrent_activation=hard_sigmoid"),
        ("lr_act", "learning_rate=0.01, recurrent_activation=sigmoid"),
        ("lr_act", "learning_rate=0.01, recurrent_activation=hard_sigmoid"),
        ("epochs", "epochs=5"),
        ("epochs", "epochs=10"),
        ("epochs", "epochs=20"),
    ]
    # unvaried settings come from the spec's defaults (units 3, lr 0.005, 25 epochs, trim 1)
    by_label = {(p.study, p.label): p.config for p in points}
    assert by_label[("units", "units=1")].learning_rate == 0.005
    assert by_label[("units", "units=1")].epochs == 25
    assert by_label[("epochs", "epochs=5")].units == 3
    assert by_label[("lr_act", "learning_rate=0.01, recurrent_activation=hard_sigmoid")].units == 3
    assert all(c.trim == 1 and c.batch_size == 2 for c in by_label.values())
    # units=3 (25 epochs) and epochs=5 (units 3) differ only in epochs: one family, two configurations
    assert by_label[("units", "units=3")].family == by_label[("epochs", "epochs=5")].family
    assert by_label[("units", "units=3")].key != by_label[("epochs", "epochs=5")].key


def test_expand_without_grid_is_one_default_configuration():
    points = spec.expand(spec.from_dict({"name": "one", "model": {"units": 2}}))
    assert len(points) == 1
    assert points[0].label == "default"
    assert points[0].study == "one"
    assert points[0].config.units == 2


# --------------------------------------------------------------------------- bad files
BAD_FILES = [
    ("unknown_top", "colour = 1\n", ["colour", "unknown key"]),
    ("unknown_model_key", "[model]\nneurons = 3\n", ["model.neurons", "unknown key"]),
    ("wrong_type", '[model]\nunits = "three"\n', ["model.units", "text where a number goes"]),
    # a quoted boolean was told to write a number (a docs probe)
    ("quoted_boolean", '[model]\nstateful = "false"\n', ["model.stateful", "text where true or false goes (write true or false without quotes)"]),
    ("batch_zero", "[model]\nbatch_size = 0\n", ["model.batch_size", "greater than or equal to 1"]),
    ("negative_epochs", "[model]\nepochs = -5\n", ["model.epochs", "greater than or equal to 1"]),
    ("grid_unknown", "[grid]\nneurons = [1, 2]\n", ["grid.neurons", "unknown parameter"]),
    ("grid_empty", "[grid]\nunits = []\n", ["grid.units", "empty"]),
    ("grid_bad_value", "[grid]\nbatch_size = [0]\n", ["grid.batch_size", "greater than or equal to 1"]),
    ("grids_bad_value", "[grids.a]\nunits = [2, 0]\n", ["grids.a.units", "value 0"]),
    ("grid_and_grids", "[grid]\nunits = [1]\n[grids.a]\nunits = [2]\n", ["grid", "grids", "not both"]),
    ("not_toml", "name = 'x'\nthis is [not toml\n", ["not valid TOML"]),
    ("feature_range", "[transforms]\nfeature_range = [1.0, -1.0]\n", ["transforms.feature_range", "low < high"]),
    ("feature_range_equal", "[transforms]\nfeature_range = [0.5, 0.5]\n", ["transforms.feature_range", "low < high"]),
    ("bad_mode", '[runs]\nmode = "everything"\n', ["runs.mode"]),
    ("value_for_a_table", 'data = "x"\n', ["data: expected a table of keys, got 'x'"]),  # was "... or instance of DataSpec"
    ("array_of_tables", "[[model]]\nunits = 1\n", ["model: expected a table of keys"]),
    ("value_for_a_search_space", "[search.space]\nunits = 3\n", ["search.space.units: expected a table of keys, got 3"]),
]


@pytest.mark.parametrize("name,text,needles", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_study_file_is_rejected_with_file_and_key_path(tmp_path, name, text, needles):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        spec.load(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message


def test_missing_study_file_is_rejected(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(SpecError, match="no such study file") as info:
        spec.load(path)
    assert str(path) in str(info.value)


def test_from_dict_names_its_source():
    with pytest.raises(SpecError) as info:
        spec.from_dict({"model": {"units": 0}}, "my-source")
    assert str(info.value).startswith("my-source: model.units")


def test_spec_is_frozen():
    s = spec.default_study()
    with pytest.raises(pydantic.ValidationError):
        s.seed = 5


# --------------------------------------------------------------------------- through the CLI
def test_cli_run_bad_file_exits_2_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[model]\nneurons = 3\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "model.neurons" in result.output
    assert "unknown key" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_run_test_size_beyond_series_exits_2_and_writes_nothing(tmp_path):
    path = tmp_path / "long_test.toml"
    path.write_text('name = "t"\n[data]\ntest_size = 40\n[model]\nepochs = 5\n[runs]\nrepeats = 3\ndiagnostic_repeats = 2\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "data.test_size" in result.output
    assert "36" in result.output  # the series length
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["long_test.toml"]


def test_validating_and_expanding_a_study_does_not_import_jax():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from lstmtune.study import spec\n"
        "s = spec.from_dict({'grid': {'units': [1, 2], 'optimizer': ['adam', 'sgd']}})\n"
        "assert [p.config.learning_rate for p in spec.expand(s)] == [0.001, 0.01, 0.001, 0.01]\n"
        "print(sorted(m for m in ('jax', 'optax', 'jaxlib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_each_parameter_is_declared_once_and_derived_everywhere():
    import dataclasses

    from lstmtune.engine import trainer as engine
    from lstmtune.study import planner
    from lstmtune.study import spec

    assert [f.name for f in dataclasses.fields(spec.Config)] == [
        "units", "batch_size", "epochs", "learning_rate", "recurrent_activation", "interval", "lags", "timesteps", "trim",
        "cell", "stateful", "shuffle", "optimizer", "momentum", "nesterov", "loss", "huber_delta", "dropout", "recurrent_dropout", "l1", "l2",
    ]  # the tutorial's parameters first, then the extensions: the order of results.csv's columns
    assert set(spec.PARAMETERS) == {f.name for f in dataclasses.fields(spec.Config)}
    assert engine.Hyper._fields == (*spec.NUMERIC, "key")
    assert planner.NUMERIC == spec.NUMERIC
    assert set(spec.EXTENSION_DEFAULTS) == {n for n, d in spec.PARAMETERS.items() if d["extension"]}
    # Every shape-fixing model parameter reaches the engine's Architecture.
    shape_model = {n for n in spec.SHAPE_KEYS if n in spec.ModelSpec.model_fields}
    assert shape_model <= set(engine.Architecture.__dataclass_fields__)
    c = spec.expand(spec.from_dict({"model": {"dropout": 0.1, "optimizer": "sgd", "momentum": 0.9}}))[0].config
    arch = planner.architecture([c])
    assert arch.dropout and not arch.regularized and arch.optimizer == "sgd"


def test_a_study_file_with_a_byte_order_mark_reads_as_without(tmp_path):
    from lstmtune.study import spec as spec_mod

    f = tmp_path / "s.toml"
    f.write_bytes(b"\xef\xbb\xbfname = \"bom\"\n[model]\nepochs = 7\n")
    s = spec_mod.load(f)
    assert s.name == "bom" and s.model.epochs == 7


def _refusal(tmp_path, text: str) -> tuple:
    """``(path, message)`` of the one-line error loading ``text`` as a study file."""
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        spec.load(path)
    return path, str(info.value)


@pytest.mark.parametrize("text, where", [
    ("[model]\nunits = [1, 0]\n", "model.units: "),  # pydantic reported the int and the list alternatives: two lines
    ("[model]\nunits = []\n", "model.units: "),
    ("[grid]\nunits = [[1, 0]]\n", "grid.units: value [1, 0]: "),  # said "Input should be a valid integer"
    ("[grid]\nunits = [1, [2, 3], [0]]\n", "grid.units: value [0]: "),
])
def test_a_bad_units_value_is_one_line_stating_the_rule(tmp_path, text, where):
    path, message = _refusal(tmp_path, text)
    assert "\n" not in message and "(top level)" not in message
    assert message == f"{path}: {where}{params.UNITS_RULE}"
    assert spec.from_dict({"model": {"units": [2, 3]}}).model.units == [2, 3]  # the rule's two forms still load
    assert spec.from_dict({"grid": {"units": [1, [2, 3]]}}).grid["units"] == [1, [2, 3]]


@pytest.mark.parametrize("text, where", [
    ("[model]\nepochs = true\n", "model.epochs: "),  # pydantic's lax mode read it as 1 epoch
    ("[model]\nlearning_rate = false\n", "model.learning_rate: "),
    ("[runs]\nrepeats = true\n", "runs.repeats: "),
    ("[data]\ntest_size = true\n", "data.test_size: "),
    ("[model]\noptimizer = true\n", "model.optimizer: "),
    ("seed = true\n", "seed: "),
    ("[grid]\nepochs = [100, true]\n", "grid.epochs: value true: "),
    ('[search.space.units]\ntype = "categorical"\nchoices = [true, 2]\n', "search.space.units: value true: "),
])
def test_true_or_false_where_a_number_goes_is_refused_in_one_line(tmp_path, text, where):
    path, message = _refusal(tmp_path, text)
    assert message == f"{path}: {where}{params.BOOL_WHERE_NUMBER}"


def test_booleans_still_load_where_booleans_go():
    s = spec.from_dict({"model": {"stateful": False, "shuffle": True, "optimizer": "sgd"}, "evaluation": {"refit": False},
                        "grid": {"nesterov": [True, False]}, "search": {"space": {"dropout": {"type": "float", "low": 0.0, "high": 0.5, "log": False}}}})
    assert s.model.shuffle is True and s.evaluation.refit is False and s.grid["nesterov"] == [True, False]


def test_a_combination_validated_once_is_not_mistaken_for_an_equal_looking_one():
    # model settings are validated once per combination; (True, 2) == (1, 2) and 1 == True as
    # keys, so the remembered ones are keyed by type, inside lists too
    from lstmtune.study import configs

    base = configs.base_params(spec.default_study())
    assert configs.resolve({**base, "units": [1, 2]}, "s", "a").units == (1, 2)
    for bad in ([True, 2], (True, 2), (), [[1]]):
        with pytest.raises(ValueError, match="units must be"):
            configs.resolve({**base, "units": bad}, "s", "a")
    assert configs.resolve({**base, "epochs": 5}, "s", "a").epochs == 5
    with pytest.raises(ValueError, match="true or false"):
        configs.resolve({**base, "epochs": True}, "s", "a")


@pytest.mark.parametrize("text, where", [
    ('[model]\nepochs = "5"\n', "model.epochs: "),  # pydantic's lax mode read it as 5
    ('seed = "1"\n', "seed: "),
    ('[data]\ntest_size = "6"\n', "data.test_size: "),
    ('[grid]\nunits = ["1", "2"]\n', "grid.units: value '1': "),
    ('[search.space.units]\ntype = "int"\nlow = "1"\nhigh = 3\n', "search.space.units.low: "),
])
def test_a_quoted_number_is_refused_in_one_line(tmp_path, text, where):
    path, message = _refusal(tmp_path, text)
    assert message == f"{path}: {where}{params.TEXT_WHERE_NUMBER}"
    names = spec.from_dict({"model": {"optimizer": "sgd"}, "grid": {"optimizer": ["adam", "sgd"]},
                            "search": {"space": {"loss": {"type": "categorical", "choices": ["mse", "mae"]}}}})
    assert names.model.optimizer == "sgd"  # names still load where names go


def test_a_grid_value_given_twice_is_refused_in_one_line(tmp_path):
    # [0.001, 1e-3] was one configuration, planned from a list of two, without a word.
    for text, needle in (("units = [1, 1]", "grid.units: 1 is given twice"), ("learning_rate = [0.001, 1e-3]", "grid.learning_rate: 0.001 is given twice")):
        path = tmp_path / "s.toml"
        path.write_text(f'name = "x"\n[grid]\n{text}\n')
        with pytest.raises(SpecError) as err:
            spec.load(path)
        assert "\n" not in str(err.value) and needle in str(err.value) and str(path) in str(err.value)
    bools = spec.from_dict({"grid": {"stateful": [True, False]}, "model": {"batch_size": 1}})  # True == 1, but not a repeat
    assert len(spec.expand(bools)) == 2


@pytest.mark.parametrize(
    "text, named",
    [
        ('[runs]\nmode = "summary"\ndiagnostic_repeats = 5', ["[runs] diagnostic_repeats"]),
        ('[runs]\nmode = "diagnostic"\nrepeats = 5\ndiagnostic_repeats = 2', ["[runs] repeats"]),
        ('[evaluation]\nselection = "test"\nrefit = false\ntest_all = true', ["[evaluation] refit", "[evaluation] test_all"]),
        ('[runs]\nmode = "summary"\nrepeats = 2\n[evaluation]\nselection = "validation"\nrefit = false', []),
    ],
)
def test_settings_the_mode_or_selection_does_not_use_are_named(tmp_path, text, named):
    # They were dropped without a word; a study switched to summary keeps its diagnostic
    # repeats for when it is switched back, so they are named (`lstmtune run` prints a note).
    path = tmp_path / "s.toml"
    path.write_text('name = "x"\n' + text + "\n")
    unused = spec.unused_settings(spec.load(path))
    assert [u.split(" (")[0] for u in unused] == named
    assert spec.unused_settings(spec.default_study()) == []


def test_cli_run_names_an_unused_setting_in_a_note(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "x"\n[model]\nepochs = 2\n[runs]\nmode = "summary"\nrepeats = 1\ndiagnostic_repeats = 5\n[evaluation]\nselection = "test"\n')
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert f'note: {path}: [runs] diagnostic_repeats (mode = "summary" keeps no curves) is not used by this study' in " ".join(result.output.split())


@pytest.mark.parametrize("section, why", [
    ({"model": {"l2": 1e300}}, r"model.l2: 1e\+300 is beyond float32's range"),
    ({"model": {"learning_rate": 1e300}}, r"model.learning_rate: 1e\+300 is beyond float32's range"),
    ({"model": {"loss": "huber", "huber_delta": 1e300}}, r"model.huber_delta: 1e\+300 is beyond float32's range"),
    ({"grid": {"l1": [0.0, 1e39]}}, r"grid.l1: value 1e\+39: 1e\+39 is beyond float32's range"),
    ({"transforms": {"feature_range": [-1e308, 1e308]}}, r"transforms.feature_range: -1e\+308 is beyond float32's range"),
    ({"transforms": {"feature_range": [-1e30, 1e30]}}, r"transforms.feature_range: feature_range must lie within \[-1e6, 1e6\]"),
    ({"transforms": {"feature_range": [0.5, 0.5000000001]}}, r"span at least a thousandth"),
    ({"model": {"huber_delta": 0.5}}, r'model: huber_delta applies to loss = "huber", not mse'),
    ({"model": {"loss": "mae"}, "grid": {"huber_delta": [0.5, 2.0]}}, r'grid \(huber_delta=0.5\): huber_delta applies to loss = "huber", not mae'),
    ({"model": {"optimizer": "adam"}, "grid": {"momentum": [0.9]}}, r"grid \(momentum=0.9\): momentum applies to sgd and rmsprop"),
])
def test_settings_the_networks_cannot_use_are_refused_when_read(section, why):
    """Values past float32 (l2 = 1e300 trained to "every run diverged" with numpy's overflow
    warning), a feature range float32 cannot resolve (an RMSE of 2.7e12, or NaN data), and
    huber_delta without the Huber loss (two identical models compared as two) were accepted; a
    [grid]'s error named a "grids.NAME" the file does not have (a probe)."""
    with pytest.raises(SpecError, match=why):
        spec.expand(spec.from_dict({"name": "b", **section}))
