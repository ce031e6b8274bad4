"""Run each job in a fresh Python process on this machine (the default executor).

A fresh process isolates memory figures (peak RSS belongs to this run alone) and crashes: a
segfaulting runtime becomes a failed record carrying the signal, not a dead edgebench. Job and
result cross the boundary as JSON files in a private temporary directory (never stdout, which
runtimes pollute). The worker writes its environment first, so even a crash record carries the
measuring process's environment. The worker dies with its parent (PR_SET_PDEATHSIG on Linux) and
removes the temporary directory when it does.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from edgebench import errors
from edgebench.engine.artifacts import publish
from edgebench.engine.measure import failed_record
from edgebench.executors import USER_ERRORS
from edgebench.protocols import Job
from edgebench.records import Environment, Failure, RunRecord, from_jsonable, record_from_dict, to_jsonable

SPAWN_ALLOWANCE_S = 300.0  # imports, session creation and the first inference, beyond warm-up + max time


class LocalExecutor:
    name = "local"

    def __init__(self, *, timeout_s: float | None = None, artifacts_root: Path | None = None) -> None:
        self._timeout_s = timeout_s
        self._artifacts_root = artifacts_root

    def submit(self, job: Job) -> RunRecord:
        spec = job.spec
        timeout = self._timeout_s or spec.warmup_time_s + spec.max_time_s + SPAWN_ALLOWANCE_S
        with tempfile.TemporaryDirectory(prefix="edgebench-") as tmp:
            workdir = Path(tmp)
            (workdir / "job.json").write_text(json.dumps(job_to_json(job)))
            cmd = [sys.executable, "-m", "edgebench.executors.worker", str(workdir)]
            try:
                proc = _run(cmd, timeout)
            except subprocess.TimeoutExpired as exc:
                _forward(_text(exc.stdout), _text(exc.stderr))
                failure = Failure(
                    "Timeout",
                    f"benchmark process exceeded {timeout:.0f} s and was killed",
                    hint="raise --max-time, or look for a hang in the runtime",
                )
                return failed_record(job, failure, _worker_env(workdir), executor=self.name)
            _forward(proc.stdout, proc.stderr)
            result = workdir / "result.json"
            if proc.returncode != 0 or not result.exists():
                failure = crash_failure(proc.returncode, proc.stderr)
                return failed_record(job, failure, _worker_env(workdir), executor=self.name)
            record = _read_result(json.loads(result.read_text()))
            return publish(record, self._artifacts_root)


def job_to_json(job: Job) -> dict[str, Any]:
    return {"spec": to_jsonable(job.spec), "model": to_jsonable(job.model), "process_index": job.process_index}


def job_from_json(data: dict[str, Any]) -> Job:
    from edgebench.records import ModelInfo, RunSpec

    return Job(
        from_jsonable(RunSpec, data["spec"]), from_jsonable(ModelInfo, data["model"]), int(data.get("process_index", 0))
    )


def _read_result(payload: dict[str, Any]) -> RunRecord:
    if "record" in payload:
        return record_from_dict(payload["record"])
    err = payload["user_error"]
    cls = getattr(errors, err["type"], None)
    if isinstance(cls, type) and issubclass(cls, USER_ERRORS):
        raise cls(err["message"], hint=err.get("hint"))
    raise errors.MeasurementError(f"worker reported {err['type']}: {err['message']}")


def _worker_env(workdir: Path) -> Environment | None:
    path = workdir / "environment.json"
    try:
        env: Environment = from_jsonable(Environment, json.loads(path.read_text()))
    except (OSError, ValueError, errors.SchemaError):
        return None
    return env


def crash_failure(returncode: int, stderr: str) -> Failure:
    tail = stderr.strip().splitlines()[-1][:300] if stderr.strip() else ""
    if returncode < 0:
        signum = -returncode
        name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else "?"
        return Failure(
            "Crash",
            f"benchmark process killed by {name} (signal {signum}) {tail}".strip(),
            exit_signal=signum,
            hint="the runtime crashed: try another backend version or --threads 1",
        )
    return Failure(
        "Crash",
        f"benchmark process exited with code {returncode} {tail}".strip(),
        exit_code=returncode,
        hint="the runtime exited without a result; rerun with --executor inline to see why",
    )


def _forward(stdout: str, stderr: str) -> None:
    # The worker's own output (library prints) goes to stderr so that stdout stays clean for `--json`.
    for text in (stdout, stderr):
        if text.strip():
            sys.stderr.write(text if text.endswith("\n") else text + "\n")


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


_HELD = {signal.SIGTERM, signal.SIGINT}


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` with SIGTERM/SIGINT held while forking.

    With a ``preexec_fn`` Python runs its at-fork hooks in this process; an exception our SIGTERM
    handler raises inside one of them is printed ("Exception ignored in: _releaseLock") and dropped,
    and the run would go on as if never terminated. Held, the signal arrives right after the fork.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            preexec_fn=_child_setup,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)  # a held signal is delivered here
    with proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise subprocess.TimeoutExpired(cmd, timeout, output=out, stderr=err) from None
        except BaseException:  # Ctrl-C, SIGTERM: the worker goes with us
            proc.kill()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _child_setup() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)  # the mask is inherited: the worker must get them
    _die_with_parent()


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux), so no orphan runs to max-time."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
