"""Validity checks on a measurement, in the spirit of pyperf's and hyperfine's warnings.

Each check is one small function returning a :class:`ValidityWarning` (stable ``code``, a message with
the numbers, a ``hint`` saying what to do next) or ``None``. :func:`check_validity` runs them all in a
fixed order. Thresholds are module constants with their source; docs/statistics.md lists them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgebench.engine.stats import (
    DEPENDENT_CI_MIN_SAMPLES,
    MODIFIED_Z_THRESHOLD,
    LatencyStats,
    Modes,
    TwoLevelCI,
    median_ci_dependent,
    min_samples_for_percentile,
    modified_z_scores,
)
from edgebench.records import RunRecord, ValidityWarning

# pyperf: "the standard deviation is N% of the mean" from 10%.
HIGH_CV = 0.10
# pyperf: "the minimum/maximum is N% smaller/greater than the mean" from 50%.
MIN_MAX_FAR_FROM_MEAN = 0.50
# hyperfine: the first run is an outlier when its modified z-score exceeds 10 robust SDs.
FIRST_SAMPLE_Z = MODIFIED_Z_THRESHOLD
# A timer tick must be ≤ 0.1% of the median so that quantization cannot move it by more than 0.1%.
TIMER_RESOLUTION_FACTOR = 1000.0
# edgebench: 1-min load average above half the logical CPUs means other programs compete for cores,
# memory bandwidth and thermal headroom (pyperf only records the load average; this is our threshold).
HIGH_LOAD_PER_CPU = 0.5
# hyperfine flags "statistical outliers" on any; we warn when they exceed 5% of the samples.
OUTLIER_FRACTION = 0.05
# Memory growth during steady state: > 10% of peak RSS and > 8 MiB (below that, allocator noise).
RSS_GROWTH_FRACTION = 0.10
RSS_GROWTH_MIN_BYTES = 8 * 1024 * 1024
# androidx microbenchmark: > 10% slower than the baseline means thermal throttling.
TREND_SLOWDOWN = 0.10
TREND_MIN_SAMPLES = 30  # medians of thirds of fewer samples are too noisy to tell drift from noise
# Warm-up still settling: last third of warm-up > 10% slower than steady state (same 10% as androidx).
WARMUP_SLOWDOWN = 0.10
WARMUP_MIN_SAMPLES = 3
# Time inside the measured window but outside the timed calls (loop, clock reads, collectors): above 1%
# of the window, throughput computed over the window no longer describes the calls.
WINDOW_OVERHEAD_FRACTION = 0.01
# Target used for the processes-needed figure when the run has no --target-ci (±1%, the default).
DEFAULT_TARGET_CI = 0.01

STOP_MAX_TIME = "max_time"


def _fmt_s(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _median_s(latencies_ns: Sequence[int]) -> float:
    return float(np.median(np.asarray(latencies_ns, dtype=np.float64))) / 1e9


def check_high_cv(stats: LatencyStats) -> ValidityWarning | None:
    if stats.cv < HIGH_CV:
        return None
    return ValidityWarning(
        code="high_cv",
        message=(
            f"the standard deviation ({_fmt_s(stats.std)}) is {stats.cv:.0%} of the mean "
            f"({_fmt_s(stats.mean)}); the result may be unstable"
        ),
        hint="close other programs, pin the CPU frequency, or raise --min-time to average more samples",
    )


def check_min_max_far(stats: LatencyStats) -> ValidityWarning | None:
    if stats.mean <= 0.0:
        return None
    below = (stats.mean - stats.min) / stats.mean
    above = (stats.max - stats.mean) / stats.mean
    parts = []
    if below >= MIN_MAX_FAR_FROM_MEAN:
        parts.append(f"the minimum ({_fmt_s(stats.min)}) is {below:.0%} smaller than the mean")
    if above >= MIN_MAX_FAR_FROM_MEAN:
        parts.append(f"the maximum ({_fmt_s(stats.max)}) is {above:.0%} greater than the mean")
    if not parts:
        return None
    return ValidityWarning(
        code="min_max_far",
        message="; ".join(parts) + f" ({_fmt_s(stats.mean)})",
        hint="look for interference (other programs, frequency scaling); trust the median over the mean",
    )


def check_first_sample_outlier(latencies_ns: Sequence[int]) -> ValidityWarning | None:
    if len(latencies_ns) < 2:
        return None
    z = float(modified_z_scores(latencies_ns)[0])
    if z <= FIRST_SAMPLE_Z:
        return None
    return ValidityWarning(
        code="first_sample_outlier",
        message=(
            f"the first steady-state sample ({_fmt_s(latencies_ns[0] / 1e9)}) is {z:.0f} robust SDs slower "
            f"than the median ({_fmt_s(_median_s(latencies_ns))}): caches or a cold start leaked into "
            "the measurement"
        ),
        hint="increase --warmup-time so that warm-up absorbs the cold start",
    )


def check_too_few_samples(n: int, p: float, code: str, label: str) -> ValidityWarning | None:
    needed = min_samples_for_percentile(p)
    if n >= needed:
        return None
    return ValidityWarning(
        code=code,
        message=(
            f"only {n} samples: the {label} shown is not statistically valid "
            f"(MLPerf early stopping needs >= {needed} samples at 99% confidence)"
        ),
        hint=f"raise --min-iters to at least {needed} or raise --min-time",
    )


def _longer_calls(can_batch: bool) -> str:
    # "raise --batch" is advice only for models with a batch dimension to raise
    return (
        "raise --batch so that one timed call lasts longer"
        if can_batch
        else ("this model has fixed input shapes: export it with a dynamic batch to time longer calls")
    )


def check_timer_resolution(
    stats: LatencyStats, timer_resolution_s: float, can_batch: bool = True
) -> ValidityWarning | None:
    """``timer_resolution_s`` is the clock's measured step (engine.timer.clock_step_ns), not a read's cost."""
    if timer_resolution_s <= 0.0 or stats.median >= TIMER_RESOLUTION_FACTOR * timer_resolution_s:
        return None
    return ValidityWarning(
        code="timer_resolution",
        message=(
            f"the median latency ({_fmt_s(stats.median)}) is under {TIMER_RESOLUTION_FACTOR:.0f}x the clock "
            f"step ({_fmt_s(timer_resolution_s)}): results are quantized"
        ),
        hint=f"{_longer_calls(can_batch)}, or use a finer clock",
    )


def check_high_load(load_avg: tuple[float, float, float] | None, logical_cpus: int) -> ValidityWarning | None:
    if load_avg is None or logical_cpus <= 0:
        return None
    limit = HIGH_LOAD_PER_CPU * logical_cpus
    if load_avg[0] <= limit:
        return None
    return ValidityWarning(
        code="high_load",
        message=(
            f"the 1-minute load average at start was {load_avg[0]:.2f} on {logical_cpus} logical CPUs "
            f"(threshold {limit:.2f}): other programs competed for the machine"
        ),
        hint="close other programs (or wait for background jobs to finish) and rerun",
    )


def check_oversubscribed(threads: int | None, logical_cpus: int) -> ValidityWarning | None:
    if threads is None or logical_cpus <= 0 or threads <= logical_cpus:
        return None
    return ValidityWarning(
        code="oversubscribed",
        message=(
            f"{threads} threads on {logical_cpus} logical CPUs: threads wait for each other and the "
            "latency measures the scheduler as much as the model"
        ),
        hint=f"lower --threads to at most {logical_cpus} (often the number of physical cores is fastest)",
    )


def check_not_converged(
    latencies_ns: Sequence[int], stop_reason: str, target_ci: float, clock_step_ns: float = 0.0
) -> ValidityWarning | None:
    """Judged by the engine's stop rule: the dependent CI (stats.ci_converged_dependent)."""
    if stop_reason != STOP_MAX_TIME or target_ci <= 0.0 or not latencies_ns:
        return None
    ci = median_ci_dependent(latencies_ns)
    if ci.converged(target_ci, clock_step_ns):
        return None
    if ci.n < DEPENDENT_CI_MIN_SAMPLES:
        state = f"only {ci.n} samples, too few (< {DEPENDENT_CI_MIN_SAMPLES}) for an autocorrelation-aware CI"
    elif not ci.defined:
        state = f"only {ci.n_eff:.0f} effective samples of {ci.n} (strong autocorrelation): no 95% CI"
    elif ci.degenerate:
        state = (
            f"the median's 95% CI [{_fmt_s(ci.lo / 1e9)}, {_fmt_s(ci.hi / 1e9)}] is degenerate: "
            "the median value repeats so often (clock step or workload) that its width says nothing"
        )
    else:
        half = ci.relative_halfwidth(clock_step_ns)
        state = f"the median's 95% CI at ±{half:.2%} ({ci.n_eff:.0f} effective samples of {ci.n})"
    return ValidityWarning(
        code="not_converged",
        message=f"stopped at --max-time with {state}, target ±{target_ci:.2%}",
        hint="raise --max-time, reduce interference, or accept the wider interval (--target-ci)",
    )


