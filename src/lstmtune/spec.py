"""Study specifications: a TOML file or the same thing as a Python object.

A study names its data, transforms, model defaults, how many repeats, a seed, and
one or more grids (parameter -> list of values, expanded as a cartesian product).
Validated once, here, with pydantic: unknown keys, wrong types and impossible
values are rejected with the key's path in the message.

Example (the default study)::

    name = "units"
    seed = 1
    [data]
    source = "shampoo"
    test_size = 12
    [transforms]
    trim = 2
    [model]
    batch_size = 4
    epochs = 1000
    [runs]
    mode = "both"
    repeats = 30
    diagnostic_repeats = 10
    [grid]
    units = [1, 2, 3, 4, 5]
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from lstmtune.errors import SpecError

# Unknown keys, non-finite numbers (TOML has inf and nan) and non-boolean flags are refused.
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

MAX_CONFIGS = 100_000
"""Configurations one study file may declare (a search explores larger spaces)."""


SHAPE, NUMERIC_KIND, TRAINING, FRAMING = "shape", "numeric", "training", "framing"
"""Kinds of configuration parameter: ``shape`` fixes the compiled program (one program per
distinct value); ``numeric`` is a per-replica number batched into one program
(:class:`lstmtune.engine.Hyper`); ``training`` is the epoch count (configurations that differ
only in it are checkpoints of one run); ``framing`` shapes the supervised data (and so the
program)."""


def _param(default: Any, kind: str, *, extension: bool = False, compiles: str | None = None, **field: Any) -> Any:
    """A configuration parameter's declaration: its default, bounds and description, and

    - ``kind``: see :data:`SHAPE`;
    - ``extension``: added after the tutorial's model; at its default it is left out of
      the configuration's hash, so adding a parameter never changes existing studies'
      seeds (and so their results);
    - ``compiles``: the :class:`lstmtune.engine.Architecture` flag whose code path a
      non-zero value needs (``dropout``, ``regularized``).
    """
    extra = {"kind": kind, "extension": extension}
    if compiles:
        extra["compiles"] = compiles
    return Field(default, json_schema_extra=extra, **field)


class DataSpec(BaseModel):
    model_config = _STRICT
    source: str = Field("shampoo", description="built-in dataset name or CSV path")
    date_column: str | None = None
    value_column: str | None = None
    date_format: str | None = Field(None, description="strftime format of the dates, e.g. %m/%d/%Y; omitted: ISO, Y-MM, 1959Q1 or years")
    missing: Literal["error", "interpolate", "drop"] = Field("error", description="missing values: refuse (naming the line), interpolate or drop")
    test_size: int = Field(12, ge=1, le=100_000_000, description="the last test_size observations are the test set")
    period: int | None = Field(None, ge=1, le=100_000, description="seasonal period of the baselines; omitted: inferred from the dates (monthly 12, quarterly 4, ...)")
    covariates: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=100)] = Field(
        default_factory=list, description="further CSV columns used as inputs, differenced and lagged like the target, scaled on training rows"
    )
    calendar: Annotated[list[Literal["month", "quarter", "dayofweek"]], Field(max_length=3)] = Field(
        default_factory=list, description="known-future calendar inputs of each forecast's date (as sin/cos pairs)"
    )

    @field_validator("covariates", "calendar")
    @classmethod
    def _distinct(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("names must not repeat")
        return v


class TransformSpec(BaseModel):
    model_config = _STRICT
    interval: int = _param(1, FRAMING, ge=1, le=100_000, description="differencing lag")
    lags: int = _param(1, FRAMING, ge=1, le=10_000)
    timesteps: int = _param(1, FRAMING, ge=1, le=10_000)
    trim: int | None = _param(None, FRAMING, ge=0, le=10_000_000, description="oldest training rows to drop; omitted: fewest that divide by batch_size")
    feature_range: tuple[float, float] = (-1.0, 1.0)

    @field_validator("feature_range")
    @classmethod
    def _ordered(cls, v):
        if not v[0] < v[1]:
            raise ValueError("feature_range must be [low, high] with low < high")
        return v


PositiveInt = Annotated[int, Field(ge=1)]
Units = Annotated[int, Field(ge=1, le=4096)]  # per layer; larger layers are refused at load, not by MemoryError
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]


class ModelSpec(BaseModel):
    """Model and training settings (Keras names and defaults).

    Each field is the one declaration of a configuration parameter: its type,
    bounds, default and kind (:func:`_param`); :class:`Config`, the planner's
    shape key, :data:`NUMERIC` (the engine's per-replica values) and
    :data:`EXTENSION_DEFAULTS` are derived from these fields.
    """

    model_config = _STRICT
    units: Units | Annotated[list[Units], Field(max_length=32)] = _param(
        1, SHAPE, description="units of one layer (at most 4096), or a list: one entry per stacked layer (at most 32)"
    )
    cell: Literal["lstm", "gru"] = _param("lstm", SHAPE, extension=True)
    batch_size: int = _param(4, SHAPE, ge=1, le=1_000_000)
    epochs: int = _param(1000, TRAINING, ge=1, le=1_000_000, description="at most 10^6")
    stateful: StrictBool = _param(True, SHAPE, extension=True, description="carry state across minibatches (the tutorial); false: windows are independent")
    shuffle: StrictBool = _param(False, SHAPE, extension=True, description="reshuffle samples every epoch (stateless only)")
    optimizer: Literal["adam", "sgd", "rmsprop", "adagrad", "adamw"] = _param("adam", SHAPE, extension=True)
    learning_rate: float | None = _param(None, NUMERIC_KIND, gt=0, description="omitted: the optimizer's Keras default (sgd 0.01, others 0.001)")
    momentum: float = _param(0.0, NUMERIC_KIND, extension=True, ge=0.0, le=1.0, description="sgd and rmsprop")
    nesterov: StrictBool = _param(False, SHAPE, extension=True, description="sgd only")
    loss: Literal["mse", "mae", "huber"] = _param("mse", SHAPE, extension=True)
    huber_delta: float = _param(1.0, NUMERIC_KIND, extension=True, gt=0)
    dropout: Rate = _param(0.0, NUMERIC_KIND, extension=True, compiles="dropout")
    recurrent_dropout: Rate = _param(0.0, NUMERIC_KIND, extension=True, compiles="dropout")
    l1: float = _param(0.0, NUMERIC_KIND, extension=True, compiles="regularized", ge=0.0)
    l2: float = _param(0.0, NUMERIC_KIND, extension=True, compiles="regularized", ge=0.0)
    recurrent_activation: Literal["sigmoid", "hard_sigmoid"] = _param("sigmoid", SHAPE)

    @field_validator("units")
    @classmethod
    def _layers(cls, v):
        if isinstance(v, list) and not v:
            raise ValueError("units: an empty list has no layers")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if self.shuffle and self.stateful:
            raise ValueError("shuffle = true needs stateful = false (a stateful network's streams must stay in order)")
        if self.momentum and self.optimizer not in ("sgd", "rmsprop"):
            raise ValueError(f"momentum applies to sgd and rmsprop, not {self.optimizer}")
        if self.nesterov and self.optimizer != "sgd":
            raise ValueError(f"nesterov applies to sgd, not {self.optimizer}")
        return self


class RunsSpec(BaseModel):
    model_config = _STRICT
    mode: Literal["summary", "diagnostic", "both"] = "both"
    repeats: int = Field(30, ge=1, le=1_000_000, description="summary repeats per configuration")
    diagnostic_repeats: int = Field(10, ge=1, le=100_000, description="repeats whose per-epoch curves are kept")
    seeding: Literal["per-config", "shared"] = Field(
        "per-config",
        description="per-config: seeds derive from the configuration (epochs excluded: an epoch grid is "
        "checkpoints of one run); shared: repeat r has the same seed in every configuration (paired comparisons)",
    )


class EvaluationSpec(BaseModel):
    """Which observations choose a configuration, and which score it.

    The test set (``data.test_size``) is the last part of the series. With
    ``selection = "validation"`` the ``validation_size`` observations just before
    it choose the configuration; with ``"backtest"``, ``folds`` rolling origins,
    each ``validation_size`` long and ending before the test set, do (mean over
    folds). The test set then scores the selected configuration once (``refit``:
    retrained on training + validation rows first; otherwise the model trained
    for selection walks on through the validation rows into the test).
    ``selection = "test"`` is the tutorial's protocol: choosing and scoring on
    the same test set, which is optimistic.
    """

    model_config = _STRICT
    selection: Literal["validation", "backtest", "test"] = "validation"
    validation_size: int | None = Field(None, ge=1, description="observations just before the test set; omitted: data.test_size")
    folds: int = Field(3, ge=1, le=100, description="backtest only: rolling origins")
    refit: StrictBool = Field(True, description="retrain the selected configuration on training + validation rows before the test")
    test_all: StrictBool = Field(False, description="also score every configuration on the test set (labelled: not used for selection)")

    @model_validator(mode="after")
    def _consistent(self):
        if self.selection == "test" and (self.validation_size is not None or self.folds != 3):
            raise ValueError('validation_size and folds apply to selection = "validation" or "backtest", not "test"')
        if self.selection != "backtest" and self.folds != 3:
            raise ValueError('folds applies to selection = "backtest"')
        return self


def _declared(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """``name -> {"kind", "extension", "compiles"?}`` of a model's configuration parameters."""
    return {n: f.json_schema_extra for n, f in model.model_fields.items() if isinstance(f.json_schema_extra, dict) and "kind" in f.json_schema_extra}


PARAMETERS: dict[str, dict[str, Any]] = {**_declared(ModelSpec), **_declared(TransformSpec)}
"""Every configuration parameter and how it is used, in declaration order (``[model]`` then ``[transforms]``)."""

GRID_KEYS = {name: ("model" if name in ModelSpec.model_fields else "transforms") for name in PARAMETERS}

NUMERIC: tuple[str, ...] = tuple(n for n, d in PARAMETERS.items() if d["kind"] == NUMERIC_KIND)
"""Per-replica numeric parameters, in the order of :class:`lstmtune.engine.Hyper`'s fields."""

SHAPE_KEYS: tuple[str, ...] = tuple(n for n, d in PARAMETERS.items() if d["kind"] in (SHAPE, FRAMING))
"""Parameters whose values must be equal for configurations to share a compiled program."""

COMPILES: dict[str, tuple[str, ...]] = {
    flag: tuple(n for n, d in PARAMETERS.items() if d.get("compiles") == flag) for flag in dict.fromkeys(d["compiles"] for d in PARAMETERS.values() if "compiles" in d)
}
"""Architecture flag -> the numeric parameters whose non-zero values need its code path."""

KERAS_DEFAULT_LEARNING_RATE: dict[str, float] = {"adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-3, "sgd": 1e-2}
"""Keras 3's default learning rate per optimizer (``keras/src/optimizers/*.py``): used when ``learning_rate`` is omitted."""


class ParamSpace(BaseModel):
    """One searched parameter: an int or float range (optionally log-scaled) or a list of choices."""

    model_config = _STRICT
    type: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    log: StrictBool = False
    step: float | None = Field(None, gt=0)
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _valid(self):
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("categorical: choices must be a non-empty list")
            if self.low is not None or self.high is not None or self.log or self.step is not None:
                raise ValueError("categorical: low/high/log/step do not apply; give choices")
            return self
        if self.choices is not None:
            raise ValueError(f"{self.type}: choices do not apply; give low and high")
        if self.low is None or self.high is None:
            raise ValueError(f"{self.type}: low and high are required")
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) > high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError(f"log scale needs low > 0, got low = {self.low:g}")
        if self.log and self.step is not None:
            raise ValueError("log and step cannot be combined")
        if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("int: low and high must be whole numbers")
        if self.type == "int" and self.step is not None and self.step != int(self.step):
            raise ValueError(f"int: an int range needs a whole-number step, got {self.step:g}")
        return self

    def n_values(self) -> int:
        """How many values the grid sampler takes from this space (counted, never listed).

        A float range needs a step (:class:`SearchSpec` checks it for the grid sampler).
        """
        if self.type == "categorical":
            return len(self.choices)
        if self.type == "int":
            return (int(self.high) - int(self.low)) // int(self.step or 1) + 1
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1


def _space_error(name: str | None, message: str) -> pydantic.ValidationError:
    """An error located at ``space.<name>`` (or ``space``): a model validator's own errors
    would be located at the model."""
    from pydantic_core import InitErrorDetails, PydanticCustomError

    loc = ("space", name) if name is not None else ("space",)
    detail = InitErrorDetails(type=PydanticCustomError("search_space", "{message}", {"message": message}), loc=loc, input=None)
    return pydantic.ValidationError.from_exception_data("SearchSpec", [detail])


def _check_space(name: str, p: ParamSpace) -> None:
    """Every value ``p`` can produce must be a valid value of parameter ``name``.

    Bounds are intervals, so a range is valid if its ends are; a float range must also
    be of a parameter that takes fractions, and each choice must be the parameter's
    value exactly as given (Optuna hands the choice itself to the trial).

    Raises:
      ValueError: the message says which value and why.
    """

    def valid(v: Any) -> Any:
        try:
            return _check_value("", name, v, None)
        except ValueError as err:
            message = str(err).removeprefix(": ")  # "value V: why"
            if isinstance(v, int) and abs(v) >= 2**53:  # 1e300 as an int has 301 digits: echo it as 1e+300
                message = f"value {v:g}: {message.split(': ', 1)[1]}"
            raise ValueError(message) from None

    if p.type == "categorical":
        for v in p.choices:
            if isinstance(v, (list, dict)):
                raise ValueError(f"choice {v!r}: a search chooses among single values (numbers, strings, booleans); search stacked layers with a grid")
            value = valid(v)
            if not (value == v and (type(value) is type(v) or (type(v) is int and type(value) is float))):
                raise ValueError(f"choice {v!r}: give it as {value!r}")
        return
    for v in (p.low, p.high):
        valid(int(v) if p.type == "int" else v)
    if p.type == "float" and type(valid(p.low + (p.high - p.low) / 2)) is int:
        raise ValueError(f'{name} takes whole numbers: give type = "int"')


class SearchSpec(BaseModel):
    """How ``lstmtune search`` explores a space (Optuna ask/tell over populations)."""

    model_config = _STRICT
    sampler: Literal["grid", "random", "tpe", "cmaes"] = "tpe"
    trials: int | None = Field(40, ge=1, le=MAX_CONFIGS, description="stop after this many trials (at most 100,000)")
    timeout_s: float | None = Field(None, gt=0, description="stop starting new rounds after this many seconds")
    batch: int = Field(8, ge=1, le=10_000, description="trials asked per round, trained together (at most 10,000)")
    objective: Literal["mean", "median", "quantile", "mean+std"] = "mean"
    quantile: float = Field(0.75, gt=0, lt=1)
    k: float = Field(1.0, ge=0, description="mean + k * std")
    pruner: Literal["none", "successive_halving", "hyperband"] = "none"
    min_epochs: int = Field(100, ge=1, description="first rung of successive halving")
    reduction_factor: int = Field(3, ge=2)
    space: dict[str, ParamSpace]

    @model_validator(mode="after")
    def _space(self):
        if not self.space:
            raise ValueError("space: no parameters to search")
        for name, p in self.space.items():
            if name not in GRID_KEYS:
                raise _space_error(name, f"unknown parameter; searchable: {sorted(GRID_KEYS)}")
            try:
                _check_space(name, p)
            except ValueError as err:
                raise _space_error(name, str(err)) from None
            if self.sampler == "cmaes" and p.type == "categorical":
                raise _space_error(name, "CMA-ES samples numbers only; use tpe or random for categorical parameters")
            if self.sampler == "grid" and p.type == "float" and p.step is None:
                raise _space_error(name, "the grid sampler needs a step (or choices) for float parameters")
        if self.sampler == "grid":
            size = math.prod(p.n_values() for p in self.space.values())  # counted, never enumerated
            if size > MAX_CONFIGS:
                raise _space_error(None, f"the grid sampler's grid has {size:,} points, more than {MAX_CONFIGS:,}; use tpe, random or cmaes, or coarser steps")
        if self.pruner != "none" and "epochs" in self.space:
            raise _space_error("epochs", "with a pruner, epochs are the pruner's resource (set model.epochs as the maximum)")
        if self.trials is None and self.timeout_s is None:
            raise ValueError("give trials, timeout_s or both, or the search never stops")
        return self


class StudySpec(BaseModel):
    """A whole study. ``grids`` maps a sub-study name to its grid; ``grid`` is shorthand for one."""

    model_config = _STRICT
    name: str = Field("study", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$", description="a plain identifier: letters, digits, _ and -")
    seed: int = Field(0, ge=0)
    data: DataSpec = DataSpec()
    transforms: TransformSpec = TransformSpec()
    model: ModelSpec = ModelSpec()
    runs: RunsSpec = RunsSpec()
    evaluation: EvaluationSpec = EvaluationSpec()
    grid: dict[str, list[Any]] | None = None
    grids: dict[str, dict[str, list[Any]]] | None = None
    search: SearchSpec | None = None

    @model_validator(mode="after")
    def _check_grids(self):
        if self.grid is not None and self.grids is not None:
            raise ValueError("give either grid or grids, not both")
        if self.grids is not None and not self.grids:
            raise ValueError("grids: no sub-studies given")
        total = sum(math.prod(len(v) for v in grid.values()) for grid in self.all_grids().values())
        if total > MAX_CONFIGS:  # counted before anything is expanded
            raise ValueError(
                f"the grids declare {total:,} configurations, more than the {MAX_CONFIGS:,} one study may plan; "
                "split the study, or explore the space with [search]"
            )
        for name, grid in self.all_grids().items():
            where = "grid" if self.grid is not None else f"grids.{name}"
            for key, values in grid.items():
                if key not in GRID_KEYS:
                    raise ValueError(f"{where}.{key}: unknown parameter; grid keys are {sorted(GRID_KEYS)}")
                if not values:
                    raise ValueError(f"{where}.{key}: empty list of values")
                for v in values:
                    _check_value(f"{where}.{key}", key, v, self)
        expand(self)  # every combination must be consistent (e.g. shuffle needs stateful = false)
        return self

    def all_grids(self) -> dict[str, dict[str, list[Any]]]:
        if self.grids is not None:
            return dict(self.grids)
        return {self.name: dict(self.grid or {})}


_FINITE = ConfigDict(allow_inf_nan=False)


def brief(value: Any, limit: int = 80) -> str:
    """``repr`` of a user's value for a message, cut to about ``limit`` characters (a 1 MB string is not echoed)."""
    r = repr(value)
    return r if len(r) <= limit else f"{r[: limit - 20]}... ({len(r):,} chars)"


def _key(part: Any) -> str:
    """A key of the study file as shown in a message: as written when plain, else quoted and cut."""
    text = str(part)
    return text if text.isprintable() and 0 < len(text) <= 60 else brief(text, 60)


@functools.cache
def _adapter(key: str) -> pydantic.TypeAdapter:
    """The validator of one grid key's values (built once: building one costs ~0.3 ms, and a
    large grid validates every value of every point)."""
    model = {"model": ModelSpec, "transforms": TransformSpec}[GRID_KEYS[key]]
    field = model.model_fields[key]
    annotation = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    return pydantic.TypeAdapter(annotation, config=_FINITE)


def _check_value(path: str, key: str, value: Any, spec: StudySpec) -> Any:
    """Validate one grid value against its field's type and bounds; return it coerced (1.0 -> 1)."""
    try:
        value = _adapter(key).validate_python(value)
        if key == "units":
            ModelSpec._layers(value)
    except (pydantic.ValidationError, ValueError) as err:
        msg = err.errors()[0]["msg"] if isinstance(err, pydantic.ValidationError) else str(err)
        raise ValueError(f"{path}: value {brief(value)}: {msg}") from None
    return value


EXTENSION_DEFAULTS: dict[str, Any] = {n: ModelSpec.model_fields[n].default for n, d in PARAMETERS.items() if d["extension"]}
"""Parameters added after the tutorial's model, at the values left out of a configuration's hash."""


class _ConfigMethods:
    """What every :class:`Config` does (its fields are derived from :data:`PARAMETERS`)."""

    __slots__ = ()

    def params(self) -> dict[str, Any]:
        p = dataclasses.asdict(self)
        if isinstance(p["units"], tuple):
            p["units"] = list(p["units"])
        return p

    @property
    def layers(self) -> tuple[int, ...]:
        return self.units if isinstance(self.units, tuple) else (self.units,)

    def _canonical(self) -> dict[str, Any]:
        p = self.params()
        for k, v in EXTENSION_DEFAULTS.items():
            if p[k] == v:
                del p[k]
        return p

    @property
    def shape(self) -> tuple:
        """The values that fix the compiled program (:data:`SHAPE_KEYS`; units as layers)."""
        return tuple(self.layers if n == "units" else getattr(self, n) for n in SHAPE_KEYS)


def _config_fields() -> list[tuple]:
    """Config's fields: the tutorial's parameters (required), then the extensions with their defaults.

    ``units`` is an int or a tuple of layer sizes; ``learning_rate`` is resolved (never None).
    """
    types = {"units": "int | tuple[int, ...]", "learning_rate": "float"}
    required, defaulted = [], []
    for name, d in PARAMETERS.items():
        field = (ModelSpec.model_fields.get(name) or TransformSpec.model_fields[name])
        kind = types.get(name, field.annotation)
        if d["extension"]:
            defaulted.append((name, kind, dataclasses.field(default=field.default)))
        else:
            required.append((name, kind))
    return required + defaulted


def _cached(name: str, fn):
    prop = functools.cached_property(fn)
    prop.__set_name__(None, name)
    return prop


Config = dataclasses.make_dataclass(
    "Config",
    _config_fields(),
    bases=(_ConfigMethods,),
    frozen=True,
    namespace={
        "__doc__": "One fully resolved configuration: everything that defines a run but its repeat (fields: :data:`PARAMETERS`).",
        "__module__": __name__,
        # A frozen dataclass's fields never change: hash once (planning reads them per replica).
        "key": _cached("key", lambda self: _hash(self._canonical())),
        "family": _cached("family", lambda self: _hash({k: v for k, v in self._canonical().items() if k != "epochs"})),
    },
)
Config.key.__doc__ = "Stable hash of the canonical parameters."
Config.family.__doc__ = "Hash of everything but ``epochs``: configs of one family are checkpoints of one run."


def _hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]


@dataclasses.dataclass(frozen=True)
class GridPoint:
    """A configuration as it appears in one sub-study, with its label there."""

    study: str
    label: str
    varied: dict[str, Any]
    config: Config


def expand(spec: StudySpec) -> list[GridPoint]:
    """Expand every grid into configurations (cartesian product, in file order)."""
    base = base_params(spec)
    points = []
    for study, grid in spec.all_grids().items():
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)) if keys else [()]:
            varied = {k: _check_value(f"grids.{study}.{k}", k, v, spec) for k, v in zip(keys, values)}
            label = ", ".join(f"{k}={v}" for k, v in varied.items()) or "default"
            points.append(GridPoint(study=study, label=label, varied=varied, config=resolve({**base, **varied}, study, label)))
    return points


