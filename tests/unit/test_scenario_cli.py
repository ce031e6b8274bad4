"""`edgebench bench --scenario …` through the real console entry point: names, sugar flags, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

pytest.importorskip("mlperf_loadgen")

FAKE = ["--backend", "fake", "--inline", "--processes", "1", "--warmup-time", "0.01"]
REAL_TIME = ["--backend-option", "real_time=true", "--backend-option", "latency_s=0.002"]


def bench(capsys, monkeypatch, *args: str):  # type: ignore[no-untyped-def]
    return run_cli(capsys, monkeypatch, "bench", *args)


def one_line_error(res, code: int, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert res.code == code, (res.code, res.err)
    errors = [line for line in res.err.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in res.err and "hint:" in errors[0], res.err
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_none_is_the_tight_loop_and_the_default(capsys, monkeypatch, tiny_onnx: Path) -> None:
    for extra in ([], ["--scenario", "none"]):
        res = bench(capsys, monkeypatch, str(tiny_onnx), *FAKE, "--min-time", "0.05", "--no-store", "--json", *extra)
        assert res.code == 0, res.err
        record = json.loads(res.out)
        assert record["spec"]["scenario"] == "loop" and record["scenario"]["name"] == "loop"


def test_single_stream_flags_become_loadgen_settings(capsys, monkeypatch, tiny_onnx: Path, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    args = ["--scenario", "single-stream", "--min-duration", "200ms", "--min-queries", "40", "--db", str(db)]
    res = bench(capsys, monkeypatch, str(tiny_onnx), *FAKE, *REAL_TIME, *args, "--json")
    assert res.code == 0, res.err
    record = json.loads(res.out)
    assert record["spec"]["scenario"] == "single_stream"
    assert record["spec"]["scenario_options"]["min_duration_s"] == pytest.approx(0.2)
    result = record["scenario"]["result"]
    assert result["settings"]["min_duration (ms)"] == 200 and result["settings"]["min_query_count"] == 40
    assert result["result"] in ("VALID", "INVALID") and result["queries"] >= 40
    assert {a["role"] for a in record["artifacts"]} >= {"loadgen_summary", "loadgen_detail"}
    shown = bench(capsys, monkeypatch, str(tiny_onnx), *FAKE, *REAL_TIME, *args)
    assert shown.code == 0 and "LoadGen SingleStream" in shown.out


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--scenario", "server", "--latency-bound", "fast"], 2, "--latency-bound 'fast'"),
        (["--scenario", "server", "--latency-bound", "-5ms"], 2, "--latency-bound"),
        (["--scenario", "offline", "--target-qps", "5"], 2, "offline.target_qps: unknown option"),
        (["--scenario", "none", "--min-duration", "1s"], 2, "loop.min_duration_s: unknown option"),
        (["--scenario", "server", "--target-qps", "0"], 2, "server.target_qps: must be > 0"),
        (["--scenario", "server", "--min-duration", "1s", "--scenario-option", "min_duration_s=2"], 2, "given both"),
        (["--find-peak"], 2, "--scenario server"),
        (["--scenario", "loadgen"], 2, "unknown scenario 'loadgen'"),
    ],
)
def test_bad_scenario_input_is_one_line(
    capsys, monkeypatch, tiny_onnx: Path, args: list[str], code: int, needle: str
) -> None:
    res = bench(capsys, monkeypatch, str(tiny_onnx), *FAKE, "--no-store", *args)
    one_line_error(res, code, needle)


@pytest.mark.slow
def test_find_peak_stores_every_step(capsys, monkeypatch, tiny_onnx: Path, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    args = [
        *("--scenario", "server", "--find-peak", "--target-qps", "100", "--latency-bound", "100ms"),
        *("--min-duration", "0.25s", "--min-queries", "100", "--db", str(db)),
        # p90 needs only 64 queries for LoadGen's early-stopping verdict (p99: 459): short steps
        *("--scenario-option", "target_percentile=0.9", "--scenario-option", "workers=2"),
    ]
    res = bench(capsys, monkeypatch, str(tiny_onnx), *FAKE, *REAL_TIME, *args, "--json")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    steps = data["steps"]
    assert steps[0]["target_qps"] == 100 and all(s["valid"] is not None for s in steps)
    assert any(s["valid"] for s in steps) and any(s["valid"] is False for s in steps)
    assert data["stop_reason"] == "converged"
    assert data["peak_qps"] == max(s["target_qps"] for s in steps if s["valid"])
    assert [r["id"] for r in data["records"]] == [s["record_id"] for s in steps]
    listed = run_cli(capsys, monkeypatch, "results", "list", "--db", str(db), "--limit", "100")
    assert listed.code == 0 and all(s["record_id"] in listed.out for s in steps)


def test_help_does_not_import_loadgen() -> None:
    code = (
        "import sys; sys.argv=['edgebench','bench','--help']\n"
        "from edgebench.cli import main\n"
        "try:\n    main()\nexcept SystemExit: pass\n"
        "print('LOADGEN', 'mlperf_loadgen' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "LOADGEN False" in out and "--find-peak" in out and "--latency-bound" in out


def test_without_the_loadgen_wheel_the_error_says_what_to_install(capsys, monkeypatch, tiny_onnx: Path) -> None:
    monkeypatch.setitem(sys.modules, "mlperf_loadgen", None)  # `import mlperf_loadgen` now raises ImportError
    res = bench(capsys, monkeypatch, str(tiny_onnx), *FAKE, "--no-store", "--scenario", "offline")
    one_line_error(res, 4, "MLPerf LoadGen (mlcommons-loadgen) is not installed", "edgebench[loadgen]")
