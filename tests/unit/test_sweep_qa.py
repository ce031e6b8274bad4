"""QA regressions for `edgebench sweep`: zero-job plans, unknown executors, Ctrl-C mid-sweep, then --resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.stores import open_store
from tests.cli_helpers import run_cli
from tests.unit.test_sweep_runner import OK, _sweep_file


def _one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1 and "(hint: " in lines[0] and "Traceback" not in err, err
    return lines[0]


def test_a_plan_whose_jobs_are_all_excluded_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _sweep_file(tmp_path, OK, "exclude: [{backend: fake}]\n")
    db = tmp_path / "r.db"
    for extra in ((), ("--dry-run",)):
        result = run_cli(capsys, monkeypatch, "sweep", str(path), "--db", str(db), "--executor", "inline", *extra)
        assert result.code == 2
        assert "has no jobs (2 excluded" in _one_error_line(result.err)
        assert result.out == ""
    assert not db.exists()  # exit 0 with an empty, freshly created database before the fix


def test_an_unknown_executor_is_refused_up_front_not_stored_as_failed_jobs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _sweep_file(tmp_path, OK)
    db = tmp_path / "r.db"
    for extra in ((), ("--dry-run",)):
        result = run_cli(capsys, monkeypatch, "sweep", str(path), "--db", str(db), "--executor", "nope", *extra)
        assert result.code == 2
        line = _one_error_line(result.err)
        assert "unknown executor 'nope'" in line and "inline" in line and "local" in line
    assert not db.exists()  # before the fix: one failed record per job


def test_ctrl_c_mid_sweep_keeps_finished_jobs_and_resume_finishes_only_the_rest(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import edgebench.engine.bench as engine

    path = _sweep_file(tmp_path, OK)  # two jobs: threads 1 and 2
    db = tmp_path / "r.db"
    real = engine.run_variants
    calls = []

    def interrupted_second(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread while job 2 runs
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "run_variants", interrupted_second)
    result = run_cli(capsys, monkeypatch, "sweep", str(path), "--db", str(db), "--executor", "inline")
    assert result.code == 130  # before the fix: typer turned Ctrl-C into a silent exit 130
    line = _one_error_line(result.err)
    assert "sweep interrupted after 1 of 2 jobs (1 ok)" in line and "--resume" in line
    first = open_store(db).list()
    assert [r.spec.threads for r in first] == [1] and first[0].status == "ok"

    monkeypatch.setattr(engine, "run_variants", real)
    result = run_cli(
        capsys, monkeypatch, "sweep", str(path), "--db", str(db), "--executor", "inline", "--resume", "--json"
    )
    assert result.code == 0, result.err
    assert [j["status"] for j in json.loads(result.out)["jobs"]] == ["skipped", "ok"]
    records = open_store(db).list()
    assert sorted(r.spec.threads for r in records) == [1, 2]  # no duplicate of the finished job
    assert len({r.spec.sweep_id for r in records}) == 1  # the resumed sweep keeps its id
