"""Measure one job in *this* process: load, prepare inputs, run the scenario, build the record.

Called by every executor where the job runs (the inline executor in the caller's process, the
local executor's fresh worker). The record — failed ones included — is built here, with the
environment of the process that measured.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from edgebench import registry
from edgebench._frozen import FrozenMap
from edgebench.collectors.memory import peak_rss_bytes, rss_bytes
from edgebench.energy.run import start_energy
from edgebench.engine import environment, inputs
from edgebench.engine.agreement import OUTPUTS_ROLE, save_outputs
from edgebench.engine.artifacts import describe
from edgebench.engine.logcapture import capture_fd2
from edgebench.engine.summary import build_summary
from edgebench.engine.validate import typed_options
from edgebench.engine.window import CollectorWindow
from edgebench.errors import EdgebenchError
from edgebench.protocols import (
    Clock,
    Configured,
    DeviceTimed,
    IOSpec,
    Job,
    Preparable,
    ScenarioContext,
    ScenarioOutcome,
    Session,
    VirtualClock,
)
from edgebench.records import (
    Artifact,
    Environment,
    Failure,
    JSONValue,
    Measurements,
    Memory,
    RunRecord,
    ScenarioResult,
    TensorInfo,
    ValidityWarning,
)

_S = 1_000_000_000


def measure(job: Job, workdir: Path, *, executor: str) -> RunRecord:
    """An ok record, or raise EdgebenchError (the caller decides: user error or failed record)."""
    spec = job.spec
    verify_model(job)
    backend = registry.load("edgebench.backends", spec.backend)()
    backend_options = typed_options("edgebench.backends", spec.backend, spec.backend_options)
    scenario = registry.load("edgebench.scenarios", spec.scenario)()
    scenario_options = typed_options("edgebench.scenarios", spec.scenario, spec.scenario_options)
    # Captured before loading: the load average must describe the machine *before* we add load.
    env = environment.capture(_thread_settings(spec.threads, backend.name), extra_versions=backend.versions())
    log_path = workdir / f"{spec.backend}-runtime.log"
    energy_run = start_energy(spec, workdir)  # energy sampler + idle baseline (no-op with --energy off)
    with capture_fd2(log_path) as log, energy_run:
        rss_before = rss_bytes()
        t0 = time.perf_counter()
        session: Session = backend.load(Path(spec.model_path), spec, backend_options)
        load_time_s = time.perf_counter() - t0
        registry.check_session(spec.backend, session)
        rss_after_load = rss_bytes()
        outcome, prepared, collected, effective, output_specs = _run_scenario(
            session, scenario, scenario_options, spec, workdir
        )
    measurements = Measurements(
        latencies_ns=tuple(outcome.latencies_ns),
        warmup_latencies_ns=tuple(outcome.warmup_latencies_ns),
        load_time_s=load_time_s,
        first_inference_s=outcome.first_inference_ns / _S,
        window_wall_s=outcome.window_ns / _S,
        cpu_time_s=outcome.cpu_time_ns / _S if outcome.cpu_time_ns is not None else None,
        memory=Memory(
            peak_rss_bytes=peak_rss_bytes(),
            rss_after_load_bytes=rss_after_load,
            rss_steady_bytes=_int(collected.get("memory", {}).get("rss_end_bytes")),
            rss_growth_bytes=_int(collected.get("memory", {}).get("rss_growth_bytes")),
            rss_before_load_bytes=rss_before,
        ),
        stop_reason=outcome.stop_reason,  # type: ignore[arg-type]
        timer_resolution_s=_clock_step_s(_clock_of(session)),
        inputs=prepared.infos,
        outputs=_output_infos(output_specs, outcome.outputs),
        collected=FrozenMap({k: FrozenMap(v) for k, v in collected.items() if k != "memory"}),
        window=outcome.window,
        window_overhead_s=None
        if outcome.throughput_basis == "window"
        else (outcome.window_ns - sum(outcome.latencies_ns)) / _S,
        throughput_basis=outcome.throughput_basis,
        timer_read_cost_s=_read_cost_s(_clock_of(session)),
        device_latencies_ns=tuple(outcome.device_latencies_ns or ()),
        stop_checks=outcome.stop_checks,
    )
    model = job.model
    summary, warnings = build_summary(
        measurements, spec, model, env, batch=prepared.batch, batch_source=prepared.batch_source
    )
    warnings += [ValidityWarning("input_note", note, "check the inputs file") for note in prepared.notes]
    energy, energy_warnings, energy_artifacts = energy_run.finish(outcome.window, outcome.latencies_ns, prepared.batch)
    warnings += energy_warnings
    artifacts: tuple[Artifact, ...] = tuple(outcome.artifacts)  # the scenario's own files (LoadGen logs)
    summary_line = log.summary(spec.backend)
    if summary_line:
        artifacts += (describe(log_path, "runtime_log", "text/plain", summary_line),)
    outputs_path = workdir / "outputs.npz"
    if save_outputs(outcome.outputs, outputs_path):  # for output agreement across variants
        artifacts += (describe(outputs_path, OUTPUTS_ROLE, "application/x-npz"),)
    artifacts += energy_artifacts
    return RunRecord(
        spec=spec,
        environment=env,
        status="ok",
        model=model,
        measurements=measurements,
        summary=summary,
        warnings=tuple(warnings),
        executor=executor,
        scenario=ScenarioResult(spec.scenario, spec.scenario_options, FrozenMap(outcome.result or {})),
        effective=FrozenMap(effective),
        artifacts=artifacts,
        energy=energy,
    )


def verify_model(job: Job) -> None:
    """The job names its model by content hash: measure exactly that model or refuse.

    Here (same host) it catches a file replaced between resolution and measurement; a remote worker
    uses the same check to decide whether it must fetch the file.
    """
    from edgebench.errors import ModelError
    from edgebench.modelfile import model_sha256

    if not job.spec.model_sha256:
        return
    files = (Path(job.spec.model_path), *(Path(f) for f in job.model.files))
    try:
        actual = model_sha256(files)
    except OSError as exc:
        raise ModelError(f"cannot read model {files[0]}: {exc.strerror or exc}", hint="check the path") from exc
    if actual != job.spec.model_sha256:
        raise ModelError(
            f"model {files[0].name} changed after it was resolved "
            f"(sha256 {actual[:12]}… ≠ {job.spec.model_sha256[:12]}…)",
            hint="do not modify model files while a benchmark runs; rerun",
        )


def _run_scenario(
    session: Session, scenario: Any, scenario_options: Any, spec: Any, workdir: Path | None = None
) -> tuple[ScenarioOutcome, inputs.PreparedInputs, dict[str, dict[str, JSONValue]], dict[str, JSONValue], list[IOSpec]]:
    """Everything between load and close; close never hides the error that stopped the run."""
    try:
        prepared = inputs.prepare(list(session.inputs()), spec)
        feeds = session.prepare(prepared.feeds) if isinstance(session, Preparable) else prepared.feeds
        clock = _clock_of(session)
        extra = [registry.load("edgebench.collectors", name)() for name in spec.collectors]
        window = CollectorWindow(clock, [_memory_collector(), *extra])
        timer = session.device_timer() if isinstance(session, DeviceTimed) else None
        ctx = ScenarioContext(session, feeds, clock, spec, scenario_options, window, timer, workdir)
        outcome = scenario.run(ctx)
        if window.window is None:
            raise EdgebenchError(f"scenario {spec.scenario!r} never opened the measured window")
        effective = dict(session.effective()) if isinstance(session, Configured) else {}
        output_specs = list(session.outputs())
    except BaseException:
        with contextlib.suppress(Exception):
            session.close()
        raise
    session.close()
    return outcome, prepared, window.readings, effective, output_specs


def _memory_collector() -> Any:
    from edgebench.collectors.memory import MemoryCollector

    return MemoryCollector()


def _clock_of(session: Session) -> Clock:
    return session.clock if isinstance(session, VirtualClock) else time.perf_counter_ns


def _clock_step_s(clock: Clock) -> float:
    from edgebench.engine.timer import clock_step_ns

    return float(clock_step_ns(clock)) / _S


def _read_cost_s(clock: Clock) -> float | None:
    from edgebench.engine.timer import clock_read_cost_ns

    return clock_read_cost_ns(clock) / _S if clock is time.perf_counter_ns else None


def _output_infos(specs: list[IOSpec], outputs: Any) -> tuple[TensorInfo, ...]:
    infos = []
    for spec, value in zip(specs, outputs, strict=False):
        shape = tuple(int(d) for d in getattr(value, "shape", ()))
        infos.append(
            TensorInfo(
                spec.name, str(getattr(value, "dtype", spec.dtype)), shape, "model output", spec.scale, spec.zero_point
            )
        )
    return tuple(infos)


def _thread_settings(threads: int | None, backend: str) -> dict[str, JSONValue]:
    import os

    env_keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    settings: dict[str, JSONValue] = {"intra_op_threads": threads, "backend": backend}
    settings.update({k.lower(): os.environ[k] for k in env_keys if k in os.environ})
    return settings


def failed_record(job: Job, failure: Failure, env: Environment | None, *, executor: str) -> RunRecord:
    """A stored failure: the spec, the environment of whoever saw it fail, and why."""
    env = env or replace(environment.capture(), captured_by="controller")
    return RunRecord(spec=job.spec, environment=env, status="failed", model=job.model, error=failure, executor=executor)


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
