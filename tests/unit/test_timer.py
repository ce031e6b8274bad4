"""edgebench.engine.timer on simulated clocks with known steps and read costs, and on the real clocks."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from edgebench.engine.timer import FALLBACK_STEP_NS, clock_read_cost_ns, clock_step_ns


class SimulatedClock:
    """A clock whose true time advances by a random read cost per call and that reports whole ticks.

    ``tick_ns`` may be fractional (a 24 MHz counter is 41.667 ns): the reported value is the tick count
    times the tick, floored to integer ns, as the kernel's conversion does.
    """

    def __init__(self, tick_ns: float, read_ns: float, jitter_ns: float, seed: int = 0) -> None:
        self.tick, self.read, self.jitter = tick_ns, read_ns, jitter_ns
        self.rng = np.random.default_rng(seed)
        self.now = 1e9 + float(self.rng.uniform(0, tick_ns))  # arbitrary phase

    def __call__(self) -> int:
        self.now += max(0.0, self.read + self.jitter * float(self.rng.standard_normal()))
        return math.floor(math.floor(self.now / self.tick) * self.tick)


@pytest.mark.parametrize(
    ("tick", "read", "jitter", "expected"),
    [
        (1.0, 40.0, 8.0, 1),  # a 1 ns clock read every ~40 ns: the old method reported ~40
        (10.0, 45.0, 10.0, 10),  # an integral 10 ns step, every read advances: gcd of the differences
        (10.02, 50.0, 6.0, 10),  # this machine's perf_counter: differences 40/41, 50/51, 60/61
        (41.667, 100.0, 20.0, 41.667),  # a 24 MHz counter read slower than it ticks
        (41.667, 10.0, 2.0, 41.667),  # ... read faster than it ticks: repeated values, one tick = 41 or 42
        (1000.0, 40.0, 5.0, 1000),  # a microsecond clock
    ],
)
def test_clock_step_of_simulated_clocks(tick: float, read: float, jitter: float, expected: float) -> None:
    for seed in range(5):
        step = clock_step_ns(SimulatedClock(tick, read, jitter, seed))
        assert abs(step - expected) < 1.0, (seed, step)  # a fractional tick comes out floored or rounded


def test_clock_read_cost_of_simulated_clock() -> None:
    assert clock_read_cost_ns(SimulatedClock(1.0, 40.0, 4.0)) == pytest.approx(40.0, rel=0.05)


def test_virtual_clocks() -> None:
    def frozen() -> int:
        return 123

    assert clock_step_ns(frozen) == FALLBACK_STEP_NS == 1
    assert clock_read_cost_ns(frozen) == 0.0
    counter = iter(range(0, 10**12, 1000))

    def ticking() -> int:  # advances exactly 1000 ns per read
        return next(counter)

    assert clock_step_ns(ticking) == 1000
    assert clock_read_cost_ns(ticking) == pytest.approx(1000.0)


def test_backwards_steps_are_ignored() -> None:
    values = iter([0, 10, 20, 10, 30, 40, 50] * 10)

    def broken() -> int:
        return next(values)

    assert clock_step_ns(broken, probes=60) == 10


def test_real_perf_counter() -> None:
    declared = time.get_clock_info("perf_counter").resolution * 1e9
    step = clock_step_ns(time.perf_counter_ns)
    assert step >= max(1, round(declared))
    # The smallest difference of two consecutive reads bounds the step from above (it is a step count).
    pairs = [time.perf_counter_ns() - time.perf_counter_ns() for _ in range(200)]
    two_reads = min(-d for d in pairs if d < 0) if any(d < 0 for d in pairs) else step
    assert step <= two_reads
    assert 0.0 < clock_read_cost_ns(time.perf_counter_ns) < 100_000.0


def test_probes_validated() -> None:
    with pytest.raises(ValueError):
        clock_step_ns(time.perf_counter_ns, probes=2)
    with pytest.raises(ValueError):
        clock_read_cost_ns(time.perf_counter_ns, probes=0)
