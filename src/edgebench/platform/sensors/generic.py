"""Generic Linux: hwmon, thermal zones, cpufreq, devfreq, Intel throttle counters."""

from __future__ import annotations

from pathlib import Path

from edgebench.platform._fs import read_text, sorted_glob, under
from edgebench.platform.cpu import NO_CPUFREQ
from edgebench.platform.sensors._common import (
    ReadCheck,
    SensorStatus,
    _absent,
    _file_sensor,
    _millidegrees,
    _with_detail,
)


def max_thermal_zone_c(root: Path = Path("/")) -> tuple[float | None, str | None]:
    """Hottest readable thermal zone in °C, or (None, reason)."""
    zones = sorted_glob(under(root, "/sys/class/thermal"), "thermal_zone[0-9]*")
    if not zones:
        return None, "no thermal zones in /sys/class/thermal (container or VM)"
    temps = [_millidegrees(read_text(zone / "temp")) for zone in zones]
    plausible = [t for t in temps if t is not None]
    if not plausible:
        return None, "thermal zones present but temp unreadable"
    return max(plausible), None


def hwmon_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    hwmons = sorted_glob(under(root, "/sys/class/hwmon"), "hwmon*")
    if not hwmons:
        return [_absent("hwmon", "thermal", "hwmon", "/sys/class/hwmon", "no /sys/class/hwmon (container or VM)")]
    sensors: list[SensorStatus] = []
    kinds = (("temp", "thermal", "C", 1e-3), ("power", "power", "W", 1e-6), ("energy", "energy", "J", 1e-6))
    for hwmon in hwmons:
        chip = read_text(hwmon / "name") or hwmon.name
        if chip.startswith("ina3221"):
            continue  # reported with its rail names by ina3221_sensors
        for prefix, kind, unit, scale in kinds:
            for file in sorted_glob(hwmon, f"{prefix}[0-9]*_input"):
                label = read_text(hwmon / file.name.replace("_input", "_label"))
                sensors.append(
                    _file_sensor(
                        root, file, f"hwmon {chip} {label or file.name[:-6]}", kind, "hwmon", unit, scale, can_read
                    )
                )
    return sensors or [
        _absent(
            "hwmon",
            "thermal",
            "hwmon",
            "/sys/class/hwmon",
            "hwmon chips present but none reports temperature, power or energy",
        )
    ]


def thermal_zone_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    zones = sorted_glob(under(root, "/sys/class/thermal"), "thermal_zone[0-9]*")
    if not zones:
        return [
            _absent(
                "thermal zones",
                "thermal",
                "thermal_zone",
                "/sys/class/thermal",
                "no thermal zones in /sys/class/thermal (container or VM)",
            )
        ]
    sensors = []
    for zone in zones:
        kind = read_text(zone / "type") or "?"
        trips = [t for t in (_millidegrees(read_text(p)) for p in sorted_glob(zone, "trip_point_*_temp")) if t]
        sensor = _file_sensor(
            root, zone / "temp", f"{zone.name} {kind}", "thermal", "thermal_zone", "C", 1e-3, can_read
        )
        if trips:
            sensor = _with_detail(sensor, f"lowest trip point {min(trips):.1f} °C")
        sensors.append(sensor)
    return sensors


def cpufreq_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    policies = sorted_glob(under(root, "/sys/devices/system/cpu/cpufreq"), "policy[0-9]*")
    if not policies:
        return [_absent("cpufreq", "frequency", "cpufreq", "/sys/devices/system/cpu/cpufreq", NO_CPUFREQ)]
    sensors = []
    for policy in policies:
        cpus = read_text(policy / "related_cpus") or "?"
        sensor = _file_sensor(
            root,
            policy / "scaling_cur_freq",
            f"cpufreq {policy.name} (cpus {cpus})",
            "frequency",
            "cpufreq",
            "Hz",
            1e3,
            can_read,
        )
        sensors.append(_with_detail(sensor, "kernel's requested frequency, not firmware throttling"))
    return sensors


def devfreq_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    devices = sorted_glob(under(root, "/sys/class/devfreq"), "*")
    if not devices:
        return [
            _absent(
                "devfreq",
                "frequency",
                "devfreq",
                "/sys/class/devfreq",
                "no /sys/class/devfreq (no devfreq-scaled GPU/NPU/memory)",
            )
        ]
    return [
        _file_sensor(root, d / "cur_freq", f"devfreq {d.name}", "frequency", "devfreq", "Hz", 1.0, can_read)
        for d in devices
    ]


def throttle_counter_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    """Intel thermal throttle counters of cpu0, listed only where the kernel has them."""
    base = under(root, "/sys/devices/system/cpu/cpu0/thermal_throttle")
    return [
        _file_sensor(
            root,
            base / f"{scope}_throttle_count",
            f"cpu0 {scope}_throttle_count",
            "throttle",
            "thermal_throttle",
            "count",
            1.0,
            can_read,
        )
        for scope in ("core", "package")
        if (base / f"{scope}_throttle_count").exists()
    ]
