"""Energy over an absolute time interval from timestamped samples, with its uncertainty.

Counters (RAPL, NVML total energy): unwrap at ``wrap_j``, interpolate the counter linearly to the
interval's ends, subtract. Power (INA3221, NVML before Volta, PMIC, external meter): interpolate
to the ends, trapezoid rule in between.

Uncertainty (standard uncertainties added in quadrature; the record stores k=2, ≈95 %):

* counter resolution q: two quantised readings → q/√6;
* counter update interval u: each reading is stale by U(0, u) → P·u/√6;
* interpolation to each end: the power inside the straddling sample interval is unknown; its
  spread is estimated from that interval and its neighbours → (Pmax − Pmin)·Δt/4 per end;
* sampled power: T·s/√N (s the samples' standard deviation, N samples) plus the trapezoid-vs-
  rectangle difference /2 (how much the answer depends on the integration rule);
* power resolution r (the sensor's step, or the last printed digit of an external meter's readings):
  T·r/√12, systematic over the window (it does not average out over samples).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from edgebench.energy.source import Channel

Series = Sequence[tuple[int, float]]  # (unix ns, value)
_S = 1e9


@dataclass(frozen=True)
class Interval:
    energy_j: float
    sigma_j: float  # standard uncertainty (k=1)
    duration_s: float
    mean_power_w: float
    peak_power_w: float | None
    samples: int  # samples strictly inside the interval
    powers_w: tuple[float, ...]  # per-sample-interval powers inside it (for spreads and timelines)
    wraps: int = 0
    uncorrected_wraps: int = 0


class NotCovered(ValueError):  # an outcome (caught), not an error: the samples do not reach the interval
    """The samples do not reach both ends of the interval."""


def unwrap(series: Series, wrap_j: float | None) -> tuple[list[tuple[int, float]], int, int]:
    """Monotonic counter: add ``wrap_j`` at each decrease; without it, a decrease counts as zero energy."""
    out: list[tuple[int, float]] = []
    offset = 0.0
    wraps = uncorrected = 0
    prev: float | None = None
    for t, v in series:
        if prev is not None and v < prev:
            if wrap_j:
                offset += wrap_j
                wraps += 1
            else:
                offset += prev - v
                uncorrected += 1
        prev = v
        out.append((t, v + offset))
    return out, wraps, uncorrected


def counter_interval(series: Series, channel: Channel, t0: int, t1: int) -> Interval:
    data, wraps, uncorrected = unwrap(sorted(series), channel.wrap_j)
    if len(data) < 2 or data[0][0] > t0 or data[-1][0] < t1:
        raise NotCovered("samples do not bracket the window")
    e0, s0 = _at(data, t0)
    e1, s1 = _at(data, t1)
    duration = (t1 - t0) / _S
    energy = e1 - e0
    powers = _interval_powers(data, t0, t1)
    mean_p = energy / duration if duration > 0 else 0.0
    q = channel.resolution or 0.0
    u = channel.update_interval_s or 0.0
    sigma = math.sqrt((q / math.sqrt(6)) ** 2 + (mean_p * u / math.sqrt(6)) ** 2 + s0**2 + s1**2)
    inside = sum(1 for t, _ in data if t0 < t < t1)
    return Interval(
        energy, sigma, duration, mean_p, max(powers, default=None), inside, tuple(powers), wraps, uncorrected
    )


def power_interval(series: Series, channel: Channel, t0: int, t1: int) -> Interval:
    data = sorted(series)
    if len(data) < 2:
        raise NotCovered("fewer than two power samples")
    spacing = statistics.median(b[0] - a[0] for a, b in itertools.pairwise(data))
    # a meter that started late or stopped early: hold its value for up to two sample periods
    if data[0][0] > t0 + 2 * spacing or data[-1][0] < t1 - 2 * spacing:
        raise NotCovered("power samples do not cover the window")
    clipped = [(t0, _value_at(data, t0))] + [(t, p) for t, p in data if t0 < t < t1] + [(t1, _value_at(data, t1))]
    duration = (t1 - t0) / _S
    trap = sum((b[0] - a[0]) / _S * (a[1] + b[1]) / 2 for a, b in itertools.pairwise(clipped))
    rect = sum((b[0] - a[0]) / _S * a[1] for a, b in itertools.pairwise(clipped))
    values = [p for _, p in clipped]
    n = len(values)
    spread = statistics.stdev(values) if n > 1 else 0.0
    res = channel.resolution or printed_step(values)
    # Quantisation of a steady reading is one systematic offset within ±res/2, not noise that averages
    # out over samples: res/√12 for the whole window (a constant 5.0 W meter is not "± 0 J").
    sigma = math.sqrt(
        (duration * spread / math.sqrt(n)) ** 2 + ((trap - rect) / 2) ** 2 + (duration * res / math.sqrt(12)) ** 2
    )
    inside = len(clipped) - 2
    return Interval(trap, sigma, duration, trap / duration if duration > 0 else 0.0, max(values), inside, tuple(values))


def printed_step(values: Sequence[float]) -> float:
    """A meter's resolution when it does not say: the last printed digit of its coarsest reading.

    ``5.0`` → 0.1 W, ``2.521`` → 0.001 W. Parsed floats lose trailing zeros (``5.00`` reads as 5.0, a
    coarser step: a larger uncertainty); an integer meter (``5``) reads as 0.1 W too, which understates
    its 1 W step (docs/energy.md says so).
    """
    steps = []
    for v in values:
        text = repr(float(v))
        if "e" in text or "n" in text:  # 1e-05, inf, nan: no decimal digits to read
            continue
        decimals = len(text.partition(".")[2])  # repr keeps one decimal: "5" and "5.0" both read 0.1
        steps.append(10.0**-decimals)
    return max(steps) if steps else 0.0


def interval(series: Series, channel: Channel, t0: int, t1: int) -> Interval:
    if channel.kind == "energy":
        return counter_interval(series, channel, t0, t1)
    return power_interval(series, channel, t0, t1)


def idle_power(base: Interval) -> tuple[float, float]:
    """Idle power and its standard uncertainty: the mean's own error and the spread of its sub-intervals."""
    powers = base.powers_w
    sem = statistics.stdev(powers) / math.sqrt(len(powers)) if len(powers) > 1 else 0.0
    own = base.sigma_j / base.duration_s if base.duration_s > 0 else 0.0
    return base.mean_power_w, math.sqrt(sem**2 + own**2)


