"""Every configuration parameter, declared once: its type, bounds, default and kind.

The ``[data]``, ``[transforms]``, ``[model]``, ``[runs]`` and ``[evaluation]`` tables of a
study file, validated with pydantic, and what is derived from their fields: the grid keys,
the engine's per-replica numeric parameters, the shape keys, the values left out of a
configuration's hash. :mod:`lstmtune.study.configs` builds configurations from them and
:mod:`lstmtune.study.spec` the whole study.
"""

from __future__ import annotations

import functools
import math
import typing
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from lstmtune.engine import params as engine_params

# Unknown keys, non-finite numbers (TOML has inf and nan) and non-boolean flags are refused.
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def accepts(annotation: Any, kind: type) -> bool:
    """Whether a field of this type can hold a value of ``kind`` (``bool``: ``StrictBool``,
    ``bool | None``, ...; ``str``: ``str``, a ``Literal`` of names, ...; ``Any`` holds both)."""
    if annotation is kind or annotation is Any:
        return True
    if typing.get_origin(annotation) is Literal:
        return any(isinstance(a, kind) for a in typing.get_args(annotation))
    return any(accepts(a, kind) for a in typing.get_args(annotation))


BOOL_WHERE_NUMBER = "true or false where a number or a name goes"
TEXT_WHERE_NUMBER = "text where a number goes (write the number without quotes)"
TEXT_WHERE_BOOL = "text where true or false goes (write true or false without quotes)"


def _holds(value: Any, kind: type) -> bool:
    return isinstance(value, kind) or (isinstance(value, (list, tuple)) and any(_holds(v, kind) for v in value))


