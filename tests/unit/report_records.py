"""Records for the report tests: one real fake-backend run, then variants made from it with ``replace``.

The base record is a genuine measurement (fake backend, virtual clock, inline executor), so every block a
real record has is there; the variants add what a given report needs (accuracy, energy, an INT8 twin,
a profile, a hostile model name) without inventing anything the reporter would not see in a real record.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from edgebench._frozen import FrozenMap
from edgebench.records import (
    Accuracy,
    Energy,
    EnergyReading,
    Failure,
    ModelInfo,
    RunRecord,
    ScenarioResult,
    new_record_id,
)

HOSTILE = "<script>alert(1)</script>"


def base_record(model_path: Path) -> RunRecord:
    from tests.conftest import fake_spec, run_inline

    record = run_inline(fake_spec(model_path, min_time_s=0.02, min_iters=60))
    assert record.status == "ok" and record.summary is not None
    return record


def variant(
    base: RunRecord,
    name: str,
    *,
    created_at: str,
    bit_width: str = "FP32",
    size_bytes: int = 4_000_000,
    scale: float = 1.0,
    top1: float | None = None,
    top5: float | None = None,
    hostname: str | None = None,
    backend: str | None = None,
    tags: tuple[str, ...] = (),
    **more: object,
) -> RunRecord:
    """``base`` measured as model ``name``: latencies scaled by ``scale`` (so medians differ predictably)."""
    assert base.summary is not None and base.measurements is not None and base.model is not None
    s = base.summary
    summary = replace(
        s,
        latency_median_s=s.latency_median_s * scale,
        latency_ci95_s=(s.latency_ci95_s[0] * scale, s.latency_ci95_s[1] * scale),
        throughput_ips=s.throughput_ips / scale,
    )
    measurements = replace(
        base.measurements, latencies_ns=tuple(int(v * scale) for v in base.measurements.latencies_ns)
    )
    model = ModelInfo(
        name=name,
        path=f"/models/{name}",
        format="onnx",
        size_bytes=size_bytes,
        sha256=hashlib.sha256(name.encode()).hexdigest(),
    )
    analysis = FrozenMap(
        {
            **dict(base.analysis or {}),
            "bit_width": bit_width,
            "params": 3_500_000,
            "flops": 600_000_000,
            "weight_bytes": size_bytes - 1000,
            "depth_param_layers": 53,
        }
    )
    accuracy = None
    if top1 is not None:
        accuracy = Accuracy(dataset="builtin-7", samples=7, preprocess="tf", top1=top1, top5=top5)
    spec = replace(base.spec, model=name, backend=backend or base.spec.backend, tags=tags)
    env = replace(base.environment, hostname=hostname) if hostname else base.environment
    return replace(
        base,
        id=new_record_id(),
        created_at=created_at,
        spec=spec,
        spec_hash="",
        model=model,
        summary=summary,
        measurements=measurements,
        analysis=analysis,
        accuracy=accuracy,
        environment=env,
        **more,  # type: ignore[arg-type]
    )


def energy(per_inference_j: float, power_w: float, temp_c: float) -> Energy:
    reading = EnergyReading(sensor="rapl", domain="package-0", status="measured", energy_j=1.0, mean_power_w=power_w)
    return Energy(
        readings=(reading,),
        energy_per_inference_j=per_inference_j,
        efficiency_gops_per_w=12.5,
        temperature_c=FrozenMap({"cpu": temp_c, "soc": temp_c - 3}),
    )


def profile_scenario() -> ScenarioResult:
    ops = [
        {"name": "conv1", "op_type": "Conv", "time_s": 4e-4, "flops": 2e8, "bytes": 4e6},
        {"name": "fc", "op_type": "Gemm", "time_s": 1e-4, "flops": 2.5e6, "bytes": 5e6},
        {"name": HOSTILE, "op_type": "Relu", "time_s": 5e-5},
        {"name": "bad", "op_type": "Add", "time_s": "nan?"},  # not a number: ignored, never plotted
    ]
    return ScenarioResult(name="profile", result=FrozenMap({"ops": ops}))


def failed(base: RunRecord, created_at: str) -> RunRecord:
    return replace(
        base,
        id=new_record_id(),
        created_at=created_at,
        status="failed",
        summary=None,
        measurements=None,
        error=Failure(type="MeasurementError", message="worker crashed | signal 9"),
    )


def suite(model_path: Path) -> list[RunRecord]:
    """A realistic store: FP32 + INT8 twins with accuracy and energy, a profile, a second host, a failure."""
    base = base_record(model_path)
    fp32 = variant(
        base, "resnet50.onnx", created_at="2026-12-01T10:00:00Z", top1=0.75, top5=0.92, energy=energy(0.0021, 8.4, 61.0)
    )
    int8 = variant(
        base,
        "resnet50_int8.onnx",
        created_at="2026-12-01T10:05:00Z",
        bit_width="W8/A8",
        size_bytes=1_000_000,
        scale=0.5,
        top1=0.74,
        top5=0.91,
    )
    hostile = variant(
        base, HOSTILE, created_at="2026-12-01T10:10:00Z", scale=2.0, top1=0.5, scenario=profile_scenario()
    )
    other_host = variant(
        base, "mobilenet.onnx", created_at="2026-12-01T10:15:00Z", hostname="pi5", scale=3.0, tags=("sweep-a",)
    )
    return [fp32, int8, hostile, other_host, failed(base, "2026-12-01T10:20:00Z")]
