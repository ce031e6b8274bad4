"""SQLite store: one row per record, the full record as JSON plus a few indexed columns.

WAL mode so a reader (``results list``) never blocks a writer; every record is committed the
moment it exists, in its own short connection, so a later crash loses nothing already measured and
a long benchmark holds no lock. Records are immutable: ``put`` refuses to overwrite an id, and a
record the database cannot take goes to a side file (see :mod:`edgebench.stores.sidefile`).

Readers open the file with ``mode=ro`` and never write, so a read-only file or medium still lists.
Every sqlite3.DatabaseError leaves as a StoreError (:mod:`edgebench.stores._errors`).
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.errors import SchemaError, StoreError
from edgebench.records import RunRecord, new_record_id, record_from_json, record_to_json, utc_now
from edgebench.stores._errors import corrupt, describe, is_duplicate_key, primary_code
from edgebench.stores._schema import EMPTY, STORE_SCHEMA_VERSION, detect, ensure_current, index_columns
from edgebench.stores.sidefile import save_unsaved

# quick_check reads every page: cheap up to here (tens of ms), skipped above. Corruption in a larger
# database still surfaces as a translated error the moment a damaged page is read.
QUICK_CHECK_MAX_BYTES = 64 * 1024**2

_RUN_COLUMNS = (
    "id, created_at, schema_version, status, model, backend, hostname, latency_median_s, throughput_ips, "
    "record_json, scenario, spec_hash, sweep_id, tags"
)
_ROW_COLUMNS = {  # what `results list` reads; a v1 database (read-only, not migrated) lacks the last two
    1: "id, created_at, status, model, backend, hostname, latency_median_s, throughput_ips, NULL, ''",
    2: "id, created_at, status, model, backend, hostname, latency_median_s, throughput_ips, scenario, spec_hash",
}
_NEWEST_FIRST = "ORDER BY created_at DESC, id DESC LIMIT ?"


class RecordExists(StoreError):
    """The id is already stored; records are immutable, so this is never a reason for a side file."""


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
    scenario: str | None
    spec_hash: str


@dataclass(frozen=True)
class Unreadable:
    """A stored row whose record cannot be loaded (malformed JSON, unknown schema version)."""

    id: str
    reason: str


@dataclass(frozen=True)
class StoredRecords:
    records: list[RunRecord]
    unreadable: list[Unreadable]


class SQLiteStore:
    """The results database at ``path``; ``read_only`` opens it without ever writing (``mode=ro``)."""

    def __init__(self, path: Path | str, *, read_only: bool = False, timeout_s: float = 30.0) -> None:
        self.path = Path(path).expanduser()
        self.read_only = read_only
        self.timeout_s = timeout_s  # how long a write waits for another writer's lock
        self._immutable = False  # set for read-only media, where sqlite cannot create the WAL index
        self._schema = self._open()

    # -- opening ---------------------------------------------------------------------------------

    def _open(self) -> int:
        if self.path.is_dir():
            raise StoreError(f"results database {self.path} is a directory", hint="pass a file path with --db")
        if self.read_only and not self.path.exists():
            raise StoreError(
                f"no results database at {self.path}", hint="run `edgebench bench` to record one, or pass --db"
            )
        if not self.read_only:
            self._make_folder()
        with self._translated():
            if not self.read_only:
                ensure_current(self._connect, self.path)
            return self._inspect() if not self.read_only else self._inspect_read_only()

    def _make_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create results database {self.path}: {exc.strerror}", hint="pass a writable path with --db"
            ) from exc

    def _inspect_read_only(self) -> int:
        try:
            return self._inspect()
        except sqlite3.OperationalError as exc:
            # A WAL database on a read-only medium: sqlite cannot create the -shm index. Reading it as
            # immutable is exact only when no -wal holds commits that are not in the main file yet.
            if primary_code(exc) != "SQLITE_CANTOPEN" or _size(self._wal) > 0:
                raise
            self._immutable = True
            return self._inspect()

    def _inspect(self) -> int:
        with closing(self._connect()) as con:
            version = detect(con, self.path)
            if _size(self.path) + _size(self._wal) <= QUICK_CHECK_MAX_BYTES:
                problems = [row[0] for row in con.execute("PRAGMA quick_check(5)")]
                if problems != ["ok"]:
                    raise corrupt(self.path, _first_problem(problems))
        return version

    @property
    def _wal(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are the explicit BEGIN IMMEDIATE … COMMIT below.
        if not self.read_only:
            return sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        uri = self.path.absolute().as_uri() + ("?mode=ro&immutable=1" if self._immutable else "?mode=ro")
        return sqlite3.connect(uri, uri=True, timeout=self.timeout_s, isolation_level=None)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise describe(exc, self.path, timeout_s=self.timeout_s) from exc

    # -- writing ---------------------------------------------------------------------------------

    def put(self, record: RunRecord) -> None:
        """Store a new record. If the database refuses it, save it to a side file and raise saying where."""
        try:
            self._insert(record)
        except RecordExists:
            raise
        except StoreError as exc:
            raise self._saved_aside(record, exc) from exc

    def import_record(self, record: RunRecord) -> bool:
        """Store a record read from a file: True if added, False if this very record is already stored."""
        try:
            self._insert(record)
        except RecordExists:
            if self.get(record.id) != record:
                raise StoreError(
                    f"a different record with id {record.id} is already stored; records are immutable",
                    hint="compare both with `edgebench results show --json`",
                ) from None
            return False
        return True

    def _insert(self, record: RunRecord) -> None:
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
            *index_columns(record),
        )
        sql = f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({', '.join('?' * len(row))})"
        self._write(sql, row, exists=f"record {record.id} already exists; records are immutable")

    def _saved_aside(self, record: RunRecord, exc: StoreError) -> StoreError:
        try:
            saved = save_unsaved(record, self.path)
        except StoreError as nowhere:
            return StoreError(f"record {record.id} was not stored: {exc.message}; {nowhere.message}", hint=nowhere.hint)
        recover = f"`edgebench results import {saved}` adds the record once the database works"
        return StoreError(
            f"record {record.id} was not stored: {exc.message}; it was saved to {saved}",
            hint=f"{exc.hint}; {recover}" if exc.hint else recover,
        )

    def put_platform(self, report: Mapping[str, Any]) -> str:
        """Store a platform report (edgebench.platform) as a new row and return its id; ids are never reused."""
        record_id = str(report.get("id") or new_record_id())
        hostname = str(report.get("hostname") or _nested(report, "system", "hostname") or "unknown")
        created = str(report.get("created_at") or utc_now())
        self._write(
            "INSERT INTO platforms (id, created_at, hostname, report_json) VALUES (?, ?, ?, ?)",
            (record_id, created, hostname, json.dumps(dict(report), allow_nan=False)),
            exists=f"platform record {record_id} already exists; platform records are immutable",
        )
        return record_id

    def _write(self, sql: str, params: Sequence[object], *, exists: str) -> None:
        with self._translated(), closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")  # take the write lock now: waits at most timeout_s, then fails
            try:
                con.execute(sql, params)
                con.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                with suppress(sqlite3.Error):
                    con.rollback()
                if is_duplicate_key(exc):
                    raise RecordExists(exists, hint="records are never overwritten") from exc
                raise
            except BaseException:
                with suppress(sqlite3.Error):  # the first error is the one to report
                    con.rollback()
                raise

    # -- reading ---------------------------------------------------------------------------------

    def get(self, record_id: str) -> RunRecord:
        """The record with this id, or with this unique id prefix."""
        rows = self._query(
            "SELECT id, record_json FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id", (_escape_like(record_id) + "%",)
        )
        if not rows:
            raise StoreError(f"no result with id {record_id!r} in {self.path}", hint="see `edgebench results list`")
        exact = [r for r in rows if r[0] == record_id]
        if len(rows) > 1 and not exact:
            raise StoreError(f"id prefix {record_id!r} is ambiguous ({len(rows)} matches)", hint="give more characters")
        return self._load(*(exact or rows)[0])

    def list(self, limit: int | None = None) -> builtins.list[RunRecord]:
        """Newest first; raises SchemaError naming the first record that cannot be loaded."""
        rows = self._query(f"SELECT id, record_json FROM runs {_NEWEST_FIRST}", (_sql(limit),))
        return [self._load(*r) for r in rows]

    def read(self, limit: int | None = None) -> StoredRecords:
        """Newest first, like :meth:`list`, but an unreadable record is reported instead of raised."""
        records: builtins.list[RunRecord] = []
        unreadable: builtins.list[Unreadable] = []
        for record_id, text in self._query(f"SELECT id, record_json FROM runs {_NEWEST_FIRST}", (_sql(limit),)):
            try:
                records.append(self._load(record_id, text))
            except SchemaError as exc:
                unreadable.append(Unreadable(record_id, exc.message))
        return StoredRecords(records, unreadable)

    def rows(self, limit: int | None = None) -> builtins.list[RunRow]:
        columns = _ROW_COLUMNS.get(self._schema, _ROW_COLUMNS[STORE_SCHEMA_VERSION])
        return [RunRow(*r) for r in self._query(f"SELECT {columns} FROM runs {_NEWEST_FIRST}", (_sql(limit),))]

    def count(self) -> int:
        rows = self._query("SELECT count(*) FROM runs")
        return int(rows[0][0]) if rows else 0

    def find(
        self,
        *,
        sweep_id: str | None = None,
        sweep_prefix: str | None = None,
        spec_hashes: Sequence[str] | None = None,
        status: str | None = None,
    ) -> builtins.list[RunRecord]:
        """Records by the indexed columns (sweeps, compare, --resume), newest first; None = any."""
        if self._schema < 2:  # a v1 database (read-only, not migrated) has no sweep/spec columns
            return [r for r in self.list() if _found(r, sweep_id, sweep_prefix, spec_hashes, status)]
        where, params = _find_clauses(sweep_id, sweep_prefix, spec_hashes, status)
        sql = f"SELECT id, record_json FROM runs{where} ORDER BY created_at DESC, id DESC"
        return [self._load(*r) for r in self._query(sql, params)]

    def latest_platform(self, hostname: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT id, report_json FROM platforms WHERE hostname = ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (hostname,),
        )
        if not rows:
            return None
        data: dict[str, Any] = json.loads(rows[0][1])
        data.setdefault("id", rows[0][0])
        return data

    def _query(self, sql: str, params: Sequence[object] = ()) -> builtins.list[tuple[Any, ...]]:
        if self._schema == EMPTY:  # an empty file opened read-only: no tables yet, so nothing stored
            return []
        with self._translated(), closing(self._connect()) as con:
            return con.execute(sql, params).fetchall()

    def _load(self, record_id: str, text: str) -> RunRecord:
        try:
            return record_from_json(text)
        except SchemaError as exc:
            message = f"record {record_id} in {self.path} cannot be read: {exc.message}"
            raise SchemaError(message, hint=exc.hint) from exc


def _sql(limit: int | None) -> int:
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")  # sqlite would read -1 as "no limit"
    return -1 if limit is None else limit


def _first_problem(problems: builtins.list[str]) -> str:
    """quick_check's report in one line: the first problem, and how many more it found (up to its limit)."""
    lines = [line for text in problems for line in text.splitlines() if line and not line.startswith("***")]
    more = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
    return f"{lines[0]}{more}" if lines else "quick_check failed"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _nested(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _find_clauses(
    sweep_id: str | None, sweep_prefix: str | None, spec_hashes: Sequence[str] | None, status: str | None
) -> tuple[str, builtins.list[object]]:
    clauses: builtins.list[str] = []
    params: builtins.list[object] = []
    if sweep_id is not None:
        clauses.append("sweep_id = ?")
        params.append(sweep_id)
    if sweep_prefix is not None:
        clauses.append("sweep_id LIKE ? ESCAPE '\\'")
        params.append(_escape_like(sweep_prefix) + "%")
    if spec_hashes is not None:
        clauses.append(f"spec_hash IN ({', '.join('?' * len(spec_hashes))})" if spec_hashes else "0")
        params.extend(spec_hashes)
    if status is not None:
        clauses.append("status = ?")
        params.append(status)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _found(
    record: RunRecord,
    sweep_id: str | None,
    sweep_prefix: str | None,
    spec_hashes: Sequence[str] | None,
    status: str | None,
) -> bool:
    sweep = record.spec.sweep_id
    return (
        (sweep_id is None or sweep == sweep_id)
        and (sweep_prefix is None or (sweep or "").startswith(sweep_prefix))
        and (spec_hashes is None or record.spec_hash in spec_hashes)
        and (status is None or record.status == status)
    )
