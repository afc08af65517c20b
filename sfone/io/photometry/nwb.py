"""Fiber photometry in NWB with ``ndx-fiber-photometry`` (extra ``nwb``), read and written the way
NeuroConv does.

Written by :func:`sfone.to_nwb` (read back by :func:`read_nwb_photometry`):

* each analog channel -> a ``FiberPhotometryResponseSeries`` in ``acquisition`` (its unit, its
  own rate or timestamps) pointing at one row of the ``FiberPhotometryTable`` (lab metadata
  ``fiber_photometry``) with ``location``, ``excitation_wavelength_in_nm``,
  ``emission_wavelength_in_nm`` (NaN when unknown), ``indicator``, ``optical_fiber``,
  ``excitation_source`` and ``photodetector``. The wavelength comes from the ``fibers`` option
  (channel names or glob patterns), else the channel's ``excitation_nm`` attr (NPM); the fiber
  from ``fibers``, else the channel's ``roi`` attr (NPM), else ``optical_fiber_0``.
* each digital channel (attr ``kind == "digital"``, :func:`is_digital`; a generic CSV's
  ``TTL``/``DIO`` columns, Doric ``DIO``, pyPhotometry ``digital_<i>``, NPM inputs) -> a
  ``TimeSeries`` (unit "1") in ``acquisition``, never a fiber row, and its high periods -> the
  ``ttl`` TimeIntervals table (``label`` = channel), which pynapple reads as an IntervalSet;
* a variable in seconds (a file's second clock, e.g. NPM's ``Timestamp``) -> a ``TimeSeries``
  in its unit, not a fiber row either.
* the series ``description`` is JSON with ``sfone_variable`` and ``clock``, so channels come
  back with their names and shared clocks.

Files from NeuroConv (``DoricFiberPhotometryInterface``, ...) read the same way; a
two-dimensional series gives one channel per column (``<series>_<row>``).
"""

from __future__ import annotations

import fnmatch
import json
import re
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..._hdf5 import is_hdf5
from ..._logging import logger
from ..._validate import _check_options
from ...exceptions import FormatError
from ...schema import is_time_dim
from .._nwb import FP_TYPE, add_intervals, is_photometry_nwb, nwb_errors
from ._common import Channel, build_dataset

__all__ = ["read_nwb_photometry", "add_photometry", "is_digital"]

_FIBER_KEYS = ("excitation_wavelength_nm", "emission_wavelength_nm", "indicator", "location",
               "fiber")


def _time_of(ds: xr.Dataset, var: str) -> tuple[str, np.ndarray]:
    dim = ds[var].dims[0]
    return dim, np.asarray(ds[dim].values, dtype=float)


def _timing(time: np.ndarray) -> dict:
    if time.size > 1:
        step = np.diff(time)
        rate = 1.0 / float(np.median(step))
        if np.allclose(step, 1.0 / rate, rtol=1e-9, atol=1e-12):
            return {"rate": rate, "starting_time": float(time[0])}
    return {"timestamps": time}


def _fiber_info(ds: xr.Dataset, var: str, fibers: dict | None) -> dict:
    attrs = ds[var].attrs
    info = {"excitation_wavelength_nm": float(attrs.get("excitation_nm", np.nan)),
            "emission_wavelength_nm": float(attrs.get("emission_nm", np.nan)),
            "indicator": str(attrs.get("indicator", "unknown")),
            "location": str(attrs.get("location", "unknown")),
            "fiber": str(attrs.get("roi", "optical_fiber_0"))}
    for key in _matching(var, fibers or {}):
        given = fibers[key]
        if given:
            _check_options(f"the keys of fibers[{key!r}]", sorted(given), _FIBER_KEYS)
        info.update(given)
    return info


def _matching(var: str, fibers: dict) -> list[str]:
    """Keys of ``fibers`` that apply to channel ``var``, least specific first: ``"*"``, then
    other glob patterns in their order, then the channel's own name."""
    patterns = [k for k in fibers if k not in ("*", var) and fnmatch.fnmatchcase(var, k)]
    return [k for k in ("*",) if k in fibers] + patterns + ([var] if var in fibers else [])


def is_digital(da: xr.DataArray) -> bool:
    """A digital (TTL) line: attr ``kind == "digital"`` (the data contract's marker).

    Parameters
    ----------
    da : xarray.DataArray
        A photometry channel.

    Returns
    -------
    bool
    """
    return da.attrs.get("kind") == "digital"


def _devices(nwbfile, device_name: str | None):
    from ndx_ophys_devices import (
        ExcitationSource,
        ExcitationSourceModel,
        Photodetector,
        PhotodetectorModel,
    )

    source_model = ExcitationSourceModel(
        name="excitation_source_model", description="excitation light source",
        manufacturer="unknown", source_type="unknown", excitation_mode="one-photon")
    detector_model = PhotodetectorModel(name="photodetector_model", description="photodetector",
                                        manufacturer="unknown", detector_type="unknown")
    for model in (source_model, detector_model):
        nwbfile.add_device_model(model)
    source = ExcitationSource(name="excitation_source", description="excitation light source",
                              model=source_model)
    detector = Photodetector(name=device_name or "photodetector", description="photodetector",
                             model=detector_model)
    for device in (source, detector):
        nwbfile.add_device(device)
    return source, detector


