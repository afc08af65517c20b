"""Write sfone Datasets (and run epochs) to NWB the standard way (extra ``nwb``: pynwb).

Imaging (NeuroConv names, so other tools find the data):

* ``processing/ophys/ImageSegmentation/PlaneSegmentation``: one row per ROI. ``pixel_mask``
  holds the real footprints (``mask_*`` variables) with their weights, in the ecosystem's
  convention (NeuroConv, suite2p's ``ophys.nwb``): ``x`` = pixel ROW, ``y`` = COLUMN. An input
  without footprints gets a one-pixel mask at its centroid (and the table says so). Small
  fields of view also get ``image_mask`` (``(roi, width, height)`` as roiextractors writes and
  reads it). Columns ``roi_id``, ``iscell``, ``iscell_prob``, ``centroid_y``, ``centroid_x``,
  ``plane``.
* ``processing/ophys/SegmentationImages/MeanImage`` (stored ``(width, height)``, as NeuroConv).
* ``processing/ophys/Fluorescence/{RoiResponseSeries,Neuropil,Deconvolved,Denoised,...}`` and
  ``processing/ophys/DfOverF/DfOverF``: RoiResponseSeries ``(time, rois)`` in the Dataset's
  units (an Inscopix cell set's ``trace_units``, e.g. "dF over F", where ``F`` says "a.u.").

Photometry: ``ndx-fiber-photometry`` (see :mod:`sfone.io.photometry.nwb`).

Both: run epochs as ``intervals/runs`` (TimeIntervals ``start_time``, ``stop_time``, ``label``);
metadata (session, experimenter, institution, lab, subject) from keyword options or a
``metadata`` dict / YAML file, flat or in NeuroConv's ``NWBFile:`` / ``Subject:`` sections.

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

from ._guard import load_yaml
from ._logging import logger, progress
from .exceptions import SchemaError
from .io._nwb import add_intervals
from .io.imaging._nwb_masks import CENTROID_ONLY, footprints_of
from .schema import validate

__all__ = ["to_nwb", "SERIES_NAMES", "FILE_FIELDS", "SUBJECT_FIELDS"]

#: sfone variable -> (NWB container, RoiResponseSeries name)
SERIES_NAMES = {
    "F": ("Fluorescence", "RoiResponseSeries"),
    "Fneu": ("Fluorescence", "Neuropil"),
    "spks": ("Fluorescence", "Deconvolved"),
    "C": ("Fluorescence", "Denoised"),
    "dff": ("DfOverF", "DfOverF"),
}
#: NWBFile fields a metadata dict / YAML may set
FILE_FIELDS = ("session_description", "identifier", "session_start_time", "experimenter",
               "institution", "lab", "experiment_description", "session_id", "keywords",
               "related_publications", "notes", "protocol")
#: Subject fields a metadata dict / YAML may set (under ``subject:`` or ``Subject:``)
SUBJECT_FIELDS = ("subject_id", "species", "sex", "age", "date_of_birth", "description",
                  "genotype", "strain", "weight")
#: largest roi x height x width written as dense ``image_mask`` too (roiextractors reads only it)
IMAGE_MASK_MAX = 2 ** 24


def _load_metadata(metadata) -> tuple[dict, dict]:
    """(file fields, subject fields) from a dict or YAML path; unknown keys are errors."""
    if metadata is None:
        return {}, {}
    source = metadata
    if isinstance(metadata, str | os.PathLike):
        metadata = load_yaml(metadata, error=SchemaError, what="NWB metadata file") or {}
    if not isinstance(metadata, dict):
        raise SchemaError(f"NWB metadata {source}: expected a mapping, got "
                          f"{type(metadata).__name__}")
    flat = {**metadata.get("NWBFile", {}), **{k: v for k, v in metadata.items()
                                              if k not in ("NWBFile", "Subject", "subject")}}
    subject = dict(metadata.get("Subject") or metadata.get("subject") or {})
    for keys, known, where in ((flat, FILE_FIELDS, "file"), (subject, SUBJECT_FIELDS, "subject")):
        unknown = sorted(set(keys) - set(known))
        if unknown:
            raise SchemaError(f"NWB metadata {source}: unknown {where} field(s) "
                              f"{', '.join(unknown)}; expected some of {', '.join(known)}")
    return flat, subject


def _start_time(value) -> datetime:
    if value is None:
        raise SchemaError("NWB needs a session start: pass session_start_time= (tz-aware "
                          "datetime or ISO 8601 string) or set ds.attrs['session_start']")
    start = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if start.tzinfo is None:
        raise SchemaError(f"session start {start.isoformat()} has no time zone; NWB needs one")
    return start


def nwb_file(ds: xr.Dataset, *, metadata=None, **options):
    """A pynwb ``NWBFile`` for ``ds``: options override the metadata, which overrides
    ``ds.attrs`` (``session_start``, ``subject``)."""
    from pynwb import NWBFile
    from pynwb.file import Subject

    fields, subject = _load_metadata(metadata)
    for key, value in options.items():
        if value is not None:
            (subject if key in SUBJECT_FIELDS else fields)[key] = value
    fields.setdefault("session_start_time", ds.attrs.get("session_start"))
    subject.setdefault("subject_id", ds.attrs.get("subject"))
    if isinstance(fields.get("experimenter"), str):
        fields["experimenter"] = [fields["experimenter"]]
    fields["session_start_time"] = _start_time(fields["session_start_time"])
    fields.setdefault("session_description",
                      f"sfone {ds.attrs.get('modality', '')} session read from "
                      f"{ds.attrs.get('source_format', 'unknown')}")
    fields["identifier"] = str(fields.get("identifier") or uuid.uuid4())
    subject = {k: v for k, v in subject.items() if v is not None}
    if "subject_id" in subject:
        subject["subject_id"] = str(subject["subject_id"])
    missing = [f for f in ("experimenter", "institution") if not fields.get(f)] + [
        f for f in ("subject_id", "species", "sex", "age") if f not in subject]
    if missing:
        logger.info("NWB metadata without %s: DANDI asks for them", ", ".join(missing))
    return NWBFile(**fields, source_script=f"sfone {ds.attrs.get('sfone_version', '')}",
                   source_script_file_name=str(ds.attrs.get("source_file", "")),
                   subject=Subject(**subject) if subject else None)


def write_nwbfile(nwbfile, path) -> Path:
    """Write ``nwbfile`` to ``path`` atomically (temp file then rename)."""
    from pynwb import NWBHDF5IO

    from ._atomic import atomic_path

    with atomic_path(path) as tmp:
        staging = tmp.with_name(tmp.name + ".nwb")  # pynwb warns about names not ending .nwb
        try:
            with NWBHDF5IO(str(staging), "w") as io:
                io.write(nwbfile)
            os.replace(staging, tmp)
        finally:
            staging.unlink(missing_ok=True)
    return Path(path)


def _imaging_plane(nwbfile, ds: xr.Dataset, *, indicator: str, location: str,
                   excitation_lambda: float, device_name: str):
    from pynwb.ophys import OpticalChannel

    device = nwbfile.create_device(name=device_name, description="imaging device")
    channel = OpticalChannel(name="OpticalChannel", description="functional channel",
                             emission_lambda=float("nan"))
    return nwbfile.create_imaging_plane(
        name="ImagingPlane", optical_channel=channel, device=device,
        description=f"imaging plane read from {ds.attrs.get('source_format', 'unknown')}",
        imaging_rate=float(ds.attrs["fs"]), indicator=indicator, location=location,
        excitation_lambda=float(excitation_lambda))


def _coord(ds: xr.Dataset, name: str, default):
    return np.asarray(ds[name].values) if name in ds.coords else np.full(ds.sizes["roi"], default)


def _roi_masks(ds: xr.Dataset, image_masks) -> tuple[list, np.ndarray | None, str]:
    """Per-ROI pixel masks ``[(row, col, weight), ...]``, dense image masks or None, and a
    table description."""
    n = ds.sizes["roi"]
    fp = footprints_of(ds)
    if fp is None:
        y = np.nan_to_num(_coord(ds, "y", np.nan).astype(float)).round().astype(int)
        x = np.nan_to_num(_coord(ds, "x", np.nan).astype(float)).round().astype(int)
        return ([[(int(y[i]), int(x[i]), 1.0)] for i in range(n)], None,
                f"ROIs; the input had no footprints, so {CENTROID_ONLY[0]} (x = row, "
                "y = column)")
    bounds = np.searchsorted(fp["roi"], np.arange(n + 1))
    masks = [list(zip(fp["y"][a:b].tolist(), fp["x"][a:b].tolist(),
                      fp["weight"][a:b].astype(float).tolist(), strict=True))
             for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    rows, cols = fp["fov_shape"]
    dense = None
    if image_masks or (image_masks is None and n * rows * cols <= IMAGE_MASK_MAX):
        dense = np.zeros((n, cols, rows), dtype=np.float32)  # (roi, width, height)
        dense[fp["roi"], fp["x"], fp["y"]] = fp["weight"]
    return masks, dense, ("ROI footprints; pixel_mask x = row, y = column (NeuroConv, suite2p)"
                          + ("; image_mask is (roi, width, height)" if dense is not None else ""))


def _plane_segmentation(module, plane, ds: xr.Dataset, image_masks):
    from pynwb.ophys import ImageSegmentation

    segmentation = ImageSegmentation()
    module.add(segmentation)
    masks, dense, description = _roi_masks(ds, image_masks)
    table = segmentation.create_plane_segmentation(
        name="PlaneSegmentation", imaging_plane=plane, description=description)
    columns = {
        "roi_id": ("ROI index in the source", np.asarray(ds["roi"].values).astype(np.int64)),
        "iscell": ("accepted as a cell", _coord(ds, "iscell", True).astype(bool)),
        "iscell_prob": ("classifier probability", _coord(ds, "iscell_prob", np.nan).astype(float)),
        "centroid_y": ("centroid row (pixel)", _coord(ds, "y", np.nan).astype(float)),
        "centroid_x": ("centroid column (pixel)", _coord(ds, "x", np.nan).astype(float)),
        "plane": ("imaging plane index", _coord(ds, "plane", 0).astype(np.int64)),
    }
    if np.isnan(columns["iscell_prob"][1]).all():
        del columns["iscell_prob"]
    for name, (description, _) in columns.items():
        table.add_column(name=name, description=description)
    for i in progress(range(ds.sizes["roi"]), desc="NWB ROIs", unit="roi"):  # row by row in pynwb
        extra = {"image_mask": dense[i]} if dense is not None else {}
        table.add_roi(pixel_mask=masks[i], **extra,
                      **{name: values[i] for name, (_, values) in columns.items()})
    if "mean_image" in ds:
        from pynwb.base import Images
        from pynwb.image import GrayscaleImage

        module.add(Images(name="SegmentationImages", description="summary images", images=[
            GrayscaleImage(name="MeanImage", description="mean image, stored (width, height)",
                           data=np.asarray(ds["mean_image"].values).T)]))
    return table


def _series_timing(ds: xr.Dataset, fs: float) -> dict:
    time = np.asarray(ds["time"].values, dtype=float)
    regular = time.size < 2 or np.allclose(np.diff(time), 1.0 / fs, rtol=1e-6, atol=1e-9)
    if regular:
        return {"rate": fs, "starting_time": float(time[0]) if time.size else 0.0}
    return {"timestamps": time}


def _trace_unit(ds: xr.Dataset, var: str) -> str:
    unit = str(ds[var].attrs.get("units", "a.u."))
    if var == "F" and unit == "a.u." and ds.attrs.get("trace_units"):
        return str(ds.attrs["trace_units"])  # an Inscopix cell set: "dF over F", ...
    return unit


def _add_traces(module, table, ds: xr.Dataset) -> None:
    from pynwb.ophys import DfOverF, Fluorescence, RoiResponseSeries

    region = table.create_roi_table_region(region=list(range(ds.sizes["roi"])),
                                           description="all ROIs")
    containers: dict = {}
    timing = _series_timing(ds, float(ds.attrs["fs"]))
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
            rois=region, unit=_trace_unit(ds, var),
            description=json.dumps({"sfone_variable": var, **attrs}, default=str), **timing))


def _imaging_content(nwbfile, ds: xr.Dataset, *, indicator, location, excitation_lambda,
                     device_name, image_masks) -> None:
    plane = _imaging_plane(nwbfile, ds, indicator=indicator, location=location,
                           excitation_lambda=excitation_lambda, device_name=device_name)
    module = nwbfile.create_processing_module(name="ophys", description="optical physiology")
    table = _plane_segmentation(module, plane, ds, image_masks)
    _add_traces(module, table, ds)


def to_nwb(ds: xr.Dataset, path, *, events: xr.Dataset | None = None, metadata=None,
           session_start_time=None, session_description: str | None = None,
           identifier: str | None = None, experimenter=None, institution: str | None = None,
           lab: str | None = None, subject_id: str | None = None, species: str | None = None,
           sex: str | None = None, age: str | None = None, indicator: str = "unknown",
           location: str = "unknown", excitation_lambda: float = float("nan"),
           device_name: str | None = None, image_masks: bool | None = None,
           fibers: dict | None = None) -> Path:
    """Write an imaging or photometry Dataset (and optional run epochs) to NWB, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Contract-valid imaging (``F`` over ``(roi, time)``, ``fs`` in Hz) or photometry Dataset.
    path : str or Path
        Output ``.nwb`` file.
    events : xarray.Dataset, optional
        Events Dataset (``start``/``end`` in s) written as the ``runs`` TimeIntervals table.
    metadata : dict or path, optional
        NWBFile and Subject fields (:data:`FILE_FIELDS`, :data:`SUBJECT_FIELDS`), flat with a
        ``subject:`` mapping or in NeuroConv's ``NWBFile:`` / ``Subject:`` sections; a path is
        read as YAML. Keyword options below win over it.
    session_start_time : datetime or str, optional
        tz-aware acquisition start; defaults to ``ds.attrs['session_start']``.
    session_description : str, optional
        Default: "sfone <modality> session read from <source format>".
    identifier : str, optional
        Unique file identifier (default: a random UUID).
    experimenter : str or list of str, optional
        File metadata (a single name becomes a one-item list).
    institution, lab, subject_id, species, sex, age : str, optional
        File and Subject metadata (``age`` ISO 8601, e.g. ``"P90D"``; ``sex`` M/F/U/O;
        ``subject_id`` defaults to ``ds.attrs['subject']``). DANDI requires the subject ones.
    indicator, location : str, default "unknown"
        Imaging-plane indicator (e.g. ``"GCaMP6f"``) and brain location; imaging only.
    excitation_lambda : float, default nan
        Imaging-plane excitation wavelength (nm); imaging only.
    device_name : str, optional
        Device name (imaging default ``"Microscope"``); for photometry see ``fibers``.
    image_masks : bool, optional
        Also write dense ``image_mask`` (default: when roi x height x width <= 2**24).
    fibers : dict, optional
        Photometry: per variable (or ``"*"``) the fiber metadata ``excitation_wavelength_nm``,
        ``emission_wavelength_nm``, ``indicator``, ``location``, ``fiber`` (name); see
        :func:`sfone.io.photometry.nwb.add_photometry`.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    SchemaError
        If ``ds`` breaks the data contract, is neither imaging nor photometry, has no
        tz-aware session start, or ``metadata`` has unknown fields.
    """
    validate(ds)
    nwbfile = nwb_file(ds, metadata=metadata, session_start_time=session_start_time,
                       session_description=session_description, identifier=identifier,
                       experimenter=experimenter, institution=institution, lab=lab,
                       subject_id=subject_id, species=species, sex=sex, age=age)
    if ds.attrs.get("modality") == "photometry":
        from .io.photometry.nwb import add_photometry

        add_photometry(nwbfile, ds, fibers=fibers, device_name=device_name)
    elif ds.attrs.get("modality") == "imaging":
        _imaging_content(nwbfile, ds, indicator=indicator, location=location,
                         excitation_lambda=excitation_lambda,
                         device_name=device_name or "Microscope", image_masks=image_masks)
    else:
        raise SchemaError(f"to_nwb writes imaging and photometry Datasets, not "
                          f"{ds.attrs.get('modality')!r}")
    if events is not None:
        add_intervals(nwbfile, events)
    return write_nwbfile(nwbfile, path)
