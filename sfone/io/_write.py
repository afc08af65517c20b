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
            safe.to_netcdf(tmp, engine="h5netcdf")
        else:
            try:
                import zarr  # noqa: F401
            except ImportError:
                raise FormatError("writing zarr needs the zarr package "
                                  "(pip install 'sfone[dask]')", path=path) from None
            safe.to_zarr(tmp, mode="w", consolidated=False)
    return path
