"""Sweeps with real worker processes: a killed sweep resumes without duplicates; crashes and hangs are rows."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgebench.stores import open_store
from tests.cli_helpers import run_cli

pytestmark = pytest.mark.slow

TFLITE = Path(__file__).resolve().parents[1] / "data" / "mobilenet_v1_0.25_128_quant.tflite"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweep-minimal.yaml"


def _four_jobs(tmp_path: Path) -> Path:
    path = tmp_path / "kill.yaml"
    path.write_text(
        f"name: kill\nmodels: ['{TFLITE}']\n"
        "backends:\n  - name: fake\n    options: {latency_s: 0.002, real_time: true}\n"
        "threads: [1, 2, 3, 4]\n"
        "run: {warmup_time_s: 0, min_time_s: 0.6, max_time_s: 0.6, min_iters: 10, target_ci: 0}\n"
    )
    return path


def _ok_records(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return len([r for r in open_store(db, read_only=True).list() if r.status == "ok"])
    except Exception:  # the writer may be creating the file right now
        return 0


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_sweep_resumes_only_the_missing_jobs(capsys, monkeypatch, tmp_path: Path, signum: int) -> None:  # type: ignore[no-untyped-def]
    config, db = _four_jobs(tmp_path), tmp_path / "r.db"
    cmd = [sys.executable, "-m", "edgebench", "sweep", str(config), "--db", str(db), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _ok_records(db) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == {signal.SIGKILL: -9, signal.SIGTERM: 143, signal.SIGINT: 130}[signum], err
    if signum == signal.SIGINT:  # Ctrl-C: one line that says what is kept and how to finish
        last = err.decode().strip().splitlines()[-1]
        assert last.startswith("Error: sweep interrupted after") and "--resume" in last, err
    done_before = _ok_records(db)
    assert 1 <= done_before < 4, "the sweep must be killed mid-way"
    res = run_cli(capsys, monkeypatch, "sweep", str(config), "--db", str(db), "--resume", "--json")
    assert res.code == 0, res.err
    statuses = [j["status"] for j in json.loads(res.out)["jobs"]]
    assert statuses.count("skipped") == done_before and statuses.count("ok") == 4 - done_before
    ok = [r for r in open_store(db).list() if r.status == "ok"]
    assert len(ok) == 4 and len({r.spec_hash for r in ok}) == 4  # each job exactly once
    assert len({r.spec.sweep_id for r in ok}) == 1  # the resumed sweep kept its id


def test_crash_exit_and_hang_are_failed_rows_and_the_sweep_goes_on(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "crash.yaml"
    config.write_text(
        f"name: crash\nmodels: ['{TFLITE}']\nbackends:\n"
        "  - name: fake\n    options: {crash: segfault}\n"
        "  - name: fake\n    options: {crash: exit}\n"
        "  - name: fake\n    options: {crash: hang}\n"
        "  - name: fake\n    options: {latency_s: 0.001, real_time: true}\n"
        "run: {warmup_time_s: 0, min_time_s: 0.1, max_time_s: 0.2, min_iters: 10}\n"
    )
    db = tmp_path / "r.db"
    res = run_cli(capsys, monkeypatch, "sweep", str(config), "--db", str(db), "--job-timeout", "4")
    assert res.code == 6
    rows = [line for line in res.out.splitlines() if line[:1] in "✅❎❌"]
    assert [r[0] for r in rows] == ["❌", "❌", "❌", "✅"]
    assert "SIGSEGV" in rows[0] and "exit" in rows[1].lower() and "Timeout" in rows[2] and "4 s" in rows[2]
    assert "Error: 3 of 4 sweep jobs failed" in res.err
    stored = {r.spec.backend_options.get("crash"): r for r in open_store(db).list()}
    assert stored["segfault"].status == "failed" and stored["segfault"].error.exit_signal == signal.SIGSEGV  # type: ignore[union-attr]
    assert stored["hang"].error.type == "Timeout"  # type: ignore[union-attr]
    assert stored["none"].status == "ok"


@pytest.mark.torch
def test_the_minimal_example_runs_four_short_jobs(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    db = tmp_path / "r.db"
    started = time.monotonic()
    res = run_cli(capsys, monkeypatch, "sweep", str(EXAMPLE), "--db", str(db))
    assert res.code == 0, res.err
    rows = [line for line in res.out.splitlines() if line[:1] in "✅❎❌"]
    assert len(rows) == 4 and all(r.startswith("✅") for r in rows)
    records = open_store(db).list()
    assert sorted((r.spec.threads, r.spec.batch) for r in records) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert {r.summary.batch for r in records if r.summary} == {1, 2}
    assert time.monotonic() - started < 120  # export on first use included
