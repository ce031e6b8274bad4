"""``edgebench results``: list, show, export and import stored records.

The reading commands open the database read-only: they never create, migrate or lock it, so they
work on a read-only file or medium and while a benchmark is writing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edgebench.cli._common import console, emit, err_console

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from edgebench.records import RunRecord
    from edgebench.stores import ResultsStore, RunRow

results_app = typer.Typer(help="Stored benchmark records.", no_args_is_help=True)
_DB = typer.Option(help="Results database (default: user data dir).")
_COLUMNS = (
    "id",
    "created (UTC)",
    "status",
    "model",
    "backend",
    "host",
    "median",
    "throughput",
    "scenario",
    "spec hash",
)
# On a TTY, columns a narrow terminal does without, first dropped first: a truncated "994.…/s" or a
# spec hash cut to "10…" is worse than no column. Piped output always has every column.
_OPTIONAL = ("spec hash", "scenario", "host", "created (UTC)")
_SHRINKABLE = ("model", "backend", "host")  # names may end in "…" when even the narrowest table is too wide


def register(app: typer.Typer) -> None:
    app.add_typer(results_app, name="results")


@results_app.command("list")
def list_results(
    db: Annotated[Path | None, _DB] = None,
    limit: Annotated[int, typer.Option(min=0, help="Newest N records.")] = 20,
) -> None:
    """One line per record, newest first (tab-separated when piped)."""
    from edgebench.stores import open_store

    store = open_store(db, read_only=True)
    total = store.count()
    if total == 0:
        console.print("No results yet — run `edgebench bench`.")
        return
    rows = store.rows(limit)
    shown = f"{len(rows)} shown of {total} (--limit N for more)" if len(rows) < total else ""
    if not console.is_terminal:  # piped: tab-separated, one record per line, never wrapped
        print("\n".join("\t".join(_tsv(cell) for cell in row) for row in (_COLUMNS, *map(_cells, rows))))
        if shown:
            err_console.print(shown, markup=False)
        return
    if rows:
        console.print(_fitting_table(console, rows))
    if shown:
        console.print(shown, markup=False)


def _cells(r: RunRow) -> tuple[str, ...]:
    from edgebench.reporters import units

    throughput = f"{r.throughput_ips:,.1f}/s" if r.throughput_ips is not None else units.DASH
    model = Path(r.model).name or r.model
    median = units.duration(r.latency_median_s)
    base = (r.id, r.created_at, r.status, model, r.backend, r.hostname, median, throughput)
    return (*base, r.scenario or units.DASH, r.spec_hash or units.DASH)


def _tsv(cell: str) -> str:
    # A tab or newline inside a cell (a model path can hold anything) would shift every later column.
    return " ".join(cell.split())


def _fitting_table(out: Console, rows: list[RunRow]) -> Table:
    """Every column that fits the terminal's width, dropping the optional ones in order until it fits."""
    from rich.measure import Measurement

    cells = [_cells(r) for r in rows]
    unbounded = out.options.update_width(1_000_000)  # the table's natural width, not clipped to the terminal
    columns = list(_COLUMNS)
    for drop in (None, *_OPTIONAL):
        if drop:
            columns.remove(drop)
        table = _table(columns, cells)
        if Measurement.get(out, unbounded, table).maximum <= out.width:
            break
    return table  # the narrowest one if none fits: rich then shrinks the widest columns


def _table(columns: list[str], cells: list[tuple[str, ...]]) -> Table:
    from rich import box
    from rich.table import Table

    keep = [_COLUMNS.index(c) for c in columns]
    rows = [[row[i] for i in keep] for row in cells]
    table = Table(*columns, box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0))
    for n, column in enumerate(table.columns):
        column.no_wrap = True
        if column.header not in _SHRINKABLE:  # ids are copied into `results show`; numbers are never cut
            column.min_width = max(len(str(column.header)), *(len(row[n]) for row in rows))
    for row in rows:
        table.add_row(*row)
    return table


