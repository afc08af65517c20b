"""NWB ophys files (extra ``nwb``): files written by :func:`sfone.to_nwb`, NeuroConv and suite2p.

Traces are the RoiResponseSeries in ``processing/ophys`` (data ``(time, rois)``, transposed to
``(roi, time)``). Names understood:

* sfone / NeuroConv: ``Fluorescence/RoiResponseSeries`` -> ``F``, ``Fluorescence/Neuropil`` ->
  ``Fneu``, ``Fluorescence/Deconvolved`` -> ``spks``, ``Fluorescence/Denoised`` -> ``C``,
  ``DfOverF/DfOverF`` (or ``DfOverF/RoiResponseSeries``) -> ``dff``. NeuroConv's multi-plane
  names ``RoiResponseSeriesChan1Plane0``, ``NeuropilChan1Plane1``, ... are read plane by plane
  (channel 2 gives ``F_chan2`` ...), concatenated along ``roi`` with a ``plane`` coord.
* suite2p's ``save_nwb``: containers ``Fluorescence``, ``Neuropil``, ``Deconvolved`` each with
  one series per plane (``plane0``, ``plane1``, ...).

Acceptance: ``iscell`` (suite2p, sfone), ``is_accepted`` (NeuroConv CaImAn), ``Accepted`` /
``Rejected`` (roiextractors) or ``cell_status`` (NeuroConv Inscopix, kept as ``status``).
Pixel, voxel and image masks become footprints (see :mod:`._nwb_masks` for the conventions);
``y``/``x`` are their weighted centroids (:func:`sfone.footprints.mask_centroids`), or sfone's
own ``centroid_y``/``centroid_x`` columns for a file written without footprints.
An empty ``image_mask`` (``(roi, 0, 0)``, what sfone writes for ROIs without footprints or
centroids) gives no footprints. ``roi_name`` and ``cell_status`` become ``cell_name`` and
``status``.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..._docs import fill_doc
from ..._hdf5 import check_hdf5_contained, is_hdf5
from ...exceptions import FormatError
from ...schema import finalize_dataset, make_events, rate_from_times
from .._lazy import lazy_hdf5
from .._nwb import RUN_COLUMN, is_photometry_nwb, nwb_errors
from ._common import imaging_dataset
from ._nwb_masks import CENTROID_ONLY, footprint_vars, mask_centroids, read_table_masks

__all__ = ["read_nwb", "read_nwb_events", "read_nwb_segmentation"]

_BASE = {"RoiResponseSeries": "F", "Fluorescence": "F", "Neuropil": "Fneu",
         "Deconvolved": "spks", "Denoised": "C", "DfOverF": "dff", "Baseline": "baseline",
         "Background": "background"}
_SUITE2P = {"Fluorescence": "F", "Neuropil": "Fneu", "Deconvolved": "spks"}
_PLANE = re.compile(r"^plane(\d+)$")
_SUFFIXED = re.compile(r"^(?P<base>[A-Za-z_]+?)(?:Chan(?P<chan>\d+))?(?:Plane(?P<plane>\d+))?$")


def _variable(container_name: str, is_dff: bool, series_name: str, series) -> tuple[str, int]:
    """sfone variable and plane of one RoiResponseSeries."""
    described = _described_variable(series)
    if described:
        return described, 0
    plane = _PLANE.match(series_name)
    if plane and container_name in _SUITE2P:
        return _SUITE2P[container_name], int(plane.group(1))
    parts = _SUFFIXED.match(series_name)
    if not parts:
        return series_name, 0
    base = parts.group("base")
    var = "dff" if is_dff and base in ("RoiResponseSeries", "DfOverF") else _BASE.get(base, base)
    if parts.group("chan") and int(parts.group("chan")) > 1:
        var = f"{var}_chan{int(parts.group('chan'))}"
    return var, int(parts.group("plane") or 0)


def _series_by_variable(ophys) -> dict:
    """sfone variable -> list of (plane, RoiResponseSeries), sorted by plane."""
    from pynwb.ophys import DfOverF, Fluorescence

    found: dict = {}
    for name, container in ophys.data_interfaces.items():
        if not isinstance(container, Fluorescence | DfOverF):
            continue
        for series_name, series in container.roi_response_series.items():
            var, plane = _variable(name, isinstance(container, DfOverF), series_name, series)
            found.setdefault(var, []).append((plane, series))
    return {var: sorted(items, key=lambda p: p[0]) for var, items in found.items()}


def _described_variable(series) -> str | None:
    try:
        return json.loads(series.description).get("sfone_variable")
    except (ValueError, TypeError, AttributeError):
        return None


def _names_as_ids(names: np.ndarray) -> np.ndarray | None:
    numbers = [re.fullmatch(r"[A-Za-z_]*(\d+)", str(n)) for n in names]
    return np.array([int(m.group(1)) for m in numbers]) if all(numbers) else None


def _acceptance(table, n: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """iscell, iscell_prob and extra coords (``status``) of a PlaneSegmentation."""
    cols = table.colnames
    iscell, prob, extra = np.ones(n, bool), np.full(n, np.nan), {}
    if "iscell" in cols:
        raw = np.asarray(table["iscell"].data[:], dtype=float)
        iscell = (raw[:, 0] if raw.ndim == 2 else raw) > 0.5
        if raw.ndim == 2 and raw.shape[1] > 1:
            prob = raw[:, 1]
    elif "is_accepted" in cols:
        iscell = np.asarray(table["is_accepted"].data[:]).astype(bool)
    elif "Accepted" in cols:
        iscell = np.asarray(table["Accepted"].data[:]).astype(bool)
    elif "Rejected" in cols:
        iscell = ~np.asarray(table["Rejected"].data[:]).astype(bool)
    if "cell_status" in cols:  # NeuroConv's Inscopix column; sfone writes it beside iscell
        status = np.char.strip(np.asarray(table["cell_status"].data[:]).astype(str))
        extra["status"] = (status, None)
        if not {"iscell", "is_accepted", "Accepted", "Rejected"} & set(cols):
            iscell = status == "accepted"
    if "iscell_prob" in cols:
        prob = np.asarray(table["iscell_prob"].data[:], float)
    return iscell, prob, extra


def _no_masks(table) -> bool:
    """An empty (0 x 0) ``image_mask`` and no pixel/voxel masks: the ROIs have no footprint."""
    cols = table.colnames
    if "image_mask" not in cols or "pixel_mask" in cols or "voxel_mask" in cols:
        return False
    shape = table["image_mask"].data.shape
    return len(shape) >= 3 and 0 in shape[1:]


def _table_info(table) -> dict:
    """Per-row metadata and masks of one PlaneSegmentation table."""
    n, cols = len(table), table.colnames
    iscell, prob, coords = _acceptance(table, n)
    ids = np.asarray(table["roi_id"].data[:] if "roi_id" in cols else table.id[:])
    if "roi_name" in cols:
        names = np.asarray(table["roi_name"].data[:]).astype(str)
        parsed = _names_as_ids(names)
        if "roi_id" not in cols and parsed is not None:
            ids = parsed
        if parsed is None or not np.char.isdigit(names).all():
            coords["cell_name"] = (names, None)
    centroids_only = any(marker in str(table.description) for marker in CENTROID_ONLY)
    masks = None if centroids_only or _no_masks(table) else read_table_masks(table)
    if masks is not None:  # the one centroid definition, whoever wrote the file
        cy, cx = mask_centroids(masks["roi"], masks["y"], masks["x"], masks["weight"], n)
        coords["y"], coords["x"] = (cy, "pixel"), (cx, "pixel")
    elif "centroid_y" in cols:  # sfone's columns, for ROIs written without footprints
        coords["y"] = (np.asarray(table["centroid_y"].data[:], float), "pixel")
        coords["x"] = (np.asarray(table["centroid_x"].data[:], float), "pixel")
    if "plane" in cols:
        coords["plane"] = (np.asarray(table["plane"].data[:], int), None)
    return {"iscell": iscell, "prob": prob, "ids": ids, "coords": coords, "masks": masks}


def _rois(order) -> list[tuple[object, np.ndarray, int]]:
    """(table, rows, plane) of each series of the fluorescence, in plane order."""
    return [(s.rois.table, np.asarray(s.rois.data[:], dtype=int), p) for p, s in order]


def _same_rois(a, b) -> bool:
    return len(a) == len(b) and all(ta is tb and np.array_equal(ra, rb)
                                    for (ta, ra, _), (tb, rb, _) in zip(a, b, strict=True))


def _timing(series, n_time: int) -> tuple[float, np.ndarray]:
    """Frame rate (Hz) and frame times (s from session start) of a series."""
    if series.timestamps is not None:
        time = np.asarray(series.timestamps[:n_time], dtype=float)
        return rate_from_times(time), time
    rate, start = float(series.rate), float(series.starting_time or 0.0)
    return rate, start + np.arange(n_time) / rate


def _nwb_attrs(nwbfile) -> dict:
    attrs = {"session_start": nwbfile.session_start_time.isoformat(),
             "nwb_identifier": str(nwbfile.identifier),
             "session_description": str(nwbfile.session_description)}
    if nwbfile.subject is not None and nwbfile.subject.subject_id:
        attrs["subject"] = str(nwbfile.subject.subject_id)
    for key in ("experimenter", "institution", "lab"):
        value = getattr(nwbfile, key, None)
        if value:
            attrs[key] = ", ".join(value) if isinstance(value, tuple | list) else str(value)
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


def _mean_image(ophys, n_planes: int):
    """The one plane's mean image (rows, cols) from ``SegmentationImages``, else None."""
    images = ophys.data_interfaces.get("SegmentationImages")
    if images is None or n_planes != 1:
        return None
    means = [im for name, im in images.images.items() if name.startswith("MeanImage")]
    return np.asarray(means[0].data[:]).T if len(means) == 1 else None  # stored (width, height)


