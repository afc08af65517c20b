"""pyControl session logs (``.tsv``, pyControl >= 2.0): states as epochs, events as instants.

The data logger (pyControl ``source/communication/data_logger.py``) writes a tab-separated table
``time  type  subtype  content`` (time in s from the framework start, 3 decimals). Rows:

* ``info`` (time 0): ``experiment_name``, ``task_name``, ``setup_id``, ``subject_id``,
  ``start_time`` (UTC ISO 8601), ... and ``end_time`` at the run's end time;
* ``state``: entry into the state ``content``; it lasts until the next state entry (the last
  one until ``end_time``, else the file's last time);
* ``event`` (subtype ``input``, ``timer``, ``sync``, ``publish``, ``user``, ``api``): an event
  named ``content``;
* ``print``, ``variable``, ``warning``, ``error``: not epochs (counted in attrs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._guard import head_lines
from ..._validate import _check_options
from ...exceptions import FormatError
from ...schema import finalize_dataset, make_events
from .._text import parse_table

__all__ = ["read_pycontrol"]

_COLUMNS = ("time", "type", "subtype", "content")
_KINDS = ("states", "events")


def _table(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        lines = fh.read().splitlines()
    table = parse_table(lines, path=path, what="pyControl log", sep="\t", allow_empty=True,
                        drop_cut_last_row=False)
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise FormatError(f"header {list(table.columns)} lacks {', '.join(missing)}; expected "
                          "the pyControl columns time, type, subtype, content (tab-separated)",
                          path=path)
    time = pd.to_numeric(table["time"].str.strip(), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(time))
    if bad.size:
        raise FormatError(f"line {table.attrs['line_numbers'][bad[0]]}, column 'time': found "
                          f"{table['time'].iloc[bad[0]]!r}, expected seconds", path=path)
    table["time"] = time
    table["type"] = table["type"].str.strip()
    return table


def _info(table: pd.DataFrame) -> tuple[dict, float | None]:
    rows = table[table["type"] == "info"]
    info = dict(zip(rows["subtype"].str.strip(), rows["content"].str.strip(), strict=True))
    end = rows.loc[rows["subtype"].str.strip() == "end_time", "time"]
    return info, (float(end.iloc[-1]) if len(end) else None)


def read_pycontrol(path, *, include: tuple[str, ...] = _KINDS) -> xr.Dataset:
    """Read a pyControl ``.tsv`` log into events: one epoch per state visit and per event.

    Parameters
    ----------
    path : str or os.PathLike
        pyControl ``.tsv`` data file.
    include : tuple of str
        ``"states"`` (epochs from each state entry to the next) and/or ``"events"``
        (zero-length epochs at each event).

    Returns
    -------
    xarray.Dataset
        ``start``/``end`` in s from the framework start, ``label`` (state or event name), coords
        ``kind`` ("state" / "event") and ``subtype`` (event source, "" for states); attrs
        ``subject`` and ``session_start`` (``start_time``, UTC), ``task_name``,
        ``experiment_name``, ``setup_id``.

    Raises
    ------
    ValueError
        If ``include`` is empty or names something other than "states" and "events".
    FormatError
        If the log has none of the selected kinds, or breaks the pyControl layout.
    """
    path = Path(path)
    _check_options("include", include, _KINDS)
    table = _table(path)
    info, end_time = _info(table)
    states = table[table["type"] == "state"]
    events = table[table["type"] == "event"]
    last = end_time if end_time is not None else float(table["time"].max()) if len(table) else 0.0
    parts = []
    if "states" in include and len(states):
        start = states["time"].to_numpy(float)
        parts.append((start, np.append(start[1:], max(last, start[-1])),
                      states["content"].str.strip().to_numpy(), "state", np.full(start.size, "")))
    if "events" in include and len(events):
        start = events["time"].to_numpy(float)
        parts.append((start, start, events["content"].str.strip().to_numpy(), "event",
                      events["subtype"].str.strip().to_numpy()))
    if not parts:
        raise FormatError(f"no {' or '.join(t[:-1] for t in include)} rows (types found: "
                          f"{', '.join(sorted(set(table['type']))) or 'none'})", path=path)
    start = np.concatenate([p[0] for p in parts])
    order = np.argsort(start, kind="stable")
    ds = make_events(start[order], np.concatenate([p[1] for p in parts])[order],
                     label=np.concatenate([p[2] for p in parts]).astype(str)[order],
                     source_format="pycontrol", source_file=path)
    ds = ds.assign_coords(
        kind=("epoch", np.concatenate([np.full(p[0].size, p[3]) for p in parts])[order]),
        subtype=("epoch", np.concatenate([p[4] for p in parts]).astype(str)[order]))
    counts = table["type"].value_counts()
    start_time = info.get("start_time")
    attrs = {k: info[k] for k in ("task_name", "experiment_name", "setup_id",
                                  "framework_version") if info.get(k)}
    attrs.update({f"n_{kind}_rows": int(counts.get(kind, 0))
                  for kind in ("print", "variable", "warning", "error")})
    if end_time is None:
        attrs["last_state_end"] = "file's last time (no end_time info row)"
    return finalize_dataset(ds, modality="events", source_format="pycontrol", source_file=path,
                            subject=info.get("subject_id"),
                            session_start=(start_time + "+00:00") if start_time and
                            "+" not in start_time and not start_time.endswith("Z")
                            else start_time, event_kind="pyControl states and events", **attrs)


def _sniff(path: Path) -> bool:
    header = head_lines(path, 1)[0].rstrip("\r\n").split("\t")
    return [c.strip() for c in header] == list(_COLUMNS)
