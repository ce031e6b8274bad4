"""Which stored records a report covers: ``--where KEY=VALUE`` filters and ``--last N``.

Filters read the records themselves (not the store's index), so every key works on any store and on
records imported from elsewhere. Values are shell-style globs (``model=*int8*``); a comma separates
alternatives (``backend=onnxruntime,openvino``); several ``--where`` must all hold.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from edgebench.errors import UsageError
from edgebench.records import RunRecord
from edgebench.reporters import fields


def _model_values(r: RunRecord) -> list[str]:
    return [r.spec.model, fields.model_name(r), Path(r.spec.model).name, fields.family(r)]


# key → the record's values it matches against (any may match)
KEYS: Mapping[str, Callable[[RunRecord], list[str]]] = {
    "model": _model_values,
    "backend": lambda r: [r.spec.backend],
    "status": lambda r: [r.status],
    "host": lambda r: [r.environment.hostname],
    "scenario": lambda r: [r.scenario.name if r.scenario else r.spec.scenario],
    "sweep": lambda r: [r.spec.sweep_id or ""],
    "tag": lambda r: list(r.spec.tags),
    "precision": lambda r: [r.spec.precision, fields.bit_width(r) or ""],
    "device": lambda r: [fields.device(r)],
    "threads": lambda r: [str(r.spec.threads) if r.spec.threads else "default"],
    "batch": lambda r: [str(r.summary.batch if r.summary else r.spec.batch or 1)],
    "spec_hash": lambda r: [r.spec_hash],
    "id": lambda r: [r.id],
    "task": lambda r: [(r.model.task or "") if r.model else ""],
}


@dataclass(frozen=True)
class Filter:
    key: str
    patterns: tuple[str, ...]

    def matches(self, record: RunRecord) -> bool:
        values = KEYS[self.key](record)
        # ids and hashes are typed as prefixes, like `results show`
        prefix = self.key in ("id", "spec_hash")
        return any(
            fnmatch.fnmatchcase(v.lower(), p.lower() + ("*" if prefix else "")) for v in values for p in self.patterns
        )


def parse_where(values: Sequence[str] | Mapping[str, str] | None) -> list[Filter]:
    """``["model=resnet*", "backend=onnxruntime,openvino"]`` (or a mapping) → filters; bad keys name the valid ones."""
    if values is None:
        return []
    pairs = list(values.items()) if isinstance(values, Mapping) else [_split(v) for v in values]
    out = []
    for key, value in pairs:
        key = key.strip().lower().replace("-", "_")
        if key not in KEYS:
            raise UsageError(f"unknown --where key {key!r}", hint=f"keys: {', '.join(KEYS)}")
        patterns = tuple(p.strip() for p in str(value).split(",") if p.strip())
        if not patterns:
            raise UsageError(f"--where {key}= needs a value", hint=f"e.g. --where {key}=VALUE (globs allowed)")
        if key == "status" and (bad := [p for p in patterns if p.lower() not in STATUSES and not _is_glob(p)]):
            # a typo here would otherwise read as "no records match", as if the database were empty
            raise UsageError(f"--where status={bad[0]}: not a record status", hint=f"use {' or '.join(STATUSES)}")
        out.append(Filter(key, patterns))
    return out


STATUSES = ("ok", "failed")


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _split(value: str) -> tuple[str, str]:
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"bad --where {value!r}", hint="use --where KEY=VALUE, e.g. --where model=resnet50")
    return key, rest


def select(records: Iterable[RunRecord], filters: Sequence[Filter], last: int | None = None) -> list[RunRecord]:
    """Records matching every filter; with ``last``, the newest N of them. Returned oldest first (report order)."""
    if last is not None and last < 1:
        raise UsageError(f"--last must be ≥ 1, got {last}", hint="e.g. --last 10")
    chosen = sorted((r for r in records if all(f.matches(r) for f in filters)), key=lambda r: (r.created_at, r.id))
    return chosen[-last:] if last is not None else chosen


def describe(filters: Sequence[Filter], last: int | None) -> str:
    parts = [f"{f.key}={','.join(f.patterns)}" for f in filters]
    if last is not None:
        parts.append(f"last {last}")
    return "; ".join(parts) if parts else "all records"
