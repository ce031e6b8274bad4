"""LiteRT's CompiledModel path: same numbers as the Interpreter in fp32, fp16 through XNNPACK's FORCE_FP16."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgebench.backends.litert import LiteRTBackend, LiteRTOptions
from edgebench.backends.litert_compiled import CompiledSession
from edgebench.engine.inputs import generate
from edgebench.errors import BackendError, ModelError, UsageError
from edgebench.options import validate
from edgebench.records import RunSpec
from edgebench.zoo import resolve
from tests.cli_helpers import run_cli

DATA = Path(__file__).resolve().parents[1] / "data"
MOBILENET = DATA / "mobilenet_v1_0.25_128_quant.tflite"
CUSTOM_OP = DATA / "model_invoking_error.tflite"


def _landmark() -> Path:
    return Path(resolve.resolve_model("face-landmark").path)


def _load(path: Path, precision: str = "fp32", **options: Any) -> Any:
    spec = RunSpec(model=str(path), backend="litert", threads=1, precision=precision)
    return LiteRTBackend().load(path, spec, LiteRTOptions(**options))


def _outputs(session: Any, seed: int = 0) -> list[np.ndarray]:
    specs = session.inputs()
    feeds = generate(specs, {s.name: tuple(int(d or 1) for d in s.shape or ()) for s in specs}, seed)
    return [np.array(o) for o in session.run(session.prepare(feeds))]


@pytest.mark.parametrize("which", ["float", "quantized"])
def test_compiled_model_fp32_equals_the_interpreter(which: str) -> None:
    path = _landmark() if which == "float" else MOBILENET
    interp, compiled = _load(path, api="interpreter"), _load(path, api="compiled_model")
    assert isinstance(compiled, CompiledSession)
    assert compiled.inputs() == interp.inputs() and compiled.outputs() == interp.outputs()  # quantization kept
    for a, b in zip(_outputs(interp), _outputs(compiled), strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-5, atol=1e-4)
    eff = compiled.effective()
    assert (eff["api"], eff["precision"], eff["threads"]) == ("compiled_model", "fp32", 1)
    assert interp.effective()["api"] == "interpreter"


def test_fp16_runs_half_precision_and_says_so() -> None:
    path = _landmark()
    ref, half = _load(path), _load(path, precision="fp16")  # api=auto picks CompiledModel for fp16
    assert half.effective()["precision"] == "fp16" and half.effective()["xnnpack_flags"] == "QS8|QU8|FORCE_FP16"
    a, b = _outputs(ref)[0].astype(np.float64), _outputs(half)[0].astype(np.float64)
    rel = np.abs(a - b).max() / np.abs(a).max()
    # fp16 rounding is visible (it really ran in half precision) but small (it is the same model)
    assert 1e-5 < rel < 5e-2, rel


def test_fp16_with_the_interpreter_is_refused() -> None:
    with pytest.raises(BackendError, match="fp16 needs LiteRT's CompiledModel API"):
        _load(_landmark(), precision="fp16", api="interpreter")


def test_compiled_model_option_rules_and_errors() -> None:
    with pytest.raises(UsageError, match=r"litert.*api=compiled_model always runs on the XNNPACK"):
        validate("litert", LiteRTOptions, {"api": "compiled_model", "xnnpack": "false"})
    with pytest.raises(ModelError, match="no signature 'nope'"):
        _load(MOBILENET, api="compiled_model", signature="nope")
    with pytest.raises(ModelError, match="custom op 'fake-op-double'"):  # named, as on the Interpreter path
        _load(CUSTOM_OP, api="compiled_model")


@pytest.mark.slow
def test_cli_bench_precision_fp16_records_what_ran(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("--backend", "litert", "--precision", "fp16", "--processes", "1", "--threads", "1")
    timing = ("--warmup-time", "0.05", "--min-time", "0.2", "--max-time", "1", "--target-ci", "0", "--no-store")
    result = run_cli(capsys, monkeypatch, "bench", "face-landmark", *args, *timing, "--json")
    assert result.code == 0, result.err
    record = json.loads(result.out)
    assert record["status"] == "ok" and record["spec"]["precision"] == "fp16"
    assert record["effective"]["precision"] == "fp16" and record["effective"]["api"] == "compiled_model"
    isa = set(record["environment"]["cpu"].get("isa_features") or ())
    if not isa & {"avx512_fp16", "amx_fp16", "fp16"}:  # this CI machine: emulated fp16 is said to be slow
        assert "fp16_emulated" in {w["code"] for w in record["warnings"]}
