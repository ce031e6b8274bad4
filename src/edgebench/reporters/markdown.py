"""The guide's tables in Markdown, filled from records (``–`` = not measured yet, never an invented number).

Bench Table, Profiling Metrics, Optimization (FP32 vs INT8 rows), Target Device and the "Test
environments" block, each a function of records only; :func:`report` puts them in one document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from edgebench.records import RunRecord
from edgebench.reporters import fields, units
from edgebench.reporters.units import DASH

if TYPE_CHECKING:
    from edgebench.platform.report import PlatformReport
    from edgebench.reporters.document import ReportInput

# The guide's Bench Table, plus the batch: latency and compute are per timed call, so a batch-4 row
# must say it is batch 4 (per-sample figures are in the record: latency_per_sample_median_s).
BENCH_COLUMNS = (
    "Model",
    "Task",
    "Accuracy",
    "Batch",
    "Latency (ms/call)",
    "Model Size (MB)",
    "Params",
    "Compute (GFLOPs/call)",
    "Platform",
)
PROFILING_COLUMNS = (
    "Model",
    "Bit-Width (W/A)",
    "Size (MB)",
    "Params",
    "Depth",
    "Top-1 Accuracy",
    "Top-5 Accuracy",
    "Latency (ms) (CPU)",
    "Latency (ms) (GPU)",
    "Energy (mJ/inf)",
    "Compute (GFLOPs)",
    "Platform",
)
OPTIMIZATION_COLUMNS = (
    "Model",
    "Bit-Width (W/A)",
    "Size (MB)",
    "Params (MB)",
    "Top-1% Accuracy",
    "Peak RSS (MB)",
    "Latency (ms)",
    "Latency vs FP32",
    "Throughput (inf/s)",
    "Energy (mJ/inf)",
    "Compute (GFLOPs)",
    "Platform",
)


def table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def cell(text: str) -> str:
    """A user string as one Markdown table cell: no column break, no line break, no raw HTML."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def bench_table(records: Iterable[RunRecord]) -> str:
    return table(BENCH_COLUMNS, (_bench_row(r) for r in records if r.status == "ok"))


def _bench_row(r: RunRecord) -> list[str]:
    s = r.summary
    return [
        fields.model_name(r),
        (r.model.task if r.model and r.model.task else DASH),
        _accuracy(r),
        str(s.batch) if s else DASH,
        _ms(fields.latency_s(r)),
        _mb(fields.size_bytes(r)),
        _params(r),
        _gflops(r),
        fields.platform_label(r),
    ]


def _accuracy(r: RunRecord) -> str:
    acc = r.accuracy
    if acc is None or acc.top1 is None:
        return DASH  # needs a labelled dataset: filled by the accuracy workflow
    return f"{acc.top1 * 100:.1f} % top-1 ({acc.samples} samples)"


def platform_label(r: RunRecord) -> str:
    return fields.platform_label(r).replace("|", "/")


def profiling_table(records: Iterable[RunRecord]) -> str:
    """The guide's "Profiling Metrics" table: one row per measured record."""
    return table(PROFILING_COLUMNS, (_profiling_row(r) for r in records if r.status == "ok"))


def _profiling_row(r: RunRecord) -> list[str]:
    where = fields.device(r)
    latency = _ms(fields.latency_s(r))
    return [
        fields.model_name(r),
        fields.bit_width(r) or DASH,
        _mb(fields.size_bytes(r)),
        _params_count(r),
        _int(fields.depth(r)),
        _pct(fields.top(r, 1)),
        _pct(fields.top(r, 5)),
        latency if where == "CPU" else DASH,
        latency if where == "GPU" else DASH,
        _mj(fields.energy_per_inference_j(r)),
        _gflops(r),
        fields.platform_label(r) + ("" if where in ("CPU", "GPU") else f" ({where})"),
    ]


