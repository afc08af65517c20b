"""Write Datasets to netCDF (``.nc``, h5netcdf engine) or zarr (``.zarr``), atomically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from .._atomic import atomic_path
from ..exceptions import FormatError

__all__ = ["write_dataset", "netcdf_safe"]


def _safe_attr(value):
    if value is None:
        return None
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, list | tuple) and any(isinstance(v, dict | list | tuple | type(None))
                                               for v in value):
        return json.dumps(value, default=str)
    return value


def _clean(attrs: dict) -> dict:
    return {k: v for k, v in ((k, _safe_attr(v)) for k, v in attrs.items()) if v is not None}


def netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
    """Copy of ``ds`` whose attrs netCDF accepts (dicts to JSON, bools to 0/1, ``None`` dropped)."""
    out = ds.copy()
    out.attrs = _clean(ds.attrs)
    for name in out.variables:
        out[name].attrs = _clean(out[name].attrs)
    return out


def _abandon_h5netcdf(path: Path) -> None:
    """Mark the h5netcdf files left open on ``path`` by a failed write as closed.

    When HDF5 fails mid-write (disk full), h5netcdf's own close fails half-way and leaves its
    File object open over HDF5 handles that are no longer valid; its ``__del__`` would then
    touch them and crash the interpreter (a segfault, exit 139, after the error was printed).
    The objects are found among the live ones and made inert, without touching HDF5 (also a
    File that a Ctrl-C interrupted inside its constructor, whose ``__del__`` would fail).
    """
    import gc
    import sys

    h5netcdf = sys.modules.get("h5netcdf")
    if h5netcdf is None:
        return
    for obj in gc.get_objects():
        if isinstance(obj, h5netcdf.File):
            state = vars(obj)
            half_built = "_closed" not in state  # interrupted inside File.__init__
            if half_built or (not state["_closed"] and state.get("_filename") == str(path)):
                state.pop("_File__h5file", None)
                state["_closed"] = True


def _settle(folder: Path, *, quiet_s: float = 0.2, at_most_s: float = 10.0) -> None:
    """Wait until nothing changes in ``folder`` for ``quiet_s`` (at most ``at_most_s``).

    zarr writes chunks from threads of its own; when one write fails (a full disk) the others
    still run for a moment and would recreate parts of the folder after it is removed.
    """
    import os
    import time

    def state():
        return sorted((root, tuple(sorted(dirs)), tuple(sorted(files)))
                      for root, dirs, files in os.walk(folder))

    deadline = time.monotonic() + at_most_s
    before = state()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = state()
        if now == before:
            return
        before = now


def write_dataset(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to ``path`` (``.nc`` or ``.zarr``) atomically and return the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".nc", ".zarr"}:
        raise FormatError(f"cannot write {suffix or 'a file without suffix'!r}: "
                          "expected an output ending in .nc (netCDF) or .zarr", path=path)
    safe = netcdf_safe(ds)
    with atomic_path(path) as tmp:
        if suffix == ".nc":
            try:
                safe.to_netcdf(tmp, engine="h5netcdf")
            except BaseException:
                _abandon_h5netcdf(tmp)
                raise
        else:
            try:
                import zarr  # noqa: F401
            except ImportError:
                raise FormatError("writing zarr needs the zarr package "
                                  "(pip install 'sfone[dask]')", path=path) from None
            try:
                safe.to_zarr(tmp, mode="w", consolidated=False)
            except BaseException:
                _settle(tmp)
                raise
    return path
