"""Human console output of a run, in the spirit of hyperfine and pyperf (renders from records only)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from edgebench.records import RunRecord, Summary
from edgebench.reporters import units
from edgebench.reporters.units import DASH


def headline(record: RunRecord) -> str:
    """``model · backend (providers) · threads · batch · inputs`` — the conditions of the numbers."""
    spec, m = record.spec, record.measurements
    providers = spec.backend_options.get("providers")
    backend = spec.backend + (f" ({', '.join(map(str, providers))})" if isinstance(providers, list) else "")
    threads = f"threads={spec.threads}" if spec.threads else "threads=runtime default"
    parts = [spec.model, backend, threads, f"batch={record.summary.batch if record.summary else spec.batch or 1}"]
    if m and m.inputs:
        parts.append(", ".join(f"{t.name} {'×'.join(map(str, t.shape))} {t.dtype}" for t in m.inputs))
    return " · ".join(parts)


def render_run(record: RunRecord) -> Group:
    title = Text(f"Benchmark: {headline(record)}", style="bold")
    if record.status != "ok" or record.summary is None or record.measurements is None:
        err = record.error
        return Group(title, Text(f"  FAILED: {err.type}: {err.message}" if err else "  FAILED", style="red"))
    table = Table.grid(padding=(0, 2))
    table.add_column(style="cyan", no_wrap=True)
    table.add_column()
    for label, value in _rows(record, record.summary):
        table.add_row(label, value)
    parts: list[Text | Table] = [title, table]
    for w in record.warnings:
        parts.append(Text(f"  Warning: {w.message} → {w.hint}", style="yellow"))
    return Group(*parts)


def _rows(record: RunRecord, s: Summary) -> list[tuple[str, str]]:
    m = record.measurements
    assert m is not None
    lo, hi = s.latency_ci95_s
    half = max(hi - s.latency_median_s, s.latency_median_s - lo) / s.latency_median_s if s.latency_median_s else 0
    rows = [
        (
            "Latency (median ± CI95)",
            f"{units.duration(s.latency_median_s)} ± {half * 100:.2f} %  [{units.duration(lo)} … {units.duration(hi)}]",
        ),
        (
            "Mean ± σ",
            f"{units.duration(s.latency_mean_s)} ± {units.duration(s.latency_std_s)}  (CV {s.latency_cv * 100:.1f} %)",
        ),
        (
            "p90 / p99 / p99.9",
            " / ".join(units.duration(v) for v in (s.latency_p90_s, s.latency_p99_s, s.latency_p999_s)),
        ),
        ("MLPerf early-stop p90 / p99", f"{units.duration(s.mlperf_p90_s)} / {units.duration(s.mlperf_p99_s)}"),
        (
            "Range (min … max)",
            f"{units.duration(s.latency_min_s)} … {units.duration(s.latency_max_s)}  "
            f"({s.outliers} outlier{'s' if s.outliers != 1 else ''})",
        ),
        ("Iterations", f"{s.iterations:,} in {m.window_wall_s:.2f} s (stopped: {m.stop_reason.replace('_', ' ')})"),
        ("Throughput", f"{s.throughput_ips:,.1f} inferences/s"),
        ("Cold start", f"load {units.duration(s.load_time_s)} · first inference {units.duration(s.first_inference_s)}"),
        ("Memory", _memory(record)),
        ("CPU", _cpu(s)),
    ]
    if record.analysis:
        rows.append(("Model", _analysis(record)))
    return rows


def _memory(record: RunRecord) -> str:
    m = record.measurements
    assert m is not None and record.summary is not None
    mem = m.memory
    growth = (
        DASH
        if mem.rss_growth_bytes is None
        else ("+" if mem.rss_growth_bytes >= 0 else "") + units.size(mem.rss_growth_bytes)
    )
    return (
        f"peak RSS {units.size(mem.peak_rss_bytes)} · after load {units.size(mem.rss_after_load_bytes)} · "
        f"steady growth {growth} · model file {units.size(record.summary.model_size_bytes, binary=False)}"
    )


def _cpu(s: Summary) -> str:
    if s.cpu_util_pct_one_core is None:
        return DASH
    return f"{s.cpu_util_pct_one_core:.0f} % of one core ({s.cpu_util_pct_all_cores or 0:.0f} % of all cores)"


def _analysis(record: RunRecord) -> str:
    a = record.analysis or {}
    params, macs = a.get("params"), a.get("macs")
    p = units.count(params) if isinstance(params, int | float) else DASH
    c = f"{macs / 1e9:.3f} GMACs" if isinstance(macs, int | float) else DASH
    return f"{p} params · {c}"
