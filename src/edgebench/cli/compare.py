"""``edgebench compare A B``: job-by-job ratios with CIs, process-level tests, and a CI regression gate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edgebench.cli._common import emit

if TYPE_CHECKING:
    from edgebench.engine.compare import CompareResult
    from edgebench.records import RunRecord

DEFAULT_RERUN_ROUNDS = 5


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)


def compare(
    a: Annotated[str, typer.Argument(help="Baseline: a record id (or prefix), a sweep id, or a record JSON file.")],
    b: Annotated[str, typer.Argument(help="Candidate: same kinds as A.")],
    metric: Annotated[str, typer.Option(help="Figure to compare (latency_*_s, throughput_ips, peak_rss_bytes…).")] = (
        "latency_median_s"
    ),
    fail_if_slower: Annotated[
        str | None,
        typer.Option(help="Exit non-zero if any job is significantly worse by more than this (5% or 0.05)."),
    ] = None,
    alpha: Annotated[float, typer.Option(help="Significance level of each job's test.")] = 0.05,
    strict: Annotated[
        bool, typer.Option(help="Refuse when the environments differ (CPU, runtimes, threads…).")
    ] = False,
    rerun: Annotated[
        bool, typer.Option(help="Measure A and B again, interleaved in rounds, and compare those (recommended).")
    ] = False,
    rounds: Annotated[int, typer.Option(help="Rounds (processes per side) of --rerun.")] = DEFAULT_RERUN_ROUNDS,
    executor: Annotated[str, typer.Option(help="Where --rerun measures: local | inline.")] = "local",
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON on stdout.")] = False,
) -> None:
    """Compare A with B job by job (ratio B/A > 1: B is larger/slower) and, optionally, gate on regressions."""
    from edgebench.engine.compare import compare_records, get_metric
    from edgebench.errors import EdgebenchError, UsageError

    threshold = parse_threshold(fail_if_slower) if fail_if_slower is not None else None
    get_metric(metric)
    if rerun and not 1 < rounds <= 1000:
        raise UsageError(f"--rounds must be in [2, 1000] for --rerun, got {rounds}", hint="e.g. --rounds 5")
    result = compare_records(_side(a, db), _side(b, db), metric=metric, alpha=alpha)
    _refuse_if_strict(result, strict)
    if rerun:
        result = _rerun(result, rounds, executor, db, metric, alpha)
    _print(result, json_out)
    if threshold is not None:
        bad = result.regressions(threshold)
        if bad:
            worst = max(bad, key=lambda p: p.worse_factor(result.metric) or 0.0)
            factor = worst.worse_factor(result.metric) or 1.0
            raise EdgebenchError(
                f"regression gate: {len(bad)} job(s) significantly worse than A by more than "
                f"{threshold:.1%}; worst: {worst.job}: {factor - 1.0:+.1%} {result.metric.name}",
                hint="if the runs were not interleaved, confirm with `edgebench compare --rerun A B`",
            )
        if not result.pairs:
            raise UsageError("regression gate: no job of A matches a job of B", hint="compare like with like")


def parse_threshold(text: str) -> float:
    """``5%`` or ``0.05`` → 0.05; a number ≥ 1 without % is refused (is 5 five percent or 500 %?)."""
    from edgebench.errors import UsageError

    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        value = float("nan")
    if not (value == value and 0.0 <= value < 10.0) or (not raw.endswith("%") and value >= 1.0):
        raise UsageError(f"bad --fail-if-slower {text!r}", hint="a percentage like 5% or a fraction like 0.05")
    return value


def _side(ref: str, db: Path | None) -> list[RunRecord]:
    """A record file, else a sweep id, else a record id (or unique prefix) in the results database."""
    from edgebench.errors import StoreError
    from edgebench.stores import open_store, read_records_file

    path = Path(ref)
    if path.is_file():
        return read_records_file(path)
    store: Any = open_store(db, read_only=True)
    finder = getattr(store, "find", None)
    found: list[RunRecord] = finder(sweep_id=ref) if finder else []
    if found:
        return found
    try:
        return [store.get(ref)]
    except StoreError as exc:
        if "ambiguous" in exc.message:  # a real id prefix, just too short: say so, not "no such thing"
            raise StoreError(f"{ref!r}: {exc.message}", hint="give more characters of the record id") from exc
        raise StoreError(
            f"{ref!r} is neither a record file, a sweep id nor a record id in {store.path}",
            hint="see `edgebench results list` (ids) or the sweep's summary line (sweep ids)",
        ) from exc


def _refuse_if_strict(result: CompareResult, strict: bool) -> None:
    from edgebench.errors import UsageError

    if strict and result.warnings:
        raise UsageError(
            f"environments differ ({len(result.warnings)}): {result.warnings[0]}",
            hint="measure both on the same machine and software, or drop --strict to compare anyway",
        )


def _rerun(result: CompareResult, rounds: int, executor: str, db: Path | None, metric: str, alpha: float) -> Any:
    from edgebench.cli._common import err_console
    from edgebench.engine.compare import compare_records, rerun
    from edgebench.errors import UsageError
    from edgebench.stores import open_store

    if not result.pairs:
        raise UsageError("--rerun: no job of A matches a job of B", hint="compare like with like")
    err_console.print(f"[dim]re-measuring {len(result.pairs)} pair(s) interleaved in {rounds} rounds…[/dim]")
    new_a, new_b = rerun(result, rounds=rounds, store=open_store(db), executor=executor)
    return compare_records(new_a, new_b, metric=metric, alpha=alpha)


def _print(result: CompareResult, json_out: bool) -> None:
    if json_out:
        import json

        print(json.dumps(to_dict(result), indent=2, allow_nan=False))
        return
    from rich.text import Text

    from edgebench.cli.sweep import _out, _table

    table = _table(["job", "A", "B", "B/A", f"{1 - result.alpha:.0%} CI", "p", "test", "verdict"])
    for p in result.pairs:
        t = p.test
        ci = f"{t.lo:.3f}–{t.hi:.3f}" if t and t.lo is not None and t.hi is not None else "–"
        pval = f"{t.p_value:.3g}" if t and t.p_value is not None else "–"
        kind = ("paired" if p.interleaved else "unpaired") + (f" n={t.n_a}/{t.n_b}" if t else "")
        table.add_row(
            p.job,
            _fmt(result, p.a_value),
            _fmt(result, p.b_value),
            f"{t.ratio:.3f}" if t else "–",
            ci,
            pval,
            kind,
            p.verdict,
        )
    lines: list[object] = [table, Text(_summary(result))]
    lines += [Text(f"note: {n}") for n in result.notes]
    lines += [Text(f"note: {n}") for n in _pair_notes(result)]
    lines += [Text(f"warning: {w}") for w in result.warnings]
    lines += [Text(f"unmatched in A: {r.id} ({r.spec.model} · {r.spec.backend})") for r in result.unmatched_a]
    lines += [Text(f"unmatched in B: {r.id} ({r.spec.model} · {r.spec.backend})") for r in result.unmatched_b]
    lines += [Text(f"failed, left out: {r.id} ({r.spec.model} · {r.spec.backend})") for r in result.failed]
    emit(*lines, out=_out())


def _pair_notes(result: CompareResult) -> list[str]:
    """Each job's note once; a note every job shares is said once for all."""
    notes = [p.note for p in result.pairs if p.note]
    if notes and len(notes) == len(result.pairs) and len(set(notes)) == 1:
        return [f"every job: {notes[0]}"]
    return [f"job {p.job}: {p.note}" for p in result.pairs if p.note]


