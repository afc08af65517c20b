"""Safe ``.npy`` loading for suite2p outputs: memory-mapped arrays and pickled dicts.

Numeric arrays (``F``, ``Fneu``, ``spks``, ``iscell``) are memory-mapped (no copy until used).
``stat.npy``, ``ops.npy``, ``db.npy``, ``settings.npy``, ``reg_outputs.npy`` and
``detect_outputs.npy`` are *pickled object arrays* (a list of dicts / one dict) — suite2p writes
them with ``np.save`` of Python objects. ``np.load(allow_pickle=True)`` would run any code named
in such a file, so sfone unpickles them with an allow-list (:mod:`sfone.io._safe_pickle`): a file
naming anything else is a :class:`FormatError`, and nothing in it runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...exceptions import FormatError
from .._safe_pickle import load_object_npy

__all__ = ["load_array", "load_pickled", "load_dict"]


def load_array(path: Path, *, mmap: bool = True) -> np.ndarray:
    """Load a numeric ``.npy`` file, memory-mapped; FormatError if truncated or not numeric.

    The file is always mapped first, so a header declaring more data than the file holds is an
    error before anything is allocated (``mmap=False`` then copies it into memory)."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise FormatError(f"missing file {path.name} (expected a suite2p output array)",
                          path=path) from None
    except (ValueError, OSError, EOFError) as exc:
        if "Python objects" in str(exc):
            raise FormatError(f"{path.name} holds Python objects, expected a numeric array",
                              path=path) from None
        raise FormatError(f"cannot read {path.name}: {exc} (truncated or not a .npy array?)",
                          path=path) from exc
    if isinstance(array, np.ndarray) and array.dtype.kind not in "biuf":
        raise FormatError(f"{path.name} holds {array.dtype} values; expected numbers (integer, "
                          "float or bool)", path=path)
    if not isinstance(array, np.ndarray):  # np.load gives an NpzFile for a zip archive
        array.close()
        raise FormatError(f"{path.name} is an .npz archive (a zip file), "
                          "expected a .npy array", path=path)
    return array if mmap else np.array(array)


def load_pickled(path: Path):
    """Load a pickled object ``.npy`` (suite2p's ``stat``/``ops``/``db``/``settings``) with the
    restricted unpickler; FormatError naming the file for anything suite2p does not write."""
    return load_object_npy(path)


def load_dict(path: Path) -> dict:
    """Load a pickled dict saved as a 0-d object array (``ops.npy``, ``settings.npy``, ...)."""
    value = load_pickled(path)
    if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
        value = value.item()
    if not isinstance(value, dict):
        raise FormatError(f"{path.name} holds {type(value).__name__}, expected a dict", path=path)
    return value
