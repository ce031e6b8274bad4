"""``edgebench backends``: installed backends, the formats they load, their typed options, versions."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from edgebench.cli._common import console


def register(app: typer.Typer) -> None:
    app.command("backends")(backends)


def backends(
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable listing.")] = False,
) -> None:
    """List the installed backends, the model formats each loads, and every option (--backend-option)."""
    from edgebench import registry

    rows = [_describe(name) for name in registry.names("edgebench.backends")]
    if json_out:
        import json

        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        console.print(f"[bold]{row['name']}[/bold]  formats: {', '.join(row['formats']) or '–'}", highlight=False)
        console.print(f"  provided by {row['distribution'] or 'unknown'}; runtime: {row['runtime']}", highlight=False)
        for opt in row["options"]:
            console.print(f"  {opt['name']} ({opt['type']}, default {opt['default']})", highlight=False)
            if opt["description"]:
                console.print(f"      {opt['description']}", highlight=False, markup=False)


def _describe(name: str) -> dict[str, Any]:
    from edgebench import options, registry
    from edgebench.errors import EdgebenchError

    try:
        plugin = registry.load("edgebench.backends", name)
    except EdgebenchError as exc:
        return {
            "name": name,
            "formats": [],
            "distribution": registry.distribution("edgebench.backends", name),
            "runtime": f"unavailable: {exc.message}",
            "options": [],
        }
    try:
        versions = plugin().versions()
        runtime = ", ".join(f"{k} {v}" for k, v in versions.items()) or "–"
    except EdgebenchError as exc:
        runtime = f"not installed ({exc.message})"
    return {
        "name": name,
        "formats": list(plugin.formats),
        "distribution": registry.distribution("edgebench.backends", name),
        "runtime": runtime,
        "options": [opt.__dict__ for opt in options.describe(plugin.Options)],
    }
