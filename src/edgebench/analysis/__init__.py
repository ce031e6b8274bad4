"""Static model analysis: params, MACs/FLOPs per layer, depth, weight and activation memory.

``analyze_model(path)`` picks the analyzer from the file itself (TFLite flatbuffers carry the
identifier ``TFL3`` at bytes 4..8; ONNX files are recognised by suffix). Importing this package is
light: onnx, numpy and the flatbuffer parser are imported only when a model is analysed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edgebench.analysis.model import COUNTING_CONVENTION, LayerRow, ModelAnalysis
from edgebench.errors import ModelError

__all__ = ["COUNTING_CONVENTION", "LayerRow", "ModelAnalysis", "analyze_model", "detect_format"]

TFLITE_IDENTIFIER = b"TFL3"
# An ONNX ModelProto starts with a protobuf tag of one of its fields (ir_version = 0x08 normally).
ONNX_FIRST_BYTES = frozenset({0x08, 0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42})
SUPPORTED_HINT = "edgebench analyze reads .onnx and .tflite files"


def _check_file(path: Path) -> bytes:
    """First bytes of a readable, non-empty regular file; a ModelError otherwise."""
    if not path.exists():
        raise ModelError(f"model file not found: {path}", hint="check the path or use a zoo model name")
    if path.is_dir():
        raise ModelError(f"{path} is a directory, not a model file", hint=SUPPORTED_HINT)
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head:
        raise ModelError(f"{path} is empty", hint="re-download or re-export the model")
    return head


def detect_format(path: str | Path) -> str:
    """'onnx' or 'tflite', from the TFLite identifier, the suffix or the first byte; ModelError otherwise."""
    path = Path(path)
    head = _check_file(path)
    if head[4:8] == TFLITE_IDENTIFIER:
        return "tflite"
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        raise ModelError(
            f"{path.name} is not a TFLite flatbuffer (identifier 'TFL3' missing or file truncated)",
            hint="re-download or re-convert the model",
        )
    if suffix == ".onnx" or (suffix not in (".pb", ".pt", ".pth", ".bin", ".xml") and head[0] in ONNX_FIRST_BYTES):
        return "onnx"
    raise ModelError(f"unknown model format: {path.name}", hint=SUPPORTED_HINT)


def analyze_model(path: str | Path, shapes: Mapping[str, tuple[int, ...]] | None = None) -> ModelAnalysis:
    """Analyse an ONNX or TFLite file; ``shapes`` fixes symbolic input dims (``{"input": (1, 3, 224, 224)}``)."""
    from edgebench import registry

    path = Path(path)
    analyzer = registry.load("edgebench.analyzers", detect_format(path))()  # entry points onnx / tflite
    result: ModelAnalysis = analyzer.analyze(path, shapes)
    return result
