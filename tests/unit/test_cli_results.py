"""``edgebench results list/show/export/import`` as a user sees them."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from rich.console import Console

from edgebench.records import RunSpec
from edgebench.reporters.tabular import to_json
from edgebench.stores import open_store, write_text_atomic
from tests.cli_helpers import Result, run_cli
from tests.unit.test_store import GOLDEN_V1, failed_record, fill, make_record

Capsys = pytest.CaptureFixture[str]
Patch = pytest.MonkeyPatch


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "results.db"


def results(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    return run_cli(capsys, monkeypatch, "results", *args)


def one_line_error(res: Result, code: int, needle: str) -> None:
    assert res.code == code, (res.code, res.err)
    assert res.err.startswith("Error: ") and len(res.err.splitlines()) == 1 and needle in res.err, res.err
    assert "Traceback" not in res.err


# -- list ----------------------------------------------------------------------------------------


def test_list_piped_is_tsv_without_trailing_spaces(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    records = fill(db, 3)
    res = results(capsys, monkeypatch, "list", "--db", str(db))
    assert res.code == 0, res.err
    header, *lines = res.out.splitlines()
    assert header.split("\t") == [
        *("id", "created (UTC)", "status", "model", "backend", "host", "median", "throughput"),
        *("scenario", "spec hash"),
    ]
    assert [line.split("\t")[0] for line in lines] == [r.id for r in records[::-1]]
    assert all(len(line.split("\t")) == 10 for line in lines)
    assert all(line == line.rstrip() and "  " not in line for line in res.out.splitlines())
    assert lines[0].split("\t")[8:] == ["loop", records[2].spec_hash]
    assert res.err == ""  # nothing was left out, so no note


def test_list_keeps_a_strange_model_name_in_its_column(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    record = make_record(spec=RunSpec(model="odd\tname\n.onnx", backend="fake"))
    open_store(db).put(record)
    res = results(capsys, monkeypatch, "list", "--db", str(db))
    row = res.out.splitlines()[1].split("\t")
    assert len(row) == 10 and row[3] == "odd name .onnx"


def _tty(monkeypatch: pytest.MonkeyPatch, width: int) -> io.StringIO:
    screen = io.StringIO()
    monkeypatch.setattr(
        "edgebench.cli.results.console",
        Console(file=screen, force_terminal=True, width=width, color_system=None, highlight=False),
    )
    return screen


NARROW = ["id", "status", "model", "backend", "median", "throughput"]
MIDDLE = ["id", "created (UTC)", "status", "model", "backend", "host", "median", "throughput"]


@pytest.mark.parametrize(("width", "columns"), [(80, NARROW), (120, MIDDLE), (200, [*MIDDLE, "scenario", "spec hash"])])
def test_list_on_a_tty_shows_the_columns_that_fit(
    capsys: Capsys, monkeypatch: Patch, db: Path, width: int, columns: list[str]
) -> None:
    records = fill(db, 2)
    screen = _tty(monkeypatch, width)
    res = results(capsys, monkeypatch, "list", "--db", str(db))
    assert res.code == 0, res.err
    header, rule, *lines = screen.getvalue().splitlines()
    assert header.split() == " ".join(columns).split()  # "created (UTC)" and "spec hash" are two words
    assert max(len(line.rstrip()) for line in (header, rule, *lines)) <= width
    assert "…" not in screen.getvalue()  # nothing squeezed into an ellipsis: ids and figures whole
    assert [line.split()[0] for line in lines] == [r.id for r in records[::-1]]


def test_list_limit_zero_says_how_many_are_stored(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    fill(db, 3)
    res = results(capsys, monkeypatch, "list", "--db", str(db), "--limit", "0")
    assert res.code == 0 and "No results yet" not in res.out + res.err
    assert len(res.out.splitlines()) == 1  # the TSV header only
    assert res.err.strip() == "0 shown of 3 (--limit N for more)"
    screen = _tty(monkeypatch, 100)
    results(capsys, monkeypatch, "list", "--db", str(db), "--limit", "2")
    assert "2 shown of 3" in screen.getvalue()


def test_list_rejects_a_negative_limit(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    fill(db, 1)
    one_line_error(results(capsys, monkeypatch, "list", "--db", str(db), "--limit", "-1"), 2, "--limit")


def test_list_of_an_empty_database(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    open_store(db)
    res = results(capsys, monkeypatch, "list", "--db", str(db))
    assert res.code == 0 and "No results yet" in res.out


@pytest.mark.parametrize("command", [["list"], ["show", "abc"], ["export"]])
def test_reading_a_missing_database_creates_nothing(
    capsys: Capsys, monkeypatch: Patch, tmp_path: Path, command: list[str]
) -> None:
    db = tmp_path / "new" / "folder" / "results.db"
    res = results(capsys, monkeypatch, *command, "--db", str(db))
    one_line_error(res, 7, f"no results database at {db}")
    assert "edgebench bench" in res.err
    assert not (tmp_path / "new").exists()


def test_the_default_database_is_not_created_by_reading(capsys: Capsys, monkeypatch: Patch, tmp_path: Path) -> None:
    one_line_error(results(capsys, monkeypatch, "list"), 7, "no results database at")
    assert not (tmp_path / "xdg-data").exists()


# -- show ----------------------------------------------------------------------------------------


def test_show_of_a_failed_record_prints_no_empty_bench_table(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    record = failed_record(1)
    open_store(db).put(record)
    res = results(capsys, monkeypatch, "show", record.id, "--db", str(db))
    assert res.code == 0, res.err
    assert "FAILED: BackendError: runtime refused the model" in res.out
    assert "hint: try another backend" in res.out
    assert "| Model |" not in res.out and "---" not in res.out


def test_show_of_a_measured_record_has_its_bench_table(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    record = make_record()
    open_store(db).put(record)
    res = results(capsys, monkeypatch, "show", record.id[:10], "--db", str(db))
    assert res.code == 0, res.err
    assert "| Model |" in res.out and "| efficientnet-lite0 |" in res.out
    shown = results(capsys, monkeypatch, "show", record.id, "--json", "--db", str(db))
    assert json.loads(shown.out)["id"] == record.id


# -- export --------------------------------------------------------------------------------------


def test_export_to_a_missing_folder_is_one_usage_error(
    capsys: Capsys, monkeypatch: Patch, tmp_path: Path, db: Path
) -> None:
    fill(db, 1)
    target = tmp_path / "missing" / "dir" / "x.csv"
    res = results(capsys, monkeypatch, "export", "-o", str(target), "--db", str(db))
    one_line_error(res, 2, f"folder {target.parent} does not exist")
    assert not (tmp_path / "missing").exists()


def test_export_writes_atomically_and_leaves_no_temp_file(
    capsys: Capsys, monkeypatch: Patch, tmp_path: Path, db: Path
) -> None:
    records = fill(db, 2)
    target = tmp_path / "out" / "x.json"
    target.parent.mkdir()
    target.write_text("previous export")
    res = results(capsys, monkeypatch, "export", "--format", "json", "-o", str(target), "--db", str(db))
    assert res.code == 0, res.err
    assert [r["id"] for r in json.loads(target.read_text())] == [r.id for r in records[::-1]]
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_an_interrupted_write_keeps_the_old_file_and_no_temp(monkeypatch: Patch, tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    target.write_text("old")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(OSError, match="No space"):
        write_text_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_a_failed_export_write_is_one_usage_error(capsys: Capsys, monkeypatch: Patch, tmp_path: Path, db: Path) -> None:
    fill(db, 1)

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", refuse)
    res = results(capsys, monkeypatch, "export", "-o", str(tmp_path / "x.csv"), "--db", str(db))
    one_line_error(res, 2, "cannot write")
    assert "No space left on device" in res.err
    assert not (tmp_path / "x.csv").exists() and not list(tmp_path.glob(".x.csv*"))


def _insert_unreadable(db: Path) -> None:
    bad_version = json.dumps({**json.loads(GOLDEN_V1.read_text()), "id": "future", "schema_version": 99})
    with closing(sqlite3.connect(db)) as con:
        for record_id, text in (("garbled", "{not json"), ("future", bad_version)):
            con.execute(
                "INSERT INTO runs (id, created_at, schema_version, status, model, backend, hostname, record_json) "
                "VALUES (?, '2027-01-01T00:00:00Z', 1, 'ok', 'm', 'b', 'h', ?)",
                (record_id, text),
            )
        con.commit()


def test_export_skips_unreadable_records_and_names_them(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    records = fill(db, 3)
    _insert_unreadable(db)
    res = results(capsys, monkeypatch, "export", "--db", str(db))
    assert res.code == 0, res.err
    assert [line.split(",")[0] for line in res.out.splitlines()[1:]] == [r.id for r in records[::-1]]
    warnings = res.err.splitlines()
    assert len(warnings) == 2 and all(w.startswith("Warning: skipped record ") for w in warnings)
    assert any("future" in w and "schema version 99" in w for w in warnings)
    assert any("garbled" in w and "not valid JSON" in w for w in warnings)


def test_export_rejects_a_negative_limit(capsys: Capsys, monkeypatch: Patch, db: Path) -> None:
    fill(db, 1)
    one_line_error(results(capsys, monkeypatch, "export", "--db", str(db), "--limit", "-2"), 2, "--limit")


# -- import --------------------------------------------------------------------------------------


def test_export_then_import_into_another_database(capsys: Capsys, monkeypatch: Patch, tmp_path: Path, db: Path) -> None:
    records = [*fill(db, 2), failed_record(5)]
    open_store(db).put(records[2])
    exported = tmp_path / "all.json"
    assert results(capsys, monkeypatch, "export", "--format", "json", "-o", str(exported), "--db", str(db)).code == 0
    other = tmp_path / "other.db"
    res = results(capsys, monkeypatch, "import", str(exported), "--db", str(other))
    assert res.code == 0, res.err
    assert "Imported 3 records" in res.err and "(0 already there)" in res.err
    assert sorted(open_store(other).list(), key=lambda r: r.id) == sorted(records, key=lambda r: r.id)
    again = results(capsys, monkeypatch, "import", str(exported), "--db", str(other))
    assert again.code == 0 and "Imported 0 records" in again.err and "(3 already there)" in again.err
    assert exported.exists()  # kept without --remove


def test_import_goes_on_past_a_bad_file(capsys: Capsys, monkeypatch: Patch, tmp_path: Path, db: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(to_json([make_record(1)]))
    bad.write_text("{")
    res = results(capsys, monkeypatch, "import", str(bad), str(good), "--db", str(db), "--remove")
    assert res.code == 7
    assert f"Warning: skipped {bad}: {bad} is not JSON" in res.err
    assert res.err.splitlines()[-1].startswith("Error: 1 of 2 files were not imported")
    assert open_store(db).get(make_record(1).id) == make_record(1)
    assert bad.exists() and not good.exists()  # --remove only deletes a file whose records are all in
