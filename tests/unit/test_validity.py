"""Each validity warning fires on a distribution built for it and stays silent on a clean run."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from edgebench.engine import validity
from edgebench.engine.stats import TwoLevelCI, summarize_latencies, two_level_median_ci
from edgebench.engine.validity import check_validity
from edgebench.records import ValidityWarning

MIB = 1024 * 1024
ALL_CODES = {
    "high_cv",
    "min_max_far",
    "first_sample_outlier",
    "warmup_not_settled",
    "too_few_samples_p90",
    "timer_resolution",
    "high_load",
    "not_converged",
    "outliers",
    "rss_growth",
    "trend",
    "bimodal",
    "oversubscribed",
    "between_process_variation",
    "window_overhead",
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
    # p99 with fewer than 662 samples is no warning any more: reporters show stats.tail_note inline.
    assert _run(_clean(100)) == []
    assert _run(_clean(661)) == []
    w = _fired("too_few_samples_p90", _run(_clean(50)))
    assert "64" in w.message and "--min-iters" in w.hint
    assert _run(_clean(64)) == []


def test_timer_resolution() -> None:
    w = _fired("timer_resolution", _run(_clean(), timer_resolution_s=2e-6))
    assert "2 µs" in w.message and "clock step" in w.message
    assert _run(_clean(), timer_resolution_s=1e-7) == []
    assert _run(_clean(), timer_resolution_s=0.0) == []
    # the measured clock step, when given, is what counts (not the cost of two reads)
    assert _run(_clean(), timer_resolution_s=2e-6, clock_step_ns=10) == []
    _fired("timer_resolution", _run(_clean(), timer_resolution_s=1e-9, clock_step_ns=2000))


def test_high_load() -> None:
    w = _fired("high_load", _run(_clean(), load_avg_at_start=(3.0, 1.0, 1.0)))
    assert "3.00" in w.message and "close other programs" in w.hint
    assert _run(_clean(), load_avg_at_start=(2.0, 1.0, 1.0)) == []  # exactly half of 4 CPUs
    assert _run(_clean(), load_avg_at_start=None) == []


def test_not_converged() -> None:
    w = _fired("not_converged", _run(_clean(), stop_reason="max_time", target_ci=0.0001))
    assert "--max-time" in w.hint and "effective samples" in w.message
    assert _run(_clean(), stop_reason="max_time", target_ci=0.05) == []
    assert _run(_clean(), stop_reason="converged", target_ci=0.0001) == []
    assert _run(_clean(), stop_reason="max_time", target_ci=0.0) == []


def test_not_converged_judges_ties_and_autocorrelation() -> None:
    ties = np.full(1000, 3946, dtype=np.int64)
    ties[::100] = 3990
    w = validity.check_not_converged(ties.tolist(), "max_time", 0.5)
    assert w is not None and "degenerate" in w.message
    # a drifting series converges under the i.i.d. rule but not under the dependent one
    drift = np.round(1e6 + 1e4 * np.sin(np.linspace(0, 4 * np.pi, 2000))).astype(np.int64)
    w = validity.check_not_converged(drift.tolist(), "max_time", 0.005)
    assert w is not None and "effective samples of 2000" in w.message
    assert validity.check_not_converged(_clean(50).tolist(), "max_time", 0.5) is not None  # < 100 samples


def test_outliers() -> None:
    lat = _clean()
    delays = np.random.default_rng(11).uniform(0.5e6, 4e6, 100).astype(np.int64)
    lat[1::10] += delays  # 10% of the samples delayed by 0.5–4 ms: interference, not a second mode
    warnings = _run(lat)
    w = _fired("outliers", warnings)
    assert "100 of 1000" in w.message and "from the median)" in w.message
    assert "bimodal" not in _codes(warnings)
    few = _clean()
    few[1::50] = 5 * 10**6  # 2%
    assert "outliers" not in _codes(_run(few))


def _bimodal(n: int = 2000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low = np.arange(n) % 100 < 81  # 81% at 3.8 µs, 19% at 6.1 µs
    values = np.where(low, rng.lognormal(np.log(3800), 0.02, n), rng.lognormal(np.log(6100), 0.02, n))
    return np.round(values).astype(np.int64)


def test_bimodal() -> None:
    lat = _bimodal()
    warnings = _run(lat, timer_resolution_s=1e-9, warmup_latencies_ns=_bimodal(50, 1).tolist())
    w = _fired("bimodal", warnings)
    assert re.match(r"two modes: 3\.8 µs \(81%\) and 6\.(09|1|11) µs \(19%\)", w.message), w.message
    assert "taskset" in w.hint
    # the 19% mode is not outliers: the old rule counted all of it
    assert "outliers" not in _codes(warnings)
    assert summarize_latencies(lat).outliers == 0
    lat[::50] = 60_000  # 2% outliers within the modes' own spread are still counted
    assert summarize_latencies(lat).outliers == 40


def test_bimodal_within_mode_outliers_message() -> None:
    lat = _bimodal()
    lat[::10] = 60_000 + np.arange(200)  # 10% far above both modes
    stats = summarize_latencies(lat)
    assert stats.modes is not None
    w = validity.check_outliers(stats)
    assert w is not None and "200 of 2000" in w.message and "their mode" in w.message


def test_bimodal_explicit_modes_argument() -> None:
    modes = summarize_latencies(_bimodal()).modes
    assert modes is not None
    w = _fired("bimodal", _run(_clean(), modes=modes))  # modes given by the caller win over stats.modes
    assert "3.8 µs" in w.message


def test_oversubscribed() -> None:
    w = _fired("oversubscribed", _run(_clean(), threads=8, logical_cpus=4))
    assert "8 threads on 4 logical CPUs" in w.message and "--threads" in w.hint
    assert _run(_clean(), threads=4, logical_cpus=4) == []
    assert _run(_clean(), threads=None) == []


def test_window_overhead() -> None:
    lat = _clean()
    busy_s = float(lat.sum()) / 1e9
    w = _fired("window_overhead", _run(lat, window_s=busy_s * 1.05))
    assert "4.8%" in w.message and "--batch" in w.hint
    assert _run(lat, window_s=busy_s * 1.005) == []
    assert _run(lat, window_s=1.0, window_overhead_s=0.005) == []
    _fired("window_overhead", _run(lat, window_s=1.0, window_overhead_s=0.02))
    assert _run(lat, window_s=None, window_overhead_s=0.5) == []


def _two_level(offsets_ns: list[int], seed: int = 0) -> TwoLevelCI:
    rng = np.random.default_rng(seed)
    procs = [np.round(rng.lognormal(np.log(1e6), 0.02, 1000)).astype(np.int64) + off for off in offsets_ns]
    return two_level_median_ci(procs)


def test_between_process_variation() -> None:
    spread = _two_level([0, 40_000, -30_000])
    w = _fired("between_process_variation", _run(_clean(), two_level=spread))
    assert "3 fresh processes" in w.message and "CV" in w.message
    assert f"--processes {spread.processes_needed(0.01)} for ±1.0%" in w.hint
    assert "governor" in w.hint and "quieter machine" in w.hint
    assert _run(_clean(), two_level=_two_level([0, 0, 0])) == []
    assert _run(_clean(), two_level=_two_level([0])) == []


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
        threads=16,
        window_s=1.0,
        two_level=_two_level([0, 40_000, -30_000]),
        modes=summarize_latencies(_bimodal()).modes,
    )
    codes = [w.code for w in warnings]
    assert len(codes) == len(set(codes))
    assert set(codes) <= ALL_CODES
    assert len(codes) >= 12
    assert all("us " not in w.message for w in warnings)  # "µs", never "us"
