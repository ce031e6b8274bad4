"""``edgebench schema NAME``: the JSON Schema of a file format edgebench reads (editors validate with it)."""

from __future__ import annotations

from typing import Annotated

import typer

SCHEMAS = ("sweep",)


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)


def schema(
    name: Annotated[str, typer.Argument(help=f"Which schema: {' | '.join(SCHEMAS)}.")] = "sweep",
) -> None:
    """Print the JSON Schema of a sweep file (YAML and TOML sweep files follow the same schema)."""
    import json

    from edgebench.errors import UsageError

    if name not in SCHEMAS:
        raise UsageError(f"no schema named {name!r}", hint=f"schemas: {', '.join(SCHEMAS)}")
    from edgebench.sweep.config import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
