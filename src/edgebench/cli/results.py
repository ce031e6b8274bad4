"""``edgebench results``: list, show and export stored records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edgebench.cli._common import console

results_app = typer.Typer(help="Stored benchmark records.", no_args_is_help=True)
_DB = typer.Option(help="Results database (default: user data dir).")


def register(app: typer.Typer) -> None:
    app.add_typer(results_app, name="results")


@results_app.command("list")
def list_results(
    db: Annotated[Path | None, _DB] = None,
    limit: Annotated[int, typer.Option(help="Newest N records.")] = 20,
) -> None:
    """One line per record, newest first."""
    from rich.table import Table

    from edgebench.reporters import units
    from edgebench.stores import open_store

    rows = open_store(db).rows(limit)
    if not rows:
        console.print("No results yet — run `edgebench bench`.")
        return
    header = ("id", "created (UTC)", "status", "model", "backend", "host", "median", "throughput")
    cells = [
        (
            r.id,
            r.created_at,
            r.status,
            Path(r.model).name or r.model,
            r.backend,
            r.hostname,
            units.duration(r.latency_median_s),
            f"{r.throughput_ips:,.1f}/s" if r.throughput_ips is not None else units.DASH,
        )
        for r in rows
    ]
    if not console.is_terminal:  # piped: tab-separated, one record per line, never wrapped
        print("\n".join("\t".join(row) for row in (header, *cells)))
        return
    table = Table(*header)
    table.columns[0].no_wrap = True
    for row in cells:
        table.add_row(*row)
    console.print(table)


@results_app.command("show")
def show(
    record_id: Annotated[str, typer.Argument(help="Record id (a unique prefix is enough).")],
    db: Annotated[Path | None, _DB] = None,
    json_out: Annotated[bool, typer.Option("--json", help="The full record as JSON.")] = False,
) -> None:
    """Show one record as the bench command printed it (or as JSON)."""
    from edgebench.records import record_to_json
    from edgebench.reporters.console import render_run
    from edgebench.reporters.markdown import bench_table
    from edgebench.stores import open_store

    record = open_store(db).get(record_id)
    if json_out:
        print(record_to_json(record, indent=2))
        return
    console.print(render_run(record))
    console.print()
    console.print(bench_table([record]), markup=False)


@results_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv | json | markdown")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    db: Annotated[Path | None, _DB] = None,
    limit: Annotated[int | None, typer.Option(help="Newest N records (default: all).")] = None,
) -> None:
    """Export records for spreadsheets, scripts or the guide's Bench Table."""
    from edgebench.errors import UsageError
    from edgebench.reporters.markdown import bench_table
    from edgebench.reporters.tabular import to_csv, to_json
    from edgebench.stores import open_store

    writers = {"csv": to_csv, "json": to_json, "markdown": bench_table}
    if fmt not in writers:
        raise UsageError(f"unknown export format {fmt!r}", hint="use --format csv, json or markdown")
    if output is not None and output.is_dir():
        raise UsageError(f"--output {output} is a directory", hint="give a file path")
    text = writers[fmt](open_store(db).list(limit))
    if output is None:
        print(text, end="")
    else:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(output)  # never leave a half-written export over an existing file
        console.print(f"Wrote {output}")