def check_between_process_variation(two_level: TwoLevelCI | None, target_ci: float) -> ValidityWarning | None:
    """``two_level`` from stats.two_level_median_ci on the processes' nanosecond latencies."""
    if two_level is None or not two_level.between_dominates or two_level.between_cv is None:
        return None
    target = target_ci if target_ci > 0.0 else DEFAULT_TARGET_CI
    needed = two_level.processes_needed(target)
    lo, hi = min(two_level.process_medians), max(two_level.process_medians)
    ratio = two_level.between_sd / two_level.within_se if two_level.within_se > 0.0 else float("inf")
    return ValidityWarning(
        code="between_process_variation",
        message=(
            f"the medians of {two_level.n_processes} fresh processes spread from {_fmt_s(lo / 1e9)} to "
            f"{_fmt_s(hi / 1e9)} (CV {two_level.between_cv:.2%}), {ratio:.1f}x what noise within a process "
            f"explains; the two-level 95% CI is ±{two_level.relative_halfwidth():.2%}"
        ),
        hint=(
            f"run more fresh processes (--processes {needed} for ±{target:.1%}), fix the CPU "
            "frequency (governor 'performance', turbo off), or use a quieter machine"
        ),
    )


def check_bimodal(modes: Modes | None) -> ValidityWarning | None:
    """``modes`` in seconds, as ``LatencyStats.modes``."""
    if modes is None:
        return None
    low, high = modes.low, modes.high
    return ValidityWarning(
        code="bimodal",
        message=(
            f"two modes: {_fmt_s(low.location)} ({low.weight:.0%}) and {_fmt_s(high.location)} "
            f"({high.weight:.0%}); the median describes neither alone"
        ),
        hint=(
            "the model alternates between two states (big/little cores, CPU frequency, a periodic background "
            "task): pin the benchmark to one core type (taskset) or fix the frequency, and compare each mode"
        ),
    )


