"""[truth] The real measuring loop, fed AR(1) latencies on the fake backend's virtual clock: the CI the
record reports must cover the true median 95 % of the time, whatever the autocorrelation."""

from __future__ import annotations

import numpy as np
import pytest

from edgebench.backends.fake import FakeOptions, FakeSession
from edgebench.engine.stats import median_ci_dependent
from edgebench.scenarios.single_stream import StopRule, steady_state

TRUE_MEDIAN_NS = 1_000_000  # the AR(1) is symmetric around latency_s = 1 ms: its median is exactly that
REPS = 500
SAMPLES = 2000


def _coverage(rho: float) -> float:
    covered = 0
    rule = StopRule(min_ns=0, max_ns=10**15, min_iters=SAMPLES, target_ci=0.0)
    for rep in range(REPS):
        session = FakeSession(FakeOptions(distribution="ar1", rho=rho, sigma=0.05), seed=rep, io=([], []))
        loop = steady_state(session, {}, session.clock, rule)
        assert len(loop.latencies_ns) == SAMPLES and loop.stop_reason == "minimums_met"
        ci = median_ci_dependent(loop.latencies_ns)
        covered += ci.lo <= TRUE_MEDIAN_NS <= ci.hi
    return covered / REPS


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_ci_from_the_real_loop_covers_the_true_median(rho: float) -> None:
    coverage = _coverage(rho)
    assert 0.92 <= coverage <= 0.97, f"rho={rho}: coverage {coverage:.3f}"


def test_the_iid_interval_the_loop_used_to_report_undercovers() -> None:
    """The evidence for the change: at rho = 0.9 the order-statistic (i.i.d.) CI covers far below 95 %."""
    from edgebench.engine.stats import median_ci_order_stat

    rule = StopRule(min_ns=0, max_ns=10**15, min_iters=SAMPLES, target_ci=0.0)
    covered = 0
    for rep in range(200):
        session = FakeSession(FakeOptions(distribution="ar1", rho=0.9, sigma=0.05), seed=rep, io=([], []))
        lat = steady_state(session, {}, session.clock, rule).latencies_ns
        lo, hi = median_ci_order_stat(np.sort(lat))
        covered += lo <= TRUE_MEDIAN_NS <= hi
    assert covered / 200 < 0.6
