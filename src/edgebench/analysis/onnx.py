"""ONNX frontend: shapes resolved by ``_onnx_graph``, weights traced to their stored tensors, MACs by
``formulas``.

Weights are the *stored* tensors (initializers and Constant/ConstantOfShape outputs) that reach an
executed node through a data input. Inputs that carry shapes, axes, indices or quantization
parameters (Reshape's shape, Pad's pads, Clip's bounds, DequantizeLinear's scale...) are not weights.
A weight reached through a constant chain (e.g. ``DequantizeLinear(int8) → Conv`` or
``Reshape(initializer) → MatMul``) is counted once, in its stored dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.analysis import formulas as F
from edgebench.analysis._onnx_graph import Resolved, dtype_info, iter_subgraphs, load_model, resolve, walk_nodes
from edgebench.analysis.graph import INTEGER_DTYPES, Graph, Node, Tensor, Weight, assemble
from edgebench.analysis.model import ModelAnalysis

Counts = tuple[int | None, int | None]  # (MACs, other ops)

# Input slots that are not weights even when constant.
NON_WEIGHT_SLOTS: dict[str, frozenset[int]] = {
    op: frozenset(slots)
    for op, slots in {
        "Reshape": {1}, "Expand": {1}, "Tile": {1}, "Pad": {1, 2, 3}, "Slice": {1, 2, 3, 4},
        "Resize": {1, 2, 3}, "Upsample": {1}, "Squeeze": {1}, "Unsqueeze": {1}, "Clip": {1, 2},
        "TopK": {1}, "Split": {1}, "ConstantOfShape": {0}, "Range": {0, 1, 2}, "OneHot": {1, 2},
        "Gather": {1}, "GatherElements": {1}, "GatherND": {1}, "Scatter": {1}, "ScatterND": {1},
        "ScatterElements": {1}, "QuantizeLinear": {1, 2}, "DequantizeLinear": {1, 2},
        "DynamicQuantizeLinear": set(), "QLinearConv": {1, 2, 4, 5, 6, 7},
        "QLinearMatMul": {1, 2, 4, 5, 6, 7}, "ConvInteger": {2, 3}, "MatMulInteger": {2, 3},
        "Dropout": {1, 2}, "CumSum": {1}, "NonMaxSuppression": {2, 3, 4}, "RoiAlign": {1, 2},
        "Trilu": {1}, "ReverseSequence": {1}, "Compress": {1}, "CenterCropPad": {1},
        "LSTM": {4}, "GRU": {4}, "RNN": {4}, "ReduceMean": {1}, "ReduceSum": {1}, "ReduceMax": {1},
        "ReduceMin": {1}, "ReduceProd": {1}, "ReduceL1": {1}, "ReduceL2": {1}, "ReduceLogSum": {1},
        "ReduceLogSumExp": {1}, "ReduceSumSquare": {1}, "Shape": {0}, "Size": {0},
    }.items()
}  # fmt: skip
LEAF_PRODUCERS = frozenset({"Constant", "ConstantOfShape"})
# (activation slot, weight slot) of the contractions.
MAC_SLOTS: dict[str, tuple[int, int]] = {
    "Conv": (0, 1), "ConvInteger": (0, 1), "QLinearConv": (0, 3), "ConvTranspose": (0, 1),
    "Gemm": (0, 1), "MatMul": (0, 1), "MatMulInteger": (0, 1), "QLinearMatMul": (0, 3),
    "Einsum": (0, 1), "LSTM": (0, 1), "GRU": (0, 1), "RNN": (0, 1),
}  # fmt: skip
PASS_THROUGH = frozenset({"Transpose", "Reshape", "Identity", "Squeeze", "Unsqueeze", "Flatten"})

ELEMENTWISE = frozenset({
    "Add", "Sub", "Mul", "Div", "Pow", "Mod", "PRelu", "Equal", "Greater", "GreaterOrEqual", "Less",
    "LessOrEqual", "And", "Or", "Xor", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Where",
})  # fmt: skip
VARIADIC = frozenset({"Sum", "Mean", "Max", "Min"})
ACTIVATIONS = frozenset({
    "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Clip", "Elu", "Selu", "Celu",
    "Gelu", "Mish", "Softplus", "Softsign", "ThresholdedRelu", "Erf", "Exp", "Log", "Sqrt", "Reciprocal",
    "Neg", "Abs", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh",
    "Cosh", "Asinh", "Acosh", "Atanh", "IsNaN", "IsInf", "Shrink", "Swish", "Not", "BitwiseNot",
})  # fmt: skip
QUANTIZE = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})
NORMALIZATION = frozenset({
    "LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization",
    "MeanVarianceNormalization", "LRN", "RMSNormalization",
})  # fmt: skip
SOFTMAX = frozenset({"Softmax", "LogSoftmax", "Hardmax"})
REDUCE = frozenset({
    "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "GlobalAveragePool", "GlobalMaxPool",
    "GlobalLpPool", "ArgMax", "ArgMin", "TopK", "CumSum",
})  # fmt: skip
POOL = frozenset({"MaxPool", "AveragePool", "LpPool"})
DATA = frozenset({
    "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice", "Gather",
    "GatherElements", "GatherND", "Scatter", "ScatterND", "ScatterElements", "Pad", "Expand", "Tile",
    "Identity", "Cast", "CastLike", "Shape", "Size", "Dropout", "DepthToSpace", "SpaceToDepth",
    "ConstantOfShape", "Constant", "Range", "NonZero", "OneHot", "Compress", "ReverseSequence", "Trilu",
    "EyeLike", "SplitToSequence", "ConcatFromSequence", "SequenceAt", "SequenceConstruct", "SequenceInsert",
    "SequenceLength", "SequenceEmpty", "SequenceErase", "Optional", "OptionalGetElement",
    "OptionalHasElement", "CenterCropPad",
})  # fmt: skip
SUBGRAPH_OPS = frozenset({"If", "Loop", "Scan"})


@dataclass(frozen=True)
class _Ctx:
    """What a counting rule sees: attributes and the static shapes of inputs and outputs."""

    op: str
    attrs: Mapping[str, Any]
    ins: tuple[tuple[int, ...] | None, ...]
    outs: tuple[tuple[int, ...] | None, ...]
    present: tuple[bool, ...]

    def inp(self, slot: int) -> tuple[int, ...] | None:
        return self.ins[slot] if slot < len(self.ins) else None

    def has(self, slot: int) -> bool:
        return slot < len(self.present) and self.present[slot]

    def out_elements(self) -> int | None:
        return F.numel(self.outs[0]) if self.outs and self.outs[0] is not None else None


def _conv(ctx: _Ctx, w_slot: int = 1, b_slot: int = 2) -> Counts:
    w, out = ctx.inp(w_slot), ctx.outs[0]
    if w is None or out is None:
        return None, None
    group = int(ctx.attrs.get("group", 1))
    macs = F.conv_macs(out[0], out[1], out[2:], w[1] * group, w[2:], group)
    return macs, (F.numel(out) if ctx.has(b_slot) else 0)


def _conv_transpose(ctx: _Ctx) -> Counts:
    x, w, out = ctx.inp(0), ctx.inp(1), ctx.outs[0]
    if x is None or w is None:
        return None, None
    group = int(ctx.attrs.get("group", 1))
    macs = F.conv_transpose_macs(x[0], x[1], x[2:], w[1] * group, w[2:], group)
    bias = None if out is None else (F.numel(out) if ctx.has(2) else 0)
    return macs, bias


def _gemm(ctx: _Ctx) -> Counts:
    a, b = ctx.inp(0), ctx.inp(1)
    if a is None or b is None:
        return None, None
    macs = F.gemm_macs(a, b, bool(ctx.attrs.get("transA", 0)), bool(ctx.attrs.get("transB", 0)))
    bias = ctx.out_elements() if ctx.has(2) else 0
    return macs, bias


def _matmul(a_slot: int, b_slot: int) -> Callable[[_Ctx], Counts]:
    def count(ctx: _Ctx) -> Counts:
        a, b = ctx.inp(a_slot), ctx.inp(b_slot)
        return (None, None) if a is None or b is None else (F.matmul_macs(a, b), 0)

    return count


def _einsum(ctx: _Ctx) -> Counts:
    equation = str(ctx.attrs.get("equation", ""))
    a, b = ctx.inp(0), ctx.inp(1)
    if len(ctx.ins) != 2 or a is None or b is None or not F.is_simple_einsum(equation):
        return None, None
    return F.einsum_macs(equation, [a, b]), 0


def _rnn(ctx: _Ctx) -> Counts:
    x, w = ctx.inp(0), ctx.inp(1)
    if x is None or w is None:
        return None, None
    kind = ctx.op.lower()
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    seq, batch = (x[0], x[1]) if int(ctx.attrs.get("layout", 0)) == 0 else (x[1], x[0])
    hidden = int(ctx.attrs.get("hidden_size", w[1] // gates))
    macs = F.rnn_macs(kind, seq, batch, x[2], hidden, w[0])
    return macs, F.elementwise_ops(w[0] * seq * batch * gates * hidden, "activation")


def _pool(ctx: _Ctx) -> Counts:
    out = ctx.out_elements()
    kernel = ctx.attrs.get("kernel_shape")
    return (0, None) if out is None or kernel is None else (0, F.pool_ops(out, kernel))


def _per_input(kind: str) -> Callable[[_Ctx], Counts]:
    def count(ctx: _Ctx) -> Counts:
        x = ctx.inp(0)
        return (0, None) if x is None else (0, F.elementwise_ops(F.numel(x), kind))

    return count


def _per_output(kind: str) -> Callable[[_Ctx], Counts]:
    def count(ctx: _Ctx) -> Counts:
        out = ctx.out_elements()
        return (0, None) if out is None else (0, F.elementwise_ops(out, kind))

    return count


def _variadic(ctx: _Ctx) -> Counts:
    out = ctx.out_elements()
    operands = sum(ctx.present)
    return (0, None) if out is None else (0, out * max(1, operands - 1))


def _resize(ctx: _Ctx) -> Counts:
    x, out = ctx.inp(0), ctx.outs[0]
    if x is None or out is None:
        return 0, None
    mode = str(ctx.attrs.get("mode", "nearest"))
    mode = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    resized = sum(1 for a, b in zip(x, out, strict=False) if a != b)
    return 0, F.resize_ops(F.numel(out), mode if mode in ("nearest", "linear", "cubic") else "linear", resized)


def _data(ctx: _Ctx) -> Counts:
    return 0, 0


RULES: dict[str, Callable[[_Ctx], Counts]] = {
    "Conv": _conv,
    "ConvInteger": lambda ctx: (_conv(ctx)[0], 0),
    "QLinearConv": lambda ctx: _conv(ctx, 3, 8),
    "ConvTranspose": _conv_transpose,
    "Gemm": _gemm,
    "MatMul": _matmul(0, 1),
    "MatMulInteger": _matmul(0, 1),
    "QLinearMatMul": _matmul(0, 3),
    "Einsum": _einsum,
    "LSTM": _rnn,
    "GRU": _rnn,
    "RNN": _rnn,
    "BatchNormalization": _per_output("batchnorm"),
    **{op: _pool for op in POOL},
    **{op: _per_input("reduce") for op in REDUCE},
    **{op: _per_output("softmax") for op in SOFTMAX},
    **{op: _per_output("normalization") for op in NORMALIZATION},
    **{op: _per_output("quantize") for op in QUANTIZE},
    **{op: _per_output("elementwise") for op in ELEMENTWISE},
    **{op: _per_output("activation") for op in ACTIVATIONS},
    **{op: _variadic for op in VARIADIC},
    "Resize": _resize,
    "Upsample": _resize,
    **{op: _data for op in DATA},
}


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    values: dict[str, Any] = {}
    for attr in node.attribute:
        if attr.type in (5, 10):  # sub-graphs are not counting parameters
            continue
        value = helper.get_attribute_value(attr)
        values[attr.name] = value.decode() if isinstance(value, bytes) else value
    return values


def count_node(node: Any, r: Resolved) -> tuple[Counts, bool, str]:
    """(MACs, other ops), whether the op type is supported, and a note for the row."""
    op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}:{node.op_type}"
    if op in SUBGRAPH_OPS:
        return (None, None), False, "sub-graph not counted (MACs unknown)"
    rule = RULES.get(op)
    if rule is None:
        return (None, None), False, "unsupported op: not counted"
    ctx = _Ctx(
        op=op,
        attrs=_attrs(node),
        ins=tuple(r.static_shape(name) if name else None for name in node.input),
        outs=tuple(r.static_shape(name) if name else None for name in node.output),
        present=tuple(bool(name) for name in node.input),
    )
    try:
        counts = rule(ctx)
    except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError) as exc:
        return (None, None), True, f"shapes inconsistent for counting: {exc}"
    unknown = counts[0] is None or counts[1] is None
    return counts, True, ("shape unknown: count not computed" if unknown else "")


class _Tracer:
    """Finds the stored weight tensors behind an executed node's constant inputs."""

    def __init__(self, r: Resolved) -> None:
        self.r = r
        self.producer = {out: node for node in r.nodes for out in node.output if out}
        self.weights: dict[str, Weight] = {}
        self._memo: dict[str, frozenset[str]] = {}

    def leaves(self, name: str) -> frozenset[str]:
        if name not in self._memo:
            self._memo[name] = self._compute(name)
        return self._memo[name]

    def _compute(self, name: str) -> frozenset[str]:
        if name in self.r.initializers or name not in self.r.file_constant:
            return frozenset({name}) if name in self.r.initializers else frozenset()
        node = self.producer.get(name)
        if node is None:
            return frozenset()
        if node.op_type in LEAF_PRODUCERS:
            return frozenset({name})
        return frozenset().union(*(self.leaves(i) for i in data_inputs(node) if i in self.r.constant))

    def node_weights(self, node: Any, extra: set[str]) -> tuple[str, ...]:
        names = [i for i in data_inputs(node) if i in self.r.constant] + sorted(extra & self.r.constant)
        found = [leaf for name in names for leaf in sorted(self.leaves(name))]
        for leaf in found:
            self.weights.setdefault(leaf, self._weight(leaf))
        return tuple(dict.fromkeys(found))

    def _weight(self, name: str) -> Weight:
        shape = self.r.static_shape(name)
        dtype, bits = dtype_info(self.r.elem_types.get(name, 0))
        elements = None if shape is None else math.prod(shape)
        nbytes = None if elements is None or bits is None else (elements * bits + 7) // 8
        return Weight(name, elements, dtype, nbytes)


