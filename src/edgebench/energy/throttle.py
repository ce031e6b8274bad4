"""Throttling evidence over the measured window, each reason with what to do about it.

Evidence: a frequency channel whose last-third median is > 10 % below its first-third median; a
temperature reaching its zone's trip point; Raspberry Pi ``get_throttled`` bits set during the run
(sticky bits compared before/after); NVML power/thermal clock-event reasons; throughput falling by
> 10 % between the first and last third of the samples.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from edgebench.collectors.nvml import THROTTLING_REASONS, decode_reasons
from edgebench.collectors.rpi import decode_throttled
from edgebench.energy.source import Channel
from edgebench.records import ThrottleInfo

DROP_PCT = 10.0
_MIN_PER_THIRD = 30  # throughput drift is judged only with enough samples in each third
_ADVICE = {
    "frequency": "set the governor to performance (cpupower frequency-set -g performance) or lock clocks "
    "(nvidia-smi -lgc / jetson_clocks)",
    "thermal": "let the device cool down (--cooldown), add a fan or heatsink, or shorten the run",
    "pi": "use an adequate power supply (under-voltage) and cooling; check `vcgencmd get_throttled`",
    "nvml": "check the GPU's power limit and cooling (nvidia-smi -q -d PERFORMANCE)",
    "drift": "check for throttling or background load; rerun with --cooldown or a longer warm-up",
}

Samples = Mapping[str, Sequence[tuple[int, float]]]


def detect(
    channels: Sequence[Channel], samples: Samples, t0: int, t1: int, latencies_ns: Sequence[int]
) -> ThrottleInfo:
    reasons: list[str] = []
    advice: list[str] = []
    drop = _frequency(channels, samples, t0, t1, reasons, advice)
    max_temp, trip = _thermal(channels, samples, t0, t1, reasons, advice)
    before, after = _pi(channels, samples, t0, t1, reasons, advice)
    nvml = _nvml(channels, samples, t0, t1, reasons, advice)
    drift = throughput_drift_pct(latencies_ns)
    if drift is not None and drift < -DROP_PCT:
        reasons.append(f"throughput fell {-drift:.0f}% from the first to the last third of the run")
        advice.append(_ADVICE["drift"])
    return ThrottleInfo(
        reasons=tuple(reasons),
        advice="; ".join(dict.fromkeys(advice)) or None,
        frequency_drop_pct=drop,
        max_temperature_c=max_temp,
        trip_point_c=trip,
        pi_throttled_before=before,
        pi_throttled_after=after,
        nvml_reasons=nvml,
        throughput_drift_pct=drift,
    )


def throughput_drift_pct(latencies_ns: Sequence[int]) -> float | None:
    """Throughput change from the first to the last third (median-based; negative: slower)."""
    third = len(latencies_ns) // 3
    if third < _MIN_PER_THIRD:
        return None
    first = statistics.median(latencies_ns[:third])
    last = statistics.median(latencies_ns[-third:])
    return (first / last - 1.0) * 100.0 if last > 0 else None


def _inside(series: Sequence[tuple[int, float]], t0: int, t1: int) -> list[float]:
    return [v for t, v in series if t0 <= t <= t1]


def _frequency(
    channels: Sequence[Channel], samples: Samples, t0: int, t1: int, reasons: list[str], advice: list[str]
) -> float | None:
    worst: float | None = None
    for ch in channels:
        values = _inside(samples.get(ch.key, ()), t0, t1)
        third = len(values) // 3
        if ch.kind != "frequency" or third < 1:
            continue
        first, last = statistics.median(values[:third]), statistics.median(values[-third:])
        drop = (1.0 - last / first) * 100.0 if first > 0 else 0.0
        worst = drop if worst is None else max(worst, drop)
        if drop > DROP_PCT:
            reasons.append(f"{ch.sensor} {ch.domain} clock fell {drop:.0f}% ({first / 1e6:.0f} → {last / 1e6:.0f} MHz)")
            advice.append(_ADVICE["frequency"])
    return worst


def _thermal(
    channels: Sequence[Channel], samples: Samples, t0: int, t1: int, reasons: list[str], advice: list[str]
) -> tuple[float | None, float | None]:
    hottest: float | None = None
    crossed: float | None = None
    for ch in channels:
        values = _inside(samples.get(ch.key, ()), t0, t1)
        if ch.kind != "temperature" or not values:
            continue
        peak = max(values)
        hottest = peak if hottest is None else max(hottest, peak)
        if ch.trip_c is not None and peak >= ch.trip_c:
            crossed = ch.trip_c if crossed is None else min(crossed, ch.trip_c)
            reasons.append(f"{ch.domain} reached {peak:.1f} °C (trip point {ch.trip_c:.1f} °C)")
            advice.append(_ADVICE["thermal"])
    return hottest, crossed


def _pi(
    channels: Sequence[Channel], samples: Samples, t0: int, t1: int, reasons: list[str], advice: list[str]
) -> tuple[int | None, int | None]:
    ch = next((c for c in channels if c.kind == "throttle" and c.sensor == "vcgencmd"), None)
    series = samples.get(ch.key, ()) if ch else ()
    if not series:
        return None, None
    before = int(series[0][1])
    after = int(series[-1][1])
    during = 0
    for value in _inside(series, t0, t1):
        during |= int(value) & 0xF  # "now" bits seen while measuring
    new = (after & ~before & 0xF0000) | during
    if new:
        reasons.append("Raspberry Pi firmware: " + ", ".join(decode_throttled(new)))
        advice.append(_ADVICE["pi"])
    return before, after


def _nvml(
    channels: Sequence[Channel], samples: Samples, t0: int, t1: int, reasons: list[str], advice: list[str]
) -> tuple[str, ...]:
    bits = 0
    for ch in channels:
        if ch.kind == "throttle" and ch.sensor == "nvml":
            for value in _inside(samples.get(ch.key, ()), t0, t1):
                bits |= int(value)
    named = decode_reasons(bits & THROTTLING_REASONS)
    if named:
        reasons.append("NVIDIA clock-event reasons: " + ", ".join(named))
        advice.append(_ADVICE["nvml"])
    return decode_reasons(bits)
