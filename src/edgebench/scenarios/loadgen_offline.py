"""LoadGen Offline: every sample issued at once; the headline is samples per second. Samples run
``workers`` at a time on one session; the record's latency samples are each inference's own time
(LoadGen's offline "latency" is the time since the single query started)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from edgebench.protocols import ScenarioContext, ScenarioOutcome
from edgebench.scenarios.loadgen import LoadGenOptions, Plan, run_loadgen


class Options(LoadGenOptions):
    workers: int = Field(1, ge=1, le=256, description="inferences in flight on the one session")
    expected_qps: float | None = Field(
        None, gt=0, le=1e7, allow_inf_nan=False, description="sizes the query (default: workers / warm-up median)"
    )


class LoadGenOffline:
    name = "offline"
    Options = Options

    def run(self, ctx: ScenarioContext) -> ScenarioOutcome:
        opts: Options = ctx.options

        def configure(settings: Any, warmup_median_ns: int) -> None:
            settings.offline_expected_qps = opts.expected_qps or opts.workers * 1e9 / warmup_median_ns

        return run_loadgen(ctx, Plan("Offline", configure, workers=opts.workers))
