"""CPU detection from ``/proc/cpuinfo`` and ``/sys/devices/system/cpu`` (no subprocess, no py-cpuinfo).

py-cpuinfo is deliberately not used: it forks a helper process (too slow for per-run capture) and
cannot be pointed at a fake tree; the kernel files below carry every fact we report.
"""

from __future__ import annotations

import platform as _pyplatform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edgebench.platform._fs import parse_cpu_list, read_int, read_text, sorted_glob, under

NO_CPUFREQ = "no cpufreq in /sys (container or VM)"

# ISA features that change which inference kernels a runtime can use, in display order.
_X86_INFERENCE_FLAGS: tuple[str, ...] = (
    "avx",
    "fma",
    "f16c",
    "avx2",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "avx_vnni",
    "avx_vnni_int8",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "amx_fp16",
)
# Arm kernel feature names differ between arm64 and arm32 (and from the marketing names): normalise.
_ARM_INFERENCE_FLAGS: tuple[tuple[str, frozenset[str]], ...] = (
    ("neon", frozenset({"asimd", "neon"})),
    ("fp16", frozenset({"asimdhp"})),
    ("dotprod", frozenset({"asimddp"})),
    ("fhm", frozenset({"asimdfhm"})),
    ("i8mm", frozenset({"i8mm"})),
    ("bf16", frozenset({"bf16"})),
    ("sve", frozenset({"sve"})),
    ("sve2", frozenset({"sve2"})),
    ("sme", frozenset({"sme"})),
)

_X86_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon", "CentaurHauls": "Centaur"}
_ARM_IMPLEMENTERS = {
    "0x41": "ARM",
    "0x42": "Broadcom",
    "0x43": "Cavium",
    "0x48": "HiSilicon",
    "0x4e": "NVIDIA",
    "0x51": "Qualcomm",
    "0x53": "Samsung",
    "0x61": "Apple",
    "0xc0": "Ampere",
}
# Parts designed by Arm Ltd (implementer 0x41); other implementers reuse the numbers.
_ARM_PARTS = {
    "0xd03": "Cortex-A53",
    "0xd04": "Cortex-A35",
    "0xd05": "Cortex-A55",
    "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72",
    "0xd09": "Cortex-A73",
    "0xd0a": "Cortex-A75",
    "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1",
    "0xd0d": "Cortex-A77",
    "0xd40": "Neoverse-V1",
    "0xd41": "Cortex-A78",
    "0xd42": "Cortex-A78AE",
    "0xd44": "Cortex-X1",
    "0xd46": "Cortex-A510",
    "0xd47": "Cortex-A710",
    "0xd48": "Cortex-X2",
    "0xd49": "Neoverse-N2",
    "0xd4b": "Cortex-A78C",
    "0xd4d": "Cortex-A715",
    "0xd4e": "Cortex-X3",
    "0xd4f": "Neoverse-V2",
    "0xd80": "Cortex-A520",
    "0xd81": "Cortex-A720",
    "0xd82": "Cortex-X4",
}


@dataclass(frozen=True)
class CpuCluster:
    """CPUs sharing a core design and a maximum frequency (big.LITTLE / hybrid groups)."""

    cpus: tuple[int, ...]
    cores: int  # physical cores (SMT siblings counted once)
    core_name: str | None
    implementer: str | None
    part: str | None
    freq_min_hz: int | None
    freq_max_hz: int | None


@dataclass(frozen=True)
class CacheInfo:
    level: int
    type: str
    size_bytes: int
    instances: int
    shared_by_cpus: int


@dataclass(frozen=True)
class CpuInfo:
    vendor: str | None
    model: str | None
    arch: str | None
    sockets: int | None
    physical_cores: int | None
    logical_cpus: int | None
    clusters: tuple[CpuCluster, ...]
    freq_min_hz: int | None
    freq_max_hz: int | None
    freq_cur_hz: int | None
    # x86 "cpu MHz": the current clock on bare metal, the nominal TSC rate in most VMs.
    freq_reported_hz: int | None
    governor: str | None
    isa_features: tuple[str, ...]
    flags: tuple[str, ...]
    caches: tuple[CacheInfo, ...]
    x86_family: int | None = None
    # Why a field is None, keyed by field name: absence is a labelled outcome, not a silent gap.
    reasons: dict[str, str] = field(default_factory=dict)


