"""BORIS behaviour exports (tabular CSV): START/STOP rows paired into epochs per behaviour.

Layouts read, comma- or tab-separated (``.csv``, ``.tsv``):

* the events export with its metadata preamble (``Observation id``, ``Media file(s)`` ... then a
  header row with ``Time``, ``Behavior``, ``Status``), and the trimmed table used by PhAT
  (``Time,milliseconds,ogtime,Behavior,Status``): START/STOP rows are paired, ``POINT`` events
  become epochs of zero length;
* the "aggregated events" export (``Subject, Behavior, ..., Behavior type, Start (s),
  Stop (s), Duration (s)``): one row per event, ``STATE`` rows are epochs, ``POINT`` rows
  instants.

Times are in seconds from the start of the observation.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._guard import head_lines
from ...exceptions import FormatError
from ...schema import make_events
from .._text import csv_parse_error

__all__ = ["read_boris"]

_REQUIRED = ("Time", "Behavior", "Status")
_AGGREGATED = ("Behavior", "Start (s)", "Stop (s)")
_MAX_PREAMBLE = 60


def _header_index(lines: list[str]) -> tuple[int, str, bool] | None:
    """(line index, separator, aggregated layout) of the table header, or None."""
    for index, line in enumerate(lines[:_MAX_PREAMBLE]):
        for sep in ("\t", ","):
            cells = [c.strip() for c in line.split(sep)]
            if all(name in cells for name in _REQUIRED):
                return index, sep, False
            if all(name in cells for name in _AGGREGATED):
                return index, sep, True
    return None


def _aggregated(table: pd.DataFrame, header: int, path: Path) -> tuple[list, list, list]:
    """One epoch per row: ``Start (s)`` to ``Stop (s)``; a ``POINT`` row whose stop is blank or
    ``NA`` is an instant (start == stop)."""
    kind = table.get("Behavior type", pd.Series("", index=table.index)).str.strip().str.upper()
    numbers = {}
    for column in ("Start (s)", "Stop (s)"):
        text = table[column].str.strip()
        if column == "Stop (s)":
            text = text.where(~((kind == "POINT") & text.isin(["", "NA"])), table["Start (s)"])
        values = pd.to_numeric(text, errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise FormatError(f"line {header + table.index[bad[0]] + 2}, column {column!r}: "
                              f"found {table[column].iloc[bad[0]]!r}, expected seconds",
                              path=path)
        numbers[column] = values
    start, stop = numbers["Start (s)"], numbers["Stop (s)"]
    back = np.flatnonzero(stop < start)
    if back.size:
        raise FormatError(f"line {header + table.index[back[0]] + 2}: Stop (s) "
                          f"{stop[back[0]]} is before Start (s) {start[back[0]]}", path=path)
    return list(start), list(stop), list(table["Behavior"].str.strip())


def _pair(table: pd.DataFrame, path: Path) -> tuple[list, list, list]:
    """START/STOP rows of each (subject, behaviour) paired in order; POINT rows are instants."""
    starts, ends, labels, open_rows = [], [], [], {}
    subject = table["Subject"] if "Subject" in table else pd.Series("", index=table.index)
    for row, (time, behavior, status, who) in enumerate(zip(
            table["Time"], table["Behavior"], table["Status"], subject, strict=True)):
        key = (str(who), str(behavior))
        status = str(status).strip().upper()
        if status == "POINT":
            starts.append(time), ends.append(time), labels.append(key[1])
        elif status == "START":
            if key in open_rows:
                raise FormatError(f"row {row + 1} of the table: {key[1]!r} STARTs again at "
                                  f"{time} s before its STOP", path=path)
            open_rows[key] = time
        elif status == "STOP":
            if key not in open_rows:
                raise FormatError(f"row {row + 1} of the table: {key[1]!r} STOPs at {time} s "
                                  "without a START", path=path)
            starts.append(open_rows.pop(key)), ends.append(time), labels.append(key[1])
        else:
            raise FormatError(f"row {row + 1} of the table: Status {status!r}; expected START, "
                              "STOP or POINT", path=path)
    if open_rows:
        names = ", ".join(sorted(b for _, b in open_rows))
        raise FormatError(f"behaviour(s) {names} START but never STOP", path=path)
    return starts, ends, labels


def read_boris(path, *, behavior: str | None = None) -> xr.Dataset:
    """Read a BORIS tabular export into events (one epoch per START/STOP pair, in seconds).

    Parameters
    ----------
    path : str or os.PathLike
        BORIS tabular export (events or aggregated events; comma- or tab-separated).
    behavior : str, optional
        Keep only this behaviour (e.g. ``"Laser"``); default all, with the name in ``label``.

    Returns
    -------
    xarray.Dataset
        Events Dataset (:func:`sfone.schema.make_events`): ``start`` and ``end`` (s) over ``epoch``,
        coordinate ``label`` (the behaviour).

    Raises
    ------
    FormatError
        If no BORIS header is found, the table cannot be parsed, a ``Time`` is not a number of
        seconds, or START/STOP rows do not pair (naming the line).
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    found = _header_index(lines)
    if found is None:
        raise FormatError(f"no header row with columns {', '.join(_REQUIRED)} (events export) "
                          f"or {', '.join(_AGGREGATED)} (aggregated events), comma- or "
                          f"tab-separated, in the first {_MAX_PREAMBLE} lines", path=path)
    header, sep, aggregated = found
    try:
        table = pd.read_csv(io.StringIO("\n".join(lines[header:])), dtype=str, sep=sep,
                            keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise csv_parse_error(exc, path=path, what="BORIS tabular export") from exc
    table.columns = [str(c).strip() for c in table.columns]
    table.index = pd.RangeIndex(len(table))  # row positions (pandas may index surplus fields)
    if behavior is not None:
        table = _only(table, behavior, path)
    if aggregated:
        starts, ends, labels = _aggregated(table, header, path)
        return _events(starts, ends, labels, path, layout="aggregated events")
    time = pd.to_numeric(table["Time"], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(time.to_numpy(dtype=float, na_value=np.nan)))
    if bad.size:
        raise FormatError(f"line {header + table.index[bad[0]] + 2}, column 'Time': found "
                          f"{table['Time'].iloc[bad[0]]!r}, expected seconds", path=path)
    table["Time"] = time
    starts, ends, labels = _pair(table.reset_index(drop=True), path)
    return _events(starts, ends, labels, path, layout="events")


def _only(table: pd.DataFrame, behavior: str, path: Path) -> pd.DataFrame:
    chosen = table[table["Behavior"].str.strip() == behavior]
    if chosen.empty:
        raise FormatError(f"no {behavior!r} rows; behaviours in the file: "
                          f"{', '.join(sorted(set(table['Behavior'])))}", path=path)
    return chosen


def _events(starts, ends, labels, path: Path, *, layout: str) -> xr.Dataset:
    order = np.argsort(starts, kind="stable")
    return make_events(np.asarray(starts, float)[order], np.asarray(ends, float)[order],
                       label=np.asarray(labels, dtype=str)[order], source_format="boris",
                       source_file=path, boris_layout=layout)


def _sniff(path: Path) -> bool:
    lines = head_lines(path, _MAX_PREAMBLE, max_bytes=256 * 1024)
    return _header_index(lines) is not None
