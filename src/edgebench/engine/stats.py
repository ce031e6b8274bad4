"""Statistics of latency samples: percentiles, confidence intervals, MLPerf early stopping, outliers.

Units: every function except :func:`summarize_latencies` is unit-preserving — give it int nanoseconds
or float seconds and it answers (as ``float``) in the same unit. :func:`summarize_latencies` takes the
raw ``int`` nanoseconds the timer produced and returns seconds, the SI unit records store.

Functions named ``sorted_values`` expect ascending input and do not sort it themselves: the engine
keeps its samples sorted and calls them repeatedly, so they must stay O(1) (or O(n) for early stopping).

Only numpy and the standard library are used: the runtime install must not need scipy. The tests check
every exact computation here against scipy. Definitions, sources and tables: docs/statistics.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from edgebench.errors import MeasurementError

Samples: TypeAlias = Sequence[int] | Sequence[float] | npt.NDArray[np.integer] | npt.NDArray[np.floating]
FloatArray: TypeAlias = npt.NDArray[np.float64]

# Gaussian consistency constant: 1.4826·MAD estimates σ of a normal distribution (= 1/Φ⁻¹(3/4)).
MAD_TO_SIGMA = 1.4826
# Fallback when MAD = 0 (more than half the samples identical, e.g. a coarse timer): σ ≈ 1.2533·mean
# absolute deviation (= sqrt(π/2)), as in Iglewicz & Hoaglin's modified z-score.
MEANAD_TO_SIGMA = 1.253314
# hyperfine: outlier when |x − median| / MAD > 14.826, i.e. more than 10 robust standard deviations.
MODIFIED_Z_THRESHOLD = 10.0
# pyperf `stats`: outliers outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR] (Tukey's fences).
IQR_FENCE = 1.5
# Up to this n the order-statistic ranks of the median CI are exact binomial quantiles (cached);
# above it a continuity-corrected normal approximation is used, never narrower than exact (≤ 1 rank wider).
EXACT_MEDIAN_CI_MAX_N = 1000
# MLPerf LoadGen early-stopping defaults.
EARLY_STOPPING_CONFIDENCE = 0.99
EARLY_STOPPING_TOLERANCE = 0.0

_NS_PER_S = 1e9


def _as_float_array(values: Samples) -> FloatArray:
    # float64 holds every int nanosecond below 2**53 (104 days) exactly.
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D sample, got shape {arr.shape}")
    if arr.size == 0:
        raise MeasurementError("no samples to summarize")
    return arr


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")


# ---------------------------------------------------------------------------------------------------
# Percentiles and medians


def percentile(sorted_values: Samples, p: float) -> float:
    """LoadGen nearest-rank percentile ``sorted[min(floor(p*n), n-1)]`` (0-based, no interpolation).

    ``p`` is a fraction in [0, 1]. ``floor(p*n)`` is taken on the float product exactly as LoadGen's C++
    does, so the same samples give LoadGen's number. O(1).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    n = len(sorted_values)
    if n == 0:
        raise MeasurementError("no samples for a percentile")
    return float(sorted_values[min(math.floor(p * n), n - 1)])


def _sorted_median(sorted_values: Samples) -> float:
    # The conventional sample median (mean of the two middle values for even n), in O(1).
    n = len(sorted_values)
    mid = n // 2
    if n % 2:
        return float(sorted_values[mid])
    return (float(sorted_values[mid - 1]) + float(sorted_values[mid])) / 2.0


# ---------------------------------------------------------------------------------------------------
# Confidence intervals of the median


