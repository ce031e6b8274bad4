"""Zoo resolution and caching with a stand-in exporter (the real export is an integration test)."""

from __future__ import annotations

import io
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from edgebench.errors import ModelError
from edgebench.zoo import ZOO, cache_dir_for, resolve_model
from edgebench.zoo.export import quiet_stdout
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


def test_zoo_list_piped_into_pull(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, counting_zoo: list[Path]
) -> None:
    listed = run_cli(capsys, monkeypatch, "zoo", "list")
    header, *rows = listed.out.splitlines()
    assert header == "# name\ttask\tinput\tlabels\tlicence"  # a comment line, so `zoo pull` skips it
    from edgebench.zoo.catalog import ZOO

    assert rows[0] == (
        "efficientnet-lite0\tImage Classification\t1x3x224x224\timagenet-1k (1000 classes, torchvision order)"
        "\tApache-2.0"
    )
    assert [r.split("\t")[0] for r in rows] == list(ZOO)
    monkeypatch.setattr(sys, "stdin", io.StringIO(listed.out + "\n"))
    pulled = run_cli(capsys, monkeypatch, "zoo", "pull", "--cache-dir", str(tmp_path))
    assert pulled.code == 0, pulled.err
    assert "efficientnet-lite0:" in pulled.out and len(counting_zoo) == 1  # only the ONNX entry is exported
    assert all(f"{name}:" in pulled.out for name in ZOO)  # packaged .tflite entries resolve in place
    bad = run_cli(capsys, monkeypatch, "zoo", "pull", "nope", "--cache-dir", str(tmp_path))
    assert bad.code == 3 and bad.err.startswith("Error: unknown zoo model 'nope'")


def test_zoo_list_on_a_terminal_has_a_header_and_fits_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgebench.cli._common import console

    monkeypatch.setattr(console, "_force_terminal", True)
    monkeypatch.setattr(console, "_width", 80)
    listed = run_cli(capsys, monkeypatch, "zoo", "list")
    assert listed.code == 0, listed.err
    lines = re.sub(r"\x1b\[[0-9;]*m", "", listed.out).splitlines()
    assert lines[0].startswith("Zoo models (edgebench zoo pull NAME)")
    assert [cell.strip() for cell in lines[2].strip("┃").split("┃")] == ["name", "task", "input", "licence"]
    assert max(len(line) for line in lines) <= 80
    assert "…" not in listed.out  # nothing ellipsised at 80 columns
    flat = " ".join(listed.out.split())
    assert "preprocessing tf-inception: resize short side 256 bicubic, centre-crop 224, (x-127)/128" in flat


def test_export_drops_the_weight_package_chatter(capsys: pytest.CaptureFixture[str]) -> None:
    def build() -> int:
        print("Loaded pretrained weights for efficientnet-lite0")
        print("unexpected: something else")
        return 7

    assert quiet_stdout(build) == 7
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays clean for --json
    assert captured.err == "unexpected: something else\n"  # unknown output is not swallowed


def test_export_failure_keeps_what_was_printed(capsys: pytest.CaptureFixture[str]) -> None:
    def build() -> int:
        print("Loaded pretrained weights for efficientnet-lite0")
        print("size mismatch for _fc.weight")
        raise RuntimeError("Error(s) in loading state_dict")

    with pytest.raises(RuntimeError, match="state_dict"):
        quiet_stdout(build)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "size mismatch for _fc.weight" in captured.err
