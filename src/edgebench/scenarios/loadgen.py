"""MLPerf LoadGen adapter: a QSL and a SUT over any backend Session, run by the real LoadGen.

LoadGen (PyPI ``mlcommons-loadgen``, ``import mlperf_loadgen``) decides *when* queries are issued;
the SUT only answers them (ARCHITECTURE: the Scenario split). Each LoadGen scenario is its own
plugin module (loadgen_single_stream, loadgen_multi_stream, loadgen_server, loadgen_offline) that
declares its Options and fills LoadGen's TestSettings; everything else is here.

- QSL: ``sample_count`` sample indices, all answered with the engine's prepared input (the same
  tensors the tight loop feeds), loaded before timing starts.
- SUT: single-stream answers inline in LoadGen's issue call (nothing between LoadGen and the
  runtime but one Python call); the other scenarios hand each sample to an :class:`InFlight`:
  the session's own (protocols.Concurrent: OpenVINO async infer requests) or a thread pool over
  ``session.run`` (ONNX Runtime releases the GIL; its intra-op threads are split across workers).
- Results: LoadGen's summary is parsed (verdict and why, percentiles, QPS with and without
  LoadGen overhead, early stopping) into ``ScenarioResult.result``; the per-query latencies come
  from LoadGen's trace; the summary and detail logs become artifacts of the record.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from edgebench.errors import BackendError, BackendUnavailable, MeasurementError
from edgebench.options import strict_config
from edgebench.protocols import Concurrent, InFlight, ScenarioContext, ScenarioOutcome, Session
from edgebench.records import Artifact, JSONValue

_S = 1_000_000_000
_MS = 1_000_000
INSTALL_HINT = 'pip install "edgebench[loadgen]" (or: pip install mlcommons-loadgen)'
LOG_FILES = (
    ("mlperf_log_summary.txt", "loadgen_summary", "text/plain"),
    ("mlperf_log_detail.txt", "loadgen_detail", "text/plain"),
    ("mlperf_log_accuracy.json", "loadgen_accuracy", "application/json"),  # kept in accuracy mode only
)


class LoadGenOptions(BaseModel):
    """Options every LoadGen scenario takes (LoadGen's own defaults: 10 s and 100 queries)."""

    model_config = strict_config()

    min_duration_s: float = Field(10.0, ge=0, le=86_400, allow_inf_nan=False, description="LoadGen min_duration")
    min_queries: int = Field(100, ge=1, le=10**9, description="LoadGen min_query_count")
    max_duration_s: float = Field(0.0, ge=0, le=86_400, allow_inf_nan=False, description="max_duration (0: none)")
    accuracy_mode: bool = Field(False, description="LoadGen AccuracyOnly: every sample once, outputs logged")
    sample_count: int = Field(1024, ge=1, le=1 << 20, description="QSL size (all samples are the prepared input)")


def import_loadgen() -> Any:
    try:
        import mlperf_loadgen
    except ImportError as exc:
        raise BackendUnavailable("MLPerf LoadGen (mlcommons-loadgen) is not installed", hint=INSTALL_HINT) from exc
    return mlperf_loadgen


@dataclass(frozen=True)
class Plan:
    """What a scenario module asks of the runner."""

    scenario: str  # LoadGen's TestScenario name: SingleStream, MultiStream, Server, Offline
    configure: Callable[[Any, int], None]  # (TestSettings, warm-up median ns) → fills scenario fields
    workers: int = 1  # inferences in flight (ignored by SingleStream: one at a time by definition)
    samples_per_query: int = 1
    extra: dict[str, JSONValue] = field(default_factory=dict)  # scenario-specific figures for the record


def run_loadgen(ctx: ScenarioContext, plan: Plan) -> ScenarioOutcome:
    lg = import_loadgen()
    opts: LoadGenOptions = ctx.options
    t0 = ctx.clock()
    outputs = ctx.session.run(ctx.feeds)
    first_ns = ctx.clock() - t0
    warmup = _warmup(ctx.session, ctx.feeds, ctx.clock, int(ctx.spec.warmup_time_s * _S))
    settings = _settings(lg, plan, opts, ctx.spec.seed)
    plan.configure(settings, max(1, int(statistics.median(warmup))))
    with _logdir(ctx.workdir) as logdir:
        sut = _Sut(lg, ctx.session, ctx.feeds, plan, accuracy=opts.accuracy_mode)
        ctx.window.open()
        wall0, cpu0 = time.perf_counter_ns(), time.process_time_ns()
        try:
            _start(lg, sut, settings, opts.sample_count, logdir)
        finally:
            wall_ns, cpu_ns = time.perf_counter_ns() - wall0, time.process_time_ns() - cpu0
            window = ctx.window.close()
            sut.close()
        sut.raise_error()
        result, latencies, artifacts = _read_logs(logdir, plan, sut, keep=ctx.workdir is not None)
    real = ctx.clock is time.perf_counter_ns
    result["window_s"] = wall_ns / _S
    return ScenarioOutcome(
        latencies_ns=latencies,
        warmup_latencies_ns=warmup,
        first_inference_ns=first_ns,
        window_ns=wall_ns,
        cpu_time_ns=cpu_ns if real else None,
        stop_reason=_stop_reason(result),
        window=window,
        outputs=outputs,
        result=result,
        artifacts=artifacts,
        # Server queries wait for their arrival time and Offline keeps several in flight: the observed
        # rate is samples ÷ window there; (Multi/Single)Stream issue back to back (one query at a time)
        throughput_basis="window" if plan.scenario in ("Server", "Offline") else "busy",
    )


def _warmup(session: Session, feeds: Any, clock: Callable[[], int], budget_ns: int) -> list[int]:
    """Time-based warm-up (≥ 1 call); its median sizes LoadGen's expected latency/QPS hints."""
    samples: list[int] = []
    start = clock()
    while True:
        t0 = clock()
        session.run(feeds)
        t1 = clock()
        samples.append(max(1, t1 - t0))
        if t1 - start >= budget_ns:
            return samples


def _settings(lg: Any, plan: Plan, opts: LoadGenOptions, seed: int) -> Any:
    settings = lg.TestSettings()
    settings.scenario = getattr(lg.TestScenario, plan.scenario)
    settings.mode = lg.TestMode.AccuracyOnly if opts.accuracy_mode else lg.TestMode.PerformanceOnly
    settings.min_duration_ms = round(opts.min_duration_s * 1000)
    settings.min_query_count = opts.min_queries
    settings.max_duration_ms = round(opts.max_duration_s * 1000)
    # LoadGen's schedule, sample choice and QSL order follow --seed, so a run can be repeated exactly
    settings.qsl_rng_seed = settings.sample_index_rng_seed = settings.schedule_rng_seed = seed
    return settings


class _logdir:
    """The job's workdir (files become artifacts) or a temporary dir removed afterwards."""

    def __init__(self, workdir: Path | None) -> None:
        self._tmp = None if workdir is not None else tempfile.TemporaryDirectory(prefix="edgebench-loadgen-")
        self.path = (workdir / "loadgen") if workdir is not None else Path(self._tmp.name)  # type: ignore[union-attr]

    def __enter__(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def _start(lg: Any, sut: _Sut, settings: Any, sample_count: int, logdir: Path) -> None:
    log = lg.LogSettings()
    log.log_output.outdir = str(logdir)
    log.log_output.copy_summary_to_stdout = False  # stdout may carry the record: keep it clean
    log.enable_trace = True  # per-sample latencies come from the trace
    handle = lg.ConstructSUT(sut.issue, sut.flush)
    qsl = lg.ConstructQSL(sample_count, sample_count, _no_op, _no_op)
    try:
        lg.StartTestWithLogSettings(handle, qsl, settings, log)
    finally:
        lg.DestroyQSL(qsl)
        lg.DestroySUT(handle)


def _no_op(samples: Any) -> None:
    """QSL load/unload: the prepared input is already resident before LoadGen starts."""


class _Sut:
    """Answers LoadGen's queries; never raises into LoadGen (it would abort the process)."""

    def __init__(self, lg: Any, session: Session, feeds: Any, plan: Plan, *, accuracy: bool) -> None:
        self._lg, self._session, self._feeds, self.accuracy = lg, session, feeds, accuracy
        self._inline = plan.scenario == "SingleStream"
        self._flight: InFlight | None = None if self._inline else _in_flight(session, feeds, plan.workers)
        self._ids: dict[int, int] = {}  # tag → LoadGen sample id
        self._lock = threading.Lock()
        self._next = 0
        self.service_ns: list[int] = []
        self.error: BaseException | None = None

    def issue(self, samples: Any) -> None:
        if self._flight is None:
            for sample in samples:
                self._answer_inline(sample.id)
            return
        for sample in samples:
            with self._lock:
                tag, self._next = self._next, self._next + 1
                self._ids[tag] = sample.id
            self._flight.submit(tag, self._done)

    def _answer_inline(self, sample_id: int) -> None:
        t0 = time.perf_counter_ns()
        try:
            outputs: Any = self._session.run(self._feeds)
        except Exception as exc:  # answered anyway so LoadGen can finish; raised after the test
            outputs = exc
        self._complete(sample_id, outputs, time.perf_counter_ns() - t0)

    def _done(self, tag: int, outputs: Any, service_ns: int) -> None:
        with self._lock:
            sample_id = self._ids.pop(tag)
        self._complete(sample_id, outputs, service_ns)

    def _complete(self, sample_id: int, outputs: Any, service_ns: int) -> None:
        if isinstance(outputs, BaseException):
            self.error = self.error or outputs
            outputs = None
        self.service_ns.append(service_ns)
        data = _first_output(outputs) if self.accuracy and outputs is not None else None
        if data is None:
            response = self._lg.QuerySampleResponse(sample_id, 0, 0)
        else:
            response = self._lg.QuerySampleResponse(sample_id, data.ctypes.data, data.nbytes)
        self._lg.QuerySamplesComplete([response])  # data stays alive until LoadGen has copied it

    def flush(self) -> None:
        return None

    def arrangement(self) -> dict[str, JSONValue]:
        if self._flight is None:
            return {"kind": "inline", "workers": 1}
        return dict(self._flight.arrangement())

    def close(self) -> None:
        if self._flight is not None:
            self._flight.close()

    def raise_error(self) -> None:
        if self.error is None:
            return
        if isinstance(self.error, BackendError):
            raise self.error
        raise BackendError(f"the model failed while answering LoadGen: {self.error}") from self.error


def _first_output(outputs: Any) -> Any:
    import numpy as np

    first = outputs[0] if isinstance(outputs, list | tuple) and outputs else outputs
    return np.ascontiguousarray(first) if first is not None else None


def _in_flight(session: Session, feeds: Any, workers: int) -> InFlight:
    if isinstance(session, Concurrent):
        return session.in_flight(feeds, workers)
    return ThreadPoolInFlight(session, feeds, workers)


class ThreadPoolInFlight:
    """``workers`` threads calling ``session.run`` on one session (runtimes that release the GIL)."""

    def __init__(self, session: Session, feeds: Any, workers: int) -> None:
        self._session, self._feeds, self._workers = session, feeds, workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edgebench-sut")

    def submit(self, tag: int, done: Callable[[int, Any, int], None]) -> None:
        self._pool.submit(self._one, tag, done)

    def _one(self, tag: int, done: Callable[[int, Any, int], None]) -> None:
        t0 = time.perf_counter_ns()
        try:
            outputs: Any = self._session.run(self._feeds)
        except Exception as exc:
            outputs = exc
        done(tag, outputs, time.perf_counter_ns() - t0)

    def arrangement(self) -> dict[str, JSONValue]:
        return {"kind": "thread_pool", "workers": self._workers, "sessions": 1}

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _read_logs(
    logdir: Path, plan: Plan, sut: _Sut, *, keep: bool
) -> tuple[dict[str, Any], list[int], tuple[Artifact, ...]]:
    from edgebench.engine.artifacts import describe
    from edgebench.scenarios.loadgen_logs import invalid_reasons, parse_summary, query_latencies_ns

    summary_path = logdir / "mlperf_log_summary.txt"
    try:
        summary = parse_summary(summary_path.read_text(encoding="utf-8", errors="replace"), accuracy=sut.accuracy)
    except (OSError, ValueError) as exc:
        raise MeasurementError(
            f"LoadGen wrote no readable summary in {logdir}: {exc}",
            hint="rerun with --executor inline to see LoadGen's output",
        ) from exc
    trace = logdir / "mlperf_log_trace.json"
    per_query = query_latencies_ns(trace) if trace.is_file() else []
    service = list(sut.service_ns)
    result = _result(summary, plan, sut, service, per_query)
    result["invalid_reasons"] = invalid_reasons(summary)
    # Offline issues everything at once: LoadGen's per-sample "latency" is then the time since the
    # start, not a latency; the record keeps each inference's own time instead.
    latencies = service if plan.scenario == "Offline" or not per_query else per_query
    result["latency_source"] = "sut_service_time" if latencies is service else "loadgen_query_latency"
    artifacts: tuple[Artifact, ...] = ()
    if keep:
        line = headline(plan.scenario, result)
        wanted = [f for f in LOG_FILES if f[1] != "loadgen_accuracy" or sut.accuracy]
        artifacts = tuple(
            describe(logdir / name, role, media, line if role == "loadgen_summary" else None)
            for name, role, media in wanted
            if (logdir / name).is_file()
        )
    return result, latencies, artifacts


def headline(scenario: str, result: dict[str, Any]) -> str:
    """One line for the console (the summary artifact's note): verdict and the scenario's own metric.

    The record's Summary derives throughput from per-sample latencies, which undercounts when several
    inferences are in flight; this line carries LoadGen's rate instead.
    """
    verdict = result.get("result") or "accuracy run (no verdict)"
    latency = result.get("latency_s") or {}
    parts = [f"LoadGen {scenario}: {verdict}"]
    flight = result.get("arrangement") or {}
    workers = flight.get("workers", flight.get("infer_requests"))
    if scenario == "Offline" and result.get("samples_per_s") is not None:
        parts.append(f"{result['samples_per_s']:.2f} samples/s with {workers} in flight")
    elif scenario == "Server" and result.get("completed_samples_per_s") is not None:
        p99 = latency.get("p99")
        shown = f", p99 {p99 * 1e3:.3g} ms" if p99 is not None else ""
        parts.append(
            f"{result['completed_samples_per_s']:.2f} of {result.get('target_qps')} QPS completed{shown}, "
            f"bound {float(result.get('latency_bound_s') or 0) * 1e3:g} ms"
        )
    elif result.get("qps_with_loadgen_overhead") is not None:
        key = result.get("headline_percentile") or "p90"
        value = latency.get(key)
        shown = f"{key} {value * 1e3:.3g} ms, " if value is not None else ""
        parts.append(f"{shown}{result['qps_with_loadgen_overhead']:.2f} QPS")
    reasons = result.get("invalid_reasons") or []
    return " · ".join(parts) + (f" ({'; '.join(reasons)})" if reasons else "")


def _result(summary: dict[str, Any], plan: Plan, sut: _Sut, service: list[int], per_query: list[int]) -> dict[str, Any]:
    mean_service = statistics.fmean(service) / _S if service else None
    loadgen_mean = summary["latency_s"].get("mean")
    result: dict[str, Any] = {
        "loadgen": {
            "scenario": plan.scenario,
            "mode": "AccuracyOnly" if sut.accuracy else "PerformanceOnly",
            "version": _version(),
        },
        **{k: v for k, v in summary.items() if k not in ("scenario", "mode", "sut_name")},
        "queries": len(per_query),
        "samples": len(service),
        "samples_per_query": plan.samples_per_query,
        "arrangement": sut.arrangement(),
        "sut_service_median_s": statistics.median(service) / _S if service else None,
        "sut_service_mean_s": mean_service,
        **plan.extra,
    }
    if plan.scenario == "SingleStream" and mean_service is not None and loadgen_mean is not None:
        # LoadGen's mean per-query latency minus the inference itself: what LoadGen + the Python SUT add
        result["loadgen_overhead_s"] = loadgen_mean - mean_service
    return result


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlcommons-loadgen")
    except PackageNotFoundError:
        return None


def _stop_reason(result: dict[str, Any]) -> str:
    checks = result.get("checks", {})
    met = checks.get("min_duration", True) and checks.get("min_queries", True)
    return "minimums_met" if met else "max_time"
