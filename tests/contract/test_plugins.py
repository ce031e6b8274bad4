"""One contract suite over every registered plugin, fakes included.

A plugin added later (a backend, a scenario, an executor…) is covered by being registered as an
entry point: these tests enumerate the registry, nothing else needs to change.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from edgebench import protocols, registry
from edgebench.engine.validate import validate_spec
from edgebench.records import RunSpec
from tests.conftest import make_onnx

PLUGINS = [(group, name) for group in registry.GROUPS for name in registry.names(group)]


@pytest.mark.parametrize(("group", "name"), PLUGINS)
def test_plugin_loads_and_passes_the_contract(group: str, name: str) -> None:
    plugin = registry.load(group, name)
    registry.check_contract(group, name, plugin)  # the same check load() ran; must stay green
    field = next(iter(getattr(plugin, "Options", object).__dict__.get("model_fields", {})), None)
    if field is not None:
        from pydantic import ValidationError

        with pytest.raises(ValidationError, match="frozen"):
            setattr(plugin.Options(), field, None)  # options are immutable once validated


def _backends() -> list[str]:
    return registry.names("edgebench.backends")


def sample_model(fmt: str, folder: Path) -> Path:
    """A small real model file of each built-in format (a new format adds its sample here)."""
    if fmt == "onnx":
        return make_onnx(folder / "tiny.onnx")
    if fmt == "tflite":
        return Path(__file__).parents[1] / "data" / "mobilenet_v1_0.25_128_quant.tflite"
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Linear(16, 4), torch.nn.ReLU()).eval()
    if fmt == "torchscript":
        path = folder / "tiny.pt"
        torch.jit.save(torch.jit.script(module), str(path))
        return path
    if fmt == "exported_program":
        path = folder / "tiny.pt2"
        torch.export.save(torch.export.export(module, (torch.zeros(2, 16),)), str(path))
        return path
    if fmt == "openvino":
        ov = pytest.importorskip("openvino")
        path = folder / "tiny.xml"
        ov.save_model(ov.convert_model(str(make_onnx(folder / "src.onnx"))), str(path))
        return path
    raise AssertionError(f"no sample model for format {fmt!r}: add one to sample_model()")


@pytest.mark.parametrize("name", _backends())
def test_backend_sessions_honour_the_session_protocol(name: str, tmp_path: Path) -> None:
    backend_cls = registry.load("edgebench.backends", name)
    model = sample_model(backend_cls.formats[0], tmp_path)
    spec = validate_spec(RunSpec(model=str(model), model_path=str(model), backend=name))
    options = backend_cls.Options.model_validate(dict(spec.backend_options))
    try:
        session = backend_cls().load(model, spec, options)
    except Exception as exc:  # a runtime that is not installed is allowed to say so, cleanly
        from edgebench.errors import BackendUnavailable

        assert isinstance(exc, BackendUnavailable), exc
        return
    registry.check_session(name, session)
    assert isinstance(session, protocols.Session)
    specs = list(session.inputs())
    assert all(isinstance(s, protocols.IOSpec) for s in specs)
    assert isinstance(backend_cls().versions(), dict)
    session.close()


@pytest.mark.parametrize("name", registry.names("edgebench.scenarios"))
def test_scenarios_open_the_window_once_and_fill_the_outcome(name: str, tiny_onnx: Path) -> None:
    from tests.conftest import fake_spec, run_inline

    options: dict[str, object] = {"calls": 5} if name == "fake" else {"tail": "none"}
    if name in ("single_stream", "multi_stream", "server", "offline"):  # MLPerf LoadGen: its own options
        pytest.importorskip("mlperf_loadgen")
        options = {"min_duration_s": 0.05, "min_queries": 5, **({"target_qps": 200.0} if name == "server" else {})}
    rec = run_inline(fake_spec(tiny_onnx, scenario=name, scenario_options=options, min_iters=5))
    assert rec.status == "ok" and rec.scenario.name == name
    assert rec.measurements.window is not None and rec.measurements.latencies_ns


@pytest.mark.parametrize("name", registry.names("edgebench.formats"))
def test_formats_declare_suffixes_and_list_their_files(name: str) -> None:
    fmt = registry.load("edgebench.formats", name)()
    assert fmt.suffixes and all(s.startswith(".") for s in fmt.suffixes)
    assert len(inspect.signature(fmt.detect).parameters) == 2


@pytest.mark.parametrize("name", registry.names("edgebench.executors"))
def test_executors_return_records(name: str, tiny_onnx: Path) -> None:
    from edgebench.engine.bench import make_job
    from tests.conftest import fake_spec

    job = make_job(validate_spec(fake_spec(tiny_onnx, min_iters=5, scenario_options={"tail": "none"})), None, False)
    record = registry.load("edgebench.executors", name)().submit(job)
    assert record.status == "ok" and record.executor == name
