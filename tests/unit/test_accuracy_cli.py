"""`edgebench eval`, `predict` and `bench --data` through the real CLI, on a tiny ONNX colour classifier.

The model averages each colour channel and scores class 0/1/2 = red/green/blue, so every expected
prediction is known from the pixels; it runs on the real onnxruntime backend in milliseconds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgebench.accuracy.metrics import wilson
from tests.cli_helpers import run_cli

RED, GREEN, BLUE = (230, 20, 10), (15, 220, 30), (10, 25, 240)


def colour_model(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    weights = helper.make_tensor("w", TensorProto.FLOAT, (3, 3), (np.eye(3) * 10).ravel().tolist())
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits"]),
        ],
        "colours",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, (1, 3, 8, 8))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, (1, 3))],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return colour_model(tmp_path / "colours.onnx")


def image(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """red/ holds two red images and a misfiled blue one; green/ and blue/ one each: top-1 = 4/5."""
    root = tmp_path / "val"
    image(root / "red" / "a.png", RED)
    image(root / "red" / "b.jpg", RED)
    image(root / "red" / "c.png", BLUE)
    image(root / "green" / "a.png", GREEN)
    image(root / "blue" / "a.bmp", BLUE)
    return root


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    path = tmp_path / "labels.txt"
    path.write_text("red\ngreen\nblue\n")
    return path


def eval_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> dict:  # type: ignore[type-arg]
    result = run_cli(capsys, monkeypatch, "eval", *args, "--json")
    assert result.code == 0, result.err
    doc: dict = json.loads(result.out)  # type: ignore[type-arg]
    return doc


def test_imagefolder_with_labels_counts_every_prediction(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, folder: Path, labels: Path
) -> None:
    doc = eval_json(
        capsys, monkeypatch, str(model), "--data", str(folder), "--labels", str(labels), "--preprocess", "unit"
    )
    assert {"top1", "top5", "top1_ci95", "samples", "skipped", "preprocess", "labels", "predictions"} <= set(doc)
    assert doc["samples"] == 5 and doc["skipped"] == 0 and doc["preprocess"] == "unit"
    assert doc["top1"] == pytest.approx(4 / 5) and doc["top5"] == 1.0  # 3 classes: top-5 holds them all
    assert doc["top1_ci95"] == pytest.approx(list(wilson(4, 5)))
    by_name = {p["name"]: p for p in doc["predictions"]}
    assert by_name["red/c.png"]["top"][0]["label"] == "blue" and by_name["red/c.png"]["top1"] is False
    assert by_name["green/a.png"]["top"][0] == {"index": 1, "label": "green", "score": pytest.approx(1, abs=0.01)}
    assert doc["labels"].startswith(str(labels))


def test_human_output_and_limit(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, folder: Path, labels: Path
) -> None:
    result = run_cli(
        capsys, monkeypatch, "eval", str(model), "--data", str(folder), "--labels", str(labels), "--limit", "2"
    )
    assert result.code == 0, result.err
    text = " ".join(result.out.split())  # Rich wraps at the test console's width
    assert "top-1 100.0% (2/2, 95% CI 34.2%–100.0% Wilson)" in text and "preprocess: tf" in text
    assert "does not say how it was preprocessed" in result.err  # no zoo metadata: the default is named


def test_integer_class_folders_list_file_and_imagenet_val_mapping(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path, labels: Path
) -> None:
    image(tmp_path / "ints" / "0" / "x.png", RED)
    image(tmp_path / "ints" / "2" / "y.png", BLUE)
    doc = eval_json(capsys, monkeypatch, str(model), "--data", str(tmp_path / "ints"), "--preprocess", "unit")
    assert doc["top1"] == 1.0 and doc["samples"] == 2
    image(tmp_path / "flat" / "one.png", GREEN)
    image(tmp_path / "flat" / "two.png", RED)
    (tmp_path / "flat" / "ground_truth.txt").write_text("one.png green\ntwo.png blue\n")
    doc = eval_json(
        capsys,
        monkeypatch,
        str(model),
        "--data",
        str(tmp_path / "flat"),
        "--labels",
        str(labels),
        "--preprocess",
        "unit",
    )
    assert doc["top1"] == 0.5 and doc["samples"] == 2  # two.png is red, labelled blue
    listing = tmp_path / "list.txt"
    listing.write_text("flat/one.png 1\nflat/two.png 0\n")
    doc = eval_json(capsys, monkeypatch, str(model), "--data", str(listing), "--preprocess", "unit")
    assert doc["top1"] == 1.0


def test_npz_tensors_and_custom_metric(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    x = np.zeros((4, 3, 8, 8), np.float32)
    for i, c in enumerate([0, 1, 2, 0]):
        x[i, c] = 1.0
    np.savez(tmp_path / "set.npz", x=x, y=np.array([0, 1, 2, 1]))
    (tmp_path / "mets.py").write_text("def agree(outputs, targets):\n    return {'rows': int(outputs.shape[0])}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    doc = eval_json(capsys, monkeypatch, str(model), "--data", str(tmp_path / "set.npz"), "--metric", "mets:agree")
    assert doc["top1"] == 0.75 and doc["metrics"] == {"rows": 4} and doc["preprocess"] == "tensor (as stored)"


def test_corrupt_image_is_skipped_and_counted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, folder: Path, labels: Path
) -> None:
    (folder / "green" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    result = run_cli(capsys, monkeypatch, "eval", str(model), "--data", str(folder), "--labels", str(labels), "--json")
    assert result.code == 0
    doc = json.loads(result.out)
    assert doc["skipped"] == 1 and doc["samples"] == 5
    assert "warning: skipped 1 unreadable sample(s): broken.jpg" in " ".join(result.err.split())
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("empty", "has no samples"),
        ("out_of_range", "label index 7 of set[1] is out of range for a model with 3 classes"),
        ("labels_mismatch", "the model has 3 output classes but the labels"),
        ("bad_preset", "unknown --preprocess 'caffe'"),
        ("unknown_data", "is not a dataset edgebench can read"),
        ("all_corrupt", "could be read"),
        ("unknown_class_folder", "class folder 'purple' is not in the labels file"),
    ],
)
def test_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    model: Path,
    tmp_path: Path,
    labels: Path,
    setup: str,
    message: str,
) -> None:
    args = [str(model)]
    if setup == "empty":
        (tmp_path / "empty").mkdir()
        args += ["--data", str(tmp_path / "empty")]
    elif setup == "out_of_range":
        np.savez(tmp_path / "set.npz", x=np.zeros((2, 3, 8, 8), np.float32), y=np.array([0, 7]))
        args += ["--data", str(tmp_path / "set.npz")]
    elif setup == "labels_mismatch":
        image(tmp_path / "d" / "0" / "a.png", RED)
        (tmp_path / "five.txt").write_text("a\nb\nc\nd\ne\n")
        args += ["--data", str(tmp_path / "d"), "--labels", str(tmp_path / "five.txt")]
    elif setup == "bad_preset":
        args += ["--preprocess", "caffe", "--data", "fake:2"]
    elif setup == "unknown_data":
        args += ["--data", str(tmp_path / "nothing-here")]
    elif setup == "all_corrupt":
        (tmp_path / "c" / "0").mkdir(parents=True)
        (tmp_path / "c" / "0" / "x.png").write_bytes(b"garbage")
        args += ["--data", str(tmp_path / "c")]
    elif setup == "unknown_class_folder":
        image(tmp_path / "p" / "purple" / "a.png", RED)
        args += ["--data", str(tmp_path / "p"), "--labels", str(labels)]
    result = run_cli(capsys, monkeypatch, "eval", *args)
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "(hint: " in lines[0]
    assert message in lines[0]


def test_predict_prints_top_k_and_saves_a_png_of_the_stated_size(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path, labels: Path
) -> None:
    from edgebench.accuracy.predict import picture_size

    photo = image(tmp_path / "blue.png", BLUE, (64, 48))
    out = tmp_path / "pics" / "annotated.png"
    result = run_cli(
        capsys,
        monkeypatch,
        "predict",
        str(model),
        str(photo),
        "--top",
        "2",
        "--labels",
        str(labels),
        "--preprocess",
        "unit",
        "--save",
        str(out),
    )
    assert result.code == 0, result.err
    text = " ".join(result.out.split())
    assert re.search(r"1\. +100\.0% +blue \(2\) 2\. +0\.0% +green \(1\)", text), text
    with Image.open(out) as png:
        assert png.format == "PNG" and png.size == picture_size((64, 48), 2) == (480, 360 + 20 + 52)
        assert png.getpixel((240, 100))[2] > 200  # the photo is in the picture


def test_predict_bad_image_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    (tmp_path / "x.png").write_bytes(b"nope")
    for target, message in ((tmp_path / "x.png", "not a readable image"), (tmp_path / "missing.png", "does not exist")):
        result = run_cli(capsys, monkeypatch, "predict", str(model), str(target))
        assert result.code == 2 and message in result.err and len(result.err.strip().splitlines()) == 1


def test_bench_with_data_times_a_real_sample_and_stores_the_accuracy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, folder: Path, tmp_path: Path
) -> None:
    from edgebench.stores import open_store

    db = tmp_path / "results.db"
    args = ["bench", str(model), "--data", str(folder), "--preprocess", "unit", "--executor", "inline"]
    args += ["--processes", "1", "--max-time", "0.2", "--min-iters", "10", "--warmup-time", "0.05", "--db", str(db)]
    result = run_cli(capsys, monkeypatch, *args, "--json")
    assert result.code == 0, result.err
    record = json.loads(result.out)
    acc = record["accuracy"]
    # no labels file: classes are the sorted folder names (blue=0, green=1, red=2), so only green/a and red/c (blue) hit
    assert acc["samples"] == 5 and acc["top1_correct"] == 2 and acc["preprocess"] == "unit"
    assert acc["dataset"].startswith("imagefolder:") and len(acc["dataset_sha256"]) == 64
    assert record["measurements"]["inputs"][0]["source"].startswith("file:")
    stored = open_store(db).list()
    assert len(stored) == 1 and stored[0].accuracy is not None and stored[0].accuracy.top1_correct == 2
    feed = np.load(record["spec"]["inputs_file"])["image"]
    assert feed.shape == (1, 3, 8, 8) and feed[0, 2].mean() == pytest.approx(240 / 255, abs=0.01)  # blue/a.bmp first


def test_bench_preprocess_needs_data(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path
) -> None:
    result = run_cli(capsys, monkeypatch, "bench", str(model), "--preprocess", "tf", "--no-store")
    assert result.code == 2 and "--preprocess applies to --data" in result.err
