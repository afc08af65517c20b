"""Run the real suite2p 1.x pipeline (extra ``suite2p``) and read its outputs.

suite2p (and torch) are imported inside :func:`run_suite2p` only. Importing suite2p creates
``~/.suite2p/settings/``; set ``HOME`` to a scratch folder if that matters (tests do).
"""

from __future__ import annotations

import copy
from pathlib import Path

import xarray as xr

from .exceptions import FormatError

__all__ = ["run_suite2p", "suite2p_settings"]


def _merge(base: dict, overrides: dict) -> dict:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def suite2p_settings(*, fs: float, tau: float = 1.0, diameter: float = 6.0,
                     nonrigid: bool = False, device: str = "cpu",
                     settings: dict | None = None) -> dict:
    """suite2p 1.x ``default_settings()`` with sfone's defaults and nested ``settings`` merged.

    ``nonrigid`` is off by default: suite2p's default 128-pixel blocks crash on small frames.

    Parameters
    ----------
    fs : float
        Frame rate per plane (Hz).
    tau : float, default 1.0
        Indicator decay time (s).
    diameter : float, default 6.0
        Expected cell diameter (pixels).
    nonrigid : bool, default False
        Non-rigid registration.
    device : str, default "cpu"
        torch device.
    settings : dict, optional
        Nested overrides merged last.

    Returns
    -------
    dict
        suite2p 1.x settings (nested).
    """
    import suite2p

    merged = copy.deepcopy(suite2p.default_settings())
    merged.update(fs=float(fs), tau=float(tau), diameter=[float(diameter), float(diameter)],
                  torch_device=device)
    merged["registration"]["nonrigid"] = bool(nonrigid)
    return _merge(merged, settings or {})


def run_suite2p(movie_paths, out_dir, *, fs: float, tau: float = 1.0, diameter: float = 6.0,
                nplanes: int = 1, nonrigid: bool = False, device: str = "cpu",
                settings: dict | None = None) -> xr.Dataset:
    """Run suite2p 1.x on TIFF movies and return :func:`~sfone.io.imaging.suite2p.read_suite2p`.

    Parameters
    ----------
    movie_paths : path or list of paths
        TIFF files, all in one folder (suite2p reads the folder's files in name order).
    out_dir : str or Path
        ``save_path0``; outputs go to ``out_dir/suite2p/planeN/``.
    fs : float
        Frame rate per plane in Hz.
    tau : float
        Indicator decay time in s (GCaMP6s ~1.0, GCaMP6f ~0.7).
    diameter : float
        Expected cell diameter in pixels.
    nplanes : int
        Interleaved planes in the movie.
    nonrigid : bool
        Non-rigid registration (needs frames larger than its 128-pixel blocks).
    device : str
        torch device, ``"cpu"`` by default.
    settings : dict, optional
        Nested overrides of suite2p's settings (``{"detection": {"threshold_scaling": 0.5}}``).

    Returns
    -------
    xarray.Dataset
        Imaging Dataset of the output (see :func:`~sfone.io.imaging.suite2p.read_suite2p`).

    Raises
    ------
    ImportError
        Without suite2p 1.x (extra ``suite2p``).
    FormatError
        If a movie file is missing or none is given.
    ValueError
        If the movies are in different folders.
    """
    try:
        import suite2p
    except ImportError as exc:
        raise ImportError("run_suite2p needs suite2p 1.x: pip install 'sfone[suite2p]'") from exc
    from .io.imaging.suite2p import read_suite2p

    paths = [Path(p) for p in ([movie_paths] if isinstance(movie_paths, str | Path)
                               else movie_paths)]
    missing = [p for p in paths if not p.exists()]
    if missing or not paths:
        raise FormatError(f"movie file(s) not found: {missing or 'none given'}")
    folders = {p.parent for p in paths}
    if len(folders) != 1:
        raise ValueError(f"the movies must share one folder, got {sorted(map(str, folders))}")
    db = suite2p.default_db()
    db.update(data_path=[str(folders.pop())], save_path0=str(out_dir), nplanes=int(nplanes),
              file_list=[str(p) for p in paths], input_format="tif")
    run_settings = suite2p_settings(fs=fs, tau=tau, diameter=diameter, nonrigid=nonrigid,
                                    device=device, settings=settings)
    suite2p.run_s2p(db=db, settings=run_settings)
    return read_suite2p(Path(out_dir) / db["save_folder"])
