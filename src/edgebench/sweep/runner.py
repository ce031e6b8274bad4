"""Run a resolved plan: each job in fresh processes, each record stored the moment it exists.

A job that fails (an exception, a crash, a timeout, a model that cannot be had) becomes a stored
``failed`` record with its reason and the sweep goes on. ``resume`` skips every job whose key already
has an ``ok`` record of this sweep's name, so a killed sweep finishes only what is missing.
With ``rounds`` > 1 the jobs alternate process by process (A B C A B C …), as ``bench`` does for
variants, so that drift of a shared machine hits every job alike.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol, cast

from edgebench.errors import EdgebenchError, UsageError
from edgebench.protocols import Executor, Store
from edgebench.records import Failure, RunRecord
from edgebench.sweep.plan import Plan, PlannedJob

Status = Literal["ok", "failed", "skipped"]


class SweepStore(Store, Protocol):
    """A store that can also find records by sweep and job key (the SQLite store does)."""

    def find(
        self,
        *,
        sweep_id: str | None = None,
        sweep_prefix: str | None = None,
        spec_hashes: Sequence[str] | None = None,
        status: str | None = None,
    ) -> list[RunRecord]: ...


@dataclass(frozen=True)
class JobResult:
    job: PlannedJob
    status: Status
    record: RunRecord | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SweepResult:
    sweep_id: str
    results: tuple[JobResult, ...]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)


class SweepProgress(Protocol):
    def start(self, total: int) -> None: ...

    def job_started(self, label: str) -> None: ...

    def job_done(self, result: JobResult) -> None: ...


@dataclass(frozen=True)
class SweepOptions:
    executor: str = "local"
    job_timeout_s: float | None = None
    jobs: int = 1
    resume: bool = False
    cache_dir: Path | None = None


def new_sweep_id(name: str) -> str:
    """``NAME-YYYYmmddTHHMMSS-xxxx``: sortable, and its prefix names the sweep (``--resume`` scopes by it)."""
    return f"{name}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"


def done_records(plan: Plan, store: SweepStore) -> dict[str, RunRecord]:
    """The newest ``ok`` record of this sweep's name per job key already in the store."""
    keys = [j.key for j in plan.jobs if j.key]
    if not keys:
        return {}
    if not callable(getattr(store, "find", None)):
        raise UsageError("--resume needs a results store that can find records by key", hint="use the SQLite store")
    found = store.find(sweep_prefix=f"{plan.config.name}-", spec_hashes=keys, status="ok")
    ours = re.compile(rf"{re.escape(plan.config.name)}-\d{{8}}T\d{{6}}-[0-9a-f]{{4}}")  # not "NAME-other-…"
    done: dict[str, RunRecord] = {}
    for record in found:  # newest first
        if ours.fullmatch(record.spec.sweep_id or ""):
            done.setdefault(record.spec_hash, record)
    return done


def run_sweep(
    plan: Plan, store: SweepStore, options: SweepOptions, progress: SweepProgress | None = None
) -> SweepResult:
    executor = check_options(plan, options)
    done = done_records(plan, store) if options.resume else {}
    sweep_id = _resumed_id(done) or new_sweep_id(plan.config.name)
    skipped = [JobResult(j, "skipped", done[j.key], "done before (--resume)") for j in plan.jobs if j.key in done]
    todo = [replace(j, spec=replace(j.spec, sweep_id=sweep_id)) for j in plan.jobs if j.key not in done]
    if progress:
        progress.start(len(plan.jobs))
        for result in skipped:
            progress.job_done(result)
    run = _Run(plan, store, executor, progress)
    results = run.interleaved(todo) if plan.config.rounds > 1 else run.one_by_one(todo, options.jobs)
    ordered = sorted([*skipped, *results], key=lambda r: r.job.index)
    return SweepResult(sweep_id, tuple(ordered))


def check_options(plan: Plan, options: SweepOptions) -> str | Executor:
    """Refuse option combinations that cannot work, before anything runs; the executor to use."""
    if options.jobs > 1 and plan.config.rounds > 1:
        raise UsageError(
            "--jobs > 1 cannot interleave rounds",
            hint="rounds alternate jobs on one machine; drop --jobs or set rounds to 1",
        )
    return _executor(options)


def _resumed_id(done: dict[str, RunRecord]) -> str | None:
    newest = max(done.values(), key=lambda r: (r.created_at, r.id), default=None)
    return newest.spec.sweep_id if newest else None


