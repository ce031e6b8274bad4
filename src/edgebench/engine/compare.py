"""Compare two sets of records job by job: ratio with a CI, a process-level test, a verdict.

Samples within a process are autocorrelated and fresh processes differ, so the unit of replication is
the process (or the round of an interleaved run), never the raw sample: a Mann-Whitney U on pooled
samples calls noise significant. Records measured in the same interleaved run are paired by round
(paired t on log ratios); others are compared unpaired (Welch t on log process values) and the
result says that they were not measured interleaved.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from edgebench.engine.stats import RatioTest, percentile, process_ratio_test
from edgebench.errors import EdgebenchError, UsageError
from edgebench.protocols import Store
from edgebench.records import RunRecord, RunSpec, to_jsonable

Verdict = Literal["faster", "slower", "smaller", "larger", "not significant"]
_LABELS = frozenset({"model", "model_path", "tags", "sweep_id"})  # say where/under which name, not what
NOT_INTERLEAVED = (
    "A and B were not measured interleaved{gap}: separate runs on a shared machine differed by up to 28 %; "
    "run `edgebench compare --rerun A B` before deciding"
)


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    verbs: tuple[Verdict, Verdict]  # (better, worse)
    per_process: Callable[[RunRecord], list[float]]
    unit: str


@dataclass(frozen=True)
class Pair:
    """One matched job: A's and B's record, the metric on each, and the test of B / A."""

    job: str  # what the job is, varying fields shown as "a → b"
    a: RunRecord
    b: RunRecord
    a_value: float | None
    b_value: float | None
    test: RatioTest | None
    verdict: Verdict
    interleaved: bool
    note: str | None = None

    def worse_factor(self, metric: Metric) -> float | None:
        """How many times worse B is (> 1: a regression): the ratio, inverted for higher-is-better."""
        if self.test is None:
            return None
        return 1.0 / self.test.ratio if metric.higher_is_better else self.test.ratio


@dataclass(frozen=True)
class CompareResult:
    metric: Metric
    alpha: float
    varying: tuple[str, ...]
    pairs: tuple[Pair, ...]
    unmatched_a: tuple[RunRecord, ...]
    unmatched_b: tuple[RunRecord, ...]
    failed: tuple[RunRecord, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]

    def geometric_mean(self) -> float | None:
        ratios = [p.test.ratio for p in self.pairs if p.test is not None]
        return math.exp(float(np.mean(np.log(ratios)))) if ratios else None

    def regressions(self, threshold: float) -> list[Pair]:
        """Significantly worse pairs whose point ratio is beyond ``1 + threshold`` (the CI gate)."""
        worse = self.metric.verbs[1]
        return [
            p
            for p in self.pairs
            if p.verdict == worse and (factor := p.worse_factor(self.metric)) is not None and factor > 1.0 + threshold
        ]


def _slices(record: RunRecord) -> list[list[float]]:
    """Each process's steady-state latencies in seconds (one slice for a record without process info)."""
    m = record.measurements
    if m is None:
        return []
    if not record.processes:
        return [[x / 1e9 for x in m.latencies_ns]]
    return [
        [x / 1e9 for x in m.latencies_ns[p.sample_start : p.sample_start + p.sample_count]] for p in record.processes
    ]


def _sample_metric(stat: Callable[[list[float]], float]) -> Callable[[RunRecord], list[float]]:
    return lambda record: [stat(sorted(s)) for s in _slices(record) if s]


def _throughput(record: RunRecord) -> list[float]:
    batch = record.summary.batch if record.summary else 1
    return [batch / float(np.mean(s)) for s in _slices(record) if s]


def _process_field(name: str) -> Callable[[RunRecord], list[float]]:
    return lambda record: [float(v) for p in record.processes if (v := getattr(p, name)) is not None]


