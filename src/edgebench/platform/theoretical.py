"""Theoretical CPU peaks: Σ over clusters of cores × frequency × operations per cycle.

This is the guide's ``TOPS = 2 × MACs × frequency`` applied per core: one FMA or MAC counts as 2 ops.
Operations per cycle depend on SIMD width and the number of FMA/dot-product pipes, which the kernel
does not expose; the tables below name that assumption for every figure, and a core whose pipe count
is not known gives no number rather than a guess.  Always labelled "theoretical", never "measured".
"""

from __future__ import annotations

from dataclasses import dataclass

from edgebench.platform.cpu import CpuCluster, CpuInfo

# 128-bit FP/ASIMD FMA pipes per Arm core (Arm Software Optimization Guides).
_ARM_FMA_PIPES: dict[str, tuple[int, str]] = {
    "Cortex-A57": (1, "two 64-bit FP pipes ≈ one 128-bit FMA per cycle (assumed)"),
    "Cortex-A72": (1, "two 64-bit FP pipes ≈ one 128-bit FMA per cycle (assumed)"),
    "Cortex-A76": (2, "2 × 128-bit FMA pipes"),
    "Cortex-A77": (2, "2 × 128-bit FMA pipes"),
    "Cortex-A78": (2, "2 × 128-bit FMA pipes"),
    "Cortex-A78AE": (2, "2 × 128-bit FMA pipes"),
    "Cortex-A78C": (2, "2 × 128-bit FMA pipes"),
    "Cortex-A710": (2, "2 × 128-bit FMA pipes"),
    "Cortex-A715": (2, "2 × 128-bit FMA pipes"),
    "Cortex-A720": (2, "2 × 128-bit FMA pipes"),
    "Cortex-X1": (4, "4 × 128-bit FMA pipes"),
    "Cortex-X2": (4, "4 × 128-bit FMA pipes"),
    "Cortex-X3": (4, "4 × 128-bit FMA pipes"),
    "Cortex-X4": (4, "4 × 128-bit FMA pipes"),
    "Neoverse-N1": (2, "2 × 128-bit FMA pipes"),
    "Neoverse-N2": (2, "2 × 128-bit FMA pipes"),
    "Neoverse-V1": (4, "2 × 256-bit SVE = 4 × 128-bit NEON FMA pipes"),
    "Neoverse-V2": (4, "4 × 128-bit FMA pipes"),
}


@dataclass(frozen=True)
class TheoreticalPeak:
    """A derived (not measured) peak; ``ops_per_s`` is None when it cannot be derived honestly."""

    name: str  # fp32_simd | int8_dot | int8_amx
    precision: str  # fp32 | int8
    ops_per_s: float | None
    isa: str | None
    formula: str
    assumptions: tuple[str, ...]


@dataclass(frozen=True)
class _CoreRate:
    ops_per_cycle: float
    isa: str
    assumption: str


def theoretical_peaks(cpu: CpuInfo) -> tuple[TheoreticalPeak, ...]:
    """FP32 SIMD and INT8 dot-product peaks of the CPU; each entry says how it was derived."""
    names = ("fp32_simd", "int8_dot") + (("int8_amx",) if "amx_int8" in cpu.flags else ())
    return tuple(_peak(cpu, name) for name in names)


def _peak(cpu: CpuInfo, name: str) -> TheoreticalPeak:
    precision = "fp32" if name.startswith("fp32") else "int8"
    terms: list[str] = []
    assumptions: list[str] = []
    total = 0.0
    isa: str | None = None
    for cluster in cpu.clusters or ():
        rate = _core_rate(cpu, cluster, name)
        hz, freq_note = _frequency(cpu, cluster)
        label = cluster.core_name or "cores"
        if rate is None or hz is None:
            why = "operations per cycle unknown for this core" if rate is None else "frequency unknown"
            assumptions.append(f"{cluster.cores} × {label} not counted: {why}")
            continue
        total += cluster.cores * hz * rate.ops_per_cycle
        isa = rate.isa
        terms.append(f"{cluster.cores} cores × {hz / 1e9:.2f} GHz × {rate.ops_per_cycle:g} ops/cycle")
        assumptions += [a for a in (rate.assumption, freq_note) if a and a not in assumptions]
    if not terms:
        return TheoreticalPeak(name, precision, None, isa, "not derivable", tuple(assumptions or ["no CPU detected"]))
    formula = " + ".join(terms) + " (1 FMA or MAC = 2 ops)"
    return TheoreticalPeak(name, precision, total, isa, formula, tuple(assumptions))


