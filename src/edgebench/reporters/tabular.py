"""CSV and JSON exports of stored records (flat summary columns for spreadsheets)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from edgebench.records import RunRecord, record_to_dict

CSV_COLUMNS = (
    "id",
    "created_at",
    "status",
    "model",
    "backend",
    "threads",
    "batch",
    "hostname",
    "cpu_model",
    "iterations",
    "latency_median_s",
    "latency_ci95_lo_s",
    "latency_ci95_hi_s",
    "latency_mean_s",
    "latency_std_s",
    "latency_p90_s",
    "latency_p99_s",
    "throughput_ips",
    "load_time_s",
    "first_inference_s",
    "peak_rss_bytes",
    "model_size_bytes",
    "params",
    "macs",
    "warnings",
    "error",
)


def to_csv(records: Iterable[RunRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow(_flat(r))
    return out.getvalue()


def to_json(records: Iterable[RunRecord]) -> str:
    return json.dumps([record_to_dict(r) for r in records], indent=2, allow_nan=False) + "\n"


def _flat(r: RunRecord) -> dict[str, object]:
    s = r.summary
    a: Mapping[str, object] = r.analysis or {}
    row: dict[str, object] = {
        "id": r.id,
        "created_at": r.created_at,
        "status": r.status,
        "model": r.spec.model,
        "backend": r.spec.backend,
        "threads": r.spec.threads,
        "batch": s.batch if s else r.spec.batch,
        "hostname": r.environment.hostname,
        "cpu_model": r.environment.cpu.get("cpu_model"),
        "params": a.get("params"),
        "macs": a.get("macs"),
        "warnings": ";".join(w.code for w in r.warnings),
        "error": r.error.message if r.error else "",
    }
    if s:
        row.update({k: getattr(s, k) for k in CSV_COLUMNS if hasattr(s, k)})
        row["latency_ci95_lo_s"], row["latency_ci95_hi_s"] = s.latency_ci95_s
    return row


# `edgebench report --format csv|json` and `edgebench.load_results()`: one flat row per record, every
# column a scalar (SI units, as stored), so pandas/spreadsheets need no unpacking. A superset of CSV_COLUMNS.
REPORT_COLUMNS = (
    "id",
    "created_at",
    "status",
    "model",
    "model_name",
    "model_family",
    "model_sha256",
    "model_format",
    "task",
    "backend",
    "device",
    "threads",
    "batch",
    "precision",
    "bit_width",
    "scenario",
    "executor",
    "spec_hash",
    "sweep_id",
    "tags",
    "hostname",
    "cpu_model",
    "logical_cpus",
    "ram_bytes",
    "os",
    "kernel",
    "python",
    "edgebench_version",
    "runtime_versions",
    "processes",
    "iterations",
    "latency_median_s",
    "latency_ci95_lo_s",
    "latency_ci95_hi_s",
    "latency_mean_s",
    "latency_std_s",
    "latency_cv",
    "latency_min_s",
    "latency_max_s",
    "latency_p90_s",
    "latency_p95_s",
    "latency_p99_s",
    "latency_p999_s",
    "latency_per_sample_median_s",
    "between_process_cv",
    "throughput_ips",
    "calls_per_s",
    "load_time_s",
    "first_inference_s",
    "peak_rss_bytes",
    "cpu_util_pct_one_core",
    "cpu_util_pct_all_cores",
    "model_size_bytes",
    "params",
    "macs",
    "flops",
    "depth_param_layers",
    "depth_topological",
    "weight_bytes",
    "peak_activation_bytes",
    "top1",
    "top5",
    "accuracy_dataset",
    "accuracy_samples",
    "energy_per_inference_j",
    "mean_power_w",
    "energy_sensor",
    "efficiency_gops_per_w",
    "temperature_max_c",
    "throttled",
    "warnings",
    "error_type",
    "error",
)
_SUMMARY_KEYS = tuple(k for k in REPORT_COLUMNS if k.startswith(("latency_", "throughput", "calls_", "cpu_util")))
_ANALYSIS_KEYS = ("params", "macs", "flops", "depth_param_layers", "depth_topological", "weight_bytes")


def flat_row(r: RunRecord) -> dict[str, object]:
    """The record as one flat row keyed by REPORT_COLUMNS (``None`` where the record has no value)."""
    from edgebench.reporters import fields

    env, s = r.environment, r.summary
    row: dict[str, object] = dict.fromkeys(REPORT_COLUMNS)
    row.update(_identity(r))
    row.update(
        hostname=env.hostname,
        cpu_model=env.cpu.get("cpu_model"),
        logical_cpus=env.cpu.get("logical_cpus"),
        ram_bytes=env.ram_bytes,
        os=env.os,
        kernel=env.kernel,
        python=env.python,
        edgebench_version=env.edgebench_version,
        runtime_versions=";".join(f"{k}={v}" for k, v in sorted(env.runtime_versions.items())),
        model_size_bytes=fields.size_bytes(r),
        peak_activation_bytes=fields.analysis(r).get("peak_activation_bytes"),
        top1=fields.top(r, 1),
        top5=fields.top(r, 5),
        accuracy_dataset=r.accuracy.dataset if r.accuracy else None,
        accuracy_samples=r.accuracy.samples if r.accuracy else None,
        energy_per_inference_j=fields.energy_per_inference_j(r),
        mean_power_w=fields.mean_power_w(r),
        energy_sensor=fields.energy_sensor(r),
        efficiency_gops_per_w=r.energy.efficiency_gops_per_w if r.energy else None,
        temperature_max_c=fields.temperature_max_c(r),
        throttled=r.energy.throttled if r.energy else None,
        warnings=";".join(w.code for w in r.warnings),
        error_type=r.error.type if r.error else None,
        error=r.error.message if r.error else None,
    )
    row.update({k: fields.analysis(r).get(k) for k in _ANALYSIS_KEYS})
    if s is not None:
        row.update({k: getattr(s, k) for k in _SUMMARY_KEYS if hasattr(s, k)})
        row.update(iterations=s.iterations, processes=s.processes, peak_rss_bytes=s.peak_rss_bytes)
        row.update(load_time_s=s.load_time_s, first_inference_s=s.first_inference_s, batch=s.batch)
        row["latency_ci95_lo_s"], row["latency_ci95_hi_s"] = s.latency_ci95_s
    return row


def _identity(r: RunRecord) -> dict[str, object]:
    from edgebench.reporters import fields

    return {
        "id": r.id,
        "created_at": r.created_at,
        "status": r.status,
        "model": r.spec.model,
        "model_name": fields.model_name(r),
        "model_family": fields.family(r),
        "model_sha256": r.model.sha256 if r.model else (r.spec.model_sha256 or None),
        "model_format": r.model.format if r.model else None,
        "task": r.model.task if r.model else None,
        "backend": r.spec.backend,
        "device": fields.device(r),
        "threads": r.spec.threads,
        "batch": r.spec.batch,
        "precision": r.spec.precision,
        "bit_width": fields.bit_width(r),
        "scenario": r.scenario.name if r.scenario else r.spec.scenario,
        "executor": r.executor,
        "spec_hash": r.spec_hash,
        "sweep_id": r.spec.sweep_id,
        "tags": ";".join(r.spec.tags),
    }


def rows_csv(records: Iterable[RunRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({k: _csv_cell(v) for k, v in flat_row(r).items()})
    return out.getvalue()


def rows_json(records: Iterable[RunRecord]) -> str:
    return json.dumps([flat_row(r) for r in records], indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def _csv_cell(value: object) -> object:
    # A spreadsheet opens "=cmd|…" as a formula: user strings (model paths, tags) must not start one.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def load_frame(
    db: str | None,
    where: Sequence[str] | Mapping[str, str] | None,
    last: int | None,
    as_frame: bool,
) -> Any:
    """`edgebench.load_results()`: the selected records' flat rows as a pandas DataFrame (or list of dicts)."""
    from edgebench.errors import UsageError
    from edgebench.reporters.select import parse_where, select
    from edgebench.stores import open_store

    filters = parse_where(where)
    stored = open_store(db, read_only=True).read()
    rows = [flat_row(r) for r in select(stored.records, filters, last)]
    if not as_frame:
        return rows
    try:
        import pandas as pd
    except ImportError as exc:
        raise UsageError(
            "load_results() returns a pandas DataFrame and pandas is not installed",
            hint="pip install 'edgebench[report]' (or pandas), or call load_results(as_frame=False) for dicts",
        ) from exc
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
