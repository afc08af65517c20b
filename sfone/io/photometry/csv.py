"""Generic photometry CSV: one or more time columns and named channel columns.

* Header row found after up to 20 preamble lines (e.g. Doric's two-row header: the last
  non-numeric line before the data is the header).
* Time columns are named ``Time``, ``Time(s)``, ``Time (sec)``, ``Timestamp(s)``, ``time_ms``...
  (or given with ``time_column=``). Units come from the name (``ms``, ``us``) or ``time_units=``.
* Several time columns with suffixes (``Time_410nm``, ``Time_470nm``) are separate clocks: a
  channel column with the same suffix (``MeanInt_410nm``) lives on that clock.
* ``channels=`` picks columns (list) or renames them (``{"signal": "filt465"}``). Otherwise every
  numeric column except frame counters is a channel; skipped columns are listed in the
  ``ignored_columns`` attr (text columns, frame counters, empty ``Unnamed`` columns left by
  trailing commas). Columns named like TTL/DIO/digital get units ``"1"`` and
  ``kind="digital"``; columns whose name says dF/F (``dff``, ``dF/F``, ``deltaF/F``) units
  ``"1"`` and a dF/F ``long_name``; others ``"a.u."``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._docs import fill_doc
from ..._logging import logger, warn
from ..._validate import _check_option
from ...exceptions import DataRepairWarning, FormatError
from .._reading import format_reader
from .._text import csv_parse_error, text_encoding
from ._common import Channel, build_dataset, read_head
from ._plausibility import check_missing_rows

__all__ = ["read_photometry_csv"]

TIME_PATTERN = re.compile(r"^(time|timestamps?)(?P<rest>.*)$", re.IGNORECASE)
COUNTER_PATTERN = re.compile(r"^(frame|framecounter|index)(\b|_)", re.IGNORECASE)
DIGITAL_PATTERN = re.compile(r"(ttl|dio|di/o|di--o|digital)", re.IGNORECASE)
#: columns whose name declares dF/F (GuPPy's ``dff``, ``dF/F``, ``deltaF/F``): dimensionless,
#: classifiable by ``label_responses``; any other analog column is a raw channel (a.u.)
DFF_PATTERN = re.compile(r"(^|[^a-z])(dff|df/f|df_f|deltaf/f|delta_f_f)([^a-z]|$)", re.IGNORECASE)
UNIT_SCALE = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
MAX_PREAMBLE = 20


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header_row(lines: list[str]) -> int | None:
    """Index of the header: the last line before the first mostly numeric line."""
    for i, line in enumerate(lines[:MAX_PREAMBLE + 1]):
        fields = [f.strip() for f in line.split(",") if f.strip()]
        if fields and sum(map(_is_number, fields)) > len(fields) / 2:
            return i - 1 if i > 0 else None
    return None


def _time_info(name: str) -> tuple[str, str] | None:
    """(clock suffix, unit) when ``name`` looks like a time column."""
    match = TIME_PATTERN.match(name.strip())
    if not match:
        return None
    rest = match["rest"]
    unit = "ms" if re.search(r"\bms\b|msec|\(ms\)|_ms", rest, re.IGNORECASE) else (
        "us" if re.search(r"\(us\)|_us|µs", rest, re.IGNORECASE) else "s")
    suffix = re.sub(r"\(.*?\)|\b(s|sec|ms|msec|us)\b", "", rest, flags=re.IGNORECASE).strip(" _-")
    return suffix, unit


def _load(path: Path) -> pd.DataFrame:
    head = read_head(path, 65536)
    encoding = text_encoding(head)
    if encoding == "latin-1":
        warn(f"{path}: not UTF-8 text; decoded as Latin-1 (a spreadsheet export in a Western "
             "locale): check the column names", DataRepairWarning)
    text = head.decode(encoding, errors="replace").splitlines()
    header = _header_row(text)
    if header is None:
        raise FormatError("no header row with column names found in the first "
                          f"{MAX_PREAMBLE} lines", path=path)
    try:
        table = pd.read_csv(path, skiprows=header, skipinitialspace=True, encoding=encoding)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise csv_parse_error(exc, path=path, what="photometry CSV") from exc
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _clocks(table: pd.DataFrame, time_column, time_units, path) -> dict[str, tuple[str, str]]:
    """Map clock suffix -> (time column, unit)."""
    if time_column is not None:
        if time_column not in table.columns:
            raise FormatError(f"time column {time_column!r} not found; columns are "
                              f"{', '.join(table.columns)}", path=path)
        suffix, unit = _time_info(time_column) or ("", "s")
        return {"": (time_column, time_units or unit)}
    clocks = {}
    for column in table.columns:
        info = _time_info(column)
        if info:
            clocks.setdefault(info[0], (column, time_units or info[1]))
    if not clocks:
        raise FormatError("no time column: none of the columns "
                          f"({', '.join(table.columns)}) is named like Time, Time(s) or "
                          "Timestamp; pass time_column=NAME", path=path)
    return clocks


def _clock_of(column: str, clocks: dict) -> str | None:
    suffixed = [s for s in clocks if s and column.endswith(s)]
    if suffixed:
        return max(suffixed, key=len)
    return "" if "" in clocks else (next(iter(clocks)) if len(clocks) == 1 else None)


def _channel_columns(table, clocks, channels) -> tuple[dict[str, str], list[str]]:
    time_cols = {c for c, _ in clocks.values()}
    if channels is not None:
        mapping = dict(channels) if isinstance(channels, dict) else {c: c for c in channels}
        return mapping, []
    mapping, ignored = {}, []
    for column in table.columns:
        if column in time_cols:
            continue
        numeric = pd.to_numeric(table[column], errors="coerce")
        empty_unnamed = column.startswith("Unnamed:") and table[column].isna().all()
        text = numeric.isna().all() and table[column].notna().any()
        if COUNTER_PATTERN.match(column) or text or empty_unnamed:
            ignored.append(column)
        else:
            mapping[column] = column
    return mapping, ignored


def _readable_time(time: np.ndarray, cells: pd.Series, path, checked: set) -> np.ndarray:
    """Rows with a time; rows without one are dropped, reported once per time column (except the
    empty cells that end a shorter per-clock column: ragged clocks are not damage)."""
    keep = np.isfinite(time)
    if cells.name not in checked and keep.any():
        checked.add(cells.name)
        last = int(np.flatnonzero(keep)[-1])
        lost = np.flatnonzero(~keep[:last + 1])
        if lost.size:
            text = str(cells.iloc[int(lost[0])])
            check_missing_rows(int(lost.size), last + 1, path=path,
                               what=f"rows have no readable time in column {cells.name!r}",
                               first=f"data row {int(lost[0]) + 1}: {text[:20]!r}")
    return keep


@format_reader
@fill_doc
def read_photometry_csv(path, *, time_column: str | None = None, channels=None,
                        time_units: str | None = None) -> xr.Dataset:
    """Read a CSV with time column(s) and channel columns into a photometry Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        CSV (or TSV) file with a header row.
    time_column : str, optional
        The time column (default: detected by name; several suffixed ones are separate clocks).
    channels : list of str or dict, optional
        Columns to read, or ``{variable_name: column}``.
    time_units : {"s", "ms", "us"}, optional
        Override the unit inferred from the time column's name.

    Returns
    -------
    %(photometry_dataset)s
        Time columns in ms/us are converted to seconds.

    Raises
    ------
    FormatError
        If no time column is found, a requested channel column is missing, or a channel column
        matches no time column.
    ValueError
        If time_units is not one of "s", "ms", "us".
    """
    path = Path(path)
    if time_units is not None:
        _check_option("time_units", time_units, sorted(UNIT_SCALE))
    table = _load(path)
    clocks = _clocks(table, time_column, time_units, path)
    mapping, ignored = _channel_columns(table, clocks, channels)
    out, checked = [], set()
    for name, column in mapping.items():
        if column not in table.columns:
            raise FormatError(f"channel column {column!r} not found; columns are "
                              f"{', '.join(table.columns)}", path=path)
        suffix = _clock_of(column, clocks)
        if suffix is None:
            raise FormatError(f"column {column!r} matches none of the time columns "
                              f"{[c for c, _ in clocks.values()]}; pass time_column=", path=path)
        tcol, unit = clocks[suffix]
        time = pd.to_numeric(table[tcol], errors="coerce").to_numpy(dtype=float)
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        keep = _readable_time(time, table[tcol], path, checked)
        attrs = {"source_column": column, "time_column": tcol}
        if DIGITAL_PATTERN.search(column):
            units, attrs["kind"] = "1", "digital"
        elif DFF_PATTERN.search(column):
            units = "1"
            attrs["long_name"] = f"dF/F (the column name {column!r} says so)"
        else:
            units = "a.u."
        out.append(Channel(name, values[keep], time[keep] * UNIT_SCALE[unit], suffix or tcol,
                           units, attrs))
    if ignored:
        logger.info("%s: columns not read as channels: %s", path, ", ".join(ignored))
    return build_dataset(out, path=path, source_format="photometry-csv",
                         ignored_columns=ignored)


def _sniff(path: Path) -> bool:
    head = read_head(path, 16384)
    lines = head.decode(text_encoding(head)).splitlines()
    header = _header_row(lines)
    if header is None:
        return False
    columns = [c.strip() for c in lines[header].split(",")]
    return any(_time_info(c) for c in columns) and len(columns) >= 2
