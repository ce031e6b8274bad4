"""Built-in model formats (entry-point group ``edgebench.formats``).

Each format recognises its files cheaply (suffix, magic bytes) and lists the files that make one
model, so a multi-file model (OpenVINO ``.xml`` + ``.bin``) is hashed, checked and shipped as a unit.
A backend names the formats it loads; a new format is one more class here or in a plugin package.
"""

from __future__ import annotations

from pathlib import Path

from edgebench.errors import ModelError

TFLITE_IDENTIFIER = b"TFL3"
# An ONNX ModelProto starts with a protobuf tag of one of its fields (ir_version = 0x08 normally).
ONNX_FIRST_BYTES = frozenset({0x08, 0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42})
_ZIP_MAGIC = b"PK\x03\x04"  # TorchScript and ExportedProgram files are zip archives


class OnnxFormat:
    name = "onnx"
    suffixes = (".onnx",)

    def detect(self, path: Path, head: bytes) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".onnx":
            return True
        # Extension-less ONNX files exist (conformance corpora); other known suffixes are not ONNX.
        return suffix not in _OTHER_SUFFIXES and bool(head) and head[0] in ONNX_FIRST_BYTES

    def files(self, path: Path) -> list[Path]:
        return [path]


class TfliteFormat:
    name = "tflite"
    suffixes = (".tflite",)

    def detect(self, path: Path, head: bytes) -> bool:
        if head[4:8] == TFLITE_IDENTIFIER:
            return True
        if path.suffix.lower() == ".tflite":
            raise ModelError(
                f"{path.name} is not a TFLite flatbuffer (identifier 'TFL3' missing or file truncated)",
                hint="re-download or re-convert the model",
            )
        return False

    def files(self, path: Path) -> list[Path]:
        return [path]


class OpenVinoFormat:
    """OpenVINO IR: the topology in ``.xml``, the weights in a ``.bin`` of the same stem."""

    name = "openvino"
    suffixes = (".xml",)

    def detect(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".xml" and head.lstrip().startswith(b"<")

    def files(self, path: Path) -> list[Path]:
        weights = path.with_suffix(".bin")
        if not weights.is_file():
            raise ModelError(
                f"OpenVINO IR {path.name} has no weights file {weights.name} beside it",
                hint="keep the .xml and its .bin together",
            )
        return [path, weights]


class TorchScriptFormat:
    name = "torchscript"
    suffixes = (".pt", ".pth")

    def detect(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() in self.suffixes and head.startswith(_ZIP_MAGIC)

    def files(self, path: Path) -> list[Path]:
        return [path]


class ExportedProgramFormat:
    name = "exported_program"
    suffixes = (".pt2",)

    def detect(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".pt2" and head.startswith(_ZIP_MAGIC)

    def files(self, path: Path) -> list[Path]:
        return [path]


class PyFactoryFormat:
    """A reference to Python code: ``module.path:factory`` returning a ``torch.nn.Module``.

    It is not a model file but a small JSON file written by :mod:`edgebench.zoo.resolve` (suffix
    ``.pyref``) naming the module, the factory and the content identity of what it built, so that
    hashing, jobs and executors handle it like any other model file. Loading it imports and runs the
    user's code (that is what the user asked for); only the torch backend and the converters load it.
    """

    name = "pyfactory"
    suffixes = (".pyref",)

    def detect(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".pyref" and head.startswith(PYREF_MAGIC)

    def files(self, path: Path) -> list[Path]:
        return [path]


PYREF_MAGIC = b'{"edgebench_pyref": 1'
_OTHER_SUFFIXES = frozenset({".tflite", ".xml", ".bin", ".pt", ".pth", ".pt2", ".pb", ".json", ".txt", ".pyref"})
