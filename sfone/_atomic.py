"""Atomic outputs: write to a temporary sibling, then rename; a failure leaves no partial file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_path"]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def atomic_path(dest):
    """Yield a temporary path next to ``dest``; on success it replaces ``dest`` atomically.

    Works for files and folders (zarr stores). On any exception the temporary output is removed
    and an existing ``dest`` is left untouched.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
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
