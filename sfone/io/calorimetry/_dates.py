"""Timestamp parsing for vendor exports: explicit formats tried in order, no silent guessing.

The usual Oxymax/CLAMS layout (``3/2/2026 7:05:00 PM``, the first of :data:`US_FORMATS`) is
parsed from its few distinct dates and clock times (:func:`us_12h_datetimes`); the result is the
one the format-by-format parse gives, which runs for anything else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ...exceptions import FormatError

US_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
              "%m/%d/%y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%y %I:%M:%S %p")
EU_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")
ISO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def month_first_consistent(parsed) -> bool:
    """CalR's rule for M/D vs D/M: consecutive distinct dates are 0 or 1 day apart."""
    days = pd.Series(parsed).dt.normalize().drop_duplicates()
    if len(days) < 2:
        return True
    steps = days.diff().dropna() / pd.Timedelta("1D")
    return bool(((steps >= 0) & (steps <= 1)).all())


def parse_datetimes(text: pd.Series, *, path, column: str = "DATE/TIME",
                    day_first: bool | None = None, line_numbers=None) -> pd.Series:
    """Parse a column of timestamps, trying US, European and ISO layouts.

    ``day_first=None`` follows CalR: month-first unless that gives dates that jump by more than a
    day, then day-first. Raises ``FormatError`` naming the column, the first bad value and its
    line (``line_numbers``: the file line of each entry; else the row is named).
    """
    text = text.astype("string").str.strip()
    if day_first is True:
        candidates = EU_FORMATS + US_FORMATS
    else:
        candidates = US_FORMATS + EU_FORMATS
    candidates = candidates + ISO_FORMATS
    if day_first is not True:  # the usual Oxymax layout, from its distinct dates and times
        try:
            fast = pd.Series(us_12h_datetimes(text), index=text.index)
        except ValueError:
            pass
        else:
            if day_first is False or month_first_consistent(fast):
                return fast
    fallback, best = None, None
    for fmt in candidates:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            if day_first is None and not month_first_consistent(parsed):
                fallback = fallback if fallback is not None else parsed
                continue
            return _as_ns(parsed, column, path)
        if best is None or parsed.notna().sum() > best[1].notna().sum():
            best = (fmt, parsed)
    if fallback is not None:
        return _as_ns(fallback, column, path)
    fmt, parsed = best
    bad = parsed.isna().to_numpy()
    i = int(bad.argmax())
    where = f"line {line_numbers[i]}" if line_numbers is not None else f"data row {i + 1}"
    layout = (f"the other {int((~bad).sum())} rows parse as {fmt!r}" if (~bad).any() else
              "expected e.g. '1/6/2015 11:01:32 AM', '01.09.2010 14:36:52' or "
              "'2017-12-05 10:31:00'")
    raise FormatError(f"column {column!r}, {where}: cannot parse timestamp {text.iloc[i]!r} "
                      f"({int(bad.sum())} such row(s)); {layout}", path=path)


def _as_ns(parsed: pd.Series, column, path) -> pd.Series:
    """Nanosecond datetimes; a date outside 1677-2262 (a damaged year) is a ``FormatError``."""
    try:
        return parsed.astype("datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        latest, earliest = parsed.max(), parsed.min()
        raise FormatError(f"column {column!r}: timestamps from {earliest} to {latest} are "
                          "outside the years 1677-2262; expected real dates (a damaged year?)",
                          path=path) from None


def us_12h_datetimes(stamps) -> np.ndarray:
    """``M/D/YYYY h:mm:ss AM`` stamps (text or an Arrow string array; blanks around are ignored)
    as datetime64[ns], parsed from the distinct dates and clock times with the two halves of
    ``US_FORMATS[0]``; ``ValueError`` for anything else (another layout, a missing or invalid
    stamp, a year outside 1677-2262)."""
    if not isinstance(stamps, pa.Array | pa.ChunkedArray):
        stamps = pa.array(pd.Series(stamps, dtype="string"), type=pa.string())
    if isinstance(stamps, pa.ChunkedArray):
        stamps = stamps.combine_chunks()
    if stamps.null_count:
        raise ValueError("missing timestamps")
    parts = pc.split_pattern(pc.utf8_trim_whitespace(stamps), " ", max_splits=1)
    if pc.any(pc.not_equal(pc.list_value_length(parts), 2)).as_py():
        raise ValueError("not a date and a clock time")
    date = pc.dictionary_encode(pc.list_element(parts, 0))
    clock = pc.dictionary_encode(pc.list_element(parts, 1))
    try:
        days = pd.to_datetime(pd.Series(date.dictionary.to_pylist()), format="%m/%d/%Y")
        clocks = pd.to_datetime(pd.Series(clock.dictionary.to_pylist()), format="%I:%M:%S %p")
        days = days.astype("datetime64[ns]").to_numpy()
    except OverflowError as exc:
        raise ValueError(str(exc)) from None
    offsets = (clocks - clocks.dt.normalize()).to_numpy().astype("timedelta64[ns]")
    return (days[date.indices.to_numpy(zero_copy_only=False)]
            + offsets[clock.indices.to_numpy(zero_copy_only=False)])
