"""RAPL powercap zones (Intel, AMD): the one discovery path for `platform` and the energy sampler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgebench.platform._fs import read_text, sorted_glob, under
from edgebench.platform.sensors._common import (
    PERMISSION_DENIED,
    READABLE,
    ReadCheck,
    SensorStatus,
    _absent,
    _number,
    probe_file,
    shown,
)

RAPL_FIX = (
    "sudo chmod a+r {path} (until reboot), or a udev rule / sysfsutils line "
    "'mode class/powercap/{zone}/energy_uj = 0444', or run the sampler with privileges"
)

NO_RAPL = "no /sys/class/powercap/intel-rapl:* (not Intel/AMD, or hidden by a container/VM)"


@dataclass(frozen=True)
class RaplZone:
    """One powercap zone, de-duplicated: the one discovery path for `platform` and the energy sampler."""

    path: Path
    zone: str  # intel-rapl:0, intel-rapl:0:0, intel-rapl-mmio:0
    domain: str  # package-0, core, uncore, dram, psys


def rapl_zones(root: Path) -> list[RaplZone]:
    base = under(root, "/sys/class/powercap")
    zones: list[RaplZone] = []
    seen: set[str] = set()
    for zone in sorted_glob(base, "intel-rapl:*") + sorted_glob(base, "intel-rapl-mmio:*"):
        domain = read_text(zone / "name") or zone.name
        if zone.name.startswith("intel-rapl-mmio") and domain in seen:
            continue  # newer Intel parts expose the package twice; the MSR zone is enough
        seen.add(domain)
        zones.append(RaplZone(zone, zone.name, domain))
    return zones


def rapl_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    zones = rapl_zones(root)
    if not zones:
        return [_absent("RAPL", "energy", "rapl", "/sys/class/powercap", NO_RAPL)]
    return [_rapl_zone(root, z.path, z.domain, can_read) for z in zones]


def _rapl_zone(root: Path, zone: Path, domain: str, can_read: ReadCheck) -> SensorStatus:
    energy = zone / "energy_uj"
    state, text, detail = probe_file(energy, can_read)
    wrap_state, _, _ = probe_file(zone / "max_energy_range_uj", can_read)
    notes = [f"{domain} domain, cumulative µJ counter (domains overlap: never add them)"]
    if wrap_state != READABLE:
        notes.append("max_energy_range_uj unreadable: counter wrap-arounds cannot be corrected")
    if detail:
        notes.append(detail)
    fix = RAPL_FIX.format(path=shown(root, energy), zone=zone.name) if state == PERMISSION_DENIED else None
    return SensorStatus(
        name=f"RAPL {zone.name} {domain}",
        kind="energy",
        source="rapl",
        state=state,
        path=shown(root, energy),
        value=_number(text, 1e-6) if state == READABLE else None,
        unit="J",
        detail="; ".join(notes),
        fix=fix,
    )
