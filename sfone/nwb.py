"""Write imaging Datasets (and run epochs) to NWB the standard way (extra ``nwb``: pynwb).

Layout (NeuroConv names, so other tools find the data):

* ``processing/ophys/ImageSegmentation/PlaneSegmentation``: one row per ROI with a
  ``pixel_mask`` at the ROI centroid (sfone Datasets keep centroids, not full masks) and columns
  ``roi_id``, ``iscell``, ``iscell_prob``, ``centroid_y``, ``centroid_x``, ``plane``.
* ``processing/ophys/Fluorescence/{RoiResponseSeries,Neuropil,Deconvolved,Denoised,...}`` and
  ``processing/ophys/DfOverF/DfOverF``: RoiResponseSeries with data shaped ``(time, rois)``.
* ``intervals/runs``: run epochs as a TimeIntervals table (``start_time``, ``stop_time``,
  ``label``).

pynwb is imported inside the functions only; ``import sfone`` stays light.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np
import xarray as xr

from ._logging import progress
from .exceptions import SchemaError
from .schema import validate

__all__ = ["to_nwb", "SERIES_NAMES"]

#: sfone variable -> (NWB container, RoiResponseSeries name)
SERIES_NAMES = {
    "F": ("Fluorescence", "RoiResponseSeries"),
    "Fneu": ("Fluorescence", "Neuropil"),
    "spks": ("Fluorescence", "Deconvolved"),
    "C": ("Fluorescence", "Denoised"),
    "dff": ("DfOverF", "DfOverF"),
}


def _start_time(ds: xr.Dataset, session_start_time) -> datetime:
    value = session_start_time or ds.attrs.get("session_start")
    if value is None:
        raise SchemaError("NWB needs a session start: pass session_start_time= (tz-aware "
                          "datetime or ISO 8601 string) or set ds.attrs['session_start']")
    start = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if start.tzinfo is None:
        raise SchemaError(f"session start {start.isoformat()} has no time zone; NWB needs one")
    return start


def _imaging_plane(nwbfile, ds: xr.Dataset, *, indicator: str, location: str,
                   excitation_lambda: float, device_name: str):
    from pynwb.ophys import OpticalChannel

    device = nwbfile.create_device(name=device_name)
    channel = OpticalChannel(name="OpticalChannel", description="functional channel",
                             emission_lambda=float("nan"))
    return nwbfile.create_imaging_plane(
        name="ImagingPlane", optical_channel=channel, device=device,
        description=f"imaging plane read from {ds.attrs.get('source_format', 'unknown')}",
        imaging_rate=float(ds.attrs["fs"]), indicator=indicator, location=location,
        excitation_lambda=float(excitation_lambda))


def _coord(ds: xr.Dataset, name: str, default):
    return np.asarray(ds[name].values) if name in ds.coords else np.full(ds.sizes["roi"], default)


def _plane_segmentation(module, plane, ds: xr.Dataset):
    from pynwb.ophys import ImageSegmentation

    segmentation = ImageSegmentation()
    module.add(segmentation)
    table = segmentation.create_plane_segmentation(
        name="PlaneSegmentation", imaging_plane=plane,
        description="ROIs; pixel_mask holds the centroid only (full masks are not kept)")
    columns = {
        "roi_id": ("ROI index in the source", np.asarray(ds["roi"].values).astype(np.int64)),
        "iscell": ("accepted as a cell", _coord(ds, "iscell", True).astype(bool)),
        "iscell_prob": ("classifier probability", _coord(ds, "iscell_prob", np.nan).astype(float)),
        "centroid_y": ("centroid row (pixel)", _coord(ds, "y", np.nan).astype(float)),
        "centroid_x": ("centroid column (pixel)", _coord(ds, "x", np.nan).astype(float)),
        "plane": ("imaging plane index", _coord(ds, "plane", 0).astype(np.int64)),
    }
    for name, (description, _) in columns.items():
        table.add_column(name=name, description=description)
    y = np.nan_to_num(columns["centroid_y"][1]).round().astype(int)
    x = np.nan_to_num(columns["centroid_x"][1]).round().astype(int)
    for i in progress(range(ds.sizes["roi"]), desc="NWB ROIs", unit="roi"):  # row by row in pynwb
        table.add_roi(pixel_mask=[(int(x[i]), int(y[i]), 1.0)],
                      **{name: values[i] for name, (_, values) in columns.items()})
    return table


def _series_timing(ds: xr.Dataset) -> dict:
    time = np.asarray(ds["time"].values, dtype=float)
    fs = float(ds.attrs["fs"])
    regular = time.size < 2 or np.allclose(np.diff(time), 1.0 / fs, rtol=1e-6, atol=1e-9)
    if regular:
        return {"rate": fs, "starting_time": float(time[0]) if time.size else 0.0}
    return {"timestamps": time}


def _add_traces(module, table, ds: xr.Dataset) -> None:
    from pynwb.ophys import DfOverF, Fluorescence, RoiResponseSeries

    region = table.create_roi_table_region(region=list(range(ds.sizes["roi"])),
                                           description="all ROIs")
    containers: dict = {}
    timing = _series_timing(ds)
    for var in ds.data_vars:
        if ds[var].dims != ("roi", "time"):
            continue
        container_name, series_name = SERIES_NAMES.get(var, ("Fluorescence", var))
        if container_name not in containers:
            cls = DfOverF if container_name == "DfOverF" else Fluorescence
            containers[container_name] = cls(name=container_name)
            module.add(containers[container_name])
        attrs = {k: v for k, v in ds[var].attrs.items() if k != "units"}
        containers[container_name].add_roi_response_series(RoiResponseSeries(
            name=series_name, data=np.asarray(ds[var].transpose("time", "roi").values),
            rois=region, unit=str(ds[var].attrs.get("units", "a.u.")),
            description=json.dumps({"sfone_variable": var, **attrs}, default=str), **timing))


def _add_runs(nwbfile, events: xr.Dataset) -> None:
    from pynwb.epoch import TimeIntervals

    runs = TimeIntervals(name="runs", description="run epochs (seconds from session start)")
    runs.add_column(name="label", description="run label")
    labels = (events["label"].values.astype(str) if "label" in events.coords
              else np.full(events.sizes["epoch"], ""))
    for start, end, label in zip(events["start"].values, events["end"].values, labels,
                                 strict=True):
        runs.add_row(start_time=float(start), stop_time=float(end), label=str(label))
    nwbfile.add_time_intervals(runs)


def to_nwb(ds: xr.Dataset, path, *, events: xr.Dataset | None = None,
           session_start_time=None, session_description: str = "sfone imaging session",
           identifier: str | None = None, subject_id: str | None = None,
           species: str | None = None, indicator: str = "unknown",
           location: str = "unknown", excitation_lambda: float = float("nan"),
           device_name: str = "Microscope") -> Path:
    """Write an imaging Dataset (and optional run epochs) to an NWB file, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Contract-valid imaging Dataset (``F`` etc. over ``(roi, time)``, ``fs`` in Hz).
    path : str or Path
        Output ``.nwb`` file.
    events : xarray.Dataset, optional
        Events Dataset (``start``/``end`` in s) written as the ``runs`` TimeIntervals table.
    session_start_time : datetime or str, optional
        tz-aware acquisition start; defaults to ``ds.attrs['session_start']``.
    identifier : str, optional
        Unique file identifier (default: a random UUID).
    subject_id, species : str, optional
        Written as the NWB ``Subject`` (``subject_id`` defaults to ``ds.attrs['subject']``).
    indicator, location, excitation_lambda, device_name
        Imaging-plane metadata (excitation in nm).
    """
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject

    from ._atomic import atomic_path

    validate(ds)
    subject_id = subject_id or ds.attrs.get("subject")
    nwbfile = NWBFile(
        session_description=session_description, identifier=identifier or str(uuid.uuid4()),
        session_start_time=_start_time(ds, session_start_time),
        source_script=f"sfone {ds.attrs.get('sfone_version', '')}",
        source_script_file_name=str(ds.attrs.get("source_file", "")),
        subject=Subject(subject_id=str(subject_id), species=species) if subject_id else None)
    plane = _imaging_plane(nwbfile, ds, indicator=indicator, location=location,
                           excitation_lambda=excitation_lambda, device_name=device_name)
    module = nwbfile.create_processing_module(name="ophys", description="optical physiology")
    table = _plane_segmentation(module, plane, ds)
    _add_traces(module, table, ds)
    if events is not None:
        _add_runs(nwbfile, events)
    with atomic_path(path) as tmp:
        staging = tmp.with_name(tmp.name + ".nwb")  # pynwb warns about names not ending .nwb
        try:
            with NWBHDF5IO(str(staging), "w") as io:
                io.write(nwbfile)
            os.replace(staging, tmp)
        finally:
            staging.unlink(missing_ok=True)
    return Path(path)
