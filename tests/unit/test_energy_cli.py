"""``bench`` energy options through the CLI: one-line errors, the no-sensor outcome, fixed-rate issue."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from edgebench.energy.options import parse_duration
from edgebench.energy.paced import paced_state
from edgebench.errors import UsageError
from edgebench.scenarios.single_stream import StopRule
from tests.cli_helpers import run_cli
from tests.fakesys import build_nothing
from tests.unit.test_cli_bench import FAST, assert_one_line_error


def _bench(capsys, monkeypatch, *args: str):  # type: ignore[no-untyped-def]
    return run_cli(capsys, monkeypatch, "bench", *args)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--energy", "bogus"], "unknown --energy sensor 'bogus'"),
        (["--energy", "external"], "--energy external needs --power-cmd"),
        (["--energy", "off", "--idle-baseline", "2"], "need --energy"),
        (["--sample-hz", "0"], "--sample-hz must be in"),
        (["--idle-baseline", "600"], "--idle-baseline must be in"),
        (["--cooldown", "-1"], "--cooldown must be in"),
        (["--duration", "10x"], "--duration '10x' is not a duration"),
        (["--duration", "1s", "--max-time", "2"], "--duration sets the run's length"),
    ],
)
def test_bad_energy_options_are_one_line_errors(
    capsys, monkeypatch, tiny_onnx: Path, args: list[str], needle: str
) -> None:  # type: ignore[no-untyped-def]
    res = _bench(capsys, monkeypatch, str(tiny_onnx), "--backend", "fake", "--inline", "--no-store", *args)
    assert_one_line_error(res, 2, needle)


def test_no_sensor_is_a_labelled_outcome_not_an_estimate(capsys, monkeypatch, tiny_onnx: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EDGEBENCH_SYSFS_ROOT", str(build_nothing(tmp_path / "empty").root))
    res = _bench(capsys, monkeypatch, str(tiny_onnx), "--backend", "fake", "--inline", "--no-store", "--json", *FAST)
    assert res.code == 0, res.err
    energy = json.loads(res.out)["energy"]
    assert energy["energy_per_inference_j"] is None and energy["mean_power_w"] is None
    assert energy["efficiency_gops_per_w"] is None and energy["sensor"] is None
    reason = energy["energy_unavailable_reason"]
    assert reason.startswith("no energy sensor readable") and "rapl: no /sys/class/powercap/intel-rapl:*" in reason
    assert {r["status"] for r in energy["readings"]} == {"absent"}


def test_energy_off_leaves_no_block(capsys, monkeypatch, tiny_onnx: Path) -> None:  # type: ignore[no-untyped-def]
    res = _bench(
        capsys,
        monkeypatch,
        str(tiny_onnx),
        "--backend",
        "fake",
        "--inline",
        "--no-store",
        "--json",
        "--energy",
        "off",
        *FAST,
    )
    assert res.code == 0 and json.loads(res.out)["energy"] is None


def test_rate_needs_a_real_clock(capsys, monkeypatch, tiny_onnx: Path) -> None:  # type: ignore[no-untyped-def]
    res = _bench(
        capsys,
        monkeypatch,
        str(tiny_onnx),
        "--backend",
        "fake",
        "--inline",
        "--no-store",
        "--energy",
        "off",
        "--scenario",
        "loop",
        "--scenario-option",
        "rate_hz=100",
        *FAST,
    )
    assert_one_line_error(res, 2, "rate_hz needs real time")


@pytest.mark.parametrize(("text", "seconds"), [("10m", 600), ("90s", 90), ("1.5h", 5400), ("250ms", 0.25), ("30", 30)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "--duration") == seconds


class _Sleeper:
    """A session whose call takes ~2 ms of real time."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def run(self, feeds: object) -> list[object]:
        self.calls.append(time.perf_counter_ns())
        time.sleep(0.002)
        return []


def test_fixed_rate_waits_outside_the_timed_region() -> None:
    session = _Sleeper()
    rule = StopRule(min_ns=300_000_000, max_ns=300_000_000, min_iters=1, target_ci=0)
    result = paced_state(session, None, time.perf_counter_ns, rule, 50.0)  # type: ignore[arg-type]
    n = len(result.latencies_ns)
    assert 8 <= n <= 17  # 0.3 s at 50 Hz (a loaded CI machine may miss a few ticks)
    gaps = [b - a for a, b in zip(session.calls, session.calls[1:], strict=False)]
    assert sorted(gaps)[len(gaps) // 2] > 15_000_000  # issued on 20 ms ticks, not back to back (median: a late
    # tick may be followed by an on-schedule one sooner than 20 ms)
    assert sum(result.latencies_ns) / n < 10_000_000  # ~2 ms calls: the ~18 ms waits are not in the latencies
    assert result.result(50.0)["idle_s"] > 0.15 and result.measured_ns == sum(result.latencies_ns)


def test_fixed_rate_refuses_a_virtual_clock() -> None:
    rule = StopRule(min_ns=1, max_ns=1, min_iters=1, target_ci=0)
    with pytest.raises(UsageError):
        paced_state(_Sleeper(), None, lambda: 0, rule, 10.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sample_hz": 0.0}, "--sample-hz must be in"),
        ({"sample_hz": float("nan")}, "--sample-hz must be in"),
        ({"energy": "auto", "idle_baseline_s": -1.0}, "--idle-baseline must be in"),
        ({"energy": "nope"}, "unknown --energy sensor 'nope'"),
        ({"energy": "off", "power_cmd": "meter"}, "need --energy"),
    ],
)
def test_energy_fields_are_refused_through_the_python_api_too(fields: dict[str, object], message: str) -> None:
    from edgebench.engine.validate import validate_spec
    from edgebench.records import RunSpec

    spec = RunSpec(model="m.onnx", backend="fake", **fields)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=re.escape(message)):
        validate_spec(spec)
