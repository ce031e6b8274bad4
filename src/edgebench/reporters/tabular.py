"""CSV and JSON exports of stored records (flat summary columns for spreadsheets)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping

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
