"""LoadGen Server: Poisson arrivals at ``target_qps``; VALID only when the ``target_percentile``
(p99) latency meets ``latency_bound_s`` with LoadGen's early-stopping confidence (and the minimum
duration and query count are met). ``edgebench bench --scenario server --find-peak`` searches for the
highest QPS that stays VALID (engine/peak.py)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from edgebench.protocols import ScenarioContext, ScenarioOutcome
from edgebench.scenarios.loadgen import LoadGenOptions, Plan, run_loadgen

MAX_EXPECTED_S = 3600.0  # without max_duration_s, a run longer than this is refused as a likely typo


class Options(LoadGenOptions):
    target_qps: float = Field(10.0, gt=0, le=1e7, allow_inf_nan=False, description="Poisson arrival rate (queries/s)")
    latency_bound_s: float = Field(
        0.015,
        gt=0,
        le=3600,
        allow_inf_nan=False,
        description="latency bound of the target percentile (MLPerf ResNet-50: 15 ms)",
    )
    target_percentile: float = Field(0.99, gt=0, lt=1, description="percentile that must meet the bound")
    workers: int = Field(1, ge=1, le=256, description="inferences in flight on the one session")
    max_async_queries: int = Field(0, ge=0, le=10**6, description="LoadGen server_max_async_queries (0: unlimited)")

    @model_validator(mode="after")
    def _ends(self) -> Options:
        # LoadGen waits for min_queries arrivals: at 0.001 QPS that is a day, and it blocks signals meanwhile
        expected_s = self.min_queries / self.target_qps
        if self.max_duration_s == 0 and expected_s > MAX_EXPECTED_S:
            raise ValueError(
                f"{self.min_queries} queries at {self.target_qps:g} QPS take {expected_s:,.0f} s (over an hour): "
                "raise --target-qps, lower --min-queries, or set max_duration_s"
            )
        return self


class LoadGenServer:
    name = "server"
    Options = Options

    def run(self, ctx: ScenarioContext) -> ScenarioOutcome:
        opts: Options = ctx.options

        def configure(settings: Any, warmup_median_ns: int) -> None:
            settings.server_target_qps = opts.target_qps
            settings.server_target_latency_ns = round(opts.latency_bound_s * 1e9)
            settings.server_target_latency_percentile = opts.target_percentile
            settings.server_max_async_queries = opts.max_async_queries

        extra: dict[str, Any] = {"target_qps": opts.target_qps, "latency_bound_s": opts.latency_bound_s}
        return run_loadgen(ctx, Plan("Server", configure, workers=opts.workers, extra=extra))
