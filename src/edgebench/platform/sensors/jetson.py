"""Jetson INA3221 power rails (hwmon on JetPack ≥ 5, iio on JetPack ≤ 4)."""

from __future__ import annotations

from pathlib import Path

from edgebench.platform._fs import read_text, sorted_glob, under
from edgebench.platform.sensors._common import (
    PERMISSION_DENIED,
    READABLE,
    ReadCheck,
    SensorStatus,
    _absent,
    _number,
    _with_detail,
    probe_file,
    shown,
)

_BOARD_INPUT_RAILS = ("VDD_IN", "POM_5V_IN")


def ina3221_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    hwmons, iios = ina3221_dirs(root)
    sensors = [s for d in hwmons for s in _ina_hwmon(root, d, can_read)]
    sensors += [s for d in iios for s in _ina_iio(root, d, can_read)]
    if not sensors:
        return [
            _absent(
                "INA3221", "power", "ina3221", "/sys/bus/i2c/drivers/ina3221", "no INA3221 power monitor (not a Jetson)"
            )
        ]
    if not any(s.name.endswith(_BOARD_INPUT_RAILS) for s in sensors):
        sensors = [
            _with_detail(s, "no VDD_IN/POM_5V_IN rail: the rails' sum excludes carrier-board power") for s in sensors
        ]
    return sensors


def ina3221_dirs(root: Path) -> tuple[list[Path], list[Path]]:
    """hwmon dirs (JetPack ≥ 5) and iio dirs (JetPack ≤ 4), de-duplicated by their real location."""
    drivers = under(root, "/sys/bus/i2c/drivers")
    devices = [d for driver in sorted_glob(drivers, "ina3221*") for d in sorted_glob(driver, "*-*")]
    devices += [
        d
        for d in sorted_glob(under(root, "/sys/bus/i2c/devices"), "*")
        if (read_text(d / "name") or "").startswith("ina3221")
    ]
    hwmons: dict[Path, Path] = {}
    iios: dict[Path, Path] = {}
    for device in devices:
        for hwmon in sorted_glob(device / "hwmon", "hwmon*"):
            hwmons.setdefault(hwmon.resolve(), hwmon)
        for iio in sorted_glob(device, "iio:device*"):
            iios.setdefault(iio.resolve(), iio)
    return list(hwmons.values()), list(iios.values())


def _ina_hwmon(root: Path, hwmon: Path, can_read: ReadCheck) -> list[SensorStatus]:
    sensors = []
    for label_file in sorted_glob(hwmon, "in*_label"):
        label = read_text(label_file) or ""
        if not label or label == "NC" or "sum of shunt" in label.lower():
            continue
        channel = label_file.name[2:].split("_")[0]
        sensors.append(
            _ina_rail(root, hwmon, label, hwmon / f"in{channel}_input", hwmon / f"curr{channel}_input", can_read)
        )
    return sensors


def _ina_rail(root: Path, where: Path, label: str, volts: Path, amps: Path, can_read: ReadCheck) -> SensorStatus:
    v_state, mv, v_detail = probe_file(volts, can_read)
    a_state, ma, a_detail = probe_file(amps, can_read)
    state = v_state if v_state != READABLE else a_state
    value = None
    if state == READABLE:
        mv_f, ma_f = _number(mv), _number(ma)
        value = mv_f * ma_f / 1e6 if mv_f is not None and ma_f is not None else None
    role = "total module input" if label in _BOARD_INPUT_RAILS else "rail (part of VDD_IN: do not add to it)"
    detail = "; ".join(x for x in (f"{role}; mV × mA", v_detail, a_detail) if x)
    return SensorStatus(
        name=f"INA3221 {label}",
        kind="power",
        source="ina3221",
        state=state,
        path=shown(root, where),
        value=value,
        unit="W",
        detail=detail,
        fix=f"sudo chmod a+r {shown(root, where)}/*_input" if state == PERMISSION_DENIED else None,
    )


def _ina_iio(root: Path, iio: Path, can_read: ReadCheck) -> list[SensorStatus]:
    sensors = []
    for name_file in sorted_glob(iio, "rail_name_*"):
        label = read_text(name_file) or ""
        if not label or label == "NC":
            continue
        channel = name_file.name.rsplit("_", 1)[-1]
        state, text, detail = probe_file(iio / f"in_power{channel}_input", can_read)
        sensors.append(
            SensorStatus(
                name=f"INA3221 {label}",
                kind="power",
                source="ina3221",
                state=state,
                path=shown(root, iio),
                value=_number(text, 1e-3) if state == READABLE else None,
                unit="W",
                detail=detail or ("total module input" if label in _BOARD_INPUT_RAILS else "rail"),
            )
        )
    return sensors
