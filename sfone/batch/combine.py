"""Combine: what each session contributes (its summary) and the cohort tables made of them.

``combined.nc`` (when the task's combine gives a Dataset) and ``combined.csv`` (always, with the
manifest's columns beside subject and session) in ``out_dir``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from .._atomic import write_csv
from ..cohort import OPTIONAL_COLUMNS, Session
from .outputs import read_output
from .task import BatchTask

__all__ = ["session_summary", "combine_outputs"]


def session_summary(task: BatchTask, path: Path, output=None):
    """What a session contributes to the combined table, from its output as written (so that
    a fresh and a skipped session give the same), or None when the task combines nothing.

    A Dataset just written is summarised from memory with the attrs as netCDF stores them
    (:func:`sfone.io.netcdf_safe`) instead of being read back (0.1 s a session), unless it is
    lazy (dask); a table is always read back (its text is what the combined table must
    hold).

    Parameters
    ----------
    task : BatchTask
        The batch's task.
    path : pathlib.Path
        The session's output file.
    output : xarray.Dataset or pandas.DataFrame, optional
        The output just written (None: read it from ``path``).

    Returns
    -------
    xarray.Dataset, pandas.DataFrame or None
        ``task.summarize(output)`` (the output itself without ``summarize``); None when the
        task has no ``combine``.
    """
    from ..io import netcdf_safe

    if task.combine is None:
        return None
    in_memory = (isinstance(output, xr.Dataset) and path.suffix == ".nc"
                 and not any(v.chunks for v in output.variables.values()))  # lazy: read back
    if in_memory:
        output = netcdf_safe(output)
    else:
        output = read_output(path)
    return task.summarize(output) if task.summarize is not None else output


def _with_manifest_columns(table: pd.DataFrame, sessions: list[Session]) -> pd.DataFrame:
    """``table`` (rows keyed by subject and session) with every column the manifest gave
    (group, day, path, runs, ...), placed right after the session column."""
    if not {"subject", "session"} <= set(table.columns):
        return table
    order = ("group", "day", "path") + tuple(c for c in OPTIONAL_COLUMNS
                                             if c not in ("group", "day", "time_limit_s"))
    fields = [f for f in order
              if f not in table.columns and any(getattr(s, f) is not None for s in sessions)]
    if not fields:
        return table
    manifest = pd.DataFrame([{"subject": s.subject, "session": s.session,
                              **{f: "" if getattr(s, f) is None else str(getattr(s, f))
                                 for f in fields}} for s in sessions])
    merged = table.astype({"subject": str, "session": str}).merge(
        manifest, on=["subject", "session"], how="left", validate="many_to_one")
    columns = list(table.columns)
    at = columns.index("session") + 1
    return merged[columns[:at] + fields + columns[at:]]


def combine_outputs(task: BatchTask, out_dir: Path, summaries: dict,
                    sessions: list[Session] = ()) -> list[Path]:
    """Write ``combined.nc``/``combined.csv`` from the sessions' summaries.

    Parameters
    ----------
    task : BatchTask
        The batch's task (its ``combine``).
    out_dir : pathlib.Path
        The batch's output folder.
    summaries : dict of (str, str) to summary
        What each session contributes (:func:`session_summary`), keyed by
        ``(subject, session)``.
    sessions : list of Session, default ()
        The manifest's sessions (their columns join the combined table).

    Returns
    -------
    list of pathlib.Path
        The files written (none when the task combines nothing or no session succeeded).
    """
    from ..io import write_dataset

    if task.combine is None or not summaries:
        return []
    combined = task.combine(dict(sorted(summaries.items())))
    written = []
    if isinstance(combined, xr.Dataset):
        written.append(write_dataset(combined, out_dir / "combined.nc"))
        combined = combined.to_dataframe().reset_index()
    combined = _with_manifest_columns(combined, list(sessions))
    return written + [write_csv(combined, out_dir / "combined.csv")]
