"""Which power, energy, thermal and frequency sensors this machine exposes, and whether we may read them.

Each sensor ends in one of three states — ``readable`` (with its current value in SI units, °C for
temperature), ``permission_denied`` (with the fix to print) or ``absent`` (with the reason).  Names,
files and units follow docs/platform.md and the kernel ABI. One module per sensor source (rapl, gpu,
jetson, rpi, generic); the energy collectors (edgebench/collectors/) discover through the same
functions, so `platform` and `bench --energy` never disagree about what a machine has.
"""

from __future__ import annotations

from pathlib import Path

from edgebench.platform.nvml import NvmlLoader, NvmlProbe
from edgebench.platform.sensors._common import (
    ABSENT,
    PERMISSION_DENIED,
    READABLE,
    CommandRunner,
    ReadCheck,
    SensorStatus,
    default_can_read,
    default_runner,
    probe_file,
    shown,
)
from edgebench.platform.sensors.generic import (
    cpufreq_sensors,
    devfreq_sensors,
    hwmon_sensors,
    max_thermal_zone_c,
    thermal_zone_sensors,
    throttle_counter_sensors,
)
from edgebench.platform.sensors.gpu import nvml_sensors, probe_nvml_for_root
from edgebench.platform.sensors.jetson import ina3221_dirs, ina3221_sensors
from edgebench.platform.sensors.rapl import NO_RAPL, RAPL_FIX, RaplZone, rapl_sensors, rapl_zones
from edgebench.platform.sensors.rpi import THROTTLE_BITS, pmic_rails_watts, vcgencmd_sensors

__all__ = [
    "ABSENT",
    "NO_RAPL",
    "PERMISSION_DENIED",
    "RAPL_FIX",
    "READABLE",
    "THROTTLE_BITS",
    "CommandRunner",
    "RaplZone",
    "ReadCheck",
    "SensorStatus",
    "default_can_read",
    "default_runner",
    "discover_sensors",
    "ina3221_dirs",
    "max_thermal_zone_c",
    "pmic_rails_watts",
    "probe_file",
    "probe_nvml_for_root",
    "rapl_zones",
    "shown",
]


def discover_sensors(
    root: Path = Path("/"),
    *,
    runner: CommandRunner | None = None,
    can_read: ReadCheck | None = None,
    nvml: NvmlProbe | None = None,
    nvml_loader: NvmlLoader | None = None,
) -> tuple[SensorStatus, ...]:
    """Every sensor family, in a fixed order, each present family listing its sensors."""
    check = can_read or default_can_read
    run = runner or default_runner(root)
    probe = nvml if nvml is not None else probe_nvml_for_root(root, nvml_loader)
    return (
        *rapl_sensors(root, check),
        *nvml_sensors(probe),
        *ina3221_sensors(root, check),
        *vcgencmd_sensors(run),
        *hwmon_sensors(root, check),
        *thermal_zone_sensors(root, check),
        *cpufreq_sensors(root, check),
        *devfreq_sensors(root, check),
        *throttle_counter_sensors(root, check),
    )
