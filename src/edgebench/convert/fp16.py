"""ONNX → FP16 ONNX with onnxconverter-common's float16 converter.

Weights and activations become float16; with ``keep_io_types`` (default) the inputs and outputs stay
float32, with Cast nodes inside, so callers feed the same arrays as before.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from edgebench.convert._tools import dist_version, need
from edgebench.convert.base import ConvertOptions
from edgebench.errors import ModelError


class OnnxToFp16:
    name = "onnx-fp16"
    sources = ("onnx",)
    output_format = "onnx"
    suffix = ".onnx"
    extra = "convert"

    def tool(self) -> tuple[str, str]:
        need("onnxconverter_common", self.extra, "converting ONNX to FP16")
        return "onnxconverter-common float16", dist_version("onnxconverter-common")

    def convert(self, source: Path, out: Path, options: ConvertOptions) -> None:
        import onnx

        float16 = need("onnxconverter_common.float16", self.extra, "converting ONNX to FP16")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "values truncated to fp16" for tiny weights: expected
                model = float16.convert_float_to_float16(onnx.load(str(source)), keep_io_types=options.keep_io_types)
        except Exception as exc:
            text = " ".join(str(exc).split())
            hint = (
                "this model already has FP16 weights: use it as it is"
                if "already converted to float16" in text
                else "check that the source is a float32 ONNX model that onnxruntime can run"
            )
            raise ModelError(f"FP16 conversion of {source.name} failed: {text}", hint=hint) from exc
        onnx.save(model, str(out))
