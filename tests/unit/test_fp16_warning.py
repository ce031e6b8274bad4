"""fp16 on a CPU without fp16 arithmetic is slower than fp32: the record says so."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edgebench._frozen import FrozenMap
from edgebench.engine.validity import check_fp16_on_cpu
from edgebench.records import RunRecord, record_from_json
from tests.golden.test_console_golden import HERE

BASE = record_from_json((HERE / "record_v1.json").read_text())
ZEN5 = ["avx", "fma", "f16c", "avx2", "avx512f", "avx512_vnni", "avx512_bf16"]  # no fp16 arithmetic


def _record(precision: str, isa: list[str], effective: dict[str, object], backend: str = "torch") -> RunRecord:
    env = replace(BASE.environment, cpu=FrozenMap({**BASE.environment.cpu, "isa_features": isa}))
    return replace(
        BASE,
        spec=replace(BASE.spec, precision=precision, backend=backend),  # type: ignore[arg-type]
        environment=env,
        effective=FrozenMap(effective),
    )


@pytest.mark.parametrize(
    ("precision", "isa", "effective", "warned"),
    [
        ("fp16", ZEN5, {"device": "cpu"}, True),  # torch on this machine
        ("fp16", [*ZEN5, "avx512_fp16"], {"device": "cpu"}, False),  # Sapphire Rapids: real fp16
        ("fp16", ["fp16", "dotprod"], {"device": "cpu"}, False),  # Arm v8.2+
        ("fp16", ZEN5, {"device": "cuda:0"}, False),  # GPUs have fp16 units
        ("fp32", ZEN5, {"device": "cpu"}, False),
        ("fp16", ZEN5, {"providers": ["CPUExecutionProvider"]}, True),
        ("fp16", ZEN5, {"providers": ["CUDAExecutionProvider", "CPUExecutionProvider"]}, False),
    ],
)
def test_fp16_on_a_cpu_without_fp16_units(
    precision: str, isa: list[str], effective: dict[str, object], warned: bool
) -> None:
    note = check_fp16_on_cpu(_record(precision, isa, effective))
    assert (note is not None) == warned
    if note:
        assert note.code == "fp16_emulated" and "--precision fp32" in note.hint


def test_an_fp16_model_fed_on_the_cpu_is_warned_too() -> None:
    record = _record("fp32", ZEN5, {}, backend="onnxruntime")
    assert record.measurements is not None
    half = replace(record.measurements, inputs=tuple(replace(t, dtype="float16") for t in record.measurements.inputs))
    note = check_fp16_on_cpu(replace(record, measurements=half))
    assert note is not None and note.code == "fp16_emulated"