def _roi_metadata(rois, ophys) -> tuple[dict, dict, dict]:
    """Per-ROI arrays (iscell, prob, ids, coords) and footprint variables over all planes."""
    infos = {id(table): _table_info(table) for table, _, _ in rois}
    parts = [(infos[id(table)], rows, plane) for table, rows, plane in rois]
    iscell = np.concatenate([info["iscell"][rows] for info, rows, _ in parts])
    prob = np.concatenate([info["prob"][rows] for info, rows, _ in parts])
    ids = np.concatenate([info["ids"][rows] for info, rows, _ in parts])
    if np.unique(ids).size != ids.size:  # planes numbered separately: positions instead
        ids = np.arange(ids.size)
    names = set.intersection(*(set(info["coords"]) for info, _, _ in parts))
    coords = {k: (np.concatenate([info["coords"][k][0][rows] for info, rows, _ in parts]),
                  parts[0][0]["coords"][k][1]) for k in names}
    if len(parts) > 1 or "plane" not in coords:
        coords.setdefault("plane", (np.concatenate([np.full(r.size, p) for _, r, p in parts]),
                                    None))
    per_roi = {"iscell": iscell, "prob": prob, "ids": ids, "coords": coords}
    masks, attrs = _footprints(parts, ophys)
    return per_roi, masks, attrs


