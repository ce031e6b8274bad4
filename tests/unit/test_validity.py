"""Each validity warning fires on a distribution built for it and stays silent on a clean run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from edgebench.engine import validity
from edgebench.engine.stats import summarize_latencies
from edgebench.engine.validity import check_validity
from edgebench.records import ValidityWarning

MIB = 1024 * 1024
ALL_CODES = {
    "high_cv",
    "min_max_far",
    "first_sample_outlier",
    "warmup_not_settled",
    "too_few_samples_p90",
    "too_few_samples_p99",
    "timer_resolution",
    "high_load",
    "not_converged",
    "outliers",
    "rss_growth",
    "trend",
}


def _clean(n: int = 1000, seed: int = 0) -> np.ndarray:
    # ~1 ms, CV ≈ 2%: a quiet machine.
    return np.round(np.random.default_rng(seed).lognormal(np.log(1e6), 0.02, n)).astype(np.int64)


def _run(latencies: np.ndarray, **overrides: Any) -> list[ValidityWarning]:
    kwargs: dict[str, Any] = {
        "latencies_ns": latencies.tolist(),
        "warmup_latencies_ns": _clean(50, seed=99).tolist(),
        "first_inference_s": 0.02,
        "timer_resolution_s": 1e-9,
        "load_avg_at_start": (0.2, 0.3, 0.3),
        "logical_cpus": 4,
        "stop_reason": "converged",
        "target_ci": 0.01,
        "rss_growth_bytes": 1 * MIB,
        "peak_rss_bytes": 100 * MIB,
    }
    kwargs.update(overrides)
    warnings: list[ValidityWarning] = check_validity(summarize_latencies(latencies), **kwargs)
    return warnings


def _codes(warnings: list[ValidityWarning]) -> set[str]:
    return {w.code for w in warnings}


def test_clean_run_has_no_warning() -> None:
    assert _run(_clean()) == []


def _fired(code: str, warnings: list[ValidityWarning]) -> ValidityWarning:
    found = [w for w in warnings if w.code == code]
    assert len(found) == 1, _codes(warnings)
    warning = found[0]
    assert warning.message and warning.hint
    assert any(ch.isdigit() for ch in warning.message)  # the message carries the numbers
    return warning


def test_high_cv() -> None:
    lat = np.round(np.random.default_rng(1).lognormal(np.log(1e6), 0.3, 1000)).astype(np.int64)
    w = _fired("high_cv", _run(lat))
    assert "% of the mean" in w.message
    assert validity.check_high_cv(summarize_latencies(_clean())) is None


def test_min_max_far() -> None:
    lat = _clean()
    lat[500] = 2 * 10**6  # one 2 ms sample: max 100% above the mean, CV still small
    warnings = _run(lat)
    _fired("min_max_far", warnings)
    assert "high_cv" not in _codes(warnings)
    assert "outliers" not in _codes(warnings)  # one outlier in 1000 is not interference


def test_first_sample_outlier() -> None:
    lat = _clean()
    lat[0] = 3 * 10**6
    w = _fired("first_sample_outlier", _run(lat))
    assert "warmup" in w.hint
    moved = _clean()
    moved[700] = 3 * 10**6  # the same slow sample elsewhere is not a cold start
    assert "first_sample_outlier" not in _codes(_run(moved))


def test_warmup_not_settled() -> None:
    slow_warmup = (_clean(60, seed=5) * 1.5).astype(np.int64).tolist()
    w = _fired("warmup_not_settled", _run(_clean(), warmup_latencies_ns=slow_warmup))
    assert "--warmup-time" in w.hint
    cold_then_warm = [50 * 10**6] * 10 + _clean(20, seed=6).tolist()  # cold start only early on
    assert _run(_clean(), warmup_latencies_ns=cold_then_warm) == []
    assert _run(_clean(), warmup_latencies_ns=[5 * 10**6]) == []  # too short to judge


def test_too_few_samples() -> None:
    warnings = _run(_clean(100))
    w = _fired("too_few_samples_p99", warnings)
    assert "662" in w.message and "--min-iters" in w.hint
    assert "too_few_samples_p90" not in _codes(warnings)
    _fired("too_few_samples_p90", _run(_clean(50)))
    _fired("too_few_samples_p99", _run(_clean(661)))
    assert _run(_clean(662)) == []


def test_timer_resolution() -> None:
    _fired("timer_resolution", _run(_clean(), timer_resolution_s=2e-6))
    assert _run(_clean(), timer_resolution_s=1e-7) == []
    assert _run(_clean(), timer_resolution_s=0.0) == []


def test_high_load() -> None:
    w = _fired("high_load", _run(_clean(), load_avg_at_start=(3.0, 1.0, 1.0)))
    assert "3.00" in w.message and "close other programs" in w.hint
    assert _run(_clean(), load_avg_at_start=(2.0, 1.0, 1.0)) == []  # exactly half of 4 CPUs
    assert _run(_clean(), load_avg_at_start=None) == []


def test_not_converged() -> None:
    w = _fired("not_converged", _run(_clean(), stop_reason="max_time", target_ci=0.0001))
    assert "--max-time" in w.hint
    assert _run(_clean(), stop_reason="max_time", target_ci=0.05) == []
    assert _run(_clean(), stop_reason="converged", target_ci=0.0001) == []
    assert _run(_clean(), stop_reason="max_time", target_ci=0.0) == []


def test_outliers() -> None:
    lat = _clean()
    lat[1::10] = 5 * 10**6  # 10% of the samples 5x slower: interference
    warnings = _run(lat)
    w = _fired("outliers", warnings)
    assert "100 of 1000" in w.message
    few = _clean()
    few[1::50] = 5 * 10**6  # 2%
    assert "outliers" not in _codes(_run(few))


@pytest.mark.parametrize(
    ("growth", "peak", "fires"),
    [
        (20 * MIB, 100 * MIB, True),
        (5 * MIB, 20 * MIB, False),  # 25% of peak but under 8 MiB: allocator noise
        (12 * MIB, 200 * MIB, False),  # over 8 MiB but 6% of peak
        (20 * MIB, None, False),
        (None, 100 * MIB, False),
    ],
)
def test_rss_growth(growth: int | None, peak: int | None, fires: bool) -> None:
    warnings = _run(_clean(), rss_growth_bytes=growth, peak_rss_bytes=peak)
    if fires:
        assert "MiB" in _fired("rss_growth", warnings).message
    else:
        assert warnings == []


def test_trend() -> None:
    ramp = np.linspace(1.0, 1.3, 1000)  # 30% slower by the end: throttling
    lat = (_clean() * ramp).astype(np.int64)
    warnings = _run(lat)
    w = _fired("trend", warnings)
    assert "throttl" in w.hint
    assert "high_cv" not in _codes(warnings)
    faster = (_clean() / ramp).astype(np.int64)  # getting faster is not throttling
    assert "trend" not in _codes(_run(faster))
    assert "trend" not in _codes(_run((_clean(20) * np.linspace(1, 2, 20)).astype(np.int64)))


def test_codes_are_the_documented_set_and_unique() -> None:
    lat = np.round(np.random.default_rng(3).lognormal(np.log(1e5), 0.5, 40)).astype(np.int64)
    lat[0] = 10**7
    warnings = _run(
        lat,
        stop_reason="max_time",
        target_ci=0.0001,
        timer_resolution_s=1e-6,
        load_avg_at_start=(9.0, 9.0, 9.0),
        rss_growth_bytes=50 * MIB,
        warmup_latencies_ns=[10**7] * 9,
    )
    codes = [w.code for w in warnings]
    assert len(codes) == len(set(codes))
    assert set(codes) <= ALL_CODES
    assert len(codes) >= 8
