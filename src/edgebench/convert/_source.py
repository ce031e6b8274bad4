"""Reading a PyTorch source for the torch-side converters: the module, its inputs, example tensors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebench.convert.base import ConvertOptions
from edgebench.errors import ShapeError
from edgebench.protocols import IOSpec


def load_torch_source(path: Path) -> tuple[Any, list[IOSpec]]:
    from edgebench.backends.torch import load_module

    module, inputs, _fmt = load_module(path)
    return module, inputs


def input_shapes(specs: list[IOSpec], options: ConvertOptions) -> list[tuple[int, ...]]:
    """Concrete shapes: ``options.shapes`` first, else the recorded ones (symbolic dims → 1)."""
    shapes = []
    for spec in specs:
        if spec.name in options.shapes:
            shapes.append(tuple(options.shapes[spec.name]))
        elif spec.shape is not None and spec.shape:
            shapes.append(tuple(d if isinstance(d, int) else 1 for d in spec.shape))
        else:
            raise ShapeError(
                f"the source does not record the shape of its input {spec.name!r}",
                hint=f"give it: --shape {spec.name}=1x3x224x224 (your model's dims)",
            )
    return shapes


def example_inputs(specs: list[IOSpec], options: ConvertOptions) -> list[Any]:
    """Deterministic example tensors for tracing (values do not matter; shapes and dtypes do)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    out = []
    for spec, shape in zip(specs, input_shapes(specs, options), strict=True):
        dtype = getattr(torch, spec.dtype, torch.float32)
        if dtype.is_floating_point:
            out.append(torch.rand(shape, generator=generator, dtype=torch.float32).to(dtype) * 2 - 1)
        else:
            out.append(torch.zeros(shape, dtype=dtype))
    return out