def _footprints(parts, ophys) -> tuple[dict, dict]:
    if any(info["masks"] is None for info, _, _ in parts):
        return {}, {}
    rois, ys, xs, ws, shapes, offset = [], [], [], [], [], 0
    for info, rows, _ in parts:
        m = info["masks"]
        position = np.full(len(info["iscell"]), -1)
        position[rows] = offset + np.arange(rows.size)
        keep = position[m["roi"]] >= 0
        rois.append(position[m["roi"][keep]])
        ys.append(m["y"][keep]), xs.append(m["x"][keep]), ws.append(m["weight"][keep])
        shapes.append(m["shape"])
        offset += rows.size
    y, x = np.concatenate(ys), np.concatenate(xs)
    mean = _mean_image(ophys, len(parts))
    known = [s for s in shapes if s is not None] + ([mean.shape] if mean is not None else [])
    fov = (max(s[0] for s in known), max(s[1] for s in known)) if known else (
        int(y.max()) + 1 if y.size else 1, int(x.max()) + 1 if x.size else 1)
    data_vars, attrs = footprint_vars(np.concatenate(rois), y, x, np.concatenate(ws),
                                      fov_shape=fov, mean_image=mean)
    if not known:  # pixel masks only: the file does not say how large the image was
        attrs["fov_shape_source"] = "extent of the masks (no image size in the file)"
    return data_vars, attrs


