"""TFLite frontend: the flatbuffer is read with the ``tflite`` parser package.

TFLite tensors are NHWC with static shapes; weights are tensors backed by a non-empty buffer (a
buffer shared by several tensors is counted once). Operators run in file order, which is the
execution order used for liveness. Only the main sub-graph (index 0) is counted; control-flow
operators that call other sub-graphs are listed as not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.analysis import formulas as F
from edgebench.analysis.graph import INTEGER_DTYPES, Graph, Node, Tensor, Weight, assemble
from edgebench.analysis.model import ModelAnalysis
from edgebench.errors import ModelError, UsageError

Counts = tuple[int | None, int | None]

TFLITE_DTYPES: dict[int, tuple[str, int | None]] = {
    0: ("float32", 32), 1: ("float16", 16), 2: ("int32", 32), 3: ("uint8", 8), 4: ("int64", 64),
    5: ("string", None), 6: ("bool", 8), 7: ("int16", 16), 8: ("complex64", 64), 9: ("int8", 8),
    10: ("float64", 64), 11: ("complex128", 128), 12: ("uint64", 64), 13: ("resource", None),
    14: ("variant", None), 15: ("uint32", 32), 16: ("uint16", 16), 17: ("int4", 4), 18: ("bfloat16", 16),
}  # fmt: skip

# Inputs that carry shapes, axes, indices or paddings: constant but not weights.
NON_WEIGHT_SLOTS: dict[str, frozenset[int]] = {
    op: frozenset(slots)
    for op, slots in {
        "RESHAPE": {1}, "PAD": {1}, "PADV2": {1, 2}, "MIRROR_PAD": {1}, "STRIDED_SLICE": {1, 2, 3},
        "SLICE": {1, 2}, "MEAN": {1}, "SUM": {1}, "REDUCE_MAX": {1}, "REDUCE_MIN": {1},
        "REDUCE_PROD": {1}, "REDUCE_ANY": {1}, "REDUCE_ALL": {1}, "TRANSPOSE": {1},
        "RESIZE_BILINEAR": {1}, "RESIZE_NEAREST_NEIGHBOR": {1}, "GATHER": {1}, "GATHER_ND": {1},
        "TILE": {1}, "EXPAND_DIMS": {1}, "TRANSPOSE_CONV": {0}, "SPLIT": {0}, "SPLIT_V": {1, 2},
        "BROADCAST_TO": {1}, "SPACE_TO_BATCH_ND": {1, 2}, "BATCH_TO_SPACE_ND": {1, 2}, "ARG_MAX": {1},
        "ARG_MIN": {1}, "FILL": {0}, "TOPK_V2": {1}, "CUMSUM": {1}, "ONE_HOT": {1, 2, 3},
        "SCATTER_ND": {0, 2}, "RANGE": {0, 1, 2}, "REVERSE_V2": {1}, "BROADCAST_ARGS": {0, 1},
    }.items()
}  # fmt: skip
# (activation slot, weight slot) of the contractions.
MAC_SLOTS = {
    "CONV_2D": (0, 1), "DEPTHWISE_CONV_2D": (0, 1), "CONV_3D": (0, 1), "TRANSPOSE_CONV": (2, 1),
    "FULLY_CONNECTED": (0, 1), "BATCH_MATMUL": (0, 1),
}  # fmt: skip

ELEMENTWISE = frozenset({
    "ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "POW", "FLOOR_DIV", "FLOOR_MOD",
    "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL", "LOGICAL_AND", "LOGICAL_OR",
    "SELECT", "SELECT_V2", "PRELU",
})  # fmt: skip
ACTIVATIONS = frozenset({
    "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU", "ELU",
    "GELU", "EXP", "LOG", "SQRT", "RSQRT", "ABS", "NEG", "SIN", "COS", "SQUARE", "FLOOR", "CEIL", "ROUND",
    "SIGN", "LOGICAL_NOT",
})  # fmt: skip
REDUCE = frozenset(
    {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL", "ARG_MAX", "ARG_MIN"}
)
POOL = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"})
DATA = frozenset({
    "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "CONCATENATION", "PAD", "PADV2", "MIRROR_PAD", "TRANSPOSE",
    "STRIDED_SLICE", "SLICE", "GATHER", "GATHER_ND", "SPLIT", "SPLIT_V", "PACK", "UNPACK", "TILE",
    "BROADCAST_TO", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "CAST",
    "SHAPE", "FILL", "ZEROS_LIKE", "ONES_LIKE", "REVERSE_V2", "DENSIFY", "RANGE", "ONE_HOT", "SCATTER_ND",
    "BROADCAST_ARGS",
})  # fmt: skip
_OPTION_GETTERS = ("FusedActivationFunction", "FilterWidth", "FilterHeight", "AdjX", "AdjY")


@dataclass(frozen=True)
class _TTensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    bits: int | None
    buffer: int
    buffer_bytes: int
    dynamic: bool
    sparse: bool


@dataclass(frozen=True)
class _TOp:
    index: int
    op: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Mapping[str, int]


@dataclass(frozen=True)
class _TModel:
    tensors: tuple[_TTensor, ...]
    ops: tuple[_TOp, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    other_subgraph_weights: tuple[_TTensor, ...]
    notes: tuple[str, ...] = ()


def _op_names() -> dict[int, str]:
    from tflite.utils import BUILTIN_OPCODE2NAME

    return dict(BUILTIN_OPCODE2NAME)


def _option_classes() -> dict[int, str]:
    from tflite.BuiltinOptions import BuiltinOptions

    return {v: k for k, v in vars(BuiltinOptions).items() if isinstance(v, int)}


def _options(op: Any, classes: Mapping[int, str]) -> dict[str, int]:
    import tflite

    table = op.BuiltinOptions()
    cls = getattr(tflite, classes.get(op.BuiltinOptionsType(), ""), None)
    if table is None or cls is None:
        return {}
    options = cls()
    options.Init(table.Bytes, table.Pos)
    return {name: int(getattr(options, name)()) for name in _OPTION_GETTERS if hasattr(options, name)}


def _op_name(model: Any, op: Any, names: Mapping[int, str]) -> str:
    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    name = names.get(builtin, f"BUILTIN_{builtin}")
    if name == "CUSTOM":
        custom = code.CustomCode()
        return f"CUSTOM:{custom.decode(errors='replace') if custom else '?'}"
    return name


def _buffer_bytes(model: Any, index: int) -> int:
    if index <= 0 or index >= model.BuffersLength():
        return 0
    buffer = model.Buffers(index)
    size = buffer.DataLength()
    return size if size else (buffer.Size() if buffer.Offset() > 1 else 0)


def _tensor(model: Any, graph: Any, index: int) -> _TTensor:
    tensor = graph.Tensors(index)
    if tensor.ShapeLength() > 64 or tensor.ShapeSignatureLength() > 64:
        raise ValueError(f"tensor {index} has an implausible rank")
    shape = tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
    signature = [int(tensor.ShapeSignature(j)) for j in range(tensor.ShapeSignatureLength())]
    dtype, bits = TFLITE_DTYPES.get(tensor.Type(), (f"tflite_type_{tensor.Type()}", None))
    name = tensor.Name()
    return _TTensor(
        index=index,
        name=name.decode(errors="replace") if name else f"tensor_{index}",
        shape=shape,
        dtype=dtype,
        bits=bits,
        buffer=tensor.Buffer(),
        buffer_bytes=_buffer_bytes(model, tensor.Buffer()),
        dynamic=any(d < 0 for d in signature),
        sparse=tensor.Sparsity() is not None,
    )


def _ops(model: Any, graph: Any) -> tuple[_TOp, ...]:
    names, classes = _op_names(), _option_classes()
    ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        ops.append(
            _TOp(
                index=i,
                op=_op_name(model, op, names),
                inputs=tuple(int(op.Inputs(j)) for j in range(op.InputsLength())),
                outputs=tuple(int(op.Outputs(j)) for j in range(op.OutputsLength())),
                options=_options(op, classes),
            )
        )
    return tuple(ops)


def _other_weights(model: Any) -> tuple[_TTensor, ...]:
    found = []
    for s in range(1, model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        found += [_tensor(model, graph, i) for i in range(graph.TensorsLength())]
    return tuple(t for t in found if t.buffer_bytes)


def _read(buf: bytes) -> _TModel:
    import tflite

    if not tflite.Model.ModelBufferHasIdentifier(buf, 0):
        raise ValueError("identifier 'TFL3' missing")
    model = tflite.Model.GetRootAsModel(buf, 0)
    if model.SubgraphsLength() < 1:
        raise ValueError("no sub-graph")
    graph = model.Subgraphs(0)
    # a damaged length field would otherwise send the loops below through billions of entries
    lengths = (model.SubgraphsLength(), model.BuffersLength(), graph.TensorsLength(), graph.OperatorsLength())
    if any(n * 4 > len(buf) for n in lengths):
        raise ValueError("table lengths exceed the file size")
    weights_end = _check_buffers(model, len(buf))
    return _TModel(
        tensors=tuple(_tensor(model, graph, i) for i in range(graph.TensorsLength())),
        ops=_ops(model, graph),
        inputs=tuple(int(i) for i in graph.InputsAsNumpy()) if graph.InputsLength() else (),
        outputs=tuple(int(i) for i in graph.OutputsAsNumpy()) if graph.OutputsLength() else (),
        other_subgraph_weights=_other_weights(model),
        notes=_archive_notes(buf, weights_end),
    )


def _check_buffers(model: Any, file_size: int) -> int:
    """Weight data must lie inside the file: the flatbuffer reader trusts every length it reads, so a
    file cut inside its weights would otherwise parse "fine". Returns where the last weight ends."""
    end = 0
    for index in range(model.BuffersLength()):
        buffer = model.Buffers(index)
        size = buffer.DataLength()
        # the generated reader exposes no data position: vtable slot 4 is Buffer.data (schema field 0)
        start = buffer._tab.Vector(buffer._tab.Offset(4)) if size else buffer.Offset()
        if not size and start <= 1:
            continue  # empty buffer
        size = size or buffer.Size()
        if start + size > file_size:
            raise ValueError(f"truncated: weight buffer {index} ({size:,} bytes at byte {start:,}) runs past the end")
        end = max(end, start + size)
    return end


def _archive_notes(buf: bytes, weights_end: int) -> tuple[str, ...]:
    """TFLite metadata appends its associated files (labels, vocabularies) as a zip after the model.
    A file cut inside that zip still holds a complete model, so it is analysed, with a note."""
    import io
    import zipfile

    start = buf.find(b"PK\x03\x04", weights_end)
    if start < 0 or zipfile.is_zipfile(io.BytesIO(buf[start:])):
        return ()
    return (
        f"the file looks truncated: the associated-files zip appended at byte {start:,} (labels, "
        "vocabularies) is incomplete; the model itself is intact",
    )


def load_tflite(path: Path) -> _TModel:
    """Parse into plain records; any flatbuffer error on a bad file becomes one ModelError that says why."""
    import struct

    buf = b""
    try:
        buf = path.read_bytes()
        parsed = _read(buf)
        _validate(parsed)
    except (ValueError, IndexError, TypeError, AttributeError, OverflowError, UnicodeError) as exc:
        raise _unreadable(path, str(exc) or type(exc).__name__, len(buf)) from exc
    except struct.error as exc:  # the flatbuffers runtime reading at an offset outside the file
        raise _unreadable(path, "truncated or corrupt: a table refers to data past the end", len(buf)) from exc
    except Exception as exc:  # anything else from a damaged flatbuffer: still one line, never a traceback
        raise _unreadable(path, f"corrupt: {type(exc).__name__}", len(buf)) from exc
    return parsed


def _unreadable(path: Path, reason: str, size: int) -> ModelError:
    first = reason.splitlines()[0] if reason else "unknown reason"
    return ModelError(
        f"{path.name} is not a readable TFLite model ({first}; file is {size:,} bytes)",
        hint="check the file is complete (re-download or re-convert it)",
    )


def _validate(model: _TModel) -> None:
    count = len(model.tensors)
    used = [i for op in model.ops for i in (*op.inputs, *op.outputs)] + [*model.inputs, *model.outputs]
    if not model.ops or any(i >= count or i < -1 for i in used):
        raise ValueError("operator tensor indices out of range" if model.ops else "no operators")


# --- counting rules (NHWC layouts) -------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    op: str
    options: Mapping[str, int]
    ins: tuple[tuple[int, ...] | None, ...]
    outs: tuple[tuple[int, ...] | None, ...]

    def inp(self, slot: int) -> tuple[int, ...] | None:
        return self.ins[slot] if slot < len(self.ins) else None

    def out_elements(self) -> int:
        out = self.outs[0] if self.outs else None
        if out is None:
            raise ValueError("output shape unknown")
        return F.numel(out)


def _need(*shapes: tuple[int, ...] | None) -> list[tuple[int, ...]]:
    if any(s is None for s in shapes):
        raise ValueError("operand shape unknown")
    return [s for s in shapes if s is not None]


def _bias(ctx: _Ctx, slot: int) -> int:
    return ctx.out_elements() if ctx.inp(slot) is not None else 0


def _conv2d(ctx: _Ctx) -> Counts:
    x, w, out = _need(ctx.inp(0), ctx.inp(1), ctx.outs[0])  # w: (Cout, kh, kw, Cin/groups)
    macs = F.conv_macs(out[0], out[3], out[1:3], x[3], w[1:3], x[3] // w[3])
    return macs, _bias(ctx, 2)


def _depthwise(ctx: _Ctx) -> Counts:
    x, w, out = _need(ctx.inp(0), ctx.inp(1), ctx.outs[0])  # w: (1, kh, kw, Cout)
    return F.conv_macs(out[0], out[3], out[1:3], x[3], w[1:3], x[3]), _bias(ctx, 2)


def _conv3d(ctx: _Ctx) -> Counts:
    x, w, out = _need(ctx.inp(0), ctx.inp(1), ctx.outs[0])  # w: (kd, kh, kw, Cin/groups, Cout)
    return F.conv_macs(out[0], out[4], out[1:4], x[4], w[0:3], x[4] // w[3]), _bias(ctx, 2)


def _transpose_conv(ctx: _Ctx) -> Counts:
    w, x = _need(ctx.inp(1), ctx.inp(2))  # w: (Cout, kh, kw, Cin)
    return F.conv_transpose_macs(x[0], x[3], x[1:3], w[0], w[1:3]), _bias(ctx, 3)


def _fully_connected(ctx: _Ctx) -> Counts:
    x, w = _need(ctx.inp(0), ctx.inp(1))  # w: (units, in)
    rows = F.numel(x) // w[1]
    return F.matmul_macs((rows, w[1]), (w[1], w[0])), _bias(ctx, 2)


def _swap_last(shape: tuple[int, ...], swap: int) -> tuple[int, ...]:
    return (*shape[:-2], shape[-1], shape[-2]) if swap and len(shape) >= 2 else shape


def _batch_matmul(ctx: _Ctx) -> Counts:
    a, b = _need(ctx.inp(0), ctx.inp(1))
    a, b = _swap_last(a, ctx.options.get("AdjX", 0)), _swap_last(b, ctx.options.get("AdjY", 0))
    return F.matmul_macs(a, b), 0


def _pool(ctx: _Ctx) -> Counts:
    kernel = (ctx.options.get("FilterHeight", 1), ctx.options.get("FilterWidth", 1))
    return 0, F.pool_ops(ctx.out_elements(), kernel)


def _per_output(kind: str) -> Callable[[_Ctx], Counts]:
    return lambda ctx: (0, F.elementwise_ops(ctx.out_elements(), kind))


def _reduce(ctx: _Ctx) -> Counts:
    (x,) = _need(ctx.inp(0))
    return 0, F.elementwise_ops(F.numel(x), "reduce")


def _add_n(ctx: _Ctx) -> Counts:
    return 0, ctx.out_elements() * max(1, len(ctx.ins) - 1)


def _resize(mode: str) -> Callable[[_Ctx], Counts]:
    def count(ctx: _Ctx) -> Counts:
        x, out = _need(ctx.inp(0), ctx.outs[0])
        return 0, F.resize_ops(F.numel(out), mode, sum(1 for a, b in zip(x, out, strict=False) if a != b))

    return count


RULES: dict[str, Callable[[_Ctx], Counts]] = {
    "CONV_2D": _conv2d,
    "DEPTHWISE_CONV_2D": _depthwise,
    "CONV_3D": _conv3d,
    "TRANSPOSE_CONV": _transpose_conv,
    "FULLY_CONNECTED": _fully_connected,
    "BATCH_MATMUL": _batch_matmul,
    **{op: _pool for op in POOL},
    **{op: _reduce for op in REDUCE},
    "SOFTMAX": _per_output("softmax"),
    "LOG_SOFTMAX": _per_output("softmax"),
    "L2_NORMALIZATION": _per_output("normalization"),
    "LOCAL_RESPONSE_NORMALIZATION": _per_output("normalization"),
    "QUANTIZE": _per_output("quantize"),
    "DEQUANTIZE": _per_output("quantize"),
    **{op: _per_output("elementwise") for op in ELEMENTWISE},
    **{op: _per_output("activation") for op in ACTIVATIONS},
    "ADD_N": _add_n,
    "RESIZE_BILINEAR": _resize("linear"),
    "RESIZE_NEAREST_NEIGHBOR": _resize("nearest"),
    **{op: (lambda ctx: (0, 0)) for op in DATA},
}


def count_op(op: _TOp, shapes: Mapping[int, tuple[int, ...] | None]) -> tuple[Counts, bool, str]:
    rule = RULES.get(op.op)
    if rule is None:
        return (None, None), False, "unsupported op: not counted"
    ins = tuple(shapes.get(i) if i >= 0 else None for i in op.inputs)
    ctx = _Ctx(op.op, op.options, ins, tuple(shapes.get(i) for i in op.outputs))
    try:
        macs, other = rule(ctx)
        if op.options.get("FusedActivationFunction", 0) and other is not None:
            other += ctx.out_elements()  # a fused ReLU/ReLU6 still costs one op per element
    except (ValueError, IndexError, ZeroDivisionError) as exc:
        return (None, None), True, f"count not computed: {exc}"
    return (macs, other), True, ""


# --- graph construction ------------------------------------------------------------------------


class _Builder:
    def __init__(self, model: _TModel) -> None:
        self.m = model
        self.producer = {out: op for op in model.ops for out in op.outputs}
        self.constant = {t.index for t in model.tensors if t.buffer_bytes}
        for op in model.ops:  # e.g. DEQUANTIZE of fp16 weights: computed once at load time
            if op.inputs and all(i in self.constant for i in op.inputs if i >= 0):
                self.constant.update(op.outputs)
        self.weights: dict[str, Weight] = {}
        self._buffer_names: dict[int, str] = {}

    def leaves(self, index: int) -> list[_TTensor]:
        tensor = self.m.tensors[index]
        if tensor.buffer_bytes:
            return [tensor]
        op = self.producer.get(index)
        return [] if op is None else [leaf for i in data_inputs(op) if i in self.constant for leaf in self.leaves(i)]

    def weight_name(self, tensor: _TTensor) -> str:
        """One weight per buffer: tensors sharing a buffer share the weight."""
        name = self._buffer_names.setdefault(tensor.buffer, tensor.name)
        if name not in self.weights:
            elements = F.numel(tensor.shape)
            self.weights[name] = Weight(name, elements, tensor.dtype, tensor.buffer_bytes)
        return name

    def effective_dtype(self, index: int) -> str:
        op = self.producer.get(index)
        if op is not None and op.op == "DEQUANTIZE" and op.inputs:
            return self.m.tensors[op.inputs[0]].dtype
        return self.m.tensors[index].dtype

    def node(self, op: _TOp, shapes: Mapping[int, tuple[int, ...] | None]) -> Node:
        leaves = [leaf for i in data_inputs(op) if i in self.constant for leaf in self.leaves(i)]
        weights = tuple(dict.fromkeys(self.weight_name(t) for t in leaves))
        (macs, other), supported, note = count_op(op, shapes)
        slots = MAC_SLOTS.get(op.op)
        act = self.effective_dtype(op.inputs[slots[0]]) if slots and len(op.inputs) > slots[1] else None
        wdt = self.effective_dtype(op.inputs[slots[1]]) if slots and len(op.inputs) > slots[1] else None
        outputs = tuple(self.m.tensors[i].name for i in op.outputs)
        return Node(
            # converters name fused tensors "final_op;folded_op;..."; the first part names the layer
            name=outputs[0].split(";")[0] if outputs else f"{op.op}_{op.index}",
            op=op.op,
            inputs=tuple(self.m.tensors[i].name for i in op.inputs if i >= 0 and i not in self.constant),
            outputs=outputs,
            weights=weights,
            macs=macs,
            other_ops=other,
            supported=supported,
            quantized=wdt in INTEGER_DTYPES,
            weight_dtype=wdt,
            act_dtype=act,
            note=note,
        )


def data_inputs(op: _TOp) -> list[int]:
    skip = NON_WEIGHT_SLOTS.get(op.op, frozenset())
    return [i for slot, i in enumerate(op.inputs) if i >= 0 and slot not in skip]


def _check_shapes(model: _TModel, shapes: Mapping[str, tuple[int, ...]]) -> None:
    """TFLite shapes are fixed at conversion: --shape may only restate them."""
    stored = {model.tensors[i].name: model.tensors[i].shape for i in model.inputs}
    for name, wanted in shapes.items():
        if name not in stored:
            raise UsageError(f"--shape names input {name!r} but the model's inputs are: {', '.join(stored)}")
        if tuple(wanted) != stored[name]:
            raise UsageError(
                f"--shape {name}={'x'.join(map(str, wanted))}: TFLite input shapes are fixed in the file "
                f"({'x'.join(map(str, stored[name]))})",
                hint="re-convert the model at the wanted input size",
            )


def _notes(model: _TModel) -> list[str]:
    notes = list(model.notes)
    sparse = sum(1 for t in model.tensors if t.sparse and t.buffer_bytes)
    if sparse:
        notes.append(f"{sparse} sparse weight tensor(s): params count dense elements, weight bytes the stored ones")
    if any(model.tensors[i].dynamic for i in model.inputs):
        notes.append("dynamic input dims (-1 in shape_signature) are analysed at the size stored in the file")
    if model.other_subgraph_weights:
        notes.append("weights of secondary sub-graphs are counted in params; their MACs are not")
    return notes


def build_graph(path: Path, model: _TModel) -> Graph:
    builder = _Builder(model)
    shapes: dict[int, tuple[int, ...] | None] = {t.index: t.shape for t in model.tensors}
    executed = [op for op in model.ops if any(o not in builder.constant for o in op.outputs)]
    nodes = tuple(builder.node(op, shapes) for op in executed)
    for tensor in model.other_subgraph_weights:
        builder.weight_name(tensor)
    activations = {i for op in executed for i in (*op.inputs, *op.outputs) if i >= 0 and i not in builder.constant}
    activations |= set(model.inputs) | set(model.outputs)
    tensors = {
        model.tensors[i].name: Tensor(model.tensors[i].name, model.tensors[i].shape, model.tensors[i].dtype,
                                      model.tensors[i].bits)
        for i in activations
    }  # fmt: skip
    return Graph(
        source_format="tflite",
        model_name=path.name,
        model_size_bytes=path.stat().st_size,
        nodes=nodes,
        tensors=tensors,
        weights=builder.weights,
        inputs=tuple(model.tensors[i].name for i in model.inputs),
        outputs=tuple(model.tensors[i].name for i in model.outputs),
        notes=tuple(_notes(model)),
    )


class TfliteAnalyzer:
    """Static analysis of a ``.tflite`` flatbuffer (entry point ``edgebench.analyzers: tflite``)."""

    name = "tflite"
    suffixes = (".tflite",)

    def analyze(self, path: Path, shapes: Mapping[str, tuple[int, ...]] | None = None) -> ModelAnalysis:
        path = Path(path)
        model = load_tflite(path)
        _check_shapes(model, shapes or {})
        return assemble(build_graph(path, model))