def optimization_rows(records: Iterable[RunRecord]) -> list[list[RunRecord]]:
    """Groups of precision variants of one model (≥ 2 bit widths), each FP32 first."""
    groups: dict[tuple[str, str, str], list[RunRecord]] = defaultdict(list)
    for r in records:
        if r.status == "ok":  # same model family on the same host and backend: a fair before/after
            groups[(fields.family(r), r.environment.hostname, r.spec.backend)].append(r)
    out = []
    for members in groups.values():
        if len({fields.bit_width(r) for r in members}) >= 2:
            out.append(sorted(members, key=lambda r: (fields.precision_rank(fields.bit_width(r)), r.created_at)))
    return out


def optimization_table(records: Iterable[RunRecord]) -> str:
    """The guide's Optimization table: FP32 row, then the quantized / reduced-precision rows of the same model."""
    rows: list[list[str]] = []
    for group in optimization_rows(records):
        baseline = group[0] if fields.precision_rank(fields.bit_width(group[0]))[1].startswith("FP32") else None
        rows += [_optimization_row(r, baseline) for r in group]
    return table(OPTIMIZATION_COLUMNS, rows)


def _optimization_row(r: RunRecord, baseline: RunRecord | None) -> list[str]:
    s = r.summary
    ratio = DASH
    base_latency = fields.latency_s(baseline) if baseline is not None else None
    if r is not baseline and base_latency and s:
        ratio = f"{s.latency_median_s / base_latency:.2f}×"
    weights = fields.analysis_number(r, "weight_bytes")
    return [
        fields.family(r),
        fields.bit_width(r) or DASH,
        _mb(fields.size_bytes(r)),
        _mb(weights),
        _pct(fields.top(r, 1)),
        _mb(s.peak_rss_bytes if s else None),
        _ms(fields.latency_s(r)),
        "1 (baseline)" if r is baseline else ratio,
        f"{s.throughput_ips:,.1f}" if s else DASH,
        _mj(fields.energy_per_inference_j(r)),
        _gflops(r),
        fields.platform_label(r),
    ]


def target_device_table(records: Iterable[RunRecord], platforms: Mapping[str, PlatformReport]) -> str:
    """The guide's Target Device table: one row per host; run figures from that host's newest measured record."""
    from edgebench.platform.report import TARGET_DEVICE_COLUMNS

    return table(TARGET_DEVICE_COLUMNS, (cells for _, cells in target_device_rows(records, platforms)))


def target_device_rows(
    records: Iterable[RunRecord], platforms: Mapping[str, PlatformReport]
) -> list[tuple[RunRecord | None, list[str]]]:
    """(the record the run cells come from, the row's cells) per host, hosts sorted by name."""
    hosts: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        hosts[r.environment.hostname].append(r)
    rows = []
    for host, members in sorted(hosts.items()):
        # the newest measured record, preferring one whose energy was measured (the columns this fills)
        measured = [r for r in members if r.status == "ok"]
        newest = max(measured, key=lambda r: (bool(fields.measured_readings(r)), r.created_at, r.id), default=None)
        platform = platforms.get(host)
        cells = list(platform.target_device_cells()) if platform else _device_cells(members[-1])
        if newest is not None:
            _fill_run_cells(cells, newest)
        rows.append((newest, cells))
    return rows


def _device_cells(r: RunRecord) -> list[str]:
    """Without a platform record (`edgebench platform`), what the run's own environment says."""
    env = r.environment
    accelerators = ", ".join(a.name for a in env.accelerators) or "none detected"
    ram = f"{env.ram_bytes / 2**30:.1f} GiB RAM" if env.ram_bytes else DASH
    return [f"{env.hostname}: {fields.cpu_label(r)}", DASH, accelerators, DASH, DASH, ram, DASH, DASH, DASH, DASH, DASH]


def _fill_run_cells(cells: list[str], r: RunRecord) -> None:
    s = r.summary
    if s is not None and s.cpu_util_pct_all_cores is not None:
        cells[1] = f"{s.cpu_util_pct_all_cores:.0f} %"
    power, sensor = fields.mean_power_w(r), fields.energy_sensor(r)
    if power is not None:
        cells[7] = f"{power:.2f} W ({sensor})"
    energy = fields.energy_per_inference_j(r)
    if energy is not None:
        cells[8] = f"{_sig3(energy * 1e3)} mJ/inference"
    if r.energy is not None and r.energy.efficiency_gops_per_w is not None:
        cells[9] = f"{r.energy.efficiency_gops_per_w:.1f}"
    temp = fields.temperature_max_c(r)
    if temp is not None:
        cells[10] = f"{temp:.1f} °C (max during run)"


