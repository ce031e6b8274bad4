"""``edgebench analyze``: params, MACs/FLOPs, depth, weight and activation memory of a model file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edgebench.cli._common import console, emit, parse_shapes
from edgebench.zoo.catalog import DEFAULT_MODEL

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from edgebench.analysis import LayerRow, ModelAnalysis

UNKNOWN = "?"  # a count that could not be computed (never printed as 0)
NAME_MIN = 16  # narrowest the per-layer name column may fold to before other columns give way


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)


def analyze(
    model: Annotated[str, typer.Argument(help="Path to a .onnx/.tflite file, or a zoo name.")] = DEFAULT_MODEL,
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
    path, source_params, label = _resolve(model, cache_dir)
    result = analyze_model(path, shapes or None, source_params=source_params)
    if json_out:
        import json

        # plain print: Rich would re-wrap long lines and break the JSON
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
        return
    _emit(_totals(result, label))
    if per_layer:
        table, needed = _layers(result, console.width)
        _emit(table, max(needed, console.width))


def _resolve(model: str, cache_dir: Path | None) -> tuple[Path, int | None, str]:
    """(file, source param count, name for the title). Zoo names are exported on first use and know
    their source's param count; paths are used as they are."""
    from edgebench.zoo import ZOO, resolve_model

    path = Path(model).expanduser()
    if path.exists() or model not in ZOO:
        return path, None, path.name  # analyze_model reports missing/unknown files itself
    resolved = resolve_model(model, cache_dir)
    return resolved.path, resolved.info.source_params, model  # the cached file's name carries a long hash


def _emit(renderable: RenderableType, width: int | None = None) -> None:
    """Print at ``width`` (default: the console's); piped output loses the cells' trailing padding
    (diff- and grep-friendly)."""
    from rich.console import Console

    out = console
    if width is not None and width > console.width:  # Rich never prints wider than its console
        out = Console(file=console.file, width=width, highlight=False, force_terminal=console.is_terminal)
    emit(renderable, out=out)


# --- totals ------------------------------------------------------------------------------------------


def _count(a: ModelAnalysis, key: str, value: int | None) -> str:
    from edgebench.reporters import units

    if value is None:
        return UNKNOWN
    text = f"{units.count(value)} ({value:,})"
    return f"≥ {text}" if key in a.lower_bounds else text


def _size(a: ModelAnalysis, key: str, value: int | None) -> str:
    from edgebench.reporters import units

    if value is None:
        return UNKNOWN
    text = f"{units.size(value, binary=False)} ({value:,} B)"
    return f"≥ {text}" if key in a.lower_bounds else text


def _not_counted(nodes: Sequence[str]) -> str:
    return f" — {len(nodes)} node(s) not counted" if nodes else ""


def _peak(a: ModelAnalysis) -> str:
    if a.peak_activation_bytes is None:
        return f"{UNKNOWN} ({a.unknown_activation_tensors} tensor(s) of unknown size)"
    return _size(a, "peak_activation_bytes", a.peak_activation_bytes) + f" at {a.peak_activation_node}"


def _total_rows(a: ModelAnalysis) -> list[tuple[str, str]]:
    from edgebench.reporters import units

    inputs = ", ".join(f"{name} {_dims(shape)}" for name, shape in a.inputs.items())
    by_dtype = ", ".join(f"{dtype} {units.size(n, binary=False)}" for dtype, n in a.weight_bytes_by_dtype.items())
    kinds = " element-wise, activation, pooling, normalization, bias"
    return [
        ("Format", f"{a.source_format} · {a.bit_width}"),
        ("Inputs", inputs or UNKNOWN),
        ("Params", _count(a, "params", a.params)),
        ("MACs", _count(a, "macs", a.macs) + _not_counted(a.unknown_macs_layers)),
        ("FLOPs", f"{_count(a, 'flops', a.flops)} = 2 × MACs"),
        ("Other ops", _count(a, "other_ops", a.other_ops) + kinds + _not_counted(a.unknown_other_ops_layers)),
        ("Depth", f"{a.depth_param_layers} layers with params · {a.depth_topological} topological (longest path)"),
        ("Weights", _size(a, "weight_bytes", a.weight_bytes) + (f" — {by_dtype}" if by_dtype else "")),
        ("Peak activations", _peak(a)),
        ("Model file", _size(a, "model_size_bytes", a.model_size_bytes)),
        ("Quantized MACs", units.pct(a.quantized_mac_fraction)),
        ("Unsupported ops", ", ".join(a.unsupported_ops) or "none"),
    ]


def _totals(a: ModelAnalysis, label: str) -> Table:
    from rich.table import Table

    caption = "≥ = lower bound (some parts not counted); ? = unknown" if a.lower_bounds else None
    table = Table(
        title=f"Static analysis of {label}", show_header=False, title_justify="left",
        caption=caption, caption_justify="left",
    )  # fmt: skip
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in _total_rows(a):
        table.add_row(name, value)
    for note in a.notes:
        table.add_row("Note", note)
    return table