def data_inputs(node: Any) -> list[str]:
    skip = NON_WEIGHT_SLOTS.get(node.op_type, frozenset())
    return [name for slot, name in enumerate(node.input) if name and slot not in skip]


def _subgraph_weights(node: Any, prefix: str) -> list[Weight]:
    """Stored tensors inside If/Loop/Scan bodies: counted as params though their MACs are not."""
    found: list[Weight] = []
    for sub in iter_subgraphs(node):
        tensors = list(sub.initializer)
        for inner in walk_nodes(sub):
            tensors += list(iter_subgraph_initializers(inner))
            tensors += [a.t for a in inner.attribute if inner.op_type == "Constant" and a.name == "value"]
        for tensor in tensors:
            dtype, bits = dtype_info(tensor.data_type)
            elements = math.prod(tensor.dims)
            if elements > 1:
                nbytes = None if bits is None else (elements * bits + 7) // 8
                found.append(Weight(f"{prefix}/{sub.name}/{tensor.name}", elements, dtype, nbytes))
    return found


def iter_subgraph_initializers(node: Any) -> list[Any]:
    return [init for sub in iter_subgraphs(node) for init in sub.initializer]


def _outer_refs(node: Any) -> set[str]:
    return {name for sub in iter_subgraphs(node) for inner in walk_nodes(sub) for name in inner.input if name}


