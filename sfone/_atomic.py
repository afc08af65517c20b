"""Atomic outputs: write to a temporary sibling, then rename; a failure leaves no partial file.

A write that fails because the disk is full (or a quota or file-size limit is reached) raises
an :class:`OSError` naming the destination and the reason (:func:`no_space_reason`); a Ctrl-C
during a write always ends it with :class:`KeyboardInterrupt` and nothing written, even when
the interrupt lands in code that would swallow it (a weakref callback, a ``__del__``).

:func:`write_csv` is sfone's one CSV writer: atomic, one float policy (shortest text that reads
back to the same float, unless a format is asked for), and text cells that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) written
with a leading ``'`` so that they show as text.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["atomic_path", "write_csv", "read_csv", "neutralize_formula", "restore_formula",
           "no_space_reason"]

#: errno -> what it means for an output; HDF5 reports the errno only in its message text
NO_SPACE = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded",
            errno.EFBIG: "file size limit reached"}
_NO_SPACE_TEXT = {"no space left on device": errno.ENOSPC,
                  "disk quota exceeded": errno.EDQUOT, "file too large": errno.EFBIG}

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for attempt in range(10):  # a writer's last threads may still be creating files in it
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                return
            time.sleep(0.02 * (attempt + 1))
    elif path.exists() or path.is_symlink():
        path.unlink()


def _owner_tag() -> str:
    return f"{socket.gethostname().replace('.', '_')}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def _remove_stale_parts(dest: Path) -> None:
    """Remove temporary outputs for ``dest`` left by killed writers on this host."""
    host = socket.gethostname().replace(".", "_")
    for part in dest.parent.glob(f".{glob.escape(dest.name)}.{glob.escape(host)}-*.part"):
        pid = part.name[len(dest.name) + len(host) + 3:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            _remove(part)


def no_space_reason(exc: BaseException) -> tuple[int, str] | None:
    """``(errno, reason)`` when ``exc`` (or an exception it was raised from) says the disk is
    full, a quota or the file-size limit (``ulimit -f``) is reached; None otherwise.

    Parameters
    ----------
    exc : BaseException
        The exception of a failed write (an :class:`OSError`, or h5py's ``RuntimeError``
        whose message holds ``errno = 28``).

    Returns
    -------
    (int, str) or None
        The errno (``ENOSPC``, ``EDQUOT`` or ``EFBIG``) and its meaning, e.g.
        ``(28, "disk full")``.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        code = getattr(exc, "errno", None)
        if code in NO_SPACE:
            return code, NO_SPACE[code]
        text = str(exc).lower()
        for number in NO_SPACE:
            if f"errno = {number}," in text or f"errno = {number})" in text:
                return number, NO_SPACE[number]
        for phrase, number in _NO_SPACE_TEXT.items():
            if phrase in text:
                return number, NO_SPACE[number]
        exc = exc.__cause__ or exc.__context__
    return None


def _no_space_error(exc: BaseException, dest: Path) -> OSError | None:
    """A one-line :class:`OSError` naming ``dest`` for a write that ran out of space."""
    found = no_space_reason(exc)
    if found is None:
        return None
    code, reason = found
    message = (f"{dest}: cannot write it: {reason} ({os.strerror(code)}); nothing was written "
               f"and an earlier {dest.name}, if any, is unchanged")
    cls = type(exc) if isinstance(exc, OSError) else OSError
    try:
        return cls(code, message)
    except TypeError:  # an OSError subclass with another constructor
        return OSError(code, message)


@contextlib.contextmanager
def _sigint_blocked():
    """Hold SIGINT back (this thread) for the block; it is delivered right after."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _interrupt_seen():
    """Yield a callable telling whether Ctrl-C (SIGINT) arrived inside the block.

    The interrupt is raised as usual; the flag catches the case where the library being run
    swallowed it (a KeyboardInterrupt raised inside a weakref callback or a ``__del__`` is
    only printed), so that the write can still end as interrupted. Only in the main thread
    and only over Python's own (or another callable) SIGINT handler.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):  # SIG_IGN or SIG_DFL: nothing is raised, nothing to catch
        yield lambda: False
        return
    hits = []
    unraisable = sys.unraisablehook

    def handler(signum, frame):
        hits.append(signum)
        previous(signum, frame)

    def quiet(info):  # the swallowed interrupt and its fallout: not worth a traceback
        if not hits and not issubclass(info.exc_type, KeyboardInterrupt):
            unraisable(info)

    signal.signal(signal.SIGINT, handler)
    sys.unraisablehook = quiet
    try:
        yield lambda: bool(hits)
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = unraisable


@contextlib.contextmanager
def atomic_path(dest):
    """Yield a temporary path next to ``dest``; on success it replaces ``dest`` atomically.

    Works for files and folders (zarr stores). On any exception the temporary output is removed
    and an existing ``dest`` is left untouched; a disk-full, quota or file-size failure is
    raised as an :class:`OSError` naming ``dest``. A Ctrl-C during the write ends it with
    :class:`KeyboardInterrupt` and no output, even if the writer swallowed the interrupt. A
    writer killed outright (SIGKILL, power loss) leaves only a hidden
    ``.<name>.<host>-<pid>.*.part`` next to ``dest``, which the next write of ``dest`` on this
    host removes.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(dest)
    with _sigint_blocked():  # no Ctrl-C between creating the name and owning it
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.{_owner_tag()}.", suffix=".part",
                                        dir=dest.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()  # the writer creates it (as a file or a folder)
    try:
        with _interrupt_seen() as interrupted:
            try:
                yield tmp
            except Exception as exc:
                clear = _no_space_error(exc, dest)
                if clear is None:
                    raise
                raise clear from exc
            if interrupted():  # the writer swallowed the KeyboardInterrupt: end as interrupted
                raise KeyboardInterrupt
        if not tmp.exists():
            raise RuntimeError(f"the writer produced no output for {dest}")
        if tmp.is_dir() and dest.exists():
            backup = dest.with_name(f".{dest.name}.old")
            _remove(backup)
            os.replace(dest, backup)
            os.replace(tmp, dest)
            _remove(backup)
        else:
            os.replace(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise


_MAYBE_FORMULA = "'*[" + re.escape("".join(FORMULA_STARTS)) + "]"
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _formula_core(value) -> bool:
    """Whether ``value`` is text that, without its leading ``'`` (any number), starts a formula."""
    if not isinstance(value, str):
        return False
    core = value.lstrip("'")
    return core.startswith(FORMULA_STARTS) and not _DECIMAL.fullmatch(core)