def environment_groups(records: Iterable[RunRecord]) -> list[list[RunRecord]]:
    """Records measured under the same machine and software, in order of first appearance."""
    groups: dict[tuple[object, ...], list[RunRecord]] = {}
    for r in records:
        env = r.environment
        key = (
            env.hostname,
            fields.cpu_label(r),
            env.os,
            env.kernel,
            env.python,
            tuple(sorted(env.runtime_versions.items())),
        )
        groups.setdefault(key, []).append(r)
    return list(groups.values())


def environment_lines(group: Sequence[RunRecord]) -> list[tuple[str, str]]:
    """(label, value) lines of one test environment, as the guide's "Test environments" block lists them."""
    env = group[0].environment
    batches = sorted({r.summary.batch for r in group if r.summary})
    threads = sorted({str(r.spec.threads) if r.spec.threads else "runtime default" for r in group})
    runtimes = sorted({f"{k} {v}" for r in group for k, v in r.environment.runtime_versions.items()})
    return [
        ("Host", f"{env.hostname} ({env.machine}, {env.os}, kernel {env.kernel}, Python {env.python})"),
        ("CPU", fields.cpu_label(group[0])),
        ("RAM", units.size(env.ram_bytes) if env.ram_bytes else DASH),
        ("Accelerators", ", ".join(a.name for a in env.accelerators) or "none detected"),
        ("Runtimes", ", ".join(runtimes) or DASH),
        ("Backends", ", ".join(sorted({r.spec.backend for r in group}))),
        ("Threads", ", ".join(threads)),
        ("Batch size", ", ".join(map(str, batches)) or DASH),
        ("edgebench", ", ".join(sorted({r.environment.edgebench_version for r in group}))),
        ("Records", f"{len(group)} ({sum(r.status == 'ok' for r in group)} measured)"),
    ]


def method_lines(records: Iterable[RunRecord]) -> list[str]:
    """How the numbers were made, from the records' own definitions (distinct ones listed)."""
    summaries = [r.summary for r in records if r.summary is not None]
    if not summaries:
        return []
    processes = sorted({s.processes for s in summaries})
    lines = [
        "Latency is the median wall time of one timed call over the steady-state iterations, after a time-based "
        f"warm-up, pooled over {'/'.join(map(str, processes))} process(es) per record.",
        "Accuracy, when shown, is on the dataset named in the record; energy only where a sensor measured it.",
    ]
    for label, values in (
        ("95 % CI of the median", {s.ci_method for s in summaries}),
        ("Percentiles", {s.percentile_definition for s in summaries}),
    ):
        lines += [f"{label}: {v}" for v in sorted(values)]
    return lines


def environments_block(records: Sequence[RunRecord], *, heading: bool = True) -> str:
    """The guide's "Test environments" block: each distinct machine/software set, then how numbers were made."""
    out = ["**Test environments**", ""] if heading else []
    for n, group in enumerate(environment_groups(records), 1):
        out.append(f"Environment {n}:")
        out += [f"- {label}: {cell(value)}" for label, value in environment_lines(group)]
        out.append("")
    lines = method_lines(records)
    if lines:
        out += ["Method:", *(f"- {cell(line)}" for line in lines)]
    return "\n".join(out).rstrip("\n") + "\n"


