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

import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import Field, StrictBool, model_validator

from lstmtune.errors import SpecError
from lstmtune.study.configs import Config, GridPoint, base_params, expand, resolve  # noqa: F401  (re-exported)
from lstmtune.study.params import (  # noqa: F401  (re-exported: the declarations live there)
    COMPILES,
    EXTENSION_DEFAULTS,
    FRAMING,
    GRID_KEYS,
    KERAS_DEFAULT_LEARNING_RATE,
    MAX_CONFIGS,
    NUMERIC,
    NUMERIC_KIND,
    PARAMETERS,
    SHAPE,
    SHAPE_KEYS,
    TRAINING,
    DataSpec,
    EvaluationSpec,
    ModelSpec,
    RunsSpec,
    Section,
    TransformSpec,
    _check_value,
    _key,
    brief,
)


class ParamSpace(Section):
    """One searched parameter: an int or float range (optionally log-scaled) or a list of choices."""

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
        if self.step is not None and self.high > self.low:
            count = (self.high - self.low) / self.step
            if not math.isfinite(count) or count > MAX_STEPS:
                raise ValueError(f"step {self.step:g} divides [{self.low:g}, {self.high:g}] into more than {MAX_STEPS:,} values; give a coarser step")
            if self.type == "float" and abs(count - round(count)) > 1e-9 * max(1.0, count):  # Optuna would move high, with a warning
                raise ValueError(f"high - low ({self.high - self.low:g}) is not a multiple of step {self.step:g}: the values are low + k * step up to high")
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


MAX_STEPS = 10**15
"""A stepped range of more values than this is refused (Optuna's arithmetic on it fails, and no
search visits that many)."""


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
    if p.type == "float":
        mid = p.low + (p.high - p.low) / 2
        try:
            whole = type(valid(mid)) is int
        except ValueError:  # a fraction refused ("value 10.5: ... a valid integer", a value the user never wrote: a probe)
            whole = type(valid(round(mid))) is int
            if not whole:
                raise
        if whole:
            raise ValueError(f'{name} takes whole numbers: give type = "int"')


class SearchSpec(Section):
    """How ``lstmtune search`` explores a space (Optuna ask/tell over populations)."""

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
            size = self.grid_size()
            if size > MAX_CONFIGS:
                raise _space_error(None, f"the grid sampler's grid has {size:,} points, more than {MAX_CONFIGS:,}; use tpe, random or cmaes, or coarser steps")
        if self.pruner != "none" and "epochs" in self.space:
            raise _space_error("epochs", "with a pruner, epochs are the pruner's resource (set model.epochs as the maximum)")
        if self.trials is None and self.timeout_s is None:
            raise ValueError("give trials, timeout_s or both, or the search never stops")
        return self

    def grid_size(self) -> int:
        """Points of the grid sampler's grid (every value of every parameter), counted without enumerating it."""
        return math.prod(p.n_values() for p in self.space.values())


class StudySpec(Section):
    """A whole study. ``grids`` maps a sub-study name to its grid; ``grid`` is shorthand for one."""

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
                repeated = _repeated(values)  # [0.001, 1e-3] would be one configuration planned as two
                if repeated is not None:
                    raise ValueError(f"{where}.{key}: {brief(repeated)} is given twice; give each value once")
                for v in values:
                    _check_value(f"{where}.{key}", key, v, self)
        expand(self)  # every combination must be consistent (e.g. shuffle needs stateful = false)
        if self.search is not None and self.search.pruner != "none" and self.search.min_epochs >= self.model.epochs:
            raise ValueError(f"search.min_epochs: {self.search.min_epochs} is not below model.epochs ({self.model.epochs}), the pruner's "
                             "last rung: its first rung would be its last and nothing pruned (lower min_epochs, or pruner = \"none\")")
        return self

    def all_grids(self) -> dict[str, dict[str, list[Any]]]:
        if self.grids is not None:
            return dict(self.grids)
        return {self.name: dict(self.grid or {})}


def _repeated(values: list) -> Any:
    """The first value of ``values`` equal to an earlier one (True is not 1 here), else None:
    in one pass where they can be hashed (a grid may hold 100,000 values), pairwise where not."""
    seen: set = set()
    try:
        for v in values:
            mark = (isinstance(v, bool), v)
            if mark in seen:
                return v
            seen.add(mark)
        return None
    except TypeError:  # lists (layers) cannot be hashed
        for i, v in enumerate(values):
            if any(v == w and isinstance(v, bool) == isinstance(w, bool) for w in values[:i]):
                return v
        return None


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
        msg = e["msg"].replace("Value error, ", "")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] in ("model_type", "dict_type"):  # "Input should be a valid dictionary or instance of ModelSpec"
            msg = f"expected a table of keys, got {brief(e['input'])}"
        # a check of the whole study names its keys in its message (grid.units: ...)
        lines.append(f"{source}: {'.'.join(_key(p) for p in loc)}: {msg}" if loc else f"{source}: {msg}")
    return "\n".join(lines)


def from_dict(raw: dict[str, Any], source: str = "study") -> StudySpec:
    """Validate a study given as a dict (e.g. parsed TOML)."""
    import os

    data = raw.get("data") if isinstance(raw, dict) else None
    if isinstance(data, dict) and isinstance(data.get("source"), os.PathLike):  # a pathlib.Path was "Input should be a valid string" (a probe)
        raw = {**raw, "data": {**data, "source": os.fspath(data["source"])}}
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
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a byte-order mark, as some Windows editors write, is not TOML's
    except UnicodeDecodeError as err:
        raise SpecError(f"{path}: not UTF-8 text (byte {err.start}); save the study file as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        hint = "; a data file goes in the study's [data] source, or `lstmtune run --data FILE`" if path.suffix.lower() in (".csv", ".tsv", ".txt") else ""
        raise SpecError(f"{path}: not valid TOML ({err}){hint}") from None
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


def unused_settings(spec: StudySpec) -> list[str]:
    """The settings given (not defaulted) that the study's mode or selection does not use, as
    ``[section] key`` phrases: a study switched to ``mode = "summary"`` keeps its
    ``diagnostic_repeats`` for when it is switched back, so they are named, not refused."""
    unused = []
    if spec.runs.mode == "summary" and "diagnostic_repeats" in spec.runs.model_fields_set:
        unused.append('[runs] diagnostic_repeats (mode = "summary" keeps no curves)')
    if spec.runs.mode == "diagnostic" and "repeats" in spec.runs.model_fields_set:
        unused.append('[runs] repeats (mode = "diagnostic" runs diagnostic_repeats)')
    if spec.evaluation.selection == "test":
        unused += [f'[evaluation] {k} (selection = "test" scores every configuration on the test set)'
                   for k in ("refit", "test_all") if k in spec.evaluation.model_fields_set]
    return unused


def _resolve_source(spec: StudySpec, study_file: Path) -> StudySpec:
    """A relative data path in a study file is relative to the file's folder (built-in names stay)."""
    from lstmtune.data.series import BUILTINS

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


def checkpoints_of_one(spec: StudySpec) -> bool:
    """Whether configurations that differ only in ``epochs`` are checkpoints of one training
    (their families share one replica): yes, except under multi-step scoring
    (``evaluation.horizon`` > 1), where each epoch count's final weights are run forward, so
    each trains apart. The planner groups populations by it; ``plan`` and ``--max-runs`` count by it."""
    return spec.evaluation.horizon == 1


def default_study() -> StudySpec:
    """The tutorial's units study: units 1-5, batch 4, 1000 epochs, 30 + 10 repeats."""
    return from_dict(DEFAULT_STUDY, "default study")
