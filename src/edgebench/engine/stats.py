"""Statistics of latency samples: percentiles, confidence intervals, MLPerf early stopping, outliers, modes.

Units: every function except :func:`summarize_latencies` is unit-preserving — give it int nanoseconds
or float seconds and it answers (as ``float``) in the same unit. :func:`summarize_latencies` takes the
raw ``int`` nanoseconds the timer produced and returns seconds, the SI unit records store.

Arguments named ``sorted_values`` expect ascending input and are not sorted here (O(1) look-ups);
arguments named ``samples_in_order`` must be in MEASUREMENT order, because latencies are autocorrelated
and the dependent confidence intervals estimate that autocorrelation from the order.

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
BoolArray: TypeAlias = npt.NDArray[np.bool_]

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

# Dependent (autocorrelation-aware) CI of the median. Below this many samples the autocorrelation of
# the indicator cannot be told from noise: the CI falls back to the i.i.d. ranks and is never "converged".
DEPENDENT_CI_MIN_SAMPLES = 100
# Non-overlapping batch means need enough batches for the t quantile to be meaningful (Schmeiser 1982:
# 10-30; the batch length is capped at n // 20).
MIN_BATCHES = 20
# Politis & White (2004): an autocorrelation is negligible below c·sqrt(log10(n)/n), c = 2.
PW_THRESHOLD_C = 2.0
# The first-order bias correction of batch means (1 − G/(σ²L)) may at most double the variance: beyond
# that the correction itself is too noisy to trust.
MAX_BIAS_CORRECTION = 2.0
# Floor of the estimated integrated autocorrelation time τ: identical batch means (a perfectly alternating
# series) must not collapse the interval to a point.
TAU_FLOOR = 0.1
CI_METHOD_BATCH_MEANS = "order_stat_batch_means"
CI_METHOD_IID_SMALL_N = "order_stat_iid_small_n"
CI_METHOD_TWO_LEVEL = "two_level_random_effects"
RATIO_METHOD = "paired_log_ratio_t"

# Two-level CI: the between-process component "dominates" when the spread of the process medians is at
# least twice what within-process noise alone explains (false alarm on an ideal machine: 4.6% with 2
# processes, 1.8% with 3, 0.3% with 5 — chi-square tails).
BETWEEN_DOMINATES_RATIO = 2.0

# Bimodality (2-component Gaussian mixture on log latencies).
MODES_MIN_SAMPLES = 100
MODES_MAX_FIT_SAMPLES = 5000  # EM runs on at most this many evenly spaced order statistics
MODES_MIN_WEIGHT = 0.05
MODES_MIN_ASHMAN_D = 2.0  # Ashman et al. (1994): D > 2 is needed for a clean separation
MODES_MIN_DELTA_BIC = 10.0  # Kass & Raftery (1995): ΔBIC > 10 is "very strong" evidence
# The data must be at most half as dense at the split as at either mode (in windows of 1/8 the modes'
# log distance): a real second peak, not a fitted Gaussian laid over a one-sided tail.
MODES_DIP_RATIO = 0.5
MODES_SIGMA_FLOOR = 1e-3
# Uniform background component of the mixture (interference outliers): starts at 1%, capped at 25% —
# a sample more than a quarter "background" is not two modes plus outliers.
MODES_BACKGROUND_INIT = 0.01
MODES_BACKGROUND_MAX = 0.25  # σ of log-latency ≥ 0.1%: a component cannot shrink onto a few tied values
_EM_MAX_ITER = 300
_EM_TOL = 1e-5  # stop when the mean log-likelihood per point improves by less than this (ΔBIC needs far less precision)
_EM_INIT_SPLITS = (0.2, 0.5, 0.8)  # initial partitions of the sorted sample (covers 80/20 and 20/80 mixtures)
_DIP_GRID = 256

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
    """i.i.d. stopping rule (kept for backward use): the order-statistic CI lies within ±``target_rel``.

    It assumes independent samples and accepts a zero-width interval made of ties; the engine's stop rule
    is :func:`ci_converged_dependent`, which does neither.
    """
    return ci_relative_halfwidth(sorted_values, confidence) <= target_rel


# ---------------------------------------------------------------------------------------------------
# Student t quantile (no scipy at run time)


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    # Lentz's evaluation of the continued fraction of I_x(a, b) (Numerical Recipes §6.4); converges fast
    # for x < (a + 1)/(a + b + 2), which the caller guarantees.
    tiny = 1e-300

    def guard(v: float) -> float:
        return v if abs(v) > tiny else tiny

    c, d = 1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    h = d
    for m in range(1, 1000):
        num = m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m))
        d, c = 1.0 / guard(1.0 + num * d), guard(1.0 + num / c)
        h *= d * c
        num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))
        d, c = 1.0 / guard(1.0 + num * d), guard(1.0 + num / c)
        h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0, 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def _student_t_sf(t: float, df: float) -> float:
    # P[T > t] for t ≥ 0: ½·I_{df/(df+t²)}(df/2, ½), computed on the tail side for precision.
    return 0.5 * _regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def _student_t_pdf(t: float, df: float) -> float:
    log_norm = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(t * t / df))


@lru_cache(maxsize=1024)
def student_t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t with ``df`` > 0 degrees of freedom (checked against scipy in the tests).

    Closed forms for df = 1 and 2; otherwise Newton's method on the upper tail starting from the normal
    quantile. The tail is convex and decreasing for t > 0 and the normal quantile lies below the t one,
    so the iterates rise monotonically to the root and never overshoot.
    """
    _check_fraction("p", p)
    if df <= 0.0:
        raise ValueError(f"df must be > 0, got {df!r}")
    if p < 0.5:
        return -student_t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    if df == 1.0:
        return math.tan(math.pi * (p - 0.5))
    if df == 2.0:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    tail = 1.0 - p
    t = NormalDist().inv_cdf(p)
    for _ in range(500):
        step = (_student_t_sf(t, df) - tail) / _student_t_pdf(t, df)
        t += step
        if abs(step) <= 1e-13 * t:
            break
    return t


