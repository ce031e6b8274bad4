"""The ``edgebench`` command line: the only place that calls ``sys.exit``.

Sub-command modules each expose ``register(app)``; they import runtimes only inside
their command functions so that ``edgebench --help`` stays light (ARCHITECTURE rule 5).
"""

from __future__ import annotations

import sys
from typing import NoReturn

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
        code = app(standalone_mode=False)
    except EdgebenchError as exc:
        fail(exc)
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted\n")
        sys.exit(130)
    except typer.Abort:
        sys.stderr.write("Error: aborted\n")
        sys.exit(1)
    except typer.TyperException as exc:  # Click's parsing errors: bad option value, unknown option, …
        _usage_error(exc)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: typer.TyperException) -> NoReturn:
    """Click prints usage errors as a boxed, multi-line panel; we keep the one-line contract."""
    exit_code = int(getattr(exc, "exit_code", 2))
    if type(exc).__name__ == "NoArgsIsHelpError":  # `edgebench` or `edgebench zoo` alone: show the help
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exit_code)
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "edgebench"
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    line = f"Error: {message} (hint: see '{command} --help')"
    sys.stderr.write(" ".join(line.split()) + "\n")
    sys.exit(exit_code)
