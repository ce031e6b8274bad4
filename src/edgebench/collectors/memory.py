"""Process memory from /proc/self/status (VmRSS, VmHWM), falling back to getrusage.

VmHWM is the kernel's high-water mark of the resident set: it includes file-backed mmapped
weights and allocator arenas, not just what the model needs (see docs/records.md).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

from edgebench.records import JSONValue

_STATUS = Path("/proc/self/status")


def read_status(path: Path = _STATUS) -> dict[str, int]:
    """VmRSS/VmHWM in bytes from a /proc status file; empty where /proc is absent (macOS)."""
    out: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def rss_bytes() -> int | None:
    return read_status().get("VmRSS")


def peak_rss_bytes() -> int | None:
    hwm = read_status().get("VmHWM")
    if hwm is not None:
        return hwm
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # bytes on macOS, KiB on Linux


class MemoryCollector:
    """RSS at the window's start and end, and the peak; cheap enough to bracket any window."""

    name = "memory"

    def __init__(self) -> None:
        self._start: int | None = None

    def start(self) -> None:
        self._start = rss_bytes()

    def stop(self) -> dict[str, JSONValue]:
        end = rss_bytes()
        growth = end - self._start if end is not None and self._start is not None else None
        return {
            "rss_start_bytes": self._start,
            "rss_end_bytes": end,
            "rss_growth_bytes": growth,
            "peak_rss_bytes": peak_rss_bytes(),
        }
