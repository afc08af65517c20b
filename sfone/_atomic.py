"""Atomic outputs: write to a temporary sibling, then rename; a failure leaves no partial file."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import tempfile
from pathlib import Path

__all__ = ["atomic_path"]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
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


@contextlib.contextmanager
def atomic_path(dest):
    """Yield a temporary path next to ``dest``; on success it replaces ``dest`` atomically.

    Works for files and folders (zarr stores). On any exception the temporary output is removed
    and an existing ``dest`` is left untouched. A writer killed outright (SIGKILL, power loss)
    leaves only a hidden ``.<name>.<host>-<pid>.*.part`` next to ``dest``, which the next
    write of ``dest`` on this host removes.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(dest)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.{_owner_tag()}.", suffix=".part",
                                    dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # the writer creates it (as a file or a folder)
    try:
        yield tmp
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
