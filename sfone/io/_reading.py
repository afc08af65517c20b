"""One read path: :func:`sfone.read` and every ``read_<format>()`` called directly.

:func:`read_as` applies, once per read and for every format: the reading options (``strict``),
the input guard (a file changed while it is read is an error), the data-contract validation
(skipped when the reader already validated the Dataset it returns, as
:func:`~sfone.schema.finalize_dataset` does) and ``chunks=`` (passed to :attr:`FormatInfo.lazy`
readers, which build dask arrays over the file; any other format is read, then chunked), as
:func:`xarray.open_dataset` chunks any backend centrally.

Reader modules decorate their public ``read_<format>`` with :func:`format_reader`: a direct call
``read_ppd(path)`` then takes this same path, and :func:`read_as` calls the undecorated
function, so nothing runs twice. :func:`unchanged_input` is the input guard: the size and
modification time of a file (or of every file under a folder) before and after a block.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .._hdf5 import is_hdf5
from .._logging import logger
from .._options import set_options
from ..exceptions import FormatError
from ._hdf5_probe import probe_hdf5
from ._registry import FormatInfo, check_reader_options, list_formats

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["read_as", "format_reader", "apply_chunks", "unchanged_input", "footprint"]

_RAW = "_sfone_raw_reader"


def apply_chunks(ds: xr.Dataset, chunks) -> xr.Dataset:
    """``ds`` chunked with ``chunks`` (``"auto"``, int, ``(roi, time)`` tuple or dict over
    dimensions; dimensions ``ds`` lacks are ignored); ``None`` returns it unchanged."""
    if chunks is None:
        return ds
    if isinstance(chunks, tuple):
        chunks = dict(zip(("roi", "time"), chunks, strict=False))
    if isinstance(chunks, dict):
        chunks = {dim: size for dim, size in chunks.items() if dim in ds.dims}
    return ds.chunk(chunks)


def footprint(path: Path) -> tuple[int, int]:
    """(total size, latest mtime in ns) of a file or of every file under a folder."""
    if path.is_dir():
        stats = [p.stat() for p in path.rglob("*") if p.is_file()]
        return sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@contextlib.contextmanager
def unchanged_input(path):
    """Raise :class:`FormatError` if ``path`` changed (size or mtime) during the block."""
    path = Path(path)
    try:
        before = footprint(path)
    except OSError:
        before = None  # the reader reports a missing or unreadable input itself
    yield
    if before is None:
        return
    try:
        after = footprint(path)
    except OSError:
        after = None
    if after != before:
        raise FormatError("the input changed while reading (size or modification time differ "
                          "before and after); read it again once the writer has finished",
                          path=path)


def _check_available(info: FormatInfo, path: Path) -> None:
    if not info.available:
        missing = ", ".join(m for m in info.requires if importlib.util.find_spec(m) is None)
        hint = f"pip install 'sfone[{info.extra}]'" if info.extra else f"install {missing}"
        raise FormatError(f"format {info.name!r} needs {missing}, which is not installed "
                          f"({hint})", path=path)


def read_as(info: FormatInfo, path, *, strict: bool | None = None, chunks=None,
            **options) -> xr.Dataset:
    """Read ``path`` with the reader of ``info`` (see the module docstring for what it adds)."""
    from ..schema import mark_validated, recording_validated, validate

    several = isinstance(path, list | tuple)
    paths = [Path(p) for p in path] if several else [Path(path)]
    for one in paths:
        if not one.exists():
            raise FileNotFoundError(f"No such file or directory: '{one}'")
    _check_available(info, paths[0])
    function = info.read_function()
    if chunks is not None and info.lazy:
        options["chunks"] = chunks
    check_reader_options(info, options)
    for one in paths:
        if one.is_file() and is_hdf5(one):
            probe_hdf5(one)  # a corrupted file can crash the HDF5 library: refuse it first
    logger.info("reading %s as %s", ", ".join(map(str, paths)), info.name)
    given = {} if strict is None else {"strict": strict}
    with contextlib.ExitStack() as guards:
        guards.enter_context(set_options(**given))
        for one in paths:
            guards.enter_context(unchanged_input(one))
        validated = guards.enter_context(recording_validated())
        ds = getattr(function, _RAW, function)(paths if several else paths[0], **options)
    if not any(ds is done for done in validated):
        validate(ds)
    if not info.lazy:
        ds = apply_chunks(ds, chunks)
    mark_validated(ds)  # a reader that returns this read's Dataset is not validated again
    return ds


def _info_of(function: Callable) -> FormatInfo:
    """The registered format whose reader is ``function`` (or names it ``"module:function"``)."""
    name = f"{function.__module__}:{function.__name__}"
    for info in list_formats():
        if info.reader == name or getattr(info.reader, _RAW, info.reader) is function:
            return info
    raise FormatError(f"{name} is not the reader of any registered format "
                      "(declare it in a FORMATS list or with register_format)")


def format_reader(function: Callable) -> Callable:
    """Decorator for a registered ``read_<format>(path, *, ...)``: a direct call reads through
    :func:`read_as` (options, input guard, validation, ``chunks=``) like :func:`sfone.read`."""

    @functools.wraps(function)
    def read_directly(path, *, strict: bool | None = None, chunks=None, **options):
        return read_as(_info_of(function), path, strict=strict, chunks=chunks, **options)

    setattr(read_directly, _RAW, function)
    return read_directly
