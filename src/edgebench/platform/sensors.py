"""Which power, energy, thermal and frequency sensors this machine exposes, and whether we may read them.

Each sensor ends in one of three states — ``readable`` (with its current value in SI units, °C for
temperature), ``permission_denied`` (with the fix to print) or ``absent`` (with the reason).  Names,
files and units follow docs/platform.md and the kernel ABI (RAPL powercap, NVML, Jetson INA3221,
Raspberry Pi vcgencmd, hwmon, thermal zones, cpufreq, devfreq).

Tests run as root, and root reads even chmod-000 files; the readability check is therefore an
injectable ``can_read`` callable (default ``os.access``) so "permission denied" is testable.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from edgebench.platform._fs import read_text, sorted_glob, under
from edgebench.platform.cpu import NO_CPUFREQ
from edgebench.platform.nvml import NvmlLoader, NvmlProbe, NvmlReading, probe_nvml

READABLE = "readable"
PERMISSION_DENIED = "permission_denied"
ABSENT = "absent"

# A runner takes argv and returns (exit status, stdout+stderr); it raises FileNotFoundError when the
# program is not installed.  Tests pass a fake; only the real root uses the subprocess runner.
CommandRunner = Callable[[Sequence[str]], tuple[int, str]]
ReadCheck = Callable[[Path], bool]

_RAPL_FIX = (
    "sudo chmod a+r {path} (until reboot), or a udev rule / sysfsutils line "
    "'mode class/powercap/{zone}/energy_uj = 0444', or run the sampler with privileges"
)
_VCGENCMD_FIX = "add the user to the 'video' group (vcgencmd needs /dev/vchiq): sudo usermod -aG video $USER"
_THROTTLE_BITS = {
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
_BOARD_INPUT_RAILS = ("VDD_IN", "POM_5V_IN")


@dataclass(frozen=True)
class SensorStatus:
    """One sensor: what it measures, where, whether readable now, and how to fix it if not."""

    name: str
    kind: str  # power | energy | thermal | frequency | throttle
    source: str  # rapl | nvml | ina3221 | vcgencmd | hwmon | thermal_zone | cpufreq | devfreq
    state: str  # readable | permission_denied | absent
    path: str | None = None
    value: float | None = None
    unit: str | None = None  # W, J, C, Hz, bitmask
    detail: str | None = None
    fix: str | None = None


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


def default_can_read(path: Path) -> bool:
    return os.access(path, os.R_OK)


def default_runner(root: Path) -> CommandRunner:
    """The real subprocess runner for the real machine; a fake root never runs host commands."""
    return _subprocess_runner if root == Path("/") else _no_commands


def probe_nvml_for_root(root: Path, loader: NvmlLoader | None) -> NvmlProbe:
    if loader is None and root != Path("/"):
        return NvmlProbe("absent", "not probed for a non-default root (pass nvml_loader)", None, None, ())
    probe = probe_nvml(loader)
    if probe.fix and "not installed" in (probe.reason or "") and not under(root, "/proc/driver/nvidia").exists():
        # Suggesting "pip install nvidia-ml-py" on a machine without an NVIDIA driver would mislead.
        return replace(probe, reason="no NVIDIA driver (/proc/driver/nvidia absent); pynvml not installed", fix=None)
    return probe


def _subprocess_runner(argv: Sequence[str]) -> tuple[int, str]:
    if shutil.which(argv[0]) is None:
        raise FileNotFoundError(argv[0])
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=2.0, check=False)
    except subprocess.TimeoutExpired:
        return 124, f"{argv[0]} timed out after 2 s"
    return done.returncode, done.stdout + done.stderr


def _no_commands(argv: Sequence[str]) -> tuple[int, str]:
    raise FileNotFoundError(argv[0])


def probe_file(path: Path, can_read: ReadCheck) -> tuple[str, str | None, str | None]:
    """(state, text, detail) for one sysfs file."""
    if not path.exists():
        return ABSENT, None, "file missing"
    if not can_read(path):
        return PERMISSION_DENIED, None, None
    try:
        return READABLE, path.read_text().strip(), None
    except PermissionError:
        return PERMISSION_DENIED, None, None
    except OSError as exc:  # EINVAL/ENODATA: the driver has no value to give right now
        return ABSENT, None, f"read failed: {exc.strerror or exc}"


def shown(root: Path, path: Path) -> str:
    """The path as the user's machine spells it (fake roots are stripped)."""
    try:
        return "/" + str(path.relative_to(root)).lstrip("/")
    except ValueError:
        return str(path)


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


def _millidegrees(text: str | None) -> float | None:
    """m°C to °C; drivers report -274000 or absurd values when they have no reading."""
    try:
        value = int(text or "") / 1000.0
    except ValueError:
        return None
    return value if -60.0 < value < 200.0 else None


