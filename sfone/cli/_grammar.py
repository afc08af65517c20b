"""The one grammar of the ``sfone`` commands: shared options and old spellings.

* :func:`reading_options`: the reading options of :data:`sfone.io._reading_options.READING_OPTIONS`
  (``--format --fs --repair --leds --neuropil-coefficient --plane --cells-only/--all-rois``) on
  every command that reads a data file, handed to the command as one ``reading`` dict;
* :func:`out_option` / :class:`OutPath`: ``--out`` whose parent folder must exist (sfone never
  creates folders above an output);
* :class:`Option` with ``old_spellings=(...)``: old spellings that still work for a release, with
  one line ``warning: --old is deprecated, use --new``, hidden from ``--help``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from ..io._reading_options import CELLS_ONLY_DEFAULT, READING_OPTIONS, parse_reading_options


def deprecation(old: str, new: str) -> None:
    """Print the one-line deprecation warning of an old spelling.

    Parameters
    ----------
    old : str
        The old spelling as typed (``--baseline-s``).
    new : str
        What to use instead (``--baseline-window``).
    """
    click.echo(f"warning: {old} is deprecated, use {new}", err=True)


def _raw_args(ctx: click.Context) -> list[str]:
    return list(ctx.meta.get("sfone.args", ()))


def _typed(args: list[str], spelling: str) -> bool:
    return any(a == spelling or a.startswith(spelling + "=") for a in args)


class Option(click.Option):
    """A click option with old spellings (``deprecated``) that work, warn and stay out of help.

    Parameters
    ----------
    *args
        As :class:`click.Option`; the old spellings are listed among the names too.
    old_spellings : tuple of str
        The old spellings among the names.
    **kwargs
        As :class:`click.Option`.
    """

    def __init__(self, *args, old_spellings: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.old_spellings = tuple(old_spellings)

    def get_help_record(self, ctx: click.Context):
        """The help line without the old spellings.

        Parameters
        ----------
        ctx : click.Context
            The command's context.

        Returns
        -------
        tuple of str or None
            As :meth:`click.Option.get_help_record`.
        """
        opts = self.opts
        self.opts = [o for o in opts if o not in self.old_spellings]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = opts

    def handle_parse_result(self, ctx: click.Context, opts, args):
        """Warn once for each old spelling typed, then parse as usual.

        Parameters
        ----------
        ctx : click.Context
            The command's context.
        opts : dict
            Parsed options.
        args : list
            Remaining arguments.

        Returns
        -------
        tuple
            As :meth:`click.Option.handle_parse_result`.
        """
        raw = _raw_args(ctx)
        new = next(o for o in self.opts if o not in self.old_spellings)
        for old in self.old_spellings:
            if _typed(raw, old):
                deprecation(old, new)
        return super().handle_parse_result(ctx, opts, args)


class OutPath(click.Path):
    """An output path whose parent folder must exist (the output itself may not)."""

    name = "out path"

    def convert(self, value, param, ctx):
        """The path, or a "does not exist" error naming the missing parent folder.

        Parameters
        ----------
        value : str or os.PathLike
            The path typed.
        param : click.Parameter or None
            The option.
        ctx : click.Context or None
            The command's context.

        Returns
        -------
        pathlib.Path
            The path.
        """
        path = Path(super().convert(value, param, ctx))
        parent = path.absolute().parent
        if not parent.is_dir():
            message = (f"folder '{parent}' does not exist: create it first (sfone makes no "
                       "folders above an output)")
            if param is not None and not param.human_readable_name:  # the hidden old OUT
                raise click.BadParameter(message, ctx=ctx, param=param, param_hint="OUT")
            self.fail(message, param, ctx)
        return path


def out_option(help: str, *, required: bool = True, name: str = "out", flag: str = "--out",
               deprecated: tuple[str, ...] = ()):
    """An output option (``--out`` unless ``flag``) checked by :class:`OutPath`.

    Parameters
    ----------
    help : str
        Help text (what is written there).
    required : bool
        Whether the command needs it.
    name : str
        Name of the callback argument.
    flag : str
        The flag.
    deprecated : tuple of str
        Old spellings.

    Returns
    -------
    callable
        A click decorator.
    """
    return click.option(flag, *deprecated, name, cls=Option, old_spellings=deprecated,
                        required=required, type=OutPath(path_type=Path), help=help)


def window_option(flag: str, help: str, *, deprecated: tuple[str, ...] = (),
                  name: str | None = None):
    """A time window ``START END`` (two numbers; units in ``help``).

    Parameters
    ----------
    flag : str
        ``--<what>-window``.
    help : str
        Help text with the units and what the window is relative to.
    deprecated : tuple of str
        Old spellings.
    name : str, optional
        Name of the callback argument (default from ``flag``).

    Returns
    -------
    callable
        A click decorator.
    """
    names = [flag, *deprecated] + ([name] if name else [])
    return click.option(*names, cls=Option, old_spellings=deprecated, nargs=2, type=float,
                        default=None, metavar="START END", help=help)


def _leds(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_reading_options({"leds": value})["leds"]
    except ValueError as exc:
        raise click.BadParameter(str(exc).replace("reading option 'leds' ", ""), ctx=ctx,
                                 param=param) from None


def reading_options(*, cells_only: bool | None = CELLS_ONLY_DEFAULT):
    """The reading options on a command that reads data files, given to it as ``reading``.

    Parameters
    ----------
    cells_only : bool or None
        Default of ``--cells-only/--all-rois``: cells only for analyses (classify, track), all
        ROIs for commands that describe or copy a file (``None``: nothing is dropped unless
        ``--cells-only`` is given).

    Returns
    -------
    callable
        Decorator of a click callback that takes ``reading`` (dict of the options given,
        named as in :data:`~sfone.io._reading_options.READING_OPTIONS`).
    """
    options = READING_OPTIONS
    default_text = "cells only" if cells_only else "every ROI"
    decorators = [
        click.option(options["format"].flag, "reading_format", default=None,
                     metavar=options["format"].metavar, help=options["format"].help),
        click.option(options["fs"].flag, "reading_fs", default=None,
                     type=click.FloatRange(min=0, min_open=True), metavar="HZ",
                     help=options["fs"].help),
        click.option(options["repair"].flag, "reading_repair", default=None,
                     type=click.Choice(["decimal"]), help=options["repair"].help),
        click.option(options["leds"].flag, "reading_leds", default=None, callback=_leds,
                     metavar=options["leds"].metavar, help=options["leds"].help),
        click.option(options["neuropil_coefficient"].flag, "reading_neuropil_coefficient",
                     default=None, type=click.FloatRange(min=0), metavar="C",
                     help=options["neuropil_coefficient"].help),
        click.option(options["plane"].flag, "reading_plane", default=None,
                     type=click.IntRange(min=0), metavar="N", help=options["plane"].help),
        click.option("--cells-only/--all-rois", "reading_cells_only", default=cells_only,
                     help="Keep only the ROIs the segmentation marked as cells (iscell), or "
                          f"every ROI; files that mark none keep all. Default: {default_text}."),
    ]

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            values = {name: kwargs.pop(f"reading_{name}") for name in options}
            kwargs["reading"] = {k: v for k, v in values.items() if v is not None}
            return function(*args, **kwargs)

        for decorator in reversed(decorators):
            wrapper = decorator(wrapper)
        return wrapper

    return decorate


def reader_keywords(reading: dict) -> dict:
    """The options of ``reading`` that are :func:`sfone.read` keywords (format, fs, ...).

    Parameters
    ----------
    reading : dict
        Reading options by name.

    Returns
    -------
    dict
        ``{keyword: value}`` for the options with a :func:`sfone.read` keyword.
    """
    return {READING_OPTIONS[n].keyword: v for n, v in reading.items()
            if READING_OPTIONS[n].keyword is not None}
