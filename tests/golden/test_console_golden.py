"""User-visible output is pinned by golden files (rendered from a stored v1 record).

Regenerate after an intended change with:  EDGEBENCH_UPDATE_GOLDEN=1 pytest tests/golden
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from edgebench.records import record_from_json
from edgebench.reporters.console import render_run
from edgebench.reporters.markdown import bench_table
from edgebench.reporters.tabular import to_csv

HERE = Path(__file__).parent
RECORD = record_from_json((HERE / "record_v1.json").read_text())


def render(renderable: object) -> str:
    buf = io.StringIO()
    Console(file=buf, width=110, color_system=None, force_terminal=False, soft_wrap=False).print(renderable)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bench_console.txt", lambda: render(render_run(RECORD))),
        ("bench_table.md", lambda: bench_table([RECORD])),
        ("export.csv", lambda: to_csv([RECORD])),
    ],
)
def test_golden(name: str, text) -> None:
    path = HERE / name
    actual = text()
    if os.environ.get("EDGEBENCH_UPDATE_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text()
