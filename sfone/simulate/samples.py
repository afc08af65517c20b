"""Build ``data_samples/``: small simulated files in real formats, reproducible.

Every module of :mod:`sfone.simulate` that defines ``write_samples(out_dir) -> list[Path]`` is
called in name order. Each must seed its own random generator and write no timestamps, so the
same sfone version always produces identical files: byte for byte for the formats whose bytes
sfone writes itself (CSV, ``.npy``, ``.ppd``), and identical decoded content for HDF5 files
(``.hdf5``, ``.doric``), whose bytes depend on the installed HDF5 library. An existing HDF5
sample whose content is unchanged keeps its bytes, so regenerating on another HDF5 release leaves
the checkout unmodified.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import tempfile
from pathlib import Path

from .._atomic import atomic_path
from .._hdf5 import HDF5_SUFFIXES, same_hdf5_content
from .._logging import logger, progress

__all__ = ["write_samples", "sample_modules"]


def sample_modules() -> list[str]:
    """Names of the simulate modules that contribute sample files.

    Returns
    -------
    list of str
        Module names, sorted.
    """
    from .. import simulate

    names = []
    for info in sorted(pkgutil.iter_modules(simulate.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "samples":
            continue
        module = importlib.import_module(f"{simulate.__name__}.{info.name}")
        if hasattr(module, "write_samples"):
            names.append(module.__name__)
    return names


def write_samples(out_dir) -> list[Path]:
    """Write every sample file into ``out_dir`` and return their paths.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder (created if needed); unchanged HDF5 samples keep their bytes.

    Returns
    -------
    list of pathlib.Path
        Every file or folder written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sfone-samples-") as kept:
        previous = _set_aside_hdf5(out_dir, Path(kept))
        for name in progress(sample_modules(), desc="sample files", unit="module"):
            written += importlib.import_module(name).write_samples(out_dir)
        _restore_unchanged_hdf5(previous, out_dir)
    return written


def _set_aside_hdf5(out_dir: Path, kept: Path) -> dict[Path, Path]:
    """Copy the existing HDF5 samples aside: ``{sample path: copy}``."""
    previous = {}
    for i, path in enumerate(sorted(p for p in out_dir.rglob("*")
                                    if p.is_file() and p.suffix.lower() in HDF5_SUFFIXES)):
        previous[path] = kept / f"{i}{path.suffix}"
        shutil.copy2(path, previous[path])
    return previous


def _restore_unchanged_hdf5(previous: dict[Path, Path], out_dir: Path) -> None:
    """Put back the old bytes of every HDF5 sample whose decoded content did not change."""
    for path, copy in previous.items():
        if path.exists() and same_hdf5_content(path, copy):
            with atomic_path(path) as tmp:
                shutil.copy2(copy, tmp)
            logger.debug("%s: content unchanged, kept its bytes", path.relative_to(out_dir))