def bootstrap_median_ci(
    values: Samples, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap CI of the median; deterministic for a given ``seed``.

    Equivalent in distribution to drawing ``n_resamples`` resamples of size n with replacement and taking
    their medians, but O(n log n + n_resamples) instead of O(n·n_resamples): with the sample sorted, the
    median of a resample is ``sorted[i]`` where ``i`` is the k-th smallest of n uniform draws from
    {0..n-1}, i.e. ``floor(n·U_(k))`` with ``U_(k) ~ Beta(k, n+1-k)`` (and, for even n, the next order
    statistic drawn from its conditional law). The CI endpoints are the linear-interpolated
    (1±confidence)/2 quantiles of the resampled medians.
    """
    _check_fraction("confidence", confidence)
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    xs = np.sort(_as_float_array(values))
    medians = _resampled_medians(xs, n_resamples, np.random.default_rng(seed))
    alpha = 1.0 - confidence
    lo, hi = np.quantile(medians, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


def _resampled_medians(xs: FloatArray, n_resamples: int, rng: np.random.Generator) -> FloatArray:
    n = xs.size
    k = n // 2 if n % 2 == 0 else (n + 1) // 2  # 1-based rank of the (lower) middle order statistic
    u_k = rng.beta(k, n + 1 - k, size=n_resamples)
    lower = xs[_uniform_to_index(u_k, n)]
    if n % 2:
        return lower
    # Given U_(k), the other n-k uniforms are iid on (U_(k), 1); their minimum is U_(k+1).
    v = rng.random(n_resamples)
    u_next = u_k + (1.0 - u_k) * -np.expm1(np.log1p(-v) / (n - k))
    upper = xs[_uniform_to_index(u_next, n)]
    result: FloatArray = (lower + upper) / 2.0
    return result


def _uniform_to_index(u: FloatArray, n: int) -> npt.NDArray[np.intp]:
    # floor(n·U) is uniform on {0..n-1}; the clip only guards U rounding to 1.0.
    return np.minimum((u * n).astype(np.intp), n - 1)


@lru_cache(maxsize=4096)
def _median_ci_lower_index(n: int, confidence: float) -> int:
    """0-based index ``j`` of the lower CI bound: the largest j with P[B ≤ j] ≤ α/2, B ~ Bin(n, 1/2).

    The interval [x_(j), x_(n-1-j)] (0-based) then covers the median with probability ≥ confidence.
    Returns -1 when even [min, max] cannot reach the confidence (n too small).
    """
    half_alpha = (1.0 - confidence) / 2.0
    if n > EXACT_MEDIAN_CI_MAX_N:
        # Continuity-corrected normal approximation of Bin(n, 1/2); checked against the exact quantile
        # for n ≤ 200,000: equal or one rank lower (a slightly wider, still valid interval).
        z = NormalDist().inv_cdf(1.0 - half_alpha)
        return math.floor(n / 2.0 - 0.5 - z * math.sqrt(n) / 2.0)
    log_cdf = _binom_log_cdf(n, n, 0.5)
    return int(np.count_nonzero(log_cdf <= math.log(half_alpha))) - 1


def median_ci_order_stat(sorted_values: Samples, confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free CI of the median from order statistics (binomial ranks).

    O(1) after sorting (ranks cached per n). When n is too small for the confidence (n < 6 at 95%) the
    interval is [min, max], whose true coverage 1 − 2^(1−n) is below the nominal one.
    """
    _check_fraction("confidence", confidence)
    n = len(sorted_values)
    if n == 0:
        raise MeasurementError("no samples for a confidence interval")
    j = max(_median_ci_lower_index(n, confidence), 0)
    return float(sorted_values[j]), float(sorted_values[n - 1 - j])


def ci_relative_halfwidth(sorted_values: Samples, confidence: float = 0.95) -> float:
    """max(hi − median, median − lo) / median of the order-statistic CI; ``inf`` when undefined.

    ``inf`` when n is too small to reach ``confidence`` at all, or when the median is 0 but the
    interval is not, so that an adaptive stopping rule never stops on such a sample.
    """
    n = len(sorted_values)
    if n == 0 or _median_ci_lower_index(n, confidence) < 0:
        return math.inf
    lo, hi = median_ci_order_stat(sorted_values, confidence)
    med = _sorted_median(sorted_values)
    half = max(hi - med, med - lo)
    if half == 0.0:
        return 0.0
    return half / med if med > 0.0 else math.inf


def ci_converged(sorted_values: Samples, target_rel: float, confidence: float = 0.95) -> bool:
    """Adaptive stopping rule: the median's CI lies within ±``target_rel`` of the median."""
    return ci_relative_halfwidth(sorted_values, confidence) <= target_rel


# ---------------------------------------------------------------------------------------------------
# MLPerf LoadGen early stopping


def _binom_log_cdf(k_max: int, n: int, q: float) -> FloatArray:
    """log P[X ≤ k] for k = 0..k_max, X ~ Binomial(n, q), 0 < q < 1; k_max ≤ n.

    Log-space throughout (pmf(0) = (1−q)^n underflows for n in the thousands): the log pmf is built by a
    cumulative sum of log ratios pmf(k)/pmf(k−1) = (n−k+1)/k · q/(1−q), then accumulated by logaddexp.
    """
    k = np.arange(1, k_max + 1, dtype=np.float64)
    steps = np.log((n - k + 1.0) / k) + (math.log(q) - math.log1p(-q))
    log_pmf = np.empty(k_max + 1, dtype=np.float64)
    log_pmf[0] = n * math.log1p(-q)
    log_pmf[1:] = log_pmf[0] + np.cumsum(steps)
    result: FloatArray = np.logaddexp.accumulate(log_pmf)
    return result


def _early_stopping_log_f(t: int, h: int, q: float) -> float:
    # log F(t, h) = log P[X ≤ t], X ~ Binomial(h + t, q)
    return float(_binom_log_cdf(t, h + t, q)[t])


@lru_cache(maxsize=65536)
def h_min(
    t: int,
    p: float,
    confidence: float = EARLY_STOPPING_CONFIDENCE,
    tolerance: float = EARLY_STOPPING_TOLERANCE,
) -> int:
    """Smallest h with F(t, h) < 1 − confidence, F(t, h) = P[X ≤ t], X ~ Binomial(h + t, 1 − (p − d)).

    Read: with t samples above the claimed percentile, at least h_min(t) samples must be at or below it
    for the claim "p-th percentile ≤ that value" to hold with the given confidence (MLPerf LoadGen).
    Closed form for t = 0, binary search otherwise (F decreases strictly in h). Memoized.
    """
    if t < 0:
        raise ValueError(f"t must be >= 0, got {t}")
    _check_fraction("confidence", confidence)
    p_eff = p - tolerance
    _check_fraction("p - tolerance", p_eff)
    q = 1.0 - p_eff
    log_bound = math.log1p(-confidence)
    if t == 0:
        # F(0, h) = (p−d)^h; bump by one if rounding put the ceiling on the boundary (need strict <).
        h = math.ceil(log_bound / math.log(p_eff))
        return h if h * math.log(p_eff) < log_bound else h + 1
    lo, hi = 1, max(2, t)
    while _early_stopping_log_f(t, hi, q) >= log_bound:
        lo, hi = hi + 1, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if _early_stopping_log_f(t, mid, q) < log_bound:
            hi = mid
        else:
            lo = mid + 1
    return lo


def min_samples_for_percentile(p: float, confidence: float = EARLY_STOPPING_CONFIDENCE) -> int:
    """Fewest samples for a valid early-stopping estimate of the p-th percentile: h_min(1) + 1."""
    return h_min(1, p, confidence) + 1


def early_stopping_percentile(
    sorted_values: Samples, p: float, confidence: float = EARLY_STOPPING_CONFIDENCE
) -> tuple[float | None, int]:
    """LoadGen early-stopping percentile estimate ``(sorted[n − t], t)``, or ``(None, 0)`` if n is too small.

    LoadGen scans i = 2, 3, … for the largest t with h_min(t) + t ≤ n. Since F(t, h) decreases in h,
    h_min(t) + t ≤ n ⟺ F(t, n − t) < 1 − c ⟺ P[Bin(n, 1 − p) ≤ t] < 1 − c, and that CDF increases in t:
    so t is read off one binomial CDF at fixed n, O(n) instead of one binary search per i. The tests
    check this against the literal scan over :func:`h_min`.
    """
    n = len(sorted_values)
    if n < min_samples_for_percentile(p, confidence):
        return None, 0
    log_cdf = _binom_log_cdf(n - 1, n, 1.0 - p)
    below = int(np.count_nonzero(log_cdf < math.log1p(-confidence)))
    t = max(below - 1, 1)  # ≥ 1 by the check above; max() only absorbs rounding at the boundary
    return float(sorted_values[n - t]), t


def server_passes(
    n_issued: int, n_over_bound: int, p: float = 0.99, confidence: float = EARLY_STOPPING_CONFIDENCE
) -> bool:
    """LoadGen Server verdict: PASS iff n_issued ≥ h_min(t) + t with t = queries over the latency bound."""
    if not 0 <= n_over_bound <= n_issued:
        raise ValueError(f"need 0 <= n_over_bound <= n_issued, got {n_over_bound} of {n_issued}")
    return n_issued >= h_min(n_over_bound, p, confidence) + n_over_bound


# ---------------------------------------------------------------------------------------------------
# Spread and outliers


def mad(values: Samples) -> float:
    """Raw median absolute deviation median(|x − median(x)|), NOT scaled by 1.4826 (as pyperf reports it)."""
    xs = _as_float_array(values)
    return float(np.median(np.abs(xs - np.median(xs))))


def modified_z_scores(values: Samples) -> FloatArray:
    """(x − median) / (1.4826·MAD), signed; falls back to 1.2533·mean-abs-deviation when MAD = 0.

    All zeros when every value equals the median (no spread at all, hence no outlier).
    """
    xs = _as_float_array(values)
    dev = xs - np.median(xs)
    scale = MAD_TO_SIGMA * float(np.median(np.abs(dev)))
    if scale == 0.0:
        scale = MEANAD_TO_SIGMA * float(np.mean(np.abs(dev)))
    if scale == 0.0:
        return np.zeros_like(xs)
    result: FloatArray = dev / scale
    return result


def outliers_modified_z(values: Samples, threshold: float = MODIFIED_Z_THRESHOLD) -> int:
    """hyperfine rule: count of |x − median| / (1.4826·MAD) > threshold (10 ⇔ |x − median|/MAD > 14.826)."""
    return int(np.count_nonzero(np.abs(modified_z_scores(values)) > threshold))


def iqr_outliers(values: Samples) -> int:
    """pyperf rule: count outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR]; quartiles interpolated linearly (pyperf)."""
    xs = _as_float_array(values)
    q1, q3 = np.percentile(xs, [25.0, 75.0])
    iqr = q3 - q1
    return int(np.count_nonzero((xs < q1 - IQR_FENCE * iqr) | (xs > q3 + IQR_FENCE * iqr)))


# ---------------------------------------------------------------------------------------------------
# Summary


@dataclass(frozen=True)
class LatencyStats:
    """Summary of steady-state latencies; every time in seconds. Definitions: docs/statistics.md."""

    n: int
    median: float  # sample median (mean of the two middle values for even n)
    ci95: tuple[float, float]  # percentile-bootstrap 95% CI of the median
    mean: float
    std: float  # sample standard deviation, ddof=1 (0.0 when n = 1)
    cv: float  # std / mean (0.0 when mean = 0)
    min: float
    max: float
    p90: float  # LoadGen nearest rank, see percentile()
    p95: float
    p99: float
    p999: float
    mad: float  # raw MAD, unscaled
    outliers: int  # modified z-score > 10 (hyperfine)
    mlperf_p90: float | None  # LoadGen early-stopping estimate; None when n < 64
    mlperf_p99: float | None  # None when n < 662
    mlperf_p90_t: int
    mlperf_p99_t: int


def summarize_latencies(latencies_ns: Sequence[int] | npt.NDArray[np.integer], *, seed: int = 0) -> LatencyStats:
    """Summarize raw integer-nanosecond latencies (in measurement order) into seconds.

    Raises MeasurementError for an empty sample or a negative latency (a clock bug, not a measurement).
    """
    raw = np.asarray(latencies_ns)
    if raw.size and raw.dtype.kind not in "iu":
        raise TypeError(f"latencies_ns must be integer nanoseconds, got dtype {raw.dtype}")
    ns = np.sort(_as_float_array(raw))
    if ns[0] < 0:
        raise MeasurementError(f"negative latency {int(ns[0])} ns: the timer is not monotonic")
    xs = ns / _NS_PER_S
    n = int(xs.size)
    mean = float(np.mean(xs))
    std = float(np.std(xs, ddof=1)) if n > 1 else 0.0
    mlperf_p90, t90 = early_stopping_percentile(xs, 0.90)
    mlperf_p99, t99 = early_stopping_percentile(xs, 0.99)
    return LatencyStats(
        n=n,
        median=_sorted_median(xs),
        ci95=bootstrap_median_ci(xs, 0.95, seed=seed),
        mean=mean,
        std=std,
        cv=std / mean if mean > 0.0 else 0.0,
        min=float(xs[0]),
        max=float(xs[-1]),
        p90=percentile(xs, 0.90),
        p95=percentile(xs, 0.95),
        p99=percentile(xs, 0.99),
        p999=percentile(xs, 0.999),
        mad=mad(xs),
        outliers=outliers_modified_z(xs),
        mlperf_p90=mlperf_p90,
        mlperf_p99=mlperf_p99,
        mlperf_p90_t=t90,
        mlperf_p99_t=t99,
    )
