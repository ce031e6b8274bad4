"""Sensor sources against fake sysfs trees, a fake vcgencmd and a fake pynvml (recorded sequences)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from edgebench.collectors.external import ExternalCollector, parse_line
from edgebench.collectors.jetson import RAILS_SUM, JetsonCollector
from edgebench.collectors.nvml import NvmlCollector, decode_reasons
from edgebench.collectors.rapl import RaplCollector
from edgebench.collectors.rpi import RpiCollector, decode_throttled
from edgebench.collectors.thermal import ThermalCollector
from edgebench.energy.source import SensorUnavailable
from tests.fakesys import (
    ORIN_INA,
    PI5_PMIC,
    SequenceRunner,
    build_jetson_orin,
    build_nothing,
    build_pi5,
    build_rapl_overlap,
    build_x86_rapl,
    rapl_zone,
    write,
)


def _by_key(channels: list[Any]) -> dict[str, Any]:
    return {c.key: c for c in channels}


# --- RAPL ------------------------------------------------------------------------------------------


def test_rapl_readable_package_denied_core_and_mmio_duplicate_dropped(tmp_path: Path) -> None:
    machine = build_x86_rapl(tmp_path)
    source = RaplCollector(machine.root, can_read=machine.can_read)
    channels = _by_key(source.discover())
    assert list(channels) == ["rapl:package-0"]  # core is root-only here; the mmio package-0 is a duplicate
    package = channels["rapl:package-0"]
    assert (package.kind, package.role, package.primary) == ("energy", "total", True)
    assert package.wrap_j == pytest.approx(262143.32885)
    assert source.read() == {"rapl:package-0": pytest.approx(123.456789)}


def test_rapl_permission_denied_everywhere_gives_the_fix(tmp_path: Path) -> None:
    machine = build_x86_rapl(tmp_path)
    source = RaplCollector(machine.root, can_read=lambda _p: False)
    with pytest.raises(SensorUnavailable) as info:
        source.discover()
    assert "permission denied" in info.value.reason and "5.10" in info.value.reason
    assert info.value.fix is not None
    assert "sudo chmod a+r /sys/class/powercap/intel-rapl:0/energy_uj" in info.value.fix
    assert "udev" in info.value.fix and "0444" in info.value.fix


def test_rapl_missing_tree_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(SensorUnavailable, match="intel-rapl"):
        RaplCollector(build_nothing(tmp_path / "none").root).discover()
    root = tmp_path / "nofile"
    write(root, "/sys/class/powercap/intel-rapl:0/name", "package-0")
    with pytest.raises(SensorUnavailable, match="no energy_uj"):
        RaplCollector(root).discover()


def test_rapl_overlapping_domains_are_roles_not_sums(tmp_path: Path) -> None:
    channels = _by_key(RaplCollector(build_rapl_overlap(tmp_path).root).discover())
    roles = {k: (c.role, c.primary) for k, c in channels.items()}
    assert roles == {
        "rapl:package-0": ("total", True),
        "rapl:core": ("component", False),
        "rapl:uncore": ("component", False),
        "rapl:dram": ("component", False),
        "rapl:psys": ("total", False),
    }


def test_rapl_unreadable_wrap_range_is_noted(tmp_path: Path) -> None:
    rapl_zone(tmp_path, "intel-rapl:0", "package-0", 10, wrap_uj=None)
    (channel,) = RaplCollector(tmp_path).discover()
    assert channel.wrap_j is None and "wrap-arounds cannot be corrected" in (channel.note or "")


def test_rapl_collector_contract_reads_the_window(tmp_path: Path) -> None:
    energy = rapl_zone(tmp_path, "intel-rapl:0", "package-0", 262143328000)
    collector = RaplCollector(tmp_path)
    collector.start()
    energy.write_text("1000\n")  # wrapped between start and stop
    out = collector.stop()
    assert out["status"] == "measured"
    assert out["rapl:package-0:energy_j"] == pytest.approx((262143328850 - 262143328000 + 1000) * 1e-6)
    assert RaplCollector(tmp_path / "empty").stop()["status"] == "absent"


# --- Jetson ----------------------------------------------------------------------------------------


def test_jetson_vdd_in_is_the_primary_total_rail(tmp_path: Path) -> None:
    machine = build_jetson_orin(tmp_path)
    source = JetsonCollector(machine.root)
    channels = _by_key(source.discover())
    assert channels["ina3221:VDD_IN"].primary and channels["ina3221:VDD_IN"].role == "total"
    assert channels["ina3221:VDD_GPU_SOC"].role == "component"
    assert f"ina3221:{RAILS_SUM}" not in channels  # a total rail exists: never add the parts
    assert "ina3221:sum of shunt voltages" not in channels
    values = source.read()
    assert values["ina3221:VDD_IN"] == pytest.approx(19.152 * 0.412)
    assert values["devfreq:17000000.ga10b"] == 306_000_000


def test_jetson_without_total_rail_labels_the_rails_sum(tmp_path: Path) -> None:
    machine = build_jetson_orin(tmp_path)
    (machine.root / ORIN_INA.lstrip("/") / "in1_label").write_text("VDD_SOC\n")  # no VDD_IN any more
    source = JetsonCollector(machine.root)
    channels = _by_key(source.discover())
    rails_sum = channels[f"ina3221:{RAILS_SUM}"]
    assert rails_sum.primary and "excludes carrier-board power" in (rails_sum.note or "")
    values = source.read()
    expected = 19.152 * 0.412 + 19.136 * 0.102 + 19.144 * 0.175
    assert values[f"ina3221:{RAILS_SUM}"] == pytest.approx(expected)


def test_jetson_legacy_iio_rails(tmp_path: Path) -> None:
    dev = "/sys/bus/i2c/drivers/ina3221x/6-0040"
    write(tmp_path, f"{dev}/iio:device0/rail_name_0", "POM_5V_IN")
    write(tmp_path, f"{dev}/iio:device0/in_power0_input", "3120")
    write(tmp_path, f"{dev}/iio:device0/rail_name_1", "POM_5V_GPU")
    write(tmp_path, f"{dev}/iio:device0/in_power1_input", "410")
    source = JetsonCollector(tmp_path)
    channels = _by_key(source.discover())
    assert channels["ina3221:POM_5V_IN"].primary
    assert source.read()["ina3221:POM_5V_IN"] == pytest.approx(3.12)


def test_not_a_jetson(tmp_path: Path) -> None:
    with pytest.raises(SensorUnavailable, match="not a Jetson"):
        JetsonCollector(build_nothing(tmp_path).root).discover()


# --- Raspberry Pi ----------------------------------------------------------------------------------


def test_pi5_channels_and_pmic_rails_sum(tmp_path: Path) -> None:
    machine = build_pi5(tmp_path)
    source = RpiCollector(machine.root, runner=machine.runner)
    channels = _by_key(source.discover())
    assert channels["vcgencmd:pmic"].domain == "PMIC rails sum" and channels["vcgencmd:pmic"].primary
    assert "under-states" in (channels["vcgencmd:pmic"].note or "")
    values = source.read()
    assert values["vcgencmd:arm_clock"] == 1_500_004_352
    assert values["vcgencmd:temp"] == pytest.approx(51.6)
    assert values["vcgencmd:pmic"] == pytest.approx(1.4288 * 0.72 + 0.1 * 3.3)


def test_pi_throttle_bits_recorded_call_by_call() -> None:
    runner = SequenceRunner(
        {
            ("vcgencmd", "measure_temp"): [(0, "temp=79.0'C"), (0, "temp=84.5'C")],
            ("vcgencmd", "measure_clock", "arm"): [(0, "frequency(0)=2400000000"), (0, "frequency(0)=1500000000")],
            ("vcgencmd", "get_throttled"): [(0, "throttled=0x0"), (0, "throttled=0x0"), (0, "throttled=0xe0008")],
            ("vcgencmd", "pmic_read_adc"): [(0, PI5_PMIC)],
        }
    )
    source = RpiCollector(runner=runner)
    source.discover()
    assert source.read()["vcgencmd:throttled"] == 0
    assert source.read()["vcgencmd:throttled"] == 0xE0008
    assert decode_throttled(0xE0008) == [
        "soft temperature limit now",
        "frequency capping occurred",
        "throttling occurred",
        "soft temperature limit occurred",
    ]
    assert decode_throttled(1 << 5) == ["bit 5"]  # unknown bits are named, never dropped


def test_vcgencmd_missing_or_denied() -> None:
    with pytest.raises(SensorUnavailable, match="not a Raspberry Pi"):
        RpiCollector(runner=SequenceRunner({})).discover()
    denied = SequenceRunner({("vcgencmd", "measure_temp"): [(255, "VCHI initialization failed")]})
    with pytest.raises(SensorUnavailable) as info:
        RpiCollector(runner=denied).discover()
    assert "permission denied" in info.value.reason and "video" in (info.value.fix or "")


# --- generic thermal / cpufreq ---------------------------------------------------------------------


def test_thermal_zones_with_trip_points_hwmon_and_cpufreq(tmp_path: Path) -> None:
    machine = build_jetson_orin(tmp_path)
    source = ThermalCollector(machine.root)
    channels = _by_key(source.discover())
    assert channels["thermal:thermal_zone0"].trip_c == pytest.approx(99.0)
    assert "thermal:thermal_zone2" not in channels  # cv0-thermal reads -256 °C: no reading, not a temperature
    assert channels["cpufreq:policy4"].note == "governor schedutil"
    values = source.read()
    assert values["thermal:thermal_zone0"] == pytest.approx(47.5)
    assert values["cpufreq:policy8"] == pytest.approx(2_201_600_000)


# --- NVML ------------------------------------------------------------------------------------------


class NVMLError_NotSupported(Exception):
    pass


class NVMLError_LibraryNotFound(Exception):
    pass


def _pynvml(energy_mj: list[int] | None, reasons: int = 0) -> SimpleNamespace:
    """A recorded sequence: each energy query returns the next value (None: pre-Volta, NotSupported)."""

    def energy(_h: object) -> int:
        if energy_mj is None:
            raise NVMLError_NotSupported()
        return energy_mj.pop(0) if len(energy_mj) > 1 else energy_mj[0]

    return SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: f"h{i}",
        nvmlDeviceGetPowerUsage=lambda _h: 35_500,
        nvmlDeviceGetTotalEnergyConsumption=energy,
        nvmlDeviceGetTemperature=lambda _h, _s: 66,
        nvmlDeviceGetClockInfo=lambda _h, _c: 1_410,
        nvmlDeviceGetCurrentClocksEventReasons=lambda _h: reasons,
    )


def test_nvml_energy_counter_volta_and_newer() -> None:
    module = _pynvml([5_000, 5_000, 7_500], reasons=0x20)
    source = NvmlCollector(loader=lambda: module)
    channels = _by_key(source.discover())  # the discovery probe consumes one value
    assert channels["nvml:gpu0"].kind == "energy" and channels["nvml:gpu0"].primary
    assert source.read()["nvml:gpu0"] == pytest.approx(5.0)
    values = source.read()
    assert values["nvml:gpu0"] == pytest.approx(7.5)
    assert values["nvml:gpu0:sm_clock"] == 1.41e9 and values["nvml:gpu0:temp"] == 66
    assert decode_reasons(int(values["nvml:gpu0:reasons"])) == ("sw_thermal_slowdown",)


def test_nvml_pre_volta_integrates_power() -> None:
    source = NvmlCollector(loader=lambda: _pynvml(None))
    channels = _by_key(source.discover())
    assert channels["nvml:gpu0"].kind == "power"
    assert source.read()["nvml:gpu0"] == pytest.approx(35.5)


def test_nvml_missing_library_or_driver_is_absent_not_an_error() -> None:
    def missing() -> Any:
        raise ImportError("No module named 'pynvml'")

    with pytest.raises(SensorUnavailable, match="pynvml not installed"):
        NvmlCollector(loader=missing).discover()

    def no_driver() -> Any:
        module = _pynvml([1])
        module.nvmlInit = lambda: (_ for _ in ()).throw(NVMLError_LibraryNotFound())
        return module

    with pytest.raises(SensorUnavailable, match="LibraryNotFound"):
        NvmlCollector(loader=no_driver).discover()


# --- external meter --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1733130000.5,4.25", (1_733_130_000_500_000_000, 4.25)),
        ("1733130000.5;4.25", (1_733_130_000_500_000_000, 4.25)),
        ("2.0,1.5", (10**9 + 2 * 10**9, 1.5)),  # relative seconds: from the command's start
        ("timestamp,watts", None),
        ("1733130000,nan", None),
        ("oops", None),
    ],
)
def test_meter_line_parsing(line: str, expected: tuple[int, float] | None) -> None:
    assert parse_line(line, started_ns=10**9) == expected


def test_external_meter_command_streams_samples(tmp_path: Path) -> None:
    script = tmp_path / "meter.py"
    script.write_text(
        "import time\nprint('timestamp,watts', flush=True)\n"
        "for _ in range(5):\n    print(f'{time.time()},2.5', flush=True)\n    time.sleep(0.01)\n"
    )
    source = ExternalCollector(command=f"{sys.executable} {script}")
    (channel,) = source.discover()
    assert (channel.key, channel.kind, channel.primary) == ("external:meter", "power", True)
    got: list[tuple[int, float]] = []
    for _ in range(200):
        got += source.drain()
        if len(got) == 5:
            break
        import time

        time.sleep(0.01)
    source.close()
    assert [w for _, w in got] == [2.5] * 5 and source.bad_lines == 1


def test_external_meter_without_or_with_a_broken_command() -> None:
    with pytest.raises(SensorUnavailable, match="no external meter"):
        ExternalCollector().discover()
    with pytest.raises(SensorUnavailable, match="could not start"):
        ExternalCollector(command="/nonexistent/meter --x").discover()
