"""Immutable, versioned benchmark records — the product (ARCHITECTURE rule 1).

Everything a report, a comparison or a plot needs is in a :class:`RunRecord`; nothing reads
live sessions. All quantities are SI base units (seconds, bytes, inferences per second).
Records round-trip through JSON losslessly; loaders refuse schema versions they do not know.
See docs/records.md for the field-by-field schema.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from edgebench._frozen import EMPTY, FrozenMap
from edgebench.errors import SchemaError

if TYPE_CHECKING:
    from pydantic import TypeAdapter

SCHEMA_VERSION = 2
KNOWN_SCHEMA_VERSIONS = (1, 2)  # 1 is migrated on load (see _migrate_v1)

# A record's free-form maps (backend options, environment extras) hold JSON scalars or lists of them.
JSONScalar = str | int | float | bool | None
JSONValue = JSONScalar | list[Any] | dict[str, Any] | tuple[Any, ...] | FrozenMap[str, Any]

# Why the steady-state loop ended: CI converged, minimums met with adaptive stop off, or max time.
StopReason = Literal["converged", "minimums_met", "max_time"]

PERCENTILE_DEFINITION = "MLPerf LoadGen rank: sorted[min(floor(p*n), n-1)] (0-based, no interpolation)"
DEFAULT_MAX_INPUT_BYTES = 2 * 1024**3

# Fields of RunSpec that say *where* or *under which label* a job ran, not *what* was measured:
# two specs that differ only here measure the same thing, so spec_hash leaves them out.
_SPEC_HASH_EXCLUDES = frozenset({"model", "model_path", "tags", "sweep_id"})


@dataclass(frozen=True)
class RunSpec:
    """What to measure; plain hashable data so another process (or host) can execute it.

    *How* to execute (inline, fresh local process, ssh, ray) is the executor's business, not the spec's.
    """

    model: str  # as the user named it: zoo name or path
    model_path: str = ""  # resolved file actually loaded (the main file of a multi-file model)
    model_sha256: str = ""  # content hash of the model file(s): the job's real identity
    backend: str = "onnxruntime"
    threads: int | None = None  # intra-op threads; None = runtime default
    batch: int | None = None  # explicit --batch; None = the model's own leading dimension (not a batch)
    batch_dim: int | None = None  # axis that is the batch when the user says so (--batch-dim)
    shapes: FrozenMap[str, tuple[int, ...]] = EMPTY
    inputs_file: str | None = None  # .npy / .npz with real inputs
    # the CLI's and bench()'s defaults (per process), sized for a ~15 s default run of 3 processes
    warmup_time_s: float = 0.5
    min_time_s: float = 1.0
    max_time_s: float = 3.0
    min_iters: int = 100
    target_ci: float = 0.01  # relative half-width of the median's 95% CI; 0 disables adaptive stop
    seed: int = 0
    processes: int = 1  # fresh processes whose samples form one result (two-level CI)
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES
    runtime_log_level: Literal["verbose", "info", "warning", "error", "fatal"] = "error"
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"  # execution precision the runtime is asked for
    scenario: str = "loop"  # the tight loop; single_stream/multi_stream/server/offline are LoadGen's
    scenario_options: FrozenMap[str, JSONValue] = EMPTY
    backend_options: FrozenMap[str, JSONValue] = EMPTY  # the backend's typed Options, dumped
    collectors: tuple[str, ...] = ()  # extra collector plugins bracketing the measured window
    # --- energy issue (docs/energy.md): a sidecar sampler around the window; "off" starts nothing ---
    energy: str = "off"  # "off" | "auto" | a sensor collector name (rapl, nvml, jetson, rpi, external)
    energy_root: str = "/"  # sysfs root the sensors are read under (a fake tree in tests)
    power_cmd: str | None = None  # external meter: a command printing "timestamp,watts" lines
    sample_hz: float = 10.0
    idle_baseline_s: float = 0.0  # idle power measured this long before the run, then subtracted
    soak: bool = False  # sustained run: per-minute timeline of throughput, temperature, clock
    cooldown_c: float | None = None  # wait before the run until within this many °C of cooldown_idle_c
    cooldown_idle_c: float | None = None  # idle temperature the controller read before the first job
    tags: tuple[str, ...] = ()
    sweep_id: str | None = None

    def __post_init__(self) -> None:
        # Accept plain dicts from callers, keep the dataclass hashable and immutable.
        for name in ("shapes", "scenario_options", "backend_options"):
            value = getattr(self, name)
            if not isinstance(value, FrozenMap):
                object.__setattr__(self, name, FrozenMap(value or {}))
        for name in ("collectors", "tags"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "shapes", FrozenMap({k: tuple(v) for k, v in self.shapes.items()}))


def spec_hash(spec: RunSpec) -> str:
    """Stable identity of *what* a spec measures: sha256 of its canonical JSON, 16 hex digits.

    Covers every field except ``model`` (a name), ``model_path`` (host-specific), ``tags`` and
    ``sweep_id`` (labels); the model enters through ``model_sha256``. Sweeps key jobs by it (--resume).
    Fields at their default are left out, so a release that adds a field (with a default that keeps
    the old behaviour) keeps the hashes of everything measured before it.
    """
    defaults = _spec_defaults()
    data = {
        k: v
        for k, v in to_jsonable(spec).items()
        if k not in _SPEC_HASH_EXCLUDES and (k not in defaults or v != defaults[k])
    }
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@cache
def _spec_defaults() -> dict[str, Any]:
    """Every RunSpec field's default, as JSON (``model`` has none; it is excluded from the hash anyway)."""
    defaults: dict[str, Any] = to_jsonable(RunSpec(model=""))
    return defaults


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    format: str  # "onnx", "tflite", "openvino", ...
    size_bytes: int  # all files together
    sha256: str  # of the single file, or of the sorted (name, sha256) list of a multi-file model
    task: str | None = None
    input_layout: str | None = None
    preprocessing: str | None = None
    labels: str | None = None
    source: str | None = None  # e.g. "zoo:efficientnet-lite0", "file"
    source_params: int | None = None  # parameters of the source (e.g. PyTorch) model, when known
    files: tuple[str, ...] = ()  # companion files of a multi-file model (OpenVINO .bin), absolute paths


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]
    source: str  # "random(seed=0, uniform[-1,1))", "file:x.npz"
    scale: float | None = None  # quantized I/O: real = scale * (q - zero_point)
    zero_point: int | None = None


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
class Window:
    """The measured window in absolute time, so power traces and logs from elsewhere can be aligned."""

    start_unix_ns: int  # time.time_ns() at the window's start
    end_unix_ns: int
    start_monotonic_ns: int  # the timing clock at the window's start (perf_counter_ns in real runs)
    end_monotonic_ns: int


