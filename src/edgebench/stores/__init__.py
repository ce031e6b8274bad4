"""Result stores. SQLite is the default; the store may live on another machine than the one measuring."""

from __future__ import annotations

from pathlib import Path

from edgebench.stores.sqlite import SQLiteStore


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("edgebench")) / "results.db"


def open_store(db_path: Path | None = None) -> SQLiteStore:
    """Open (creating if needed) the results database at ``db_path`` or the user data dir."""
    return SQLiteStore(db_path or default_db_path())


__all__ = ["SQLiteStore", "default_db_path", "open_store"]
