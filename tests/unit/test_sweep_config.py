"""Sweep files: validation with field-located errors, YAML ≡ TOML, plan expansion, job keys, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.records import spec_hash
from edgebench.sweep.config import load_config, validate_config
from edgebench.sweep.plan import expand, resolve, validate
from tests.cli_helpers import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweep-minimal.yaml"
TFLITE = Path(__file__).resolve().parents[1] / "data" / "mobilenet_v1_0.25_128_quant.tflite"


def test_example_expands_to_four_short_jobs_with_a_dynamic_batch() -> None:
    plan = expand(load_config(EXAMPLE))
    points = [(j.axis("threads"), j.axis("batch")) for j in plan.jobs]
    assert points == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert {j.spec.model for j in plan.jobs} == {"efficientnet-lite0"}
    assert {j.spec.backend for j in plan.jobs} == {"onnxruntime"}
    assert plan.dynamic_batch  # the zoo's static export has a fixed batch of 1
    assert all(j.spec.max_time_s <= 2.0 and j.spec.processes == 1 for j in plan.jobs)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"backends": ["onnxruntime", {"name": "fake", "threads": 0}]}, "backends[1].threads: must be ≥ 1"),
        ({"backends": [{"name": "fake", "threads": [2, -1]}]}, "backends[0].threads: must be ≥ 1 (got -1)"),
        ({"threads": [1, 0]}, "threads: must be ≥ 1"),
        ({"run": {"max_time_s": 0}}, "run.max_time_s: must be > 0"),
        ({"run": {"min_time_s": 2, "max_time_s": 1}}, "run: min_time_s 2 exceeds max_time_s 1"),
        ({"run": {"warmup_time_s": "nan"}}, "run.warmup_time_s: must be a finite number"),
        ({"models": []}, "models: must not be empty"),
        ({"exclude": [{"thread": 2}]}, "exclude[0].thread: unknown field"),
        ({"precisions": ["int4"]}, "precisions[0]: must be 'fp32', 'fp16' or 'bf16'"),
        ({"name": "../evil"}, "name: String should match pattern"),
        ({"backend": ["onnxruntime"]}, "backend: unknown field"),
    ],
)
def test_errors_name_the_field_as_written(data: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_config(data, source="s.yaml")
    assert info.value.message.startswith(f"s.yaml: {message}"), info.value.message
    assert "edgebench schema sweep" in (info.value.hint or "")


def test_cli_reports_a_bad_file_in_one_line(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("backends:\n  - onnxruntime\n  - name: fake\n    threads: 0\n")
    res = run_cli(capsys, monkeypatch, "sweep", str(bad), "--db", str(tmp_path / "r.db"))
    assert res.code == 2
    assert res.err.count("\n") == 1 and res.err.startswith("Error: ") and "Traceback" not in res.err
    assert "backends[1].threads: must be ≥ 1" in res.err
    assert not (tmp_path / "r.db").exists()  # bad input creates no database


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("models: [a\nthreads: 1\n", "not valid YAML at line"),
        ("- just\n- a list\n", "must hold a mapping"),
    ],
)
def test_unreadable_yaml(capsys, monkeypatch, tmp_path: Path, text: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    res = run_cli(capsys, monkeypatch, "sweep", str(bad), "--dry-run")
    assert res.code == 2 and needle in res.err and "Traceback" not in res.err


def test_missing_file_and_bad_toml(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "sweep", str(tmp_path / "nope.yaml"), "--dry-run")
    assert res.code == 2 and "cannot read sweep file" in res.err
    bad = tmp_path / "bad.toml"
    bad.write_text("threads = [1,\n")
    res = run_cli(capsys, monkeypatch, "sweep", str(bad), "--dry-run")
    assert res.code == 2 and "not valid TOML" in res.err


def test_toml_and_yaml_give_the_same_plan(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text(
        'name = "minimal"\nmodels = ["efficientnet-lite0"]\nbackends = ["onnxruntime"]\n'
        "threads = [1, 2]\nbatch_sizes = [1, 2]\n"
        "[run]\nwarmup_time_s = 0.2\nmin_time_s = 0.3\nmax_time_s = 1.0\nmin_iters = 10\ntarget_ci = 0.02\n"
    )
    assert load_config(toml) == load_config(EXAMPLE)
    assert [j.spec for j in expand(load_config(toml)).jobs] == [j.spec for j in expand(load_config(EXAMPLE)).jobs]


def test_exclude_then_include_and_scalars_as_lists() -> None:
    config = validate_config(
        {
            "models": "m.onnx",
            "backends": ["onnxruntime", {"name": "fake", "threads": 4, "options": {"latency_s": 0.002}}],
            "threads": [1, 2],
            "batch_sizes": [1, 8],
            "exclude": [{"backend": "onnxruntime", "batch": 8}, {"threads": 2, "batch": 1}],
            "include": [{"backend": "onnxruntime", "threads": 3}, {"threads": 1, "batch": 1}],
        }
    )
    plan = expand(config)
    got = [(j.axis("backend"), j.axis("threads"), j.axis("batch")) for j in plan.jobs]
    # ort: (1,1) kept, (2,1) excluded, (1,8)/(2,8) excluded; fake pins threads=4: (4,1) kept, (4,8) kept
    # include: ort threads=3 with the first batch (1) is new; (ort, 1, 1) already exists and is not duplicated
    assert got == [("onnxruntime", 1, 1), ("fake", 4, 1), ("fake", 4, 8), ("onnxruntime", 3, 1)]
    assert plan.excluded == 3 and plan.included == 1
    fake = next(j for j in plan.jobs if j.axis("backend") == "fake")
    assert fake.spec.backend_options["latency_s"] == 0.002


def test_same_backend_twice_with_other_options_are_two_jobs() -> None:
    config = validate_config({"backends": [{"name": "fake"}, {"name": "fake", "options": {"crash": "run"}}]})
    plan = expand(config)
    assert [j.axis("backend") for j in plan.jobs] == ["fake[0]", "fake[1]"]
    assert [dict(j.spec.backend_options) for j in plan.jobs] == [{}, {"crash": "run"}]


def test_plugin_options_are_checked_before_anything_runs() -> None:
    plan = expand(validate_config({"models": [str(TFLITE)], "backends": [{"name": "fake", "options": {"x": 1}}]}))
    with pytest.raises(UsageError, match=r"sweep job 1 \(.*fake\): fake\.x: unknown option"):
        validate(plan)


def test_job_key_is_the_resolved_spec_hash_and_ignores_labels(tmp_path: Path) -> None:
    base = {"models": [str(TFLITE)], "backends": ["fake"], "run": {"max_time_s": 0.5, "min_time_s": 0.1}}
    first = resolve(validate(expand(validate_config(base))), None).jobs[0]
    assert first.key == spec_hash(first.spec) and first.spec.model_sha256
    relabelled = resolve(validate(expand(validate_config({**base, "tags": ["x"], "name": "other"}))), None).jobs[0]
    assert relabelled.key == first.key
    longer = resolve(validate(expand(validate_config({**base, "run": {"max_time_s": 0.6, "min_time_s": 0.1}}))), None)
    assert longer.jobs[0].key != first.key
    copy = tmp_path / "copy.tflite"
    copy.write_bytes(TFLITE.read_bytes())
    moved = resolve(validate(expand(validate_config({**base, "models": [str(copy)]}))), None).jobs[0]
    assert moved.key == first.key  # same content, another path: the same job
    copy.write_bytes(TFLITE.read_bytes()[:-1] + b"\1")
    changed = resolve(validate(expand(validate_config({**base, "models": [str(copy)]}))), None).jobs[0]
    assert changed.problem is None and changed.key != first.key  # new content: a new job


def test_unresolvable_model_becomes_a_problem_not_an_abort(tmp_path: Path) -> None:
    plan = resolve(
        validate(expand(validate_config({"models": [str(tmp_path / "gone.onnx")], "backends": ["fake"]}))), None
    )
    assert plan.jobs[0].key is None and plan.jobs[0].problem is not None


def test_schema_command_prints_the_json_schema(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "schema", "sweep")
    assert res.code == 0
    schema = json.loads(res.out)
    assert schema["title"] == "edgebench sweep"
    assert {"models", "backends", "threads", "batch_sizes", "include", "exclude", "run", "rounds"} <= set(
        schema["properties"]
    )
    assert schema["additionalProperties"] is False
    res = run_cli(capsys, monkeypatch, "schema", "nope")
    assert res.code == 2 and "no schema named 'nope'" in res.err


def test_schema_accepts_the_example() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    from edgebench.sweep.config import json_schema

    jsonschema.validate(yaml.safe_load(EXAMPLE.read_text()), json_schema())


def test_schema_describes_the_short_forms_too() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from edgebench.sweep.config import json_schema

    short = {"models": "m.onnx", "backends": "fake", "threads": 2, "batch_sizes": None, "precisions": "fp16"}
    jsonschema.validate(short, json_schema())
    validate_config(short)  # and the loader agrees
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"threads": "two"}, json_schema())
    with pytest.raises(UsageError):
        validate_config({"threads": "two"})


def test_full_example_validates_and_expands() -> None:
    plan = expand(load_config(EXAMPLE.with_name("sweep-full.yaml")))
    got = [(j.axis("model"), j.axis("backend"), j.axis("threads")) for j in plan.jobs]
    tflite = "tests/data/mobilenet_v1_0.25_128_quant.tflite"  # relative to the repository root, where it exists
    assert (EXAMPLE.parents[1] / tflite).is_file()
    assert got == [
        ("efficientnet-lite0", "onnxruntime", 1),
        ("efficientnet-lite0", "onnxruntime", 2),
        ("efficientnet-lite0", "litert", 1),
        (tflite, "litert", 1),
        ("efficientnet-lite0", "onnxruntime", 4),
    ]
    assert plan.excluded == 2 and plan.included == 1
    assert all(j.spec.tags == ("nightly",) for j in plan.jobs)
