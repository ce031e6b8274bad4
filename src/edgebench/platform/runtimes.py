"""Installed inference runtimes, their versions, and the devices / execution providers they can use.

Versions come from package metadata (no import).  Devices need the runtime itself; that import is
skipped with ``quick=True`` except for ONNX Runtime, whose provider list costs ~0.2 s.
"""

from __future__ import annotations

import importlib.metadata as metadata
from collections.abc import Callable
from dataclasses import dataclass

# (runtime, distributions that provide it — first installed wins)
_RUNTIMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "onnxruntime",
        (
            "onnxruntime",
            "onnxruntime-gpu",
            "onnxruntime-openvino",
            "onnxruntime-qnn",
            "onnxruntime-directml",
            "onnxruntime-rocm",
        ),
    ),
    ("openvino", ("openvino",)),
    ("litert", ("ai-edge-litert", "tflite-runtime", "tensorflow", "tensorflow-cpu", "tensorflow-aarch64")),
    ("torch", ("torch",)),
    ("tensorrt", ("tensorrt", "tensorrt-cu12", "tensorrt-cu11")),
    ("hailort", ("hailort",)),
    ("pycoral", ("pycoral",)),
)


@dataclass(frozen=True)
class RuntimeInfo:
    name: str
    state: str  # available | absent | error
    distribution: str | None = None
    version: str | None = None
    devices: tuple[str, ...] = ()
    detail: str | None = None


def detect_runtimes(*, quick: bool = False) -> tuple[RuntimeInfo, ...]:
    return tuple(_detect(name, dists, quick=quick) for name, dists in _RUNTIMES)


def _detect(name: str, dists: tuple[str, ...], *, quick: bool) -> RuntimeInfo:
    for dist in dists:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        probe = _DEVICE_PROBES.get(name)
        if probe is None or (quick and name != "onnxruntime"):
            detail = "devices not listed in --quick mode" if quick and probe else None
            return RuntimeInfo(name, "available", dist, version, (), detail)
        try:
            devices, detail = probe(dist)
        except Exception as exc:  # a broken install must not stop the report: say what failed
            return RuntimeInfo(name, "error", dist, version, (), f"listing devices failed: {type(exc).__name__}: {exc}")
        return RuntimeInfo(name, "available", dist, version, devices, detail)
    return RuntimeInfo(name, "absent", detail=f"not installed (pip install {dists[0]})")


def _onnxruntime(dist: str) -> tuple[tuple[str, ...], str | None]:
    import onnxruntime

    return tuple(onnxruntime.get_available_providers()), "execution providers"


def _openvino(dist: str) -> tuple[tuple[str, ...], str | None]:
    import openvino

    return tuple(openvino.Core().available_devices), "OpenVINO devices"


def _litert(dist: str) -> tuple[tuple[str, ...], str | None]:
    import ctypes.util

    devices = ["CPU (XNNPACK delegate built in)"]
    if ctypes.util.find_library("edgetpu"):
        devices.append("EdgeTPU (libedgetpu delegate)")
    return tuple(devices), "delegates (EdgeTPU found via libedgetpu)"


def _torch(dist: str) -> tuple[tuple[str, ...], str | None]:
    import torch

    devices = [f"cpu ({torch.get_num_threads()} threads)"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return tuple(devices), None if torch.cuda.is_available() else "no CUDA device visible to torch"


_DEVICE_PROBES: dict[str, Callable[[str], tuple[tuple[str, ...], str | None]]] = {
    "onnxruntime": _onnxruntime,
    "openvino": _openvino,
    "litert": _litert,
    "torch": _torch,
}
