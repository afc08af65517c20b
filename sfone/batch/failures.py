"""Failure handling of a batch, in one place.

A session fails in one of these ways; each becomes a row of ``out_dir/errors.csv``
(``subject, session, path, reason, error``) while the other sessions finish, and the command
exits with status 1:

``error``
    The task raised an exception (a bad file, a missing column): its message.
``killed``
    The process running the session died: killed by a signal (SIGKILL is what the system sends
    when memory runs out), crashed (SIGSEGV), or exited (``os._exit``); or the dask worker
    running it died. The session is not retried within the run.
``timeout``
    The session ran longer than its time limit; its process was killed.
``disk full``
    Writing the output failed for lack of space (``ENOSPC``), quota (``EDQUOT``) or the
    file-size limit (``EFBIG``, ``SIGXFSZ``). After a full disk or quota no further session is
    started: nothing more could be saved.
``not run``
    The session was not started because the disk was full.

A rerun of the same command runs each failed session once more (its output is missing) and
skips the finished ones; a session that kills its process fails again, in bounded time.
"""

from __future__ import annotations

import errno
import signal
from pathlib import Path

import pandas as pd

from .._atomic import no_space_reason, write_csv

__all__ = ["ERROR_COLUMNS", "REASONS", "exception_report", "error_report", "death_report", "timeout_report",
           "not_run_report", "cluster_failure_report", "stops_the_batch", "write_errors"]

ERROR_COLUMNS = ["subject", "session", "path", "reason", "error"]
REASONS = ("error", "killed", "timeout", "disk full", "not run")

#: signals a process dies of: what happened, and what it usually means
_SIGNALS = {
    signal.SIGKILL: ("was killed by SIGKILL", "the system does this when memory runs out, so the "
                     "session probably needs more memory than the machine has free"),
    signal.SIGSEGV: ("crashed (SIGSEGV)", "a segmentation fault in compiled code"),
    signal.SIGABRT: ("aborted (SIGABRT)", ""),
    signal.SIGBUS: ("crashed (SIGBUS)", ""),
    signal.SIGTERM: ("was terminated (SIGTERM)", ""),
}


def _failure(key, path, reason: str, error: str, **extra) -> dict:
    return {"key": tuple(key), "status": "failed", "path": str(path), "reason": reason,
            "error": " ".join(error.split()), **extra}


def exception_report(key: tuple[str, str], path: Path, exc: BaseException) -> dict:
    """The report of a session whose task raised ``exc`` (``disk full`` when it says so).

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
        ``{"key", "status": "failed", "path", "reason", "error"}``.
    """
    return error_report(key, path, f"{type(exc).__name__}: {exc}", exc)


def error_report(key: tuple[str, str], path: Path, message: str,
                 exc: BaseException | None = None) -> dict:
    """The report of a session that failed with ``message`` (``disk full`` when it says so).

    Parameters
    ----------
    key : (str, str)
        ``(subject, session)``.
    path : pathlib.Path
        The session's recording.
    message : str
        What went wrong (an exception's type and text).
    exc : BaseException, optional
        The exception itself, when there is one (its errno and causes are looked at).

    Returns
    -------
    dict
        ``{"key", "status": "failed", "path", "reason", "error"}``.
    """
    found = no_space_reason(exc if exc is not None else RuntimeError(message))
    if found is not None:
        text = message if found[1] in message else f"{found[1]}: {message}"
        return _failure(key, path, "disk full", text, errno=found[0])
    return _failure(key, path, "error", message)


