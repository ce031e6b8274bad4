"""``edgebench convert`` (one model to one runtime format) and ``edgebench deploy`` (the conversion matrix)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from edgebench.cli._common import emit, err_console, parse_shapes

DEFAULT_MODEL = "efficientnet-lite0"
_CONV = "Conversion options"
# deploy measures every target: 1 process and ~1 s each keeps the default matrix around a minute.
DEPLOY_PROCESSES, DEPLOY_TIME_S = 1, 1.0


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
    app.command("deploy")(deploy)


def _options(
    opset: int, dynamic_batch: bool, exporter: str, keep_io_types: bool, fp16_weights: bool, shape: list[str] | None
) -> Any:
    from edgebench.convert import ConvertOptions
    from edgebench.options import validate

    data = dict(
        opset=opset,
        dynamic_batch=dynamic_batch,
        exporter=exporter,
        keep_io_types=keep_io_types,
        compress_to_fp16=fp16_weights,
        shapes=parse_shapes(shape),
    )
    return validate("convert", ConvertOptions, data)


def convert(
    model: Annotated[
        str, typer.Argument(help="Zoo name, model file or module.path:factory (a torch.nn.Module).")
    ] = DEFAULT_MODEL,
    to: Annotated[str, typer.Option("--to", help="onnx | onnx-simplified | onnx-fp16 | openvino | litert")] = "onnx",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output file (default: the conversion cache).")
    ] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset (torch → ONNX).", rich_help_panel=_CONV)] = 17,
    dynamic_batch: Annotated[
        bool, typer.Option(help="ONNX with a symbolic batch dimension.", rich_help_panel=_CONV)
    ] = False,
    exporter: Annotated[
        str, typer.Option(help="torch.onnx exporter: legacy | dynamo (needs onnxscript).", rich_help_panel=_CONV)
    ] = "legacy",
    keep_io_types: Annotated[
        bool,
        typer.Option(
            "--keep-io-types/--fp16-io", help="FP16 ONNX: keep float32 inputs/outputs.", rich_help_panel=_CONV
        ),
    ] = True,
    fp16_weights: Annotated[
        bool, typer.Option(help="OpenVINO IR: store FP16 weights (default FP32).", rich_help_panel=_CONV)
    ] = False,
    shape: Annotated[
        list[str] | None,
        typer.Option(help="Input shape NAME=AxBxC for sources that do not record it.", rich_help_panel=_CONV),
    ] = None,
    check: Annotated[bool, typer.Option(help="Compare outputs with the source on the built-in sample images.")] = True,
    data: Annotated[
        str | None, typer.Option(help="Check on this dataset instead (folder of images, .npz, see docs/accuracy.md).")
    ] = None,
    preprocess: Annotated[str, typer.Option(help="Preprocessing preset for --data images.")] = "tf",
    cache_dir: Annotated[
        Path | None, typer.Option(help="Model cache (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the conversion record as JSON on stdout.")] = False,
) -> None:
    """Convert MODEL to one runtime's format; records tool, time, hashes and the numerical check."""
    from edgebench.convert import convert as run_convert
    from edgebench.convert import get_converter

    get_converter(to)  # an unknown target fails before any slow model resolution
    options = _options(opset, dynamic_batch, exporter, keep_io_types, fp16_weights, shape)
    if output is not None and output.is_dir():
        from edgebench.errors import UsageError

        raise UsageError(f"--output {output} is a directory", hint="give a file name, e.g. -o model.onnx")
    if not json_out:
        err_console.print(f"[dim]converting {model} → {to}…[/dim]")
    done = run_convert(
        model, to, out=output, options=options, cache_dir=cache_dir, check=check, data=_data(data, preprocess)
    )
    if json_out:
        import json

        print(json.dumps(done.to_dict(), indent=2))
        return
    emit(*_conversion_lines(done))


def _conversion_lines(done: Any) -> list[str]:
    lines = [f"{done.target}: {done.output.path}"]
    for step in (*done.steps, done):
        cached = " (cached)" if step.cached else ""
        lines.append(
            f"  {step.source.format} → {step.target}: {step.tool} {step.tool_version}, {step.seconds:.2f} s{cached}, "
            f"{step.output.size_bytes / 1e6:.2f} MB, sha256 {step.output.sha256[:16]}"
        )
    check = done.check
    if check is not None and check.top1_agreement is not None:
        lines.append(
            f"  check vs source on {check.inputs}: top-1 agreement {check.top1_agreement:.1%}, "
            f"max abs diff {check.max_abs_diff:.2e}"
        )
    elif check is not None:
        lines.append(f"  check: {check.note}")
    return lines


