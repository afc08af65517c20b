"""Restricted unpickling of ``.npy`` object arrays (suite2p's ``stat``, ``ops``, ``settings``, ...).

``np.load(allow_pickle=True)`` runs whatever code a pickle names: a ``stat.npy`` from someone
else's folder can call ``os.system``. :func:`load_object_npy` reads the ``.npy`` header with
numpy's own format functions and unpickles the payload with an allow-list of exactly what
suite2p's files hold: numpy arrays, dtypes and scalars (spelled ``numpy.core`` by NumPy 1.x and
``numpy._core`` by NumPy 2), the built-in containers and numbers (no global needed), ``complex``
and ``slice``, and the ``datetime`` types of ``ops['date_proc']``. Any other global is refused
*before* it is looked up, so nothing named in the file is imported or called; the error names
the file and the refused ``module.name``.

A pickle can also refer to one object many times (memo references): a 23 kB file can describe
a list of a list of ... that a consumer (``str()``, ``np.asarray``) expands to gigabytes. The
unpickled value is therefore walked with :func:`sfone._guard.check_expansion` before it is
returned: at most ``MIN_NODES + file size`` objects reached (shared ones counted every time),
at most :func:`~sfone._guard.declared_limit` bytes of text and arrays, and ``MAX_DEPTH``
levels of nesting.
"""

from __future__ import annotations

import datetime
import pickle
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from .._guard import check_expansion, declared_limit, node_budget
from ..exceptions import FormatError

__all__ = ["ALLOWED_GLOBALS", "load_object_npy", "RefusedGlobal"]

try:  # NumPy 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # NumPy 1.x
    from numpy.core import multiarray as _multiarray


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle names a global outside the allow-list (``self.name`` is ``module.name``)."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"refused global {name}")


def _reconstruct(subtype, shape, dtype):
    """numpy's ``_reconstruct`` limited to what ``ndarray.__reduce__`` writes: an empty
    ``ndarray`` of shape ``(0,)`` that the following BUILD fills (so no huge allocation)."""
    if subtype is not np.ndarray or tuple(shape) != (0,):
        raise pickle.UnpicklingError(f"unexpected array reconstruction ({subtype!r}, {shape!r}); "
                                     "expected (numpy.ndarray, (0,))")
    return _multiarray._reconstruct(subtype, shape, dtype)


_NUMPY = {"_reconstruct": _reconstruct, "scalar": _multiarray.scalar}

#: ``module.name`` -> the object the unpickler gets instead of importing ``module``.
ALLOWED_GLOBALS = {
    **{f"{module}.{name}": value for module in ("numpy.core.multiarray", "numpy._core.multiarray")
       for name, value in _NUMPY.items()},
    "numpy.ndarray": np.ndarray,
    "numpy.dtype": np.dtype,
    "builtins.complex": complex,
    "builtins.slice": slice,
    "datetime.datetime": datetime.datetime,
    "datetime.timedelta": datetime.timedelta,
    "datetime.timezone": datetime.timezone,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        key = f"{module}.{name}"
        if key not in ALLOWED_GLOBALS:
            raise RefusedGlobal(key)
        return ALLOWED_GLOBALS[key]

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent ids are not allowed")


_READ_HEADER = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}


def _read_header(fh, path: Path) -> tuple[tuple, bool, np.dtype]:
    try:
        version = npy_format.read_magic(fh)
        if version not in _READ_HEADER:
            raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]} "
                             "(expected 1.0 or 2.0, which numpy writes for suite2p files)")
        return _READ_HEADER[version](fh)
    except ValueError as exc:
        raise FormatError(f"{path.name} is not a valid .npy file: {exc}", path=path) from exc


def load_object_npy(path) -> np.ndarray:
    """Read a ``.npy`` file whose array holds Python objects, without running code.

    Returns what ``np.load(path, allow_pickle=True)`` returns for a suite2p file (the object
    array). A numeric ``.npy`` is read with ``allow_pickle=False``. Raises :class:`FormatError`
    naming the file for a refused global (``module.name``), a damaged payload, or a payload
    whose shape or dtype differs from the header.
    """
    path = Path(path)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise FormatError(f"missing file {path.name}", path=path) from None
    with fh:
        shape, _, dtype = _read_header(fh, path)
        if not dtype.hasobject:
            return np.load(path, allow_pickle=False)
        try:
            value = _RestrictedUnpickler(fh, encoding="ASCII", fix_imports=True).load()
        except RefusedGlobal as exc:
            raise FormatError(
                f"{path.name} names the Python global {exc.name}, which is not something "
                "suite2p writes (numpy arrays, numbers, strings, lists, dicts, dates); refused "
                "without running it. Do not open this file with np.load(allow_pickle=True) "
                "unless you trust its author (see docs/security.md)", path=path) from None
        except MemoryError:
            raise FormatError(f"cannot unpickle {path.name}: it declares an object larger "
                              "than the memory available (corrupted or hostile)",
                              path=path) from None
        except Exception as exc:  # unpickling damaged data raises nearly anything
            raise FormatError(f"cannot unpickle {path.name}: {type(exc).__name__}: {exc} "
                              "(truncated or corrupted)", path=path) from exc
    size = path.stat().st_size
    check_expansion(value, what=f"the pickled payload of {path.name}", path=path,
                    max_nodes=node_budget(size), max_bytes=declared_limit(size))
    if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype != dtype:
        found = (f"an array of shape {value.shape}, dtype {value.dtype}"
                 if isinstance(value, np.ndarray) else type(value).__name__)
        raise FormatError(f"{path.name}: the header declares an array of shape {shape}, dtype "
                          f"{dtype}, but the pickled payload holds {found}", path=path)
    return value
