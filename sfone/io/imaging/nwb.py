"""NWB ophys files (extra ``nwb``): files written by :func:`sfone.to_nwb`, NeuroConv and suite2p.

Traces are the RoiResponseSeries in ``processing/ophys`` (data ``(time, rois)``, transposed to
``(roi, time)``). Names understood:

* NeuroConv / sfone: ``Fluorescence/RoiResponseSeries`` -> ``F``, ``Fluorescence/Neuropil`` ->
  ``Fneu``, ``Fluorescence/Deconvolved`` -> ``spks``, ``Fluorescence/Denoised`` -> ``C``,
  ``DfOverF/DfOverF`` -> ``dff``.
* suite2p's ``save_nwb``: containers ``Fluorescence``, ``Neuropil``, ``Deconvolved`` each with
  one series per plane (``plane0``, ``plane1``, ...), concatenated along ``roi`` with ``plane``.
  suite2p stores ``ypix`` in the mask's ``x`` field; centroids are read accordingly.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..._logging import progress
from ...exceptions import FormatError
from ...schema import finalize_dataset, make_events
from .._lazy import lazy_hdf5
from ._common import hdf5_errors, imaging_dataset

__all__ = ["read_nwb", "read_nwb_events"]

_NEUROCONV = {"RoiResponseSeries": "F", "Neuropil": "Fneu", "Deconvolved": "spks",
              "Denoised": "C", "DfOverF": "dff"}
_SUITE2P = {"Fluorescence": "F", "Neuropil": "Fneu", "Deconvolved": "spks"}
_PLANE = re.compile(r"^plane(\d+)$")


def _series_by_variable(ophys) -> tuple[dict, bool]:
    """Map sfone variable -> list of (plane, RoiResponseSeries); True if suite2p layout."""
    from pynwb.ophys import DfOverF, Fluorescence

    found: dict = {}
    suite2p = False
    for name, container in ophys.data_interfaces.items():
        if not isinstance(container, Fluorescence | DfOverF):
            continue
        for series_name, series in container.roi_response_series.items():
            plane = _PLANE.match(series_name)
            if plane and name in _SUITE2P:
                suite2p = True
                found.setdefault(_SUITE2P[name], []).append((int(plane.group(1)), series))
            else:
                described = _described_variable(series)
                var = described or _NEUROCONV.get(series_name, series_name)
                found.setdefault(var, []).append((0, series))
    return found, suite2p


def _described_variable(series) -> str | None:
    try:
        return json.loads(series.description).get("sfone_variable")
    except (ValueError, TypeError, AttributeError):
        return None


def _roi_rows(series_list) -> np.ndarray:
    return np.concatenate([np.asarray(s.rois.data[:], dtype=int) for _, s in series_list])


def _mask_centroids(table, suite2p: bool, n: int) -> dict:
    for column in ("pixel_mask", "voxel_mask"):
        if column not in table.colnames:
            continue
        cy, cx = np.full(n, np.nan), np.full(n, np.nan)
        for i in progress(range(n), desc="ROI masks", unit="roi"):  # ragged per-ROI masks
            mask = np.asarray(table[column][i].tolist(), dtype=float).reshape(-1, 4 if column
                                                                             == "voxel_mask" else 3)
            w = mask[:, -1] / mask[:, -1].sum()
            first, second = (mask[:, 0] * w).sum(), (mask[:, 1] * w).sum()
            cy[i], cx[i] = (first, second) if suite2p else (second, first)
        return {"y": (cy, "pixel"), "x": (cx, "pixel")}
    return {}


def _roi_table(table, suite2p: bool) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """Per-ROI coords, iscell, iscell_prob and ROI ids of a PlaneSegmentation table."""
    n = len(table)
    cols = table.colnames
    coords: dict = {}
    if "centroid_y" in cols:
        coords["y"] = (np.asarray(table["centroid_y"].data[:], float), "pixel")
        coords["x"] = (np.asarray(table["centroid_x"].data[:], float), "pixel")
    else:
        coords.update(_mask_centroids(table, suite2p, n))
    if "plane" in cols:
        coords["plane"] = (np.asarray(table["plane"].data[:], int), None)
    iscell, prob = np.ones(n, bool), np.full(n, np.nan)
    if "iscell" in cols:
        raw = np.asarray(table["iscell"].data[:], dtype=float)
        iscell = (raw[:, 0] if raw.ndim == 2 else raw) > 0.5
        if raw.ndim == 2 and raw.shape[1] > 1:
            prob = raw[:, 1]
    if "iscell_prob" in cols:
        prob = np.asarray(table["iscell_prob"].data[:], float)
    ids = np.asarray(table["roi_id"].data[:]) if "roi_id" in cols else np.asarray(table.id[:])
    return coords, iscell, prob, ids


def _timing(series, n_time: int) -> tuple[float, np.ndarray]:
    """Frame rate (Hz) and frame times (s from session start) of a series."""
    if series.timestamps is not None:
        time = np.asarray(series.timestamps[:n_time], dtype=float)
        return 1.0 / float(np.median(np.diff(time))), time
    rate, start = float(series.rate), float(series.starting_time or 0.0)
    return rate, start + np.arange(n_time) / rate


def _nwb_attrs(nwbfile) -> dict:
    attrs = {"session_start": nwbfile.session_start_time.isoformat(),
             "nwb_identifier": str(nwbfile.identifier),
             "session_description": str(nwbfile.session_description)}
    if nwbfile.subject is not None and nwbfile.subject.subject_id:
        attrs["subject"] = str(nwbfile.subject.subject_id)
    planes = list(nwbfile.imaging_planes.values())
    if planes:
        attrs.update(indicator=str(planes[0].indicator), location=str(planes[0].location),
                     excitation_lambda=float(planes[0].excitation_lambda))
    return attrs


def _series_data(series, n_time: int, path: Path, chunks):
    """A series' ``(time, roi)`` data, first ``n_time`` frames: numpy, or dask over the file."""
    import h5py

    if chunks is None or not isinstance(series.data, h5py.Dataset):
        return np.asarray(series.data[:n_time])
    if isinstance(chunks, tuple):  # given as (roi, time), stored as (time, roi)
        chunks = chunks[::-1]
    return lazy_hdf5(series.data, path, chunks, ("time", "roi"))[:n_time]


