"""``edgebench analyze``: params, MACs/FLOPs, depth, weight and activation memory of a model file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edgebench.cli._common import console, parse_shapes

if TYPE_CHECKING:
    from rich.table import Table

    from edgebench.analysis import ModelAnalysis

UNKNOWN = "?"  # a count that could not be computed (never printed as 0)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)


def analyze(
    model: Annotated[str, typer.Argument(help="Path to a .onnx/.tflite file, or a zoo name.")],
    per_layer: Annotated[bool, typer.Option("--per-layer", help="One row per executed node.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Machine-readable output (schema: docs/analysis.md).")
    ] = False,
    shape: Annotated[list[str] | None, typer.Option(help="Fix symbolic input dims: NAME=AxBxC (repeatable).")] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Zoo cache (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
) -> None:
    """Static analysis: params, MACs (FLOPs = 2 x MACs), depth, weight bytes, peak activation memory."""
    from edgebench.analysis import analyze_model

    shapes = parse_shapes(shape)
    path, source_params = _resolve(model, cache_dir)
    result = analyze_model(path, shapes or None, source_params=source_params)
    if json_out:
        import json

        # plain print: Rich would re-wrap long lines and break the JSON
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
        return
    console.print(_totals(result))
    if per_layer:
        _print_wide(_layers(result))


def _resolve(model: str, cache_dir: Path | None) -> tuple[Path, int | None]:
    """Zoo names are exported on first use (and know their source's param count); paths are used as they are."""
    from edgebench.zoo import ZOO, resolve_model

    path = Path(model).expanduser()
    if path.exists() or model not in ZOO:
        return path, None  # analyze_model reports missing/unknown files itself
    resolved = resolve_model(model, cache_dir)
    return resolved.path, resolved.info.source_params


def _num(value: int | None) -> str:
    from edgebench.reporters import units

    return UNKNOWN if value is None else f"{units.count(value)} ({value:,})"


def _size(value: int | None) -> str:
    from edgebench.reporters import units

    return UNKNOWN if value is None else f"{units.size(value, binary=False)} ({value:,} B)"


def _total_rows(a: ModelAnalysis) -> list[tuple[str, str]]:
    from edgebench.reporters import units

    bound = "" if a.macs_complete else f"≥ (lower bound: {len(a.unknown_macs_layers)} node(s) not counted) "
    inputs = ", ".join(f"{name} {'×'.join(str(d) for d in shape)}" for name, shape in a.inputs.items())
    by_dtype = ", ".join(f"{dtype} {units.size(n, binary=False)}" for dtype, n in a.weight_bytes_by_dtype.items())
    peak = _size(a.peak_activation_bytes) + (f" at {a.peak_activation_node}" if a.peak_activation_node else "")
    return [
        ("Format", f"{a.source_format} · {a.bit_width}"),
        ("Inputs", inputs or UNKNOWN),
        ("Params", _num(a.params)),
        ("MACs", bound + _num(a.macs)),
        ("FLOPs", f"{bound}{_num(a.flops)} = 2 × MACs"),
        ("Other ops", f"{_num(a.other_ops)} element-wise, activation, pooling, normalization, bias"),
        ("Depth", f"{a.depth_param_layers} layers with params · {a.depth_topological} topological (longest path)"),
        ("Weights", f"{_size(a.weight_bytes)}" + (f" — {by_dtype}" if by_dtype else "")),
        ("Peak activations", peak),
        ("Model file", _size(a.model_size_bytes)),
        ("Quantized MACs", units.pct(a.quantized_mac_fraction)),
        ("Unsupported ops", ", ".join(a.unsupported_ops) or "none"),
    ]


def _totals(a: ModelAnalysis) -> Table:
    from rich.table import Table

    table = Table(title=f"Static analysis of {a.model_name}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in _total_rows(a):
        table.add_row(label, value, end_section=False)
    for note in a.notes:
        table.add_row("Note", note)
    return table


def _print_wide(table: Table) -> None:
    """Numbers are never cut to fit a narrow terminal: the table gets the width it needs."""
    from rich.console import Console
    from rich.measure import Measurement

    needed = Measurement.get(console, console.options.update(max_width=1000), table).maximum
    if needed <= console.width:
        console.print(table)
        return
    wide = Console(file=console.file, width=needed, highlight=False, soft_wrap=True, force_terminal=console.is_terminal)
    wide.print(table)


def _cell(value: int | None) -> str:
    return UNKNOWN if value is None else f"{value:,}"


def _layers(a: ModelAnalysis) -> Table:
    from rich.table import Table

    table = Table(
        title="Per layer (executed nodes, in execution order; q = quantized MACs)",
        title_justify="left",
        caption="params/weight bytes are charged to the first node using a weight; ? = unknown",
    )
    table.add_column("name", overflow="fold", max_width=48)
    for header in ("op", "output shape"):
        table.add_column(header, no_wrap=True)
    for header in ("params", "MACs", "weight bytes", "activation bytes"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("dtype", no_wrap=True)
    for row in a.layers:
        shape = (
            UNKNOWN
            if row.output_shape is None
            else "×".join(UNKNOWN if d is None else str(d) for d in row.output_shape)
        )
        table.add_row(
            row.name, row.op, shape, _cell(row.params), _cell(row.macs), _cell(row.weight_bytes),
            _cell(row.activation_bytes), row.dtype + (" q" if row.quantized else ""),
        )  # fmt: skip
    return table
