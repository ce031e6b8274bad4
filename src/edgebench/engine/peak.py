"""Server ``--find-peak``: the highest target QPS that LoadGen still calls VALID.

LoadGen's own search (FindPeakPerformance mode): double the target until a run fails, then bisect
between the last VALID and the first INVALID target until they are within ``precision`` of each
other. A first run that already fails halves instead, until one passes. Every step is a full
LoadGen run and a stored record (tagged ``find-peak``, grouped by one ``sweep_id``), so the search
can be audited and each step's percentiles read back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from edgebench._frozen import FrozenMap
from edgebench.errors import UsageError
from edgebench.records import RunRecord, RunSpec

MIN_QPS = 0.01  # below this a bound is simply not meetable on this machine: stop halving


@dataclass(frozen=True)
class PeakStep:
    target_qps: float
    valid: bool | None  # None: the run failed (no LoadGen verdict)
    record_id: str
    latency_s: float | None  # LoadGen's latency at the target percentile
    completed_qps: float | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Peak:
    peak_qps: float | None  # the highest VALID target; None when no step passed
    latency_bound_s: float | None
    percentile: float  # the percentile that must meet the bound (server target_percentile)
    steps: tuple[PeakStep, ...]
    records: tuple[RunRecord, ...]
    stop_reason: str  # "converged", "max_steps", "no_valid_rate", "failed"


def find_peak(
    spec: RunSpec, run: Callable[[RunSpec], RunRecord], *, precision: float = 0.05, max_steps: int = 12
) -> Peak:
    """Search the server scenario's ``target_qps``; ``run`` measures and stores one spec."""
    if spec.scenario != "server":
        raise UsageError(
            f"--find-peak searches the server scenario, not {spec.scenario!r}", hint="add --scenario server"
        )
    if not 0 < precision < 1 or max_steps < 1:
        raise UsageError("find-peak needs 0 < precision < 1 and max_steps ≥ 1", hint="e.g. precision=0.05")
    qps = float(spec.scenario_options.get("target_qps", 10.0))  # type: ignore[arg-type]
    sweep = spec.sweep_id or f"peak-{uuid.uuid4().hex[:8]}"
    bound, pct = _bound(spec), _percentile(spec)
    low: float | None = None  # highest VALID so far
    high: float | None = None  # lowest INVALID so far
    steps: list[PeakStep] = []
    records: list[RunRecord] = []
    while len(steps) < max_steps:
        record = run(_at(spec, qps, sweep, len(steps)))
        step = _step(qps, record, pct)
        steps.append(step)
        records.append(record)
        if step.valid is None:
            return Peak(low, bound, pct, tuple(steps), tuple(records), "failed")
        low, high = (max(qps, low or 0.0), high) if step.valid else (low, min(qps, high or qps))
        if low is not None and high is not None and (high - low) <= precision * high:
            return Peak(low, bound, pct, tuple(steps), tuple(records), "converged")
        qps = _next(low, high)
        if qps < MIN_QPS:
            return Peak(None, bound, pct, tuple(steps), tuple(records), "no_valid_rate")
    return Peak(low, bound, pct, tuple(steps), tuple(records), "max_steps")


def _next(low: float | None, high: float | None) -> float:
    if high is None:
        assert low is not None
        return low * 2  # still passing: double
    if low is None:
        return high / 2  # never passed yet: halve
    return (low + high) / 2


def _at(spec: RunSpec, qps: float, sweep: str, index: int) -> RunSpec:
    options = dict(spec.scenario_options)
    options["target_qps"] = qps
    return replace(
        spec,
        scenario_options=FrozenMap(options),
        sweep_id=sweep,
        tags=(*spec.tags, "find-peak", f"find-peak-step={index + 1}"),
    )


def _bound(spec: RunSpec) -> float | None:
    value = spec.scenario_options.get("latency_bound_s")
    return float(value) if isinstance(value, int | float) else None


def _percentile(spec: RunSpec) -> float:
    value = spec.scenario_options.get("target_percentile", 0.99)
    return float(value) if isinstance(value, int | float) else 0.99


def _key(percentile: float) -> str:
    return f"p{percentile * 100:g}"  # LoadGen's names: p90, p99, p99.9


def _step(qps: float, record: RunRecord, percentile: float) -> PeakStep:
    result: Any = record.scenario.result if record.scenario is not None else {}
    valid = result.get("valid") if record.status == "ok" else None
    latency = result.get("latency_s") or {}
    reasons = tuple(str(r) for r in result.get("invalid_reasons") or ())
    if record.status != "ok" and record.error is not None:
        reasons = (f"{record.error.type}: {record.error.message}",)
    return PeakStep(
        qps,
        bool(valid) if valid is not None else None,
        record.id,
        latency.get(_key(percentile)),
        result.get("completed_samples_per_s"),
        reasons,
    )


def peak_to_dict(peak: Peak) -> dict[str, Any]:
    return {
        "peak_qps": peak.peak_qps,
        "latency_bound_s": peak.latency_bound_s,
        "percentile": peak.percentile,
        "stop_reason": peak.stop_reason,
        "steps": [
            {
                "target_qps": s.target_qps,
                "valid": s.valid,
                "record_id": s.record_id,
                "latency_s": s.latency_s,
                "completed_qps": s.completed_qps,
                "reasons": list(s.reasons),
            }
            for s in peak.steps
        ],
    }


def render_peak(peak: Peak) -> str:
    """Plain text: one line per step, then the peak."""
    name = _key(peak.percentile)
    lines = [f"step  target QPS  result   {name:<9}  completed QPS  reason"]
    for i, s in enumerate(peak.steps, 1):
        verdict = {True: "VALID", False: "INVALID", None: "FAILED"}[s.valid]
        shown = f"{s.latency_s * 1e3:.2f} ms" if s.latency_s is not None else "–"
        done = f"{s.completed_qps:.2f}" if s.completed_qps is not None else "–"
        lines.append(f"{i:>4}  {s.target_qps:>10.2f}  {verdict:<7}  {shown:<9}  {done:>13}  {'; '.join(s.reasons)}")
    bound = f" ({name} ≤ {peak.latency_bound_s * 1e3:g} ms)" if peak.latency_bound_s else ""
    head = f"{peak.peak_qps:.2f} QPS" if peak.peak_qps is not None else "none (no step was VALID)"
    lines.append(f"Peak server QPS{bound}: {head} · search stopped: {peak.stop_reason}")
    return "\n".join(lines)
