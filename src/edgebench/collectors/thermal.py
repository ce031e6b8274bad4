"""Generic Linux thermal and clock state: thermal zones (with trip points), hwmon temperatures,
cpufreq current frequency. No energy: these feed throttling detection and the soak timeline.
"""

from __future__ import annotations

from pathlib import Path

from edgebench.energy.source import Channel, SensorUnavailable, Source, read_float
from edgebench.platform._fs import read_text, sorted_glob, under


class ThermalCollector(Source):
    name = "thermal"
    measures_energy = False

    def discover(self) -> list[Channel]:
        self._files: dict[str, tuple[Path, float]] = {}
        channels = self._zones() + self._hwmon() + self._cpufreq()
        if not channels:
            raise SensorUnavailable("no thermal zones, hwmon temperatures or cpufreq (container or VM)")
        return channels

    def _add(self, key: str, path: Path, scale: float) -> bool:
        value = read_float(path, scale) if self.can_read(path) else None
        if value is None or (scale == 1e-3 and not -60.0 < value < 200.0):
            return False  # unreadable, or a driver with no reading (-274 °C and the like)
        self._files[key] = (path, scale)
        return True

    def _zones(self) -> list[Channel]:
        channels = []
        for zone in sorted_glob(under(self.root, "/sys/class/thermal"), "thermal_zone[0-9]*"):
            key = f"thermal:{zone.name}"
            if not self._add(key, zone / "temp", 1e-3):
                continue
            trips = [t for t in (read_float(p, 1e-3) for p in sorted_glob(zone, "trip_point_*_temp")) if t and t > 0]
            domain = f"{zone.name} {read_text(zone / 'type') or '?'}"
            channels.append(Channel(key, "thermal_zone", domain, "temperature", trip_c=min(trips) if trips else None))
        return channels

    def _hwmon(self) -> list[Channel]:
        channels = []
        for hwmon in sorted_glob(under(self.root, "/sys/class/hwmon"), "hwmon*"):
            chip = read_text(hwmon / "name") or hwmon.name
            if chip.startswith("ina3221"):
                continue
            for file in sorted_glob(hwmon, "temp[0-9]*_input"):
                label = read_text(hwmon / file.name.replace("_input", "_label")) or file.name[:-6]
                key = f"hwmon:{chip}:{label}"
                if self._add(key, file, 1e-3):
                    channels.append(Channel(key, "hwmon", f"{chip} {label}", "temperature"))
        return channels

    def _cpufreq(self) -> list[Channel]:
        channels = []
        for policy in sorted_glob(under(self.root, "/sys/devices/system/cpu/cpufreq"), "policy[0-9]*"):
            key = f"cpufreq:{policy.name}"
            if self._add(key, policy / "scaling_cur_freq", 1e3):
                governor = read_text(policy / "scaling_governor")
                note = f"governor {governor}" if governor else None
                channels.append(Channel(key, "cpufreq", policy.name, "frequency", note=note))
        return channels

    def read(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for key, (path, scale) in self._files.items():
            value = read_float(path, scale)
            if value is not None:
                values[key] = value
        return values
