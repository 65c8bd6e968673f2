"""The Typer app: registers one module per command group and maps errors to exit codes in one place.

Exit codes: 0 ok, 1 error (bad input, failed analysis), 2 usage (bad options or arguments).
"""

from __future__ import annotations

import importlib
import sys

import typer

from ..errors import PermadaniError, UsageError

app = typer.Typer(
    name="permadani",
    help="Audit the class system of social media: who is the upper class, and do they answer the rest?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: (module, function, command name): each command lives in its own module under permadani.cli.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("ingest", "ingest", "ingest"),
    ("ingest", "info", "info"),
    ("ingest", "formats", "formats"),
    ("export", "export", "export"),
    ("audit", "audit", "audit"), ("audit", "account", "account"), ("audit", "synth", "synth"),
    ("report", "report", "report"), ("report", "demo", "demo"),
)

for _module, _function, _name in COMMANDS:
    app.command(name=_name)(getattr(importlib.import_module(f"{__package__}.{_module}"), _function))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, print typed errors on stderr, exit 0/1/2."""
    from .common import err_console

    try:
        # standalone mode: Typer itself reports its usage errors (exit 2) and --help (exit 0).
        app(args=argv, prog_name="permadani")
    except UsageError as exc:
        err_console.print(f"[bold red]usage error:[/] {_escape(str(exc))}", highlight=False)
        sys.exit(2)
    except PermadaniError as exc:
        err_console.print(f"[bold red]error:[/] {_escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(0)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
