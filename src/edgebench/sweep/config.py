"""The sweep file: pydantic models (frozen, ``extra="forbid"``) and the YAML/TOML loader.

Validation happens here, at the edge, before any model is exported or any process starts; every
error names its field the way a user reads the file (``backends[1].threads: must be ≥ 1``).
The JSON Schema of :class:`SweepConfig` is what ``edgebench schema sweep`` prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edgebench.errors import UsageError

# JSON-like option values (no Any in config: ARCHITECTURE rule 6)
Scalar = str | int | float | bool | None
OptionValue = Scalar | list[str | int | float | bool] | dict[str, str | int | float | bool]
Precision = Literal["fp32", "fp16", "bf16"]
LogLevel = Literal["verbose", "info", "warning", "error", "fatal"]

_STRICT = ConfigDict(frozen=True, extra="forbid")


def default_scenario() -> str:
    """The RunSpec's own default issuer (the tight loop), so a sweep measures what `bench` measures."""
    from dataclasses import fields

    from edgebench.records import RunSpec

    return str(next(f.default for f in fields(RunSpec) if f.name == "scenario"))


def _listify(value: object) -> object:
    """A scalar where a list is expected means a list of one (``threads: 2`` ≡ ``threads: [2]``)."""
    return value if isinstance(value, list | tuple) else [value]


def _positive_or_null(values: list[int | None], label: str = "must be ≥ 1") -> list[int | None]:
    for value in values:
        if value is not None and value < 1:
            raise ValueError(f"{label} (got {value})")
    return values


class BackendAxis(BaseModel):
    """One runtime of the sweep with its options; ``threads``/``precisions`` here override the top-level axes."""

    model_config = _STRICT

    name: str = Field(min_length=1, description="backend plugin (see `edgebench backends`)")
    options: dict[str, OptionValue] = Field(default_factory=dict, description="the backend's typed options")
    threads: list[int | None] | None = Field(
        default=None, description="threads for this backend only (null: runtime default)"
    )
    precisions: list[Precision] | None = Field(default=None, description="precisions for this backend only")

    @field_validator("threads", mode="before", json_schema_input_type=list[int | None] | int | None)
    @classmethod
    def _threads_list(cls, value: object) -> object:
        return None if value is None else _listify(value)

    @field_validator("precisions", mode="before", json_schema_input_type=list[Precision] | Precision | None)
    @classmethod
    def _precisions_list(cls, value: object) -> object:
        return None if value is None else _listify(value)

    @field_validator("threads")
    @classmethod
    def _threads_positive(cls, value: list[int | None] | None) -> list[int | None] | None:
        return None if value is None else _positive_or_null(value)


class ScenarioAxis(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, description="scenario plugin")
    options: dict[str, OptionValue] = Field(default_factory=dict, description="the scenario's typed options")


class RunSettings(BaseModel):
    """Time settings of every job (per process); sized small by default so a sweep stays short."""

    model_config = _STRICT

    warmup_time_s: float = Field(default=0.5, ge=0, le=86400, allow_inf_nan=False)
    min_time_s: float = Field(default=1.0, ge=0, le=86400, allow_inf_nan=False)
    max_time_s: float = Field(default=3.0, gt=0, le=86400, allow_inf_nan=False)
    min_iters: int = Field(default=100, ge=1)
    target_ci: float = Field(default=0.01, ge=0, le=0.5, allow_inf_nan=False)
    processes: int = Field(default=1, ge=1, le=1000, description="fresh processes per job (ignored with rounds > 1)")
    seed: int = Field(default=0, ge=0)
    dynamic_batch: bool | None = Field(
        default=None, description="zoo models: dynamic-batch export; null = yes when batch_sizes names a number"
    )
    runtime_log_level: LogLevel = "error"
    collectors: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _min_below_max(self) -> RunSettings:
        if self.min_time_s > self.max_time_s:
            raise ValueError(f"min_time_s {self.min_time_s:g} exceeds max_time_s {self.max_time_s:g}")
        return self


class Rule(BaseModel):
    """An include/exclude rule: the axis values it names (all must match; unnamed axes match anything)."""

    model_config = _STRICT

    model: str | None = None
    backend: str | None = None
    threads: int | None = Field(default=None, ge=1)
    batch: int | None = Field(default=None, ge=1)
    precision: Precision | None = None
    scenario: str | None = None
    dataset: str | None = None

    def given(self) -> dict[str, object]:
        return {k: v for k, v in self.model_dump().items() if k in self.model_fields_set}


