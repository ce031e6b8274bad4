"""sqlite3 exceptions → one StoreError that names the database, says what went wrong and what to do.

Every sqlite3.DatabaseError raised by the store passes through :func:`describe`, so no user ever
sees a sqlite traceback (ARCHITECTURE rule 7). The primary result code decides the wording; the
text sqlite gives is kept in parentheses for bug reports.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from edgebench.errors import StoreError

_OTHER_DB = "pass another file with --db"


def describe(exc: sqlite3.Error, path: Path, *, timeout_s: float) -> StoreError:
    """The StoreError a user should see for ``exc`` raised on the database at ``path``."""
    code = primary_code(exc)
    if code == "SQLITE_CORRUPT":
        return corrupt(path, str(exc))
    if code == "SQLITE_NOTADB":
        return StoreError(
            f"cannot open results database {path}: not an SQLite database, or its header is corrupt",
            hint=f"{_OTHER_DB}; the file was left untouched",
        )
    if code in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return StoreError(
            f"results database {path} is locked by another process (waited {timeout_s:g} s)",
            hint="let the other edgebench or sqlite3 session finish, then retry",
        )
    if code == "SQLITE_FULL":
        return StoreError(f"disk full while writing results database {path}", hint="free some space, then retry")
    if code == "SQLITE_READONLY":
        return StoreError(f"results database {path} is read-only", hint=f"make it writable or {_OTHER_DB}")
    if code == "SQLITE_CANTOPEN" and _on_read_only_fs(path):
        return StoreError(f"results database {path} is on a read-only file system", hint=_OTHER_DB)
    if code == "SQLITE_CANTOPEN":
        return StoreError(f"cannot open results database {path} ({exc})", hint=f"check the path or {_OTHER_DB}")
    if code == "SQLITE_IOERR":
        return StoreError(
            f"I/O error on results database {path} ({exc})",
            hint="the disk may be full, failing or unplugged: check it, then retry",
        )
    return StoreError(f"results database {path} failed: {exc} ({code or 'sqlite error'})", hint=_OTHER_DB)


def _on_read_only_fs(path: Path) -> bool:
    # sqlite says only "unable to open" when it cannot create the WAL index on a read-only mount.
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def corrupt(path: Path, detail: str) -> StoreError:
    backups = sorted(path.parent.glob(f"{path.name}.v*-backup*"))
    restore = f"restore {backups[-1]}" if backups else "restore it from a backup"
    return StoreError(
        f"results database {path} is corrupt ({detail})",
        hint=f"{restore} or {_OTHER_DB}; `sqlite3 {path} .recover` may salvage records",
    )


# sqlite's fixed English text per primary code: Python 3.10 has no ``sqlite_errorname`` to read.
_MESSAGES = {
    "database disk image is malformed": "SQLITE_CORRUPT",
    "file is not a database": "SQLITE_NOTADB",
    "database is locked": "SQLITE_BUSY",
    "database table is locked": "SQLITE_LOCKED",
    "database or disk is full": "SQLITE_FULL",
    "attempt to write a readonly database": "SQLITE_READONLY",
    "unable to open database file": "SQLITE_CANTOPEN",
    "disk I/O error": "SQLITE_IOERR",
}


def primary_code(exc: sqlite3.Error) -> str:
    """``SQLITE_IOERR_WRITE`` → ``SQLITE_IOERR``: the extended codes only refine the primary one."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    if name:
        return "_".join(name.split("_")[:2])
    return next((code for text, code in _MESSAGES.items() if str(exc).startswith(text)), "")


def is_duplicate_key(exc: sqlite3.IntegrityError) -> bool:
    """A primary-key clash (the id is taken), as opposed to any other constraint."""
    name = getattr(exc, "sqlite_errorname", None)
    if name:
        return bool(name == "SQLITE_CONSTRAINT_PRIMARYKEY")
    return str(exc).startswith("UNIQUE constraint failed") and str(exc).endswith(".id")
