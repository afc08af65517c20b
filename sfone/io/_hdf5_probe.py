"""A corrupted HDF5 file can crash the HDF5 C library itself (a segmentation fault while
reading an attribute, seen on a fixture with flipped bytes): no Python ``try`` catches that,
and the crash takes the whole command (or a batch worker) with it.

:func:`probe_hdf5` therefore walks the file's structure in a child process first: every group,
every dataset's dtype and shape, every attribute value (what pynwb/hdmf, h5netcdf and the
readers touch when they open a file). When the child dies by a signal, or takes longer than
``PROBE_TIMEOUT_S``, the file is refused with a one-line :class:`~sfone.exceptions.FormatError`
and the caller never opens it. The child imports only h5py (about 0.2 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ..exceptions import FormatError

__all__ = ["probe_hdf5", "PROBE_TIMEOUT_S"]

#: longest a structure walk may take (s); a well-formed file takes well under a second
PROBE_TIMEOUT_S = 60.0

#: files already walked in this process, by (path, size, modification time): detection and
#: reading probe the same file once
_PROBED: set[tuple[str, int, int]] = set()

_WALK = """
import sys
import h5py
def visit(name, obj):
    for key in obj.attrs:
        obj.attrs[key]
    if isinstance(obj, h5py.Dataset):
        obj.dtype, obj.shape
with h5py.File(sys.argv[1], "r", locking=False) as fh:
    for key in fh.attrs:
        fh.attrs[key]
    fh.visititems(visit)
"""


def probe_hdf5(path) -> None:
    """Walk the HDF5 file at ``path`` in a child process; raise :class:`FormatError` when the
    HDF5 library crashes on it or the walk takes longer than :data:`PROBE_TIMEOUT_S`.

    Errors the library reports cleanly (a truncated file, a bad signature) are left to the
    reader, which names them in its own words.

    Parameters
    ----------
    path : str or pathlib.Path
        An HDF5 file (netCDF-4, NWB, ``.doric``, CaImAn ``.hdf5``).

    Raises
    ------
    FormatError
        The child process was killed by a signal (the library crashed) or timed out.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _PROBED:
        return
    env = {k: v for k, v in os.environ.items() if k.startswith(("HDF5_", "LD_", "PATH"))}
    try:
        done = subprocess.run([sys.executable, "-c", _WALK, str(path)], capture_output=True,
                              timeout=PROBE_TIMEOUT_S, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise FormatError(f"reading the HDF5 structure took longer than {PROBE_TIMEOUT_S:g} s "
                          "(a corrupted or hostile file?); not opened", path=path) from None
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        raise FormatError(f"the HDF5 library crashed ({name}) reading this file's structure: "
                          "the file is corrupted; not opened", path=path)
    _PROBED.add(key)