def _fiber(nwbfile, name: str, cache: dict):
    from ndx_ophys_devices import FiberInsertion, OpticalFiber, OpticalFiberModel

    if name not in cache:
        if "optical_fiber_model" not in nwbfile.device_models:
            nwbfile.add_device_model(OpticalFiberModel(
                name="optical_fiber_model", manufacturer="unknown",
                description="optical fiber (numerical aperture not known: NaN)",
                numerical_aperture=float("nan")))
        cache[name] = OpticalFiber(name=f"fiber_{name}" if not name.startswith("optical_fiber")
                                   else name, description=f"optical fiber {name}",
                                   model=nwbfile.device_models["optical_fiber_model"],
                                   fiber_insertion=FiberInsertion(name="fiber_insertion"))
        nwbfile.add_device(cache[name])
    return cache[name]


def _indicator(name: str, cache: dict):
    from ndx_ophys_devices import Indicator

    if name not in cache:
        safe = re.sub(r"[^A-Za-z0-9_]+", "_", name) or "unknown"
        cache[name] = Indicator(name=f"indicator_{safe}", description=f"indicator {name}",
                                label=name)
    return cache[name]


def _high_periods(time: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    on = np.asarray(values, dtype=float) > 0
    change = np.diff(on.astype(int), prepend=0, append=0)
    rise, fall = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
    ends = np.append(time, time[-1])[fall] if time.size else time
    return time[rise], ends


def add_photometry(nwbfile, ds: xr.Dataset, *, fibers: dict | None = None,
                   device_name: str | None = None) -> None:
    """Add a photometry Dataset's channels to ``nwbfile`` (see the module docstring).

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        File to add to (in place).
    ds : xarray.Dataset
        Contract-valid photometry Dataset.
    fibers : dict, optional
        Per variable name or glob pattern (``"*"``, ``"*AOUT01*"``, ``"*_470"``) the fiber
        metadata ``excitation_wavelength_nm``, ``emission_wavelength_nm``, ``indicator``,
        ``location``, ``fiber`` (name); default from the variables' attrs. Several keys may
        match a channel: ``"*"`` first, then patterns in their order, then the exact name.
    device_name : str, optional
        Name of the excitation source and photodetector devices.
    """
    import ndx_fiber_photometry as fp
    from pynwb import TimeSeries

    digital = [v for v in ds.data_vars if is_digital(ds[v])]
    # a variable in seconds is a clock reading (NPM's second timestamp column), not light
    clocks = [v for v in ds.data_vars if v not in digital and ds[v].attrs.get("units") == "s"]
    analog = [v for v in ds.data_vars if v not in digital and v not in clocks]
    unused = sorted(k for k in (fibers or {}) if not any(
        k in _matching(v, fibers) for v in analog))
    if unused:
        logger.info("fibers %s match no analog channel (channels: %s)", ", ".join(unused),
                    ", ".join(analog) or "none")
    table = fp.FiberPhotometryTable(name="fiber_photometry_table",
                                    description="one row per recorded channel (fiber x light)")
    rows, fiber_cache, indicators = {}, {}, {}
    if analog:
        source, detector = _devices(nwbfile, device_name)
    for var in analog:
        info = _fiber_info(ds, var, fibers)
        table.add_row(location=info["location"],
                      excitation_wavelength_in_nm=float(info["excitation_wavelength_nm"]),
                      emission_wavelength_in_nm=float(info["emission_wavelength_nm"]),
                      indicator=_indicator(info["indicator"], indicators),
                      optical_fiber=_fiber(nwbfile, str(info["fiber"]), fiber_cache),
                      excitation_source=source, photodetector=detector, notes=f"channel {var}")
        rows[var] = len(table) - 1
    if analog:
        nwbfile.add_lab_meta_data(fp.FiberPhotometry(
            name="fiber_photometry", fiber_photometry_table=table,
            fiber_photometry_indicators=fp.FiberPhotometryIndicators(
                indicators=list(indicators.values()))))
    ttl = []
    for var in analog + digital + clocks:
        dim, time = _time_of(ds, var)
        attrs = {k: v for k, v in ds[var].attrs.items() if k != "units"}
        description = json.dumps({"sfone_variable": var, "clock": dim, **attrs}, default=str)
        data = np.asarray(ds[var].values)
        if var in rows:
            region = table.create_fiber_photometry_table_region(
                region=[rows[var]], description=f"the fiber row of {var}")
            nwbfile.add_acquisition(fp.FiberPhotometryResponseSeries(
                name=var, description=description, data=data,
                unit=str(ds[var].attrs.get("units", "a.u.")),
                fiber_photometry_table_region=region, **_timing(time)))
        else:
            nwbfile.add_acquisition(TimeSeries(
                name=var, description=description, data=data, **_timing(time),
                unit="1" if var in digital else str(ds[var].attrs.get("units"))))
        if var in digital:
            start, end = _high_periods(time, data)
            ttl += [(s, e, var) for s, e in zip(start, end, strict=True)]
    if ttl:
        from ...schema import make_events

        ttl.sort()
        add_intervals(nwbfile, make_events([t[0] for t in ttl], [t[1] for t in ttl],
                                           label=[t[2] for t in ttl]),
                      name="ttl", description="high periods of the digital (TTL) channels")


def _described(series) -> dict:
    try:
        out = json.loads(series.description)
    except (ValueError, TypeError):
        return {}
    return out if isinstance(out, dict) and "sfone_variable" in out else {}


def _series_time(series, n: int) -> np.ndarray:
    if series.timestamps is not None:
        return np.asarray(series.timestamps[:n], dtype=float)
    return float(series.starting_time or 0.0) + np.arange(n) / float(series.rate)


def _row_attrs(series, column: int) -> dict:
    region = series.fiber_photometry_table_region
    table, row = region.table, int(region.data[column])
    attrs = {}
    for name, key in (("excitation_wavelength_in_nm", "excitation_nm"),
                      ("emission_wavelength_in_nm", "emission_nm")):
        value = float(table[name].data[row])
        if np.isfinite(value):
            attrs[key] = value
    attrs["location"] = str(table["location"].data[row])
    indicator = table["indicator"].data[row]
    attrs["indicator"] = str(getattr(indicator, "label", None) or indicator.name)
    attrs["fiber"] = str(table["optical_fiber"].data[row].name)
    return attrs


def _channels(nwbfile, path: Path) -> list[Channel]:
    channels = []
    for name, series in nwbfile.acquisition.items():
        described = _described(series)
        is_fp = series.neurodata_type == FP_TYPE
        if not (is_fp or described):
            continue
        data = np.asarray(series.data[:])
        if data.dtype.kind not in "biuf" or data.ndim not in (1, 2):
            raise FormatError(f"acquisition/{name}/data holds {data.dtype} values of shape "
                              f"{data.shape}; expected numbers over (time,) or (time, "
                              "channel)", path=path)
        time = _series_time(series, data.shape[0])
        columns = [data] if data.ndim == 1 else [data[:, j] for j in range(data.shape[1])]
        for j, values in enumerate(columns):
            attrs = {k: v for k, v in described.items() if k not in ("sfone_variable", "clock")}
            if is_fp:
                attrs.update(_row_attrs(series, j))
            var = described.get("sfone_variable", name if data.ndim == 1 else f"{name}_{j}")
            clock = described.get("clock", name)
            clock = clock[5:] if is_time_dim(clock) and clock != "time" else clock
            channels.append(Channel(name=var, values=values, time=time, clock=clock,
                                    units=str(series.unit), attrs=attrs))
    if not channels:
        raise FormatError(f"no {FP_TYPE} (ndx-fiber-photometry) in acquisition (found "
                          f"{', '.join(nwbfile.acquisition) or 'nothing'})", path=path)
    return channels


def read_nwb_photometry(path) -> xr.Dataset:
    """Read the fiber-photometry series of an NWB file into a photometry Dataset.

    One variable per channel (its unit; fiber metadata ``excitation_nm``, ``emission_nm``,
    ``location``, ``indicator``, ``fiber`` as attrs), one ``time_<clock>`` per distinct clock
    (``time`` when all share one). TTL epochs: :func:`sfone.io.imaging.nwb.read_nwb_events`.

    Parameters
    ----------
    path : str or os.PathLike
        NWB file with ``ndx-fiber-photometry`` series (extra ``nwb``).

    Returns
    -------
    xarray.Dataset
        Photometry Dataset; attrs ``subject``, ``session_start`` and ``nwb_identifier`` from
        the file.
    """
    import ndx_fiber_photometry  # noqa: F401  (registers the extension's classes)
    from pynwb import NWBHDF5IO

    path = Path(path)
    with (nwb_errors(path), warnings.catch_warnings(),
          NWBHDF5IO(str(path), "r") as io):
        warnings.simplefilter("ignore", DeprecationWarning)
        nwbfile = io.read()
        channels = _channels(nwbfile, path)
        subject = nwbfile.subject.subject_id if nwbfile.subject is not None else None
        start = nwbfile.session_start_time.isoformat()
        identifier = str(nwbfile.identifier)
    return build_dataset(channels, path=path, source_format="nwb-photometry", subject=subject,
                         session_start=start, nwb_identifier=identifier)


def _sniff(path: Path) -> bool:
    import h5py

    if not is_hdf5(path):
        return False
    with h5py.File(path, "r") as f:
        return "nwb_version" in f.attrs and is_photometry_nwb(f)
