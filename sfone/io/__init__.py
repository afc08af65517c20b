"""Reading and writing: :func:`read` detects the format and dispatches to one loader module."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import FormatError
from ._registry import (
    FormatInfo,
    detect_format,
    get_format,
    list_formats,
    register_format,
)

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = ["read", "formats", "register_format", "FormatInfo", "detect_format", "write_dataset",
           "netcdf_safe", "list_formats", "get_format"]

# sfone's own netCDF and zarr files (any modality); the modality packages declare the rest.
FORMATS = [
    FormatInfo(
        name="sfone-netcdf", modality="any", reader="sfone.io.netcdf:read_sfone_netcdf",
        sniff="sfone.io.netcdf:_sniff_netcdf", suffixes=(".nc",), lazy=True,
        description="netCDF written by sfone (any modality)"),
    FormatInfo(
        name="sfone-zarr", modality="any", reader="sfone.io.netcdf:read_sfone_zarr",
        sniff="sfone.io.netcdf:_sniff_zarr", suffixes=(".zarr",), directory=True,
        requires=("zarr",), extra="dask", lazy=True,
        description="zarr store written by sfone (any modality)"),
]


def write_dataset(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to ``path`` (``.nc`` netCDF or ``.zarr``) atomically and return the path.

    Parameters
    ----------
    ds : xarray.Dataset
        A contract-valid Dataset (e.g. from :func:`read`).
    path : str or os.PathLike
        Destination; the suffix chooses netCDF (``.nc``) or a zarr store (``.zarr``).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from ._write import write_dataset as write

    return write(ds, path)


def netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
    """A shallow copy of ``ds`` with the attrs as :func:`write_dataset` stores them in netCDF.

    Parameters
    ----------
    ds : xarray.Dataset
        Any Dataset.

    Returns
    -------
    xarray.Dataset
        The same data; dict attrs as JSON text, bools as 0/1, ``None`` attrs dropped.
    """
    from ._write import netcdf_safe as safe

    return safe(ds)


def read(path, format: str | None = None, *, strict: bool | None = None, chunks=None,
         **options) -> xr.Dataset:
    """Read a file or folder of any supported format into a contract-valid :class:`xarray.Dataset`.

    Parameters
    ----------
    path : str, Path or list of them
        A file, or a folder for folder formats (suite2p output, TDT block, zarr store); a list
        of files for a format that combines several (``FormatInfo.multi_file``: CLAMS per-cage
        exports), all of that one format.
    format : str, optional
        Format name from :func:`formats`; detected from the suffix and content when omitted.
    strict : bool, optional
        Raise :class:`~sfone.exceptions.FormatError` instead of a ``QualityWarning`` on
        inconsistent sampling rates, gaps and implausible values (default: the global option,
        see :func:`sfone.set_options`).
    chunks : "auto", int, tuple, dict or None, optional
        Return dask-backed variables: formats that read lazily (``sfone formats``; suite2p,
        CaImAn, Inscopix ``.isxd``, NWB, sfone netCDF/zarr) build dask arrays over the file
        without reading the data; any other format is read, then chunked. A tuple is
        ``(roi, time)``; a dict maps dimension names to chunk sizes. None (default): in memory.
    **options
        Keyword options of the format's ``read_<format>`` function.

    Returns
    -------
    xarray.Dataset
        The recording in the sfone data contract of its modality (checked by
        :func:`sfone.validate`): time in seconds on ``time``, units in each variable's attrs.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FormatError
        If no format (or more than one) claims the file, the format's extra is not installed, the
        file is malformed, or the input changes (size or modification time) while it is read.
    TypeError
        If ``options`` holds a keyword the format's reader does not take.
    """
    from ._reading import read_as

    if isinstance(path, list | tuple):
        return _read_files([Path(p) for p in path], format, strict=strict, chunks=chunks,
                           **options)
    path = Path(path)
    info = detect_format(path) if format is None else get_format(format)
    return read_as(info, path, strict=strict, chunks=chunks, **options)


def _read_files(paths: list[Path], format, **options) -> xr.Dataset:
    """Several files of one multi-file format (``FormatInfo.multi_file``) into one Dataset."""
    from ._reading import read_as

    if not paths:
        raise FormatError("read() got an empty list of paths; give at least one file")
    infos = [detect_format(p) if format is None else get_format(format) for p in paths]
    names = sorted({info.name for info in infos})
    if len(names) > 1:
        found = ", ".join(f"{p.name}: {i.name}" for p, i in zip(paths, infos, strict=True))
        raise FormatError(f"the files are of different formats ({found}); read() combines "
                          "several files only when they share one format")
    info = infos[0]
    if not info.multi_file and len(paths) > 1:
        multi = [f.name for f in list_formats() if f.multi_file]
        raise FormatError(f"format {info.name!r} reads one file at a time (got {len(paths)}); "
                          f"formats that combine several files: {', '.join(multi)}",
                          path=paths[0])
    return read_as(info, paths if info.multi_file else paths[0], **options)


def formats() -> pd.DataFrame:
    """Table of the registered formats: name, modality, suffixes, folder, extra, available.

    Returns
    -------
    pandas.DataFrame
        One row per format (sorted by modality, then name) with columns ``name``, ``modality``,
        ``suffixes`` (space-separated), ``folder`` (bool), ``extra`` (pip extra or ``""``),
        ``available`` (bool: the extra's modules are installed) and ``description``.
    """
    import pandas as pd

    rows = [{"name": f.name, "modality": f.modality,
             "suffixes": " ".join(f.suffixes) if f.suffixes else "",
             "folder": f.directory, "extra": f.extra or "", "available": f.available,
             "description": f.description} for f in list_formats()]
    return pd.DataFrame(rows, columns=["name", "modality", "suffixes", "folder", "extra",
                                       "available", "description"])