def _frequency(cpu: CpuInfo, cluster: CpuCluster) -> tuple[float | None, str | None]:
    if cluster.freq_max_hz:
        note = "cpuinfo_max_freq; x86 all-core turbo is lower" if cpu.vendor in ("Intel", "AMD") else None
        return float(cluster.freq_max_hz), note
    if cpu.freq_reported_hz:
        return float(cpu.freq_reported_hz), "no cpufreq: frequency from /proc/cpuinfo 'cpu MHz' (turbo not known)"
    return None, None


def _core_rate(cpu: CpuInfo, cluster: CpuCluster, name: str) -> _CoreRate | None:
    flags = set(cpu.flags)
    if cpu.vendor in ("Intel", "AMD", "Hygon", "Centaur") or "sse2" in flags:
        return _x86_rate(cpu, flags, name)
    return _arm_rate(cpu, cluster, name)


def _x86_rate(cpu: CpuInfo, flags: set[str], name: str) -> _CoreRate | None:
    amd = cpu.vendor == "AMD"
    # Zen 4 (family 0x19) runs 512-bit ops on two 256-bit pipes; Zen 5 has a full 512-bit datapath.
    zen4 = amd and cpu.x86_family == 0x19
    wide_units = (
        "AMD Zen 4: 512-bit ops split over 2 × 256-bit pipes"
        if zen4
        else "assumes 2 AVX-512 FMA units (Xeon Gold/Platinum, Sapphire Rapids+, Zen 5); "
        "1-unit parts (Xeon Silver/Bronze, client Ice/Tiger Lake) reach half"
    )
    lanes512 = 16 if zen4 else 32  # FP32 FMA lanes per cycle across both units
    if name == "fp32_simd":
        if "avx512f" in flags:
            return _CoreRate(lanes512 * 2, "AVX-512", wide_units)
        if "avx2" in flags and "fma" in flags:
            return _CoreRate(32, "AVX2+FMA", "assumes 2 × 256-bit FMA units (Haswell+/Zen 2+)")
        if "avx" in flags:
            return _CoreRate(16, "AVX", "256-bit add + 256-bit multiply per cycle, no FMA")
        return _CoreRate(8, "SSE", "128-bit add + 128-bit multiply per cycle")
    if name == "int8_amx":
        return _CoreRate(2048, "AMX-INT8", "Intel figure: 1024 INT8 MACs/cycle/core on the AMX tile unit")
    if "avx512_vnni" in flags:
        return _CoreRate(lanes512 * 4 * 2, "AVX512-VNNI", wide_units + "; VPDPBUSD = 4 MACs per 32-bit lane")
    if "avx_vnni" in flags:
        return _CoreRate(128, "AVX-VNNI", "assumes 2 × 256-bit units; VPDPBUSD = 4 MACs per 32-bit lane")
    return None  # no INT8 dot-product instruction: runtimes emulate it, no honest single figure


def _arm_rate(cpu: CpuInfo, cluster: CpuCluster, name: str) -> _CoreRate | None:
    pipes_note = _ARM_FMA_PIPES.get(cluster.core_name or "")
    if pipes_note is None:
        return None
    pipes, note = pipes_note
    features = set(cpu.isa_features)
    if name == "fp32_simd":
        return _CoreRate(pipes * 4 * 2, "NEON", f"{note}; 4 FP32 lanes per 128-bit pipe")
    if "i8mm" in features:
        return _CoreRate(pipes * 32 * 2, "NEON i8mm", f"{note}; SMMLA = 32 MACs per 128-bit pipe")
    if "dotprod" in features:
        return _CoreRate(pipes * 16 * 2, "NEON dotprod", f"{note}; SDOT = 16 MACs per 128-bit pipe")
    return None
