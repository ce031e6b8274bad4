"""Single stream: issue the next query when the previous one has answered (LoadGen SingleStream,
onnxruntime_perf_test, benchmark_model). The simplest issuer, not a special case of the engine.

Phases: one cold call (first inference) → time-based warm-up → the measured window. Inside the
window the loop is bare — two clock reads, the call, an append and one integer comparison — so the
harness adds well under 2 µs per iteration (benchmarks/overhead.py). Stop checks run only at
scheduled points, and the time they take is *excluded* from the window: the window's wall time,
its CPU time and the samples are taken over exactly the same segments.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from edgebench.engine.stats import ci_converged_dependent, min_samples_for_percentile
from edgebench.options import strict_config
from edgebench.protocols import Clock, DeviceTimer, ScenarioContext, ScenarioOutcome, Session

_S = 1_000_000_000  # ns per second
_MIN_CHECK_INTERVAL_NS = 20_000_000  # adaptive-stop checks at most every 20 ms of measured time ...
_CHECK_GROWTH = 0.10  # ... and then every 10 % of it, so checks stay rare even if they were costly

_TAILS = {"none": None, "p90": 0.90, "p99": 0.99, "p999": 0.999}


class Options(BaseModel):
    model_config = strict_config()

    tail: Literal["none", "p90", "p99", "p999"] = Field(
        "p99",
        description="extend the run (within --max-time) until this percentile has an MLPerf early-stopping bound",
    )
    rate_hz: float | None = Field(
        None,
        gt=0,
        le=100_000,
        allow_inf_nan=False,
        description="issue calls at this fixed rate, waiting outside the timed region (for external power meters)",
    )


def tail_samples(tail: str, processes: int) -> int:
    """Samples this process must collect so that the pooled run can bound the chosen tail."""
    p = _TAILS[tail]
    if p is None:
        return 0
    return math.ceil(min_samples_for_percentile(p) / max(processes, 1))


class SingleStream:
    name = "single_stream"
    Options = Options

    def run(self, ctx: ScenarioContext) -> ScenarioOutcome:
        session, feeds, clock, spec = ctx.session, ctx.feeds, ctx.clock, ctx.spec
        t0 = clock()
        outputs = session.run(feeds)
        first_ns = clock() - t0
        warmup = _warmup(session, feeds, clock, int(spec.warmup_time_s * _S))
        rule = StopRule(
            min_ns=int(spec.min_time_s * _S),
            max_ns=int(spec.max_time_s * _S),
            min_iters=max(spec.min_iters, tail_samples(ctx.options.tail, spec.processes)),
            target_ci=spec.target_ci,
        )
        ctx.window.open()
        if ctx.options.rate_hz is None:
            loop: Any = steady_state(session, feeds, clock, rule, cpu_clock=_cpu_clock(ctx), timer=ctx.device_timer)
        else:  # fixed-rate issue (energy at a known load): edgebench.energy.paced
            from edgebench.energy.paced import paced_state

            run = _timed_run(session, ctx.device_timer)
            loop = paced_state(session, feeds, clock, rule, ctx.options.rate_hz, run)
        window = ctx.window.close()
        return ScenarioOutcome(
            latencies_ns=loop.latencies_ns,
            warmup_latencies_ns=warmup,
            first_inference_ns=first_ns,
            window_ns=loop.measured_ns,
            cpu_time_ns=loop.cpu_ns,
            stop_reason=loop.stop_reason,
            window=window,
            outputs=outputs,
            stop_checks=loop.checks,
            device_latencies_ns=ctx.device_timer.collect() if ctx.device_timer else None,
            result={
                "tail": ctx.options.tail,
                "min_iters_effective": rule.min_iters,
                **(loop.result(ctx.options.rate_hz) if ctx.options.rate_hz is not None else {}),
            },
        )


def _cpu_clock(ctx: ScenarioContext) -> Clock | None:
    # CPU time only means something next to real wall time; a virtual clock has no CPU behind it.
    return time.process_time_ns if ctx.clock is time.perf_counter_ns else None


def _warmup(session: Session, feeds: Any, clock: Clock, budget_ns: int) -> list[int]:
    """Time-based warm-up (like trtexec); at least one call so caches and arenas are primed."""
    samples: list[int] = []
    start = clock()
    while True:
        t0 = clock()
        session.run(feeds)
        t1 = clock()
        samples.append(t1 - t0)
        if t1 - start >= budget_ns:
            return samples


class StopRule:
    """Minimums first (time AND iterations), then the median's CI within target, or max time."""

    __slots__ = ("max_ns", "min_iters", "min_ns", "target_ci")

    def __init__(self, *, min_ns: int, max_ns: int, min_iters: int, target_ci: float) -> None:
        self.min_ns, self.max_ns, self.min_iters, self.target_ci = min_ns, max_ns, min_iters, target_ci

    def decide(self, samples: Sequence[int], measured_ns: int) -> str | None:
        if measured_ns >= self.max_ns:
            return "max_time"
        if measured_ns < self.min_ns or len(samples) < self.min_iters:
            return None
        if self.target_ci <= 0:
            return "minimums_met"
        return "converged" if ci_converged_dependent(samples, self.target_ci) else None

    def next_check_in(self, n: int, measured_ns: int) -> int:
        """Measured ns until the next check; ``-k`` when only ``k`` more iterations are missing."""
        interval = max(_MIN_CHECK_INTERVAL_NS, int(measured_ns * _CHECK_GROWTH))
        if measured_ns < self.min_ns:
            return min(interval, self.min_ns - measured_ns)
        left = self.max_ns - measured_ns
        missing = self.min_iters - n
        if missing > 0 and n and missing * (measured_ns / n) < left:
            return -missing  # run exactly the missing iterations (they fit before max time), then check
        return min(interval, left)


