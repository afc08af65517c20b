"""Simulated imaging with known ground truth, and writers of the real imaging formats.

* :func:`simulate_movie` / :func:`write_movie_tiff`: a tiny two-photon-like movie (int16) with
  gaussian cells carrying calcium transients, for running the real suite2p on it.
* :func:`simulate_session`: a contract-valid imaging Dataset (``F``, ``Fneu``, ``spks``) with
  known cells, positions and spike trains.
* :func:`write_suite2p`, :func:`write_caiman_hdf5`, :func:`write_inscopix_csv`: write any
  imaging Dataset in those formats (see :mod:`sfone.io.imaging._writers`).
* :func:`write_samples`: the imaging files of ``data_samples/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from scipy import signal

from ..io.imaging._writers import write_caiman_hdf5, write_inscopix_csv, write_suite2p
from ..schema import finalize_dataset

__all__ = ["simulate_movie", "write_movie_tiff", "simulate_session", "write_suite2p",
           "write_caiman_hdf5", "write_inscopix_csv", "write_samples", "SAMPLE_SEED"]

SAMPLE_SEED = 20261121


def _calcium(spikes: np.ndarray, *, fs: float, tau: float) -> np.ndarray:
    """AR(1) calcium response to spike counts ``(n, T)``: decay time ``tau`` (s)."""
    decay = np.exp(-1.0 / (tau * fs))
    return signal.lfilter([1.0], [1.0, -decay], spikes, axis=-1)


def _grid_centres(n: int, shape: tuple[int, int], margin: float, rng) -> np.ndarray:
    side = int(np.ceil(np.sqrt(n)))
    ys = np.linspace(margin, shape[0] - margin, side)
    xs = np.linspace(margin, shape[1] - margin, side)
    grid = np.array([(y, x) for y in ys for x in xs])[:n]
    return grid + rng.uniform(-1.0, 1.0, grid.shape)


def simulate_movie(*, n_frames: int = 300, shape: tuple[int, int] = (64, 64),
                   n_cells: int = 9, fs: float = 10.0, tau: float = 1.0,
                   cell_sigma: float = 2.0, rate_hz: float = 0.4, random_state=0
                   ) -> tuple[np.ndarray, dict]:
    """A small int16 movie ``(n_frames, Ly, Lx)`` with gaussian cells on a jittered grid.

    Parameters
    ----------
    n_frames : int, default 300
        Frames.
    shape : (int, int), default (64, 64)
        Frame size ``(Ly, Lx)`` (pixels).
    n_cells : int, default 9
        Gaussian cells.
    fs : float, default 10.0
        Frame rate (Hz).
    tau : float, default 1.0
        Calcium decay time (s).
    cell_sigma : float, default 2.0
        Gaussian cell radius (pixels).
    rate_hz : float, default 0.4
        Spike rate (Hz).
    random_state : int or numpy.random.Generator, default 0
        Seed.

    Returns
    -------
    movie : numpy.ndarray
        int16 frames (baseline ~200, Poisson-like noise).
    truth : dict
        ``centres`` ``(n_cells, 2)`` as (y, x) pixels, ``spikes`` and ``calcium``
        ``(n_cells, n_frames)``, ``fs`` (Hz), ``tau`` (s).
    """
    rng = np.random.default_rng(random_state)
    centres = _grid_centres(n_cells, shape, margin=3 * cell_sigma + 4, rng=rng)
    spikes = rng.poisson(rate_hz / fs, (n_cells, n_frames)).astype(float)
    calcium = _calcium(spikes, fs=fs, tau=tau)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    blobs = np.exp(-((yy[None] - centres[:, 0, None, None]) ** 2
                     + (xx[None] - centres[:, 1, None, None]) ** 2) / (2 * cell_sigma**2))
    activity = np.einsum("ct,cyx->tyx", 60.0 * calcium + 30.0, blobs)
    movie = 200.0 + activity + rng.normal(0.0, 6.0, activity.shape)
    truth = {"centres": centres, "spikes": spikes, "calcium": calcium, "fs": fs, "tau": tau}
    return np.clip(movie, 0, 2**15 - 2).astype(np.int16), truth


def write_movie_tiff(movie: np.ndarray, path) -> Path:
    """Write ``movie`` ``(frames, Ly, Lx)`` as a multi-page TIFF (what suite2p reads).

    Parameters
    ----------
    movie : numpy.ndarray
        ``(frames, Ly, Lx)`` frames.
    path : str or os.PathLike
        Output TIFF (written atomically).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import tifffile

    from .._atomic import atomic_path

    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, movie, photometric="minisblack")
    return Path(path)


