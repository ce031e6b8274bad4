"""LoadGen MultiStream: queries of ``samples_per_query`` samples (8, as MLPerf), the next issued when
the previous query has fully answered; the headline is the p99 latency of whole queries. The samples
of one query run ``workers`` at a time on one session."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from edgebench.protocols import ScenarioContext, ScenarioOutcome
from edgebench.scenarios.loadgen import LoadGenOptions, Plan, run_loadgen


class Options(LoadGenOptions):
    samples_per_query: int = Field(8, ge=1, le=65_536, description="samples per query (MLPerf: 8)")
    workers: int = Field(1, ge=1, le=256, description="inferences in flight on the one session")
    expected_latency_s: float | None = Field(
        None, gt=0, le=3600, allow_inf_nan=False, description="expected query latency (default: from warm-up)"
    )
    target_percentile: float = Field(0.99, gt=0, lt=1, description="latency percentile LoadGen reports")


class LoadGenMultiStream:
    name = "multi_stream"
    Options = Options

    def run(self, ctx: ScenarioContext) -> ScenarioOutcome:
        opts: Options = ctx.options

        def configure(settings: Any, warmup_median_ns: int) -> None:
            per_query = warmup_median_ns * -(-opts.samples_per_query // opts.workers)
            expected = opts.expected_latency_s
            settings.multi_stream_samples_per_query = opts.samples_per_query
            settings.multi_stream_expected_latency_ns = round(expected * 1e9) if expected else per_query
            settings.multi_stream_target_latency_percentile = opts.target_percentile

        plan = Plan("MultiStream", configure, workers=opts.workers, samples_per_query=opts.samples_per_query)
        return run_loadgen(ctx, plan)
