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

import json
from pathlib import Path

import xarray as xr

from .._hdf5 import is_hdf5
from ..exceptions import FormatError, SchemaError
from ..schema import validate
from ._checks import check_declared_size
from ._reading import format_reader

__all__ = ["read_sfone_netcdf", "read_sfone_zarr", "check_zarr_codecs", "check_hdf5_contained",
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


def check_zarr_codecs(store: Path) -> None:
    """Refuse a zarr store naming a codec outside :data:`ZARR_CODECS`.

    Parameters
    ----------
    store : pathlib.Path
        Root folder of the zarr store (v2 or v3 metadata); every group and array is checked.

    Raises
    ------
    FormatError
        Naming the metadata file and the codec, or a metadata file that is not valid JSON.
    """
    folders = [store]
    while folders:
        folder = folders.pop()
        is_array = False
        for name in (".zarray", "zarr.json", ".zmetadata"):
            meta_path = folder / name
            if not meta_path.is_file():
                continue
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise FormatError(f"{meta_path.relative_to(store)} is not valid JSON: {exc}",
                                  path=store) from exc
            refused = sorted({n for n in _codec_names(meta) if n not in ZARR_CODECS})
            if refused:
                raise FormatError(
                    f"{meta_path.relative_to(store)} uses the codec(s) {', '.join(refused)}; "
                    f"sfone reads only {', '.join(sorted(ZARR_CODECS))} (a pickle or plugin "
                    "codec could run code on read, see docs/security.md)", path=store)
            is_array |= name == ".zarray" or (isinstance(meta, dict)
                                              and meta.get("node_type") == "array")
        if not is_array:  # a group: its sub-folders are arrays or groups (not chunks)
            folders += [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()]


def check_hdf5_contained(path: Path) -> None:
    """Refuse an HDF5 file whose objects read other files.

    Parameters
    ----------
    path : pathlib.Path
        HDF5 (or netCDF-4) file.

    Raises
    ------
    FormatError
        Naming the object that is an external link, uses external raw storage or is a virtual
        dataset.
    """
    import h5py

    def walk(group, seen):
        for name in group:
            link = group.get(name, getlink=True)
            where = f"{group.name.rstrip('/')}/{name}"
            if isinstance(link, h5py.ExternalLink):
                yield where, f"an external link to {link.filename}:{link.path}"
                continue
            if isinstance(link, h5py.SoftLink):
                continue  # resolves inside this file, to an object visited by its hard link
            obj = group[name]
            if isinstance(obj, h5py.Dataset):
                if obj.external:
                    yield where, f"external raw storage in {obj.external[0][0]}"
                elif obj.is_virtual:
                    yield where, "a virtual dataset (mapped from other files)"
            elif isinstance(obj, h5py.Group) and obj.id not in seen:
                seen.add(obj.id)
                yield from walk(obj, seen)

    with h5py.File(path, "r", locking=False) as h5:
        for where, what in walk(h5, set()):
            raise FormatError(f"{where} is {what}; sfone never writes these and does not follow "
                              "them (they read other files on this machine)", path=path)


def _restore(ds: xr.Dataset, path: Path) -> xr.Dataset:
    for key in ("iscell",):
        if key in ds.coords and ds.coords[key].dtype != bool:
            ds = ds.assign_coords({key: ds.coords[key].astype(bool)})
    for key, value in list(ds.attrs.items()):
        if isinstance(value, str) and value[:1] in "{[" and key.endswith(("_json", "kwargs")):
            try:
                ds.attrs[key] = json.loads(value)
            except ValueError as exc:
                raise FormatError(f"attr {key!r} is not valid JSON ({exc}): {value[:80]!r}",
                                  path=path) from None
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
    try:
        check_hdf5_contained(path)
    except FormatError:
        raise
    except Exception as exc:  # h5py raises many types for a damaged file
        raise FormatError(f"cannot open as netCDF: {type(exc).__name__}: {exc}",
                          path=path) from exc
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
    check_zarr_codecs(path)
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
        if candidate.is_file() and b"sfone_version" in candidate.read_bytes()[:1_000_000]:
            return True
    return False