def _contents(nwbfile) -> str:
    """What a non-ophys NWB file holds, and where to read it."""
    parts = [f"{group}: {', '.join(sorted(items))}" for group, items in (
        ("acquisition", nwbfile.acquisition), ("processing", nwbfile.processing),
        ("intervals", nwbfile.intervals or {}), ("events", getattr(nwbfile, "events", None) or {}))
        if items]
    if nwbfile.units is not None:
        parts.append(f"units: {len(nwbfile.units)} (spike sorting; read with pynapple or pynwb)")
    text = "; ".join(parts) or "no data"
    if nwbfile.intervals or getattr(nwbfile, "events", None):
        text += "; read its intervals/events with read_nwb_events()"
    return f"it holds {text}"


def _build(nwbfile, path: Path, chunks=None) -> xr.Dataset:
    if "ophys" not in nwbfile.processing:
        raise FormatError(f"no processing/ophys module: not an NWB ophys file ({_contents(nwbfile)})",
                          path=path)
    ophys = nwbfile.processing["ophys"]
    found = _series_by_variable(ophys)
    if "F" not in found:
        segmentation = "ImageSegmentation" in ophys.data_interfaces
        raise FormatError(
            f"no raw fluorescence series (found {sorted(found) or 'none'}); expected "
            "Fluorescence/RoiResponseSeries[Chan<c>Plane<p>] or Fluorescence/plane0"
            + ("; the file holds a segmentation only: read it with read_nwb_segmentation()"
               if segmentation else ""), path=path)
    rois = _rois(found["F"])
    per_roi, footprint, fov_attrs = _roi_metadata(rois, ophys)
    n_time = min(s.data.shape[0] for series in found.values() for _, s in series)
    traces = {}
    for var, series_list in sorted(found.items(), key=lambda kv: kv[0] != "F"):
        if not _same_rois(_rois(series_list), rois):
            raise FormatError(f"series of {var} reference other ROIs than the fluorescence",
                              path=path)
        parts = [_series_data(s, n_time, path, chunks) for _, s in series_list]
        if all(isinstance(part, np.ndarray) for part in parts):
            traces[var] = np.concatenate(parts, 1).T
        else:
            import dask.array as da

            traces[var] = da.concatenate(parts, axis=1).T
    fs, time = _timing(found["F"][0][1], n_time)
    units = {var: str(s[0][1].unit) for var, s in found.items()}
    ds = imaging_dataset(traces, fs=fs, roi=per_roi["ids"], iscell=per_roi["iscell"],
                         iscell_prob=per_roi["prob"], coords=per_roi["coords"],
                         trace_units=units, time=time)
    return ds.assign(footprint).assign_attrs(fov_attrs)


def _open(path: Path):
    """pynwb's reader over ``path``, once the file passed the HDF5 containment check (also for
    ``read_nwb_segmentation``/``read_nwb_events``, which :func:`sfone.read` does not call)."""
    from pynwb import NWBHDF5IO

    check_hdf5_contained(path)
    return NWBHDF5IO(str(path), "r")


