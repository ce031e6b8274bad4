"""Which sensor sources a run uses: ``--energy auto`` (every energy collector found), one by name, or off.

Sources are ``edgebench.collectors`` plugins that subclass :class:`edgebench.energy.source.Source`;
a third-party sensor registers the same way. The thermal source always rides along (temperatures
and clocks for throttling detection); the external meter joins whenever ``--power-cmd`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.energy.source import Channel, SensorUnavailable, Source
from edgebench.errors import UsageError

# primary figure preference: what the user plugged in, then whole-board sensors, then chip domains
PRIORITY = ("external", "jetson", "rpi", "rapl", "nvml")
AUX = "thermal"


@dataclass
class Selection:
    sources: list[tuple[Source, list[Channel]]] = field(default_factory=list)
    absent: list[tuple[str, str, str | None]] = field(default_factory=list)  # (sensor, reason, fix)

    @property
    def channels(self) -> list[Channel]:
        return [ch for _, chans in self.sources for ch in chans]

    def has_energy(self) -> bool:
        return any(ch.kind in ("energy", "power") for ch in self.channels)

    def close(self) -> None:
        for source, _ in self.sources:
            source.close()


def energy_sensor_names() -> list[str]:
    """Registered collectors that measure energy or power (rapl, nvml, jetson, rpi, external, …)."""
    from edgebench import registry

    found = []
    for name in registry.names("edgebench.collectors"):
        cls = registry.load("edgebench.collectors", name)
        if isinstance(cls, type) and issubclass(cls, Source) and cls.measures_energy:
            found.append(name)
    return sorted(found, key=lambda n: (PRIORITY.index(n) if n in PRIORITY else len(PRIORITY), n))


def check_choice(energy: str, power_cmd: str | None) -> None:
    """Refuse an unknown ``--energy`` in the parent, before any process starts."""
    if energy in ("off", "auto"):
        return
    names = energy_sensor_names()
    if energy not in names:
        raise UsageError(f"unknown --energy sensor {energy!r}", hint=f"use auto, off or one of: {', '.join(names)}")
    if energy == "external" and not power_cmd:
        raise UsageError("--energy external needs --power-cmd", hint="e.g. --power-cmd 'python meter.py'")


def wanted(energy: str, power_cmd: str | None) -> list[str]:
    if energy == "off":
        return []
    names = [n for n in energy_sensor_names() if n != "external"] if energy == "auto" else [energy]
    if power_cmd and "external" not in names:
        names.insert(0, "external")
    return [*names, AUX]


def open_sources(names: list[str], root: Path, power_cmd: str | None, **inject: Any) -> Selection:
    """Instantiate and discover each source; the unavailable ones become (name, reason, fix)."""
    from edgebench import registry

    selection = Selection()
    for name in names:
        cls = registry.load("edgebench.collectors", name)
        kwargs: dict[str, Any] = dict(inject.get(name, {}))
        if name == "external":
            kwargs["command"] = power_cmd
        source = cls(root, **kwargs)
        try:
            selection.sources.append((source, source.discover()))
        except SensorUnavailable as exc:
            source.close()
            selection.absent.append((name, exc.reason, exc.fix))
    return selection
