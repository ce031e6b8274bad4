"""ONNX → simplified ONNX with onnxslim (constant folding, dead-node and redundant-op removal).

onnxslim rather than onnxsim: onnxslim is pure Python (no C++ build, wheels for every Python), released
every few weeks and follows new onnx/opset versions quickly; onnxsim ships compiled wheels that lag
behind new Python and onnx releases. Both keep the model's interface; onnxslim is also what
ultralytics' exporter uses.
"""

from __future__ import annotations

from pathlib import Path

from edgebench.convert._tools import dist_version, need
from edgebench.convert.base import ConvertOptions
from edgebench.errors import ModelError


class SimplifyOnnx:
    name = "onnx-simplified"
    sources = ("onnx",)
    output_format = "onnx"
    suffix = ".onnx"
    extra = "convert"

    def tool(self) -> tuple[str, str]:
        need("onnxslim", self.extra, "simplifying ONNX")
        return "onnxslim", dist_version("onnxslim")

    def convert(self, source: Path, out: Path, options: ConvertOptions) -> None:
        import onnx

        onnxslim = need("onnxslim", self.extra, "simplifying ONNX")
        try:
            model = onnxslim.slim(onnx.load(str(source)))
        except Exception as exc:  # onnxslim raises many types on graphs it cannot handle
            raise ModelError(f"onnxslim failed on {source.name}: {exc}", hint="convert --to onnx instead") from exc
        if model is None:
            raise ModelError(f"onnxslim returned no model for {source.name}", hint="convert --to onnx instead")
        onnx.save(model, str(out))
