"""Hand-computed MAC counts per operator, liveness, and the analysis JSON schema."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgebench.analysis import formulas as F
from edgebench.analysis.graph import Graph, Node, Tensor, Weight, assemble, bit_width, topological_depth
from edgebench.analysis.liveness import Step, peak_activation
from edgebench.analysis.model import LayerRow, ModelAnalysis

# --- convolution ----------------------------------------------------------------------------------


def test_conv_output_size_stride_pad_dilation() -> None:
    assert F.conv_output_size(224, 7, stride=2, pad_begin=3, pad_end=3) == 112
    assert F.conv_output_size(32, 3, dilation=2) == 28  # effective kernel 5
    assert F.conv_output_size(15, 3, stride=2, pad_begin=0, pad_end=1) == 7  # TF "same", asymmetric


def test_standard_conv() -> None:
    # ResNet stem: 64 × 112 × 112 outputs, each 3 × 7 × 7 taps
    assert F.conv_macs(1, 64, (112, 112), 3, (7, 7)) == 118_013_952


def test_grouped_conv() -> None:
    # 8 → 16 channels in 4 groups: each output sees 8/4 = 2 input channels × 3 × 3
    assert F.conv_macs(1, 16, (16, 16), 8, (3, 3), groups=4) == 16 * 16 * 16 * 2 * 9


def test_depthwise_conv() -> None:
    assert F.conv_macs(1, 32, (28, 28), 32, (3, 3), groups=32) == 32 * 28 * 28 * 9


def test_dilated_conv_counts_taps_not_span() -> None:
    out = F.conv_output_size(32, 3, dilation=2)
    assert F.conv_macs(1, 8, (out, out), 4, (3, 3)) == 8 * 28 * 28 * 4 * 9


def test_conv_transpose_scatters_each_input() -> None:
    # 16 → 8 channels, 4×4 kernel, stride 2: every input element feeds 8 × 16 outputs
    assert F.conv_transpose_macs(1, 16, (8, 8), 8, (4, 4)) == 16 * 64 * 8 * 16
    assert F.conv_transpose_macs(2, 16, (8, 8), 8, (4, 4), groups=2) == 2 * 16 * 64 * 4 * 16


@pytest.mark.parametrize(("cin", "cout", "groups"), [(6, 4, 4), (4, 6, 4), (4, 4, 0)])
def test_conv_rejects_bad_groups(cin: int, cout: int, groups: int) -> None:
    with pytest.raises(ValueError, match="groups"):
        F.conv_macs(1, cout, (4, 4), cin, (3, 3), groups=groups)


@given(
    groups=st.integers(1, 4), cin_per=st.integers(1, 4), cout_per=st.integers(1, 4),
    h=st.integers(1, 9), k=st.integers(1, 3), batch=st.integers(1, 3),
)  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_grouped_conv_is_the_sum_of_its_groups(
    groups: int, cin_per: int, cout_per: int, h: int, k: int, batch: int
) -> None:
    whole = F.conv_macs(batch, groups * cout_per, (h, h), groups * cin_per, (k, k), groups)
    assert whole == groups * F.conv_macs(batch, cout_per, (h, h), cin_per, (k, k))


@given(size=st.integers(1, 40), k=st.integers(1, 5), s=st.integers(1, 3), d=st.integers(1, 3), p=st.integers(0, 3))
@settings(max_examples=100, deadline=None)
def test_conv_output_size_matches_window_enumeration(size: int, k: int, s: int, d: int, p: int) -> None:
    span = d * (k - 1) + 1
    starts = range(-p, size + p - span + 1, s)  # every window that fits inside the padded input
    if size + 2 * p >= span:
        assert F.conv_output_size(size, k, s, d, p, p) == len(starts)


# --- matrix products --------------------------------------------------------------------------------


def test_gemm_trans_b() -> None:
    # Linear layer: x (3×20) · Wᵀ with W stored (10×20)
    assert F.gemm_macs((3, 20), (10, 20), trans_b=True) == 3 * 20 * 10
    assert F.gemm_macs((20, 3), (20, 10), trans_a=True) == 3 * 20 * 10
    with pytest.raises(ValueError, match="inner"):
        F.gemm_macs((3, 20), (10, 20))


def test_batched_matmul_and_broadcast() -> None:
    assert F.matmul_macs((2, 4, 8, 16), (2, 4, 16, 32)) == 2 * 4 * 8 * 16 * 32
    assert F.matmul_macs((2, 4, 8, 16), (16, 32)) == 2 * 4 * 8 * 16 * 32  # weight broadcast
    assert F.matmul_macs((16,), (16, 32)) == 16 * 32  # vector · matrix
    assert F.matmul_macs((5, 16), (16,)) == 5 * 16


def test_attention_style_matmuls() -> None:
    b, heads, seq, dim = 1, 12, 197, 64
    scores = F.matmul_macs((b, heads, seq, dim), (b, heads, dim, seq))  # Q · Kᵀ
    context = F.matmul_macs((b, heads, seq, seq), (b, heads, seq, dim))  # softmax(QKᵀ) · V
    assert scores == context == heads * seq * seq * dim
    assert F.einsum_macs("bhqd,bhkd->bhqk", [(b, heads, seq, dim), (b, heads, seq, dim)]) == scores


@given(
    batch=st.lists(st.integers(1, 3), max_size=2), m=st.integers(1, 5), k=st.integers(1, 5), n=st.integers(1, 5),
    broadcast_b=st.booleans(),
)  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_matmul_macs_equals_output_size_times_k(batch: list[int], m: int, k: int, n: int, broadcast_b: bool) -> None:
    a, b = (*batch, m, k), ((k, n) if broadcast_b else (*batch, k, n))
    out = np.matmul(np.zeros(a), np.zeros(b)).shape  # numpy is the oracle for broadcasting
    assert F.matmul_macs(a, b) == math.prod(out) * k


def test_matmul_rejects_mismatch() -> None:
    with pytest.raises(ValueError):
        F.matmul_macs((2, 3), (4, 5))
    with pytest.raises(ValueError, match="broadcast"):
        F.matmul_macs((2, 3, 4), (5, 4, 6))


def test_einsum_only_counts_simple_two_operand_forms() -> None:
    assert F.is_simple_einsum("ij,jk->ik") and not F.is_simple_einsum("...ij,jk->...ik")
    assert not F.is_simple_einsum("ii->i")
    with pytest.raises(ValueError):
        F.einsum_macs("ij,jk,kl->il", [(1, 2), (2, 3), (3, 4)])


def test_rnn_cells() -> None:
    # LSTM: 4 gates × hidden × (input + hidden) per step
    assert F.rnn_macs("lstm", seq_len=10, batch=1, input_size=32, hidden=64) == 10 * 4 * 64 * 96
    assert F.rnn_macs("gru", 10, 2, 32, 64, directions=2) == 2 * 10 * 2 * 3 * 64 * 96


# --- other ops ----------------------------------------------------------------------------------------


def test_other_ops_conventions() -> None:
    assert F.pool_ops(56 * 56 * 64, (3, 3)) == 56 * 56 * 64 * 9
    assert F.resize_ops(100, "nearest", 2) == 0
    assert F.resize_ops(100, "linear", 2) == 400  # bilinear: 4 taps
    assert F.resize_ops(100, "cubic", 2) == 1600
    assert F.elementwise_ops(10, "softmax") == 30
    assert F.elementwise_ops(10, "batchnorm") == 20
    assert F.elementwise_ops(10, "data") == 0
    assert F.flops(5) == 10


# --- liveness ----------------------------------------------------------------------------------------


def test_peak_on_a_chain_frees_dead_tensors() -> None:
    steps = [Step("a", ("x",), ("t1",)), Step("b", ("t1",), ("t2",)), Step("c", ("t2",), ("y",))]
    sizes = {"x": 100, "t1": 400, "t2": 50, "y": 10}
    peak = peak_activation(steps, sizes, ["x"], ["y"])
    assert peak.bytes == 500 and peak.step == "a"  # x and t1 live together, then x is freed


def test_peak_keeps_residual_alive() -> None:
    # x → conv1 → conv2 → add(x): x stays live across both convs
    steps = [Step("c1", ("x",), ("a",)), Step("c2", ("a",), ("b",)), Step("add", ("b", "x"), ("y",))]
    sizes = {"x": 100, "a": 100, "b": 100, "y": 100}
    peak = peak_activation(steps, sizes, ["x"], ["y"])
    assert peak.bytes == 300 and peak.step == "c2"


def test_peak_with_unknown_size_is_none_with_lower_bound() -> None:
    steps = [Step("a", ("x",), ("t",))]
    peak = peak_activation(steps, {"x": 8, "t": None}, ["x"], ["t"])
    assert peak.bytes is None and peak.lower_bound == 8 and peak.unknown_tensors == 1
    assert peak.step is None  # no node is named for a peak that is not known


# --- assembly and schema ----------------------------------------------------------------------------


def _tiny_graph() -> Graph:
    tensors = {n: Tensor(n, (1, 4), "float32", 32) for n in ("x", "h", "y")}
    weights = {"w": Weight("w", 16, "int8", 16), "b": Weight("b", 4, "int32", 16)}
    nodes = (
        Node("mm", "MatMul", ("x",), ("h",), ("w", "b"), 16, 4, quantized=True, weight_dtype="int8", act_dtype="int8"),
        Node("mm2", "MatMul", ("h",), ("y",), ("w",), 16, 0, quantized=True, weight_dtype="int8", act_dtype="int8"),
        Node("odd", "Foo", ("y",), ("z",), (), None, None, supported=False),
    )
    return Graph("onnx", "tiny.onnx", 1234, nodes, tensors, weights, ("x",), ("z",), ("a note",))


def test_assemble_totals_and_shared_weight_charged_once() -> None:
    a = assemble(_tiny_graph())
    assert (a.params, a.macs, a.flops, a.other_ops) == (20, 32, 64, 4)
    assert a.lower_bounds == ("macs", "other_ops", "flops")  # "odd" is not counted: sums of the known rows
    assert a.unknown_other_ops_layers == ("odd",) and a.peak_activation_node is None
    assert [r.params for r in a.layers] == [20, 0, 0]
    assert a.weight_bytes_by_dtype == {"int32": 16, "int8": 16}
    assert a.unsupported_ops == ("Foo",) and a.unknown_macs_layers == ("odd",) and not a.macs_complete
    assert a.quantized_mac_fraction == 1.0 and a.bit_width == "W8/A8"
    assert a.depth_param_layers == 2 and a.depth_topological == 3
    assert a.peak_activation_bytes is None  # z has no known shape
    assert any("unknown size" in note for note in a.notes)


def _graph_of(*nodes: Node, weights: dict[str, Weight] | None = None) -> Graph:
    tensors = {n: Tensor(n, (1, 4), "float32", 32) for node in nodes for n in (*node.inputs, *node.outputs)}
    return Graph("onnx", "g.onnx", 1, nodes, tensors, weights or {}, ("x",), (nodes[-1].outputs[0],))


def test_totals_with_unknown_parts_are_lower_bounds_or_null_never_0() -> None:
    known = Node("mm", "MatMul", ("x",), ("h",), ("w",), 16, 0)
    unknown = Node("odd", "Foo", ("h",), ("y",), ("v",), None, None, supported=False)
    weights = {"w": Weight("w", 16, "float32", 64), "v": Weight("v", None, "string", None)}
    a = assemble(_graph_of(known, unknown, weights=weights))
    assert (a.macs, a.flops, a.params, a.weight_bytes) == (16, 32, 16, 64)  # the known parts...
    assert set(a.lower_bounds) == {"macs", "flops", "params", "weight_bytes"}  # ...said to be lower bounds
    assert a.other_ops is None and "other_ops" not in a.lower_bounds  # a bound of 0 would read as "none"
    assert a.unknown_param_tensors == ("v",) and a.weight_bytes_by_dtype == {"float32": 64}
    explained = a.with_source_params(20)  # a lower bound cannot explain a difference with the source
    assert explained.source_params == 20 and explained.notes == a.notes
    only_unknown = assemble(_graph_of(unknown))
    assert (only_unknown.macs, only_unknown.flops, only_unknown.other_ops) == (None, None, None)
    assert only_unknown.lower_bounds == () and not only_unknown.macs_complete
    assert assemble(_graph_of(known)).lower_bounds == ()


def test_null_totals_survive_json() -> None:
    a = assemble(_graph_of(Node("odd", "Foo", ("x",), ("y",), (), None, None, supported=False)))
    doc = json.loads(json.dumps(a.to_dict()))
    assert (doc["macs"], doc["flops"], doc["other_ops"], doc["lower_bounds"]) == (None, None, None, [])
    assert ModelAnalysis.from_dict(doc) == a


DOCUMENTED_KEYS = {
    "params", "macs", "flops", "other_ops", "depth_param_layers", "depth_topological", "weight_bytes",
    "weight_bytes_by_dtype", "peak_activation_bytes", "model_size_bytes", "quantized_mac_fraction",
    "unsupported_ops", "layers",
}  # fmt: skip
LAYER_KEYS = {
    "name", "op", "output_shape", "params", "macs", "other_ops", "weight_bytes", "activation_bytes", "dtype",
    "quantized", "arithmetic_intensity", "note",
}  # fmt: skip


def test_json_schema_keys_round_trip() -> None:
    a = assemble(_tiny_graph())
    doc = json.loads(json.dumps(a.to_dict()))
    assert set(doc) >= DOCUMENTED_KEYS
    assert set(doc) - DOCUMENTED_KEYS == set(a.summary_dict()) - DOCUMENTED_KEYS
    assert set(doc["layers"][0]) == LAYER_KEYS
    assert "layers" not in a.summary_dict() and doc["flops"] == 2 * doc["macs"]
    assert ModelAnalysis.from_dict(doc) == a
    assert LayerRow.from_dict(doc["layers"][0]) == a.layers[0]


def test_from_dict_refuses_unknown_schema() -> None:
    doc = assemble(_tiny_graph()).to_dict()
    doc["analysis_schema"] = 99
    with pytest.raises(ValueError, match="schema"):
        ModelAnalysis.from_dict(doc)


def test_topological_depth_is_longest_path() -> None:
    nodes = [
        Node("a", "Conv", ("x",), ("a",), (), 0, 0),
        Node("b", "Conv", ("a",), ("b",), (), 0, 0),
        Node("c", "Add", ("b", "x"), ("c",), (), 0, 0),
    ]
    assert topological_depth(nodes) == 3


def test_bit_width_labels() -> None:
    fp = [Node("a", "Conv", (), (), (), 10, 0, weight_dtype="float32", act_dtype="float32")]
    assert bit_width(fp, {}) == "FP32"
    mixed = [*fp, Node("b", "Conv", (), (), (), 890, 0, weight_dtype="int8", act_dtype="uint8")]
    assert bit_width(mixed, {}) == "W8/A8 (mixed)"
    assert bit_width([], {"w": Weight("w", 4, "float16", 8)}) == "W16/A32"