@dataclass(frozen=True)
class Measurements:
    """Raw observations; every steady-state sample is kept so any statistic can be recomputed.

    With several processes, ``latencies_ns`` holds all of them in execution order and
    ``RunRecord.processes`` says which slice came from which process.
    """

    latencies_ns: tuple[int, ...]
    warmup_latencies_ns: tuple[int, ...]
    load_time_s: float
    first_inference_s: float
    window_wall_s: float  # measured time: Σ segments between stop checks (checks excluded)
    cpu_time_s: float | None  # process CPU time over exactly the same segments
    memory: Memory
    stop_reason: StopReason
    timer_resolution_s: float  # the clock's smallest step
    inputs: tuple[TensorInfo, ...] = ()
    outputs: tuple[TensorInfo, ...] = ()
    collected: FrozenMap[str, FrozenMap[str, JSONValue]] = EMPTY  # extra collectors' output
    window: Window | None = None
    window_overhead_s: float | None = None  # window − Σ latencies: harness time inside the window
    timer_read_cost_s: float | None = None
    device_latencies_ns: tuple[int, ...] = ()  # device timer (e.g. CUDA events), when the session has one
    stop_checks: int = 0
    # "busy": calls back to back, throughput = samples ÷ Σ latencies (the runtime's own rate);
    # "window": calls overlap or wait by design (LoadGen), throughput = samples ÷ window, no overhead figure
    throughput_basis: Literal["busy", "window"] = "busy"


