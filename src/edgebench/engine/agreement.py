"""Output agreement between variants measured on the same inputs (max-abs diff, cosine, top-1).

Each worker keeps the last call's outputs as an ``outputs`` artifact (an .npz, in output order);
the comparison reads those artifacts, never live sessions. Agreement is only computed when both
variants were fed identical inputs (same names, dtypes, shapes and generator/file), otherwise the
row says why not. Quantized outputs are dequantized with their scale/zero-point first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edgebench.records import RunRecord, TensorInfo

if TYPE_CHECKING:
    import numpy as np

OUTPUTS_ROLE = "outputs"
MAX_SAVED_BYTES = 16 * 1024**2  # larger outputs are not kept: agreement then says so


@dataclass(frozen=True)
class Agreement:
    max_abs_diff: float | None
    cosine: float | None
    top1: float | None  # fraction of rows whose argmax over the last axis agrees
    note: str | None = None


def save_outputs(outputs: object, path: Path) -> bool:
    """Write the outputs to ``path`` (.npz, keys arr_0, arr_1, …); False when too large or not arrays."""
    import numpy as np

    try:
        arrays = [np.asarray(o) for o in outputs]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return False
    if not arrays or sum(a.nbytes for a in arrays) > MAX_SAVED_BYTES or any(a.dtype == object for a in arrays):
        return False
    np.savez(path, *arrays)  # keys arr_0, arr_1, … in output order
    return True


def agreement(base: RunRecord, other: RunRecord) -> Agreement | None:
    """Agreement of ``other``'s first output with ``base``'s; None when either was not measured."""
    if base.measurements is None or other.measurements is None:
        return None
    if _inputs_key(base.measurements.inputs) != _inputs_key(other.measurements.inputs):
        return Agreement(None, None, None, "inputs differ (dtype, shape or source): not comparable")
    a, b = _first_output(base), _first_output(other)
    if a is None or b is None:
        return Agreement(None, None, None, "outputs not kept")
    if a.shape != b.shape:
        return Agreement(None, None, None, f"output shapes differ: {a.shape} vs {b.shape}")
    return _compare(a, b)


def _compare(a: np.ndarray, b: np.ndarray) -> Agreement:
    import numpy as np

    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    cosine = float(np.dot(x, y) / norm) if norm > 0 else (1.0 if np.array_equal(x, y) else 0.0)
    top1 = None
    if a.ndim >= 1 and a.shape[-1] > 1:
        rows_a, rows_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
        top1 = float(np.mean(np.argmax(rows_a, axis=1) == np.argmax(rows_b, axis=1)))
    return Agreement(float(np.max(np.abs(x - y))) if x.size else 0.0, cosine, top1)


def _first_output(record: RunRecord) -> np.ndarray | None:
    import numpy as np

    art = next((a for a in record.artifacts if a.role == OUTPUTS_ROLE), None)
    if art is None or not Path(art.path).is_file():
        return None
    with np.load(art.path, allow_pickle=False) as data:
        if "arr_0" not in data.files:
            return None
        out = data["arr_0"]
    infos = record.measurements.outputs if record.measurements else ()
    return _dequantize(out, infos[0]) if infos else out


def _dequantize(values: np.ndarray, info: TensorInfo) -> np.ndarray:
    import numpy as np

    if info.scale is None or values.dtype.kind not in "iu":
        return values
    result: np.ndarray = (values.astype(np.float64) - (info.zero_point or 0)) * info.scale
    return result


def _inputs_key(inputs: tuple[TensorInfo, ...]) -> list[tuple[str, tuple[int, ...], str]]:
    # names may differ between formats of one model: compare by position, dtype, shape and source
    return [(t.dtype, t.shape, t.source) for t in inputs]
