"""ONNX analyzer on hand-built graphs whose counts are computed by hand in the test."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgebench.analysis import ModelAnalysis, analyze_model, detect_format
from edgebench.errors import ModelError, ShapeError, UsageError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

F32 = TensorProto.FLOAT
RNG = np.random.default_rng(0)


def _init(name: str, shape: Sequence[int], dtype: Any = np.float32) -> Any:
    return numpy_helper.from_array(RNG.uniform(-1, 1, size=shape).astype(dtype), name)


def _save(
    tmp_path: Path,
    nodes: list[Any],
    inputs: list[Any],
    outputs: list[Any],
    inits: Sequence[Any] = (),
    opset: int = 17,
    name: str = "m.onnx",
) -> Path:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def _vi(name: str, shape: Sequence[int | str | None] | None, elem: int = F32) -> Any:
    return helper.make_tensor_value_info(name, elem, None if shape is None else list(shape))


def _conv_model(tmp_path: Path, x: Sequence[int], w: Sequence[int], bias: bool = True, **attrs: Any) -> ModelAnalysis:
    inputs = ["x", "w", "b"] if bias else ["x", "w"]
    inits = [_init("w", w)] + ([_init("b", (w[0],))] if bias else [])
    node = helper.make_node("Conv", inputs, ["y"], **attrs)
    return analyze_model(_save(tmp_path, [node], [_vi("x", x)], [_vi("y", None)], inits))


def _only(a: ModelAnalysis, op: str) -> Any:
    (row,) = [r for r in a.layers if r.op == op]
    return row


# --- per-operator counts ---------------------------------------------------------------------------


def test_grouped_conv(tmp_path: Path) -> None:
    a = _conv_model(tmp_path, (1, 8, 16, 16), (16, 2, 3, 3), group=4, pads=[1, 1, 1, 1])
    row = _only(a, "Conv")
    assert row.output_shape == (1, 16, 16, 16)
    assert a.macs == 16 * 16 * 16 * 2 * 9
    assert a.other_ops == 16 * 16 * 16  # the bias add, not a MAC
    assert a.params == 16 * 2 * 9 + 16 and row.params == a.params


def test_depthwise_strided_conv(tmp_path: Path) -> None:
    a = _conv_model(tmp_path, (1, 32, 56, 56), (32, 1, 3, 3), bias=False, group=32, strides=[2, 2], pads=[1] * 4)
    assert _only(a, "Conv").output_shape == (1, 32, 28, 28)
    assert a.macs == 32 * 28 * 28 * 9 and a.other_ops == 0


def test_dilated_conv(tmp_path: Path) -> None:
    a = _conv_model(tmp_path, (1, 4, 32, 32), (8, 4, 3, 3), bias=False, dilations=[2, 2])
    assert _only(a, "Conv").output_shape == (1, 8, 28, 28)
    assert a.macs == 8 * 28 * 28 * 4 * 9


def test_conv_transpose(tmp_path: Path) -> None:
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])
    path = _save(tmp_path, [node], [_vi("x", (1, 16, 8, 8))], [_vi("y", None)], [_init("w", (16, 8, 4, 4))])
    a = analyze_model(path)
    assert _only(a, "ConvTranspose").output_shape == (1, 8, 16, 16)
    assert a.macs == 16 * 8 * 8 * 8 * 4 * 4  # every input element × Cout × kernel


def test_batched_matmul_with_broadcast_weight(tmp_path: Path) -> None:
    nodes = [helper.make_node("MatMul", ["x", "k"], ["s"]), helper.make_node("MatMul", ["s", "w"], ["y"])]
    path = _save(
        tmp_path, nodes, [_vi("x", (2, 4, 8, 16)), _vi("k", (2, 4, 16, 32))], [_vi("y", None)], [_init("w", (32, 5))]
    )
    a = analyze_model(path)
    assert [r.macs for r in a.layers] == [2 * 4 * 8 * 16 * 32, 2 * 4 * 8 * 32 * 5]
    assert a.params == 32 * 5 and a.layers[0].params == 0  # activation × activation: no weight


def test_gemm_trans_b(tmp_path: Path) -> None:
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
    path = _save(tmp_path, [node], [_vi("x", (3, 20))], [_vi("y", None)], [_init("w", (10, 20)), _init("b", (10,))])
    a = analyze_model(path)
    assert a.macs == 3 * 20 * 10 and a.other_ops == 3 * 10 and a.params == 210
    assert a.depth_param_layers == 1 and a.layers[0].output_shape == (3, 10)


def test_other_ops_of_pool_softmax_resize_bn(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["bn"]),
        helper.make_node("MaxPool", ["bn"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Resize", ["p", "", "scales"], ["r"], mode="linear"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Softmax", ["f"], ["y"]),
    ]
    inits = [_init(n, (4,)) for n in "sbmv"]
    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"))
    a = analyze_model(_save(tmp_path, nodes, [_vi("x", (1, 4, 8, 8))], [_vi("y", None)], inits))
    by_op = {r.op: r.other_ops for r in a.layers}
    assert by_op == {
        "BatchNormalization": 2 * 256, "MaxPool": 64 * 4, "Resize": 256 * 4, "GlobalAveragePool": 256,
        "Flatten": 0, "Softmax": 3 * 4,
    }  # fmt: skip
    assert a.macs == 0 and a.params == 16  # BN's scale, bias, mean, var are weights in the file
    assert a.quantized_mac_fraction is None


# --- weights -------------------------------------------------------------------------------------------


def test_shared_initializer_counted_once(tmp_path: Path) -> None:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("MatMul", ["h", "w"], ["y"])]
    a = analyze_model(_save(tmp_path, nodes, [_vi("x", (1, 8))], [_vi("y", None)], [_init("w", (8, 8))]))
    assert a.params == 64 and [r.params for r in a.layers] == [64, 0]
    assert a.depth_param_layers == 2 and a.weight_bytes == 256


def test_node_produced_weights_are_counted_and_shape_inputs_are_not(tmp_path: Path) -> None:
    """Constant, ConstantOfShape and Reshape(initializer) weights; Reshape's shape is no weight."""
    shape = numpy_helper.from_array(np.array([8, 1, 3, 3], np.int64), "shape")
    nodes = [
        helper.make_node("Constant", [], ["shape_c"], value=shape),
        helper.make_node("Reshape", ["flat", "shape_c"], ["w"]),
        helper.make_node("Conv", ["x", "w"], ["c"], group=8, pads=[1] * 4),
        helper.make_node("Constant", [], ["n"], value=numpy_helper.from_array(np.array([1, 8, 1, 1], np.int64))),
        helper.make_node(
            "ConstantOfShape", ["n"], ["bias"], value=numpy_helper.from_array(np.array([0.5], np.float32))
        ),
        helper.make_node("Add", ["c", "bias"], ["a"]),
        helper.make_node(
            "Constant", [], ["scale"], value=numpy_helper.from_array(RNG.random((1, 8, 1, 1), np.float32))
        ),
        helper.make_node("Mul", ["a", "scale"], ["y"]),
    ]
    a = analyze_model(_save(tmp_path, nodes, [_vi("x", (1, 8, 6, 6))], [_vi("y", None)], [_init("flat", (72,))]))
    assert a.params == 72 + 8 + 8  # reshaped conv weight + ConstantOfShape bias + Constant scale
    assert [r.op for r in a.layers] == ["Conv", "Add", "Mul"]  # constant nodes are folded, not executed
    assert a.macs == 8 * 36 * 9 and a.depth_param_layers == 3


