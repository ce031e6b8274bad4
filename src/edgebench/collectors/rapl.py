"""RAPL energy counters through powercap sysfs (Intel, and AMD family 17h+ with the same driver).

Domains overlap — psys ⊃ package ⊃ core/uncore — so each is its own reading and none is ever added
to another; the package is the primary figure. ``energy_uj`` wraps at ``max_energy_range_uj`` (the
integration adds it back); since Linux 5.10 it is root-only, which is reported with the fix.
"""

from __future__ import annotations

from pathlib import Path

from edgebench.energy.source import Channel, SensorUnavailable, Source, read_float
from edgebench.platform.sensors import NO_RAPL, RAPL_FIX, rapl_zones, shown

# The energy status unit is 2^-ESU J: 15.3 µJ on most parts (61 µJ on some Atoms); updated about every 1 ms.
RAPL_RESOLUTION_J = 15.3e-6
RAPL_UPDATE_S = 0.001


class RaplCollector(Source):
    name = "rapl"

    def discover(self) -> list[Channel]:
        zones = rapl_zones(self.root)
        if not zones:
            raise SensorUnavailable(NO_RAPL)
        self._files: dict[str, Path] = {}
        channels: list[Channel] = []
        denied: list[str] = []
        for zone in zones:
            energy = zone.path / "energy_uj"
            if not energy.exists():
                continue
            if not self.can_read(energy):
                denied.append(RAPL_FIX.format(path=shown(self.root, energy), zone=zone.zone))
                continue
            wrap_file = zone.path / "max_energy_range_uj"
            wrap = read_float(wrap_file, 1e-6) if self.can_read(wrap_file) else None
            key = f"rapl:{zone.domain}"
            self._files[key] = energy
            top_level = zone.zone.count(":") == 1
            channels.append(
                Channel(
                    key=key,
                    sensor="rapl",
                    domain=zone.domain,
                    kind="energy",
                    role="total" if top_level and zone.domain != "dram" else "component",
                    resolution=RAPL_RESOLUTION_J,
                    update_interval_s=RAPL_UPDATE_S,
                    wrap_j=wrap,
                    note=None if wrap else "max_energy_range_uj unreadable: wrap-arounds cannot be corrected",
                )
            )
        if not channels:
            if denied:
                raise SensorUnavailable("RAPL energy_uj is root-only (Linux ≥ 5.10): permission denied", denied[0])
            raise SensorUnavailable("RAPL zones present but no energy_uj file")
        return _mark_primary(channels)

    def read(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for key, path in self._files.items():
            value = read_float(path, 1e-6)
            if value is not None:
                values[key] = value
        return values


def _mark_primary(channels: list[Channel]) -> list[Channel]:
    """The package (first socket) is primary; psys where there is no package (some laptops)."""
    from dataclasses import replace

    order = sorted(
        range(len(channels)),
        key=lambda i: (not channels[i].domain.startswith("package"), channels[i].domain != "psys", i),
    )
    best = order[0]
    return [replace(ch, primary=i == best) for i, ch in enumerate(channels)]
