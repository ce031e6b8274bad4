"""Measured peaks: FP32 matmul (numpy, ONNX Runtime), INT8 ``MatMulInteger`` (ONNX Runtime) and
STREAM-like memory bandwidth (numpy), each "best of N" within a time budget.

Counting conventions (stated in every result's ``method``):

* matmul: ``2 × n³`` operations per ``n×n @ n×n`` product (one MAC = 2 ops, as the guide's TOPS);
* STREAM copy ``c = a`` counts ``2 × bytes`` (one read, one write); triad ``a = b + q·c`` counts
  ``3 × bytes``; like STREAM, write-allocate traffic is not counted, so hardware moves more bytes
  than reported.  Arrays are float64, as in STREAM.

numpy's BLAS thread count can only be set before numpy loads, so the numpy matmul runs in a fresh
interpreter with ``OPENBLAS_NUM_THREADS`` & co. set.  numpy ufuncs release the GIL, so the STREAM
kernels use one Python thread per requested thread, each on its own slice.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.errors import UsageError

Progress = Callable[[str], None]

MEASURED = "measured"
UNSUPPORTED = "unsupported"
FAILED = "failed"

MIB = 1024 * 1024
# Triad runs block-wise so that q·c lives in a cache-resident buffer and memory sees only 3 streams.
_TRIAD_BLOCK = 32 * 1024  # elements (256 KiB of float64)
_THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


@dataclass(frozen=True)
class MicrobenchConfig:
    threads: int
    duration_s: float = 2.0  # time budget per microbenchmark (after one warm-up call)
    matmul_n: int = 1024
    stream_bytes: int = 256 * MIB  # per array
    min_runs: int = 3

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise UsageError(f"threads must be at least 1, got {self.threads}", hint="use --threads 1 or more")
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):  # inf passes "> 0" and never ends
            raise UsageError(
                f"duration must be a positive finite number, got {self.duration_s}", hint="e.g. duration_s=2"
            )
        if self.matmul_n < 1 or self.stream_bytes < 8 or self.min_runs < 1:
            raise UsageError("matrix size, array size and run count must be positive")


@dataclass(frozen=True)
class PeakMeasurement:
    """One measured peak, in SI units (FLOP/s, OP/s, B/s); ``state`` is measured / unsupported / failed."""

    name: str
    precision: str
    state: str
    value: float | None
    unit: str
    threads: int
    runs: int
    best_s: float | None
    method: str
    detail: str | None = None


@dataclass(frozen=True)
class RidgePoint:
    """Roofline ridge: peak compute ÷ memory bandwidth, in operations per byte."""

    precision: str
    value: float | None
    compute: str | None
    bandwidth: str | None
    detail: str


def default_stream_bytes(llc_bytes: int | None, available_bytes: int | None) -> int:
    """≥ 4 × last-level cache (STREAM's rule), at least 64 MiB, at most 512 MiB and 1/8 of free RAM."""
    size = max(64 * MIB, 4 * (llc_bytes or 0))
    size = min(size, 512 * MIB)
    if available_bytes:
        size = min(size, max(available_bytes // 8, 8 * MIB))
    return size


def run_microbenchmarks(config: MicrobenchConfig, progress: Progress | None = None) -> tuple[PeakMeasurement, ...]:
    say = progress or (lambda _message: None)
    results: list[PeakMeasurement] = []
    for label, step in (
        ("FP32 matmul (numpy)", numpy_matmul),
        ("FP32 MatMul (ONNX Runtime)", ort_matmul_fp32),
        ("INT8 MatMulInteger (ONNX Runtime)", ort_matmul_int8),
    ):
        say(f"measuring {label} with {config.threads} thread(s)…")
        results.append(step(config))
    say(f"measuring memory bandwidth (STREAM copy, triad) with {config.threads} thread(s)…")
    try:
        results.extend(stream_bandwidth(config))
    except MemoryError:
        for name in ("stream_copy", "stream_triad"):
            note = f"could not allocate {config.stream_bytes} B per array"
            results.append(failed_peak(name, "fp64", "B/s", config.threads, "STREAM", note))
    return tuple(results)


def failed_peak(name: str, precision: str, unit: str, threads: int, method: str, note: str) -> PeakMeasurement:
    """A peak that could not be measured: kept in the report with the reason, never a silent zero."""
    return PeakMeasurement(name, precision, FAILED, None, unit, threads, 0, None, method, note)


def best_of(fn: Callable[[], object], duration_s: float, min_runs: int) -> tuple[float, int]:
    """(fastest time, number of timed runs): one untimed warm-up, then runs until the budget is spent."""
    fn()  # warm-up pays for page faults, kernel selection and thread-pool start
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < duration_s and len(times) < 100_000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return max(min(times), 1e-9), len(times)  # a zero time would make the rate infinite


# --- matmul ----------------------------------------------------------------------------------------


def _matmul_method(n: int, engine: str) -> str:
    return f"{engine}: {n}×{n} @ {n}×{n}, 2·n³ ops per product, best of N"


def numpy_matmul(config: MicrobenchConfig) -> PeakMeasurement:
    """numpy float32 matmul in a child interpreter whose BLAS is pinned to ``config.threads``."""
    n = config.matmul_n
    method = _matmul_method(n, "numpy float32 matmul (BLAS) in a child process")
    args = json.dumps({"n": n, "duration_s": config.duration_s, "min_runs": config.min_runs})
    code = "from edgebench.platform.microbench import numpy_child; numpy_child()"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, args],
            env=_child_env(config.threads),
            capture_output=True,
            text=True,
            timeout=60 + 5 * config.duration_s,
            check=False,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        return failed_peak(
            "fp32_matmul_numpy", "fp32", "FLOP/s", config.threads, method, f"{type(exc).__name__}: {exc}"
        )
    if result is None:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        note = f"child exited {done.returncode}: {tail}"
        return failed_peak("fp32_matmul_numpy", "fp32", "FLOP/s", config.threads, method, note)
    best_s, runs = float(result["best_s"]), int(result["runs"])
    return PeakMeasurement(
        "fp32_matmul_numpy",
        "fp32",
        MEASURED,
        2 * n**3 / best_s,
        "FLOP/s",
        config.threads,
        runs,
        best_s,
        method,
        f"BLAS: {result['blas']}",
    )


def numpy_child() -> None:
    """Entry point of the child interpreter: time the matmul and print one JSON line."""
    import numpy as np

    args = json.loads(sys.argv[1])
    n = int(args["n"])
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    best_s, runs = best_of(lambda: np.matmul(a, b, out=out), float(args["duration_s"]), int(args["min_runs"]))
    print(json.dumps({"best_s": best_s, "runs": runs, "blas": _blas_name(np)}))


def _blas_name(np: Any) -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # show_config's layout changes between numpy versions; the name is informative only
        return "unknown"


def _child_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({name: str(threads) for name in _THREAD_ENV})
    # The child must import this very package even when it is not installed (tests, a source tree).
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    return env


def ort_matmul_fp32(config: MicrobenchConfig) -> PeakMeasurement:
    return _ort_matmul(config, integer=False)


def ort_matmul_int8(config: MicrobenchConfig) -> PeakMeasurement:
    return _ort_matmul(config, integer=True)


def _ort_matmul(config: MicrobenchConfig, *, integer: bool) -> PeakMeasurement:
    n = config.matmul_n
    name, precision, unit = (
        ("int8_matmulinteger_ort", "int8", "OP/s") if integer else ("fp32_matmul_ort", "fp32", "FLOP/s")
    )
    op = "MatMulInteger uint8×int8→int32" if integer else "MatMul float32"
    method = _matmul_method(n, f"ONNX Runtime CPU EP {op}, constant B (prepacked like model weights)")
    try:
        session, feed = _ort_session(n, config.threads, integer=integer)
    except Exception as exc:  # an EP without the kernel is an expected outcome on some builds
        return PeakMeasurement(
            name,
            precision,
            UNSUPPORTED,
            None,
            unit,
            config.threads,
            0,
            None,
            method,
            f"{type(exc).__name__}: {exc}".splitlines()[0][:200],
        )
    best_s, runs = best_of(lambda: session.run(None, feed), config.duration_s, config.min_runs)
    return PeakMeasurement(
        name,
        precision,
        MEASURED,
        2 * n**3 / best_s,
        unit,
        config.threads,
        runs,
        best_s,
        method,
        f"onnxruntime {_ort_version()}",
    )


def _ort_session(n: int, threads: int, *, integer: bool) -> tuple[Any, dict[str, Any]]:
    import numpy as np
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    a: Any
    b: Any
    if integer:
        a = rng.integers(0, 256, (n, n), dtype=np.uint8)
        b = rng.integers(-128, 128, (n, n), dtype=np.int8)
    else:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    model = _matmul_model(b, integer=integer)
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return session, {"A": a}


def _matmul_model(b: Any, *, integer: bool) -> bytes:
    """A one-node graph ``Y = A @ B`` with ``B`` constant, built in memory."""
    from onnx import TensorProto, helper, numpy_helper

    n = int(b.shape[0])
    in_type, out_type = (TensorProto.UINT8, TensorProto.INT32) if integer else (TensorProto.FLOAT, TensorProto.FLOAT)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger" if integer else "MatMul", ["A", "B"], ["Y"])],
        "edgebench_peak",
        [helper.make_tensor_value_info("A", in_type, [n, n])],
        [helper.make_tensor_value_info("Y", out_type, [n, n])],
        initializer=[numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by every ONNX Runtime from 1.10 on (edge boxes lag behind)
    return bytes(model.SerializeToString())


def _ort_version() -> str:
    import onnxruntime

    return str(onnxruntime.__version__)


# --- STREAM ----------------------------------------------------------------------------------------


def stream_bandwidth(config: MicrobenchConfig) -> tuple[PeakMeasurement, PeakMeasurement]:
    """STREAM copy and triad on float64 arrays of ``config.stream_bytes`` each."""
    import numpy as np

    n = max(config.stream_bytes // 8, config.threads)
    a, b, c = np.full(n, 1.0), np.full(n, 2.0), np.full(n, 0.5)  # writing every page faults it in now
    bounds = np.linspace(0, n, config.threads + 1).astype(int)
    slices = [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]
    scratch = [np.empty(min(_TRIAD_BLOCK, n)) for _ in slices]
    q = 3.0

    def copy(i: int) -> None:
        np.copyto(c[slice(*slices[i])], a[slice(*slices[i])])

    def triad(i: int) -> None:
        triad_kernel(a, b, c, q, slices[i], scratch[i])

    size = f"float64 arrays of {n * 8 / MIB:.3g} MiB"
    return (
        _stream_result(
            "stream_copy",
            copy,
            2 * 8 * n,
            config,
            f"STREAM copy c=a, {size}, counts 2×bytes (read+write; write-allocate not counted), best of N",
        ),
        _stream_result(
            "stream_triad",
            triad,
            3 * 8 * n,
            config,
            f"STREAM triad a=b+q·c, {size}, counts 3×bytes (2 reads+1 write; write-allocate not counted), best of N",
        ),
    )


def triad_kernel(a: Any, b: Any, c: Any, q: float, bounds: tuple[int, int], tmp: Any) -> None:
    """``a[lo:hi] = b[lo:hi] + q·c[lo:hi]`` block by block, ``q·c`` staying in the cache-sized ``tmp``."""
    import numpy as np

    lo, hi = bounds
    for start in range(lo, hi, len(tmp)):
        end = min(start + len(tmp), hi)
        part = tmp[: end - start]
        np.multiply(c[start:end], q, out=part)
        np.add(b[start:end], part, out=a[start:end])


def _stream_result(
    name: str, kernel: Callable[[int], None], counted_bytes: int, config: MicrobenchConfig, method: str
) -> PeakMeasurement:
    run = _parallel(kernel, config.threads)
    try:
        best_s, runs = best_of(run.step, config.duration_s, config.min_runs)
    finally:
        run.close()
    return PeakMeasurement(
        name,
        "fp64",
        MEASURED,
        counted_bytes / best_s,
        "B/s",
        config.threads,
        runs,
        best_s,
        method,
        "numpy ufuncs, one Python thread per slice (ufuncs release the GIL)",
    )


class _parallel:
    """Runs ``kernel(i)`` for every slice ``i`` on a pool of ``threads`` threads, once per ``step``."""

    def __init__(self, kernel: Callable[[int], None], threads: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._kernel = kernel
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None

    def step(self) -> None:
        if self._pool is None:
            self._kernel(0)
            return
        for future in [self._pool.submit(self._kernel, i) for i in range(self._threads)]:
            future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def ridge_points(peaks: tuple[PeakMeasurement, ...]) -> tuple[RidgePoint, ...]:
    """FP32 and INT8 ridge points from the best measured compute and the measured triad bandwidth."""
    measured = {p.name: p for p in peaks if p.state == MEASURED and p.value}
    triad = measured.get("stream_triad")
    points = []
    for precision in ("fp32", "int8"):
        compute = max(
            (p for p in measured.values() if p.precision == precision), key=lambda p: p.value or 0.0, default=None
        )
        if compute is None or triad is None:
            missing = "compute peak" if compute is None else "triad bandwidth"
            points.append(
                RidgePoint(
                    precision,
                    None,
                    compute.name if compute else None,
                    triad.name if triad else None,
                    f"not derivable: no measured {missing}",
                )
            )
            continue
        value = (compute.value or 0.0) / (triad.value or 1.0)
        points.append(
            RidgePoint(
                precision,
                value,
                compute.name,
                triad.name,
                f"{compute.name} ÷ stream_triad (ops per byte); kernels below it are memory-bound",
            )
        )
    return tuple(points)
