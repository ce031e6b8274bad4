"""What kind of model file is this? Cheap checks shared by the zoo, the analyzers and the backends.

TFLite flatbuffers carry the identifier ``TFL3`` at bytes 4..8; ONNX files are protobufs whose first
byte is the tag of a ModelProto field (``ir_version`` = 0x08 in practice).
"""

from __future__ import annotations

from pathlib import Path

from edgebench.errors import ModelError

TFLITE_IDENTIFIER = b"TFL3"
# An ONNX ModelProto starts with a protobuf tag of one of its fields (ir_version = 0x08 normally).
ONNX_FIRST_BYTES = frozenset({0x08, 0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42})
SUPPORTED_HINT = "supported model files: .onnx and .tflite"


def _check_file(path: Path) -> bytes:
    """First bytes of a readable, non-empty regular file; a ModelError otherwise."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist", hint="check the path or use a zoo model name")
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
