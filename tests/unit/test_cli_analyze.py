"""``edgebench analyze``: totals, --per-layer, --json schema, --shape, one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import Result, run_cli
from tests.conftest import make_onnx

DATA = Path(__file__).resolve().parents[1] / "data"
MOBILENET = DATA / "mobilenet_v1_0.25_128_quant.tflite"
JSON_KEYS = {
    "params", "macs", "flops", "other_ops", "depth_param_layers", "depth_topological", "weight_bytes",
    "weight_bytes_by_dtype", "peak_activation_bytes", "model_size_bytes", "quantized_mac_fraction",
    "unsupported_ops", "layers",
}  # fmt: skip


def analyze(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    return run_cli(capsys, monkeypatch, "analyze", *args)


def assert_one_line_error(res: Result, code: int, needle: str) -> None:
    assert res.code == code, (res.code, res.out, res.err)
    lines = [line for line in res.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], res.err
    assert "Traceback" not in res.err


def test_totals_table(capsys, monkeypatch, tiny_onnx: Path) -> None:
    res = analyze(capsys, monkeypatch, str(tiny_onnx))
    assert res.code == 0, res.err
    for needle in ("Params", "256", "MACs", "FLOPs", "= 2 × MACs", "layers with params", "Peak activations"):
        assert needle in res.out, res.out
    assert re.search(r"batch\W+dim\W+'N'\W+analysed\W+as\W+1", res.out)  # the assumption is shown (may wrap)


def test_json_is_the_documented_schema(capsys, monkeypatch, tiny_onnx: Path) -> None:
    res = analyze(capsys, monkeypatch, str(tiny_onnx), "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert set(doc) >= JSON_KEYS
    assert doc["params"] == 256 and doc["macs"] == 256 and doc["flops"] == 512
    assert [row["op"] for row in doc["layers"]] == ["Cast", "MatMul", "Relu"]


def test_per_layer_rows(capsys, monkeypatch) -> None:
    res = analyze(capsys, monkeypatch, str(MOBILENET), "--per-layer")
    assert res.code == 0, res.err
    assert "W8/A8" in res.out and "DEPTHWISE_CONV_2D" in res.out
    assert "MobilenetV1/Logits/Conv2d_1c_1x1/BiasAdd" in res.out
    assert "884,736" in res.out  # first conv's MACs, printed in full even on an 80-column console


def test_shape_option_resolves_dynamic_dims(capsys, monkeypatch, tmp_path: Path) -> None:
    path = make_onnx(tmp_path / "dyn.onnx", batch="N")
    res = analyze(capsys, monkeypatch, str(path), "--shape", "x=8x16", "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["inputs"] == {"x": [8, 16]} and doc["macs"] == 8 * 16 * 16


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--shape", "x=4xa"], 2, "bad --shape"),
        (["--shape", "image=1x16"], 2, "inputs are: x"),
        (["--shape", "x=1x2x3"], 3, "rank 2"),
    ],
)
def test_bad_shape_is_a_usage_error(
    capsys, monkeypatch, tiny_onnx: Path, args: list[str], code: int, needle: str
) -> None:
    assert_one_line_error(analyze(capsys, monkeypatch, str(tiny_onnx), *args), code, needle)


def test_missing_and_corrupt_files(capsys, monkeypatch, tmp_path: Path) -> None:
    assert_one_line_error(analyze(capsys, monkeypatch, str(tmp_path / "missing.onnx")), 3, "missing.onnx")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07" + b"\xff" * 100)
    assert_one_line_error(analyze(capsys, monkeypatch, str(corrupt)), 3, "not a readable ONNX model")
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(MOBILENET.read_bytes()[:1000])
    assert_one_line_error(analyze(capsys, monkeypatch, str(cut)), 3, "not a readable TFLite model")


def test_unsupported_ops_are_named(capsys, monkeypatch) -> None:
    res = analyze(capsys, monkeypatch, str(DATA / "model_invoking_error.tflite"))
    assert res.code == 0, res.err
    assert "CUSTOM:fake-op-double" in res.out and "lower bound" in res.out


def test_cli_module_imports_no_runtime() -> None:
    code = (
        "import sys, edgebench.cli.analyze; "
        "assert not {'onnx', 'onnxruntime', 'torch', 'tflite', 'numpy'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
