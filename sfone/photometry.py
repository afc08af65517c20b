"""Fiber-photometry processing: dF/F with motion correction, z-scores, TTL events and AUC.

Every function takes and returns xarray objects whose time coordinate is in seconds. Channels on
different clocks are aligned explicitly by linear interpolation onto the signal's timestamps
(:func:`align_to`); nothing is resampled silently.

dF/F recipe (:func:`compute_dff`), after Keevers & Jean-Richard-dit-Bressel (2025):

1. optional zero-phase low-pass (Butterworth, ``lowpass_hz``);
2. optional bleaching correction: each channel divided by its own double-exponential fit;
3. control fitted to the signal by OLS or robust IRLS (Huber / Tukey, tuning constant exposed),
   over the whole trace or only a baseline window;
4. dF/F = (signal - fitted control) / fitted control.

``method="signal-only"`` uses the signal's own bleaching fit as baseline (for rigs whose control is
not isosbestic, such as a red tdTomato control); a control, if given, is then only regressed out of
the detrended signal (Akam's pyPhotometry pipeline).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import curve_fit
from scipy.signal import butter, sosfiltfilt

from ._dff_checks import check_inputs, check_orientation
from ._logging import warn
from ._robust_fit import DEFAULT_TUNING, fit_line
from ._validate import _check_option, _must_be
from .exceptions import QualityWarning
from .schema import finalize_dataset, is_time_dim, make_events, rate_from_times

__all__ = ["compute_dff", "dff_dataset", "align_to", "lowpass", "fit_bleaching", "robust_zscore",
           "window_zscore", "ttl_to_events", "auc"]

METHODS = ("irls", "ols", "signal-only")


def _time_dim(da: xr.DataArray) -> str:
    dims = [d for d in da.dims if is_time_dim(str(d))]
    if len(dims) != 1:
        raise ValueError(f"{da.name!r}: expected exactly one time dimension, found {da.dims}")
    return str(dims[0])


def _times(da: xr.DataArray) -> np.ndarray:
    return np.asarray(da[_time_dim(da)].values, dtype=float)


def align_to(da: xr.DataArray, target: xr.DataArray) -> xr.DataArray:
    """Linearly interpolate ``da`` onto the time coordinate of ``target`` (NaN outside its range).

    Parameters
    ----------
    da : xarray.DataArray
        One photometry channel over its time dimension (``time`` or ``time_<clock>``, s).
    target : xarray.DataArray
        Channel whose time coordinate ``da`` is put on.

    Returns
    -------
    xarray.DataArray
        Over ``target``'s time dimension, attrs of ``da`` plus ``interpolated_from`` (the source
        time dimension); ``da`` itself (renamed to ``target``'s time dimension if needed) when both
        already share the same timestamps. NaN samples of ``da`` are bridged.
    """
    src_t, dst_t = _times(da), _times(target)
    dst_dim = _time_dim(target)
    if src_t.shape == dst_t.shape and np.array_equal(src_t, dst_t):
        return da.rename({_time_dim(da): dst_dim}) if _time_dim(da) != dst_dim else da
    values = np.asarray(da.values, dtype=float)
    ok = np.isfinite(values)
    out = np.interp(dst_t, src_t[ok], values[ok], left=np.nan, right=np.nan)
    attrs = {**da.attrs, "interpolated_from": _time_dim(da)}
    return xr.DataArray(out, dims=(dst_dim,), coords={dst_dim: target[dst_dim]}, name=da.name,
                        attrs=attrs)


def _fill_nan(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(values)
    if ok.all():
        return values, ok
    if not ok.any():
        raise ValueError("trace has no finite sample")
    idx = np.arange(values.size)
    return np.interp(idx, idx[ok], values[ok]), ok


def lowpass(da: xr.DataArray, cutoff_hz: float, *, order: int = 2) -> xr.DataArray:
    """Zero-phase Butterworth low-pass at ``cutoff_hz``; NaNs are bridged for filtering and kept.

    Parameters
    ----------
    da : xarray.DataArray
        One photometry channel over its time dimension (``time`` or ``time_<clock>``, s).
    cutoff_hz : float
        Cutoff frequency (Hz), between 0 and the Nyquist frequency (from the median sample step).
    order : int, default 2
        Butterworth order (applied forwards and backwards).

    Returns
    -------
    xarray.DataArray
        Filtered copy of ``da`` (same coordinates and attrs; NaN where ``da`` is NaN).

    Raises
    ------
    ValueError
        If ``cutoff_hz`` is not between 0 and Nyquist.
    """
    t = _times(da)
    fs = rate_from_times(t)
    if not 0 < cutoff_hz < fs / 2:
        raise ValueError(_must_be("cutoff_hz", f"between 0 and Nyquist ({fs / 2:.4g} Hz)",
                                  cutoff_hz))
    values, ok = _fill_nan(np.asarray(da.values, dtype=float))
    sos = butter(order, cutoff_hz, btype="low", fs=fs, output="sos")
    filtered = sosfiltfilt(sos, values)
    filtered[~ok] = np.nan
    return da.copy(data=filtered)


def _double_exp(t, base, fast, tau_fast, slow, tau_slow):
    return base + fast * np.exp(-t / tau_fast) + slow * np.exp(-t / tau_slow)


def _binned(t: np.ndarray, y: np.ndarray, bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Medians of ``y`` in bins of ``bin_s`` seconds (finite samples only)."""
    ok = np.isfinite(y)
    t, y = t[ok], y[ok]
    n_per = max(1, int(round(bin_s / np.median(np.diff(t))))) if t.size > 1 else 1
    n_bins = t.size // n_per
    if n_bins < 8:
        return t, y
    cut = n_bins * n_per
    return (np.median(t[:cut].reshape(n_bins, n_per), axis=1),
            np.median(y[:cut].reshape(n_bins, n_per), axis=1))


def fit_bleaching(da: xr.DataArray) -> xr.DataArray:
    """Double-exponential bleaching fit ``C + A_f exp(-t/tau_f) + A_s exp(-t/tau_s)``.

    Fitted on ~1 s bin medians; time constants bounded to [T/500, T/2] and [T/10, 50 T] for a
    recording of T seconds. On failure the fit is a constant (median) with a QualityWarning.

    Parameters
    ----------
    da : xarray.DataArray
        One photometry channel over its time dimension (``time`` or ``time_<clock>``, s).

    Returns
    -------
    xarray.DataArray
        The fitted curve on ``da``'s time axis, in ``da``'s units; attr ``bleach_params``
        ``[C, A_f, tau_f, A_s, tau_s]`` (tau in s) when the fit converged.
    """
    t = _times(da)
    t = t - t[0]
    y = np.asarray(da.values, dtype=float)
    duration = max(t[-1], 1e-9)
    tb, yb = _binned(t, y, 1.0)
    top = float(np.nanmax(np.abs(yb)))
    p0 = [float(np.min(yb)), top / 4, duration / 20, top / 4, duration / 2]
    bounds = ([-np.inf, 0, duration / 500, 0, duration / 10],
              [np.inf, 4 * top, duration / 2, 4 * top, 50 * duration])
    p0 = np.clip(p0, np.array(bounds[0]) + 1e-12, np.array(bounds[1]) - 1e-12)
    try:
        params, _ = curve_fit(_double_exp, tb, yb, p0=p0, bounds=bounds, maxfev=20000)
        fitted = _double_exp(t, *params)
    except (RuntimeError, ValueError) as exc:
        warn(f"{da.name!r}: double-exponential bleaching fit failed ({exc}); using the median "
             "as a constant baseline", QualityWarning)
        params, fitted = None, np.full(t.shape, np.nanmedian(y))
    attrs = {**da.attrs, "long_name": f"bleaching fit of {da.name}"}
    if params is not None:
        attrs["bleach_params"] = [float(p) for p in params]
    return da.copy(data=fitted).assign_attrs(attrs)


def _window_mask(t: np.ndarray, window) -> np.ndarray:
    if window is None:
        return np.ones(t.shape, dtype=bool)
    start, end = window
    mask = (t >= start) & (t <= end)
    if mask.sum() < 3:
        raise ValueError(f"baseline window {window} s holds {int(mask.sum())} samples; need >= 3")
    return mask


def _fit_control(s, c, mask, fit: str, robust: str, tuning) -> tuple[np.ndarray, float, float]:
    """The control fitted to the signal (a slope <= 0 is reported by compute_dff)."""
    intercept, slope = fit_line(c[mask], s[mask], method=fit, norm=robust, tuning=tuning)
    return intercept + slope * c, intercept, slope


def _dff_signal_only(sig, ctl, mask, attrs: dict) -> np.ndarray:
    """(signal - bleach fit [- motion from the detrended control]) / bleach fit."""
    baseline = np.asarray(fit_bleaching(sig).values)
    corrected = np.asarray(sig.values, dtype=float) - baseline
    if ctl is not None:
        c_detr = np.asarray(ctl.values, dtype=float) - np.asarray(fit_bleaching(ctl).values)
        motion, intercept, slope = _fit_control(corrected, c_detr, mask, "ols", "tukey", None)
        corrected = corrected - motion
        attrs.update(fit="ols", fit_intercept=intercept, fit_slope=slope)
    return corrected / baseline


def _dff_control_fit(sig, ctl, mask, method, robust, tuning, bleach_correction,
                     attrs: dict) -> np.ndarray:
    """(signal - fitted control) / fitted control, optionally after divisive detrending."""
    s = np.asarray(sig.values, dtype=float)
    c = np.asarray(ctl.values, dtype=float)
    if bleach_correction:
        s = s / np.asarray(fit_bleaching(sig).values)
        c = c / np.asarray(fit_bleaching(ctl).values)
    fitted, intercept, slope = _fit_control(s, c, mask, method, robust, tuning)
    attrs.update(fit=method, fit_intercept=intercept, fit_slope=slope,
                 bleach_correction=int(bleach_correction))
    if method == "irls":
        attrs.update(robust=robust,
                     tuning=float(DEFAULT_TUNING[robust] if tuning is None else tuning))
    return (s - fitted) / fitted


def compute_dff(ds: xr.Dataset, *, signal: str, control: str | None = None,
                method: str = "irls", robust: str = "tukey", tuning: float | None = None,
                lowpass_hz: float | None = None, bleach_correction: bool = True,
                baseline_window: tuple[float, float] | None = None) -> xr.DataArray:
    """dF/F of ``signal`` (dimensionless, on the signal's time axis).

    Parameters
    ----------
    ds : xarray.Dataset
        Contract-valid photometry Dataset.
    signal : str
        Variable name of the activity-dependent channel (e.g. 470 nm).
    control : str, optional
        Variable name of the isosbestic control (e.g. 405/415 nm); interpolated onto the signal's
        timestamps if its clock differs. Required for ``"irls"``/``"ols"``; optional for
        ``"signal-only"``.
    method : {"irls", "ols", "signal-only"}, default "irls"
        Control fit: robust iteratively reweighted least squares, ordinary least squares, or the
        signal's own bleaching fit as baseline (a given control then only removes motion).
    robust : {"tukey", "huber"}, default "tukey"
        IRLS weight function.
    tuning : float, optional
        IRLS tuning constant (residual-scale units); default the weight's standard constant.
    lowpass_hz : float, optional
        Zero-phase low-pass cutoff (Hz) applied to both channels first.
    bleach_correction : bool, default True
        Divide each channel by its double-exponential fit before the control fit.
    baseline_window : (float, float), optional
        ``(start_s, end_s)``: fit the control only on this window, then apply to the whole trace.

    Returns
    -------
    xarray.DataArray
        ``dff`` over the signal's time dimension, units ``"1"``; attrs ``method``, ``signal``,
        ``lowpass_hz`` (0 when off), the control fit (``fit``, ``fit_intercept``,
        ``fit_slope``), ``control``/``control_interpolated`` and ``baseline_window`` where given.

    Raises
    ------
    ValueError
        For an unknown ``method``, ``"irls"``/``"ols"`` without a ``control``, or a channel
        holding impossible samples (inf, 1e308: the readers set them to NaN).

    Warns
    -----
    QualityWarning
        When the channels look swapped: a control slope <= 0, the signal named like an
        isosbestic channel and the control like a sensor, or a dF/F moving mostly downward
        (:mod:`sfone._dff_checks`).
    """
    _check_option("method", method, METHODS)
    if method != "signal-only" and control is None:
        raise ValueError(f"method {method!r} needs a control channel (or use 'signal-only')")
    sig = ds[signal].astype(float)
    check_inputs({signal: sig, control: None if control is None else ds[control]})
    ctl = None if control is None else align_to(ds[control].astype(float), sig)
    if lowpass_hz:
        sig = lowpass(sig, lowpass_hz)
        ctl = None if ctl is None else lowpass(ctl, lowpass_hz)
    mask = _window_mask(_times(sig), baseline_window)
    attrs = {"units": "1", "long_name": f"dF/F of {signal}", "method": method,
             "signal": signal, "lowpass_hz": float(lowpass_hz or 0.0)}
    if method == "signal-only":
        dff = _dff_signal_only(sig, ctl, mask, attrs)
    else:
        dff = _dff_control_fit(sig, ctl, mask, method, robust, tuning, bleach_correction, attrs)
    if control is not None:
        attrs.update(control=control, control_interpolated=int("interpolated_from" in ctl.attrs))
    if baseline_window is not None:
        attrs["baseline_window"] = [float(baseline_window[0]), float(baseline_window[1])]
    check_orientation(dff, signal=signal, control=control, slope=attrs.get("fit_slope"),
                      source=ds.attrs.get("source_file"))
    return xr.DataArray(dff, dims=sig.dims, coords={sig.dims[0]: sig[sig.dims[0]]}, name="dff",
                        attrs=attrs)


def dff_dataset(ds: xr.Dataset, dff: xr.DataArray) -> xr.Dataset:
    """A contract-valid photometry Dataset holding ``dff`` and the raw signal it came from.

    Parameters
    ----------
    ds : xarray.Dataset
        The photometry Dataset ``dff`` was computed from; provenance attrs (source file and
        format, subject, session start) are carried over.
    dff : xarray.DataArray
        Output of :func:`compute_dff` on ``ds`` (its ``signal`` attr names the raw channel).

    Returns
    -------
    xarray.Dataset
        Variables ``dff`` (units ``"1"``) and the raw signal on their time dimension; attr
        ``processing = "sfone.photometry.compute_dff"``.
    """
    signal = dff.attrs["signal"]
    out = xr.Dataset({"dff": dff, signal: ds[signal]})
    keep = {k: ds.attrs[k] for k in ("subject", "session_start") if k in ds.attrs}
    return finalize_dataset(out, modality="photometry",
                            source_format=str(ds.attrs.get("source_format", "unknown")),
                            source_file=ds.attrs.get("source_file", "<in-memory>"),
                            processing="sfone.photometry.compute_dff", **keep)


def robust_zscore(da: xr.DataArray) -> xr.DataArray:
    """(x - median) / (1.4826 * MAD), NaN-aware; consistent with the SD under Gaussian noise.

    Parameters
    ----------
    da : xarray.DataArray
        One photometry channel over its time dimension (``time`` or ``time_<clock>``, s).

    Returns
    -------
    xarray.DataArray
        Copy of ``da`` in robust z units (``units="1"``, attr ``zscore``).

    Raises
    ------
    ValueError
        If the median absolute deviation is zero.
    """
    x = np.asarray(da.values, dtype=float)
    med = np.nanmedian(x)
    mad = 1.4826 * np.nanmedian(np.abs(x - med))
    if not mad > 0:
        raise ValueError(f"{da.name!r}: median absolute deviation is zero; cannot z-score")
    return da.copy(data=(x - med) / mad).assign_attrs(units="1", zscore="robust (median/MAD)")


def window_zscore(da: xr.DataArray, window: tuple[float, float]) -> xr.DataArray:
    """z-score against the mean and SD inside ``window`` = (start_s, end_s).

    Parameters
    ----------
    da : xarray.DataArray
        One photometry channel over its time dimension (``time`` or ``time_<clock>``, s).
    window : (float, float)
        ``(start_s, end_s)`` of the reference period (s).

    Returns
    -------
    xarray.DataArray
        Copy of ``da`` in z units (``units="1"``, attr ``zscore``).

    Raises
    ------
    ValueError
        If the SD inside ``window`` is zero.
    """
    x = np.asarray(da.values, dtype=float)
    ref = x[_window_mask(_times(da), window)]
    sd = np.nanstd(ref)
    if not sd > 0:
        raise ValueError(f"{da.name!r}: zero SD inside window {window}; cannot z-score")
    return da.copy(data=(x - np.nanmean(ref)) / sd).assign_attrs(
        units="1", zscore=f"window {window[0]}-{window[1]} s")


def _pulses(t, high, debounce_s, min_width_s):
    level = np.concatenate([[False], high, [False]]).astype(np.int8)
    rises = np.flatnonzero(np.diff(level) == 1)
    falls = np.flatnonzero(np.diff(level) == -1)
    start = t[rises]
    end = np.where(falls < t.size, t[np.minimum(falls, t.size - 1)], t[-1])
    if debounce_s > 0 and start.size > 1:
        first = np.flatnonzero(np.concatenate([[True], start[1:] - end[:-1] >= debounce_s]))
        last = np.concatenate([first[1:] - 1, [start.size - 1]])
        start, end = start[first], end[last]
    wide = (end - start) >= min_width_s
    return start[wide], end[wide]


def ttl_to_events(da: xr.DataArray, *, threshold: float | None = None, debounce_s: float = 0.0,
                  min_width_s: float = 0.0, source_format: str | None = None,
                  source_file=None) -> xr.Dataset:
    """TTL line -> events Dataset (``start`` = first high sample, ``end`` = first low sample).

    Parameters
    ----------
    da : xarray.DataArray
        Digital (or analog TTL) channel over its time dimension (s).
    threshold : float, optional
        Level separating low from high; default halfway between the line's min and max.
    debounce_s : float, default 0.0
        Pulses separated by a low gap shorter than this (s) are merged into one.
    min_width_s : float, default 0.0
        Pulses shorter than this (s, after merging) are dropped.
    source_format : str, optional
        Provenance attr; default ``da.attrs["source_format"]`` or ``"ttl"``.
    source_file : str, optional
        Provenance attr; default the channel name.

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s) over ``epoch``; attrs ``channel``, ``threshold``,
        ``debounce_s``, ``min_width_s``.
    """
    t = _times(da)
    x = np.asarray(da.values, dtype=float)
    finite = x[np.isfinite(x)]
    if threshold is None:
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
        threshold = (lo + hi) / 2 if hi > lo else np.inf
    start, end = _pulses(t, np.nan_to_num(x, nan=-np.inf) > threshold, debounce_s, min_width_s)
    return make_events(start, end, source_format=source_format or da.attrs.get(
        "source_format", "ttl"), source_file=source_file or str(da.name), channel=str(da.name),
        threshold=float(threshold), debounce_s=float(debounce_s), min_width_s=float(min_width_s))


def auc(da: xr.DataArray, *, start: float | None = None, end: float | None = None) -> float:
    """Area under the curve by the trapezoid rule over time in seconds (units: signal x s).

    Parameters
    ----------
    da : xarray.DataArray
        One photometry channel over its time dimension (``time`` or ``time_<clock>``, s).
    start, end : float, optional
        Window limits (s, inclusive); default the whole trace. NaN samples are skipped.

    Returns
    -------
    float
        Area in the signal's units times seconds.

    Raises
    ------
    ValueError
        If the window holds fewer than two finite samples.
    """
    t = _times(da)
    x = np.asarray(da.values, dtype=float)
    keep = np.isfinite(x) & (t >= (-np.inf if start is None else start)) & (
        t <= (np.inf if end is None else end))
    if keep.sum() < 2:
        raise ValueError(f"AUC window holds {int(keep.sum())} finite samples; need >= 2")
    return float(np.trapezoid(x[keep], t[keep]))