_TIME: tuple[Verdict, Verdict] = ("faster", "slower")
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("latency_median_s", False, _TIME, _sample_metric(lambda s: float(np.median(s))), "s"),
        Metric("latency_mean_s", False, _TIME, _sample_metric(lambda s: float(np.mean(s))), "s"),
        Metric("latency_min_s", False, _TIME, _sample_metric(lambda s: s[0]), "s"),
        Metric("latency_p90_s", False, _TIME, _sample_metric(lambda s: percentile(s, 0.90)), "s"),
        Metric("latency_p95_s", False, _TIME, _sample_metric(lambda s: percentile(s, 0.95)), "s"),
        Metric("latency_p99_s", False, _TIME, _sample_metric(lambda s: percentile(s, 0.99)), "s"),
        Metric("throughput_ips", True, _TIME, _throughput, "1/s"),
        Metric("load_time_s", False, _TIME, _process_field("load_time_s"), "s"),
        Metric("first_inference_s", False, _TIME, _process_field("first_inference_s"), "s"),
        Metric("peak_rss_bytes", False, ("smaller", "larger"), _process_field("peak_rss_bytes"), "B"),
    )
}


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise UsageError(f"unknown --metric {name!r}", hint=f"use one of: {', '.join(METRICS)}")
    return METRICS[name]


def compare_records(
    a: Sequence[RunRecord], b: Sequence[RunRecord], *, metric: str = "latency_median_s", alpha: float = 0.05
) -> CompareResult:
    """Match A's and B's ok records by spec (minus the fields that vary between A and B) and test each pair."""
    chosen = get_metric(metric)
    if not 0.0 < alpha < 1.0:
        raise UsageError(f"--alpha must be in (0, 1), got {alpha!r}", hint="e.g. --alpha 0.05")
    ids_a, ids_b = {r.id for r in a}, {r.id for r in b}
    if ids_a and ids_a == ids_b:
        raise UsageError("A and B are the same records", hint="compare two different runs, sweeps or files")
    if shared := sorted(ids_a & ids_b):  # a record matched with itself always reads "1.000, not significant"
        raise UsageError(
            f"A and B share {len(shared)} record(s) (e.g. {shared[0]}); a record compared with itself shows nothing",
            hint="A and B must not overlap: e.g. two sweep ids, or a record id that is not part of the other side",
        )
    ok_a, ok_b = [r for r in a if r.status == "ok"], [r for r in b if r.status == "ok"]
    failed = tuple(r for r in (*a, *b) if r.status != "ok")
    if not ok_a or not ok_b:
        side = "A" if not ok_a else "B"
        raise UsageError(f"{side} holds no successful record to compare", hint="see `edgebench results list`")
    varying = varying_fields(ok_a, ok_b)
    newest_a, dropped_a = _by_key(ok_a, varying)
    newest_b, dropped_b = _by_key(ok_b, varying)
    keys = [k for k in newest_a if k in newest_b]
    pairs = tuple(_pair(newest_a[k], newest_b[k], varying, chosen, alpha) for k in keys)
    notes = _notes(pairs, dropped_a + dropped_b)
    return CompareResult(
        metric=chosen,
        alpha=alpha,
        varying=varying,
        pairs=pairs,
        unmatched_a=tuple(r for k, r in newest_a.items() if k not in newest_b),
        unmatched_b=tuple(r for k, r in newest_b.items() if k not in newest_a),
        failed=failed,
        warnings=tuple(comparability(pairs, varying)),
        notes=tuple(notes),
    )


def identity(record: RunRecord) -> dict[str, str]:
    """What a record's spec measures, field by field (canonical JSON of each value)."""
    data = to_jsonable(record.spec)
    return {k: json.dumps(v, sort_keys=True) for k, v in data.items() if k not in _LABELS}


def varying_fields(a: Sequence[RunRecord], b: Sequence[RunRecord]) -> tuple[str, ...]:
    """Fields whose values in A and in B have nothing in common: what the comparison is about."""
    ia, ib = [identity(r) for r in a], [identity(r) for r in b]
    fields = sorted(set().union(*ia, *ib))
    return tuple(f for f in fields if {d.get(f) for d in ia}.isdisjoint({d.get(f) for d in ib}))


