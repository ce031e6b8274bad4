"""Run one RunSpec in this process: load, first inference, warm-up, steady state, summarise.

The timed loop is deliberately bare — two clock reads, the call, an append and one integer
comparison — so the harness adds well under 2 µs per iteration (benchmarks/overhead.py).
Stop decisions (minimums, adaptive CI, max time) run only at scheduled check points.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench import registry
from edgebench.collectors.cpu import CpuTimeCollector
from edgebench.collectors.memory import MemoryCollector, peak_rss_bytes, rss_bytes
from edgebench.engine import environment, inputs
from edgebench.engine.summary import build_summary
from edgebench.errors import UsageError
from edgebench.protocols import Clock, IOSpec, Session
from edgebench.records import (
    Measurements,
    Memory,
    ModelInfo,
    RunRecord,
    RunSpec,
    StopReason,
    TensorInfo,
)

if TYPE_CHECKING:
    import numpy as np

_S = 1_000_000_000  # ns per second
_MIN_CHECK_INTERVAL_NS = 20_000_000  # adaptive-stop checks at most every 20 ms ...
_CHECK_GROWTH = 0.10  # ... and then every 10 % of elapsed time, so sorting stays negligible


@dataclass(frozen=True)
class LoopResult:
    latencies_ns: list[int]
    window_ns: int
    stop_reason: StopReason


def validate_spec(spec: RunSpec) -> None:
    """Reject impossible settings before any process is spawned."""
    for name in ("warmup_time_s", "min_time_s", "max_time_s", "target_ci"):
        if getattr(spec, name) < 0:
            raise UsageError(f"--{name[:-2].replace('_', '-')} must not be negative", hint="use a value ≥ 0")
    if spec.max_time_s <= 0:
        raise UsageError("--max-time must be positive", hint="e.g. --max-time 30")
    if spec.min_time_s > spec.max_time_s:
        raise UsageError(
            f"--min-time {spec.min_time_s} exceeds --max-time {spec.max_time_s}",
            hint="raise --max-time or lower --min-time",
        )
    if spec.min_iters < 1:
        raise UsageError("--min-iters must be at least 1", hint="e.g. --min-iters 100")
    for name, value in (("--threads", spec.threads), ("--batch", spec.batch)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be a positive integer, got {value}", hint=f"e.g. {name} 1")
    if spec.target_ci >= 1:
        raise UsageError("--target-ci is a fraction of the median (0.01 = ±1 %)", hint="e.g. --target-ci 0.01")


def execute(spec: RunSpec, model: ModelInfo) -> RunRecord:
    """Measure ``spec`` in this process and return an ok record (raises EdgebenchError on failure)."""
    validate_spec(spec)
    backend = registry.load("edgebench.backends", spec.backend)()
    # Captured before loading: the load average must describe the machine *before* we add load.
    env = environment.capture(_thread_settings(spec, backend))
    env = replace(env, runtime_versions={**env.runtime_versions, **backend.versions()})
    rss_before = rss_bytes()
    t0 = time.perf_counter()
    session: Session = backend.load(Path(spec.model_path), spec)
    load_time_s = time.perf_counter() - t0
    rss_after_load = rss_bytes()
    try:
        feeds, tensor_infos = _prepare_inputs(session, spec)
        measurements = _measure(session, feeds, spec, load_time_s, tensor_infos, rss_before, rss_after_load)
    finally:
        session.close()
    summary, warnings = build_summary(measurements, spec, model, env)
    return RunRecord(
        spec=spec,
        environment=env,
        status="ok",
        model=model,
        measurements=measurements,
        summary=summary,
        warnings=tuple(warnings),
    )


def _prepare_inputs(session: Session, spec: RunSpec) -> tuple[dict[str, np.ndarray], tuple[TensorInfo, ...]]:
    specs = list(session.inputs())
    if spec.inputs_file:
        feeds = inputs.load_file(Path(spec.inputs_file), specs)
        source = f"file:{Path(spec.inputs_file).name}"
    else:
        shapes = inputs.resolve_shapes(specs, spec.shapes, spec.batch)
        limit = int(str(spec.backend_options.get("max_input_bytes", inputs.DEFAULT_MAX_INPUT_BYTES)))
        inputs.check_size(specs, shapes, limit)
        feeds = inputs.generate(specs, shapes, spec.seed)
        source = f"random(seed={spec.seed}; float uniform[-1,1), int [0,100))"
    infos = tuple(TensorInfo(n, str(a.dtype), tuple(int(d) for d in a.shape), source) for n, a in feeds.items())
    return feeds, infos


def _measure(
    session: Session,
    feeds: Mapping[str, np.ndarray],
    spec: RunSpec,
    load_time_s: float,
    tensor_infos: tuple[TensorInfo, ...],
    rss_before: int | None,
    rss_after_load: int | None,
) -> Measurements:
    clock: Clock = getattr(session, "clock", None) or time.perf_counter_ns
    t0 = clock()
    outputs = session.run(feeds)
    first_ns = clock() - t0
    warmup = _warmup(session, feeds, clock, int(spec.warmup_time_s * _S))
    memory, cpu = MemoryCollector(), CpuTimeCollector()
    extra = [registry.load("edgebench.collectors", name)() for name in spec.collectors]
    for collector in (memory, cpu, *extra):
        collector.start()
    loop = steady_state(session, feeds, clock, spec)
    collected = {c.name: c.stop() for c in reversed(extra)}  # innermost first: the window they saw is tightest
    cpu_stats, mem_stats = cpu.stop(), memory.stop()
    return Measurements(
        latencies_ns=tuple(loop.latencies_ns),
        warmup_latencies_ns=tuple(warmup),
        load_time_s=load_time_s,
        first_inference_s=first_ns / _S,
        window_wall_s=loop.window_ns / _S,
        cpu_time_s=_float(cpu_stats.get("cpu_time_s")),
        memory=Memory(
            peak_rss_bytes=peak_rss_bytes(),
            rss_after_load_bytes=rss_after_load,
            rss_steady_bytes=_int(mem_stats.get("rss_end_bytes")),
            rss_growth_bytes=_int(mem_stats.get("rss_growth_bytes")),
            rss_before_load_bytes=rss_before,
        ),
        stop_reason=loop.stop_reason,
        timer_resolution_s=timer_resolution_s(clock),
        inputs=tensor_infos,
        outputs=_output_infos(session.outputs(), outputs),
        collected=collected,
    )


def _warmup(session: Session, feeds: Mapping[str, Any], clock: Clock, budget_ns: int) -> list[int]:
    """Time-based warm-up (like trtexec); at least one call so caches and arenas are primed."""
    samples: list[int] = []
    start = clock()
    while True:
        t0 = clock()
        session.run(feeds)
        t1 = clock()
        samples.append(t1 - t0)
        if t1 - start >= budget_ns:
            return samples


def steady_state(session: Session, feeds: Mapping[str, Any], clock: Clock, spec: RunSpec) -> LoopResult:
    """Run until min iterations AND min time are met, then until the median's CI converges or max time."""
    from edgebench.engine.stats import ci_converged

    min_ns, max_ns = int(spec.min_time_s * _S), int(spec.max_time_s * _S)
    samples: list[int] = []
    append, run = samples.append, session.run
    start = clock()
    check_at = start  # first check right after the first sample
    while True:
        t0 = clock()
        run(feeds)
        t1 = clock()
        append(t1 - t0)
        if t1 < check_at:
            continue
        elapsed = t1 - start
        if elapsed >= max_ns:
            return LoopResult(samples, elapsed, "max_time")
        if elapsed >= min_ns and len(samples) >= spec.min_iters:
            if spec.target_ci <= 0:
                return LoopResult(samples, elapsed, "minimums_met")
            if ci_converged(sorted(samples), spec.target_ci):
                return LoopResult(samples, elapsed, "converged")
        check_at = min(start + max_ns, t1 + max(_MIN_CHECK_INTERVAL_NS, int(elapsed * _CHECK_GROWTH)))
        if elapsed < min_ns:
            check_at = min(check_at, start + min_ns)
        elif len(samples) < spec.min_iters:
            check_at = t1  # only the iteration count is missing: stop exactly when it is reached


def timer_resolution_s(clock: Clock, probes: int = 200) -> float:
    """Smallest non-zero step of the clock, measured (the nominal resolution is often optimistic)."""
    best = None
    for _ in range(probes):
        a = clock()
        b = clock()
        while b == a and clock is time.perf_counter_ns:
            b = clock()
        if b > a:
            best = b - a if best is None else min(best, b - a)
    return (best or 1) / _S


def _output_infos(specs: Sequence[IOSpec], outputs: Sequence[Any]) -> tuple[TensorInfo, ...]:
    infos = []
    for spec, value in zip(specs, outputs, strict=False):
        shape = tuple(int(d) for d in getattr(value, "shape", ()))
        infos.append(TensorInfo(spec.name, str(getattr(value, "dtype", spec.dtype)), shape, "model output"))
    return tuple(infos)


def _thread_settings(spec: RunSpec, backend: Any) -> dict[str, Any]:
    import os

    env_keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    settings: dict[str, Any] = {"intra_op_threads": spec.threads, "backend": backend.name}
    settings.update({k: spec.backend_options[k] for k in ("inter_op_threads",) if k in spec.backend_options})
    settings.update({k.lower(): os.environ[k] for k in env_keys if k in os.environ})
    return settings


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int) else None
