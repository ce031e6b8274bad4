"""`edgebench sweep` on the fake backend in this process (virtual clock): status rows, failures, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.stores import open_store
from tests.cli_helpers import run_cli

TFLITE = Path(__file__).resolve().parents[1] / "data" / "mobilenet_v1_0.25_128_quant.tflite"
RUN = "run: {warmup_time_s: 0, min_time_s: 0.05, max_time_s: 0.2, min_iters: 20, target_ci: 0}\n"


def _sweep_file(tmp_path: Path, backends: str, extra: str = "") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"name: t\nmodels: ['{TFLITE}']\nbackends:\n{backends}threads: [1, 2]\n{RUN}{extra}")
    return path


OK = "  - name: fake\n    options: {latency_s: 0.002}\n"


def _sweep(capsys, monkeypatch, *args: str):  # type: ignore[no-untyped-def]
    return run_cli(capsys, monkeypatch, "sweep", *args, "--executor", "inline")


def test_all_jobs_ok_are_stored_with_the_sweep_id_and_key(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    res = _sweep(capsys, monkeypatch, str(_sweep_file(tmp_path, OK, "tags: [nightly]\n")), "--db", str(db), "--json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert [j["status"] for j in out["jobs"]] == ["ok", "ok"]
    assert out["sweep_id"].startswith("t-")
    records = open_store(db).list()
    assert len(records) == 2
    assert {r.spec.sweep_id for r in records} == {out["sweep_id"]}
    assert {r.spec_hash for r in records} == {j["key"] for j in out["jobs"]}
    assert {r.spec.threads for r in records} == {1, 2}
    assert all(r.spec.tags == ("nightly",) for r in records)


def test_failed_jobs_become_failed_records_and_the_sweep_goes_on(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backends = (
        "  - name: fake\n    options: {crash: run}\n"
        "  - name: fake\n    options: {crash: user_error}\n"
        "  - name: fake\n    options: {crash: load}\n" + OK
    )
    gone = tmp_path / "gone.onnx"
    path = _sweep_file(tmp_path, backends)
    path.write_text(path.read_text().replace(f"models: ['{TFLITE}']", f"models: ['{TFLITE}', '{gone}']"))
    db = tmp_path / "r.db"
    res = _sweep(capsys, monkeypatch, str(path), "--db", str(db))
    assert res.code == 6  # MeasurementError: some job failed
    assert res.err.strip().splitlines()[-1].startswith("Error: 14 of 16 sweep jobs failed")
    rows = [line for line in res.out.splitlines() if line[:1] in "✅❎❌"]
    assert len(rows) == 16
    assert sum(r.startswith("✅") for r in rows) == 2 and sum(r.startswith("❌") for r in rows) == 14
    assert any("BackendError: fake backend failed on purpose during run" in r for r in rows)
    assert any("UsageError: fake backend rejects these inputs on purpose" in r for r in rows)
    assert any("gone.onnx" in r and "ModelError" in r for r in rows)
    stored = open_store(db).list()
    assert len(stored) == 16  # every job left a record, failed ones with their reason
    failed = [r for r in stored if r.status == "failed"]
    assert len(failed) == 14 and all(r.error and r.error.message for r in failed)


def test_resume_skips_done_jobs_and_reruns_failed_ones(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    path = _sweep_file(tmp_path, OK + "  - name: fake\n    options: {crash: run}\n")
    first = _sweep(capsys, monkeypatch, str(path), "--db", str(db), "--json")
    assert first.code == 6
    sweep_id = json.loads(first.out)["sweep_id"]
    again = _sweep(capsys, monkeypatch, str(path), "--db", str(db), "--json", "--resume")
    assert again.code == 6
    out = json.loads(again.out)
    assert out["sweep_id"] == sweep_id  # a resumed sweep keeps its id
    assert [j["status"] for j in out["jobs"]] == ["skipped", "skipped", "failed", "failed"]
    store = open_store(db)
    ok = store.find(sweep_id=sweep_id, status="ok")
    assert len(ok) == 2 and len({r.spec_hash for r in ok}) == 2  # nothing measured twice
    assert len(store.find(sweep_id=sweep_id, status="failed")) == 4  # the failed ones were tried again
    dry = _sweep(capsys, monkeypatch, str(path), "--db", str(db), "--dry-run", "--resume", "--json")
    assert [j["done"] for j in json.loads(dry.out)["jobs"]] == [True, True, False, False]
    # without --resume it is a new sweep that measures everything again
    fresh = _sweep(capsys, monkeypatch, str(path), "--db", str(db), "--json")
    assert json.loads(fresh.out)["sweep_id"] != sweep_id


def test_resume_is_scoped_to_the_sweep_name(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    path = _sweep_file(tmp_path, OK)
    for name in ("other", "t-x"):  # "t-x-…" sweep ids start with "t-" but are not sweep t's
        other = tmp_path / f"{name}.yaml"
        other.write_text(path.read_text().replace("name: t", f"name: {name}"))
        assert _sweep(capsys, monkeypatch, str(other), "--db", str(db)).code == 0
    res = _sweep(capsys, monkeypatch, str(path), "--db", str(db), "--resume", "--json")
    assert [j["status"] for j in json.loads(res.out)["jobs"]] == ["ok", "ok"]
    res = _sweep(capsys, monkeypatch, str(path), "--db", str(db), "--resume", "--json")
    assert [j["status"] for j in json.loads(res.out)["jobs"]] == ["skipped", "skipped"]


def test_rounds_interleave_jobs_process_by_process(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    res = _sweep(capsys, monkeypatch, str(_sweep_file(tmp_path, OK)), "--db", str(db), "--rounds", "3", "--json")
    assert res.code == 0, res.err
    records = sorted(open_store(db).list(), key=lambda r: r.spec.threads or 0)
    assert [len(r.processes) for r in records] == [3, 3]
    starts = sorted(
        (p.window.start_unix_ns, r.spec.threads) for r in records for p in r.processes if p.window is not None
    )
    assert [t for _, t in starts] == [1, 2, 1, 2, 1, 2]  # A B A B A B


def test_dry_run_measures_nothing_and_creates_no_database(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    res = _sweep(capsys, monkeypatch, str(_sweep_file(tmp_path, OK)), "--db", str(db), "--dry-run")
    assert res.code == 0
    assert "Plan 't': 2 jobs (dry run: nothing measured)" in res.out
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--jobs", "0"), "--jobs must be ≥ 1"),
        (("--rounds", "0"), "--rounds must be in [1, 1000]"),
        (("--job-timeout", "-1"), "--job-timeout must be in (0, 86400]"),
        (("--job-timeout", "5"), "--job-timeout needs the local executor"),
        (("--jobs", "2", "--rounds", "2"), "--jobs > 1 cannot interleave rounds"),
    ],
)
def test_bad_options_are_one_line_errors(
    capsys, monkeypatch, tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:  # type: ignore[no-untyped-def]
    res = _sweep(capsys, monkeypatch, str(_sweep_file(tmp_path, OK)), "--db", str(tmp_path / "r.db"), *args)
    assert res.code == 2, res.err
    assert needle in res.err and res.err.count("\n") == 1


def test_parallel_jobs_store_each_job_once(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    path = _sweep_file(tmp_path, OK, "batch_sizes: [1, 2]\n")
    res = _sweep(capsys, monkeypatch, str(path), "--db", str(db), "--jobs", "2", "--json")
    assert res.code == 0, res.err
    assert [j["index"] for j in json.loads(res.out)["jobs"]] == [1, 2, 3, 4]  # reported in plan order
    records = open_store(db).list()
    assert len(records) == 4 and len({r.spec_hash for r in records}) == 4