def check_window_overhead(
    latencies_ns: Sequence[int], window_s: float | None, window_overhead_s: float | None, can_batch: bool = True
) -> ValidityWarning | None:
    """Time inside the measured window spent outside the timed calls; computed from the samples if not given."""
    if window_s is None or window_s <= 0.0:
        return None
    overhead = window_overhead_s if window_overhead_s is not None else window_s - sum(latencies_ns) / 1e9
    if overhead <= WINDOW_OVERHEAD_FRACTION * window_s:
        return None
    per_call = f", {_fmt_s(overhead / len(latencies_ns))} per call" if latencies_ns else ""
    return ValidityWarning(
        code="window_overhead",
        message=(
            f"{_fmt_s(overhead)} ({overhead / window_s:.1%}) of the {_fmt_s(window_s)} measured window was "
            f"spent outside the timed calls{per_call}: figures taken over the window (CPU %, energy) include it"
        ),
        hint=f"{_longer_calls(can_batch)}, or disable collectors that sample during the window",
    )


def check_outliers(stats: LatencyStats) -> ValidityWarning | None:
    if stats.n == 0 or stats.outliers / stats.n <= OUTLIER_FRACTION:
        return None
    where = "the median of their mode" if stats.modes is not None else "the median"
    return ValidityWarning(
        code="outliers",
        message=(
            f"{stats.outliers} of {stats.n} samples ({stats.outliers / stats.n:.1%}) are outliers "
            f"(more than {MODIFIED_Z_THRESHOLD:.0f} robust SDs from {where})"
        ),
        hint="interference from other programs or interrupts: close them, or pin the benchmark to idle cores",
    )


