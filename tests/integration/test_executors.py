"""The local executor's process boundary: crashes, exits, timeouts, and a parent that dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgebench.engine.bench import make_job
from edgebench.engine.validate import validate_spec
from edgebench.executors.local import LocalExecutor
from tests.conftest import fake_spec

pytestmark = pytest.mark.slow


def _job(model: Path, **options: object):  # type: ignore[no-untyped-def]
    spec = fake_spec(model, backend_options=options, min_iters=5, scenario_options={"tail": "none"})
    return make_job(validate_spec(spec), None, False)


def test_segfault_becomes_a_failed_record_with_the_worker_environment(tiny_onnx: Path) -> None:
    rec = LocalExecutor().submit(_job(tiny_onnx, crash="segfault"))
    assert rec.status == "failed" and rec.error.exit_signal == signal.SIGSEGV
    assert rec.environment.captured_by == "worker" and rec.environment.pid != os.getpid()


def test_plain_exit_is_a_failed_record_with_its_code(tiny_onnx: Path) -> None:
    rec = LocalExecutor().submit(_job(tiny_onnx, crash="exit"))
    assert rec.status == "failed" and rec.error.exit_code == 3 and rec.error.exit_signal is None
    assert "exited with code 3" in rec.error.message


def test_a_hang_is_killed_at_the_timeout(tiny_onnx: Path) -> None:
    start = time.monotonic()
    rec = LocalExecutor(timeout_s=3).submit(_job(tiny_onnx, crash="hang"))
    assert rec.status == "failed" and rec.error.type == "Timeout"
    assert time.monotonic() - start < 15


def test_a_killed_parent_takes_its_worker_and_temp_dir_with_it(tiny_onnx: Path, tmp_path: Path) -> None:
    # The parent runs a real-time job (60 s); we SIGKILL it and check the worker is gone.
    script = (
        "import sys; from pathlib import Path; from edgebench.engine.bench import run_benchmark;"
        "from tests.conftest import fake_spec;"
        f"run_benchmark(fake_spec(Path({str(tiny_onnx)!r}), backend_options={{'real_time': True}},"
        " min_time_s=60, max_time_s=60, target_ci=0), store=None)"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=Path(__file__).parents[2])
    worker_dirs: list[Path] = []
    for _ in range(200):
        worker_dirs = [p for p in tmp_path.glob("edgebench-*") if (p / "environment.json").exists()]
        if worker_dirs:
            break
        time.sleep(0.05)
    assert worker_dirs, "the worker never started"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        if not any(tmp_path.glob("edgebench-*")):
            break
        time.sleep(0.05)
    assert not any(tmp_path.glob("edgebench-*")), "the worker outlived its parent or left its temp dir"


def test_a_user_error_raised_in_the_worker_reaches_the_caller(tiny_onnx: Path) -> None:
    from edgebench.errors import UsageError

    with pytest.raises(UsageError, match="rejects these inputs on purpose"):
        LocalExecutor().submit(_job(tiny_onnx, crash="user_error"))
