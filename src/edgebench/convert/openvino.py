"""ONNX → OpenVINO IR (.xml + .bin) with ``openvino.convert_model`` and ``openvino.save_model``.

Weights stay FP32 unless ``compress_to_fp16`` is asked for (save_model's own default is FP16, which
would change the numbers silently).
"""

from __future__ import annotations

from pathlib import Path

from edgebench.convert._tools import dist_version, need
from edgebench.convert.base import ConvertOptions
from edgebench.errors import ModelError


class OnnxToOpenVino:
    name = "openvino"
    sources = ("onnx",)
    output_format = "openvino"
    suffix = ".xml"
    extra = "openvino"

    def tool(self) -> tuple[str, str]:
        need("openvino", self.extra, "converting to OpenVINO IR")
        return "openvino.convert_model", dist_version("openvino")

    def convert(self, source: Path, out: Path, options: ConvertOptions) -> None:
        ov = need("openvino", self.extra, "converting to OpenVINO IR")
        try:
            model = ov.convert_model(str(source))
            ov.save_model(model, str(out), compress_to_fp16=options.compress_to_fp16)
        except Exception as exc:  # openvino raises RuntimeError/OpConversionFailure…
            raise ModelError(f"OpenVINO conversion of {source.name} failed: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
