"""QA regressions for bench's LoadGen flags and --find-peak: bad input is one line naming the flag typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.scenarios.sugar import scenario_sugar
from tests.cli_helpers import run_cli
from tests.unit.test_cli_bench import assert_one_line_error


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        # a LoadGen flag on the tight loop names the flag and the scenarios that take it
        (["--target-qps", "10"], ("--target-qps: not an option of --scenario loop", "use --scenario server")),
        (["--scenario", "none", "--latency-bound", "15ms"], ("--latency-bound:", "use --scenario server")),
        (["--scenario", "none", "--min-queries", "5"], ("--min-queries:", "single-stream", "offline")),
        (["--scenario", "single-stream", "--samples-per-query", "8"], ("--samples-per-query:", "multi-stream")),
        (["--scenario", "offline", "--target-qps", "5"], ("--scenario offline", "use --scenario server")),
        (["--scenario", "server", "--latency-bound", "5xs"], ("--latency-bound '5xs' is not a duration",)),
        (["--scenario", "server", "--target-qps", "-1"], ("server.target_qps: must be > 0",)),
        (["--scenario", "single-stream", "--min-queries", "0"], ("single_stream.min_queries: must be ≥ 1",)),
        (["--find-peak"], ("--find-peak searches the server scenario", "--scenario server")),
        (["--scenario", "offline", "--find-peak"], ("not 'offline'",)),
    ],
)
def test_bad_loadgen_flags_are_one_line_errors_and_store_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tiny_onnx: Path,
    tmp_path: Path,
    args: list[str],
    needles: tuple[str, ...],
) -> None:
    db = tmp_path / "r.sqlite"
    res = run_cli(capsys, monkeypatch, "bench", str(tiny_onnx), "--backend", "fake", "--inline", "--db", str(db), *args)
    assert_one_line_error(res, 2, *needles)
    assert not db.exists()


def test_sugar_checks_every_flag_against_the_scenario_fields() -> None:
    common = dict(latency_bound=None, min_duration=None, samples_per_query=None, accuracy_mode=False)
    ok = scenario_sugar(target_qps=20.0, min_queries=4, scenario="server", **common)  # type: ignore[arg-type]
    assert ok == {"target_qps": 20.0, "min_queries": 4}
    with pytest.raises(UsageError, match=r"--target-qps: not an option of --scenario multi-stream") as info:
        scenario_sugar(target_qps=20.0, min_queries=4, scenario="multi_stream", **common)  # type: ignore[arg-type]
    assert info.value.hint == "use --scenario server"
    # no scenario given (the Python API's own validation applies later): the fields pass through unchanged
    assert scenario_sugar(target_qps=1.0, min_queries=None, **common) == {"target_qps": 1.0}  # type: ignore[arg-type]


def test_a_server_run_that_would_take_a_day_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    res = run_cli(capsys, monkeypatch, "bench", "--backend", "fake", "--scenario", "server", "--target-qps", "0.001")
    assert res.code == 2 and res.err.startswith("Error: ") and "over an hour" in res.err, res.err
    assert "Traceback" not in res.err
