"""Real OpenVINO on small graphs built in the test: ONNX and IR, through the engine and the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from edgebench.engine.bench import run_benchmark
from edgebench.errors import BackendError, BackendUnavailable, ModelError, UsageError
from edgebench.records import RunSpec
from tests.cli_helpers import run_cli
from tests.conftest import make_onnx

ov = pytest.importorskip("openvino")

from edgebench.backends.openvino import OpenVinoBackend, OpenVinoOptions  # noqa: E402


def spec_for(path: Path, **kw: object) -> RunSpec:
    base: dict[str, object] = dict(
        model=str(path),
        backend="openvino",
        processes=1,
        warmup_time_s=0.05,
        min_time_s=0.2,
        min_iters=50,
        max_time_s=5.0,
        threads=1,
    )
    base.update(kw)
    return RunSpec(**base)  # type: ignore[arg-type]


def make_dense_onnx(path: Path, features: int = 32) -> Path:
    """MatMul + Add + Tanh with random weights: outputs that differ when precision or math differ."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.standard_normal((features, features)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(features).astype(np.float32), "b")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["a"]),
        helper.make_node("Tanh", ["a"], ["y"]),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", features])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", features])
    model = helper.make_model(
        helper.make_graph(nodes, "dense", [x], [y], [w, b]), opset_imports=[helper.make_opsetid("", 13)]
    )
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def save_ir(onnx_path: Path) -> Path:
    xml = onnx_path.with_suffix(".xml")
    ov.save_model(ov.convert_model(str(onnx_path)), str(xml))
    return xml


def cpu_capabilities() -> list[str]:
    return [str(c) for c in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")]


@pytest.mark.slow
def test_onnx_through_the_engine_runs_f32_by_default(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "dyn.onnx")
    rec = run_benchmark(spec_for(model, batch=4), store=None)
    assert rec.status == "ok", rec.error
    assert rec.model.format == "onnx" and rec.summary.iterations >= 50
    assert rec.measurements.inputs[0].shape == (4, 16) and rec.measurements.outputs[0].shape == (4, 16)
    # never the device default (bf16 on AVX-512 BF16 / AMX CPUs): f32 unless asked otherwise
    assert rec.effective["precision"] == "f32" and rec.effective["precision_requested"] == "f32"
    props = rec.effective["properties"]
    assert props["INFERENCE_NUM_THREADS"] == 1 and props["PERFORMANCE_HINT"] == "LATENCY"
    assert props["NUM_STREAMS"] == 1 and list(rec.effective["providers"]) == ["CPU"]
    assert rec.effective["compiled_shapes"] == {"x": (4, 16)}
    assert rec.environment.runtime_versions["openvino"]


@pytest.mark.slow
def test_ir_with_its_bin_is_hashed_as_one_model(tmp_path: Path) -> None:
    xml = save_ir(make_dense_onnx(tmp_path / "dense.onnx"))
    rec = run_benchmark(spec_for(xml), store=None)
    assert rec.status == "ok", rec.error
    assert rec.model.format == "openvino"
    assert rec.model.files == (str(xml.with_suffix(".bin")),)
    assert rec.model.size_bytes == xml.stat().st_size + xml.with_suffix(".bin").stat().st_size
    assert rec.effective["precision"] == "f32"


@pytest.mark.slow
def test_bf16_on_request_is_recorded_as_bf16(tmp_path: Path) -> None:
    if "BF16" not in cpu_capabilities():
        pytest.skip("this CPU has no bf16 execution in OpenVINO (OPTIMIZATION_CAPABILITIES lacks BF16)")
    rec = run_benchmark(spec_for(make_onnx(tmp_path / "m.onnx"), precision="bf16"), store=None, executor="inline")
    assert rec.status == "ok" and rec.effective["precision"] == "bf16"


def test_a_precision_the_device_substitutes_is_refused(tmp_path: Path) -> None:
    if "FP16" in cpu_capabilities():
        pytest.skip("this CPU executes f16 natively: nothing is substituted")
    model = make_onnx(tmp_path / "m.onnx")
    with pytest.raises(UsageError, match="--precision fp16: OpenVINO CPU runs bf16 instead of f16"):
        OpenVinoBackend().load(model, spec_for(model, precision="fp16"), OpenVinoOptions())


@pytest.mark.parametrize("api", ["sync", "async"])
def test_outputs_match_onnxruntime(tmp_path: Path, api: str) -> None:
    import onnxruntime as ort

    model = make_dense_onnx(tmp_path / "dense.onnx")
    x = np.random.default_rng(0).standard_normal((3, 32)).astype(np.float32)
    (expected,) = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    session = OpenVinoBackend().load(model, spec_for(model, batch=3), OpenVinoOptions(api=api))
    prepared = session.prepare({"x": x})
    first, second = session.run(prepared)[0], session.run(prepared)[0]
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-6)
    assert first is not second and np.array_equal(first, second)  # copies, not views of the request's tensor
    assert session.effective()["api"] == api
    session.close()


