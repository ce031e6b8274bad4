"""Load an ONNX file and resolve what static analysis needs: constants, small values, shapes.

Plain ``onnx.shape_inference`` stops at shape arithmetic it cannot evaluate (e.g. the
Constant→ConstantOfShape→Concat→Reshape→Slice→Transpose→Cast→Pad chain that exporters emit for
"same" padding), leaving every later Conv shape unknown. So resolution alternates two steps until
nothing changes: fold the constant sub-graph (small tensors evaluated with onnx's reference
evaluator; ``Shape``/``Size`` of statically shaped tensors become constants) and run shape inference
on a light copy of the graph in which folded nodes are replaced by their values and large weights by
typed inputs (so weights are never copied).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.analysis.model import Dim
from edgebench.errors import ModelError, ShapeError, UsageError

VALUE_LIMIT = 1 << 16  # elements: values up to this size are materialised for shape arithmetic
MAX_PASSES = 8

RANDOM_OPS = frozenset(
    {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}
)

# (name, bits) per TensorProto.DataType; bits None = not a fixed-size numeric type.
ONNX_DTYPES: dict[int, tuple[str, int | None]] = {
    0: ("undefined", None),
    1: ("float32", 32),
    2: ("uint8", 8),
    3: ("int8", 8),
    4: ("uint16", 16),
    5: ("int16", 16),
    6: ("int32", 32),
    7: ("int64", 64),
    8: ("string", None),
    9: ("bool", 8),
    10: ("float16", 16),
    11: ("float64", 64),
    12: ("uint32", 32),
    13: ("uint64", 64),
    14: ("complex64", 64),
    15: ("complex128", 128),
    16: ("bfloat16", 16),
    17: ("float8e4m3fn", 8),
    18: ("float8e4m3fnuz", 8),
    19: ("float8e5m2", 8),
    20: ("float8e5m2fnuz", 8),
    21: ("uint4", 4),
    22: ("int4", 4),
    23: ("float4e2m1", 4),
    24: ("float8e8m0", 8),
    25: ("uint2", 2),
    26: ("int2", 2),
}


def dtype_info(elem_type: int) -> tuple[str, int | None]:
    return ONNX_DTYPES.get(elem_type, (f"onnx_type_{elem_type}", None))


@dataclass
class Resolved:
    """Everything later stages read; built once per analysis (mutable only while resolving)."""

    model: Any
    nodes: list[Any]
    opset: int
    initializers: dict[str, Any]
    inputs: list[str]
    outputs: list[str]
    input_shapes: dict[str, tuple[Dim, ...]]
    constant: set[str] = field(default_factory=set)
    file_constant: set[str] = field(default_factory=set)
    folded: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    values: dict[str, Any] = field(default_factory=dict)
    shapes: dict[str, tuple[Dim, ...] | None] = field(default_factory=dict)
    elem_types: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def static_shape(self, name: str) -> tuple[int, ...] | None:
        shape = self.shapes.get(name)
        if shape is None or not all(isinstance(d, int) and d >= 0 for d in shape):
            return None
        return tuple(int(d) for d in shape if isinstance(d, int))


def load_model(path: Path) -> Any:
    """Parse the protobuf without external weight data (analysis needs dims, not values)."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError, RuntimeError... all mean "not a readable model"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(
            f"{path.name} is not a readable ONNX model ({reason})",
            hint="check the file is complete (re-download or re-export it)",
        ) from exc
    if model.ir_version <= 0 or not model.graph.node:
        raise ModelError(
            f"{path.name} is not a readable ONNX model (no graph nodes)",
            hint="check the file is complete (re-download or re-export it)",
        )
    return model


def _opset(model: Any) -> int:
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return versions[0] if versions else 1


def topological(nodes: Sequence[Any], available: set[str]) -> list[Any]:
    """Nodes in a valid execution order (ONNX requires one; some tools write unsorted graphs)."""
    producer = {out: i for i, n in enumerate(nodes) for out in n.output if out}
    done: set[int] = set()
    order: list[Any] = []

    def visit(start: int) -> None:
        stack = [(start, False)]
        while stack:
            index, expanded = stack.pop()
            if index in done:
                continue
            if expanded:
                done.add(index)
                order.append(nodes[index])
                continue
            stack.append((index, True))
            for name in nodes[index].input:
                dep = producer.get(name)
                if name and name not in available and dep is not None and dep not in done and dep != index:
                    stack.append((dep, False))

    for i in range(len(nodes)):
        visit(i)
    return order


def _declared_dims(value_info: Any) -> tuple[Dim, ...] | None:
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor_type.shape.dim)


