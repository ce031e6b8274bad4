"""``edgebench sweep FILE``: run a benchmark matrix from a YAML/TOML file, resumably, one row per job."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edgebench.cli._common import emit, err_console
from edgebench.errors import MeasurementError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.table import Table

    from edgebench.sweep.plan import Plan, PlannedJob
    from edgebench.sweep.runner import JobResult, SweepResult

ICONS = {"ok": "✅", "skipped": "❎", "failed": "❌"}


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)


def sweep(
    config: Annotated[Path, typer.Argument(help="Sweep file (.yaml, .yml or .toml; see docs/sweeps.md).")],
    resume: Annotated[bool, typer.Option(help="Skip jobs whose key already has an ok record of this sweep.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the expanded plan (with job keys) and run nothing.")] = False,
    jobs: Annotated[int, typer.Option(help="Jobs run at once (each in its own process; > 1 perturbs timings).")] = 1,
    rounds: Annotated[
        int | None, typer.Option(help="Interleave the jobs in R rounds, one process each (overrides the file).")
    ] = None,
    job_timeout: Annotated[
        float | None, typer.Option(help="Kill a job's process after this many seconds (a failed record).")
    ] = None,
    executor: Annotated[str, typer.Option(help="Where jobs run: local (fresh process) | inline.")] = "local",
    force: Annotated[bool, typer.Option(help="Run even with absurd thread counts.")] = False,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Model cache (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the plan or the job results as JSON on stdout.")
    ] = False,
) -> None:
    """Run every job of the sweep file; failed jobs become failed records and the sweep goes on."""
    from edgebench.sweep import plan as planning
    from edgebench.sweep.config import load_config
    from edgebench.sweep.runner import SweepOptions, check_options, run_sweep

    _check_numbers(jobs, rounds, job_timeout)
    loaded = load_config(config)
    if rounds is not None:
        loaded = loaded.model_copy(update={"rounds": rounds})
    plan = planning.validate(planning.expand(loaded), force=force)
    options = SweepOptions(executor, job_timeout, jobs, resume, cache_dir)
    check_options(plan, options)  # before the (slow) model resolution, and for --dry-run too
    plan = planning.resolve(plan, cache_dir)
    if dry_run:
        _print_plan(plan, _done_keys(plan, db) if resume else set(), json_out)
        return
    store = _open_store(db)
    progress = _RichProgress(quiet=json_out)
    try:
        with progress:
            result = run_sweep(plan, store, options, progress)
    except KeyboardInterrupt:
        # typer turns Ctrl-C into a silent exit 130; say what is kept and how to finish
        raise SweepInterrupted(
            f"sweep interrupted after {progress.finished} of {len(plan.jobs)} jobs ({progress.ok} ok)",
            hint="finished jobs are stored, a job cut short is not measured; "
            "run the same command with --resume to skip the ok jobs and measure the rest",
        ) from None
    _print_result(result, json_out)
    failed = result.count("failed")
    if failed:
        first = next(r for r in result.results if r.status == "failed")
        raise MeasurementError(
            f"{failed} of {len(result.results)} sweep jobs failed; first: job {first.job.index + 1}: {first.reason}",
            hint=f"the failed jobs are stored as failed records; fix them and rerun with --resume (sweep {result.sweep_id})",
        )


class SweepInterrupted(MeasurementError):
    """Ctrl-C during a sweep: exit 130 like any interrupted command, with the --resume hint."""

    exit_code = 130


def _check_numbers(jobs: int, rounds: int | None, job_timeout: float | None) -> None:
    from edgebench.errors import UsageError

    if jobs < 1:
        raise UsageError(f"--jobs must be ≥ 1, got {jobs}", hint="e.g. --jobs 1")
    if rounds is not None and not 1 <= rounds <= 1000:
        raise UsageError(f"--rounds must be in [1, 1000], got {rounds}", hint="e.g. --rounds 3")
    if job_timeout is not None and not (job_timeout == job_timeout and 0 < job_timeout <= 86400):
        raise UsageError(f"--job-timeout must be in (0, 86400] seconds, got {job_timeout!r}", hint="e.g. 600")


def _open_store(db: Path | None) -> Any:
    from edgebench.stores import open_store

    return open_store(db)


def _done_keys(plan: Plan, db: Path | None) -> set[str]:
    from edgebench.stores import default_db_path, open_store
    from edgebench.sweep.runner import done_records

    path = db or default_db_path()
    if not path.exists():
        return set()
    store: Any = open_store(path, read_only=True)
    return set(done_records(plan, store))


def _shown_axes(jobs: Sequence[PlannedJob]) -> list[str]:
    """Model and backend, plus every other axis that varies or is not its default (tables fit 80 columns)."""
    from edgebench.sweep.config import default_scenario
    from edgebench.sweep.plan import AXES

    defaults: dict[str, object] = {"threads": None, "batch": None, "precision": "fp32", "scenario": default_scenario()}
    shown = []
    for axis in AXES:
        values = {j.axis(axis) for j in jobs}
        if axis in ("model", "backend") or len(values) > 1 or values != {defaults.get(axis)}:
            shown.append(axis)
    return shown


def _axes_row(job: PlannedJob, axes: Sequence[str]) -> list[str]:
    return ["–" if job.axis(a) is None else str(job.axis(a)) for a in axes]


def _print_plan(plan: Plan, done: set[str], json_out: bool) -> None:
    from rich.text import Text

    if json_out:
        import json

        rows = [
            {
                "index": j.index + 1,
                "key": j.key,
                "axes": dict(j.axes),
                "done": j.key in done,
                "problem": j.problem.message if j.problem else None,
            }
            for j in plan.jobs
        ]
        print(json.dumps({"name": plan.config.name, "rounds": plan.config.rounds, "jobs": rows}, indent=2))
        return
    axes = _shown_axes(plan.jobs)
    table = _table(["#", "key", *axes, "note"])
    for j in plan.jobs:
        note = (
            f"cannot run: {j.problem.message}" if j.problem else ("done (skipped by --resume)" if j.key in done else "")
        )
        table.add_row(str(j.index + 1), j.key or "–", *_axes_row(j, axes), note)
    extra = f", {plan.excluded} excluded, {plan.included} included" if plan.excluded or plan.included else ""
    rounds = f", interleaved in {plan.config.rounds} rounds" if plan.config.rounds > 1 else ""
    line = f"Plan {plan.config.name!r}: {len(plan.jobs)} jobs{extra}{rounds} (dry run: nothing measured)"
    emit(table, Text(line), out=_out())


def _table(columns: list[str]) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0))
    for name in columns:
        table.add_column(name, no_wrap=name != "note" and name != "record / reason")
    return table


def _out() -> Console:
    """Piped output is never wrapped (grep- and diff-friendly); a terminal gets its own width."""
    from rich.console import Console

    from edgebench.cli._common import console

    return console if console.is_terminal else Console(width=400, highlight=False, soft_wrap=True)


def _print_result(result: SweepResult, json_out: bool) -> None:
    from rich.text import Text

    from edgebench.reporters.units import duration

    if json_out:
        import json

        rows = [
            {
                "index": r.job.index + 1,
                "key": r.job.key,
                "status": r.status,
                "axes": dict(r.job.axes),
                "record_id": r.record.id if r.record else None,
                "reason": r.reason,
            }
            for r in result.results
        ]
        print(json.dumps({"sweep_id": result.sweep_id, "jobs": rows}, indent=2))
        return
    axes = _shown_axes([r.job for r in result.results])
    table = _table(["", "#", "key", *axes, "median", "record / reason"])
    for r in result.results:
        summary = r.record.summary if r.record and r.status != "failed" else None
        median = duration(summary.latency_median_s) if summary else "–"
        note = r.reason if r.status == "failed" else (r.record.id if r.record else "")
        if r.status == "skipped":
            note = f"{note} (done before)"
        table.add_row(
            ICONS[r.status], str(r.job.index + 1), r.job.key or "–", *_axes_row(r.job, axes), median, note or ""
        )
    counts = f"{result.count('ok')} ✅ ok, {result.count('skipped')} ❎ skipped, {result.count('failed')} ❌ failed"
    emit(table, Text(f"Sweep {result.sweep_id}: {len(result.results)} jobs: {counts}"), out=_out())


class _RichProgress:
    """Bar with ETA, the current job and ok/failed counts, on stderr (stdout carries the table)."""

    def __init__(self, *, quiet: bool) -> None:
        self._quiet = quiet
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._counts = {"ok": 0, "skipped": 0, "failed": 0}

    def __enter__(self) -> _RichProgress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        if not self._quiet:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=err_console,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, total: int) -> None:
        if self._bar is not None:
            self._task = self._bar.add_task("starting", total=total, counts=self._text())

    def job_started(self, label: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=label)

    @property
    def finished(self) -> int:
        return sum(self._counts.values())

    @property
    def ok(self) -> int:
        return self._counts["ok"] + self._counts["skipped"]  # skipped = ok in an earlier run of this sweep

    def job_done(self, result: JobResult) -> None:
        self._counts[result.status] += 1
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, counts=self._text())

    def _text(self) -> str:
        c = self._counts
        return f"✅ {c['ok']} ❎ {c['skipped']} ❌ {c['failed']}"