def report(data: ReportInput) -> str:
    """The whole Markdown report: every table the records can fill, then the environments and failures."""
    ok = data.ok
    parts = [
        "# edgebench report",
        "",
        f"{len(data.records)} records ({len(data.failed)} failed) · selection: {cell(data.selection)} · "
        f"generated {data.generated_at}" + (f" from {cell(data.source)}" if data.source else ""),
        "",
        "## Bench Table",
        "",
        bench_table(ok) if ok else "No measured record in the selection.\n",
        "## Profiling Metrics",
        "",
        profiling_table(ok) if ok else "No measured record in the selection.\n",
        "## Optimization",
        "",
        _optimization_section(ok),
        "## Target Device",
        "",
        target_device_table(data.records, data.platforms),
        _target_note(data),
        "## Test environments",
        "",
        environments_block(data.records, heading=False),
    ]
    if data.failed:
        parts += ["## Failed runs", "", failed_table(data.failed)]
    if data.notes:
        parts += ["## Notes", "", *(f"- {cell(n)}" for n in data.notes), ""]
    return "\n".join(parts).rstrip("\n") + "\n"


def _optimization_section(ok: Sequence[RunRecord]) -> str:
    if not optimization_rows(ok):
        return (
            "No model in the selection was measured at two bit widths (e.g. FP32 and INT8); variants are grouped by "
            "name minus suffixes such as `_int8`, or by a `family=NAME` tag.\n"
        )
    return optimization_table(ok) + (
        "\nLatency vs FP32 divides medians of separate runs; for a decision, measure both interleaved "
        "(`edgebench compare --rerun A B`).\n"
    )


def _target_note(data: ReportInput) -> str:
    lines = [cell(line) for line in target_notes(data)]
    return ("\n\n".join(lines) + "\n") if lines else ""


def target_notes(data: ReportInput) -> list[str]:
    """Where the Target Device cells come from (plain text; each reporter escapes it its own way)."""
    rows = target_device_rows(data.records, data.platforms)
    used = [f"{r.environment.hostname} → {r.id} ({fields.model_name(r)}, {r.spec.backend})" for r, _ in rows if r]
    missing = sorted({r.environment.hostname for r in data.records} - set(data.platforms))
    lines = []
    if used:
        lines.append(
            "CPU %, power, energy, efficiency and temperature come from each host's newest measured record "
            "(one with measured energy first): " + "; ".join(used) + "."
        )
    if missing:
        lines.append(
            f"No platform record for {', '.join(missing)}: run `edgebench platform` on that machine "
            "for compute, speed and storage."
        )
    return lines


FAILED_COLUMNS = ("Id", "Created (UTC)", "Model", "Backend", "Error")


def failed_table(records: Iterable[RunRecord]) -> str:
    rows = []
    for r in records:
        err = f"{r.error.type}: {r.error.message}" if r.error else "failed"
        rows.append([r.id, r.created_at, fields.model_name(r), r.spec.backend, err])
    return table(FAILED_COLUMNS, rows)


def _mb(n: float | None) -> str:
    return f"{n / 1e6:.1f}" if n is not None else DASH


def _ms(seconds: float | None) -> str:
    return _sig3(seconds * 1e3) if seconds is not None else DASH


def _mj(joules: float | None) -> str:
    return _sig3(joules * 1e3) if joules is not None else DASH


def _sig3(value: float) -> str:
    """Three significant figures, but never an exponent: 35, 2.1, 0.0123, and 1234 (``.3g`` gives 1.23e+03)."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _pct(fraction: float | None) -> str:
    return f"{fraction * 100:.1f}%" if fraction is not None else DASH


def _int(value: float | None) -> str:
    return str(int(value)) if value is not None else DASH


def _params(r: RunRecord) -> str:
    params = fields.analysis_number(r, "params")
    return ("≥ " if fields.is_lower_bound(r, "params") else "") + f"{params / 1e6:.2f}M" if params is not None else DASH


def _params_count(r: RunRecord) -> str:
    params = fields.analysis_number(r, "params")
    return ("≥ " if fields.is_lower_bound(r, "params") else "") + units.count(params) if params is not None else DASH


def _gflops(r: RunRecord) -> str:
    flops = fields.analysis_number(r, "flops")
    return ("≥ " if fields.is_lower_bound(r, "flops") else "") + f"{flops / 1e9:.3f}" if flops is not None else DASH
