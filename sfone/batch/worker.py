"""What runs for one session (task, output, summary), in the session process of a dask worker
(:mod:`sfone.batch.isolation`): a report that never raises, so that one bad session never
stops the batch (see :mod:`sfone.batch.failures`)."""

from __future__ import annotations

from pathlib import Path

from ..cohort import Session
from .combine import session_summary
from .failures import error_report, exception_report
from .outputs import write_output
from .task import BatchTask

__all__ = ["run_session", "summarize_existing"]


def run_session(task: BatchTask, session: Session, stem: Path) -> dict:
    """Run the task on ``session``, write its output, summarise it; never raise.

    Parameters
    ----------
    task : BatchTask
        The batch's task.
    session : Session
        The session to run.
    stem : pathlib.Path
        Its output stem.

    Returns
    -------
    dict
        ``{"key", "status": "done", "output", "summary"}``, or a failure report
        (:func:`sfone.batch.failures.exception_report`).
    """
    try:
        output = task.run(session)
        path = write_output(output, stem)
        return {"key": session.key, "status": "done", "output": str(path),
                "summary": session_summary(task, path, output)}
    except Exception as exc:  # recorded in errors.csv; the batch goes on
        return exception_report(session.key, session.path, exc)


def summarize_existing(task: BatchTask, key: tuple[str, str], path: Path) -> dict:
    """The summary of a session skipped as done, from its earlier output; never raise.

    Parameters
    ----------
    task : BatchTask
        The batch's task.
    key : (str, str)
        ``(subject, session)``.
    path : pathlib.Path
        The earlier output.

    Returns
    -------
    dict
        ``{"key", "status": "skipped", "summary"}``, or a failure naming the unreadable file.
    """
    try:
        return {"key": key, "status": "skipped", "summary": session_summary(task, path)}
    except Exception as exc:  # an unreadable earlier output: the session counts as failed
        return error_report(key, path, f"earlier output {path.name} unreadable "
                                       f"({type(exc).__name__}: {exc}); re-run with --force")
