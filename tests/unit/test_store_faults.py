"""The results database under real faults: corrupt pages, read-only file and medium, missing folder,
a lock held by another process, disk full.

Each fault must end in one clear error, lose nothing stored before (``PRAGMA integrity_check`` is ok
and every earlier record still loads) and leave the new record recoverable from a side file.

Tests run as root here, where file modes do not stop writes. Two ways around it, both real:
* a tmpfs mounted (and remounted read-only) inside a user + mount namespace (``unshare -rm``) gives
  a genuine read-only medium and a genuinely full disk; those tests skip where namespaces are not
  allowed (many CI containers), and say so;
* the always-run variants get the same sqlite refusal without privileges: ``chmod 0444`` for a normal
  user, and for root the database opened with ``mode=ro`` (sqlite answers SQLITE_READONLY either
  way); ``RLIMIT_FSIZE`` in a subprocess makes write() fail with EFBIG, which limits root too.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from edgebench.errors import StoreError
from edgebench.records import RunRecord, record_to_json
from edgebench.reporters.tabular import to_json
from edgebench.stores import SQLiteStore, open_store, read_records_file
from tests.cli_helpers import run_cli
from tests.unit.test_store import fill, integrity, make_record

PAGE = 4096


def rescued(exc: StoreError, record: RunRecord, *, db: Path, before: list[RunRecord], reason: str) -> Path:
    """Assert the fault's one clear error and that nothing was lost; return the side file."""
    message = str(exc)
    assert "\n" not in message and reason in message, message
    found = re.search(r"it was saved to (\S+\.json)$", message)
    assert found, message
    side = Path(found.group(1))
    assert exc.hint and f"edgebench results import {side}" in exc.hint
    assert read_records_file(side) == [record]
    assert integrity(db) == "ok"
    assert open_store(db, read_only=True).list() == before[::-1]
    return side


def corrupt_pages(db: Path, first: int, count: int) -> None:
    """Overwrite ``count`` pages from page ``first`` with seeded garbage, as a failing card would."""
    with closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file, none in the WAL
    garbage = random.Random(0)
    with db.open("r+b") as f:
        for page in range(first, first + count):
            f.seek(page * PAGE)
            f.write(garbage.randbytes(PAGE))


# -- corrupt pages -------------------------------------------------------------------------------


