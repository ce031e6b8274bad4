"""MLPerf LoadGen adapter: a QSL and a SUT over any backend Session, run by the real LoadGen.

LoadGen (PyPI ``mlcommons-loadgen``, ``import mlperf_loadgen``) decides *when* queries are issued;
the SUT only answers them (ARCHITECTURE: the Scenario split). Each LoadGen scenario is its own
plugin module (loadgen_single_stream, loadgen_multi_stream, loadgen_server, loadgen_offline) that
declares its Options and fills LoadGen's TestSettings; everything else is here.

- QSL: with ``bench --data`` the inputs file carries N real preprocessed samples and their labels
  (engine.inputs.QSL_PREFIX); the QSL holds those N (prepared for the session before LoadGen starts,
  made resident by ``load_samples_to_ram``), each query answered with its own sample. Without
  them: ``sample_count`` indices, all the engine's prepared input (the tensors the tight loop feeds).
  Accuracy mode scores each sample's top-1/top-5 against the labels.
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
from collections.abc import Callable, Mapping
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
    sample_count: int = Field(1024, ge=1, le=1 << 20, description="QSL size with generated input (one sample)")
    qsl_samples: int = Field(64, ge=1, le=1 << 20, description="with --data: real samples in the QSL (cap)")


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
    qsl = _Qsl.of(ctx, opts.sample_count)
    plan.configure(settings, max(1, int(statistics.median(warmup))))
    with _logdir(ctx.workdir) as logdir:
        sut = _Sut(lg, ctx.session, qsl, plan, accuracy=opts.accuracy_mode)
        ctx.window.open()
        wall0, cpu0 = time.perf_counter_ns(), time.process_time_ns()
        try:
            _start(lg, sut, settings, qsl, logdir)
        finally:
            wall_ns, cpu_ns = time.perf_counter_ns() - wall0, time.process_time_ns() - cpu0
            window = ctx.window.close()
            sut.close()
        sut.raise_error()
        result, latencies, artifacts = _read_logs(logdir, plan, sut, qsl, keep=ctx.workdir is not None)
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


class _Qsl:
    """LoadGen's sample set: N real samples or the one prepared input.

    Real samples are prepared for the session before LoadGen starts (an error there is an ordinary
    error, not one inside a LoadGen callback); ``load``/``unload`` make them resident for LoadGen.
    """

    def __init__(self, prepared: Any, count: int, real: Any = None, samples: tuple[Any, ...] = ()) -> None:
        self.prepared, self.count, self.real, self._samples = prepared, count, real, samples
        self._loaded: dict[int, Any] = {}

    @classmethod
    def of(cls, ctx: ScenarioContext, sample_count: int) -> _Qsl:
        from edgebench.engine.inputs import load_qsl
        from edgebench.protocols import Preparable

        real = load_qsl(Path(ctx.spec.inputs_file), list(ctx.session.inputs())) if ctx.spec.inputs_file else None
        if real is None or not real.feeds:
            return cls(ctx.feeds, sample_count)
        session = ctx.session
        samples = tuple(session.prepare(f) if isinstance(session, Preparable) else f for f in real.feeds)
        return cls(ctx.feeds, len(samples), real, samples)

    def load(self, samples: Any) -> None:
        if self.real is None:
            return  # the prepared input is already resident before LoadGen starts
        for index in samples:
            self._loaded[index] = self._samples[index]

    def unload(self, samples: Any) -> None:
        for index in samples:
            self._loaded.pop(index, None)

    def feeds(self, index: int) -> Any:
        return self.prepared if self.real is None else self._loaded[index]

    def describe(self) -> dict[str, JSONValue]:
        if self.real is None:
            return {"real_samples": 0, "sample_count": self.count, "source": "generated (the prepared input)"}
        return {"real_samples": self.count, "sample_count": self.count, "source": self.real.source}


def _start(lg: Any, sut: _Sut, settings: Any, qsl_samples: _Qsl, logdir: Path) -> None:
    log = lg.LogSettings()
    log.log_output.outdir = str(logdir)
    log.log_output.copy_summary_to_stdout = False  # stdout may carry the record: keep it clean
    log.enable_trace = True  # per-sample latencies come from the trace
    handle = lg.ConstructSUT(sut.issue, sut.flush)
    qsl = lg.ConstructQSL(qsl_samples.count, qsl_samples.count, qsl_samples.load, qsl_samples.unload)
    try:
        lg.StartTestWithLogSettings(handle, qsl, settings, log)
    finally:
        lg.DestroyQSL(qsl)
        lg.DestroySUT(handle)


class _Sut:
    """Answers LoadGen's queries; never raises into LoadGen (it would abort the process)."""

    def __init__(self, lg: Any, session: Session, qsl: _Qsl, plan: Plan, *, accuracy: bool) -> None:
        self._lg, self._session, self._qsl, self.accuracy = lg, session, qsl, accuracy
        self._ids: dict[int, tuple[int, int]] = {}  # tag → (LoadGen sample id, QSL index)
        self.issued = "per sample" if qsl.real is not None else "the prepared input"
        self._inline = plan.scenario == "SingleStream"
        if not self._inline and qsl.real is not None and isinstance(session, Concurrent):
            # the session's own in-flight requests bind one input: accuracy needs each sample's own
            # output (answered inline, one at a time); performance times sample 0 on every request
            self._inline = accuracy
            self.issued = "per sample (inline)" if accuracy else "sample 0 (the session's requests bind one input)"
        self._flight: InFlight | None = None if self._inline else _in_flight(session, qsl, plan.workers, self._feeds_of)
        self._lock = threading.Lock()
        self._next = 0
        self.service_ns: list[int] = []
        self.top5: dict[int, tuple[int, ...]] = {}  # accuracy mode: QSL index → output indices, best first
        self.error: BaseException | None = None

    def issue(self, samples: Any) -> None:
        if self._flight is None:
            for sample in samples:
                self._answer_inline(sample.id, sample.index)
            return
        for sample in samples:
            with self._lock:
                tag, self._next = self._next, self._next + 1
                self._ids[tag] = (sample.id, sample.index)
            self._flight.submit(tag, self._done)

    def _feeds_of(self, tag: int) -> Any:
        with self._lock:
            index = self._ids[tag][1]
        return self._qsl.feeds(index)

    def _answer_inline(self, sample_id: int, index: int) -> None:
        t0 = time.perf_counter_ns()
        try:
            feeds = self._qsl.feeds(index)
            t0 = time.perf_counter_ns()
            outputs: Any = self._session.run(feeds)
        except Exception as exc:  # answered anyway so LoadGen can finish; raised after the test
            outputs = exc
        self._complete(sample_id, index, outputs, time.perf_counter_ns() - t0)

    def _done(self, tag: int, outputs: Any, service_ns: int) -> None:
        with self._lock:
            sample_id, index = self._ids.pop(tag)
        self._complete(sample_id, index, outputs, service_ns)

    def _complete(self, sample_id: int, index: int, outputs: Any, service_ns: int) -> None:
        if isinstance(outputs, BaseException):
            self.error = self.error or outputs
            outputs = None
        self.service_ns.append(service_ns)
        data = _first_output(outputs) if self.accuracy and outputs is not None else None
        if data is not None and self.issued.startswith("per sample"):
            self.top5[index] = _top5(data)
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


