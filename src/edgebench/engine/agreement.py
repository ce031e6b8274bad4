"""Output agreement between variants measured on the same inputs (max-abs diff, cosine, top-1).

:func:`output_agreement` compares two output arrays directly (top-1 agreement, top-5 overlap,
max/mean abs diff, cosine, KL of softmax — overall and where the reference is confident); it is
``edgebench.accuracy.agreement``, used by the conversion matrix and [optimize].

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
    # classification outputs (≥ 2 classes on the last axis): see OutputAgreement
    top5_overlap: float | None = None
    kl: float | None = None


# The reference is "confident" on a sample when its softmax top-1 probability is at least this.
CONFIDENT_P = 0.5
CONFIDENT_RULE = f"reference softmax top-1 probability >= {CONFIDENT_P}"


@dataclass(frozen=True)
class AgreementStats:
    """Agreement of two models' outputs over a set of samples (rows of the last axis = classes)."""

    samples: int
    top1_agreement: float  # fraction of samples whose argmax agrees
    top5_overlap: float  # mean |top5(ref) ∩ top5(other)| / 5 (k = min(5, classes))
    max_abs: float  # max |ref − other| over every element (raw outputs, dequantized)
    mean_abs: float  # mean |ref − other|
    cosine: float  # mean per-sample cosine similarity of the raw outputs
    kl: float  # mean KL(softmax(ref) ‖ softmax(other)) in nats


@dataclass(frozen=True)
class OutputAgreement(AgreementStats):
    """Overall agreement plus the same figures on the samples where the reference is confident.

    Outputs that already are probabilities (non-negative rows summing to 1) are used as they are;
    anything else is treated as logits and softmaxed for the confidence split and KL.
    """

    confident: AgreementStats | None = None  # None when the reference is confident on no sample
    confident_rule: str = CONFIDENT_RULE


def output_agreement(ref: np.ndarray, other: np.ndarray, *, confident_p: float = CONFIDENT_P) -> OutputAgreement:
    """Compare ``other`` against ``ref``: arrays [N, classes] (or [N, ..., classes], or one row)."""
    import numpy as np

    from edgebench.errors import UsageError

    a, b = np.asarray(ref, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if a.shape != b.shape or a.ndim == 0 or a.shape[-1] < 1 or a.size == 0:
        raise UsageError(
            f"output agreement needs two non-empty arrays of one shape, got {a.shape} and {b.shape}",
            hint="compare the same model's outputs on the same inputs (classes on the last axis)",
        )
    rows_a, rows_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    if not (np.isfinite(rows_a).all() and np.isfinite(rows_b).all()):
        raise UsageError("output agreement: the outputs contain NaN or infinity", hint="check the model's outputs")
    p_ref = probabilities(rows_a)
    overall = _stats(rows_a, rows_b, p_ref, probabilities(rows_b))
    mask = p_ref.max(axis=1) >= confident_p
    confident = None
    if mask.any():
        confident = _stats(rows_a[mask], rows_b[mask], p_ref[mask], probabilities(rows_b[mask]))
    rule = CONFIDENT_RULE if confident_p == CONFIDENT_P else f"reference softmax top-1 probability >= {confident_p}"
    return OutputAgreement(**overall.__dict__, confident=confident, confident_rule=rule)


def probabilities(rows: np.ndarray) -> np.ndarray:
    """Rows as probabilities: kept when they already are (non-negative, sum 1), else softmax of logits."""
    import numpy as np

    sums = rows.sum(axis=1)
    # quantized softmax outputs (uint8, scale 1/256) sum to 1 only roughly: hence the loose tolerance
    if rows.min() >= 0 and rows.max() <= 1 and np.allclose(sums, 1.0, atol=0.1):
        return rows
    shifted = np.exp(rows - rows.max(axis=1, keepdims=True))
    result: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def _stats(a: np.ndarray, b: np.ndarray, p: np.ndarray, q: np.ndarray) -> AgreementStats:
    import numpy as np

    k = min(5, a.shape[1])
    top_a, top_b = np.argsort(-a, axis=1)[:, :k], np.argsort(-b, axis=1)[:, :k]
    overlap = np.mean([len(set(x) & set(y)) / k for x, y in zip(top_a.tolist(), top_b.tolist(), strict=True)])
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.sum(a * b, axis=1)
    same = np.all(a == b, axis=1)
    cosines = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), np.where(same, 1.0, 0.0))
    eps = 1e-12
    kl = np.sum(p * (np.log(np.clip(p, eps, None)) - np.log(np.clip(q, eps, None))), axis=1)
    diff = np.abs(a - b)
    return AgreementStats(
        samples=int(a.shape[0]),
        top1_agreement=float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1))),
        top5_overlap=float(overlap),
        max_abs=float(diff.max()),
        mean_abs=float(diff.mean()),
        cosine=float(np.mean(cosines)),
        kl=float(max(0.0, np.mean(kl))),
    )


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
    top1 = top5 = kl = None
    if a.ndim >= 1 and a.shape[-1] > 1:
        rows_a, rows_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
        top1 = float(np.mean(np.argmax(rows_a, axis=1) == np.argmax(rows_b, axis=1)))
        if x.size and np.isfinite(x).all() and np.isfinite(y).all():
            detail = output_agreement(a, b)
            top5, kl = detail.top5_overlap, detail.kl
    return Agreement(float(np.max(np.abs(x - y))) if x.size else 0.0, cosine, top1, top5_overlap=top5, kl=kl)


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