def test_clip_bounds_and_pad_amounts_are_not_params(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"]),
        helper.make_node("Clip", ["p", "lo", "hi"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
        numpy_helper.from_array(np.array(0, np.float32), "lo"),
        numpy_helper.from_array(np.array(6, np.float32), "hi"),
    ]
    a = analyze_model(_save(tmp_path, nodes, [_vi("x", (1, 2, 4, 4))], [_vi("y", None)], inits))
    assert a.params == 0 and a.depth_param_layers == 0
    assert a.layers[1].output_shape == (1, 2, 6, 6) and a.other_ops == 72


def test_external_data_weights_counted_without_loading(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [_vi("x", (2, 300))], [_vi("y", None)],
        [_init("w", (300, 200))],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "ext.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location="w.bin", size_threshold=0)
    a = analyze_model(path)
    assert a.params == 60_000 and a.macs == 2 * 300 * 200 and a.weight_bytes == 240_000
    assert a.model_size_bytes == path.stat().st_size + (tmp_path / "w.bin").stat().st_size


def test_initializer_listed_as_graph_input_is_a_weight(tmp_path: Path) -> None:
    """IR < 4 files list initializers among the graph inputs too."""
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    path = _save(tmp_path, [node], [_vi("x", (1, 4)), _vi("w", (4, 4))], [_vi("y", None)], [_init("w", (4, 4))])
    a = analyze_model(path)
    assert a.params == 16 and a.inputs == {"x": (1, 4)} and a.macs == 16


def test_qdq_model_weights_by_dtype_and_quantized_fraction(tmp_path: Path) -> None:
    w_int8 = numpy_helper.from_array(RNG.integers(-127, 127, (8, 4, 3, 3), dtype=np.int8), "w_q")
    scalars = [
        numpy_helper.from_array(np.array(0.02, np.float32), "s"),
        numpy_helper.from_array(np.array(0, np.int8), "zp"),
        numpy_helper.from_array(np.array(0, np.uint8), "zpu"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zpu"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "s", "zpu"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w_q", "s", "zp"], ["w"]),
        helper.make_node("Conv", ["xd", "w"], ["y"]),
    ]
    a = analyze_model(_save(tmp_path, nodes, [_vi("x", (1, 4, 10, 10))], [_vi("y", None)], [w_int8, *scalars]))
    assert a.params == 288 and a.weight_bytes_by_dtype == {"int8": 288}  # scale/zero point are not weights
    assert a.quantized_mac_fraction == 1.0 and a.bit_width == "W8/A8"
    assert _only(a, "Conv").quantized and _only(a, "Conv").macs == 8 * 8 * 8 * 4 * 9


# --- shape resolution ------------------------------------------------------------------------------


def _same_pad_chain(tmp_path: Path) -> Path:
    """The exporter's "same" padding: pads built by ConstantOfShape/Concat/Reshape/Transpose/Cast."""

    def const(name: str, values: list[int]) -> Any:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(values, np.int64)))

    nodes = [
        const("n", [3]),
        helper.make_node("ConstantOfShape", ["n"], ["zeros"], value=numpy_helper.from_array(np.array([0], np.int64))),
        const("one", [1]),
        helper.make_node("Concat", ["zeros", "one", "zeros", "one"], ["cat"], axis=0),  # [0 0 0 1 0 0 0 1]
        const("s24", [2, 4]),
        helper.make_node("Reshape", ["cat", "s24"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[1, 0]),
        const("s8", [8]),
        helper.make_node("Reshape", ["t", "s8"], ["pads64"]),  # [0 0 0 0 0 0 1 1]: TF "same", stride 2
        helper.make_node("Cast", ["pads64"], ["pads"], to=TensorProto.INT64),
        helper.make_node("Pad", ["x", "pads"], ["p"]),
        helper.make_node("Conv", ["p", "w"], ["y"], strides=[2, 2]),
    ]
    return _save(tmp_path, nodes, [_vi("x", (1, 3, 224, 224))], [_vi("y", None)], [_init("w", (32, 3, 3, 3))])


def test_constant_pad_chain_is_folded_so_conv_shapes_resolve(tmp_path: Path) -> None:
    path = _same_pad_chain(tmp_path)
    plain = onnx.shape_inference.infer_shapes(onnx.load(str(path)), data_prop=True)
    (padded,) = [v for v in plain.graph.value_info if v.name == "p"]
    assert all(d.HasField("dim_param") for d in padded.type.tensor_type.shape.dim)  # what plain inference gives
    a = analyze_model(path)
    conv = _only(a, "Conv")
    assert conv.output_shape == (1, 32, 112, 112) and conv.macs == 32 * 112 * 112 * 27
    assert a.macs_complete and a.params == 32 * 27 and [r.op for r in a.layers] == ["Pad", "Conv"]


def test_shape_gather_arithmetic_is_folded(tmp_path: Path) -> None:
    """Shape → Gather → Div → Concat → Reshape: resolved once the input shape is known."""
    idx = numpy_helper.from_array(np.array(1, np.int64), "i1")
    two = numpy_helper.from_array(np.array([2], np.int64), "two")
    minus1 = numpy_helper.from_array(np.array([-1], np.int64), "m1")
    nodes = [
        helper.make_node("Shape", ["x"], ["sh"]),
        helper.make_node("Gather", ["sh", "i1"], ["c"]),
        helper.make_node("Unsqueeze", ["c", "zero"], ["c1"]),
        helper.make_node("Div", ["c1", "two"], ["half"]),
        helper.make_node("Concat", ["m1", "half"], ["newshape"], axis=0),
        helper.make_node("Reshape", ["x", "newshape"], ["r"]),
        helper.make_node("MatMul", ["r", "w"], ["y"]),
    ]
    inits = [idx, two, minus1, numpy_helper.from_array(np.array([0], np.int64), "zero"), _init("w", (8, 3))]
    a = analyze_model(_save(tmp_path, nodes, [_vi("x", ("N", 16))], [_vi("y", None)], inits))
    assert _only(a, "MatMul").macs == 2 * 8 * 3  # batch N analysed as 1: (1×16) → (2×8) · (8×3)
    assert any("batch" in note for note in a.notes) and a.params == 24


def test_symbolic_dims_are_reported_not_zeroed(tmp_path: Path) -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1] * 4)
    path = _save(tmp_path, [node], [_vi("x", ("N", 3, "H", "W"))], [_vi("y", None)], [_init("w", (8, 3, 3, 3))])
    a = analyze_model(path)
    assert _only(a, "Conv").macs is None and not a.macs_complete and a.unknown_macs_layers == ("Conv_0",)
    assert a.peak_activation_bytes is None and a.unknown_activation_tensors >= 1
    assert a.params == 216  # weights are known even when activations are not
    assert any("--shape x=" in note for note in a.notes)
    fixed = analyze_model(path, {"x": (2, 3, 32, 32)})
    assert fixed.macs == 2 * 8 * 32 * 32 * 27 and fixed.macs_complete
    assert fixed.peak_activation_bytes == 4 * (2 * 3 * 32 * 32 + 2 * 8 * 32 * 32)
    assert fixed.inputs == {"x": (2, 3, 32, 32)}


