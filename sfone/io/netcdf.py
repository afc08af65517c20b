"""sfone's own files: netCDF (``.nc``) and zarr (``.zarr``) written by ``sfone convert``.

Both are read as untrusted input (see ``docs/security.md``). Before xarray opens them:

* zarr: every array's codecs, filters and compressor must be on :data:`ZARR_CODECS` (byte
  layout, compression, checksums, ``vlen-utf8``/``vlen-bytes``). A ``pickle`` object codec,
  which executes code when a chunk is decoded (zarr 2 reads it), or any codec a plugin package
  registers, is refused by name before zarr parses the metadata.
* netCDF/HDF5: external links, external raw storage and virtual datasets (which read other
  files on this machine) are refused; sfone never writes them. Attributes are plain strings and
  numbers; the ``*_json`` ones are parsed with :func:`json.loads` (never ``eval`` or pickle).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from .._guard import check_folder_members, declared_limit, loads_json, read_head
from .._hdf5 import check_hdf5_contained, is_hdf5
from ..exceptions import FormatError, SchemaError
from ..schema import validate
from ._checks import check_declared_size
from ._reading import format_reader

__all__ = ["read_sfone_netcdf", "read_sfone_zarr", "check_zarr_store", "check_hdf5_contained",
           "ZARR_CODECS"]

#: Codec names (zarr 3 ``codecs``) and ids (zarr 2 ``compressor``/``filters``) accepted on read.
ZARR_CODECS = frozenset({
    "bytes", "endian", "transpose", "sharding_indexed", "crc32c", "vlen-utf8", "vlen-bytes",
    *(f"{prefix}{name}" for prefix in ("", "numcodecs.") for name in (
        "blosc", "zstd", "gzip", "zlib", "bz2", "lzma", "lz4", "shuffle", "delta",
        "fixedscaleoffset", "quantize", "bitround", "astype", "packbits", "crc32", "crc32c",
        "adler32", "fletcher32", "jenkins_lookup3"))})


def _codec_names(meta) -> list[str]:
    """Names/ids of every codec in a zarr metadata document (nested sharding codecs too);
    user attributes are skipped."""
    names = []
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key == "attributes" or key.endswith(".zattrs"):
                continue
            if key in ("codecs", "index_codecs", "filters") and isinstance(value, list):
                names += [str(c.get("name", c.get("id")) if isinstance(c, dict) else c)
                          for c in value]
            elif key == "compressor" and isinstance(value, dict):
                names.append(str(value.get("id")))
            if isinstance(value, dict | list):
                names += _codec_names(value)
    elif isinstance(meta, list):
        for item in meta:
            names += _codec_names(item)
    return names


_ZARR_META = (".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json")
#: largest zarr metadata file read (bytes); sfone's are a few kB
MAX_ZARR_META_BYTES = 16 * 2**20


def _itemsize(meta: dict) -> int:
    """Bytes per element of a zarr array's ``dtype`` (v2) or ``data_type`` (v3); 8 if unknown
    (object and variable-length types hold a reference per element)."""
    spec = meta.get("dtype", meta.get("data_type"))
    try:
        spec = [tuple(f) for f in spec] if isinstance(spec, list) else spec
        dtype = np.dtype(spec)
    except (TypeError, ValueError):
        return 8
    return max(dtype.itemsize, 8) if dtype.hasobject else dtype.itemsize


def _array_sizes(meta: dict) -> tuple[int, int]:
    """(declared bytes of the array, of one chunk) from zarr v2 or v3 array metadata."""
    chunk = meta.get("chunks")
    if chunk is None:
        chunk = (meta.get("chunk_grid") or {}).get("configuration", {}).get("chunk_shape")
    itemsize = _itemsize(meta)

    def size(shape) -> int:
        try:
            return int(np.prod([float(n) for n in shape or ()])) * itemsize
        except (TypeError, ValueError):
            return 0  # zarr reports malformed metadata itself

    return size(meta.get("shape")), size(chunk)


def _inside(target: str, root: str) -> bool:
    return target == root or target.startswith(root + os.sep)


def _check_zarr_meta(meta_path: Path, store: Path, total: int) -> None:
    where = meta_path.relative_to(store)
    if meta_path.stat().st_size > MAX_ZARR_META_BYTES:
        raise FormatError(f"{where} is {meta_path.stat().st_size} bytes; zarr metadata of at "
                          f"most {MAX_ZARR_META_BYTES} bytes is read", path=store)
    meta = loads_json(meta_path.read_bytes(), what=str(where), path=store)
    if meta_path.name == ".zattrs":
        return  # user attributes: data, not codecs
    refused = sorted({n for n in _codec_names(meta) if n not in ZARR_CODECS})
    if refused:
        raise FormatError(
            f"{where} uses the codec(s) {', '.join(refused)}; sfone reads only "
            f"{', '.join(sorted(ZARR_CODECS))} (a pickle or plugin codec could run code on "
            "read, see docs/security.md)", path=store)
    if meta_path.name == ".zarray" or (isinstance(meta, dict) and meta.get("node_type") == "array"):
        limit = declared_limit(total)
        for what, n_bytes in zip(("the array", "one chunk"), _array_sizes(meta), strict=True):
            if n_bytes > limit:
                raise FormatError(f"{where}: {what} declares {n_bytes} bytes but the whole store "
                                  f"is {total} bytes; refused before allocating (limit {limit} "
                                  "bytes, see sfone.set_options(max_expansion=...))", path=store)


def check_zarr_store(store: Path) -> None:
    """Refuse a zarr store that could run code, read other files or exhaust memory.

    Every metadata file anywhere under the store (``.zarray``, ``.zgroup``, ``.zattrs``,
    ``.zmetadata``, ``zarr.json``) is parsed as JSON (at most :data:`MAX_ZARR_META_BYTES`,
    nested at most ``MAX_DEPTH`` levels); every codec, filter and compressor must be on
    :data:`ZARR_CODECS`; no array or chunk may declare more bytes than the store can hold
    (:func:`~sfone._guard.declared_limit`); and no entry may be a symbolic link leaving the store
    (a chunk linked to a private file would be copied into the outputs) or a special file.

    Parameters
    ----------
    store : pathlib.Path
        Root folder of the zarr store (v2 or v3 metadata).

    Raises
    ------
    FormatError
        Naming the store and the metadata file, codec, size or link.
    """
    store = Path(store)
    root = os.path.realpath(store)
    metas, total = [], 0
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            entry = Path(folder) / name
            if entry.is_symlink() and not _inside(os.path.realpath(entry), root):
                raise FormatError(f"{entry.relative_to(root)} is a symbolic link to "
                                  f"{os.path.realpath(entry)}, outside the store; refused (its "
                                  "bytes would be read into the outputs)", path=store)
        for name in files:
            entry = Path(folder) / name
            if not entry.is_symlink():
                total += entry.stat().st_size
            if name in _ZARR_META:
                metas.append(entry)
    check_folder_members(store)
    for meta_path in sorted(metas):
        _check_zarr_meta(meta_path, Path(root), total)


def _check_dimension_lists(path: Path) -> None:
    """Refuse a netCDF-4 variable whose ``DIMENSION_LIST`` names more or fewer dimensions than
    it has (an edited file: the HDF5 dimension-scale code then writes past its buffers)."""
    import h5py

    def check(name, obj):
        if isinstance(obj, h5py.Dataset) and "DIMENSION_LIST" in obj.attrs:
            n = len(obj.attrs["DIMENSION_LIST"])
            if n != obj.ndim:
                raise FormatError(f"variable {name!r} has {obj.ndim} dimension(s) but its "
                                  f"DIMENSION_LIST names {n}; edited or damaged file", path=path)

    try:
        with h5py.File(path, "r", locking=False) as h5:
            h5.visititems(check)
    except FormatError:
        raise
    except Exception as exc:  # h5py raises many types for a damaged file
        raise FormatError(f"cannot open as netCDF: {type(exc).__name__}: {exc}",
                          path=path) from exc


def _restore(ds: xr.Dataset, path: Path) -> xr.Dataset:
    for key in ("iscell",):
        if key in ds.coords and ds.coords[key].dtype != bool:
            ds = ds.assign_coords({key: ds.coords[key].astype(bool)})
    for key, value in list(ds.attrs.items()):
        if isinstance(value, str) and value[:1] in "{[" and key.endswith(("_json", "kwargs")):
            ds.attrs[key] = loads_json(value, what=f"attr {key!r}", path=path)
    if "sfone_version" not in ds.attrs:
        raise FormatError("not written by sfone: the attr 'sfone_version' is missing "
                          "(read other netCDF files with xarray.open_dataset)", path=path)
    try:
        return validate(ds)
    except SchemaError as exc:
        raise FormatError(f"the stored Dataset breaks the sfone data contract (edited or "
                          f"damaged file): {exc}", path=path) from exc


@format_reader
def read_sfone_netcdf(path, *, chunks: dict | None = None) -> xr.Dataset:
    """Read a netCDF file written by sfone (``sfone convert``, ``write_dataset``).

    The input is opened read-only without an HDF5 file lock; the declared size of the data is
    checked against the file size before anything is loaded.

    Parameters
    ----------
    path : str or os.PathLike
        ``.nc`` file with an ``sfone_version`` attr.
    chunks : dict, optional
        Dask chunks per dimension; the file then stays open and is read when computed.
        ``None`` loads everything into memory and closes the file.

    Returns
    -------
    xarray.Dataset
        The stored Dataset (any modality), contract-valid, attrs as written.

    Raises
    ------
    FormatError
        If the file cannot be opened or read as netCDF, reads other files, or declares more data
        than its size allows.
    """
    path = Path(path)
    check_hdf5_contained(path)  # sfone.read has run it; a direct call may not
    _check_dimension_lists(path)
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
    """Read a zarr store written by sfone (``sfone convert OUT.zarr``).

    Codecs are checked against :data:`ZARR_CODECS` before zarr opens it.

    Parameters
    ----------
    path : str or os.PathLike
        ``.zarr`` store folder.
    chunks : dict, optional
        Dask chunks per dimension; ``None`` loads everything into memory.

    Returns
    -------
    xarray.Dataset
        The stored Dataset (any modality), contract-valid, attrs as written.

    Raises
    ------
    FormatError
        If the store names an unknown codec, cannot be opened as zarr, or declares more data than
        its size allows.
    """
    path = Path(path)
    check_zarr_store(path)
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
    if not is_hdf5(path):
        return False
    import h5py

    with h5py.File(path, "r", locking=False) as h5:
        return "sfone_version" in h5.attrs


def _sniff_zarr(path: Path) -> bool:
    for meta in (".zattrs", "zarr.json"):
        candidate = path / meta
        if candidate.is_file() and b"sfone_version" in read_head(candidate, 1_000_000):
            return True
    return False
