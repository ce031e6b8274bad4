"""Capture what runtimes write to file descriptor 2 (C++ loggers bypass Python) into an artifact.

Runtime log lines written inside the timed window cost time and flood the terminal (one conformance
model makes onnxruntime warn on every call). We redirect fd 2 to a file for load and measurement,
strip colour codes, and summarise the capture in one line for the console; the file becomes a
``runtime_log`` artifact of the record.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_WARNING = re.compile(r"\b(W:|warn(ing)?\b)", re.IGNORECASE)
_ERROR = re.compile(r"\b(E:|error\b)", re.IGNORECASE)


@dataclass
class CapturedLog:
    path: Path
    lines: int = 0
    warnings: int = 0
    errors: int = 0
    first: str | None = None

    def summary(self, runtime: str) -> str | None:
        if not self.lines:
            return None
        kinds = [f"{n:,} {k}" for n, k in ((self.warnings, "warnings"), (self.errors, "errors")) if n]
        what = ", ".join(kinds) if kinds else f"{self.lines:,} lines"
        return f"{runtime} logged {what}; first: {self.first}"


@contextmanager
def capture_fd2(path: Path) -> Iterator[CapturedLog]:
    """Redirect fd 2 into ``path`` for the duration; the result is filled in when the block ends."""
    result = CapturedLog(path)
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.dup2(fd, 2)
        yield result
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)
        _summarise(result)


def _summarise(result: CapturedLog) -> None:
    text = _ANSI.sub("", result.path.read_text(errors="replace"))
    result.path.write_text(text)  # colour codes are terminal noise in a stored artifact
    lines = [line for line in text.splitlines() if line.strip()]
    result.lines = len(lines)
    result.warnings = sum(1 for line in lines if _WARNING.search(line))
    result.errors = sum(1 for line in lines if _ERROR.search(line))
    result.first = lines[0].strip()[:200] if lines else None
