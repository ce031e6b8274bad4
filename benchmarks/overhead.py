"""Harness overhead per iteration versus a bare ``session.run`` loop, measured side by side.

Both loops run the same tiny ONNX model (Relu on 1×16) in this process with one thread; rounds
alternate bare/harness (ABAB…) so drift and background load hit both equally. The figure is

    overhead per iteration = (median harness round time − median bare round time) ÷ iterations

Target: ≤ 2 µs per iteration. Run:  python benchmarks/overhead.py [--iters 20000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from edgebench.backends.onnxruntime import OnnxRuntimeBackend, OrtOptions
from edgebench.records import RunSpec
from edgebench.scenarios.single_stream import StopRule, steady_state

TARGET_US = 2.0


def tiny_model(path: Path) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "tiny", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def bare_round(session: ort.InferenceSession, feeds: dict[str, np.ndarray], iters: int) -> float:
    run = session.run
    names = [o.name for o in session.get_outputs()]  # as OrtSession passes them: isolate the loop's cost
    t0 = time.perf_counter()
    for _ in range(iters):
        run(names, feeds)
    return time.perf_counter() - t0


def harness_round(session: object, feeds: dict[str, np.ndarray], iters: int) -> float:
    # min_iters = iters with min_time 0 and adaptive stop off: exactly `iters` timed calls,
    # including the periodic stop checks the real runs do.
    rule = StopRule(min_ns=0, max_ns=3600 * 10**9, min_iters=iters, target_ci=0.0)
    t0 = time.perf_counter()
    # the CPU clock is read at each check as in real runs
    result = steady_state(session, feeds, time.perf_counter_ns, rule, cpu_clock=time.process_time_ns)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t0
    assert len(result.latencies_ns) == iters
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = tiny_model(Path(tmp) / "tiny.onnx")
        spec = RunSpec(model=str(path), model_path=str(path), threads=1)
        harness_session = OnnxRuntimeBackend().load(path, spec, OrtOptions())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        bare_session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        feeds = {"x": np.ones((1, 16), dtype=np.float32)}
        bare_round(bare_session, feeds, 2000)  # warm both
        harness_round(harness_session, feeds, 2000)
        bare, harness = [], []
        for _ in range(args.rounds):
            bare.append(bare_round(bare_session, feeds, args.iters))
            harness.append(harness_round(harness_session, feeds, args.iters))
    per_bare = statistics.median(bare) / args.iters * 1e6
    per_harness = statistics.median(harness) / args.iters * 1e6
    overhead = per_harness - per_bare
    print(f"bare session.run loop : {per_bare:8.3f} µs/iteration (median of {args.rounds} rounds × {args.iters})")
    print(f"edgebench harness     : {per_harness:8.3f} µs/iteration")
    print(
        f"harness overhead      : {overhead:8.3f} µs/iteration  (ratio {per_harness / per_bare:.3f}×, "
        f"target ≤ {TARGET_US} µs: {'PASS' if overhead <= TARGET_US else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