def _at(data: Sequence[tuple[int, float]], t: int) -> tuple[float, float]:
    """Counter value at ``t`` (linear between the bracketing samples) and the interpolation's σ."""
    k = _bracket(data, t)
    (ta, va), (tb, vb) = data[k], data[k + 1]
    if tb == ta:
        return va, 0.0
    value = va + (vb - va) * (t - ta) / (tb - ta)
    neighbours = [
        (data[i + 1][1] - data[i][1]) / ((data[i + 1][0] - data[i][0]) / _S)
        for i in (k - 1, k, k + 1)
        if 0 <= i < len(data) - 1 and data[i + 1][0] > data[i][0]
    ]
    spread = max(neighbours) - min(neighbours) if neighbours else 0.0
    return value, spread * ((tb - ta) / _S) / 4


def _value_at(data: Sequence[tuple[int, float]], t: int) -> float:
    if t <= data[0][0]:
        return data[0][1]
    if t >= data[-1][0]:
        return data[-1][1]
    k = _bracket(data, t)
    (ta, va), (tb, vb) = data[k], data[k + 1]
    return va if tb == ta else va + (vb - va) * (t - ta) / (tb - ta)


def _bracket(data: Sequence[tuple[int, float]], t: int) -> int:
    import bisect

    k = bisect.bisect_right([d[0] for d in data], t) - 1
    return max(0, min(k, len(data) - 2))


def _interval_powers(data: Sequence[tuple[int, float]], t0: int, t1: int) -> list[float]:
    powers = []
    for a, b in itertools.pairwise(data):
        if b[0] > t0 and a[0] < t1 and b[0] > a[0]:
            powers.append((b[1] - a[1]) / ((b[0] - a[0]) / _S))
    return powers