def _effective_dtype(name: str, r: Resolved, producer: Mapping[str, Any]) -> str:
    """Dtype a runtime would compute in: look through weight re-layouts and DequantizeLinear."""
    for _ in range(8):
        node = producer.get(name)
        if node is None or node.op_type not in PASS_THROUGH | {"DequantizeLinear"} or not node.input:
            break
        name = node.input[0]
        if node.op_type == "DequantizeLinear":
            break
    return dtype_info(r.elem_types.get(name, 0))[0]


def _precision(node: Any, r: Resolved, producer: Mapping[str, Any]) -> tuple[str | None, str | None]:
    slots = MAC_SLOTS.get(node.op_type)
    if slots is None or len(node.input) <= slots[1]:
        return None, None
    act, weight = (_effective_dtype(node.input[s], r, producer) for s in (slots[0], slots[1]))
    return weight, act


def _node_name(node: Any, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"


def _make_node(index: int, node: Any, r: Resolved, tracer: _Tracer) -> Node:
    name = _node_name(node, index)
    weights = tracer.node_weights(node, _outer_refs(node))
    inner = _subgraph_weights(node, name)
    for weight in inner:
        tracer.weights[weight.name] = weight
    (macs, other), supported, note = count_node(node, r)
    weight_dtype, act_dtype = _precision(node, r, tracer.producer)
    return Node(
        name=name,
        op=node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}:{node.op_type}",
        inputs=tuple(i for i in node.input if i and i not in r.constant),
        outputs=tuple(o for o in node.output if o),
        weights=weights + tuple(w.name for w in inner),
        macs=macs,
        other_ops=other,
        supported=supported,
        quantized=weight_dtype in INTEGER_DTYPES,
        weight_dtype=weight_dtype,
        act_dtype=act_dtype,
        note=note,
    )


