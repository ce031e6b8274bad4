"""Helpers shared by the sub-commands: consoles, error printing, option parsing."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

from edgebench.errors import EdgebenchError

# stdout carries results (tables, JSON); stderr carries progress and errors.
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def emit(*renderables: object, out: Console | None = None) -> None:
    """Print renderables; piped output loses the cells' trailing padding (diff-, grep- and golden-friendly)."""
    out = out or console
    if out.is_terminal:
        for item in renderables:
            out.print(item, soft_wrap=False)
        return
    with out.capture() as captured:
        for item in renderables:
            out.print(item, soft_wrap=False)
    out.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
    out.file.flush()


def fail(exc: EdgebenchError) -> NoReturn:
    """Print ``Error: message (hint: ...)`` on one line and exit with the error's code."""
    line = f"Error: {exc.message}"
    if exc.hint:
        line += f" (hint: {exc.hint})"
    sys.stderr.write(line.replace("\n", " ") + "\n")
    sys.exit(exc.exit_code)


def parse_shapes(values: list[str] | None) -> dict[str, tuple[int, ...]]:
    """``--shape input=1x3x224x224`` (repeatable) → {"input": (1, 3, 224, 224)}."""
    from edgebench.errors import UsageError

    shapes: dict[str, tuple[int, ...]] = {}
    for value in values or []:
        name, sep, dims = value.partition("=")
        try:
            parsed = tuple(int(d) for d in dims.lower().split("x"))
        except ValueError:
            parsed = ()
        if not sep or not name or not parsed or any(d <= 0 for d in parsed):
            raise UsageError(
                f"bad --shape {value!r}", hint="use NAME=AxBxC with positive integers, e.g. input=1x3x224x224"
            )
        shapes[name] = parsed
    return shapes


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """``--session-config key=value`` (repeatable) → {"key": "value"}."""
    from edgebench.errors import UsageError

    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise UsageError(f"bad {option} {value!r}", hint=f"use {option} KEY=VALUE")
        pairs[key] = val
    return pairs