def test_unknown_shapes_give_null_totals_and_no_peak_node(tmp_path: Path) -> None:
    """The only node's counts are unknown: the totals say so instead of 0."""
    a = analyze_model(_save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [_vi("x", None)], [_vi("y", None)]))
    assert a.layers[0].other_ops is None and a.other_ops is None and a.unknown_other_ops_layers == ("Relu_0",)
    assert a.macs == 0 and a.macs_complete  # a Relu has no MACs whatever its shape
    assert a.peak_activation_bytes is None and a.peak_activation_node is None
    assert a.lower_bounds == () and not any("at least 0" in note for note in a.notes)


def test_partly_unknown_totals_are_marked_lower_bounds(tmp_path: Path) -> None:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("MatMul", ["h", "k"], ["y"])]
    inputs = [_vi("x", (2, 8)), _vi("k", None)]  # the second product's shape cannot be known
    a = analyze_model(_save(tmp_path, nodes, inputs, [_vi("y", None)], [_init("w", (8, 4))]))
    assert a.macs == 2 * 8 * 4 and a.unknown_macs_layers == ("MatMul_1",)
    assert {"macs", "flops"} <= set(a.lower_bounds) and not a.macs_complete


@pytest.mark.parametrize(
    ("shapes", "needle"),
    [
        ("x=1x3", "must map input names"),  # a str is a sequence: it used to be read character by character
        ([("x", (1, 16))], "must map input names"),
        ({"x": "1x16"}, "non-empty tuple of ints"),
        ({"x": ()}, "non-empty tuple of ints"),
        ({"x": (1, 0)}, "must be positive"),
        ({"x": (1, -16)}, "must be positive"),
        ({"x": (1.0, 16)}, "must hold ints"),
        ({"x": (True, 16)}, "must hold ints"),
        ({1: (1, 16)}, "non-empty strings"),
    ],
)
def test_shapes_argument_is_checked(tiny_onnx: Path, shapes: Any, needle: str) -> None:
    with pytest.raises(UsageError, match=needle) as info:
        analyze_model(tiny_onnx, shapes)
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


