"""NVIDIA GPUs through NVML (``pip install edgebench[nvml]``; pynvml imported lazily).

Volta and newer have a total-energy counter (mJ since driver load, refreshed every 20–100 ms):
it is read directly. Older GPUs only give power (mW; a 1 s average on Ampere and newer), which is
integrated. Temperature, SM clock and the clock-event (throttle) reasons are sampled alongside.
A missing library or driver makes the sensor absent — never an error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgebench.energy.source import Channel, SensorUnavailable, Source
from edgebench.platform.nvml import import_pynvml

_TEMPERATURE_GPU = 0
_CLOCK_SM = 1
NVML_UPDATE_S = 0.1  # energy counter refresh: 20–100 ms (NVML docs); take the slow end
# nvmlDeviceGetCurrentClocksEventReasons bits (throttle reasons)
CLOCK_EVENT_REASONS = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}
THROTTLING_REASONS = 0x4 | 0x8 | 0x20 | 0x40 | 0x80  # power and thermal: the ones that cost speed


def decode_reasons(bits: int) -> tuple[str, ...]:
    return tuple(name for bit, name in CLOCK_EVENT_REASONS.items() if bits & bit)


class NvmlCollector(Source):
    name = "nvml"

    def __init__(self, root: Path = Path("/"), *, loader: Callable[[], Any] | None = None, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self._loader = loader or import_pynvml
        self._nvml: Any = None
        self._queries: dict[str, Callable[[], float]] = {}

    def discover(self) -> list[Channel]:
        if self._loader is import_pynvml and self.root != Path("/"):
            raise SensorUnavailable("NVML not probed for a non-default sysfs root (a fake tree)")
        try:
            nvml = self._loader()
        except ImportError as exc:
            reason = "pynvml not installed (no NVIDIA GPU sensor)"
            raise SensorUnavailable(reason, "pip install edgebench[nvml]") from exc
        try:
            nvml.nvmlInit()
        except Exception as exc:  # NVMLError_LibraryNotFound / DriverNotLoaded: no usable driver, by design
            raise SensorUnavailable(f"NVML unavailable: {type(exc).__name__}") from exc
        self._nvml = nvml
        channels: list[Channel] = []
        for index in range(int(nvml.nvmlDeviceGetCount())):
            channels += self._gpu_channels(index, nvml.nvmlDeviceGetHandleByIndex(index))
        if not channels:
            self.close()
            raise SensorUnavailable("NVML loaded but reports no readable GPU")
        return channels

    def _gpu_channels(self, index: int, handle: Any) -> list[Channel]:
        nvml, gpu = self._nvml, f"gpu{index}"
        candidates: list[tuple[Channel, Callable[[], float]]] = [
            (
                Channel(f"nvml:{gpu}", "nvml", gpu, "energy", "total", 1e-3, NVML_UPDATE_S, primary=index == 0),
                lambda: nvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0,
            ),
            (
                Channel(f"nvml:{gpu}:temp", "nvml", gpu, "temperature"),
                lambda: float(nvml.nvmlDeviceGetTemperature(handle, _TEMPERATURE_GPU)),
            ),
            (
                Channel(f"nvml:{gpu}:sm_clock", "nvml", gpu, "frequency"),
                lambda: nvml.nvmlDeviceGetClockInfo(handle, _CLOCK_SM) * 1e6,
            ),
            (
                Channel(f"nvml:{gpu}:reasons", "nvml", gpu, "throttle"),
                lambda: float(nvml.nvmlDeviceGetCurrentClocksEventReasons(handle)),
            ),
        ]
        channels = []
        has_energy = False
        for channel, query in candidates:
            if _works(query):
                channels.append(channel)
                self._queries[channel.key] = query
                has_energy = has_energy or channel.kind == "energy"
        if not has_energy and _works(lambda: nvml.nvmlDeviceGetPowerUsage(handle)):
            # before Volta: no energy counter, integrate power (mW) sampled by the sidecar
            key = f"nvml:{gpu}"
            self._queries[key] = lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
            channels.insert(0, Channel(key, "nvml", gpu, "power", "total", 1e-3, NVML_UPDATE_S, primary=index == 0))
        return channels

    def read(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for key, query in self._queries.items():
            try:
                values[key] = float(query())
            except Exception:  # a transient NVML error loses one sample, not the run
                continue
        return values

    def close(self) -> None:
        if self._nvml is not None:
            with contextlib.suppress(Exception):  # a half-initialised NVML must not mask the result
                self._nvml.nvmlShutdown()
            self._nvml = None


def _works(query: Callable[[], float]) -> bool:
    try:
        float(query())
    except Exception:  # NotSupported / NoPermission: that channel is simply not offered
        return False
    return True
