"""Human console output of a run, in the spirit of hyperfine and pyperf (renders from records only)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from edgebench.records import Measurements, RunRecord, Summary
from edgebench.reporters import units
from edgebench.reporters.units import DASH


def headline(record: RunRecord) -> str:
    """``model · backend (providers) · threads · batch · inputs`` — the conditions of the numbers."""
    spec, m = record.spec, record.measurements
    # what the runtime reports it used after load, else what was asked for
    providers = record.effective.get("providers") or spec.backend_options.get("providers")
    backend = spec.backend + (f" ({', '.join(map(str, providers))})" if isinstance(providers, list | tuple) else "")
    threads = f"threads={spec.threads}" if spec.threads else "threads=runtime default"
    parts = [spec.model, backend, threads, f"batch={record.summary.batch if record.summary else spec.batch or 1}"]
    parts.append(precision(record))
    if m and m.inputs:
        parts.append(", ".join(f"{t.name} {'×'.join(map(str, t.shape))} {t.dtype}" for t in m.inputs))
    return " · ".join(parts)


# how runtimes spell the precision they report after compile (OpenVINO f32/bf16, torch dtypes, ours)
_PRECISION_NAMES = {
    "f32": "fp32",
    "float32": "fp32",
    "fp32": "fp32",
    "f16": "fp16",
    "float16": "fp16",
    "fp16": "fp16",
    "bf16": "bf16",
    "bfloat16": "bf16",
}


def precision(record: RunRecord) -> str:
    """``fp32`` — or ``fp16 asked, bf16 ran`` when the runtime reports running something else."""
    asked = record.spec.precision
    reported = record.effective.get("precision")
    ran = _PRECISION_NAMES.get(str(reported).lower()) if reported is not None else None
    if ran is None or ran == asked:
        return asked
    return f"{asked} asked, {ran} ran"


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
    for art in record.artifacts:
        if art.summary:
            parts.append(Text(f"  Note: {art.summary} (full log: {art.path})", style="dim"))
    for w in record.warnings:
        parts.append(Text(f"  Warning: {w.message} → {w.hint}", style="yellow"))
    return Group(*parts)


def _rows(record: RunRecord, s: Summary) -> list[tuple[str, str]]:
    m = record.measurements
    assert m is not None
    rows = [
        ("Latency (median ± CI95)", _latency(s)),
        (
            "Mean ± σ",
            f"{units.duration(s.latency_mean_s)} ± {units.duration(s.latency_std_s)}  (CV {s.latency_cv * 100:.1f} %)",
        ),
        ("p90 / p99 / p99.9", _tails(s)),
        ("MLPerf early-stop p90 / p99", f"{units.duration(s.mlperf_p90_s)} / {units.duration(s.mlperf_p99_s)}"),
        (
            "Range (min … max)",
            f"{units.duration(s.latency_min_s)} … {units.duration(s.latency_max_s)}  "
            f"({s.outliers} outlier{'s' if s.outliers != 1 else ''})",
        ),
    ]
    if len(s.modes) >= 2:
        modes = " and ".join(f"{units.duration(md.location_s)} ({md.weight:.0%})" for md in s.modes)
        rows.append(("Modes", f"two modes: {modes}"))
    rows += [
        ("Iterations", _iterations(m, s)),
        ("Throughput", _throughput(s)),
        ("Cold start", f"load {units.duration(s.load_time_s)} · first inference {units.duration(s.first_inference_s)}"),
        ("Memory", _memory(record)),
        ("CPU", _cpu(s)),
    ]
    if record.analysis:
        rows.append(("Model", _analysis(record)))
    if record.energy is not None:
        from edgebench.energy.render import energy_lines

        lines = energy_lines(record)
        rows.append(("Energy", "\n".join([lines[0].removeprefix("energy: "), *lines[1:]])))
    if record.accuracy is not None:
        rows.append(("Accuracy", _accuracy(record.accuracy)))
    return rows


def _accuracy(acc: Any) -> str:
    """``top-1 85.7 % [48.7, 97.4] · top-5 100 % · 7 samples (builtin, tf)`` — never a figure without its n."""

    def pct(x: float | None) -> str:
        return DASH if x is None else f"{x * 100:.1f} %"

    ci = f" [{acc.top1_ci95[0] * 100:.1f}, {acc.top1_ci95[1] * 100:.1f}]" if acc.top1_ci95 else ""
    skipped = f", {acc.skipped} skipped" if acc.skipped else ""
    return (
        f"top-1 {pct(acc.top1)}{ci} · top-5 {pct(acc.top5)} · "
        f"{acc.samples} samples{skipped} ({acc.dataset}, {acc.preprocess})"
    )


def _latency(s: Summary) -> str:
    lo, hi = s.latency_ci95_s
    med = s.latency_median_s
    half = max(hi - med, med - lo) / med if med else 0.0
    text = f"{units.duration(med)} ± {half * 100:.2f} %  [{units.duration(lo)} … {units.duration(hi)}]"
    if s.processes > 1:
        cv = f", between-process CV {s.between_process_cv * 100:.1f} %" if s.between_process_cv is not None else ""
        text += f"  ({s.processes} processes{cv})"
    return text


def _tails(s: Summary) -> str:
    from edgebench.engine.stats import tail_note

    parts = [units.duration(s.latency_p90_s)]
    for value, p in ((s.latency_p99_s, 0.99), (s.latency_p999_s, 0.999)):
        note = tail_note(s.iterations, p)
        parts.append(units.duration(value) + (f" ({note})" if note else ""))
    return " / ".join(parts)


def _iterations(m: Measurements, s: Summary) -> str:
    text = f"{s.iterations:,} in {m.window_wall_s:.2f} s (stopped: {m.stop_reason.replace('_', ' ')}"
    if m.window_overhead_s is not None and m.window_wall_s > 0:
        text += f"; harness {m.window_overhead_s / m.window_wall_s:.1%} of the window"
    return text + ")"


def _throughput(s: Summary) -> str:
    if s.batch > 1:
        calls = f"{s.calls_per_s:,.1f} calls/s" if s.calls_per_s else ""
        return f"{s.throughput_ips:,.1f} samples/s (batch {s.batch}: {calls}; latency is per call)"
    return f"{s.throughput_ips:,.1f} inferences/s"


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
    a: Mapping[str, object] = record.analysis or {}
    params, macs = a.get("params"), a.get("macs")
    p = units.count(params) if isinstance(params, int | float) else DASH
    c = f"{macs / 1e9:.3f} GMACs" if isinstance(macs, int | float) else DASH
    return f"{p} params · {c}"


def render_comparison(comparison: Any) -> Table:
    """Each variant against the first: latency ratio from interleaved rounds (CI from the paired rounds)
    and output agreement on the same inputs (max |Δ|, cosine similarity, top-1 agreement)."""
    table = Table(title="Comparison with the first variant (interleaved rounds; ratio = median ÷ first's)")
    for header in ("variant", "median", "ratio", "95 % CI", "rounds", "max |Δ|", "cosine", "top-1"):
        table.add_column(header)
    agreements = comparison.agreements or (None,) * len(comparison.records)
    for record, ratio, agree in zip(comparison.records, comparison.ratios, agreements, strict=True):
        label = f"{Path(record.spec.model).name} · {record.spec.backend}"
        if record.status != "ok" or record.summary is None:
            reason = f"failed: {record.error.message}" if record.error else "failed"
            table.add_row(label, reason, DASH, DASH, DASH, DASH, DASH, DASH)
            continue
        median = units.duration(record.summary.latency_median_s)
        if record is comparison.records[0]:
            table.add_row(label, median, "1", "baseline", str(len(record.processes) or 1), DASH, DASH, DASH)
            continue
        table.add_row(label, median, *_ratio_cells(ratio), *_agreement_cells(agree))
    return table


def _ratio_cells(ratio: Any) -> tuple[str, str, str]:
    if ratio is None:
        return DASH, DASH, DASH
    bounded = ratio.lo is not None and ratio.hi is not None
    ci = f"{ratio.lo:.3f} … {ratio.hi:.3f}" if bounded else (ratio.note or DASH)
    return f"{ratio.ratio:.3f}×", ci, str(ratio.rounds)


def _agreement_cells(agree: Any) -> tuple[str, str, str]:
    if agree is None:
        return DASH, DASH, DASH
    if agree.note:
        return agree.note, DASH, DASH
    top1 = f"{agree.top1:.0%}" if agree.top1 is not None else DASH
    return f"{agree.max_abs_diff:.3g}", f"{agree.cosine:.6f}", top1