@dataclass(frozen=True)
class ProcessRun:
    """One fresh process of a multi-process run: its slice of the samples and its own conditions."""

    index: int
    sample_start: int  # slice of Measurements.latencies_ns
    sample_count: int
    median_s: float
    ci95_s: tuple[float, float]
    load_time_s: float
    first_inference_s: float
    window_wall_s: float
    stop_reason: StopReason
    peak_rss_bytes: int | None
    environment: Environment
    window: Window | None = None


@dataclass(frozen=True)
class Mode:
    location_s: float
    weight: float


@dataclass(frozen=True)
class Summary:
    """Statistics of the steady-state latencies (seconds) and derived figures."""

    iterations: int
    latency_median_s: float
    latency_ci95_s: tuple[float, float]  # 95% CI of the median (method in ci_method)
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
    outliers: int  # modified z-score > 10 robust SDs (hyperfine rule), within each mode
    mlperf_p90_s: float | None  # LoadGen early-stopping estimate; None when too few samples
    mlperf_p99_s: float | None
    mlperf_p90_t: int  # the estimate is sorted[n - t]: t says which rank it really claims
    mlperf_p99_t: int
    throughput_ips: float  # samples (batch items) per second: batch / mean per-call latency
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
    batch_source: str = "leading dimension of the first input"
    calls_per_s: float | None = None  # timed calls per second: 1 / mean per-call latency
    latency_per_sample_median_s: float | None = None  # per-call median ÷ batch
    n_eff: float | None = None  # effective independent samples behind the CI
    processes: int = 1
    between_process_cv: float | None = None
    modes: tuple[Mode, ...] = ()  # two entries when the distribution is bimodal


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
    hint: str | None = None


@dataclass(frozen=True)
class Accelerator:
    kind: str  # "gpu", "npu", ...
    name: str
    vendor: str | None = None
    driver: str | None = None
    cuda: str | None = None
    compute_capability: str | None = None
    memory_bytes: int | None = None


@dataclass(frozen=True)
class Environment:
    hostname: str
    os: str
    kernel: str
    python: str
    edgebench_version: str
    machine: str
    cpu: FrozenMap[str, JSONValue]
    ram_bytes: int | None
    load_avg: tuple[float, float, float] | None
    runtime_versions: FrozenMap[str, str]
    thread_settings: FrozenMap[str, JSONValue]
    git_commit: str | None = None
    git_commit_reason: str | None = None
    accelerators: tuple[Accelerator, ...] = ()
    pid: int | None = None  # the measuring process
    captured_by: str = "worker"  # "worker" (the measuring process) or "controller" (worker never started)


@dataclass(frozen=True)
class Artifact:
    """A file a run produced (runtime log, trace, plot), kept under the data dir by content hash."""

    role: str  # "runtime_log", "trace", "plot", ...
    media_type: str  # "text/plain", "application/json", ...
    name: str  # original file name
    sha256: str
    size_bytes: int
    path: str  # where it is kept (data dir/artifacts/<sha256>/<name>)
    summary: str | None = None  # one line, e.g. "onnxruntime logged 11,956 warnings; first: …"


@dataclass(frozen=True)
class ScenarioResult:
    """The per-scenario block: which issuer ran and its own figures (e.g. LoadGen's QPS verdict)."""

    name: str
    options: FrozenMap[str, JSONValue] = EMPTY
    result: FrozenMap[str, JSONValue] = EMPTY


@dataclass(frozen=True)
class EnergyReading:
    """One sensor domain over the measured window: measured with the sensor named, or absent with a reason."""

    sensor: str  # "rapl", "nvml", "ina3221", "external", ...
    domain: str  # "package-0", "gpu0", "VDD_IN", ...
    status: Literal["measured", "absent"]
    energy_j: float | None = None
    mean_power_w: float | None = None
    duration_s: float | None = None
    reason: str | None = None  # why absent (no sensor, permission denied, …)
    # --- energy issue: how it was measured and how sure we are (docs/energy.md) ---
    role: Literal["total", "component"] = "total"  # component: part of a total (core ⊂ package): never add
    method: str | None = None  # "counter" (cumulative energy register) | "power_integration" (trapezoid)
    energy_uncertainty_j: float | None = None  # expanded uncertainty (k=2, ≈95 %) of energy_j
    peak_power_w: float | None = None
    samples: int = 0  # sidecar samples inside the window
    update_interval_s: float | None = None  # how often the sensor itself refreshes
    resolution: float | None = None  # counter step (J) or power step (W)
    baseline_power_w: float | None = None  # idle power measured before the run
    baseline_power_uncertainty_w: float | None = None  # k=2, from the idle samples' spread
    net_energy_j: float | None = None  # energy_j − baseline power × duration
    net_energy_uncertainty_j: float | None = None
    fix: str | None = None  # what to do when absent (permission denied: the chmod / udev rule)


