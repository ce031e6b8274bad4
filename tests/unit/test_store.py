"""The SQLite results store: round trips, immutability, store schema v2 and the v1 → v2 migration.

Records are built from the golden v1 record (migrated on load) with ``dataclasses.replace``, so these
tests do not depend on how the engine builds records.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from edgebench.errors import SchemaError, StoreError
from edgebench.records import Failure, RunRecord, record_from_json
from edgebench.reporters.tabular import CSV_COLUMNS, to_csv, to_json
from edgebench.stores import RecordExists, SQLiteStore, open_store, read_records_file

GOLDEN_V1 = Path(__file__).parents[1] / "golden" / "record_v1.json"

# The v1 store schema exactly as edgebench 0.1 created it (before PRAGMA user_version was tracked).
V1_DDL = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    model TEXT NOT NULL,
    backend TEXT NOT NULL,
    hostname TEXT NOT NULL,
    latency_median_s REAL,
    throughput_ips REAL,
    record_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
CREATE TABLE IF NOT EXISTS platforms (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    hostname TEXT NOT NULL,
    report_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS platforms_host ON platforms(hostname, created_at);
"""


def make_record(i: int = 0, **changes: Any) -> RunRecord:
    """The golden record with a time-ordered id and timestamp of its own (newer for larger ``i``)."""
    base = record_from_json(GOLDEN_V1.read_text())
    stamp = f"2026-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
    return replace(base, id=f"{0x19000000000 + i:012x}{i:08x}", created_at=stamp, **changes)


def failed_record(i: int = 0) -> RunRecord:
    error = Failure("BackendError", "runtime refused the model", hint="try another backend")
    return make_record(i, status="failed", measurements=None, summary=None, model=None, error=error)


def fill(db: Path, n: int) -> list[RunRecord]:
    store = open_store(db)
    records = [make_record(i) for i in range(n)]
    for record in records:
        store.put(record)
    return records


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(db)) as con:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])


def test_put_get_list_round_trip(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    recs = [make_record(i) for i in range(3)]
    for r in recs:
        store.put(r)
    assert store.get(recs[1].id) == recs[1]
    assert store.get(recs[1].id[:-2]) == recs[1]  # a unique prefix is enough
    assert store.list() == recs[::-1]  # newest first
    rows = store.rows(limit=2)
    assert [r.id for r in rows] == [recs[2].id, recs[1].id]
    assert recs[2].summary is not None and rows[0].latency_median_s == recs[2].summary.latency_median_s
    assert rows[0].scenario == "loop" and rows[0].spec_hash == recs[2].spec_hash
    assert store.count() == 3 and store.rows(0) == []


def test_v2_columns_hold_sweep_and_tags(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    record = make_record(spec=replace(make_record().spec, sweep_id="sw1", tags=("int8", "pi5")))
    open_store(db).put(record)
    with closing(sqlite3.connect(db)) as con:
        row = con.execute("SELECT scenario, spec_hash, sweep_id, tags FROM runs").fetchone()
        plan = " ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN SELECT id FROM runs WHERE sweep_id = 'sw1'"))
        assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    assert row == ("loop", record.spec_hash, "sw1", '["int8", "pi5"]')
    assert "USING INDEX runs_sweep" in plan  # a sweep's --resume query does not scan every record


