"""CPU detection, environment facts and theoretical peaks on fake /proc and /sys trees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.platform.cpu import (
    NO_CPUFREQ,
    CacheInfo,
    detect_cpu,
    environment_facts,
    inference_features,
    parse_cpuinfo,
)
from edgebench.platform.theoretical import theoretical_peaks
from tests.fakesys import (
    X86_MODEL,
    build_big_little,
    build_jetson_orin,
    build_nothing,
    build_pi5,
    build_x86_rapl,
)


def test_pi5_cpu(tmp_path: Path) -> None:
    cpu = detect_cpu(build_pi5(tmp_path).root)
    assert (cpu.vendor, cpu.model, cpu.arch) == ("ARM", "Cortex-A76", "aarch64")
    assert (cpu.sockets, cpu.physical_cores, cpu.logical_cpus) == (1, 4, 4)
    assert (cpu.freq_min_hz, cpu.freq_max_hz, cpu.freq_cur_hz) == (1_500_000_000, 2_400_000_000, 1_500_000_000)
    assert cpu.governor == "ondemand"
    assert cpu.isa_features == ("neon", "fp16", "dotprod")
    assert len(cpu.clusters) == 1
    cluster = cpu.clusters[0]
    assert (cluster.cpus, cluster.cores, cluster.core_name, cluster.part) == ((0, 1, 2, 3), 4, "Cortex-A76", "0xd0b")
    assert cpu.caches == (
        CacheInfo(1, "Data", 64 * 1024, 4, 1),
        CacheInfo(1, "Instruction", 64 * 1024, 4, 1),
        CacheInfo(2, "Unified", 512 * 1024, 4, 1),
        CacheInfo(3, "Unified", 2048 * 1024, 1, 4),
    )
    assert cpu.freq_reported_hz is None and "freq_reported_hz" in cpu.reasons


def test_jetson_orin_counts_cores_across_clusters(tmp_path: Path) -> None:
    # core_id restarts at 0 in each of the 3 clusters: counting core_ids would give 4, not 12.
    cpu = detect_cpu(build_jetson_orin(tmp_path).root)
    assert (cpu.vendor, cpu.model, cpu.arch) == ("ARM", "Cortex-A78AE", "aarch64")
    assert (cpu.sockets, cpu.physical_cores, cpu.logical_cpus) == (1, 12, 12)
    assert [c.cores for c in cpu.clusters] == [12]  # same part, same max frequency: one group
    assert (cpu.freq_min_hz, cpu.freq_max_hz, cpu.freq_cur_hz) == (115_200_000, 2_201_600_000, 2_201_600_000)
    assert cpu.governor == "schedutil"
    assert cpu.isa_features == ("neon", "fp16", "dotprod")
    l3 = [c for c in cpu.caches if c.level == 3]
    assert l3 == [CacheInfo(3, "Unified", 2 * 1024 * 1024, 3, 4)]


def test_x86_with_smt(tmp_path: Path) -> None:
    cpu = detect_cpu(build_x86_rapl(tmp_path).root)
    assert (cpu.vendor, cpu.model, cpu.arch, cpu.x86_family) == ("Intel", X86_MODEL, "x86_64", 6)
    assert (cpu.sockets, cpu.physical_cores, cpu.logical_cpus) == (1, 6, 12)
    assert cpu.isa_features == ("avx", "fma", "f16c", "avx2")
    assert (cpu.freq_min_hz, cpu.freq_max_hz, cpu.freq_cur_hz) == (800_000_000, 4_600_000_000, 800_000_000)
    assert cpu.freq_reported_hz == 800_000_000
    assert cpu.governor == "powersave"
    assert [(c.cores, len(c.cpus), c.core_name) for c in cpu.clusters] == [(6, 12, X86_MODEL)]
    assert CacheInfo(2, "Unified", 256 * 1024, 6, 2) in cpu.caches


def test_big_little_clusters(tmp_path: Path) -> None:
    cpu = detect_cpu(build_big_little(tmp_path).root)
    assert cpu.model == "Cortex-A55 + Cortex-A76"
    assert [(c.core_name, c.cpus, c.freq_max_hz) for c in cpu.clusters] == [
        ("Cortex-A55", (0, 1, 2, 3), 1_800_000_000),
        ("Cortex-A76", (4, 5, 6, 7), 2_400_000_000),
    ]
    assert cpu.governor == "schedutil,performance"


def test_nothing_readable(tmp_path: Path) -> None:
    cpu = detect_cpu(build_nothing(tmp_path / "empty").root)
    assert cpu.model is None and cpu.arch is None and cpu.logical_cpus is None
    assert cpu.clusters == () and cpu.isa_features == ()
    assert cpu.reasons["model"] == "/proc/cpuinfo not readable"


def test_no_cpufreq_is_explained(tmp_path: Path) -> None:
    root = build_pi5(tmp_path).root
    for policy_link in (root / "sys/devices/system/cpu").glob("cpu[0-9]/cpufreq"):
        policy_link.unlink()
    cpu = detect_cpu(root)
    assert cpu.governor is None and cpu.freq_max_hz is None
    assert cpu.reasons["governor"] == NO_CPUFREQ
    assert cpu.reasons["freq_cur_hz"] == NO_CPUFREQ


def test_feature_normalisation() -> None:
    assert inference_features(["asimd", "asimddp", "i8mm", "sve", "bf16", "asimdhp"]) == (
        "neon",
        "fp16",
        "dotprod",
        "i8mm",
        "bf16",
        "sve",
    )
    assert inference_features(["half", "neon", "vfpv4"]) == ("neon",)  # 32-bit Pi OS spells it "neon"
    assert inference_features(["avx512f", "avx512_vnni", "amx_int8", "amx_tile", "sse2"]) == (
        "avx512f",
        "avx512_vnni",
        "amx_tile",
        "amx_int8",
    )


def test_parse_cpuinfo_keeps_machine_trailer() -> None:
    processors, machine = parse_cpuinfo("processor\t: 0\nFeatures\t: fp\n\nprocessor\t: 1\n\nModel\t: Pi\n")
    assert [p["processor"] for p in processors] == ["0", "1"]
    assert machine == {"Model": "Pi"}


def test_environment_facts_pi5(tmp_path: Path) -> None:
    facts = environment_facts(build_pi5(tmp_path).root)
    assert facts == {
        "cpu_model": "Cortex-A76",
        "cpu_vendor": "ARM",
        "arch": "aarch64",
        "physical_cores": 4,
        "logical_cpus": 4,
        "isa_features": ["neon", "fp16", "dotprod"],
        "governor": "ondemand",
        "freq_cur_hz": 1_500_000_000,
        "freq_min_hz": 1_500_000_000,
        "freq_max_hz": 2_400_000_000,
        "temperature_c": 51.35,
    }


def test_environment_facts_give_reasons(tmp_path: Path) -> None:
    facts = environment_facts(build_nothing(tmp_path / "empty").root)
    json.dumps(facts)
    for key in ("cpu_model", "arch", "governor", "freq_cur_hz", "temperature_c"):
        assert facts[key] is None
        assert isinstance(facts[f"{key}_reason"], str) and facts[f"{key}_reason"]
    assert facts["governor_reason"] == NO_CPUFREQ
    assert "thermal" in str(facts["temperature_c_reason"])


def test_environment_facts_spawn_nothing_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Called on every run, so it must stay cheap: no subprocess, no py-cpuinfo (timing: benchmarks/startup.py)."""
    import subprocess

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("environment_facts must not spawn processes")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    facts = environment_facts()
    assert facts["logical_cpus"]
    json.dumps(facts)


