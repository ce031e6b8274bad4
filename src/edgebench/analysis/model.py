"""The result of a static model analysis: frozen records with a stable JSON form.

``ModelAnalysis.to_dict()`` is the documented ``edgebench analyze --json`` schema (docs/analysis.md);
``summary_dict()`` is the same without the per-layer rows and is attached to every bench record.
Unknown counts are ``None`` (JSON ``null``), never zero. A total over parts some of which are unknown
is the sum of the known parts, listed in ``lower_bounds``; when the known parts add up to nothing it
is ``None`` instead (a bound of 0 says nothing, and would read as "none").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

ANALYSIS_SCHEMA = 1

COUNTING_CONVENTION = (
    "MAC = one multiply-accumulate; FLOPs = 2 x MACs. MACs count Conv/ConvTranspose/Gemm/MatMul/"
    "FullyConnected/Einsum/RNN contractions only, bias excluded (torchvision/paper convention); "
    "element-wise, activation, normalization, pooling, softmax, resize and bias ops are 'other_ops'. "
    "Params = elements of unique weight tensors in the file."
)

Dim = int | str | None


@dataclass(frozen=True)
class LayerRow:
    """One executed node. ``params``/``weight_bytes`` are charged to the first node using a weight."""

    name: str
    op: str
    output_shape: tuple[Dim, ...] | None
    params: int | None
    macs: int | None
    other_ops: int | None
    weight_bytes: int | None
    activation_bytes: int | None
    dtype: str
    quantized: bool = False
    arithmetic_intensity: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["output_shape"] = None if self.output_shape is None else list(self.output_shape)
        return row

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerRow:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        shape = values.get("output_shape")
        values["output_shape"] = None if shape is None else tuple(shape)
        return cls(**values)


@dataclass(frozen=True)
class ModelAnalysis:
    """Totals over the executed graph plus one ``LayerRow`` per executed node."""

    source_format: str
    model_name: str
    params: int | None
    macs: int | None
    other_ops: int | None
    depth_param_layers: int
    depth_topological: int
    weight_bytes: int | None
    weight_bytes_by_dtype: Mapping[str, int]
    peak_activation_bytes: int | None
    model_size_bytes: int
    quantized_mac_fraction: float | None
    unsupported_ops: tuple[str, ...]
    layers: tuple[LayerRow, ...]
    bit_width: str
    inputs: Mapping[str, tuple[Dim, ...]] = field(default_factory=dict)
    unknown_macs_layers: tuple[str, ...] = ()
    unknown_other_ops_layers: tuple[str, ...] = ()
    lower_bounds: tuple[str, ...] = ()  # totals that are sums of their known parts only
    unknown_param_tensors: tuple[str, ...] = ()
    unknown_activation_tensors: int = 0
    peak_activation_node: str | None = None
    notes: tuple[str, ...] = ()
    source_params: int | None = None  # parameters of the source (e.g. PyTorch) module, when known

    @property
    def flops(self) -> int | None:
        return None if self.macs is None else 2 * self.macs

    @property
    def macs_complete(self) -> bool:
        """False when some layer's MACs could not be counted: ``macs`` is then a lower bound."""
        return not self.unknown_macs_layers

    def with_source_params(self, source_params: int) -> ModelAnalysis:
        """Record the source module's ``sum(p.numel())`` and explain a difference with the file's count."""
        if self.params is None or "params" in self.lower_bounds:
            return replace(self, source_params=source_params)  # nothing exact to compare with
        delta = self.params - source_params
        if delta == 0:
            return replace(self, source_params=source_params)
        note = (
            f"the source module has {source_params:,} parameters, this file {self.params:,} ({delta:+,}); "
            "exporters fold each BatchNorm (2 parameters per channel) into the preceding conv (1 bias per "
            "channel), which removes one parameter per BN channel (docs/analysis.md)"
        )
        return replace(self, source_params=source_params, notes=(*self.notes, note))

    def summary_dict(self) -> dict[str, Any]:
        """Everything but the per-layer rows: small, JSON-serializable, for bench records."""
        return {
            "analysis_schema": ANALYSIS_SCHEMA,
            "source_format": self.source_format,
            "model_name": self.model_name,
            "params": self.params,
            "source_params": self.source_params,
            "macs": self.macs,
            "flops": self.flops,
            "other_ops": self.other_ops,
            "macs_complete": self.macs_complete,
            "lower_bounds": list(self.lower_bounds),
            "depth_param_layers": self.depth_param_layers,
            "depth_topological": self.depth_topological,
            "weight_bytes": self.weight_bytes,
            "weight_bytes_by_dtype": dict(self.weight_bytes_by_dtype),
            "peak_activation_bytes": self.peak_activation_bytes,
            "peak_activation_node": self.peak_activation_node,
            "model_size_bytes": self.model_size_bytes,
            "quantized_mac_fraction": self.quantized_mac_fraction,
            "bit_width": self.bit_width,
            "unsupported_ops": list(self.unsupported_ops),
            "unknown_macs_layers": list(self.unknown_macs_layers),
            "unknown_other_ops_layers": list(self.unknown_other_ops_layers),
            "unknown_param_tensors": list(self.unknown_param_tensors),
            "unknown_activation_tensors": self.unknown_activation_tensors,
            "inputs": {name: list(shape) for name, shape in self.inputs.items()},
            "notes": list(self.notes),
            "counting_convention": COUNTING_CONVENTION,
        }

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document: ``summary_dict()`` plus ``layers``."""
        return {**self.summary_dict(), "layers": [row.to_dict() for row in self.layers]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelAnalysis:
        """Inverse of ``to_dict``/``summary_dict`` (derived keys such as ``flops`` are ignored)."""
        schema = data.get("analysis_schema", ANALYSIS_SCHEMA)
        if schema != ANALYSIS_SCHEMA:
            raise ValueError(f"unknown analysis schema {schema!r} (expected {ANALYSIS_SCHEMA})")
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["layers"] = tuple(LayerRow.from_dict(row) for row in data.get("layers", ()))
        values["inputs"] = {k: tuple(v) for k, v in data.get("inputs", {}).items()}
        values["weight_bytes_by_dtype"] = dict(data["weight_bytes_by_dtype"])
        lists = ("unsupported_ops", "unknown_macs_layers", "unknown_other_ops_layers", "lower_bounds")
        for name in (*lists, "unknown_param_tensors", "notes"):
            values[name] = tuple(data.get(name, ()))
        return cls(**values)


def sorted_dtypes(by_dtype: Mapping[str, int]) -> dict[str, int]:
    """Largest first, so the JSON reads naturally."""
    return dict(sorted(by_dtype.items(), key=lambda item: (-item[1], item[0])))


def names(items: Sequence[str]) -> tuple[str, ...]:
    """Unique, order kept."""
    return tuple(dict.fromkeys(items))