class SweepConfig(BaseModel):
    """A benchmark sweep: the product of its axes, minus ``exclude``, plus ``include``."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="edgebench sweep")

    name: str = Field(default="sweep", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="labels the sweep id")
    models: list[str] = Field(default=["efficientnet-lite0"], min_length=1, description="zoo names or model paths")
    backends: list[BackendAxis] = Field(default=[BackendAxis(name="onnxruntime")], min_length=1)
    threads: list[int | None] = Field(
        default=[None], min_length=1, description="intra-op threads (null: runtime default)"
    )
    batch_sizes: list[int | None] = Field(default=[None], min_length=1, description="null: the model's own shape")
    precisions: list[Precision] = Field(default=["fp32"], min_length=1)
    scenarios: list[ScenarioAxis] = Field(
        default_factory=lambda: [ScenarioAxis(name=default_scenario())], min_length=1, description="load patterns"
    )
    datasets: list[str | None] = Field(default=[None], min_length=1, description="inputs (.npy/.npz); null: generated")
    run: RunSettings = Field(default_factory=lambda: RunSettings())
    rounds: int = Field(default=1, ge=1, le=1000, description="> 1: jobs alternate process by process (A B A B …)")
    tags: list[str] = Field(default_factory=list)
    include: list[Rule] = Field(default_factory=list, description="extra jobs; unnamed axes take their first value")
    exclude: list[Rule] = Field(default_factory=list, description="drop every job matching a rule")

    # A scalar is a list of one and a plugin may be named by a string; the published schema says so too.
    @field_validator("models", "tags", mode="before", json_schema_input_type=list[str] | str)
    @classmethod
    def _strings(cls, value: object) -> object:
        return _listify(value)

    @field_validator("threads", "batch_sizes", mode="before", json_schema_input_type=list[int | None] | int | None)
    @classmethod
    def _numbers(cls, value: object) -> object:
        return _listify(value)

    @field_validator("precisions", mode="before", json_schema_input_type=list[Precision] | Precision)
    @classmethod
    def _precisions(cls, value: object) -> object:
        return _listify(value)

    @field_validator("datasets", mode="before", json_schema_input_type=list[str | None] | str | None)
    @classmethod
    def _datasets(cls, value: object) -> object:
        return _listify(value)

    @field_validator("backends", mode="before", json_schema_input_type=list[str | BackendAxis] | str | BackendAxis)
    @classmethod
    def _backends(cls, value: object) -> object:
        return cls._names_to_objects(value)

    @field_validator("scenarios", mode="before", json_schema_input_type=list[str | ScenarioAxis] | str | ScenarioAxis)
    @classmethod
    def _scenarios(cls, value: object) -> object:
        return cls._names_to_objects(value)

    @staticmethod
    def _names_to_objects(value: object) -> object:
        items = _listify(value)
        assert isinstance(items, list | tuple)
        return [{"name": v} if isinstance(v, str) else v for v in items]

    @field_validator("threads", "batch_sizes")
    @classmethod
    def _positive(cls, value: list[int | None]) -> list[int | None]:
        return _positive_or_null(value)


def load_config(path: Path) -> SweepConfig:
    """Read and validate a sweep file (.yaml/.yml/.json or .toml); a UsageError naming the field otherwise."""
    data = _read(path)
    return validate_config(data, source=str(path))


def validate_config(data: object, *, source: str = "sweep") -> SweepConfig:
    if not isinstance(data, dict):
        raise UsageError(f"{source}: a sweep file must hold a mapping of settings", hint=_SCHEMA_HINT)
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = f"{source}: {error_location(first['loc'])}: {error_message(first)}{more}"
        raise UsageError(message, hint=_SCHEMA_HINT) from None


_SCHEMA_HINT = "see docs/sweeps.md or `edgebench schema sweep` for every field"


def error_location(loc: tuple[int | str, ...]) -> str:
    """pydantic's ``('backends', 1, 'threads')`` as a user reads the file: ``backends[1].threads``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def error_message(error: Any) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    rules = {
        "extra_forbidden": "unknown field",
        "missing": "required",
        "greater_than_equal": f"must be ≥ {ctx.get('ge')}",
        "greater_than": f"must be > {ctx.get('gt')}",
        "less_than_equal": f"must be ≤ {ctx.get('le')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "finite_number": "must be a finite number",
        "too_short": "must not be empty",
    }
    if kind in rules:
        return rules[kind]
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ").replace("Input should be", "must be")


def _read(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read sweep file {path}: {reason}", hint="pass a .yaml or .toml sweep file") from exc
    if path.suffix.lower() == ".toml":
        return _parse_toml(path, text)
    return _parse_yaml(path, text)


def _parse_toml(path: Path, text: str) -> object:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}", hint="check the line named above") from None


def _parse_yaml(path: Path, text: str) -> object:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise UsageError(f"{path} is not valid YAML{where}: {problem}", hint="check the indentation there") from None


def json_schema() -> dict[str, Any]:
    return SweepConfig.model_json_schema()
