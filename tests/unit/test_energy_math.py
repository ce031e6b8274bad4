"""Integration over windows, uncertainty, baseline, the Energy block, throttling, timeline, pooling, GOPS/W."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from edgebench.energy.build import build_energy, timeline
from edgebench.energy.combine import combine_energy, with_efficiency
from edgebench.energy.integrate import NotCovered, counter_interval, power_interval, unwrap
from edgebench.energy.render import energy_headline, energy_lines
from edgebench.energy.run import Trace
from edgebench.energy.source import Channel
from edgebench.energy.throttle import detect, throughput_drift_pct
from edgebench.records import RunSpec, Window, record_from_json, record_to_json

S = 1_000_000_000
PKG = Channel("rapl:package-0", "rapl", "package-0", "energy", "total", 15.3e-6, 1e-3, 262_143.0, primary=True)
CORE = Channel("rapl:core", "rapl", "core", "energy", "component", 15.3e-6, 1e-3, 262_143.0)
METER = Channel("external:meter", "external", "meter", "power", "total", primary=True)
T0 = 1_700_000_000 * S  # an absolute Unix time, as the window stamps it


def counter(
    watts: float, start_s: float, end_s: float, hz: float = 10.0, offset_j: float = 0.0
) -> list[tuple[int, float]]:
    n = round((end_s - start_s) * hz)
    return [(T0 + int((start_s + i / hz) * S), offset_j + watts * (start_s + i / hz)) for i in range(n + 1)]


def test_counter_interval_interpolates_to_the_window_ends() -> None:
    got = counter_interval(counter(5.0, 0, 4), PKG, T0 + int(0.55 * S), T0 + int(3.05 * S))
    assert got.energy_j == pytest.approx(5.0 * 2.5)
    assert got.mean_power_w == pytest.approx(5.0)
    # constant power: only resolution and update-interval terms remain, both tiny
    assert 0 < got.sigma_j < 1e-2


def test_counter_wraparound_is_corrected_and_unknown_range_is_counted() -> None:
    wrap = 100.0
    raw = [(t, v % wrap) for t, v in counter(30.0, 0, 6)]  # 180 J: wraps at 100 J
    data, wraps, uncorrected = unwrap(raw, wrap)
    assert (wraps, uncorrected) == (1, 0) and data[-1][1] == pytest.approx(180.0)
    got = counter_interval(raw, replace(PKG, wrap_j=wrap), T0 + S, T0 + 5 * S)
    assert got.energy_j == pytest.approx(120.0) and got.wraps == 1
    blind = counter_interval(raw, replace(PKG, wrap_j=None), T0 + S, T0 + 5 * S)
    assert blind.uncorrected_wraps == 1 and blind.energy_j < 120.0  # under-counted, and flagged


def test_interpolation_uncertainty_grows_when_power_changes_at_the_edge() -> None:
    steady = counter(5.0, 0, 4)
    step = [(t, v + (20.0 * max(0.0, (t - T0) / S - 1.0))) for t, v in steady]  # +20 W from t = 1 s
    quiet = counter_interval(steady, PKG, T0 + int(1.05 * S), T0 + int(3.05 * S))
    noisy = counter_interval(step, PKG, T0 + int(1.05 * S), T0 + int(3.05 * S))
    assert noisy.sigma_j > 10 * quiet.sigma_j


def test_power_integration_trapezoid_and_sampling_error() -> None:
    flat = [(T0 + i * S // 10, 4.0) for i in range(41)]
    got = power_interval(flat, METER, T0 + S, T0 + 3 * S)
    # a steady 4.0 W reading still has its resolution (the printed 0.1 W step): systematic, T·r/√12
    assert got.energy_j == pytest.approx(8.0) and got.sigma_j == pytest.approx(2.0 * 0.1 / math.sqrt(12))
    noisy = [(t, 4.0 + (0.5 if i % 2 else -0.5)) for i, (t, _) in enumerate(flat)]
    spread = power_interval(noisy, METER, T0 + S, T0 + 3 * S)
    assert spread.energy_j == pytest.approx(8.0, abs=0.05)
    assert spread.sigma_j == pytest.approx(2.0 * 0.5 / math.sqrt(21), rel=0.3)  # T·s/√N


def test_windows_not_covered_by_samples_are_refused() -> None:
    with pytest.raises(NotCovered):
        counter_interval(counter(5.0, 1, 2), PKG, T0, T0 + S)
    with pytest.raises(NotCovered):
        power_interval([(T0 + 5 * S, 1.0), (T0 + 6 * S, 1.0)], METER, T0, T0 + S)


def _trace(pkg_w: float = 5.0, core_w: float = 2.0, **samples: list[tuple[int, float]]) -> Trace:
    return Trace(
        [PKG, CORE, *samples.pop("extra_channels", [])],  # type: ignore[list-item]
        [("nvml", "pynvml not installed", "pip install edgebench[nvml]")],
        {"rapl:package-0": counter(pkg_w, 0, 6), "rapl:core": counter(core_w, 0, 6), **samples},
    )


def _window(a: float, b: float) -> Window:
    return Window(T0 + int(a * S), T0 + int(b * S), 0, int((b - a) * S))


def test_energy_block_gross_net_and_never_summed_domains() -> None:
    spec = RunSpec(model="m", energy="auto", idle_baseline_s=1.0)
    lat = [2_000_000] * 1000
    energy, warnings = build_energy(_trace(), spec, _window(2, 4), lat, 2, (T0 + int(0.5 * S), T0 + int(1.5 * S)))
    pkg = next(r for r in energy.readings if r.domain == "package-0")
    core = next(r for r in energy.readings if r.domain == "core")
    assert (energy.sensor, energy.domain, energy.inferences) == ("rapl", "package-0", 2000)
    assert pkg.energy_j == pytest.approx(10.0) and core.role == "component" and core.energy_j == pytest.approx(4.0)
    assert energy.gross_energy_per_inference_j == pytest.approx(10.0 / 2000)  # package alone, core not added
    # the load was flat: net of idle is ~0 and the tool says so instead of printing noise as a result
    net = energy.net_energy_per_inference_j
    assert energy.basis == "net" and net is not None and abs(net) < 1e-6
    assert "energy_net_unresolved" in [w.code for w in warnings]
    absent = next(r for r in energy.readings if r.sensor == "nvml")
    assert (absent.status, absent.energy_j, absent.fix) == ("absent", None, "pip install edgebench[nvml]")


def test_net_energy_subtracts_idle_with_its_uncertainty() -> None:
    idle = counter(3.0, 0, 2)
    busy = [(t, 6.0 + 8.0 * ((t - T0) / S - 2.0)) for t, _ in counter(0, 2, 6)[1:]]  # 8 W from t = 2 s
    trace = Trace([PKG], [], {"rapl:package-0": idle + busy})
    spec = RunSpec(model="m", energy="rapl")
    energy, warnings = build_energy(
        trace, spec, _window(3, 5), [1_000_000] * 400, 1, (T0 + int(0.2 * S), T0 + int(1.8 * S))
    )
    assert energy.baseline_power_w == pytest.approx(3.0)
    assert energy.energy_per_inference_j == pytest.approx((16.0 - 6.0) / 400)
    assert energy.energy_per_inference_uncertainty_j is not None and energy.energy_per_inference_uncertainty_j > 0
    assert not [w for w in warnings if w.code.startswith("energy_")]
    headline = energy_headline(energy)
    assert "mJ/inference (rapl package-0, net of 3.00 W idle)" in headline and " ± " in headline
    assert "mWh/1000 inferences" in headline


def test_short_window_is_flagged() -> None:
    _, warnings = build_energy(_trace(), RunSpec(model="m"), _window(2, 2.4), [1_000_000] * 100, 1, None)
    short = [w for w in warnings if w.code == "energy_window_short"]
    assert short and "--min-time" in short[0].hint


def test_no_energy_channel_is_null_with_a_reason() -> None:
    trace = Trace([Channel("thermal:thermal_zone0", "thermal_zone", "z0", "temperature")], [("rapl", "no RAPL", None)])
    energy, _ = build_energy(trace, RunSpec(model="m"), _window(0, 1), [1] * 10, 1, None)
    assert energy.energy_per_inference_j is None and energy.sensor is None
    assert energy.energy_unavailable_reason and "no RAPL" in energy.energy_unavailable_reason
    assert energy_headline(energy).startswith("energy: not measured")


def test_throttling_evidence_and_advice() -> None:
    freq = Channel("cpufreq:policy0", "cpufreq", "policy0", "frequency")
    temp = Channel("thermal:thermal_zone0", "thermal_zone", "thermal_zone0 cpu", "temperature", trip_c=80.0)
    pi = Channel("vcgencmd:throttled", "vcgencmd", "throttled", "throttle")
    nv = Channel("nvml:gpu0:reasons", "nvml", "gpu0", "throttle")
    ts = [T0 + i * S // 10 for i in range(31)]
    samples = {
        freq.key: [(t, 2.4e9 if i < 15 else 1.8e9) for i, t in enumerate(ts)],
        temp.key: [(t, 70.0 + i * 0.5) for i, t in enumerate(ts)],
        pi.key: [(ts[0], 0.0), (ts[10], 4.0), (ts[-1], 0x20000 | 0x40000)],
        nv.key: [(t, 0x20 if i == 20 else 0x1) for i, t in enumerate(ts)],
    }
    lat = [1_000_000] * 100 + [1_300_000] * 100
    info = detect([freq, temp, pi, nv], samples, ts[0], ts[-1], lat)
    text = " | ".join(info.reasons)
    assert info.frequency_drop_pct == pytest.approx(25.0)
    assert "clock fell 25%" in text and "reached 85.0 °C (trip point 80.0 °C)" in text
    assert "throttled now" in text and "throttling occurred" in text
    assert "sw_thermal_slowdown" in text and info.nvml_reasons == ("gpu_idle", "sw_thermal_slowdown")
    assert "throughput fell 23%" in text
    assert info.advice and "governor" in info.advice and "--cooldown" in info.advice
    calm = detect([freq], {freq.key: [(t, 2.4e9) for t in ts]}, ts[0], ts[-1], [1_000_000] * 200)
    assert calm.reasons == () and calm.frequency_drop_pct == 0.0


def test_throughput_drift_needs_enough_samples() -> None:
    assert throughput_drift_pct([1, 2, 3]) is None
    assert throughput_drift_pct([100] * 90 + [200] * 90) == pytest.approx(-50.0)


def test_soak_timeline_buckets_per_minute() -> None:
    temp = Channel("thermal:thermal_zone0", "thermal_zone", "z0", "temperature")
    minutes = 4
    span = minutes * 60
    pkg = counter(5.0, 0, span, hz=1.0)
    temps = [(t, 50.0 + (t - T0) / S / 60) for t, _ in pkg]
    trace = Trace([PKG, temp], [], {PKG.key: pkg, temp.key: temps})
    # throughput falls from 100/s to 50/s halfway through
    lat = [10_000_000] * 12_000 + [20_000_000] * 6_000
    primary = build_energy(trace, RunSpec(model="m"), _window(0, span), lat, 1, None)[0].readings[0]
    points = timeline(trace, T0, T0 + span * S, lat, 1, primary)
    assert [p.start_s for p in points] == [0, 60, 120, 180]
    assert [round(p.throughput_ips or 0) for p in points] == [100, 100, 50, 50]
    assert points[0].power_w == pytest.approx(5.0) and points[3].temperature_c == pytest.approx(53.5, abs=0.1)


def test_combine_processes_and_gops_per_watt() -> None:
    spec = RunSpec(model="m", energy="rapl")
    lat = [1_000_000] * 500
    a, _ = build_energy(_trace(pkg_w=4.0), spec, _window(1, 3), lat, 1, None)
    b, _ = build_energy(_trace(pkg_w=6.0), spec, _window(1, 3), lat, 1, None)
    both = combine_energy([a, b])
    assert both is not None and both.inferences == 1000
    assert both.energy_per_inference_j == pytest.approx((8.0 + 12.0) / 1000)
    pkg_a = a.readings[0].energy_uncertainty_j or 0
    pkg_b = b.readings[0].energy_uncertainty_j or 0
    assert both.readings[0].energy_uncertainty_j == pytest.approx(math.hypot(pkg_a, pkg_b))
    assert combine_energy([a, None]) is a and combine_energy([]) is None


def test_efficiency_from_macs_and_record_roundtrip() -> None:
    from edgebench._frozen import FrozenMap
    from edgebench.engine.environment import capture
    from edgebench.records import RunRecord

    energy, _ = build_energy(_trace(), RunSpec(model="m"), _window(1, 3), [1_000_000] * 1000, 1, None)
    summary = SummaryStub(batch=2)
    record = RunRecord(spec=RunSpec(model="m"), environment=capture(), status="ok", energy=energy)
    record = replace(record, analysis=FrozenMap({"macs": 400_000_000}), summary=summary)  # type: ignore[arg-type]
    done = with_efficiency(record)
    assert done.energy is not None
    assert done.energy.ops_per_inference == 400_000_000.0  # 2 ops/MAC × MACs per call ÷ batch 2
    # 10 J over 1000 inferences = 10 mJ each: 0.4 GOP / 0.01 J = 40 GOPS/W
    assert done.energy.efficiency_gops_per_w == pytest.approx(40.0)
    assert "GOPS/W (2 ops/MAC)" in energy_lines(done)[0]
    plain = replace(done, summary=None)
    back = record_from_json(record_to_json(plain))
    assert back.energy == plain.energy


class SummaryStub:
    def __init__(self, batch: int) -> None:
        self.batch = batch


def test_printed_step_is_the_meters_last_digit() -> None:
    from edgebench.energy.integrate import printed_step

    assert printed_step([5.0, 5.0]) == pytest.approx(0.1)
    assert printed_step([2.521, 2.5]) == pytest.approx(0.1)  # the coarsest reading decides (conservative)
    assert printed_step([2.521, 2.522]) == pytest.approx(0.001)
    assert printed_step([1e-05]) == 0.0  # nothing printed to read a step from