def _by_key(records: Sequence[RunRecord], varying: tuple[str, ...]) -> tuple[dict[str, RunRecord], int]:
    newest: dict[str, RunRecord] = {}
    for record in sorted(records, key=lambda r: (r.created_at, r.id)):
        ident = identity(record)
        newest[json.dumps({k: v for k, v in ident.items() if k not in varying}, sort_keys=True)] = record
    return newest, len(records) - len(newest)


def _pair(a: RunRecord, b: RunRecord, varying: tuple[str, ...], metric: Metric, alpha: float) -> Pair:
    values_a, values_b = metric.per_process(a), metric.per_process(b)
    paired = interleaved(a, b) and len(values_a) == len(values_b)
    job = describe(a, b, varying)
    if not values_a or not values_b:
        return Pair(job, a, b, None, None, None, "not significant", paired, f"no {metric.name} per process")
    test = process_ratio_test(values_a, values_b, paired=paired, alpha=alpha)
    verdict: Verdict = "not significant"
    if test.p_value is not None and test.p_value <= alpha and test.ratio != 1.0:
        larger = test.ratio > 1.0
        verdict = metric.verbs[1] if larger != metric.higher_is_better else metric.verbs[0]
    return Pair(job, a, b, _centre(values_a), _centre(values_b), test, verdict, paired, test.reason)


def _centre(values: Sequence[float]) -> float:
    return math.exp(float(np.mean(np.log(values))))  # the geometric mean the ratio is built from


def interleaved(a: RunRecord, b: RunRecord) -> bool:
    """Both measured in one interleaved run: their measured windows overlap in wall-clock time."""
    wa = a.measurements.window if a.measurements else None
    wb = b.measurements.window if b.measurements else None
    if wa is None or wb is None:
        return False
    return wa.start_unix_ns < wb.end_unix_ns and wb.start_unix_ns < wa.end_unix_ns


def gap_minutes(a: RunRecord, b: RunRecord) -> float | None:
    wa = a.measurements.window if a.measurements else None
    wb = b.measurements.window if b.measurements else None
    if wa is None or wb is None:
        return None
    first, second = sorted((wa, wb), key=lambda w: w.start_unix_ns)
    return max(0.0, (second.start_unix_ns - first.end_unix_ns) / 60e9)


def describe(a: RunRecord, b: RunRecord, varying: tuple[str, ...]) -> str:
    """``model · backend · threads=1 · batch=2`` with each varying field as ``A → B``."""
    sa, sb = a.spec, b.spec
    parts = [Path(sa.model).name if sa.model == sb.model else f"{Path(sa.model).name} → {Path(sb.model).name}"]
    parts.append(sa.backend if sa.backend == sb.backend else f"{sa.backend} → {sb.backend}")
    for name in ("threads", "batch", "precision"):
        va, vb = getattr(sa, name), getattr(sb, name)
        if (va is not None or vb is not None) and (va, vb) != ("fp32", "fp32"):
            parts.append(f"{name}={va}" if va == vb else f"{name}={va} → {vb}")
    shown = {"model", "model_sha256", "backend", "threads", "batch", "precision"}
    parts += [f"{f} differs" for f in varying if f not in shown]
    return " · ".join(parts)


def _notes(pairs: Sequence[Pair], dropped: int) -> list[str]:
    notes = []
    apart = [p for p in pairs if not p.interleaved]
    if apart:
        gaps = [g for p in apart if (g := gap_minutes(p.a, p.b)) is not None]
        gap = f" ({_span(gaps)} apart)" if gaps else ""
        notes.append(NOT_INTERLEAVED.format(gap=gap))
    if dropped:
        notes.append(f"{dropped} older duplicate record(s) of the same job were left out (the newest counts)")
    return notes