def neutralize_formula(value):
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula.

    Numbers, and text that is a decimal number (``"-1.5"``, ``"+3"``, ``"-1e-3"``), are returned
    unchanged. Text that already starts with ``'`` before a formula (``"'=x"``) gets one more,
    so that :func:`restore_formula` gives back exactly the original text.
    """
    if _formula_core(value) and (value.startswith(FORMULA_STARTS) or value.startswith("'")):
        return "'" + value
    return value


def restore_formula(value):
    """The inverse of :func:`neutralize_formula`: the text as it was before :func:`write_csv`."""
    if _formula_core(value) and value.startswith("'"):
        return value[1:]
    return value


def read_csv(path, **kwargs):
    """Read a CSV that :func:`write_csv` wrote, with its text cells and header as they were
    before the formula neutralising (``kwargs`` go to :func:`pandas.read_csv`)."""
    import pandas as pd

    table = pd.read_csv(path, **kwargs)
    table.columns = [restore_formula(c) for c in table.columns]
    for column in table.columns:
        if pd.api.types.is_object_dtype(table[column]) or pd.api.types.is_string_dtype(
                table[column]):
            table[column] = table[column].map(restore_formula)
    return table


def _neutralized(table):
    import pandas as pd

    out = table.copy(deep=False)
    text = [c for c in out.columns if not (pd.api.types.is_numeric_dtype(out[c])
                                           or pd.api.types.is_datetime64_any_dtype(out[c]))]
    for column in text:
        values = out[column]
        try:  # a vectorised first look: only cells that may start a formula go through Python
            maybe = values.str.match(_MAYBE_FORMULA, na=False).to_numpy(dtype=bool)
        except AttributeError:  # no text at all in the column (.str refuses it)
            continue
        if maybe.any():
            values = values.astype(object)
            values[maybe] = [neutralize_formula(v) for v in values[maybe]]
            out[column] = values
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.MultiIndex.from_tuples(
            [tuple(neutralize_formula(v) for v in key) for key in out.columns])
    else:
        out.columns = [neutralize_formula(c) for c in out.columns]
    if not pd.api.types.is_numeric_dtype(out.index):
        out.index = out.index.map(neutralize_formula).set_names(out.index.names)
    return out


def write_csv(table, path, *, float_format: str | None = None, index: bool = False,
              na_rep: str = "", lineterminator: str = "\n", preamble: str = "") -> Path:
    """Write a DataFrame as CSV atomically and return the path.

    Every CSV file sfone writes goes through this function (``tests/test_security_csv_outputs.py``
    fails on a ``to_csv``, ``csv.writer`` or ``savetxt`` elsewhere in ``sfone/``; the two
    exceptions, the Inscopix and Oxymax layouts, neutralise their text cells themselves).

    Parameters
    ----------
    table : pandas.DataFrame
    path : str or Path
    float_format : str, optional
        printf format for floats. The float policy of sfone's outputs (labels, summaries,
        endpoints, statistics, tracks, batch tables) is the default, ``None``: the shortest
        text that reads back to the same float (Python's ``repr``), so no output loses
        precision and ``0.1`` is written ``0.1``. A format is given only by writers of a file
        format that fixes the precision (the vendor exports :mod:`sfone.simulate` emulates,
        the runs CSV's microseconds, CalR's ``%.15g``, which is R's ``write.csv``).
    index : bool
        Write the index as the first column(s).
    na_rep : str
        Text for missing values (empty by default).
    lineterminator : str
        ``"\\n"`` by default.
    preamble : str
        Text written before the header line (metadata lines of a format, e.g. ``# key: value``
        lines); written as given.

    Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return get a leading
    ``'`` (spreadsheet formula injection, OWASP), in the body, the header and a text index;
    numeric cells and text that is a decimal number (``"-1.5"``) are written as they are.
    """
    import csv

    path = Path(path)
    safe = _neutralized(table)
    # the csv module quotes a cell holding "\n" but not one holding "\r", which readers then
    # take for a line break: quote every text cell of such a (rare) table
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe, index) else csv.QUOTE_MINIMAL
    with atomic_path(path) as tmp:
        if preamble:
            tmp.write_text(preamble, encoding="utf-8", newline="")
        safe.to_csv(tmp, mode="a" if preamble else "w", index=index, float_format=float_format,
                    na_rep=na_rep, lineterminator=lineterminator, quoting=quoting)
    return path


def _has_carriage_return(table, index: bool) -> bool:
    import pandas as pd

    parts = [pd.Series(table.columns.to_flat_index().map(str))]
    parts += [table[c] for c in table.columns if table[c].dtype == object
              or pd.api.types.is_string_dtype(table[c])]
    if index:
        parts.append(pd.Series(table.index.to_flat_index().map(str)))
    for part in parts:
        try:
            if part.astype(object).str.contains("\r", regex=False, na=False).any():
                return True
        except AttributeError:  # no text in the column (.str refuses it)
            continue
    return False
