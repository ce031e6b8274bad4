"""Energy figures as text: every figure names its sensor and domain and carries its ± (k=2)."""

from __future__ import annotations

from edgebench.records import Energy, RunRecord

_MWH_PER_J = 1000.0 / 3600.0


def energy_headline(energy: Energy) -> str:
    """``1.84 ± 0.11 mJ/inference (rapl package-0, net of 3.2 W idle) · 0.511 mWh/1000 inf``."""
    if energy.energy_per_inference_j is None:
        return f"energy: not measured — {energy.energy_unavailable_reason or 'no sensor'}"
    e, u = energy.energy_per_inference_j, energy.energy_per_inference_uncertainty_j or 0.0
    basis = (
        f"net of {energy.baseline_power_w:.2f} W idle"
        if energy.basis == "net" and energy.baseline_power_w is not None
        else "gross, no idle baseline"
    )
    parts = [
        f"{e * 1e3:.3g} ± {u * 1e3:.2g} mJ/inference ({energy.sensor} {energy.domain}, {basis})",
        f"{e * 1000 * _MWH_PER_J:.3g} ± {u * 1000 * _MWH_PER_J:.2g} mWh/1000 inferences",
    ]
    if energy.mean_power_w is not None:
        peak = f", peak {energy.peak_power_w:.2f} W" if energy.peak_power_w is not None else ""
        parts.append(f"mean {energy.mean_power_w:.2f} W{peak}")
    if energy.inferences_per_j:
        parts.append(f"{energy.inferences_per_j:.3g} inferences/J")
    if energy.efficiency_gops_per_w is not None:
        parts.append(f"{energy.efficiency_gops_per_w:.3g} GOPS/W (2 ops/MAC)")
    return " · ".join(parts)


def energy_lines(record: RunRecord) -> list[str]:
    energy = record.energy
    if energy is None:
        return []
    lines = [energy_headline(energy)]
    if energy.temperature_c:
        hottest = max(energy.temperature_c.items(), key=lambda kv: kv[1])
        lines.append(f"max temperature {hottest[1]:.1f} °C ({hottest[0]})")
    if energy.throttle and energy.throttle.reasons:
        lines.append("throttled: " + "; ".join(energy.throttle.reasons))
    return lines


def timeline_rows(energy: Energy) -> list[tuple[str, str, str, str, str]]:
    """(bucket, throughput, temperature, clock, power) rows of a soak run (minutes; seconds for short runs)."""
    rows = []
    minutes = any(p.duration_s >= 60 for p in energy.timeline)
    for p in energy.timeline:
        end = p.start_s + p.duration_s
        span = f"{p.start_s / 60:.0f}–{end / 60:.0f} min" if minutes else f"{p.start_s:.1f}–{end:.1f} s"
        rows.append(
            (
                span,
                f"{p.throughput_ips:.1f}/s" if p.throughput_ips is not None else "—",
                f"{p.temperature_c:.1f} °C" if p.temperature_c is not None else "—",
                f"{p.frequency_hz / 1e6:.0f} MHz" if p.frequency_hz is not None else "—",
                f"{p.power_w:.2f} W" if p.power_w is not None else "—",
            )
        )
    return rows
