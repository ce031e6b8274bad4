"""Real ONNX Runtime on small graphs built in the test, in a fresh subprocess (the default)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebench.backends.onnxruntime import OnnxRuntimeBackend, OrtOptions
from edgebench.engine.bench import run_benchmark
from edgebench.errors import BackendError, BackendUnavailable, ModelError, UsageError
from edgebench.records import RunSpec
from edgebench.zoo import resolve_model
from tests.conftest import make_onnx, quick_spec

pytestmark = pytest.mark.slow


def spec_for(path: Path, **kw: object) -> RunSpec:
    return quick_spec(path, **{"threads": 1, "warmup_time_s": 0.05, "processes": 1, **kw})


def test_subprocess_run_with_dynamic_batch(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "dyn.onnx")
    rec = run_benchmark(spec_for(model, batch=8), store=None)
    assert rec.status == "ok", rec.error
    m, s = rec.measurements, rec.summary
    assert m.inputs[0].shape == (8, 16) and m.outputs[0].shape == (8, 16)
    assert s.batch == 8 and s.iterations >= 50 and m.window_wall_s >= 0.2
    assert 0 < s.latency_min_s <= s.latency_median_s <= s.latency_p99_s <= s.latency_max_s
    assert rec.environment.runtime_versions["onnxruntime"]
    assert rec.environment.thread_settings["intra_op_threads"] == 1
    assert rec.effective["providers"] == ("CPUExecutionProvider",) and rec.effective["intra_op_threads"] == 1
    # peak RSS belongs to the fresh worker process: it includes the ORT import, so > 20 MiB
    assert s.peak_rss_bytes and s.peak_rss_bytes > 20 * 2**20
    # window, CPU time and samples cover the same segments: one thread cannot exceed ~one core
    assert s.cpu_util_pct_one_core is not None and s.cpu_util_pct_one_core < 101
    assert 0 <= m.window_overhead_s < m.window_wall_s and m.timer_resolution_s <= 1e-6
    assert rec.environment.captured_by == "worker" and rec.executor == "local"


def test_processes_give_one_record_with_a_two_level_ci(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "m.onnx")
    rec = run_benchmark(spec_for(model, processes=2, min_time_s=0.1), store=None)
    assert rec.status == "ok" and len(rec.processes) == 2 and rec.summary.processes == 2
    first, second = rec.processes
    assert first.environment.pid != second.environment.pid  # two fresh processes
    assert first.sample_count + second.sample_count == len(rec.measurements.latencies_ns)
    assert second.sample_start == first.sample_count
    lo, hi = rec.summary.latency_ci95_s
    assert lo <= rec.summary.latency_median_s <= hi and rec.summary.ci_method.startswith("two_level")


def test_integer_inputs_and_session_options(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "int.onnx", batch=2, dtype="int64")
    spec = spec_for(
        model,
        backend_options={
            "graph_optimization": "basic",
            "execution_mode": "sequential",
            "cpu_mem_arena": False,
            "inter_op_threads": 1,
            "session_config": {"session.intra_op.allow_spinning": "0"},
        },
    )
    rec = run_benchmark(spec, store=None, executor="inline")
    assert rec.status == "ok"
    assert rec.measurements.inputs[0].dtype == "int64"
    assert rec.effective["graph_optimization"] == "ORT_ENABLE_BASIC" and rec.effective["cpu_mem_arena"] is False
    assert rec.summary.batch == 1  # a fixed [2, 16] input is not a batch unless --batch-dim says so


def test_outputs_match_numpy(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "m.onnx")
    session = OnnxRuntimeBackend().load(model, spec_for(model), OrtOptions())
    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    (y,) = session.run({"x": x})
    np.testing.assert_allclose(y, np.maximum(x, 0), rtol=1e-6)
    assert [i.shape for i in session.inputs()] == [("N", 16)]


def test_missing_execution_provider_is_named(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "m.onnx")
    with pytest.raises(BackendUnavailable, match="TensorrtExecutionProvider"):
        OnnxRuntimeBackend().load(model, spec_for(model), OrtOptions(providers=("TensorrtExecutionProvider",)))
    # through the engine, in the worker: the same error reaches the caller, nothing is stored
    with pytest.raises(BackendUnavailable, match="TensorrtExecutionProvider"):
        run_benchmark(spec_for(model, backend_options={"providers": ["TensorrtExecutionProvider"]}), store=None)


def test_ort_errors_are_translated(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "m.onnx")
    session = OnnxRuntimeBackend().load(model, spec_for(model), OrtOptions())
    with pytest.raises(BackendError, match="onnxruntime failed to run the model"):
        session.run({"x": np.zeros((2, 3), dtype=np.float32)})  # wrong feature size
    with pytest.raises(BackendError, match="refused session config"):
        OnnxRuntimeBackend().load(model, spec_for(model), OrtOptions(session_config={"": "x"}))


def test_unknown_rank_and_sequence_inputs_are_user_errors(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "unranked.onnx"))
    with pytest.raises(ModelError, match="unknown rank"):
        run_benchmark(spec_for(tmp_path / "unranked.onnx"), store=None, executor="inline")
    rec = run_benchmark(spec_for(tmp_path / "unranked.onnx", shapes={"x": (2, 3)}), store=None, executor="inline")
    assert rec.measurements.inputs[0].shape == (2, 3)

    seq = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, None)
    out = helper.make_tensor_value_info("n", TensorProto.INT64, [])
    g2 = helper.make_graph([helper.make_node("SequenceLength", ["s"], ["n"])], "g", [seq], [out])
    m2 = helper.make_model(g2, opset_imports=[helper.make_opsetid("", 13)])
    m2.ir_version = 8
    onnx.save(m2, str(tmp_path / "seq.onnx"))
    with pytest.raises(UsageError, match="tensor inputs only"):
        run_benchmark(spec_for(tmp_path / "seq.onnx"), store=None)


def test_runtime_rejects_a_graph_the_checker_passes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07" + b"\xff" * 64)
    with pytest.raises(ModelError):
        resolve_model(str(bad))
