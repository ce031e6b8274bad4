"""Deterministic fake scenario: a fixed number of calls, no warm-up, no stop rule.

It exercises the Scenario contract (window opened once, outcome fields) without the single-stream
loop, so a test can tell the engine's work from the scenario's."""

from __future__ import annotations

from pydantic import BaseModel, Field

from edgebench.options import strict_config
from edgebench.protocols import ScenarioContext, ScenarioOutcome


class Options(BaseModel):
    model_config = strict_config()

    calls: int = Field(10, ge=1, le=1_000_000, description="calls to issue")


class FakeScenario:
    name = "fake"
    Options = Options

    def run(self, ctx: ScenarioContext) -> ScenarioOutcome:
        clock = ctx.clock
        t0 = clock()
        outputs = ctx.session.run(ctx.feeds)
        first = clock() - t0
        samples = []
        ctx.window.open()
        start = clock()
        for _ in range(ctx.options.calls):
            a = clock()
            outputs = ctx.session.run(ctx.feeds)
            samples.append(clock() - a)
        measured = clock() - start
        window = ctx.window.close()
        return ScenarioOutcome(
            latencies_ns=samples,
            warmup_latencies_ns=[],
            first_inference_ns=first,
            window_ns=measured,
            cpu_time_ns=None,
            stop_reason="minimums_met",
            window=window,
            outputs=outputs,
            result={"calls": ctx.options.calls},
        )