def base_params(spec: StudySpec) -> dict[str, Any]:
    """The study's defaults for every configuration parameter (model and transforms)."""
    return {**spec.model.model_dump(), **{k: getattr(spec.transforms, k) for k in ("interval", "lags", "timesteps", "trim")}}


def resolve(params: dict[str, Any], study: str, label: str) -> Config:
    """Check a combination's consistency and resolve defaults into a :class:`Config`."""
    model_keys = set(ModelSpec.model_fields)
    try:
        ModelSpec(**{k: v for k, v in params.items() if k in model_keys})
    except pydantic.ValidationError as err:
        raise ValueError(f"grids.{study} ({label}): {err.errors()[0]['msg']}") from None
    params = dict(params)
    if isinstance(params["units"], list):
        params["units"] = params["units"][0] if len(params["units"]) == 1 else tuple(params["units"])
    if params["learning_rate"] is None:
        params["learning_rate"] = KERAS_DEFAULT_LEARNING_RATE[params["optimizer"]]
    return Config(**params)


def _is_union_tag(part: Any) -> bool:
    """pydantic names the member of a union it tried in the error's location (``constrained-int``)."""
    return isinstance(part, str) and (
        part in {"int", "float", "str", "bool", "list", "dict"}
        or re.fullmatch(r"[a-z][a-z_-]*\[.*\]", part, re.DOTALL) is not None  # list[int], function-after[...]: not a user's key like "[/]"
        or part.startswith(("constrained-", "function-"))
    )


