"""Raspberry Pi through ``vcgencmd``: throttle bits, SoC temperature, real ARM clock, Pi 5 PMIC rails.

``scaling_cur_freq`` shows the kernel's request, not firmware throttling, hence ``measure_clock arm``.
``get_throttled`` bits 16–19 are sticky since boot: the sampler's first and last readings are
compared. The Pi 5 ``pmic_read_adc`` V × I sum is labelled "PMIC rails sum": it has no input
current channel, so it under-states board power.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from edgebench.energy.source import Channel, SensorUnavailable, Source
from edgebench.platform.sensors import THROTTLE_BITS, CommandRunner, default_runner, pmic_rails_watts

PMIC = "PMIC rails sum"
_PMIC_NOTE = "V × I summed over the PMIC rails: no input-current channel, under-states board power"
_QUERIES: dict[str, tuple[tuple[str, ...], str]] = {
    "vcgencmd:temp": (("measure_temp",), r"temp=([0-9.]+)"),
    "vcgencmd:arm_clock": (("measure_clock", "arm"), r"frequency\(\d+\)=(\d+)"),
    "vcgencmd:throttled": (("get_throttled",), r"throttled=(0x[0-9a-fA-F]+)"),
}


def decode_throttled(bits: int) -> list[str]:
    """Every set bit of ``get_throttled`` in words (unknown bits by number)."""
    known = [text for bit, text in THROTTLE_BITS.items() if bits & (1 << bit)]
    unknown = [f"bit {b}" for b in range(32) if bits & (1 << b) and b not in THROTTLE_BITS]
    return known + unknown


class RpiCollector(Source):
    name = "rpi"

    def __init__(self, root: Path = Path("/"), *, runner: CommandRunner | None = None, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self._runner = runner or default_runner(root)

    def discover(self) -> list[Channel]:
        kinds = {"vcgencmd:temp": "temperature", "vcgencmd:arm_clock": "frequency", "vcgencmd:throttled": "throttle"}
        try:
            first = self._query_all()
        except FileNotFoundError as exc:
            raise SensorUnavailable("vcgencmd not found (not a Raspberry Pi)") from exc
        except PermissionError as exc:
            fix = "sudo usermod -aG video $USER (vcgencmd needs /dev/vchiq)"
            raise SensorUnavailable("vcgencmd: permission denied", fix) from exc
        if not first:
            raise SensorUnavailable("vcgencmd answered nothing usable")
        self._keys = [k for k in _QUERIES if k in first]
        channels = [Channel(k, "vcgencmd", k.split(":", 1)[1], kinds[k]) for k in self._keys]  # type: ignore[arg-type]
        self._pmic = self._pmic_watts() is not None
        if self._pmic:
            channels.insert(
                0, Channel("vcgencmd:pmic", "vcgencmd", PMIC, "power", "total", primary=True, note=_PMIC_NOTE)
            )
        return channels

    def _query_all(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for key, (args, pattern) in _QUERIES.items():
            rc, out = self._runner(["vcgencmd", *args])
            if rc != 0 and ("permission denied" in out.lower() or "vchi" in out.lower()):
                raise PermissionError(out)
            match = re.search(pattern, out) if rc == 0 else None
            if match:
                text = match.group(1)
                values[key] = float(int(text, 16)) if text.startswith("0x") else float(text)
        return values

    def _pmic_watts(self) -> float | None:
        try:
            rc, out = self._runner(["vcgencmd", "pmic_read_adc"])
        except OSError:
            return None
        return pmic_rails_watts(out) if rc == 0 else None

    def read(self) -> dict[str, float]:
        try:
            values = {k: v for k, v in self._query_all().items() if k in self._keys}
        except OSError:
            return {}
        watts = self._pmic_watts() if self._pmic else None
        if watts is not None:
            values["vcgencmd:pmic"] = watts
        return values
