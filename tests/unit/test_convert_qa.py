"""QA regressions for ``convert``/``deploy`` bad input: never overwrite the user's model, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.modelfile import sha256_file
from tests.cli_helpers import run_cli
from tests.unit.test_cli_bench import assert_one_line_error
from tests.unit.test_convert_core import make_linear


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_linear(tmp_path / "user.onnx")


@pytest.mark.parametrize("target", ["onnx-simplified", "onnx-fp16", "fake"])
def test_output_onto_the_source_is_refused_and_the_model_is_untouched(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, target: str
) -> None:
    before = sha256_file(model)
    # the same file spelled another way: a `..` detour still resolves to the source
    aliased = model.parent / ".." / model.parent.name / model.name
    for out in (model, aliased):
        res = run_cli(capsys, monkeypatch, "convert", str(model), "--to", target, "-o", str(out), "--no-check")
        assert_one_line_error(res, 2, "would overwrite the model being converted")
    assert sha256_file(model) == before


def test_openvino_output_named_as_the_source_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path
) -> None:
    before = sha256_file(model)
    res = run_cli(capsys, monkeypatch, "convert", str(model), "--to", "openvino", "-o", str(model), "--no-check")
    assert_one_line_error(res, 2, "would overwrite the model being converted")
    assert sha256_file(model) == before and not model.with_suffix(".bin").exists()


def test_output_below_a_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path
) -> None:
    res = run_cli(capsys, monkeypatch, "convert", str(model), "--to", "fake", "-o", str(model / "x.onnx"))
    assert_one_line_error(res, 2, "is a file, not a folder")


def test_unwritable_output_folder_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    import tempfile

    def refuse(*_a: object, **_k: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)  # as root a chmod 555 folder is still writable
    res = run_cli(capsys, monkeypatch, "convert", str(model), "--to", "fake", "-o", str(tmp_path / "out.onnx"))
    assert_one_line_error(res, 2, "cannot write to", "Permission denied")


def test_failed_conversion_leaves_no_folders_it_created(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    from edgebench.convert.fake import FakeConverter

    def broken(self: object, source: Path, out: Path, options: object) -> None:
        out.write_bytes(b"half")  # a partial file in the temporary folder, then the tool dies
        raise RuntimeError("tool crashed")

    monkeypatch.setattr(FakeConverter, "convert", broken)
    out = tmp_path / "new" / "deeper" / "x.onnx"
    with pytest.raises(RuntimeError, match="tool crashed"):
        from edgebench.convert import convert

        convert(str(model), "fake", out=out, check=False, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "new").exists()  # no empty folders, no half-written x.onnx


def test_fp16_of_an_fp16_model_says_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: Path, tmp_path: Path
) -> None:
    half = tmp_path / "half.onnx"
    first = run_cli(capsys, monkeypatch, "convert", str(model), "--to", "onnx-fp16", "-o", str(half), "--no-check")
    assert first.code == 0, first.err
    res = run_cli(capsys, monkeypatch, "convert", str(half), "--to", "onnx-fp16", "-o", str(tmp_path / "again.onnx"))
    assert_one_line_error(res, 3, "already converted to float16", "already has FP16 weights")
    assert not (tmp_path / "again.onnx").exists()


@pytest.mark.parametrize(
    ("targets", "needle"),
    [("", "--targets is empty"), (" , ", "--targets is empty"), ("fake,nope", "unknown conversion target 'nope'")],
)
def test_deploy_bad_targets_fail_before_any_work(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    model: Path,
    tmp_path: Path,
    targets: str,
    needle: str,
) -> None:
    db = tmp_path / "r.sqlite"
    res = run_cli(capsys, monkeypatch, "deploy", str(model), "--targets", targets, "--db", str(db))
    assert_one_line_error(res, 2, needle)
    assert not db.exists()  # nothing converted, nothing benchmarked, nothing stored
