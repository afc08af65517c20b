"""Where and how each session's output is stored: ``out_dir/sessions/<subject>__<session>``.

The file name is built from slugs of the manifest's names (``[A-Za-z0-9._-]``), so it stays
inside ``out_dir``; a Dataset is written as ``.nc``, a table as ``.csv``, both atomically.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import xarray as xr

from .._atomic import read_csv, write_csv
from ..cohort import Session

__all__ = ["output_stem", "check_distinct_stems", "existing_output", "write_output",
           "read_output"]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def output_stem(out_dir: Path, session: Session) -> Path:
    """``out_dir/sessions/<subject>__<session>``: the slugs keep it inside ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        The batch's output folder.
    session : Session
        The session.

    Returns
    -------
    pathlib.Path
        The output path without its suffix.
    """
    return out_dir / "sessions" / f"{_slug(session.subject)}__{_slug(session.session)}"


def check_distinct_stems(stems: dict[tuple[str, str], Path]) -> None:
    """Refuse two sessions whose names would give the same output file.

    Parameters
    ----------
    stems : dict of (str, str) to pathlib.Path
        ``(subject, session) -> output stem``.

    Raises
    ------
    ValueError
        Naming both sessions, when two stems are equal.
    """
    by_stem: dict[Path, tuple[str, str]] = {}
    for key, stem in stems.items():
        if stem in by_stem:
            raise ValueError(f"sessions {by_stem[stem]} and {key} would both write "
                             f"{stem.name}: rename one in the manifest")
        by_stem[stem] = key


def existing_output(stem: Path) -> Path | None:
    """The session's earlier output (``.nc`` or ``.csv``), if any.

    Parameters
    ----------
    stem : pathlib.Path
        The session's output stem (:func:`output_stem`).

    Returns
    -------
    pathlib.Path or None
        The existing output file, or None.
    """
    for suffix in (".nc", ".csv"):
        if stem.with_suffix(suffix).exists():
            return stem.with_suffix(suffix)
    return None


def write_output(result, stem: Path) -> Path:
    """Write a task's result atomically: a Dataset as ``<stem>.nc``, a table as ``<stem>.csv``.

    Parameters
    ----------
    result : xarray.Dataset or pandas.DataFrame
        What the task returned.
    stem : pathlib.Path
        The session's output stem.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If ``result`` is neither a Dataset nor a DataFrame.
    """
    from ..io import write_dataset

    if isinstance(result, xr.Dataset):
        return write_dataset(result, stem.with_suffix(".nc"))
    if isinstance(result, pd.DataFrame):
        return write_csv(result, stem.with_suffix(".csv"))
    raise TypeError(f"batch task returned {type(result).__name__}; expected Dataset or DataFrame")


def read_output(path: Path):
    """A session output as written (a table's text as the task returned it).

    Parameters
    ----------
    path : pathlib.Path
        A ``.nc`` or ``.csv`` written by :func:`write_output`.

    Returns
    -------
    xarray.Dataset or pandas.DataFrame
        The output, in memory.
    """
    if path.suffix == ".nc":
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    return read_csv(path)  # the text as the task returned it, before the formula neutralising