def _check_override(name: str, declared: tuple[Dim, ...] | None, wanted: tuple[int, ...]) -> None:
    if any(d <= 0 for d in wanted):
        raise UsageError(f"--shape {name}: dimensions must be positive, got {wanted}")
    if declared is None:
        return
    if len(declared) != len(wanted):
        raise ShapeError(f"input {name!r} has rank {len(declared)} but --shape gives {len(wanted)} dims")
    for axis, (have, want) in enumerate(zip(declared, wanted, strict=True)):
        if isinstance(have, int) and have > 0 and have != want:
            raise ShapeError(
                f"input {name!r} has fixed size {have} on axis {axis}; --shape asks for {want}",
                hint="only symbolic (dynamic) dims can be overridden",
            )


def _resolve_inputs(
    graph: Any, runtime_inputs: list[str], overrides: Mapping[str, tuple[int, ...]], notes: list[str]
) -> dict[str, tuple[Dim, ...]]:
    declared = {vi.name: _declared_dims(vi) for vi in graph.input if vi.name in runtime_inputs}
    unknown = sorted(set(overrides) - set(runtime_inputs))
    if unknown:
        raise UsageError(
            f"--shape names input(s) {', '.join(unknown)} but the model's inputs are: {', '.join(runtime_inputs)}"
        )
    shapes: dict[str, tuple[Dim, ...]] = {}
    for name, dims in declared.items():
        if name in overrides:
            _check_override(name, dims, tuple(overrides[name]))
            shapes[name] = tuple(overrides[name])
        elif dims is not None:
            shapes[name] = _default_batch(name, dims, notes)
    return shapes


def _default_batch(name: str, dims: tuple[Dim, ...], notes: list[str]) -> tuple[Dim, ...]:
    """Published per-model figures are per sample: a symbolic leading (batch) dim becomes 1, noted."""
    if len(dims) >= 2 and (not isinstance(dims[0], int) or dims[0] <= 0):
        notes.append(f"input {name!r}: symbolic batch dim {dims[0]!r} analysed as 1 (override with --shape)")
        dims = (1, *dims[1:])
    unresolved = [d for d in dims if not isinstance(d, int) or d <= 0]
    if unresolved:
        notes.append(f"input {name!r}: dims {unresolved} are symbolic; pass --shape {name}=... to resolve them")
    return dims


def _has_subgraph(node: Any) -> bool:
    return any(attr.type in (5, 10) for attr in node.attribute)  # GRAPH, GRAPHS


def _const_kind(node: Any, st: Resolved) -> str | None:
    """'file' when computable from file data alone, 'shape' when it also needs inferred shapes."""
    if node.op_type in RANDOM_OPS or node.domain not in ("", "ai.onnx") or _has_subgraph(node):
        return None
    inputs = [name for name in node.input if name]
    if not all(name in st.constant for name in inputs):
        return None
    return "file" if all(name in st.file_constant for name in inputs) else "shape"


def _shape_value(node: Any, st: Resolved) -> Any | None:
    """``Shape``/``Size`` of a tensor whose shape inference already fixed."""
    import numpy as np

    if node.op_type not in ("Shape", "Size") or not node.input:
        return None
    shape = st.static_shape(node.input[0])
    if shape is None:
        return None
    if node.op_type == "Size":
        return np.array(math.prod(shape), dtype=np.int64)
    attrs = {a.name: a.i for a in node.attribute}
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return np.array(shape[start:end], dtype=np.int64)


def _small_constant_attr(node: Any) -> bool:
    for attr in node.attribute:
        if attr.name == "value":
            return bool(math.prod(attr.t.dims) <= VALUE_LIMIT)
    return True


def _evaluable(node: Any, st: Resolved) -> bool:
    inputs = [name for name in node.input if name]
    if not all(name in st.values for name in inputs):
        return False
    if sum(int(st.values[name].size) for name in inputs) > VALUE_LIMIT:
        return False
    if node.op_type == "ConstantOfShape" and inputs:
        return math.prod(int(v) for v in st.values[inputs[0]].reshape(-1)) <= VALUE_LIMIT
    return node.op_type != "Constant" or _small_constant_attr(node)


def _evaluate(node: Any, st: Resolved) -> list[Any] | None:
    """Run one node with onnx's reference evaluator; None when it cannot (the node then stays)."""
    from onnx.reference import ReferenceEvaluator

    feeds = {name: st.values[name] for name in node.input if name}
    outputs = None
    # the file's opset first (old signatures such as Unsqueeze-1's ``axes`` attribute need it); then the
    # evaluator's newest, which covers ops it implements only from a later version (DequantizeLinear-19)
    for proto in (_one_node_model(node, feeds, st), node):
        try:
            outputs = ReferenceEvaluator(proto).run(None, feeds)
            break
        except Exception:  # an op the evaluator lacks or bad data: keep the node, shapes come from inference
            continue
    if outputs is None:
        return None
    if any(getattr(out, "size", VALUE_LIMIT + 1) > VALUE_LIMIT for out in outputs):
        return None
    return list(outputs)


