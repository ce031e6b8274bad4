"""PyTorch (``module:factory``, TorchScript, ExportedProgram) → ONNX with torch.onnx.

The legacy (TorchScript-based) exporter needs nothing beyond torch and writes one self-contained file;
the dynamo exporter needs onnxscript and is used only when asked (``exporter="dynamo"``). Outputs are
named ``output`` (``output0…`` for several); the input names are the source's.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgebench.convert._source import example_inputs, load_torch_source
from edgebench.convert._tools import need
from edgebench.convert.base import TORCH_FORMATS, ConvertOptions
from edgebench.errors import ModelError


class TorchToOnnx:
    name = "onnx"
    sources = TORCH_FORMATS
    output_format = "onnx"
    suffix = ".onnx"
    extra = "torch"

    def tool(self) -> tuple[str, str]:
        torch = need("torch", "torch", "converting PyTorch to ONNX")
        return "torch.onnx", str(torch.__version__)

    def convert(self, source: Path, out: Path, options: ConvertOptions) -> None:
        import torch

        if options.exporter == "dynamo":
            need("onnxscript", "convert", "the dynamo ONNX exporter")
        module, specs = load_torch_source(source)
        if not isinstance(module, torch.nn.Module) or _is_unlifted_program(module):
            module = _opaque(module)
        args = example_inputs(specs, options)
        names = [s.name for s in specs]
        with torch.no_grad():
            outputs = module(*args)
        count = len(outputs) if isinstance(outputs, list | tuple) else 1
        out_names = ["output"] if count == 1 else [f"output{i}" for i in range(count)]
        axes = {n: {0: "batch"} for n in [*names, *out_names]} if options.dynamic_batch else None
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # exporter chatter (constant folding, deprecation) is not actionable
                torch.onnx.export(
                    module,
                    tuple(args),
                    str(out),
                    input_names=names,
                    output_names=out_names,
                    opset_version=options.opset,
                    dynamic_axes=axes,
                    dynamo=options.exporter == "dynamo",
                    external_data=False,
                )
        except Exception as exc:  # the exporter raises many types (unsupported op, tracing errors…)
            raise ModelError(
                f"torch.onnx.export failed: {_first_line(exc)}",
                hint="try another --opset, or --exporter dynamo (needs onnxscript)",
            ) from exc


def _is_unlifted_program(module: object) -> bool:
    # ExportedProgram.module() refuses train()/eval(), which the legacy exporter calls
    return type(module).__name__ in ("_UnliftedModule", "GraphModule") and hasattr(module, "graph")


def _opaque(inner: Callable[..., object]) -> Any:
    """A wrapper module whose train()/eval() do not recurse: an unlifted ExportedProgram refuses train()."""
    import torch

    class Opaque(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def train(self, mode: bool = True) -> Opaque:
            self.training = mode  # the unlifted program is already in eval form
            return self

        def forward(self, *args: object) -> object:
            return self.inner(*args)

    return Opaque()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
