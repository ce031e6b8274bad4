"""Real ONNX Runtime on small graphs built in the test, in a fresh subprocess (the default)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebench.backends.onnxruntime import OnnxRuntimeBackend
from edgebench.engine import launcher
from edgebench.errors import BackendUnavailable, ModelError
from edgebench.records import RunSpec
from edgebench.zoo import resolve_model
from tests.conftest import make_onnx, quick_spec

pytestmark = pytest.mark.slow


def spec_for(path: Path, **kw: object) -> RunSpec:
    return quick_spec(path, **{"threads": 1, "warmup_time_s": 0.05, **kw})


def test_subprocess_run_with_dynamic_batch(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "dyn.onnx")
    rec = launcher.run(spec_for(model, batch=8), resolve_model(str(model)).info)
    assert rec.status == "ok", rec.error
    m, s = rec.measurements, rec.summary
    assert m.inputs[0].shape == (8, 16) and m.outputs[0].shape == (8, 16)
    assert s.batch == 8 and s.iterations >= 50 and m.window_wall_s >= 0.2
    assert 0 < s.latency_min_s <= s.latency_median_s <= s.latency_p99_s <= s.latency_max_s
    assert rec.environment.runtime_versions["onnxruntime"]
    assert rec.environment.thread_settings["intra_op_threads"] == 1
    # peak RSS belongs to the fresh worker process: it includes the ORT import, so > 20 MiB
    assert s.peak_rss_bytes and s.peak_rss_bytes > 20 * 2**20


def test_integer_inputs_and_session_options(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "int.onnx", batch=2, dtype="int64")
    spec = spec_for(
        model,
        inline=True,
        backend_options={
            "graph_optimization": "basic",
            "execution_mode": "sequential",
            "cpu_mem_arena": False,
            "inter_op_threads": 1,
            "session_config": {"session.intra_op.allow_spinning": "0"},
        },
    )
    rec = launcher.run(spec, resolve_model(str(model)).info)
    assert rec.status == "ok"
    assert rec.measurements.inputs[0].dtype == "int64"


def test_outputs_match_numpy(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "m.onnx")
    session = OnnxRuntimeBackend().load(model, spec_for(model))
    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    (y,) = session.run({"x": x})
    np.testing.assert_allclose(y, np.maximum(x, 0), rtol=1e-6)
    assert [i.shape for i in session.inputs()] == [("N", 16)]


def test_missing_execution_provider_is_named(tmp_path: Path) -> None:
    model = make_onnx(tmp_path / "m.onnx")
    with pytest.raises(BackendUnavailable, match="TensorrtExecutionProvider"):
        OnnxRuntimeBackend().load(model, spec_for(model, backend_options={"providers": ["TensorrtExecutionProvider"]}))


def test_runtime_rejects_a_graph_the_checker_passes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07" + b"\xff" * 64)
    with pytest.raises(ModelError):
        resolve_model(str(bad))
