"""The guide's "Bench Table Template" in Markdown, filled from records (``–`` = not measured yet)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from edgebench.records import RunRecord
from edgebench.reporters.units import DASH

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


def bench_table(records: Iterable[RunRecord]) -> str:
    lines = ["| " + " | ".join(BENCH_COLUMNS) + " |", "|" + "|".join("---" for _ in BENCH_COLUMNS) + "|"]
    lines += ["| " + " | ".join(_row(r)) + " |" for r in records if r.status == "ok"]
    return "\n".join(lines) + "\n"


def _row(r: RunRecord) -> list[str]:
    s = r.summary
    a: Mapping[str, object] = r.analysis or {}
    params, flops = a.get("params"), a.get("flops")
    size = r.model.size_bytes if r.model else (s.model_size_bytes if s else None)
    return [
        r.model.name if r.model else r.spec.model,
        (r.model.task if r.model and r.model.task else DASH),
        _accuracy(r),
        str(s.batch) if s else DASH,
        f"{s.latency_median_s * 1e3:.3g}" if s else DASH,
        f"{size / 1e6:.1f}" if size is not None else DASH,
        _bound(a, "params") + f"{params / 1e6:.2f}M" if isinstance(params, int | float) else DASH,
        _bound(a, "flops") + f"{flops / 1e9:.3f}" if isinstance(flops, int | float) else DASH,
        platform_label(r),
    ]


def _bound(analysis: Mapping[str, object], key: str) -> str:
    # a total that misses unknown layers is a lower bound (docs/analysis.md `lower_bounds`)
    bounds = analysis.get("lower_bounds")
    return "≥ " if isinstance(bounds, list | tuple) and key in bounds else ""


def _accuracy(r: RunRecord) -> str:
    acc = r.accuracy
    if acc is None or acc.top1 is None:
        return DASH  # needs a labelled dataset: filled by the accuracy workflow
    return f"{acc.top1 * 100:.1f} % top-1 ({acc.samples} samples)"


def platform_label(r: RunRecord) -> str:
    cpu = r.environment.cpu
    model = cpu.get("cpu_model") or r.environment.machine
    cores = cpu.get("logical_cpus")
    threads = f", {r.spec.threads} thread{'s' if r.spec.threads != 1 else ''}" if r.spec.threads else ""
    core_txt = f" ({cores} CPUs)" if cores else ""
    return f"{model}{core_txt}, {r.spec.backend}{threads}".replace("|", "/")