def simulate_session(*, n_rois: int = 20, n_frames: int = 2000, fs: float = 10.0,
                     n_noncells: int = 4, tau: float = 1.0, shape: tuple[int, int] = (128, 128),
                     random_state=0) -> xr.Dataset:
    """A suite2p-like imaging session with known truth, as a contract-valid Dataset.

    ``F = 100 + 80 * calcium + 0.7 * Fneu + noise`` for cells; the last ``n_noncells`` ROIs
    carry no spikes and have ``iscell`` False. ``spks`` is the true spike count per frame,
    ``y``/``x`` the true centres (pixels). The true spike count per ROI is the coord
    ``true_spike_count``; ``fs`` in Hz, ``neuropil_coefficient`` 0.7.

    Parameters
    ----------
    n_rois : int, default 20
        ROIs (cells plus non-cells).
    n_frames : int, default 2000
        Frames.
    fs : float, default 10.0
        Frame rate (Hz).
    n_noncells : int, default 4
        Last ROIs without spikes, ``iscell`` False.
    tau : float, default 1.0
        Calcium decay time (s).
    shape : (int, int), default (128, 128)
        Field of view (pixels).
    random_state : int or numpy.random.Generator, default 0
        Seed.

    Returns
    -------
    xarray.Dataset
        Imaging Dataset: ``F``, ``Fneu`` (a.u.) and ``spks`` (spikes/frame) over ``(roi, time)``,
        time in s; coordinates ``iscell``, ``iscell_prob``, ``y``/``x``/``radius`` (pixels),
        ``true_spike_count``.
    """
    rng = np.random.default_rng(random_state)
    is_cell = np.arange(n_rois) < n_rois - n_noncells
    rates = np.where(is_cell, rng.uniform(0.1, 0.5, n_rois), 0.0)
    spikes = rng.poisson(rates[:, None] / fs, (n_rois, n_frames)).astype(np.float32)
    calcium = _calcium(spikes, fs=fs, tau=tau)
    fneu = 50.0 + np.cumsum(rng.normal(0, 0.3, (1, n_frames)), axis=1) + rng.normal(
        0, 1.0, (n_rois, n_frames))
    F = 100.0 + 80.0 * calcium + 0.7 * fneu + rng.normal(0, 2.0, (n_rois, n_frames))
    centres = _grid_centres(n_rois, shape, margin=10, rng=rng)
    prob = np.where(is_cell, rng.uniform(0.6, 1.0, n_rois), rng.uniform(0.0, 0.4, n_rois))
    ds = xr.Dataset(
        {"F": (("roi", "time"), F.astype(np.float32), {"units": "a.u."}),
         "Fneu": (("roi", "time"), fneu.astype(np.float32), {"units": "a.u."}),
         "spks": (("roi", "time"), spikes, {"units": "spikes/frame"})},
        coords={"roi": np.arange(n_rois),
                "time": ("time", np.arange(n_frames) / fs, {"units": "s"}),
                "iscell": ("roi", is_cell), "iscell_prob": ("roi", prob, {"units": "1"}),
                "y": ("roi", centres[:, 0].round(), {"units": "pixel"}),
                "x": ("roi", centres[:, 1].round(), {"units": "pixel"}),
                "radius": ("roi", np.full(n_rois, 4.0), {"units": "pixel"}),
                "true_spike_count": ("roi", spikes.sum(axis=1).astype(int))},
        attrs={"fs": float(fs), "tau": float(tau), "neuropil_coefficient": 0.7,
               "Ly": shape[0], "Lx": shape[1], "frames_per_file": [n_frames // 2,
                                                                   n_frames - n_frames // 2],
               "file_list": ["sim_000.tif", "sim_001.tif"]})
    return finalize_dataset(ds, modality="imaging", source_format="simulated",
                            source_file="<simulate_session>", random_state=str(random_state))


def write_samples(out_dir) -> list[Path]:
    """The imaging sample files: ONE simulated session in three formats.

    * ``imaging_suite2p_session/suite2p/plane0/`` (suite2p 1.x layout)
    * ``imaging_caiman_session.hdf5`` (CaImAn, float32 traces)
    * ``imaging_inscopix_session.csv`` (IDPS cell-set traces)

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder written into.

    Returns
    -------
    list of pathlib.Path
        The suite2p folder, the CaImAn file and the Inscopix CSV.
    """
    out_dir = Path(out_dir)
    session = simulate_session(random_state=SAMPLE_SEED)
    return [write_suite2p(session, out_dir / "imaging_suite2p_session").parent,
            write_caiman_hdf5(session, out_dir / "imaging_caiman_session.hdf5",
                              dtype=np.float32),
            write_inscopix_csv(session, out_dir / "imaging_inscopix_session.csv")]