def death_report(key: tuple[str, str], path: Path, returncode: int, seconds: float,
                 last_output: str = "") -> dict:
    """The report of a session whose process died with ``returncode``.

    Parameters
    ----------
    key : (str, str)
        ``(subject, session)``.
    path : pathlib.Path
        The session's recording.
    returncode : int
        The process's exit status (negative: the signal that ended it).
    seconds : float
        How long the session had run, in s.
    last_output : str, default ""
        The last line the process wrote to stderr, if any.

    Returns
    -------
    dict
        A failure with reason ``killed`` (``disk full`` for SIGXFSZ).
    """
    if returncode < 0:
        number = -returncode
        if number == signal.SIGXFSZ:
            return _failure(key, path, "disk full", "the process running the session was "
                            "killed by SIGXFSZ: an output reached the file-size limit "
                            f"(ulimit -f) after {seconds:.1f} s", errno=errno.EFBIG)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        what, meaning = _SIGNALS.get(number, (f"was killed by {name}", ""))
    else:
        what, meaning = f"exited with status {returncode} without reporting a result", ""
    error = f"the process running the session {what} after {seconds:.1f} s"
    if meaning:
        error += f"; {meaning}"
    if last_output:
        error += f"; its last output: {last_output[-300:]}"
    return _failure(key, path, "killed", error)


def timeout_report(key: tuple[str, str], path: Path, limit_s: float) -> dict:
    """The report of a session stopped at its time limit.

    Parameters
    ----------
    key : (str, str)
        ``(subject, session)``.
    path : pathlib.Path
        The session's recording.
    limit_s : float
        The time limit, in s.

    Returns
    -------
    dict
        A failure with reason ``timeout``.
    """
    return _failure(key, path, "timeout",
                    f"still running after its time limit of {limit_s:g} s, so its process was "
                    "killed; raise the limit with --time-limit (or the manifest column "
                    "time_limit_s) if the session needs longer")


def not_run_report(key: tuple[str, str], path: Path, because: dict) -> dict:
    """The report of a session not started because an earlier one found the disk full.

    Parameters
    ----------
    key : (str, str)
        ``(subject, session)``.
    path : pathlib.Path
        The session's recording.
    because : dict
        The ``disk full`` report that stopped the batch.

    Returns
    -------
    dict
        A failure with reason ``not run``.
    """
    subject, session = because["key"]
    return _failure(key, path, "not run",
                    f"not started: session {subject}/{session} found the disk full "
                    f"({because['error'][:200]}); free space, then run the batch again "
                    "(finished sessions are skipped)")


def cluster_failure_report(key: tuple[str, str], path: Path, exc: BaseException) -> dict:
    """The report of a session whose dask task failed outside sfone's control (the dask
    worker died, the connection to the scheduler was lost).

    Parameters
    ----------
    key : (str, str)
        ``(subject, session)``.
    path : pathlib.Path
        The session's recording.
    exc : BaseException
        What the future raised (e.g. ``distributed.KilledWorker``).

    Returns
    -------
    dict
        A failure with reason ``killed`` for a dead worker, else ``error``.
    """
    name = type(exc).__name__
    if name == "KilledWorker":
        return _failure(key, path, "killed", f"the dask worker running the session died "
                        f"({name}: {str(exc)[:300]})")
    return exception_report(key, path, exc)


def stops_the_batch(report: dict) -> bool:
    """True for a failure after which no further session should start (a full disk or quota).

    Parameters
    ----------
    report : dict
        A session's report.

    Returns
    -------
    bool
        Whether the disk (or quota) was full; a per-file size limit does not stop the batch.
    """
    return report.get("reason") == "disk full" and report.get("errno") in (errno.ENOSPC,
                                                                            errno.EDQUOT)


def write_errors(out_dir: Path, failed: list[dict]) -> Path:
    """Write ``out_dir/errors.csv``: one row per failed session (a header only when none).

    Parameters
    ----------
    out_dir : pathlib.Path
        The batch's output folder.
    failed : list of dict
        ``{"subject", "session", "path", "reason", "error"}`` per failed session.

    Returns
    -------
    pathlib.Path
        ``out_dir/errors.csv``.
    """
    return write_csv(pd.DataFrame(failed, columns=ERROR_COLUMNS), out_dir / "errors.csv")
