"""The conversion matrix (``edgebench deploy``): convert to every target, validate, benchmark each.

Per target: ✅ converted and validated (top-1 agreement with the source ≥ the target's threshold and the
benchmark ran), ❎ converted but validation or the benchmark failed, ❌ conversion failed. A failure never
stops the other targets. The benchmarks are one interleaved :func:`edgebench.engine.bench.run_variants`
call (short by default), so every measured target is a normal RunRecord in the store, tagged
``deploy``, ``deploy:target=<t>`` and ``deploy:source=<sha256[:16]>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from edgebench._frozen import FrozenMap
from edgebench.convert.base import TORCH_FORMATS, Conversion, ConvertOptions
from edgebench.convert.check import CheckData
from edgebench.errors import EdgebenchError
from edgebench.records import RunRecord, RunSpec

DEFAULT_TARGETS = ("onnx", "onnx-simplified", "onnx-fp16", "openvino", "litert")
# Minimum top-1 agreement with the source: exact for FP32 routes, ≥ 99% where weights become FP16.
THRESHOLDS = {"onnx-fp16": 0.99}
SOURCE_ROW = "pytorch"

Status = Literal["ok", "invalid", "failed"]
MARKS = {"ok": "✅", "invalid": "❎", "failed": "❌"}


@dataclass(frozen=True)
class DeployRow:
    target: str
    status: Status
    reason: str
    conversion: Conversion | None = None
    record: RunRecord | None = None

    @property
    def size_mb(self) -> float | None:
        return self.conversion.output.size_bytes / 1e6 if self.conversion else None


def deploy(
    model: str,
    targets: Sequence[str] = DEFAULT_TARGETS,
    *,
    options: ConvertOptions | None = None,
    cache_dir: Path | None = None,
    bench: dict[str, Any] | None = None,
    store: Any = None,
    executor: str = "local",
    data: CheckData | None = None,
) -> list[DeployRow]:
    """Convert ``model`` to each target, check it, benchmark what converted; one row per target."""
    from edgebench.convert import convert_file, get_converter, output_stem, resolve_source

    options = options or ConvertOptions()
    path, fmt, sha = resolve_source(model, cache_dir)
    stem = output_stem(model)
    if data is not None:
        from edgebench.accuracy.datasets import open_dataset

        open_dataset(data.location, limit=1)  # a wrong --data is the user's error: fail before converting
    rows: list[DeployRow] = []
    if fmt in TORCH_FORMATS:
        rows.append(DeployRow(SOURCE_ROW, "ok", "source (eager PyTorch)"))
    for target in targets:
        try:
            converter = get_converter(target)
            done = convert_file(
                path, fmt, converter, out=None, options=options, cache_dir=cache_dir, check=True, stem=stem, data=data
            )
        except EdgebenchError as exc:
            rows.append(DeployRow(target, "failed", _reason(exc)))
            continue
        except Exception as exc:  # a converter bug must not cost the other targets
            rows.append(DeployRow(target, "failed", f"{type(exc).__name__}: {exc}"[:300]))
            continue
        rows.append(_validated(target, done))
    return _benchmarked(rows, path, sha, bench or {}, store, executor, cache_dir)


def _reason(exc: EdgebenchError) -> str:
    return f"{exc.message} (hint: {exc.hint})" if exc.hint else exc.message


def _validated(target: str, done: Conversion) -> DeployRow:
    check, need = done.check, THRESHOLDS.get(target, 1.0)
    if check is None or check.top1_agreement is None:
        note = check.note if check and check.note else "no numerical check"
        return DeployRow(target, "invalid", note, done)
    if check.top1_agreement < need:
        why = f"top-1 agreement {check.top1_agreement:.1%} < {need:.0%} on {check.inputs}"
        return DeployRow(target, "invalid", why, done)
    return DeployRow(target, "ok", "", done)


def _benchmarked(
    rows: list[DeployRow],
    source: Path,
    sha: str,
    bench: dict[str, Any],
    store: Any,
    executor: str,
    cache_dir: Path | None,
) -> list[DeployRow]:
    from edgebench.convert.check import BACKEND_FOR_FORMAT
    from edgebench.engine.bench import run_variants

    runnable = [i for i, r in enumerate(rows) if r.status != "failed"]
    if not runnable:
        return rows
    specs = []
    for i in runnable:
        row = rows[i]
        path = Path(row.conversion.output.path) if row.conversion else source
        fmt = row.conversion.output.format if row.conversion else "pyfactory"
        tags = ("deploy", f"deploy:target={row.target}", f"deploy:source={sha[:16]}")
        specs.append(RunSpec(model=str(path), backend=BACKEND_FOR_FORMAT[fmt], tags=tags, **bench))
    made = [c for c in (rows[i].conversion for i in runnable) if c is not None]
    facts = {str(Path(c.output.path)): c.to_dict() for c in made}
    comparison = run_variants(specs, store=_with_conversion(store, facts), cache_dir=cache_dir, executor=executor)
    out = list(rows)
    for i, record in zip(runnable, comparison.records, strict=True):
        out[i] = _with_record(rows[i], record)
    return out


def _with_conversion(store: Any, facts: dict[str, dict[str, Any]]) -> Any:
    """Each stored record carries how its file was made (the ``conversion`` block)."""
    from edgebench.stores import attaching

    def attach(record: RunRecord) -> RunRecord:
        made = facts.get(record.spec.model)
        return replace(record, conversion=FrozenMap(made)) if made else record

    return attaching(store, attach) if facts else store


def _with_record(row: DeployRow, record: RunRecord) -> DeployRow:
    if record.status == "ok":
        return replace(row, record=record)
    err = record.error
    why = f"benchmark failed: {err.type}: {err.message}" if err else "benchmark failed"
    return replace(row, status="invalid", reason="; ".join(p for p in (row.reason, why) if p), record=record)


# --- rendering (from rows only) ---------------------------------------------------------------------

COLUMNS = (
    "Target",
    "Status",
    "Size MB",
    "Convert s",
    "Median ms",
    "Throughput /s",
    "Top-1 vs source",
    "Max abs diff",
    "Reason",
)


def row_cells(row: DeployRow) -> list[str]:
    conv, summary = row.conversion, row.record.summary if row.record else None
    check = conv.check if conv else None
    return [
        row.target,
        f"{MARKS[row.status]} {row.status}",
        _fmt(row.size_mb, "{:.2f}"),
        _fmt(conv.total_seconds if conv else None, "{:.2f}") + (" (cached)" if conv and conv.cached else ""),
        _fmt(summary.latency_median_s * 1e3 if summary else None, "{:.3f}"),
        _fmt(summary.throughput_ips if summary else None, "{:.1f}"),
        _fmt(check.top1_agreement if check else None, "{:.1%}"),
        _fmt(check.max_abs_diff if check else None, "{:.2e}"),
        row.reason or "",
    ]


def _fmt(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def markdown(rows: Sequence[DeployRow], title: str) -> str:
    lines = [f"### Deploy matrix: {title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row_cells(row)) + " |")
    return "\n".join(lines) + "\n"


def rich_table(rows: Sequence[DeployRow], title: str) -> Any:
    from rich.table import Table

    table = Table(title=f"Deploy matrix: {title}")
    for name in COLUMNS:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*row_cells(row))
    return table


def rows_to_json(rows: Sequence[DeployRow]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        summary = row.record.summary if row.record else None
        out.append(
            {
                "target": row.target,
                "status": row.status,
                "reason": row.reason,
                "size_bytes": row.conversion.output.size_bytes if row.conversion else None,
                "conversion": row.conversion.to_dict() if row.conversion else None,
                "record_id": row.record.id if row.record else None,
                "latency_median_ms": summary.latency_median_s * 1e3 if summary else None,
                "throughput_ips": summary.throughput_ips if summary else None,
            }
        )
    return out
