"""One read path: :func:`sfone.read` and every ``read_<format>()`` called directly.

:func:`read_as` applies, once per read and for every format: the reading options (``strict``),
the input guard (a file changed while it is read is an error), the data-contract validation
(skipped when the reader already validated the Dataset it returns, as
:func:`~sfone.schema.finalize_dataset` does) and ``chunks=`` (passed to :attr:`FormatInfo.lazy`
readers, which build dask arrays over the file; any other format is read, then chunked), as
:func:`xarray.open_dataset` chunks any backend centrally.

It is also where every input meets the guards of :mod:`sfone._guard` before a reader opens it:
only regular files and folders (a FIFO, device or socket, also inside a folder, is refused),
every HDF5 file through :func:`~sfone._hdf5.check_hdf5_contained` (no external links, external
storage, virtual datasets or impossible declared sizes), and whatever a reader raises that is
not an sfone error (numpy's ``could not convert string to float``, a codec's message, a
``RecursionError``) becomes a :class:`FormatError` naming the file and the format, flagged
``unexpected=True`` so tests can tell it from the readers' own messages.

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

from .._guard import check_folder_members, check_input_kind, footprint
from .._hdf5 import check_hdf5_contained, is_hdf5
from .._logging import logger
from .._options import set_options
from ..exceptions import FormatError, SfoneError
from ._hdf5_probe import probe_hdf5
from ._registry import FormatInfo, check_reader_options, list_formats

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["read_as", "format_reader", "apply_chunks", "unchanged_input", "footprint",
           "check_input", "reader_failure"]

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


def check_input(path: Path) -> None:
    """The guards every input passes before a reader opens it (see the module docstring)."""
    check_input_kind(path)
    if path.is_dir():
        check_folder_members(path)
    elif is_hdf5(path):
        probe_hdf5(path)  # a corrupted file can crash the HDF5 library: walk it in a child first
        check_hdf5_contained(path)


def _raised_by(exc: BaseException, module: str) -> bool:
    """Whether the innermost frame of ``exc``'s traceback is in ``module``."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals.get("__name__") == module


def reader_failure(exc: Exception, info: FormatInfo, path) -> FormatError:
    """A :class:`FormatError` naming ``path`` for an exception a reader did not turn into one
    itself (attribute ``unexpected`` True)."""
    if isinstance(exc, RecursionError):
        text = "its content is nested too deeply (RecursionError)"
    elif isinstance(exc, MemoryError):
        text = "reading it ran out of memory (MemoryError)"
    else:
        detail = " ".join(str(exc).split()) or "no message"
        text = f"{type(exc).__name__}: {detail[:300]}"
    error = FormatError(f"cannot read as {info.name} (damaged, or not a {info.name} file): {text}",
                        path=path)
    error.unexpected = True
    return error


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
    logger.info("reading %s as %s", ", ".join(map(str, paths)), info.name)
    given = {} if strict is None else {"strict": strict}
    with contextlib.ExitStack() as guards:
        guards.enter_context(set_options(**given))
        for one in paths:
            check_input(one)
            guards.enter_context(unchanged_input(one))
        validated = guards.enter_context(recording_validated())
        try:
            ds = getattr(function, _RAW, function)(paths if several else paths[0], **options)
        except SfoneError:
            raise
        except (ValueError, TypeError) as exc:
            if _raised_by(exc, "sfone._validate"):
                raise  # an option the caller passed (repair=, time_units=...): their error
            raise reader_failure(exc, info, ", ".join(map(str, paths))) from exc
        except OSError as exc:
            if exc.filename is None:  # h5py's "file signature not found" names no file
                raise reader_failure(exc, info, paths[0]) from exc
            raise  # missing or unreadable member file: the message names it
        except Exception as exc:  # numpy, pandas, h5py, codecs: name the file
            raise reader_failure(exc, info, ", ".join(map(str, paths))) from exc
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
