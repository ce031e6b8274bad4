"""Benchmark orchestration: validate, resolve models, run each variant's processes in interleaved
rounds on an executor, combine, attach analysis and platform, store.

Several variants (models, backends, options) measured by one command alternate process by process
(A B C A B C …) so that drift of a shared machine hits them all alike; each ratio to the first
variant gets a CI from the paired rounds (stats.paired_ratio_ci).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from edgebench import registry
from edgebench._frozen import FrozenMap
from edgebench.engine.agreement import Agreement, agreement
from edgebench.engine.combine import combine
from edgebench.engine.validate import validate_spec
from edgebench.errors import EdgebenchError, ModelError
from edgebench.executors import USER_ERRORS
from edgebench.protocols import Executor, Job, Store
from edgebench.records import Failure, RunRecord, RunSpec, ValidityWarning
from edgebench.zoo import resolve_model

Progress = Callable[[int, int, Job], None]  # (done, total, job about to run)


@dataclass(frozen=True)
class Ratio:
    """Variant median ÷ baseline median from paired rounds (geometric mean of per-round ratios)."""

    ratio: float
    lo: float | None
    hi: float | None
    rounds: int
    note: str | None = None


@dataclass(frozen=True)
class Comparison:
    records: tuple[RunRecord, ...]
    ratios: tuple[Ratio | None, ...]  # None for the baseline and for failed variants
    agreements: tuple[Agreement | None, ...] = ()  # outputs against the first variant's, same inputs


def run_benchmark(
    spec: RunSpec,
    *,
    store: Store | None,
    cache_dir: Path | None = None,
    dynamic_batch: bool = False,
    executor: str | Executor = "local",
    force: bool = False,
) -> RunRecord:
    """Measure ``spec`` (model may be a zoo name) and store the record the moment it exists."""
    result = run_variants(
        [spec], store=store, cache_dir=cache_dir, dynamic_batch=dynamic_batch, executor=executor, force=force
    )
    return result.records[0]


def run_variants(
    specs: Sequence[RunSpec],
    *,
    store: Store | Callable[[], Store] | None,
    cache_dir: Path | None = None,
    dynamic_batch: bool = False,
    executor: str | Executor = "local",
    force: bool = False,
    progress: Progress | None = None,
) -> Comparison:
    """Validate all, then run every variant's processes in interleaved rounds; store each record.

    ``store`` may be a factory, called after validation, so that bad input leaves no file behind.
    """
    validated = [validate_spec(s, force=force) for s in specs]  # before a possibly slow zoo export
    runner = get_executor(executor)
    jobs = [_job_or_failure(s, cache_dir, dynamic_batch, runner, alone=len(validated) == 1) for s in validated]
    # opened after validation and before measuring: bad input creates no database, and a database
    # that cannot be opened fails before anything is measured (so nothing measured can be lost)
    opened = _open(store) if store is not None else None
    per_variant = _interleave(jobs, runner, progress)
    records = []
    for parts in per_variant:
        record = _finish(combine(parts))
        if opened is not None:
            record = record.with_platform(_platform_id(opened, record.environment.hostname))
            opened.put(record)  # on failure the store saves the record to a side file and says where
        records.append(record)
    ratios = tuple(_ratio(per_variant[0], p) for p in per_variant)
    agreements = tuple(None if i == 0 else agreement(records[0], r) for i, r in enumerate(records))
    return Comparison(tuple(records), ratios, agreements)


def _job_or_failure(
    spec: RunSpec, cache_dir: Path | None, dynamic_batch: bool, runner: Executor, *, alone: bool
) -> Job | RunRecord:
    """One variant's job; in a comparison, a variant that cannot run becomes a failed row, not an abort."""
    try:
        return make_job(spec, cache_dir, dynamic_batch)
    except USER_ERRORS as exc:
        if alone:
            raise
        return _failed(spec, exc, runner.name)


def _failed(spec: RunSpec, exc: EdgebenchError, executor: str) -> RunRecord:
    from edgebench.engine.environment import capture

    env = replace(capture(), captured_by="controller")
    failure = Failure(type(exc).__name__, exc.message, hint=exc.hint)
    return RunRecord(spec=spec, environment=env, status="failed", error=failure, executor=executor)


def _open(store: Store | Callable[[], Store]) -> Store:
    if isinstance(store, Store):
        return store
    return store()


