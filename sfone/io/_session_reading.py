"""How one session of a study or a manifest is read: the per-session reading options.

Every reading option a command-line user has (``--format``, ``--fs``, ``--repair``, the neuropil
coefficient, ``--plane``, ``--cells-only``, ``leds`` of headerless Neurophotometrics files) is a
field of a study session (:mod:`sfone.reproduce.study`) and a manifest column
(:mod:`sfone.cohort`), with the names and meanings of :class:`SessionReading`:

``format``
    Format name (``sfone formats``); default: detected from the file.
``fs``
    Frame or sampling rate in Hz, for files that do not store it (suite2p without
    ``ops.npy``) or store a placeholder; overrides the file's.
``repair``
    ``decimal``: TSE exports whose decimal separators a spreadsheet destroyed are repaired
    (with a warning).
``leds``
    Excitation wavelengths (nm) of a headerless Neurophotometrics file, in frame order.
``neuropil_coefficient``
    ``c`` of ``Fc = F - c * Fneu``; overrides the file's. A file with neuropil traces and no
    coefficient gets suite2p's default 0.7 with a warning naming the file.
``plane``
    Keep the ROIs of this plane only (multi-plane recordings).
``cells_only``
    Keep only the ROIs the file marks as cells (``iscell``).

The first four go to :func:`sfone.read` (:func:`read_keywords`); the last three act on the
Dataset read (:func:`apply_post_read`). :func:`read_session` does both.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, field_validator

from .._logging import warn
from ..exceptions import FormatError, QualityWarning
from ._reading_options import CELLS_ONLY_DEFAULT, READING_OPTIONS

__all__ = ["SessionReading", "READ_KEYWORDS", "POST_READ_OPTIONS", "READING_FIELDS",
           "read_keywords", "apply_post_read", "read_session", "DEFAULT_NEUROPIL_COEFFICIENT"]

#: suite2p's default ``neucoeff`` (the value ``sfone classify`` uses when a file has none)
DEFAULT_NEUROPIL_COEFFICIENT = 0.7

#: session field -> keyword of :func:`sfone.read` (the options a reader takes), from the one
#: table of reading options (:data:`sfone.io._reading_options.READING_OPTIONS`)
READ_KEYWORDS = {o.name: o.keyword for o in READING_OPTIONS.values() if o.keyword}
#: session fields applied to the Dataset once it is read
POST_READ_OPTIONS = tuple(o.name for o in READING_OPTIONS.values() if not o.keyword)
#: every per-session reading field, in the order of the command line's ``--help``
READING_FIELDS = tuple(READING_OPTIONS)


class SessionReading(BaseModel):
    """The per-session reading options (module docstring): a study session's fields and a
    manifest's columns.

    Parameters
    ----------
    format : str, optional
        Format name for :func:`sfone.read`; default: detected.
    fs : float, optional
        Frame or sampling rate (Hz) for files that do not store it; overrides the file's.
    repair : {"decimal"}, optional
        Repair of TSE exports whose decimals a spreadsheet destroyed.
    leds : tuple of int or str, optional
        Excitation wavelengths (nm) of a headerless Neurophotometrics file, in frame order.
    neuropil_coefficient : float, optional
        ``c`` of ``Fc = F - c * Fneu`` (dimensionless, 0-2); overrides the file's.
    plane : int, optional
        Keep the ROIs of this plane only.
    cells_only : bool, optional
        Keep only the ROIs marked as cells (``iscell``); default (None): the analyses' default
        (:data:`sfone.io._reading_options.CELLS_ONLY_DEFAULT`, cells only, as ``sfone
        classify`` and ``sfone track``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str | None = None
    fs: PositiveFloat | None = None
    repair: Literal["decimal"] | None = None
    leds: tuple[int | str, ...] | None = Field(default=None, min_length=1)
    neuropil_coefficient: float | None = Field(default=None, ge=0.0, le=2.0)
    plane: int | None = Field(default=None, ge=0)
    cells_only: bool | None = None

    @field_validator("leds", mode="before")
    @classmethod
    def _split_leds(cls, value):
        """A manifest cell ``"415;470"`` (or ``"415 470"``) is the list ``[415, 470]``."""
        if isinstance(value, str):
            parts = [p for p in value.replace(",", " ").replace(";", " ").split() if p]
            return [int(p) if p.isdigit() else p for p in parts]
        return value


def _options_of(entry) -> dict:
    if isinstance(entry, dict):
        return {name: entry.get(name) for name in READING_FIELDS}
    return {name: getattr(entry, name, None) for name in READING_FIELDS}


def read_keywords(entry) -> tuple[dict, dict]:
    """A session's keywords for :func:`sfone.read` and its post-read options.

    Parameters
    ----------
    entry : SessionReading, mapping or object
        Anything with the reading fields (a study session, a manifest :class:`Session`, a dict);
        missing fields count as unset.

    Returns
    -------
    (dict, dict)
        ``sfone.read`` keywords (set fields of :data:`READ_KEYWORDS`, ``leds`` as a tuple) and
        the keywords of :func:`apply_post_read` (set fields of :data:`POST_READ_OPTIONS`).
    """
    options = _options_of(entry)
    read = {READ_KEYWORDS[k]: (tuple(v) if k == "leds" else v) for k, v in options.items()
            if k in READ_KEYWORDS and v is not None}
    post = {k: v for k, v in options.items()
            if k in POST_READ_OPTIONS and v is not None}  # plane 0 is kept, cells_only False too
    return read, post


def apply_post_read(ds, *, where: str = "", path=None, neuropil_coefficient: float | None = None,
                    plane: int | None = None, cells_only: bool = False):
    """Apply a session's post-read options to the Dataset read from its file.

    Parameters
    ----------
    ds : xarray.Dataset
        The Dataset :func:`sfone.read` returned.
    where : str, default ""
        Where the session is listed (e.g. ``"imaging.sessions[3] (m3/day1)"``), for messages.
    path : str or os.PathLike, optional
        The file read, named in messages (default the Dataset's ``source_file``; both are named
        when they differ, as for a netCDF file ``sfone convert`` wrote).
    neuropil_coefficient : float, optional
        Sets the ``neuropil_coefficient`` attr (``Fc = F - c * Fneu``). Without it, a Dataset
        with ``Fneu`` and no coefficient of its own gets
        :data:`DEFAULT_NEUROPIL_COEFFICIENT` with a :class:`~sfone.exceptions.QualityWarning`
        naming the file, as ``sfone classify`` does.
    plane : int, optional
        Keep the ROIs whose ``plane`` coordinate equals it.
    cells_only : bool, default False
        Keep the ROIs whose ``iscell`` coordinate is true.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    sfone.exceptions.FormatError
        When an option does not apply to the file (a neuropil coefficient without ``Fneu``,
        ``plane`` or ``cells_only`` without ROIs of that kind) or leaves no ROI; the message
        names the file and the session.
    """
    from ..footprints import select_rois

    source = str(ds.attrs.get("source_file", "<dataset>"))
    if path is not None and str(path) != source:
        source = f"{path} (from {source})" if "source_file" in ds.attrs else str(path)
    at = f" ({where})" if where else ""
    if neuropil_coefficient is not None:
        if "Fneu" not in ds:
            raise FormatError(f"neuropil_coefficient {neuropil_coefficient:g} given{at}, but "
                              "the file has no neuropil traces (Fneu); remove the field",
                              path=source)
        ds = ds.assign_attrs(neuropil_coefficient=float(neuropil_coefficient))
    elif "Fneu" in ds and "neuropil_coefficient" not in ds.attrs:
        warn(f"{source}: no neuropil coefficient in the file{at}; using suite2p's default "
             f"{DEFAULT_NEUROPIL_COEFFICIENT} (set neuropil_coefficient for the session to "
             "choose)", QualityWarning)
        ds = ds.assign_attrs(neuropil_coefficient=DEFAULT_NEUROPIL_COEFFICIENT)
    keep = None
    if plane is not None:
        if "plane" not in ds.coords or "roi" not in ds.dims:
            raise FormatError(f"plane {plane} given{at}, but the file has no ROI planes",
                              path=source)
        planes = sorted(np.unique(ds["plane"].values).tolist())
        if plane not in planes:
            raise FormatError(f"plane {plane} given{at}; the file has plane(s) "
                              f"{', '.join(map(str, planes))}", path=source)
        keep = np.asarray(ds["plane"].values) == plane
    if cells_only:
        if "iscell" not in ds.coords or "roi" not in ds.dims:
            raise FormatError(f"cells_only given{at}, but the file marks no ROI as cell or not "
                              "(no 'iscell')", path=source)
        cells = np.asarray(ds["iscell"].values, bool)
        keep = cells if keep is None else keep & cells
    if keep is not None:
        if not keep.any():
            wanted = " and ".join(w for w in (f"in plane {plane}" if plane is not None else "",
                                              "marked as a cell" if cells_only else "") if w)
            hint = ("; reading option 'cells_only' false keeps every ROI" if cells_only else "")
            raise FormatError(f"no ROI left{at}: none of the file's {ds.sizes['roi']} ROIs is "
                              f"{wanted}{hint}", path=source)
        ds = select_rois(ds, keep)
    return ds


def read_session(path, entry=None, *, where: str = "", chunks=None):
    """Read one session with its reading options (:func:`read_keywords`, :func:`apply_post_read`).

    Parameters
    ----------
    path : str or os.PathLike
        The recording (absolute, or relative to the working directory).
    entry : SessionReading, mapping or object, optional
        The session's reading options; None: none.
    where : str, default ""
        Where the session is listed, for messages.
    chunks : optional
        As :func:`sfone.read`.

    Returns
    -------
    xarray.Dataset
    """
    from . import read

    keywords, post = read_keywords(entry or {})
    ds = read(path, chunks=chunks, **keywords)
    if "cells_only" not in post:  # the analyses' default where the file marks cells
        marks = "iscell" in ds.coords and "roi" in ds.dims
        post["cells_only"] = CELLS_ONLY_DEFAULT and marks
        if post["cells_only"] and not np.asarray(ds["iscell"].values, bool).any():
            at = f" ({where})" if where else ""
            raise FormatError(f"the file marks none of its {ds.sizes['roi']} ROIs as a cell "
                              f"(iscell){at}; a session keeps the cells by default, as sfone "
                              "classify does: reading option 'cells_only' false keeps every ROI",
                              path=path)
    return apply_post_read(ds, where=where, path=path, **post)
