from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edgebench.engine import launcher
from edgebench.errors import StoreError
from edgebench.reporters.tabular import CSV_COLUMNS, to_csv, to_json
from edgebench.stores import SQLiteStore, open_store
from edgebench.zoo import resolve_model
from tests.conftest import fake_spec


def _records(model: Path, n: int):
    info = resolve_model(str(model)).info
    return [launcher.run(fake_spec(model, seed=i, min_iters=10, min_time_s=0.02), info) for i in range(n)]


def test_put_get_list_round_trip(tmp_path: Path, tiny_onnx: Path) -> None:
    store = open_store(tmp_path / "r.db")
    recs = _records(tiny_onnx, 3)
    for r in recs:
        store.put(r)
    assert store.get(recs[1].id) == recs[1]
    assert store.get(recs[1].id[:-2]) == recs[1]  # a unique prefix is enough
    listed = store.list()
    assert {r.id for r in listed} == {r.id for r in recs}
    rows = store.rows(limit=2)
    assert len(rows) == 2 and rows[0].latency_median_s is not None


def test_records_are_immutable_in_the_store(tmp_path: Path, tiny_onnx: Path) -> None:
    store = open_store(tmp_path / "r.db")
    (rec,) = _records(tiny_onnx, 1)
    store.put(rec)
    with pytest.raises(StoreError, match="immutable"):
        store.put(rec)


def test_wal_mode_and_missing_id(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    mode = sqlite3.connect(tmp_path / "r.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    with pytest.raises(StoreError, match="no result"):
        store.get("nope")
    with pytest.raises(StoreError, match="no result"):
        store.get("%")  # LIKE wildcards are escaped


def test_a_non_database_file_is_refused_and_left_intact(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my precious notes")
    with pytest.raises(StoreError, match="cannot open"):
        SQLiteStore(path)
    assert path.read_text() == "my precious notes"


def test_platform_records(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    assert store.latest_platform("h") is None
    first = store.put_platform({"hostname": "h", "created_at": "2026-01-01T00:00:00Z", "x": 1})
    second = store.put_platform({"hostname": "h", "created_at": "2026-01-02T00:00:00Z", "x": 2})
    assert first != second
    latest = store.latest_platform("h")
    assert latest is not None and latest["x"] == 2 and latest["id"] == second


def test_exports(tiny_onnx: Path) -> None:
    recs = _records(tiny_onnx, 2)
    csv_text = to_csv(recs)
    header, *lines = csv_text.strip().splitlines()
    assert header.split(",") == list(CSV_COLUMNS)
    assert len(lines) == 2
    import json

    assert [r["id"] for r in json.loads(to_json(recs))] == [r.id for r in recs]
