"""What kind of model file is this? Shared by the zoo, the analyzers and the backends.

Format detection is contributed by the ``edgebench.formats`` plugins (built-ins in
:mod:`edgebench.formats`); this module asks each in turn, then hashes all files of the model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from edgebench.errors import ModelError
from edgebench.formats import ONNX_FIRST_BYTES, TFLITE_IDENTIFIER

__all__ = ["ONNX_FIRST_BYTES", "TFLITE_IDENTIFIER", "ModelFiles", "detect_format", "model_files", "sha256_file"]


@dataclass(frozen=True)
class ModelFiles:
    format: str
    main: Path
    files: tuple[Path, ...]  # main first, then companions
    size_bytes: int


def _check_file(path: Path) -> bytes:
    """First bytes of a readable, non-empty regular file; a ModelError otherwise."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist", hint="check the path or use a zoo model name")
    if path.is_dir():
        raise ModelError(f"{path} is a directory, not a model file", hint=_supported_hint())
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head:
        raise ModelError(f"{path} is empty", hint="re-download or re-export the model")
    return head


def _formats() -> list[object]:
    from edgebench import registry

    return [registry.load("edgebench.formats", n)() for n in registry.names("edgebench.formats")]


def _supported_hint() -> str:
    from edgebench import registry

    return "supported model formats: " + ", ".join(registry.names("edgebench.formats"))


def detect_format(path: str | Path) -> str:
    """The format plugin name that recognises ``path``; ModelError when none does."""
    return _detect(Path(path))[0]


def _detect(path: Path) -> tuple[str, object]:
    head = _check_file(path)
    # TFLite first: its magic is exact, and an ONNX-looking first byte is only a heuristic.
    formats = sorted(_formats(), key=lambda f: getattr(f, "name", "") != "tflite")
    for fmt in formats:
        if fmt.detect(path, head):  # type: ignore[attr-defined]
            return str(fmt.name), fmt  # type: ignore[attr-defined]
    raise ModelError(f"unknown model format: {path.name}", hint=_supported_hint())


def model_files(path: str | Path) -> ModelFiles:
    """Format plus every file that belongs to the model (e.g. OpenVINO .xml and .bin)."""
    path = Path(path)
    name, fmt = _detect(path)
    files = tuple(fmt.files(path))  # type: ignore[attr-defined]
    return ModelFiles(name, path, files, sum(f.stat().st_size for f in files))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_sha256(files: tuple[Path, ...]) -> str:
    """One file: its sha256. Several: sha256 over the sorted ``name:sha256`` lines (renaming the
    pair consistently keeps the hash; changing either file changes it)."""
    if len(files) == 1:
        return sha256_file(files[0])
    lines = sorted(f"{f.name}:{sha256_file(f)}" for f in files)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