def parse_cpuinfo(text: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Per-processor blocks and the machine-wide trailer (Arm ``Hardware``/``Model``/``Revision``)."""
    processors: list[dict[str, str]] = []
    machine: dict[str, str] = {}
    for block in text.split("\n\n"):
        entries: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                entries[key.strip()] = value.strip()
        if entries.get("processor", "").isdigit():
            processors.append(entries)
        else:
            machine.update(entries)
    return processors, machine


def inference_features(flags: Sequence[str]) -> tuple[str, ...]:
    """The inference-relevant subset of kernel flags, with Arm names normalised (asimddp → dotprod)."""
    present = set(flags)
    x86 = tuple(flag for flag in _X86_INFERENCE_FLAGS if flag in present)
    arm = tuple(name for name, aliases in _ARM_INFERENCE_FLAGS if aliases & present)
    return x86 + arm


def detect_cpu(root: Path = Path("/"), *, with_caches: bool = True) -> CpuInfo:
    """Everything about the CPU that the kernel exposes, read under ``root``."""
    reasons: dict[str, str] = {}
    text = read_text(under(root, "/proc/cpuinfo"))
    if text is None:
        reasons["cpuinfo"] = "/proc/cpuinfo not readable"
    processors, _machine = parse_cpuinfo(text or "")
    cpu_dir = under(root, "/sys/devices/system/cpu")
    cpu_ids = _cpu_ids(processors, cpu_dir)
    flags = _common_flags(processors)
    core_keys = _core_keys(processors, cpu_dir, cpu_ids)
    clusters = _clusters(processors, cpu_dir, cpu_ids, core_keys)
    freqs = _frequencies(cpu_dir, cpu_ids, reasons)
    info = CpuInfo(
        vendor=_vendor(processors),
        model=_model(processors, clusters),
        arch=_arch(processors, flags, root),
        sockets=_sockets(processors, cpu_dir, cpu_ids),
        physical_cores=len(set(core_keys.values())) or None,
        logical_cpus=len(cpu_ids) or None,
        clusters=clusters,
        freq_min_hz=freqs["min"],
        freq_max_hz=freqs["max"],
        freq_cur_hz=freqs["cur"],
        freq_reported_hz=_reported_freq(processors),
        governor=_governor(cpu_dir, cpu_ids, reasons),
        isa_features=inference_features(flags),
        flags=flags,
        caches=_caches(cpu_dir, cpu_ids) if with_caches else (),
        x86_family=_int_or_none(processors[0].get("cpu family")) if processors else None,
        reasons=reasons,
    )
    _explain_missing(info, reasons)
    return info


def environment_facts(root: Path = Path("/")) -> dict[str, object]:
    """JSON-ready CPU facts for every benchmark record: fast (< 50 ms), no subprocess.

    Each ``None`` value comes with a ``<key>_reason`` string saying why it is missing.
    """
    from edgebench.platform.sensors import max_thermal_zone_c

    cpu = detect_cpu(root, with_caches=False)
    temperature, temperature_reason = max_thermal_zone_c(root)
    facts: dict[str, object] = {
        "cpu_model": cpu.model,
        "cpu_vendor": cpu.vendor,
        "arch": cpu.arch,
        "physical_cores": cpu.physical_cores,
        "logical_cpus": cpu.logical_cpus,
        "isa_features": list(cpu.isa_features),
        "governor": cpu.governor,
        "freq_cur_hz": cpu.freq_cur_hz,
        "freq_min_hz": cpu.freq_min_hz,
        "freq_max_hz": cpu.freq_max_hz,
        "temperature_c": temperature,
    }
    reasons = {**cpu.reasons, "temperature_c": temperature_reason or ""}
    reasons.update(cpu_model=cpu.reasons.get("model", ""), cpu_vendor=cpu.reasons.get("vendor", ""))
    for key, value in list(facts.items()):
        if value is None:
            facts[f"{key}_reason"] = reasons.get(key) or "not exposed by the kernel"
    return facts


def _cpu_ids(processors: list[dict[str, str]], cpu_dir: Path) -> tuple[int, ...]:
    """Online CPUs: /proc/cpuinfo lists exactly those; fall back to sysfs when it is missing."""
    if processors:
        return tuple(int(p["processor"]) for p in processors)
    online = parse_cpu_list(read_text(cpu_dir / "online"))
    if online:
        return online
    return tuple(int(path.name[3:]) for path in sorted_glob(cpu_dir, "cpu[0-9]*") if path.name[3:].isdigit())


def _common_flags(processors: list[dict[str, str]]) -> tuple[str, ...]:
    """Flags every core has: on heterogeneous parts a kernel can only be used if all cores run it."""
    lists = [(p.get("flags") or p.get("Features") or "").split() for p in processors]
    if not lists:
        return ()
    common = set(lists[0]).intersection(*lists[1:])
    return tuple(flag for flag in lists[0] if flag in common)


def _vendor(processors: list[dict[str, str]]) -> str | None:
    if not processors:
        return None
    first = processors[0]
    if "vendor_id" in first:
        return _X86_VENDORS.get(first["vendor_id"], first["vendor_id"])
    implementer = first.get("CPU implementer", "").lower()
    return _ARM_IMPLEMENTERS.get(implementer, f"implementer {implementer}" if implementer else None)


def _model(processors: list[dict[str, str]], clusters: tuple[CpuCluster, ...]) -> str | None:
    if processors and "vendor_id" in processors[0]:
        return processors[0].get("model name")
    names = [c.core_name for c in clusters if c.core_name]
    if names:
        return " + ".join(dict.fromkeys(names))
    if processors:
        return processors[0].get("model name") or processors[0].get("Processor")
    return None


def _arch(processors: list[dict[str, str]], flags: tuple[str, ...], root: Path) -> str | None:
    if processors:
        first = processors[0]
        if "vendor_id" in first:
            return "x86_64" if "lm" in flags else "i686"
        arm_arch = first.get("CPU architecture", "")
        if arm_arch == "8" and "asimd" in flags:
            return "aarch64"
        if arm_arch:
            return f"armv{arm_arch}l" if arm_arch.isdigit() else arm_arch
        if first.get("isa", "").startswith("rv64"):
            return "riscv64"
    # Only the real machine may answer for itself; a fake root must not leak the host's arch.
    if root == Path("/"):
        return _pyplatform.machine() or None
    return None


def _core_keys(processors: list[dict[str, str]], cpu_dir: Path, cpu_ids: tuple[int, ...]) -> dict[int, object]:
    """Which physical core each logical CPU belongs to.

    SMT sibling sets, not core_id: on Arm device-tree systems core_id restarts in every cluster.
    """
    by_id = {int(p["processor"]): p for p in processors}
    keys: dict[int, object] = {}
    for cpu in cpu_ids:
        topology = cpu_dir / f"cpu{cpu}" / "topology"
        siblings = read_text(topology / "core_cpus_list") or read_text(topology / "thread_siblings_list")
        proc = by_id.get(cpu, {})
        if siblings:
            keys[cpu] = parse_cpu_list(siblings)
        elif "core id" in proc:
            keys[cpu] = (proc.get("physical id"), proc["core id"])
        else:
            keys[cpu] = cpu
    return keys


def _sockets(processors: list[dict[str, str]], cpu_dir: Path, cpu_ids: tuple[int, ...]) -> int | None:
    packages = {read_int(cpu_dir / f"cpu{c}" / "topology" / "physical_package_id") for c in cpu_ids}
    packages.discard(None)
    if packages:
        return len(packages)
    ids = {p["physical id"] for p in processors if "physical id" in p}
    if ids:
        return len(ids)
    return 1 if cpu_ids else None


def _clusters(
    processors: list[dict[str, str]], cpu_dir: Path, cpu_ids: tuple[int, ...], core_keys: dict[int, object]
) -> tuple[CpuCluster, ...]:
    by_id = {int(p["processor"]): p for p in processors}
    groups: dict[tuple[str | None, str | None, int | None], list[int]] = {}
    mins: dict[tuple[str | None, str | None, int | None], int | None] = {}
    for cpu in cpu_ids:
        proc = by_id.get(cpu, {})
        implementer = proc.get("CPU implementer", "").lower() or None
        part = proc.get("CPU part", "").lower() or None
        freq = cpu_dir / f"cpu{cpu}" / "cpufreq"
        max_hz = _khz_to_hz(read_int(freq / "cpuinfo_max_freq"))
        key = (implementer, part, max_hz)
        groups.setdefault(key, []).append(cpu)
        mins.setdefault(key, _khz_to_hz(read_int(freq / "cpuinfo_min_freq")))
    return tuple(
        CpuCluster(
            cpus=tuple(cpus),
            cores=len({core_keys[cpu] for cpu in cpus}),
            core_name=_core_name(implementer, part, by_id.get(cpus[0], {})),
            implementer=implementer,
            part=part,
            freq_min_hz=mins[(implementer, part, max_hz)],
            freq_max_hz=max_hz,
        )
        for (implementer, part, max_hz), cpus in groups.items()
    )


def _core_name(implementer: str | None, part: str | None, proc: Mapping[str, str]) -> str | None:
    if implementer == "0x41" and part in _ARM_PARTS:
        return _ARM_PARTS[part]
    if part:
        vendor = _ARM_IMPLEMENTERS.get(implementer or "", implementer or "?")
        return f"{vendor} part {part}"
    return proc.get("model name")


def _frequencies(cpu_dir: Path, cpu_ids: tuple[int, ...], reasons: dict[str, str]) -> dict[str, int | None]:
    values: dict[str, list[int]] = {"min": [], "max": [], "cur": []}
    files = {"min": "cpuinfo_min_freq", "max": "cpuinfo_max_freq", "cur": "scaling_cur_freq"}
    any_cpufreq = False
    for cpu in cpu_ids:
        freq_dir = cpu_dir / f"cpu{cpu}" / "cpufreq"
        any_cpufreq = any_cpufreq or freq_dir.is_dir()
        for key, name in files.items():
            khz = read_int(freq_dir / name)
            if khz is not None:
                values[key].append(khz)
    result: dict[str, int | None] = {
        "min": _khz_to_hz(min(values["min"], default=None)),
        "max": _khz_to_hz(max(values["max"], default=None)),
        # The highest request across cores: the kernel's view, not firmware throttling.
        "cur": _khz_to_hz(max(values["cur"], default=None)),
    }
    for key, value in result.items():
        if value is None:
            reasons[f"freq_{key}_hz"] = f"cpufreq present but {files[key]} unreadable" if any_cpufreq else NO_CPUFREQ
    return result


def _governor(cpu_dir: Path, cpu_ids: tuple[int, ...], reasons: dict[str, str]) -> str | None:
    governors: list[str] = []
    for cpu in cpu_ids:
        text = read_text(cpu_dir / f"cpu{cpu}" / "cpufreq" / "scaling_governor")
        if text and text not in governors:
            governors.append(text)
    if not governors:
        has_cpufreq = any((cpu_dir / f"cpu{c}" / "cpufreq").is_dir() for c in cpu_ids)
        reasons["governor"] = "cpufreq present but scaling_governor unreadable" if has_cpufreq else NO_CPUFREQ
        return None
    return ",".join(governors)


def _reported_freq(processors: list[dict[str, str]]) -> int | None:
    if not processors:
        return None
    try:
        return round(float(processors[0]["cpu MHz"]) * 1e6)
    except (KeyError, ValueError):
        return None


def _caches(cpu_dir: Path, cpu_ids: tuple[int, ...]) -> tuple[CacheInfo, ...]:
    """One entry per (level, type); ``instances`` counts distinct sharing sets (L2 per core, L3 per die...)."""
    seen: dict[tuple[int, str], dict[tuple[int, ...], int]] = {}
    for cpu in cpu_ids:
        for index in sorted_glob(cpu_dir / f"cpu{cpu}" / "cache", "index[0-9]*"):
            level = read_int(index / "level")
            size = _parse_size(read_text(index / "size"))
            if level is None or size is None:
                continue
            kind = read_text(index / "type") or "Unknown"
            shared = parse_cpu_list(read_text(index / "shared_cpu_list")) or (cpu,)
            seen.setdefault((level, kind), {})[shared] = size
    caches = [
        CacheInfo(
            level=level,
            type=kind,
            size_bytes=next(iter(sets.values())),
            instances=len(sets),
            shared_by_cpus=len(next(iter(sets))),
        )
        for (level, kind), sets in seen.items()
    ]
    return tuple(sorted(caches, key=lambda c: (c.level, c.type)))


def _parse_size(text: str | None) -> int | None:
    if not text:
        return None
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    try:
        if text[-1].upper() in units:
            return int(text[:-1]) * units[text[-1].upper()]
        return int(text)
    except ValueError:
        return None


def _explain_missing(info: CpuInfo, reasons: dict[str, str]) -> None:
    missing_cpuinfo = reasons.get("cpuinfo", "not listed in /proc/cpuinfo")
    for name in ("vendor", "model", "arch", "sockets", "physical_cores", "logical_cpus"):
        if getattr(info, name) is None:
            reasons.setdefault(name, missing_cpuinfo)
    if info.freq_reported_hz is None:
        reasons.setdefault("freq_reported_hz", "no 'cpu MHz' in /proc/cpuinfo (not x86)")


def _khz_to_hz(khz: int | None) -> int | None:
    return None if khz is None else khz * 1000


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
