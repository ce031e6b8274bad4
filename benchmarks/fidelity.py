"""Does edgebench report what a plain runtime loop sees? Interleaved fresh processes, one run.

For the default model (EfficientNet-Lite0, 1 thread, same seeded input) this alternates, for R rounds:
  A. `edgebench bench --processes 1` (fresh worker process, adaptive stop) → summary.latency_median_s
  B. a bare `session.run` loop in a fresh interpreter, timed with perf_counter_ns → median
and prints each round's ratio A/B, then the geometric-mean ratio with its 95 % CI from the paired
rounds (Student t on log ratios, edgebench.engine.stats.paired_ratio_ci). A CI that contains 1.00
means the harness neither hides nor adds latency beyond the machine's own noise.
Backends with a native peer tool (OpenVINO benchmark_app, litert-benchmark) add a B of their own.

Run:  python benchmarks/fidelity.py [--backend onnxruntime|openvino|litert] [--model M] [--rounds 5]
      [--seconds 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

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


def edgebench_median(model: str, backend: str, threads: int, seconds: float) -> tuple[float, int, str]:
    cmd = [
        sys.executable,
        "-m",
        "edgebench",
        "bench",
        model,
        "--backend",
        backend,
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


def peer_median(backend: str, path: str, threads: int, seconds: float) -> tuple[float, str]:
    """The reference measurement for ``backend``: a bare loop (ORT) or the runtime's own native tool."""
    if backend == "onnxruntime":
        return bare_median(path, threads, seconds)[0], "bare session.run loop"
    sys.path.insert(0, str(Path(__file__).parent))
    if backend == "openvino":
        from _native_openvino import native_median_s  # type: ignore[import-not-found]

        return native_median_s(path, threads, seconds), "benchmark_app -hint none -nstreams 1 -api sync"
    if backend == "litert":
        from _native_litert import native_median_s  # type: ignore[import-not-found]

        return native_median_s(path, threads, seconds), "litert-benchmark"
    raise SystemExit(f"no native peer for backend {backend!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="onnxruntime", choices=("onnxruntime", "openvino", "litert"))
    parser.add_argument("--model", default=None, help="default: efficientnet-lite0 (ONNX); litert: blazeface-short")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from edgebench.engine.stats import paired_ratio_ci

    model = args.model or ("blazeface-short" if args.backend == "litert" else "efficientnet-lite0")
    ratios, ebs, bares = [], [], []
    peer = "?"
    for r in range(args.rounds):
        eb, n_eb, path = edgebench_median(model, args.backend, args.threads, args.seconds)
        bare, peer = peer_median(args.backend, path, args.threads, args.seconds)
        ratios.append(eb / bare)
        ebs.append(eb)
        bares.append(bare)
        print(
            f"round {r + 1}: edgebench {eb * 1e3:7.3f} ms (n={n_eb})   {peer} {bare * 1e3:7.3f} ms   "
            f"ratio {eb / bare:.3f}"
        )
    ci = paired_ratio_ci(bares, ebs)
    bounds = f"[{ci.lo:.3f}, {ci.hi:.3f}]" if ci.lo is not None and ci.hi is not None else "(no CI: < 2 rounds)"
    print(
        f"{args.backend}: edgebench/{peer} ratio = {ci.ratio:.3f}, 95 % CI {bounds} over {args.rounds} "
        f"interleaved rounds (median of rounds {statistics.median(ratios):.3f})"
    )


if __name__ == "__main__":
    main()
