"""Write sfone Datasets (and run epochs) to NWB the standard way (extra ``nwb``: pynwb).

Imaging (NeuroConv names, so other tools find the data):

* ``processing/ophys/ImageSegmentation/PlaneSegmentation``: one row per ROI. ``pixel_mask``
  holds the real footprints (``mask_*`` variables) with their weights, in the ecosystem's
  convention (NeuroConv, suite2p's ``ophys.nwb``): ``x`` = pixel ROW, ``y`` = COLUMN. An input
  without footprints gets a one-pixel mask at its centroid (and the table says so). Small
  fields of view also get ``image_mask`` (``(roi, width, height)`` as roiextractors writes and
  reads it). An input without footprints or centroids (an Inscopix CSV) gets no masks at all:
  an empty ``image_mask`` ``(roi, 0, 0)``, as NWB allows a table without masks but pynwb
  cannot read one back. Columns ``roi_id``, ``iscell``, ``iscell_prob`` (where known),
  ``centroid_y``, ``centroid_x`` (where known), ``plane`` (uint8), ``roi_name`` and
  ``cell_status`` (where the source names and curates its cells).
* ``processing/ophys/SegmentationImages/MeanImage`` (stored ``(width, height)``, as NeuroConv).
* ``processing/ophys/Fluorescence/{RoiResponseSeries,Neuropil,Deconvolved,Denoised,...}`` and
  ``processing/ophys/DfOverF/DfOverF``: RoiResponseSeries ``(time, rois)`` in the Dataset's
  units (an Inscopix cell set's ``trace_units``, e.g. "dF over F", where ``F`` says "a.u.").

Photometry: ``ndx-fiber-photometry`` (see :mod:`sfone.io.photometry.nwb`).

Both: run epochs as ``intervals/runs`` (TimeIntervals ``start_time``, ``stop_time``, ``label``,
``is_run``), with the recording periods before, between and after the runs as rows of their
own (``is_run`` False; :func:`sfone.io.imaging.nwb.read_nwb_events` returns the runs only);
metadata (session, experimenter, institution, lab, subject, imaging plane, fibers, the zone of
a session start stored without one) from keyword options or a ``metadata`` dict / YAML file
(see :mod:`sfone.io._nwb_metadata` and docs/nwb.md).

pynwb is imported inside the functions only; ``import sfone`` stays light.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np
import xarray as xr

from ._logging import logger, progress
from .exceptions import SchemaError
from .footprints import mask_centroids
from .io._nwb import NO_MASKS, add_runs
from .io._nwb_metadata import (
    FILE_FIELDS,
    SUBJECT_FIELDS,
    load_metadata,
    merge_fibers,
    session_start,
)
from .io.imaging._nwb_masks import CENTROID_ONLY, footprints_of
from .schema import is_time_dim, validate

__all__ = ["to_nwb", "SERIES_NAMES", "FILE_FIELDS", "SUBJECT_FIELDS"]

#: sfone variable -> (NWB container, RoiResponseSeries name)
SERIES_NAMES = {
    "F": ("Fluorescence", "RoiResponseSeries"),
    "Fneu": ("Fluorescence", "Neuropil"),
    "spks": ("Fluorescence", "Deconvolved"),
    "C": ("Fluorescence", "Denoised"),
    "dff": ("DfOverF", "DfOverF"),
}
#: largest roi x height x width written as dense ``image_mask`` too (roiextractors reads only it)
IMAGE_MASK_MAX = 2 ** 24


def nwb_file(ds: xr.Dataset, meta: dict, **options):
    """A pynwb ``NWBFile`` for ``ds``: options override the metadata (:func:`load_metadata`),
    which overrides ``ds.attrs`` (``session_start``, ``subject``)."""
    from pynwb import NWBFile
    from pynwb.file import Subject

    fields, subject = dict(meta["file"]), dict(meta["subject"])
    zone = options.pop("timezone", None)
    zone_origin = "the timezone option" if zone is not None else meta["origin"].get("timezone")
    zone = zone if zone is not None else meta["options"].get("timezone")
    for key, value in options.items():
        if value is not None:
            (subject if key in SUBJECT_FIELDS else fields)[key] = value
    fields.setdefault("session_start_time", ds.attrs.get("session_start"))
    subject.setdefault("subject_id", ds.attrs.get("subject"))
    if isinstance(fields.get("experimenter"), str):
        fields["experimenter"] = [fields["experimenter"]]
    if isinstance(fields.get("keywords"), str):
        fields["keywords"] = [fields["keywords"]]
    fields["session_start_time"] = session_start(
        fields["session_start_time"], zone=zone, zone_origin=zone_origin or "",
        source=str(ds.attrs.get("source_file", "")))
    fields.setdefault("session_description",
                      f"sfone {ds.attrs.get('modality', '')} session read from "
                      f"{ds.attrs.get('source_format', 'unknown')}")
    fields["identifier"] = str(fields.get("identifier") or uuid.uuid4())
    subject = {k: v for k, v in subject.items() if v is not None}
    if "subject_id" in subject:
        subject["subject_id"] = str(subject["subject_id"])
    missing = [f for f in ("experimenter", "institution", "experiment_description", "keywords")
               if not fields.get(f)] + [
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


def _imaging_plane(nwbfile, ds: xr.Dataset, plane: dict):
    from pynwb.device import DeviceModel
    from pynwb.ophys import OpticalChannel

    name = plane.get("device_name") or "Microscope"
    model = None
    if plane.get("device_manufacturer"):
        model = DeviceModel(name=f"{name}_model", manufacturer=str(plane["device_manufacturer"]),
                            description=f"model of {name}")
        nwbfile.add_device_model(model)
    device = nwbfile.create_device(name=name, model=model, description=str(
        plane.get("device_description") or "imaging device"))
    channel = OpticalChannel(name="OpticalChannel", description="functional channel",
                             emission_lambda=float(plane.get("emission_lambda", np.nan)))
    return nwbfile.create_imaging_plane(
        name="ImagingPlane", optical_channel=channel, device=device,
        description=str(plane.get("imaging_plane_description") or
                        f"imaging plane read from {ds.attrs.get('source_format', 'unknown')}"),
        imaging_rate=float(ds.attrs["fs"]), indicator=str(plane.get("indicator", "unknown")),
        location=str(plane.get("location", "unknown")),
        excitation_lambda=float(plane.get("excitation_lambda", np.nan)))


def _coord(ds: xr.Dataset, name: str, default):
    return np.asarray(ds[name].values) if name in ds.coords else np.full(ds.sizes["roi"], default)


def _roi_masks(ds: xr.Dataset, image_masks) -> tuple[list | None, np.ndarray | None, str]:
    """Per-ROI pixel masks ``[(row, col, weight), ...]`` (None: no masks), dense image masks or
    None, and a table description."""
    n = ds.sizes["roi"]
    fp = footprints_of(ds)
    if fp is None:
        y, x = _coord(ds, "y", np.nan).astype(float), _coord(ds, "x", np.nan).astype(float)
        if not (np.isfinite(y).all() and np.isfinite(x).all()):  # nothing to place a mask at
            return None, np.zeros((n, 0, 0), dtype=np.uint8), f"ROIs; {NO_MASKS}"
        y, x = y.round().astype(int), x.round().astype(int)
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


def _centroid_columns(ds: xr.Dataset) -> dict:
    """``centroid_y``/``centroid_x``: with footprints, their weighted centroids (the one
    definition, :func:`sfone.footprints.mask_centroids`, as readers compute from pixel_mask);
    without, the Dataset's ``y``/``x``."""
    fp = footprints_of(ds)
    if fp is None:
        y, x = _coord(ds, "y", np.nan).astype(float), _coord(ds, "x", np.nan).astype(float)
        what = "centroid {} (pixel)"
    else:
        y, x = mask_centroids(fp["roi"], fp["y"], fp["x"], fp["weight"], ds.sizes["roi"])
        what = "centroid {} (pixel): weighted mean of the pixel_mask"
    return {"centroid_y": (what.format("row"), y), "centroid_x": (what.format("column"), x)}


