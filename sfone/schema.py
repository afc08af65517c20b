"""The sfone data contract: dimension, variable, coordinate and attribute names, units and required
metadata per modality, and :func:`validate`.

This module is the single source of truth; ``docs/data-model.md`` describes it for users.

Imaging Datasets may carry ROI footprints (``mask_roi``, ``mask_y``, ``mask_x``, ``mask_weight``
over ``mask_pixel``, attr ``fov_shape``, optional ``mean_image``); see :mod:`sfone.footprints`.

Common to every modality
    * Dataset attrs ``modality``, ``source_format``, ``source_file``, ``sfone_version``; where the
      file says so, ``subject`` and ``session_start`` (ISO 8601 string).
    * Time is float64 seconds from session start on coordinates whose name is ``time`` or starts with
      ``time_`` (one per independent clock), each with ``attrs["units"] == "s"``.
    * Every data variable has a ``units`` attr.

Imaging
    * ``neuropil_coefficient`` (attr, optional, unitless): the c of ``F - c * Fneu`` the file
      states (suite2p ``ops['neucoeff']``); one name for readers, simulator, alignment
      (:func:`sfone.perievent.trace_array`) and classifier.
    * ``status`` (coord over ``roi``, optional): the source's curation, one of
      :data:`CELL_STATUSES`; ``"unknown"`` when the source stores none, and then ``iscell`` is
      False (unknown is not accepted).
    * ``y``/``x``: the centroid, :data:`CENTROID_DEFINITION`.

A rate inferred from timestamps (rather than read from a header) is :func:`rate_from_times`.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .exceptions import SchemaError

__all__ = ["POST_RUN_LABELS", "MODALITIES", "SCHEMA_VERSION", "ModalitySpec", "validate", "finalize_dataset",
           "make_events", "is_time_dim", "rate_from_times", "CELL_STATUSES",
           "CENTROID_DEFINITION"]

SCHEMA_VERSION = "1"
_PASSED: ContextVar[list | None] = ContextVar("sfone_validated", default=None)
COMMON_ATTRS = ("modality", "source_format", "source_file", "sfone_version")
OPTIONAL_ATTRS = ("subject", "session_start")
NEUROPIL_ATTR = "neuropil_coefficient"
#: the post-run (and run) labels of a classification result, in display order
POST_RUN_LABELS = ("activated", "inhibited", "unchanged")
#: values of the imaging coord ``status``: a source's curation; "unknown" = the source has none
CELL_STATUSES = ("accepted", "undecided", "rejected", "unknown")
#: what the imaging coords ``y``/``x`` are, from every source (suite2p, CaImAn, Inscopix, NWB)
CENTROID_DEFINITION = ("weighted mean row/column of the ROI's footprint pixels (weights below 0 "
                       "count as 0), pixels")


@dataclass(frozen=True)
class ModalitySpec:
    """What a Dataset of one modality must (and may) contain.

    Parameters
    ----------
    name : str
        Modality name (a key of :data:`MODALITIES`).
    dims : tuple of str or None
        Exact dims of the required variables; ``None``: each variable has one time dimension.
    required_vars : tuple of str, default ()
        Data variables that must be present.
    required_coords : tuple of str, default ()
        Coordinates that must be present.
    required_attrs : tuple of str, default ()
        Dataset attrs that must be present (beyond the common ones).
    units : dict of str to str, default {}
        Fixed ``units`` attr of known variables and coordinates (e.g. ``{"vo2": "mL/h"}``).
    """

    name: str
    dims: tuple[str, ...] | None  # exact dims of required variables; None: one time dim each
    required_vars: tuple[str, ...] = ()
    required_coords: tuple[str, ...] = ()
    required_attrs: tuple[str, ...] = ()
    units: dict[str, str] = field(default_factory=dict)  # fixed units of known variables/coords


MODALITIES: dict[str, ModalitySpec] = {
    "imaging": ModalitySpec(
        name="imaging",
        dims=("roi", "time"),
        required_vars=("F",),
        required_coords=("roi", "iscell"),
        required_attrs=("fs",),
        units={"y": "pixel", "x": "pixel", "mask_y": "pixel", "mask_x": "pixel",
               "mask_weight": "1", "mean_image": "a.u."},
    ),
    "photometry": ModalitySpec(name="photometry", dims=None),
    "calorimetry": ModalitySpec(
        name="calorimetry",
        dims=("subject", "time"),
        required_vars=("vo2", "vco2"),
        required_coords=("subject",),
        units={"vo2": "mL/h", "vco2": "mL/h", "ee": "kcal/h", "rer": "1", "body_mass": "g"},
    ),
    "events": ModalitySpec(
        name="events",
        dims=("epoch",),
        required_vars=("start", "end"),
        required_coords=("epoch",),
        units={"start": "s", "end": "s"},
    ),
}


def is_time_dim(name: str) -> bool:
    """True for ``time`` and per-clock time dimensions such as ``time_lockin1``.

    Parameters
    ----------
    name : str
        Dimension name.

    Returns
    -------
    bool
    """
    return name == "time" or name.startswith("time_")


def _check_time_coord(ds: xr.Dataset, name: str, problems: list[str]) -> None:
    if name not in ds.coords:
        problems.append(f"time dimension {name!r} has no coordinate (expected float64 seconds)")
        return
    coord = ds.coords[name]
    if coord.dtype != np.float64:
        problems.append(f"coordinate {name!r} has dtype {coord.dtype}, expected float64 seconds")
    if coord.attrs.get("units") != "s":
        problems.append(f"coordinate {name!r} has units {coord.attrs.get('units')!r}, expected 's'")
    values = np.asarray(coord.values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size != values.size:
        problems.append(f"coordinate {name!r} contains {values.size - finite.size} non-finite values")
    elif values.size > 1 and np.any(np.diff(values) <= 0):
        bad = int(np.argmax(np.diff(values) <= 0))
        problems.append(f"coordinate {name!r} is not strictly increasing (at index {bad + 1}: "
                        f"{values[bad]!r} then {values[bad + 1]!r})")


def _check_spec(ds: xr.Dataset, spec: ModalitySpec, problems: list[str]) -> None:
    for var in spec.required_vars:
        if var not in ds.data_vars:
            problems.append(f"missing variable {var!r} required for modality {spec.name!r}")
        elif spec.dims is not None and ds[var].dims != spec.dims:
            problems.append(f"variable {var!r} has dims {ds[var].dims}, expected {spec.dims}")
    for coord in spec.required_coords:
        if coord not in ds.coords:
            problems.append(f"missing coordinate {coord!r} required for modality {spec.name!r}")
    for attr in spec.required_attrs:
        if attr not in ds.attrs:
            problems.append(f"missing attr {attr!r} required for modality {spec.name!r}")
    for name, unit in spec.units.items():
        if name in ds.variables and ds[name].attrs.get("units") != unit:
            problems.append(f"{name!r} has units {ds[name].attrs.get('units')!r}, expected {unit!r}")
    if spec.name == "imaging" and "iscell" in ds.coords and ds.coords["iscell"].dtype != bool:
        problems.append(f"coordinate 'iscell' has dtype {ds.coords['iscell'].dtype}, expected bool")
    if spec.name == "imaging" and "status" in ds.coords:
        _check_status(ds, problems)
    if spec.name == "imaging" and "fs" in ds.attrs:
        fs = ds.attrs["fs"]
        if not (isinstance(fs, int | float | np.number) and np.isfinite(fs) and fs > 0):
            problems.append(f"attr 'fs' is {fs!r}, expected a positive sampling rate in Hz")
    if spec.name == "imaging":
        from .footprints import check_footprints

        problems.extend(check_footprints(ds))
    if spec.name == "imaging" and NEUROPIL_ATTR in ds.attrs:
        c = ds.attrs[NEUROPIL_ATTR]
        if not (isinstance(c, int | float | np.number) and np.isfinite(c) and 0 <= c <= 3):
            problems.append(f"attr {NEUROPIL_ATTR!r} is {c!r}, expected a number in 0-3")
    if spec.name == "photometry":
        for var in ds.data_vars:
            dims = ds[var].dims
            if len(dims) != 1 or not is_time_dim(dims[0]):
                problems.append(f"photometry variable {var!r} has dims {dims}, expected one time "
                                "dimension ('time' or 'time_<clock>')")


def _check_status(ds: xr.Dataset, problems: list[str]) -> None:
    status = np.asarray(ds.coords["status"].values).astype(str)
    unknown = sorted({str(s) for s in np.unique(status)} - set(CELL_STATUSES))
    if unknown:
        problems.append(f"coordinate 'status' holds {unknown}, expected values of "
                        f"{', '.join(CELL_STATUSES)}")
    if "iscell" in ds.coords and ds.coords["iscell"].dtype == bool:
        accepted_unknown = int(np.sum((status == "unknown") & ds.coords["iscell"].values))
        if accepted_unknown:
            problems.append(f"{accepted_unknown} ROI(s) have status 'unknown' but iscell True; "
                            "a ROI without curation is not accepted (iscell False)")


def rate_from_times(time) -> float:
    """The sampling rate (Hz) of timestamps (s), to the precision the timestamps support.

    The interval is the mean of the regular intervals (within 50 % of the median: gaps and
    repeated stamps left out), so a 30 Hz clock printed to 0.01 s gives 30 Hz, not 1/0.03. The
    timestamps' resolution ``q`` is the coarsest power of ten of which every time is a
    multiple (the precision they were printed with; never finer than the float resolution of
    the largest time). Each unbroken run of regular intervals is known to ``2 q``, so the rate
    is rounded to the significant digits of ``regular span / (2 q * runs)``: times printed to
    0.01 s over 200 s at 0.05 s give 20.0 Hz, not 20.000000000001137.

    Parameters
    ----------
    time : array_like of float
        Strictly increasing timestamps, s (at least two).

    Returns
    -------
    float
        Rate in Hz.

    Raises
    ------
    ValueError
        With fewer than two finite timestamps, or no positive interval.
    """
    time = np.asarray(time, dtype=np.float64).ravel()
    time = time[np.isfinite(time)]
    step = np.diff(time)
    if step.size == 0 or not np.any(step > 0):
        raise ValueError(f"cannot infer a rate from {time.size} timestamp(s) without a positive "
                         "interval")
    median = float(np.median(step))
    regular = (step > 0) & (np.abs(step - median) <= 0.5 * median)
    runs = 1 + int(np.count_nonzero(np.diff(regular.astype(np.int8)) == 1)) - int(not regular[0])
    span = float(step[regular].sum())
    rate = regular.sum() / span
    quantum = _resolution(time)
    digits = int(np.clip(np.floor(np.log10(span / (2.0 * quantum * max(runs, 1)))), 1, 15))
    return float(f"{rate:.{digits}g}")


def _resolution(time: np.ndarray) -> float:
    """Coarsest power of ten (s) of which every time is a multiple, within float precision."""
    floor = 4.0 * np.finfo(np.float64).eps * max(float(np.max(np.abs(time))), 1.0)
    for decimals in range(0, 16):
        quantum = 10.0 ** -decimals
        if quantum <= floor:
            break
        if np.all(np.abs(time - np.round(time, decimals)) <= floor):
            return quantum
    return floor


def validate(ds: xr.Dataset) -> xr.Dataset:
    """Check ``ds`` against the sfone data contract and return it unchanged.

    Parameters
    ----------
    ds : xarray.Dataset
        Dataset to check: common attrs, float64 time coordinates in seconds (strictly increasing),
        a ``units`` attr on every variable, and the requirements of its modality
        (:data:`MODALITIES`).

    Returns
    -------
    xarray.Dataset
        ``ds`` itself.

    Raises
    ------
    SchemaError
        Listing every problem found (missing attrs, variables, coordinates, wrong units, dims), or
        when ``ds`` is not a Dataset.
    """
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"expected an xarray.Dataset, got {type(ds).__name__}")
    problems: list[str] = []
    for attr in COMMON_ATTRS:
        if not ds.attrs.get(attr):
            problems.append(f"missing attr {attr!r}")
    modality = ds.attrs.get("modality")
    if modality and modality not in MODALITIES:
        problems.append(f"attr 'modality' is {modality!r}, expected one of {sorted(MODALITIES)}")
    for dim in ds.dims:
        if is_time_dim(str(dim)):
            _check_time_coord(ds, str(dim), problems)
    for name, var in ds.data_vars.items():
        if "units" not in var.attrs:
            problems.append(f"variable {name!r} has no 'units' attr")
    if modality in MODALITIES:
        _check_spec(ds, MODALITIES[modality], problems)
    if problems:
        source = ds.attrs.get("source_file", "<in-memory dataset>")
        raise SchemaError(f"{source}: dataset breaks the sfone data contract:\n  - "
                          + "\n  - ".join(problems))
    mark_validated(ds)
    return ds


@contextlib.contextmanager
def recording_validated():
    """Collect (by identity) the Datasets that pass :func:`validate` during the block, so
    :func:`sfone.read` does not validate again what a reader's :func:`finalize_dataset` did."""
    token = _PASSED.set([])
    try:
        yield _PASSED.get()
    finally:
        _PASSED.reset(token)