def get_executor(executor: str | Executor) -> Executor:
    if isinstance(executor, str):
        instance: Executor = registry.load("edgebench.executors", executor)()
        return instance
    return executor


def make_job(spec: RunSpec, cache_dir: Path | None, dynamic_batch: bool) -> Job:
    backend = registry.load("edgebench.backends", spec.backend)
    resolved = resolve_model(spec.model, cache_dir, dynamic_batch=dynamic_batch, formats=backend.formats)
    if resolved.info.format not in backend.formats:
        raise ModelError(
            f"the {spec.backend} backend loads {', '.join(backend.formats)} models, this is a "
            f"{resolved.info.format} model",
            hint="choose a backend for this format (see `edgebench backends`) or convert the model",
        )
    spec = replace(spec, model_path=str(resolved.path), model_sha256=resolved.info.sha256)
    return Job(spec, resolved.info)


def _interleave(jobs: Sequence[Job | RunRecord], runner: Executor, progress: Progress | None) -> list[list[RunRecord]]:
    """Round r runs process r of every variant that still needs one; a failed variant stops."""
    per_variant: list[list[RunRecord]] = [[j] if isinstance(j, RunRecord) else [] for j in jobs]
    runnable = [j for j in jobs if isinstance(j, Job)]
    total = sum(j.spec.processes for j in runnable)
    done = 0
    for index in range(max((j.spec.processes for j in runnable), default=0)):
        for job, parts in zip(jobs, per_variant, strict=True):
            if not isinstance(job, Job) or index >= job.spec.processes or any(p.status != "ok" for p in parts):
                continue
            this = replace(job, process_index=index)
            if progress:
                progress(done, total, this)
            parts.append(_submit(runner, this, alone=len(jobs) == 1))
            done += 1
    return per_variant


def _submit(runner: Executor, job: Job, *, alone: bool) -> RunRecord:
    try:
        return runner.submit(job)
    except USER_ERRORS as exc:  # found where the job ran (a shape the runtime refuses, a missing device…)
        if alone:
            raise
        return _failed(job.spec, exc, runner.name)


def _ratio(baseline: Sequence[RunRecord], variant: Sequence[RunRecord]) -> Ratio | None:
    from edgebench.engine.stats import paired_ratio_ci

    if baseline is variant or not baseline or not variant:
        return None
    if any(r.status != "ok" or r.summary is None for r in (*baseline, *variant)):
        return None
    rounds = min(len(baseline), len(variant))
    base = [r.summary.latency_median_s for r in baseline[:rounds] if r.summary]
    var = [r.summary.latency_median_s for r in variant[:rounds] if r.summary]
    ci = paired_ratio_ci(base, var)
    return Ratio(ci.ratio, ci.lo, ci.hi, rounds, ci.reason)


def _finish(record: RunRecord) -> RunRecord:
    if record.status != "ok":
        return record
    from edgebench.engine.validity import check_fp16_on_cpu

    note = check_fp16_on_cpu(record)
    return _with_analysis(replace(record, warnings=(*record.warnings, note)) if note else record)


def _with_analysis(record: RunRecord) -> RunRecord:
    """Static analysis totals (params, MACs…) so the Bench Table's columns fill themselves."""
    from edgebench.analysis import analyze_model
    from edgebench.errors import EdgebenchError

    shapes = {t.name: t.shape for t in record.measurements.inputs} if record.measurements else {}
    try:
        source_params = record.model.source_params if record.model else None
        analysis = analyze_model(Path(record.spec.model_path), shapes, source_params=source_params)
        summary: dict[str, Any] = analysis.summary_dict()
    except EdgebenchError as exc:
        note = ValidityWarning(
            "analysis_failed",
            f"static analysis failed: {exc.message}",
            "run `edgebench analyze MODEL` to see why; latency figures are unaffected",
        )
        return replace(record, warnings=(*record.warnings, note))
    from edgebench.energy.combine import with_efficiency

    return with_efficiency(replace(record, analysis=FrozenMap(summary)))  # GOPS/W needs the MACs


def _platform_id(store: Store, hostname: str) -> str | None:
    from edgebench.errors import StoreError

    latest = getattr(store, "latest_platform", None)
    try:
        platform = latest(hostname) if latest else None
    except StoreError:
        return None  # a broken database must not cost the record: put() saves it aside
    return str(platform["id"]) if platform and "id" in platform else None
