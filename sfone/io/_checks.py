"""Numeric and resource checks for readers: rates, timestamps, ranges, declared sizes.

* :func:`check_positive_rate`: a header's sampling rate must be a finite positive number.
* :func:`check_monotonic`: time that does not strictly increase (always an error: the data
  contract cannot hold it, and re-ordering would guess).
* :func:`check_sampling_rate`: timestamps against a declared rate (median interval, gaps).
* :func:`check_range`: values outside a plausible range (kept, flagged, rows named);
  :func:`describe_outside` / :func:`outside_range` for several problems in one warning.
* :func:`uneven_intervals`: uneven intervals between readings (rows named), as text.
* :func:`check_declared_size`: refuse a declared array size before allocating it.
* :func:`quality_issue`: a :class:`QualityWarning`, or in strict mode (``sfone.set_options``)
  a :class:`FormatError`.
"""

from __future__ import annotations

import numpy as np

from .._guard import check_declared_size
from .._logging import warn
from .._options import get_option
from ..exceptions import FormatError, QualityWarning
from ..sampling import check_rate

__all__ = ["quality_issue", "check_positive_rate", "check_monotonic", "check_sampling_rate",
           "outside_range", "describe_outside", "check_range",
           "uneven_intervals", "check_declared_size"]

MAX_ROWS_SHOWN = 5


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


def check_positive_rate(fs, *, what: str, path, modality: str | None = None) -> float:
    """``fs`` as a finite positive float (Hz), else :class:`FormatError`: a boolean, text or
    several values are refused, and with ``modality`` the plausible range of
    :data:`sfone.sampling.RATE_LIMITS_HZ` (see :func:`sfone.sampling.check_rate`)."""
    return check_rate(fs, what=what, path=path, modality=modality)


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
