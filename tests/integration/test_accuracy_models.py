"""Accuracy targets on real models: EfficientNet-Lite0 on the built-in photos, the uint8 MobileNet via
LiteRT on cat.bmp, and a small CNN trained on sklearn digits in the test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import run_cli

DATA = Path(__file__).resolve().parents[1] / "data"
TFLITE = DATA / "mobilenet_v1_0.25_128_quant.tflite"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zoo-cache")


@pytest.mark.slow
@pytest.mark.torch
def test_default_model_meets_the_builtin_targets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cache: Path
) -> None:
    """`edgebench eval` alone: EfficientNet-Lite0, TF preset from the zoo, ≥ 6/7 top-1 and 7/7 top-5."""
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    result = run_cli(capsys, monkeypatch, "eval", "--cache-dir", str(cache), "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["samples"] == 7 and doc["preprocess"] == "tf" and doc["skipped"] == 0
    assert doc["top1"] >= 6 / 7 and doc["top5"] == 1.0
    assert doc["top1_ci95"][0] > 0.4 and doc["top1_ci95"][1] == 1.0
    chelsea = next(p for p in doc["predictions"] if p["name"] == "chelsea")
    assert "cat" in chelsea["top"][0]["label"]
    # the wrong preset is visibly worse: raw 0..255 pixels into a model trained on (x-127)/128
    wrong = run_cli(capsys, monkeypatch, "eval", "--cache-dir", str(cache), "--preprocess", "raw-uint8", "--json")
    assert json.loads(wrong.out)["top1"] <= 3 / 7


@pytest.mark.slow
@pytest.mark.torch
def test_onnxruntime_and_openvino_agree_on_the_builtin_photos(cache: Path) -> None:
    """The agreement API on two runtimes of one model: same top-1 everywhere, tiny differences."""
    pytest.importorskip("torch")
    pytest.importorskip("openvino")
    from edgebench.accuracy import agreement
    from edgebench.accuracy.evaluate import evaluate

    ort = evaluate("efficientnet-lite0", "builtin", cache_dir=cache)
    ov = evaluate("efficientnet-lite0", "builtin", backend="openvino", cache_dir=cache)
    a = agreement(ort.outputs, ov.outputs)
    assert a.samples == 7 and a.top1_agreement == 1.0 and a.top5_overlap >= 0.9
    assert a.cosine > 0.999 and a.kl < 1e-3 and a.max_abs < 0.05


def test_quantized_mobilenet_puts_a_cat_in_the_top3_via_litert(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("ai_edge_litert")
    out = tmp_path / "cat.png"
    args = ["predict", str(TFLITE), str(DATA / "cat.bmp"), "--backend", "litert", "--top", "3"]
    result = run_cli(
        capsys, monkeypatch, *args, "--labels", str(DATA / "imagenet_labels.txt"), "--save", str(out), "--json"
    )
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["preprocess"] == "raw-uint8"  # uint8 input: pixels fed as they are
    labels = [t["label"] for t in doc["top"]]
    assert any(word in " ".join(labels) for word in ("tabby", "tiger cat", "Egyptian cat", "Persian cat"))
    assert all(t["index"] >= 1 for t in doc["top"])  # 1001 outputs: index 0 is background
    assert out.is_file() and "INFO" not in result.err  # the runtime's banner stays out of the terminal


def test_tf_slim_1001_outputs_are_scored_against_imagenet_1000_targets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built-in targets are 1000-class; the 1001-output model is shifted by one (background at 0)."""
    pytest.importorskip("ai_edge_litert")
    result = run_cli(capsys, monkeypatch, "eval", str(TFLITE), "--backend", "litert", "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert "1001 outputs (background at 0)" in doc["labels"] and doc["samples"] == 7
    chelsea = next(p for p in doc["predictions"] if p["name"] == "chelsea")
    assert 282 in chelsea["accepted"] and chelsea["top5"]  # tabby = 281 in the 1000 convention, 282 here
    assert doc["top5"] >= 5 / 7  # a 0.25-width 128 px uint8 model: weaker, still far above chance


@pytest.mark.slow
@pytest.mark.torch
def test_small_cnn_trained_on_digits_evaluates_above_90_percent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from edgebench.accuracy.datasets import digits_arrays

    x, y = digits_arrays()
    cut = int(len(x) * 0.8)  # digits:train / digits:test split
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 4 * 4, 10),
    )
    xt, yt = torch.from_numpy(x[:cut, None]), torch.from_numpy(y[:cut])
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: one thread is several times faster on a shared machine
    try:
        for _ in range(12):  # ~1.5 s; reaches ~95 % on digits:test
            for idx in torch.randperm(cut).split(32):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    net.eval()
    path = tmp_path / "digits.onnx"
    torch.onnx.export(
        net, (torch.zeros(1, 1, 8, 8),), str(path), input_names=["x"], output_names=["logits"], dynamo=False
    )
    result = run_cli(capsys, monkeypatch, "eval", str(path), "--data", "digits:test", "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["samples"] == len(x) - cut and doc["top1"] >= 0.9 and doc["preprocess"] == "tensor (as stored)"
    assert doc["top1_ci95"][0] > 0.85
    assert np.isclose(sum(p["top1"] for p in doc["predictions"]) / doc["samples"], doc["top1"])