def format_errors(err: pydantic.ValidationError, source: str) -> str:
    """One line per offending key (a union's alternatives are reported once, by its first)."""
    lines, seen = [], set()
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not _is_union_tag(p))
        if loc in seen:
            continue
        seen.add(loc)
        path = ".".join(_key(p) for p in loc) or "(top level)"
        msg = e["msg"].replace("Value error, ", "")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{source}: {path}: {msg}")
    return "\n".join(lines)


def from_dict(raw: dict[str, Any], source: str = "study") -> StudySpec:
    """Validate a study given as a dict (e.g. parsed TOML)."""
    try:
        return StudySpec.model_validate(raw)
    except pydantic.ValidationError as err:
        raise SpecError(format_errors(err, source)) from None


def load(path: str | Path) -> StudySpec:
    """Read and validate a study TOML file.

    Raises:
      SpecError: the file is missing, not TOML, or invalid; the message names
        the file and the key's path.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such study file" if not path.exists() else f"{path}: not a regular file")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise SpecError(f"{path}: not UTF-8 text (byte {err.start}); save the study file as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML ({err})") from None
    except ValueError as err:  # an integer of over 4300 digits
        raise SpecError(f"{path}: not a usable study file ({brief(str(err), 120)})") from None
    except RecursionError:
        raise SpecError(f"{path}: arrays or tables nested too deeply") from None
    except PermissionError:
        raise SpecError(f"{path}: permission denied") from None
    if not raw:
        raise SpecError(f"{path}: the study file is empty; give at least a name (run `lstmtune run` without a file for the default study)")
    spec = from_dict(raw, str(path))
    return _resolve_source(spec, path)


def _resolve_source(spec: StudySpec, study_file: Path) -> StudySpec:
    """A relative data path in a study file is relative to the file's folder (built-in names stay)."""
    from lstmtune.data import BUILTINS

    source = spec.data.source
    if source in BUILTINS or Path(source).is_absolute():
        return spec
    resolved = (study_file.parent / source).resolve()
    return spec.model_copy(update={"data": spec.data.model_copy(update={"source": str(resolved)})})


