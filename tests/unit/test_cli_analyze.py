"""``edgebench analyze``: totals, --per-layer, --json schema, --shape, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
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


def at_width(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """The analyze command's console at a given width (its file stays sys.stdout, which capsys holds)."""
    from rich.console import Console

    import edgebench.cli.analyze as command

    monkeypatch.setattr(command, "console", Console(width=width, highlight=False, soft_wrap=True))


def widths(text: str) -> list[int]:
    from rich.cells import cell_len

    return [cell_len(line) for line in text.splitlines()]


def test_per_layer_rows(capsys, monkeypatch) -> None:
    at_width(monkeypatch, 200)
    res = analyze(capsys, monkeypatch, str(MOBILENET), "--per-layer")
    assert res.code == 0, res.err
    assert "W8/A8" in res.out and "DEPTHWISE_CONV_2D" in res.out
    assert "MobilenetV1/Logits/Conv2d_1c_1x1/BiasAdd" in res.out
    row = next(line for line in res.out.splitlines() if "Conv2d_0/Relu6" in line).split()
    assert row[1:] == ["CONV_2D", "1×64×64×8", "224", "884,736", "248", "32,768", "uint8", "q"]  # all columns


def _long_names_model(path: Path) -> Path:
    """Exporter-style node names (40+ characters) and every column of the table filled."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((64, 64), np.float32), "w")
    w2 = numpy_helper.from_array(np.ones((64, 16), np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="/encoder/layers.0/attention/query_projection/MatMul"),
        helper.make_node("MatMul", ["h", "w2"], ["y"], name="/encoder/layers.0/attention/output_projection/MatMul"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4096, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "g", [x], [y], [w, w2])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_per_layer_fits_the_console_and_keeps_numbers_whole(capsys, monkeypatch, tmp_path: Path, width: int) -> None:
    at_width(monkeypatch, width)
    res = analyze(capsys, monkeypatch, str(_long_names_model(tmp_path / "m.onnx")), "--per-layer")
    assert res.code == 0, res.err
    needed = 63 if width == 60 else width  # under ~64 columns: longer lines rather than numbers cut short
    assert max(widths(res.out)) <= needed, res.out
    assert not [line for line in res.out.splitlines() if line != line.rstrip()]  # piped: no trailing spaces
    macs = f"{4096 * 64 * 64:,}" if width >= 80 else "16.78M"
    assert macs in res.out and "…" not in res.out
    caption = " ".join(res.out.split())  # the caption wraps at the console's width
    if width <= 80:
        assert f"left out to fit {width} columns (all in --json)" in caption
    if width == 160:  # room for every column: nothing moved, dropped or abbreviated
        assert "activation bytes" in res.out and "left out" not in caption and "on every row" not in caption


def test_columns_80_from_the_environment(tmp_path: Path) -> None:
    """The issue's own command line: a real process, COLUMNS=80, stdout a pipe."""
    env = {**os.environ, "COLUMNS": "80"}
    main = "import sys; from edgebench.cli import main; sys.argv[0] = 'edgebench'; main()"
    done = subprocess.run([sys.executable, "-c", main, "analyze", str(MOBILENET), "--per-layer"],
                          capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert max(widths(done.stdout)) <= 80 and "884,736" in done.stdout
    assert all(line == line.rstrip() for line in done.stdout.splitlines())


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
        (["--shape", "x=0x16"], 2, "bad --shape"),
        (["--shape", "x=-1x16"], 2, "bad --shape"),
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
    assert "CUSTOM:fake-op-double" in res.out
    assert re.search(r"MACs\W+\? — 1 node\(s\) not counted", res.out), res.out  # unknown, not "0"


def _unknown_relu(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_unknown_counts_are_question_marks_and_null(capsys, monkeypatch, tmp_path: Path) -> None:
    path = _unknown_relu(tmp_path / "unknown.onnx")
    res = analyze(capsys, monkeypatch, str(path))
    assert res.code == 0, res.err
    assert re.search(r"Other ops\W+\? element-wise", res.out) and "— 1 node(s) not counted" in res.out
    assert re.search(r"Peak activations\W+\? \(2 tensor\(s\) of unknown size\)", res.out), res.out
    assert " at " not in next(line for line in res.out.splitlines() if "Peak activations" in line)
    doc = json.loads(analyze(capsys, monkeypatch, str(path), "--json").out)
    assert doc["other_ops"] is None and doc["peak_activation_node"] is None and doc["lower_bounds"] == []
    assert doc["layers"][0]["other_ops"] is None and doc["unknown_other_ops_layers"] == ["Relu_0"]


def test_lower_bounds_are_marked(capsys, monkeypatch, tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("MatMul", ["h", "k"], ["y"])]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8]),
              helper.make_tensor_value_info("k", TensorProto.FLOAT, None)]  # fmt: skip
    w = numpy_helper.from_array(np.ones((8, 4), np.float32), "w")
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    path = tmp_path / "partial.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    res = analyze(capsys, monkeypatch, str(path))
    assert re.search(r"MACs\W+≥ 64 \(64\) — 1 node\(s\) not counted", res.out), res.out
    assert re.search(r"FLOPs\W+≥ 128 \(128\)", res.out) and "≥ = lower bound" in res.out
    doc = json.loads(analyze(capsys, monkeypatch, str(path), "--json").out)
    assert doc["macs"] == 64 and {"macs", "flops"} <= set(doc["lower_bounds"]) and not doc["macs_complete"]


def test_impossible_reshape_is_one_line_error(capsys, monkeypatch, tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    target = numpy_helper.from_array(np.array([7, 7], np.int64), "target")
    node = helper.make_node("Reshape", ["x", "target"], ["y"], name="head/reshape")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 192])
    graph = helper.make_graph([node], "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [target])  # fmt: skip
    path = tmp_path / "reshape.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    res = analyze(capsys, monkeypatch, str(path))
    assert_one_line_error(res, 3, "node 'head/reshape' (Reshape) cannot reshape 1×192 (192 elements) to 7×7")


def test_no_argument_analyzes_the_default_zoo_model(capsys, monkeypatch, tiny_onnx: Path) -> None:
    """The same default as ``edgebench bench``; resolving it is stubbed (a real export needs torch)."""
    import edgebench.cli.analyze as command
    from edgebench.zoo.catalog import DEFAULT_MODEL

    asked: list[str] = []

    def resolve(model: str, cache_dir: Path | None) -> tuple[Path, int | None, str]:
        asked.append(model)
        return tiny_onnx, None, model

    monkeypatch.setattr(command, "_resolve", resolve)
    res = analyze(capsys, monkeypatch)
    assert res.code == 0, res.err
    assert asked == [DEFAULT_MODEL] == ["efficientnet-lite0"] and "Static analysis of efficientnet-lite0" in res.out


def test_cli_module_imports_no_runtime() -> None:
    code = (
        "import sys, edgebench.cli.analyze; "
        "assert not {'onnx', 'onnxruntime', 'torch', 'tflite', 'numpy'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
