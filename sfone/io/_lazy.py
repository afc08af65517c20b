"""Lazy (dask-backed) arrays over datasets in files, for readers called with ``chunks=``.

:class:`H5Array` stands for one HDF5 dataset and :class:`RawArray` for a block of a binary file:
each knows its shape and dtype and opens the file only to read the block dask asks for. They hold
a path (and a dataset name or offset), not an open file, so a task graph built on them pickles
(plainly, through their slots) to ``dask.distributed`` workers on other machines (given the same
path there) and no file handle stays open between computations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..exceptions import FormatError

__all__ = ["H5Array", "RawArray", "lazy_hdf5", "to_dask"]


class H5Array:
    """One HDF5 dataset, read block by block on indexing (``array[0:10, 100:200]``)."""

    __slots__ = ("path", "name", "shape", "dtype")

    def __init__(self, path, name: str, shape: tuple[int, ...], dtype):
        self.path = str(Path(path).resolve())
        self.name = name
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, key):
        import h5py

        try:
            with h5py.File(self.path, "r", locking=False) as fh:
                return fh[self.name][key]
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise _unreadable(self.path, self.name, exc) from exc

    def __dask_tokenize__(self):  # same file, dataset and modification time: same dask keys
        return (self.path, self.name, self.shape, str(self.dtype),
                Path(self.path).stat().st_mtime_ns)

    def __repr__(self) -> str:
        return f"H5Array({self.path!r}, {self.name!r}, shape={self.shape}, dtype={self.dtype})"


class RawArray:
    """Columns ``columns`` of a C-ordered binary block ``file_shape`` of ``dtype`` at ``offset``
    bytes into a file, memory-mapped only while a block is read (picklable, like H5Array)."""

    __slots__ = ("path", "dtype", "file_shape", "offset", "columns", "shape")

    def __init__(self, path, dtype, file_shape: tuple[int, int], *, offset: int = 0,
                 columns: slice = slice(None)):
        self.path = str(Path(path).resolve())
        self.dtype = np.dtype(dtype)
        self.file_shape = tuple(int(n) for n in file_shape)
        self.offset = int(offset)
        self.columns = columns
        self.shape = (self.file_shape[0], len(range(*columns.indices(self.file_shape[1]))))

    @property
    def ndim(self) -> int:
        return 2

    def __getitem__(self, key):
        try:
            block = np.memmap(self.path, dtype=self.dtype, mode="r", offset=self.offset,
                              shape=self.file_shape)[:, self.columns]
            return np.array(block[key])
        except (OSError, ValueError) as exc:  # moved, deleted, or now shorter
            raise _unreadable(self.path, f"the {self.file_shape} {self.dtype} block", exc) \
                from exc

    def __dask_tokenize__(self):
        return (self.path, str(self.dtype), self.file_shape, self.offset, str(self.columns),
                Path(self.path).stat().st_mtime_ns)


def _unreadable(path: str, what: str, exc: Exception) -> FormatError:
    return FormatError(f"reading {what} of a lazily opened file failed ({type(exc).__name__}: "
                       f"{exc}); was the file moved, changed or deleted after it was opened? "
                       "Open it again", path=path)


def to_dask(array, chunks, dims: tuple[str, ...]):
    """``array`` (numpy, memmap or :class:`H5Array`) as a dask array; ``chunks`` is ``"auto"``,
    an int, a tuple, or a dict over ``dims`` (missing dims: one chunk)."""
    import dask.array as da

    if isinstance(chunks, dict):
        chunks = tuple(chunks.get(dim, -1) for dim in dims)
    return da.from_array(array, chunks=chunks, asarray=True, fancy=False)


def lazy_hdf5(dataset, path, chunks, dims: tuple[str, ...]):
    """An open h5py ``dataset`` as a dask array reading ``path`` on compute."""
    return to_dask(H5Array(path, dataset.name, dataset.shape, dataset.dtype), chunks, dims)
