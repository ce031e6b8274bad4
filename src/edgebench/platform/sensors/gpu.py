"""NVIDIA GPUs through NVML, as sensor statuses (the probe itself lives in platform/nvml.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from edgebench.platform._fs import under
from edgebench.platform.nvml import NvmlLoader, NvmlProbe, NvmlReading, probe_nvml
from edgebench.platform.sensors._common import (
    PERMISSION_DENIED,
    SensorStatus,
)


def probe_nvml_for_root(root: Path, loader: NvmlLoader | None) -> NvmlProbe:
    if loader is None and root != Path("/"):
        return NvmlProbe("absent", "not probed for a non-default root (pass nvml_loader)", None, None, ())
    probe = probe_nvml(loader)
    if probe.fix and "not installed" in (probe.reason or "") and not under(root, "/proc/driver/nvidia").exists():
        # Suggesting "pip install nvidia-ml-py" on a machine without an NVIDIA driver would mislead.
        return replace(probe, reason="no NVIDIA driver (/proc/driver/nvidia absent); pynvml not installed", fix=None)
    return probe


def nvml_sensors(probe: NvmlProbe) -> list[SensorStatus]:
    if not probe.gpus:
        return [
            SensorStatus(
                name="NVML", kind="power", source="nvml", state=probe.state, detail=probe.reason, fix=probe.fix
            )
        ]
    sensors: list[SensorStatus] = []
    for gpu in probe.gpus:
        label = f"NVML GPU{gpu.index} ({gpu.name})"
        readings: tuple[tuple[str, str, NvmlReading, str], ...] = (
            ("power", "power", gpu.power_w, "W"),
            ("energy", "energy", gpu.energy_j, "J"),
            ("temperature", "thermal", gpu.temperature_c, "C"),
            ("SM clock", "frequency", gpu.sm_clock_hz, "Hz"),
        )
        for what, kind, reading, unit in readings:
            sensors.append(
                SensorStatus(
                    name=f"{label} {what}",
                    kind=kind,
                    source="nvml",
                    state=reading.state,
                    value=reading.value,
                    unit=unit,
                    detail=reading.detail,
                    fix="run as root or relax NVML permissions" if reading.state == PERMISSION_DENIED else None,
                )
            )
    return sensors
