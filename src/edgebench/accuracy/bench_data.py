"""``bench MODEL --data DIR``: latency on a real preprocessed input, accuracy attached to the record.

Before measuring, each variant (model × backend) is evaluated on the data in this process; the
first sample that could be read, preprocessed for that variant, is written to the cache as an
``.npz`` and becomes the variant's ``RunSpec.inputs_file`` (so the engine times real data with
no change). The same file carries the first N preprocessed samples and their labels under the
reserved keys of :data:`edgebench.engine.inputs.QSL_PREFIX`: LoadGen's QSL issues those and scores
its accuracy mode against the labels (N: ``--scenario-option qsl_samples=N``, default 64, and at most
``RunSpec.max_input_bytes`` of samples). The :class:`~edgebench.records.Accuracy` block is put into
each record before it is stored, through a store wrapper: stored records are never rewritten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.accuracy.evaluate import Evaluation, Runner
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
        from edgebench.stores import attaching

        return attaching(factory, self.attach)  # type: ignore[no-any-return]

    def comparison(self, comparison: Comparison) -> Comparison:
        return replace(comparison, records=tuple(self.attach(r) for r in comparison.records))


def plan_data(
    specs: Sequence[RunSpec], data: str, preprocess: str | None, cache_dir: Path | None, *, limit: int | None = None
) -> DataPlan:
    """Evaluate every variant on ``data``; give each spec its real-input file and its accuracy."""
    if any(s.inputs_file for s in specs):
        raise UsageError("--data and --inputs both give the inputs", hint="use one of them")
    planned: list[RunSpec] = []
    accuracy: dict[Key, Accuracy] = {}
    for spec in specs:
        keep = _qsl_size(spec)
        result, samples = _evaluate(spec, data, preprocess, cache_dir, limit, keep)
        accepted = [p.accepted for p in result.predictions[: len(samples)]]
        source = f"{result.dataset} ({len(samples)} of {result.samples} samples, preprocess {result.preprocess})"
        qsl = _qsl_arrays(result.input_name, samples, accepted, source)
        path = _write_inputs(result.input_name, result.first_input, cache_dir, qsl)
        new = replace(spec, inputs_file=str(path))
        planned.append(new)
        accuracy[_key(new)] = result.to_accuracy()
    return DataPlan(planned, accuracy)


DEFAULT_QSL_SAMPLES = 64


def _qsl_size(spec: RunSpec) -> int:
    value = spec.scenario_options.get("qsl_samples", DEFAULT_QSL_SAMPLES)
    if not isinstance(value, int | str) or not str(value).isdigit() or int(value) < 1:
        raise UsageError(f"qsl_samples must be a whole number ≥ 1, got {value!r}", hint="e.g. qsl_samples=64")
    return int(value)


def _evaluate(
    spec: RunSpec, data: str, preprocess: str | None, cache_dir: Path | None, limit: int | None, keep: int
) -> tuple[Evaluation, list[Any]]:
    """Like :func:`~edgebench.accuracy.evaluate.evaluate`; keeps the first ``keep`` feeds run (within max_bytes)."""
    import tempfile

    from edgebench.accuracy.datasets import open_dataset
    from edgebench.accuracy.evaluate import evaluate_with, open_runner
    from edgebench.engine.logcapture import capture_fd2

    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be ≥ 1, got {limit}", hint="e.g. --limit 100")
    dataset = open_dataset(data, None, limit)
    # runtimes' C++ logs go to a temporary file, as in evaluate()
    with tempfile.TemporaryDirectory(prefix="edgebench-eval-") as tmp, capture_fd2(Path(tmp) / "runtime.log"):
        runner = open_runner(
            spec.model,
            backend=spec.backend,
            threads=spec.threads,
            backend_options=dict(spec.backend_options),
            cache_dir=cache_dir,
            precision=spec.precision,
        )
        recording = _Recording(runner, keep, spec.max_input_bytes)
        try:
            result = evaluate_with(recording, dataset, preprocess=preprocess)
        finally:
            runner.close()
    return result, recording.kept


class _Recording(Runner):
    """The evaluation's runner, keeping the feeds it ran in order: they line up with the predictions."""

    def __init__(self, inner: Runner, keep: int, max_bytes: int) -> None:
        super().__init__(inner.session, inner.input, inner.output, inner.model, inner.backend, inner.zoo_preset)
        self._inner, self._keep, self._left = inner, keep, max_bytes
        self.kept: list[Any] = []
        self._full = False

    def run(self, x: Any) -> Any:
        # a prefix only (stop at the first sample that does not fit) so sample i stays prediction i
        if not self._full and len(self.kept) < self._keep and (not self.kept or x.nbytes <= self._left):
            self.kept.append(x.copy())
            self._left -= x.nbytes
        else:
            self._full = True
        return self._inner.run(x)


def _qsl_arrays(name: str, samples: list[Any], accepted: list[tuple[int, ...]], source: str) -> dict[str, Any]:
    import numpy as np

    from edgebench.engine.inputs import QSL_PREFIX

    width = max([1, *(len(a) for a in accepted)])
    table = np.full((len(accepted), width), -1, dtype=np.int64)
    for row, answers in enumerate(accepted):
        table[row, : len(answers)] = answers
    return {
        f"{QSL_PREFIX}x.{name}": np.stack(samples),
        f"{QSL_PREFIX}accepted": table,
        f"{QSL_PREFIX}source": np.array(source),
    }


def _write_inputs(name: str, x: Any, cache_dir: Path | None, qsl: dict[str, Any] | None = None) -> Path:
    """The feed as ``<cache>/inputs/<sha256>.npz`` (content-addressed: records keep pointing at it)."""
    import io

    import numpy as np

    from edgebench.zoo.resolve import cache_dir_for

    buffer = io.BytesIO()
    np.savez(buffer, **{name: x}, **(qsl or {}))
    payload = buffer.getvalue()
    folder = cache_dir_for(cache_dir) / "inputs"
    path = folder / f"{hashlib.sha256(payload).hexdigest()[:24]}.npz"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(payload)
        tmp.replace(path)
    return path
