"""The session process: runs the batch sessions its dask worker sends (see
:mod:`sfone.batch.isolation`), one at a time, until its stdin closes or its parent dies.

Started as ``python -c "from sfone.batch._child import main; main()"``. Its first message is
:data:`READY`, once sfone is imported (a session's time limit does not count the start). Each
message on the pipes is an 8-byte big-endian length and a pickle. A request is
``(sys.path, cloudpickle.dumps((function, args)))``; the answer is ``(status, value,
warnings)`` with status ``"ok"`` (``value`` is what ``function(*args)`` returned) or
``"raised"`` (``value`` is the exception's text), and ``warnings`` the distinct
``(category module, category name, message)`` raised meanwhile. The protocol uses duplicates
of the original stdin and stdout; fd 0 then reads ``/dev/null`` and fd 1 writes to stderr, so
nothing a task reads or prints can corrupt it.
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import sys
import threading
import time
import warnings

_HEADER = struct.Struct(">Q")
READY = b"ready"  # the first message: imports done, a session's time limit may start
# the categories Python itself hides by default; everything else reaches the user
_HIDDEN = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def read_message(stream) -> bytes | None:
    """One message from ``stream``, or None at the end of the stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    size = _HEADER.unpack(header)[0]
    data = stream.read(size)
    return data if len(data) == size else None


def write_message(stream, data: bytes) -> None:
    """Write one message to ``stream`` and flush it."""
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(70)  # the dask worker is gone: nobody will read the result


def _call(function, args) -> tuple[str, object, list]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for category in _HIDDEN:
            warnings.filterwarnings("ignore", category=category)
        try:
            status, value = "ok", function(*args)
        except (Exception, SystemExit) as exc:
            status, value = "raised", f"{type(exc).__name__}: {exc}"
    distinct = dict.fromkeys((w.category.__module__, w.category.__qualname__, str(w.message))
                             for w in caught)
    return status, value, list(distinct)


def main() -> None:
    """Serve requests until stdin closes."""
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    from .._options import set_options
    from . import worker  # noqa: F401  (sfone, xarray, pandas: imported before the clock runs)

    set_options(progress=False)
    write_message(answers, READY)
    while True:
        request = read_message(requests)
        if request is None:
            return
        path, payload = pickle.loads(request)
        sys.path[:] = path
        try:
            function, args = pickle.loads(payload)
        except Exception as exc:  # the task's module is not importable here
            status, value, caught = "raised", f"{type(exc).__name__}: {exc}", []
        else:
            status, value, caught = _call(function, args)
        try:
            answer = pickle.dumps((status, value, caught), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            answer = pickle.dumps(("raised", "the session's result cannot be sent back "
                                   f"({type(exc).__name__}: {exc})", caught))
        write_message(answers, answer)
        del value, answer
        gc.collect()


if __name__ == "__main__":
    main()
