"""sfone's own files: netCDF (``.nc``) and zarr (``.zarr``) written by ``sfone convert``."""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr

from .._sanity import check_declared_size, guard_input
from ..exceptions import FormatError, SchemaError
from ..schema import validate

__all__ = ["read_sfone_netcdf", "read_sfone_zarr"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _restore(ds: xr.Dataset, path: Path) -> xr.Dataset:
    for key in ("iscell",):
        if key in ds.coords and ds.coords[key].dtype != bool:
            ds = ds.assign_coords({key: ds.coords[key].astype(bool)})
    for key, value in list(ds.attrs.items()):
        if isinstance(value, str) and value[:1] in "{[" and key.endswith(("_json", "kwargs")):
            ds.attrs[key] = json.loads(value)
    if "sfone_version" not in ds.attrs:
        raise FormatError("not written by sfone: the attr 'sfone_version' is missing "
                          "(read other netCDF files with xarray.open_dataset)", path=path)
    try:
        return validate(ds)
    except SchemaError as exc:
        raise FormatError(f"the stored Dataset breaks the sfone data contract (edited or "
                          f"damaged file): {exc}", path=path) from exc


@guard_input
def read_sfone_netcdf(path, *, chunks: dict | None = None) -> xr.Dataset:
    """Read a netCDF file written by sfone (``sfone convert``, ``write_dataset``).

    The input is opened read-only without an HDF5 file lock; the declared size of the data is
    checked against the file size before anything is loaded.
    """
    path = Path(path)
    try:
        ds = xr.open_dataset(path, engine="h5netcdf", chunks=chunks, phony_dims="access",
                             driver_kwds={"locking": False})
    except Exception as exc:  # h5py/h5netcdf raise many types for a damaged file
        raise FormatError(f"cannot open as netCDF: {type(exc).__name__}: {exc}",
                          path=path) from exc
    try:
        check_declared_size(int(ds.nbytes), what="the netCDF variables", path=path)
        if chunks is None:
            ds = ds.load()
    except FormatError:
        ds.close()
        raise
    except Exception as exc:  # damaged chunks surface only when the data are read
        ds.close()
        raise FormatError(f"cannot read the netCDF data: {type(exc).__name__}: {exc}",
                          path=path) from exc
    if chunks is None:
        ds.close()
    return _restore(ds, path)


def read_sfone_zarr(path, *, chunks: dict | None = None) -> xr.Dataset:
    """Read a zarr store written by sfone (``sfone convert OUT.zarr``)."""
    path = Path(path)
    try:
        ds = xr.open_zarr(path, chunks=chunks, consolidated=False)
        check_declared_size(int(ds.nbytes), what="the zarr arrays", path=path)
        if chunks is None:
            ds = ds.load()
    except FormatError:
        raise
    except Exception as exc:  # zarr raises many types for a broken store
        raise FormatError(f"cannot open as zarr: {exc}", path=path) from exc
    return _restore(ds, path)


def _sniff_netcdf(path: Path) -> bool:
    with open(path, "rb") as fh:
        if fh.read(8) != _HDF5_MAGIC:
            return False
    import h5py

    with h5py.File(path, "r", locking=False) as h5:
        return "sfone_version" in h5.attrs


def _sniff_zarr(path: Path) -> bool:
    for meta in (".zattrs", "zarr.json"):
        candidate = path / meta
        if candidate.is_file() and b"sfone_version" in candidate.read_bytes()[:1_000_000]:
            return True
    return False
