"""Peri-run alignment: cut traces around run starts or ends by their real timestamps.

:func:`compute_perievent` returns a ``(roi, trial, lag)`` DataArray. Samples are picked by the
recorded time of each frame (nearest frame to ``align_time + lag``), never by counting samples at
a nominal rate, so dropped frames or jittered clocks do not shift the alignment. Lags that fall
outside the recording (or into a gap in the timestamps) are NaN. One gather over all ROIs at once
(``numpy.take`` on the ``(roi, time)`` block); dask-backed inputs stay lazy.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._logging import warn
from ._validate import _check_option, _must_be
from .exceptions import QualityWarning, SchemaError

# suite2p's default ``neucoeff``, used (with a warning) when a file does not state its own
from .io._session_reading import DEFAULT_NEUROPIL_COEFFICIENT
from .schema import is_time_dim

__all__ = ["compute_perievent", "align_times", "trace_array", "neuropil_coefficient"]


def neuropil_coefficient(ds: xr.Dataset) -> float:
    """The neuropil coefficient ``c`` of an imaging Dataset (``Fc = F - c * Fneu``).

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset; its ``neuropil_coefficient`` attr (the data contract's name; readers
        take it from the file, e.g. suite2p ``ops['neucoeff']``) is read.

    Returns
    -------
    float
        The attr's value, dimensionless; suite2p's default 0.7 with a
        :class:`~sfone.exceptions.QualityWarning` when the file does not state one.
    """
    if "neuropil_coefficient" in ds.attrs:
        return float(ds.attrs["neuropil_coefficient"])
    warn(f"{ds.attrs.get('source_file', '<dataset>')}: no neuropil_coefficient in the file; "
         f"using suite2p's default {DEFAULT_NEUROPIL_COEFFICIENT}", QualityWarning)
    return DEFAULT_NEUROPIL_COEFFICIENT


def trace_array(data, variable: str | None = None) -> xr.DataArray:
    """The ``(roi, time)`` DataArray to align or classify.

    Parameters
    ----------
    data : xarray.DataArray or xarray.Dataset
        A DataArray (1-D time series, or 2-D with one time dim), or a Dataset: imaging
        Datasets give ``variable`` (default: neuropil-corrected ``F - c * Fneu`` when ``Fneu``
        exists, :func:`sfone.imaging.neuropil_correct` with the file's
        ``neuropil_coefficient`` c, else ``F``); photometry Datasets stack their analog
        channels on their shared time dim as ``roi`` (one "roi" per channel; digital lines,
        ``kind="digital"``, and dimensionless variables other than dF/F are left out).
    variable : str, optional
        Name of the Dataset variable to use instead of the default above.

    Returns
    -------
    xarray.DataArray
        Dims ``(roi, time)`` in that order (the other dim renamed ``roi``, the time dim
        ``time``; a 1-D input gets one ``roi`` named after it, or ``"trace"``), time in s, in
        the input's units.

    Raises
    ------
    sfone.exceptions.SchemaError
        When no trace can be picked (no ``F``, channels on different clocks) or the result
        would not be two dims with one time dim.
    """
    if isinstance(data, xr.DataArray):
        da = data
    elif variable is not None:
        da = data[variable]
    elif "F" in data.data_vars:
        da = data["F"]
        if "Fneu" in data.data_vars:
            from .imaging import neuropil_correct

            da = neuropil_correct(data, coefficient=neuropil_coefficient(data))
    else:
        names = analog_channels(data)
        dims = {data[n].dims[0] for n in names}
        if not names or len(dims) != 1:
            raise SchemaError("cannot pick the traces to align: give variable= (the dataset has "
                              f"no 'F' and its analog channels {names} use clocks "
                              f"{sorted(dims)})")
        da = xr.concat([data[n] for n in names], dim="roi").assign_coords(roi=names)
    time_dims = [d for d in da.dims if is_time_dim(str(d))]
    if len(time_dims) != 1:
        raise SchemaError(f"expected one time dimension, got dims {da.dims}")
    tdim = time_dims[0]
    if da.ndim == 1:
        da = da.expand_dims(roi=[da.name or "trace"])
    other = [d for d in da.dims if d != tdim]
    if len(other) != 1:
        raise SchemaError(f"expected dims (roi, time), got {da.dims}")
    da = da.transpose(other[0], tdim)
    if other[0] != "roi":
        da = da.rename({other[0]: "roi"})
    if tdim != "time":
        da = da.rename({tdim: "time"})
    return da


def is_dff(var) -> bool:
    """A dF/F channel (units "1" and a dF/F long_name, as :func:`sfone.photometry.compute_dff`
    writes it)."""
    return var.attrs.get("units") == "1" and "dF/F" in str(var.attrs.get("long_name", ""))


def analog_channels(ds: xr.Dataset) -> list[str]:
    """Analog channels of a photometry Dataset: 1-D over a time dim, neither digital lines
    (``kind="digital"``) nor other dimensionless variables unless they are dF/F."""
    return [name for name, var in ds.data_vars.items()
            if var.ndim == 1 and is_time_dim(str(var.dims[0]))
            and var.attrs.get("kind") != "digital"
            and (var.attrs.get("units") != "1" or is_dff(var))]


def align_times(epochs, align: str) -> np.ndarray:
    """Alignment time of each epoch: its ``start`` or ``end``.

    Parameters
    ----------
    epochs : xarray.Dataset or array_like
        Events Dataset with ``start``/``end`` (s), or start/end pairs in s reshaped to
        ``(n, 2)``.
    align : {"start", "end"}
        Which edge of each epoch to return.

    Returns
    -------
    numpy.ndarray of float, shape (n,)
        Times in s, in epoch order.
    """
    _check_option("align", align, ("start", "end"))
    if isinstance(epochs, xr.Dataset):
        return np.asarray(epochs[align].values, dtype=float)
    pairs = np.asarray(epochs, dtype=float).reshape(-1, 2)
    return pairs[:, 0] if align == "start" else pairs[:, 1]


def _nearest_index(time: np.ndarray, targets: np.ndarray, tolerance: float):
    """Index of the nearest timestamp to each target, and a mask of targets with none within
    ``tolerance`` seconds (outside the recording or in a gap)."""
    right = np.searchsorted(time, targets).clip(1, time.size - 1)
    left = right - 1
    pick_right = np.abs(time[right] - targets) < np.abs(targets - time[left])
    index = np.where(pick_right, right, left)
    missing = np.abs(time[index] - targets) > tolerance
    return index, missing


def _gather(data, flat_index: np.ndarray, missing: np.ndarray, shape):
    """data[:, flat_index] reshaped to ``shape``, NaN where ``missing``; numpy or dask."""
    if not np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    if isinstance(data, np.ndarray):
        out = np.take(data, flat_index, axis=1).reshape(shape)
        if missing.any():
            out[:, missing] = np.nan
        return out
    out = data[:, flat_index].reshape(shape)  # dask: stays lazy
    if missing.any():
        out = out * np.where(missing, np.nan, 1.0).astype(data.dtype)[None]
    return out


def _binned(data, time, centers, bin_s):
    """Mean of the samples in [t - bin_s/2, t + bin_s/2) for every target time (trial, lag)."""
    finite = np.isfinite(data)
    values = np.where(finite, data, 0.0)
    zeros = np.zeros((data.shape[0], 1))
    csum = np.concatenate([zeros, np.cumsum(values, axis=1)], axis=1)
    ccount = np.concatenate([zeros, np.cumsum(finite, axis=1)], axis=1)
    lo = np.searchsorted(time, (centers - bin_s / 2).ravel())
    hi = np.searchsorted(time, (centers + bin_s / 2).ravel())
    total = csum[:, hi] - csum[:, lo]
    count = ccount[:, hi] - ccount[:, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return mean.reshape((data.shape[0],) + centers.shape)


def compute_perievent(data, epochs, *, align: str = "end", window=(-30.0, 120.0),
                      bin_s: float | None = None, variable: str | None = None) -> xr.DataArray:
    """Cut every ROI's trace around each epoch by real timestamps.

    Parameters
    ----------
    data : Dataset or DataArray with a ``time`` coordinate (s); see :func:`trace_array`.
    epochs : events Dataset (``start``/``end`` in s) or an (n, 2) array of seconds.
    align : ``"start"`` or ``"end"`` (default: run end, for post-run responses).
    window : (first, last) lag in s relative to the alignment time, e.g. ``(-pre, post)``.
    bin_s : lag step (s). None: the median frame interval and nearest-frame sampling;
        otherwise each value is the mean of the frames within +-bin_s/2 of the lag (NaNs ignored).
    variable : which variable of a Dataset to align.

    Returns
    -------
    DataArray (roi, trial, lag), ``lag`` in s, ``trial`` = epoch index, coord ``align_time`` (s).
    Values beyond the recording are NaN.
    """
    da = trace_array(data, variable)
    time = np.asarray(da["time"].values, dtype=float)
    if time.size < 2:
        raise SchemaError("need at least two time samples to align")
    dt = float(np.median(np.diff(time)))
    step = dt if bin_s is None else float(bin_s)
    if not window[0] < window[1]:
        raise ValueError(_must_be("window", "(first, last) with first < last", window))
    n_lag = int(np.floor((window[1] - window[0]) / step + 1e-9)) + 1
    lags = window[0] + step * np.arange(n_lag)
    anchors = align_times(epochs, align)
    targets = anchors[:, None] + lags[None, :]
    shape = (da.shape[0], anchors.size, n_lag)
    if bin_s is None:
        index, missing = _nearest_index(time, targets.ravel(), tolerance=0.75 * dt)
        values = _gather(da.data, index, missing.reshape(targets.shape), shape)
    else:
        values = _binned(np.asarray(da.values, dtype=float), time, targets, step)
    coords = {"roi": da["roi"].values, "trial": np.arange(anchors.size),
              "lag": ("lag", lags, {"units": "s", "long_name": f"time from run {align}"}),
              "align_time": ("trial", anchors, {"units": "s"})}
    coords.update({name: ("roi", c.values, c.attrs) for name, c in da.coords.items()
                   if c.dims == ("roi",) and name != "roi"})
    return xr.DataArray(values, dims=("roi", "trial", "lag"), coords=coords, name=da.name,
                        attrs={**da.attrs, "align": align, "window_s": list(window),
                               "bin_s": step})
