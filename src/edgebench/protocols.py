"""The extension points: one small interface per axis (ARCHITECTURE rule 3).

Implementations register as entry points (``edgebench.backends``, ``edgebench.scenarios``,
``edgebench.executors``, ``edgebench.collectors``, ``edgebench.stores``, ``edgebench.analyzers``,
``edgebench.formats``) and are looked up by name in :mod:`edgebench.registry`, which checks them
against these protocols on load. Every axis ships a deterministic fake for tests.

Plugins that take options declare ``Options``: a frozen pydantic model (``extra="forbid"``).
The engine validates ``RunSpec.backend_options`` / ``scenario_options`` against it in the parent,
before any process is spawned, and hands the validated instance to the plugin.

Optional Session capabilities are separate protocols, checked with ``isinstance``:
:class:`Preparable` (device copies / IO binding outside the timed call), :class:`DeviceTimed`
(a device timer such as CUDA events), :class:`Configured` (the effective configuration after
load), :class:`VirtualClock` (simulated sessions only: the engine times with their clock),
:class:`Concurrent` (several inferences in flight on one loaded model: OpenVINO async infer requests;
sessions without it are driven by a thread pool over ``run``, see scenarios/loadgen.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from pydantic import BaseModel

    from edgebench.records import Artifact, JSONValue, ModelInfo, RunRecord, RunSpec, Window

# A model dimension: a fixed size, a symbolic name ("batch"), or None when the model says nothing.
Dim = int | str | None

# A monotonic nanosecond clock; the fake backend supplies a virtual one so tests run instantly.
Clock = Callable[[], int]


@dataclass(frozen=True)
class IOSpec:
    """One model input or output as the runtime sees it; dtype is a numpy dtype name.

    ``scale``/``zero_point`` are set for quantized tensors (real = scale · (q − zero_point)) so that
    generated inputs cover the model's real range and outputs can be dequantized.
    """

    name: str
    dtype: str
    shape: tuple[Dim, ...] | None  # None: the model does not say (unknown rank); () is a scalar
    scale: float | None = None
    zero_point: int | None = None


@runtime_checkable
class Session(Protocol):
    """A loaded model, ready to run. ``run`` is the only call inside the timed loop.

    ``run`` receives whatever :meth:`Preparable.prepare` returned, or the numpy feeds themselves.
    """

    def inputs(self) -> Sequence[IOSpec]: ...

    def outputs(self) -> Sequence[IOSpec]: ...

    def run(self, feeds: Any) -> Sequence[Any]: ...

    def close(self) -> None: ...


@runtime_checkable
class Preparable(Protocol):
    """Move or bind inputs once, outside the timed region (host→device copies, IO binding)."""

    def prepare(self, feeds: Mapping[str, np.ndarray]) -> Any: ...


@runtime_checkable
class DeviceTimer(Protocol):
    """Elapsed device time per call. CUDA events give elapsed pairs, not a clock: mark around each
    ``run`` and ``collect`` (which synchronises) after the window, outside the timed region."""

    def mark_start(self) -> None: ...

    def mark_end(self) -> None: ...

    def collect(self) -> list[int]: ...


@runtime_checkable
class DeviceTimed(Protocol):
    def device_timer(self) -> DeviceTimer | None: ...


@runtime_checkable
class Configured(Protocol):
    """What actually runs, as the runtime reports it after load (providers, precision, streams…)."""

    def effective(self) -> Mapping[str, JSONValue]: ...


@runtime_checkable
class VirtualClock(Protocol):
    """Simulated sessions (the fake backend) advance their own clock; the engine times with it."""

    clock: Clock


class InFlight(Protocol):
    """Queries in flight on one session. ``submit`` must not block for long: ``done(tag, outputs, service_ns)``
    is called from any thread when that inference has finished (``outputs`` is the exception if it failed;
    ``service_ns`` is the inference's own time, queueing excluded)."""

    def submit(self, tag: int, done: Callable[[int, Any, int], None]) -> None: ...

    def arrangement(self) -> Mapping[str, JSONValue]: ...  # how work is spread (requests, streams, threads)

    def close(self) -> None: ...  # waits for everything submitted


@runtime_checkable
class Concurrent(Protocol):
    """Optional: the session runs ``workers`` inferences of ``feeds`` at once by its own means."""

    def in_flight(self, feeds: Any, workers: int) -> InFlight: ...


@runtime_checkable
class Backend(Protocol):
    """A runtime. ``load`` translates every runtime exception into edgebench.errors."""

    name: ClassVar[str]
    formats: ClassVar[tuple[str, ...]]  # model formats it loads (names of edgebench.formats plugins)
    Options: ClassVar[type[BaseModel]]
    # Optional: execution precisions it can be asked for (--precision); absent means ("fp32",).
    # The precision that actually ran belongs in Session.effective()["precision"].

    def load(self, model_path: Path, spec: RunSpec, options: Any) -> Session: ...

    def versions(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class ScenarioOutcome:
    """What a scenario measured; the engine turns it into Measurements, Summary and warnings."""

    latencies_ns: list[int]  # per timed call, in issue order
    warmup_latencies_ns: list[int]
    first_inference_ns: int
    window_ns: int  # measured time (stop checks excluded)
    cpu_time_ns: int | None  # process CPU time over the same segments
    stop_reason: str
    window: Window
    outputs: Sequence[Any]  # the last call's outputs (shapes and dtypes go into the record)
    stop_checks: int = 0
    device_latencies_ns: list[int] | None = None
    result: Mapping[str, JSONValue] | None = None  # scenario-specific figures (ScenarioResult.result)
    artifacts: tuple[Artifact, ...] = ()  # files the scenario wrote under ScenarioContext.workdir (LoadGen logs)
    # "window" when queries overlap (several in flight) or wait for their arrival time (Server): then
    # the observed rate is samples ÷ window and window − Σ latencies is not harness overhead
    throughput_basis: Literal["busy", "window"] = "busy"


@runtime_checkable
class Scenario(Protocol):
    """Decides *when* queries are issued (LoadGen's split): the session only answers them.

    ``run`` gets a prepared session and inputs, a clock and the window (which brackets collectors
    and stamps absolute times); it must open the window exactly once around what it measures.
    """

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]

    def run(self, ctx: ScenarioContext) -> ScenarioOutcome: ...


class MeasuredWindow(Protocol):
    """Opened and closed once by a scenario; starts/stops collectors and stamps absolute times."""

    def open(self) -> None: ...

    def close(self) -> Window: ...


@dataclass(frozen=True)
class ScenarioContext:
    session: Session
    feeds: Any  # prepared feeds: pass to session.run as they are
    clock: Clock
    spec: RunSpec
    options: Any  # the scenario's validated Options instance
    window: MeasuredWindow
    device_timer: DeviceTimer | None = None
    workdir: Path | None = None  # the job's temporary directory: files written here can become artifacts


@dataclass(frozen=True)
class Job:
    """One unit of work for an executor: what to measure and how to obtain the model.

    The model is named by content hash (``model.sha256``) plus its path; a remote worker fetches or
    verifies the file by that hash before measuring (see executors/README in docs/architecture.md).
    """

    spec: RunSpec
    model: ModelInfo
    process_index: int = 0


@runtime_checkable
class Executor(Protocol):
    """Where a job runs: this process, a fresh local process, later ssh or ray.

    ``submit`` always returns a record — ok, or failed with the reason — and raises only for user
    errors (edgebench.errors.UsageError/ModelError/…) found where the job ran.
    """

    name: ClassVar[str]

    def submit(self, job: Job) -> RunRecord: ...


@runtime_checkable
class Collector(Protocol):
    """Observes the measured window (memory, CPU time, later energy/thermal) without touching the loop."""

    name: ClassVar[str]

    def start(self) -> None: ...

    def stop(self) -> dict[str, JSONValue]: ...


@runtime_checkable
class Store(Protocol):
    """Where records live. ``put`` is called the moment a record exists."""

    def put(self, record: RunRecord) -> None: ...

    def get(self, record_id: str) -> RunRecord: ...

    def list(self, limit: int | None = None) -> list[RunRecord]: ...


@runtime_checkable
class Analyzer(Protocol):
    """Static model analysis for one file format."""

    def analyze(self, path: Path, shapes: Mapping[str, tuple[int, ...]] | None = None) -> Any: ...


@runtime_checkable
class ModelFormat(Protocol):
    """A model file format: recognises its files and names the files that belong together.

    ``detect`` must be cheap (suffix, magic bytes); ``files`` lists every file of the model (the
    OpenVINO ``.xml`` and its ``.bin``) so the model is hashed and shipped as one unit.
    """

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    def detect(self, path: Path, head: bytes) -> bool: ...

    def files(self, path: Path) -> list[Path]: ...