def deploy(
    model: Annotated[str, typer.Argument(help="Zoo name, model file or module.path:factory.")] = DEFAULT_MODEL,
    targets: Annotated[
        str | None,
        typer.Option(help="Comma-separated targets (default: onnx,onnx-simplified,onnx-fp16,openvino,litert)."),
    ] = None,
    time_s: Annotated[float, typer.Option("--time", help="Measured seconds per target.")] = DEPLOY_TIME_S,
    processes: Annotated[int, typer.Option(help="Fresh processes per target.")] = DEPLOY_PROCESSES,
    threads: Annotated[int | None, typer.Option(help="Intra-op threads for every backend.")] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset (torch → ONNX).", rich_help_panel=_CONV)] = 17,
    shape: Annotated[
        list[str] | None,
        typer.Option(help="Input shape NAME=AxBxC for sources that do not record it.", rich_help_panel=_CONV),
    ] = None,
    data: Annotated[str | None, typer.Option(help="Check on this dataset instead of the built-in photos.")] = None,
    preprocess: Annotated[str, typer.Option(help="Preprocessing preset for --data images.")] = "tf",
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the matrix as Markdown to FILE.")
    ] = None,
    inline: Annotated[bool, typer.Option(help="Benchmark in this process (debugging; no isolation).")] = False,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Model cache (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
    store: Annotated[bool, typer.Option(help="Save the benchmark records in the results database.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the matrix as JSON on stdout.")] = False,
) -> None:
    """Convert MODEL to every target, check each against the source and benchmark it: one table."""
    from edgebench.convert import deploy as matrix
    from edgebench.errors import UsageError

    # `--targets ''` is an empty list, not "the default": test against None, not truthiness.
    chosen = [t.strip() for t in (",".join(matrix.DEFAULT_TARGETS) if targets is None else targets).split(",")]
    chosen = [t for t in chosen if t]
    if not chosen:
        raise UsageError("--targets is empty", hint="e.g. --targets onnx,openvino")
    from edgebench.convert import get_converter, target_names

    unknown = [t for t in chosen if t not in target_names()]
    if unknown:  # a typo is the user's error, not a failed conversion row after minutes of work
        get_converter(unknown[0])
    if not (time_s == time_s and 0 < time_s <= 600):
        raise UsageError(f"--time must be in (0, 600] seconds, got {time_s!r}", hint="e.g. --time 1")
    if not 1 <= processes <= 100:
        raise UsageError(f"--processes must be in [1, 100], got {processes}", hint="e.g. --processes 1")
    options = _options(opset, False, "legacy", True, False, shape)
    bench = dict(
        warmup_time_s=min(0.5, time_s / 2),
        min_time_s=time_s,
        max_time_s=time_s,
        min_iters=10,
        processes=processes,
        threads=threads,
        shapes=options.shapes,
    )
    opened = _open_store(db) if store else None
    if not json_out:
        err_console.print(f"[dim]deploy {model}: converting to {', '.join(chosen)}, then benchmarking each…[/dim]")
    rows = matrix.deploy(
        model,
        chosen,
        options=options,
        cache_dir=cache_dir,
        bench=bench,
        store=opened,
        executor="inline" if inline else "local",
        data=_data(data, preprocess),
    )
    if markdown is not None:
        markdown.write_text(matrix.markdown(rows, model))
    if json_out:
        import json

        print(json.dumps({"model": model, "targets": matrix.rows_to_json(rows)}, indent=2))
        return
    emit(matrix.rich_table(rows, model))


def _data(location: str | None, preprocess: str) -> Any:
    if location is None:
        return None
    from edgebench.accuracy.preprocess import get_preset
    from edgebench.convert import CheckData

    get_preset(preprocess)  # unknown preset: a UsageError before anything is converted
    return CheckData(location, preprocess)


def _open_store(db: Path | None) -> Any:
    from edgebench.stores import open_store

    return lambda: open_store(db)