def _executor(options: SweepOptions) -> str | Executor:
    from edgebench import registry

    known = registry.names("edgebench.executors")
    if registry.canonical("edgebench.executors", options.executor) not in known:
        # found here, not per job: an unknown name would otherwise become one failed record per job
        raise UsageError(f"unknown executor {options.executor!r}", hint=f"choose one of: {', '.join(known)}")
    if options.job_timeout_s is None:
        return options.executor
    if options.executor != "local":
        raise UsageError(
            f"--job-timeout needs the local executor, not {options.executor!r}",
            hint="an inline job runs in this process and cannot be killed; drop --job-timeout or use --executor local",
        )
    from edgebench.executors.local import LocalExecutor

    # LocalExecutor declares ``name`` as a plain class attribute; it is the Executor protocol all the same
    return cast(Executor, LocalExecutor(timeout_s=options.job_timeout_s))


class _Run:
    def __init__(self, plan: Plan, store: SweepStore, executor: str | Executor, progress: SweepProgress | None):
        self._plan = plan
        self._store = store
        self._executor = executor
        self._progress = progress
        self._lock = threading.Lock()  # progress and stderr are shared by the --jobs threads

    def one_by_one(self, jobs: Sequence[PlannedJob], workers: int) -> list[JobResult]:
        if workers <= 1:
            return [self._one(j) for j in jobs]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edgebench-sweep") as pool:
            return list(pool.map(self._one, jobs))

    def _one(self, job: PlannedJob) -> JobResult:
        from edgebench.engine.bench import run_variants

        self._started(job.label())
        if job.problem is not None:
            return self._done(self._failed(job, job.problem))
        try:
            comparison = run_variants(
                [job.spec], store=self._store, dynamic_batch=self._plan.dynamic_batch, executor=self._executor
            )
        except EdgebenchError as exc:  # a user error found where the job ran: a failed row, not an abort
            return self._done(self._failed(job, exc))
        except Exception as exc:  # a bug must not cost the other jobs; the record says what happened
            return self._done(self._failed(job, EdgebenchError(f"{type(exc).__name__}: {exc}")))
        return self._done(_result(job, comparison.records[0]))

    def interleaved(self, jobs: Sequence[PlannedJob]) -> list[JobResult]:
        from edgebench.engine.bench import run_variants

        broken = [self._failed(j, j.problem) for j in jobs if j.problem is not None]
        for result in broken:
            self._done(result)
        runnable = [j for j in jobs if j.problem is None]
        if not runnable:
            return broken
        names = {j.spec: j.label() for j in runnable}
        try:
            comparison = run_variants(
                [j.spec for j in runnable],
                store=self._store,
                dynamic_batch=self._plan.dynamic_batch,
                executor=self._executor,
                progress=lambda done, total, job: self._started(names.get(job.spec, job.spec.model)),
            )
        except EdgebenchError as exc:
            results = [self._done(self._failed(j, exc)) for j in runnable]
            return broken + results
        results = [self._done(_result(j, r)) for j, r in zip(runnable, comparison.records, strict=True)]
        return broken + results

    def _failed(self, job: PlannedJob, exc: EdgebenchError) -> JobResult:
        from edgebench.engine.environment import capture

        env = replace(capture(), captured_by="controller")
        failure = Failure(type(exc).__name__, exc.message, hint=exc.hint)
        executor = self._executor if isinstance(self._executor, str) else self._executor.name
        record = RunRecord(spec=job.spec, environment=env, status="failed", error=failure, executor=executor)
        try:
            self._store.put(record)
        except EdgebenchError as store_exc:  # put() saved it to a side file and says where
            return JobResult(job, "failed", record, f"{exc.message}; {store_exc.message}")
        return JobResult(job, "failed", record, _reason(failure))

    def _started(self, label: str) -> None:
        if self._progress:
            with self._lock:
                self._progress.job_started(label)

    def _done(self, result: JobResult) -> JobResult:
        if self._progress:
            with self._lock:
                self._progress.job_done(result)
        return result


def _result(job: PlannedJob, record: RunRecord) -> JobResult:
    if record.status == "ok":
        return JobResult(job, "ok", record)
    return JobResult(job, "failed", record, _reason(record.error))


def _reason(failure: Failure | None) -> str:
    if failure is None:
        return "failed"
    return f"{failure.type}: {failure.message}"
