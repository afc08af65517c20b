"""Build ``data_samples/``: small simulated files in real formats, byte-for-byte reproducible.

Every module of :mod:`sfone.simulate` that defines ``write_samples(out_dir) -> list[Path]`` is
called in name order. Each must seed its own random generator and write no timestamps, so the
same sfone version always produces identical bytes (a test checks this).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from .._logging import progress

__all__ = ["write_samples", "sample_modules"]


def sample_modules() -> list[str]:
    """Names of the simulate modules that contribute sample files."""
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
    """Write every sample file into ``out_dir`` and return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in progress(sample_modules(), desc="sample files", unit="module"):
        written += importlib.import_module(name).write_samples(out_dir)
    return written
