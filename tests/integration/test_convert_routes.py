"""Real conversions: tiny torch modules through every torch-side route, and the default model's matrix.

The default model (EfficientNet-Lite0, a PyTorch nn.Module) is converted once per session into a shared
cache (~15 s export, ~25 s more with litert-torch); the tests read those conversions.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from edgebench.convert import Conversion, ConvertOptions, convert  # noqa: E402
from edgebench.errors import ShapeError  # noqa: E402
from edgebench.modelfile import detect_format, sha256_file  # noqa: E402
from tests.cli_helpers import run_cli  # noqa: E402

HAS_LITERT_TORCH = importlib.util.find_spec("litert_torch") is not None
needs_litert_torch = pytest.mark.skipif(
    not HAS_LITERT_TORCH, reason="litert-torch not installed (edgebench[litert-convert])"
)
SHAPE = (1, 3, 16, 16)
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


class Small(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.fc = torch.nn.Linear(6, 4)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(image)).mean((2, 3)))


def _small() -> Small:
    torch.manual_seed(0)
    return Small().eval()


@pytest.mark.slow
def test_torchscript_and_exported_program_to_onnx(tmp_path: Path) -> None:
    script = tmp_path / "small.pt"
    torch.jit.trace(_small(), torch.zeros(SHAPE)).save(str(script))
    with pytest.raises(ShapeError, match="does not record the shape of its input 'image'") as info:
        convert(str(script), "onnx", cache_dir=tmp_path / "c")  # TorchScript records no shapes
    assert info.value.hint is not None and "--shape image=" in info.value.hint
    done = convert(str(script), "onnx", cache_dir=tmp_path / "c", options=ConvertOptions(shapes={"image": SHAPE}))
    assert detect_format(done.output.path) == "onnx" and done.tool == "torch.onnx"
    assert done.check is not None and done.check.top1_agreement == 1.0 and done.check.max_abs_diff < 1e-5
    program = tmp_path / "small.pt2"
    torch.export.save(torch.export.export(_small(), (torch.zeros(SHAPE),)), str(program))
    done = convert(str(program), "onnx-simplified", cache_dir=tmp_path / "c", options=ConvertOptions(opset=13))
    assert [s.target for s in done.steps] == ["onnx"] and done.steps[0].options["opset"] == 13
    assert done.check is not None and done.check.top1_agreement == 1.0


def test_dynamic_batch_export(tmp_path: Path) -> None:
    import onnx

    program = tmp_path / "small.pt2"
    torch.export.save(torch.export.export(_small(), (torch.zeros(SHAPE),)), str(program))
    done = convert(str(program), "onnx", out=tmp_path / "dyn.onnx", options=ConvertOptions(dynamic_batch=True))
    dim = onnx.load(done.output.path).graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch"
    assert sha256_file(tmp_path / "dyn.onnx") == done.output.sha256


def test_dynamo_exporter_without_onnxscript_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from edgebench.errors import BackendUnavailable

    monkeypatch.setitem(sys.modules, "onnxscript", None)
    program = tmp_path / "small.pt2"
    torch.export.save(torch.export.export(_small(), (torch.zeros(SHAPE),)), str(program))
    with pytest.raises(BackendUnavailable, match="onnxscript") as info:
        convert(str(program), "onnx", cache_dir=tmp_path, options=ConvertOptions(exporter="dynamo"))
    assert info.value.hint == "pip install 'edgebench[convert]'"


@pytest.fixture(scope="session")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Conversion]:
    """The default model converted to every available target, once per session."""
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("onnxslim")
    pytest.importorskip("onnxconverter_common")
    pytest.importorskip("openvino")
    cache = tmp_path_factory.mktemp("convert-cache")
    targets = ["onnx", "onnx-simplified", "onnx-fp16", "openvino"] + (["litert"] if HAS_LITERT_TORCH else [])
    return {t: convert("efficientnet-lite0", t, cache_dir=cache) for t in targets}


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.parametrize("target", ["onnx", "onnx-simplified", "onnx-fp16", "openvino"])
def test_default_model_agrees_on_the_builtin_images(matrix: dict[str, Conversion], target: str) -> None:
    done = matrix[target]
    assert done.check is not None and done.check.inputs == "builtin-images(7, tf, 224)" and done.check.samples == 7
    need = 0.99 if target == "onnx-fp16" else 1.0
    assert done.check.top1_agreement is not None and done.check.top1_agreement >= need
    assert done.check.max_abs_diff is not None and done.check.max_abs_diff < (0.1 if target == "onnx-fp16" else 1e-3)
    root = done if target == "onnx" else done.steps[0]
    assert root.target == "onnx" and root.source.format == "pyfactory"
    size = done.output.size_bytes / 1e6
    assert (8 < size < 11) if target == "onnx-fp16" else (17 < size < 20)  # 4.65 M params: FP32 ≈ 18.6 MB


@pytest.mark.slow
@pytest.mark.torch
@needs_litert_torch
def test_default_model_to_litert(matrix: dict[str, Conversion]) -> None:
    done = matrix["litert"]
    assert detect_format(done.output.path) == "tflite" and done.tool == "litert-torch" and not done.steps
    assert done.check is not None and done.check.top1_agreement == 1.0 and done.check.max_abs_diff < 1e-3


@pytest.mark.slow
@pytest.mark.torch
def test_cli_deploy_default_model_from_the_cache(
    matrix: dict[str, Conversion], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    cache = Path(matrix["onnx"].output.path).parents[3]
    args = ["deploy", "--targets", "onnx,openvino", "--time", "0.2", "--inline", "--no-store", "--json"]
    res = run_cli(capsys, monkeypatch, *args, "--cache-dir", str(cache))
    assert res.code == 0, res.err
    rows = {r["target"]: r for r in json.loads(res.out)["targets"]}
    assert list(rows) == ["pytorch", "onnx", "openvino"]
    assert all(r["status"] == "ok" and r["latency_median_ms"] > 0 for r in rows.values())
    assert rows["onnx"]["conversion"]["cached"] and rows["openvino"]["conversion"]["check"]["top1_agreement"] == 1.0


def test_litert_child_reports_errors_as_json(tmp_path: Path) -> None:
    import json

    from edgebench.convert.litert import _child

    out = tmp_path / "m.tflite"
    code = _child([str(tmp_path / "missing.pt2"), str(out), ConvertOptions().model_dump_json()])
    answer = json.loads((tmp_path / "m.tflite.result.json").read_text())
    assert code == 1 and "missing.pt2" in answer["error"] and not out.exists()
