"""HDF5 files: the signature check every HDF5 sniffer uses, and content independent of the
library versions that wrote the bytes.

:func:`is_hdf5` tells an HDF5 file (netCDF-4, NWB, ``.doric``, CaImAn ``.hdf5``) by its
8-byte signature without opening it with h5py. :func:`check_hdf5_contained` is the one check
every HDF5 input passes before a reader opens it (:func:`sfone.read` runs it for every HDF5
file): no external link, external raw storage or virtual dataset (each makes the file read
*other* files of this machine, whose bytes would then land in sfone's outputs), and no dataset
declaring more bytes than the file can hold (unwritten chunks read as fill values).

Two HDF5 files written from the same data by different h5py/HDF5 releases differ byte for byte
(object headers, free-space layout, version fields), and floating-point values computed by
different numpy builds can differ in the last bit. :func:`same_hdf5_content` compares what a
reader sees: every group (and the order of its members), every dataset's dtype, shape and
values, and every attribute; floats are equal within ``rtol`` (default 1e-12, a few units in
the last place of float64), everything else exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._guard import check_declared_size, declared_limit, read_head
from .exceptions import FormatError

__all__ = ["HDF5_MAGIC", "HDF5_SUFFIXES", "is_hdf5", "check_hdf5_contained", "hdf5_content",
           "same_hdf5_content", "hdf5_differences"]

HDF5_SUFFIXES = (".h5", ".hdf5", ".doric", ".nwb")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"  # the HDF5 format signature, at the start of the file


def is_hdf5(path) -> bool:
    """True when the file at ``path`` starts with the HDF5 signature (reads 8 bytes; a FIFO or
    device is a ``FormatError``)."""
    return read_head(path, len(HDF5_MAGIC)) == HDF5_MAGIC


def _declared_bytes(dataset) -> int:
    return int(np.prod(dataset.shape or (), dtype=float)) * dataset.dtype.itemsize


def _problems(h5, limit: int):
    """(object path, what is wrong, declared bytes or None) for every object of an open file
    that reads other files or declares more than ``limit`` bytes; soft links are not followed,
    groups visited once."""
    import h5py

    seen, groups = set(), [h5]
    while groups:
        group = groups.pop()
        for name in group:
            link = group.get(name, getlink=True)
            where = f"{group.name.rstrip('/')}/{name}"
            if isinstance(link, h5py.ExternalLink):
                yield where, f"an external link to {link.filename}:{link.path}", None
                continue
            if isinstance(link, h5py.SoftLink):
                continue  # resolves inside this file, to an object visited by its hard link
            obj = group[name]
            if isinstance(obj, h5py.Dataset):
                if obj.external:
                    yield where, f"external raw storage in {obj.external[0][0]}", None
                elif obj.is_virtual:
                    yield where, "a virtual dataset (mapped from other files)", None
                elif _declared_bytes(obj) > limit:
                    yield where, f"{obj.shape} {obj.dtype}", _declared_bytes(obj)
            elif isinstance(obj, h5py.Group) and obj.id not in seen:
                seen.add(obj.id)
                groups.append(obj)


def check_hdf5_contained(path) -> None:
    """Refuse an HDF5 file whose objects read other files or declare impossible sizes.

    Parameters
    ----------
    path : str or os.PathLike
        HDF5 file (netCDF-4, NWB, ``.doric``, CaImAn ``.hdf5``).

    Raises
    ------
    FormatError
        Naming the object that is an external link, uses external raw storage, is a virtual
        dataset, or declares more than :func:`sfone._guard.declared_limit` bytes for the file
        size (unwritten chunks); or the file cannot be opened as HDF5.
    """
    import h5py

    path = Path(path)
    size = path.stat().st_size
    try:
        with h5py.File(path, "r", locking=False) as h5:
            problem = next(_problems(h5, declared_limit(size)), None)
    except Exception as exc:  # h5py raises many types for a damaged file
        raise FormatError(f"cannot open as HDF5: {type(exc).__name__}: {exc}",
                          path=path) from exc
    if problem is None:
        return
    where, what, n_bytes = problem
    if n_bytes is not None:
        check_declared_size(n_bytes, what=f"{where}, declared as {what},", path=path,
                            file_size=size)
    raise FormatError(f"{where} is {what}; sfone does not follow these (they read other files "
                      "on this machine into the outputs)", path=path)


def _decoded(value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind == "O":  # variable-length strings: compare the decoded text
        flat = [v.decode() if isinstance(v, bytes) else str(v) for v in array.ravel()]
        array = np.asarray(flat, dtype=object).reshape(array.shape)
    return array


def hdf5_content(path) -> dict:
    """``{object path: (kind, value, attrs)}`` for every group and dataset of an HDF5 file.

    ``kind`` is ``"group"`` (value: the member names in order) or ``"dataset"`` (value: the
    decoded array); ``attrs`` maps attribute names to decoded arrays.
    """
    import h5py

    content: dict = {}

    def describe(name, obj) -> None:
        attrs = {key: _decoded(obj.attrs[key]) for key in obj.attrs}
        if isinstance(obj, h5py.Dataset):
            content[name] = ("dataset", _decoded(obj[()]), attrs)
        else:
            content[name] = ("group", tuple(obj.keys()), attrs)

    with h5py.File(Path(path), "r", locking=False) as fh:
        describe("/", fh)
        fh.visititems(describe)
    return content


def _same_array(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return bool(np.allclose(a, b, rtol=rtol, atol=0.0, equal_nan=True))
    if a.dtype.names:  # compound: field by field
        return all(_same_array(a[f], b[f], rtol) for f in a.dtype.names)
    return bool(np.array_equal(a, b))


def hdf5_differences(a, b, *, rtol: float = 1e-12) -> list[str]:
    """What differs between two HDF5 files' content (empty when they hold the same)."""
    left, right = hdf5_content(a), hdf5_content(b)
    problems = [f"{name}: only in {a if name in left else b}" for name in sorted(set(left) ^
                                                                                 set(right))]
    for name in sorted(set(left) & set(right)):
        (kind_a, value_a, attrs_a), (kind_b, value_b, attrs_b) = left[name], right[name]
        if kind_a != kind_b:
            problems.append(f"{name}: a {kind_a} in one file, a {kind_b} in the other")
        elif kind_a == "group" and value_a != value_b:
            problems.append(f"{name}: members {value_a} != {value_b}")
        elif kind_a == "dataset" and not _same_array(value_a, value_b, rtol):
            problems.append(f"{name}: values, dtype or shape differ")
        if set(attrs_a) != set(attrs_b):
            problems.append(f"{name}: attributes {sorted(attrs_a)} != {sorted(attrs_b)}")
        problems += [f"{name}@{key}: attribute differs" for key in sorted(set(attrs_a) & set(attrs_b))
                     if not _same_array(attrs_a[key], attrs_b[key], rtol)]
    return problems


def same_hdf5_content(a, b, *, rtol: float = 1e-12) -> bool:
    """True when two HDF5 files hold the same groups, datasets, values and attributes."""
    return not hdf5_differences(a, b, rtol=rtol)
