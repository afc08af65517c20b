"""Writers of the real imaging formats from any contract-valid imaging Dataset.

Used by :mod:`sfone.simulate.imaging` (sample files, cohorts) and by tests. Files are
byte-for-byte reproducible: no timestamps, fixed attribute order, HDF5 ``track_times=False``.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import xarray as xr
from scipy import sparse

from ..._atomic import atomic_path, neutralize_formula
from ..._validate import _check_option
from ...schema import validate

__all__ = ["write_suite2p", "write_caiman_hdf5", "write_inscopix_csv"]

_DEFAULT_RADIUS = 3.0  # pixels, when the Dataset has no radius coordinate


def _roi_values(ds: xr.Dataset, name: str, default) -> np.ndarray:
    if name in ds.coords:
        return np.asarray(ds[name].values)
    return np.full(ds.sizes["roi"], default)


def _frame_size(ds: xr.Dataset) -> tuple[int, int]:
    if "Ly" in ds.attrs and "Lx" in ds.attrs:
        return int(ds.attrs["Ly"]), int(ds.attrs["Lx"])
    y, x = _roi_values(ds, "y", 0.0), _roi_values(ds, "x", 0.0)
    return int(np.nanmax(y, initial=0) + 16), int(np.nanmax(x, initial=0) + 16)


def _disk(cy: float, cx: float, radius: float, shape: tuple[int, int]):
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    inside = yy**2 + xx**2 <= radius**2
    ypix, xpix = (yy[inside] + int(round(cy))), (xx[inside] + int(round(cx)))
    keep = (ypix >= 0) & (ypix < shape[0]) & (xpix >= 0) & (xpix < shape[1])
    return ypix[keep], xpix[keep]


def _stat(ds: xr.Dataset, rows: np.ndarray, plane: int, shape) -> np.ndarray:
    y, x = _roi_values(ds, "y", np.nan)[rows], _roi_values(ds, "x", np.nan)[rows]
    radius = _roi_values(ds, "radius", _DEFAULT_RADIUS)[rows]
    stat = []
    for cy, cx, r in zip(y, x, radius, strict=True):
        ypix, xpix = _disk(cy, cx, float(r), shape)
        lam = np.full(ypix.size, 1.0 / max(ypix.size, 1), dtype=np.float32)
        stat.append({"ypix": ypix, "xpix": xpix, "lam": lam, "med": [float(cy), float(cx)],
                     "npix": int(ypix.size), "radius": float(r), "iplane": plane})
    out = np.empty(len(stat), dtype=object)
    out[:] = stat
    return out


def _metadata(ds: xr.Dataset, *, plane: int, nplanes: int, shape, legacy: bool) -> dict:
    n_frames = ds.sizes["time"]
    frames = ds.attrs.get("frames_per_file", [n_frames])
    files = ds.attrs.get("file_list", [f"file{i:03d}.tif" for i in range(len(frames))])
    common = {"Ly": shape[0], "Lx": shape[1], "nframes": n_frames, "nplanes": nplanes,
              "fs": float(ds.attrs["fs"]), "tau": float(ds.attrs.get("tau", 1.0))}
    coefficient = float(ds.attrs.get("neuropil_coefficient", 0.7))
    if legacy:
        return {"ops.npy": {**common, "neucoeff": coefficient, "baseline": "maximin",
                            "win_baseline": 60.0, "sig_baseline": 10.0, "prctile_baseline": 8.0,
                            "frames_per_file": np.asarray(frames), "filelist": list(files)}}
    db = {"nplanes": nplanes, "nchannels": 1, "iplane": plane, "Ly": shape[0],
          "Lx": shape[1], "nframes": n_frames, "frames_per_file": np.asarray(frames),
          "file_list": list(files)}
    settings = {"fs": common["fs"], "tau": common["tau"], "version": "written-by-sfone",
                "extraction": {"neuropil_coefficient": coefficient},
                "dcnv_preprocess": {"baseline": "maximin", "win_baseline": 60.0,
                                    "sig_baseline": 10.0, "prctile_baseline": 8.0}}
    # suite2p 1.x also writes planeN/ops.npy: db, settings and outputs merged (roiextractors
    # and NeuroConv require it, reading fs, nframes, Ly, Lx)
    ops = {**db, **settings, "fs": common["fs"], "nframes": n_frames}
    return {"db.npy": db, "settings.npy": settings, "ops.npy": ops}


def _save_object(path: Path, value) -> None:
    np.save(path, np.array(value, dtype=object), allow_pickle=True)


def _write_plane(ds: xr.Dataset, folder: Path, rows: np.ndarray, plane: int, nplanes: int,
                 shape, legacy: bool) -> None:
    folder.mkdir(parents=True)
    for var in ("F", "Fneu", "spks"):
        if var in ds:
            np.save(folder / f"{var}.npy", np.asarray(ds[var].values[rows], dtype=np.float32))
    iscell = _roi_values(ds, "iscell", True)[rows].astype(np.float64)
    prob = _roi_values(ds, "iscell_prob", np.nan)[rows].astype(np.float64)
    np.save(folder / "iscell.npy", np.stack([iscell, np.where(np.isnan(prob), iscell, prob)], 1))
    if "y" in ds.coords and "x" in ds.coords:
        _save_object(folder / "stat.npy", _stat(ds, rows, plane, shape))
    for name, value in _metadata(ds, plane=plane, nplanes=nplanes, shape=shape,
                                 legacy=legacy).items():
        _save_object(folder / name, value)


def write_suite2p(ds: xr.Dataset, out_dir, *, layout: str = "1.x") -> Path:
    """Write ``ds`` as a suite2p output folder ``out_dir/suite2p/planeN/`` and return it.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset with ``F`` (optionally ``Fneu``, ``spks``), ``fs``; optional coords
        ``iscell_prob``, ``y``/``x`` (pixels, written as ``stat['med']`` with a disk mask of
        ``radius``), ``plane`` (one ``planeN`` folder per plane).
    out_dir : str or os.PathLike
        Folder that receives ``suite2p/``.
    layout : {"1.x", "0.14"}
        ``"1.x"``: ``db.npy`` + nested ``settings.npy`` and, per plane, the merged ``ops.npy``
        suite2p 1.x writes; ``"0.14"``: the legacy flat ``ops.npy`` only.

    Returns
    -------
    pathlib.Path
        The ``suite2p`` folder written.

    Raises
    ------
    ValueError
        If ``layout`` is not "1.x" or "0.14".
    SchemaError
        If ``ds`` is not a contract-valid Dataset.
    """
    _check_option("layout", layout, ("1.x", "0.14"))
    validate(ds)
    out_dir = Path(out_dir)
    planes = _roi_values(ds, "plane", 0).astype(int)
    shape = _frame_size(ds)
    unique = np.unique(planes)
    with atomic_path(out_dir / "suite2p") as tmp:
        for plane in unique:
            _write_plane(ds, tmp / f"plane{plane}", np.flatnonzero(planes == plane), int(plane),
                         len(unique), shape, legacy=layout == "0.14")
        if layout == "1.x":
            meta = _metadata(ds, plane=0, nplanes=len(unique), shape=shape, legacy=False)
            _save_object(tmp / "db.npy", {k: v for k, v in meta["db.npy"].items()
                                          if k in ("nplanes", "nchannels", "file_list")})
            _save_object(tmp / "settings.npy", meta["settings.npy"])
    return out_dir / "suite2p"


def _footprints(ds: xr.Dataset, dims: tuple[int, int]) -> sparse.csc_matrix:
    """Gaussian footprints (SD = radius / 2) at the ROI centroids, pixels in Fortran order."""
    y, x = _roi_values(ds, "y", dims[0] / 2), _roi_values(ds, "x", dims[1] / 2)
    radius = _roi_values(ds, "radius", _DEFAULT_RADIUS)
    columns = []
    for cy, cx, r in zip(y, x, radius, strict=True):
        ypix, xpix = _disk(cy, cx, 2.0 * float(r), dims)
        weight = np.exp(-((ypix - cy) ** 2 + (xpix - cx) ** 2) / (2 * (r / 2.0) ** 2))
        columns.append(sparse.csc_matrix((weight, (ypix + xpix * dims[0],
                                                   np.zeros(ypix.size, int))),
                                         shape=(dims[0] * dims[1], 1)))
    return sparse.hstack(columns, format="csc")


def _dataset(group, name: str, value, dtype=None) -> None:
    group.create_dataset(name, data=np.asarray(value, dtype=dtype), track_times=False)


def write_caiman_hdf5(ds: xr.Dataset, path, *, dtype=np.float64) -> Path:
    """Write ``ds`` as a CaImAn ``cnm.save`` HDF5 file (``estimates``/``params`` groups).

    ``C`` is ``ds['C']`` when present, else ``F``; ``YrA = F - C`` so that the reader's
    ``F = C + YrA`` returns ``F``; ``S`` is ``spks`` (zeros when absent); ``A`` holds gaussian
    footprints at ``y``/``x``; accepted components (``idx_components``) are ``iscell``.

    Parameters
    ----------
    ds : xarray.Dataset
        Contract-valid imaging Dataset (``F``; optionally ``C``, ``spks``, ``y``/``x`` in pixels).
    path : str or os.PathLike
        Output ``.hdf5`` file.
    dtype : numpy dtype, default numpy.float64
        Data type of the written ``C``, ``S`` and ``YrA`` arrays.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    validate(ds)
    F = np.asarray(ds["F"].values, dtype=float)
    C = np.asarray(ds["C"].values, dtype=float) if "C" in ds else F
    S = np.asarray(ds["spks"].values, dtype=float) if "spks" in ds else np.zeros_like(F)
    dims = _frame_size(ds)
    A = _footprints(ds, dims)
    iscell = _roi_values(ds, "iscell", True).astype(bool)
    none = np.bytes_(b"NoneType")
    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as f:
        _dataset(f, "dims", dims, np.int64)
        est = f.create_group("estimates", track_order=True)
        for name, value in (("C", C), ("S", S), ("YrA", F - C)):
            _dataset(est, name, value, dtype)
        _dataset(est, "F_dff", none)
        _dataset(est, "dims", dims, np.int64)
        _dataset(est, "idx_components", np.flatnonzero(iscell), np.int64)
        _dataset(est, "idx_components_bad", np.flatnonzero(~iscell), np.int64)
        group = est.create_group("A", track_order=True)
        for name in ("data", "indices", "indptr"):
            _dataset(group, name, getattr(A, name))
        _dataset(group, "shape", A.shape, np.int64)
        data = f.create_group("params", track_order=True).create_group("data", track_order=True)
        _dataset(data, "fr", float(ds.attrs["fs"]))
        _dataset(data, "decay_time", float(ds.attrs.get("tau", 0.4)))
        _dataset(data, "dims", dims, np.int64)
        data.attrs["caiman_version"] = "written-by-sfone"
    return Path(path)


