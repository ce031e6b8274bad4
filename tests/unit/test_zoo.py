"""Zoo resolution and caching with a stand-in exporter (the real export is an integration test)."""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from edgebench.errors import ModelError
from edgebench.zoo import ZOO, cache_dir_for, resolve_model
from tests.cli_helpers import run_cli
from tests.conftest import make_onnx


@pytest.fixture
def counting_zoo(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []

    def exporter(out: Path, dynamic_batch: bool, opset: int) -> None:
        calls.append(out)
        make_onnx(out, batch="N" if dynamic_batch else 1)

    entry = replace(ZOO["efficientnet-lite0"], exporter=exporter)
    monkeypatch.setitem(ZOO, "efficientnet-lite0", entry)
    return calls


def test_export_once_then_reuse_and_heal(tmp_path: Path, counting_zoo: list[Path]) -> None:
    first = resolve_model("efficientnet-lite0", tmp_path)
    again = resolve_model("efficientnet-lite0", tmp_path)
    assert again.path == first.path and len(counting_zoo) == 1
    assert first.info.source == "zoo:efficientnet-lite0 (static batch)"
    assert first.info.labels and first.info.preprocessing and first.info.task == "Image Classification"
    dynamic = resolve_model("efficientnet-lite0", tmp_path, dynamic_batch=True)
    assert dynamic.path != first.path and len(counting_zoo) == 2
    first.path.write_bytes(b"\x08corrupted")  # a damaged cache entry is re-exported, not trusted
    healed = resolve_model("efficientnet-lite0", tmp_path)
    assert healed.info.sha256 == first.info.sha256 and len(counting_zoo) == 3
    assert not list(tmp_path.glob("*.tmp"))


def test_cache_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEBENCH_CACHE_DIR", str(tmp_path / "env"))
    assert cache_dir_for(None) == tmp_path / "env"
    assert cache_dir_for(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv("EDGEBENCH_CACHE_DIR")
    assert cache_dir_for(None) == tmp_path / "xdg-cache" / "edgebench"


def test_unknown_names_and_paths() -> None:
    with pytest.raises(ModelError, match="unknown zoo model 'mobilenet'"):
        resolve_model("mobilenet")
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model("models/missing.onnx")


def test_zoo_list_piped_into_pull(capsys, monkeypatch, tmp_path: Path, counting_zoo: list[Path]) -> None:
    listed = run_cli(capsys, monkeypatch, "zoo", "list")
    assert "efficientnet-lite0" in listed.out and "Apache-2.0" in listed.out
    monkeypatch.setattr(sys, "stdin", io.StringIO(listed.out))
    pulled = run_cli(capsys, monkeypatch, "zoo", "pull", "--cache-dir", str(tmp_path))
    assert pulled.code == 0, pulled.err
    assert "efficientnet-lite0:" in pulled.out and len(counting_zoo) == 1
    bad = run_cli(capsys, monkeypatch, "zoo", "pull", "nope", "--cache-dir", str(tmp_path))
    assert bad.code == 3 and bad.err.startswith("Error: unknown zoo model 'nope'")
