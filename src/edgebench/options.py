"""Typed plugin options: ``KEY=VALUE`` pairs and dicts validated against a plugin's ``Options`` model.

Validation happens in the parent, before any process is spawned; errors name the plugin and the
field (``openvino.num_streams: must be ≥ 1``). Every plugin model is a frozen pydantic model with
``extra="forbid"`` so a typo is an error, not a silently ignored key.
"""

from __future__ import annotations

import json
import math
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edgebench.errors import UsageError

if typing.TYPE_CHECKING:
    from pydantic import BaseModel


def parse_pairs(values: Iterable[str] | None, option: str) -> dict[str, str]:
    """``--backend-option key=value`` (repeatable) → {"key": "value"}; a repeated key is an error."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"bad {option} {value!r}", hint=f"use {option} KEY=VALUE")
        if key in pairs:
            raise UsageError(f"{option} {key} given twice", hint="give each key once")
        pairs[key] = val
    return pairs


def coerce_strings(model: type[BaseModel], pairs: Mapping[str, str]) -> dict[str, Any]:
    """Turn CLI strings into what the field expects: lists split on commas, JSON for maps.

    Scalars stay strings: pydantic's lax mode parses "2", "false", "0.5" by the field's type.
    """
    out: dict[str, Any] = {}
    for key, raw in pairs.items():
        field = model.model_fields.get(key)
        if field is None:
            out[key] = raw  # unknown: let validation name it
            continue
        kind = _container_kind(field.annotation)
        if kind == "sequence":
            out[key] = [part.strip() for part in raw.split(",") if part.strip()]
        elif kind == "mapping":
            out[key] = _json_object(key, raw)
        else:
            out[key] = raw
    return out


def _container_kind(annotation: Any) -> str:
    origins = {typing.get_origin(a) or a for a in (typing.get_args(annotation) or (annotation,))}
    origins.add(typing.get_origin(annotation) or annotation)
    if origins & {list, tuple, set, frozenset}:
        return "sequence"
    if origins & {dict, Mapping}:
        return "mapping"
    return "scalar"


def _json_object(key: str, raw: str) -> Any:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise UsageError(f"{key} expects a JSON object, got {raw!r}", hint=f'e.g. {key}=\'{{"key": "value"}}\'')
    return value


def validate(label: str, model: type[BaseModel], data: Mapping[str, Any]) -> BaseModel:
    """Validate ``data`` into ``model``; a UsageError naming ``label.field`` and the rule otherwise."""
    from pydantic import ValidationError

    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(options)"
        message = _message(first)
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise UsageError(f"{label}.{loc}: {message}{more}", hint=_hint(label, model)) from None


def _message(error: Any) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    rules = {
        "extra_forbidden": "unknown option",
        "greater_than_equal": f"must be ≥ {ctx.get('ge')}",
        "greater_than": f"must be > {ctx.get('gt')}",
        "less_than_equal": f"must be ≤ {ctx.get('le')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "finite_number": "must be a finite number",
    }
    if kind in rules:
        return rules[kind]
    return str(error.get("msg", "invalid")).replace("Input should be", "must be")


def _hint(label: str, model: type[BaseModel]) -> str:
    names = ", ".join(model.model_fields) or "none"
    return f"{label} options: {names} (see `edgebench backends`)"


def dump(options: BaseModel) -> dict[str, Any]:
    """The validated options as plain JSON data, for the RunSpec and the record."""
    data: dict[str, Any] = options.model_dump(mode="json")
    return data


@dataclass(frozen=True)
class OptionDoc:
    name: str
    type: str
    default: str
    description: str


def describe(model: type[BaseModel]) -> list[OptionDoc]:
    """One row per option (name, type, default, description), for `edgebench backends` and docs."""
    from pydantic_core import PydanticUndefined

    rows = []
    for name, field in model.model_fields.items():
        if field.default_factory is not None:
            value = field.default_factory()  # type: ignore[call-arg]
            default = json.dumps(_plain(value))
        else:
            default = "required" if field.default is PydanticUndefined else json.dumps(_plain(field.default))
        rows.append(OptionDoc(name, _type_name(field.annotation, field.metadata), default, field.description or ""))
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _type_name(annotation: Any, metadata: list[Any]) -> str:
    generic = typing.get_args(annotation)
    text = (str(annotation) if generic else getattr(annotation, "__name__", str(annotation))).replace("typing.", "")
    if typing.get_origin(annotation) is typing.Literal:
        text = " | ".join(json.dumps(a) for a in typing.get_args(annotation))
    bounds = [
        f"{op} {getattr(m, attr)}"
        for m in metadata
        for attr, op in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
        if getattr(m, attr, None) is not None
    ]
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def strict_config() -> Any:
    """The model_config every plugin Options model uses."""
    from pydantic import ConfigDict

    return ConfigDict(frozen=True, extra="forbid")


# users type us (for µs): accepted on input, never printed
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,  # input spelling
    "µs": 1e-6,
    "ms": 1e-3,
    "": 1.0,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
}
_DURATION = re.compile(r"^\s*(?P<value>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(?P<unit>[a-zµ]*)\s*$")


def parse_duration(text: str, flag: str, *, max_s: float = 7 * 24 * 3600) -> float:
    """``15ms``, ``0.5s``, ``10`` (seconds), ``10m``, ``1.5h``, ``250µs`` → seconds in (0, ``max_s``]."""
    match = _DURATION.match(text)
    if not match or match["unit"] not in _DURATION_UNITS:
        raise UsageError(f"{flag} {text!r} is not a duration", hint=f"e.g. {flag} 15ms, {flag} 90s, {flag} 10m")
    seconds = float(match["value"]) * _DURATION_UNITS[match["unit"]]
    if not (math.isfinite(seconds) and 0 < seconds <= max_s):
        raise UsageError(f"{flag} must be a positive duration up to {max_s:g} s, got {text!r}", hint=f"e.g. {flag} 10m")
    return seconds
