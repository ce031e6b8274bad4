"""Raspberry Pi through vcgencmd: temperature, throttle bits, ARM clock, Pi 5 PMIC rails."""

from __future__ import annotations

import re

from edgebench.platform.sensors._common import (
    PERMISSION_DENIED,
    READABLE,
    CommandRunner,
    SensorStatus,
    _absent,
)

_VCGENCMD_FIX = "add the user to the 'video' group (vcgencmd needs /dev/vchiq): sudo usermod -aG video $USER"
THROTTLE_BITS = {
    0: "under-voltage now",
    1: "frequency capped now",
    2: "throttled now",
    3: "soft temperature limit now",
    16: "under-voltage occurred",
    17: "frequency capping occurred",
    18: "throttling occurred",
    19: "soft temperature limit occurred",
}
_PMIC_LINE = re.compile(r"^\s*(\S+)_([AV])\s+(?:current|volt)\(\d+\)=([0-9.]+)[AV]\s*$")


def vcgencmd_sensors(runner: CommandRunner) -> list[SensorStatus]:
    try:
        rc, out = runner(["vcgencmd", "measure_temp"])
    except FileNotFoundError:
        return [
            _absent(
                "vcgencmd",
                "thermal",
                "vcgencmd",
                None,
                "vcgencmd not found (not a Raspberry Pi, or raspi-utils not installed)",
            )
        ]
    except PermissionError:
        rc, out = 1, "Permission denied"
    if rc != 0 and _vchiq_denied(out):
        return [
            SensorStatus(
                name="vcgencmd",
                kind="thermal",
                source="vcgencmd",
                state=PERMISSION_DENIED,
                detail=out.strip() or None,
                fix=_VCGENCMD_FIX,
            )
        ]
    return [
        _vc_temperature(rc, out),
        _vc_throttled(*_run(runner, "get_throttled")),
        _vc_clock(*_run(runner, "measure_clock", "arm")),
        _vc_pmic(*_run(runner, "pmic_read_adc")),
    ]


def _run(runner: CommandRunner, *args: str) -> tuple[int, str]:
    try:
        return runner(["vcgencmd", *args])
    except OSError as exc:
        return 1, str(exc)


def _vchiq_denied(out: str) -> bool:
    lowered = out.lower()
    return "permission denied" in lowered or "vchi initialization failed" in lowered


def _vc_value(rc: int, out: str, pattern: str) -> float | None:
    match = re.search(pattern, out) if rc == 0 else None
    return float(match.group(1)) if match else None


def _vc_status(name: str, kind: str, unit: str, value: float | None, out: str, detail: str) -> SensorStatus:
    if value is None:
        return _absent(name, kind, "vcgencmd", None, f"unexpected output: {out.strip()[:80]!r}")
    return SensorStatus(name=name, kind=kind, source="vcgencmd", state=READABLE, value=value, unit=unit, detail=detail)


def _vc_temperature(rc: int, out: str) -> SensorStatus:
    value = _vc_value(rc, out, r"temp=([0-9.]+)")
    return _vc_status(
        "vcgencmd measure_temp", "thermal", "C", value, out, "SoC temperature; firmware throttles 80–85 °C"
    )


def _vc_clock(rc: int, out: str) -> SensorStatus:
    value = _vc_value(rc, out, r"frequency\(\d+\)=(\d+)")
    return _vc_status(
        "vcgencmd measure_clock arm",
        "frequency",
        "Hz",
        value,
        out,
        "actual ARM clock (scaling_cur_freq only shows the kernel's request)",
    )


def _vc_throttled(rc: int, out: str) -> SensorStatus:
    match = re.search(r"throttled=(0x[0-9a-fA-F]+)", out) if rc == 0 else None
    if match is None:
        return _absent(
            "vcgencmd get_throttled", "throttle", "vcgencmd", None, f"unexpected output: {out.strip()[:80]!r}"
        )
    bits = int(match.group(1), 16)
    flags = [text for bit, text in THROTTLE_BITS.items() if bits & (1 << bit)]
    return SensorStatus(
        name="vcgencmd get_throttled",
        kind="throttle",
        source="vcgencmd",
        state=READABLE,
        value=float(bits),
        unit="bitmask",
        detail=", ".join(flags) or "no throttling since boot",
    )


def _vc_pmic(rc: int, out: str) -> SensorStatus:
    if rc != 0:
        return _absent(
            "vcgencmd pmic_read_adc", "power", "vcgencmd", None, "pmic_read_adc not supported (Raspberry Pi 5 only)"
        )
    total = pmic_rails_watts(out)
    if total is None:
        return _absent("vcgencmd pmic_read_adc", "power", "vcgencmd", None, "no rail with both current and voltage")
    return SensorStatus(
        name="vcgencmd pmic_read_adc",
        kind="power",
        source="vcgencmd",
        state=READABLE,
        value=total,
        unit="W",
        detail="PMIC rails sum (V × I per rail; no input-current channel: under-states board power)",
    )


def pmic_rails_watts(out: str) -> float | None:
    """Sum of V × I over the rails that report both (``VDD_CORE_A`` with ``VDD_CORE_V``)."""
    amps: dict[str, float] = {}
    volts: dict[str, float] = {}
    for line in out.splitlines():
        match = _PMIC_LINE.match(line)
        if match:
            rail, kind, value = match.groups()
            (amps if kind == "A" else volts)[rail] = float(value)
    rails = amps.keys() & volts.keys()
    return sum(amps[r] * volts[r] for r in rails) if rails else None
