"""edgebench.engine.stats against hand-computed values, scipy and slow reference implementations."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from edgebench.engine import stats
from edgebench.engine.stats import (
    bootstrap_median_ci,
    ci_converged,
    ci_relative_halfwidth,
    early_stopping_percentile,
    h_min,
    iqr_outliers,
    mad,
    median_ci_order_stat,
    min_samples_for_percentile,
    modified_z_scores,
    outliers_modified_z,
    percentile,
    server_passes,
    summarize_latencies,
)
from edgebench.errors import MeasurementError

# ---------------------------------------------------------------------------------------------------
# percentile


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.0, 10), (0.25, 30), (0.5, 60), (0.9, 100), (0.95, 100), (1.0, 100)],
)
def test_percentile_loadgen_rank_hand_computed(p: float, expected: int) -> None:
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]  # n = 10: index = min(floor(10p), 9)
    assert percentile(values, p) == expected


def test_percentile_large_n_and_float_product() -> None:
    values = np.arange(1000)
    assert percentile(values, 0.99) == 990
    assert percentile(values, 0.999) == 999
    # floor() of the float product, as LoadGen's C++ does: 0.29 * 100 = 28.999999999999996.
    assert percentile(np.arange(100), 0.29) == 28


def test_percentile_errors() -> None:
    with pytest.raises(MeasurementError):
        percentile([], 0.5)
    with pytest.raises(ValueError):
        percentile([1, 2], 1.5)


# ---------------------------------------------------------------------------------------------------
# bootstrap CI of the median


def _naive_bootstrap_ci(values: np.ndarray, n_resamples: int, seed: int) -> tuple[float, float]:
    # The textbook algorithm: resample with replacement, take medians, take percentiles.
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n_resamples, values.size))
    medians = np.median(values[idx], axis=1)
    lo, hi = np.quantile(medians, [0.025, 0.975])
    return float(lo), float(hi)


@pytest.mark.parametrize("n", [301, 300])
def test_bootstrap_matches_naive_reference(n: int) -> None:
    values = np.arange(n, dtype=np.float64)  # value == rank, so the comparison is in ranks
    fast = bootstrap_median_ci(values, n_resamples=4000, seed=1)
    slow = _naive_bootstrap_ci(values, n_resamples=4000, seed=2)
    # σ of the resampled median is ≈ √n/2 ≈ 8.7 ranks; Monte-Carlo noise of a 2.5% quantile ≈ 0.4 rank.
    assert fast[0] == pytest.approx(slow[0], abs=2.0)
    assert fast[1] == pytest.approx(slow[1], abs=2.0)
    # Normal theory: the median's CI half-width ≈ 1.96·√n/2 ranks.
    assert (fast[1] - fast[0]) / 2 == pytest.approx(1.96 * math.sqrt(n) / 2, rel=0.15)


def test_bootstrap_contains_true_median_of_large_normal_sample() -> None:
    values = np.random.default_rng(7).normal(10.0, 1.0, 20_000)
    lo, hi = bootstrap_median_ci(values)
    assert lo < 10.0 < hi
    assert lo <= float(np.median(values)) <= hi
    # SE of the median = 1.2533·σ/√n ≈ 0.0089; 95% half-width ≈ 0.0174.
    assert (hi - lo) / 2 == pytest.approx(0.0174, rel=0.2)


def test_bootstrap_deterministic_and_seeded() -> None:
    values = np.random.default_rng(3).lognormal(0.0, 0.3, 999)
    assert bootstrap_median_ci(values, seed=5) == bootstrap_median_ci(values, seed=5)
    a, b = bootstrap_median_ci(values, seed=5), bootstrap_median_ci(values, seed=6)
    # Resampled medians of a discrete sample take few distinct values, so endpoints of two seeds
    # often coincide exactly; they must agree up to Monte-Carlo noise.
    assert a == pytest.approx(b, rel=0.01)
    rng5, rng6 = np.random.default_rng(5), np.random.default_rng(6)
    sorted_values = np.sort(values)
    assert not np.array_equal(
        stats._resampled_medians(sorted_values, 100, rng5), stats._resampled_medians(sorted_values, 100, rng6)
    )


def test_bootstrap_small_and_degenerate_samples() -> None:
    assert bootstrap_median_ci([4.0]) == (4.0, 4.0)
    assert bootstrap_median_ci([3.0] * 50) == (3.0, 3.0)
    lo, hi = bootstrap_median_ci([1.0, 3.0])
    assert (lo, hi) == (1.0, 3.0)
    with pytest.raises(MeasurementError):
        bootstrap_median_ci([])


def test_bootstrap_fast_for_20k() -> None:
    values = np.random.default_rng(0).integers(900_000, 1_100_000, 20_000)
    bootstrap_median_ci(values)  # warm numpy's code paths
    best = min(_timed(lambda: bootstrap_median_ci(values)) for _ in range(5))
    assert best < 0.050


def _timed(fn: object) -> float:
    # CPU time: on a shared machine wall time also measures whoever else holds the core.
    t0 = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - t0


# ---------------------------------------------------------------------------------------------------
# order-statistic CI of the median


def _exact_lower_index(n: np.ndarray, confidence: float) -> np.ndarray:
    half_alpha = (1 - confidence) / 2
    j = binom.ppf(half_alpha, n, 0.5).astype(np.int64)  # smallest j with F(j) ≥ α/2
    result: np.ndarray = np.where(binom.cdf(j, n, 0.5) > half_alpha, j - 1, j)
    return result


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_order_stat_ranks_exact_up_to_1000(confidence: float) -> None:
    ns = np.arange(1, stats.EXACT_MEDIAN_CI_MAX_N + 1)
    expected = _exact_lower_index(ns, confidence)
    got = np.array([stats._median_ci_lower_index(int(n), confidence) for n in ns])
    np.testing.assert_array_equal(got, expected)


def test_order_stat_normal_approximation_is_conservative() -> None:
    ns = np.arange(stats.EXACT_MEDIAN_CI_MAX_N + 1, 30_000, 7)
    exact = _exact_lower_index(ns, 0.95)
    got = np.array([stats._median_ci_lower_index(int(n), 0.95) for n in ns])
    assert np.all(got <= exact)  # never narrower than exact
    assert np.all(exact - got <= 1)  # at most one rank wider


@pytest.mark.parametrize(("n", "reps"), [(101, 3000), (2001, 600)])
def test_order_stat_ci_coverage_by_simulation(n: int, reps: int) -> None:
    samples = np.sort(np.random.default_rng(n).normal(0.0, 1.0, (reps, n)), axis=1)
    covered = [lo <= 0.0 <= hi for lo, hi in (median_ci_order_stat(row) for row in samples)]
    coverage = float(np.mean(covered))
    j = stats._median_ci_lower_index(n, 0.95)
    nominal = 1 - 2 * float(binom.cdf(j, n, 0.5))  # exact coverage of the chosen ranks, ≥ 0.95
    assert nominal >= 0.95
    assert coverage == pytest.approx(nominal, abs=3.5 * math.sqrt(0.05 * 0.95 / reps))


def test_order_stat_ci_small_n_and_halfwidth() -> None:
    assert median_ci_order_stat([1.0, 2.0, 3.0]) == (1.0, 3.0)  # too few for 95%: [min, max]
    assert ci_relative_halfwidth([1.0, 2.0, 3.0]) == math.inf
    assert not ci_converged([1.0, 1.0, 1.0], 0.5)
    values = sorted([100.0] * 40 + [99.0] * 30 + [101.0] * 30)
    lo, hi = median_ci_order_stat(values)
    assert (lo, hi) == (100.0, 100.0)
    assert ci_relative_halfwidth(values) == 0.0
    assert ci_converged(values, 0.01)
    spread = list(np.arange(90.0, 111.0))  # 21 values, median 100
    lo, hi = median_ci_order_stat(spread)  # exact ranks for n = 21: 0-based 5 and 15
    assert (lo, hi) == (95.0, 105.0)
    assert ci_relative_halfwidth(spread) == pytest.approx(0.05)
    assert ci_converged(spread, 0.05) and not ci_converged(spread, 0.049)


def test_ci_relative_halfwidth_zero_median() -> None:
    assert ci_relative_halfwidth([0] * 20) == 0.0
    # median 0 (timer too coarse) but a non-empty CI: never call that converged
    assert ci_relative_halfwidth([0] * 11 + [1] * 10) == math.inf
    assert not ci_converged([0] * 11 + [1] * 10, 0.5)


# ---------------------------------------------------------------------------------------------------
# MLPerf LoadGen early stopping


@pytest.mark.parametrize(("p", "needed"), [(0.90, 64), (0.95, 130), (0.99, 662), (0.999, 6636)])
def test_min_samples_known_constants(p: float, needed: int) -> None:
    assert min_samples_for_percentile(p) == needed


@pytest.mark.parametrize("p", [0.9, 0.99])
@pytest.mark.parametrize("t", [0, 1, 2, 5, 10, 57, 300])
def test_h_min_against_scipy(p: float, t: int) -> None:
    h = h_min(t, p)
    q = 1 - p
    assert binom.cdf(t, h + t, q) < 0.01 <= binom.cdf(t, h - 1 + t, q)


def test_h_min_with_tolerance_and_confidence() -> None:
    h = h_min(3, 0.99, 0.95, 0.002)
    q = 1 - (0.99 - 0.002)
    assert binom.cdf(3, h + 3, q) < 0.05 <= binom.cdf(3, h + 2, q)
    assert h_min(0, 0.99) == math.ceil(math.log(0.01) / math.log(0.99)) == 459
    with pytest.raises(ValueError):
        h_min(-1, 0.9)
    with pytest.raises(ValueError):
        h_min(1, 0.9, 0.99, 0.95)


def _literal_loadgen_t(n: int, p: float) -> int:
    # LoadGen's scan: i = 2, 3, … stop at the first i with n < h_min(i) + i.
    i = 2
    while n >= h_min(i, p) + i:
        i += 1
    return i - 1


@pytest.mark.parametrize(("p", "ns"), [(0.9, range(64, 1600, 37)), (0.99, range(662, 4000, 211))])
def test_early_stopping_matches_literal_scan(p: float, ns: range) -> None:
    values = np.arange(max(ns) + 1, dtype=np.float64)
    for n in ns:
        est, t = early_stopping_percentile(values[:n], p)
        assert t == _literal_loadgen_t(n, p), n
        assert est == values[n - t]


def test_early_stopping_known_values() -> None:
    assert early_stopping_percentile(np.arange(63.0), 0.9) == (None, 0)
    assert early_stopping_percentile(np.arange(64.0), 0.9) == (63.0, 1)  # t = 1: the maximum
    assert early_stopping_percentile(np.arange(661.0), 0.99) == (None, 0)
    assert early_stopping_percentile(np.arange(1024.0), 0.9) == (944.0, 80)  # ≈ p92.2


def test_early_stopping_24576_fast_uncached() -> None:
    values = np.sort(np.random.default_rng(0).lognormal(0, 0.2, 24_576))
    h_min.cache_clear()
    t0 = time.process_time()
    est, t = early_stopping_percentile(values, 0.9)
    elapsed = time.process_time() - t0
    assert t == 2348
    assert est == values[24_576 - 2348]
    assert elapsed < 0.100


@pytest.mark.parametrize(("p", "needed"), [(0.90, 64), (0.99, 662), (0.999, 6636)])
def test_tail_note(p: float, needed: int) -> None:
    assert stats.tail_note(needed - 1, p) == f"n < {needed}: no 99%-confidence bound"
    assert stats.tail_note(needed, p) is None
    assert stats.tail_note(0, p) is not None


def test_tail_sample_constants_come_from_early_stopping() -> None:
    assert (stats.TAIL_SAMPLES_P90, stats.TAIL_SAMPLES_P95, stats.TAIL_SAMPLES_P99, stats.TAIL_SAMPLES_P999) == (
        64,
        130,
        662,
        6636,
    )
    assert (
        stats.tail_note(100, 0.99, confidence=0.95)
        == f"n < {min_samples_for_percentile(0.99, 0.95)}: no 95%-confidence bound"
    )


def test_server_passes_known_values() -> None:
    assert server_passes(459, 0) and not server_passes(458, 0)
    assert server_passes(662, 1) and not server_passes(661, 1)
    assert server_passes(2010, 10) and not server_passes(2009, 10)
    with pytest.raises(ValueError):
        server_passes(10, 11)


# ---------------------------------------------------------------------------------------------------
# MAD and outliers


def test_mad_and_outliers_hand_built() -> None:
    values = [1, 2, 3, 4, 100]  # median 3, |dev| = [2, 1, 0, 1, 97] → MAD 1
    assert mad(values) == 1.0
    z = modified_z_scores(values)
    assert z[-1] == pytest.approx(97 / 1.4826)
    assert outliers_modified_z(values) == 1
    assert iqr_outliers(values) == 1  # Q1 = 2, Q3 = 4, fences [-1, 7]


def test_modified_z_threshold_boundary() -> None:
    # median 0, MAD 1: outlier iff |x| > 14.826
    assert outliers_modified_z([-1.0, 0.0, 0.0, 1.0, 14.8]) == 0
    assert outliers_modified_z([-1.0, 0.0, 0.0, 1.0, 14.9]) == 1
    assert outliers_modified_z([-1.0, 0.0, 0.0, 1.0, -14.9]) == 1


def test_modified_z_mad_zero_falls_back_to_mean_abs_dev() -> None:
    assert mad([5] * 10 + [6]) == 0.0
    assert outliers_modified_z([5] * 10 + [6]) == 0  # a timer tick is not an outlier
    assert outliers_modified_z([5] * 100 + [1000]) == 1
    assert outliers_modified_z([7] * 30) == 0
    assert not np.any(modified_z_scores([7] * 30))


def test_iqr_outliers_matches_pyperf_definition() -> None:
    values = np.random.default_rng(1).standard_t(2, 500)
    q1, q3 = np.percentile(values, [25, 75])
    iqr = q3 - q1
    expected = sum(not (q1 - 1.5 * iqr <= v <= q3 + 1.5 * iqr) for v in values)
    assert iqr_outliers(values) == expected > 0


# ---------------------------------------------------------------------------------------------------
# summarize_latencies


def test_summarize_hand_computed() -> None:
    s = summarize_latencies([3000, 1000, 2000])
    assert (s.n, s.median, s.mean, s.min, s.max) == (3, 2e-6, 2e-6, 1e-6, 3e-6)
    assert s.std == pytest.approx(1e-6)  # ddof = 1
    assert s.cv == pytest.approx(0.5)
    assert s.p90 == 3e-6  # sorted[floor(2.7)]
    assert s.mad == pytest.approx(1e-6)
    assert (s.mlperf_p90, s.mlperf_p90_t, s.mlperf_p99, s.mlperf_p99_t) == (None, 0, None, 0)
    one = summarize_latencies([5])
    assert (one.std, one.cv, one.ci95) == (0.0, 0.0, (5e-9, 5e-9))
    assert (one.ci_method, one.n_eff, one.modes) == (stats.CI_METHOD_IID_SMALL_N, 1.0, None)


def test_summarize_ci_is_the_dependent_ci_in_seconds() -> None:
    ns = np.random.default_rng(5).integers(1_000_000, 1_100_000, 3000)
    s = summarize_latencies(ns)
    ci = stats.median_ci_dependent(ns)
    assert s.ci95 == (ci.lo / 1e9, ci.hi / 1e9)
    assert (s.ci_method, s.n_eff) == (stats.CI_METHOD_BATCH_MEANS, pytest.approx(ci.n_eff))
    # sorted input looks maximally autocorrelated: same median, far wider CI
    s_sorted = summarize_latencies(np.sort(ns))
    assert s_sorted.median == s.median
    assert s_sorted.ci95[1] - s_sorted.ci95[0] > 3 * (s.ci95[1] - s.ci95[0])


def test_summarize_matches_numpy_reference() -> None:
    ns = np.random.default_rng(2).integers(1_000_000, 3_000_000, 5000)
    s = summarize_latencies(ns)
    xs = np.sort(ns) / 1e9
    assert s.median == pytest.approx(float(np.median(xs)))
    assert s.mean == pytest.approx(float(np.mean(xs)))
    assert s.std == pytest.approx(float(np.std(xs, ddof=1)))
    assert s.p99 == xs[4950] and s.p999 == xs[4995]
    assert s.mlperf_p90_t > 0 and s.mlperf_p99_t > 0
    assert s.mlperf_p90 == xs[5000 - s.mlperf_p90_t]


def test_summarize_errors() -> None:
    with pytest.raises(MeasurementError):
        summarize_latencies([])
    with pytest.raises(MeasurementError):
        summarize_latencies([5, -1])
    with pytest.raises(TypeError):
        summarize_latencies(np.array([0.001, 0.002]))


# ---------------------------------------------------------------------------------------------------
# properties

_latencies = st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(_latencies)
def test_property_order_and_ci_contains_median(ns: list[int]) -> None:
    s = summarize_latencies(ns)
    assert s.min <= s.median <= s.max
    assert s.min <= s.p90 <= s.p95 <= s.p99 <= s.p999 <= s.max
    assert s.ci95[0] <= s.median <= s.ci95[1]
    lo, hi = median_ci_order_stat(sorted(ns))
    assert lo <= float(np.median(ns)) <= hi
    for est in (s.mlperf_p90, s.mlperf_p99):
        assert est is None or s.min <= est <= s.max


@settings(max_examples=40, deadline=None)
@given(_latencies, st.randoms(use_true_random=False))
def test_property_permutation_invariance(ns: list[int], rnd: object) -> None:
    # Every field but the CI is order-free; the CI measures autocorrelation, so it may change with order.
    shuffled = list(ns)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = summarize_latencies(shuffled), summarize_latencies(ns)
    assert replace(a, ci95=b.ci95, n_eff=b.n_eff) == b
    assert a.median == b.median and a.ci_method == b.ci_method
