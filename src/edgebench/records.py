"""Immutable, versioned benchmark records — the product (ARCHITECTURE rule 1).

Everything a report, a comparison or a plot needs is in a :class:`RunRecord`; nothing reads
live sessions. All quantities are SI base units (seconds, bytes, inferences per second).
Records round-trip through JSON losslessly; loaders refuse schema versions they do not know.
See docs/records.md for the field-by-field schema.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from edgebench.errors import SchemaError

if TYPE_CHECKING:
    from pydantic import TypeAdapter

SCHEMA_VERSION = 1

# A record's free-form maps (backend options, environment extras) hold JSON scalars or lists of them.
JSONScalar = str | int | float | bool | None
JSONValue = JSONScalar | list[Any] | dict[str, Any]

# Why the steady-state loop ended: CI converged, minimums met with adaptive stop off, or max time.
StopReason = Literal["converged", "minimums_met", "max_time"]

PERCENTILE_DEFINITION = "MLPerf LoadGen rank: sorted[min(floor(p*n), n-1)] (0-based, no interpolation)"


@dataclass(frozen=True)
class RunSpec:
    """What to run and how; serializable so another process (or host) can execute it."""

    model: str  # as the user named it: zoo name or path
    model_path: str = ""  # resolved file actually loaded
    backend: str = "onnxruntime"
    threads: int | None = None  # intra-op threads; None = runtime default
    batch: int | None = None
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    inputs_file: str | None = None  # .npy / .npz with real inputs
    warmup_time_s: float = 1.0
    min_time_s: float = 3.0
    max_time_s: float = 60.0
    min_iters: int = 100
    target_ci: float = 0.01  # relative half-width of the median's 95% CI; 0 disables adaptive stop
    seed: int = 0
    inline: bool = False
    backend_options: dict[str, JSONValue] = field(default_factory=dict)
    collectors: tuple[str, ...] = ()  # extra collector plugins bracketing the steady-state window


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    format: str  # "onnx", "tflite", ...
    size_bytes: int
    sha256: str
    task: str | None = None
    input_layout: str | None = None
    preprocessing: str | None = None
    labels: str | None = None
    source: str | None = None  # e.g. "zoo:efficientnet-lite0", "file"
    source_params: int | None = None  # parameters of the source (e.g. PyTorch) model, when known


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]
    source: str  # "random(seed=0, uniform[-1,1))", "file:x.npz"


@dataclass(frozen=True)
class Memory:
    """Memory of the benchmark process. Semantics in ``semantics`` (RSS includes mmapped weights)."""

    peak_rss_bytes: int | None
    rss_after_load_bytes: int | None
    rss_steady_bytes: int | None
    rss_growth_bytes: int | None  # steady-state end minus start: a leak hint when clearly > 0
    rss_before_load_bytes: int | None = None
    semantics: str = (
        "peak_rss = VmHWM (kernel high-water mark of resident set, includes file-backed mmapped weights "
        "and the runtime's arena; not USS); rss_* = VmRSS sampled at phase boundaries"
    )


@dataclass(frozen=True)
class Measurements:
    """Raw observations; every steady-state sample is kept so any statistic can be recomputed."""

    latencies_ns: tuple[int, ...]
    warmup_latencies_ns: tuple[int, ...]
    load_time_s: float
    first_inference_s: float
    window_wall_s: float  # wall time of the measured steady-state window
    cpu_time_s: float | None  # process user+sys CPU over the window
    memory: Memory
    stop_reason: StopReason
    timer_resolution_s: float  # smallest measured step of the clock
    inputs: tuple[TensorInfo, ...] = ()
    outputs: tuple[TensorInfo, ...] = ()
    collected: dict[str, dict[str, JSONValue]] = field(default_factory=dict)  # extra collectors' output


@dataclass(frozen=True)
class Summary:
    """Statistics of the steady-state latencies (seconds) and derived figures."""

    iterations: int
    latency_median_s: float
    latency_ci95_s: tuple[float, float]  # bootstrap 95% CI of the median
    latency_mean_s: float
    latency_std_s: float
    latency_cv: float
    latency_min_s: float
    latency_max_s: float
    latency_p90_s: float
    latency_p95_s: float
    latency_p99_s: float
    latency_p999_s: float
    latency_mad_s: float
    outliers: int  # modified z-score > 10 robust SDs (hyperfine rule)
    mlperf_p90_s: float | None  # LoadGen early-stopping estimate; None when too few samples
    mlperf_p99_s: float | None
    mlperf_p90_t: int  # the estimate is sorted[n - t]: t says which rank it really claims
    mlperf_p99_t: int
    throughput_ips: float  # batch * iterations / window wall time
    cpu_util_pct_one_core: float | None
    cpu_util_pct_all_cores: float | None
    load_time_s: float
    first_inference_s: float
    peak_rss_bytes: int | None
    model_size_bytes: int
    batch: int
    percentile_definition: str = PERCENTILE_DEFINITION
    median_definition: str = "conventional median (mean of the two middle values for even n)"
    ci_method: str = (
        "percentile bootstrap of the median, 2000 resamples, seeded "
        "(resampled medians drawn from their exact order-statistic distribution)"
    )


@dataclass(frozen=True)
class ValidityWarning:
    code: str  # stable identifier, e.g. "high_cv"
    message: str
    hint: str


@dataclass(frozen=True)
class Failure:
    type: str
    message: str
    exit_signal: int | None = None
    exit_code: int | None = None


@dataclass(frozen=True)
class Environment:
    hostname: str
    os: str
    kernel: str
    python: str
    edgebench_version: str
    machine: str
    cpu: dict[str, JSONValue]
    ram_bytes: int | None
    load_avg: tuple[float, float, float] | None
    runtime_versions: dict[str, str]
    thread_settings: dict[str, JSONValue]
    git_commit: str | None = None
    git_commit_reason: str | None = None


@dataclass(frozen=True)
class RunRecord:
    spec: RunSpec
    environment: Environment
    status: Literal["ok", "failed"]
    model: ModelInfo | None = None
    measurements: Measurements | None = None
    summary: Summary | None = None
    warnings: tuple[ValidityWarning, ...] = ()
    error: Failure | None = None
    analysis: dict[str, JSONValue] | None = None  # static analysis totals (edgebench.analysis)
    platform_id: str | None = None  # the latest platform record of this host, if any
    id: str = field(default_factory=lambda: new_record_id())
    created_at: str = field(default_factory=lambda: utc_now())
    schema_version: int = SCHEMA_VERSION

    def with_platform(self, platform_id: str | None) -> RunRecord:
        return replace(self, platform_id=platform_id)


def new_record_id() -> str:
    """Time-ordered id (ms timestamp + random) so ``results list`` sorts naturally."""
    return f"{int(time.time() * 1000):012x}{uuid.uuid4().hex[:8]}"


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@cache
def _adapter() -> TypeAdapter[RunRecord]:
    # pydantic does the (de)serialisation of the nested frozen dataclasses; imported lazily
    # because it is only needed when a record crosses a process or disk boundary.
    from pydantic import TypeAdapter

    return TypeAdapter(RunRecord)


def record_to_dict(record: RunRecord) -> dict[str, Any]:
    data: dict[str, Any] = _adapter().dump_python(record, mode="json")
    return data


def record_from_dict(data: dict[str, Any]) -> RunRecord:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaError(
            f"record schema version {version!r} is not supported (this edgebench reads {SCHEMA_VERSION})",
            hint="upgrade edgebench to read records written by a newer version",
        )
    from pydantic import ValidationError

    try:
        return _adapter().validate_python(data)
    except ValidationError as exc:
        raise SchemaError(
            f"malformed record: {exc.error_count()} invalid field(s), first: {exc.errors()[0]['loc']}"
        ) from exc


def record_to_json(record: RunRecord, *, indent: int | None = None) -> str:
    return json.dumps(record_to_dict(record), indent=indent, allow_nan=False)


def record_from_json(text: str) -> RunRecord:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"record is not valid JSON: {exc.msg} at char {exc.pos}") from exc
    if not isinstance(data, dict):
        raise SchemaError("record JSON must be an object")
    return record_from_dict(data)


def to_jsonable(obj: Any) -> Any:
    """Any record dataclass (RunSpec, ModelInfo, ...) as plain JSON data."""
    from pydantic import TypeAdapter

    return TypeAdapter(type(obj)).dump_python(obj, mode="json")


def from_jsonable(cls: type[Any], data: Any) -> Any:
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(cls).validate_python(data)
    except ValidationError as exc:
        raise SchemaError(f"malformed {cls.__name__}: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from exc
