"""The facts every report reads from a record, in SI units; ``None`` where the record does not hold them.

One place decides what "the model's size", "its bit width" or "the device it ran on" mean, so the
Markdown tables, the HTML page and the CSV/JSON rows never disagree. Nothing here estimates: a value
the record lacks stays ``None`` and each reporter prints it as a dash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from edgebench.records import EnergyReading, RunRecord

# Provider / device names that mean the work did not run on the host CPU.
_GPU_MARKS = ("cuda", "tensorrt", "rocm", "migraphx", "dml", "gpu", "mps", "coreml", "opencl", "vulkan")
_NPU_MARKS = ("npu", "qnn", "nnapi", "vitis", "hexagon", "edgetpu", "ethos")

# Suffixes that name a precision variant of the same model: resnet50_int8.onnx belongs with resnet50.onnx.
_VARIANT_SUFFIX = re.compile(
    r"[-_.](int8|uint8|qint8|int4|w8a8|w8a16|a8w8|q8|qdq|qoperator|quant|quantized|static|dynamic|"
    r"fp16|fp32|bf16|float16|float32|f16|f32|half|full)$",
    re.IGNORECASE,
)
FAMILY_TAG = "family="  # `bench --tag family=resnet50` groups variants whose names do not say it


def model_name(r: RunRecord) -> str:
    """The model as the user knows it: the zoo name, else the file name (paths are long and host-specific)."""
    if r.model is not None and r.model.name:
        return r.model.name
    return Path(r.spec.model).name or r.spec.model


def family(r: RunRecord) -> str:
    """Which models are precision variants of one another (Optimization table): tag, else name minus suffixes."""
    for tag in r.spec.tags:
        if tag.startswith(FAMILY_TAG) and len(tag) > len(FAMILY_TAG):
            return tag[len(FAMILY_TAG) :]
    stem = model_name(r)
    for suffix in (".onnx", ".tflite", ".xml", ".pt", ".pt2", ".ptl"):
        stem = stem.removesuffix(suffix)
    while (shorter := _VARIANT_SUFFIX.sub("", stem)) != stem and shorter:
        stem = shorter
    return stem


def analysis(r: RunRecord) -> Mapping[str, object]:
    """The record's static-analysis totals (empty when the model was not analysed)."""
    return r.analysis if r.analysis is not None else {}


def analysis_number(r: RunRecord, key: str) -> float | None:
    value = analysis(r).get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def is_lower_bound(r: RunRecord, key: str) -> bool:
    """A static-analysis total that misses unknown layers is a lower bound (docs/analysis.md)."""
    bounds = analysis(r).get("lower_bounds")
    return isinstance(bounds, list | tuple) and key in bounds


def bit_width(r: RunRecord) -> str | None:
    """Weights/activations precision from the graph (W8/A8, FP32…); the requested precision when not FP32."""
    label = analysis(r).get("bit_width")
    graph = label if isinstance(label, str) and label and label != "unknown" else None
    if r.spec.precision != "fp32":  # the runtime was asked to execute in fp16/bf16 whatever the file holds
        executed = r.spec.precision.upper()
        return f"{graph} → {executed} exec" if graph and graph != executed else executed
    return graph


def precision_rank(label: str | None) -> tuple[int, str]:
    """FP32 first, then the narrower formats (the guide's Optimization table reads top-down)."""
    text = (label or "").upper()
    for rank, mark in enumerate(("FP64", "FP32", "BF16", "FP16", "W16", "W8", "INT8", "W4")):
        if text.startswith(mark):
            return rank, text
    return 99, text


def size_bytes(r: RunRecord) -> int | None:
    if r.model is not None:
        return r.model.size_bytes
    return r.summary.model_size_bytes if r.summary else None


def depth(r: RunRecord) -> float | None:
    """Keras' "Depth" column: layers with parameters (the topological depth is in the CSV/JSON rows)."""
    return analysis_number(r, "depth_param_layers")


def device(r: RunRecord) -> str:
    """CPU, GPU or NPU: what the runtime reports it used after load, else what was asked for."""
    names: list[str] = []
    for source in (r.effective, r.spec.backend_options):
        for key in ("providers", "device", "devices"):
            value = source.get(key)
            if isinstance(value, str):
                names.append(value)
            elif isinstance(value, Sequence):
                names += [str(v) for v in value]
        if names:
            break
    primary = names[0].lower() if names else ""
    if any(mark in primary for mark in _NPU_MARKS):
        return "NPU"
    if any(mark in primary for mark in _GPU_MARKS):
        return "GPU"
    return "CPU"


def latency_s(r: RunRecord) -> float | None:
    return r.summary.latency_median_s if r.summary else None


def measured_readings(r: RunRecord) -> list[EnergyReading]:
    return [x for x in (r.energy.readings if r.energy else ()) if x.status == "measured"]


def energy_per_inference_j(r: RunRecord) -> float | None:
    return r.energy.energy_per_inference_j if r.energy else None


def mean_power_w(r: RunRecord) -> float | None:
    """The first measured domain's mean power: domains may overlap (package ⊃ core), so never a sum."""
    readings = [x for x in measured_readings(r) if x.mean_power_w is not None]
    return readings[0].mean_power_w if readings else None


def energy_sensor(r: RunRecord) -> str | None:
    readings = measured_readings(r)
    return f"{readings[0].sensor} {readings[0].domain}" if readings else None


def temperature_max_c(r: RunRecord) -> float | None:
    temps = r.energy.temperature_c if r.energy else {}
    return max(temps.values()) if temps else None


def top(r: RunRecord, k: int) -> float | None:
    if r.accuracy is None:
        return None
    return r.accuracy.top1 if k == 1 else r.accuracy.top5


def cpu_label(r: RunRecord) -> str:
    cpu: Mapping[str, object] = r.environment.cpu
    model = cpu.get("cpu_model") or r.environment.machine
    cores = cpu.get("logical_cpus")
    return f"{model} ({cores} CPUs)" if cores else str(model)


def platform_label(r: RunRecord) -> str:
    """``CPU model (N CPUs), backend, T threads`` — the conditions the latency belongs to."""
    threads = f", {r.spec.threads} thread{'s' if r.spec.threads != 1 else ''}" if r.spec.threads else ""
    return f"{cpu_label(r)}, {r.spec.backend}{threads}"


def profile_ops(r: RunRecord) -> list[OpTime]:
    """Per-op times of a profile record: ``scenario.result["ops"]`` (contract in docs/reports.md)."""
    if r.scenario is None:
        return []
    raw = r.scenario.result.get("ops")
    if not isinstance(raw, list | tuple):
        return []
    ops = [op for op in (_op(item) for item in raw) if op is not None]
    return sorted(ops, key=lambda op: op.time_s, reverse=True)


@dataclass(frozen=True)
class OpTime:
    """One operator of a profile: mean time per inference, and its work when the profiler knows it."""

    name: str
    op_type: str
    time_s: float
    flops: float | None = None
    bytes: float | None = None


def _op(item: object) -> OpTime | None:
    if not isinstance(item, Mapping):
        return None
    time_s = item.get("time_s")
    if not isinstance(time_s, int | float) or isinstance(time_s, bool) or time_s < 0:
        return None
    return OpTime(
        name=str(item.get("name", "?")),
        op_type=str(item.get("op_type", item.get("name", "?"))),
        time_s=float(time_s),
        flops=_positive(item.get("flops")),
        bytes=_positive(item.get("bytes")),
    )


def _positive(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None