@fill_doc
def read_nwb(path, *, chunks=None) -> xr.Dataset:
    """Read the ophys traces of an NWB file into an imaging Dataset (``F`` over ``(roi, time)``).

    ``fs`` comes from the series rate (or the median timestamp step), ``session_start``,
    ``subject``, ``experimenter``, ``institution`` from the file; ROI masks become footprints
    (``mask_*`` on ``mask_pixel``, attr ``fov_shape``, ``mean_image``); run epochs are read by
    :func:`read_nwb_events`. ``chunks`` (``"auto"``, int, ``(roi, time)`` tuple or dict) returns
    the traces as dask arrays that read the file when computed.

    Parameters
    ----------
    path : str or os.PathLike
        NWB file with ``processing/ophys`` RoiResponseSeries (extra ``nwb``).

    %(chunks)s

    Returns
    -------
    %(imaging_dataset)s
    """
    path = Path(path)
    with (nwb_errors(path), warnings.catch_warnings(), _open(path) as io):
        # suite2p files use Device.manufacturer, deprecated in pynwb 4: not the user's concern
        warnings.simplefilter("ignore", DeprecationWarning)
        nwbfile = io.read()
        ds = _build(nwbfile, path, chunks)
        attrs = _nwb_attrs(nwbfile)
    subject, start = attrs.pop("subject", None), attrs.pop("session_start")
    return finalize_dataset(ds, modality="imaging", source_format="nwb", source_file=path,
                            subject=subject, session_start=start, **attrs)


def read_nwb_segmentation(path, *, name: str | None = None) -> xr.Dataset:
    """The ROIs of a PlaneSegmentation (no traces needed): ``roi`` with ``iscell``, ``y``/``x``
    (pixels), ``status``/``cell_name`` where stored, and the footprints.

    ``name`` selects the table (default: the only one; an error lists them when several).

    Parameters
    ----------
    path : str or os.PathLike
        NWB file with ``processing/ophys/ImageSegmentation``.
    name : str, optional
        PlaneSegmentation table name.

    Returns
    -------
    xarray.Dataset
        Over ``roi`` (and ``mask_pixel`` for the footprints); attrs ``fov_shape``, ``table``,
        ``source_file``. Not a contract-valid imaging Dataset (no traces).

    Raises
    ------
    FormatError
        Without an ImageSegmentation, or with several tables and no ``name``.
    """
    path = Path(path)
    with nwb_errors(path), _open(path) as io:
        nwbfile = io.read()
        if "ophys" not in nwbfile.processing or \
                "ImageSegmentation" not in nwbfile.processing["ophys"].data_interfaces:
            raise FormatError("no processing/ophys/ImageSegmentation", path=path)
        tables = nwbfile.processing["ophys"]["ImageSegmentation"].plane_segmentations
        if name is None and len(tables) != 1:
            raise FormatError(f"{len(tables)} PlaneSegmentation tables ({', '.join(tables)}); "
                              "pass name=", path=path)
        table = tables[name or next(iter(tables))]
        rows = np.arange(len(table))
        per_roi, footprint, fov_attrs = _roi_metadata([(table, rows, 0)],
                                                      nwbfile.processing["ophys"])
    coords = {"roi": ("roi", per_roi["ids"]), "iscell": ("roi", per_roi["iscell"])}
    coords.update({k: ("roi", v, {"units": u} if u else {})
                   for k, (v, u) in per_roi["coords"].items()})
    return xr.Dataset(footprint, coords=coords,
                      attrs={**fov_attrs, "source_file": str(path), "table": table.name})


_RESERVED = ("start", "end", "epoch")


def _cell(value):
    """One cell of a ragged or reference column as text (``tags``, ``timeseries``)."""
    if hasattr(value, "timeseries"):  # TimeSeriesReference
        return str(getattr(value.timeseries, "name", value.timeseries))
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(str(_cell(v)) for v in value)
    return value.decode() if isinstance(value, bytes) else value