def _tensor(name: str, r: Resolved) -> Tensor:
    dtype, bits = dtype_info(r.elem_types.get(name, 0))
    return Tensor(name, r.shapes.get(name), dtype, bits)


def _model_size(path: Path, r: Resolved) -> int:
    """The .onnx file plus any external-data files it references."""
    from onnx import TensorProto

    locations: set[str] = {
        str(entry.value)
        for init in r.initializers.values()
        if init.data_location == TensorProto.EXTERNAL
        for entry in init.external_data
        if entry.key == "location"
    }
    extra = [path.parent / loc for loc in locations]
    return path.stat().st_size + sum(p.stat().st_size for p in extra if p.is_file())


def _unused_note(r: Resolved, used: set[str]) -> list[str]:
    referenced = {name for node in r.nodes for name in node.input} | {
        name for node in r.nodes for name in _outer_refs(node)
    }
    unused = [n for n in r.initializers if n not in referenced and n not in used and n not in r.outputs]
    if not unused:
        return []
    elements = sum(math.prod(r.initializers[n].dims) for n in unused)
    return [f"{len(unused)} initializer(s) ({elements} elements) are not used by the graph: not counted"]


def build_graph(path: Path, r: Resolved) -> Graph:
    tracer = _Tracer(r)
    executed = [(i, n) for i, n in enumerate(r.nodes) if any(o and o not in r.constant for o in n.output)]
    nodes = tuple(_make_node(i, n, r, tracer) for i, n in executed)
    names = {t for n in nodes for t in (*n.inputs, *n.outputs)} | set(r.inputs)
    return Graph(
        source_format="onnx",
        model_name=path.name,
        model_size_bytes=_model_size(path, r),
        nodes=nodes,
        tensors={name: _tensor(name, r) for name in names},
        weights=tracer.weights,
        inputs=tuple(r.inputs),
        outputs=tuple(r.outputs),
        notes=tuple(r.notes + _unused_note(r, set(tracer.weights))),
    )


class OnnxAnalyzer:
    """Static analysis of an ``.onnx`` file (entry point ``edgebench.analyzers: onnx``)."""

    name = "onnx"
    suffixes = (".onnx",)

    def analyze(self, path: Path, shapes: Mapping[str, tuple[int, ...]] | None = None) -> ModelAnalysis:
        path = Path(path)
        resolved = resolve(load_model(path), shapes or {})
        return assemble(build_graph(path, resolved))