def _number(text: str | None, scale: float = 1.0) -> float | None:
    try:
        return float(text or "") * scale
    except ValueError:
        return None


def _absent(name: str, kind: str, source: str, path: str | None, detail: str, fix: str | None = None) -> SensorStatus:
    return SensorStatus(name=name, kind=kind, source=source, state=ABSENT, path=path, detail=detail, fix=fix)


# --- RAPL ------------------------------------------------------------------------------------------


def rapl_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    base = under(root, "/sys/class/powercap")
    zones = sorted_glob(base, "intel-rapl:*")
    mmio = sorted_glob(base, "intel-rapl-mmio:*")
    if not zones and not mmio:
        return [
            _absent(
                "RAPL",
                "energy",
                "rapl",
                "/sys/class/powercap",
                "no /sys/class/powercap/intel-rapl:* (not Intel/AMD, or hidden by a container/VM)",
            )
        ]
    sensors: list[SensorStatus] = []
    seen: set[str] = set()
    for zone in zones + mmio:
        domain = read_text(zone / "name") or zone.name
        if zone.name.startswith("intel-rapl-mmio") and domain in seen:
            continue  # newer Intel parts expose the package twice; the MSR zone is enough
        seen.add(domain)
        sensors.append(_rapl_zone(root, zone, domain, can_read))
    return sensors


def _rapl_zone(root: Path, zone: Path, domain: str, can_read: ReadCheck) -> SensorStatus:
    energy = zone / "energy_uj"
    state, text, detail = probe_file(energy, can_read)
    wrap_state, _, _ = probe_file(zone / "max_energy_range_uj", can_read)
    notes = [f"{domain} domain, cumulative µJ counter (domains overlap: never add them)"]
    if wrap_state != READABLE:
        notes.append("max_energy_range_uj unreadable: counter wrap-arounds cannot be corrected")
    if detail:
        notes.append(detail)
    fix = _RAPL_FIX.format(path=shown(root, energy), zone=zone.name) if state == PERMISSION_DENIED else None
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


# --- NVML ------------------------------------------------------------------------------------------


def nvml_sensors(probe: NvmlProbe) -> list[SensorStatus]:
    if not probe.gpus:
        return [
            SensorStatus(
                name="NVML", kind="power", source="nvml", state=probe.state, detail=probe.reason, fix=probe.fix
            )
        ]
    sensors: list[SensorStatus] = []
    for gpu in probe.gpus:
        label = f"NVML GPU{gpu.index} ({gpu.name})"
        readings: tuple[tuple[str, str, NvmlReading, str], ...] = (
            ("power", "power", gpu.power_w, "W"),
            ("energy", "energy", gpu.energy_j, "J"),
            ("temperature", "thermal", gpu.temperature_c, "C"),
            ("SM clock", "frequency", gpu.sm_clock_hz, "Hz"),
        )
        for what, kind, reading, unit in readings:
            sensors.append(
                SensorStatus(
                    name=f"{label} {what}",
                    kind=kind,
                    source="nvml",
                    state=reading.state,
                    value=reading.value,
                    unit=unit,
                    detail=reading.detail,
                    fix="run as root or relax NVML permissions" if reading.state == PERMISSION_DENIED else None,
                )
            )
    return sensors


# --- Jetson INA3221 --------------------------------------------------------------------------------


def ina3221_sensors(root: Path, can_read: ReadCheck) -> list[SensorStatus]:
    hwmons, iios = _ina3221_dirs(root)
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


def _ina3221_dirs(root: Path) -> tuple[list[Path], list[Path]]:
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


def _with_detail(sensor: SensorStatus, note: str) -> SensorStatus:
    return replace(sensor, detail=f"{sensor.detail}; {note}" if sensor.detail else note)


# --- Raspberry Pi vcgencmd -------------------------------------------------------------------------


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
    flags = [text for bit, text in _THROTTLE_BITS.items() if bits & (1 << bit)]
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


# --- hwmon, thermal zones, cpufreq, devfreq, throttle counters -------------------------------------


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


def _file_sensor(
    root: Path, file: Path, name: str, kind: str, source: str, unit: str, scale: float, can_read: ReadCheck
) -> SensorStatus:
    state, text, detail = probe_file(file, can_read)
    value = _number(text, scale) if state == READABLE else None
    if kind == "thermal" and value is not None and not -60.0 < value < 200.0:
        state, value, detail = ABSENT, None, f"implausible reading {text!r} (no value from the driver)"
    return SensorStatus(
        name=name,
        kind=kind,
        source=source,
        state=state,
        path=shown(root, file),
        value=value,
        unit=unit,
        detail=detail,
        fix=f"sudo chmod a+r {shown(root, file)}" if state == PERMISSION_DENIED else None,
    )
