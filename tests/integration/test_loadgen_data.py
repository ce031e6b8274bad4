"""``bench --data builtin`` with LoadGen: the QSL holds the real preprocessed samples, accuracy mode
scores them against the labels, and the tight loop still times sample 0 alone. The default model
through ONNX Runtime, via the console entry point; LoadGen's durations are kept short."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import run_cli

pytestmark = pytest.mark.slow
pytest.importorskip("mlperf_loadgen")

COMMON = ("--data", "builtin", "--preprocess", "tf", "--no-store", "--processes", "1", "--executor", "inline")


@pytest.fixture(scope="module")
def default_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    from edgebench.zoo import resolve_model

    return resolve_model("efficientnet-lite0", tmp_path_factory.mktemp("zoo-cache")).path


def _bench(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> dict:  # type: ignore[type-arg]
    res = run_cli(capsys, monkeypatch, "bench", *args, "--json")
    assert res.code == 0, res.err
    record: dict = json.loads(res.out)  # type: ignore[type-arg]
    assert record["status"] == "ok", record["error"]
    return record


def test_accuracy_mode_scores_the_builtin_set_like_the_evaluation(
    default_model: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = _bench(capsys, monkeypatch, str(default_model), *COMMON, "--scenario", "offline", "--accuracy-mode")
    res = rec["scenario"]["result"]
    assert res["qsl"]["real_samples"] == 7 and res["qsl"]["source"].startswith("builtin (7 of 7 samples")
    assert res["samples"] == 7 and res["loadgen"]["mode"] == "AccuracyOnly"
    accuracy = res["accuracy"]
    assert accuracy["samples"] == 7 and accuracy["top1_correct"] >= 6
    # the same preprocessed samples through the same runtime: LoadGen's score is the evaluation's
    assert accuracy["top1_correct"] == rec["accuracy"]["top1_correct"]
    assert accuracy["top5_correct"] == rec["accuracy"]["top5_correct"]
    summary = next(a for a in rec["artifacts"] if a["role"] == "loadgen_summary")
    assert f"top-1 {accuracy['top1_correct']}/7" in summary["summary"]


def test_the_tight_loop_still_times_sample_0_alone(
    default_model: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    quick = ("--min-time", "0.2", "--max-time", "0.5", "--warmup-time", "0.05")
    rec = _bench(capsys, monkeypatch, str(default_model), *COMMON, *quick)
    inputs_file = Path(rec["spec"]["inputs_file"])
    with np.load(inputs_file) as raw:
        stacked = raw["__edgebench_qsl__.x.input"]
        assert stacked.shape == (7, 1, 3, 224, 224)  # the file holds all seven samples for the QSL
        np.testing.assert_array_equal(raw["input"], stacked[0])
        np.savez(tmp_path / "sample0.npz", input=raw["input"])  # what --data wrote before the QSL samples
    old = _bench(
        capsys, monkeypatch, str(default_model), "--inputs", str(tmp_path / "sample0.npz"), "--no-store",
        "--processes", "1", "--executor", "inline", *quick,
    )  # fmt: skip
    for new_info, old_info in zip(rec["measurements"]["inputs"], old["measurements"]["inputs"], strict=True):
        assert {**new_info, "source": ""} == {**old_info, "source": ""}
        assert new_info["shape"] == [1, 3, 224, 224]
    assert rec["measurements"]["outputs"] == old["measurements"]["outputs"]
    codes = {w["code"] for w in rec["warnings"]} - {w["code"] for w in old["warnings"]}
    assert not any("qsl" in w["message"] for w in rec["warnings"]), codes
    assert rec["scenario"]["name"] == "loop" and rec["accuracy"]["samples"] == 7
