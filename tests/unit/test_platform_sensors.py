"""Sensor discovery: readable / permission_denied / absent, values in SI units, and the fixes printed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from edgebench.platform.cpu import NO_CPUFREQ
from edgebench.platform.nvml import probe_nvml
from edgebench.platform.sensors import (
    ABSENT,
    PERMISSION_DENIED,
    READABLE,
    SensorStatus,
    discover_sensors,
    max_thermal_zone_c,
    pmic_rails_watts,
)
from tests.fakesys import (
    ORIN_INA,
    PI5_PMIC,
    FakeRunner,
    build_jetson_orin,
    build_nothing,
    build_pi5,
    build_x86_rapl,
)


def _by_name(sensors: tuple[SensorStatus, ...]) -> dict[str, SensorStatus]:
    names = [s.name for s in sensors]
    assert len(names) == len(set(names)), names
    return {s.name: s for s in sensors}


def _discover(machine: Any) -> dict[str, SensorStatus]:
    return _by_name(discover_sensors(machine.root, runner=machine.runner, can_read=machine.can_read))


def test_pi5_sensors(tmp_path: Path) -> None:
    machine = build_pi5(tmp_path)
    sensors = _discover(machine)
    zone = sensors["thermal_zone0 cpu-thermal"]
    assert (zone.state, zone.value, zone.unit, zone.path) == (
        READABLE,
        pytest.approx(51.35),
        "C",
        "/sys/class/thermal/thermal_zone0/temp",
    )
    assert "lowest trip point 50.0 °C" in (zone.detail or "")
    assert sensors["vcgencmd measure_temp"].value == pytest.approx(51.6)
    throttled = sensors["vcgencmd get_throttled"]
    assert (throttled.state, throttled.value, throttled.detail) == (READABLE, 0.0, "no throttling since boot")
    assert sensors["vcgencmd measure_clock arm"].value == 1_500_004_352
    pmic = sensors["vcgencmd pmic_read_adc"]
    assert (pmic.kind, pmic.unit) == ("power", "W")
    assert pmic.value == pytest.approx(1.4288 * 0.72 + 0.1 * 3.3)
    assert "PMIC rails sum" in (pmic.detail or "")
    assert sensors["hwmon cpu_thermal temp1"].value == pytest.approx(51.35)
    assert sensors["cpufreq policy0 (cpus 0 1 2 3)"].value == 1.5e9
    for absent in ("RAPL", "NVML", "INA3221", "devfreq"):
        assert sensors[absent].state == ABSENT, absent
    assert ("vcgencmd", "pmic_read_adc") in machine.runner.calls


def test_jetson_orin_sensors(tmp_path: Path) -> None:
    sensors = _discover(build_jetson_orin(tmp_path))
    vdd_in = sensors["INA3221 VDD_IN"]
    assert (vdd_in.state, vdd_in.kind, vdd_in.unit) == (READABLE, "power", "W")
    assert vdd_in.value == pytest.approx(19152 * 412 / 1e6)
    assert vdd_in.path == ORIN_INA
    assert "total module input" in (vdd_in.detail or "")
    assert sensors["INA3221 VDD_GPU_SOC"].value == pytest.approx(19136 * 102 / 1e6)
    assert "do not add" in (sensors["INA3221 VDD_CPU_CV"].detail or "")
    # the shunt-sum channel is skipped; the class/hwmon link to the same chip is not reported twice
    assert not any("shunt" in name or name.startswith("hwmon ina3221") for name in sensors)
    assert sensors["devfreq 17000000.ga10b"].value == 306_000_000
    assert sensors["thermal_zone3 tj-thermal"].value == pytest.approx(48.062)
    cv0 = sensors["thermal_zone2 cv0-thermal"]
    assert cv0.state == ABSENT and "implausible" in (cv0.detail or "")
    assert [s.state for n, s in sensors.items() if n.startswith("cpufreq")] == [READABLE] * 3
    assert sensors["vcgencmd"].state == ABSENT


def test_x86_rapl_readable_and_denied(tmp_path: Path) -> None:
    sensors = _discover(build_x86_rapl(tmp_path))
    package = sensors["RAPL intel-rapl:0 package-0"]
    assert (package.state, package.kind, package.unit) == (READABLE, "energy", "J")
    assert package.value == pytest.approx(123.456789)
    assert package.path == "/sys/class/powercap/intel-rapl:0/energy_uj"
    core = sensors["RAPL intel-rapl:0:0 core"]
    assert core.state == PERMISSION_DENIED and core.value is None
    assert core.fix is not None
    assert core.fix.startswith("sudo chmod a+r /sys/class/powercap/intel-rapl:0:0/energy_uj")
    assert "udev" in core.fix
    assert not any("mmio" in name for name in sensors)  # duplicate package-0 zone dropped
    assert sensors["hwmon coretemp Package id 0"].value == pytest.approx(42.0)
    assert sensors["cpu0 package_throttle_count"].value == 3
    assert len([n for n in sensors if n.startswith("cpufreq policy")]) == 12


def test_unreadable_wrap_counter_is_flagged(tmp_path: Path) -> None:
    machine = build_x86_rapl(tmp_path)
    (machine.root / "sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/max_energy_range_uj").unlink()
    package = _discover(machine)["RAPL intel-rapl:0 package-0"]
    assert "wrap-arounds cannot be corrected" in (package.detail or "")


def test_nothing_readable_is_all_absent_with_reasons(tmp_path: Path) -> None:
    sensors = _discover(build_nothing(tmp_path / "empty"))
    assert set(sensors) == {"RAPL", "NVML", "INA3221", "vcgencmd", "hwmon", "thermal zones", "cpufreq", "devfreq"}
    assert all(s.state == ABSENT and s.detail for s in sensors.values())
    assert sensors["cpufreq"].detail == NO_CPUFREQ
    assert max_thermal_zone_c(tmp_path / "empty") == (None, "no thermal zones in /sys/class/thermal (container or VM)")


def test_permission_denied_thermal_zone(tmp_path: Path) -> None:
    machine = build_pi5(tmp_path)
    denied = _by_name(
        discover_sensors(machine.root, runner=machine.runner, can_read=lambda p: "thermal_zone" not in str(p))
    )
    zone = denied["thermal_zone0 cpu-thermal"]
    assert zone.state == PERMISSION_DENIED
    assert zone.fix == "sudo chmod a+r /sys/class/thermal/thermal_zone0/temp"


def test_vcgencmd_without_vchiq_access(tmp_path: Path) -> None:
    runner = FakeRunner({("vcgencmd", "measure_temp"): (255, "VCHI initialization failed\n")})
    sensors = _by_name(discover_sensors(build_nothing(tmp_path / "r").root, runner=runner))
    assert sensors["vcgencmd"].state == PERMISSION_DENIED
    assert "video" in (sensors["vcgencmd"].fix or "")


def test_pi4_has_no_pmic_adc(tmp_path: Path) -> None:
    runner = FakeRunner(
        {
            ("vcgencmd", "measure_temp"): (0, "temp=44.0'C"),
            ("vcgencmd", "get_throttled"): (0, "throttled=0x50005"),
            ("vcgencmd", "measure_clock", "arm"): (0, "frequency(48)=1500398464"),
        }
    )
    sensors = _by_name(discover_sensors(build_nothing(tmp_path / "r").root, runner=runner))
    assert sensors["vcgencmd pmic_read_adc"].state == ABSENT
    throttled = sensors["vcgencmd get_throttled"]
    assert throttled.value == 0x50005
    assert throttled.detail == "under-voltage now, throttled now, under-voltage occurred, throttling occurred"


def test_pmic_sum_ignores_rails_without_both_channels() -> None:
    assert pmic_rails_watts(PI5_PMIC) == pytest.approx(1.358736)
    assert pmic_rails_watts("EXT5V_V volt(24)=5.1V") is None


def test_fake_root_never_runs_host_commands(tmp_path: Path) -> None:
    sensors = _by_name(discover_sensors(build_nothing(tmp_path / "r").root))
    assert sensors["vcgencmd"].state == ABSENT
    assert "not probed" in (sensors["NVML"].detail or "")


# --- NVML through a fake pynvml module -------------------------------------------------------------


class NVMLError_NotSupported(Exception):
    pass


class NVMLError_LibraryNotFound(Exception):
    pass


def _fake_pynvml(*, energy_supported: bool = True) -> SimpleNamespace:
    def energy(_handle: object) -> int:
        if not energy_supported:
            raise NVMLError_NotSupported()
        return 123_456_000  # mJ

    return SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlSystemGetDriverVersion=lambda: "550.54.15",
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: f"h{i}",
        nvmlDeviceGetName=lambda _h: b"NVIDIA RTX A2000",
        nvmlDeviceGetMemoryInfo=lambda _h: SimpleNamespace(total=12 * 2**30),
        nvmlDeviceGetPowerUsage=lambda _h: 35_500,  # mW
        nvmlDeviceGetTotalEnergyConsumption=energy,
        nvmlDeviceGetTemperature=lambda _h, _sensor: 41,
        nvmlDeviceGetClockInfo=lambda _h, _clock: 1_200,  # MHz
    )


def test_nvml_gpu_sensors(tmp_path: Path) -> None:
    sensors = _by_name(discover_sensors(tmp_path, runner=FakeRunner(), nvml_loader=_fake_pynvml))
    prefix = "NVML GPU0 (NVIDIA RTX A2000)"
    assert sensors[f"{prefix} power"].value == pytest.approx(35.5)
    assert sensors[f"{prefix} energy"].value == pytest.approx(123_456.0)
    assert sensors[f"{prefix} temperature"].value == 41.0
    assert sensors[f"{prefix} SM clock"].value == 1.2e9


def test_nvml_pre_volta_has_no_energy_counter() -> None:
    probe = probe_nvml(lambda: _fake_pynvml(energy_supported=False))
    energy = probe.gpus[0].energy_j
    assert energy.state == ABSENT and "integrate power" in (energy.detail or "")


def test_nvml_missing_library_or_driver_is_absent() -> None:
    def missing() -> Any:
        raise ImportError("No module named 'pynvml'")

    probe = probe_nvml(missing)
    assert (probe.state, probe.fix) == (ABSENT, "pip install nvidia-ml-py")

    def no_driver() -> Any:
        module = _fake_pynvml()
        module.nvmlInit = lambda: (_ for _ in ()).throw(NVMLError_LibraryNotFound())
        return module

    probe = probe_nvml(no_driver)
    assert probe.state == ABSENT and probe.reason == "NVML library not found (no NVIDIA driver)"