def test_io_specs_keep_dynamic_dims_and_dtypes(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "int.onnx", dtype="int64")
    session = OpenVinoBackend().load(model, spec_for(model), OpenVinoOptions())
    (spec,) = session.inputs()
    assert (spec.name, spec.dtype, spec.shape) == ("x", "int64", (None, 16))
    assert [(o.name, o.dtype, o.shape) for o in session.outputs()] == [("y", "float32", (1, 16))]
    # feeds of another shape recompile the dynamic model (in prepare, outside the timed call)
    (y,) = session.run(session.prepare({"x": np.ones((5, 16), dtype=np.int64)}))
    assert y.shape == (5, 16) and session.effective()["compiled_shapes"] == {"x": [5, 16]}


@pytest.mark.slow
def test_async_api_through_the_engine(tmp_path: Path) -> None:
    rec = run_benchmark(spec_for(make_onnx(tmp_path / "m.onnx"), backend_options={"api": "async"}), store=None)
    assert rec.status == "ok" and rec.effective["api"] == "async" and rec.summary.iterations >= 50


def test_missing_device_is_one_line_naming_available_devices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if "GPU" in ov.Core().available_devices:
        pytest.skip("this machine has an OpenVINO GPU")
    model = make_onnx(tmp_path / "model.onnx")
    res = run_cli(
        capsys,
        monkeypatch,
        "bench",
        str(model),
        "--backend",
        "openvino",
        "--backend-option",
        "device=GPU",
        "--no-store",
    )
    assert res.code == BackendUnavailable.exit_code
    errors = [line for line in res.err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "device GPU is not available (available: CPU" in errors[0]
    assert "Traceback" not in res.err


@pytest.mark.parametrize(
    ("option", "field"),
    [
        ("num_streams=0", "openvino.num_streams"),
        ("performance_hint=fast", "openvino.performance_hint"),
        ("api=callback", "openvino.api"),
        ('properties={"INFERENCE_PRECISION_HINT": "bf16"}', "openvino.properties"),
        ("nireq=2", "openvino.nireq"),
    ],
)
def test_bad_option_values_exit_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, option: str, field: str
) -> None:
    model = make_onnx(tmp_path / "model.onnx")
    res = run_cli(capsys, monkeypatch, "bench", str(model), "--backend", "openvino", "--backend-option", option)
    assert res.code == 2 and field in res.err, res.err


def test_runtime_errors_are_translated(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not a protobuf")
    with pytest.raises(ModelError, match=r"OpenVINO cannot read bad\.onnx"):
        OpenVinoBackend().load(bad, spec_for(bad), OpenVinoOptions())
    model = make_onnx(tmp_path / "m.onnx")
    with pytest.raises(UsageError, match="refused the configuration"):
        OpenVinoBackend().load(model, spec_for(model), OpenVinoOptions(properties={"NOT_A_PROPERTY": "1"}))
    session = OpenVinoBackend().load(model, spec_for(model), OpenVinoOptions())
    with pytest.raises(BackendError, match=re.escape("OpenVINO could not reshape the model to {'x': (2, 3, 4)}")):
        session.prepare({"x": np.ones((2, 3, 4), dtype=np.float32)})
    static = make_onnx(tmp_path / "static.onnx", batch=2)
    session = OpenVinoBackend().load(static, spec_for(static), OpenVinoOptions())
    with pytest.raises(BackendError, match="OpenVINO refused the inputs"):
        session.prepare({"x": np.ones((3, 16), dtype=np.float32)})


def test_importing_edgebench_backends_openvino_imports_no_runtime() -> None:
    import subprocess
    import sys

    code = "import sys, edgebench.backends.openvino; print('openvino' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(("level", "expected"), [("error", "ERR"), ("verbose", "TRACE"), ("fatal", "NO")])
def test_runtime_log_level_maps_to_log_level(tmp_path: Path, level: str, expected: str) -> None:
    path = make_dense_onnx(tmp_path / "dense.onnx")
    session = OpenVinoBackend().load(path, spec_for(path, runtime_log_level=level), OpenVinoOptions())
    props = session.effective()["properties"]
    assert isinstance(props, dict)
    assert str(props["LOG_LEVEL"]).rsplit(".", 1)[-1] == expected  # read back from the compiled model


def test_log_level_has_its_own_flag(tmp_path: Path) -> None:
    from edgebench.options import validate

    with pytest.raises(UsageError, match="--runtime-log-level"):
        validate("openvino", OpenVinoOptions, {"properties": {"LOG_LEVEL": "LOG_INFO"}})