def test_a_corrupt_database_is_refused_with_a_hint(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    fill(db, 40)
    (tmp_path / "results.db.v1-backup").write_bytes(b"")
    corrupt_pages(db, db.stat().st_size // PAGE // 3, 5)
    damaged = db.read_bytes()
    for read_only in (True, False):
        with pytest.raises(StoreError, match=r"results database .*results.db is corrupt \(.+\)") as info:
            open_store(db, read_only=read_only)
        assert info.value.hint and "restore" in info.value.hint and "results.db.v1-backup" in info.value.hint
        assert "--db" in info.value.hint
    assert db.read_bytes() == damaged  # neither the reader nor the writer made it worse


@pytest.mark.parametrize("command", [["list"], ["export"], ["export", "--format", "json"], ["show", "0190"]])
def test_results_commands_on_a_corrupt_database(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    """Before: `export` died with a sqlite3.DatabaseError traceback, `list` showed 2 of 36 records."""
    db = tmp_path / "results.db"
    fill(db, 40)
    corrupt_pages(db, db.stat().st_size // PAGE // 3, 5)
    res = run_cli(capsys, monkeypatch, "results", *command, "--db", str(db))
    assert res.code == 7 and res.out == ""
    assert res.err.startswith(f"Error: results database {db} is corrupt") and len(res.err.splitlines()) == 1


def test_corruption_after_opening_rescues_the_new_record(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    fill(db, 40)
    store = open_store(db)  # opened healthy, as `edgebench bench` does before measuring
    with closing(sqlite3.connect(db)) as con:
        (root,) = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").fetchone()
    corrupt_pages(db, root - 1, 1)  # the page every insert passes through (sqlite counts pages from 1)
    new = make_record(99)
    with pytest.raises(StoreError) as info:
        store.put(new)
    message = str(info.value)
    assert f"record {new.id} was not stored: results database {db} is corrupt" in message
    side = Path(message.rsplit("it was saved to ", 1)[1])
    assert side == tmp_path / f"results.db.unsaved-{new.id}.json"
    assert read_records_file(side) == [new]
    fresh = open_store(tmp_path / "restored.db")
    assert fresh.import_record(read_records_file(side)[0]) and fresh.get(new.id) == new


# -- read-only file and medium -------------------------------------------------------------------


def test_a_read_only_file_lists_and_a_put_is_rescued(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "results.db"
    before = fill(db, 3)
    db.chmod(0o444)
    for command in (["list"], ["show", before[0].id], ["export", "--format", "json"]):
        res = run_cli(capsys, monkeypatch, "results", *command, "--db", str(db))
        assert res.code == 0, res.err  # before: even `list` failed, it tried to create the schema
    assert [r["id"] for r in json.loads(res.out)] == [r.id for r in before[::-1]]
    # chmod stops an ordinary user's writes; root ignores file modes, so there mode=ro stands in for
    # them: both end in sqlite's SQLITE_READONLY on the write, which is the path under test.
    store = SQLiteStore(db, read_only=os.geteuid() == 0)
    new = make_record(10)
    with pytest.raises(StoreError) as info:
        store.put(new)
    rescued(info.value, new, db=db, before=before, reason=f"results database {db} is read-only")


# -- missing folder ------------------------------------------------------------------------------


def test_a_vanished_folder_is_not_recreated_and_the_record_goes_to_the_data_dir(tmp_path: Path) -> None:
    db = tmp_path / "card" / "results.db"
    before = fill(db, 3)
    store = open_store(db)
    (tmp_path / "card").rename(tmp_path / "card-moved")  # an unplugged card under a running benchmark
    new = make_record(10)
    with pytest.raises(StoreError) as info:
        store.put(new)
    side = rescued(info.value, new, db=tmp_path / "card-moved" / "results.db", before=before, reason="cannot open")
    assert side == tmp_path / "xdg-data" / "edgebench" / "unsaved" / f"{new.id}.json"
    assert not (tmp_path / "card").exists()


def test_when_no_folder_takes_a_side_file_a_fresh_temp_dir_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "data"))  # mkdir under a file fails, even for root
    db = tmp_path / "gone" / "results.db"
    store = open_store(tmp_path / "setup.db")
    store.path = db  # the database folder is gone as well
    new = make_record(1)
    with pytest.raises(StoreError) as info:
        store.put(new)
    side = Path(str(info.value).rsplit("it was saved to ", 1)[1])
    try:
        assert side.parent.parent == Path(tempfile.gettempdir()) and side.parent.name.startswith("edgebench-unsaved-")
        assert read_records_file(side) == [new]
    finally:
        shutil.rmtree(side.parent)
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))  # and now no temp dir either
    with pytest.raises(StoreError, match=r"was not stored: .*; no side file could be written either") as info:
        store.put(new)
    assert info.value.hint and "--json" in info.value.hint


# -- locked --------------------------------------------------------------------------------------


def test_a_lock_held_past_the_timeout_rescues_the_record(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "results.db"
    before = fill(db, 3)
    store = SQLiteStore(db, timeout_s=0.2)
    new = make_record(10)
    with closing(sqlite3.connect(db, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another writer (a sqlite3 shell, a second sweep) holds the lock
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            store.put(new)
        waited = time.monotonic() - started
        assert open_store(db, read_only=True).count() == 3  # readers are not blocked meanwhile
        other.execute("ROLLBACK")
    assert 0.15 < waited < 5
    side = rescued(info.value, new, db=db, before=before, reason="is locked by another process (waited 0.2 s)")
    res = run_cli(capsys, monkeypatch, "results", "import", str(side), "--db", str(db), "--remove")
    assert res.code == 0, res.err
    assert store.get(new.id) == new and not side.exists()


# -- disk full -----------------------------------------------------------------------------------

_FSIZE_CHILD = """
import json, resource, signal, sqlite3, sys
from pathlib import Path
from edgebench.errors import StoreError
from edgebench.stores import open_store, read_records_file

db, records, limit = Path(sys.argv[1]), read_records_file(Path(sys.argv[2])), int(sys.argv[3])
store = open_store(db)
keeper = sqlite3.connect(db)  # keeps the -wal/-shm files, so the write itself is what fails
keeper.execute("SELECT count(*) FROM runs").fetchone()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    store.put(records[0])
    print(json.dumps({"message": None}))
except StoreError as exc:
    print(json.dumps({"message": exc.message, "hint": exc.hint}))
"""


def test_a_file_size_limit_mid_write_rescues_the_record(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    before = fill(db, 20)
    new = make_record(50)
    (tmp_path / "new.json").write_text(record_to_json(new))
    # Room for the side file, not for the WAL frames the insert needs (several 4 KiB pages).
    limit = len(record_to_json(new, indent=1)) + 2 * PAGE
    args = [str(db), str(tmp_path / "new.json"), str(limit)]
    proc = subprocess.run([sys.executable, "-c", _FSIZE_CHILD, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["message"], "the size limit did not stop the write: the test proves nothing"
    rescued(StoreError(out["message"], hint=out["hint"]), new, db=db, before=before, reason="I/O error")


# -- a real tmpfs: read-only medium, full disk (where mount namespaces are allowed) --------------


@pytest.fixture(scope="module")
def tmpfs_allowed(tmp_path_factory: pytest.TempPathFactory) -> None:
    probe = tmp_path_factory.mktemp("probe")
    try:
        proc = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs", str(probe)], capture_output=True)
    except OSError:
        pytest.skip("no unshare(1): the read-only and disk-full variants above still ran")
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs in a user+mount namespace here: the variants above still ran")


def in_tmpfs(mount: Path, size: str, script: str, *args: str) -> dict[str, Any]:
    """Run ``script`` in a private mount namespace with a ``size`` tmpfs at ``mount`` (gone afterwards)."""
    mount.mkdir()
    shell = 'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"'
    cmd = ["unshare", "-rm", "sh", "-c", shell, "sh", size, str(mount), sys.executable, "-c", script, str(mount)]
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


_CHILD_COMMON = """
import json, sqlite3, subprocess, sys
from contextlib import closing
from pathlib import Path
from edgebench.errors import StoreError
from edgebench.stores import open_store, read_records_file

mount, records = Path(sys.argv[1]), read_records_file(Path(sys.argv[2]))
db = mount / "results.db"
store = open_store(db)

def verdict(stored, error, uri):
    with closing(sqlite3.connect(uri, uri=True)) as con:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    side = error.message.rsplit("it was saved to ", 1)[-1] if error else None
    rescued = bool(side) and Path(side).is_file() and read_records_file(Path(side)) == [records[len(stored)]]
    listed = [r.id for r in open_store(db, read_only=True).list()]
    return {"message": error and error.message, "hint": error and error.hint, "side": side, "rescued": rescued,
            "integrity": ok, "listed": listed, "stored": stored}
"""

_READ_ONLY_CHILD = (
    _CHILD_COMMON
    + """
for record in records[:3]:
    store.put(record)
subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)  # the card turns read-only
error = None
try:
    store.put(records[3])
except StoreError as exc:
    error = exc
print(json.dumps(verdict([r.id for r in records[:3]], error, f"file:{db}?mode=ro&immutable=1")))
"""
)

_FULL_CHILD = (
    _CHILD_COMMON
    + """
stored, error = [], None
for record in records:
    try:
        store.put(record)
    except StoreError as exc:
        error = exc
        break
    stored.append(record.id)
print(json.dumps(verdict(stored, error, f"file:{db}")))
"""
)


def test_a_read_only_medium_lists_and_rescues_the_record(tmp_path: Path, tmpfs_allowed: None) -> None:
    records = [make_record(i) for i in range(4)]
    (tmp_path / "records.json").write_text(to_json(records))
    out = in_tmpfs(tmp_path / "card", "4m", _READ_ONLY_CHILD, str(tmp_path / "records.json"))
    assert out["listed"] == [r.id for r in records[2::-1]]  # read as immutable: no -shm can be created
    assert out["integrity"] == "ok"
    assert "is on a read-only file system" in out["message"] and "\n" not in out["message"]
    assert (
        out["rescued"]
        and Path(out["side"]) == tmp_path / "xdg-data" / "edgebench" / "unsaved" / f"{records[3].id}.json"
    )
    assert f"edgebench results import {out['side']}" in out["hint"]


def test_a_full_disk_keeps_what_was_stored_and_rescues_the_record(tmp_path: Path, tmpfs_allowed: None) -> None:
    records = [make_record(i) for i in range(200)]
    (tmp_path / "records.json").write_text(to_json(records))
    out = in_tmpfs(tmp_path / "card", "256k", _FULL_CHILD, str(tmp_path / "records.json"))
    assert out["message"], "the tmpfs never filled up: the test proves nothing"
    assert "disk full" in out["message"] or "I/O error" in out["message"], out["message"]
    assert out["integrity"] == "ok"
    assert out["listed"] == out["stored"][::-1] and len(out["stored"]) > 3
    assert out["rescued"]