def test_records_are_immutable_in_the_store(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    rec = make_record()
    store.put(rec)
    with pytest.raises(RecordExists, match="immutable"):
        store.put(replace(rec, status="failed"))
    assert store.get(rec.id) == rec
    assert not list(tmp_path.glob("*unsaved*"))  # a duplicate is not a record to rescue


def test_wal_mode_and_missing_id(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    mode = sqlite3.connect(tmp_path / "r.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    with pytest.raises(StoreError, match="no result"):
        store.get("nope")
    with pytest.raises(StoreError, match="no result"):
        store.get("%")  # LIKE wildcards are escaped


def test_a_negative_limit_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    store.put(make_record())
    with pytest.raises(ValueError, match="limit"):
        store.rows(-1)  # sqlite would read -1 as "everything"


def test_a_non_database_file_is_refused_and_left_intact(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my precious notes")
    for read_only in (False, True):
        with pytest.raises(StoreError, match="cannot open"):
            SQLiteStore(path, read_only=read_only)
    assert path.read_text() == "my precious notes"


def test_another_applications_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with closing(sqlite3.connect(path)) as con:
        con.execute("CREATE TABLE contacts (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an edgebench results database"):
        open_store(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_store_schema_is_refused(tmp_path: Path, read_only: bool) -> None:
    db = tmp_path / "r.db"
    fill(db, 1)
    with closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA user_version = 3")
    with pytest.raises(StoreError, match="store schema 3; this edgebench knows up to 2") as info:
        open_store(db, read_only=read_only)
    assert info.value.hint and "upgrade edgebench" in info.value.hint


def test_open_store_looks_the_store_up_in_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebench import registry

    asked: list[tuple[str, str]] = []
    real_load = registry.load

    def spy(group: str, name: str) -> Any:
        asked.append((group, name))
        return real_load(group, name)

    monkeypatch.setattr(registry, "load", spy)
    store = open_store(str(tmp_path / "r.db"))  # str paths are accepted
    assert asked == [("edgebench.stores", "sqlite")]
    assert isinstance(store, SQLiteStore) and store.path == tmp_path / "r.db"


def test_a_reader_never_creates_anything(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "results.db"
    with pytest.raises(StoreError, match=f"no results database at {db}") as info:
        open_store(db, read_only=True)
    assert info.value.hint and "edgebench bench" in info.value.hint
    assert not db.parent.exists()


def test_a_reader_cannot_write(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    fill(db, 1)
    reader = SQLiteStore(db, read_only=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader._connect().execute("DELETE FROM runs")  # mode=ro: sqlite itself refuses
    assert reader.count() == 1


def test_an_empty_file_reads_as_an_empty_store(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    db.touch()
    reader = open_store(db, read_only=True)
    assert reader.count() == 0 and reader.rows() == [] and reader.latest_platform("h") is None
    assert db.stat().st_size == 0  # and it stays a file nobody initialised


def _insert_raw(db: Path, record_id: str, text: str) -> None:
    with closing(sqlite3.connect(db)) as con:
        con.execute(
            "INSERT INTO runs (id, created_at, schema_version, status, model, backend, hostname, record_json) "
            "VALUES (?, '2027-01-01T00:00:00Z', 1, 'ok', 'm', 'b', 'h', ?)",
            (record_id, text),
        )
        con.commit()


def test_unreadable_records_are_named(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    good = fill(db, 2)
    _insert_raw(db, "bad-json", "{not json")
    _insert_raw(db, "bad-version", json.dumps({**json.loads(GOLDEN_V1.read_text()), "schema_version": 99}))
    store = open_store(db, read_only=True)
    stored = store.read()
    assert stored.records == good[::-1]
    assert {u.id for u in stored.unreadable} == {"bad-json", "bad-version"}
    assert any("schema version 99" in u.reason for u in stored.unreadable)
    with pytest.raises(SchemaError, match=r"record bad-(json|version) in .* cannot be read"):
        store.list()
    assert len(store.rows()) == 4  # listing reads the indexed columns only


def test_platform_records_are_new_rows(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    assert store.latest_platform("h") is None
    first = store.put_platform({"hostname": "h", "created_at": "2026-01-01T00:00:00Z", "x": 1})
    second = store.put_platform({"hostname": "h", "created_at": "2026-01-02T00:00:00Z", "x": 2})
    assert first != second
    latest = store.latest_platform("h")
    assert latest is not None and latest["x"] == 2 and latest["id"] == second
    with pytest.raises(StoreError, match=f"platform record {first} already exists"):
        store.put_platform({"id": first, "hostname": "h", "created_at": "2026-01-03T00:00:00Z", "x": 3})
    with closing(sqlite3.connect(tmp_path / "r.db")) as con:
        kept = con.execute("SELECT report_json FROM platforms WHERE id = ?", (first,)).fetchone()[0]
    assert json.loads(kept)["x"] == 1  # the first characterization was not replaced


def test_import_record_is_idempotent_and_refuses_a_different_record(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    record = make_record()
    assert store.import_record(record) is True
    assert store.import_record(record) is False
    with pytest.raises(StoreError, match="different record"):
        store.import_record(replace(record, status="failed"))


def test_read_records_file_accepts_one_record_or_a_list(tmp_path: Path) -> None:
    one, many = tmp_path / "one.json", tmp_path / "many.json"
    records = [make_record(0), failed_record(1)]
    one.write_text(GOLDEN_V1.read_text())
    many.write_text(to_json(records))
    assert [r.id for r in read_records_file(one)] == ["0000golden00"]
    assert read_records_file(many) == records
    many.write_text(json.dumps([1]))
    with pytest.raises(SchemaError, match="item 0 is not a record"):
        read_records_file(many)
    one.write_text("{")
    with pytest.raises(SchemaError, match="is not JSON"):
        read_records_file(one)


def _v1_database(db: Path, records: list[RunRecord], *, raw: dict[str, str] | None = None) -> sqlite3.Connection:
    """A database as edgebench 0.1 wrote it, with its last commits still in the WAL.

    Returns the connection that keeps them there (close it to let sqlite checkpoint).
    """
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.executescript(V1_DDL)
    golden = json.loads(GOLDEN_V1.read_text())
    # make_record changes only id and created_at, so this v1 JSON loads as exactly that record
    texts = {r.id: json.dumps({**golden, "id": r.id, "created_at": r.created_at}) for r in records}
    for record_id, text in {**texts, **(raw or {})}.items():
        con.execute(
            "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)",
            (record_id, "2026-01-01T00:00:00Z", 1, "ok", "efficientnet-lite0", "fake", "edge-box", 1e-3, 1e3, text),
        )
    con.execute("INSERT INTO platforms VALUES ('p1', '2026-01-01T00:00:00Z', 'edge-box', '{\"x\": 1}')")
    con.commit()
    return con


def test_a_v1_database_is_migrated_in_place_after_a_backup(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    v1 = [make_record(i) for i in range(3)]
    keeper = _v1_database(db, v1, raw={"broken": "{oops"})
    assert (tmp_path / "results.db-wal").stat().st_size > 0  # commits not yet in the main file

    store = open_store(db)

    backup = tmp_path / "results.db.v1-backup"
    with closing(sqlite3.connect(backup)) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 4  # WAL content included
        assert con.execute("PRAGMA user_version").fetchone()[0] == 0
        assert "spec_hash" not in {row[1] for row in con.execute("PRAGMA table_info(runs)")}
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 2
        migrated = dict(con.execute("SELECT id, spec_hash FROM runs").fetchall())
        raw_json = con.execute("SELECT record_json FROM runs WHERE id = ?", (v1[0].id,)).fetchone()[0]
    assert json.loads(raw_json)["schema_version"] == 1  # records are never rewritten, only read as v2
    assert migrated == {**{r.id: r.spec_hash for r in v1}, "broken": ""}  # a bad row does not block it
    assert store.get(v1[1].id) == v1[1]
    assert [r.spec_hash for r in store.rows()][1:] == [r.spec_hash for r in v1[::-1]]
    assert store.latest_platform("edge-box") == {"x": 1, "id": "p1"}
    keeper.close()

    open_store(db).put(make_record(9))  # the next writer neither migrates nor backs up again
    assert sorted(p.name for p in tmp_path.glob("results.db.v*")) == ["results.db.v1-backup"]
    assert integrity(db) == "ok" and integrity(backup) == "ok"


def test_a_reader_reads_a_v1_database_without_migrating_it(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    v1 = [make_record(i) for i in range(2)]
    _v1_database(db, v1).close()
    before = db.read_bytes()
    reader = open_store(db, read_only=True)
    assert [r.id for r in reader.rows()] == [v1[1].id, v1[0].id]
    assert reader.rows()[0].spec_hash == "" and reader.get(v1[0].id) == v1[0]
    assert db.read_bytes() == before and not list(tmp_path.glob("*backup*"))


def test_an_existing_backup_is_never_overwritten(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    (tmp_path / "results.db.v1-backup").write_text("an older backup")
    _v1_database(db, [make_record()]).close()
    open_store(db)
    assert (tmp_path / "results.db.v1-backup").read_text() == "an older backup"
    assert integrity(tmp_path / "results.db.v1-backup-2") == "ok"


def test_exports() -> None:
    recs = [make_record(0), failed_record(1)]
    header, *lines = to_csv(recs).strip().splitlines()
    assert header.split(",") == list(CSV_COLUMNS)
    assert len(lines) == 2
    assert [r["id"] for r in json.loads(to_json(recs))] == [r.id for r in recs]
