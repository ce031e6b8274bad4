"""Real PyTorch on tiny models built in the test: TorchScript (.pt) and ExportedProgram (.pt2)."""

from __future__ import annotations

import io
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgebench import registry  # noqa: E402
from edgebench.backends.torch import TorchBackend, TorchOptions, _weights_only  # noqa: E402
from edgebench.engine.bench import run_benchmark  # noqa: E402
from edgebench.errors import BackendError, ModelError, ShapeError, UsageError  # noqa: E402
from edgebench.protocols import Configured, DeviceTimed, Preparable  # noqa: E402
from edgebench.records import RunSpec  # noqa: E402
from tests.cli_helpers import run_cli  # noqa: E402

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="torch.cuda.is_available() is False on this machine")
SHAPE = (2, 3, 16, 16)
# torch 2.13 deprecates torch.jit; TorchScript files are still a format users hold
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
FAST = ["--warmup-time", "0.01", "--min-time", "0.05", "--min-iters", "10"]


class TinyNet(torch.nn.Module):  # type: ignore[misc]
    """Conv → BN → ReLU → pool → Linear: the layer kinds of a small vision model."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.bn(self.conv(image))).mean((2, 3)))


def _eager() -> TinyNet:
    torch.manual_seed(0)
    net = TinyNet().eval()
    with torch.no_grad():  # non-trivial BN statistics, so a wrongly-applied BN changes the output
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 2.0)
    return net


def save_script(path: Path, *, trace: bool = False) -> Path:
    net = _eager()
    module = torch.jit.trace(net, torch.zeros(SHAPE)) if trace else torch.jit.script(net)
    module.save(str(path))
    return path


def save_exported(path: Path) -> Path:
    net = _eager()
    dims = {"image": {0: torch.export.Dim("batch", min=1, max=64)}}
    torch.export.save(torch.export.export(net, (torch.zeros(SHAPE),), dynamic_shapes=dims), str(path))
    return path


def spec_for(path: Path, **kw: object) -> RunSpec:
    base: dict[str, object] = dict(
        model=str(path), backend="torch", processes=1, warmup_time_s=0.05, min_time_s=0.2, min_iters=50, threads=1
    )
    base.update(kw)
    return RunSpec(**base)  # type: ignore[arg-type]


def feed() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)


def expected(x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = _eager()(torch.from_numpy(x)).numpy()
    return out


def load(path: Path, precision: str = "fp32", **options: object) -> object:
    return TorchBackend().load(path, spec_for(path, precision=precision), TorchOptions(**options))  # type: ignore[arg-type]


@pytest.mark.slow
def test_torchscript_through_the_engine_in_a_fresh_process(tmp_path: Path) -> None:
    model = save_script(tmp_path / "net.pt")
    rec = run_benchmark(spec_for(model, shapes={"image": SHAPE}), store=None)
    assert rec.status == "ok", rec.error
    assert rec.model.format == "torchscript" and rec.summary.iterations >= 50
    assert rec.measurements.inputs[0].shape == SHAPE and rec.measurements.outputs[0].shape == (2, 5)
    eff = rec.effective
    assert eff["device"] == "cpu" and eff["precision"] == "fp32" and eff["parameter_dtype"] == "float32"
    assert eff["intra_op_threads"] == 1 and eff["inference_mode"] is True and eff["compile"] is False
    assert rec.environment.runtime_versions["torch"] == torch.__version__
    assert rec.measurements.device_latencies_ns == ()  # CPU: no device timer, host timing only


@pytest.mark.slow
def test_exported_program_shapes_come_from_the_graph(tmp_path: Path) -> None:
    model = save_exported(tmp_path / "net.pt2")
    rec = run_benchmark(spec_for(model, batch=4, min_iters=20, min_time_s=0.05), store=None, executor="inline")
    assert rec.status == "ok" and rec.model.format == "exported_program"
    assert rec.measurements.inputs[0].shape == (4, 3, 16, 16) and rec.measurements.outputs[0].shape == (4, 5)
    session = load(model)
    (image,) = session.inputs()  # type: ignore[attr-defined]
    assert image.name == "image" and image.dtype == "float32"
    assert isinstance(image.shape[0], str) and image.shape[1:] == (3, 16, 16)  # symbolic batch keeps a name


def test_torchscript_without_a_shape_asks_for_one(tmp_path: Path) -> None:
    model = save_script(tmp_path / "net.pt")
    with pytest.raises(ShapeError, match="unknown rank") as info:
        run_benchmark(spec_for(model, min_time_s=0.05), store=None, executor="inline")
    assert "--shape image=" in (info.value.hint or "")


@pytest.mark.parametrize(("name", "saver"), [("s.pt", save_script), ("t.pt", "trace"), ("e.pt2", save_exported)])
def test_outputs_match_the_eager_module(tmp_path: Path, name: str, saver: object) -> None:
    path = save_script(tmp_path / name, trace=True) if saver == "trace" else saver(tmp_path / name)  # type: ignore[operator]
    x = feed()
    session = load(path)
    assert isinstance(session, Preparable) and isinstance(session, DeviceTimed) and isinstance(session, Configured)
    (y,) = session.run(session.prepare({"image": x}))  # type: ignore[attr-defined]
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    np.testing.assert_allclose(y, expected(x), rtol=1e-5, atol=1e-6)
    assert session.device_timer() is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_reduced_precision_casts_module_and_inputs(tmp_path: Path, precision: str) -> None:
    path = save_exported(tmp_path / "net.pt2")
    x = feed()
    session = load(path, precision)
    (y,) = session.run(session.prepare({"image": x}))  # type: ignore[attr-defined]
    want = "bfloat16" if precision == "bf16" else "float16"
    assert session.effective()["parameter_dtype"] == want  # type: ignore[attr-defined]
    # bf16 outputs are widened to float32 on the host (numpy has no bfloat16); fp16 stays fp16
    assert y.dtype == (np.float32 if precision == "bf16" else np.float16)
    np.testing.assert_allclose(y.astype(np.float32), expected(x), rtol=0.05, atol=0.05)
    assert not np.array_equal(y.astype(np.float32), expected(x))  # it really ran in reduced precision


def test_bf16_precision_is_recorded(tmp_path: Path) -> None:
    model = save_script(tmp_path / "net.pt")
    spec = spec_for(model, precision="bf16", shapes={"image": SHAPE}, min_iters=20, min_time_s=0.05)
    rec = run_benchmark(spec, store=None, executor="inline")
    assert rec.spec.precision == "bf16" and rec.effective["precision"] == "bf16"
    assert rec.effective["parameter_dtype"] == "bfloat16"


def test_channels_last_and_no_grad_give_the_same_outputs(tmp_path: Path) -> None:
    path = save_script(tmp_path / "net.pt")
    x = feed()
    session = load(path, channels_last=True, inference_mode=False, copy_outputs=False)
    prepared = session.prepare({"image": x})  # type: ignore[attr-defined]
    assert prepared[0].is_contiguous(memory_format=torch.channels_last)
    (y,) = session.run(prepared)  # type: ignore[attr-defined]
    assert isinstance(y, torch.Tensor)  # copy_outputs=False: the device tensor, no host copy timed
    np.testing.assert_allclose(y.numpy(), expected(x), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("c++") is None and shutil.which("g++") is None, reason="inductor needs a C++ compiler")
def test_compile_on_cpu_matches_eager(tmp_path: Path) -> None:
    path = save_exported(tmp_path / "net.pt2")
    x = feed()
    session = load(path, compile=True)
    prepared = session.prepare({"image": x})  # type: ignore[attr-defined]
    for _ in range(2):  # the first call compiles; the second runs the compiled code
        (y,) = session.run(prepared)  # type: ignore[attr-defined]
    np.testing.assert_allclose(y, expected(x), rtol=1e-4, atol=1e-5)
    eff = session.effective()  # type: ignore[attr-defined]
    assert eff["compile"] is True and eff["compile_mode"] == "default"


def test_compile_refuses_torchscript(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"torch\.compile cannot compile TorchScript"):
        load(save_script(tmp_path / "net.pt"), compile=True)


def test_runtime_error_in_run_is_a_backend_error_with_one_line(tmp_path: Path) -> None:
    session = load(save_script(tmp_path / "net.pt"))
    wrong = np.zeros((2, 4, 16, 16), np.float32)  # 4 channels into a 3-channel conv
    with pytest.raises(BackendError, match="torch failed to run the model") as info:
        session.run(session.prepare({"image": wrong}))  # type: ignore[attr-defined]
    assert "\n" not in str(info.value)


def test_state_dict_or_damaged_file_is_a_model_error(tmp_path: Path) -> None:
    plain = tmp_path / "weights.pt"
    torch.save(_eager().state_dict(), plain)  # a zip like TorchScript, but not a module
    with pytest.raises(ModelError, match="not a readable TorchScript model"):
        load(plain)
    damaged = tmp_path / "net.pt2"
    data = save_exported(damaged).read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="not a readable ExportedProgram"):
        load(damaged)


def test_opaque_pickled_constants_are_refused(tmp_path: Path) -> None:
    path = save_exported(tmp_path / "net.pt2")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("net/data/constants/opaque_obj_0", pickle.dumps(print))
    with pytest.raises(ModelError, match="pickled Python objects"):
        load(path)


class _Payload:
    """Any class outside torch's weights_only allow-list: unpickling it would run arbitrary code."""