def mark_validated(ds: xr.Dataset) -> None:
    """Record ``ds`` as valid in the enclosing :func:`recording_validated` block, if any."""
    passed = _PASSED.get()
    if passed is not None:
        passed.append(ds)


def finalize_dataset(ds: xr.Dataset, *, modality: str, source_format: str, source_file,
                     subject: str | None = None, session_start: str | None = None,
                     **attrs) -> xr.Dataset:
    """Stamp the provenance attrs on ``ds``, then :func:`validate` it. Loaders end with this.

    Parameters
    ----------
    ds : xarray.Dataset
        The Dataset a loader built; its attrs are updated in place.
    modality : str
        ``"imaging"``, ``"photometry"``, ``"calorimetry"`` or ``"events"``.
    source_format : str
        Format name (e.g. ``"suite2p"``).
    source_file : str or os.PathLike
        File or folder read (stored as a string).
    subject : str, optional
        Subject identifier, when the file names it.
    session_start : str, optional
        Acquisition start as an ISO 8601 string.
    **attrs
        Further Dataset attrs (flat: str, numbers, lists).

    Returns
    -------
    xarray.Dataset
        ``ds``, with attrs ``modality``, ``source_format``, ``source_file``, ``sfone_version``,
        ``sfone_schema_version`` (and ``subject``/``session_start`` when given).

    Raises
    ------
    SchemaError
        If the result breaks the data contract.
    FormatError
        If a sampling rate is implausible for the modality (:mod:`sfone.sampling`), naming
        ``source_file``.
    """
    from . import __version__

    ds.attrs.update({"modality": modality, "source_format": source_format,
                     "source_file": str(source_file), "sfone_version": __version__,
                     "sfone_schema_version": SCHEMA_VERSION})
    if subject is not None:
        ds.attrs["subject"] = str(subject)
    if session_start is not None:
        ds.attrs["session_start"] = str(session_start)
    ds.attrs.update(attrs)
    from .sampling import check_dataset_rates

    check_dataset_rates(ds, path=source_file)
    return validate(ds)


