"""The measurement engine on the fake backend's virtual clock: stopping rules and derived figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebench.engine import launcher
from edgebench.engine.runner import validate_spec
from edgebench.engine.stats import ci_relative_halfwidth
from edgebench.errors import BackendError, UsageError
from edgebench.records import Failure, RunSpec
from edgebench.zoo import resolve_model
from tests.conftest import fake_spec


def run(model: Path, **kw: object):
    return launcher.run(fake_spec(model, **kw), resolve_model(str(model)).info)


def test_adaptive_stop_converges_once_minimums_are_met(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"fake_sigma": 0.02}, min_time_s=0.5, min_iters=200)
    m = rec.measurements
    assert m.stop_reason == "converged"
    assert len(m.latencies_ns) >= 200
    assert m.window_wall_s >= 0.5
    # stopping needs CI95 within ±1 %; a 2 % lognormal reaches it right after the minimums
    assert ci_relative_halfwidth(sorted(m.latencies_ns)) <= 0.01
    assert m.window_wall_s < 0.6


def test_noisy_distribution_runs_until_max_time_and_warns(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"fake_sigma": 1.5}, min_time_s=0.1, max_time_s=0.3, target_ci=0.001)
    assert rec.measurements.stop_reason == "max_time"
    assert rec.measurements.window_wall_s == pytest.approx(0.3, rel=0.02)
    codes = {w.code for w in rec.warnings}
    assert "not_converged" in codes and "high_cv" in codes


def test_target_ci_zero_disables_adaptive_stop(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, target_ci=0.0, min_time_s=0.25, min_iters=10)
    assert rec.measurements.stop_reason == "minimums_met"
    assert rec.measurements.window_wall_s == pytest.approx(0.25, rel=0.1)


def test_min_iters_dominates_when_calls_are_slow(tiny_onnx: Path) -> None:
    rec = run(
        tiny_onnx,
        backend_options={"fake_latency_s": 0.05, "fake_distribution": "constant"},
        min_time_s=0.1,
        min_iters=40,
        max_time_s=100,
    )
    assert len(rec.measurements.latencies_ns) == 40  # 40 × 50 ms = 2 s virtual, well past min_time
    assert rec.summary.latency_median_s == pytest.approx(0.05)
    assert rec.summary.latency_std_s == 0.0


def test_throughput_is_batch_times_iterations_over_window(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, batch=4, backend_options={"fake_distribution": "constant"})
    s, m = rec.summary, rec.measurements
    assert s.batch == 4
    assert s.throughput_ips == pytest.approx(4 * s.iterations / m.window_wall_s)
    assert s.throughput_ips == pytest.approx(4000, rel=0.01)  # 1 ms per batch of 4


def test_raw_samples_are_kept_and_reproduce_the_summary(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx)
    lat = np.array(rec.measurements.latencies_ns) / 1e9
    assert rec.summary.iterations == lat.size
    assert rec.summary.latency_median_s == pytest.approx(float(np.median(lat)))
    assert rec.summary.latency_mean_s == pytest.approx(float(lat.mean()))
    assert rec.summary.latency_min_s == pytest.approx(float(lat.min()))


def test_phases_are_recorded(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, warmup_time_s=0.05)
    m = rec.measurements
    assert m.first_inference_s == pytest.approx(1e-3, rel=0.2)
    assert sum(m.warmup_latencies_ns) >= 0.05e9
    assert m.load_time_s >= 0
    assert m.memory.peak_rss_bytes and m.memory.peak_rss_bytes >= (m.memory.rss_after_load_bytes or 0)
    assert "VmHWM" in m.memory.semantics


def test_drift_is_flagged(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"fake_distribution": "drift"}, target_ci=0.0, min_iters=600)
    assert "trend" in {w.code for w in rec.warnings}


def test_extra_collectors_bracket_the_window(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, collectors=("fake",))
    assert rec.measurements.collected == {"fake": {"fake_windows": 1}}
    with pytest.raises(UsageError, match="unknown collector 'nope'"):
        run(tiny_onnx, collectors=("nope",))


def test_backend_failure_inline_is_a_failed_record(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"fake_crash": "run"})
    assert rec.status == "failed"
    assert rec.error == Failure("BackendError", "fake backend failed on purpose during run")
    assert rec.summary is None


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("min_time_s", -1.0, "must not be negative"),
        ("max_time_s", 0.0, "must be positive"),
        ("min_iters", 0, "at least 1"),
        ("threads", 0, "positive integer"),
        ("batch", -2, "positive integer"),
        ("target_ci", 1.5, "fraction"),
        ("min_time_s", 10.0, "exceeds --max-time"),
    ],
)
def test_impossible_settings_are_refused(field: str, value: object, match: str) -> None:
    spec = RunSpec(model="m", **{"max_time_s": 5.0, field: value})  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=match):
        validate_spec(spec)


def test_runtime_errors_map_to_the_documented_exit_codes() -> None:
    from edgebench import errors

    assert issubclass(BackendError, errors.EdgebenchError) and BackendError("x").exit_code == 4
    codes = {
        cls.__name__: cls.exit_code
        for cls in (
            errors.UsageError,
            errors.ModelError,
            errors.ShapeError,
            errors.BackendUnavailable,
            errors.PluginError,
            errors.MeasurementError,
            errors.StoreError,
            errors.SchemaError,
        )
    }
    assert codes == {
        "UsageError": 2,
        "ModelError": 3,
        "ShapeError": 3,
        "BackendUnavailable": 4,
        "PluginError": 5,
        "MeasurementError": 6,
        "StoreError": 7,
        "SchemaError": 7,
    }
