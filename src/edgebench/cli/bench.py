"""``edgebench bench``: measure a model's latency, throughput, memory and cold start."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edgebench.cli._common import console, err_console, parse_pairs, parse_shapes

if TYPE_CHECKING:
    from edgebench.records import RunRecord

_RUN = "Run options (same names across backends)"
_ORT = "ONNX Runtime options"


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


def bench(
    model: Annotated[str, typer.Argument(help="Zoo name or path to a .onnx file.")] = "efficientnet-lite0",
    backend: Annotated[str, typer.Option(help="Runtime plugin.", rich_help_panel=_RUN)] = "onnxruntime",
    threads: Annotated[
        int | None, typer.Option(help="Intra-op threads (default: runtime's).", rich_help_panel=_RUN)
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="Batch size for a dynamic leading dimension.", rich_help_panel=_RUN)
    ] = None,
    shape: Annotated[
        list[str] | None, typer.Option(help="Input shape NAME=AxBxC (repeatable).", rich_help_panel=_RUN)
    ] = None,
    inputs: Annotated[
        Path | None, typer.Option(help="Real inputs: .npy (one input) or .npz (by name).", rich_help_panel=_RUN)
    ] = None,
    warmup_time: Annotated[
        float, typer.Option(help="Warm-up seconds (time-based, ≥ 1 call).", rich_help_panel=_RUN)
    ] = 1.0,
    min_time: Annotated[float, typer.Option(help="Minimum measured seconds.", rich_help_panel=_RUN)] = 3.0,
    max_time: Annotated[float, typer.Option(help="Maximum measured seconds.", rich_help_panel=_RUN)] = 60.0,
    min_iters: Annotated[int, typer.Option(help="Minimum measured iterations.", rich_help_panel=_RUN)] = 100,
    target_ci: Annotated[
        float,
        typer.Option(help="Stop when the median's 95% CI is within ±this fraction (0 = off).", rich_help_panel=_RUN),
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed of generated inputs and bootstrap.", rich_help_panel=_RUN)] = 0,
    inline: Annotated[
        bool, typer.Option(help="Measure in this process (debugging; no isolation).", rich_help_panel=_RUN)
    ] = False,
    max_input_mb: Annotated[float, typer.Option(help="Refuse inputs larger than this.", rich_help_panel=_RUN)] = 2048.0,
    ep: Annotated[
        list[str] | None, typer.Option(help="Execution provider (repeatable, in priority order).", rich_help_panel=_ORT)
    ] = None,
    inter_op_threads: Annotated[int | None, typer.Option(help="Inter-op threads.", rich_help_panel=_ORT)] = None,
    graph_opt: Annotated[str, typer.Option(help="disable | basic | extended | all", rich_help_panel=_ORT)] = "all",
    execution_mode: Annotated[str, typer.Option(help="sequential | parallel", rich_help_panel=_ORT)] = "sequential",
    session_config: Annotated[
        list[str] | None, typer.Option(help="Session config entry KEY=VALUE (repeatable).", rich_help_panel=_ORT)
    ] = None,
    collector: Annotated[
        list[str] | None,
        typer.Option(help="Extra collector plugin around the measured window (repeatable).", rich_help_panel=_RUN),
    ] = None,
    arena: Annotated[
        bool, typer.Option(help="CPU memory arena (inflates RSS; recorded).", rich_help_panel=_ORT)
    ] = True,
    dynamic_batch: Annotated[bool, typer.Option(help="Zoo models: use the dynamic-batch export.")] = False,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Model cache (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
    store: Annotated[bool, typer.Option(help="Save the record in the results database.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the RunRecord as JSON on stdout.")] = False,
) -> None:
    """Benchmark MODEL (default: the embedded EfficientNet-Lite0) and store the record."""
    from edgebench.engine.bench import run_benchmark
    from edgebench.errors import MeasurementError, UsageError
    from edgebench.records import JSONValue, RunSpec
    from edgebench.stores import open_store

    if max_input_mb <= 0:
        raise UsageError("--max-input-mb must be positive", hint="e.g. --max-input-mb 2048")
    options: dict[str, JSONValue] = {
        "graph_optimization": graph_opt,
        "execution_mode": execution_mode,
        "cpu_mem_arena": arena,
        "max_input_bytes": int(max_input_mb * 1024**2),
    }
    if backend == "onnxruntime":
        options["providers"] = ep or ["CPUExecutionProvider"]
    if inter_op_threads is not None:
        options["inter_op_threads"] = inter_op_threads
    if session_config:
        options["session_config"] = parse_pairs(session_config, "--session-config")
    spec = RunSpec(
        model=model,
        backend=backend,
        threads=threads,
        batch=batch,
        shapes=parse_shapes(shape),
        inputs_file=str(inputs) if inputs else None,
        warmup_time_s=warmup_time,
        min_time_s=min_time,
        max_time_s=max_time,
        min_iters=min_iters,
        target_ci=target_ci,
        seed=seed,
        inline=inline,
        backend_options=options,
        collectors=tuple(collector or ()),
    )
    results = open_store(db) if store else None
    if not json_out:
        err_console.print(f"[dim]Benchmarking {model} with {backend}…[/dim]")
    record = run_benchmark(spec, store=results, cache_dir=cache_dir, dynamic_batch=dynamic_batch)
    _print(record, json_out)
    if record.status != "ok":
        err = record.error
        raise MeasurementError(
            f"benchmark failed: {err.type}: {err.message}" if err else "benchmark failed",
            hint="the failed run is stored; rerun with --inline to debug",
        )


def _print(record: RunRecord, json_out: bool) -> None:
    from edgebench.records import record_to_json
    from edgebench.reporters.console import render_run
    from edgebench.reporters.markdown import bench_table

    if json_out:
        # plain print: Rich would re-wrap long lines and break the JSON
        print(record_to_json(record, indent=2))
        return
    console.print(render_run(record))
    if record.status == "ok":
        console.print()
        console.print(bench_table([record]), markup=False)
    console.print(f"Record {record.id}", style="dim")
