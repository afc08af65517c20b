"""Failure handling of a batch, in one place: a failed session becomes a row of
``out_dir/errors.csv`` (subject, session, path, error) while the other sessions finish."""

from __future__ import annotations

import traceback
from pathlib import Path

import pandas as pd

from .._atomic import write_csv

__all__ = ["exception_report", "write_errors", "ERROR_COLUMNS"]

ERROR_COLUMNS = ["subject", "session", "path", "error"]


def exception_report(key: tuple[str, str], path: Path, exc: BaseException) -> dict:
    """The report of a session whose task raised ``exc``.

    Parameters
    ----------
    key : (str, str)
        ``(subject, session)``.
    path : pathlib.Path
        The session's recording.
    exc : BaseException
        What the task raised.

    Returns
    -------
    dict
        ``{"key", "status": "failed", "path", "error"}``.
    """
    return {"key": key, "status": "failed", "path": str(path),
            "error": f"{type(exc).__name__}: {exc}",
            "where": traceback.format_exc(limit=-1).strip().splitlines()[-1]}


def write_errors(out_dir: Path, failed: list[dict]) -> Path:
    """Write ``out_dir/errors.csv``: one row per failed session (a header only when none).

    Parameters
    ----------
    out_dir : pathlib.Path
        The batch's output folder.
    failed : list of dict
        ``{"subject", "session", "path", "error"}`` per failed session.

    Returns
    -------
    pathlib.Path
        ``out_dir/errors.csv``.
    """
    return write_csv(pd.DataFrame(failed, columns=ERROR_COLUMNS), out_dir / "errors.csv")
