"""Static model analysis: params, MACs/FLOPs per layer, depth, weight and activation memory.

``analyze_model(path)`` picks the analyzer from the file itself
(``edgebench.modelfile.detect_format``).
Importing this package is light: onnx, numpy and the flatbuffer parser are imported only when a
model is analysed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from pathlib import Path

from edgebench.analysis.model import COUNTING_CONVENTION, LayerRow, ModelAnalysis
from edgebench.errors import UsageError
from edgebench.modelfile import detect_format

__all__ = ["COUNTING_CONVENTION", "LayerRow", "ModelAnalysis", "analyze_model", "checked_shapes", "detect_format"]


def analyze_model(
    path: str | Path, shapes: Mapping[str, tuple[int, ...]] | None = None, *, source_params: int | None = None
) -> ModelAnalysis:
    """Analyse an ONNX or TFLite file; ``shapes`` fixes symbolic input dims (``{"input": (1, 3, 224, 224)}``).

    ``source_params`` is the parameter count of the model the file was exported from (known for zoo
    models); when given, the result records it and explains any difference (BatchNorm folding).
    A ``shapes`` that is not such a mapping raises ``UsageError`` before the file is read."""
    from edgebench import registry

    checked = checked_shapes(shapes)
    path = Path(path)
    analyzer = registry.load("edgebench.analyzers", detect_format(path))()  # entry points onnx / tflite
    result: ModelAnalysis = analyzer.analyze(path, checked)
    return result if source_params is None else result.with_source_params(source_params)


def checked_shapes(shapes: object) -> dict[str, tuple[int, ...]] | None:
    """``shapes`` as {input name: tuple of positive ints}; anything else is a UsageError.

    A str is refused explicitly: it is a sequence, so ``"x=1x3"`` would otherwise be read character
    by character."""
    if shapes is None:
        return None
    if not isinstance(shapes, Mapping):
        raise UsageError(f"shapes must map input names to dims, got {type(shapes).__name__} {shapes!r}", hint=_HINT)
    return {_input_name(name): _dims(name, dims) for name, dims in shapes.items()}


_HINT = "e.g. shapes={'input': (1, 3, 224, 224)}; on the command line --shape input=1x3x224x224"


def _input_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise UsageError(f"shapes: input names must be non-empty strings, got {name!r}", hint=_HINT)
    return name


def _dims(name: str, dims: object) -> tuple[int, ...]:
    if isinstance(dims, str | bytes) or not isinstance(dims, Sequence) or not dims:
        raise UsageError(f"shapes[{name!r}] must be a non-empty tuple of ints, got {dims!r}", hint=_HINT)
    # bool is an int subclass and numpy ints are not: accept what behaves as an integer, nothing else
    if any(isinstance(d, bool) or not isinstance(d, Integral) for d in dims):
        raise UsageError(f"shapes[{name!r}] must hold ints, got {tuple(dims)!r}", hint=_HINT)
    wanted = tuple(int(d) for d in dims)
    if any(d <= 0 for d in wanted):
        raise UsageError(f"shapes[{name!r}]: dimensions must be positive, got {wanted}", hint=_HINT)
    return wanted
