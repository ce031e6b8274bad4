"""edgebench — benchmark, analyze and characterize AI models on edge hardware.

Public API (everything else is internal)::

    import edgebench
    record = edgebench.bench("efficientnet-lite0", threads=1)
    record.summary.latency_median_s

Importing edgebench imports no runtime (onnxruntime, torch, …): they load inside the plugins.
The API takes the CLI's option names and validates with the CLI's rules: a bad value raises the
documented :class:`EdgebenchError` subclass with the message the CLI would print.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench._frozen import FrozenMap
from edgebench.errors import EdgebenchError, UsageError
from edgebench.records import SCHEMA_VERSION, RunRecord, RunSpec, record_from_json, record_to_json

if TYPE_CHECKING:
    from edgebench.engine.bench import Comparison

__all__ = [
    "SCHEMA_VERSION",
    "EdgebenchError",
    "RunRecord",
    "RunSpec",
    "analyze",
    "bench",
    "characterize",
    "compare",
    "load_results",
    "record_from_json",
    "record_to_json",
]

__version__ = "0.2.0"

PathArg = str | os.PathLike[str]

_BENCH_OPTIONS = (
    "backend",
    "threads",
    "batch",
    "batch_dim",
    "shapes",
    "inputs",
    "warmup_time",
    "min_time",
    "max_time",
    "min_iters",
    "target_ci",
    "processes",
    "seed",
    "scenario",
    "scenario_options",
    "backend_options",
    "collectors",
    "tags",
    "runtime_log_level",
    "precision",
    "max_input_mb",
    "db",
    "store",
    "cache_dir",
    "dynamic_batch",
    "executor",
    "force",
)


def bench(
    model: PathArg = "efficientnet-lite0",
    *,
    backend: str = "onnxruntime",
    threads: int | None = None,
    batch: int | None = None,
    batch_dim: int | None = None,
    shapes: Mapping[str, Sequence[int]] | None = None,
    inputs: PathArg | None = None,
    warmup_time: float = 0.5,
    min_time: float = 1.0,
    max_time: float = 3.0,
    min_iters: int = 100,
    target_ci: float = 0.01,
    processes: int = 3,
    seed: int = 0,
    scenario: str = "loop",
    scenario_options: Mapping[str, Any] | None = None,
    backend_options: Mapping[str, Any] | None = None,
    collectors: Sequence[str] = (),
    tags: Sequence[str] = (),
    runtime_log_level: str = "error",
    precision: str = "fp32",
    max_input_mb: float = 2048.0,
    db: PathArg | None = None,
    store: bool = True,
    cache_dir: PathArg | None = None,
    dynamic_batch: bool = False,
    executor: str = "local",
    force: bool = False,
    **unknown: object,
) -> RunRecord:
    """Benchmark ``model`` (zoo name or path) with the CLI's defaults and rules; returns the stored record."""
    _refuse_unknown(unknown)
    spec = _spec(locals())
    from edgebench.engine.bench import run_benchmark

    return run_benchmark(
        spec,
        store=_store(db) if store else None,
        cache_dir=_path(cache_dir),
        dynamic_batch=dynamic_batch,
        executor=executor,
        force=force,
    )


def compare(
    models: Sequence[PathArg],
    *,
    backends: Sequence[str] = ("onnxruntime",),
    db: PathArg | None = None,
    store: bool = True,
    cache_dir: PathArg | None = None,
    executor: str = "local",
    **options: Any,
) -> Comparison:
    """Measure models × backends in interleaved rounds; ratios to the first variant with paired CIs."""
    from edgebench.engine.bench import run_variants

    _refuse_unknown({k: v for k, v in options.items() if k not in _BENCH_OPTIONS})
    if isinstance(models, str | os.PathLike) or not models:
        raise UsageError("compare() takes a list of models", hint="e.g. compare(['a.onnx', 'b.onnx'])")
    specs = [_spec({**_defaults(), **options, "model": m, "backend": b}) for m in models for b in backends]
    return run_variants(specs, store=_store(db) if store else None, cache_dir=_path(cache_dir), executor=executor)


def analyze(model: PathArg = "efficientnet-lite0", shapes: Mapping[str, Sequence[int]] | None = None) -> Any:
    """Static analysis of an ONNX or TFLite model (params, MACs, memory); zoo names work too."""
    from edgebench.analysis import analyze_model
    from edgebench.zoo import resolve_model

    resolved = resolve_model(_model_name(model))
    return analyze_model(resolved.path, _shapes(shapes), source_params=resolved.info.source_params)