def dumps(spec: StudySpec) -> str:
    """The resolved spec as TOML (written beside a study's results)."""
    return _to_toml(spec.model_dump(exclude_none=True))


def _to_toml(d: dict[str, Any], prefix: str = "") -> str:
    scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in d.items() if isinstance(v, dict)}
    out = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    for k, v in tables.items():
        name = f"{prefix}{_toml_key(k)}"
        body = _to_toml(v, prefix=f"{name}.")
        if any(not isinstance(x, dict) for x in v.values()) or not v:
            out.append(f"\n[{name}]")
        out.append(body)
    return "\n".join(x for x in out if x) + "\n"


def _toml_key(k: str) -> str:
    """A bare key when TOML allows one, else quoted (sub-study names are free text)."""
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


DEFAULT_STUDY = {
    "name": "units",
    "seed": 1,
    "data": {"source": "shampoo", "test_size": 12},
    "model": {"batch_size": 4, "epochs": 1000},
    "runs": {"mode": "both", "repeats": 30, "diagnostic_repeats": 10},
    # Honest selection on 36 observations: the 6 months before the 12-month test set
    # choose (leaving 16 training pairs), the test set scores the choice once; every
    # configuration is also tested, labelled, to show what test selection would pick.
    "evaluation": {"selection": "validation", "validation_size": 6, "test_all": True},
    "grid": {"units": [1, 2, 3, 4, 5]},
}


def default_study() -> StudySpec:
    """The tutorial's units study: units 1-5, batch 4, 1000 epochs, 30 + 10 repeats."""
    return from_dict(DEFAULT_STUDY, "default study")
