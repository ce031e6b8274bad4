"""Energy across a run's processes, and efficiency from the model's MACs (done in the parent).

Each process measured its own window; pooled, energies and durations add, independent
uncertainties add in quadrature, and the per-inference figures are recomputed from the sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from edgebench.records import Energy, EnergyReading, RunRecord

OPS_PER_MAC = 2


def combine_energy(blocks: Sequence[Energy | None]) -> Energy | None:
    """One Energy from the per-process blocks; any process without a measurement makes it unmeasured."""
    present = [b for b in blocks if b is not None]
    if not present or len(present) == 1:
        return present[0] if present else None
    first = present[0]
    if any(b.energy_per_inference_j is None for b in present):
        return next(b for b in present if b.energy_per_inference_j is None)
    readings = tuple(_pool([b.readings[i] for b in present]) for i in range(len(first.readings)))
    inferences = sum(b.inferences or 0 for b in present)
    primary = next(r for r in readings if (r.sensor, r.domain) == (first.sensor, first.domain))
    use_net = first.basis == "net" and primary.net_energy_j is not None
    total = primary.net_energy_j if use_net else primary.energy_j
    sigma = primary.net_energy_uncertainty_j if use_net else primary.energy_uncertainty_j
    assert total is not None and primary.energy_j is not None
    throttled = any(b.throttled for b in present)
    return replace(
        first,
        readings=readings,
        inferences=inferences,
        energy_per_inference_j=total / inferences,
        energy_per_inference_uncertainty_j=sigma / inferences if sigma is not None else None,
        gross_energy_per_inference_j=primary.energy_j / inferences,
        net_energy_per_inference_j=primary.net_energy_j / inferences if primary.net_energy_j is not None else None,
        inferences_per_j=inferences / total if total else None,
        mean_power_w=primary.mean_power_w,
        peak_power_w=primary.peak_power_w,
        window_s=sum(b.window_s or 0.0 for b in present),
        throttled=throttled,
        throttle=next((b.throttle for b in present if b.throttled), first.throttle),
        timeline=tuple(p for b in present for p in b.timeline),
    )


def _pool(parts: Sequence[EnergyReading]) -> EnergyReading:
    first = parts[0]
    if any(p.status != "measured" or p.energy_j is None for p in parts):
        return next(p for p in parts if p.status != "measured" or p.energy_j is None)
    energy = sum(p.energy_j or 0.0 for p in parts)
    duration = sum(p.duration_s or 0.0 for p in parts)
    nets = [p.net_energy_j for p in parts]
    base = [p.baseline_power_w for p in parts]
    return replace(
        first,
        energy_j=energy,
        duration_s=duration,
        mean_power_w=energy / duration if duration else None,
        peak_power_w=max((p.peak_power_w for p in parts if p.peak_power_w is not None), default=None),
        energy_uncertainty_j=_quadrature([p.energy_uncertainty_j for p in parts]),
        samples=sum(p.samples for p in parts),
        net_energy_j=sum(n for n in nets if n is not None) if all(n is not None for n in nets) else None,
        net_energy_uncertainty_j=_quadrature([p.net_energy_uncertainty_j for p in parts]),
        baseline_power_w=sum(b for b in base if b is not None) / len(base)
        if all(b is not None for b in base)
        else None,
        baseline_power_uncertainty_w=_quadrature([p.baseline_power_uncertainty_w for p in parts], mean=True),
    )


def _quadrature(values: Sequence[float | None], *, mean: bool = False) -> float | None:
    if any(v is None for v in values):
        return None
    total = math.sqrt(sum((v or 0.0) ** 2 for v in values))
    return total / len(values) if mean else total


def with_efficiency(record: RunRecord) -> RunRecord:
    """GOPS/W = 2 × MACs per inference ÷ joules per inference ÷ 1e9 (MACs from record.analysis)."""
    energy, analysis = record.energy, record.analysis
    if energy is None or energy.energy_per_inference_j is None or not analysis or record.summary is None:
        return record
    macs = analysis.get("macs")
    if not isinstance(macs, int | float) or isinstance(macs, bool) or macs <= 0:
        return record
    ops = OPS_PER_MAC * float(macs) / max(record.summary.batch, 1)
    gops_per_w = ops / energy.energy_per_inference_j / 1e9 if energy.energy_per_inference_j > 0 else None
    return replace(record, energy=replace(energy, ops_per_inference=ops, efficiency_gops_per_w=gops_per_w))
