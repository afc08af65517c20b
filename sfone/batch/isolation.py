"""Each session runs in a process of its own, which the dask worker starts and watches.

A session that kills its process (out of memory, ``os._exit``, a crash in compiled code) or
runs past its time limit then costs only that process: the dask worker reports the session
as failed (:mod:`sfone.batch.failures`), starts a fresh process for the next one and never
restarts, so the batch goes on. The process (``python -m sfone.batch._child``) is kept
between sessions, so sfone is imported once per worker, not once per session; it has its own
process group (a timeout kills whatever the task started too) and ends when its worker does.
"""

from __future__ import annotations

import atexit
import collections
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ._child import READY, read_message, write_message
from .failures import death_report, error_report, exception_report, timeout_report

__all__ = ["SessionProcess", "run_isolated", "START_TIMEOUT_S"]

_START = "from sfone.batch._child import main; main()"
START_TIMEOUT_S = 300.0  # for the session process to import sfone (a busy node, a slow disk)
_TIMED_OUT = object()


def _read_with_timeout(stream, timeout_s: float | None):
    """The next message of ``stream``, None at its end, or ``_TIMED_OUT``."""
    answers: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: answers.put(read_message(stream)), daemon=True).start()
    try:
        return answers.get(timeout=timeout_s)
    except queue.Empty:
        return _TIMED_OUT


class SessionProcess:
    """A ``python -m sfone.batch._child`` process serving one worker thread.

    Parameters
    ----------
    python : str, optional
        The interpreter (default: the running one).
    """

    def __init__(self, python: str | None = None):
        env = {**os.environ, "SFONE_PROGRESS": "0"}
        self.proc = subprocess.Popen([python or sys.executable, "-c", _START],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, start_new_session=True)
        self._stderr = collections.deque(maxlen=20)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self._ready = False

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip()[:500])

    def alive(self) -> bool:
        """True while the process runs.

        Returns
        -------
        bool
        """
        return self.proc.poll() is None

    def last_output(self) -> str:
        """The last non-empty line the process wrote to stderr ("" if none).

        Returns
        -------
        str
        """
        self._drain.join(timeout=2)  # after a death: the last lines are still in the pipe
        return next((line.strip() for line in reversed(self._stderr) if line.strip()), "")

    def kill(self) -> None:
        """Kill the process and everything it started (its process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()

    def close(self) -> None:
        """Let the process end (its stdin closes), killing it if it does not within 5 s."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()

    def call(self, payload: bytes, time_limit_s: float | None) -> tuple:
        """Send one request and wait for its answer.

        Parameters
        ----------
        payload : bytes
            The pickled request (see :mod:`sfone.batch._child`).
        time_limit_s : float or None
            Seconds to wait for the answer (None: no limit).

        Returns
        -------
        tuple
            ``("answer", (status, value, warnings), seconds)``, ``("timeout", seconds)`` (the
            process was killed) or ``("died", returncode, seconds, last_output)``.
        """
        if not self._ready:  # the start (imports) does not count against the session's limit
            started = time.monotonic()
            ready = _read_with_timeout(self.proc.stdout, START_TIMEOUT_S)
            if ready != READY:
                if ready is _TIMED_OUT:
                    self.kill()
                return self._died(started)
            self._ready = True
        start = time.monotonic()
        try:
            write_message(self.proc.stdin, payload)
        except OSError:  # it died before reading (BrokenPipeError)
            return self._died(start)
        data = _read_with_timeout(self.proc.stdout, time_limit_s)
        if data is _TIMED_OUT:
            self.kill()
            return ("timeout", time.monotonic() - start)
        if data is None:
            return self._died(start)
        return ("answer", pickle.loads(data), time.monotonic() - start)

    def _died(self, start: float) -> tuple:
        try:
            returncode = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # closed its pipes but still runs: end it
            self.kill()
            returncode = self.proc.returncode
        return ("died", returncode, time.monotonic() - start, self.last_output())


_PROCESSES: dict[int, SessionProcess] = {}
_LOCK = threading.Lock()


def _close_all() -> None:
    """At the worker's exit: close the processes' stdin, so that they end (without waiting:
    the nanny kills a worker that takes long to stop)."""
    with _LOCK:
        processes = list(_PROCESSES.values())
        _PROCESSES.clear()
    for process in processes:
        try:
            process.proc.stdin.close()
        except OSError:
            pass


atexit.register(_close_all)


def _process() -> SessionProcess:
    ident = threading.get_ident()
    with _LOCK:
        process = _PROCESSES.get(ident)
        if process is None or not process.alive():
            process = _PROCESSES[ident] = SessionProcess()
        return process


def _discard(process: SessionProcess) -> None:
    with _LOCK:
        if _PROCESSES.get(threading.get_ident()) is process:
            del _PROCESSES[threading.get_ident()]


def run_isolated(function, key: tuple[str, str], path: Path, args: tuple,
                 time_limit_s: float | None) -> dict:
    """``function(*args)`` in this worker thread's session process; a report, never raises.

    This is the dask task of every session: ``function`` is
    :func:`sfone.batch.worker.run_session` or :func:`~sfone.batch.worker.summarize_existing`.

    Parameters
    ----------
    function : callable
        Returns the session's report (a dict); pickled with cloudpickle.
    key : (str, str)
        ``(subject, session)``.
    path : pathlib.Path
        The session's recording (named in a failure).
    args : tuple
        Arguments of ``function``.
    time_limit_s : float or None
        The session's time limit in s (None: no limit).

    Returns
    -------
    dict
        The session's report, with ``"warnings"``: the distinct ``(module, category,
        message)`` warnings raised while it ran.
    """
    import cloudpickle

    try:
        payload = pickle.dumps((list(sys.path), cloudpickle.dumps((function, args))),
                               protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return exception_report(key, path, exc)
    process = _process()
    outcome = process.call(payload, time_limit_s)
    if outcome[0] == "timeout":
        _discard(process)
        return timeout_report(key, path, time_limit_s)
    if outcome[0] == "died":
        _discard(process)
        _, returncode, seconds, last = outcome
        return death_report(key, path, returncode, seconds, last)
    status, value, caught = outcome[1]
    report = value if status == "ok" else error_report(key, path, value)
    report["warnings"] = caught
    return report
