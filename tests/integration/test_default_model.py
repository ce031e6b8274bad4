"""The embedded default model end to end: zoo export → subprocess benchmark → analysis → store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.torch]
torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zoo-cache")


def test_zoo_export_is_cached_by_content_hash(cache: Path) -> None:
    from edgebench.zoo import resolve_model

    first = resolve_model("efficientnet-lite0", cache)
    assert first.path.name == f"efficientnet-lite0-{first.info.sha256}.onnx"
    assert first.info.task == "Image Classification" and "127" in (first.info.preprocessing or "")
    mtime = first.path.stat().st_mtime_ns
    again = resolve_model("efficientnet-lite0", cache)
    assert again.path == first.path and again.path.stat().st_mtime_ns == mtime  # not re-exported
    # a corrupted cache file is detected by its hash and re-exported
    first.path.write_bytes(b"corrupt")
    healed = resolve_model("efficientnet-lite0", cache)
    assert healed.info.sha256 == first.info.sha256


def test_exported_model_classifies_a_real_cat(cache: Path) -> None:
    """Real weights, TF-style preprocessing: the chelsea photo must come out as a cat class."""
    import onnxruntime as ort
    from PIL import Image

    skimage = pytest.importorskip("skimage")
    from edgebench.zoo import resolve_model

    path = resolve_model("efficientnet-lite0", cache).path
    img = Image.fromarray(skimage.data.chelsea())
    w, h = img.size
    scale = 256 / min(w, h)
    img = img.resize((round(w * scale), round(h * scale)), Image.BICUBIC)
    left, top = (img.width - 224) // 2, (img.height - 224) // 2
    x = (np.asarray(img.crop((left, top, left + 224, top + 224)), dtype=np.float32) - 127.0) / 128.0
    logits = ort.InferenceSession(str(path)).run(None, {"input": x.transpose(2, 0, 1)[None]})[0]
    top5 = np.argsort(logits[0])[::-1][:5]
    assert set(top5) & {281, 282, 283, 285, 287}, top5  # tabby, tiger cat, Persian, Egyptian cat, lynx


def test_bench_default_model_json(capsys, monkeypatch, cache: Path, tmp_path: Path) -> None:
    res = run_cli(
        capsys,
        monkeypatch,
        "bench",
        "--cache-dir",
        str(cache),
        "--db",
        str(tmp_path / "r.db"),
        "--threads",
        "1",
        "--warmup-time",
        "0.2",
        "--min-time",
        "1",
        "--min-iters",
        "20",
        "--json",
    )
    assert res.code == 0, res.err
    rec = json.loads(res.out)
    s = rec["summary"]
    assert rec["model"]["name"] == "efficientnet-lite0" and rec["spec"]["threads"] == 1
    assert 1e-4 < s["latency_median_s"] < 1.0 and s["iterations"] >= 20
    assert s["model_size_bytes"] > 15e6
    assert rec["analysis"]["params"] > 4_000_000 and rec["analysis"]["macs"] > 3e8