def _table(annotation: Any) -> bool:
    """Whether a field of this type is a table (a section, a dict)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) or typing.get_origin(annotation) is dict:
        return True
    return any(_table(a) for a in typing.get_args(annotation))


def stray_type(value: Any, annotation: Any) -> str | None:
    """Why ``value`` cannot be a value of a field of this type, where pydantic's lax mode would
    read it anyway (``true`` as 1, ``"5"`` as 5); None when it may."""
    if _table(annotation):  # a table given as a value: pydantic's message (lstmtune.study.spec.format_errors)
        return None
    if _holds(value, bool) and not accepts(annotation, bool):
        return BOOL_WHERE_NUMBER
    if _holds(value, str) and not accepts(annotation, str):
        return TEXT_WHERE_BOOL if accepts(annotation, bool) and not (accepts(annotation, int) or accepts(annotation, float)) else TEXT_WHERE_NUMBER
    return None


class Section(BaseModel):
    """A table of a study file: unknown keys, non-finite numbers, and booleans or quoted
    numbers where a number goes are refused (pydantic's lax mode would read ``epochs = true``
    as 1 epoch and ``epochs = "5"`` as 5)."""

    model_config = _STRICT

    @field_validator("*", mode="before")
    @classmethod
    def _no_stray_type(cls, v, info):
        why = stray_type(v, cls.model_fields[info.field_name].annotation)
        if why:
            raise ValueError(why)
        return v


FLOAT32_MAX = 3.4028234663852886e38


def beyond_float32(value: Any) -> str | None:
    """Why a number (or a list's) cannot be used: past float32's range, where the networks
    compute (``l2 = 1e300`` trained to "every run diverged" with numpy's overflow warning: a
    probe); None where it may."""
    if isinstance(value, (list, tuple)):
        return next((why for why in map(beyond_float32, value) if why), None)
    if isinstance(value, float) and math.isfinite(value) and abs(value) > FLOAT32_MAX:  # inf and nan: pydantic's "finite number"
        return f"{value:g} is beyond float32's range (3.4e+38), in which the networks compute"
    return None


MAX_CONFIGS = 100_000
"""Configurations one study file may declare (a search explores larger spaces)."""


SHAPE, NUMERIC_KIND, TRAINING, FRAMING = "shape", "numeric", "training", "framing"
"""Kinds of configuration parameter: ``shape`` fixes the compiled program (one program per
distinct value); ``numeric`` is a per-replica number batched into one program
(:class:`lstmtune.engine.trainer.Hyper`); ``training`` is the epoch count (configurations that differ
only in it are checkpoints of one run); ``framing`` shapes the supervised data (and so the
program)."""


def _param(default: Any, kind: str, *, extension: bool = False, compiles: str | None = None, **field: Any) -> Any:
    """A configuration parameter's declaration: its default, bounds and description, and

    - ``kind``: see :data:`SHAPE`;
    - ``extension``: added after the tutorial's model; at its default it is left out of
      the configuration's hash, so adding a parameter never changes existing studies'
      seeds (and so their results);
    - ``compiles``: the :class:`lstmtune.engine.trainer.Architecture` flag whose code path a
      non-zero value needs (``dropout``, ``regularized``).
    """
    extra = {"kind": kind, "extension": extension}
    if compiles:
        extra["compiles"] = compiles
    return Field(default, json_schema_extra=extra, **field)


class DataSpec(Section):
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


class _Float32(Section):
    """A section whose numbers the networks compute with, in float32 (:func:`beyond_float32`)."""

    @field_validator("*", mode="before")
    @classmethod
    def _within_float32(cls, v):
        why = beyond_float32(v)
        if why:
            raise ValueError(why)
        return v


class TransformSpec(_Float32):
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
        # float32 must resolve the scaled series: [0.5, 0.5000000001] reported an RMSE of 2.7e12,
        # [-1e308, 1e308] trained on NaN (a probe)
        if max(abs(v[0]), abs(v[1])) > 1e6 or v[1] - v[0] < 1e-3 * max(1.0, abs(v[0]), abs(v[1])):
            raise ValueError("feature_range must lie within [-1e6, 1e6] and span at least a thousandth of its ends' size "
                             "(the networks compute in float32); e.g. [-1, 1] or [0, 1]")
        return v


PositiveInt = Annotated[int, Field(ge=1)]
UNITS_RULE = "units must be an integer from 1 to 4096, or a non-empty list of them (one per stacked layer, at most 32)"
Units = Annotated[int, Field(ge=1, le=4096)]  # per layer; larger layers are refused at load, not by MemoryError
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]


class ModelSpec(_Float32):
    """Model and training settings (Keras names and defaults).

    Each field is the one declaration of a configuration parameter: its type,
    bounds, default and kind (:func:`_param`); :class:`Config`, the planner's
    shape key, :data:`NUMERIC` (the engine's per-replica values) and
    :data:`EXTENSION_DEFAULTS` are derived from these fields.
    """

    units: Units | Annotated[list[Units], Field(max_length=32)] = _param(
        1, SHAPE, description="units of one layer (at most 4096), or a list: one entry per stacked layer (at most 32)"
    )
    cell: Literal["lstm", "gru"] = _param("lstm", SHAPE, extension=True)
    batch_size: int = _param(4, SHAPE, ge=1, le=1_000_000)
    epochs: int = _param(1000, TRAINING, ge=1, le=1_000_000, description="at most 10^6")
    stateful: StrictBool = _param(True, SHAPE, extension=True, description="carry state across minibatches (the tutorial); false: windows are independent")
    shuffle: StrictBool = _param(False, SHAPE, extension=True, description="reshuffle samples every epoch (stateless only)")
    optimizer: Literal["adam", "sgd", "rmsprop", "adagrad", "adamw"] = _param("adam", SHAPE, extension=True)
    learning_rate: float | None = _param(engine_params.NUMERIC_DEFAULTS["learning_rate"], NUMERIC_KIND, gt=0, description="omitted: the optimizer's Keras default (sgd 0.01, others 0.001)")
    momentum: float = _param(engine_params.NUMERIC_DEFAULTS["momentum"], NUMERIC_KIND, extension=True, ge=0.0, le=1.0, description="sgd and rmsprop")
    nesterov: StrictBool = _param(False, SHAPE, extension=True, description="sgd only")
    loss: Literal["mse", "mae", "huber"] = _param("mse", SHAPE, extension=True)
    huber_delta: float = _param(engine_params.NUMERIC_DEFAULTS["huber_delta"], NUMERIC_KIND, extension=True, gt=0)
    dropout: Rate = _param(engine_params.NUMERIC_DEFAULTS["dropout"], NUMERIC_KIND, extension=True, compiles="dropout")
    recurrent_dropout: Rate = _param(engine_params.NUMERIC_DEFAULTS["recurrent_dropout"], NUMERIC_KIND, extension=True, compiles="dropout")
    l1: float = _param(engine_params.NUMERIC_DEFAULTS["l1"], NUMERIC_KIND, extension=True, compiles="regularized", ge=0.0)
    l2: float = _param(engine_params.NUMERIC_DEFAULTS["l2"], NUMERIC_KIND, extension=True, compiles="regularized", ge=0.0)
    recurrent_activation: Literal["sigmoid", "hard_sigmoid"] = _param("sigmoid", SHAPE)

    @field_validator("units", mode="wrap")
    @classmethod
    def _units(cls, v, handler):
        # a list: one message (pydantic reports each member of the union, the int's first:
        # "should be a valid integer", then the list's, on a line of its own)
        if not isinstance(v, (list, tuple)):
            return handler(v)
        try:
            return cls._layers(handler(v))
        except (pydantic.ValidationError, ValueError):
            raise ValueError(UNITS_RULE) from None

    @staticmethod
    def _layers(v):
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
        if self.huber_delta != engine_params.NUMERIC_DEFAULTS["huber_delta"] and self.loss != "huber":  # identical models compared as two (a probe)
            raise ValueError(f'huber_delta applies to loss = "huber", not {self.loss}')
        return self


class RunsSpec(Section):
    mode: Literal["summary", "diagnostic", "both"] = "both"
    repeats: int = Field(30, ge=1, le=1_000_000, description="summary repeats per configuration")
    diagnostic_repeats: int = Field(10, ge=1, le=100_000, description="repeats whose per-epoch curves are kept")
    seeding: Literal["per-config", "shared"] = Field(
        "per-config",
        description="per-config: seeds derive from the configuration (epochs excluded: an epoch grid is "
        "checkpoints of one run); shared: repeat r has the same seed in every configuration (paired comparisons)",
    )


class EvaluationSpec(Section):
    """Which observations choose a configuration, and which score it.

    The test set (``data.test_size``) is the last part of the series. With
    ``selection = "validation"`` the ``validation_size`` observations just before
    it choose the configuration; with ``"backtest"``, ``folds`` rolling origins,
    each ``validation_size`` long and ending before the test set, do (mean over
    folds). The test set then scores the selected configuration once (``refit``:
    retrained on training + validation rows first; otherwise the model trained
    for selection walks on through the validation rows into the test).
    ``selection = "test"`` is the tutorial's protocol: choosing and scoring on
    the same test set, which is optimistic. ``horizon = H`` scores every
    holdout (validation, folds and test) by recursive H-step forecasts from each
    origin where H steps fit, instead of one-step walk-forward forecasts.
    """

    selection: Literal["validation", "backtest", "test"] = "validation"
    validation_size: int | None = Field(None, ge=1, description="observations just before the test set; omitted: data.test_size")
    folds: int = Field(3, ge=1, le=100, description="backtest only: rolling origins")
    refit: StrictBool = Field(True, description="retrain the selected configuration on training + validation rows before the test")
    test_all: StrictBool = Field(False, description="also score every configuration on the test set (labelled: not used for selection)")
    horizon: int = Field(
        1, ge=1, le=1000,
        description="steps ahead each holdout forecast is scored at: 1 walks forward one step at a time (the tutorial); "
        "H > 1 forecasts H steps recursively from every origin of the holdout where H steps fit and scores them all, "
        "so configurations are chosen (and tested) as a forecast of H steps will use them",
    )
    baselines: Literal["statsmodels", "statsforecast"] = Field(
        "statsmodels",
        description="the fitted baselines beside persistence, the seasonal naive and the training mean: statsmodels' AR(p) on the "
        "differences and exponential smoothing (the default), or statsforecast's AutoETS and AutoARIMA, the models lstmtune auto "
        "compares against (importing statsforecast adds about 1 s to a study)",
    )

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
"""Per-replica numeric parameters, in the order of :class:`lstmtune.engine.trainer.Hyper`'s fields."""

SHAPE_KEYS: tuple[str, ...] = tuple(n for n, d in PARAMETERS.items() if d["kind"] in (SHAPE, FRAMING))
"""Parameters whose values must be equal for configurations to share a compiled program."""

COMPILES: dict[str, tuple[str, ...]] = {
    flag: tuple(n for n, d in PARAMETERS.items() if d.get("compiles") == flag) for flag in dict.fromkeys(d["compiles"] for d in PARAMETERS.values() if "compiles" in d)
}
"""Architecture flag -> the numeric parameters whose non-zero values need its code path."""

KERAS_DEFAULT_LEARNING_RATE = engine_params.KERAS_DEFAULT_LEARNING_RATE

if NUMERIC != engine_params.NUMERIC or COMPILES != engine_params.COMPILES:  # pragma: no cover - a declaration slip
    raise ImportError(
        f"the study's numeric parameters {NUMERIC} / {COMPILES} differ from the engine's "
        f"{engine_params.NUMERIC} / {engine_params.COMPILES} (lstmtune.engine.params): declare a new one in both"
    )


_FINITE = ConfigDict(allow_inf_nan=False)


def brief(value: Any, limit: int = 80) -> str:
    """``repr`` of a user's value for a message, cut to about ``limit`` characters (a 1 MB string is not echoed)."""
    r = ("true" if value else "false") if isinstance(value, bool) else repr(value)  # as TOML writes it
    return r if len(r) <= limit else f"{r[: limit - 20]}... ({len(r):,} chars)"


def _key(part: Any) -> str:
    """A key of the study file as shown in a message: as written when plain, else quoted and cut."""
    text = str(part)
    return text if text.isprintable() and 0 < len(text) <= 60 else brief(text, 60)


def _field(key: str):
    """A grid key's field (of :class:`ModelSpec` or :class:`TransformSpec`)."""
    return {"model": ModelSpec, "transforms": TransformSpec}[GRID_KEYS[key]].model_fields[key]


@functools.cache
def _adapter(key: str) -> pydantic.TypeAdapter:
    """The validator of one grid key's values (built once: building one costs ~0.3 ms, and a
    large grid validates every value of every point)."""
    field = _field(key)
    annotation = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    return pydantic.TypeAdapter(annotation, config=_FINITE)


def _check_value(path: str, key: str, value: Any, spec: Any = None) -> Any:
    """Validate one grid value against its field's type and bounds; return it coerced (1.0 -> 1)."""
    try:
        why = stray_type(value, _field(key).annotation) or (beyond_float32(value) if key in ModelSpec.model_fields or key in TransformSpec.model_fields else None)
        if why:
            raise ValueError(why)
        value = _adapter(key).validate_python(value)
        if key == "units":
            ModelSpec._layers(value)
    except (pydantic.ValidationError, ValueError) as err:
        msg = err.errors()[0]["msg"] if isinstance(err, pydantic.ValidationError) else str(err)
        if key == "units" and isinstance(value, list):
            msg = UNITS_RULE
        raise ValueError(f"{path}: value {brief(value)}: {msg}") from None
    return value


EXTENSION_DEFAULTS: dict[str, Any] = {n: ModelSpec.model_fields[n].default for n, d in PARAMETERS.items() if d["extension"]}
"""Parameters added after the tutorial's model, at the values left out of a configuration's hash."""