def check_rss_growth(rss_growth_bytes: int | None, peak_rss_bytes: int | None) -> ValidityWarning | None:
    # Without the peak we cannot tell a leak from allocator noise on a large process: stay silent.
    if rss_growth_bytes is None or peak_rss_bytes is None or peak_rss_bytes <= 0:
        return None
    if rss_growth_bytes <= RSS_GROWTH_MIN_BYTES or rss_growth_bytes <= RSS_GROWTH_FRACTION * peak_rss_bytes:
        return None
    mib = 1024 * 1024
    return ValidityWarning(
        code="rss_growth",
        message=(
            f"resident memory grew by {rss_growth_bytes / mib:.1f} MiB during steady state "
            f"({rss_growth_bytes / peak_rss_bytes:.0%} of the {peak_rss_bytes / mib:.1f} MiB peak)"
        ),
        hint="possible leak or growing runtime cache: rerun with a longer --max-time to see if it grows on",
    )


def check_trend(latencies_ns: Sequence[int]) -> ValidityWarning | None:
    n = len(latencies_ns)
    if n < TREND_MIN_SAMPLES:
        return None
    third = n // 3
    first = _median_s(latencies_ns[:third])
    last = _median_s(latencies_ns[n - third :])
    if first <= 0.0 or last <= first * (1.0 + TREND_SLOWDOWN):
        return None
    return ValidityWarning(
        code="trend",
        message=(
            f"latency drifted during the run: the median of the last third ({_fmt_s(last)}) is "
            f"{last / first - 1.0:.0%} slower than that of the first third ({_fmt_s(first)})"
        ),
        hint="thermal throttling or rising background load: let the device cool down, pin the CPU frequency, "
        "or raise --warmup-time",
    )