class LoopResult:
    __slots__ = ("checks", "cpu_ns", "latencies_ns", "measured_ns", "stop_reason")

    def __init__(self, latencies_ns: list[int], measured_ns: int, cpu_ns: int | None, stop: str, checks: int) -> None:
        self.latencies_ns, self.measured_ns, self.cpu_ns = latencies_ns, measured_ns, cpu_ns
        self.stop_reason, self.checks = stop, checks


def steady_state(
    session: Session,
    feeds: Any,
    clock: Clock,
    rule: StopRule,
    *,
    cpu_clock: Clock | None = None,
    timer: DeviceTimer | None = None,
) -> LoopResult:
    """Run until ``rule`` says stop. Time between a check's start and the next segment is not measured."""
    samples: list[int] = []
    append = samples.append
    run: Callable[[Any], Any] = _timed_run(session, timer)
    measured = cpu = checks = 0
    cpu0 = cpu_clock() if cpu_clock else 0
    seg_start = clock()
    check_at = seg_start  # first check right after the first sample
    while True:
        t0 = clock()
        run(feeds)
        t1 = clock()
        append(t1 - t0)
        if t1 < check_at:
            continue
        # --- outside the measured window from here until the next segment starts ---
        measured += t1 - seg_start
        if cpu_clock:
            cpu += cpu_clock() - cpu0
        checks += 1
        stop = rule.decide(samples, measured)
        if stop is not None:
            return LoopResult(samples, measured, cpu if cpu_clock else None, stop, checks)
        wait = rule.next_check_in(len(samples), measured)
        if cpu_clock:
            cpu0 = cpu_clock()
        seg_start = clock()
        if wait < 0:
            for _ in range(-wait - 1):  # as bare as the main loop; its next call is the last missing one
                t0 = clock()
                run(feeds)
                t1 = clock()
                append(t1 - t0)
            check_at = seg_start
        else:
            check_at = seg_start + wait


def _timed_run(session: Session, timer: DeviceTimer | None) -> Callable[[Any], Any]:
    if timer is None:
        return session.run  # the bare path: nothing between the two clock reads but the call

    def run(feeds: Any) -> Any:
        timer.mark_start()
        out = session.run(feeds)
        timer.mark_end()
        return out

    return run
