"""Deterministic fake backend: synthetic latency distributions on a virtual clock.

Used by unit tests of the engine, statistics, reporters and CLI so they run without a runtime
and in no time: ``run`` advances a virtual nanosecond clock by a latency drawn from the chosen
distribution, and the engine times it with that clock (``Session.clock``).

Options (``RunSpec.backend_options``):
  fake_latency_s   median latency (default 1 ms)
  fake_distribution  "lognormal" (default), "constant", "bimodal", "drift"
  fake_sigma       lognormal shape (default 0.02 → CV ≈ 2 %)
  fake_real_time   true: really sleep (for process-level tests); default false (virtual clock)
  fake_crash       "load" raises BackendError at load; "segfault" kills the process with SIGSEGV
                   on the first run; "run" raises BackendError on the first run
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.errors import BackendError
from edgebench.protocols import IOSpec

if TYPE_CHECKING:
    import numpy as np

    from edgebench.records import RunSpec


_DEFAULT_IO = ([IOSpec("input", "float32", ("batch", 3, 8, 8))], [IOSpec("output", "float32", ("batch", 10))])


class FakeSession:
    def __init__(self, options: Mapping[str, Any], seed: int, io: tuple[list[IOSpec], list[IOSpec]]) -> None:
        import numpy as np

        self._inputs, self._outputs = io
        self._median = float(options.get("fake_latency_s", 1e-3))
        self._dist = str(options.get("fake_distribution", "lognormal"))
        self._sigma = float(options.get("fake_sigma", 0.02))
        self._crash = options.get("fake_crash")
        self._real = bool(options.get("fake_real_time", False))
        self._rng = np.random.default_rng(seed)
        self._now = 0
        self._calls = 0
        self.clock = time.perf_counter_ns if self._real else self._virtual_clock

    def _virtual_clock(self) -> int:
        return self._now

    def inputs(self) -> Sequence[IOSpec]:
        return self._inputs

    def outputs(self) -> Sequence[IOSpec]:
        return self._outputs

    def run(self, feeds: Mapping[str, np.ndarray]) -> Sequence[Any]:
        self._calls += 1
        if self._calls == 1 and self._crash == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        if self._calls == 1 and self._crash == "run":
            raise BackendError("fake backend failed on purpose during run")
        latency = self._draw()
        if self._real:
            time.sleep(latency)
        else:
            self._now += max(1, round(latency * 1e9))
        batch = next(iter(feeds.values())).shape[0] if feeds else 1
        return [self._rng.standard_normal((batch, 10)).astype("float32")]

    def _draw(self) -> float:
        base = self._median
        if self._dist == "constant":
            return base
        if self._dist == "bimodal" and self._rng.random() < 0.3:
            base *= 2.0
        if self._dist == "drift":  # 0.1 % slower per call: a throttling device
            base *= 1.0 + 0.001 * self._calls
        return base * math.exp(self._sigma * float(self._rng.standard_normal()))

    def close(self) -> None:
        return None


class FakeBackend:
    name = "fake"
    formats = ("onnx", "tflite")

    def load(self, model_path: Path, spec: RunSpec) -> FakeSession:
        if spec.backend_options.get("fake_crash") == "load":
            raise BackendError("fake backend failed on purpose while loading")
        return FakeSession(spec.backend_options, spec.seed, _model_io(model_path))

    def versions(self) -> dict[str, str]:
        return {"fake": "1"}


def _model_io(path: Path) -> tuple[list[IOSpec], list[IOSpec]]:
    """Mirror the signature of a real ONNX file (so shapes and analysis line up); else a default."""
    if path.suffix != ".onnx" or not path.is_file():
        return _DEFAULT_IO
    import onnx
    from onnx.helper import tensor_dtype_to_np_dtype

    graph = onnx.load(str(path), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}

    def spec(v: Any) -> IOSpec:
        t = v.type.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim)
        return IOSpec(v.name, str(tensor_dtype_to_np_dtype(t.elem_type)), dims)

    return [spec(v) for v in graph.input if v.name not in weights], [spec(v) for v in graph.output]