# --- per layer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    header: str
    cells: tuple[str, ...]
    numbers: tuple[int | None, ...] = ()  # the values behind right-aligned count cells, for abbreviating
    drop: int = 0  # order in which columns give way on a narrow console (1 first); 0 = always shown

    @property
    def width(self) -> int:
        from rich.cells import cell_len

        return max([cell_len(self.header), *(cell_len(c) for c in self.cells)])


def _dims(shape: Sequence[int | str | None] | None) -> str:
    return UNKNOWN if shape is None else "×".join(UNKNOWN if d is None else str(d) for d in shape)


def _cell(value: int | None) -> str:
    return UNKNOWN if value is None else f"{value:,}"


def _count_column(header: str, values: Sequence[int | None], drop: int = 0) -> _Column:
    return _Column(header, tuple(_cell(v) for v in values), tuple(values), drop)


def _layer_columns(rows: Sequence[LayerRow]) -> list[_Column]:
    return [
        _Column("name", tuple(r.name for r in rows)),
        _Column("op", tuple(r.op for r in rows)),
        _Column("output shape", tuple(_dims(r.output_shape) for r in rows)),
        _count_column("params", [r.params for r in rows]),
        _count_column("MACs", [r.macs for r in rows]),
        _count_column("weight bytes", [r.weight_bytes for r in rows], drop=1),
        _count_column("activation bytes", [r.activation_bytes for r in rows], drop=2),
        _Column("dtype", tuple(r.dtype + (" q" if r.quantized else "") for r in rows), drop=3),
    ]


def _table_width(columns: Sequence[_Column], name_width: int = NAME_MIN) -> int:
    """Width of the SIMPLE_HEAD table below with the name column folded to ``name_width``: one padding
    space on each inner side of a column plus one divider between columns."""
    widths = [min(c.width, name_width) if c.header == "name" else c.width for c in columns]
    return sum(widths) + 3 * (len(widths) - 1)


def _name_width(columns: Sequence[_Column], width: int) -> int:
    """What is left for the folding name column, but never under 8 characters."""
    natural = next(c.width for c in columns if c.header == "name")
    others = _table_width([c for c in columns if c.header != "name"]) + 3
    return max(min(natural, 8), min(natural, width - others))


def _abbreviated(column: _Column) -> _Column:
    from edgebench.reporters import units

    cells = tuple(UNKNOWN if v is None else units.count(v) for v in column.numbers)
    return replace(column, cells=cells)


def _fit(columns: list[_Column], width: int) -> tuple[list[_Column], list[str]]:
    """Columns that fit ``width`` and what was changed to get there (for the caption): first a column
    that says the same on every row says it once, then columns give way in ``drop`` order, and last
    counts are abbreviated. The name column folds; everything stays in --json."""
    notes: list[str] = []
    for column in [c for c in columns if c.drop and c.cells and len(set(c.cells)) == 1]:
        if _table_width(columns) <= width:
            return columns, notes
        columns = [c for c in columns if c is not column]
        notes.append(f"{column.header}: {column.cells[0]} on every row")
    dropped = []
    for column in sorted((c for c in columns if c.drop), key=lambda c: c.drop):
        if _table_width(columns) <= width:
            break
        columns = [c for c in columns if c is not column]
        dropped.append(column.header)
    if dropped:
        notes.append(f"{', '.join(dropped)} left out to fit {width} columns (all in --json)")
    if _table_width(columns) > width:
        columns = [_abbreviated(c) if c.numbers else c for c in columns]
        notes.append("counts abbreviated: k = 10³, M = 10⁶, G = 10⁹")
    return columns, notes


def _layers(a: ModelAnalysis, width: int) -> tuple[RenderableType, int]:
    """The per-layer table and the width it needs: more than ``width`` only on consoles too narrow for
    even the abbreviated table, where longer lines beat numbers cut to fit."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    columns, fitted = _fit(_layer_columns(a.layers), width)
    quantized = any(" q" in cell for c in columns if c.header == "dtype" for cell in c.cells)
    legend = ["params/weight bytes are charged to the first node using a weight", "? = unknown"]
    caption = "; ".join(legend + (["q = quantized MACs"] if quantized else []) + fitted)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    name_width = _name_width(columns, width)
    for column in columns:
        if column.header == "name":
            table.add_column(column.header, overflow="fold", min_width=name_width)
        else:
            table.add_column(column.header, justify="right" if column.numbers else "left", no_wrap=True)
    for cells in zip(*(c.cells for c in columns), strict=True):
        table.add_row(*cells)
    # title and caption outside the table: they wrap at the console's width, not the (narrower) table's
    title = Text("Per layer (executed nodes, in execution order)", style="italic")
    return Group(title, table, Text(caption, style="dim")), _table_width(columns, name_width)
