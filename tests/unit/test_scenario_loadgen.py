"""LoadGen scenarios through the real LoadGen on the fake backend (really sleeping, so LoadGen's clock
and the session agree). Durations are overridden (LoadGen's 10 s default would cost minutes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgebench import registry
from edgebench.records import RunRecord
from tests.conftest import fake_spec, run_inline

pytest.importorskip("mlperf_loadgen")

LATENCY_S = 0.002


def run(model: Path, scenario: str, latency_s: float = LATENCY_S, **options: Any) -> RunRecord:
    spec = fake_spec(
        model,
        scenario=scenario,
        scenario_options={"min_duration_s": 0.3, "min_queries": 50, **options},
        backend_options={"real_time": True, "latency_s": latency_s, "distribution": "constant"},
        warmup_time_s=0.02,
    )
    return run_inline(spec)


def result(record: RunRecord) -> Any:
    assert record.status == "ok", record.error
    assert record.scenario is not None
    return record.scenario.result


@pytest.mark.slow
def test_single_stream_is_a_normal_record_with_loadgens_verdict(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, "single_stream")
    res = result(rec)
    assert rec.scenario.name == "single_stream" and res["loadgen"]["scenario"] == "SingleStream"
    assert res["result"] == "VALID" and res["valid"] is True and res["invalid_reasons"] == ()
    # the record's samples are LoadGen's per-query latencies: one per query, at least the sleep each
    m, s = rec.measurements, rec.summary
    assert len(m.latencies_ns) == res["queries"] == res["samples"] >= 50
    assert min(m.latencies_ns) >= LATENCY_S * 1e9
    assert s.latency_median_s == pytest.approx(res["latency_s"]["p50"], rel=0.02)
    assert s.latency_median_s == pytest.approx(LATENCY_S, rel=0.5)
    assert res["latency_source"] == "loadgen_query_latency" and res["arrangement"]["kind"] == "inline"
    # LoadGen's own overhead: its mean latency minus the SUT's own service time
    assert res["loadgen_overhead_s"] == pytest.approx(res["latency_s"]["mean"] - res["sut_service_mean_s"])
    assert 0 <= res["loadgen_overhead_s"] < LATENCY_S
    assert res["qps_with_loadgen_overhead"] > 0 and res["qps_without_loadgen_overhead"] > 0
    assert res["settings"]["min_query_count"] == 50 and res["settings"]["min_duration (ms)"] == 300
    roles = {a.role: a for a in rec.artifacts}
    assert {"loadgen_summary", "loadgen_detail"} <= set(roles)
    summary_text = Path(roles["loadgen_summary"].path).read_text()
    assert "Result is : VALID" in summary_text
    assert roles["loadgen_summary"].summary.startswith("LoadGen SingleStream: VALID · p90 ")


@pytest.mark.slow
def test_server_meetable_bound_is_valid_impossible_bound_is_invalid_with_reason(tiny_onnx: Path) -> None:
    # p99 early stopping needs ≥ 459 queries, all under the bound: 600 queries at 600 QPS
    common = dict(target_qps=600.0, workers=2, min_duration_s=1.0, min_queries=600)
    easy = result(run(tiny_onnx, "server", latency_s=0.001, latency_bound_s=0.05, **common))
    assert easy["result"] == "VALID", easy["invalid_reasons"]
    assert easy["completed_samples_per_s"] == pytest.approx(600, rel=0.15)
    assert easy["arrangement"] == {"kind": "thread_pool", "workers": 2, "sessions": 1}
    hard = result(run(tiny_onnx, "server", latency_s=0.001, latency_bound_s=0.0002, **common))
    assert hard["result"] == "INVALID" and hard["valid"] is False
    assert "Performance constraints satisfied: NO" in hard["invalid_reasons"]
    assert hard["latency_s"]["p99"] > 0.0002
    assert hard["target_qps"] == 600.0 and hard["latency_bound_s"] == 0.0002


def test_offline_with_two_workers_doubles_a_sleeping_sessions_throughput(tiny_onnx: Path) -> None:
    one = result(run(tiny_onnx, "offline", workers=1))
    two = result(run(tiny_onnx, "offline", workers=2))
    assert one["samples"] >= 50 and one["queries"] == 1  # Offline: everything in one query
    assert two["samples_per_s"] > 1.6 * one["samples_per_s"]
    # one worker: LoadGen's rate is the inverse of each inference's own time (a sleep overshoots 2 ms)
    assert one["samples_per_s"] == pytest.approx(1 / one["sut_service_mean_s"], rel=0.25)
    assert one["samples_per_s"] < 1 / LATENCY_S
    assert two["latency_source"] == "sut_service_time"


def test_offline_record_samples_are_each_inferences_own_time(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, "offline", workers=2)
    assert rec.summary.latency_median_s == pytest.approx(LATENCY_S, rel=0.5)
    assert len(rec.measurements.latencies_ns) == result(rec)["samples"]


def test_multi_stream_query_latency_covers_all_its_samples(tiny_onnx: Path) -> None:
    serial = run(tiny_onnx, "multi_stream", samples_per_query=4, workers=1, min_queries=20)
    parallel = run(tiny_onnx, "multi_stream", samples_per_query=4, workers=4, min_queries=20)
    res = result(serial)
    assert res["samples"] == 4 * res["queries"] and res["samples_per_query"] == 4
    assert serial.summary.latency_median_s >= 4 * LATENCY_S
    assert parallel.summary.latency_median_s < 0.6 * serial.summary.latency_median_s


def test_accuracy_mode_answers_every_sample_once_and_keeps_the_accuracy_log(tiny_onnx: Path) -> None:
    rec = run(tiny_onnx, "single_stream", accuracy_mode=True, sample_count=30)
    res = result(rec)
    assert res["loadgen"]["mode"] == "AccuracyOnly" and res["result"] is None and res["valid"] is None
    assert res["samples"] == 30
    log = next(a for a in rec.artifacts if a.role == "loadgen_accuracy")
    text = Path(log.path).read_text()
    assert text.count('"qsl_idx"') == 30 and '"data" : ""' not in text  # outputs were logged


def test_a_failing_session_becomes_a_failed_record(tiny_onnx: Path) -> None:
    spec = fake_spec(
        tiny_onnx,
        scenario="server",
        scenario_options={"min_duration_s": 0.1, "min_queries": 5},
        backend_options={"crash": "run"},
    )
    rec = run_inline(spec)
    assert rec.status == "failed" and rec.error is not None and "on purpose" in rec.error.message


def test_scenario_names_and_aliases() -> None:
    for name in ("loop", "single_stream", "multi_stream", "server", "offline"):
        assert registry.load("edgebench.scenarios", name).name == name
    assert registry.canonical("edgebench.scenarios", "none") == "loop"
    assert registry.canonical("edgebench.scenarios", "single-stream") == "single_stream"
    assert registry.canonical("edgebench.scenarios", "multi-stream") == "multi_stream"
    assert registry.canonical("edgebench.scenarios", "server") == "server"
    assert registry.canonical("edgebench.scenarios", "nonsense") == "nonsense"


def test_the_default_scenario_is_still_the_tight_loop(tiny_onnx: Path) -> None:
    rec = run_inline(fake_spec(tiny_onnx))
    assert rec.spec.scenario == "loop" and rec.scenario is not None and rec.scenario.name == "loop"
    assert "tail" in rec.scenario.result and "loadgen" not in rec.scenario.result
    assert not any(a.role.startswith("loadgen") for a in rec.artifacts)


class _CountingInFlight:
    """A session's own in-flight runner (protocols.Concurrent), answering on a background thread."""

    def __init__(self, session: Any, workers: int) -> None:
        import concurrent.futures

        self.session, self.workers, self.submitted = session, workers, 0
        self._pool = concurrent.futures.ThreadPoolExecutor(workers)

    def submit(self, tag: int, done: Any) -> None:
        self.submitted += 1
        self._pool.submit(lambda: done(tag, self.session.run({}), 1_000_000))

    def arrangement(self) -> dict[str, Any]:
        return {"kind": "test_queue", "requests": self.workers}

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class _ConcurrentSession:
    def __init__(self) -> None:
        self.flights: list[_CountingInFlight] = []

    def inputs(self) -> list[Any]:
        return []

    def outputs(self) -> list[Any]:
        return []

    def run(self, feeds: Any) -> list[Any]:
        import time

        time.sleep(0.001)
        return []

    def close(self) -> None:
        return None

    def in_flight(self, feeds: Any, workers: int) -> _CountingInFlight:
        flight = _CountingInFlight(self, workers)
        self.flights.append(flight)
        return flight


def test_sessions_with_their_own_concurrency_are_used_as_they_are() -> None:
    import time

    from edgebench.engine.window import CollectorWindow
    from edgebench.protocols import Concurrent, ScenarioContext
    from edgebench.records import RunSpec
    from edgebench.scenarios.loadgen_offline import LoadGenOffline, Options

    session = _ConcurrentSession()
    assert isinstance(session, Concurrent)
    options = Options(workers=3, min_duration_s=0.1, min_queries=20)
    window = CollectorWindow(time.perf_counter_ns, [])
    spec = RunSpec(model="m", warmup_time_s=0.0, scenario="offline")
    ctx = ScenarioContext(session, {}, time.perf_counter_ns, spec, options, window)  # type: ignore[arg-type]
    outcome = LoadGenOffline().run(ctx)
    assert outcome.result is not None and outcome.result["arrangement"] == {"kind": "test_queue", "requests": 3}
    assert len(session.flights) == 1 and session.flights[0].submitted == outcome.result["samples"] >= 20
    assert outcome.latencies_ns == [1_000_000] * outcome.result["samples"]  # the session's own service times
    assert outcome.artifacts == ()  # no workdir: LoadGen's logs went to a temporary directory
    assert window.window is not None