# ---------------------------------------------------------------------------------------------------
# CI of the median under autocorrelation (within one run)


@dataclass(frozen=True)
class DependentCI:
    """CI of the median of samples taken in order, valid under autocorrelation. Same unit as the input.

    ``n_eff = n / τ`` with τ the integrated autocorrelation time of the indicator 1[x ≤ median]
    (τ = 1 for independent samples). ``defined`` is False when the interval cannot be trusted at this
    confidence: fewer than :data:`DEPENDENT_CI_MIN_SAMPLES` samples (the i.i.d. ranks are used) or too
    few effective samples (the interval is then [min, max]).
    """

    lo: float
    hi: float
    median: float
    n: int
    n_eff: float
    method: str
    batch_length: int
    n_batches: int
    defined: bool
    confidence: float

    @property
    def degenerate(self) -> bool:
        """True unless distinct order statistics lie on both sides of the median (ties, coarse clock)."""
        return not self.lo < self.median < self.hi

    def relative_halfwidth(self, clock_step: float = 0.0) -> float:
        """max(hi − median, median − lo, clock_step) / median; ``inf`` when undefined or median ≤ 0."""
        if not self.defined or self.median <= 0.0:
            return math.inf
        return max(self.hi - self.median, self.median - self.lo, clock_step) / self.median

    def converged(self, target_rel: float, clock_step: float = 0.0) -> bool:
        """Stop rule: a defined, non-degenerate interval within ±``target_rel`` of the median.

        A zero-width or tie-dominated interval never converges: its width says nothing about the
        median's uncertainty, only that the clock (or the workload) repeats one value.
        """
        if self.n < DEPENDENT_CI_MIN_SAMPLES or self.degenerate:
            return False
        return self.relative_halfwidth(clock_step) <= target_rel


def median_ci_dependent(samples_in_order: Samples, confidence: float = 0.95) -> DependentCI:
    """Order-statistic CI of the median whose ranks use the long-run variance of I_t = 1[x_t ≤ median].

    sqrt(n)·(F_n(θ) − ½) → N(0, τ/4) for the true median θ, with τ the integrated autocorrelation time
    of I_t; inverting that gives the ranks n/2 ± q·sqrt(n·τ)/2 (τ = 1: the i.i.d. normal-approximation
    ranks). τ is estimated by non-overlapping batch means (≥ 20 batches) with the Politis–White batch
    length and a first-order bias correction; q is the Student t quantile with (batches − 1) degrees of
    freedom. O(n): two partitions and a few lag products, no sort.
    """
    _check_fraction("confidence", confidence)
    xs = _as_float_array(samples_in_order)
    n = int(xs.size)
    mid = n // 2
    part = np.partition(xs, [mid - 1, mid] if n > 1 else [0])
    med = float(part[mid]) if n % 2 else (float(part[mid - 1]) + float(part[mid])) / 2.0
    if n < DEPENDENT_CI_MIN_SAMPLES:
        j = max(_median_ci_lower_index(n, confidence), 0)
        lo, hi = _ranks_from_partition(part, mid, j)
        return DependentCI(lo, hi, med, n, float(n), CI_METHOD_IID_SMALL_N, 1, n, False, confidence)
    tau, length, batches = _indicator_tau(xs <= med)
    q = student_t_quantile(0.5 + confidence / 2.0, float(batches - 1))
    j = math.floor(n / 2.0 - 0.5 - q * math.sqrt(n * tau) / 2.0)
    if j < 0:  # fewer effective samples than the confidence needs: nothing narrower than the range
        lo, hi, defined = float(np.min(xs)), float(np.max(xs)), False
    else:
        (lo, hi), defined = _ranks_from_partition(part, mid, j), True
    return DependentCI(lo, hi, med, n, n / tau, CI_METHOD_BATCH_MEANS, length, batches, defined, confidence)


