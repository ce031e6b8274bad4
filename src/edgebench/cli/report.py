"""``edgebench report``: the guide's tables (Markdown), a self-contained HTML page, or flat CSV/JSON rows.

Reads the database read-only, like ``results``; never creates, migrates or locks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edgebench.cli._common import err_console

FORMATS = ("md", "html", "csv", "json")
_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".csv": "csv", ".json": "json"}


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="md | html | csv | json (default: from -o's suffix, else md).", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: stdout; html needs -o on a terminal)."),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="KEY=VALUE filter, repeatable (all must hold); globs and a,b alternatives. Keys: model backend status host scenario sweep tag precision device threads batch spec_hash id task.",
        ),
    ] = None,
    last: Annotated[int | None, typer.Option("--last", help="Only the newest N matching records.")] = None,
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
) -> None:
    """Report stored records: Bench / Profiling / Optimization / Target Device tables, charts, flat rows."""
    from edgebench.cli.results import _check_output, _write_output
    from edgebench.reporters.document import gather
    from edgebench.reporters.select import parse_where
    from edgebench.stores import open_store

    chosen = _format(fmt, output)
    filters = parse_where(where)  # bad --where / --last fail before the database is opened
    if last is not None and last < 1:
        from edgebench.errors import UsageError

        raise UsageError(f"--last must be ≥ 1, got {last}", hint="e.g. --last 10")
    if output is not None:
        _check_output(output)
    elif chosen == "html" and _stdout_is_terminal():
        from edgebench.errors import UsageError

        raise UsageError("an HTML report is several MB: it goes to a file", hint="add -o report.html")
    data = gather(open_store(db, read_only=True), filters, last)
    for note in data.notes:
        err_console.print(f"Warning: {note}", markup=False)
    text = render(chosen, data)
    if output is None:
        print(text, end="")
        return
    _write_output(output, text)
    err_console.print(f"Wrote {chosen} report of {len(data.records)} records to {output}", markup=False)


def render(fmt: str, data: object) -> str:
    from edgebench.reporters import html, markdown, tabular
    from edgebench.reporters.document import ReportInput

    assert isinstance(data, ReportInput)
    if fmt == "html":
        return html.report(data)
    if fmt == "csv":
        return tabular.rows_csv(data.records)
    if fmt == "json":
        return tabular.rows_json(data.records)
    return markdown.report(data)


def _format(fmt: str | None, output: Path | None) -> str:
    from edgebench.errors import UsageError

    if fmt is None:
        return _SUFFIXES.get(output.suffix.lower(), "md") if output is not None else "md"
    normalized = {"markdown": "md"}.get(fmt.lower(), fmt.lower())
    if normalized not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}", hint=f"use --format {', '.join(FORMATS)}")
    return normalized


def _stdout_is_terminal() -> bool:
    import sys

    return sys.stdout.isatty()
