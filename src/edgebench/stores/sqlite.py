"""SQLite store: one row per record, the full record as JSON plus a few indexed columns.

WAL mode so a reader (``results list``) never blocks a writer; every record is committed the
moment it exists, so a later crash loses nothing already measured. Records are immutable:
``put`` refuses to overwrite an id.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.errors import StoreError
from edgebench.records import RunRecord, new_record_id, record_from_json, record_to_json, utc_now

_SCHEMA = """
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


@dataclass(frozen=True)
class RunRow:
    """The indexed columns of a stored run: enough for ``results list`` without parsing JSON."""

    id: str
    created_at: str
    status: str
    model: str
    backend: str
    hostname: str
    latency_median_s: float | None
    throughput_ips: float | None


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            raise StoreError(f"results database {path} is a directory", hint="pass a file path with --db")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open results database {path}: {exc}",
                hint="pass another file with --db; the existing file was left untouched",
            ) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot create results database {path}: {exc.strerror}", hint="pass a writable path with --db"
            ) from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30)
        try:
            with con:  # commits on success, rolls back on error
                yield con
        finally:
            con.close()

    def put(self, record: RunRecord) -> None:
        s = record.summary
        row = (
            record.id,
            record.created_at,
            record.schema_version,
            record.status,
            record.spec.model,
            record.spec.backend,
            record.environment.hostname,
            s.latency_median_s if s else None,
            s.throughput_ips if s else None,
            record_to_json(record),
        )
        try:
            with self._connect() as con:
                con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)", row)
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"record {record.id} already exists; records are immutable") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot write to {self.path}: {exc}") from exc

    def get(self, record_id: str) -> RunRecord:
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, record_json FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id",
                (_escape_like(record_id) + "%",),
            ).fetchall()
        if not rows:
            raise StoreError(f"no result with id {record_id!r} in {self.path}", hint="see `edgebench results list`")
        exact = [r for r in rows if r[0] == record_id]
        if len(rows) > 1 and not exact:
            raise StoreError(f"id prefix {record_id!r} is ambiguous ({len(rows)} matches)", hint="give more characters")
        return record_from_json((exact or rows)[0][1])

    def list(self, limit: int | None = None) -> list[RunRecord]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT record_json FROM runs ORDER BY created_at DESC, id DESC LIMIT ?",
                (limit if limit is not None else -1,),
            ).fetchall()
        return [record_from_json(r[0]) for r in rows]

    def rows(self, limit: int | None = None) -> builtins.list[RunRow]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, created_at, status, model, backend, hostname, latency_median_s, throughput_ips "
                "FROM runs ORDER BY created_at DESC, id DESC LIMIT ?",
                (limit if limit is not None else -1,),
            ).fetchall()
        return [RunRow(*r) for r in rows]

    def put_platform(self, report: Mapping[str, Any]) -> str:
        """Store a platform report (edgebench.platform) and return its id."""
        record_id = str(report.get("id") or new_record_id())
        hostname = str(report.get("hostname") or _nested(report, "system", "hostname") or "unknown")
        created = str(report.get("created_at") or utc_now())
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO platforms VALUES (?,?,?,?)",
                (record_id, created, hostname, json.dumps(dict(report), allow_nan=False)),
            )
        return record_id

    def latest_platform(self, hostname: str) -> dict[str, Any] | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT id, report_json FROM platforms WHERE hostname = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                (hostname,),
            ).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[1])
        data.setdefault("id", row[0])
        return data


def _nested(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
