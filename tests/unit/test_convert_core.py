"""Conversion plumbing on tiny ONNX graphs: routing, cache by content hash, records, check, CLI errors, deploy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgebench import convert as conv
from edgebench.convert import ConvertOptions, convert, get_converter, output_stem
from edgebench.convert.deploy import deploy, markdown
from edgebench.errors import ModelError, PluginError, UsageError
from edgebench.modelfile import sha256_file
from tests.cli_helpers import run_cli

FAST_DEPLOY = {"warmup_time_s": 0.01, "min_time_s": 0.05, "max_time_s": 0.05, "min_iters": 5, "processes": 1}


def make_linear(path: Path, *, cast: bool = False) -> Path:
    """x[1,16] → MatMul(seeded weights) → Relu → y[1,10]; ``cast`` puts a Cast-to-float first."""
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(1).normal(size=(16, 10)).astype(np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    nodes = [helper.make_node("MatMul", ["xc" if cast else "x", "w"], ["m"]), helper.make_node("Relu", ["m"], ["y"])]
    if cast:
        nodes.insert(0, helper.make_node("Cast", ["x"], ["xc"], to=TensorProto.FLOAT))
    graph = helper.make_graph(nodes, "linear", [x], [y], initializer=[numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture
def fixed(tmp_path: Path) -> Path:
    # a static batch of 1: what the check feeds (seeded random rows)
    return make_linear(tmp_path / "fixed.onnx")


def test_fake_route_records_tool_hashes_and_check(fixed: Path, tmp_path: Path) -> None:
    done = convert(str(fixed), "fake", cache_dir=tmp_path / "cache")
    out = Path(done.output.path)
    assert out.is_file() and out.name == "fixed.onnx" and out != fixed
    assert (done.tool, done.tool_version, done.target) == ("fake-copy", "1.0", "fake")
    assert done.source.sha256 == sha256_file(fixed) == done.output.sha256  # a copy: same bytes
    assert done.source.size_bytes == fixed.stat().st_size and done.seconds >= 0
    assert done.check is not None and done.check.top1_agreement == 1.0 and done.check.max_abs_diff == 0.0
    assert done.check.inputs.startswith("random(seed=0") and done.check.samples == 4
    assert not done.cached


def test_cache_hit_then_corrupt_output_is_redone(fixed: Path, tmp_path: Path) -> None:
    first = convert(str(fixed), "onnx-simplified", cache_dir=tmp_path / "cache")
    again = convert(str(fixed), "onnx-simplified", cache_dir=tmp_path / "cache")
    assert again.cached and again.output == first.output and again.seconds == first.seconds
    assert again.check == first.check  # the stored record carries the check
    other = convert(str(fixed), "onnx-simplified", cache_dir=tmp_path / "cache", options=ConvertOptions(opset=13))
    assert not other.cached and other.output.path != first.output.path  # options are part of the key
    Path(first.output.path).write_bytes(b"\x08garbage")
    redone = convert(str(fixed), "onnx-simplified", cache_dir=tmp_path / "cache")
    assert not redone.cached and sha256_file(Path(redone.output.path)) == first.output.sha256


def test_explicit_output_file(fixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "simple.onnx"
    done = convert(str(fixed), "onnx-simplified", out=out, cache_dir=tmp_path / "cache")
    assert done.output.path == str(out) and out.is_file()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".convert-")]  # temp dir cleaned


def test_fp16_keeps_float32_io_unless_asked(fixed: Path, tmp_path: Path) -> None:
    kept = convert(str(fixed), "onnx-fp16", cache_dir=tmp_path / "c")
    model = onnx.load(kept.output.path)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert all(init.data_type == onnx.TensorProto.FLOAT16 for init in model.graph.initializer)
    assert kept.check is not None and kept.check.top1_agreement == 1.0 and 0 < kept.check.max_abs_diff < 1e-2
    half = convert(str(fixed), "onnx-fp16", cache_dir=tmp_path / "c", options=ConvertOptions(keep_io_types=False))
    assert onnx.load(half.output.path).graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    assert half.check is not None and half.check.top1_agreement == 1.0  # inputs cast to the model's dtype


def test_fp16_model_that_does_not_run_is_a_check_note_not_a_crash(tmp_path: Path) -> None:
    # onnxconverter-common keeps an explicit Cast-to-float: MatMul then mixes float and float16 (a real limit)
    done = convert(str(make_linear(tmp_path / "cast.onnx", cast=True)), "onnx-fp16", cache_dir=tmp_path / "c")
    assert done.check is not None and done.check.top1_agreement is None
    assert done.check.note is not None and done.check.note.startswith("converted model did not run")


@pytest.mark.slow
def test_openvino_ir_is_two_files_with_fp32_weights(fixed: Path, tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    done = convert(str(fixed), "openvino", cache_dir=tmp_path / "c")
    xml = Path(done.output.path)
    assert xml.suffix == ".xml" and xml.with_suffix(".bin").is_file()
    assert done.output.size_bytes == xml.stat().st_size + xml.with_suffix(".bin").stat().st_size
    assert 'element_type="f32"' in xml.read_text() and 'element_type="f16"' not in xml.read_text()
    assert done.check is not None and done.check.top1_agreement == 1.0


def test_routes_that_do_not_exist(fixed: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="already is onnx"):
        convert(str(fixed), "onnx", cache_dir=tmp_path)
    with pytest.raises(ModelError, match="onnx2tf"):
        convert(str(fixed), "litert", cache_dir=tmp_path)
    with pytest.raises(UsageError, match="unknown conversion target 'tensorrt'"):
        convert(str(fixed), "tensorrt", cache_dir=tmp_path)


def test_broken_converter_plugin_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        name = "broken"

    class EntryPoint:
        def load(self) -> type:
            return Broken

    from edgebench import registry

    fake = {"broken": EntryPoint()}
    monkeypatch.setattr(registry, "_entry_points", lambda group: fake if group == conv.GROUP else {})
    registry.load.cache_clear()
    try:
        with pytest.raises(PluginError, match=r"'broken' in edgebench.converters breaks its contract"):
            get_converter("broken")
    finally:
        registry.load.cache_clear()


@pytest.mark.parametrize(
    ("target", "module", "extra"),
    [("onnx-simplified", "onnxslim", "convert"), ("onnx-fp16", "onnxconverter_common", "convert")],
)
def test_missing_tool_names_its_extra(
    target: str,
    module: str,
    extra: str,
    fixed: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError, as when not installed
    res = run_cli(capsys, monkeypatch, "convert", str(fixed), "--to", target, "--cache-dir", str(fixed.parent / "c"))
    assert res.code == 4 and res.out == ""
    (error,) = [line for line in res.err.splitlines() if line.startswith("Error: ")]  # after one progress line
    assert f"pip install 'edgebench[{extra}]'" in error and "Traceback" not in res.err


def test_missing_litert_torch_names_the_litert_convert_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebench.convert.litert import TorchToLiteRT
    from edgebench.errors import BackendUnavailable

    monkeypatch.setitem(sys.modules, "litert_torch", None)
    with pytest.raises(BackendUnavailable) as info:
        TorchToLiteRT().tool()
    assert info.value.hint == "pip install 'edgebench[litert-convert]'"


def test_cli_convert_json_and_bad_input(
    fixed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    res = run_cli(capsys, monkeypatch, "convert", str(fixed), "--to", "fake", "--json", "--cache-dir", str(tmp_path))
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert data["target"] == "fake" and data["check"]["top1_agreement"] == 1.0 and data["total_seconds"] >= 0
    for args, code, text in [
        (["--to", "nope"], 2, "unknown conversion target"),
        (["--to", "fake", "--opset", "99"], 2, "opset"),
        (["--to", "fake", "--shape", "x=0x3"], 2, "bad --shape"),
        (["--to", "fake", "-o", str(tmp_path)], 2, "is a directory"),
    ]:
        res = run_cli(capsys, monkeypatch, "convert", str(fixed), *args, "--cache-dir", str(tmp_path))
        assert res.code == code and text in res.err and res.err.count("\n") == 1, (args, res.err)
    res = run_cli(capsys, monkeypatch, "convert", str(tmp_path / "missing.onnx"), "--to", "fake")
    assert res.code == 3 and "does not exist" in res.err


def test_deploy_failures_do_not_stop_other_targets(fixed: Path, tmp_path: Path) -> None:
    from edgebench.stores import open_store

    db = tmp_path / "r.db"
    rows = deploy(
        str(fixed),
        ["fake", "litert", "nope", "onnx-simplified"],
        cache_dir=tmp_path / "c",
        bench=FAST_DEPLOY,
        store=lambda: open_store(db),
        executor="inline",
    )
    status = {r.target: r.status for r in rows}
    assert status == {"fake": "ok", "litert": "failed", "nope": "failed", "onnx-simplified": "ok"}
    assert "onnx2tf" in next(r.reason for r in rows if r.target == "litert")
    ok = [r for r in rows if r.status == "ok"]
    assert all(r.record is not None and r.record.summary is not None for r in ok)
    stored = open_store(db).list()
    assert len(stored) == 2 and all("deploy" in r.spec.tags for r in stored)
    assert {t for r in stored for t in r.spec.tags if t.startswith("deploy:target=")} == {
        "deploy:target=fake",
        "deploy:target=onnx-simplified",
    }
    # each stored record says how its file was made: tool, time, hashes, and the check against the source
    for record in stored:
        made = record.conversion
        assert made is not None and made["target"] in ("fake", "onnx-simplified")
        assert made["output"]["sha256"] == record.model.sha256 if record.model else False
        assert made["tool"] and made["seconds"] >= 0 and made["source"]["sha256"]
    table = markdown(rows, "fixed")
    assert table.count("\n| ") == 5 and "❌ failed" in table and "✅ ok" in table


def test_deploy_validation_failure_is_a_cross(fixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebench.convert import fake

    def corrupt(self: object, source: Path, out: Path, options: ConvertOptions) -> None:
        model = onnx.load(str(source))  # negated weights: the arg-max moves
        weights = onnx.numpy_helper.to_array(model.graph.initializer[0])
        model.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(-weights, "w"))
        onnx.save(model, str(out))

    monkeypatch.setattr(fake.FakeConverter, "convert", corrupt)
    (row,) = deploy(str(fixed), ["fake"], cache_dir=tmp_path / "c", bench=FAST_DEPLOY, executor="inline")
    assert row.status == "invalid" and "top-1 agreement" in row.reason and row.record is not None


def test_cli_deploy_markdown_and_json(
    fixed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    md = tmp_path / "matrix.md"
    args = ["deploy", str(fixed), "--targets", "fake,litert", "--time", "0.05", "--inline", "--no-store"]
    res = run_cli(capsys, monkeypatch, *args, "--markdown", str(md), "--json", "--cache-dir", str(tmp_path))
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert [t["status"] for t in data["targets"]] == ["ok", "failed"]
    assert data["targets"][0]["latency_median_ms"] > 0 and data["targets"][0]["conversion"]["tool"] == "fake-copy"
    assert "| fake | ✅ ok |" in md.read_text()
    res = run_cli(capsys, monkeypatch, "deploy", str(fixed), "--time", "0", "--no-store")
    assert res.code == 2 and "--time" in res.err and res.err.count("\n") == 1


def test_output_stem() -> None:
    assert output_stem("efficientnet-lite0") == "efficientnet-lite0"
    assert output_stem("pkg.models:build") == "pkg.models-build"
    assert output_stem("/a/b/model.v2.onnx") == "model.v2"


def test_pyref_detection_needs_the_magic(tmp_path: Path) -> None:
    from edgebench.modelfile import detect_format

    good = tmp_path / "a.pyref"
    good.write_text('{"edgebench_pyref": 1, "module": "m"}')
    assert detect_format(good) == "pyfactory"
    bad = tmp_path / "b.pyref"
    bad.write_text('{"module": "m"}')
    with pytest.raises(ModelError, match="unknown model format"):
        detect_format(bad)


def _image_model(path: Path) -> Path:
    """x[1,3,16,16] → GlobalAveragePool → Flatten → y[1,3]: an image input the check feeds photos to."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]), helper.make_node("Flatten", ["p"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "pool", [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_check_on_builtin_photos_and_on_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from edgebench.convert import CheckData

    model = _image_model(tmp_path / "pool.onnx")
    done = convert(str(model), "fake", cache_dir=tmp_path / "c")
    assert done.check is not None and done.check.inputs == "builtin-images(7, tf, 16)" and done.check.samples == 7
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.bmp", "b.bmp"):
        shutil.copyfile(Path(__file__).parents[1] / "data" / "cat.bmp", photos / name)
    on_data = convert(str(model), "fake", cache_dir=tmp_path / "c", data=CheckData(str(photos)))
    assert on_data.cached and on_data.check is not None and on_data.check.samples == 2
    assert on_data.check.inputs.endswith("(2, tf)") and on_data.check.top1_agreement == 1.0
    # the cache keeps the built-in-photo check; a --data check is never written over it
    assert convert(str(model), "fake", cache_dir=tmp_path / "c").check == done.check
    res = run_cli(capsys, monkeypatch, "convert", str(tmp_path / "fixed.onnx"), "--to", "fake", "--data", str(photos))
    assert res.code == 3  # no such model yet
    make_linear(tmp_path / "fixed.onnx")
    args = ["convert", str(tmp_path / "fixed.onnx"), "--to", "fake", "--cache-dir", str(tmp_path / "c")]
    res = run_cli(capsys, monkeypatch, *args, "--data", str(photos))
    assert res.code == 2 and "is not an image" in res.err
    res = run_cli(capsys, monkeypatch, *args, "--data", str(tmp_path / "nowhere"))
    assert res.code == 2 and res.err.count("Error: ") == 1
    res = run_cli(capsys, monkeypatch, *args, "--data", str(photos), "--preprocess", "nope")
    assert res.code == 2 and "unknown --preprocess" in res.err
