"""``edgebench platform``: describe this machine, measure its peaks, store the platform record.

Nothing heavy is imported here at module level: ``edgebench.platform`` loads numpy/onnxruntime only
inside the microbenchmarks (ARCHITECTURE rule 5).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from edgebench.cli._common import emit, err_console

if TYPE_CHECKING:
    from rich.console import RenderableType

    from edgebench.platform import PlatformReport
    from edgebench.platform.sensors import SensorStatus
    from edgebench.stores import ResultsStore

_STATE_STYLE = {"readable": "green", "permission_denied": "yellow", "absent": "dim", "available": "green"}


def register(app: typer.Typer) -> None:
    app.command("platform")(platform)


def platform(
    quick: Annotated[bool, typer.Option("--quick", help="Detection only, no microbenchmarks (< 2 s).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the platform record as JSON on stdout.")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the guide's Target Device row (Markdown).")
    ] = False,
    threads: Annotated[
        int | None, typer.Option(help="Threads for the microbenchmarks, 1-1024 (default: usable CPUs).")
    ] = None,
    duration: Annotated[
        float, typer.Option(help="Seconds per microbenchmark, 0.05-3600 (best of the runs that fit).")
    ] = 2.0,
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
    store: Annotated[bool, typer.Option(help="Save the platform record in the results database.")] = True,
) -> None:
    """Characterize this machine: hardware, runtimes, sensors and measured peaks (roofline)."""
    from edgebench import platform as eb_platform
    from edgebench.errors import UsageError

    eb_platform.check_options(threads, duration, cli=True)
    if json_out and markdown:
        raise UsageError("--json and --markdown cannot be combined", hint="pick one; each prints one format on stdout")
    # Opened first so a bad --db fails now, not after a quarter of a minute of microbenchmarks.
    results = _open_store(db) if store else None
    quiet = json_out or markdown
    report = eb_platform.characterize(
        quick=quick,
        threads=threads,
        duration_s=duration,
        progress=None if quiet else (lambda message: err_console.print(f"[dim]{message}[/dim]")),
    )
    record_id = results.put_platform(report.to_dict()) if results else None
    if json_out:
        data = report.to_dict()
        if record_id:
            data["id"] = record_id
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if markdown:
        _print_markdown(report)
        return
    print_report(report)
    if record_id:
        err_console.print(f"[dim]Stored platform record {record_id}[/dim]")


def _open_store(db: Path | None) -> ResultsStore:
    from edgebench.stores import open_store

    return open_store(db)


def _print_markdown(report: PlatformReport) -> None:
    from edgebench.platform.report import markdown_table

    typer.echo(markdown_table([report.to_markdown_row()]))


def print_report(report: PlatformReport) -> None:
    """The tables, long explanations under them, then the guide's Target Device row as a list.

    Every line fits the console width (80 when piped, unless COLUMNS says otherwise).  Piped output has
    no trailing spaces: Rich pads cells to their column width, which breaks diffs and golden files.
    """
    emit(*_report_parts(report))


def _report_parts(report: PlatformReport) -> list[RenderableType]:
    parts: list[RenderableType] = [_machine_table(report), _accelerator_table(report), _runtime_table(report)]
    parts += _sensor_section(report.sensors)
    parts += _peak_section(report)
    parts += [Text.assemble(("Note: ", "yellow"), note) for note in report.notes]
    parts += _target_device(report)
    return parts


class _Notes:
    """Long explanations collected while a table is built, printed once under it as ``[n] text``.

    A cell holds only the reference, so no column is squeezed into a tall ribbon at 80 columns, and
    a text shared by many rows (twelve cpufreq policies) is printed once.
    """

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def ref(self, text: str | None) -> Text:
        if not text:
            return Text("")
        number = self._numbers.setdefault(text, len(self._numbers) + 1)
        return Text(f"[{number}]")

    def renderables(self) -> list[RenderableType]:
        if not self._numbers:
            return []
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(overflow="fold")  # wraps at words; folds only a path longer than the line
        for text, number in self._numbers.items():
            grid.add_row(Text(f"[{number}]"), Text(text))
        return [grid]


def _machine_table(report: PlatformReport) -> Table:
    cpu, system = report.cpu, report.system
    table = Table(title=f"Platform: {report.hostname or 'unknown host'}", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    board = system.board
    _kv(table, "Board", (board.model and f"{board.model} ({board.source})") or "not exposed (no device tree or DMI)")
    if board.jetson_l4t:
        _kv(table, "Jetson L4T", board.jetson_l4t)
    _kv(table, "CPU", " · ".join(x for x in (cpu.vendor, cpu.model, cpu.arch) if x) or _why(cpu.reasons, "model"))
    _kv(
        table,
        "Topology",
        f"{cpu.sockets or '?'} socket(s), {cpu.physical_cores or '?'} cores, {cpu.logical_cpus or '?'} threads",
    )
    _kv(
        table,
        "Clusters",
        "; ".join(
            f"cpus {_cpu_range(c.cpus)}: {c.cores}× {c.core_name or '?'}"
            + (f" @ {_hz(c.freq_min_hz)}–{_hz(c.freq_max_hz)}" if c.freq_max_hz else "")
            for c in cpu.clusters
        )
        or "–",
    )
    _kv(table, "Frequency", _frequency(report))
    _kv(table, "Governor", cpu.governor or _why(cpu.reasons, "governor"))
    _kv(table, "ISA (inference)", " ".join(cpu.isa_features) or "none of interest")
    _kv(
        table,
        "Caches",
        ", ".join(
            f"L{c.level}{c.type[0] if c.type != 'Unified' else ''} {_bytes(c.size_bytes)}×{c.instances}"
            for c in cpu.caches
        )
        or "–",
    )
    memory = system.memory
    _kv(
        table,
        "Memory",
        f"{_bytes(memory.total_bytes)} total, {_bytes(memory.available_bytes)} available, "
        f"swap {_bytes(memory.swap_total_bytes)}",
    )
    storage = system.storage
    _kv(table, "Storage", f"{_bytes(storage.free_bytes)} free of {_bytes(storage.total_bytes)} ({storage.path})")
    _kv(table, "OS", f"{system.os_name or '?'}, kernel {system.kernel or '?'}, Python {system.python}")
    return table


def _kv(table: Table, key: str, value: str) -> None:
    # Text, not markup: board and CPU names come from firmware and may contain brackets.
    table.add_row(key, Text(value))


def _frequency(report: PlatformReport) -> str:
    cpu = report.cpu
    if cpu.freq_max_hz is None:
        reported = f"; /proc/cpuinfo reports {_hz(cpu.freq_reported_hz)}" if cpu.freq_reported_hz else ""
        return _why(cpu.reasons, "freq_max_hz") + reported
    return f"min {_hz(cpu.freq_min_hz)}, max {_hz(cpu.freq_max_hz)}, current {_hz(cpu.freq_cur_hz)} (kernel request)"


def _accelerator_table(report: PlatformReport) -> Table:
    table = Table(title="Accelerators", title_justify="left")
    for column in ("kind", "name", "found via", "memory"):
        table.add_column(column)
    for acc in report.accelerators:
        table.add_row(
            acc.kind, escape(acc.name), escape(f"{acc.source} {acc.path or ''}".strip()), _bytes(acc.memory_bytes)
        )
    if not report.accelerators:
        table.add_row("–", "none detected (no NVML GPU, /dev/accel*, Coral, Hailo, DLA or devfreq GPU/NPU)", "", "")
    return table


def _runtime_table(report: PlatformReport) -> Table:
    table = Table(title="Runtimes", title_justify="left")
    for column in ("runtime", "version", "devices / providers", "note"):
        table.add_column(column, overflow="fold")
    for rt in report.runtimes:
        style = _STATE_STYLE.get(rt.state, "red")
        table.add_row(
            f"[{style}]{rt.name}[/{style}]",
            rt.version or "–",
            escape(", ".join(rt.devices) or "–"),
            escape(rt.detail or ""),
        )
    return table


def _sensor_section(sensors: tuple[SensorStatus, ...]) -> list[RenderableType]:
    notes = _Notes()
    table = Table(title="Power / thermal / frequency sensors", title_justify="left")
    for column in ("sensor", "kind", "state", "value"):
        table.add_column(column, overflow="fold")
    table.add_column("note", no_wrap=True)
    for s in sensors:
        style = _STATE_STYLE.get(s.state, "red")
        note = f"fix: {s.fix}" if s.fix else s.detail
        table.add_row(Text(s.name), s.kind, Text(s.state, style=style), _value(s.value, s.unit), notes.ref(note))
    return [table, *notes.renderables()]


def _peak_section(report: PlatformReport) -> list[RenderableType]:
    notes = _Notes()
    title = "Peaks (measured" + (f", {report.microbench_threads} thread(s)" if report.microbench_threads else "") + ")"
    table = Table(title=title, title_justify="left")
    for column in ("metric", "value", "label"):
        table.add_column(column, overflow="fold")
    table.add_column("how", no_wrap=True)
    if not report.peaks:
        table.add_row("microbenchmarks", "–", "skipped", notes.ref("--quick: run without it to measure peaks"))
    for p in report.peaks:
        value = _rate(p.value, p.unit) if p.value is not None else "–"
        label = p.state if p.state != "measured" else f"measured, best of {p.runs}"
        table.add_row(Text(p.name), value, label, notes.ref(f"{p.method}; {p.detail}" if p.detail else p.method))
    for t in report.theoretical:
        value = _rate(t.ops_per_s, "FLOP/s" if t.precision == "fp32" else "OP/s") if t.ops_per_s else "–"
        how = "; ".join((t.formula, *t.assumptions))
        table.add_row(Text(f"{t.name} ({t.isa or 'ISA ?'})"), value, "theoretical", notes.ref(how))
    for r in report.ridge_points:
        value = f"{r.value:.1f} ops/byte" if r.value is not None else "–"
        table.add_row(f"ridge point {r.precision}", value, "derived", notes.ref(r.detail))
    return [table, *notes.renderables()]


def _target_device(report: PlatformReport) -> list[RenderableType]:
    """One line per column: the Markdown row is ~250 characters wide, so it is printed by --markdown."""
    from edgebench.platform.report import TARGET_DEVICE_COLUMNS

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for column, cell in zip(TARGET_DEVICE_COLUMNS, report.target_device_cells(), strict=True):
        grid.add_row(column, Text(cell))
    title = Text("\nTarget Device (guide, Step 2); as a Markdown row: edgebench platform --markdown")
    return [title, grid]


def _why(reasons: dict[str, str], key: str) -> str:
    return f"– ({reasons[key]})" if key in reasons else "–"


def _cpu_range(cpus: tuple[int, ...]) -> str:
    if cpus and list(cpus) == list(range(cpus[0], cpus[-1] + 1)):
        return f"{cpus[0]}-{cpus[-1]}" if len(cpus) > 1 else str(cpus[0])
    return ",".join(map(str, cpus))


def _hz(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value / 1e9:.2f} GHz" if value >= 1e9 else f"{value / 1e6:.0f} MHz"


def _bytes(value: int | None) -> str:
    if value is None:
        return "?"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= size:
            return f"{value / size:.1f} {unit}" if unit == "GiB" else f"{value / size:.0f} {unit}"
    return f"{value} B"


def _rate(value: float | None, unit: str) -> str:
    """FLOP/s → GFLOP/s, OP/s → GOP/s or TOPS, B/s → GB/s (decimal, as bandwidth is quoted)."""
    if value is None:
        return "–"
    if unit == "B/s":
        return f"{value / 1e9:.1f} GB/s"
    if value >= 1e12:
        return f"{value / 1e12:.2f} T{unit}"
    return f"{value / 1e9:.1f} G{unit}"


def _value(value: float | None, unit: str | None) -> str:
    if value is None:
        return "–"
    if unit == "C":
        return f"{value:.1f} °C"
    if unit == "Hz":
        return _hz(value)
    if unit == "bitmask":
        return hex(int(value))
    if unit == "count":
        return str(int(value))
    return f"{value:.3f} {unit}" if unit in ("W",) else f"{value:.1f} {unit or ''}".strip()
