"""`edgebench report` through the real console entry point, and `edgebench.load_results()`."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

import edgebench
from edgebench.records import RunRecord
from edgebench.reporters.tabular import REPORT_COLUMNS
from tests.cli_helpers import run_cli
from tests.unit.report_records import HOSTILE, suite


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[RunRecord]:
    from tests.conftest import make_onnx

    return suite(make_onnx(tmp_path_factory.mktemp("m") / "tiny.onnx"))


@pytest.fixture
def db(tmp_path: Path, records: list[RunRecord]) -> Path:
    from edgebench.stores import open_store

    path = tmp_path / "results.db"
    store = open_store(path)
    for r in records:
        store.put(r)
    return path


def test_markdown_report_is_the_default(capsys, monkeypatch, db: Path) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db))
    assert res.code == 0, res.err
    assert res.out.startswith("# edgebench report") and "## Optimization" in res.out
    assert "5 records (1 failed)" in res.out


def test_csv_has_one_flat_row_per_record(capsys, monkeypatch, db: Path, records: list[RunRecord]) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "--format", "csv")
    assert res.code == 0, res.err
    rows = list(csv.DictReader(io.StringIO(res.out)))
    assert tuple(rows[0]) == REPORT_COLUMNS and len(rows) == len(records)
    by_id = {row["id"]: row for row in rows}
    fp32 = by_id[records[0].id]
    assert float(fp32["latency_median_s"]) == records[0].summary.latency_median_s  # type: ignore[union-attr]
    assert fp32["top1"] == "0.75" and fp32["energy_sensor"] == "rapl package-0" and fp32["model_family"] == "resnet50"
    assert by_id[records[-1].id]["status"] == "failed" and by_id[records[-1].id]["latency_median_s"] == ""


def test_json_rows_keep_numbers_and_nulls(capsys, monkeypatch, db: Path, records: list[RunRecord]) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "--format", "json", "--where", "status=ok")
    assert res.code == 0, res.err
    rows = json.loads(res.out)
    assert len(rows) == 4 and all(set(row) == set(REPORT_COLUMNS) for row in rows)
    hostile = next(row for row in rows if row["model_name"] == HOSTILE)
    assert hostile["top5"] is None and hostile["top1"] == 0.5 and isinstance(hostile["iterations"], int)


@pytest.mark.parametrize(
    ("where", "models"),
    [
        (["model=resnet50*"], {"resnet50.onnx", "resnet50_int8.onnx"}),
        (["model=resnet50"], {"resnet50.onnx", "resnet50_int8.onnx"}),  # the family name matches both variants
        (["host=pi5"], {"mobilenet.onnx"}),
        (["host=pi5,vm", "tag=sweep-a"], {"mobilenet.onnx"}),
        (["precision=W8*"], {"resnet50_int8.onnx"}),
        (["MODEL=*INT8*"], {"resnet50_int8.onnx"}),  # keys and values are case-insensitive
    ],
)
def test_where_filters(capsys, monkeypatch, db: Path, where: list[str], models: set[str]) -> None:  # type: ignore[no-untyped-def]
    args = [a for w in where for a in ("--where", w)]
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "-f", "json", *args)
    assert res.code == 0, res.err
    assert {row["model_name"] for row in json.loads(res.out)} == models


def test_last_takes_the_newest_and_keeps_report_order(capsys, monkeypatch, db: Path, records: list[RunRecord]) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "-f", "json", "--where", "status=ok", "--last", "2")
    assert [row["id"] for row in json.loads(res.out)] == [records[2].id, records[3].id]


def test_format_follows_the_output_suffix(capsys, monkeypatch, db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.csv"
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "-o", str(out))
    assert res.code == 0 and out.read_text().startswith("id,created_at,status,")
    assert "Wrote csv report of 5 records" in res.err


def test_html_file_is_self_contained(capsys, monkeypatch, db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.html"
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "-o", str(out))
    assert res.code == 0, res.err
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "Plotly" in text and HOSTILE not in text
    assert external_references(text) == []  # nothing is loaded from elsewhere


def external_references(page: str) -> list[tuple[str, str]]:
    """(tag, attribute) pairs of the page's elements that would fetch something: src=, href= to a file, …"""
    from html.parser import HTMLParser

    found: list[tuple[str, str]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if name in ("src", "srcset", "data") or (name == "href" and not (value or "").startswith("#")):
                    found.append((tag, name))
            if tag in ("link", "iframe", "object", "embed", "base"):
                found.append((tag, ""))

    Parser().feed(page)
    return found


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--format", "pdf"], 2, "unknown report format 'pdf'"),
        (["--where", "colour=red"], 2, "unknown --where key 'colour'"),
        (["--where", "model"], 2, "bad --where 'model'"),
        (["--where", "model="], 2, "--where model= needs a value"),
        (["--last", "0"], 2, "--last must be ≥ 1"),
        (["--where", "model=nothing-like-this"], 2, "no records match (model=nothing-like-this)"),
        (["-o", "/nonexistent-dir/r.md"], 2, "folder /nonexistent-dir does not exist"),
    ],
)
def test_bad_input_is_one_error_line(capsys, monkeypatch, db: Path, args: list[str], code: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), *args)
    assert res.code == code and needle in res.err, res.err
    assert res.err.startswith("Error: ") and res.err.count("\n") == 1 and "(hint: " in res.err
    assert "Traceback" not in res.err


