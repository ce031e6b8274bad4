"""The process-level ratio test behind `edgebench compare`: exact against scipy, calibrated, powerful.

Samples within a process are autocorrelated (AR(1)) and each process has its own level (a random
effect), as [truth] measured on this machine. A test on per-process medians must keep its nominal
false-positive rate there; a Mann-Whitney U on the pooled raw samples does not, which is why compare
never uses it.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgebench.engine.stats import process_ratio_test

scipy_stats = pytest.importorskip("scipy.stats")

ALPHA = 0.05


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], rho: float, sigma: float) -> np.ndarray:
    """Stationary AR(1) noise along the last axis, marginal sd ``sigma``."""
    out = np.empty(shape)
    out[..., 0] = sigma * rng.standard_normal(shape[:-1])
    innovation = sigma * np.sqrt(1.0 - rho**2)
    for t in range(1, shape[-1]):
        out[..., t] = rho * out[..., t - 1] + innovation * rng.standard_normal(shape[:-1])
    return out


def _experiments(
    rng: np.random.Generator, n_exp: int, n_proc: int, n_samples: int, *, shift: float = 1.0, between_cv: float = 0.03
) -> tuple[np.ndarray, np.ndarray]:
    """Raw samples (seconds) of A and B: shape (n_exp, n_proc, n_samples); B's median is ``shift`` × A's."""
    level = 1e-3 * np.exp(between_cv * rng.standard_normal((2, n_exp, n_proc, 1)))
    noise = np.exp(_ar1(rng, (2, n_exp, n_proc, n_samples), rho=0.9, sigma=0.05))
    samples = level * noise
    samples[1] *= shift
    return samples[0], samples[1]


def test_matches_scipy_welch_and_paired_t() -> None:
    rng = np.random.default_rng(1)
    a, b = np.exp(rng.normal(0, 0.05, 5)), np.exp(rng.normal(0.1, 0.08, 4))
    welch = process_ratio_test(a, b, paired=False)
    ref = scipy_stats.ttest_ind(np.log(b), np.log(a), equal_var=False)
    assert welch.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert welch.df == pytest.approx(ref.df, rel=1e-9)
    lo, hi = ref.confidence_interval(0.95)
    assert (welch.lo, welch.hi) == pytest.approx((np.exp(lo), np.exp(hi)), rel=1e-9)
    b5 = np.exp(np.log(a) + rng.normal(0.05, 0.02, 5))
    paired = process_ratio_test(a, b5, paired=True)
    ref = scipy_stats.ttest_rel(np.log(b5), np.log(a))
    assert paired.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert paired.ratio == pytest.approx(np.exp(np.mean(np.log(b5 / a))))
    lo, hi = ref.confidence_interval(0.95)
    assert (paired.lo, paired.hi) == pytest.approx((np.exp(lo), np.exp(hi)), rel=1e-9)


def test_too_few_processes_give_no_test_and_say_why() -> None:
    one = process_ratio_test([1.0], [1.5], paired=False)
    assert one.p_value is None and one.lo is None and "fewer than 2 processes" in (one.reason or "")
    assert one.ratio == pytest.approx(1.5)
    round_ = process_ratio_test([1.0], [1.5], paired=True)
    assert round_.p_value is None and "2 paired rounds" in (round_.reason or "")
    exact = process_ratio_test([1.0, 1.0], [1.2, 1.2], paired=False)  # virtual clock: identical processes
    assert exact.p_value == 0.0 and exact.lo == exact.hi == pytest.approx(1.2)
    with pytest.raises(Exception, match="positive"):
        process_ratio_test([1.0, 0.0], [1.0, 1.0], paired=False)
    with pytest.raises(ValueError, match="as many rounds"):
        process_ratio_test([1.0, 1.0], [1.0], paired=True)


def test_same_distribution_is_not_significant_at_the_nominal_rate() -> None:
    """2000 A/A experiments, 5 processes each, AR(1) rho 0.9 samples: false positives ≈ alpha."""
    rng = np.random.default_rng(20261202)
    a, b = _experiments(rng, 2000, 5, 300)
    ma, mb = np.median(a, axis=-1), np.median(b, axis=-1)
    p = np.array([process_ratio_test(x, y, paired=False, alpha=ALPHA).p_value for x, y in zip(ma, mb, strict=True)])
    rate = float(np.mean(p <= ALPHA))
    assert 0.03 <= rate <= 0.07, rate  # ±4 binomial SEs around 0.05
    # the same data, tested the way compare refuses to: pooled raw samples, Mann-Whitney U
    pooled = scipy_stats.mannwhitneyu(a.reshape(2000, -1)[:300], b.reshape(2000, -1)[:300], axis=1).pvalue
    assert float(np.mean(pooled <= ALPHA)) > 0.4  # calls noise significant most of the time


def test_paired_rounds_cancel_drift_and_stay_calibrated() -> None:
    """Interleaved rounds share a machine state (drift up to ±15 %): paired t stays at alpha."""
    rng = np.random.default_rng(7)
    a, b = _experiments(rng, 2000, 5, 200, between_cv=0.005)
    drift = np.exp(0.15 * rng.standard_normal((2000, 5, 1)))  # round r hits A and B alike
    ma, mb = np.median(a * drift, axis=-1), np.median(b * drift, axis=-1)
    p = np.array([process_ratio_test(x, y, paired=True).p_value for x, y in zip(ma, mb, strict=True)])
    assert 0.03 <= float(np.mean(p <= ALPHA)) <= 0.07


def test_a_real_20_percent_shift_is_detected() -> None:
    rng = np.random.default_rng(3)
    a, b = _experiments(rng, 300, 5, 300, shift=1.2)
    ma, mb = np.median(a, axis=-1), np.median(b, axis=-1)
    tests = [process_ratio_test(x, y, paired=False) for x, y in zip(ma, mb, strict=True)]
    power = float(np.mean([t.p_value is not None and t.p_value <= ALPHA for t in tests]))
    assert power >= 0.99, power
    ratios = np.array([t.ratio for t in tests])
    assert float(np.median(ratios)) == pytest.approx(1.2, rel=0.01)
    covered = np.mean([t.lo is not None and t.hi is not None and t.lo <= 1.2 <= t.hi for t in tests])
    assert covered >= 0.9  # the 95 % CI holds the true ratio (sampling error of 300 experiments allowed)