def _span(gaps: Sequence[float]) -> str:
    """``2–5 min``, or one figure when the shortest and longest gap read the same (not ``7 s–7 s``)."""
    lo, hi = _minutes(min(gaps)), _minutes(max(gaps))
    return lo if lo == hi else f"{lo}–{hi}"


def _minutes(gap: float) -> str:
    return f"{gap * 60:.0f} s" if gap < 1 else f"{gap:.0f} min"


def comparability(pairs: Sequence[Pair], varying: tuple[str, ...]) -> list[str]:
    """Environment differences that can move the metric by themselves (CPU, runtimes, threads, governor)."""
    found: dict[str, None] = {}
    for p in pairs:
        for message in _env_differences(p.a, p.b, "threads" in varying or "backend_options" in varying):
            found[message] = None
    return list(found)


def _env_differences(a: RunRecord, b: RunRecord, threads_vary: bool) -> list[str]:
    ea, eb = a.environment, b.environment
    out = []
    for key in ("cpu_model", "logical_cpus", "governor"):
        va, vb = ea.cpu.get(key), eb.cpu.get(key)
        if va != vb:
            out.append(f"CPU {key} differs: {va} vs {vb}")
    if ea.hostname != eb.hostname:
        out.append(f"measured on different hosts: {ea.hostname} vs {eb.hostname}")
    for package in sorted(set(ea.runtime_versions) & set(eb.runtime_versions)):
        va, vb = ea.runtime_versions[package], eb.runtime_versions[package]
        if va != vb:
            out.append(f"{package} version differs: {va} vs {vb}")
    if not threads_vary and dict(ea.thread_settings) != dict(eb.thread_settings):
        out.append(f"thread settings differ: {dict(ea.thread_settings)} vs {dict(eb.thread_settings)}")
    return out


def _same_model(spec: RunSpec, measured: RunSpec, cache_dir: Path | None) -> bool:
    """Whether ``spec`` resolves to the bytes ``measured`` ran (a record without a hash cannot tell: yes)."""
    from edgebench.engine.bench import make_job

    try:
        made = make_job(spec, cache_dir, False)
    except EdgebenchError:
        return False
    return not measured.model_sha256 or made.spec.model_sha256 == measured.model_sha256


def rerun(
    result: CompareResult,
    *,
    rounds: int,
    store: Store | None,
    executor: str = "local",
    cache_dir: Path | None = None,
) -> tuple[list[RunRecord], list[RunRecord]]:
    """Measure every matched pair again, A and B alternating process by process (A B A B …), and store it.

    Each side runs the very model file its record measured; a file that changed since is refused, so a
    rerun never compares a new model with itself.
    """
    from dataclasses import replace

    from edgebench.engine.bench import make_job, run_variants
    from edgebench.sweep.runner import new_sweep_id

    sweep_id = new_sweep_id("rerun")
    specs = []
    for pair in result.pairs:
        for side, record in (("A", pair.a), ("B", pair.b)):
            spec = record.spec
            again = replace(spec, processes=rounds, sweep_id=sweep_id, tags=(*spec.tags, "compare-rerun"))
            if not _same_model(again, spec, cache_dir):
                # the name as given (a zoo name keeps reports and labels readable) resolves to other bytes now:
                # fall back to the very file the record measured, if it is still there and unchanged
                model = spec.model_path if spec.model_path and Path(spec.model_path).exists() else spec.model
                again = replace(again, model=model)
                made = make_job(again, cache_dir, False)  # a file that is gone says so itself
                if spec.model_sha256 and made.spec.model_sha256 != spec.model_sha256:
                    raise UsageError(
                        f"{side}'s model {model} has changed since record {record.id} measured it",
                        hint="a rerun must measure the same files; compare the stored records without --rerun",
                    )
            specs.append(again)
    comparison = run_variants(specs, store=store, cache_dir=cache_dir, executor=executor)
    records = list(comparison.records)
    return records[0::2], records[1::2]
