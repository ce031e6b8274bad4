"""Run the job in this process: for debugging and for tests on the virtual clock (no isolation:
memory figures inherit this process's history, and a crashing runtime takes the caller with it)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from edgebench.engine.artifacts import publish
from edgebench.engine.measure import failed_record, measure
from edgebench.errors import EdgebenchError
from edgebench.executors import USER_ERRORS
from edgebench.protocols import Job
from edgebench.records import Failure, RunRecord


class InlineExecutor:
    name = "inline"

    def __init__(self, artifacts_root: Path | None = None) -> None:
        self._artifacts_root = artifacts_root

    def submit(self, job: Job) -> RunRecord:
        with tempfile.TemporaryDirectory(prefix="edgebench-inline-") as tmp:
            try:
                record = measure(job, Path(tmp), executor=self.name)
            except USER_ERRORS:
                raise
            except EdgebenchError as exc:
                from edgebench.engine.environment import capture

                return failed_record(
                    job, Failure(type(exc).__name__, exc.message, hint=exc.hint), capture(), executor=self.name
                )
            return publish(record, self._artifacts_root)
