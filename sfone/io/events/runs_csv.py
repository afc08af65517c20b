"""Run-epoch tables: a CSV with columns ``start_s,end_s`` (seconds from session start).

Optional columns: ``label`` (free text, e.g. speed or run name). One row per run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._guard import head_lines
from ...exceptions import FormatError
from ...schema import make_events
from .._text import csv_parse_error

__all__ = ["read_runs_csv", "write_runs_csv"]

REQUIRED = ("start_s", "end_s")


def read_runs_csv(path) -> xr.Dataset:
    """Read run epochs (``start_s,end_s`` in seconds) into an events Dataset over ``epoch``.

    Parameters
    ----------
    path : str or os.PathLike
        CSV with columns ``start_s,end_s`` (optional ``label``).

    Returns
    -------
    xarray.Dataset
        Events Dataset (:func:`sfone.schema.make_events`): ``start`` and ``end`` (s) over ``epoch``,
        coordinate ``label`` when the file has one.

    Raises
    ------
    FormatError
        If a column is missing, a value is not a finite number, or an epoch does not end after it
        starts (naming the line).
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise csv_parse_error(exc, path=path, what="runs CSV") from exc
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise FormatError(f"missing column(s) {', '.join(missing)}; found "
                          f"{', '.join(table.columns)}; expected 'start_s,end_s'", path=path)
    values = {}
    for column in REQUIRED:
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise FormatError(f"line {row + 2}, column {column!r}: found {table[column].iloc[row]!r}, "
                              "expected a finite number of seconds", path=path)
        values[column] = numbers.to_numpy(dtype=float)
    start, end = values["start_s"], values["end_s"]
    not_positive = np.flatnonzero(end <= start)
    if not_positive.size:
        row = int(not_positive[0])
        raise FormatError(f"line {row + 2}: end_s {end[row]} is not after start_s {start[row]}",
                          path=path)
    label = table["label"].astype(str).to_numpy() if "label" in table.columns else None
    return make_events(start, end, label=label, source_format="runs-csv", source_file=path)


def write_runs_csv(events, path) -> Path:
    """Write an events Dataset (or a ``(start, end)`` pair of arrays) as a runs CSV, atomically.

    Parameters
    ----------
    events : xarray.Dataset or tuple of array_like
        Events Dataset (``start``/``end`` in s, optional ``label``) or ``(start, end)`` arrays (s).
    path : str or os.PathLike
        Output CSV (``start_s,end_s[,label]``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from ..._atomic import write_csv

    if isinstance(events, tuple):
        start, end = events
        table = pd.DataFrame({"start_s": start, "end_s": end})
    else:
        table = pd.DataFrame({"start_s": events["start"].values, "end_s": events["end"].values})
        if "label" in events.coords:
            table["label"] = events["label"].values
    return write_csv(table, path, float_format="%.6f")  # microseconds


def _sniff(path: Path) -> bool:
    header = [c.strip() for c in head_lines(path, 1)[0].split(",")]
    return all(c in header for c in REQUIRED)
