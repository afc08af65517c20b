"""suite2p output folders (``suite2p/planeN/``), both the <=0.14 and the 1.x layout.

* <=0.14: ``planeN/{F,Fneu,spks,iscell,stat,ops}.npy`` with a flat ``ops`` dict (``fs``,
  ``neucoeff``, ``frames_per_file``, ...).
* 1.x: the same arrays plus ``db.npy`` (recording layout), nested ``settings.npy`` (``fs``,
  ``settings['extraction']['neuropil_coefficient']``), ``reg_outputs.npy`` and
  ``detect_outputs.npy``; ``ops.npy`` is optional (a merged copy).

Only numpy is needed: suite2p itself is never imported. ``stat``/``ops``/``db``/``settings`` are
pickled; they are read with an allow-list unpickler that runs no code (see
:mod:`sfone.io.imaging._npy`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import xarray as xr

from ..._logging import logger, warn
from ...exceptions import DataRepairWarning, FormatError
from ...footprints import add_footprints, chunk_footprints, mask_centroids
from ...schema import finalize_dataset
from .._checks import check_positive_rate, check_sampling_rate, quality_issue
from ._common import imaging_dataset, maybe_chunk
from ._frame_rate import check_frame_rate_sources
from ._npy import load_array, load_dict, load_pickled

__all__ = ["read_suite2p", "find_plane_folders", "load_suite2p_metadata"]

_PLANE = re.compile(r"^plane(\d+)$")
OPTIONAL_TRACES = ("Fneu", "spks", "F_chan2", "Fneu_chan2")
_MASK_KEYS = ("ypix", "xpix", "lam")


def _plane_dirs(folder: Path) -> list[Path]:
    planes = [p for p in folder.iterdir() if p.is_dir() and _PLANE.match(p.name)]
    return sorted(planes, key=lambda p: int(_PLANE.match(p.name).group(1)))


def find_plane_folders(path, *, combined: bool = False) -> list[Path]:
    """Plane folders under ``path`` (a ``planeN`` folder, ``suite2p/``, or its parent).

    Parameters
    ----------
    path : str or os.PathLike
        A ``planeN`` folder, a ``suite2p`` folder or the folder above it.
    combined : bool, default False
        Return the ``combined`` folder (when it has ``F.npy``) instead of the planes.

    Returns
    -------
    list of pathlib.Path
        ``path`` itself when it holds ``F.npy``, else the plane folders in plane order (or the
        one ``combined`` folder).

    Raises
    ------
    FormatError
        If no such folder is found (not a suite2p output folder).
    """
    path = Path(path)
    if (path / "F.npy").exists():
        return [path]
    for root in (path, path / "suite2p"):
        if not root.is_dir():
            continue
        if combined:
            if (root / "combined" / "F.npy").exists():
                return [root / "combined"]
            continue
        planes = _plane_dirs(root)
        if planes:
            return planes
    what = "a combined/ folder" if combined else "planeN/ folders or F.npy"
    raise FormatError(f"not a suite2p output folder: found no {what} (missing F.npy)", path=path)


def load_suite2p_metadata(plane: Path) -> dict:
    """Merge the plane's ``ops`` / ``db`` / ``settings`` dicts into one flat view.

    The result has ``layout`` (``"1.x"`` or ``"<=0.14"``) and the merged keys; nested 1.x
    settings sections stay nested (``extraction``, ``dcnv_preprocess``, ...). The 1.x image
    outputs (``reg_outputs.npy``, ``detect_outputs.npy``) hold nothing the traces need and are
    not loaded.

    Parameters
    ----------
    plane : pathlib.Path
        A plane folder.

    Returns
    -------
    dict
        ``layout`` plus the merged ``ops``/``db``/``settings`` keys.
    """
    merged: dict = {}
    names = ("ops.npy", "db.npy", "settings.npy")
    found = [n for n in names if (plane / n).exists()]
    if not found:
        # e.g. Inscopix IDEAS keeps a snapshot such as ops_binary_conversion.npy
        found = sorted(p.name for p in plane.glob("ops*.npy"))
        if found:
            logger.info("%s: no ops.npy/settings.npy; using %s", plane, found)
    for name in found:
        merged.update(load_dict(plane / name))
    nested = isinstance(merged.get("extraction"), dict) or (plane / "settings.npy").exists()
    merged["layout"] = ("1.x" if nested else "<=0.14") if found else "unknown (no ops/settings)"
    merged["metadata_files"] = found
    return merged


def _neuropil_coefficient(meta: dict) -> float | None:
    extraction = meta.get("extraction")
    if isinstance(extraction, dict) and "neuropil_coefficient" in extraction:
        return float(extraction["neuropil_coefficient"])
    return float(meta["neucoeff"]) if "neucoeff" in meta else None


def _load_traces(plane: Path, mmap: bool) -> dict:
    traces = {"F": load_array(plane / "F.npy", mmap=mmap)}
    for name in OPTIONAL_TRACES:
        if (plane / f"{name}.npy").exists():
            traces[name] = load_array(plane / f"{name}.npy", mmap=mmap)
    shape = traces["F"].shape
    if len(shape) != 2:
        raise FormatError(f"F.npy has shape {shape}, expected (n_rois, n_frames)",
                          path=plane / "F.npy")
    for name, values in traces.items():
        if values.shape != shape:
            raise FormatError(f"{name}.npy has shape {values.shape} but F.npy has {shape}; "
                              "expected the same (n_rois, n_frames)", path=plane / f"{name}.npy")
    return traces


def _load_iscell(plane: Path, n_rois: int) -> tuple[np.ndarray, np.ndarray]:
    path = plane / "iscell.npy"
    if not path.exists():
        warn(f"{plane}: no iscell.npy; every ROI marked as a cell (iscell_prob NaN)",
             DataRepairWarning)
        return np.ones(n_rois, bool), np.full(n_rois, np.nan)
    iscell = np.asarray(load_array(path, mmap=False))
    if iscell.ndim == 1:
        iscell = np.stack([iscell, np.full(iscell.shape, np.nan)], axis=1)
    if iscell.shape[0] != n_rois:
        raise FormatError(f"iscell.npy has {iscell.shape[0]} rows but F.npy has {n_rois} ROIs",
                          path=path)
    return iscell[:, 0] > 0.5, iscell[:, 1].astype(float)


def _stat_masks(stat, path: Path):
    """Footprint pixels ``(roi, y, x, lam)`` of ``stat`` (``ypix``/``xpix``/``lam``) or None."""
    if not len(stat) or not all(all(k in s for k in _MASK_KEYS) for s in stat):
        logger.info("%s: stat entries lack %s; no footprints", path, "/".join(_MASK_KEYS))
        return None
    columns = [[np.asarray(s[key]).ravel() for s in stat] for key in _MASK_KEYS]
    sizes = [np.array([c.size for c in column]) for column in columns]
    bad = np.flatnonzero((sizes[0] != sizes[1]) | (sizes[0] != sizes[2]))
    if bad.size:
        i = int(bad[0])
        raise FormatError(f"stat[{i}] has {sizes[0][i]} ypix, {sizes[1][i]} xpix and "
                          f"{sizes[2][i]} lam values; expected one of each per pixel", path=path)
    y, x, lam = (np.concatenate(column) for column in columns)
    roi = np.repeat(np.arange(len(stat)), sizes[0])
    return roi, y, x, lam


def _load_stat(plane: Path, n_rois: int) -> tuple[dict, tuple | None]:
    path = plane / "stat.npy"
    if not path.exists():
        return {}, None
    stat = load_pickled(path)
    if len(stat) != n_rois or not all(isinstance(s, dict) for s in stat):
        raise FormatError(f"stat.npy holds {len(stat)} entries but F.npy has {n_rois} ROIs "
                          "(expected one dict per ROI)", path=path)
    out: dict = {}
    masks = _stat_masks(stat, path)
    if n_rois and all("med" in s for s in stat):
        med = np.array([s["med"] for s in stat], dtype=float).reshape(n_rois, 2)
        out["med_y"], out["med_x"] = (med[:, 0], "pixel"), (med[:, 1], "pixel")
    if masks is not None:  # the centroid: lam-weighted mean of ypix/xpix (mask_centroids)
        cy, cx = mask_centroids(*masks, n_rois)
        out["y"], out["x"] = (cy, "pixel"), (cx, "pixel")
    elif "med_y" in out:  # no ypix/xpix/lam: suite2p's med is all there is (logged)
        logger.info("%s: no footprints in stat; centroids y/x are stat['med']", path)
        out["y"], out["x"] = out["med_y"], out["med_x"]
    for key, units in (("npix", "pixel"), ("radius", "pixel")):
        if n_rois and all(key in s for s in stat):
            out[key] = (np.array([s[key] for s in stat], dtype=float), units)
    if n_rois and all("iplane" in s for s in stat):
        out["plane"] = (np.array([s["iplane"] for s in stat], dtype=int), None)
    return out, masks


def _load_redcell(plane: Path, n_rois: int) -> dict:
    path = plane / "redcell.npy"
    if not path.exists():
        return {}
    redcell = np.asarray(load_array(path, mmap=False))
    if redcell.shape[:1] != (n_rois,):
        raise FormatError(f"redcell.npy has shape {redcell.shape} but F.npy has {n_rois} ROIs",
                          path=path)
    return {"redcell": ((redcell[:, 0] if redcell.ndim == 2 else redcell) > 0.5, None)}


class _Plane(NamedTuple):
    folder: Path
    traces: dict  # name -> (n_rois, n_frames) memmap or dask array
    coords: dict  # name -> (values, units)
    iscell: np.ndarray
    prob: np.ndarray
    meta: dict
    masks: tuple | None  # (roi, y, x, lam) footprint pixels of this plane

    @property
    def n_rois(self) -> int:
        return self.traces["F"].shape[0]


#: frames read from every ROI to find the candidates for an all-zero F row
ZERO_ROW_PROBE = 64


def _zero_rows(f) -> np.ndarray:
    """Positions of the all-zero rows of ``f`` (numpy, memmap or dask) without a full pass.

    A row that is not zero in its first :data:`ZERO_ROW_PROBE` frames cannot be all zero, so
    only the first frames of every ROI are read (one page per row of a C-order memmap); the
    candidates (rows zero there) are then confirmed over all their frames, row by row.
    """
    head = np.asarray(f[:, :ZERO_ROW_PROBE])
    candidates = np.flatnonzero(~head.any(axis=1))
    if f.shape[1] <= ZERO_ROW_PROBE:
        return candidates
    return np.array([i for i in candidates if not np.asarray(f[i]).any()], dtype=np.int64)


def _check_zero_rows(f, plane: Path) -> None:
    """All-zero F rows (ROIs suite2p or its GUI emptied) are kept, with a QualityWarning."""
    zero = _zero_rows(f)
    if zero.size:
        shown = ", ".join(str(i) for i in zero[:10]) + (", ..." if zero.size > 10 else "")
        quality_issue(f"{zero.size} of {f.shape[0]} ROIs have an all-zero F row (ROI {shown}); "
                      "kept (mark them with iscell or drop them before analysis)",
                      path=plane / "F.npy")


def _read_plane(plane: Path, mmap: bool, chunks) -> _Plane:
    traces = _load_traces(plane, mmap)
    n_rois = traces["F"].shape[0]
    iscell, prob = _load_iscell(plane, n_rois)
    coords, masks = _load_stat(plane, n_rois)
    coords.update(_load_redcell(plane, n_rois))
    traces = {k: maybe_chunk(v, chunks) for k, v in traces.items()}
    return _Plane(plane, traces, coords, iscell, prob, load_suite2p_metadata(plane), masks)


def _meta_int(meta: dict, key: str, folder: Path) -> int:
    """``meta[key]`` as a whole number; FormatError naming the plane folder and the key."""
    value = meta[key]
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number) or number != int(number):
        raise FormatError(f"ops/db/settings '{key}' is {value!r}; expected a whole number",
                          path=folder)
    return int(number)


def _plane_index(folder: Path, meta: dict) -> int:
    match = _PLANE.match(folder.name)
    if match:
        return int(match.group(1))
    return _meta_int(meta, "iplane", folder) if "iplane" in meta else 0


def _concat(arrays: list):
    if len(arrays) == 1:
        return arrays[0]
    if any(type(a).__module__.startswith("dask") for a in arrays):
        import dask.array as da

        return da.concatenate(arrays, axis=0)
    return np.concatenate([np.asarray(a) for a in arrays], axis=0)


def _bruker_rate(folder: Path) -> tuple[float, dict] | None:
    """The rate of the Bruker PrairieView T-series the outputs sit in (its .xml / .env)."""
    from ._bruker import prairie_frame_rate

    root = folder.parent if _PLANE.match(folder.name) or folder.name == "combined" else folder
    n_planes = max(1, len(_plane_dirs(root))) if root.is_dir() else 1
    return prairie_frame_rate([folder, root, root.parent], n_planes=n_planes)


def _sampling_rate(meta: dict, fs: float | None, folder: Path) -> tuple[float, dict]:
    """Frame rate per plane (Hz) and where it came from: ``fs=``, ops/settings, or the Bruker
    PrairieView metadata beside the outputs."""
    if fs is not None:
        return check_positive_rate(fs, what="argument fs=", path=folder,
                                   modality="imaging"), {"fs_source": "fs="}
    if "fs" in meta:
        return check_positive_rate(meta["fs"], what="ops/settings 'fs'", path=folder,
                                   modality="imaging"), {
            "fs_source": ", ".join(meta["metadata_files"])}
    bruker = _bruker_rate(folder)
    if bruker is not None:
        rate, attrs = bruker
        return check_positive_rate(rate, what=attrs["fs_source"], path=folder,
                                   modality="imaging"), attrs
    if not meta.get("metadata_files"):
        raise FormatError("no frame rate: the folder has no ops.npy, settings.npy or db.npy "
                          "(outputs copied without them?) and no Bruker PrairieView .xml/.env "
                          "beside it; pass fs= (Hz)", path=folder)
    raise FormatError(f"no frame rate: {', '.join(meta['metadata_files'])} ha"
                      f"{'s' if len(meta['metadata_files']) == 1 else 've'} no 'fs' and no "
                      "Bruker PrairieView .xml/.env is beside the outputs; pass fs= (Hz)",
                      path=folder)


def _plane_attrs(meta: dict) -> dict:
    attrs = {"suite2p_layout": meta["layout"]}
    version = meta.get("version") or meta.get("suite2p_version")
    if version:
        attrs["suite2p_version"] = str(version)
    for key in ("tau", "Ly", "Lx", "nplanes"):
        if key in meta and np.isscalar(meta[key]):
            attrs[key] = meta[key].item() if hasattr(meta[key], "item") else meta[key]
    coefficient = _neuropil_coefficient(meta)
    if coefficient is not None:
        attrs["neuropil_coefficient"] = coefficient
    frames = meta.get("frames_per_file")
    if frames is not None and np.size(frames):
        attrs["frames_per_file"] = [int(n) for n in np.ravel(frames)]
    files = meta.get("file_list", meta.get("filelist"))
    if files is not None and np.size(files):
        attrs["file_list"] = [Path(str(f)).name for f in np.ravel(files)]
    return attrs


def _common_names(dicts: list[dict], what: str, where: Path) -> list[str]:
    names = [n for n in dicts[0] if all(n in d for d in dicts)]
    dropped = sorted({n for d in dicts for n in d} - set(names))
    if dropped:
        warn(f"{where}: {what} {', '.join(dropped)} missing in some planes; left out",
             DataRepairWarning)
    return names


def _merge_planes(planes: list[_Plane]) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    where = planes[0].folder.parent
    n_frames = [p.traces["F"].shape[1] for p in planes]
    n_keep = min(n_frames)
    if len(set(n_frames)) > 1:
        warn(f"{where}: planes have {n_frames} frames; truncated to {n_keep} "
             "so that they share one time axis", DataRepairWarning)
    names = _common_names([p.traces for p in planes], "traces", where)
    traces = {n: _concat([p.traces[n][:, :n_keep] for p in planes]) for n in names}
    names = _common_names([p.coords for p in planes], "ROI properties", where)
    coords = {n: (np.concatenate([p.coords[n][0] for p in planes]), planes[0].coords[n][1])
              for n in names}
    if "plane" not in coords:
        coords["plane"] = (np.concatenate([np.full(p.n_rois, _plane_index(p.folder, p.meta))
                                           for p in planes]), None)
    coords["plane_roi"] = (np.concatenate([np.arange(p.n_rois) for p in planes]), None)
    return (traces, coords, np.concatenate([p.iscell for p in planes]),
            np.concatenate([p.prob for p in planes]))


def _plane_fov(plane: _Plane) -> tuple[int, int] | None:
    if all(np.isscalar(plane.meta.get(k)) for k in ("Ly", "Lx")):
        return _meta_int(plane.meta, "Ly", plane.folder), _meta_int(plane.meta, "Lx", plane.folder)
    return None


def _with_footprints(ds: xr.Dataset, planes: list[_Plane]) -> xr.Dataset:
    """Add the ``stat`` footprints (plane-local pixels) and, for one plane, ``meanImg``."""
    if any(p.masks is None for p in planes):
        return ds
    offset, parts = 0, []
    for plane in planes:
        roi, y, x, lam = plane.masks
        shape = _plane_fov(plane)
        if shape is not None and y.size and (y.min() < 0 or x.min() < 0 or y.max() >= shape[0]
                                             or x.max() >= shape[1]):
            raise FormatError(f"stat ypix/xpix span rows {y.min()}..{y.max()} and columns "
                              f"{x.min()}..{x.max()}, outside the {shape[0]}x{shape[1]} field of "
                              "view of ops/settings Ly, Lx", path=plane.folder / "stat.npy")
        parts.append((roi + offset, y, x, lam))
        offset += plane.n_rois
    roi, y, x, lam = (np.concatenate(column) for column in zip(*parts, strict=True))
    shapes = {_plane_fov(p) for p in planes}
    attrs = {}
    if None in shapes or len(shapes) > 1:
        shape = (int(y.max(initial=-1)) + 1, int(x.max(initial=-1)) + 1)
        attrs["fov_shape_note"] = "extent of the masks (ops/settings give no single Ly, Lx)"
        logger.info("%s: no single Ly/Lx in ops/settings; fov_shape %s from the mask extent",
                    planes[0].folder, shape)
    else:
        shape = shapes.pop()
    mean = planes[0].meta.get("meanImg") if len(planes) == 1 else None
    if mean is not None and np.shape(mean) != shape:
        logger.info("%s: meanImg has shape %s, not the field of view %s; not kept",
                    planes[0].folder, np.shape(mean), shape)
        mean = None
    ds = add_footprints(ds, roi=roi, y=y, x=x, weight=lam, shape=shape, mean_image=mean,
                        source="suite2p stat ypix/xpix/lam")
    ds.attrs.update(attrs)
    return ds


def _with_file_index(ds: xr.Dataset, frames_per_file, n_plane_frames: int,
                     path: Path) -> xr.Dataset:
    """Add the time coordinate ``file`` (input-file / trial index) when the counts add up.

    ``n_plane_frames``: frames of the first plane before planes were cut to a common length (a
    cut is warned about already; a mismatch with the plane's own traces is a QualityWarning).
    """
    if not frames_per_file:
        return ds
    if sum(frames_per_file) != n_plane_frames:
        quality_issue(f"ops 'frames_per_file' adds up to {sum(frames_per_file)} frames but the "
                      f"traces have {n_plane_frames}; no 'file' coordinate", path=path)
        return ds
    if n_plane_frames != ds.sizes["time"]:
        return ds
    index = np.repeat(np.arange(len(frames_per_file)), frames_per_file)
    return ds.assign_coords(file=("time", index, {"long_name": "input file (trial) index"}))


def _check_timestamps(timestamps, n_frames: int, fs: float, path: Path) -> np.ndarray:
    time = np.asarray(timestamps, dtype=np.float64).ravel()
    if time.size != n_frames:
        raise FormatError(f"timestamps has {time.size} values but the planes have {n_frames} "
                          "frames; expected one time (s) per frame", path=path)
    if time.size > 1 and not np.all(np.diff(time) > 0):
        raise FormatError("timestamps are not strictly increasing", path=path)
    check_sampling_rate(time, fs, what="timestamps= against the frame rate 'fs'", path=path)
    return time


def read_suite2p(path, *, fs: float | None = None, timestamps=None, combined: bool = False,
                 chunks=None, mmap: bool = True) -> xr.Dataset:
    """Read suite2p outputs into an imaging Dataset ``F``/``Fneu``/``spks`` over ``(roi, time)``.

    Parameters
    ----------
    path : str or Path
        A ``planeN/`` folder, the ``suite2p/`` folder, or the folder that contains ``suite2p/``.
    fs : float, optional
        Frame rate per plane in Hz; overrides ``ops['fs']`` / ``settings['fs']`` (needed when
        the file holds a placeholder). Without either, the rate of the Bruker PrairieView
        T-series the outputs sit in (its ``<folder>.xml`` frame times, else the ``.env``
        ``framePeriod``; see :mod:`sfone.io.imaging._bruker`); attr ``fs_source`` says which.
    timestamps : array-like, optional
        Acquisition time of every frame in s from session start (suite2p stores none); must
        have one value per frame. Default ``arange(n_frames) / fs``.
    combined : bool
        Read the ``combined/`` mosaic (its ``x``/``y`` are mosaic coordinates) instead of the
        individual planes.
    chunks : int, tuple or dict, optional
        Return dask arrays with these chunks (``{"roi": 100, "time": 10000}``).
    mmap : bool
        Memory-map the ``.npy`` arrays (default; nothing is copied until used).

    Returns
    -------
    xarray.Dataset
        ROIs of all planes concatenated along ``roi`` (a running index in plane order, the
        order of suite2p's ``combined/``), coords ``plane``, ``plane_roi``, ``iscell``,
        ``iscell_prob``, ``y``/``x`` (the centroid: ``lam``-weighted mean of ``ypix``/``xpix``,
        :func:`sfone.footprints.mask_centroids`; ``stat['med']`` only when stat has no
        pixels), ``med_y``/``med_x`` (``stat['med']``: the ROI pixel nearest the unweighted
        median row and column), ``npix``, ``radius``, and
        ``file`` over ``time`` (input file / trial index from ``frames_per_file``); attrs
        ``fs`` (Hz), ``neuropil_coefficient``, ``frames_per_file``, ``file_list``. The
        footprints of ``stat`` (``ypix``/``xpix``/``lam``, plane-local pixels) are the
        ``mask_*`` variables over ``mask_pixel`` with attr ``fov_shape`` (see
        :mod:`sfone.footprints`); one plane (or ``combined/``) also gives ``mean_image``
        (``meanImg``).
    """
    path = Path(path)
    folders = find_plane_folders(path, combined=combined)
    planes = [_read_plane(folder, mmap, chunks) for folder in folders]
    sources = [_sampling_rate(p.meta, fs, p.folder) for p in planes]
    rates = {rate for rate, _ in sources}
    if len(rates) > 1:
        raise FormatError(f"planes disagree on the frame rate: {sorted(rates)} Hz", path=path)
    rate = rates.pop()
    if fs is not None or "fs" in planes[0].meta:
        check_frame_rate_sources(rate, folders, planes[0].meta, path=path,
                                 what="argument fs=" if fs is not None else "ops/settings 'fs'")
    else:  # the rate is the PrairieView files': compare it with the other acquisition files
        check_frame_rate_sources(rate, folders, planes[0].meta, path=path, prairie=False,
                                 what=f"the frame rate from {sources[0][1]['fs_source']}")
    for plane in planes:
        _check_zero_rows(plane.traces["F"], plane.folder)
    traces, coords, iscell, prob = _merge_planes(planes)
    time = (None if timestamps is None
            else _check_timestamps(timestamps, traces["F"].shape[1], rate, path))
    ds = imaging_dataset(traces, fs=rate, roi=np.arange(len(iscell)), iscell=iscell,
                         iscell_prob=prob, coords=coords, time=time)
    attrs = _plane_attrs(planes[0].meta)
    attrs.update(n_planes_read=len(folders), planes=[f.name for f in folders], **sources[0][1])
    ds = _with_file_index(ds, attrs.get("frames_per_file"), planes[0].traces["F"].shape[1], path)
    ds = chunk_footprints(_with_footprints(ds, planes), chunks)
    return finalize_dataset(ds, modality="imaging", source_format="suite2p", source_file=path,
                            pipeline="suite2p", **attrs)


def _sniff(path: Path) -> bool:
    path = Path(path)
    for root in (path, path / "suite2p"):
        for folder in [root, *(_plane_dirs(root) if root.is_dir() else [])][:2]:
            if (folder / "F.npy").exists() and any(
                    (folder / n).exists() for n in ("stat.npy", "ops.npy", "iscell.npy")):
                return True
    return False
