"""Static model analysis: params, MACs/FLOPs per layer, depth, weight and activation memory.

``analyze_model(path)`` picks the analyzer from the file itself
(``edgebench.modelfile.detect_format``).
Importing this package is light: onnx, numpy and the flatbuffer parser are imported only when a
model is analysed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edgebench.analysis.model import COUNTING_CONVENTION, LayerRow, ModelAnalysis
from edgebench.modelfile import detect_format

__all__ = ["COUNTING_CONVENTION", "LayerRow", "ModelAnalysis", "analyze_model", "detect_format"]


def analyze_model(
    path: str | Path, shapes: Mapping[str, tuple[int, ...]] | None = None, *, source_params: int | None = None
) -> ModelAnalysis:
    """Analyse an ONNX or TFLite file; ``shapes`` fixes symbolic input dims (``{"input": (1, 3, 224, 224)}``).

    ``source_params`` is the parameter count of the model the file was exported from (known for zoo
    models); when given, the result records it and explains any difference (BatchNorm folding)."""
    from edgebench import registry

    path = Path(path)
    analyzer = registry.load("edgebench.analyzers", detect_format(path))()  # entry points onnx / tflite
    result: ModelAnalysis = analyzer.analyze(path, shapes)
    return result if source_params is None else result.with_source_params(source_params)