def load_results(
    db: PathArg | None = None,
    *,
    where: Sequence[str] | Mapping[str, str] | None = None,
    last: int | None = None,
    as_frame: bool = True,
) -> Any:
    """Stored records as a pandas DataFrame, one flat row per record (the columns of `report --format csv`).

    ``where`` takes the CLI's ``--where`` filters (``["model=resnet*"]`` or ``{"backend": "onnxruntime"}``),
    ``last`` the newest N. pandas is optional: without it this raises UsageError naming the install;
    ``as_frame=False`` returns a list of dicts and never needs pandas.
    """
    from edgebench.reporters.tabular import load_frame

    return load_frame(None if db is None else os.fspath(db), where, last, as_frame)


def characterize(*, quick: bool = False, threads: int | None = None) -> Any:
    """Detect this machine's hardware, runtimes and sensors, and measure its peaks."""
    from edgebench.platform import characterize as _characterize

    return _characterize(quick=quick, threads=threads)


def _defaults() -> dict[str, Any]:
    import inspect

    params = inspect.signature(bench).parameters
    return {n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty}


def _spec(args: Mapping[str, Any]) -> RunSpec:
    if not isinstance(args["max_input_mb"], int | float) or not 0 < args["max_input_mb"] <= 2**30:
        raise UsageError(f"max_input_mb must be a number in (0, {2**30}], got {args['max_input_mb']!r}")
    for name in ("scenario_options", "backend_options"):
        if args[name] is not None and not isinstance(args[name], Mapping):
            raise UsageError(f"{name} must be a mapping, got {type(args[name]).__name__}", hint=f"{name}={{'key': 1}}")
    if isinstance(args["collectors"], str) or isinstance(args["tags"], str):
        raise UsageError("collectors and tags take a list of names", hint="e.g. collectors=['cpu']")
    return RunSpec(
        model=_model_name(args["model"]),
        backend=args["backend"],
        threads=args["threads"],
        batch=args["batch"],
        batch_dim=args["batch_dim"],
        shapes=FrozenMap(_shapes(args["shapes"]) or {}),
        inputs_file=str(args["inputs"]) if args["inputs"] is not None else None,
        warmup_time_s=args["warmup_time"],
        min_time_s=args["min_time"],
        max_time_s=args["max_time"],
        min_iters=args["min_iters"],
        target_ci=args["target_ci"],
        processes=args["processes"],
        seed=args["seed"],
        scenario=args["scenario"],
        scenario_options=FrozenMap(args["scenario_options"] or {}),
        backend_options=FrozenMap(args["backend_options"] or {}),
        collectors=tuple(args["collectors"]),
        tags=tuple(args["tags"]),
        runtime_log_level=args["runtime_log_level"],
        precision=args["precision"],
        max_input_bytes=int(args["max_input_mb"] * 1024**2),
    )


def _refuse_unknown(unknown: Mapping[str, object]) -> None:
    if not unknown:
        return
    name = next(iter(unknown))
    close = difflib.get_close_matches(name.removesuffix("_s"), _BENCH_OPTIONS, n=1)
    suggestion = f" (did you mean {close[0]!r}?)" if close else ""
    raise UsageError(f"unknown option {name!r}{suggestion}", hint=f"options: {', '.join(_BENCH_OPTIONS)}")


def _model_name(model: object) -> str:
    if isinstance(model, str | os.PathLike) and str(model):
        return os.fspath(model) if isinstance(model, os.PathLike) else model
    raise UsageError(f"model must be a zoo name or a path, got {model!r}", hint="e.g. bench('efficientnet-lite0')")


def _shapes(shapes: object) -> dict[str, tuple[int, ...]] | None:
    if shapes is None:
        return None
    if not isinstance(shapes, Mapping):
        raise UsageError(
            f"shapes must be a mapping of input name to dimensions, got {type(shapes).__name__} {shapes!r}",
            hint="e.g. shapes={'input': (1, 3, 224, 224)}",
        )
    out = {}
    for name, dims in shapes.items():
        if isinstance(dims, str) or not isinstance(dims, Sequence):
            raise UsageError(f"shapes[{name!r}] must be a sequence of ints, got {dims!r}", hint="e.g. (1, 3, 224, 224)")
        out[str(name)] = tuple(dims)
    return out


def _path(value: PathArg | None) -> Path | None:
    return Path(value) if value is not None else None


def _store(db: PathArg | None) -> Any:
    from edgebench.stores import open_store

    return open_store(_path(db))
