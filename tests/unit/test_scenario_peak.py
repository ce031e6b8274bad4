"""Server --find-peak: double until failure, then bisect; every step a record. And the old-record rename."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from edgebench._frozen import FrozenMap
from edgebench.engine.peak import find_peak, peak_to_dict, render_peak
from edgebench.errors import UsageError
from edgebench.records import RunRecord, RunSpec, ScenarioResult, record_from_dict, record_from_json, record_to_dict

GOLDEN_V1 = Path(__file__).parents[1] / "golden" / "record_v1.json"


def server_spec(qps: float = 10.0) -> RunSpec:
    return RunSpec(model="m", scenario="server", scenario_options={"target_qps": qps, "latency_bound_s": 0.02})


class Machine:
    """A simulated SUT that meets the bound up to ``capacity`` QPS; records every spec it was asked to run."""

    def __init__(self, capacity: float, fail_at: int | None = None) -> None:
        self.capacity, self.fail_at = capacity, fail_at
        self.asked: list[RunSpec] = []
        self.base = record_from_json(GOLDEN_V1.read_text())

    def __call__(self, spec: RunSpec) -> RunRecord:
        self.asked.append(spec)
        qps = float(spec.scenario_options["target_qps"])  # type: ignore[arg-type]
        if self.fail_at is not None and len(self.asked) == self.fail_at:
            return replace(self.base, spec=spec, status="failed", id=f"r{len(self.asked)}", scenario=None)
        valid = qps <= self.capacity
        result = {
            "valid": valid,
            "result": "VALID" if valid else "INVALID",
            "latency_s": {"p99": 0.01 if valid else 0.05},
            "completed_samples_per_s": min(qps, self.capacity),
            "invalid_reasons": [] if valid else ["Performance constraints satisfied: NO"],
        }
        return replace(
            self.base, spec=spec, id=f"r{len(self.asked)}", scenario=ScenarioResult("server", result=FrozenMap(result))
        )


def test_doubles_until_failure_then_bisects_to_the_peak() -> None:
    machine = Machine(capacity=37.0)
    peak = find_peak(server_spec(10.0), machine, precision=0.05)
    targets = [s.target_qps for s in peak.steps]
    assert targets[:3] == [10.0, 20.0, 40.0]  # doubling until the first INVALID
    assert [s.valid for s in peak.steps[:3]] == [True, True, False]
    assert targets[3] == 30.0  # then halfway between the last VALID and the first INVALID
    assert peak.stop_reason == "converged" and peak.peak_qps is not None
    assert 37.0 * 0.95 <= peak.peak_qps <= 37.0
    lowest_invalid = min(s.target_qps for s in peak.steps if not s.valid)
    assert lowest_invalid - peak.peak_qps <= 0.05 * lowest_invalid
    # every step is its own record, tagged and grouped by one sweep id
    assert (
        [s.record_id for s in peak.steps]
        == [r.id for r in peak.records]
        == [f"r{i}" for i in range(1, 1 + len(targets))]
    )
    assert len({s.sweep_id for s in machine.asked}) == 1 and machine.asked[0].sweep_id
    assert all("find-peak" in s.tags for s in machine.asked)
    assert machine.asked[0].scenario_options["latency_bound_s"] == 0.02  # the other options stay
    assert peak.steps[2].reasons == ("Performance constraints satisfied: NO",)


def test_a_first_failure_halves_until_a_rate_passes() -> None:
    peak = find_peak(server_spec(100.0), Machine(capacity=7.0), precision=0.1)
    targets = [s.target_qps for s in peak.steps]
    assert targets[:5] == [100.0, 50.0, 25.0, 12.5, 6.25]
    assert peak.peak_qps is not None and 6.3 <= peak.peak_qps <= 7.0


def test_no_meetable_rate_and_failed_steps_stop_the_search() -> None:
    nothing = find_peak(server_spec(1.0), Machine(capacity=0.0), max_steps=50)
    assert nothing.peak_qps is None and nothing.stop_reason == "no_valid_rate"
    broken = find_peak(server_spec(10.0), Machine(capacity=37.0, fail_at=2))
    assert broken.stop_reason == "failed" and broken.peak_qps == 10.0 and broken.steps[-1].valid is None
    capped = find_peak(server_spec(10.0), Machine(capacity=1e9), max_steps=3)
    assert capped.stop_reason == "max_steps" and [s.target_qps for s in capped.steps] == [10.0, 20.0, 40.0]


def test_peak_output_shapes() -> None:
    peak = find_peak(server_spec(10.0), Machine(capacity=37.0))
    data = peak_to_dict(peak)
    assert json.loads(json.dumps(data))["peak_qps"] == peak.peak_qps
    text = render_peak(peak)
    assert "INVALID" in text and "p99 ≤ 20 ms" in text and f"{peak.peak_qps:.2f} QPS" in text


def test_find_peak_refuses_other_scenarios() -> None:
    with pytest.raises(UsageError, match="server"):
        find_peak(RunSpec(model="m", scenario="offline"), Machine(1.0))


def test_records_from_before_the_rename_read_as_the_tight_loop() -> None:
    old = record_to_dict(record_from_json(GOLDEN_V1.read_text()))
    old["spec"]["scenario"] = "single_stream"  # what every record written before LoadGen says
    old["spec"]["scenario_options"] = {"tail": "p99"}
    old["scenario"] = {"name": "single_stream", "options": {"tail": "p99"}, "result": {"tail": "p99"}}
    loaded = record_from_dict(old)
    assert loaded.spec.scenario == "loop" and loaded.scenario is not None and loaded.scenario.name == "loop"
    assert loaded.spec_hash == old["spec_hash"]  # the stored identity is kept
    new = json.loads(json.dumps(old))
    new["spec"]["scenario_options"] = {"min_duration_s": 10.0, "min_queries": 100}  # LoadGen's single_stream
    new["scenario"]["name"] = "single_stream"
    assert record_from_dict(new).spec.scenario == "single_stream"
