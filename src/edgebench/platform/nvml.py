"""NVIDIA GPUs through NVML (``pip install nvidia-ml-py``), probed once and shared by GPU and sensor reports.

``pynvml`` is imported lazily through an injectable loader: a missing library, a missing driver or a
refused query is an explicit labelled outcome, never an exception.  Errors are matched by class name
(``NVMLError_NoPermission``...) because pynvml creates those classes at runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NvmlLoader = Callable[[], Any]

_NVML_TEMPERATURE_GPU = 0
_NVML_CLOCK_SM = 1


@dataclass(frozen=True)
class NvmlReading:
    """One sensor query: ``state`` is readable / permission_denied / absent."""

    state: str
    value: float | None = None
    detail: str | None = None


@dataclass(frozen=True)
class NvmlGpu:
    index: int
    name: str
    memory_total_bytes: int | None
    power_w: NvmlReading
    energy_j: NvmlReading
    temperature_c: NvmlReading
    sm_clock_hz: NvmlReading


@dataclass(frozen=True)
class NvmlProbe:
    state: str
    reason: str | None
    fix: str | None
    driver_version: str | None
    gpus: tuple[NvmlGpu, ...]


def import_pynvml() -> Any:
    import pynvml

    return pynvml


def probe_nvml(loader: NvmlLoader | None = None) -> NvmlProbe:
    """Initialise NVML, read every GPU once, shut NVML down again."""
    try:
        nvml = (loader or import_pynvml)()
    except ImportError:
        return NvmlProbe("absent", "pynvml not installed", "pip install nvidia-ml-py", None, ())
    try:
        nvml.nvmlInit()
    except Exception as exc:  # any NVML failure here means "no usable NVIDIA driver", by design
        return _init_failure(exc)
    try:
        driver = _text(_call(nvml.nvmlSystemGetDriverVersion))
        count = int(nvml.nvmlDeviceGetCount())
        gpus = tuple(_gpu(nvml, index) for index in range(count))
    except Exception as exc:
        return NvmlProbe("absent", f"NVML query failed: {_describe(exc)}", None, None, ())
    finally:
        _call(nvml.nvmlShutdown)
    if not gpus:
        return NvmlProbe("absent", "NVML loaded but reports no GPU", None, driver, ())
    return NvmlProbe("readable", None, None, driver, gpus)


def _gpu(nvml: Any, index: int) -> NvmlGpu:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    memory = _call(nvml.nvmlDeviceGetMemoryInfo, handle)
    return NvmlGpu(
        index=index,
        name=_text(_call(nvml.nvmlDeviceGetName, handle)) or f"GPU {index}",
        memory_total_bytes=int(memory.total) if memory is not None else None,
        power_w=_reading(lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0),
        energy_j=_reading(
            lambda: nvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0,
            unsupported="no energy counter before Volta: integrate power samples instead",
        ),
        temperature_c=_reading(lambda: float(nvml.nvmlDeviceGetTemperature(handle, _NVML_TEMPERATURE_GPU))),
        sm_clock_hz=_reading(lambda: nvml.nvmlDeviceGetClockInfo(handle, _NVML_CLOCK_SM) * 1e6),
    )


def _reading(query: Callable[[], float], unsupported: str = "not supported on this GPU") -> NvmlReading:
    try:
        return NvmlReading("readable", float(query()))
    except Exception as exc:
        name = type(exc).__name__
        if "NoPermission" in name:
            return NvmlReading("permission_denied", None, "NVML refused the query (needs root)")
        if "NotSupported" in name:
            return NvmlReading("absent", None, unsupported)
        return NvmlReading("absent", None, _describe(exc))


def _init_failure(exc: Exception) -> NvmlProbe:
    name = type(exc).__name__
    if "LibraryNotFound" in name:
        return NvmlProbe("absent", "NVML library not found (no NVIDIA driver)", None, None, ())
    if "NoPermission" in name:
        return NvmlProbe(
            "permission_denied", "NVML refused access", "add the user to the group owning /dev/nvidia*", None, ()
        )
    return NvmlProbe("absent", f"NVML init failed: {_describe(exc)}", None, None, ())


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
