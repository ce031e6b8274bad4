"""Deterministic fake backend: synthetic latency distributions on a virtual clock.

Used by unit tests of the engine, statistics, reporters and CLI so they run without a runtime
and in no time: ``run`` advances a virtual nanosecond clock by a latency drawn from the chosen
distribution, and the engine times it with that clock (protocols.VirtualClock). With
``real_time=true`` it really sleeps, for process-level tests. Failure modes exercise every path
of the executors (crash by signal, plain exit, runtime error, user error found in the worker).
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from edgebench.errors import BackendError, UsageError
from edgebench.options import strict_config
from edgebench.protocols import IOSpec

if TYPE_CHECKING:
    import numpy as np

    from edgebench.records import RunSpec


_DEFAULT_IO = ([IOSpec("input", "float32", ("batch", 3, 8, 8))], [IOSpec("output", "float32", ("batch", 10))])


class FakeOptions(BaseModel):
    model_config = strict_config()

    latency_s: float = Field(1e-3, gt=0, le=60, allow_inf_nan=False, description="median latency per call")
    distribution: Literal["lognormal", "constant", "bimodal", "drift", "ar1"] = Field(
        "lognormal", description="latency distribution"
    )
    sigma: float = Field(0.02, ge=0, le=5, description="lognormal shape / AR(1) innovation scale (CV ≈ sigma)")
    rho: float = Field(0.0, ge=0, lt=1, description="AR(1) coefficient (distribution=ar1)")
    bimodal_weight: float = Field(0.3, gt=0, lt=1, description="share of the slow mode (distribution=bimodal)")
    real_time: bool = Field(False, description="really sleep instead of advancing a virtual clock")
    crash: Literal["none", "load", "segfault", "run", "exit", "user_error", "hang"] = Field(
        "none", description="fail on purpose: at load, by SIGSEGV, by a runtime error, exit(3), a user error, hang"
    )
    device_timer: bool = Field(False, description="offer a device timer (virtual: latency minus 1 µs)")
    log_every_run: bool = Field(False, description="write a runtime-style log line to fd 2 on every run")


class FakeDeviceTimer:
    """Pairs of virtual timestamps, collected after the window like CUDA events."""

    def __init__(self, session: FakeSession) -> None:
        self._session = session
        self._pending: list[int] = []
        self._start = 0

    def mark_start(self) -> None:
        self._start = self._session.clock()

    def mark_end(self) -> None:
        # a device sees the kernel, not the host's dispatch: 1 µs less than the host-side latency
        self._pending.append(max(1, self._session.clock() - self._start - 1000))

    def collect(self) -> list[int]:
        out, self._pending = self._pending, []
        return out


class FakeSession:
    def __init__(self, options: FakeOptions, seed: int, io: tuple[list[IOSpec], list[IOSpec]]) -> None:
        import numpy as np

        self._inputs, self._outputs = io
        self._o = options
        self._rng = np.random.default_rng(seed)
        self._now = 0
        self._calls = 0
        # AR(1) starts from its stationary law, so the first samples are not biased towards the median
        self._ar = options.sigma * float(self._rng.standard_normal()) if options.distribution == "ar1" else 0.0
        self.clock = time.perf_counter_ns if options.real_time else self._virtual_clock

    def _virtual_clock(self) -> int:
        return self._now

    def inputs(self) -> Sequence[IOSpec]:
        return self._inputs

    def outputs(self) -> Sequence[IOSpec]:
        return self._outputs

    def effective(self) -> dict[str, Any]:
        return {"distribution": self._o.distribution, "clock": "real" if self._o.real_time else "virtual"}

    def device_timer(self) -> FakeDeviceTimer | None:
        return FakeDeviceTimer(self) if self._o.device_timer else None

    def run(self, feeds: Mapping[str, np.ndarray]) -> Sequence[Any]:
        self._calls += 1
        if self._calls == 1:
            self._fail_on_first_run()
        if self._o.log_every_run:
            os.write(2, b"\x1b[0;93m2026-12-01 [W:fake] tensor layout mismatch, falling back\x1b[m\n")
        latency = self._draw()
        if self._o.real_time:
            time.sleep(latency)
        else:
            self._now += max(1, round(latency * 1e9))
        batch = next(iter(feeds.values())).shape[0] if feeds else 1
        return [self._rng.standard_normal((batch, 10)).astype("float32")]

    def _fail_on_first_run(self) -> None:
        crash = self._o.crash
        if crash == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        if crash == "run":
            raise BackendError("fake backend failed on purpose during run")
        if crash == "exit":
            sys.stdout.flush()
            os._exit(3)
        if crash == "user_error":
            raise UsageError("fake backend rejects these inputs on purpose", hint="this is a test")
        if crash == "hang":
            time.sleep(3600)

    def _draw(self) -> float:
        o, base = self._o, self._o.latency_s
        if o.distribution == "constant":
            return base
        if o.distribution == "ar1":
            # stationary AR(1) around the median with marginal sd = sigma·median
            innovation = o.sigma * math.sqrt(1.0 - o.rho**2) * float(self._rng.standard_normal())
            self._ar = o.rho * self._ar + innovation
            return max(base * (1.0 + self._ar), 1e-9)
        if o.distribution == "bimodal" and self._rng.random() < o.bimodal_weight:
            base *= 2.0
        if o.distribution == "drift":  # 0.1 % slower per call: a throttling device
            base *= 1.0 + 0.001 * self._calls
        return base * math.exp(o.sigma * float(self._rng.standard_normal()))

    def close(self) -> None:
        return None


class FakeBackend:
    name = "fake"
    formats = ("onnx", "tflite", "openvino", "torchscript", "exported_program")
    Options = FakeOptions

    def load(self, model_path: Path, spec: RunSpec, options: FakeOptions) -> FakeSession:
        if options.crash == "load":
            raise BackendError("fake backend failed on purpose while loading")
        return FakeSession(options, spec.seed, _model_io(model_path))

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
