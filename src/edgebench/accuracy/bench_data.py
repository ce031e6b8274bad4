"""``bench MODEL --data DIR``: latency on a real preprocessed input, accuracy attached to the record.

Before measuring, each variant (model × backend) is evaluated on the data in this process; the
first sample that could be read, preprocessed for that variant, is written to the cache as an
``.npz`` and becomes the variant's ``RunSpec.inputs_file`` (so the engine times real data with
no change). The :class:`~edgebench.records.Accuracy` block is put into each record before it is
stored, through a store wrapper: stored records are never rewritten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.errors import UsageError

if TYPE_CHECKING:
    from edgebench.engine.bench import Comparison
    from edgebench.protocols import Store
    from edgebench.records import Accuracy, RunRecord, RunSpec

Key = tuple[str, str, str | None]


def _key(spec: RunSpec) -> Key:
    # fields validation leaves as they are (model_path/sha256 are filled in later)
    return (spec.model, spec.backend, spec.inputs_file)


@dataclass(frozen=True)
class DataPlan:
    specs: list[RunSpec]
    accuracy: dict[Key, Accuracy]

    def attach(self, record: RunRecord) -> RunRecord:
        found = self.accuracy.get(_key(record.spec))
        return replace(record, accuracy=found) if found is not None and record.status == "ok" else record

    def store(self, factory: Callable[[], Store] | None) -> Callable[[], Store] | None:
        """A store factory whose store attaches the accuracy block before each ``put``."""
        if factory is None:
            return None
        return lambda: _AttachingStore(factory(), self)

    def comparison(self, comparison: Comparison) -> Comparison:
        return replace(comparison, records=tuple(self.attach(r) for r in comparison.records))


class _AttachingStore:
    """Delegates to the real store; ``put`` stores the record with its accuracy block."""

    def __init__(self, inner: Store, plan: DataPlan) -> None:
        self._inner, self._plan = inner, plan

    def put(self, record: RunRecord) -> None:
        self._inner.put(self._plan.attach(record))

    def get(self, record_id: str) -> RunRecord:
        return self._inner.get(record_id)

    def list(self, limit: int | None = None) -> list[RunRecord]:
        return self._inner.list(limit)

    def __getattr__(self, name: str) -> Any:  # platform look-ups and the like
        return getattr(self._inner, name)


def plan_data(
    specs: Sequence[RunSpec], data: str, preprocess: str | None, cache_dir: Path | None, *, limit: int | None = None
) -> DataPlan:
    """Evaluate every variant on ``data``; give each spec its real-input file and its accuracy."""
    from edgebench.accuracy.evaluate import evaluate

    if any(s.inputs_file for s in specs):
        raise UsageError("--data and --inputs both give the inputs", hint="use one of them")
    planned: list[RunSpec] = []
    accuracy: dict[Key, Accuracy] = {}
    for spec in specs:
        result = evaluate(
            spec.model,
            data,
            backend=spec.backend,
            preprocess=preprocess,
            limit=limit,
            threads=spec.threads,
            backend_options=dict(spec.backend_options),
            cache_dir=cache_dir,
            precision=spec.precision,
        )
        path = _write_inputs(result.input_name, result.first_input, cache_dir)
        new = replace(spec, inputs_file=str(path))
        planned.append(new)
        accuracy[_key(new)] = result.to_accuracy()
    return DataPlan(planned, accuracy)


def _write_inputs(name: str, x: Any, cache_dir: Path | None) -> Path:
    """The feed as ``<cache>/inputs/<sha256>.npz`` (content-addressed: records keep pointing at it)."""
    import io

    import numpy as np

    from edgebench.zoo.resolve import cache_dir_for

    buffer = io.BytesIO()
    np.savez(buffer, **{name: x})
    payload = buffer.getvalue()
    folder = cache_dir_for(cache_dir) / "inputs"
    path = folder / f"{hashlib.sha256(payload).hexdigest()[:24]}.npz"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(payload)
        tmp.replace(path)
    return path
