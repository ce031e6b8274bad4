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

from edgebench.cli._common import console, err_console

if TYPE_CHECKING:
    from edgebench.platform import PlatformReport
    from edgebench.platform.sensors import SensorStatus

_STATE_STYLE = {"readable": "green", "permission_denied": "yellow", "absent": "dim", "available": "green"}


def register(app: typer.Typer) -> None:
    app.command("platform")(platform)


def platform(
    quick: Annotated[bool, typer.Option("--quick", help="Detection only, no microbenchmarks (< 2 s).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the platform record as JSON on stdout.")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the guide's Target Device row (Markdown).")
    ] = False,
    threads: Annotated[int | None, typer.Option(help="Threads for the microbenchmarks (default: usable CPUs).")] = None,
    duration: Annotated[float, typer.Option(help="Seconds per microbenchmark (best of the runs that fit).")] = 2.0,
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
    store: Annotated[bool, typer.Option(help="Save the platform record in the results database.")] = True,
) -> None:
    """Characterize this machine: hardware, runtimes, sensors and measured peaks (roofline)."""
    from edgebench import platform as eb_platform
    from edgebench.errors import UsageError

    if threads is not None and threads < 1:
        raise UsageError(f"--threads must be at least 1, got {threads}", hint="e.g. --threads 4")
    if not duration > 0:
        raise UsageError(f"--duration must be positive, got {duration}", hint="e.g. --duration 2")
    quiet = json_out or markdown
    report = eb_platform.characterize(
        quick=quick,
        threads=threads,
        duration_s=duration,
        progress=None if quiet else (lambda message: err_console.print(f"[dim]{message}[/dim]")),
    )
    record_id = _store(report, db) if store else None
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


def _store(report: PlatformReport, db: Path | None) -> str:
    from edgebench.stores import open_store

    return open_store(db).put_platform(report.to_dict())


def _print_markdown(report: PlatformReport) -> None:
    from edgebench.platform.report import markdown_table

    typer.echo(markdown_table([report.to_markdown_row()]))


def print_report(report: PlatformReport) -> None:
    """The Rich tables, then the Target Device row (Markdown) for pasting into a report."""
    console.print(_machine_table(report))
    console.print(_accelerator_table(report))
    console.print(_runtime_table(report))
    console.print(_sensor_table(report.sensors))
    console.print(_peak_table(report))
    for note in report.notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")
    console.print("\nTarget Device (guide, Step 2):", markup=False)
    _print_markdown(report)


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
    for column in ("runtime", "version", "devices / execution providers", "note"):
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


def _sensor_table(sensors: tuple[SensorStatus, ...]) -> Table:
    table = Table(title="Power / thermal / frequency sensors", title_justify="left")
    for column in ("sensor", "kind", "state", "value", "detail / fix"):
        table.add_column(column, overflow="fold")
    for s in sensors:
        style = _STATE_STYLE.get(s.state, "red")
        note = f"fix: {s.fix}" if s.fix else (s.detail or "")
        table.add_row(escape(s.name), s.kind, f"[{style}]{s.state}[/{style}]", _value(s.value, s.unit), escape(note))
    return table


def _peak_table(report: PlatformReport) -> Table:
    title = "Peaks (measured" + (f", {report.microbench_threads} thread(s)" if report.microbench_threads else "") + ")"
    table = Table(title=title, title_justify="left")
    for column in ("metric", "value", "label", "how"):
        table.add_column(column, overflow="fold")
    if not report.peaks:
        table.add_row("microbenchmarks", "–", "skipped", "--quick: run without it to measure peaks")
    for p in report.peaks:
        value = _rate(p.value, p.unit) if p.value is not None else "–"
        label = p.state if p.state != "measured" else f"measured, best of {p.runs}"
        table.add_row(p.name, value, label, escape(f"{p.method}; {p.detail}" if p.detail else p.method))
    for t in report.theoretical:
        value = _rate(t.ops_per_s, "FLOP/s" if t.precision == "fp32" else "OP/s") if t.ops_per_s else "–"
        how = "; ".join((t.formula, *t.assumptions))
        table.add_row(f"{t.name} ({t.isa or 'ISA ?'})", value, "theoretical", escape(how))
    for r in report.ridge_points:
        value = f"{r.value:.1f} ops/byte" if r.value is not None else "–"
        table.add_row(f"ridge point {r.precision}", value, "derived", r.detail)
    return table


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
