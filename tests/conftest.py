"""Shared fixtures: tiny ONNX graphs built in the test, fake-backend specs, isolated dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.records import RunSpec


def make_onnx(path: Path, *, batch: int | str = "N", features: int = 16, dtype: str = "float") -> Path:
    """A MatMul+Relu graph with a (possibly dynamic) batch dimension."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    elem = {"float": TensorProto.FLOAT, "int64": TensorProto.INT64}[dtype]
    x = helper.make_tensor_value_info("x", elem, [batch, features])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, features])
    w = numpy_helper.from_array(np.eye(features, dtype=np.float32), "w")
    nodes = [helper.make_node("MatMul", ["xf", "w"], ["m"]), helper.make_node("Relu", ["m"], ["y"])]
    nodes.insert(0, helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT))
    graph = helper.make_graph(nodes, "tiny", [x], [y], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def tiny_onnx(tmp_path: Path) -> Path:
    return make_onnx(tmp_path / "tiny.onnx")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the developer's real cache or results database from a test.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def quick_spec(model_path: Path, **kw: object) -> RunSpec:
    """A short real-backend run: 50 iterations / 0.2 s minimum, little warm-up."""
    base: dict[str, object] = dict(
        model=str(model_path),
        model_path=str(model_path),
        warmup_time_s=0.01,
        min_time_s=0.2,
        max_time_s=5.0,
        min_iters=50,
    )
    base.update(kw)
    return RunSpec(**base)  # type: ignore[arg-type]


def fake_spec(model_path: Path, **kw: object) -> RunSpec:
    """The same on the fake backend (virtual clock: instant); one process unless told otherwise."""
    return quick_spec(model_path, **{"backend": "fake", "processes": 1, **kw})


def run_inline(spec: RunSpec):  # type: ignore[no-untyped-def]
    """Validate, resolve and measure ``spec`` in this process (no store), as `bench --executor inline` does."""
    from edgebench.engine.bench import run_benchmark

    return run_benchmark(spec, store=None, executor="inline")
