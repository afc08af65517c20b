"""The reading options of one session: one name and one meaning for the command line, a study
file and a batch manifest.

:data:`READING_OPTIONS` maps each option's name (a study-file field and a manifest column of
that name) to its command-line flag and to what it does: a keyword of :func:`sfone.read`
(``format``, ``fs``, ``repair``, ``leds``) or a step applied to the Dataset once read
(``neuropil_coefficient``, ``plane``, ``cells_only``). :func:`parse_reading_options` checks and
normalises the values (manifest cells are text: ``"415,470"``, ``"yes"``);
:func:`read_with_options` reads a session with them::

    options = parse_reading_options({"fs": "30", "plane": 1}, where="manifest row 3")
    ds = read_with_options(path, **options)

Error messages name an option by its name in quotes (``reading option 'leds'``), so the
command line can print its flag instead (``--leds``) and a study its field.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._logging import logger
from ..exceptions import FormatError, SchemaError

__all__ = ["ReadingOption", "READING_OPTIONS", "CELLS_ONLY_DEFAULT", "parse_reading_options",
           "read_with_options", "reading_errors", "select_session_rois"]


@dataclass(frozen=True)
class ReadingOption:
    """One reading option: its study/manifest name, CLI flag, and what it changes.

    Parameters
    ----------
    name : str
        Field of a study session and column of a manifest.
    flag : str
        Command-line flag (``--fs``).
    metavar : str
        What the flag takes, as shown in ``--help``.
    keyword : str or None
        Keyword of :func:`sfone.read` it becomes; None when it is applied to the Dataset read.
    help : str
        One-sentence meaning, with units.
    """

    name: str
    flag: str
    metavar: str
    keyword: str | None
    help: str


#: ROIs an analysis (classify, track, the batch task classify) keeps when the session does not
#: say: the ones the segmentation marked as cells (``iscell``). Reading, describing and
#: converting a file keep every ROI unless ``cells_only`` is given.
CELLS_ONLY_DEFAULT = True

#: name -> option; the order is that of ``--help``
READING_OPTIONS: dict[str, ReadingOption] = {o.name: o for o in (
    ReadingOption("format", "--format", "NAME", "format",
                  "Input format name (see `sfone formats`); default: detected from the file."),
    ReadingOption("fs", "--fs", "HZ", "fs",
                  "Frame or sampling rate in Hz when the file does not store it (suite2p "
                  "without ops.npy); overrides a stored placeholder."),
    ReadingOption("repair", "--repair", "decimal", "repair",
                  "'decimal': TSE exports whose decimal separators a spreadsheet destroyed: the "
                  "cells that lost them are divided by 1000 (with a warning)."),
    ReadingOption("leds", "--leds", "415,470[,560]", "leds",
                  "Neurophotometrics: the LEDs interleaved frame by frame, in nm, the first "
                  "frame's LED first (e.g. 415,470; 470 for one LED)."),
    ReadingOption("neuropil_coefficient", "--neuropil-coefficient", "C", None,
                  "Neuropil coefficient c of F - c*Fneu (dimensionless), replacing the file's "
                  "(suite2p ops['neucoeff'], else 0.7 with a warning)."),
    ReadingOption("plane", "--plane", "N", None,
                  "Keep only the ROIs of plane N (multi-plane recordings; plane numbers as "
                  "the file counts them, from 0)."),
    ReadingOption("cells_only", "--cells-only", "", None,
                  "Keep only the ROIs the segmentation marked as cells (iscell); files that "
                  "mark none (photometry) keep every channel. Default: cells only."),
)}

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


def _bad(name: str, expected: str, value, where: str) -> FormatError:
    at = f"{where}: " if where else ""
    return FormatError(f"{at}reading option '{name}' must be {expected}; got {value!r}")


def _number(name, value, where, *, low, open_low, integer=False):
    text = value.strip() if isinstance(value, str) else value
    try:
        if isinstance(text, bool):
            raise ValueError
        number = int(text) if integer and not isinstance(text, float) else float(text)
        if integer and isinstance(text, float):
            raise ValueError
    except (TypeError, ValueError):
        kind = "a whole number" if integer else "a number"
        raise _bad(name, f"{kind} {'>' if open_low else '>='} {low:g}", value, where) from None
    if not np.isfinite(number) or number < low or (open_low and number == low):
        kind = "a whole number" if integer else "a finite number"
        raise _bad(name, f"{kind} {'>' if open_low else '>='} {low:g}", value, where)
    return number


def _leds(value, where: str) -> tuple[int, ...]:
    # a manifest cell cannot hold a bare comma, so "415;470" and "415 470" mean 415,470 too
    parts = re.split(r"[,;\s]+", value.strip()) if isinstance(value, str) else list(value)
    try:
        leds = tuple(int(str(p).strip()) for p in parts if str(p).strip())
    except ValueError:
        raise _bad("leds", "LED wavelengths in nm separated by commas or semicolons (415,470)",
                   value, where) from None
    if not leds or any(w <= 0 for w in leds) or len(set(leds)) != len(leds):
        raise _bad("leds", "distinct LED wavelengths in nm separated by commas or semicolons "
                   "(415,470)", value, where)
    return leds


def _boolean(name: str, value, where: str) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _bad(name, "true or false", value, where)


def parse_reading_options(values: Mapping, *, where: str = "") -> dict:
    """Check and normalise reading options given by name (a study session, a manifest row).

    Parameters
    ----------
    values : mapping
        Option name -> value; names outside :data:`READING_OPTIONS` are ignored (a study or
        manifest row holds other fields too); None, NaN and empty text mean "not given".
    where : str, optional
        Where the values come from (``"manifest row 3"``), put in front of error messages.

    Returns
    -------
    dict
        The given options with checked values: ``format`` str, ``fs`` float (Hz, > 0),
        ``repair`` ``"decimal"``, ``leds`` tuple of int (nm), ``neuropil_coefficient`` float
        (>= 0), ``plane`` int (>= 0), ``cells_only`` bool.

    Raises
    ------
    sfone.exceptions.FormatError
        A value outside its range, naming the option (``reading option 'fs'``).
    """
    out = {}
    for name in READING_OPTIONS:
        value = values.get(name)
        if value is None or (isinstance(value, float) and np.isnan(value)) or (
                isinstance(value, str) and not value.strip()):
            continue
        if name == "format":
            out[name] = str(value).strip()
        elif name == "fs":
            out[name] = _number(name, value, where, low=0.0, open_low=True)
        elif name == "repair":
            if str(value).strip() != "decimal":
                raise _bad(name, "'decimal'", value, where)
            out[name] = "decimal"
        elif name == "leds":
            out[name] = _leds(value, where)
        elif name == "neuropil_coefficient":
            out[name] = _number(name, value, where, low=0.0, open_low=False)
        elif name == "plane":
            out[name] = int(_number(name, value, where, low=0, open_low=False, integer=True))
        else:  # cells_only
            out[name] = _boolean(name, value, where)
    return out


_UNKNOWN = re.compile(r"read_(\w+)\(\) got unknown option\(s\) ([\w, ]+); it accepts: (.*)$")


@contextlib.contextmanager
def reading_errors(path):
    """Turn "read_x() got unknown option(s) fs" into an error naming the reading option.

    Parameters
    ----------
    path : str or os.PathLike or list
        What is being read (named in the message).

    Yields
    ------
    None
        The block that reads.

    Raises
    ------
    sfone.exceptions.FormatError
        ``format 'x' does not take the reading option 'fs' (its reader's options: ...)``.
    """
    try:
        yield
    except TypeError as exc:
        found = _UNKNOWN.search(str(exc))
        if not found:
            raise
        fmt, unknown, accepted = found.groups()
        names = ", ".join(f"'{n.strip()}'" for n in unknown.split(","))
        raise FormatError(f"format {fmt.replace('_', '-')!r} does not take the reading "
                          f"option {names} (its reader's options: {accepted})",
                          path=path) from None


def read_with_options(path, *, format: str | None = None, fs: float | None = None,
                      repair: str | None = None, leds=None,
                      neuropil_coefficient: float | None = None, plane: int | None = None,
                      cells_only: bool | None = None, chunks=None):
    """Read one session with its reading options (see :data:`READING_OPTIONS`).

    Parameters
    ----------
    path : str or os.PathLike
        Recording file or folder.
    format : str, optional
        Format name; detected when omitted.
    fs : float, optional
        Frame/sampling rate in Hz (readers that take ``fs=``).
    repair : {"decimal"}, optional
        Repair of TSE exports damaged by a spreadsheet.
    leds : tuple of int, optional
        Interleaved LEDs (nm) of a Neurophotometrics file.
    neuropil_coefficient : float, optional
        Replaces the file's ``neuropil_coefficient`` attr (dimensionless); the file needs
        ``Fneu``.
    plane : int, optional
        Keep the ROIs of this plane only.
    cells_only : bool, optional
        Keep the ROIs marked ``iscell`` only. None (not given) keeps every ROI: analyses pass
        :data:`CELLS_ONLY_DEFAULT` when the session does not say.
    chunks : optional
        As :func:`sfone.read`.

    Returns
    -------
    xarray.Dataset
        The Dataset read, with the ROIs and the coefficient the options select.

    Raises
    ------
    sfone.exceptions.FormatError
        A reading option the file's format does not take, naming it (``reading option 'leds'``).
    sfone.exceptions.SchemaError
        A selection the Dataset cannot satisfy (no ``Fneu`` for a coefficient, an absent plane,
        no ROI marked as a cell).
    """
    from . import read

    given = {"fs": fs, "repair": repair, "leds": leds}
    keywords = {k: v for k, v in given.items() if v is not None}
    with reading_errors(path):
        ds = read(path, format=format, chunks=chunks, **keywords)
    return select_session_rois(ds, neuropil_coefficient=neuropil_coefficient, plane=plane,
                               cells_only=cells_only)


def select_session_rois(ds, *, neuropil_coefficient: float | None = None,
                        plane: int | None = None, cells_only: bool | None = None):
    """Apply the options that act on a Dataset once read: coefficient, plane, cells only.

    Parameters
    ----------
    ds : xarray.Dataset
        A session as read.
    neuropil_coefficient : float, optional
        Set as the ``neuropil_coefficient`` attr (dimensionless); needs ``Fneu``.
    plane : int, optional
        Keep the ROIs whose ``plane`` coordinate is this (a file without one is plane 0).
    cells_only : bool, optional
        Keep ROIs with ``iscell`` True (Datasets without ``iscell`` are unchanged); None or
        False keeps every ROI.

    Returns
    -------
    xarray.Dataset
        The selected Dataset (footprints kept consistent).

    Raises
    ------
    sfone.exceptions.SchemaError
        As :func:`read_with_options`.
    """
    from ..footprints import select_rois

    source = ds.attrs.get("source_file", "<dataset>")
    if neuropil_coefficient is not None:
        if "Fneu" not in ds:
            raise SchemaError(f"{source}: reading option 'neuropil_coefficient' given but the "
                              "file has no Fneu (neuropil traces) to subtract")
        ds = ds.assign_attrs(neuropil_coefficient=float(neuropil_coefficient))
    if plane is not None:
        planes = (np.asarray(ds["plane"].values) if "plane" in ds.coords
                  else np.zeros(ds.sizes.get("roi", 0), dtype=int))
        if "roi" not in ds.dims or plane not in set(planes.tolist()):
            found = sorted(set(planes.tolist())) if "roi" in ds.dims else "none (no ROIs)"
            raise SchemaError(f"{source}: reading option 'plane' is {plane}, but the file's "
                              f"planes are {found}")
        ds = select_rois(ds, planes == plane)
    if cells_only and "iscell" in ds.coords and "roi" in ds.dims:
        iscell = np.asarray(ds["iscell"].values, dtype=bool)
        if not iscell.any():
            raise SchemaError(f"{source}: no ROI is marked as a cell (iscell); reading option "
                              "'cells_only' false keeps every ROI")
        if not iscell.all():
            logger.info("%s: %d of %d ROIs marked as cells kept", source, int(iscell.sum()),
                        iscell.size)
            ds = select_rois(ds, iscell)
    return ds
