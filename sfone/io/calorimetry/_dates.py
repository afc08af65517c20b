"""Timestamp parsing for vendor exports: explicit formats tried in order, no silent guessing."""

from __future__ import annotations

import pandas as pd

from ...exceptions import FormatError

US_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
              "%m/%d/%y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%y %I:%M:%S %p")
EU_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")
ISO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _consistent(parsed: pd.Series) -> bool:
    """CalR's rule for M/D vs D/M: consecutive distinct dates are 0 or 1 day apart."""
    days = parsed.dt.normalize().drop_duplicates()
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
    fallback, best = None, None
    for fmt in candidates:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            if day_first is None and not _consistent(parsed):
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