def test_export_load_cannot_unpickle_arbitrary_objects() -> None:
    buffer = io.BytesIO()
    torch.save({"obj": _Payload()}, buffer)
    original = torch.load
    with _weights_only(torch), pytest.raises(pickle.UnpicklingError):
        torch.load(io.BytesIO(buffer.getvalue()), weights_only=False)  # the call torch.export.load makes
    assert torch.load is original
    assert isinstance(torch.load(io.BytesIO(buffer.getvalue()), weights_only=False)["obj"], _Payload)


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in err, err
    for needle in needles:
        assert needle in errors[0], errors[0]


@pytest.mark.slow
def test_cli_corrupt_pt_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 64)  # zip magic, so the torchscript format claims it
    res = run_cli(capsys, monkeypatch, "bench", str(bad), "--backend", "torch", *FAST)
    assert res.code == 3, res.err
    assert_one_line_error(res.err, "bad.pt")


@pytest.mark.slow
@pytest.mark.skipif(CUDA, reason="checks the refusal on a machine without CUDA")
def test_cli_cuda_without_cuda_exits_4(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = save_script(tmp_path / "net.pt")
    args = ["bench", str(model), "--backend", "torch", "--backend-option", "device=cuda", "--shape", "image=2x3x16x16"]
    res = run_cli(capsys, monkeypatch, *args, *FAST)
    assert res.code == 4, res.err
    assert_one_line_error(res.err, "CUDA is not available", "hint:")


def test_cli_cuda_graphs_on_cpu_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = save_script(tmp_path / "net.pt")
    res = run_cli(
        capsys, monkeypatch, "bench", str(model), "--backend", "torch", "--backend-option", "cuda_graphs=true"
    )
    assert res.code == 2, res.err
    assert_one_line_error(res.err, "cuda_graphs needs device=cuda")


def test_contract_check_passes(tmp_path: Path) -> None:
    backend = registry.load("edgebench.backends", "torch")  # runs registry.check_contract
    assert backend is TorchBackend and backend.precisions == ("fp32", "fp16", "bf16")
    registry.check_session("torch", load(save_script(tmp_path / "net.pt")))


@needs_cuda
def test_cuda_events_time_each_call(tmp_path: Path) -> None:
    model = save_exported(tmp_path / "net.pt2")
    rec = run_benchmark(spec_for(model, batch=2, backend_options={"device": "cuda"}), store=None)
    assert rec.status == "ok", rec.error
    m = rec.measurements
    assert len(m.device_latencies_ns) == len(m.latencies_ns) and min(m.device_latencies_ns) > 0
    assert rec.effective["device"] == "cuda:0" and rec.effective["cuda_max_memory_allocated_bytes"] > 0  # type: ignore[operator]


@needs_cuda
def test_cuda_graphs_match_eager(tmp_path: Path) -> None:
    path = save_exported(tmp_path / "net.pt2")
    x = feed()
    session = load(path, device="cuda", cuda_graphs=True)
    (y,) = session.run(session.prepare({"image": x}))  # type: ignore[attr-defined]
    np.testing.assert_allclose(y, expected(x), rtol=1e-3, atol=1e-4)
    assert session.effective()["cuda_graphs"] is True  # type: ignore[attr-defined]
