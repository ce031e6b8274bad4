"""Small readers for /proc and /sys files under a (possibly fake) root.

Every detector takes ``root`` so tests can point it at a tree built in ``tmp_path``;
these helpers keep the "file missing / unreadable / garbage" handling in one place.
"""

from __future__ import annotations

import re
from pathlib import Path

_DIGITS = re.compile(r"(\d+)")


def under(root: Path, absolute: str) -> Path:
    """``/sys/x`` inside ``root`` (``absolute`` always starts with a slash)."""
    return root / absolute.lstrip("/")


def read_text(path: Path) -> str | None:
    """The file's text stripped of whitespace and device-tree NULs; None if it cannot be read."""
    try:
        return path.read_text(errors="replace").strip().strip("\x00").strip()
    except (OSError, ValueError):
        return None


def read_int(path: Path) -> int | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return None


def natural_key(path: Path) -> list[object]:
    """Sort ``cpu10`` after ``cpu9`` and ``thermal_zone10`` after ``thermal_zone2``."""
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(path.name)]


def sorted_glob(base: Path, pattern: str) -> list[Path]:
    if not base.is_dir():
        return []
    return sorted(base.glob(pattern), key=natural_key)


def parse_cpu_list(text: str | None) -> tuple[int, ...]:
    """Kernel cpu-list syntax (``0-3,8,10-11``) to a sorted tuple."""
    if not text:
        return ()
    cpus: set[int] = set()
    for chunk in text.split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        lo, _, hi = chunk.partition("-")
        try:
            cpus.update(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            continue
    return tuple(sorted(cpus))