@results_app.command("show")
def show(
    record_id: Annotated[str, typer.Argument(help="Record id (a unique prefix is enough).")],
    db: Annotated[Path | None, _DB] = None,
    json_out: Annotated[bool, typer.Option("--json", help="The full record as JSON.")] = False,
) -> None:
    """Show one record as the bench command printed it (or as JSON)."""
    from edgebench.records import record_to_json
    from edgebench.stores import open_store

    record = open_store(db, read_only=True).get(record_id)
    if json_out:
        print(record_to_json(record, indent=2))
        return
    _print_record(record)


def _print_record(record: RunRecord) -> None:
    from rich.text import Text

    from edgebench.reporters.console import render_run
    from edgebench.reporters.markdown import bench_table

    if record.status != "ok":  # nothing was measured: a Bench Table would be a header with no row
        hint = [Text(f"  hint: {record.error.hint}")] if record.error and record.error.hint else []
        emit(render_run(record), *hint)
        return
    emit(render_run(record), "", Text(bench_table([record]).rstrip("\n")))


@results_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv | json | markdown")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    db: Annotated[Path | None, _DB] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="Newest N records (default: all).")] = None,
) -> None:
    """Export records for spreadsheets, scripts or the guide's Bench Table."""
    from edgebench.errors import UsageError
    from edgebench.reporters.markdown import bench_table
    from edgebench.reporters.tabular import to_csv, to_json
    from edgebench.stores import open_store

    writers = {"csv": to_csv, "json": to_json, "markdown": bench_table}
    if fmt not in writers:
        raise UsageError(f"unknown export format {fmt!r}", hint="use --format csv, json or markdown")
    if output is not None:
        _check_output(output)
    stored = open_store(db, read_only=True).read(limit)
    for bad in stored.unreadable:  # one bad row must not cost the user every other record
        err_console.print(f"Warning: skipped record {bad.id}: {bad.reason}", markup=False)
    text = writers[fmt](stored.records)
    if output is None:
        print(text, end="")
        return
    _write_output(output, text)
    err_console.print(f"Wrote {len(stored.records)} records to {output}", markup=False)


def _check_output(output: Path) -> None:
    """Refuse an unusable --output before reading the database (cheap checks; the write can still fail)."""
    from edgebench.errors import UsageError

    if output.is_dir():
        raise UsageError(f"--output {output} is a directory", hint="give a file path")
    if not output.parent.is_dir():
        raise UsageError(f"cannot write {output}: folder {output.parent} does not exist", hint="create it first")


def _write_output(output: Path, text: str) -> None:
    from edgebench.errors import UsageError
    from edgebench.stores import write_text_atomic

    try:
        write_text_atomic(output, text)  # never a half-written export over an existing file
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}", hint="choose another --output") from exc


@results_app.command("import")
def import_files(
    files: Annotated[list[Path], typer.Argument(help="Record JSON: side files, bench --json, export --format json.")],
    db: Annotated[Path | None, _DB] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Delete each file once all its records are stored.")] = False,
) -> None:
    """Add records from files: the side files a failed store left, or records from another machine."""
    from edgebench.errors import EdgebenchError, StoreError
    from edgebench.stores import open_store

    store = open_store(db)
    added = present = 0
    failed: list[Path] = []
    for path in files:
        try:
            new, old = _import_file(store, path, remove=remove)
        except EdgebenchError as exc:  # report it and go on: the other files are independent
            err_console.print(f"Warning: skipped {path}: {exc.message}", markup=False)
            failed.append(path)
            continue
        added, present = added + new, present + old
    err_console.print(f"Imported {added} records into {store.path} ({present} already there)", markup=False)
    if failed:
        raise StoreError(f"{len(failed)} of {len(files)} files were not imported", hint="see the warnings above")


def _import_file(store: ResultsStore, path: Path, *, remove: bool) -> tuple[int, int]:
    from edgebench.stores import read_records_file

    results = [store.import_record(record) for record in read_records_file(path)]
    if remove:
        path.unlink()
    return sum(results), len(results) - sum(results)
