"""LoadGen scenarios on real runtimes: the default model through ONNX Runtime (fresh processes), and
OpenVINO's async infer requests. Durations are far below LoadGen's 10 s default so CI stays fast; the
figures in docs/scenarios.md come from the same comparisons run longer."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.engine.bench import run_variants
from edgebench.records import RunSpec
from tests.conftest import quick_spec, run_inline

pytestmark = pytest.mark.slow
pytest.importorskip("mlperf_loadgen")


@pytest.fixture(scope="module")
def default_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    from edgebench.zoo import resolve_model

    return resolve_model("efficientnet-lite0", tmp_path_factory.mktemp("zoo-cache")).path


def test_loadgen_single_stream_median_matches_the_tight_loop_in_the_same_run(default_model: Path) -> None:
    common = dict(model=str(default_model), processes=2, warmup_time_s=0.3, threads=1)
    loop = RunSpec(scenario="loop", min_time_s=0.8, max_time_s=1.5, **common)  # type: ignore[arg-type]
    loadgen = RunSpec(
        scenario="single_stream",
        scenario_options={"min_duration_s": 1.0, "min_queries": 64},
        **common,  # type: ignore[arg-type]
    )
    tight, lg = run_variants([loop, loadgen], store=None).records  # interleaved: loop, LoadGen, loop, LoadGen
    assert tight.status == lg.status == "ok", (tight.error, lg.error)
    assert lg.scenario is not None and lg.scenario.result["result"] in ("VALID", "INVALID")
    res = lg.scenario.result
    # What LoadGen adds, free of machine drift: its per-query median against the inferences the SUT timed
    # around session.run at the same moments (scenario.result is the first process's). Target: within 5 %.
    assert 1.0 <= lg.processes[0].median_s / res["sut_service_median_s"] < 1.05
    assert 0 <= res["loadgen_overhead_s"] < 0.05 * res["sut_service_mean_s"]
    # Against the tight loop in alternating processes: +2 % in docs/scenarios.md's longer runs. Two short
    # rounds on a loaded 2-core CI machine differ by up to ±35 % from process to process (measured), so
    # this only guards against unit or counting errors; the 5 % claim is the drift-free check above.
    ratio = lg.summary.latency_median_s / tight.summary.latency_median_s
    assert 0.67 < ratio < 1.5, ratio
    assert len(lg.processes) == 2 and {a.role for a in lg.artifacts} >= {"loadgen_summary", "loadgen_detail"}


def test_offline_two_workers_split_the_cores_and_keep_up_with_single_stream(default_model: Path) -> None:
    options = {"min_duration_s": 1.5, "min_queries": 32}
    single = RunSpec(model=str(default_model), scenario="single_stream", processes=1, scenario_options=options)
    offline = RunSpec(
        model=str(default_model), scenario="offline", processes=1, scenario_options={**options, "workers": 2}
    )
    ss, off = run_variants([single, offline], store=None).records
    assert ss.status == off.status == "ok", (ss.error, off.error)
    ss_rate = ss.scenario.result["qps_without_loadgen_overhead"]
    off_rate = off.scenario.result["samples_per_s"]
    # target: ≥; 10 % slack for a shared 2-core CI machine (docs/scenarios.md has the longer figures)
    assert off_rate >= 0.9 * ss_rate, (off_rate, ss_rate)
    assert off.scenario.result["arrangement"] == {"kind": "thread_pool", "workers": 2, "sessions": 1}
    # with two in flight the record's throughput is the observed rate (samples ÷ window), not 1/latency
    assert off.measurements is not None and off.measurements.throughput_basis == "window"
    assert off.summary is not None and off.summary.throughput_ips == pytest.approx(off_rate, rel=0.05)
    assert off.measurements.window_overhead_s is None  # overlap is not harness time
    import os

    assert off.effective["intra_op_threads"] == max(1, (os.cpu_count() or 1) // 2)  # the cores are split


def test_openvino_keeps_requests_in_flight_on_streams(tiny_onnx: Path) -> None:
    pytest.importorskip("openvino")
    spec = quick_spec(
        tiny_onnx,
        backend="openvino",
        processes=1,
        warmup_time_s=0.02,
        scenario="offline",
        scenario_options={"workers": 2, "min_duration_s": 0.3, "min_queries": 50},
    )
    rec = run_inline(spec)
    assert rec.status == "ok", rec.error
    res = rec.scenario.result
    assert res["arrangement"] == {"kind": "openvino_async_infer_queue", "infer_requests": 2, "streams": 2}
    assert rec.effective["properties"]["NUM_STREAMS"] == 2
    assert res["result"] == "VALID" and res["samples"] >= 50 and res["samples_per_s"] > 0
    assert len(rec.measurements.latencies_ns) == res["samples"]  # OpenVINO's own per-request latency