def _top5(data: Any) -> tuple[int, ...]:
    import numpy as np

    row = np.asarray(data).reshape(-1)
    return tuple(int(i) for i in np.argsort(-row, kind="stable")[:5])


def _in_flight(session: Session, qsl: _Qsl, workers: int, feeds_of: Callable[[int], Any]) -> InFlight:
    if isinstance(session, Concurrent):
        return session.in_flight(qsl.prepared, workers)  # the engine's prepared input: sample 0
    return ThreadPoolInFlight(session, qsl.prepared, workers, None if qsl.real is None else feeds_of)


class ThreadPoolInFlight:
    """``workers`` threads calling ``session.run`` on one session (runtimes that release the GIL).

    ``feeds_of(tag)``, when given, picks each query's feeds (the QSL sample LoadGen asked for)."""

    def __init__(
        self, session: Session, feeds: Any, workers: int, feeds_of: Callable[[int], Any] | None = None
    ) -> None:
        self._session, self._feeds, self._workers, self._feeds_of = session, feeds, workers, feeds_of
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edgebench-sut")

    def submit(self, tag: int, done: Callable[[int, Any, int], None]) -> None:
        self._pool.submit(self._one, tag, done)

    def _one(self, tag: int, done: Callable[[int, Any, int], None]) -> None:
        t0 = time.perf_counter_ns()
        try:  # an exception here must still reach done(): LoadGen waits for every sample
            feeds = self._feeds if self._feeds_of is None else self._feeds_of(tag)
            t0 = time.perf_counter_ns()
            outputs: Any = self._session.run(feeds)
        except Exception as exc:
            outputs = exc
        done(tag, outputs, time.perf_counter_ns() - t0)

    def arrangement(self) -> dict[str, JSONValue]:
        return {"kind": "thread_pool", "workers": self._workers, "sessions": 1}

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _read_logs(
    logdir: Path, plan: Plan, sut: _Sut, qsl: _Qsl, *, keep: bool
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
    result["qsl"] = {**qsl.describe(), "issued": sut.issued}
    if sut.accuracy:
        result["accuracy"], result["accuracy_note"] = score(sut.top5, qsl.real.accepted if qsl.real else None)
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
    accuracy = result.get("accuracy")
    if accuracy:
        parts.append(
            f"top-1 {accuracy['top1_correct']}/{accuracy['samples']} ({accuracy['top1']:.1%}), "
            f"top-5 {accuracy['top5_correct']}/{accuracy['samples']} ({accuracy['top5']:.1%})"
        )
    elif result.get("accuracy_note"):
        parts.append(str(result["accuracy_note"]))
    reasons = result.get("invalid_reasons") or []
    return " · ".join(parts) + (f" ({'; '.join(reasons)})" if reasons else "")


def score(
    top5: Mapping[int, tuple[int, ...]], accepted: tuple[tuple[int, ...], ...] | None
) -> tuple[dict[str, JSONValue] | None, str | None]:
    """Top-1/top-5 of the accuracy run against the QSL's labels; None and why when it cannot be scored."""
    if accepted is None or not any(accepted):
        return None, "accuracy not scored: the QSL has no labels (give --data with a labelled set)"
    scored = [(top5[i], answers) for i, answers in enumerate(accepted) if answers and i in top5]
    if not scored:
        return None, "accuracy not scored: no labelled sample was answered"
    top1 = sum(1 for order, answers in scored if order and order[0] in answers)
    hit5 = sum(1 for order, answers in scored if set(order) & set(answers))
    n = len(scored)
    return {"top1": top1 / n, "top5": hit5 / n, "top1_correct": top1, "top5_correct": hit5, "samples": n}, None


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