def _ranks_from_partition(part: FloatArray, mid: int, j: int) -> tuple[float, float]:
    # ``part`` is partitioned at ``mid``: ranks below it live in part[:mid], ranks above in part[mid:],
    # so each order statistic needs a partition of half the array only.
    n = part.size
    if j >= mid:
        return float(part[mid]), float(part[mid])
    lo = float(np.partition(part[:mid], j)[j])
    hi_rank = n - 1 - j - mid
    hi = float(np.partition(part[mid:], hi_rank)[hi_rank])
    return lo, hi


def _indicator_tau(indicator: BoolArray) -> tuple[float, int, int]:
    """(τ, batch length, number of batches) of a 0/1 series by bias-corrected batch means."""
    n = int(indicator.size)
    p = float(np.count_nonzero(indicator)) / n
    if p <= 0.0 or p >= 1.0:  # constant indicator (every sample equal): no variance to estimate
        return 1.0, 1, n
    ratio = _correlation_length(indicator, p)
    length = int(min(max(math.ceil((ratio * ratio * n) ** (1.0 / 3.0)), 1), n // MIN_BATCHES))
    batches = n // length
    # Length 1 (no detectable autocorrelation) is common: skip numpy's slow mean over 1-element rows.
    means = (
        indicator.astype(np.float64)
        if length == 1
        else indicator[: batches * length].reshape(batches, length).mean(axis=1)
    )
    pb = float(np.mean(means))
    if pb <= 0.0 or pb >= 1.0:
        return 1.0, length, batches
    long_run_var = length * float(np.var(means, ddof=1))
    # E[batch-means variance] ≈ σ²·(1 − G/(σ²L)): undo that first-order bias, at most doubling.
    correction = max(1.0 - ratio / length, 1.0 / MAX_BIAS_CORRECTION)
    return max(long_run_var / correction / (pb * (1.0 - pb)), TAU_FLOOR), length, batches


def _correlation_length(indicator: BoolArray, p: float) -> float:
    """Politis–White flat-top estimate of |G|/g(0), G = Σ|k|γ(k), g(0) = Σγ(k) (the long-run variance).

    The MSE-optimal batch length of batch means is (G/g(0))^(2/3)·n^(1/3) (bias −G/L against variance
    2g(0)²L/n). Lags are computed one at a time and only as far as the data need: the first run of K_N
    negligible autocorrelations ends the search (Politis & White 2004, §3.2).
    """
    n = int(indicator.size)
    gamma0 = p * (1.0 - p)
    k_n = max(5, math.ceil(math.sqrt(math.log10(n))))
    max_lag = min(math.ceil(math.sqrt(n)) + k_n, n // 4)
    threshold = PW_THRESHOLD_C * math.sqrt(math.log10(n) / n) * gamma0
    autocov = _IndicatorAutocovariance(indicator, p)
    acov: list[float] = []
    quiet, m_hat = 0, None
    for k in range(1, max_lag + 1):
        acov.append(autocov(k))
        quiet = quiet + 1 if abs(acov[-1]) < threshold else 0
        if quiet == k_n:
            m_hat = k - k_n
            break
    big_m = min(2 * m_hat, max_lag) if m_hat is not None else max_lag
    acov.extend(autocov(k) for k in range(len(acov) + 1, big_m + 1))
    if big_m == 0:
        return 0.0
    lags = np.arange(1, big_m + 1, dtype=np.float64)
    frac = lags / big_m
    weights = np.where(frac <= 0.5, 1.0, 2.0 * (1.0 - frac))  # flat-top lag window
    gam = np.asarray(acov[:big_m])
    g0 = gamma0 + 2.0 * float(np.sum(weights * gam))
    g_weighted = 2.0 * float(np.sum(weights * lags * gam))
    return abs(g_weighted) / g0 if g0 > 0.0 else 0.0


class _IndicatorAutocovariance:
    """γ(k) = (1/n)·Σ_t (I_t − p)(I_{t+k} − p) of a boolean series, from exact integer counts.

    Σ(I_t − p)(I_{t+k} − p) = #(I_t ∧ I_{t+k}) − p·(head + tail) + (n − k)·p², head and tail being the
    counts of ones in the two overlapping ranges. Counting a boolean AND is ~6x faster than a float dot
    product, and — unlike BLAS, which threads its dot product above ~10k elements — never waits for a
    descheduled thread on a busy machine (that turned a 30 µs product into 8 ms here).
    """

    def __init__(self, indicator: BoolArray, p: float) -> None:
        self.indicator, self.p, self.n = indicator, p, int(indicator.size)
        self.ones = int(np.count_nonzero(indicator))
        self.scratch = np.empty(self.n, dtype=np.bool_)

    def __call__(self, k: int) -> float:
        n, p, ind = self.n, self.p, self.indicator
        both = np.count_nonzero(np.logical_and(ind[:-k], ind[k:], out=self.scratch[: n - k]))
        # ones in ind[:n-k] and in ind[k:]: the total minus the k left out at either end, O(k)
        head = self.ones - int(np.count_nonzero(ind[n - k :]))
        tail = self.ones - int(np.count_nonzero(ind[:k]))
        return (float(both) - p * (head + tail) + (n - k) * p * p) / n


def ci_converged_dependent(
    samples_in_order: Samples, target_rel: float, confidence: float = 0.95, *, clock_step: float = 0.0
) -> bool:
    """The engine's adaptive stop rule: :meth:`DependentCI.converged` of :func:`median_ci_dependent`.

    Never True below :data:`DEPENDENT_CI_MIN_SAMPLES` samples, for an undefined interval, or for a
    zero-width / tie-dominated one; ``clock_step`` (same unit) is the least half-width ever assumed.
    """
    if len(samples_in_order) < DEPENDENT_CI_MIN_SAMPLES:
        return False
    return median_ci_dependent(samples_in_order, confidence).converged(target_rel, clock_step)


# ---------------------------------------------------------------------------------------------------
# Two-level CI across fresh processes


@dataclass(frozen=True)
class TwoLevelCI:
    """CI of the median over fresh processes (random-effects view). Same unit as the input.

    ``between_sd``: standard deviation of the per-process medians; ``within_se``: root-mean-square of the
    per-process medians' standard errors from within-process noise alone. ``between_halfwidth`` =
    t·between_sd/√N, ``within_halfwidth`` = sqrt(Σ hᵢ²)/N; the interval is the pooled median ± the larger.
    """

    estimate: float
    lo: float
    hi: float
    n_processes: int
    process_medians: tuple[float, ...]
    between_cv: float | None  # None for one process
    between_sd: float
    within_se: float
    between_halfwidth: float
    within_halfwidth: float
    between_dominates: bool
    method: str
    confidence: float

    def relative_halfwidth(self) -> float:
        """max(hi − estimate, estimate − lo) / estimate; ``inf`` when the estimate is ≤ 0."""
        if self.estimate <= 0.0:
            return math.inf
        return max(self.hi - self.estimate, self.estimate - self.lo) / self.estimate

    def processes_needed(self, target_rel: float) -> int:
        """Processes for a ±``target_rel`` half-width: ceil((z·cv/target)²) on the CV of the process medians.

        pyperf's rule carries a factor 4 (it sizes the interval's *full* width), which for our ±target
        half-width asks for 4× too many processes; we size the half-width we report. At least 2; with
        one process the CV is unknown: 2.
        """
        if target_rel <= 0.0:
            raise ValueError(f"target_rel must be > 0, got {target_rel!r}")
        if self.between_cv is None:
            return 2
        z = NormalDist().inv_cdf(0.5 + self.confidence / 2.0)
        return max(2, math.ceil(z * z * self.between_cv**2 / target_rel**2))


def two_level_median_ci(per_process_samples: Sequence[Samples], confidence: float = 0.95) -> TwoLevelCI:
    """Two-level (processes, then samples in order) CI of the median; one process = :func:`median_ci_dependent`.

    For N ≥ 2 processes: half-width h = max(t_{N−1}·s_between/√N, sqrt(Σ hᵢ²)/N) above the pooled
    median m, and m/(1 + h/m) below it (symmetric in ratio, so never negative); hᵢ the dependent
    half-width of process i (Kalibera & Jones' random-effects view). s_between
    already contains within-process noise; the second term is a floor because s_between from 2–3
    processes can be small by chance.
    """
    _check_fraction("confidence", confidence)
    if not per_process_samples:
        raise MeasurementError("no processes to summarize")
    cis = [median_ci_dependent(s, confidence) for s in per_process_samples]
    medians = np.array([ci.median for ci in cis])
    halves = np.array([max(ci.hi - ci.median, ci.median - ci.lo) for ci in cis])
    estimate = float(np.median(np.concatenate([_as_float_array(s) for s in per_process_samples])))
    n_proc = len(cis)
    if n_proc == 1:
        one = cis[0]
        z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
        return TwoLevelCI(
            estimate=estimate,
            lo=one.lo,
            hi=one.hi,
            n_processes=1,
            process_medians=(one.median,),
            between_cv=None,
            between_sd=0.0,
            within_se=float(halves[0]) / z,
            between_halfwidth=0.0,
            within_halfwidth=float(halves[0]),
            between_dominates=False,
            method=one.method,
            confidence=confidence,
        )
    between_sd = float(np.std(medians, ddof=1))
    between_half = student_t_quantile(0.5 + confidence / 2.0, float(n_proc - 1)) * between_sd / math.sqrt(n_proc)
    within_half = float(np.sqrt(np.sum(halves**2))) / n_proc
    # Each hᵢ is ≈ z·SE(medianᵢ) (its t quantile has ≥ 19 degrees of freedom, within 7% of z).
    within_se = float(np.sqrt(np.mean(halves**2))) / NormalDist().inv_cdf(0.5 + confidence / 2.0)
    half = max(between_half, within_half)
    centre = float(np.mean(medians))
    # Symmetric on the ratio scale, [m/(1+r), m·(1+r)] with r = half/m: equal to ±half to first order,
    # and never below zero, which ±half is with 2 processes (t₁ = 12.7) and a few % between them.
    ratio = 1.0 + half / estimate if estimate > 0.0 else math.inf
    return TwoLevelCI(
        estimate=estimate,
        lo=estimate / ratio if estimate > 0.0 else estimate - half,
        hi=estimate + half,
        n_processes=n_proc,
        process_medians=tuple(float(m) for m in medians),
        between_cv=between_sd / centre if centre > 0.0 else None,
        between_sd=between_sd,
        within_se=within_se,
        between_halfwidth=between_half,
        within_halfwidth=within_half,
        between_dominates=between_sd > BETWEEN_DOMINATES_RATIO * within_se,
        method=CI_METHOD_TWO_LEVEL,
        confidence=confidence,
    )


# ---------------------------------------------------------------------------------------------------
# Paired comparison of interleaved rounds


@dataclass(frozen=True)
class RatioCI:
    """variant / baseline latency ratio over paired rounds (> 1: the variant is slower).

    ``ratio`` is the geometric mean of the per-round ratios; ``lo``/``hi`` are None with ``reason``
    when no interval can be computed (one round).
    """

    ratio: float
    lo: float | None
    hi: float | None
    n_rounds: int
    method: str
    confidence: float
    reason: str | None = None


def paired_ratio_ci(
    baseline_round_medians: Sequence[float], variant_round_medians: Sequence[float], confidence: float = 0.95
) -> RatioCI:
    """CI of the variant/baseline ratio from interleaved rounds: Student t on the per-round log ratios.

    Pairing by round cancels drift that hits both variants alike (frequency, co-tenants); log ratios
    make the interval symmetric in "2× slower" and "2× faster" and its bounds positive.
    """
    _check_fraction("confidence", confidence)
    base = np.asarray(baseline_round_medians, dtype=np.float64)
    var = np.asarray(variant_round_medians, dtype=np.float64)
    if base.shape != var.shape or base.ndim != 1:
        raise ValueError(f"need two equally long 1-D sequences, got shapes {base.shape} and {var.shape}")
    if base.size == 0:
        raise MeasurementError("no rounds to compare")
    if np.any(base <= 0.0) or np.any(var <= 0.0):
        raise MeasurementError("round medians must be positive to form ratios")
    logs = np.log(var / base)
    n = int(logs.size)
    ratio = math.exp(float(np.mean(logs)))
    if n < 2:
        reason = "one round: a confidence interval needs at least 2 paired rounds"
        return RatioCI(ratio, None, None, n, RATIO_METHOD, confidence, reason)
    half = student_t_quantile(0.5 + confidence / 2.0, float(n - 1)) * float(np.std(logs, ddof=1)) / math.sqrt(n)
    mean = float(np.mean(logs))
    return RatioCI(ratio, math.exp(mean - half), math.exp(mean + half), n, RATIO_METHOD, confidence)


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


def tail_note(n: int, p: float, confidence: float = EARLY_STOPPING_CONFIDENCE) -> str | None:
    """Inline note for a reported tail percentile: ``"n < 662: no 99%-confidence bound"``, or None.

    A percentile of fewer samples than :func:`min_samples_for_percentile` is still a correct description
    of those samples, just not a bound on the p-th percentile of the latency distribution at
    ``confidence`` (MLPerf early stopping): say so next to the number instead of warning.
    """
    needed = min_samples_for_percentile(p, confidence)
    if n >= needed:
        return None
    return f"n < {needed}: no {confidence:.0%}-confidence bound"


# Samples needed before each reported tail has an early-stopping bound (64, 130, 662, 6636).
TAIL_SAMPLES_P90 = min_samples_for_percentile(0.90)
TAIL_SAMPLES_P95 = min_samples_for_percentile(0.95)
TAIL_SAMPLES_P99 = min_samples_for_percentile(0.99)
TAIL_SAMPLES_P999 = min_samples_for_percentile(0.999)


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
# Bimodality


@dataclass(frozen=True)
class Mode:
    """One mode of a bimodal latency distribution. ``location`` is the median of its samples (input unit)."""

    location: float
    weight: float  # fraction of ALL samples that belong to this mode (its outliers excluded)
    n: int


@dataclass(frozen=True)
class Modes:
    """Two modes split at ``split`` (the antimode of the fitted mixture): samples ≤ split are ``low``'s side.

    Each side's modified-z outliers belong to neither mode, so the weights may sum to less than 1.
    """

    low: Mode
    high: Mode
    split: float
    ashman_d: float
    delta_bic: float  # BIC(one Gaussian) − BIC(two-component mixture), on log latencies


def detect_modes(samples: Samples) -> Modes | None:
    """Two modes, or None: a 2-component Gaussian mixture on log latencies, accepted only when clear.

    Fit by EM on at most :data:`MODES_MAX_FIT_SAMPLES` evenly spaced order statistics (deterministic,
    order-independent), with a uniform background component for interference outliers. Accepted when
    BIC prefers two components by > 10, Ashman's D > 2, the fitted density dips between the two means,
    the data are sparser at that dip than at both modes, and each mode holds ≥ 5% of the samples.
    """
    return _detect_modes_sorted(np.sort(_as_float_array(samples)))


def _detect_modes_sorted(xs: FloatArray) -> Modes | None:
    n = int(xs.size)
    if n < MODES_MIN_SAMPLES or xs[0] <= 0.0 or xs[0] == xs[-1]:
        return None
    m = min(n, MODES_MAX_FIT_SAMPLES)
    y = np.log(xs[((np.arange(m) + 0.5) * (n / m)).astype(np.intp)])
    if y[-1] == y[0]:
        return None
    var_floor = _log_sigma_floor(xs) ** 2
    one_var = np.array([max(float(np.var(y)), var_floor)])
    one = _em(y, np.array([1.0]), np.array([float(np.mean(y))]), one_var, var_floor)
    two = _best_two_component_fit(y, var_floor)
    # Parameters: means, variances and free weights (background weight included): 3 for one mode, 6 for two.
    delta_bic = (-2.0 * one.ll + 3.0 * math.log(m)) - (-2.0 * two.ll + 6.0 * math.log(m))
    order = np.argsort(two.mu)
    w, mu, var = two.w[order], two.mu[order], two.var[order]
    ashman_d = math.sqrt(2.0) * float(mu[1] - mu[0]) / math.sqrt(float(var[0] + var[1]))
    if delta_bic <= MODES_MIN_DELTA_BIC or ashman_d <= MODES_MIN_ASHMAN_D:
        return None
    split_log = _antimode(w, mu, var)
    if split_log is None:
        return None
    split = math.exp(split_log)
    n_low = int(np.searchsorted(xs, split, side="right"))
    low, high = _mode_of(xs[:n_low], n), _mode_of(xs[n_low:], n)
    if low is None or high is None or min(low.weight, high.weight) < MODES_MIN_WEIGHT:
        return None
    if not _empirical_dip(xs, low.location, split, high.location, float(mu[1] - mu[0]) / 8.0):
        return None
    return Modes(low, high, split, ashman_d, delta_bic)


def _mode_of(side: FloatArray, n_total: int) -> Mode | None:
    # A mode's samples are those on its side of the split that are not outliers within that side, so
    # that a mode's weight and location do not absorb interference far beyond it.
    if side.size == 0:
        return None
    members = side[np.abs(modified_z_scores(side)) <= MODIFIED_Z_THRESHOLD]  # still sorted
    return Mode(_sorted_median(members), members.size / n_total, int(members.size))


def _empirical_dip(xs: FloatArray, low: float, split: float, high: float, half_width_log: float) -> bool:
    """The data themselves must be sparser at the split than at both modes (same log-width windows).

    A Gaussian mixture also "finds" a second component in a one-sided tail of interference delays (an
    exponential or flat tail): its fitted density dips, the data do not — those stay outliers.
    """

    def count(centre: float) -> int:
        lo, hi = centre * math.exp(-half_width_log), centre * math.exp(half_width_log)
        return int(np.searchsorted(xs, hi, side="right") - np.searchsorted(xs, lo, side="left"))

    return count(split) < MODES_DIP_RATIO * min(count(low), count(high))


def _log_sigma_floor(xs: FloatArray) -> float:
    # A mode cannot be narrower than the clock's quantization (the smallest gap between distinct values,
    # relative to the median) — else two adjacent tick values would look like two modes — nor than 0.1%.
    gaps = np.diff(xs)
    positive = gaps[gaps > 0.0]
    step = float(positive.min()) if positive.size else 0.0
    return max(MODES_SIGMA_FLOOR, step / _sorted_median(xs))


@dataclass(frozen=True)
class _MixtureFit:
    w: FloatArray  # weights of the Gaussian components (they sum to 1 − w_background)
    mu: FloatArray
    var: FloatArray
    w_background: float
    ll: float


def _best_two_component_fit(y: FloatArray, var_floor: float) -> _MixtureFit:
    # EM from several initial partitions of the sorted sample; keep the highest likelihood.
    fits = []
    for frac in _EM_INIT_SPLITS:
        cut = max(2, min(y.size - 2, int(frac * y.size)))
        parts = (y[:cut], y[cut:])
        w = np.array([cut / y.size, 1.0 - cut / y.size])
        mu = np.array([float(np.mean(p)) for p in parts])
        var = np.maximum(np.array([float(np.var(p)) for p in parts]), var_floor)
        fits.append(_em(y, w, mu, var, var_floor))
    return max(fits, key=lambda fit: fit.ll)


def _em(y: FloatArray, w: FloatArray, mu: FloatArray, var: FloatArray, var_floor: float) -> _MixtureFit:
    """EM for Gaussians on log latencies plus a uniform background over the sample's range.

    The background absorbs the far interference outliers every real latency sample has; without it a
    few percent of them stretch one Gaussian over the whole range and hide a genuine second mode.
    """
    log_bg = -math.log(float(y[-1] - y[0]))
    w_bg = MODES_BACKGROUND_INIT
    w = w * (1.0 - w_bg)
    log_p, log_total = _mixture_log_density(y, w, mu, var, w_bg, log_bg)
    ll = float(np.sum(log_total))
    for _ in range(_EM_MAX_ITER):
        resp = np.exp(log_p - log_total)
        nk = resp.sum(axis=1)
        if np.any(nk[:-1] < 1.0):  # a component emptied out: the fewer-component fit is the answer
            break
        w_bg = min(max(float(nk[-1]) / y.size, 1e-12), MODES_BACKGROUND_MAX)
        w = nk[:-1] / nk[:-1].sum() * (1.0 - w_bg)
        mu = np.einsum("km,m->k", resp[:-1], y) / nk[:-1]  # not BLAS: see _IndicatorAutocovariance
        var = np.maximum(np.sum(resp[:-1] * (y - mu[:, None]) ** 2, axis=1) / nk[:-1], var_floor)
        log_p, log_total = _mixture_log_density(y, w, mu, var, w_bg, log_bg)
        prev, ll = ll, float(np.sum(log_total))
        if ll - prev < _EM_TOL * y.size:
            break
    return _MixtureFit(w, mu, var, w_bg, ll)


def _mixture_log_density(
    y: FloatArray, w: FloatArray, mu: FloatArray, var: FloatArray, w_bg: float, log_bg: float
) -> tuple[FloatArray, FloatArray]:
    # Rows: log(w_k·N(y; mu_k, var_k)) per Gaussian, then the background's; and the mixture's log density.
    gauss = np.log(w)[:, None] - 0.5 * (np.log(2.0 * math.pi * var)[:, None] + (y - mu[:, None]) ** 2 / var[:, None])
    log_p = np.vstack([gauss, np.full((1, y.size), math.log(w_bg) + log_bg)])
    return log_p, np.logaddexp.reduce(log_p, axis=0)


def _antimode(w: FloatArray, mu: FloatArray, var: FloatArray) -> float | None:
    # The mixture is bimodal only if its density dips between the two means; the dip is the split.
    grid = np.linspace(mu[0], mu[1], _DIP_GRID)
    dens = np.sum(w[:, None] * np.exp(-0.5 * (grid - mu[:, None]) ** 2 / var[:, None]) / np.sqrt(var[:, None]), axis=0)
    i = int(np.argmin(dens))
    if i == 0 or i == _DIP_GRID - 1 or dens[i] >= min(dens[0], dens[-1]):
        return None
    return float(grid[i])


def outliers_by_mode(values: Samples, modes: Modes, threshold: float = MODIFIED_Z_THRESHOLD) -> int:
    """Modified-z outliers counted within each mode (split at ``modes.split``): a mode is not outliers."""
    xs = _as_float_array(values)
    low, high = xs[xs <= modes.split], xs[xs > modes.split]
    return sum(outliers_modified_z(part, threshold) for part in (low, high) if part.size)


# ---------------------------------------------------------------------------------------------------
# Summary


@dataclass(frozen=True)
class LatencyStats:
    """Summary of steady-state latencies; every time in seconds. Definitions: docs/statistics.md."""

    n: int
    median: float  # sample median (mean of the two middle values for even n)
    ci95: tuple[float, float]  # 95% CI of the median, valid under autocorrelation (see ci_method)
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
    outliers: int  # modified z-score > 10 (hyperfine), counted within each mode when bimodal
    mlperf_p90: float | None  # LoadGen early-stopping estimate; None when n < 64
    mlperf_p99: float | None  # None when n < 662
    mlperf_p90_t: int
    mlperf_p99_t: int
    ci_method: str = CI_METHOD_BATCH_MEANS  # how ci95 was computed (CI_METHOD_* constants)
    n_eff: float = 0.0  # effective number of independent samples behind ci95 (n / τ)
    modes: Modes | None = None  # two modes when the distribution is clearly bimodal


def summarize_latencies(latencies_ns: Sequence[int] | npt.NDArray[np.integer], *, seed: int = 0) -> LatencyStats:
    """Summarize raw integer-nanosecond latencies IN MEASUREMENT ORDER into seconds.

    ``ci95`` is :func:`median_ci_dependent` (the order matters: it measures the autocorrelation);
    every other field is order-independent. ``seed`` is kept for callers of the former bootstrap
    ``ci95`` and is unused: every statistic here is deterministic.
    Raises MeasurementError for an empty sample or a negative latency (a clock bug, not a measurement).
    """
    del seed
    raw = np.asarray(latencies_ns)
    if raw.size and raw.dtype.kind not in "iu":
        raise TypeError(f"latencies_ns must be integer nanoseconds, got dtype {raw.dtype}")
    in_order = _as_float_array(raw) / _NS_PER_S
    xs = np.sort(in_order)
    if xs[0] < 0:
        raise MeasurementError(f"negative latency {int(np.min(raw))} ns: the timer is not monotonic")
    n = int(xs.size)
    mean = float(np.mean(xs))
    std = float(np.std(xs, ddof=1)) if n > 1 else 0.0
    mlperf_p90, t90 = early_stopping_percentile(xs, 0.90)
    mlperf_p99, t99 = early_stopping_percentile(xs, 0.99)
    ci = median_ci_dependent(in_order, 0.95)
    modes = _detect_modes_sorted(xs)
    return LatencyStats(
        n=n,
        median=_sorted_median(xs),
        ci95=(ci.lo, ci.hi),
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
        outliers=outliers_by_mode(xs, modes) if modes else outliers_modified_z(xs),
        mlperf_p90=mlperf_p90,
        mlperf_p99=mlperf_p99,
        mlperf_p90_t=t90,
        mlperf_p99_t=t99,
        ci_method=ci.method,
        n_eff=ci.n_eff,
        modes=modes,
    )


# ---------------------------------------------------------------------------------------------------
# Process-level ratio test (edgebench compare)

PAIRED_TEST_METHOD = "paired t on per-round log ratios of process-level values"
WELCH_TEST_METHOD = "Welch t on log process-level values (unpaired)"


@dataclass(frozen=True)
class RatioTest:
    """B / A ratio of a process-level figure with a CI and a two-sided p-value (> 1: B is larger).

    One value per fresh process (or round) on each side: samples within a process are autocorrelated
    and processes differ, so the process, not the sample, is the unit of replication. ``lo``/``hi``/
    ``p_value`` are None with ``reason`` when too few processes were measured.
    """

    ratio: float
    lo: float | None
    hi: float | None
    p_value: float | None
    n_a: int
    n_b: int
    df: float | None
    paired: bool
    method: str
    confidence: float
    reason: str | None = None


def process_ratio_test(
    a_values: Sequence[float], b_values: Sequence[float], *, paired: bool, alpha: float = 0.05
) -> RatioTest:
    """Paired (same rounds: t on log(bᵢ/aᵢ)) or unpaired (Welch on log values) test of B/A = 1."""
    _check_fraction("alpha", alpha)
    la, lb = _positive_logs(a_values, "A"), _positive_logs(b_values, "B")
    if paired:
        if la.size != lb.size:
            raise ValueError(f"paired test needs as many rounds on both sides, got {la.size} and {lb.size}")
        d = lb - la
        mean, n = float(np.mean(d)), int(d.size)
        se = float(np.std(d, ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        df: float | None = float(n - 1) if n > 1 else None
        method, short = PAIRED_TEST_METHOD, n < 2
        why = "one round: a test needs at least 2 paired rounds"
    else:
        mean = float(np.mean(lb) - np.mean(la))
        short = la.size < 2 or lb.size < 2
        va = float(np.var(la, ddof=1)) / la.size if la.size > 1 else math.nan
        vb = float(np.var(lb, ddof=1)) / lb.size if lb.size > 1 else math.nan
        se = math.sqrt(va + vb) if not short else math.nan
        df = _welch_df(va, vb, int(la.size), int(lb.size)) if not short else None
        method = WELCH_TEST_METHOD
        why = "fewer than 2 processes on a side: no between-process variance to test against"
    confidence = 1.0 - alpha
    ratio = math.exp(mean)
    if short or df is None:
        return RatioTest(ratio, None, None, None, int(la.size), int(lb.size), None, paired, method, confidence, why)
    if se == 0.0:  # identical values in every process (a virtual clock): the ratio is exact
        p = 1.0 if mean == 0.0 else 0.0
        return RatioTest(ratio, ratio, ratio, p, int(la.size), int(lb.size), df, paired, method, confidence)
    t = abs(mean) / se
    p = min(1.0, 2.0 * _student_t_sf(t, df))
    half = student_t_quantile(1.0 - alpha / 2.0, df) * se
    lo, hi = math.exp(mean - half), math.exp(mean + half)
    return RatioTest(ratio, lo, hi, p, int(la.size), int(lb.size), df, paired, method, confidence)


def _positive_logs(values: Sequence[float], side: str) -> FloatArray:
    xs = np.asarray(values, dtype=np.float64)
    if xs.ndim != 1 or xs.size == 0:
        raise MeasurementError(f"no process-level values on side {side}")
    if not np.all(np.isfinite(xs)) or np.any(xs <= 0.0):
        raise MeasurementError(f"process-level values on side {side} must be finite and positive to form ratios")
    logs: FloatArray = np.log(xs)
    return logs


def _welch_df(va: float, vb: float, na: int, nb: int) -> float:
    """Welch–Satterthwaite degrees of freedom; the smaller side's n − 1 when both variances are 0."""
    denominator = va * va / (na - 1) + vb * vb / (nb - 1)
    if denominator == 0.0:
        return float(min(na, nb) - 1)
    return (va + vb) ** 2 / denominator
