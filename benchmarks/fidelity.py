"""Does edgebench report what a plain runtime loop sees? Interleaved fresh processes, one run.

For the default model (EfficientNet-Lite0, 1 thread, same seeded input) this alternates, for R rounds:
  A. `edgebench bench --processes 1` (fresh worker process, adaptive stop) → summary.latency_median_s
  B. a bare `session.run` loop in a fresh interpreter, timed with perf_counter_ns → median
and prints each round's ratio A/B, then the geometric-mean ratio with its 95 % CI from the paired
rounds (Student t on log ratios, edgebench.engine.stats.paired_ratio_ci). A CI that contains 1.00
means the harness neither hides nor adds latency beyond the machine's own noise.
Backends with a native peer tool (OpenVINO benchmark_app, litert-benchmark) add a B of their own.

Run:  python benchmarks/fidelity.py [--rounds 5] [--seconds 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

BARE = r"""
import json, sys, time
import numpy as np, onnxruntime as ort
path, threads, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
opts = ort.SessionOptions(); opts.intra_op_num_threads = threads
s = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32)
for _ in range(20): s.run(None, {"input": x})
lat = []; end = time.perf_counter() + seconds
while time.perf_counter() < end:
    t0 = time.perf_counter_ns(); s.run(None, {"input": x}); lat.append(time.perf_counter_ns() - t0)
print(json.dumps({"median_s": float(np.median(lat)) / 1e9, "n": len(lat)}))
"""


def edgebench_median(threads: int, seconds: float) -> tuple[float, int, str]:
    cmd = [
        sys.executable,
        "-m",
        "edgebench",
        "bench",
        "--threads",
        str(threads),
        "--min-time",
        str(seconds),
        "--max-time",
        str(seconds * 3),
        "--processes",
        "1",
        "--no-store",
        "--json",
    ]
    rec = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return rec["summary"]["latency_median_s"], rec["summary"]["iterations"], rec["model"]["path"]


def bare_median(path: str, threads: int, seconds: float) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", BARE, path, str(threads), str(seconds)], check=True, capture_output=True, text=True
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["median_s"], data["n"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from edgebench.engine.stats import paired_ratio_ci

    ratios, ebs, bares = [], [], []
    for r in range(args.rounds):
        eb, n_eb, path = edgebench_median(args.threads, args.seconds)
        bare, n_bare = bare_median(path, args.threads, args.seconds)
        ratios.append(eb / bare)
        ebs.append(eb)
        bares.append(bare)
        print(
            f"round {r + 1}: edgebench {eb * 1e3:7.3f} ms (n={n_eb})   bare loop {bare * 1e3:7.3f} ms "
            f"(n={n_bare})   ratio {eb / bare:.3f}"
        )
    ci = paired_ratio_ci(bares, ebs)
    bounds = f"[{ci.lo:.3f}, {ci.hi:.3f}]" if ci.lo is not None and ci.hi is not None else "(no CI: < 2 rounds)"
    print(
        f"edgebench/bare ratio = {ci.ratio:.3f}, 95 % CI {bounds} over {args.rounds} interleaved rounds "
        f"(median of rounds {statistics.median(ratios):.3f})"
    )


if __name__ == "__main__":
    main()
