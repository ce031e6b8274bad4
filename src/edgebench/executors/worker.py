"""``python -m edgebench.executors.worker WORKDIR`` — the fresh process that measures one job.

Reads WORKDIR/job.json, writes WORKDIR/environment.json at once (so a crash record carries this
process's environment), then WORKDIR/result.json: ``{"record": …}`` (ok or failed, built here) or
``{"user_error": …}``. On SIGTERM (its parent died) or SIGINT (Ctrl-C) it removes WORKDIR and exits.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path
from types import FrameType

from edgebench.engine import environment
from edgebench.engine.measure import failed_record, measure
from edgebench.errors import EdgebenchError
from edgebench.executors import USER_ERRORS
from edgebench.executors.local import job_from_json
from edgebench.records import Failure, record_to_dict, to_jsonable


def main(workdir: Path) -> int:
    _cleanup_on_sigterm(workdir)
    if os.getppid() == 1:  # the parent died before PR_SET_PDEATHSIG took effect
        shutil.rmtree(workdir, ignore_errors=True)
        return 143
    job = job_from_json(json.loads((workdir / "job.json").read_text()))
    env = environment.capture()
    (workdir / "environment.json").write_text(json.dumps(to_jsonable(env)))
    try:
        payload = {"record": record_to_dict(measure(job, workdir, executor="local"))}
    except USER_ERRORS as exc:
        payload = {"user_error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}}
    except EdgebenchError as exc:
        failure = Failure(type(exc).__name__, exc.message, hint=exc.hint)
        payload = {"record": record_to_dict(failed_record(job, failure, env, executor="local"))}
    except MemoryError:
        failure = Failure(
            "MemoryError",
            "the benchmark process ran out of memory",
            hint="use a smaller --batch/--shape or a smaller model",
        )
        payload = {"record": record_to_dict(failed_record(job, failure, env, executor="local"))}
    except Exception as exc:  # a bug or an untranslated runtime exception: a failed record, not a traceback
        failure = Failure(
            "InternalError",
            f"{type(exc).__name__}: {exc}"[:500],
            hint="this is an edgebench or plugin bug; please report it with the record",
        )
        payload = {"record": record_to_dict(failed_record(job, failure, env, executor="local"))}
    tmp = workdir / "result.json.tmp"
    tmp.write_text(json.dumps(payload))
    tmp.replace(workdir / "result.json")
    return 0


def _cleanup_on_sigterm(workdir: Path) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        shutil.rmtree(workdir, ignore_errors=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    # Ctrl-C reaches the whole process group: the parent reports it once; the worker leaves quietly
    signal.signal(signal.SIGINT, handler)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