def test_missing_or_empty_database(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "report", "--db", str(tmp_path / "none.db"))
    assert res.code == 7 and res.err.startswith("Error: ") and not (tmp_path / "none.db").exists()
    from edgebench.stores import open_store

    open_store(tmp_path / "empty.db")  # created, no records
    res = run_cli(capsys, monkeypatch, "report", "--db", str(tmp_path / "empty.db"))
    assert res.code == 7 and "no results in" in res.err and "edgebench bench" in res.err


def test_html_refuses_a_terminal_stdout(capsys, monkeypatch, db: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("edgebench.cli.report._stdout_is_terminal", lambda: True)
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "--format", "html")
    assert res.code == 2 and "-o report.html" in res.err and res.out == ""


def test_csv_cells_cannot_become_spreadsheet_formulas(records: list[RunRecord]) -> None:
    from dataclasses import replace

    from edgebench.reporters.tabular import rows_csv

    evil = replace(records[0], spec=replace(records[0].spec, model='=HYPERLINK("http://x")'))
    (row,) = csv.DictReader(io.StringIO(rows_csv([evil])))
    assert row["model"].startswith("'=")


def test_load_results_returns_a_dataframe(db: Path, records: list[RunRecord]) -> None:
    frame = edgebench.load_results(db, where={"status": "ok"})
    import pandas as pd

    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == list(REPORT_COLUMNS) and len(frame) == 4
    int8 = frame[frame["model_name"] == "resnet50_int8.onnx"].iloc[0]
    assert int8["latency_median_s"] == pytest.approx(records[1].summary.latency_median_s)  # type: ignore[union-attr]
    assert frame["latency_median_s"].dtype.kind == "f"


def test_load_results_without_pandas(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ImportError
    with pytest.raises(edgebench.EdgebenchError, match="pandas is not installed") as info:
        edgebench.load_results(db)
    assert "as_frame=False" in (info.value.hint or "")
    rows = edgebench.load_results(str(db), where=["model=mobilenet*"], as_frame=False)
    assert [r["model_name"] for r in rows] == ["mobilenet.onnx"]


def test_report_and_help_do_not_import_heavy_libraries() -> None:
    import subprocess

    code = (
        "import sys; import edgebench.cli, edgebench.cli.report, edgebench.reporters.html;"
        "print(sorted(m for m in ('pandas', 'plotly', 'playwright') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_unreadable_record_is_skipped_with_a_warning(
    capsys, monkeypatch, db: Path, records: list[RunRecord]
) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    with sqlite3.connect(db) as con:
        con.execute("UPDATE runs SET record_json = ? WHERE id = ?", ('{"schema_version": 99}', records[1].id))
    res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "-f", "json")
    assert res.code == 0, res.err
    assert f"Warning: skipped record {records[1].id}" in res.err
    assert records[1].id not in {row["id"] for row in json.loads(res.out)} and len(json.loads(res.out)) == 4


@pytest.mark.parametrize("fmt", ["md", "csv", "json", "html"])
def test_a_schema_1_record_renders_in_every_format(capsys, monkeypatch, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    from edgebench.records import record_from_json
    from edgebench.stores import open_store

    old = record_from_json((Path(__file__).parents[1] / "golden" / "record_v1.json").read_text())
    open_store(tmp_path / "v1.db").put(old)
    out = tmp_path / f"r.{fmt}"
    res = run_cli(capsys, monkeypatch, "report", "--db", str(tmp_path / "v1.db"), "-o", str(out))
    assert res.code == 0, res.err
    assert "efficientnet-lite0" in out.read_text()
