"""The ``sfone`` command line: a thin click layer over the library.

Sub-commands live in the modules of this package (``sfone/cli/<topic>.py``), each exposing a
``commands`` list; they are discovered, so adding a command touches no shared file.

Exit codes (as in the README): 0 success; 1 a problem with the inputs (missing file or folder,
unreadable content, unknown channel, a missing control naming the file); 2 a malformed command
line (unknown option, missing required option, invalid choice: click's usage message);
3 an internal error; 130 interrupted (Ctrl-C); 141 stdout closed by its reader (``| head``),
quietly. Errors print one line naming the file,
warnings one line ``warning: <message>``; ``--debug`` shows tracebacks and Python's warning form.
Hints in library messages that name Python keywords are rewritten to the CLI flag that exists.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import re
import sys
import warnings

import click

from .. import __version__
from .._logging import set_log_level
from ..exceptions import SfoneError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, the status of a Unix tool whose reader went away


def _has_option(ctx: click.Context, name: str) -> bool:
    command = _leaf_command(ctx)
    return any(name in getattr(p, "opts", ()) for p in getattr(command, "params", ()))


def _leaf_command(ctx: click.Context):
    """The sub-command being run (``sfone calorimetry ancova`` -> ancova)."""
    command, args = ctx.command, list(ctx.meta.get("sfone.args", ()))
    while isinstance(command, click.Group):
        names = [a for a in args if not a.startswith("-")]
        if not names or names[0] not in command.commands:
            break
        command = command.commands[names[0]]
        args = args[args.index(names[0]) + 1:]
    return command


def cli_hint(message: str, ctx: click.Context) -> str:
    """Rewrite hints that name Python-only keywords into the CLI flags that exist.

    Parameters
    ----------
    message : str
        Error or warning message of the library.
    ctx : click.Context
        Context of the running command (its options decide the hint).

    Returns
    -------
    str
        The message with every hint of :data:`sfone.cli._hints.RULES` turned into the running
        command's flag (``pass fs= (Hz)`` -> ``pass --fs HZ``), the study field or manifest
        column (``reproduce``, ``batch``), a ``sfone convert`` step, or an explicit
        ``(in Python: ...)`` when no option does it; and a ``--session`` hint for calorimetry
        files without groups.
    """
    from ._hints import rewrite

    message = rewrite(message, _leaf_command(ctx))
    if re.search(r"got groups \[(''|'nan')?\]", message) and _has_option(ctx, "--session"):
        message += ("; the files carry no group labels: pass --session SESSION.csv (a CalR "
                    "session file that names each subject's group)")
    return message


def _missing_path(exc: click.BadParameter) -> bool:
    return isinstance(getattr(exc.param, "type", None), click.Path) and (
        "does not exist" in exc.format_message())


def _python_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = " ".join(str(message).split())
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        text = cli_hint(text, ctx)
    click.echo(f"warning: {text}", err=True)


#: warnings that are not the user's business: library deprecations and pynwb's note that a
#: file's cached NWB schema differs from the installed one (every NeuroConv file has one)
QUIET_WARNINGS = (
    {"category": FutureWarning},
    {"category": DeprecationWarning},
    {"category": PendingDeprecationWarning},
    {"message": r"Ignoring the following cached namespace", "category": UserWarning},
    {"message": r"Ignoring cached namespace", "category": UserWarning},
)


def _quiet_warnings() -> None:
    for spec in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", **spec)


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (``sfone formats | head``): end quietly, as Unix tools."""
    try:  # later writes (and the flush at exit) go nowhere instead of raising again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class SfoneGroup(click.Group):
    """A click group that turns exceptions into one clear line and a non-zero exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the command line, keeping the raw arguments in ``ctx.meta["sfone.args"]``.

        Parameters
        ----------
        ctx : click.Context
            The group's context.
        args : list of str
            Arguments after the program name.

        Returns
        -------
        list of str
            The arguments left for the subcommand (as :meth:`click.Group.parse_args`).
        """
        ctx.meta["sfone.args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        """Run the subcommand; turn its exceptions into one line on stderr and an exit code.

        A missing input path and sfone, OS, value and type errors exit with 1 ("Error: ..."),
        other exceptions (a KeyError too) with 3 ("Internal error ..."), Ctrl-C with 130; with
        ``--debug`` errors are re-raised and an interrupt prints its traceback.

        Parameters
        ----------
        ctx : click.Context
            The group's context.

        Returns
        -------
        object
            The subcommand's return value.
        """
        def debug() -> bool:
            return bool(ctx.obj and ctx.obj.get("debug"))

        try:
            return super().invoke(ctx)
        except click.BadParameter as exc:
            if not _missing_path(exc) or debug():
                raise
            # a path that does not exist is an input problem (exit 1) for every command
            click.echo(f"Error: {exc.format_message()}", err=True)
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            _quiet_broken_pipe()
            ctx.exit(EXIT_BROKEN_PIPE)
        except KeyboardInterrupt:
            if debug():  # click would turn it into "Aborted!"; keep the traceback
                import traceback

                traceback.print_exc()
            click.echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if debug():
                raise
            # a KeyError escaping a command is a bug (a missing key in sfone's own tables),
            # not a problem with the user's input: exit 3 with "Internal error"
            user_error = isinstance(exc, SfoneError | OSError | ValueError | TypeError)
            prefix = "Error" if user_error else f"Internal error ({type(exc).__name__})"
            message = cli_hint(str(exc).strip() or type(exc).__name__, ctx)
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
    warnings.showwarning = _python_warning if debug else _one_line_warning
    if not debug:
        _quiet_warnings()
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


def run() -> None:
    """Console entry point: ``main`` with a Ctrl-C during start-up ending quietly (exit 130)."""
    try:
        main()
    except KeyboardInterrupt:
        if "--debug" in sys.argv[1:]:
            raise
        sys.stderr.write("Interrupted.\n")
        sys.exit(EXIT_INTERRUPTED)

