"""Unit formatting for humans; records stay in SI base units, conversion happens only here."""

from __future__ import annotations

DASH = "–"  # the guide's tables print an en dash for "not measured yet"


def duration(seconds: float | None, digits: int = 3) -> str:
    """Seconds in the smallest of ns, µs, ms, s that keeps the rounded value below 1000."""
    if seconds is None:
        return DASH
    for factor, unit in ((1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms")):
        text = _sig(seconds / factor, digits)
        if abs(float(text)) < 1000:
            return f"{text} {unit}"
    return f"{_sig(seconds, digits)} s"


def ms(seconds: float | None, decimals: int = 2) -> str:
    return DASH if seconds is None else f"{seconds * 1e3:.{decimals}f}"


def size(n_bytes: int | float | None, binary: bool = True) -> str:
    if n_bytes is None:
        return DASH
    base, units = (1024.0, ("B", "KiB", "MiB", "GiB", "TiB")) if binary else (1000.0, ("B", "kB", "MB", "GB", "TB"))
    value = float(n_bytes)
    for unit in units:
        if abs(value) < base or unit == units[-1]:
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= base
    return f"{value:.1f} {units[-1]}"


def count(n: float | None) -> str:
    """Human count: 4.65M, 385.2M, 1.2G."""
    if n is None:
        return DASH
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= factor:
            return f"{n / factor:.2f}{suffix}"
    return f"{n:g}"


def pct(fraction: float | None, decimals: int = 1) -> str:
    return DASH if fraction is None else f"{fraction * 100:.{decimals}f} %"


def _sig(value: float, digits: int) -> str:
    if value == 0:
        return "0"
    whole = len(str(int(abs(value)))) if abs(value) >= 1 else 1
    return f"{value:.{max(digits - whole, 0)}f}"