def _table_columns(table, skip: tuple[str, ...]) -> dict:
    """Every other column of an intervals/events table as ``name -> (dims, values, attrs)``
    coordinates over ``epoch`` (ragged and reference columns as text)."""
    from hdmf.common import VectorIndex
    from pynwb.base import TimeSeriesReferenceVectorData

    out = {}
    for name in table.colnames:
        if name in skip:
            continue
        column = table[name]
        if isinstance(column, VectorIndex | TimeSeriesReferenceVectorData):
            values = np.array([_cell(column[i]) for i in range(len(table))], dtype=object)
            values = values.astype(str)
        else:
            values = np.asarray(column.data[:])
            if values.dtype.kind in "OS":
                values = np.array([_cell(v) for v in values.tolist()]).astype(str)
        dims = ("epoch",) + tuple(f"{name}_dim{k}" for k in range(1, values.ndim))
        key = f"{name}_column" if name in _RESERVED else name
        out[key] = (dims, values, {"description": str(getattr(column, "description", ""))})
    return out


def _events_table(table, path: Path) -> xr.Dataset:
    """A core ``EventsTable`` (NWB >= 2.9, NeuroConv TTLs): one zero-length epoch per event."""
    time = np.asarray(table["timestamp"].data[:], float)
    ds = make_events(time, time, label=np.full(time.size, table.name), source_format="nwb",
                     source_file=path, event_kind="events")
    ds = ds.assign_coords(_table_columns(table, ("timestamp", "duration")))
    if "duration" in table.colnames:
        ds["end"] = ("epoch", time + np.asarray(table["duration"].data[:], float),
                     {"units": "s"})
    return ds


def _intervals_table(table, path: Path) -> xr.Dataset:
    """A TimeIntervals table with every column; sfone's ``runs`` table: its runs only."""
    start = np.asarray(table["start_time"].data[:], float)
    stop = np.asarray(table["stop_time"].data[:], float)
    label = (np.asarray(table["label"].data[:]).astype(str)
             if "label" in table.colnames else None)
    columns = _table_columns(table, ("start_time", "stop_time", "label"))
    ds = make_events(start, stop, label=label, source_format="nwb", source_file=path)
    ds = ds.assign_coords(columns)
    if RUN_COLUMN in columns and ds[RUN_COLUMN].dtype == bool:
        ds = ds.isel(epoch=ds[RUN_COLUMN].values).drop_vars(RUN_COLUMN)
        ds = ds.assign_coords(epoch=np.arange(ds.sizes["epoch"]))
    return ds


def read_nwb_events(path, *, name: str = "runs") -> xr.Dataset:
    """Read the TimeIntervals table ``name`` (default ``runs``) as an events Dataset.

    Every column is kept as a coordinate over ``epoch`` (NeuroConv's ``trial_type``, ``tags``
    and ``timeseries`` as text). In the ``runs`` table sfone writes, the rows around the runs
    (``is_run`` False: pre-run, between runs, post-run) are left out. An ``EventsTable`` of
    that name under ``/events`` (NWB >= 2.9; NeuroConv writes TDT epocs there) is read as
    zero-length epochs with its columns (e.g. ``strobe``) kept.

    Parameters
    ----------
    path : str or os.PathLike
        NWB file.
    name : str, default "runs"
        Name of the TimeIntervals (or EventsTable) table, e.g. ``"trials"``, ``"epochs"``.

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s) over ``epoch``; ``label`` and the table's other
        columns as coordinates.

    Raises
    ------
    FormatError
        If the file has no table of that name (the message lists those it has).
    """
    path = Path(path)
    with nwb_errors(path), _open(path) as io:
        nwbfile = io.read()
        events = getattr(nwbfile, "events", None) or {}
        if name in events:
            return _events_table(events[name], path)
        if nwbfile.intervals is None or name not in nwbfile.intervals:
            known = sorted(list(nwbfile.intervals or {}) + list(events))
            raise FormatError(f"no TimeIntervals or EventsTable {name!r} (found "
                              f"{', '.join(known) or 'none'})", path=path)
        return _intervals_table(nwbfile.intervals[name], path)


def _sniff(path: Path) -> bool:
    import h5py

    if not is_hdf5(path):
        return False
    with h5py.File(path, "r") as f:  # any other NWB file: read_nwb says what it lacks
        return "nwb_version" in f.attrs and ("processing/ophys" in f or not is_photometry_nwb(f))

