"""Files around the database: atomic writes, side files for records the database refused, reading them back.

A record is the product of minutes of measuring; when the database cannot take it (corrupt, locked,
disk full, read-only) it goes to a side file instead, and ``edgebench results import`` brings it back.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

from edgebench.errors import SchemaError, StoreError
from edgebench.records import RunRecord, record_from_dict, record_to_json


def user_data_path() -> Path:
    """The per-user data folder: the default database lives here, and side files when its folder refuses them."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("edgebench"))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, renamed over it once complete.

    Readers see the old file or the new one, never half of one; the temporary never outlives a failure.
    Raises OSError.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666 & umask, like a plain open()
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_unsaved(record: RunRecord, db_path: Path) -> Path:
    """Save ``record`` as JSON next to the database, else in the user data dir, else in a fresh temp dir.

    Returns where it went; raises StoreError naming every place that refused it.
    """
    text = record_to_json(record, indent=1) + "\n"
    refused: list[str] = []
    for target in _side_file_candidates(record.id, db_path):
        try:
            write_text_atomic(target, text)
            return target
        except OSError as exc:
            refused.append(f"{target.parent}: {exc.strerror or exc}")
    raise StoreError(
        f"no side file could be written either ({'; '.join(refused)})",
        hint="free some space or rerun with --json to keep the record on stdout",
    )


def _side_file_candidates(record_id: str, db_path: Path) -> Iterator[Path]:
    name = re.sub(r"[^A-Za-z0-9_-]", "_", record_id)
    # Next to the database first, where whoever looks at the database will see it. Its folder is not
    # created: if it vanished (an unplugged card), recreating it would write into the bare mount point.
    yield db_path.parent / f"{db_path.name}.unsaved-{name}.json"
    fallback = user_data_path() / "unsaved"
    try:
        fallback.mkdir(parents=True, exist_ok=True)
        yield fallback / f"{name}.json"
    except OSError:
        pass
    with suppress(OSError):
        yield Path(tempfile.mkdtemp(prefix="edgebench-unsaved-")) / f"{name}.json"  # private, unguessable


def read_records_file(path: Path) -> list[RunRecord]:
    """The records in a side file, a ``bench --json`` output or a ``results export --format json`` list."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise StoreError(f"cannot read {path}: {reason}", hint="give a record JSON file") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"{path} is not JSON: {exc.msg} at line {exc.lineno}"
        raise SchemaError(message, hint="give a record JSON file") from exc
    items = data if isinstance(data, list) else [data]
    return [_record_at(path, n, item, many=isinstance(data, list)) for n, item in enumerate(items)]


def _record_at(path: Path, n: int, item: object, *, many: bool) -> RunRecord:
    where = f"{path} item {n}" if many else str(path)
    if not isinstance(item, dict):
        raise SchemaError(f"{where} is not a record (a JSON object)", hint="give a record JSON file")
    try:
        return record_from_dict(item)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc.message}", hint=exc.hint) from exc
