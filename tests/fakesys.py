"""Fake /proc, /sys, /dev and /etc trees of real edge machines, for the platform detectors.

File names, formats and units follow the kernel ABI and docs/platform.md; values are taken from
real boards where known.  Each builder returns a ``FakeMachine``: the root to pass as ``root=``,
a command runner that fakes ``vcgencmd``, and a ``can_read`` check (tests run as root, and root can
read chmod-000 files, so "permission denied" is simulated through that callable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def write(root: Path, absolute: str, content: str) -> Path:
    path = root / absolute.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if content.endswith(("\n", "\x00")) else content + "\n")
    return path


def link(root: Path, absolute: str, target: str) -> None:
    """A symlink inside the tree; ``target`` is relative, as sysfs links are."""
    path = root / absolute.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


@dataclass
class FakeRunner:
    """Answers known argv tuples; any other program is "not installed" (FileNotFoundError)."""

    outputs: dict[tuple[str, ...], tuple[int, str]] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str]) -> tuple[int, str]:
        key = tuple(argv)
        self.calls.append(key)
        if key in self.outputs:
            return self.outputs[key]
        if any(k[0] == key[0] for k in self.outputs):
            return 1, f'error=1 error_msg="Command not registered" ({" ".join(key)})'
        raise FileNotFoundError(key[0])


@dataclass
class FakeMachine:
    root: Path
    runner: FakeRunner
    can_read: Callable[[Path], bool]


def _readable(_path: Path) -> bool:
    return True


def _cpuinfo_arm(count: int, parts: Callable[[int], str], features: str, variant: str, trailer: str = "") -> str:
    blocks = [
        f"processor\t: {cpu}\nBogoMIPS\t: 108.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
        f"CPU architecture: 8\nCPU variant\t: {variant}\nCPU part\t: {parts(cpu)}\nCPU revision\t: 1\n"
        for cpu in range(count)
    ]
    return "\n".join(blocks) + ("\n" + trailer if trailer else "")


def _topology(root: Path, cpus: Iterable[int], siblings: Callable[[int], str], cluster: Callable[[int], int]) -> None:
    for cpu in cpus:
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        write(root, f"{base}/core_cpus_list", siblings(cpu))
        write(root, f"{base}/thread_siblings_list", siblings(cpu))
        write(root, f"{base}/physical_package_id", "0")
        write(root, f"{base}/cluster_id", str(cluster(cpu)))
        # core_id restarts in every cluster on Arm DT systems: detectors must not count on it.
        write(root, f"{base}/core_id", str(cpu % 4))


def _caches(root: Path, cpu: int, entries: Iterable[tuple[int, str, str, str]]) -> None:
    for index, (level, kind, size, shared) in enumerate(entries):
        base = f"/sys/devices/system/cpu/cpu{cpu}/cache/index{index}"
        write(root, f"{base}/level", str(level))
        write(root, f"{base}/type", kind)
        write(root, f"{base}/size", size)
        write(root, f"{base}/shared_cpu_list", shared)


def _policy(root: Path, policy: int, cpus: Sequence[int], khz: tuple[int, int, int], governor: str) -> None:
    lo, hi, cur = khz
    base = f"/sys/devices/system/cpu/cpufreq/policy{policy}"
    for name, value in (
        ("cpuinfo_min_freq", lo),
        ("cpuinfo_max_freq", hi),
        ("scaling_cur_freq", cur),
        ("scaling_min_freq", lo),
        ("scaling_max_freq", hi),
    ):
        write(root, f"{base}/{name}", str(value))
    write(root, f"{base}/scaling_governor", governor)
    write(root, f"{base}/related_cpus", " ".join(map(str, cpus)))
    write(root, f"{base}/affected_cpus", " ".join(map(str, cpus)))
    for cpu in cpus:
        link(root, f"/sys/devices/system/cpu/cpu{cpu}/cpufreq", f"../cpufreq/policy{policy}")


def _common(root: Path, hostname: str, kernel: str, meminfo_kib: tuple[int, int, int, int]) -> None:
    total, available, swap_total, swap_free = meminfo_kib
    write(
        root,
        "/proc/meminfo",
        f"MemTotal:       {total} kB\nMemFree:        {available // 2} kB\nMemAvailable:   {available} kB\n"
        f"Buffers:           1234 kB\nSwapTotal:      {swap_total} kB\nSwapFree:       {swap_free} kB\n",
    )
    write(root, "/proc/sys/kernel/hostname", hostname)
    write(root, "/proc/sys/kernel/osrelease", kernel)
    write(
        root,
        "/etc/os-release",
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n',
    )


def _thermal_zone(root: Path, index: int, kind: str, millic: int, trips: Sequence[int] = ()) -> None:
    base = f"/sys/devices/virtual/thermal/thermal_zone{index}"
    write(root, f"{base}/type", kind)
    write(root, f"{base}/temp", str(millic))
    for n, trip in enumerate(trips):
        write(root, f"{base}/trip_point_{n}_temp", str(trip))
    link(root, f"/sys/class/thermal/thermal_zone{index}", f"../../devices/virtual/thermal/thermal_zone{index}")


PI5_MODEL = "Raspberry Pi 5 Model B Rev 1.0"
PI5_FEATURES = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"
PI5_PMIC = """\
     VDD_CORE_A current(7)=1.42880000A
     3V3_SYS_A current(1)=0.10000000A
     VDD_CORE_V volt(15)=0.72000000V
     3V3_SYS_V volt(9)=3.30000000V
     EXT5V_V volt(24)=5.12232000V