def write_inscopix_csv(ds: xr.Dataset, path) -> Path:
    """Write ``F`` as an IDPS cell-set traces CSV (``", "`` separators, status row).

    Cell names are ``C`` + the ROI id zero-padded to the width of the largest id; the status is
    the ``status`` coord when present, else ``accepted``/``rejected`` from ``iscell``; when
    every status is ``unknown`` (no curation) the status row is left out, as in IDPS exports
    without it. Times are
    written with 16 and values with 7 significant digits, as isxcore does. The ``", "``
    separators are IDPS's, so this CSV is not written by :func:`sfone._atomic.write_csv`: its
    body is numbers only and its status texts get the same formula neutralising.

    Parameters
    ----------
    ds : xarray.Dataset
        Contract-valid imaging Dataset (``F`` over ``(roi, time)``, time in s).
    path : str or os.PathLike
        Output CSV.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    validate(ds)
    ids = np.asarray(ds["roi"].values).astype(int)
    width = max(2, len(str(ids.max(initial=0))))
    names = [f"C{i:0{width}d}" for i in ids]
    if "status" in ds.coords:
        status = [neutralize_formula(str(s)) for s in ds["status"].values]
    else:
        status = np.where(_roi_values(ds, "iscell", True).astype(bool), "accepted",
                          "rejected").tolist()
    table = np.column_stack([ds["time"].values, np.asarray(ds["F"].values, float).T])
    header = " , " + ", ".join(names)
    if set(status) != {"unknown"}:  # no curation at all: the export without the status row
        header += "\nTime(s)/Cell Status, " + ", ".join(status)
    with atomic_path(path) as tmp:
        np.savetxt(tmp, table, fmt=["%.16g"] + ["%.7g"] * len(names), delimiter=", ",
                   header=header, comments="", newline="\n")
    return Path(path)
