"""From a sampler trace to the record's ``Energy`` block: readings, per-inference figures, baseline,
throttling, soak timeline — and the warnings that say what to do.

Per-inference figures come from one *primary* reading (a whole-device domain, chosen by
``select.PRIORITY``); other domains are listed as their own readings and never added to it.
An inference is one batch item (as throughput_ips counts them).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from edgebench._frozen import FrozenMap
from edgebench.energy.integrate import Interval, NotCovered, idle_power, interval
from edgebench.energy.run import Trace
from edgebench.energy.select import PRIORITY
from edgebench.energy.source import Channel
from edgebench.energy.throttle import detect
from edgebench.records import Energy, EnergyReading, RunSpec, TimelinePoint, ValidityWarning, Window

K = 2.0  # coverage factor of every stored uncertainty (≈95 %)
SHORT_WINDOW_FACTOR = 10  # a window under 10 sensor updates (or sample periods) is flagged
_SENSOR_OF_SOURCE = {"external": "external", "jetson": "ina3221", "rpi": "vcgencmd", "rapl": "rapl", "nvml": "nvml"}


def build_energy(
    trace: Trace,
    spec: RunSpec,
    window: Window,
    latencies_ns: Sequence[int],
    batch: int,
    baseline: tuple[int, int] | None,
) -> tuple[Energy, list[ValidityWarning]]:
    t0, t1 = window.start_unix_ns, window.end_unix_ns
    inferences = len(latencies_ns) * max(batch, 1)
    warnings: list[ValidityWarning] = []
    readings = [
        _reading(ch, trace, t0, t1, baseline, warnings) for ch in trace.channels if ch.kind in ("energy", "power")
    ]
    readings += [EnergyReading(s, "-", "absent", reason=r, fix=f) for s, r, f in trace.absent if s != "thermal"]
    primary = _primary(trace.channels, readings)
    throttle = detect(trace.channels, trace.samples, t0, t1, latencies_ns)
    if throttle.reasons:
        warnings.append(
            ValidityWarning(
                "throttling", "throttling during the run: " + "; ".join(throttle.reasons), throttle.advice or ""
            )
        )
    energy = Energy(
        readings=tuple(readings),
        temperature_c=FrozenMap(_temperatures(trace, t0, t1, peak=True)),
        temperature_start_c=FrozenMap(_temperatures(trace, t0, t1, peak=False)),
        throttled=bool(throttle.reasons),
        throttle=throttle,
        sample_hz=spec.sample_hz,
        window_s=(t1 - t0) / 1e9,
        inferences=inferences,
        baseline_s=(baseline[1] - baseline[0]) / 1e9 if baseline else None,
        timeline=timeline(trace, t0, t1, latencies_ns, batch, primary) if spec.soak else (),
    )
    if primary is None:
        reasons = "; ".join(f"{r.sensor} {r.domain}: {r.reason}" for r in readings if r.reason) or "no energy channel"
        return replace(energy, energy_unavailable_reason=f"no energy sensor measured the window ({reasons})"), warnings
    if primary.net_energy_j is not None and abs(primary.net_energy_j) <= (primary.net_energy_uncertainty_j or 0.0):
        warnings.append(
            ValidityWarning(
                "energy_net_unresolved",
                f"{primary.sensor} {primary.domain}: the energy above idle ({primary.net_energy_j:.3g} J) is within "
                f"its uncertainty (± {primary.net_energy_uncertainty_j:.2g} J): not distinguishable from idle",
                "run longer (--min-time / --duration), lengthen --idle-baseline, or use a sensor closer to the load",
            )
        )
    return _per_inference(energy, primary, inferences), warnings


def _reading(
    ch: Channel,
    trace: Trace,
    t0: int,
    t1: int,
    baseline: tuple[int, int] | None,
    warnings: list[ValidityWarning],
) -> EnergyReading:
    series = trace.samples.get(ch.key, [])
    role: Literal["total", "component"] = "component" if ch.role == "component" else "total"
    method = "counter" if ch.kind == "energy" else "power_integration"
    try:
        got = interval(series, ch, t0, t1)
    except NotCovered as exc:
        return EnergyReading(ch.sensor, ch.domain, "absent", reason=str(exc), role=role, method=method)
    base = _baseline(series, ch, baseline)
    idle_w, idle_sigma = idle_power(base) if base else (None, None)
    net = got.energy_j - idle_w * got.duration_s if idle_w is not None else None
    net_sigma = math.hypot(got.sigma_j, got.duration_s * idle_sigma) if idle_sigma is not None else None
    _window_checks(ch, got, series, warnings)
    return EnergyReading(
        sensor=ch.sensor,
        domain=ch.domain,
        status="measured",
        energy_j=got.energy_j,
        mean_power_w=got.mean_power_w,
        duration_s=got.duration_s,
        role=role,
        method=method,
        energy_uncertainty_j=K * got.sigma_j,
        peak_power_w=got.peak_power_w,
        samples=got.samples,
        update_interval_s=ch.update_interval_s,
        resolution=ch.resolution,
        baseline_power_w=idle_w,
        baseline_power_uncertainty_w=K * idle_sigma if idle_sigma is not None else None,
        net_energy_j=net,
        net_energy_uncertainty_j=K * net_sigma if net_sigma is not None else None,
        reason=ch.note,
    )


def _baseline(series: Sequence[tuple[int, float]], ch: Channel, baseline: tuple[int, int] | None) -> Interval | None:
    if baseline is None:
        return None
    try:
        return interval(series, ch, *baseline)
    except NotCovered:
        return None


def _window_checks(ch: Channel, got: Interval, series: Sequence[tuple[int, float]], out: list[ValidityWarning]) -> None:
    period = _median_spacing_s(series)
    floor = max(ch.update_interval_s or 0.0, period or 0.0)
    if floor and got.duration_s < SHORT_WINDOW_FACTOR * floor:
        out.append(
            ValidityWarning(
                "energy_window_short",
                f"{ch.sensor} {ch.domain}: the {got.duration_s:.2f} s window spans fewer than {SHORT_WINDOW_FACTOR} "
                f"sensor updates/samples ({floor * 1e3:.0f} ms each): its energy is dominated by the ends",
                f"lengthen the run: --min-time {SHORT_WINDOW_FACTOR * floor:.0f} or more (MLPerf Tiny uses ≥ 10 s)",
            )
        )
    if got.uncorrected_wraps:
        out.append(
            ValidityWarning(
                "energy_counter_wrap",
                f"{ch.sensor} {ch.domain}: the counter wrapped {got.uncorrected_wraps}× and its range is unknown",
                "make max_energy_range_uj readable (sudo chmod a+r …/max_energy_range_uj) and rerun",
            )
        )


def _median_spacing_s(series: Sequence[tuple[int, float]]) -> float | None:
    import statistics

    if len(series) < 2:
        return None
    return statistics.median(b[0] - a[0] for a, b in itertools.pairwise(series)) / 1e9


def _primary(channels: Sequence[Channel], readings: Sequence[EnergyReading]) -> EnergyReading | None:
    measured = {(r.sensor, r.domain): r for r in readings if r.status == "measured"}
    order = {sensor: i for i, sensor in enumerate(_SENSOR_OF_SOURCE[s] for s in PRIORITY)}
    candidates = [ch for ch in channels if ch.primary and (ch.sensor, ch.domain) in measured]
    if not candidates:
        return None
    best = min(candidates, key=lambda ch: order.get(ch.sensor, len(order)))
    return measured[(best.sensor, best.domain)]


def _per_inference(energy: Energy, primary: EnergyReading, inferences: int) -> Energy:
    assert primary.energy_j is not None
    gross = primary.energy_j / inferences if inferences else None
    net = primary.net_energy_j / inferences if inferences and primary.net_energy_j is not None else None
    use_net = net is not None
    figure = net if use_net else gross
    sigma = primary.net_energy_uncertainty_j if use_net else primary.energy_uncertainty_j
    return replace(
        energy,
        sensor=primary.sensor,
        domain=primary.domain,
        basis="net" if use_net else "gross",
        energy_per_inference_j=figure,
        energy_per_inference_uncertainty_j=sigma / inferences if sigma is not None and inferences else None,
        gross_energy_per_inference_j=gross,
        net_energy_per_inference_j=net,
        inferences_per_j=1.0 / figure if figure and figure > 0 else None,
        mean_power_w=primary.mean_power_w,
        peak_power_w=primary.peak_power_w,
        baseline_power_w=primary.baseline_power_w,
    )


def _temperatures(trace: Trace, t0: int, t1: int, *, peak: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    for ch in trace.channels:
        if ch.kind != "temperature":
            continue
        values = [v for t, v in trace.samples.get(ch.key, []) if t0 <= t <= t1]
        if values:
            out[ch.domain] = max(values) if peak else values[0]
    return out


def timeline(
    trace: Trace,
    t0: int,
    t1: int,
    latencies_ns: Sequence[int],
    batch: int,
    primary: EnergyReading | None,
) -> tuple[TimelinePoint, ...]:
    """Per-minute buckets (a third of the window for runs under 3 minutes) of a sustained run.

    Sample times are the cumulative latencies scaled to the window's absolute length (stop checks,
    excluded from the latencies, are spread evenly): exact enough for minute-sized buckets.
    """
    span = t1 - t0
    total = sum(latencies_ns)
    if span <= 0 or not latencies_ns or total <= 0:
        return ()
    bucket = 60 * 10**9 if span >= 180 * 10**9 else math.ceil(span / 3)
    scale = span / total
    counts: dict[int, int] = {}
    elapsed = 0
    for lat in latencies_ns:
        elapsed += lat
        index = min(int(elapsed * scale) // bucket, (span - 1) // bucket)
        counts[index] = counts.get(index, 0) + 1
    temps = [c for c in trace.channels if c.kind == "temperature"]
    freq = _clock_channel(trace.channels)
    power_ch = next(
        (c for c in trace.channels if primary and (c.sensor, c.domain) == (primary.sensor, primary.domain)), None
    )
    points = []
    for index in range((span - 1) // bucket + 1):
        b0, b1 = t0 + index * bucket, min(t0 + (index + 1) * bucket, t1)
        seconds = (b1 - b0) / 1e9
        n = counts.get(index, 0)
        points.append(
            TimelinePoint(
                start_s=(b0 - t0) / 1e9,
                duration_s=seconds,
                inferences=n * max(batch, 1),
                throughput_ips=n * max(batch, 1) / seconds if seconds > 0 else None,
                temperature_c=_hottest_mean(trace, temps, b0, b1),
                frequency_hz=_mean(trace, freq, b0, b1),
                power_w=_bucket_power(trace, power_ch, b0, b1),
            )
        )
    return tuple(points)


def _clock_channel(channels: Sequence[Channel]) -> Channel | None:
    rank = {"vcgencmd": 0, "nvml": 1, "devfreq": 2, "cpufreq": 3}
    clocks = [c for c in channels if c.kind == "frequency"]
    return min(clocks, key=lambda c: rank.get(c.sensor, 9)) if clocks else None


def _mean(trace: Trace, ch: Channel | None, b0: int, b1: int) -> float | None:
    values = [v for t, v in trace.samples.get(ch.key, []) if b0 <= t <= b1] if ch else []
    return sum(values) / len(values) if values else None


def _hottest_mean(trace: Trace, temps: Sequence[Channel], b0: int, b1: int) -> float | None:
    means = [m for m in (_mean(trace, c, b0, b1) for c in temps) if m is not None]
    return max(means) if means else None


def _bucket_power(trace: Trace, ch: Channel | None, b0: int, b1: int) -> float | None:
    if ch is None:
        return None
    try:
        return interval(trace.samples.get(ch.key, []), ch, b0, b1).mean_power_w
    except NotCovered:
        return None
