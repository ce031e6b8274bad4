"""Combine the records of one spec's fresh processes into one record (two-level statistics).

All samples are kept, in execution order, in ``measurements.latencies_ns``; ``record.processes``
says which slice came from which process and under which environment.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import replace

from edgebench.energy.combine import combine_energy
from edgebench.engine.summary import build_summary
from edgebench.records import Measurements, ProcessRun, RunRecord, Window

_STOP_ORDER = {"max_time": 0, "minimums_met": 1, "converged": 2}  # the weakest reason wins


def process_run(index: int, start: int, record: RunRecord) -> ProcessRun:
    m, s = record.measurements, record.summary
    assert m is not None and s is not None
    return ProcessRun(
        index=index,
        sample_start=start,
        sample_count=len(m.latencies_ns),
        median_s=s.latency_median_s,
        ci95_s=s.latency_ci95_s,
        load_time_s=m.load_time_s,
        first_inference_s=m.first_inference_s,
        window_wall_s=m.window_wall_s,
        stop_reason=m.stop_reason,
        peak_rss_bytes=m.memory.peak_rss_bytes,
        environment=record.environment,
        window=m.window,
    )


def combine(records: Sequence[RunRecord]) -> RunRecord:
    """One record from the per-process records of one spec; the first failure, if any, wins."""
    failed = [r for r in records if r.status != "ok"]
    if failed:
        return failed[0]
    first = records[0]
    if len(records) == 1:
        return replace(first, processes=(process_run(0, 0, first),))
    parts = [r.measurements for r in records]
    assert all(p is not None for p in parts) and first.model is not None and first.summary is not None
    ms: list[Measurements] = [p for p in parts if p is not None]
    starts = [sum(len(m.latencies_ns) for m in ms[:i]) for i in range(len(ms))]
    pooled = _pool(ms)
    summary, warnings = build_summary(
        pooled,
        first.spec,
        first.model,
        first.environment,
        batch=first.summary.batch,
        batch_source=first.summary.batch_source,
        process_slices=[(s, len(m.latencies_ns)) for s, m in zip(starts, ms, strict=True)],
        load_time_s=statistics.median(m.load_time_s for m in ms),
        first_inference_s=statistics.median(m.first_inference_s for m in ms),
    )
    per_process_notes = [w for r in records for w in r.warnings if w.code == "input_note"][:1]
    # energy and throttling warnings are each process's own findings: keep them, once per code+message
    sensed = {(w.code, w.message): w for r in records for w in r.warnings if w.code in _SENSOR_WARNINGS}
    return replace(
        first,
        measurements=pooled,
        summary=summary,
        warnings=tuple(warnings + per_process_notes + list(sensed.values())),
        energy=combine_energy([r.energy for r in records]),
        processes=tuple(process_run(i, s, r) for i, (s, r) in enumerate(zip(starts, records, strict=True))),
        artifacts=tuple({a.sha256: a for r in records for a in r.artifacts}.values()),
    )


_SENSOR_WARNINGS = frozenset({"throttling", "energy_net_unresolved", "energy_window_short", "energy_counter_wrap"})


def _pool(ms: Sequence[Measurements]) -> Measurements:
    first = ms[0]
    cpu = [m.cpu_time_s for m in ms]
    peaks = [m.memory.peak_rss_bytes for m in ms if m.memory.peak_rss_bytes is not None]
    windows = [m.window for m in ms if m.window is not None]
    overheads = [m.window_overhead_s for m in ms if m.window_overhead_s is not None]
    return replace(
        first,
        latencies_ns=tuple(x for m in ms for x in m.latencies_ns),
        warmup_latencies_ns=tuple(x for m in ms for x in m.warmup_latencies_ns),
        window_wall_s=sum(m.window_wall_s for m in ms),
        cpu_time_s=sum(c for c in cpu if c is not None) if all(c is not None for c in cpu) else None,
        # peak of the worst process: each process is a complete deployment of the model
        memory=replace(first.memory, peak_rss_bytes=max(peaks)) if peaks else first.memory,
        stop_reason=min((m.stop_reason for m in ms), key=_STOP_ORDER.__getitem__),
        timer_resolution_s=max(m.timer_resolution_s for m in ms),
        window=Window(
            windows[0].start_unix_ns,
            windows[-1].end_unix_ns,
            windows[0].start_monotonic_ns,
            windows[-1].end_monotonic_ns,
        )
        if windows
        else None,
        window_overhead_s=sum(overheads) if overheads else None,
        device_latencies_ns=tuple(x for m in ms for x in m.device_latencies_ns),
        stop_checks=sum(m.stop_checks for m in ms),
    )
