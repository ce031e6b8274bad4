"""What a sensor source is: channels it can read, and one ``read()`` of all of them.

A source (RAPL, NVML, Jetson INA3221, Raspberry Pi vcgencmd, thermal/cpufreq, an external meter) is
also an ``edgebench.collectors`` plugin: ``start()``/``stop()`` read it at the window's ends, so
``--collector rapl`` works on its own. The energy sampler (energy/sidecar.py) calls ``discover()``
once and ``read()`` at the sample rate, in a separate process, so the timed loop is never touched.

Values are SI: energy counters in J (cumulative, may wrap at ``wrap_j``), power in W, temperature
in °C, frequency in Hz, throttle state as an integer bitmask.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from edgebench.records import JSONValue

Kind = Literal["energy", "power", "temperature", "frequency", "throttle"]
Role = Literal["total", "component", "aux"]


@dataclass(frozen=True)
class Channel:
    """One readable quantity. ``role`` total: a whole device/domain; component: part of a total (never add)."""

    key: str  # unique within a run: "rapl:package-0"
    sensor: str  # "rapl", "nvml", "ina3221", "vcgencmd", "thermal", "external"
    domain: str  # "package-0", "gpu0", "VDD_IN", "PMIC rails sum", "thermal_zone0 cpu-thermal"
    kind: Kind
    role: Role = "aux"
    resolution: float | None = None  # J per counter step, W per power step
    update_interval_s: float | None = None  # how often the sensor refreshes its value
    wrap_j: float | None = None  # counter wrap point (max_energy_range_uj); None: unknown
    trip_c: float | None = None  # lowest trip point (thermal zones)
    primary: bool = False  # the source's best whole-device figure
    note: str | None = None  # e.g. "rails sum: excludes carrier-board power"


class SensorUnavailable(Exception):  # internal outcome, always caught: never reaches the user
    """Raised by ``discover()``: the source is absent or unreadable; ``fix`` says what to do."""

    def __init__(self, reason: str, fix: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


class Source:
    """Base of every sensor source; subclasses set ``name`` and implement ``discover``/``read``."""

    name: ClassVar[str] = ""
    measures_energy: ClassVar[bool] = True  # False: temperature/frequency only (thermal)

    def __init__(self, root: Path = Path("/"), *, can_read: Callable[[Path], bool] | None = None) -> None:
        self.root = root
        self.can_read = can_read or _can_read
        self._start: tuple[int, dict[str, float]] | None = None

    def discover(self) -> list[Channel]:
        raise NotImplementedError

    def read(self) -> dict[str, float]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what ``discover`` opened (NVML handles, meter processes)."""

    # --- the Collector protocol: the same source read at the window's two ends ----------------------

    def start(self) -> None:
        try:
            self._channels = self.discover()
            self._start = (time.time_ns(), self.read())
        except SensorUnavailable as exc:
            self._start, self._why = None, exc.reason

    def stop(self) -> dict[str, JSONValue]:
        if self._start is None:
            return {"status": "absent", "reason": getattr(self, "_why", "not started")}
        t0, first = self._start
        last, t1 = self.read(), time.time_ns()
        self.close()
        out: dict[str, JSONValue] = {"status": "measured", "duration_s": (t1 - t0) / 1e9}
        for ch in self._channels:
            if ch.key in first and ch.key in last:
                if ch.kind == "energy":
                    delta = last[ch.key] - first[ch.key]
                    if delta < 0 and ch.wrap_j:
                        delta += ch.wrap_j
                    out[f"{ch.key}:energy_j"] = delta
                else:
                    out[f"{ch.key}:end"] = last[ch.key]
        return out


def read_float(path: Path, scale: float = 1.0) -> float | None:
    """A sysfs number times ``scale``; None when the driver gives nothing (EINVAL, ENODATA, garbage)."""
    try:
        return float(path.read_text().split()[0]) * scale
    except (OSError, ValueError, IndexError):
        return None


def _can_read(path: Path) -> bool:
    return os.access(path, os.R_OK)


def die_with_parent() -> None:
    """preexec_fn: SIGTERM this child when the process that started it dies (Linux PR_SET_PDEATHSIG)."""
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
