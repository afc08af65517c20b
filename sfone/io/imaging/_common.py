"""Helpers shared by the imaging loaders: building a contract-shaped Dataset from arrays."""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["imaging_dataset", "maybe_chunk", "TRACE_UNITS"]

#: units of the trace variables as the pipelines store them
TRACE_UNITS = "a.u."

_TRACE_NAMES = {
    "F": "ROI fluorescence (raw, not neuropil-corrected)",
    "Fneu": "neuropil fluorescence",
    "spks": "deconvolved activity",
    "C": "denoised trace",
    "YrA": "residual trace",
    "dff": "dF/F",
}


def maybe_chunk(array, chunks):
    """Wrap ``array`` (often a numpy memmap) in a dask array when ``chunks`` is given."""
    if chunks is None:
        return array
    import dask.array as da

    if isinstance(chunks, dict):
        chunks = (chunks.get("roi", -1), chunks.get("time", -1))
    return da.from_array(array, chunks=chunks)


def imaging_dataset(traces: dict, *, fs: float, roi, iscell, iscell_prob=None, coords=None,
                    trace_units: dict | None = None, time=None) -> xr.Dataset:
    """Build an imaging Dataset: each trace ``(roi, time)``, ``time`` in s, per-ROI coords.

    Parameters
    ----------
    traces : dict
        Variable name -> array ``(n_roi, n_time)`` (numpy, memmap or dask; not copied).
    fs : float
        Frame rate in Hz; ``time = arange(n_time) / fs`` unless ``time`` is given.
    roi, iscell, iscell_prob : array-like
        ROI ids of the source, boolean cell labels, classifier probabilities (0-1).
    coords : dict, optional
        Extra per-ROI coordinates: name -> ``(values, units)``.
    trace_units : dict, optional
        Units per trace name (default ``"a.u."``).
    """
    n_time = next(iter(traces.values())).shape[1]
    if time is None:
        time = np.arange(n_time, dtype=np.float64) / float(fs)
    trace_units = trace_units or {}
    data_vars = {
        name: (("roi", "time"), values,
               {"units": trace_units.get(name, TRACE_UNITS),
                "long_name": _TRACE_NAMES.get(name, name)})
        for name, values in traces.items()
    }
    all_coords = {
        "roi": ("roi", np.asarray(roi), {"long_name": "ROI index in the source"}),
        "time": ("time", np.asarray(time, dtype=np.float64), {"units": "s"}),
        "iscell": ("roi", np.asarray(iscell, dtype=bool), {"long_name": "accepted as a cell"}),
    }
    if iscell_prob is not None:
        all_coords["iscell_prob"] = ("roi", np.asarray(iscell_prob, dtype=float),
                                     {"units": "1", "long_name": "classifier probability"})
    for name, (values, units) in (coords or {}).items():
        all_coords[name] = ("roi", np.asarray(values), {"units": units} if units else {})
    return xr.Dataset(data_vars, coords=all_coords, attrs={"fs": float(fs)})
