"""Format-neutral graph summary and the assembly of a ``ModelAnalysis`` from it.

Each frontend (ONNX, TFLite) reduces its file to ``Tensor``/``Weight``/``Node`` records in execution
order; everything derived from them (totals, depth, liveness, bit width, per-layer rows) is computed
here once, so both formats follow the same conventions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgebench.analysis.liveness import Peak, Step, peak_activation
from edgebench.analysis.model import Dim, LayerRow, ModelAnalysis, names, sorted_dtypes

INTEGER_DTYPES = frozenset({"int8", "uint8", "int16", "uint16", "int4", "uint4", "int2", "uint2"})
DTYPE_BITS = {"float32": 32, "float16": 16, "bfloat16": 16, "float64": 64}


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[Dim, ...] | None
    dtype: str
    bits: int | None

    @property
    def static_shape(self) -> tuple[int, ...] | None:
        if self.shape is None or not all(isinstance(d, int) and d >= 0 for d in self.shape):
            return None
        return tuple(int(d) for d in self.shape if isinstance(d, int))

    @property
    def nbytes(self) -> int | None:
        shape = self.static_shape
        if shape is None or self.bits is None:
            return None
        elements = 1
        for dim in shape:
            elements *= dim
        return (elements * self.bits + 7) // 8


@dataclass(frozen=True)
class Weight:
    """A unique weight tensor as stored in the file (shared uses point at the same name)."""

    name: str
    elements: int | None
    dtype: str
    nbytes: int | None


@dataclass(frozen=True)
class Node:
    """One executed node with its counts already computed by the frontend."""

    name: str
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    weights: tuple[str, ...]
    macs: int | None
    other_ops: int | None
    supported: bool = True
    quantized: bool = False
    weight_dtype: str | None = None
    act_dtype: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Graph:
    source_format: str
    model_name: str
    model_size_bytes: int
    nodes: tuple[Node, ...]
    tensors: Mapping[str, Tensor]
    weights: Mapping[str, Weight]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    notes: tuple[str, ...] = ()


def topological_depth(nodes: Sequence[Node]) -> int:
    """Longest input→output path, counted in executed nodes (nodes come in execution order)."""
    producer_depth: dict[str, int] = {}
    deepest = 0
    for node in nodes:
        depth = 1 + max((producer_depth.get(name, 0) for name in node.inputs), default=0)
        for name in node.outputs:
            producer_depth[name] = depth
        deepest = max(deepest, depth)
    return deepest


def _sum_known(values: Sequence[int | None]) -> int:
    return sum(v for v in values if v is not None)


def _total(values: Sequence[int | None]) -> int | None:
    """Sum of the known parts; None when some part is unknown and the known ones add up to 0."""
    known = _sum_known(values)
    return None if known == 0 and any(v is None for v in values) else known


def _lower_bounds(parts: Mapping[str, Sequence[int | None]]) -> tuple[str, ...]:
    """Totals that have unknown parts but a known sum: they are lower bounds, not counts."""
    bounds = [key for key, values in parts.items() if any(v is None for v in values) and _total(values) is not None]
    return tuple(bounds + (["flops"] if "macs" in bounds else []))


def _charge_weights(graph: Graph) -> list[tuple[int | None, int | None]]:
    """(params, weight bytes) per node; a shared weight is charged to its first user only."""
    seen: set[str] = set()
    charged: list[tuple[int | None, int | None]] = []
    for node in graph.nodes:
        fresh = [graph.weights[w] for w in node.weights if w not in seen and w in graph.weights]
        seen.update(node.weights)
        params = None if any(w.elements is None for w in fresh) else _sum_known([w.elements for w in fresh])
        nbytes = None if any(w.nbytes is None for w in fresh) else _sum_known([w.nbytes for w in fresh])
        charged.append((params, nbytes))
    return charged


def _bytes_moved(graph: Graph, node: Node) -> int | None:
    sizes = [graph.tensors[n].nbytes if n in graph.tensors else None for n in (*node.inputs, *node.outputs)]
    sizes += [graph.weights[w].nbytes if w in graph.weights else None for w in node.weights]
    return None if any(s is None for s in sizes) else _sum_known(sizes)


def _intensity(graph: Graph, node: Node) -> float | None:
    moved = _bytes_moved(graph, node)
    if node.macs is None or not moved:
        return None
    return round(node.macs / moved, 4)


def _output_tensor(graph: Graph, node: Node) -> Tensor | None:
    return graph.tensors.get(node.outputs[0]) if node.outputs else None


def _row(graph: Graph, node: Node, params: int | None, weight_bytes: int | None) -> LayerRow:
    out = _output_tensor(graph, node)
    out_sizes = [graph.tensors[n].nbytes if n in graph.tensors else None for n in node.outputs]
    activation = None if any(s is None for s in out_sizes) else _sum_known(out_sizes)
    return LayerRow(
        name=node.name,
        op=node.op,
        output_shape=None if out is None else out.shape,
        params=params,
        macs=node.macs,
        other_ops=node.other_ops,
        weight_bytes=weight_bytes,
        activation_bytes=activation,
        dtype=out.dtype if out is not None else "unknown",
        quantized=node.quantized,
        arithmetic_intensity=_intensity(graph, node),
        note=node.note,
    )


def _bits(dtype: str | None) -> int | None:
    if dtype is None:
        return None
    if dtype in DTYPE_BITS:
        return DTYPE_BITS[dtype]
    digits = "".join(ch for ch in dtype if ch.isdigit())
    return int(digits) if digits else None


def _precision_label(weight_dtype: str, act_dtype: str) -> str:
    if weight_dtype == act_dtype and weight_dtype.startswith(("float", "bfloat")):
        return {"float32": "FP32", "float16": "FP16", "bfloat16": "BF16", "float64": "FP64"}.get(
            weight_dtype, weight_dtype.upper()
        )
    weight_bits, act_bits = _bits(weight_dtype), _bits(act_dtype)
    return f"W{weight_bits or weight_dtype}/A{act_bits or act_dtype}"


def bit_width(nodes: Sequence[Node], weights: Mapping[str, Weight]) -> str:
    """Dominant (weight, activation) precision by MACs; "mixed" when under 99 % of MACs use it."""
    by_macs: Counter[tuple[str, str]] = Counter()
    for node in nodes:
        if node.macs and node.weight_dtype and node.act_dtype:
            by_macs[(node.weight_dtype, node.act_dtype)] += node.macs
    if not by_macs:
        by_bytes: Counter[str] = Counter({w.dtype: w.nbytes or 0 for w in weights.values()})
        return _precision_label(by_bytes.most_common(1)[0][0], "float32") if by_bytes else "unknown"
    (weight_dtype, act_dtype), top = by_macs.most_common(1)[0]
    label = _precision_label(weight_dtype, act_dtype)
    return label if top >= 0.99 * sum(by_macs.values()) else f"{label} (mixed)"


def _quantized_fraction(nodes: Sequence[Node]) -> float | None:
    total = _sum_known([n.macs for n in nodes])
    if total == 0:
        return None
    quantized = _sum_known([n.macs for n in nodes if n.quantized])
    return round(quantized / total, 6)


def _peak(graph: Graph) -> Peak:
    steps = [Step(n.name, n.inputs, n.outputs) for n in graph.nodes]
    sizes = {name: t.nbytes for name, t in graph.tensors.items()}
    return peak_activation(steps, sizes, graph.inputs, graph.outputs)


def _weights_by_dtype(weights: Mapping[str, Weight]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for weight in weights.values():
        if weight.nbytes is not None:  # a dtype whose sizes are all unknown is left out, not shown as 0 B
            totals[weight.dtype] += weight.nbytes
    return sorted_dtypes(totals)


def _notes(graph: Graph, peak: Peak, unknown_params: Sequence[str]) -> tuple[str, ...]:
    notes = list(graph.notes)
    if peak.bytes is None and peak.unknown_tensors:
        bound = f" (at least {peak.lower_bound:,} bytes)" if peak.lower_bound else ""
        notes.append(
            f"{peak.unknown_tensors} activation tensor(s) have unknown size: peak activation memory is unknown{bound}"
        )
    if unknown_params:
        notes.append(f"{len(unknown_params)} weight tensor(s) have unknown size: params are not all counted")
    return tuple(notes)


def _input_shapes(graph: Graph) -> dict[str, tuple[Dim, ...]]:
    shapes = {name: graph.tensors[name].shape for name in graph.inputs if name in graph.tensors}
    return {name: shape for name, shape in shapes.items() if shape is not None}


def assemble(graph: Graph) -> ModelAnalysis:
    """Totals, depth, liveness and rows from a frontend's ``Graph``."""
    charged = _charge_weights(graph)
    rows = tuple(_row(graph, node, p, b) for node, (p, b) in zip(graph.nodes, charged, strict=True))
    peak = _peak(graph)
    unknown_params = tuple(w.name for w in graph.weights.values() if w.elements is None)
    parts: dict[str, list[int | None]] = {
        "params": [w.elements for w in graph.weights.values()],
        "macs": [n.macs for n in graph.nodes],
        "other_ops": [n.other_ops for n in graph.nodes],
        "weight_bytes": [w.nbytes for w in graph.weights.values()],
    }
    return ModelAnalysis(
        source_format=graph.source_format,
        model_name=graph.model_name,
        params=_total(parts["params"]),
        macs=_total(parts["macs"]),
        other_ops=_total(parts["other_ops"]),
        depth_param_layers=sum(1 for n in graph.nodes if n.weights),
        depth_topological=topological_depth(graph.nodes),
        weight_bytes=_total(parts["weight_bytes"]),
        weight_bytes_by_dtype=_weights_by_dtype(graph.weights),
        peak_activation_bytes=peak.bytes,
        model_size_bytes=graph.model_size_bytes,
        quantized_mac_fraction=_quantized_fraction(graph.nodes),
        unsupported_ops=tuple(sorted(names([n.op for n in graph.nodes if not n.supported]))),
        layers=rows,
        bit_width=bit_width(graph.nodes, graph.weights),
        inputs=_input_shapes(graph),
        unknown_macs_layers=tuple(n.name for n in graph.nodes if n.macs is None),
        unknown_other_ops_layers=tuple(n.name for n in graph.nodes if n.other_ops is None),
        lower_bounds=_lower_bounds(parts),
        unknown_param_tensors=unknown_params,
        unknown_activation_tensors=peak.unknown_tensors,
        peak_activation_node=peak.step,
        notes=_notes(graph, peak, unknown_params),
    )