def _one_node_model(node: Any, feeds: Mapping[str, Any], st: Resolved) -> Any:
    """The node wrapped in a model, so that it runs at the file's opsets (a bare node runs at the newest)."""
    from onnx import helper

    inputs = [helper.make_tensor_value_info(name, _np_elem_type(value), value.shape) for name, value in feeds.items()]
    outputs = [helper.make_empty_tensor_value_info(name) for name in node.output if name]
    graph = helper.make_graph([node], "fold", inputs, outputs)
    model = helper.make_model(graph, opset_imports=list(st.model.opset_import))
    model.functions.extend(st.model.functions)
    return model


def _fold_node(index: int, node: Any, st: Resolved) -> bool:
    kind = _const_kind(node, st)
    value = None if kind else _shape_value(node, st)
    if kind is None and value is None:
        return False
    outputs = [name for name in node.output if name]
    changed = not all(name in st.constant for name in outputs)
    st.constant.update(outputs)
    if kind == "file":
        st.file_constant.update(outputs)
    evaluable = value is None and _evaluable(node, st)
    results = [value] if value is not None else (_evaluate(node, st) if evaluable else None)
    if evaluable and results is None and index not in st.failed:
        # small constant arithmetic that cannot run means a broken model: keep it away from inference
        st.failed.add(index)
        st.notes.append(f"constant node {node.name or node.op_type!r} ({node.op_type}) could not be evaluated")
        changed = True
    if results is not None and len(results) >= len(outputs):
        for name, result in zip(node.output, results, strict=False):  # optional outputs may be missing
            if name:
                st.values[name] = result
        st.folded.add(index)
        changed = True
    return changed


def fold_pass(st: Resolved) -> bool:
    """One sweep in execution order; True when a tensor became constant or a node got folded."""
    changed = False
    for index, node in enumerate(st.nodes):
        if index not in st.folded and _fold_node(index, node, st):
            changed = True
    return changed


def _needed_names(nodes: Sequence[Any]) -> set[str]:
    needed: set[str] = set()
    for node in nodes:
        needed.update(name for name in node.input if name)
        for sub in iter_subgraphs(node):
            needed.update(name for n in walk_nodes(sub) for name in n.input if name)
    return needed


def _inference_model(st: Resolved) -> Any:
    from onnx import helper, numpy_helper

    graph = st.model.graph
    kept = [n for i, n in enumerate(st.nodes) if i not in st.folded and i not in st.failed]
    needed = _needed_names(kept)
    broken = [helper.make_empty_tensor_value_info(o) for i in sorted(st.failed) for o in st.nodes[i].output if o]
    initializers = [numpy_helper.from_array(st.values[n], n) for n in sorted(needed) if n in st.values]
    typed = [
        helper.make_tensor_value_info(n, st.initializers[n].data_type, list(st.initializers[n].dims))
        for n in sorted(needed)
        if n in st.initializers and n not in st.values
    ]
    inputs = [
        helper.make_tensor_value_info(vi.name, vi.type.tensor_type.elem_type, st.input_shapes.get(vi.name))
        for vi in graph.input
        if vi.name in st.inputs
    ]
    # declared output shapes are not trusted: inference recomputes them (declared ones are a fallback)
    outputs = [helper.make_tensor_value_info(vi.name, vi.type.tensor_type.elem_type, None) for vi in graph.output]
    new_graph = helper.make_graph(kept, graph.name or "graph", inputs + typed + broken, outputs, initializers)
    model = helper.make_model(new_graph, opset_imports=list(st.model.opset_import))
    model.ir_version = max(st.model.ir_version, 4)  # IR < 4 ignores initializers that are not graph inputs
    model.functions.extend(st.model.functions)
    return model


def _record_value_info(value_info: Any, st: Resolved) -> None:
    tensor_type = value_info.type.tensor_type
    if tensor_type.elem_type:
        st.elem_types[value_info.name] = tensor_type.elem_type
    dims = _declared_dims(value_info)
    if dims is not None or value_info.name not in st.shapes:
        st.shapes[value_info.name] = dims


