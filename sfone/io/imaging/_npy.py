"""Safe ``.npy`` loading for suite2p outputs: memory-mapped arrays and pickled dicts.

Numeric arrays (``F``, ``Fneu``, ``spks``, ``iscell``) are memory-mapped (no copy until used).
``stat.npy``, ``ops.npy``, ``db.npy``, ``settings.npy``, ``reg_outputs.npy`` and
``detect_outputs.npy`` are *pickled object arrays* (a list of dicts / one dict) — suite2p writes
them with ``np.save`` of Python objects, so they can only be read with ``allow_pickle=True``.
Unpickling runs code named in the file, so sfone does it only for these suite2p files, never for
the numeric arrays, and turns every unpickling failure into a :class:`FormatError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...exceptions import FormatError

__all__ = ["load_array", "load_pickled", "load_dict"]


def load_array(path: Path, *, mmap: bool = True) -> np.ndarray:
    """Load a numeric ``.npy`` file, memory-mapped; FormatError if truncated or not numeric."""
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise FormatError(f"missing file {path.name} (expected a suite2p output array)",
                          path=path) from None
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"cannot read {path.name}: {exc} (truncated or not a .npy array?)",
                          path=path) from exc
    if array.dtype == object:
        raise FormatError(f"{path.name} holds Python objects, expected a numeric array", path=path)
    return array


def load_pickled(path: Path):
    """Load a pickled object ``.npy`` (suite2p's ``stat``/``ops``/``db``/``settings``)."""
    try:
        return np.load(path, allow_pickle=True)
    except FileNotFoundError:
        raise FormatError(f"missing file {path.name}", path=path) from None
    except Exception as exc:  # unpickling can raise nearly anything (EOFError, UnpicklingError, ...)
        raise FormatError(f"cannot unpickle {path.name}: {type(exc).__name__}: {exc} "
                          "(truncated, corrupted, or written by an incompatible Python/NumPy)",
                          path=path) from exc


def load_dict(path: Path) -> dict:
    """Load a pickled dict saved as a 0-d object array (``ops.npy``, ``settings.npy``, ...)."""
    value = load_pickled(path)
    if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
        value = value.item()
    if not isinstance(value, dict):
        raise FormatError(f"{path.name} holds {type(value).__name__}, expected a dict", path=path)
    return value