def _roi_columns(ds: xr.Dataset) -> dict:
    """name -> (description, values) of the PlaneSegmentation's per-ROI columns; a column
    whose values are all unknown (NaN) is left out."""
    plane = _coord(ds, "plane", 0).astype(np.int64)
    columns = {
        "roi_id": ("ROI index in the source", np.asarray(ds["roi"].values).astype(np.int64)),
        "iscell": ("accepted as a cell", _coord(ds, "iscell", True).astype(bool)),
        "iscell_prob": ("classifier probability", _coord(ds, "iscell_prob", np.nan).astype(float)),
        **_centroid_columns(ds),
        # a plane index, not a flag: uint8 (the inspector asks 0/1 integers to be booleans)
        "plane": ("imaging plane index", plane.astype(np.uint8) if plane.size and
                  0 <= plane.min() and plane.max() < 256 else plane),
    }
    for name in ("iscell_prob", "centroid_y", "centroid_x"):
        if np.isnan(columns[name][1]).all():
            del columns[name]
    if "cell_name" in ds.coords:  # NeuroConv's names for an Inscopix cell set's columns
        columns["roi_name"] = ("cell name in the source",
                               np.asarray(ds["cell_name"].values).astype(str))
    if "status" in ds.coords:
        columns["cell_status"] = ("curation status in the source",
                                  np.asarray(ds["status"].values).astype(str))
    return columns


