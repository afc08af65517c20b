"""BORIS behaviour exports (tabular CSV): START/STOP rows paired into epochs per behaviour.

Two layouts are read: the full BORIS export with its metadata preamble (``Observation id``,
``Media file(s)`` ... then a header row with ``Time``, ``Behavior``, ``Status``), and the trimmed
table used by PhAT (``Time,milliseconds,ogtime,Behavior,Status``). ``POINT`` events become epochs
of zero length. Times are in seconds from the start of the observation (BORIS ``Time``).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._sanity import csv_parse_error
from ...exceptions import FormatError
from ...schema import make_events

__all__ = ["read_boris"]

_REQUIRED = ("Time", "Behavior", "Status")
_MAX_PREAMBLE = 60


def _header_index(lines: list[str]) -> int | None:
    for index, line in enumerate(lines[:_MAX_PREAMBLE]):
        cells = [c.strip() for c in line.split(",")]
        if all(name in cells for name in _REQUIRED):
            return index
    return None


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
    behavior : str, optional
        Keep only this behaviour (e.g. ``"Laser"``); default all, with the name in ``label``.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    header = _header_index(lines)
    if header is None:
        raise FormatError(f"no header row with columns {', '.join(_REQUIRED)} in the first "
                          f"{_MAX_PREAMBLE} lines", path=path)
    try:
        table = pd.read_csv(io.StringIO("\n".join(lines[header:])), dtype=str,
                            keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise csv_parse_error(exc, path=path, what="BORIS tabular export") from exc
    table.columns = [str(c).strip() for c in table.columns]
    time = pd.to_numeric(table["Time"], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(time.to_numpy(dtype=float, na_value=np.nan)))
    if bad.size:
        raise FormatError(f"line {header + bad[0] + 2}, column 'Time': found "
                          f"{table['Time'].iloc[bad[0]]!r}, expected seconds", path=path)
    table["Time"] = time
    if behavior is not None:
        chosen = table[table["Behavior"] == behavior]
        if chosen.empty:
            raise FormatError(f"no {behavior!r} rows; behaviours in the file: "
                              f"{', '.join(sorted(set(table['Behavior'])))}", path=path)
        table = chosen
    starts, ends, labels = _pair(table.reset_index(drop=True), path)
    order = np.argsort(starts, kind="stable")
    return make_events(np.asarray(starts)[order], np.asarray(ends)[order],
                       label=np.asarray(labels, dtype=str)[order], source_format="boris",
                       source_file=path)


def _sniff(path: Path) -> bool:
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        lines = [fh.readline() for _ in range(_MAX_PREAMBLE)]
    return _header_index(lines) is not None
