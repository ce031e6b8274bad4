"""``edgebench bench``: measure latency, throughput, memory and cold start of one or more variants."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edgebench.cli._common import emit, err_console, parse_shapes

if TYPE_CHECKING:
    from edgebench.engine.bench import Comparison
    from edgebench.records import RunSpec

_RUN = "Run options (same names across backends)"
_ORT = "ONNX Runtime options (sugar for --backend-option)"
_EN = "Energy, power and thermal (docs/energy.md)"
_LG = "MLPerf LoadGen scenarios (sugar for --scenario-option)"
DEFAULT_MODEL = "efficientnet-lite0"
# Defaults sized so that the default `bench` (3 processes) stays under ~15 s on a 2-core machine.
DEFAULT_WARMUP_S, DEFAULT_MIN_TIME_S, DEFAULT_MAX_TIME_S, DEFAULT_PROCESSES = 0.5, 1.0, 3.0, 3


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


def bench(
    models: Annotated[
        list[str] | None,
        typer.Argument(help="Zoo names or model files (several: interleaved comparison).", show_default=False),
    ] = None,
    backend: Annotated[
        list[str] | None, typer.Option(help="Runtime plugin (repeatable: compare backends).", rich_help_panel=_RUN)
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="Intra-op threads (default: runtime's).", rich_help_panel=_RUN)
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="Batch size for a dynamic leading dimension.", rich_help_panel=_RUN)
    ] = None,
    batch_dim: Annotated[
        int | None,
        typer.Option(help="Axis of the first input that is the batch (fixed-shape models).", rich_help_panel=_RUN),
    ] = None,
    shape: Annotated[
        list[str] | None, typer.Option(help="Input shape NAME=AxBxC (repeatable).", rich_help_panel=_RUN)
    ] = None,
    inputs: Annotated[
        Path | None, typer.Option(help="Real inputs: .npy (one input) or .npz (by name).", rich_help_panel=_RUN)
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="Real data (folder, list file, .npz, digits, builtin): time a real sample, attach accuracy.",
            rich_help_panel=_RUN,
        ),
    ] = None,
    preprocess: Annotated[
        str | None,
        typer.Option(help="Preprocessing preset for --data (tf|torch|unit|minus1-1|raw-uint8).", rich_help_panel=_RUN),
    ] = None,
    warmup_time: Annotated[
        float, typer.Option(help="Warm-up seconds per process (time-based, ≥ 1 call).", rich_help_panel=_RUN)
    ] = DEFAULT_WARMUP_S,
    min_time: Annotated[
        float | None,
        typer.Option(
            help=f"Minimum measured seconds per process [default: {DEFAULT_MIN_TIME_S:g}].",
            rich_help_panel=_RUN,
            show_default=False,
        ),
    ] = None,
    max_time: Annotated[
        float | None,
        typer.Option(
            help=f"Maximum measured seconds per process [default: {DEFAULT_MAX_TIME_S:g}].",
            rich_help_panel=_RUN,
            show_default=False,
        ),
    ] = None,
    min_iters: Annotated[
        int, typer.Option(help="Minimum measured iterations per process.", rich_help_panel=_RUN)
    ] = 100,
    target_ci: Annotated[
        float,
        typer.Option(help="Stop when the median's 95% CI is within ±this fraction (0 = off).", rich_help_panel=_RUN),
    ] = 0.01,
    processes: Annotated[
        int, typer.Option(help="Fresh processes per variant (two-level CI).", rich_help_panel=_RUN)
    ] = DEFAULT_PROCESSES,
    seed: Annotated[int, typer.Option(help="Seed of generated inputs and bootstrap.", rich_help_panel=_RUN)] = 0,
    executor: Annotated[
        str, typer.Option(help="Where to run: local (fresh process) | inline.", rich_help_panel=_RUN)
    ] = "local",
    inline: Annotated[
        bool, typer.Option(help="Same as --executor inline (debugging; no isolation).", rich_help_panel=_RUN)
    ] = False,
    scenario: Annotated[
        str,
        typer.Option(
            help="Load pattern: none (tight loop) | single-stream | multi-stream | server | offline (MLPerf LoadGen).",
            rich_help_panel=_RUN,
        ),
    ] = "loop",
    scenario_option: Annotated[
        list[str] | None, typer.Option(help="Scenario option KEY=VALUE (repeatable).", rich_help_panel=_RUN)
    ] = None,
    target_qps: Annotated[
        float | None, typer.Option(help="Server: Poisson arrival rate (queries/s).", rich_help_panel=_LG)
    ] = None,
    latency_bound: Annotated[
        str | None, typer.Option(help="Server: p99 latency bound, e.g. 15ms.", rich_help_panel=_LG)
    ] = None,
    min_duration: Annotated[
        str | None, typer.Option(help="LoadGen minimum duration, e.g. 10s [default: 10s].", rich_help_panel=_LG)
    ] = None,
    min_queries: Annotated[
        int | None, typer.Option(help="LoadGen minimum query count [default: 100].", rich_help_panel=_LG)
    ] = None,
    samples_per_query: Annotated[
        int | None, typer.Option(help="Multi-stream: samples per query [default: 8].", rich_help_panel=_LG)
    ] = None,
    accuracy_mode: Annotated[
        bool, typer.Option(help="LoadGen AccuracyOnly mode (every sample once).", rich_help_panel=_LG)
    ] = False,
    find_peak: Annotated[
        bool, typer.Option(help="Server: search the highest QPS whose p99 meets the bound.", rich_help_panel=_LG)
    ] = False,
    backend_option: Annotated[
        list[str] | None,
        typer.Option(help="Backend option KEY=VALUE (repeatable; see `edgebench backends`).", rich_help_panel=_RUN),
    ] = None,
    max_input_mb: Annotated[float, typer.Option(help="Refuse inputs larger than this.", rich_help_panel=_RUN)] = 2048.0,
    runtime_log_level: Annotated[
        str, typer.Option(help="Runtime's own log level: verbose|info|warning|error|fatal.", rich_help_panel=_RUN)
    ] = "error",
    precision: Annotated[
        str, typer.Option(help="Execution precision asked of the runtime: fp32 | fp16 | bf16.", rich_help_panel=_RUN)
    ] = "fp32",
    force: Annotated[bool, typer.Option(help="Run even with absurd thread counts.", rich_help_panel=_RUN)] = False,
    tag: Annotated[
        list[str] | None, typer.Option(help="Label stored with the record (repeatable).", rich_help_panel=_RUN)
    ] = None,
    collector: Annotated[
        list[str] | None,
        typer.Option(help="Extra collector plugin around the measured window (repeatable).", rich_help_panel=_RUN),
    ] = None,
    energy: Annotated[
        str,
        typer.Option(help="Energy sensor: auto | off | rapl | nvml | jetson | rpi | external.", rich_help_panel=_EN),
    ] = "auto",
    power_cmd: Annotated[
        str | None, typer.Option(help="External meter command printing 'timestamp,watts' lines.", rich_help_panel=_EN)
    ] = None,
    sample_hz: Annotated[float, typer.Option(help="Sensor sampling rate of the sidecar.", rich_help_panel=_EN)] = 10.0,
    idle_baseline: Annotated[
        float, typer.Option(help="Seconds of idle power measured first and subtracted (net).", rich_help_panel=_EN)
    ] = 0.0,
    duration: Annotated[
        str | None, typer.Option(help="Sustained (soak) run of exactly this long, e.g. 10m.", rich_help_panel=_EN)
    ] = None,
    cooldown: Annotated[
        float | None, typer.Option(help="Before each run, wait until within this many °C of idle.", rich_help_panel=_EN)
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            help="Issue inferences at this fixed rate in Hz (tight loop; for external meters, like TFLite's run_frequency).",
            rich_help_panel=_EN,
            show_default=False,
        ),
    ] = None,
    ep: Annotated[
        list[str] | None, typer.Option(help="Execution provider (repeatable, in priority order).", rich_help_panel=_ORT)
    ] = None,
    inter_op_threads: Annotated[int | None, typer.Option(help="Inter-op threads.", rich_help_panel=_ORT)] = None,
    graph_opt: Annotated[
        str | None, typer.Option(help="disable | basic | extended | all", rich_help_panel=_ORT)
    ] = None,
    execution_mode: Annotated[str | None, typer.Option(help="sequential | parallel", rich_help_panel=_ORT)] = None,
    session_config: Annotated[
        list[str] | None, typer.Option(help="Session config entry KEY=VALUE (repeatable).", rich_help_panel=_ORT)
    ] = None,
    arena: Annotated[
        bool | None,
        typer.Option(
            "--arena/--no-arena",
            help="CPU memory arena (inflates RSS; recorded).",
            rich_help_panel=_ORT,
            show_default=False,
        ),
    ] = None,
    dynamic_batch: Annotated[bool, typer.Option(help="Zoo models: use the dynamic-batch export.")] = False,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Model cache (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
    store: Annotated[bool, typer.Option(help="Save the record in the results database.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the RunRecord(s) as JSON on stdout.")] = False,
) -> None:
    """Benchmark MODEL (default: the embedded EfficientNet-Lite0) and store the record."""
    from edgebench.energy.options import energy_fields, soak_times
    from edgebench.engine.bench import run_variants
    from edgebench.errors import MeasurementError
    from edgebench.options import parse_pairs
    from edgebench.scenarios import sugar

    # repeatable and comma-separated: --backend onnxruntime,openvino --backend litert
    backends = [b.strip() for value in (backend or ["onnxruntime"]) for b in value.split(",") if b.strip()]
    ort = _ort_sugar(ep, inter_op_threads, graph_opt, execution_mode, session_config, arena)
    if ort and any(b != "onnxruntime" for b in backends):
        raise _refuse_sugar(ort, backends)
    min_s, max_s = _durations(min_time, max_time) if duration is None else soak_times(duration, min_time, max_time)
    common: dict[str, Any] = dict(
        threads=threads,
        batch=batch,
        batch_dim=batch_dim,
        shapes=parse_shapes(shape),
        inputs_file=str(inputs) if inputs else None,
        warmup_time_s=warmup_time,
        min_time_s=min_s,
        max_time_s=max_s,
        min_iters=min_iters,
        target_ci=target_ci,
        seed=seed,
        processes=processes,
        max_input_bytes=_input_bytes(max_input_mb),
        runtime_log_level=_log_level(runtime_log_level),
        precision=precision,
        scenario=_scenario_name(scenario),
        scenario_options=sugar.merge(
            parse_pairs(scenario_option, "--scenario-option"),
            sugar.scenario_sugar(
                target_qps=target_qps,
                latency_bound=latency_bound,
                min_duration=min_duration,
                min_queries=min_queries,
                samples_per_query=samples_per_query,
                accuracy_mode=accuracy_mode,
                scenario=_scenario_name(scenario),
            )
            | ({} if rate is None else {"rate_hz": rate}),
        ),
        collectors=tuple(collector or ()),
        tags=tuple(tag or ()),
    )
    common.update(
        energy_fields(
            energy=energy, power_cmd=power_cmd, sample_hz=sample_hz, idle_baseline=idle_baseline, cooldown=cooldown
        )
    )
    if duration is not None:  # a soak: exactly --duration long, one process unless asked otherwise
        common.update(soak=True, target_ci=0.0, processes=1 if processes == DEFAULT_PROCESSES else processes)
    specs = _variants(models or [DEFAULT_MODEL], backends, common, parse_pairs(backend_option, "--backend-option"), ort)
    results = (lambda: _open_store(db)) if store else None
    plan = _data_plan(specs, data, preprocess, cache_dir)  # [accuracy]: real inputs + accuracy block
    if plan is not None:
        specs, results = plan.specs, plan.store(results)
    if find_peak:
        _find_peak(specs, results, cache_dir, dynamic_batch, "inline" if inline else executor, force, json_out)
        return
    comparison = run_variants(
        specs,
        store=results,
        cache_dir=cache_dir,
        dynamic_batch=dynamic_batch,
        executor="inline" if inline else executor,
        force=force,
        progress=None if json_out else _progress,
    )
    if plan is not None:
        comparison = plan.comparison(comparison)
    _print(comparison, json_out)
    failed = [r for r in comparison.records if r.status != "ok"]
    if failed:
        err = failed[0].error
        raise MeasurementError(
            f"benchmark failed: {err.type}: {err.message}" if err else "benchmark failed",
            hint=(err.hint if err and err.hint else "")
            + ("; " if err and err.hint else "")
            + "the failed run is stored; rerun with --executor inline to debug",
        )


def _scenario_name(name: str) -> str:
    from edgebench import registry

    return registry.canonical("edgebench.scenarios", name)


def _find_peak(
    specs: list[RunSpec],
    store: Any,
    cache_dir: Path | None,
    dynamic_batch: bool,
    executor: str,
    force: bool,
    json_out: bool,
) -> None:
    """Each step is one stored record; the search itself is printed (or its JSON with every record)."""
    from edgebench.engine.bench import run_variants
    from edgebench.engine.peak import find_peak, peak_to_dict, render_peak
    from edgebench.errors import UsageError
    from edgebench.records import RunRecord, record_to_dict

    if len(specs) != 1:
        raise UsageError("--find-peak searches one model on one backend", hint="give one MODEL and one --backend")

    def run(spec: RunSpec) -> RunRecord:  # the store factory is opened by each step, after its validation
        progress = None if json_out else _progress
        return run_variants(
            [spec],
            store=store,
            cache_dir=cache_dir,
            dynamic_batch=dynamic_batch,
            executor=executor,
            force=force,
            progress=progress,
        ).records[0]

    peak = find_peak(specs[0], run)
    if json_out:
        import json

        print(json.dumps({**peak_to_dict(peak), "records": [record_to_dict(r) for r in peak.records]}, indent=2))
        return
    from rich.text import Text

    emit(Text(render_peak(peak)), *[Text(f"Record {r.id}", style="dim") for r in peak.records])


def _data_plan(specs: list[RunSpec], data: str | None, preprocess: str | None, cache_dir: Path | None) -> Any:
    from edgebench.errors import UsageError

    if data is None:
        if preprocess is not None:
            raise UsageError("--preprocess applies to --data", hint="add --data DIR (or drop --preprocess)")
        return None
    from edgebench.accuracy.bench_data import plan_data

    return plan_data(specs, data, preprocess, cache_dir)


def _durations(min_time: float | None, max_time: float | None) -> tuple[float, float]:
    """``--max-time`` alone pulls the default minimum down with it; an explicit conflict stays an error.

    A bad ``--max-time`` (NaN, ≤ 0) leaves the default minimum alone so that validate_spec names it.
    """
    max_s = DEFAULT_MAX_TIME_S if max_time is None else max_time
    if min_time is not None:
        return min_time, max_s
    pulled = max_time is not None and 0 < max_time < DEFAULT_MIN_TIME_S
    return (max_s if pulled else DEFAULT_MIN_TIME_S), max_s


def _input_bytes(max_input_mb: float) -> int:
    from edgebench.errors import UsageError

    if not (max_input_mb == max_input_mb and 0 < max_input_mb <= 2**30):
        raise UsageError(
            f"--max-input-mb must be a finite number in (0, {2**30}] MiB, got {max_input_mb!r}",
            hint="e.g. --max-input-mb 2048",
        )
    return int(max_input_mb * 1024**2)


def _log_level(level: str) -> str:
    from edgebench.errors import UsageError

    levels = ("verbose", "info", "warning", "error", "fatal")
    if level not in levels:
        raise UsageError(f"unknown --runtime-log-level {level!r}", hint=f"use one of: {', '.join(levels)}")
    return level


def _ort_sugar(
    ep: list[str] | None,
    inter_op: int | None,
    graph_opt: str | None,
    mode: str | None,
    session_config: list[str] | None,
    arena: bool | None,
) -> dict[str, Any]:
    from edgebench.options import parse_pairs

    given = {
        "providers": ep or None,
        "inter_op_threads": inter_op,
        "graph_optimization": graph_opt,
        "execution_mode": mode,
        "session_config": parse_pairs(session_config, "--session-config") or None,
        "cpu_mem_arena": arena,
    }
    return {k: v for k, v in given.items() if v is not None}


def _refuse_sugar(ort: dict[str, Any], backends: list[str]) -> Exception:
    from edgebench.errors import UsageError

    flags = {
        "providers": "--ep",
        "inter_op_threads": "--inter-op-threads",
        "graph_optimization": "--graph-opt",
        "execution_mode": "--execution-mode",
        "session_config": "--session-config",
        "cpu_mem_arena": "--arena",
    }
    other = next(b for b in backends if b != "onnxruntime")
    return UsageError(
        f"{', '.join(flags[k] for k in ort)} {'is an ONNX Runtime option' if len(ort) == 1 else 'are ONNX Runtime options'}"
        f", not for --backend {other}",
        hint=f"pass {other}'s options with --backend-option KEY=VALUE (see `edgebench backends`)",
    )


def _variants(
    models: list[str], backends: list[str], common: dict[str, Any], pairs: dict[str, str], ort: dict[str, Any]
) -> list[RunSpec]:
    """models × backends; --backend-option applies to every backend (each validates its own keys)."""
    from edgebench import options, registry
    from edgebench._frozen import FrozenMap
    from edgebench.records import RunSpec

    specs = []
    for model in models:
        for name in backends:
            plugin = registry.load("edgebench.backends", name)
            given = {**options.coerce_strings(plugin.Options, pairs), **(ort if name == "onnxruntime" else {})}
            specs.append(RunSpec(model=model, backend=name, backend_options=FrozenMap(given), **common))
    return specs


def _open_store(db: Path | None) -> Any:
    from edgebench.stores import open_store

    return open_store(db)


def _progress(done: int, total: int, job: Any) -> None:
    spec = job.spec
    err_console.print(
        f"[dim][{done + 1}/{total}] {spec.model} · {spec.backend} · process {job.process_index + 1}/{spec.processes}…[/dim]"
    )


def _print(comparison: Comparison, json_out: bool) -> None:
    from rich.text import Text

    from edgebench.records import record_to_dict, record_to_json
    from edgebench.reporters.console import render_comparison, render_run
    from edgebench.reporters.markdown import bench_table

    records = comparison.records
    if json_out:
        # plain print: Rich would re-wrap long lines and break the JSON
        if len(records) == 1:
            print(record_to_json(records[0], indent=2))
        else:
            import json

            ratios = [None if r is None else r.__dict__ for r in comparison.ratios]
            agreements = [None if a is None else a.__dict__ for a in comparison.agreements]
            payload = {"records": [record_to_dict(r) for r in records], "ratios": ratios, "agreements": agreements}
            print(json.dumps(payload, indent=2))
        return
    parts: list[object] = [render_run(record) for record in records]
    if len(records) > 1:
        parts += ["", render_comparison(comparison)]
    ok = [r for r in records if r.status == "ok"]
    if ok:
        parts += ["", Text(bench_table(ok).rstrip("\n"))]
    parts += [Text(f"Record {record.id}", style="dim") for record in records]
    emit(*parts)
