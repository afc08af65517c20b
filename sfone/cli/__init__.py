"""The ``sfone`` command line: a thin click layer over the library.

Sub-commands live in the modules of this package (``sfone/cli/<topic>.py``), each exposing a
``commands`` list; they are discovered, so adding a command touches no shared file. Errors print
one line naming the file and exit non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import click

from .. import __version__
from .._logging import set_log_level
from ..exceptions import SfoneError

EXIT_ERROR = 1
EXIT_INTERNAL = 3


class SfoneGroup(click.Group):
    """A click group that turns exceptions into one clear line and a non-zero exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            user_error = isinstance(exc, SfoneError | OSError | ValueError | TypeError | KeyError)
            prefix = "Error" if user_error else f"Internal error ({type(exc).__name__})"
            message = str(exc).strip() or type(exc).__name__
            click.echo(f"{prefix}: {message}", err=True)
            if not user_error:
                click.echo("Run again with --debug for the traceback and report it.", err=True)
            ctx.exit(EXIT_ERROR if user_error else EXIT_INTERNAL)


@click.group(cls=SfoneGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sfone")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("-v", "--verbose", count=True, help="Log progress (-v info, -vv debug).")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: int) -> None:
    """sfone: exercise-neuroscience analysis from raw files to figures."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if verbose:
        set_log_level(logging.DEBUG if verbose > 1 else logging.INFO)


def _register_subcommands() -> None:
    package = sys.modules[__name__]
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for command in getattr(module, "commands", ()):
            main.add_command(command)


_register_subcommands()
