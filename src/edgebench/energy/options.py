"""The bench command's energy options → RunSpec fields, validated in the parent (bad input: one Error line)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.errors import UsageError
from edgebench.options import parse_duration

if TYPE_CHECKING:
    from edgebench.records import RunSpec

ROOT_ENV = "EDGEBENCH_SYSFS_ROOT"  # testing hook: read sensors under a fake /sys tree (documented)
MAX_BASELINE_S = 60.0  # baseline + cool-down stay inside the executor's spawn allowance
MAX_SAMPLE_HZ = 1000.0


def energy_fields(
    *,
    energy: str,
    power_cmd: str | None,
    sample_hz: float,
    idle_baseline: float,
    cooldown: float | None,
) -> dict[str, Any]:
    """RunSpec keyword arguments for the energy options (checked by :func:`check_spec` with the rest)."""
    from edgebench.energy.select import check_choice

    check_choice(energy, power_cmd)
    if cooldown is not None and not (math.isfinite(cooldown) and 0 <= cooldown <= 50):
        raise UsageError(f"--cooldown must be in [0, 50] °C, got {cooldown!r}", hint="e.g. --cooldown 3")
    root = os.environ.get(ROOT_ENV) or "/"
    fields: dict[str, Any] = dict(
        energy=energy, energy_root=root, power_cmd=power_cmd, sample_hz=sample_hz, idle_baseline_s=idle_baseline
    )
    if cooldown is not None:
        fields.update(cooldown_c=cooldown, cooldown_idle_c=idle_temperature(Path(root)))
    return fields


def check_spec(spec: RunSpec) -> None:
    """The energy fields of a spec, in the parent (engine.validate), so the Python API refuses them too."""
    from edgebench.energy.select import check_choice

    check_choice(spec.energy, spec.power_cmd)
    if not (isinstance(spec.sample_hz, int | float) and math.isfinite(spec.sample_hz)) or not (
        0 < spec.sample_hz <= MAX_SAMPLE_HZ
    ):
        raise UsageError(
            f"--sample-hz must be in (0, {MAX_SAMPLE_HZ:g}], got {spec.sample_hz!r}", hint="e.g. --sample-hz 10"
        )
    baseline = spec.idle_baseline_s
    if not (isinstance(baseline, int | float) and math.isfinite(baseline) and 0 <= baseline <= MAX_BASELINE_S):
        raise UsageError(
            f"--idle-baseline must be in [0, {MAX_BASELINE_S:g}] seconds, got {baseline!r}",
            hint="e.g. --idle-baseline 5",
        )
    if spec.energy == "off" and (spec.power_cmd or baseline or spec.cooldown_c is not None):
        raise UsageError("--power-cmd, --idle-baseline and --cooldown need --energy", hint="drop --energy off")


def soak_times(duration: str, min_time: float | None, max_time: float | None) -> tuple[float, float]:
    """``--duration`` is a sustained run: exactly that long (no adaptive stop); refuses --min/--max-time."""
    if min_time is not None or max_time is not None:
        raise UsageError("--duration sets the run's length: drop --min-time/--max-time", hint="e.g. --duration 10m")
    seconds = parse_duration(duration, "--duration")
    return seconds, seconds


def idle_temperature(root: Path) -> float | None:
    """The hottest readable temperature now, before any job: the cool-down target's reference."""
    from edgebench.collectors.thermal import ThermalCollector
    from edgebench.energy.source import SensorUnavailable

    source = ThermalCollector(root)
    try:
        channels = source.discover()
    except SensorUnavailable:
        return None
    values = source.read()
    temps = [values[c.key] for c in channels if c.kind == "temperature" and c.key in values]
    return max(temps) if temps else None
