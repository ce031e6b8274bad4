"""Turn raw measurements into the record's Summary plus validity warnings."""

from __future__ import annotations

from edgebench.records import Environment, Measurements, ModelInfo, RunSpec, Summary, ValidityWarning


def effective_batch(measurements: Measurements) -> int:
    """The leading dimension of the first input (1 for scalar inputs)."""
    if measurements.inputs and measurements.inputs[0].shape:
        return int(measurements.inputs[0].shape[0])
    return 1


def build_summary(
    m: Measurements, spec: RunSpec, model: ModelInfo, env: Environment
) -> tuple[Summary, list[ValidityWarning]]:
    from edgebench.engine.stats import summarize_latencies
    from edgebench.engine.validity import check_validity

    stats = summarize_latencies(m.latencies_ns, seed=spec.seed)
    batch = effective_batch(m)
    cpu_one = 100.0 * m.cpu_time_s / m.window_wall_s if m.cpu_time_s is not None and m.window_wall_s > 0 else None
    cores = env.cpu.get("logical_cpus")
    n_cores = cores if isinstance(cores, int) and cores > 0 else 1
    summary = Summary(
        iterations=stats.n,
        latency_median_s=stats.median,
        latency_ci95_s=stats.ci95,
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
        throughput_ips=batch * stats.n / m.window_wall_s if m.window_wall_s > 0 else 0.0,
        cpu_util_pct_one_core=cpu_one,
        cpu_util_pct_all_cores=cpu_one / n_cores if cpu_one is not None else None,
        load_time_s=m.load_time_s,
        first_inference_s=m.first_inference_s,
        peak_rss_bytes=m.memory.peak_rss_bytes,
        model_size_bytes=model.size_bytes,
        batch=batch,
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
    )
    return summary, warnings
