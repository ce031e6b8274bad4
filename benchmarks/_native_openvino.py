"""OpenVINO's own benchmark_app as the native peer of `edgebench bench --backend openvino`.

benchmark_app's Median is the median of ``InferRequest.latency``: the time of ``infer()`` measured in
C++ around the plugin call, inputs filled once before the loop (its default for static models), no
Python call overhead and no output copy. edgebench's sample is one ``session.run`` in Python
(``infer()`` + copying the outputs out), so on small models edgebench may read a few µs higher.

The flags pin what edgebench's defaults pin: one stream, N threads, sync API and f32 precision
(``-infer_precision f32``: without it the CPU plugin runs bf16 on AVX-512 BF16 / AMX CPUs).
benchmark_app refuses ``-nstreams``/``-nthreads`` unless ``-hint none`` (its own UI rule).

Run:  python benchmarks/_native_openvino.py MODEL [--threads 1] [--seconds 10]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

_MEDIAN = re.compile(r"Median:\s+([0-9.]+)\s+(ms|us)\b")
_UNIT_S = {"ms": 1e-3, "us": 1e-6}


def benchmark_app() -> str:
    """The benchmark_app installed beside this interpreter (the venv's, not whatever PATH finds)."""
    return str(Path(sys.executable).with_name("benchmark_app"))


def native_command(model_path: str, threads: int, seconds: float) -> list[str]:
    return [
        benchmark_app(),
        "-m", model_path,
        "-d", "CPU",
        "-hint", "none",
        "-nstreams", "1",
        "-nthreads", str(threads),
        "-api", "sync",
        "-infer_precision", "f32",
        "-t", f"{seconds:g}",
    ]  # fmt: skip


def parse_median_s(output: str) -> float:
    """benchmark_app prints ``Median: 5.03 ms`` (or ``… us`` when the mean is under 1 ms)."""
    found = _MEDIAN.findall(output)
    if not found:
        raise ValueError("benchmark_app printed no 'Median:' line:\n" + output[-2000:])
    value, unit = found[0]  # the overall median comes first; per-group medians (dynamic shapes) follow
    return float(value) * _UNIT_S[unit]


def native_median_s(model_path: str, threads: int, seconds: float) -> float:
    result = subprocess.run(native_command(model_path, threads, seconds), capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"benchmark_app exited {result.returncode}:\n{output[-2000:]}")
    return parse_median_s(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    median = native_median_s(args.model, args.threads, args.seconds)
    print(f"benchmark_app median: {median * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