def _peaks(root: Path) -> dict[str, float | None]:
    return {p.name: p.ops_per_s for p in theoretical_peaks(detect_cpu(root))}


def test_theoretical_pi5(tmp_path: Path) -> None:
    peaks = theoretical_peaks(detect_cpu(build_pi5(tmp_path).root))
    fp32, int8 = peaks
    assert fp32.ops_per_s == pytest.approx(4 * 2.4e9 * 16)  # 2 × 128-bit FMA pipes × 4 lanes × 2
    assert int8.ops_per_s == pytest.approx(4 * 2.4e9 * 64)  # SDOT: 16 MACs per pipe, 2 pipes, × 2
    assert fp32.isa == "NEON" and int8.isa == "NEON dotprod"
    assert "2 × 128-bit FMA pipes" in fp32.assumptions[0]


def test_theoretical_orin_and_x86(tmp_path: Path) -> None:
    assert _peaks(build_jetson_orin(tmp_path / "orin").root)["fp32_simd"] == pytest.approx(12 * 2.2016e9 * 16)
    x86 = theoretical_peaks(detect_cpu(build_x86_rapl(tmp_path / "x86").root))
    assert x86[0].ops_per_s == pytest.approx(6 * 4.6e9 * 32)
    assert x86[0].isa == "AVX2+FMA"
    assert x86[1].ops_per_s is None  # no VNNI: no honest INT8 figure
    assert any("all-core turbo is lower" in a for a in x86[0].assumptions)


def test_theoretical_partial_for_unknown_core(tmp_path: Path) -> None:
    fp32 = theoretical_peaks(detect_cpu(build_big_little(tmp_path).root))[0]
    assert fp32.ops_per_s == pytest.approx(4 * 2.4e9 * 16)  # only the A76 cluster is counted
    assert "4 × Cortex-A55 not counted: operations per cycle unknown for this core" in fp32.assumptions


def test_theoretical_nothing(tmp_path: Path) -> None:
    peaks = theoretical_peaks(detect_cpu(build_nothing(tmp_path / "empty").root))
    assert all(p.ops_per_s is None and p.formula == "not derivable" for p in peaks)