def _plane_segmentation(module, plane, ds: xr.Dataset, image_masks):
    from pynwb.ophys import ImageSegmentation, PlaneSegmentation

    segmentation = ImageSegmentation()
    module.add(segmentation)
    masks, dense, description = _roi_masks(ds, image_masks)
    columns = _roi_columns(ds)
    if masks is None:  # pynwb's add_roi wants a mask: build the columns whole
        from hdmf.common import VectorData

        table = PlaneSegmentation(
            name="PlaneSegmentation", imaging_plane=plane, description=description,
            id=list(range(ds.sizes["roi"])),
            columns=[VectorData(name="image_mask", data=dense, description=(
                "empty (0 x 0): the source has no footprints"))] + [
                VectorData(name=name, description=text, data=values)
                for name, (text, values) in columns.items()])
        segmentation.add_plane_segmentation(table)
    else:
        table = segmentation.create_plane_segmentation(
            name="PlaneSegmentation", imaging_plane=plane, description=description)
        for name, (text, _) in columns.items():
            table.add_column(name=name, description=text)
        for i in progress(range(ds.sizes["roi"]), desc="NWB ROIs", unit="roi"):  # pynwb: by row
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


def _imaging_content(nwbfile, ds: xr.Dataset, plane: dict, image_masks) -> None:
    imaging_plane = _imaging_plane(nwbfile, ds, plane)
    module = nwbfile.create_processing_module(name="ophys", description="optical physiology")
    table = _plane_segmentation(module, imaging_plane, ds, image_masks)
    _add_traces(module, table, ds)


def _recording_span(ds: xr.Dataset) -> tuple[float, float]:
    """First and last sample time (s) over every time coordinate of ``ds``."""
    times = [np.asarray(ds[d].values, dtype=float) for d in ds.dims if is_time_dim(d)]
    times = [t for t in times if t.size]
    if not times:
        return 0.0, 0.0
    return min(float(t[0]) for t in times), max(float(t[-1]) for t in times)


