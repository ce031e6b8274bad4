"""Benchmark orchestration: resolve the model, measure it, attach analysis and platform, store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edgebench.engine import launcher
from edgebench.engine.runner import validate_spec
from edgebench.records import JSONValue, RunRecord, RunSpec, ValidityWarning
from edgebench.zoo import resolve_model

if TYPE_CHECKING:
    from edgebench.protocols import Store


def run_benchmark(
    spec: RunSpec, *, store: Store | None, cache_dir: Path | None = None, dynamic_batch: bool = False
) -> RunRecord:
    """Measure ``spec`` (model may be a zoo name) and store the record the moment it exists."""
    validate_spec(spec)  # before a possibly slow zoo export
    resolved = resolve_model(spec.model, cache_dir, dynamic_batch=dynamic_batch)
    _check_format(spec.backend, resolved.info.format)
    spec = RunSpec(**{**spec.__dict__, "model_path": str(resolved.path)})
    record = launcher.run(spec, resolved.info)
    if record.status == "ok":
        record = _with_analysis(record)
    if store is not None:
        record = record.with_platform(_platform_id(store, record.environment.hostname))
        store.put(record)
    return record


def _check_format(backend_name: str, fmt: str) -> None:
    """A .tflite file handed to onnxruntime is a user error, not a failed measurement."""
    from edgebench import registry
    from edgebench.errors import ModelError

    formats = registry.load("edgebench.backends", backend_name).formats
    if fmt not in formats:
        raise ModelError(
            f"the {backend_name} backend loads {', '.join(formats)} models, this is a {fmt} model",
            hint="choose a backend for this format or convert the model",
        )


def _with_analysis(record: RunRecord) -> RunRecord:
    """Static analysis totals (params, MACs…) so the Bench Table's columns fill themselves."""
    from dataclasses import replace

    from edgebench.analysis import analyze_model
    from edgebench.errors import EdgebenchError

    shapes = {t.name: t.shape for t in record.measurements.inputs} if record.measurements else {}
    try:
        source_params = record.model.source_params if record.model else None
        analysis = analyze_model(Path(record.spec.model_path), shapes, source_params=source_params)
        summary: dict[str, JSONValue] = analysis.summary_dict()
    except EdgebenchError as exc:
        note = ValidityWarning(
            "analysis_failed",
            f"static analysis failed: {exc.message}",
            "run `edgebench analyze MODEL` to see why; latency figures are unaffected",
        )
        return replace(record, warnings=(*record.warnings, note))
    return replace(record, analysis=summary)


def _platform_id(store: Store, hostname: str) -> str | None:
    latest = getattr(store, "latest_platform", None)
    platform = latest(hostname) if latest else None
    return str(platform["id"]) if platform and "id" in platform else None
