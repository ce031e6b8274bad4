"""The results database's own schema, tracked with ``PRAGMA user_version``, and its in-place migration.

Store schema versions (independent of the record schema, which lives in each record's JSON):

* 1 — the original tables; databases written then carry ``user_version`` 0.
* 2 — ``runs`` gains ``scenario``, ``spec_hash``, ``sweep_id`` and ``tags`` (JSON text), indexed for
  sweeps (which specs of sweep X are done?) and comparisons (every run of one spec).

A writer migrates an older database in place, inside one transaction, after a backup copy made with
sqlite's backup API (which reads through the WAL, so committed-but-not-checkpointed records are in it).
Records themselves are never rewritten: their JSON stays as written and is migrated on load.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from edgebench.errors import SchemaError, StoreError
from edgebench.records import RunRecord, record_from_json

STORE_SCHEMA_VERSION = 2
EMPTY = 0  # a database file with no tables yet

_RUNS_V1 = """CREATE TABLE IF NOT EXISTS runs (
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
)"""
_PLATFORMS = """CREATE TABLE IF NOT EXISTS platforms (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    hostname TEXT NOT NULL,
    report_json TEXT NOT NULL
)"""
_V1_INDEXES = (
    "CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at)",
    "CREATE INDEX IF NOT EXISTS platforms_host ON platforms(hostname, created_at)",
)
# Columns added by v2, appended so a migrated and a fresh database have the same column order.
_V2_COLUMNS = (
    "ALTER TABLE runs ADD COLUMN scenario TEXT",
    "ALTER TABLE runs ADD COLUMN spec_hash TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE runs ADD COLUMN sweep_id TEXT",
    "ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
)
_V2_INDEXES = (
    "CREATE INDEX IF NOT EXISTS runs_spec_hash ON runs(spec_hash)",
    "CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep_id, spec_hash)",
)

Connect = Callable[[], sqlite3.Connection]


def index_columns(record: RunRecord) -> tuple[str, str, str | None, str]:
    """``(scenario, spec_hash, sweep_id, tags)`` of a record, as stored in the v2 columns."""
    scenario = record.scenario.name if record.scenario else record.spec.scenario
    return scenario, record.spec_hash, record.spec.sweep_id, json.dumps(list(record.spec.tags))


def detect(con: sqlite3.Connection, path: Path) -> int:
    """The store schema version of an open database; refuses newer and foreign databases."""
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    if version > STORE_SCHEMA_VERSION or version < 0:
        raise StoreError(
            f"results database {path} has store schema {version}; this edgebench knows up to {STORE_SCHEMA_VERSION}",
            hint="upgrade edgebench, or pass another file with --db",
        )
    if version:
        return version
    tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "runs" in tables:
        return 1  # written before user_version was tracked
    if tables:
        raise StoreError(
            f"{path} is an SQLite database but not an edgebench results database (tables: {', '.join(sorted(tables))})",
            hint="pass another file with --db; the file was left untouched",
        )
    return EMPTY


def ensure_current(connect: Connect, path: Path) -> None:
    """Create or migrate the schema so that a writer finds version 2; a no-op (no lock) when it is already."""
    with closing(connect()) as con:
        if detect(con, path) == STORE_SCHEMA_VERSION:
            return
        if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # WAL so a reader (`results list`) never blocks a writer; must be set outside a transaction.
            con.execute("PRAGMA journal_mode=WAL")
        con.execute("BEGIN IMMEDIATE")
        try:
            _upgrade(con, connect, path)
            con.execute(f"PRAGMA user_version = {STORE_SCHEMA_VERSION}")
            con.execute("COMMIT")
        except BaseException:
            con.rollback()
            raise


def _upgrade(con: sqlite3.Connection, connect: Connect, path: Path) -> None:
    # Checked again under the write lock: another writer may have migrated while we waited.
    version = detect(con, path)
    if version == EMPTY:
        for statement in (_RUNS_V1, _PLATFORMS, *_V1_INDEXES, *_V2_COLUMNS, *_V2_INDEXES):
            con.execute(statement)
    elif version == 1:
        backup(connect, path, version)
        for statement in (_PLATFORMS, *_V1_INDEXES, *_V2_COLUMNS, *_V2_INDEXES):
            con.execute(statement)
        _backfill(con)


def _backfill(con: sqlite3.Connection) -> None:
    """Fill the v2 columns from each record's JSON (migrated on load); unreadable rows keep the defaults."""
    ids = [row[0] for row in con.execute("SELECT id FROM runs")]  # ids only: records can be large
    for record_id in ids:
        (text,) = con.execute("SELECT record_json FROM runs WHERE id = ?", (record_id,)).fetchone()
        try:
            columns = index_columns(record_from_json(text))
        except SchemaError:
            continue  # `results export` names it later; a bad record must not block the migration
        con.execute(
            "UPDATE runs SET scenario = ?, spec_hash = ?, sweep_id = ?, tags = ? WHERE id = ?", (*columns, record_id)
        )


def backup(connect: Connect, path: Path, version: int) -> Path:
    """Copy the database to ``<name>.v<version>-backup`` (first free name) with sqlite's backup API.

    A separate connection reads while the caller holds the write lock, so the copy is exactly the
    state being migrated. Written under a temporary name first: a half-made copy never looks like a backup.
    """
    target = _free_name(path.with_name(f"{path.name}.v{version}-backup"))
    partial = target.with_name(target.name + ".partial")
    try:
        with closing(connect()) as source, closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        os.replace(partial, target)
    except (OSError, sqlite3.DatabaseError) as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(
            f"cannot back up results database {path} to {target} before migrating it: {exc}",
            hint="free some space or make the folder writable; the database was left untouched",
        ) from exc
    return target


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate
