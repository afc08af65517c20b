"""Numeric and resource sanity checks shared by every loader.

* :func:`set_options` (``strict=True``) turns :class:`QualityWarning` from these checks into
  :class:`FormatError`; usable as a function or a ``with`` block.
* :func:`check_sampling_rate`: timestamps against a declared rate (median interval, gaps).
* :func:`check_monotonic`: time that does not strictly increase (always an error: the data
  contract cannot hold it, and re-ordering would guess).
* :func:`check_range`: values outside a plausible range (kept, flagged, rows named).
* :func:`uneven_intervals`: uneven intervals between readings (rows named), as text.
* :func:`check_declared_size`: refuse a declared array size before allocating it.
* :func:`unchanged_input`: detect a file (or folder) modified while it was being read.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import numpy as np

from ._logging import warn
from .exceptions import FormatError, QualityWarning

__all__ = ["set_options", "get_option", "quality_issue", "check_sampling_rate", "check_monotonic",
           "check_range", "outside_range", "describe_outside", "uneven_intervals",
           "check_positive_rate", "check_declared_size", "unchanged_input", "guard_input",
           "csv_parse_error", "text_encoding"]

_OPTIONS = {"strict": os.environ.get("SFONE_STRICT", "").lower() in {"1", "true", "yes", "on"},
            "max_expansion": 100.0, "min_declared_bytes": 256 * 2**20}
MAX_ROWS_SHOWN = 5


class set_options:  # noqa: N801 (used like a function, as xarray.set_options)
    """Set sfone-wide reading options; as a ``with`` block they are restored on exit.

    Parameters
    ----------
    strict : bool, optional
        Raise :class:`FormatError` instead of warning (:class:`QualityWarning`) on inconsistent
        sampling rates, gaps and implausible values (default from the environment variable
        ``SFONE_STRICT=1``, which also reaches the command line).
    max_expansion : float, optional
        Largest accepted ratio of an array's declared size to the file size (compressed HDF5).
    min_declared_bytes : int, optional
        Declared sizes below this are always accepted (bytes).
    """

    def __init__(self, *, strict: bool | None = None, max_expansion: float | None = None,
                 min_declared_bytes: int | None = None):
        given = {"strict": strict, "max_expansion": max_expansion,
                 "min_declared_bytes": min_declared_bytes}
        self._previous = dict(_OPTIONS)
        _OPTIONS.update({k: v for k, v in given.items() if v is not None})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _OPTIONS.clear()
        _OPTIONS.update(self._previous)
        return False


def get_option(name: str):
    """Current value of a reading option (see :class:`set_options`)."""
    return _OPTIONS[name]


def _rows(index: np.ndarray) -> str:
    shown = ", ".join(str(int(i)) for i in index[:MAX_ROWS_SHOWN])
    more = f" and {index.size - MAX_ROWS_SHOWN} more" if index.size > MAX_ROWS_SHOWN else ""
    return f"{shown}{more}"


def quality_issue(message: str, *, path, strict: bool | None = None) -> None:
    """Warn (:class:`QualityWarning`) or, in strict mode, raise :class:`FormatError`."""
    if get_option("strict") if strict is None else strict:
        raise FormatError(f"{message} (strict mode: set sfone.set_options(strict=False) to "
                          "read it with a warning)", path=path)
    warn(f"{path}: {message}", QualityWarning, stacklevel=4)


def check_positive_rate(fs, *, what: str, path) -> float:
    """``fs`` as a finite positive float (Hz), else :class:`FormatError`."""
    try:
        value = float(fs)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise FormatError(f"{what}: sampling rate {fs!r}; expected a positive number of Hz",
                          path=path)
    return value


def check_monotonic(time, *, what: str, path) -> None:
    """Raise :class:`FormatError` naming the samples where ``time`` does not strictly increase."""
    time = np.asarray(time, dtype=float)
    if not np.all(np.isfinite(time)):
        bad = np.flatnonzero(~np.isfinite(time))
        raise FormatError(f"{what}: {bad.size} non-finite timestamp(s) at sample(s) "
                          f"{_rows(bad)}; expected finite seconds", path=path)
    if time.size > 1:
        bad = np.flatnonzero(np.diff(time) <= 0) + 1
        if bad.size:
            first = int(bad[0])
            raise FormatError(f"{what}: timestamps not strictly increasing at sample(s) "
                              f"{_rows(bad)} ({float(time[first - 1])!r} then {float(time[first])!r})",
                              path=path)


def check_sampling_rate(time, fs: float, *, what: str, path, rtol: float = 0.01,
                        gap_factor: float = 1.5, strict: bool | None = None) -> None:
    """Compare timestamps (s) with a declared rate ``fs`` (Hz); flag mismatch and gaps.

    A median interval off by more than ``rtol`` and intervals longer than ``gap_factor`` times the
    declared interval are :class:`QualityWarning` (errors in strict mode) naming the samples.
    """
    time = np.asarray(time, dtype=float)
    if time.size < 2:
        return
    step = np.diff(time)
    expected = 1.0 / fs
    median = float(np.median(step))
    if abs(median - expected) > rtol * expected:
        quality_issue(f"{what}: timestamps advance by {median:.6g} s per sample (median) but the "
                      f"declared rate {fs:g} Hz means {expected:.6g} s", path=path, strict=strict)
        return
    gaps = np.flatnonzero(step > gap_factor * expected) + 1
    if gaps.size:
        quality_issue(f"{what}: {gaps.size} gap(s) longer than {gap_factor:g} sample intervals "
                      f"before sample(s) {_rows(gaps)} (largest {step.max():.6g} s)", path=path,
                      strict=strict)


def outside_range(values, low: float, high: float) -> np.ndarray:
    """Indices of the finite ``values`` outside ``[low, high]`` (NaN is never outside)."""
    values = np.asarray(values, dtype=float)
    return np.flatnonzero(np.isfinite(values) & ((values < low) | (values > high)))


def describe_outside(values, low: float, high: float, *, what: str, units: str) -> str | None:
    """``"<what>: <n> value(s) outside ... at row(s) <rows> (first <v>)"`` or None if none."""
    values = np.asarray(values, dtype=float)
    outside = outside_range(values, low, high)
    if not outside.size:
        return None
    return (f"{what}: {outside.size} value(s) outside the plausible range [{low:g}, {high:g}] "
            f"{units} at row(s) {_rows(outside)} (first {values[outside[0]]:g})")


def check_range(values, low: float, high: float, *, what: str, units: str, path,
                strict: bool | None = None) -> None:
    """Flag (keep) finite values outside ``[low, high]``, naming the rows."""
    problem = describe_outside(values, low, high, what=what, units=units)
    if problem:
        quality_issue(f"{problem}; kept", path=path, strict=strict)


def uneven_intervals(time, *, what: str, tolerance: float = 0.5) -> str | None:
    """Description of the intervals of ``time`` (s) more than ``tolerance`` times the median away
    from it (missing readings, pauses, merged runs), naming the rows; None if even or < 3
    samples. The caller decides how to report it (``quality_issue``)."""
    time = np.asarray(time, dtype=float)
    if time.size < 3:
        return None
    step = np.diff(time)
    median = float(np.median(step))
    uneven = np.flatnonzero(np.abs(step - median) > tolerance * median) + 1
    if not uneven.size:
        return None
    return (f"{what}: readings are not evenly spaced: intervals from {step.min():.6g} s to "
            f"{step.max():.6g} s (median {median:.6g} s) at row(s) {_rows(uneven)}")


def check_declared_size(n_bytes: int, *, what: str, path) -> None:
    """Refuse to allocate ``n_bytes`` declared by a header that the file cannot hold.

    Accepted below ``min_declared_bytes`` or up to ``max_expansion`` times the file size.
    """
    file_size = _footprint(Path(path))[0]
    limit = max(get_option("min_declared_bytes"), get_option("max_expansion") * file_size)
    if n_bytes > limit:
        raise FormatError(f"{what} declares {n_bytes} bytes of data but the file is {file_size} "
                          f"bytes; refused before allocating (limit {int(limit)} bytes, see "
                          "sfone.set_options(max_expansion=...))", path=path)


def _footprint(path: Path) -> tuple[int, int]:
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
        before = _footprint(path)
    except OSError:
        before = None  # the reader reports a missing or unreadable input itself
    yield
    if before is None:
        return
    try:
        after = _footprint(path)
    except OSError:
        after = None
    if after != before:
        raise FormatError("the input changed while reading (size or modification time differ "
                          "before and after); read it again once the writer has finished",
                          path=path)


def guard_input(reader):
    """Decorator for ``read_<format>(path, ...)``: detect an input modified during the read."""

    @functools.wraps(reader)
    def wrapper(path, *args, **kwargs):
        with unchanged_input(os.fspath(path)):
            return reader(path, *args, **kwargs)

    return wrapper


def text_encoding(head: bytes) -> str:
    """``"utf-8-sig"`` when ``head`` decodes as UTF-8 (a cut multi-byte tail is allowed), else
    ``"latin-1"`` (every byte is a Latin-1 character: spreadsheet exports in Western locales)."""
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut by the head's end
            return "latin-1"
    return "utf-8-sig"


def csv_parse_error(exc: Exception, *, path, what: str = "CSV") -> FormatError:
    """A :class:`FormatError` explaining a pandas/decoding failure on a delimited text file."""
    if isinstance(exc, UnicodeDecodeError):
        return FormatError(f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at position "
                           f"{exc.start}; expected a UTF-8 {what} (re-save it as UTF-8)",
                           path=path)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ""
    if "Expected" in text and "fields" in text:
        hint = ("; rows have different numbers of fields: decimal commas or a ';' separator "
                "(export with '.' as decimal mark and ',' between fields)")
    elif "No columns to parse" in text:
        hint = "; the file is empty"
    return FormatError(f"cannot parse as {what}: {text}{hint}", path=path)
