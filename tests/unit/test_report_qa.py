"""QA regressions for `edgebench report`: slow models' latencies read as numbers, not 1.23e+03."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from edgebench.records import RunRecord
from edgebench.reporters import markdown
from tests.unit.report_records import base_record
from tests.unit.test_report_markdown import column, rows_of


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    from tests.conftest import make_onnx

    return base_record(make_onnx(tmp_path_factory.mktemp("m") / "slow.onnx"))


@pytest.mark.parametrize(("seconds", "shown"), [(1.2346, "1235"), (12.5, "12500"), (0.0351, "35.1"), (0.0005, "0.5")])
def test_latency_cells_have_no_exponent(record: RunRecord, seconds: float, shown: str) -> None:
    assert record.summary is not None
    slow = replace(record, summary=replace(record.summary, latency_median_s=seconds))
    (bench,) = rows_of(markdown.bench_table([slow]), "slow.onnx")
    assert column(markdown.BENCH_COLUMNS, bench, "Latency (ms/call)") == shown
    (profile,) = rows_of(markdown.profiling_table([slow]), "slow.onnx")
    assert column(markdown.PROFILING_COLUMNS, profile, "Latency (ms) (CPU)") == shown
    assert float(shown) == pytest.approx(seconds * 1e3, rel=5e-3)  # what is shown is the stored value


def test_report_cli_shows_a_slow_record_without_exponent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, record: RunRecord
) -> None:
    from edgebench.stores import open_store
    from tests.cli_helpers import run_cli

    assert record.summary is not None
    db = tmp_path / "r.db"
    open_store(db).put(replace(record, summary=replace(record.summary, latency_median_s=2.5)))
    result = run_cli(capsys, monkeypatch, "report", "--db", str(db))
    assert result.code == 0, result.err
    assert "| 2500 |" in result.out and "e+0" not in result.out


def test_a_misspelt_status_is_an_error_not_an_empty_selection(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, record: RunRecord
) -> None:
    from edgebench.stores import open_store
    from tests.cli_helpers import run_cli

    db = tmp_path / "r.db"
    open_store(db).put(record)
    bad = run_cli(capsys, monkeypatch, "report", "--db", str(db), "--where", "status=succeeded")
    assert bad.code == 2
    (line,) = bad.err.strip().splitlines()
    assert line.startswith("Error: --where status=succeeded: not a record status") and "ok or failed" in line
    for fine in ("status=OK", "status=ok,failed", "status=o*"):  # case, alternatives and globs still work
        res = run_cli(capsys, monkeypatch, "report", "--db", str(db), "--where", fine, "-f", "csv")
        assert res.code == 0, (fine, res.err)
        assert record.id in res.out
