"""Configurations: one fully resolved set of parameter values (:class:`Config`, hashed to a
stable key), grid points (a configuration as one sub-study labels it), and the expansion of a
study's grids into them."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
from typing import TYPE_CHECKING, Any

import pydantic

from lstmtune.study.params import (
    EXTENSION_DEFAULTS,
    KERAS_DEFAULT_LEARNING_RATE,
    PARAMETERS,
    SHAPE_KEYS,
    ModelSpec,
    TransformSpec,
    _check_value,
)

if TYPE_CHECKING:
    from lstmtune.study.spec import StudySpec


class _ConfigMethods:
    """What every :class:`Config` does (its fields are derived from :data:`PARAMETERS`)."""

    __slots__ = ()

    def params(self) -> dict[str, Any]:
        # Every field is a scalar or a tuple of ints: a shallow copy (``dataclasses.asdict``
        # deep-copies field by field, 10x slower over a grid of 10^5 configurations).
        p = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
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
        # each value checked once, not once per combination it appears in (10^5 configurations of
        # units x lags x epochs hold 210 values): the checks were most of a large grid's expansion
        where = "grid" if spec.grid is not None else f"grids.{study}"  # the section the file has ("grids.NAME" for a [grid]: a probe)
        checked = {k: [_check_value(f"{where}.{k}", k, v, spec) for v in grid[k]] for k in keys}
        for values in itertools.product(*(checked[k] for k in keys)) if keys else [()]:
            varied = dict(zip(keys, values))
            label = ", ".join(f"{k}={v}" for k, v in varied.items()) or "default"
            points.append(GridPoint(study=study, label=label, varied=varied, config=resolve({**base, **varied}, study, label, where)))
    return points


def base_params(spec: StudySpec) -> dict[str, Any]:
    """The study's defaults for every configuration parameter (model and transforms)."""
    return {**spec.model.model_dump(), **{k: getattr(spec.transforms, k) for k in ("interval", "lags", "timesteps", "trim")}}


_MODEL_KEYS = frozenset(ModelSpec.model_fields)
_VALIDATED: dict[tuple, None] = {}
"""Combinations of model settings already validated (a grid repeats each one across its other
keys: 10^5 configurations of units x lags x epochs hold 10^3 of them); at most 4096 kept."""


def _frozen(value: Any) -> tuple:
    """``value`` as a key that tells 1, 1.0 and True apart, inside lists too."""
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_frozen(v) for v in value))
    return (type(value), value)


def _check_model(model: dict[str, Any]) -> None:
    """Validate one combination of model settings, once."""
    values = tuple(model.values())
    types = tuple(map(type, values))
    try:
        if list in types or tuple in types:
            key = tuple((k, _frozen(v)) for k, v in model.items())
        else:  # the usual grid: scalars (the keys with their types, faster than _frozen each)
            key = (tuple(model), values, types)
        hash(key)
    except TypeError:  # an unhashable value (given through the API): validated, not remembered
        key = None
    if key is not None and key in _VALIDATED:
        return
    ModelSpec(**model)
    if key is not None:
        if len(_VALIDATED) >= 4096:
            _VALIDATED.clear()
        _VALIDATED[key] = None


def resolve(params: dict[str, Any], study: str, label: str, where: str | None = None) -> Config:
    """Check a combination's consistency and resolve defaults into a :class:`Config`
    (``where``: the study file's section that declared it, named in an error; default ``grids.STUDY``)."""
    try:
        _check_model({k: v for k, v in params.items() if k in _MODEL_KEYS})
    except pydantic.ValidationError as err:
        raise ValueError(f"{where or f'grids.{study}'} ({label}): {err.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    params = dict(params)
    if isinstance(params["units"], list):
        params["units"] = params["units"][0] if len(params["units"]) == 1 else tuple(params["units"])
    if params["learning_rate"] is None:
        params["learning_rate"] = KERAS_DEFAULT_LEARNING_RATE[params["optimizer"]]
    return Config(**params)


