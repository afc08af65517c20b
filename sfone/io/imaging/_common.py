"""Helpers shared by the imaging loaders: building a contract-shaped Dataset from arrays."""

from __future__ import annotations

import mmap
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ...exceptions import FormatError
from .._lazy import RawArray, to_dask
from .._text import parse_table

__all__ = ["imaging_dataset", "maybe_chunk", "read_csv_strict", "finite_columns", "hdf5_errors",
           "TRACE_UNITS"]

#: units of the trace variables as the pipelines store them
TRACE_UNITS = "a.u."

_TRACE_NAMES = {
    "F": "ROI fluorescence (raw, not neuropil-corrected)",
    "Fneu": "neuropil fluorescence",
    "spks": "deconvolved activity",
    "C": "denoised trace",
    "YrA": "residual trace",
    "dff": "dF/F",
}


def maybe_chunk(array, chunks):
    """Wrap ``array`` (often a numpy memmap) in a dask array when ``chunks`` is given.

    A whole-file memmap (as ``np.load(mmap_mode="r")`` returns) becomes a :class:`RawArray`
    over the same bytes, so the task graph refers to the file instead of carrying its data.
    """
    if chunks is None:
        return array
    if isinstance(array, np.memmap) and isinstance(array.base, mmap.mmap) \
            and array.flags.c_contiguous and array.filename:
        array = RawArray(array.filename, array.dtype, array.shape, offset=array.offset)
    return to_dask(array, chunks, ("roi", "time"))


def imaging_dataset(traces: dict, *, fs: float, roi, iscell, iscell_prob=None, coords=None,
                    trace_units: dict | None = None, time=None) -> xr.Dataset:
    """Build an imaging Dataset: each trace ``(roi, time)``, ``time`` in s, per-ROI coords.

    Parameters
    ----------
    traces : dict
        Variable name -> array ``(n_roi, n_time)`` (numpy, memmap or dask; not copied).
    fs : float
        Frame rate in Hz; ``time = arange(n_time) / fs`` unless ``time`` is given.
    roi, iscell, iscell_prob : array-like
        ROI ids of the source, boolean cell labels, classifier probabilities (0-1).
    coords : dict, optional
        Extra per-ROI coordinates: name -> ``(values, units)``.
    trace_units : dict, optional
        Units per trace name (default ``"a.u."``).
    """
    n_time = next(iter(traces.values())).shape[1]
    if time is None:
        time = np.arange(n_time, dtype=np.float64) / float(fs)
    trace_units = trace_units or {}
    data_vars = {
        name: (("roi", "time"), values,
               {"units": trace_units.get(name, TRACE_UNITS),
                "long_name": _TRACE_NAMES.get(name, name)})
        for name, values in traces.items()
    }
    all_coords = {
        "roi": ("roi", np.asarray(roi), {"long_name": "ROI index in the source"}),
        "time": ("time", np.asarray(time, dtype=np.float64), {"units": "s"}),
        "iscell": ("roi", np.asarray(iscell, dtype=bool), {"long_name": "accepted as a cell"}),
    }
    if iscell_prob is not None:
        all_coords["iscell_prob"] = ("roi", np.asarray(iscell_prob, dtype=float),
                                     {"units": "1", "long_name": "classifier probability"})
    for name, (values, units) in (coords or {}).items():
        all_coords[name] = ("roi", np.asarray(values), {"units": units} if units else {})
    return xr.Dataset(data_vars, coords=all_coords, attrs={"fs": float(fs)})


def read_csv_strict(path: Path, *, what: str) -> pd.DataFrame:
    """A CSV with a header line as strings (see :func:`sfone.io._text.parse_table`).

    A header without rows gives an empty table (an event set without events is valid); the
    table's ``attrs["line_numbers"]`` holds the 1-based file line of each row.
    """
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        lines = fh.read().splitlines()
    return parse_table(lines, path=path, what=what, skipinitialspace=True, allow_empty=True,
                       drop_cut_last_row=False)


def finite_columns(table: pd.DataFrame, columns: list[str], *, path) -> dict[str, np.ndarray]:
    """Columns of text cells as float arrays; a cell that is not a finite number is an error
    naming its line (``table.attrs["line_numbers"]``), column and text."""
    lines = table.attrs.get("line_numbers") or list(range(2, len(table) + 2))
    out = {}
    for column in columns:
        text = table[column].fillna("").str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise FormatError(f"line {lines[i]}, column {column!r}: found {text.iloc[i]!r}, "
                              f"expected a finite number ({bad.size} such cell(s))", path=path)
        out[column] = values
    return out


@contextmanager
def hdf5_errors(path, what: str):
    """Turn the errors h5py raises on a damaged file (bad heap, checksum, truncated object) into
    a ``FormatError`` naming the file; ``FormatError`` passes through."""
    try:
        yield
    except FormatError:
        raise
    except Exception as exc:
        # h5py's errors on damaged files, and hdmf's (pynwb's) ConstructError on NWB tables
        # whose columns do not fit; the latter carries a dump of the whole builder tree: keep
        # its last part, which names the column
        if not (isinstance(exc, OSError | RuntimeError | KeyError | ValueError | TypeError
                           | IndexError)
                or type(exc).__module__.startswith("hdmf")):
            raise
        text = str(exc)
        if len(text) > 300:
            text = "... " + text[-300:]
        raise FormatError(f"cannot read as {what} (damaged or incomplete HDF5?): "
                          f"{type(exc).__name__}: {text}", path=path) from exc
