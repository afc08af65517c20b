"""Trace processing for imaging Datasets: neuropil correction, baselines, dF/F and z-scores.

Every function works on all ROIs at once (``(roi, time)`` arrays) and through
:func:`xarray.apply_ufunc` with ``dask="parallelized"``, so a Dataset read with ``chunks=`` stays
lazy (chunk along ``roi``; ``time`` must be a single chunk for the rolling baselines).
Windows are given in **seconds** and converted with the Dataset's ``fs`` (Hz).

Recipe (suite2p does not compute dF/F, see ``docs/imaging.md``)::

    Fc  = F - c * Fneu                       # c = neuropil coefficient (file's, 0.7 by default)
    F0  = maximin(Fc) or rolling percentile  # windows in seconds
    dF/F = (Fc - F0) / F0
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from ._logging import warn
from ._validate import _check_option, _check_positive, _must_be
from .exceptions import QualityWarning, SchemaError
from .schema import rate_from_times

__all__ = ["neuropil_correct", "baseline_maximin", "baseline_percentile", "compute_dff",
           "zscore"]


def _frames(seconds: float, fs: float, name: str) -> int:
    return max(1, int(round(_check_positive(name, seconds, unit="seconds") * fs)))


def _fs(da: xr.DataArray, fs: float | None) -> float:
    if fs is not None:
        return float(fs)
    if "fs" in da.attrs:
        return float(da.attrs["fs"])
    time = np.asarray(da["time"].values, dtype=float)
    if time.size < 2:
        raise SchemaError("cannot infer fs: pass fs= (Hz)")
    return rate_from_times(time)


def _apply_along_time(func, da: xr.DataArray, **kwargs) -> xr.DataArray:
    return xr.apply_ufunc(func, da, input_core_dims=[["time"]], output_core_dims=[["time"]],
                          dask="parallelized", output_dtypes=[np.float64], kwargs=kwargs)


def neuropil_correct(ds: xr.Dataset, *, coefficient: float | None = None) -> xr.DataArray:
    """Neuropil-corrected fluorescence ``Fc = F - c * Fneu`` over ``(roi, time)``.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset with ``F`` and ``Fneu`` (neuropil traces) on the same dims.
    coefficient : float, optional
        ``c``, dimensionless; default ``ds.attrs['neuropil_coefficient']`` (suite2p's
        ``neucoeff`` / ``settings['extraction']['neuropil_coefficient']``).

    Returns
    -------
    xarray.DataArray
        ``Fc`` on the dims of ``F``, in the units of ``F`` (``"a.u."`` when it has none); attrs
        of ``F`` plus ``long_name``, ``neuropil_coefficient`` and the Dataset's ``fs`` (Hz).

    Raises
    ------
    sfone.exceptions.SchemaError
        Without ``Fneu``, or without ``coefficient`` and the ``neuropil_coefficient`` attr.
    """
    if "Fneu" not in ds:
        raise SchemaError("neuropil correction needs an 'Fneu' variable (neuropil traces)")
    if coefficient is None:
        if "neuropil_coefficient" not in ds.attrs:
            raise SchemaError("no neuropil coefficient in the file: pass coefficient=")
        coefficient = float(ds.attrs["neuropil_coefficient"])
    fc = ds["F"] - coefficient * ds["Fneu"]
    fc.attrs = {**ds["F"].attrs, "units": ds["F"].attrs.get("units", "a.u."),
                "long_name": "neuropil-corrected fluorescence", "neuropil_coefficient":
                float(coefficient)}
    if "fs" in ds.attrs:
        fc.attrs["fs"] = float(ds.attrs["fs"])
    return fc.rename("Fc")


def _maximin(x: np.ndarray, *, sigma: float, window: int) -> np.ndarray:
    smooth = ndimage.gaussian_filter1d(np.asarray(x, dtype=np.float64), sigma, axis=-1,
                                       mode="nearest")
    low = ndimage.minimum_filter1d(smooth, window, axis=-1, mode="nearest")
    return ndimage.maximum_filter1d(low, window, axis=-1, mode="nearest")


def baseline_maximin(trace: xr.DataArray, *, window_s: float = 60.0, sigma_s: float = 1.0,
                     fs: float | None = None) -> xr.DataArray:
    """suite2p's maximin baseline: gaussian smoothing (``sigma_s``), rolling min then max.

    Parameters
    ----------
    trace : xarray.DataArray
        ``(roi, time)`` traces (e.g. ``Fc``).
    window_s : float
        Rolling min/max window in seconds (suite2p ``win_baseline``, 60 s).
    sigma_s : float
        Gaussian smoothing SD in seconds (suite2p ``sig_baseline`` is 10 frames).
    fs : float, optional
        Frame rate in Hz (default: ``trace.attrs['fs']``, else 1 / median frame interval).

    Returns
    -------
    xarray.DataArray
        ``F0`` on the dims of ``trace``, in its units (``"a.u."`` when it has none); attrs
        ``fs`` (Hz), ``baseline="maximin"``, ``window_s`` and ``sigma_s`` (s).
    """
    rate = _fs(trace, fs)
    out = _apply_along_time(_maximin, trace, sigma=max(sigma_s * rate, 1e-9),
                            window=_frames(window_s, rate, "window_s"))
    out.attrs = {"units": trace.attrs.get("units", "a.u."), "fs": rate, "baseline": "maximin",
                 "window_s": float(window_s), "sigma_s": float(sigma_s)}
    return out.rename("F0")


def _rolling_percentile(x: np.ndarray, *, window: int, percentile: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(-1, x.shape[-1])
    frame = pd.DataFrame(flat.T).rolling(window, center=True, min_periods=1)
    return frame.quantile(percentile / 100.0).to_numpy().T.reshape(x.shape)


def baseline_percentile(trace: xr.DataArray, *, window_s: float = 60.0,
                        percentile: float = 8.0, fs: float | None = None) -> xr.DataArray:
    """Rolling-percentile baseline of each trace over a centred window.

    Parameters
    ----------
    trace : xarray.DataArray
        ``(roi, time)`` traces (e.g. ``Fc``).
    window_s : float
        Window length in seconds, centred on each frame (shorter at the edges).
    percentile : float
        Percentile of the window, 0-100 (8: the 8th percentile).
    fs : float, optional
        Frame rate in Hz (default: ``trace.attrs['fs']``, else 1 / median frame interval).

    Returns
    -------
    xarray.DataArray
        ``F0`` on the dims of ``trace``, in its units (``"a.u."`` when it has none); attrs
        ``fs`` (Hz), ``baseline="percentile"``, ``window_s`` (s) and ``percentile``.
    """
    if not 0 <= percentile <= 100:
        raise ValueError(_must_be("percentile", "a number from 0 to 100", percentile))
    rate = _fs(trace, fs)
    out = _apply_along_time(_rolling_percentile, trace, percentile=float(percentile),
                            window=_frames(window_s, rate, "window_s"))
    out.attrs = {"units": trace.attrs.get("units", "a.u."), "fs": rate,
                 "baseline": "percentile", "window_s": float(window_s),
                 "percentile": float(percentile)}
    return out.rename("F0")


def compute_dff(ds: xr.Dataset, *, baseline: str = "maximin", window_s: float = 60.0,
                sigma_s: float = 1.0, percentile: float = 8.0,
                baseline_window: tuple[float, float] | None = None,
                neuropil_coefficient: float | None = None, min_baseline: float | None = None,
                ) -> xr.DataArray:
    """dF/F = ``(Fc - F0) / F0`` over ``(roi, time)``, dimensionless (units ``"1"``).

    ``Fc`` is neuropil-corrected when ``Fneu`` exists, else ``F``. Rolling baselines follow
    slow changes and so remove sustained post-run activity: use ``baseline="window"`` before
    classifying post-run responses.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset with ``F`` (and optionally ``Fneu``) over ``(roi, time)``, time in s,
        and its frame rate in ``ds.attrs['fs']`` (Hz).
    baseline : {"maximin", "percentile", "window"}, default "maximin"
        ``F0``: :func:`baseline_maximin` or :func:`baseline_percentile` (rolling, over
        ``window_s``), or one value per ROI, the median of ``Fc`` over ``baseline_window``.
    window_s : float, default 60.0
        Rolling baseline window in seconds (``"maximin"``, ``"percentile"``).
    sigma_s : float, default 1.0
        Gaussian smoothing SD in seconds (``"maximin"``).
    percentile : float, default 8.0
        Percentile, 0-100 (``"percentile"``).
    baseline_window : (float, float), optional
        ``(start_s, end_s)`` of the ``"window"`` baseline, s on the ``time`` axis (both ends
        included), e.g. the pre-run baseline; required for ``"window"``.
    neuropil_coefficient : float, optional
        ``c`` of ``Fc = F - c * Fneu``; default the file's ``neuropil_coefficient`` attr.
    min_baseline : float, optional
        Where ``F0 <= min_baseline`` (default 0, in the units of ``F``) dF/F is NaN and a
        :class:`~sfone.exceptions.QualityWarning` says how many ROIs are affected.

    Returns
    -------
    xarray.DataArray
        ``dff`` on the dims of ``F``, units ``"1"``, ``long_name="dF/F"``; the baseline's
        attrs (``baseline`` and its window in s; rolling baselines also ``fs`` in Hz and
        ``sigma_s`` or ``percentile``) and ``neuropil_coefficient`` when ``Fneu`` was
        subtracted.

    Raises
    ------
    ValueError
        For an unknown ``baseline``, ``"window"`` without ``baseline_window``, or a
        ``baseline_window`` that holds no frames.
    sfone.exceptions.SchemaError
        With ``Fneu`` but neither ``neuropil_coefficient`` nor the file's attr.
    """
    _check_option("baseline", baseline, ("maximin", "percentile", "window"))
    fc = neuropil_correct(ds, coefficient=neuropil_coefficient) if "Fneu" in ds else ds["F"]
    fc.attrs.setdefault("fs", float(ds.attrs["fs"]))
    if baseline == "maximin":
        f0 = baseline_maximin(fc, window_s=window_s, sigma_s=sigma_s, fs=ds.attrs["fs"])
    elif baseline == "percentile":
        f0 = baseline_percentile(fc, window_s=window_s, percentile=percentile,
                                 fs=ds.attrs["fs"])
    else:  # "window"
        if baseline_window is None:
            raise ValueError(_must_be("baseline_window", "(start_s, end_s) when "
                                      "baseline='window'", baseline_window))
        start, end = (float(v) for v in baseline_window)
        inside = fc.sel(time=slice(start, end))
        if inside.sizes["time"] == 0:
            raise ValueError(f"baseline_window {baseline_window} s holds no frames (recording "
                             f"{float(fc.time[0]):.1f}-{float(fc.time[-1]):.1f} s)")
        f0 = inside.median("time")
        f0.attrs = {"baseline": "window median", "baseline_window_s": [start, end]}
    floor = 0.0 if min_baseline is None else float(min_baseline)
    valid = f0 > floor
    if not isinstance(valid.data, np.ndarray):
        bad_rois = None  # lazy: do not compute here
    else:
        bad_rois = int((~valid).any([d for d in valid.dims if d == "time"]).sum())
    if bad_rois:
        warn(f"{ds.attrs.get('source_file', '<dataset>')}: baseline F0 <= {floor} in "
             f"{bad_rois} ROI(s); their dF/F is NaN there "
             "(dim cells or over-subtracted neuropil)", QualityWarning)
    dff = ((fc - f0) / f0).where(valid)
    dff.attrs = {"units": "1", "long_name": "dF/F", **{k: v for k, v in f0.attrs.items()
                                                      if k != "units"}}
    if "neuropil_coefficient" in fc.attrs:
        dff.attrs["neuropil_coefficient"] = fc.attrs["neuropil_coefficient"]
    return dff.rename("dff")


def zscore(trace: xr.DataArray, *, baseline: tuple[float, float] | None = None
           ) -> xr.DataArray:
    """Z-score each ROI against the mean and SD of a baseline window.

    Parameters
    ----------
    trace : xarray.DataArray
        Traces with a ``time`` dim (s), e.g. ``(roi, time)`` dF/F.
    baseline : (float, float), optional
        ``(start_s, end_s)`` on the ``time`` axis (both ends included); ``None`` uses the whole
        trace.

    Returns
    -------
    xarray.DataArray
        ``zscore`` on the dims of ``trace``: ``(trace - mean) / SD`` of the baseline (SD with
        ``ddof=1``), units ``"1"``; NaN for ROIs with zero baseline SD. Attr
        ``baseline_window_s`` (s, or ``"all"``).

    Raises
    ------
    ValueError
        When the baseline window holds fewer than 2 samples.
    """
    window = trace if baseline is None else trace.sel(time=slice(*baseline))
    if window.sizes["time"] < 2:
        raise ValueError(f"baseline window {baseline} s holds {window.sizes['time']} samples; "
                         "need at least 2")
    mean, sd = window.mean("time"), window.std("time", ddof=1)
    out = (trace - mean) / sd.where(sd > 0)
    out.attrs = {"units": "1", "long_name": "z-score",
                 "baseline_window_s": list(baseline) if baseline is not None else "all"}
    return out.rename("zscore")
