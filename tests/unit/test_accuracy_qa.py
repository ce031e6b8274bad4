"""QA regressions for `eval`/`predict` bad input: each is one `Error:` line, never a traceback or a torn PNG."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.cli_helpers import run_cli
from tests.unit.test_accuracy_cli import BLUE, colour_model, image


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return colour_model(tmp_path / "colours.onnx")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "(hint: " in lines[0], err
    assert "Traceback" not in err
    return lines[0]


def test_npz_that_is_not_an_archive_truncated_or_missing_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.npz"  # an .npy saved under an .npz name: np.load returns an array, not an archive
    np.save(bare.with_suffix(".npy"), np.zeros((2, 3), np.float32))
    bare.with_suffix(".npy").rename(bare)
    good = tmp_path / "good.npz"
    np.savez(good, x=np.zeros((2, 1, 2, 2), np.float32), y=np.array([0, 1]))
    blob = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(blob[: len(blob) // 2])  # no central directory: BadZipFile before the fix
    text = tmp_path / "text.npz"
    text.write_text("x y\n")
    cases = {bare: "not an .npz archive", truncated: "not an .npz archive", text: "not an .npz archive"}
    cases[tmp_path / "missing.npz"] = "does not exist"
    for path, message in cases.items():
        result = run_cli(capsys, monkeypatch, "eval", str(model), "--data", str(path))
        assert result.code == 2, (path, result.err)
        assert message in _one_error_line(result.err)


def test_npz_with_a_corrupt_member_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    path = tmp_path / "crc.npz"
    np.savez_compressed(path, x=np.random.default_rng(0).random((4, 3, 16, 16)).astype(np.float32))
    blob = bytearray(path.read_bytes())
    for i in range(200, 260):  # inside the compressed member, past its local header
        blob[i] ^= 0xFF
    path.write_bytes(bytes(blob))
    result = run_cli(capsys, monkeypatch, "eval", str(model), "--data", str(path))
    assert result.code == 2
    assert f"cannot read {path}" in _one_error_line(result.err)


def test_predict_on_a_folder_says_it_is_a_folder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    result = run_cli(capsys, monkeypatch, "predict", str(model), str(tmp_path))
    assert result.code == 2
    assert "is a directory, not an image file" in _one_error_line(result.err)


def test_predict_save_is_atomic_and_a_failed_write_leaves_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    photo = image(tmp_path / "blue.png", BLUE, (64, 48))
    out = tmp_path / "pics" / "annotated.png"
    out.parent.mkdir()
    out.write_bytes(b"old picture")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    result = run_cli(capsys, monkeypatch, "predict", str(model), str(photo), "--preprocess", "unit", "--save", str(out))
    assert result.code == 2
    assert "No space left on device" in _one_error_line(result.err)
    assert out.read_bytes() == b"old picture"  # the old file is untouched ...
    assert sorted(p.name for p in out.parent.iterdir()) == ["annotated.png"]  # ... and no temporary is left

    monkeypatch.undo()
    result = run_cli(capsys, monkeypatch, "predict", str(model), str(photo), "--preprocess", "unit", "--save", str(out))
    assert result.code == 0, result.err
    with Image.open(out) as png:
        assert png.format == "PNG" and png.size[0] == 480
    assert sorted(p.name for p in out.parent.iterdir()) == ["annotated.png"]
    assert out.stat().st_mode & 0o044 == 0o044 & ~_umask()  # readable like a plain open() would make it


def test_predict_save_into_a_folder_path_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    photo = image(tmp_path / "blue.png", BLUE, (64, 48))
    args = ("predict", str(model), str(photo), "--preprocess", "unit", "--save", str(tmp_path))
    result = run_cli(capsys, monkeypatch, *args)
    assert result.code == 2
    assert "Is a directory" in _one_error_line(result.err)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_piped_eval_output_is_not_wrapped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 4)  # the labels line names this path: > 80 columns
    labels = deep / "labels.txt"
    deep.mkdir()
    labels.write_text("red\ngreen\nblue\n")
    image(deep / "val" / "blue" / "a.png", BLUE)
    args = ("eval", str(model), "--data", str(deep / "val"), "--labels", str(labels), "--preprocess", "unit")
    result = run_cli(capsys, monkeypatch, *args)
    assert result.code == 0, result.err
    (line,) = [x for x in result.out.splitlines() if x.startswith("preprocess: ")]
    assert str(labels) in line and line.endswith("outputs")  # before: cut at 80 columns onto a second line
    assert all(x == x.rstrip() for x in result.out.splitlines())  # no trailing padding either
