"""The real ``sfone`` command in a subprocess (exit codes, signals, resource limits), and the
generated inputs those tests need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def sfone_env(*extra_path: Path) -> dict[str, str]:
    """The environment of a subprocess that runs this checkout's sfone (plus ``extra_path``)."""
    path = [str(ROOT), *map(str, extra_path)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "SFONE_PROGRESS": "0"}


def run_sfone(args, cwd: Path, *, extra_path: tuple[Path, ...] = (), timeout: float = 300,
              **kwargs) -> subprocess.CompletedProcess:
    """``python -m sfone ARGS`` in ``cwd``; stdout and stderr captured as text."""
    return subprocess.run([sys.executable, "-m", "sfone", *map(str, args)], cwd=cwd,
                          env=sfone_env(*extra_path), capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def suite2p_plane(folder: Path, n_rois: int, n_frames: int) -> Path:
    """A suite2p session folder (float32 F and Fneu): about ``8 * n_rois * n_frames`` bytes of
    traces in its netCDF output."""
    plane = folder / "suite2p" / "plane0"
    plane.mkdir(parents=True)
    rng = np.random.default_rng(1)
    np.save(plane / "F.npy", (300 + rng.standard_normal((n_rois, n_frames))).astype(np.float32))
    np.save(plane / "Fneu.npy", (100 + rng.standard_normal((n_rois, n_frames))).astype(np.float32))
    np.save(plane / "iscell.npy", np.column_stack([np.ones(n_rois), rng.random(n_rois)]))
    np.save(plane / "ops.npy", np.array({"fs": 10.0, "nplanes": 1}, dtype=object),
            allow_pickle=True)
    return folder
