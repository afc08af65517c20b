"""Where and how each session's output is stored: ``out_dir/sessions/<subject>__<session>``.

The file name is built from slugs of the manifest's names (``[A-Za-z0-9._-]``), so it stays
inside ``out_dir``; a Dataset is written as ``.nc``, a table as ``.csv``, both atomically.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import xarray as xr

from .._atomic import read_csv, write_csv
from ..cohort import Session

__all__ = ["MAX_NAME", "output_stem", "shortened", "check_distinct_stems", "existing_output", "write_output",
           "read_output"]


#: longest output file name (without suffix) used as it is, in characters (ASCII slugs)
MAX_NAME = 120


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def _name(session: Session) -> str:
    return f"{_slug(session.subject)}__{_slug(session.session)}"


def shortened(session: Session) -> bool:
    """True when the session's names are too long for its output file name as they are.

    Parameters
    ----------
    session : Session
        The session.

    Returns
    -------
    bool
        Whether :func:`output_stem` shortened the name.
    """
    return len(_name(session)) > MAX_NAME


def output_stem(out_dir: Path, session: Session) -> Path:
    """``out_dir/sessions/<subject>__<session>``: the slugs keep it inside ``out_dir``.

    A name longer than :data:`MAX_NAME` characters (a file name has at most 255 bytes, and
    the temporary file of an atomic write adds the host name and more) keeps its first 100
    characters and gets a hash of the full names instead of the rest, so that it stays unique
    and the same in every run.

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
    name = _name(session)
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(f"{session.subject}\0{session.session}".encode()).hexdigest()
        name = f"{name[:100].rstrip('-_.')}-{digest[:16]}"
    return out_dir / "sessions" / name


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
