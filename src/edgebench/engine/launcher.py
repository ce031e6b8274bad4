"""Run each RunSpec in a fresh Python process (default) or inline (debugging).

A fresh process isolates memory figures (peak RSS belongs to this run alone) and crashes: a
segfaulting runtime becomes a failed record carrying the signal, not a dead edgebench. The job
and the result cross the process boundary as JSON files, so the same protocol can later run on
another host (ssh) or executor (ray).
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
from edgebench.engine.runner import execute, validate_spec
from edgebench.errors import EdgebenchError
from edgebench.records import (
    Failure,
    ModelInfo,
    RunRecord,
    RunSpec,
    from_jsonable,
    record_from_dict,
    record_to_dict,
    to_jsonable,
)

# Errors about the user's input are raised to the caller (nothing to store); anything else that
# fails inside the worker becomes a stored "failed" record.
_USER_ERRORS = (errors.UsageError, errors.ModelError, errors.BackendUnavailable, errors.PluginError)
_SPAWN_ALLOWANCE_S = 300.0  # time for imports, session creation and the first inference


def run(spec: RunSpec, model: ModelInfo) -> RunRecord:
    """Measure ``spec``; returns an ok or failed record, raises for input errors."""
    validate_spec(spec)
    if spec.inline:
        return _run_inline(spec, model)
    return _run_subprocess(spec, model)


def _run_inline(spec: RunSpec, model: ModelInfo) -> RunRecord:
    try:
        return execute(spec, model)
    except _USER_ERRORS:
        raise
    except EdgebenchError as exc:
        return failed_record(spec, model, Failure(type(exc).__name__, exc.message))


def _run_subprocess(spec: RunSpec, model: ModelInfo) -> RunRecord:
    with tempfile.TemporaryDirectory(prefix="edgebench-") as tmp:
        job, result = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job.write_text(json.dumps({"spec": to_jsonable(spec), "model": to_jsonable(model)}))
        timeout = spec.warmup_time_s + spec.max_time_s + _SPAWN_ALLOWANCE_S
        cmd = [sys.executable, "-m", "edgebench.engine.worker", str(job), str(result)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return failed_record(spec, model, Failure("Timeout", f"benchmark process exceeded {timeout:.0f} s"))
        _forward(proc.stdout, proc.stderr)
        if proc.returncode != 0 or not result.exists():
            return failed_record(spec, model, _crash_failure(proc.returncode, proc.stderr))
        return _read_result(json.loads(result.read_text()), spec, model)


def _read_result(payload: dict[str, Any], spec: RunSpec, model: ModelInfo) -> RunRecord:
    if "record" in payload:
        return record_from_dict(payload["record"])
    err = payload["error"]
    cls = getattr(errors, err["type"], None)
    if isinstance(cls, type) and issubclass(cls, _USER_ERRORS):
        raise cls(err["message"], hint=err.get("hint"))
    return failed_record(spec, model, Failure(err["type"], err["message"]))


def _crash_failure(returncode: int, stderr: str) -> Failure:
    tail = stderr.strip().splitlines()[-1][:300] if stderr.strip() else ""
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.Signals._value2member_map_ else "?"
        return Failure(
            "Crash",
            f"benchmark process killed by {name} (signal {-returncode}) {tail}".strip(),
            exit_signal=-returncode,
        )
    return Failure("Crash", f"benchmark process exited with code {returncode}: {tail}", exit_code=returncode)


def _forward(stdout: str, stderr: str) -> None:
    # The worker's own output (runtime logs, library prints) goes to stderr so that
    # stdout stays clean for `--json`.
    for text in (stdout, stderr):
        if text.strip():
            sys.stderr.write(text if text.endswith("\n") else text + "\n")


def failed_record(spec: RunSpec, model: ModelInfo | None, failure: Failure) -> RunRecord:
    from edgebench.engine.environment import capture

    return RunRecord(spec=spec, environment=capture(), status="failed", model=model, error=failure)


def worker_main(job_path: Path, result_path: Path) -> int:
    """Entry point of the child process: read job, execute, write record or error."""
    job = json.loads(job_path.read_text())
    spec = from_jsonable(RunSpec, job["spec"])
    model = from_jsonable(ModelInfo, job["model"])
    try:
        payload: dict[str, Any] = {"record": record_to_dict(execute(spec, model))}
    except EdgebenchError as exc:
        payload = {"error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}}
    result_path.write_text(json.dumps(payload))
    return 0