def infer(st: Resolved) -> None:
    """Shape inference on the light copy; a failure leaves what is already known and is noted."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(_inference_model(st), strict_mode=False, data_prop=True)
    except Exception as exc:
        st.notes.append(f"ONNX shape inference failed ({str(exc).splitlines()[0][:200]}); shapes are partial")
        return
    for vi in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output):
        _record_value_info(vi, st)
    for vi in st.model.graph.output:
        if st.shapes.get(vi.name) is None:
            _record_value_info(vi, st)
    _record_constants(st)
    _dropout_masks(st)


def _dropout_masks(st: Resolved) -> None:
    """onnx infers no type for Dropout-7's optional mask (same shape as the data); without it every
    model exported with a mask output would have an unknown activation peak."""
    for node in st.nodes:
        if node.op_type != "Dropout" or len(node.output) < 2 or not node.output[1] or not node.input:
            continue
        mask, data = node.output[1], node.input[0]
        if st.shapes.get(mask) is None and st.shapes.get(data) is not None:
            st.shapes[mask] = st.shapes[data]
            # Dropout-7's mask has the data's type T; from opset 10 on it is bool
            st.elem_types[mask] = st.elem_types.get(data, 0) if st.opset < 10 else 9


def _record_constants(st: Resolved) -> None:
    for name, init in st.initializers.items():
        st.shapes[name] = tuple(int(d) for d in init.dims)
        st.elem_types[name] = init.data_type
    for name, value in st.values.items():
        st.shapes[name] = tuple(int(d) for d in value.shape)
        st.elem_types.setdefault(name, _np_elem_type(value))


def _np_elem_type(value: Any) -> int:
    from onnx import helper

    try:
        return int(helper.np_dtype_to_tensor_dtype(value.dtype))
    except Exception:  # object/string arrays
        return 0


def _small_initializer_values(initializers: Mapping[str, Any]) -> dict[str, Any]:
    from onnx import TensorProto, numpy_helper

    values: dict[str, Any] = {}
    for name, init in initializers.items():
        if init.data_location != TensorProto.EXTERNAL and math.prod(init.dims) <= VALUE_LIMIT:
            try:
                values[name] = numpy_helper.to_array(init)
            except Exception:  # malformed data: the tensor still counts by its dims
                continue
    return values


def iter_subgraphs(node: Any) -> Iterator[Any]:
    for attr in node.attribute:
        if attr.type == 5:
            yield attr.g
        elif attr.type == 10:
            yield from attr.graphs


def walk_nodes(graph: Any) -> Iterator[Any]:
    """Every node of ``graph`` and of its nested sub-graphs."""
    for node in graph.node:
        yield node
        for sub in iter_subgraphs(node):
            yield from walk_nodes(sub)


def resolve(model: Any, overrides: Mapping[str, tuple[int, ...]]) -> Resolved:
    """Fold constants and infer shapes until a fixed point (at most ``MAX_PASSES`` inferences)."""
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    runtime_inputs = [vi.name for vi in graph.input if vi.name not in initializers]
    notes: list[str] = []
    st = Resolved(
        model=model,
        nodes=topological(list(graph.node), set(initializers) | set(runtime_inputs)),
        opset=_opset(model),
        initializers=initializers,
        inputs=runtime_inputs,
        outputs=[vi.name for vi in graph.output],
        input_shapes=_resolve_inputs(graph, runtime_inputs, overrides, notes),
        notes=notes,
    )
    st.constant.update(initializers)
    st.file_constant.update(initializers)
    st.values.update(_small_initializer_values(initializers))
    fold_pass(st)
    for _ in range(MAX_PASSES):
        infer(st)
        if not fold_pass(st):
            break
    check_reshapes(st)
    return st


def check_reshapes(st: Resolved) -> None:
    """ShapeError for a Reshape no runtime could execute: onnx's shape inference takes a fully given
    target shape as is (192 elements → 7×7 passes), and every count after it would be built on it."""
    for index, node in enumerate(st.nodes):
        if node.op_type != "Reshape" or len(node.input) < 2 or index in st.folded:
            continue
        source, target = st.static_shape(node.input[0]), st.values.get(node.input[1])
        if source is None or target is None or target.dtype.kind not in "iu":  # a non-integer target: no rule
            continue
        allowzero = any(a.name == "allowzero" and a.i for a in node.attribute)
        problem = reshape_problem(source, [int(d) for d in target.reshape(-1)], allowzero)
        if problem:
            raise ShapeError(
                f"node {node.name or f'Reshape_{index}'!r} (Reshape) {problem}",
                hint="the model is invalid: fix the exporter's shape arithmetic or re-export it",
            )


def reshape_problem(source: Sequence[int], target: Sequence[int], allowzero: bool = False) -> str | None:
    """Why ``source`` cannot be reshaped to ``target`` (ONNX Reshape semantics), or None when it can."""
    dims = [source[i] if d == 0 and not allowzero and i < len(source) else d for i, d in enumerate(target)]
    elements, known = math.prod(source), math.prod(d for d in dims if d != -1)
    wanted = "×".join(str(d) for d in target)
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        return f"has an invalid target shape {wanted}"
    inferred = -1 in dims  # one dim is inferred: the others must divide the element count
    if (known > 0 and elements % known == 0) if inferred else known == elements:
        return None
    have = "×".join(str(d) for d in source)
    return f"cannot reshape {have} ({elements:,} elements) to {wanted} ({known:,}{' × ?' if inferred else ''} elements)"
