"""The native reference for the LiteRT backend: the ``litert-benchmark`` tool that ships with ai-edge-litert.

What it measures (ai_edge_litert/tools/benchmark_litert_model.py): the CompiledModel API on the CPU
accelerator (XNNPACK), inputs written once into pre-made TensorBuffers before the loop, then
``run_by_name`` per run timed with ``perf_counter`` — no input copy and no output read inside the
timing. It has no time-based stop (only ``--num_runs``), so a short calibration run sizes the real one.
It reports mean and median rounded to 0.01 ms; we read the median from its ``--result_json``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

_TOOL = Path(sys.executable).with_name("litert-benchmark")
_CALIBRATION_RUNS = 50


def native_median_s(model_path: str, threads: int, seconds: float) -> float:
    """Median latency (s) that ``litert-benchmark`` reports for ``model_path`` run for about ``seconds``."""
    calibration = _latency(model_path, threads, runs=_CALIBRATION_RUNS, warmup=5, field="avg_ms")
    runs = max(_CALIBRATION_RUNS, math.ceil(seconds / max(calibration, 1e-5)))
    return _latency(model_path, threads, runs=runs, warmup=max(5, runs // 20), field="median_ms")


def _latency(model_path: str, threads: int, *, runs: int, warmup: int, field: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [
            str(_TOOL),
            "--model",
            model_path,
            "--num_threads",
            str(threads),
            "--num_runs",
            str(runs),
            "--warmup_runs",
            str(warmup),
            "--result_json",
            str(result),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0 or not result.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"litert-benchmark failed ({done.returncode}): {' | '.join(tail)}")
        latency = json.loads(result.read_text())["latency"]
    # 0.01 ms rounding: below ~0.2 ms the reported figure carries a few percent of quantisation
    return float(latency[field]) / 1000.0


if __name__ == "__main__":
    print(native_median_s(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
