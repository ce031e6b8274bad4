"""Microbenchmarks at tiny sizes: they run, count operations and bytes as documented, and label results."""

from __future__ import annotations

import pytest

from edgebench.errors import UsageError
from edgebench.platform import characterize
from edgebench.platform.microbench import (
    MIB,
    MicrobenchConfig,
    PeakMeasurement,
    best_of,
    default_stream_bytes,
    numpy_matmul,
    ort_matmul_fp32,
    ort_matmul_int8,
    ridge_points,
    stream_bandwidth,
    triad_kernel,
)

TINY = MicrobenchConfig(threads=1, duration_s=0.01, matmul_n=32, stream_bytes=64 * 1024, min_runs=2)


def _check(peak: PeakMeasurement, name: str, unit: str, counted: float) -> None:
    assert (peak.name, peak.state, peak.unit, peak.threads) == (name, "measured", unit, TINY.threads)
    assert peak.runs >= TINY.min_runs
    assert peak.best_s is not None and peak.best_s > 0
    assert peak.value == pytest.approx(counted / peak.best_s)


def test_ort_fp32_and_int8_matmul() -> None:
    ops = 2 * 32**3
    _check(ort_matmul_fp32(TINY), "fp32_matmul_ort", "FLOP/s", ops)
    int8 = ort_matmul_int8(TINY)
    _check(int8, "int8_matmulinteger_ort", "OP/s", ops)
    assert "MatMulInteger uint8×int8" in int8.method


def test_numpy_matmul_in_child_with_pinned_threads() -> None:
    peak = numpy_matmul(TINY)
    _check(peak, "fp32_matmul_numpy", "FLOP/s", 2 * 32**3)
    assert (peak.detail or "").startswith("BLAS:")


@pytest.mark.parametrize("threads", [1, 2])
def test_stream_counting_convention(threads: int) -> None:
    config = MicrobenchConfig(threads=threads, duration_s=0.01, stream_bytes=256 * 1024, min_runs=2)
    copy, triad = stream_bandwidth(config)
    elements = 256 * 1024 // 8
    assert copy.value == pytest.approx(2 * 8 * elements / (copy.best_s or 1))
    assert triad.value == pytest.approx(3 * 8 * elements / (triad.best_s or 1))
    assert "counts 2×bytes" in copy.method and "counts 3×bytes" in triad.method
    assert "write-allocate not counted" in triad.method


def test_triad_kernel_covers_every_element() -> None:
    import numpy as np

    b, c = np.arange(1001.0), np.full(1001, 0.5)
    a = np.zeros(1001)
    triad_kernel(a, b, c, 3.0, (0, 500), np.empty(64))  # blocks of 64 with a short last one
    triad_kernel(a, b, c, 3.0, (500, 1001), np.empty(64))
    assert np.array_equal(a, b + 1.5)


def test_best_of_respects_min_runs_and_budget() -> None:
    calls = []
    best, runs = best_of(lambda: calls.append(1), duration_s=0.0001, min_runs=5)
    assert runs >= 5 and len(calls) == runs + 1  # one untimed warm-up
    assert best >= 0


def test_ridge_points() -> None:
    peaks = (
        PeakMeasurement("fp32_matmul_numpy", "fp32", "measured", 100e9, "FLOP/s", 1, 3, 0.1, "m"),
        PeakMeasurement("fp32_matmul_ort", "fp32", "measured", 120e9, "FLOP/s", 1, 3, 0.1, "m"),
        PeakMeasurement("int8_matmulinteger_ort", "int8", "unsupported", None, "OP/s", 1, 0, None, "m"),
        PeakMeasurement("stream_triad", "fp64", "measured", 10e9, "B/s", 1, 3, 0.1, "m"),
    )
    fp32, int8 = ridge_points(peaks)
    assert (fp32.value, fp32.compute, fp32.bandwidth) == (pytest.approx(12.0), "fp32_matmul_ort", "stream_triad")
    assert int8.value is None and "no measured compute peak" in int8.detail
    assert all(r.value is None for r in ridge_points(()))


def test_default_stream_bytes() -> None:
    assert default_stream_bytes(2 * MIB, None) == 64 * MIB  # small LLC: at least 64 MiB
    assert default_stream_bytes(32 * MIB, None) == 128 * MIB  # 4 × LLC
    assert default_stream_bytes(300 * MIB, None) == 512 * MIB  # capped
    assert default_stream_bytes(32 * MIB, 256 * MIB) == 32 * MIB  # at most 1/8 of free memory


def test_config_validation() -> None:
    with pytest.raises(UsageError, match="threads"):
        MicrobenchConfig(threads=0)
    with pytest.raises(UsageError, match="duration"):
        MicrobenchConfig(threads=1, duration_s=0)
    with pytest.raises(UsageError, match="duration must be a positive finite number, got inf"):
        MicrobenchConfig(threads=1, duration_s=float("inf"))  # would loop for ever


def test_characterize_with_microbenchmarks() -> None:
    messages: list[str] = []
    report = characterize(threads=1, duration_s=0.05, matmul_n=32, stream_bytes=64 * 1024, progress=messages.append)
    names = [p.name for p in report.peaks]
    assert names == ["fp32_matmul_numpy", "fp32_matmul_ort", "int8_matmulinteger_ort", "stream_copy", "stream_triad"]
    assert all(p.state == "measured" for p in report.peaks)
    assert report.microbench_threads == 1 and report.microbench_duration_s == 0.05
    assert report.ridge("fp32") is not None and report.ridge("fp32") > 0  # type: ignore[operator]
    assert any("numpy" in m for m in messages)
    assert "(measured)" in report.to_markdown_row()