def make_events(start, end, *, source_format: str = "in-memory", source_file="<in-memory>",
                label=None, **attrs) -> xr.Dataset:
    """Build an events Dataset (run epochs): ``start``/``end`` in seconds over an ``epoch`` index.

    Parameters
    ----------
    start, end : array_like of float
        Epoch starts and ends (s from session start); flattened, equal sizes.
    source_format : str, default "in-memory"
        Provenance attr ``source_format``.
    source_file : str or os.PathLike, default "<in-memory>"
        Provenance attr ``source_file``.
    label : array_like of str, optional
        Per-epoch label, stored as coordinate ``label`` over ``epoch``.
    **attrs
        Further Dataset attrs (see :func:`finalize_dataset`).

    Returns
    -------
    xarray.Dataset
        Modality ``"events"``: variables ``start`` and ``end`` (units ``s``) over ``epoch``
        (coordinate ``0..n-1``).

    Raises
    ------
    SchemaError
        If ``start`` and ``end`` differ in size.
    """
    start = np.asarray(start, dtype=float).ravel()
    end = np.asarray(end, dtype=float).ravel()
    if start.shape != end.shape:
        raise SchemaError(f"{source_file}: {start.size} epoch starts but {end.size} ends")
    ds = xr.Dataset(
        {"start": ("epoch", start, {"units": "s", "long_name": "epoch start"}),
         "end": ("epoch", end, {"units": "s", "long_name": "epoch end"})},
        coords={"epoch": np.arange(start.size)},
    )
    if label is not None:
        ds = ds.assign_coords(label=("epoch", np.asarray(label, dtype=str)))
    return finalize_dataset(ds, modality="events", source_format=source_format,
                            source_file=source_file, **attrs)
