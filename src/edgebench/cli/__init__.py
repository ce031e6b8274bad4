"""The ``edgebench`` command line: the only place that calls ``sys.exit``.

Sub-command modules each expose ``register(app)``; they import runtimes only inside
their command functions so that ``edgebench --help`` stays light (ARCHITECTURE rule 5).
"""

from __future__ import annotations

import sys

import typer

from edgebench.cli import analyze, bench, platform, results, zoo
from edgebench.cli._common import fail
from edgebench.errors import EdgebenchError

app = typer.Typer(
    name="edgebench",
    help="Benchmark, analyze and characterize AI models on edge hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (bench, analyze, platform, zoo, results):
    _module.register(app)


def main() -> None:
    """Console-script entry: user errors become one ``Error:`` line and an exit code."""
    try:
        app()
    except EdgebenchError as exc:
        fail(exc)
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted\n")
        sys.exit(130)
