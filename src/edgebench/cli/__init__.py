"""The ``edgebench`` command line: the only place that calls ``sys.exit``.

Sub-command modules each expose ``register(app)``; they import runtimes only inside
their command functions so that ``edgebench --help`` stays light (ARCHITECTURE rule 5).
"""

from __future__ import annotations

import signal
import sys
from typing import Annotated, NoReturn

import typer

from edgebench.cli import (
    analyze,
    backends,
    bench,
    compare,
    convert,
    energy,
    eval,
    platform,
    predict,
    report,
    results,
    schema,
    sweep,
    zoo,
)
from edgebench.cli._common import fail
from edgebench.errors import EdgebenchError

app = typer.Typer(
    name="edgebench",
    help="Benchmark, analyze and characterize AI models on edge hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from edgebench import __version__

        print(f"edgebench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Benchmark, analyze and characterize AI models on edge hardware."""


# in the order of the guide's workflow: baseline, accuracy, platform, deploy, energy, iterate, report
for _module in (
    bench,
    analyze,
    eval,
    predict,
    platform,
    convert,
    energy,
    backends,
    sweep,
    compare,
    report,
    results,
    zoo,
    schema,
):
    _module.register(app)


def main() -> None:
    """Console-script entry: user errors become one ``Error:`` line and an exit code."""
    # SIGTERM unwinds like Ctrl-C, so temporary dirs are removed and the worker is killed with us.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = app(standalone_mode=False)
    except EdgebenchError as exc:
        fail(exc)
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted (hint: nothing half-measured was stored)\n")
        sys.exit(130)
    except _Terminated:
        sys.stderr.write("Error: terminated (hint: nothing half-measured was stored)\n")
        sys.exit(143)
    except typer.Abort:
        sys.stderr.write("Error: aborted\n")
        sys.exit(1)
    except typer.TyperException as exc:  # Click's parsing errors: bad option value, unknown option, …
        _usage_error(exc)
    if code == 130:  # Typer turns Ctrl-C inside a command into exit code 130 without a word
        sys.stderr.write("Error: interrupted (hint: nothing half-measured was stored)\n")
    sys.exit(code if isinstance(code, int) else 0)


def _command_names() -> set[str]:
    names = {c.name for c in app.registered_commands if c.name}
    return names | {g.name for g in app.registered_groups if g.name}


class _Terminated(BaseException):
    """Raised by the SIGTERM handler; a BaseException so no `except Exception` swallows it."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated()


def _usage_error(exc: typer.TyperException) -> NoReturn:
    """Click prints usage errors as a boxed, multi-line panel; we keep the one-line contract."""
    exit_code = int(getattr(exc, "exit_code", 2))
    if type(exc).__name__ == "NoArgsIsHelpError":  # `edgebench` or `edgebench zoo` alone: show the help
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exit_code)
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "edgebench"
    if command == "edgebench" and len(sys.argv) > 1 and sys.argv[1] in _command_names():
        command = f"edgebench {sys.argv[1]}"  # the error came from a sub-command's options
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    line = f"Error: {message} (hint: see '{command} --help')"
    sys.stderr.write(" ".join(line.split()) + "\n")
    sys.exit(exit_code)
