"""A deterministic fake converter (target ``fake``): copies an ONNX file, so routing, caching, records and
the CLI are testable without any conversion tool."""

from __future__ import annotations

import shutil
from pathlib import Path

from edgebench.convert.base import ConvertOptions


class FakeConverter:
    name = "fake"
    sources = ("onnx",)
    output_format = "onnx"
    suffix = ".onnx"
    extra = "dev"

    def tool(self) -> tuple[str, str]:
        return "fake-copy", "1.0"

    def convert(self, source: Path, out: Path, options: ConvertOptions) -> None:
        shutil.copyfile(source, out)