def test_shapes_accept_lists_and_numpy_ints(tiny_onnx: Path) -> None:
    assert analyze_model(tiny_onnx, {"x": [4, 16]}).inputs == {"x": (4, 16)}
    assert analyze_model(tiny_onnx, {"x": (np.int64(2), np.int32(16))}).macs == 2 * 16 * 16


def test_shape_override_errors(tmp_path: Path) -> None:
    node = helper.make_node("Relu", ["x"], ["y"])
    path = _save(tmp_path, [node], [_vi("x", ("N", 3, 8))], [_vi("y", None)])
    with pytest.raises(UsageError, match="inputs are: x"):
        analyze_model(path, {"image": (1, 3, 8)})
    with pytest.raises(ShapeError, match="rank 3"):
        analyze_model(path, {"x": (1, 3)})
    with pytest.raises(ShapeError, match="fixed size 3"):
        analyze_model(path, {"x": (1, 4, 8)})


def test_unsorted_graph_is_executed_in_topological_order(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["h"], ["y"]), helper.make_node("MatMul", ["x", "w"], ["h"])]
    graph = helper.make_graph(nodes, "g", [_vi("x", (1, 4))], [_vi("y", None)], [_init("w", (4, 4))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "unsorted.onnx"
    path.write_bytes(model.SerializeToString())
    a = analyze_model(path)
    assert [r.op for r in a.layers] == ["MatMul", "Relu"] and a.macs == 16


def test_residual_liveness_and_depth(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Sigmoid", ["a"], ["b"]),
        helper.make_node("Add", ["b", "x"], ["y"]),
    ]
    a = analyze_model(_save(tmp_path, nodes, [_vi("x", (1, 256))], [_vi("y", None)]))
    assert a.peak_activation_bytes == 3 * 1024  # x, a, b at the Sigmoid (x kept for the skip)
    assert a.depth_topological == 3 and a.depth_param_layers == 0 and a.other_ops == 3 * 256


def test_failing_constant_arithmetic_is_noted_not_fatal(tmp_path: Path) -> None:
    """A constant Gather out of range cannot be evaluated: noted, kept away from shape inference."""
    nodes = [
        helper.make_node("Gather", ["pads8", "idx"], ["pads"]),
        helper.make_node("Pad", ["x", "pads"], ["p"]),
        helper.make_node("Conv", ["p", "w"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.zeros(8, np.int64), "pads8"),
        numpy_helper.from_array(np.array([99] * 8, np.int64), "idx"),
        _init("w", (4, 3, 3, 3)),
    ]
    a = analyze_model(_save(tmp_path, nodes, [_vi("x", (1, 3, 8, 8))], [_vi("y", None)], inits))
    assert any("could not be evaluated" in note for note in a.notes)
    assert _only(a, "Conv").macs is None and a.params == 108 and not a.macs_complete
    assert a.macs is None and a.lower_bounds == ()  # nothing counted: unknown, not 0


def _reshape_model(tmp_path: Path, target: Sequence[int], source: Any = None, **attrs: Any) -> Path:
    shape = numpy_helper.from_array(np.array(target, np.int64), "target")
    inputs = [_vi("x", (1, 3, 8, 8))] if source is None else []
    inits = [shape] if source is None else [shape, source]
    node = helper.make_node("Reshape", ["x", "target"], ["y"], name="bad_reshape", **attrs)
    return _save(tmp_path, [node, helper.make_node("Relu", ["y"], ["z"])], inputs, [_vi("z", None)], inits)


@pytest.mark.parametrize(
    ("target", "attrs", "problem"),
    [
        ([7, 7], {}, "cannot reshape 1×3×8×8 (192 elements) to 7×7 (49 elements)"),
        ([-1, 7], {}, "to -1×7"),  # 192 is no multiple of 7; onnx's inference then gives up silently
        ([5, 0], {}, "to 5×0"),  # 0 copies the input's dim: 5×3 = 15 elements
        ([0, -1], {"allowzero": 1}, "to 0×-1"),  # allowzero: a real 0, and then -1 cannot be resolved
        ([-1, -1], {}, "invalid target shape -1×-1"),
    ],
)
def test_impossible_reshape_is_a_shape_error_naming_the_node(
    tmp_path: Path, target: list[int], attrs: dict[str, int], problem: str
) -> None:
    with pytest.raises(ShapeError, match="bad_reshape") as info:
        analyze_model(_reshape_model(tmp_path, target, **attrs))
    assert problem in str(info.value) and info.value.exit_code == 3 and info.value.hint


@pytest.mark.parametrize("target", [[0, -1], [-1], [1, 192], [3, 64], [1, 3, -1, 4]])
def test_possible_reshapes_are_accepted(tmp_path: Path, target: list[int]) -> None:
    a = analyze_model(_reshape_model(tmp_path, target))
    assert a.layers[0].output_shape is not None and a.peak_activation_bytes is not None


def test_impossible_reshape_of_a_constant_is_a_shape_error(tmp_path: Path) -> None:
    """Constant folding cannot run it either; the error says what is wrong rather than a vague note."""
    path = _reshape_model(tmp_path, [1 << 46], source=numpy_helper.from_array(np.zeros(8, np.int64), "x"))
    with pytest.raises(ShapeError, match=r"cannot reshape 8 \(8 elements\)"):
        analyze_model(path)


def _light_style_model(tmp_path: Path) -> Path:
    """The shape of the onnx wheel's light_* models: IR 3 (initializers repeated as graph inputs),
    opset 9, weights made at graph time by ConstantOfShape, Unsqueeze-1 with an ``axes`` attribute
    and a Dropout-7 whose mask nobody reads."""
    w_shape = numpy_helper.from_array(np.array([16, 3, 3, 3], np.int64), "w_shape")
    scale = _init("scale", (16,))
    nodes = [
        helper.make_node("ConstantOfShape", ["w_shape"], ["w"], value=numpy_helper.from_array(np.ones(1, np.float32))),
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * 4),
        helper.make_node("Unsqueeze", ["scale"], ["s"], axes=[1, 2]),
        helper.make_node("Mul", ["c", "s"], ["m"]),
        helper.make_node("Dropout", ["m"], ["y", "mask"], ratio=0.5),
    ]
    inputs = [_vi("x", (1, 3, 32, 32)), _vi("w_shape", (4,), TensorProto.INT64), _vi("scale", (16,))]
    graph = helper.make_graph(nodes, "light", inputs, [_vi("y", None)], [w_shape, scale])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 3
    path = tmp_path / "light.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_graph_time_weights_of_old_ir_files_are_counted(tmp_path: Path) -> None:
    a = analyze_model(_light_style_model(tmp_path))
    conv = _only(a, "Conv")
    assert conv.output_shape == (1, 16, 32, 32) and conv.macs == 16 * 32 * 32 * 27 and conv.params == 16 * 27
    assert a.macs_complete and a.params == 16 * 27 + 16 and not a.notes
    assert _only(a, "Mul").other_ops == 16 * 32 * 32  # the Unsqueeze-1 was folded: its shape is known
    # the Dropout's float mask (opset < 10) is sized like its data, so the peak is known
    assert a.peak_activation_bytes == 3 * 4 * 16 * 32 * 32 and a.peak_activation_node == "Dropout_4"


# --- not counted -----------------------------------------------------------------------------------


def test_subgraph_is_reported_not_counted(tmp_path: Path) -> None:
    then_w = _init("tw", (4, 4))
    branch = lambda name, op: helper.make_graph(  # noqa: E731
        [helper.make_node(op, ["x", "tw"], [f"{name}_out"])], name, [], [_vi(f"{name}_out", (1, 4))], [then_w]
    )
    nodes = [helper.make_node("If", ["cond"], ["y"], then_branch=branch("then", "MatMul"),
                              else_branch=branch("else", "Add"))]  # fmt: skip
    inputs = [_vi("cond", [], TensorProto.BOOL), _vi("x", (1, 4))]
    a = analyze_model(_save(tmp_path, nodes, inputs, [_vi("y", (1, 4))]))
    assert a.unsupported_ops == ("If",) and not a.macs_complete
    assert "sub-graph not counted" in a.layers[0].note
    assert a.params == 32  # weights inside both branches are in the file


def test_unsupported_op_listed_by_name(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Frobnicate", ["a"], ["y"], domain="com.example")]
    graph = helper.make_graph(nodes, "g", [_vi("x", (1, 4))], [_vi("y", (1, 4))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    path = tmp_path / "custom.onnx"
    onnx.save(model, str(path))
    a = analyze_model(path)
    assert a.unsupported_ops == ("com.example:Frobnicate",)
    assert a.unknown_macs_layers == ("Frobnicate_1",) and a.layers[0].other_ops == 4


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"", "empty"), (b"\x08\x07garbage-that-is-not-protobuf\xff\xff\xff", "not a readable ONNX model")],
)
def test_corrupt_onnx_is_one_line_model_error(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=match) as info:
        analyze_model(path)
    assert "\n" not in str(info.value) and info.value.hint


def test_truncated_onnx(tmp_path: Path) -> None:
    good = _save(tmp_path, [helper.make_node("MatMul", ["x", "w"], ["y"])], [_vi("x", (1, 64))], [_vi("y", None)],
                 [_init("w", (64, 64))])  # fmt: skip
    data = good.read_bytes()
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="not a readable ONNX model"):
        analyze_model(bad)


def test_missing_directory_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        analyze_model(tmp_path / "nope.onnx")
    with pytest.raises(ModelError, match="directory"):
        analyze_model(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelError, match="unknown model format"):
        detect_format(text)


def test_entry_point_and_light_import() -> None:
    from edgebench import registry
    from edgebench.analysis.onnx import OnnxAnalyzer

    assert registry.load("edgebench.analyzers", "onnx") is OnnxAnalyzer
    code = "import sys, edgebench.analysis; assert not {'onnx', 'numpy', 'tflite'} & set(sys.modules), sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