def _fmt(result: CompareResult, value: float | None) -> str:
    from edgebench.reporters import units

    if value is None:
        return units.DASH
    unit = result.metric.unit
    if unit == "s":
        return units.duration(value)
    return units.size(value) if unit == "B" else f"{value:,.1f}/s"


def _summary(result: CompareResult) -> str:
    counts: dict[str, int] = {}
    for p in result.pairs:
        counts[p.verdict] = counts.get(p.verdict, 0) + 1
    geo = result.geometric_mean()
    verdicts = ", ".join(f"{n} {v}" for v, n in counts.items()) or "no matched jobs"
    varying = ", ".join(result.varying) or "nothing (same specs)"
    gm = f"geometric mean B/A {geo:.3f} over {len(result.pairs)} job(s)" if geo is not None else "no ratio"
    return f"{result.metric.name}: {gm}; {verdicts} (alpha {result.alpha:g}; A and B differ in: {varying})"


def to_dict(result: CompareResult) -> dict[str, Any]:
    def test(p: Any) -> dict[str, Any] | None:
        t = p.test
        if t is None:
            return None
        return {
            k: getattr(t, k) for k in ("ratio", "lo", "hi", "p_value", "n_a", "n_b", "df", "paired", "method", "reason")
        }

    return {
        "metric": result.metric.name,
        "alpha": result.alpha,
        "varying": list(result.varying),
        "geometric_mean_ratio": result.geometric_mean(),
        "pairs": [
            {
                "job": p.job,
                "a": p.a.id,
                "b": p.b.id,
                "a_value": p.a_value,
                "b_value": p.b_value,
                "verdict": p.verdict,
                "interleaved": p.interleaved,
                "test": test(p),
                "note": p.note,
            }
            for p in result.pairs
        ],
        "unmatched_a": [r.id for r in result.unmatched_a],
        "unmatched_b": [r.id for r in result.unmatched_b],
        "failed": [r.id for r in result.failed],
        "warnings": list(result.warnings),
        "notes": list(result.notes),
    }
