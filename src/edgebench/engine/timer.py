"""What the clock can resolve, measured: its smallest step and the cost of one read.

Two consecutive ``perf_counter_ns()`` calls from Python are ~40 ns apart on a PC, while the clock itself
counts in 1 ns steps: the smallest difference of two reads is the *read cost* whenever the clock is
finer than that, and the *step* only when the clock is coarser. :func:`clock_step_ns` tells the two
cases apart from a burst of consecutive reads:

- some reads repeat the previous value → the clock ticks slower than it is read, and the smallest
  positive difference is one tick;
- every read advances → the step is the lattice the differences lie on: their greatest common divisor
  (a 10 ns counter gives differences 40, 50, 60), or 1 ns when three consecutive nanosecond values
  occur, or — for a counter whose tick is not a whole number of ns (24 MHz = 41.67 ns, converted and
  floored to ns) — the distance between the clusters of differences.

Numpy and the standard library only; every function takes the clock as an argument so that tests can
pass a virtual one.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt

# A clock that never advances while read (a virtual clock in tests) has no measurable step: report the
# finest step an integer-nanosecond clock can have, so that no caller divides by zero.
FALLBACK_STEP_NS = 1
DEFAULT_PROBES = 2000  # ~0.1 ms of reads on a PC: enough distinct differences to see the lattice
READ_COST_REPEATS = 5

IntArray = npt.NDArray[np.int64]

_ClockName = Literal["monotonic", "perf_counter", "process_time", "time", "thread_time"]
_CLOCK_NAMES: dict[Callable[[], int], _ClockName] = {
    time.perf_counter_ns: "perf_counter",
    time.monotonic_ns: "monotonic",
    time.time_ns: "time",
    time.process_time_ns: "process_time",
    time.thread_time_ns: "thread_time",
}


def clock_step_ns(clock: Callable[[], int], probes: int = DEFAULT_PROBES) -> int:
    """Smallest step of an integer-nanosecond ``clock``, measured (not the cost of two reads).

    Never below the resolution ``time.get_clock_info`` declares for the standard clocks; returns
    :data:`FALLBACK_STEP_NS` for a clock that does not advance while it is read.
    """
    if probes < 3:
        raise ValueError(f"probes must be >= 3, got {probes}")
    diffs = np.diff(_burst(clock, probes))
    positive = diffs[diffs > 0]  # a backwards step (a broken clock) says nothing about the step
    if positive.size == 0:
        return max(FALLBACK_STEP_NS, _declared_floor_ns(clock))
    step = int(positive.min()) if np.any(diffs == 0) else _lattice_step(positive)
    return max(step, _declared_floor_ns(clock))


def clock_read_cost_ns(clock: Callable[[], int], probes: int = DEFAULT_PROBES) -> float:
    """Time one read of ``clock`` takes from a Python loop, in ns: the least of a few bursts.

    The least, because interrupts only ever add time. 0.0 for a clock that does not advance.
    """
    if probes < 1:
        raise ValueError(f"probes must be >= 1, got {probes}")
    best = math.inf
    for _ in range(READ_COST_REPEATS):
        start = clock()
        for read in itertools.repeat(clock, probes):
            read()
        best = min(best, (clock() - start) / (probes + 1))
    return max(best, 0.0)


def _burst(clock: Callable[[], int], probes: int) -> IntArray:
    # The tightest loop Python offers: no attribute look-up, no append call per read.
    return np.array([read() for read in itertools.repeat(clock, probes)], dtype=np.int64)


def _lattice_step(positive: IntArray) -> int:
    """Step of the lattice the positive differences lie on (every read advanced the clock)."""
    values, counts = np.unique(positive, return_counts=True)
    if values.size == 1:
        return int(values[0])
    gcd = int(np.gcd.reduce(values))
    if gcd > 1:
        return gcd
    cuts = np.flatnonzero(np.diff(values) > 1) + 1
    runs, weights = np.split(values, cuts), np.split(counts, cuts)
    if max(run.size for run in runs) >= 3:
        return 1  # three consecutive nanosecond values: the clock resolves 1 ns
    if len(runs) == 1:
        return int(values[0])  # one tick per read (e.g. 41 and 42 for 41.67 ns): the smaller
    # A non-integer tick floored to ns puts each multiple k·step on one or two adjacent values. The
    # count-weighted centres of those clusters sit on the lattice; average the one-step gaps, each
    # weighted by its sparser cluster, so that rare interrupt-length reads cannot bias the step.
    centres = np.array([float(np.average(r, weights=w)) for r, w in zip(runs, weights, strict=True)])
    totals = np.array([int(w.sum()) for w in weights])
    gaps = np.diff(centres)
    one_step = np.rint(gaps / gaps.min()) == 1.0
    pair_weight = np.minimum(totals[:-1], totals[1:])[one_step]
    return max(1, round(float(np.average(gaps[one_step], weights=pair_weight))))


def _declared_floor_ns(clock: Callable[[], int]) -> int:
    name = _CLOCK_NAMES.get(clock)
    if name is None:
        return 1
    # 1e-09 s * 1e9 is 1.0000000000000002: round away that last bit before the ceiling.
    return max(1, math.ceil(round(time.get_clock_info(name).resolution * 1e9, 6)))
