"""Fixed-rate issue (``--scenario-option rate_hz=N``, like TFLite's run_frequency / OpenVINO's max_irate).

Each call is issued on the next tick of a ``rate_hz`` clock; the wait happens *before* the first
clock read, outside the timed region, so latencies are the calls alone. Ticks are absolute: a
call that overruns its period makes the next one start at once (counted in ``late_issues``), the
schedule never drifts. Stop rules use wall time since the window opened, so ``--max-time`` keeps
its meaning; the window's measured time is the calls' time (the waits are idle by design, not
harness overhead). External meters and slow sensors see a steady, known load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from edgebench.errors import UsageError
from edgebench.protocols import Clock, Session

_S = 1_000_000_000


class StopRule(Protocol):
    def decide(self, samples: list[int], measured_ns: int) -> str | None: ...

    def next_check_in(self, n: int, measured_ns: int) -> int: ...


class PacedResult:
    __slots__ = ("checks", "cpu_ns", "late", "latencies_ns", "measured_ns", "stop_reason", "wall_ns")

    def __init__(self, latencies: list[int], wall_ns: int, stop: str, checks: int, late: int) -> None:
        self.latencies_ns, self.wall_ns, self.stop_reason, self.checks, self.late = (
            latencies,
            wall_ns,
            stop,
            checks,
            late,
        )
        self.measured_ns = sum(latencies)  # busy time: the waits are idle on purpose
        self.cpu_ns: int | None = None  # CPU ÷ window would mix busy and idle time: not reported

    def result(self, rate_hz: float) -> dict[str, Any]:
        # n issues span n − 1 periods: first issue (the start) to the last issue (its end − its latency)
        n, span = len(self.latencies_ns), self.wall_ns - (self.latencies_ns[-1] if self.latencies_ns else 0)
        achieved = (n - 1) / (span / _S) if n > 1 and span > 0 else None
        return {
            "rate_hz": rate_hz,
            "achieved_rate_hz": achieved,
            "late_issues": self.late,
            "wall_s": self.wall_ns / _S,
            "idle_s": (self.wall_ns - self.measured_ns) / _S,
        }


def paced_state(
    session: Session,
    feeds: Any,
    clock: Clock,
    rule: StopRule,
    rate_hz: float,
    run: Callable[[Any], Any] | None = None,
) -> PacedResult:
    if clock is not time.perf_counter_ns:
        raise UsageError(
            "rate_hz needs real time: this session runs on a virtual clock",
            hint="with the fake backend add --backend-option real_time=true",
        )
    call = run or session.run
    period = max(1, int(_S / rate_hz))
    samples: list[int] = []
    append = samples.append
    start = clock()
    tick = start
    checks = late = 0
    check_at = 0
    while True:
        now = clock()
        if now < tick:
            _wait_until(clock, tick)
        elif now - tick > period:
            late += 1
            tick = now
        t0 = clock()
        call(feeds)
        t1 = clock()
        append(t1 - t0)
        tick += period
        elapsed = t1 - start
        if elapsed < check_at:
            continue
        checks += 1
        stop = rule.decide(samples, elapsed)
        if stop is not None:
            return PacedResult(samples, elapsed, stop, checks, late)
        check_at = elapsed + _next(rule, samples, elapsed)


def _next(rule: StopRule, samples: list[int], elapsed: int) -> int:
    wait = rule.next_check_in(len(samples), elapsed)
    return 0 if wait < 0 else wait  # "k iterations missing": check after every call until then


def _wait_until(clock: Clock, tick: int) -> None:
    # sleep, never spin: the idle time between calls must be idle for the power meter (sleep()
    # overshoots by ~0.1 ms, which shifts the issue time, not the measured latency)
    remaining = tick - clock()
    if remaining > 0:
        time.sleep(remaining / _S)