@dataclass(frozen=True)
class ThrottleInfo:
    """Why the run looks throttled (empty ``reasons``: no evidence), with what to do."""

    reasons: tuple[str, ...] = ()
    advice: str | None = None
    frequency_drop_pct: float | None = None  # largest drop, first → last third of the window
    max_temperature_c: float | None = None
    trip_point_c: float | None = None  # lowest trip point of the zone that crossed it
    pi_throttled_before: int | None = None  # vcgencmd get_throttled bitmask before / after
    pi_throttled_after: int | None = None
    nvml_reasons: tuple[str, ...] = ()
    throughput_drift_pct: float | None = None  # last third vs first third (negative: slower)


@dataclass(frozen=True)
class TimelinePoint:
    """One bucket of a sustained (soak) run: per-minute by default."""

    start_s: float  # from the window's start
    duration_s: float
    inferences: int
    throughput_ips: float | None
    temperature_c: float | None = None  # hottest sensor, mean over the bucket
    frequency_hz: float | None = None  # mean of the first frequency channel
    power_w: float | None = None  # primary sensor


@dataclass(frozen=True)
class Energy:
    readings: tuple[EnergyReading, ...]
    energy_per_inference_j: float | None = None
    efficiency_gops_per_w: float | None = None
    temperature_c: FrozenMap[str, float] = EMPTY
    throttled: bool | None = None
    # --- energy issue: null figures + reason when there is no sensor; never an estimate ---
    energy_unavailable_reason: str | None = None
    sensor: str | None = None  # the primary reading the per-inference figures come from
    domain: str | None = None
    basis: Literal["net", "gross"] | None = None  # energy_per_inference_j is net of idle when a baseline exists
    energy_per_inference_uncertainty_j: float | None = None  # k=2
    gross_energy_per_inference_j: float | None = None
    net_energy_per_inference_j: float | None = None
    inferences: int | None = None  # batch items in the window
    inferences_per_j: float | None = None
    mean_power_w: float | None = None
    peak_power_w: float | None = None
    baseline_s: float | None = None
    baseline_power_w: float | None = None
    sample_hz: float | None = None
    window_s: float | None = None
    ops_per_inference: float | None = None  # 2 × MACs (record.analysis)
    ops_definition: str = "GOPS = 2 ops per MAC (MACs from edgebench.analysis) / 1e9"
    uncertainty_method: str = (
        "k=2 expanded: counter resolution and update interval at both window ends, interpolation to the "
        "window ends, sampling error of integrated power, idle-baseline standard error (docs/energy.md)"
    )
    throttle: ThrottleInfo | None = None
    timeline: tuple[TimelinePoint, ...] = ()
    temperature_start_c: FrozenMap[str, float] = EMPTY