def _build(nwbfile, path: Path, chunks=None) -> xr.Dataset:
    if "ophys" not in nwbfile.processing:
        raise FormatError("no processing/ophys module: not an NWB ophys file", path=path)
    found, suite2p = _series_by_variable(nwbfile.processing["ophys"])
    if "F" not in found:
        raise FormatError(f"no raw fluorescence series (found {sorted(found) or 'none'}); "
                          "expected Fluorescence/RoiResponseSeries or Fluorescence/plane0",
                          path=path)
    order = sorted(found["F"], key=lambda p: p[0])
    rows = _roi_rows(order)
    table = order[0][1].rois.table
    coords, iscell, prob, ids = _roi_table(table, suite2p)
    n_time = min(s.data.shape[0] for series in found.values() for _, s in series)
    traces = {}
    for var, series_list in sorted(found.items(), key=lambda kv: kv[0] != "F"):
        series_list = sorted(series_list, key=lambda p: p[0])
        parts = [_series_data(s, n_time, path, chunks) for _, s in series_list]
        if all(isinstance(part, np.ndarray) for part in parts):
            data = np.concatenate(parts, 1).T
        else:
            import dask.array as da

            data = da.concatenate(parts, axis=1).T
        if not np.array_equal(_roi_rows(series_list), rows):
            raise FormatError(f"series of {var} reference other ROIs than the fluorescence",
                              path=path)
        traces[var] = data
    fs, time = _timing(order[0][1], n_time)
    coords = {k: (v[0][rows], v[1]) for k, v in coords.items()}
    if suite2p and "plane" not in coords:
        coords["plane"] = (np.concatenate([np.full(len(s.rois.data), p) for p, s in order]), None)
    units = {var: str(s[0][1].unit) for var, s in found.items()}
    return imaging_dataset(traces, fs=fs, roi=ids[rows], iscell=iscell[rows],
                           iscell_prob=prob[rows], coords=coords, trace_units=units, time=time)


def read_nwb(path, *, chunks=None) -> xr.Dataset:
    """Read the ophys traces of an NWB file into an imaging Dataset (``F`` over ``(roi, time)``).

    ``fs`` comes from the series rate (or the median timestamp step), ``session_start`` and
    ``subject`` from the file; run epochs are read by :func:`read_nwb_events`. ``chunks``
    (``"auto"``, int, ``(roi, time)`` tuple or dict) returns the traces as dask arrays that
    read the file when computed.
    """
    from pynwb import NWBHDF5IO

    path = Path(path)
    with (hdf5_errors(path, "NWB"), warnings.catch_warnings(),
          NWBHDF5IO(str(path), "r") as io):
        # suite2p files use Device.manufacturer, deprecated in pynwb 4: not the user's concern
        warnings.simplefilter("ignore", DeprecationWarning)
        nwbfile = io.read()
        ds = _build(nwbfile, path, chunks)
        attrs = _nwb_attrs(nwbfile)
    subject, start = attrs.pop("subject", None), attrs.pop("session_start")
    return finalize_dataset(ds, modality="imaging", source_format="nwb", source_file=path,
                            subject=subject, session_start=start, **attrs)


def read_nwb_events(path, *, name: str = "runs") -> xr.Dataset:
    """Read the TimeIntervals table ``name`` (default ``runs``) as an events Dataset."""
    from pynwb import NWBHDF5IO

    path = Path(path)
    with hdf5_errors(path, "NWB"), NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        if nwbfile.intervals is None or name not in nwbfile.intervals:
            raise FormatError(f"no TimeIntervals table {name!r}", path=path)
        table = nwbfile.intervals[name]
        start = np.asarray(table["start_time"].data[:], float)
        stop = np.asarray(table["stop_time"].data[:], float)
        label = (np.asarray(table["label"].data[:]).astype(str)
                 if "label" in table.colnames else None)
    return make_events(start, stop, label=label, source_format="nwb", source_file=path)


def _sniff(path: Path) -> bool:
    import h5py

    with open(path, "rb") as fh:
        if fh.read(8) != b"\x89HDF\r\n\x1a\n":
            return False
    with h5py.File(path, "r") as f:
        return "nwb_version" in f.attrs and "processing/ophys" in f
