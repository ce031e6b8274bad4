"""edgebench — benchmark, analyze and characterize AI models on edge hardware.

Public API (everything else is internal)::

    import edgebench
    record = edgebench.bench("efficientnet-lite0", threads=1)
    record.summary.latency_median_s

Importing edgebench imports no runtime (onnxruntime, torch, …): they load inside the plugins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebench.errors import EdgebenchError
from edgebench.records import SCHEMA_VERSION, RunRecord, RunSpec, record_from_json, record_to_json

__all__ = [
    "SCHEMA_VERSION",
    "EdgebenchError",
    "RunRecord",
    "RunSpec",
    "analyze",
    "bench",
    "characterize",
    "record_from_json",
    "record_to_json",
]

__version__ = "0.1.0"


def bench(
    model: str = "efficientnet-lite0",
    *,
    db: Path | None = None,
    store: bool = True,
    cache_dir: Path | None = None,
    dynamic_batch: bool = False,
    **spec: Any,
) -> RunRecord:
    """Benchmark ``model`` (zoo name or path); ``spec`` takes RunSpec fields (threads, batch, …)."""
    from edgebench.engine.bench import run_benchmark
    from edgebench.stores import open_store

    run_spec = RunSpec(model=model, **spec)
    return run_benchmark(
        run_spec, store=open_store(db) if store else None, cache_dir=cache_dir, dynamic_batch=dynamic_batch
    )


def analyze(model: str | Path, shapes: dict[str, tuple[int, ...]] | None = None) -> Any:
    """Static analysis of an ONNX or TFLite model (params, MACs, memory); zoo names work too."""
    from edgebench.analysis import analyze_model
    from edgebench.zoo import resolve_model

    resolved = resolve_model(str(model))
    return analyze_model(resolved.path, shapes, source_params=resolved.info.source_params)


def characterize(*, quick: bool = False, threads: int | None = None) -> Any:
    """Detect this machine's hardware, runtimes and sensors, and measure its peaks."""
    from edgebench.platform import characterize as _characterize

    return _characterize(quick=quick, threads=threads)
