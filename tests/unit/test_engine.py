"""The measurement engine on the fake backend's virtual clock: stopping rules and derived figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebench.engine.stats import median_ci_dependent
from edgebench.engine.validate import validate_spec
from edgebench.errors import BackendError, UsageError
from edgebench.records import Failure, RunSpec
from tests.conftest import fake_spec, run_inline


def run(model: Path, **kw: object):
    return run_inline(fake_spec(model, **kw))


def test_adaptive_stop_converges_once_minimums_are_met(tiny_onnx: Path) -> None:
    rec = run(
        tiny_onnx, backend_options={"sigma": 0.02}, min_time_s=0.5, min_iters=200, scenario_options={"tail": "none"}
    )
    m = rec.measurements
    assert m.stop_reason == "converged"
    assert len(m.latencies_ns) >= 200
    assert m.window_wall_s >= 0.5
    ci = median_ci_dependent(m.latencies_ns)
    assert max(ci.hi - ci.median, ci.median - ci.lo) / ci.median <= 0.01
    assert m.window_wall_s < 0.6


def test_noisy_distribution_runs_until_max_time_and_warns(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"sigma": 1.5}, min_time_s=0.1, max_time_s=0.3, target_ci=0.001)
    assert rec.measurements.stop_reason == "max_time"
    assert rec.measurements.window_wall_s == pytest.approx(0.3, rel=0.02)
    codes = {w.code for w in rec.warnings}
    assert "not_converged" in codes and "high_cv" in codes


def test_target_ci_zero_disables_adaptive_stop(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, target_ci=0.0, min_time_s=0.25, min_iters=10, scenario_options={"tail": "none"})
    assert rec.measurements.stop_reason == "minimums_met"
    assert rec.measurements.window_wall_s == pytest.approx(0.25, rel=0.1)


def test_min_iters_dominates_when_calls_are_slow(tiny_onnx: Path) -> None:
    rec = run(
        tiny_onnx,
        backend_options={"latency_s": 0.05, "distribution": "constant"},
        min_time_s=0.1,
        min_iters=40,
        max_time_s=100,
        target_ci=0.0,
        scenario_options={"tail": "none"},
    )
    assert len(rec.measurements.latencies_ns) == 40  # 40 × 50 ms = 2 s virtual, well past min_time
    assert rec.summary.latency_median_s == pytest.approx(0.05)
    assert rec.summary.latency_std_s == 0.0


def test_tail_extends_the_run_to_bound_p99(tiny_onnx: Path) -> None:
    rec = run(
        tiny_onnx,
        backend_options={"latency_s": 0.01, "distribution": "constant"},
        min_time_s=0.1,
        min_iters=10,
        max_time_s=100,
        target_ci=0.0,
    )
    assert len(rec.measurements.latencies_ns) == 662  # LoadGen's minimum for a p99 bound
    assert rec.summary.mlperf_p99_s is not None


def test_ties_never_count_as_converged(tiny_onnx: Path) -> None:
    # a constant latency gives a zero-width CI: the old rule stopped "converged" at once
    rec = run(
        tiny_onnx,
        backend_options={"distribution": "constant"},
        min_time_s=0.05,
        max_time_s=0.2,
        target_ci=0.00001,
        min_iters=10,
    )
    assert rec.measurements.stop_reason == "max_time"


def test_throughput_is_batch_over_mean_latency(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, batch=4, backend_options={"distribution": "constant"})
    s, m = rec.summary, rec.measurements
    assert s.batch == 4 and s.batch_source == "--batch"
    mean_s = float(np.mean(m.latencies_ns)) / 1e9
    assert s.throughput_ips == pytest.approx(4 / mean_s, rel=1e-9)
    assert s.throughput_ips == pytest.approx(4000, rel=0.01)  # 1 ms per batch of 4
    assert s.calls_per_s == pytest.approx(1000, rel=0.01)
    assert s.latency_per_sample_median_s == pytest.approx(s.latency_median_s / 4)


def test_fixed_leading_dimension_is_not_a_batch(tmp_path: Path) -> None:
    from tests.conftest import make_onnx

    model = make_onnx(tmp_path / "fixed.onnx", batch=2, features=5, dtype="int64")
    rec = run(model, backend_options={"distribution": "constant"})
    assert rec.summary.batch == 1 and rec.summary.batch_source.startswith("fixed")
    rec2 = run(model, batch_dim=0, backend_options={"distribution": "constant"})
    assert rec2.summary.batch == 2 and rec2.summary.throughput_ips == pytest.approx(2000, rel=0.01)


def test_window_excludes_stop_checks_and_records_overhead(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"distribution": "constant"}, target_ci=0.0, min_time_s=0.2)
    m = rec.measurements
    # on the virtual clock the only time in the window is the calls themselves
    assert m.window_wall_s == pytest.approx(sum(m.latencies_ns) / 1e9)
    assert m.window_overhead_s == pytest.approx(0.0, abs=1e-12)
    assert m.stop_checks >= 2 and m.window is not None
    assert m.window.end_unix_ns >= m.window.start_unix_ns


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
    assert rec.executor == "inline" and rec.scenario.name == "loop"
    assert rec.effective["distribution"] == "lognormal"
    assert rec.environment.captured_by == "worker" and rec.environment.pid


def test_drift_is_flagged(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"distribution": "drift"}, target_ci=0.0, min_iters=600)
    assert "trend" in {w.code for w in rec.warnings}


def test_extra_collectors_bracket_the_window(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, collectors=("fake",))
    assert rec.measurements.collected == {"fake": {"fake_windows": 1}}
    with pytest.raises(UsageError, match="unknown collector 'nope'"):
        run(tiny_onnx, collectors=("nope",))


def test_device_timer_latencies_are_kept(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"device_timer": True, "distribution": "constant"})
    m = rec.measurements
    assert len(m.device_latencies_ns) == len(m.latencies_ns)
    assert all(d == h - 1000 for d, h in zip(m.device_latencies_ns, m.latencies_ns, strict=True))


def test_runtime_log_lines_become_one_summary_and_an_artifact(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"log_every_run": True}, min_iters=50, min_time_s=0.05)
    (art,) = [a for a in rec.artifacts if a.role == "runtime_log"]
    assert art.role == "runtime_log" and Path(art.path).is_file()
    n = 1 + len(rec.measurements.warmup_latencies_ns) + len(rec.measurements.latencies_ns)
    assert art.summary == f"fake logged {n:,} warnings; first: 2026-12-01 [W:fake] tensor layout mismatch, falling back"
    assert "\x1b" not in Path(art.path).read_text()  # colour codes stripped


def test_backend_failure_inline_is_a_failed_record(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, backend_options={"crash": "run"})
    assert rec.status == "failed"
    assert rec.error == Failure("BackendError", "fake backend failed on purpose during run")
    assert rec.summary is None and rec.environment.captured_by == "worker"


def test_user_error_inside_the_job_is_raised_not_stored(tiny_onnx: Path) -> None:
    with pytest.raises(UsageError, match="rejects these inputs"):
        run(tiny_onnx, backend_options={"crash": "user_error"})


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("min_time_s", -1.0, "--min-time must be a finite number in"),
        ("max_time_s", 0.0, "--max-time must be a finite number in"),
        ("max_time_s", float("inf"), "--max-time must be a finite number"),
        ("warmup_time_s", float("nan"), "--warmup-time must be a finite number"),
        ("target_ci", float("nan"), "--target-ci must be a finite number"),
        ("min_iters", 0, "--min-iters must be an integer in"),
        ("threads", 0, "--threads must be an integer in"),
        ("threads", 100, "logical CPUs"),
        ("batch", -2, "--batch must be an integer"),
        ("seed", -1, "--seed must be an integer in"),
        ("target_ci", 1.5, "--target-ci must be a finite number in"),
        ("min_time_s", 10.0, "exceeds --max-time"),
        ("threads", 1.5, "threads must be an integer"),
        ("shapes", {"x": (1, 3, -4, 4)}, "bad --shape x=1x3x-4x4"),
    ],
)
def test_impossible_settings_are_refused(field: str, value: object, match: str) -> None:
    spec = RunSpec(model="m", backend="fake", **{"max_time_s": 5.0, field: value})  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=match):
        validate_spec(spec)


def test_plugin_options_are_typed_and_named_in_errors() -> None:
    with pytest.raises(UsageError, match=r"fake\.sigma: must be ≥ 0"):
        validate_spec(RunSpec(model="m", backend="fake", backend_options={"sigma": -1}))
    with pytest.raises(UsageError, match=r"fake\.nope: unknown option"):
        validate_spec(RunSpec(model="m", backend="fake", backend_options={"nope": 1}))
    with pytest.raises(UsageError, match=r"loop\.tail"):
        validate_spec(RunSpec(model="m", backend="fake", scenario_options={"tail": "p50"}))
    ok = validate_spec(RunSpec(model="m", backend="fake", backend_options={"real_time": "false", "sigma": "0.1"}))
    assert ok.backend_options["real_time"] is False and ok.backend_options["sigma"] == 0.1  # no bool("false")


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