def to_nwb(ds: xr.Dataset, path, *, events: xr.Dataset | None = None, metadata=None,
           session_start_time=None, timezone: str | None = None,
           session_description: str | None = None, identifier: str | None = None,
           experimenter=None, institution: str | None = None, lab: str | None = None,
           experiment_description: str | None = None, keywords=None,
           subject_id: str | None = None, species: str | None = None, sex: str | None = None,
           age: str | None = None, indicator: str | None = None, location: str | None = None,
           excitation_lambda: float | None = None, emission_lambda: float | None = None,
           device_name: str | None = None, image_masks: bool | None = None,
           fibers: dict | None = None) -> Path:
    """Write an imaging or photometry Dataset (and optional run epochs) to NWB, atomically.

    Every keyword option below also has a key in the ``metadata`` YAML (docs/nwb.md); the
    option wins over the metadata, which wins over what the Dataset says (``session_start``,
    ``subject``, a channel's ``excitation_nm``).

    Parameters
    ----------
    ds : xarray.Dataset
        Contract-valid imaging (``F`` over ``(roi, time)``, ``fs`` in Hz) or photometry Dataset.
    path : str or Path
        Output ``.nwb`` file.
    events : xarray.Dataset, optional
        Events Dataset (``start``/``end`` in s) written as the ``runs`` TimeIntervals table,
        with the recording periods around the runs as rows of their own (``is_run`` False).
    metadata : dict, path or list of them, optional
        A lab metadata YAML (or mapping): NWBFile and Subject fields (:data:`FILE_FIELDS`,
        :data:`SUBJECT_FIELDS`) flat with a ``subject:`` mapping or in NeuroConv's ``NWBFile:``
        / ``Subject:`` / ``Ophys:`` sections, plus ``timezone``, ``fibers`` and the imaging
        keys named below. Several sources merge, later ones winning.
    session_start_time : datetime or str, optional
        Acquisition start; defaults to ``ds.attrs['session_start']``.
    timezone : str, optional
        Zone of a session start stored without one (Doric v6, pyPhotometry): an IANA name
        (``"Europe/Berlin"``) or an offset (``"+01:00"``). The zone assumed, and where it came
        from, is stated in a ``DataRepairWarning``; without one such a start is refused.
    session_description : str, optional
        Default: "sfone <modality> session read from <source format>".
    identifier : str, optional
        Unique file identifier (default: a random UUID).
    experimenter : str or list of str, optional
        File metadata (a single name becomes a one-item list).
    institution, lab, experiment_description : str, optional
        File metadata.
    keywords : str or list of str, optional
        File keywords.
    subject_id, species, sex, age : str, optional
        Subject metadata (``age`` ISO 8601, e.g. ``"P90D"``; ``sex`` M/F/U/O; ``subject_id``
        defaults to ``ds.attrs['subject']``). DANDI requires them.
    indicator, location : str, optional
        Imaging-plane indicator (e.g. ``"GCaMP6f"``) and brain location; imaging only
        (default "unknown").
    excitation_lambda, emission_lambda : float, optional
        Imaging-plane excitation and emission wavelengths (nm); imaging only (default NaN).
    device_name : str, optional
        Device name (imaging default ``"Microscope"``; photometry: the photodetector).
    image_masks : bool, optional
        Also write dense ``image_mask`` (default: when roi x height x width <= 2**24).
    fibers : dict, optional
        Photometry: per variable name or glob pattern (``"*"``, ``"*_470"``) the fiber
        metadata ``excitation_wavelength_nm``, ``emission_wavelength_nm``, ``indicator``,
        ``location``, ``fiber`` (name); merged over ``metadata``'s ``fibers``; see
        :func:`sfone.io.photometry.nwb.add_photometry`.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    SchemaError
        If ``ds`` breaks the data contract, is neither imaging nor photometry, has no
        session start (or one without a zone and no ``timezone``), or ``metadata`` has
        unknown fields.
    """
    validate(ds)
    meta = load_metadata(metadata)
    nwbfile = nwb_file(ds, meta, session_start_time=session_start_time, timezone=timezone,
                       session_description=session_description, identifier=identifier,
                       experimenter=experimenter, institution=institution, lab=lab,
                       experiment_description=experiment_description, keywords=keywords,
                       subject_id=subject_id, species=species, sex=sex, age=age)
    given = {"indicator": indicator, "location": location, "excitation_lambda": excitation_lambda,
             "emission_lambda": emission_lambda, "device_name": device_name}
    options = {**meta["options"], **{k: v for k, v in given.items() if v is not None}}
    if ds.attrs.get("modality") == "photometry":
        from .io.photometry.nwb import add_photometry

        add_photometry(nwbfile, ds, fibers=merge_fibers(options.get("fibers"), fibers),
                       device_name=device_name)  # Ophys.Device describes the microscope
    elif ds.attrs.get("modality") == "imaging":
        _imaging_content(nwbfile, ds, options, image_masks)
    else:
        raise SchemaError(f"to_nwb writes imaging and photometry Datasets, not "
                          f"{ds.attrs.get('modality')!r}")
    if events is not None:
        add_runs(nwbfile, events, span=_recording_span(ds))
    return write_nwbfile(nwbfile, path)