@dataclass(frozen=True)
class Accuracy:
    dataset: str
    samples: int
    preprocess: str
    top1: float | None = None
    top5: float | None = None
    top1_ci95: tuple[float, float] | None = None
    labels: str | None = None
    skipped: int = 0
    # [accuracy] additions (docs/accuracy.md): counts so any interval can be recomputed, the data's identity
    top5_ci95: tuple[float, float] | None = None  # Wilson 95%
    top1_correct: int | None = None
    top5_correct: int | None = None
    dataset_sha256: str | None = None  # names, targets and bytes of every sample evaluated
    classes: int | None = None  # the model's output classes
    metrics: FrozenMap[str, JSONValue] = EMPTY  # custom --metric hook results


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
    analysis: FrozenMap[str, JSONValue] | None = None  # static analysis totals (edgebench.analysis)
    platform_id: str | None = None  # the latest platform record of this host, if any
    id: str = field(default_factory=lambda: new_record_id())
    created_at: str = field(default_factory=lambda: utc_now())
    schema_version: int = SCHEMA_VERSION
    spec_hash: str = ""
    executor: str = "local"  # where it ran: "inline", "local" (fresh process), later "ssh:HOST", "ray"
    scenario: ScenarioResult | None = None
    effective: FrozenMap[str, JSONValue] = EMPTY  # runtime configuration as the runtime reports it after load
    processes: tuple[ProcessRun, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    energy: Energy | None = None
    accuracy: Accuracy | None = None
    # how the measured file was made (edgebench deploy): tool + version, seconds, source/output sha256 and
    # size, the numerical check against the source, earlier steps — convert.base.Conversion.to_dict()
    conversion: FrozenMap[str, JSONValue] | None = None

    def __post_init__(self) -> None:
        if not self.spec_hash:
            object.__setattr__(self, "spec_hash", spec_hash(self.spec))
        if self.analysis is not None and not isinstance(self.analysis, FrozenMap):
            object.__setattr__(self, "analysis", FrozenMap(self.analysis))
        if self.conversion is not None and not isinstance(self.conversion, FrozenMap):
            object.__setattr__(self, "conversion", FrozenMap(self.conversion))

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
    if version not in KNOWN_SCHEMA_VERSIONS:
        raise SchemaError(
            f"record schema version {version!r} is not supported (this edgebench reads "
            f"{', '.join(map(str, KNOWN_SCHEMA_VERSIONS))})",
            hint="upgrade edgebench to read records written by a newer version",
        )
    if version == 1:
        data = _migrate_v1(data)
    data = _rename_tight_loop(data)
    from pydantic import ValidationError

    try:
        return _adapter().validate_python(data)
    except ValidationError as exc:
        raise SchemaError(
            f"malformed record: {exc.error_count()} invalid field(s), first: {exc.errors()[0]['loc']}"
        ) from exc


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 → 2: ``inline`` leaves the spec for ``executor``; ``max_input_bytes`` leaves the options.

    Everything v2 added is optional, so a v1 record reads as a v2 record that lacks those facts; its
    summary keeps the ``ci_method`` it was computed with.
    """
    out = copy.deepcopy(data)
    spec = out.get("spec", {})
    inline = bool(spec.pop("inline", False))
    options = dict(spec.get("backend_options") or {})
    if "max_input_bytes" in options:
        spec["max_input_bytes"] = int(options.pop("max_input_bytes"))
    spec["backend_options"] = options
    out["spec"] = spec
    out["executor"] = "inline" if inline else "local"
    out["schema_version"] = SCHEMA_VERSION
    if out.get("status") == "ok":
        out.setdefault("scenario", {"name": "loop"})
    if out.get("environment"):
        out["environment"].setdefault("captured_by", "worker" if out.get("status") == "ok" else "controller")
    return out


def _rename_tight_loop(data: dict[str, Any]) -> dict[str, Any]:
    """Before LoadGen arrived, ``single_stream`` named the tight loop (now ``loop``); read such records as ``loop``.

    LoadGen's single_stream always stores its validated options, which include ``min_duration_s``;
    the tight loop's never do. A record without a scenario name (v1) ran the loop too.
    """
    spec = data.get("spec")
    if not isinstance(spec, dict) or spec.get("scenario", "single_stream") != "single_stream":
        return data
    if "min_duration_s" in (spec.get("scenario_options") or {}):
        return data
    out = copy.deepcopy(data)
    out["spec"]["scenario"] = "loop"
    if isinstance(out.get("scenario"), dict) and out["scenario"].get("name") == "single_stream":
        out["scenario"]["name"] = "loop"
    return out


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


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter_for(cls: type[Any]) -> TypeAdapter[Any]:
    # building an adapter costs milliseconds; spec_hash runs once per record, so build each type's once
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def to_jsonable(obj: Any) -> Any:
    """Any record dataclass (RunSpec, ModelInfo, ...) as plain JSON data."""
    return _adapter_for(type(obj)).dump_python(obj, mode="json")


def from_jsonable(cls: type[Any], data: Any) -> Any:
    from pydantic import ValidationError

    try:
        return _adapter_for(cls).validate_python(data)
    except ValidationError as exc:
        raise SchemaError(f"malformed {cls.__name__}: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from exc
