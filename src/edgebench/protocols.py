"""The extension points: one small interface per axis (ARCHITECTURE rule 3).

Implementations register as entry points (``edgebench.backends``, ``edgebench.collectors``,
``edgebench.stores``, ``edgebench.analyzers``) and are looked up by name in
:mod:`edgebench.registry`, which checks them against these protocols on load.
Every axis ships a deterministic fake (``backends.fake``, ``collectors.fake``) for tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from edgebench.records import JSONValue, RunRecord, RunSpec

# A model dimension: a fixed size, a symbolic name ("batch"), or None when the model says nothing.
Dim = int | str | None


@dataclass(frozen=True)
class IOSpec:
    """One model input or output as the runtime sees it; dtype is a numpy dtype name."""

    name: str
    dtype: str
    shape: tuple[Dim, ...]


@runtime_checkable
class Session(Protocol):
    """A loaded model, ready to run. ``run`` is the only call inside the timed loop."""

    def inputs(self) -> Sequence[IOSpec]: ...

    def outputs(self) -> Sequence[IOSpec]: ...

    def run(self, feeds: Mapping[str, np.ndarray]) -> Sequence[Any]: ...

    def close(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """A runtime. ``load`` translates every runtime exception into edgebench.errors."""

    name: str
    formats: tuple[str, ...]  # model file formats it loads ("onnx", "tflite", ...)

    def load(self, model_path: Path, spec: RunSpec) -> Session: ...

    def versions(self) -> dict[str, str]: ...


@runtime_checkable
class Collector(Protocol):
    """Observes the measured window (memory, CPU time, later energy/thermal) without touching the loop."""

    name: str

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


# A monotonic nanosecond clock; the fake backend supplies a virtual one so tests run instantly.
Clock = Callable[[], int]
