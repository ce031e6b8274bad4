"""Result stores, looked up by name in the ``edgebench.stores`` entry-point group like backends.

SQLite is the default; the store may live on another machine than the one measuring. See the
"Results database" section of docs/records.md for the schema, migration and failure behaviour.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from edgebench.records import RunRecord
from edgebench.stores.sidefile import read_records_file, save_unsaved, user_data_path, write_text_atomic
from edgebench.stores.sqlite import RecordExists, RunRow, SQLiteStore, StoredRecords, Unreadable

DEFAULT_STORE = "sqlite"


class ResultsStore(Protocol):
    """What the CLI needs of a store: the Store protocol (put/get/list) plus listing, import and platforms."""

    path: Path

    def put(self, record: RunRecord) -> None: ...

    def get(self, record_id: str) -> RunRecord: ...

    def list(self, limit: int | None = None) -> builtins.list[RunRecord]: ...

    def read(self, limit: int | None = None) -> StoredRecords: ...

    def rows(self, limit: int | None = None) -> builtins.list[RunRow]: ...

    def count(self) -> int: ...

    def import_record(self, record: RunRecord) -> bool: ...

    def put_platform(self, report: Any) -> str: ...

    def latest_platform(self, hostname: str) -> dict[str, Any] | None: ...


def default_db_path() -> Path:
    return user_data_path() / "results.db"


def open_store(db_path: Path | str | None = None, *, read_only: bool = False) -> ResultsStore:
    """Open the results database at ``db_path`` (default: the user data dir).

    A writer creates it if needed and migrates an older one in place (after a backup copy); a reader
    (``read_only=True``) never writes and refuses a missing file instead of creating it.
    """
    from edgebench import registry

    store_cls = registry.load("edgebench.stores", DEFAULT_STORE)
    store: ResultsStore = store_cls(Path(db_path) if db_path else default_db_path(), read_only=read_only)
    return store


__all__ = [
    "DEFAULT_STORE",
    "RecordExists",
    "ResultsStore",
    "RunRow",
    "SQLiteStore",
    "StoredRecords",
    "Unreadable",
    "default_db_path",
    "open_store",
    "read_records_file",
    "save_unsaved",
    "write_text_atomic",
]


class AttachingStore:
    """A store whose ``put`` first adds what the caller knows to the record (records are immutable, and a
    stored one is never rewritten): ``bench --data`` attaches accuracy, ``deploy`` the conversion."""

    def __init__(self, inner: Any, attach: Callable[[RunRecord], RunRecord]) -> None:
        self._inner, self._attach = inner, attach

    def put(self, record: RunRecord) -> None:
        self._inner.put(self._attach(record))

    def get(self, record_id: str) -> RunRecord:
        return self._inner.get(record_id)  # type: ignore[no-any-return]

    def list(self, limit: int | None = None) -> builtins.list[RunRecord]:
        return self._inner.list(limit)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:  # platform look-ups and the like
        return getattr(self._inner, name)


def attaching(store: Any, attach: Callable[[RunRecord], RunRecord]) -> Any:
    """Wrap ``store`` — None, a store, or a factory of one (opened after validation) — in :class:`AttachingStore`."""
    if store is None:
        return None
    if callable(store) and not hasattr(store, "put"):
        return lambda: AttachingStore(store(), attach)
    return AttachingStore(store, attach)
