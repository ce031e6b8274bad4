"""The headline names the precision that ran, and says so when the runtime ran another than asked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edgebench._frozen import FrozenMap
from edgebench.records import record_from_json
from edgebench.reporters.console import headline, precision
from tests.golden.test_console_golden import HERE

RECORD = record_from_json((HERE / "record_v1.json").read_text())


@pytest.mark.parametrize(
    ("asked", "reported", "shown"),
    [
        ("fp32", None, "fp32"),  # nothing reported: what was asked
        ("fp32", "f32", "fp32"),  # OpenVINO's spelling
        ("fp16", "float16", "fp16"),  # torch's dtype name
        ("fp16", "bf16", "fp16 asked, bf16 ran"),  # OpenVINO CPU without f16 arithmetic
        ("fp32", "bfloat16", "fp32 asked, bf16 ran"),
        ("fp32", "as in the model", "fp32"),  # free text is not a precision
    ],
)
def test_precision_in_the_headline(asked: str, reported: str | None, shown: str) -> None:
    effective = FrozenMap({} if reported is None else {"precision": reported})
    record = replace(RECORD, spec=replace(RECORD.spec, precision=asked), effective=effective)
    assert precision(record) == shown
    assert f" · {shown} · " in headline(record) or headline(record).endswith(shown)