"""


def build_pi5(root: Path) -> FakeMachine:
    """Raspberry Pi 5: 4× Cortex-A76 @ 2.4 GHz, ondemand, one thermal zone, vcgencmd with PMIC ADC."""
    trailer = f"Revision\t: d04170\nSerial\t\t: 7d8b1a2c3e4f5a6b\nModel\t\t: {PI5_MODEL}\n"
    write(root, "/proc/cpuinfo", _cpuinfo_arm(4, lambda _c: "0xd0b", PI5_FEATURES, "0x4", trailer))
    write(root, "/sys/devices/system/cpu/online", "0-3")
    _topology(root, range(4), str, lambda _c: 0)
    for cpu in range(4):
        _caches(
            root,
            cpu,
            [
                (1, "Data", "64K", str(cpu)),
                (1, "Instruction", "64K", str(cpu)),
                (2, "Unified", "512K", str(cpu)),
                (3, "Unified", "2048K", "0-3"),
            ],
        )
    _policy(root, 0, range(4), (1500000, 2400000, 1500000), "ondemand")
    write(root, "/sys/firmware/devicetree/base/model", PI5_MODEL + "\x00")
    link(root, "/proc/device-tree", "../sys/firmware/devicetree/base")
    _common(root, "pi5", "6.6.31+rpt-rpi-2712", (8245360, 7520000, 524272, 524272))
    _thermal_zone(root, 0, "cpu-thermal", 51350, (110000, 50000))
    write(root, "/sys/devices/platform/cpu_thermal/hwmon/hwmon0/name", "cpu_thermal")
    write(root, "/sys/devices/platform/cpu_thermal/hwmon/hwmon0/temp1_input", "51350")
    link(root, "/sys/class/hwmon/hwmon0", "../../devices/platform/cpu_thermal/hwmon/hwmon0")
    runner = FakeRunner(
        {
            ("vcgencmd", "measure_temp"): (0, "temp=51.6'C\n"),
            ("vcgencmd", "get_throttled"): (0, "throttled=0x0\n"),
            ("vcgencmd", "measure_clock", "arm"): (0, "frequency(0)=1500004352\n"),
            ("vcgencmd", "pmic_read_adc"): (0, PI5_PMIC),
        }
    )
    return FakeMachine(root, runner, _readable)


ORIN_MODEL = "NVIDIA Jetson AGX Orin Developer Kit"
ORIN_FEATURES = PI5_FEATURES + " uscat ilrcpc flagm paca pacg"
ORIN_INA = "/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3"


def build_jetson_orin(root: Path) -> FakeMachine:
    """Jetson AGX Orin: 12× Cortex-A78AE in 3 clusters, INA3221 rails, ga10b devfreq GPU, 2 DLAs."""
    write(root, "/proc/cpuinfo", _cpuinfo_arm(12, lambda _c: "0xd42", ORIN_FEATURES, "0x1"))
    write(root, "/sys/devices/system/cpu/online", "0-11")
    _topology(root, range(12), str, lambda c: c // 4)
    for cpu in range(12):
        first = cpu // 4 * 4
        _caches(
            root,
            cpu,
            [
                (1, "Data", "64K", str(cpu)),
                (1, "Instruction", "64K", str(cpu)),
                (2, "Unified", "256K", str(cpu)),
                (3, "Unified", "2048K", f"{first}-{first + 3}"),
            ],
        )
    for policy, cur in ((0, 729600), (4, 1984000), (8, 2201600)):
        _policy(root, policy, range(policy, policy + 4), (115200, 2201600, cur), "schedutil")
    write(root, "/sys/firmware/devicetree/base/model", ORIN_MODEL + "\x00")
    link(root, "/proc/device-tree", "../sys/firmware/devicetree/base")
    write(
        root,
        "/etc/nv_tegra_release",
        "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 2023",
    )
    _common(root, "orin", "5.10.120-tegra", (31960000, 29000000, 15980000, 15980000))
    rails = (("VDD_IN", 19152, 412), ("VDD_GPU_SOC", 19136, 102), ("VDD_CPU_CV", 19144, 175))
    write(root, f"{ORIN_INA}/name", "ina3221")
    for channel, (label, mv, ma) in enumerate(rails, start=1):
        write(root, f"{ORIN_INA}/in{channel}_label", label)
        write(root, f"{ORIN_INA}/in{channel}_input", str(mv))
        write(root, f"{ORIN_INA}/curr{channel}_input", str(ma))
        write(root, f"{ORIN_INA}/curr{channel}_crit", "12000")
    write(root, f"{ORIN_INA}/in7_label", "sum of shunt voltages")
    write(root, f"{ORIN_INA}/in7_input", "52")
    write(root, "/sys/bus/i2c/drivers/ina3221/1-0040/name", "ina3221")
    link(root, "/sys/bus/i2c/devices/1-0040", "../drivers/ina3221/1-0040")
    link(root, "/sys/class/hwmon/hwmon3", "../../bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3")
    write(root, "/sys/devices/platform/17000000.ga10b/devfreq/17000000.ga10b/cur_freq", "306000000")
    write(root, "/sys/devices/platform/17000000.ga10b/devfreq/17000000.ga10b/max_freq", "1300500000")
    link(root, "/sys/class/devfreq/17000000.ga10b", "../../devices/platform/17000000.ga10b/devfreq/17000000.ga10b")
    for dla in ("15880000.nvdla0", "158c0000.nvdla1"):
        write(root, f"/sys/bus/platform/devices/{dla}/uevent", "OF_NAME=nvdla")
    for index, (kind, millic) in enumerate(
        (("cpu-thermal", 47500), ("gpu-thermal", 46000), ("cv0-thermal", -256000), ("tj-thermal", 48062))
    ):
        _thermal_zone(root, index, kind, millic, (99000,))
    return FakeMachine(root, FakeRunner(), _readable)


X86_MODEL = "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz"
X86_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse "
    "sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 "
    "movbe popcnt aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch fsgsbase bmi1 avx2 smep bmi2 erms "
    "invpcid rdseed adx smap clflushopt xsaveopt xsavec xgetbv1 xsaves"
)
RAPL_DENIED = "intel-rapl:0:0/energy_uj"


def build_x86_rapl(root: Path) -> FakeMachine:
    """Desktop i7-8700 (6 cores, 12 threads, AVX2), intel_pstate, RAPL package readable, core denied."""
    blocks = [
        f"processor\t: {cpu}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 158\n"
        f"model name\t: {X86_MODEL}\ncpu MHz\t\t: 800.000\ncache size\t: 12288 KB\nphysical id\t: 0\n"
        f"siblings\t: 12\ncore id\t\t: {cpu % 6}\ncpu cores\t: 6\nflags\t\t: {X86_FLAGS}\n"
        for cpu in range(12)
    ]
    write(root, "/proc/cpuinfo", "\n".join(blocks))
    write(root, "/sys/devices/system/cpu/online", "0-11")
    _topology(root, range(12), lambda c: f"{c % 6},{c % 6 + 6}", lambda _c: 0)
    for cpu in range(12):
        core = cpu % 6
        _caches(
            root,
            cpu,
            [
                (1, "Data", "32K", f"{core},{core + 6}"),
                (1, "Instruction", "32K", f"{core},{core + 6}"),
                (2, "Unified", "256K", f"{core},{core + 6}"),
                (3, "Unified", "12288K", "0-11"),
            ],
        )
        _policy(root, cpu, [cpu], (800000, 4600000, 800000), "powersave")
        write(root, f"/sys/devices/system/cpu/cpu{cpu}/thermal_throttle/core_throttle_count", "0")
        write(root, f"/sys/devices/system/cpu/cpu{cpu}/thermal_throttle/package_throttle_count", "3")
    rapl = "/sys/devices/virtual/powercap/intel-rapl"
    for zone, name, uj in (("intel-rapl:0", "package-0", 123456789), ("intel-rapl:0/intel-rapl:0:0", "core", 2345678)):
        write(root, f"{rapl}/{zone}/name", name)
        write(root, f"{rapl}/{zone}/energy_uj", str(uj))
        write(root, f"{rapl}/{zone}/max_energy_range_uj", "262143328850")
        name_only = zone.rsplit("/", 1)[-1]
        link(root, f"/sys/class/powercap/{name_only}", f"../../devices/virtual/powercap/intel-rapl/{zone}")
    mmio = "/sys/devices/virtual/powercap/intel-rapl-mmio/intel-rapl-mmio:0"
    write(root, f"{mmio}/name", "package-0")
    write(root, f"{mmio}/energy_uj", "99999")
    link(root, "/sys/class/powercap/intel-rapl-mmio:0", f"../../{mmio.removeprefix('/sys/')}")
    write(root, "/sys/class/dmi/id/sys_vendor", "Dell Inc.")
    write(root, "/sys/class/dmi/id/product_name", "OptiPlex 7070")
    _common(root, "desk", "6.1.0-18-amd64", (32657000, 30000000, 2097148, 2097148))
    _thermal_zone(root, 0, "acpitz", 27800, (105000,))
    _thermal_zone(root, 1, "x86_pkg_temp", 42000)
    coretemp = "/sys/devices/platform/coretemp.0/hwmon/hwmon2"
    for name, value in (
        ("name", "coretemp"),
        ("temp1_label", "Package id 0"),
        ("temp1_input", "42000"),
        ("temp2_label", "Core 0"),
        ("temp2_input", "40000"),
    ):
        write(root, f"{coretemp}/{name}", value)
    link(root, "/sys/class/hwmon/hwmon2", "../../devices/platform/coretemp.0/hwmon/hwmon2")

    def can_read(path: Path) -> bool:
        # Since Linux 5.10 energy_uj is root-only; here only the core zone keeps that default.
        return not str(path).endswith(RAPL_DENIED)

    return FakeMachine(root, FakeRunner(), can_read)


def build_big_little(root: Path) -> FakeMachine:
    """RK3588-like: 4× Cortex-A55 @ 1.8 GHz + 4× Cortex-A76 @ 2.4 GHz, a Rockchip NPU node."""
    write(root, "/proc/cpuinfo", _cpuinfo_arm(8, lambda c: "0xd05" if c < 4 else "0xd0b", PI5_FEATURES, "0x2"))
    _topology(root, range(8), str, lambda c: c // 4)
    _policy(root, 0, range(4), (408000, 1800000, 1800000), "schedutil")
    _policy(root, 4, range(4, 8), (408000, 2400000, 2400000), "performance")
    write(root, "/dev/rknpu", "")
    return FakeMachine(root, FakeRunner(), _readable)


def build_nothing(root: Path) -> FakeMachine:
    """A machine (or container) where nothing is readable: an empty root, no commands."""
    root.mkdir(parents=True, exist_ok=True)
    return FakeMachine(root, FakeRunner(), lambda _path: False)


# --- energy: powercap trees with live counters, Pi runners with changing throttle bits -------------

POWERCAP = "/sys/devices/virtual/powercap/intel-rapl"


def rapl_zone(root: Path, zone: str, name: str, uj: int, wrap_uj: int | None = 262143328850) -> Path:
    """One powercap zone (``intel-rapl:0`` or ``intel-rapl:0/intel-rapl:0:1``) linked under /sys/class/powercap."""
    write(root, f"{POWERCAP}/{zone}/name", name)
    energy = write(root, f"{POWERCAP}/{zone}/energy_uj", str(uj))
    if wrap_uj is not None:
        write(root, f"{POWERCAP}/{zone}/max_energy_range_uj", str(wrap_uj))
    leaf = zone.rsplit("/", 1)[-1]
    link(root, f"/sys/class/powercap/{leaf}", f"../../devices/virtual/powercap/intel-rapl/{zone}")
    return energy


def build_rapl_overlap(root: Path) -> FakeMachine:
    """Intel client part: package-0 ⊃ core, uncore; dram beside it; psys ⊃ everything."""
    rapl_zone(root, "intel-rapl:0", "package-0", 50_000_000)
    rapl_zone(root, "intel-rapl:0/intel-rapl:0:0", "core", 20_000_000)
    rapl_zone(root, "intel-rapl:0/intel-rapl:0:1", "uncore", 1_000_000)
    rapl_zone(root, "intel-rapl:0/intel-rapl:0:2", "dram", 3_000_000)
    rapl_zone(root, "intel-rapl:1", "psys", 90_000_000)
    return FakeMachine(root, FakeRunner(), _readable)


class CounterPump:
    """A thread that advances ``energy_uj`` files as a load of ``watts`` would (the kernel's job on real RAPL).

    Written atomically (rename) every millisecond, like the ~1 ms RAPL update; ``wrap_uj`` wraps the counter.
    """

    def __init__(self, files: dict[Path, float], wrap_uj: int = 262143328850, start_uj: int = 1000) -> None:
        import threading
        import time

        self._files, self._wrap, self._start = files, wrap_uj, start_uj
        self.max_gap_s = 0.0  # longest pause between writes: a starved thread is a sensor that froze
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CounterPump:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import time

        last = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            self.max_gap_s, last = max(self.max_gap_s, now - last), now
            elapsed = now - self._t0
            for path, watts in self._files.items():
                tmp = path.with_suffix(".tmp")
                tmp.write_text(f"{int(self._start + elapsed * watts * 1e6) % self._wrap}\n")
                tmp.replace(path)
            self._stop.wait(0.001)


@dataclass
class SequenceRunner:
    """vcgencmd whose answers change call by call (the last answer repeats): recorded sequences."""

    sequences: dict[tuple[str, ...], list[tuple[int, str]]]
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str]) -> tuple[int, str]:
        key = tuple(argv)
        self.calls.append(key)
        answers = self.sequences.get(key)
        if answers is None:
            if any(k[0] == key[0] for k in self.sequences):
                return 1, 'error=1 error_msg="Command not registered"'
            raise FileNotFoundError(key[0])
        return answers.pop(0) if len(answers) > 1 else answers[0]
