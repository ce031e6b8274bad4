"""LoadGen SingleStream: the next query is issued when the previous one has answered; the headline
is LoadGen's p90 latency (its early-stopping estimate when enough queries ran). Unlike the tight
loop (``--scenario none``) the timing is LoadGen's, from its issue to the SUT's completion."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from edgebench.protocols import ScenarioContext, ScenarioOutcome
from edgebench.scenarios.loadgen import LoadGenOptions, Plan, run_loadgen


class Options(LoadGenOptions):
    expected_latency_s: float | None = Field(
        None, gt=0, le=3600, allow_inf_nan=False, description="LoadGen's expected latency (default: warm-up median)"
    )
    target_percentile: float = Field(0.90, gt=0, lt=1, description="latency percentile LoadGen reports")


class LoadGenSingleStream:
    name = "single_stream"
    Options = Options

    def run(self, ctx: ScenarioContext) -> ScenarioOutcome:
        opts: Options = ctx.options

        def configure(settings: Any, warmup_median_ns: int) -> None:
            expected = opts.expected_latency_s
            settings.single_stream_expected_latency_ns = round(expected * 1e9) if expected else warmup_median_ns
            settings.single_stream_target_latency_percentile = opts.target_percentile

        return run_loadgen(ctx, Plan("SingleStream", configure))
