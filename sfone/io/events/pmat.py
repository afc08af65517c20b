"""pMAT behaviour CSV (``Event,Onset,Offset`` in seconds): one epoch per row.

pMAT writes the offset of a final, unfinished bout as ``Inf``; it is kept as ``inf`` (the bout
lasts to the end of the recording), never replaced by a guess.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._guard import head_lines
from ...exceptions import FormatError
from ...schema import make_events

__all__ = ["read_pmat_events"]

_COLUMNS = ("Event", "Onset", "Offset")


def read_pmat_events(path) -> xr.Dataset:
    """Read a pMAT ``BehData`` CSV into events with ``label`` = the event name.

    Parameters
    ----------
    path : str or os.PathLike
        pMAT ``BehData`` CSV with columns ``Event,Onset,Offset`` (seconds).

    Returns
    -------
    xarray.Dataset
        Events Dataset (:func:`sfone.schema.make_events`): ``start`` and ``end`` (s) over ``epoch``,
        coordinate ``label`` (the event name).

    Raises
    ------
    FormatError
        If the columns differ, an onset/offset is not a number, or an offset precedes its onset
        (naming the line).
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot parse as a pMAT behaviour CSV: {exc}", path=path) from exc
    table.columns = [str(c).strip() for c in table.columns]
    if tuple(table.columns[:3]) != _COLUMNS:
        raise FormatError(f"expected columns Event,Onset,Offset; found "
                          f"{','.join(table.columns)}", path=path)
    values = {}
    for column in ("Onset", "Offset"):
        text = table[column].str.strip()
        numbers = pd.to_numeric(text.replace({"Inf": "inf", "-Inf": "-inf"}), errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy())
        if bad.size:
            raise FormatError(f"line {bad[0] + 2}, column {column!r}: found "
                              f"{table[column].iloc[bad[0]]!r}, expected seconds", path=path)
        values[column] = numbers.to_numpy(dtype=float)
    onset, offset = values["Onset"], values["Offset"]
    bad = np.flatnonzero(~np.isfinite(onset) | (offset < onset))
    if bad.size:
        raise FormatError(f"line {bad[0] + 2}: onset {onset[bad[0]]} and offset "
                          f"{offset[bad[0]]}; expected a finite onset before the offset",
                          path=path)
    return make_events(onset, offset, label=table["Event"].str.strip().to_numpy(dtype=str),
                       source_format="pmat-events", source_file=path)


def _sniff(path: Path) -> bool:
    header = [c.strip() for c in head_lines(path, 1)[0].split(",")]
    return tuple(header[:3]) == _COLUMNS
