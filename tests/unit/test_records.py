from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from edgebench.errors import SchemaError
from edgebench.records import (
    SCHEMA_VERSION,
    record_from_dict,
    record_from_json,
    record_to_dict,
    record_to_json,
)
from tests.conftest import fake_spec, run_inline


@pytest.fixture
def record(tiny_onnx: Path):
    return run_inline(fake_spec(tiny_onnx, batch=2))


def test_json_round_trip_is_lossless(record) -> None:
    text = record_to_json(record)
    again = record_from_json(text)
    assert again == record
    assert record_to_json(again) == text
    assert again.measurements.latencies_ns == record.measurements.latencies_ns


def test_records_are_frozen(record) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status = "failed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.summary.latency_median_s = 0.0  # type: ignore[misc]


def test_unknown_schema_version_is_refused(record) -> None:
    data = record_to_dict(record)
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(SchemaError, match="schema version"):
        record_from_dict(data)


def test_malformed_records_are_refused(record) -> None:
    data = record_to_dict(record)
    data["summary"]["iterations"] = "many"
    with pytest.raises(SchemaError, match="malformed"):
        record_from_dict(data)
    with pytest.raises(SchemaError):
        record_from_json("{not json")
    with pytest.raises(SchemaError):
        record_from_json(json.dumps([1, 2]))


def test_summary_has_the_documented_keys_in_si_units(record) -> None:
    s = record_to_dict(record)["summary"]
    for key in (
        "latency_median_s",
        "latency_ci95_s",
        "latency_p90_s",
        "latency_p99_s",
        "latency_mean_s",
        "latency_std_s",
        "throughput_ips",
        "iterations",
        "load_time_s",
        "first_inference_s",
        "peak_rss_bytes",
        "model_size_bytes",
    ):
        assert key in s, key
    # the fake backend's median is 1 ms on a virtual clock: seconds, not ms
    assert s["latency_median_s"] == pytest.approx(1e-3, rel=0.02)
    lo, hi = s["latency_ci95_s"]
    assert lo <= s["latency_median_s"] <= hi
    assert s["model_size_bytes"] == tiny_size(record)


def tiny_size(record) -> int:
    return Path(record.spec.model_path).stat().st_size


def test_v1_records_migrate_on_load() -> None:
    v1 = json.loads((Path(__file__).parents[1] / "golden" / "record_v1.json").read_text())
    assert v1["schema_version"] == 1 and "inline" in v1["spec"]
    record = record_from_dict(v1)
    assert record.schema_version == SCHEMA_VERSION and record.executor == (
        "inline" if v1["spec"]["inline"] else "local"
    )
    assert record.spec.max_input_bytes == v1["spec"]["backend_options"].get("max_input_bytes", 2 * 1024**3)
    assert "max_input_bytes" not in record.spec.backend_options
    assert record.summary.ci_method == v1["summary"]["ci_method"]  # the method it was computed with
    assert record.scenario.name == "loop" and record.spec_hash
    assert record_from_json(record_to_json(record)) == record  # and it round-trips as v2


def test_specs_are_hashable_and_spec_hash_is_stable(tiny_onnx: Path) -> None:
    from edgebench.records import RunSpec, spec_hash

    a = RunSpec(model="x", shapes={"in": [1, 3]}, backend_options={"providers": ["CPUExecutionProvider"]})
    b = RunSpec(
        model="renamed",
        model_path="/elsewhere",
        shapes={"in": (1, 3)},
        tags=("t",),
        backend_options={"providers": ("CPUExecutionProvider",)},
    )
    assert hash(a) == hash(RunSpec(model="x", shapes={"in": (1, 3)}, backend_options=a.backend_options))
    assert spec_hash(a) == spec_hash(b)  # name, path and tags do not change what is measured
    assert spec_hash(a) != spec_hash(dataclasses.replace(a, threads=2))
    assert spec_hash(a) != spec_hash(dataclasses.replace(a, model_sha256="ab"))
    assert len(spec_hash(a)) == 16 and a != b  # equal hashes of the measurement, different labels
    with pytest.raises(TypeError):
        a.shapes["in"] = (2, 3)  # type: ignore[index]


def test_spec_hash_ignores_fields_at_their_default() -> None:
    """A field added later with a behaviour-preserving default must not change old specs' hashes."""
    import dataclasses

    from edgebench.records import RunSpec, spec_hash

    a = RunSpec(model="m", threads=1)
    assert spec_hash(a) == spec_hash(dataclasses.replace(a, precision="fp32"))  # fp32 is the default
    assert spec_hash(a) != spec_hash(dataclasses.replace(a, precision="fp16"))
    # the canonical JSON of a default-only spec is empty: hashes do not depend on the field list
    import hashlib

    assert spec_hash(RunSpec(model="m")) == hashlib.sha256(b"{}").hexdigest()[:16]
