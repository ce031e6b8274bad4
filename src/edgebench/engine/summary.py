"""Turn raw measurements into the record's Summary plus validity warnings."""

from __future__ import annotations

from collections.abc import Sequence

from edgebench.records import Environment, Measurements, Mode, ModelInfo, RunSpec, Summary, ValidityWarning


def build_summary(
    m: Measurements,
    spec: RunSpec,
    model: ModelInfo,
    env: Environment,
    *,
    batch: int,
    batch_source: str,
    process_slices: Sequence[tuple[int, int]] | None = None,
    load_time_s: float | None = None,
    first_inference_s: float | None = None,
) -> tuple[Summary, list[ValidityWarning]]:
    """Statistics over all samples; with several processes the CI is the two-level one."""
    from edgebench.engine.stats import summarize_latencies, two_level_median_ci
    from edgebench.engine.validity import check_validity

    stats = summarize_latencies(m.latencies_ns, seed=spec.seed)
    ci, ci_method, n_eff, between_cv = stats.ci95, stats.ci_method, stats.n_eff, None
    two_level = None
    if process_slices and len(process_slices) > 1:
        parts = [m.latencies_ns[start : start + count] for start, count in process_slices]
        two_level = two_level_median_ci(parts)
        ci = (two_level.lo / 1e9, two_level.hi / 1e9)  # it keeps the samples' unit (ns)
        ci_method, between_cv = two_level.method, two_level.between_cv
    # the rate's denominator: busy time for back-to-back calls, the window when calls overlap or wait
    busy_s = m.window_wall_s if m.throughput_basis == "window" else sum(m.latencies_ns) / 1e9
    cpu_one = 100.0 * m.cpu_time_s / m.window_wall_s if m.cpu_time_s is not None and m.window_wall_s > 0 else None
    n_cores = _logical_cpus(env)
    summary = Summary(
        iterations=stats.n,
        latency_median_s=stats.median,
        latency_ci95_s=ci,
        latency_mean_s=stats.mean,
        latency_std_s=stats.std,
        latency_cv=stats.cv,
        latency_min_s=stats.min,
        latency_max_s=stats.max,
        latency_p90_s=stats.p90,
        latency_p95_s=stats.p95,
        latency_p99_s=stats.p99,
        latency_p999_s=stats.p999,
        latency_mad_s=stats.mad,
        outliers=stats.outliers,
        mlperf_p90_s=stats.mlperf_p90,
        mlperf_p99_s=stats.mlperf_p99,
        mlperf_p90_t=stats.mlperf_p90_t,
        mlperf_p99_t=stats.mlperf_p99_t,
        # the runtime's own rate: harness time between calls is reported as window overhead instead
        throughput_ips=batch * stats.n / busy_s if busy_s > 0 else 0.0,
        cpu_util_pct_one_core=cpu_one,
        cpu_util_pct_all_cores=cpu_one / n_cores if cpu_one is not None else None,
        load_time_s=m.load_time_s if load_time_s is None else load_time_s,
        first_inference_s=m.first_inference_s if first_inference_s is None else first_inference_s,
        peak_rss_bytes=m.memory.peak_rss_bytes,
        model_size_bytes=model.size_bytes,
        batch=batch,
        ci_method=ci_method,
        batch_source=batch_source,
        calls_per_s=stats.n / busy_s if busy_s > 0 else None,
        latency_per_sample_median_s=stats.median / batch if batch > 0 else None,
        n_eff=n_eff,
        processes=len(process_slices) if process_slices else 1,
        between_process_cv=between_cv,
        modes=(
            Mode(stats.modes.low.location, stats.modes.low.weight),
            Mode(stats.modes.high.location, stats.modes.high.weight),
        )
        if stats.modes
        else (),
    )
    warnings = check_validity(
        stats,
        latencies_ns=m.latencies_ns,
        warmup_latencies_ns=m.warmup_latencies_ns,
        first_inference_s=m.first_inference_s,
        timer_resolution_s=m.timer_resolution_s,
        load_avg_at_start=env.load_avg,
        logical_cpus=n_cores,
        stop_reason=m.stop_reason,
        target_ci=spec.target_ci,
        rss_growth_bytes=m.memory.rss_growth_bytes,
        peak_rss_bytes=m.memory.peak_rss_bytes,
        modes=stats.modes,
        window_overhead_s=m.window_overhead_s,
        window_s=None if m.throughput_basis == "window" else m.window_wall_s,
        two_level=two_level,
        threads=spec.threads,
        can_batch=not batch_source.startswith("fixed"),
    )
    return summary, warnings


def _logical_cpus(env: Environment) -> int:
    cores = env.cpu.get("logical_cpus")
    return cores if isinstance(cores, int) and cores > 0 else 1