def check_warmup_not_settled(latencies_ns: Sequence[int], warmup_latencies_ns: Sequence[int]) -> ValidityWarning | None:
    w = len(warmup_latencies_ns)
    if w < WARMUP_MIN_SAMPLES or not latencies_ns:
        return None
    tail = _median_s(warmup_latencies_ns[w - max(w // 3, 1) :])
    steady = _median_s(latencies_ns)
    if steady <= 0.0 or tail <= steady * (1.0 + WARMUP_SLOWDOWN):
        return None
    return ValidityWarning(
        code="warmup_not_settled",
        message=(
            f"warm-up had not settled: its last third ran at {_fmt_s(tail)} (median), "
            f"{tail / steady - 1.0:.0%} slower than steady state ({_fmt_s(steady)})"
        ),
        hint="increase --warmup-time so that measurement starts once the latency is stable",
    )


def check_validity(
    stats: LatencyStats,
    *,
    latencies_ns: Sequence[int],
    warmup_latencies_ns: Sequence[int],
    first_inference_s: float,
    timer_resolution_s: float,
    load_avg_at_start: tuple[float, float, float] | None,
    logical_cpus: int,
    stop_reason: str,
    target_ci: float,
    rss_growth_bytes: int | None,
    peak_rss_bytes: int | None,
    modes: Modes | None = None,
    window_s: float | None = None,
    window_overhead_s: float | None = None,
    two_level: TwoLevelCI | None = None,
    threads: int | None = None,
    clock_step_ns: int | None = None,
    can_batch: bool = True,
) -> list[ValidityWarning]:
    """Run every check; ``latencies_ns`` in measurement order (trend, first-sample and CI checks need it).

    ``first_inference_s`` is accepted for the record's context but judged by no check: a slow first
    inference is expected (graph optimization, allocation) and reported, not a validity problem.
    ``modes`` (seconds) defaults to ``stats.modes``; ``two_level`` is computed on the processes'
    ``latencies_ns`` (nanoseconds); ``clock_step_ns``, when given, replaces ``timer_resolution_s``;
    ``window_overhead_s`` defaults to ``window_s`` minus the sum of the latencies; ``can_batch`` False
    (fixed input shapes) keeps hints from suggesting --batch.
    The p99 sample count is no warning: reporters show :func:`edgebench.engine.stats.tail_note` inline.
    """
    del first_inference_s
    step_s = clock_step_ns / 1e9 if clock_step_ns is not None else timer_resolution_s
    found = [
        check_high_cv(stats),
        check_min_max_far(stats),
        check_bimodal(modes if modes is not None else stats.modes),
        check_first_sample_outlier(latencies_ns),
        check_warmup_not_settled(latencies_ns, warmup_latencies_ns),
        check_too_few_samples(stats.n, 0.90, "too_few_samples_p90", "p90"),
        check_timer_resolution(stats, step_s, can_batch),
        check_high_load(load_avg_at_start, logical_cpus),
        check_oversubscribed(threads, logical_cpus),
        # with several processes the reported CI is the two-level one: whether each process's own CI
        # reached the target is not the question (between_process_variation says what dominates)
        None if two_level is not None else check_not_converged(latencies_ns, stop_reason, target_ci, step_s * 1e9),
        check_between_process_variation(two_level, target_ci),
        check_outliers(stats),
        check_rss_growth(rss_growth_bytes, peak_rss_bytes),
        check_trend(latencies_ns),
        check_window_overhead(latencies_ns, window_s, window_overhead_s, can_batch),
    ]
    return [w for w in found if w is not None]


# CPU features that give fp16 arithmetic (x86 AVX512-FP16 / AMX-FP16, Arm FEAT_FP16): without one,
# runtimes convert fp16 to fp32 around every operation
_FP16_ISA = frozenset({"avx512_fp16", "amx_fp16", "fp16"})


def check_fp16_on_cpu(record: RunRecord) -> ValidityWarning | None:
    """fp16 asked of (or fed to) a CPU without fp16 arithmetic: slower than fp32, and users expect faster."""
    inputs = record.measurements.inputs if record.measurements else ()
    fp16 = record.spec.precision == "fp16" or any(t.dtype == "float16" for t in inputs)
    isa = record.environment.cpu.get("isa_features")
    if not fp16 or not _on_cpu(record) or not isinstance(isa, list | tuple) or _FP16_ISA & set(map(str, isa)):
        return None
    return ValidityWarning(
        code="fp16_emulated",
        message="fp16 ran on a CPU without fp16 arithmetic (no AVX512-FP16/AMX-FP16/Arm FP16): the runtime "
        "converts to fp32 around each operation, so expect it slower than fp32 here",
        hint="compare with --precision fp32 (or the fp32 model); fp16 pays off on GPUs, NPUs and CPUs with fp16 units",
    )


def _on_cpu(record: RunRecord) -> bool:
    eff = record.effective
    device = str(eff.get("device") or "").lower()
    if device:
        return device.startswith("cpu")
    providers = eff.get("providers")
    if isinstance(providers, list | tuple) and providers:
        return all("cpu" in str(p).lower() for p in providers)
    return record.spec.backend in ("litert", "onnxruntime")  # their defaults are the CPU
