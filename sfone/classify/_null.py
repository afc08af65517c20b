"""Null distributions and multiple-comparison control, vectorised over ROIs.

Circular-shift null (ter Braak style residual shifts): each trace is demeaned piecewise on the
segments the analysis windows cut the recording into, so the response itself is removed but the
autocorrelation of the residual (slow calcium transients, drifts) is kept. The residual is then
circularly shifted by random lags (>= ``min_shift`` frames) and the window statistic recomputed.
Shifting is done with cumulative sums: a window sum at any circular lag costs two lookups, so
1,000 shifts of 5,000 ROIs are a few array gathers instead of 5,000,000 trace copies.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ._windows import Windows


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values).

    Parameters
    ----------
    p : array-like of float
        p-values, any shape; non-finite entries (NaN) are left out of the family.

    Returns
    -------
    numpy.ndarray of float
        q-values of the same shape (at most 1; ``m`` = number of finite p-values), NaN where
        ``p`` is not finite.
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    order = np.argsort(p[ok])
    sorted_p = p[ok][order]
    # p * m / rank can round below p itself (rank == m): q is never smaller than its p
    ranked = np.maximum(sorted_p * m / np.arange(1, m + 1), sorted_p)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty(m)
    out[order] = adjusted
    q[ok] = out
    return q


def draw_shifts(n_time: int, n_shuffles: int, min_shift: int, rng) -> np.ndarray:
    """Random circular shifts in frames, uniformly in [min_shift, n_time - min_shift]."""
    low = max(int(min_shift), 1)
    high = n_time - low
    if high < low:
        low, high = 1, max(n_time - 1, 1)
    return rng.integers(low, high + 1, size=n_shuffles)


def _segment_cuts(n_time: int, boundaries: np.ndarray) -> np.ndarray:
    return np.unique(np.concatenate([[0, n_time], boundaries]).clip(0, n_time))


def _segment_residual(x: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """x minus its mean on every segment between consecutive ``cuts``; NaN -> 0."""
    finite = np.isfinite(x)
    values = np.where(finite, x, 0.0)
    csum = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)
    ccount = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(finite, axis=1)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (csum[:, cuts[1:]] - csum[:, cuts[:-1]]) / (ccount[:, cuts[1:]]
                                                            - ccount[:, cuts[:-1]])
    segment = np.repeat(np.arange(cuts.size - 1), np.diff(cuts))
    return np.where(finite, values - np.nan_to_num(means)[:, segment], 0.0)


def _circular_window_sums(csum: np.ndarray, lo: int, hi: int, shifts: np.ndarray):
    """Sums over [lo + s, hi + s) modulo n_time for every shift s: (roi, shift)."""
    n_time = csum.shape[1] - 1
    total = csum[:, -1][:, None]

    def ext(i):
        return csum[:, i % n_time] + (i // n_time) * total

    return ext(hi + shifts) - ext(lo + shifts)


def _weights(base: Windows, resp: Windows):
    """Per-run window weights: the statistic is sum_k (S_resp_k / n_resp_k - S_base_k /
    n_base_k) / n_runs, S = window sum."""
    n_runs = base.lo.size
    return [(w, sign / (w.n[k] * n_runs), k) for k in range(n_runs)
            for w, sign in ((resp, 1.0), (base, -1.0))]


def variance_correction(n_time: int, base: Windows, resp: Windows, cuts: np.ndarray,
                        shifts: np.ndarray) -> np.ndarray:
    """Per-shift factor restoring the variance the piecewise demeaning removed.

    With statistic weights ``a`` (a dense vector over frames) and P the projection on the
    segment indicators, demeaning leaves a variance ``a'(I - P)a`` instead of ``a'a`` (exact for
    white noise, close for noise whose autocorrelation is short relative to the segments). Returns
    ``sqrt(a'a / a'(I - P)a)`` per shift, NaN where the shifted windows keep less than half of
    the variance (shifts that nearly re-align the windows with their own segments)."""
    dense = np.zeros(n_time)
    indicator = np.zeros((cuts.size - 1, n_time + 1))
    for seg, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        indicator[seg, a + 1:] = np.minimum(np.arange(1, n_time - a + 1), b - a)
    overlap = np.zeros((cuts.size - 1, shifts.size))
    for w, weight, k in _weights(base, resp):
        dense[w.lo[k]:w.hi[k]] += weight
        overlap += weight * _circular_window_sums(indicator, w.lo[k], w.hi[k], shifts)
    total = float(dense @ dense)
    projected = (overlap**2 / np.diff(cuts)[:, None]).sum(axis=0)
    kept = (total - projected) / total
    factor = np.sqrt(1.0 / np.clip(kept, 1e-12, None))
    factor[kept < 0.5] = np.nan
    return factor


def shift_null_pvalues(x: np.ndarray, base: Windows, resp: Windows, shifts: np.ndarray,
                       observed: np.ndarray) -> np.ndarray:
    """Two-sided p-values of ``observed`` (roi,) = mean over runs of (response mean - baseline
    mean) against the variance-corrected circular-shift null of the piecewise-demeaned trace."""
    cuts = _segment_cuts(x.shape[1], np.concatenate([base.lo, base.hi, resp.lo, resp.hi]))
    factor = variance_correction(x.shape[1], base, resp, cuts, shifts)
    usable = np.isfinite(factor)
    if usable.sum() < 0.2 * shifts.size:  # tiny recordings: keep every shift, uncorrected
        usable[:], factor[:] = True, 1.0
    shifts, factor = shifts[usable], factor[usable]
    residual = _segment_residual(x, cuts)
    csum = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(residual, axis=1)], axis=1)
    null = np.zeros((x.shape[0], shifts.size))
    for w, weight, k in _weights(base, resp):  # few runs; every ROI and shift at once
        null += weight * _circular_window_sums(csum, w.lo[k], w.hi[k], shifts)
    null *= factor
    tol = 1e-9 * (np.abs(observed) + np.abs(null).max(axis=1, initial=0.0))
    exceed = (np.abs(null) >= (np.abs(observed) - tol)[:, None]).sum(axis=1)
    p = (1.0 + exceed) / (1.0 + shifts.size)
    p[~np.isfinite(observed)] = np.nan
    return p


def _dense_weights(n_time: int, base: Windows, resp: Windows) -> np.ndarray:
    dense = np.zeros(n_time)
    for w, weight, k in _weights(base, resp):
        dense[w.lo[k]:w.hi[k]] += weight
    return dense


def _autocorrelation(values: np.ndarray, max_lag: int) -> np.ndarray:
    """sum_i v_i v_(i+h) for h = 0..max_lag along the last axis (FFT, no wrap-around)."""
    n = values.shape[-1]
    nfft = 1 << int(np.ceil(np.log2(n + max_lag + 1)))
    spectrum = np.fft.rfft(values, nfft, axis=-1)
    return np.fft.irfft(spectrum * spectrum.conj(), nfft, axis=-1)[..., :max_lag + 1]


def parzen_taper(max_lag: int) -> np.ndarray:
    """Parzen lag window w(h), h = 0..max_lag (positive definite, small bias)."""
    u = np.arange(max_lag + 1) / (max_lag + 1)
    return np.where(u <= 0.5, 1 - 6 * u**2 + 6 * u**3, 2 * (1 - u) ** 3)


def autocorrelation_pvalues(x: np.ndarray, base: Windows, resp: Windows,
                            observed: np.ndarray, max_lag: int) -> np.ndarray:
    """Two-sided p-values of ``observed`` with an autocorrelation-robust (HAC) variance.

    Under the null the baseline and response windows are stretches of one stationary process.
    Its autocovariance ``gamma(h)`` is estimated from all analysis windows together, each
    demeaned on its own (the response is removed; the run itself is excluded), up to ``max_lag``
    frames (at most a third of the shortest window) with a Parzen taper ``w`` (never negative)
    and corrected for the downward bias of demeaning. The variance of a window sum of ``n``
    frames is ``n * sum_h w(h) gamma(h)``; windows are treated as independent, and
    ``observed / sd`` is referred to a standard normal distribution. A quiet cell whose few
    baseline transients vanish after the run is therefore judged against the noise of the whole
    stretch, not against its handful of transients.
    """
    cuts = _segment_cuts(x.shape[1], np.concatenate([base.lo, base.hi, resp.lo, resp.hi]))
    residual = _segment_residual(x, cuts)
    finite = np.isfinite(x)
    windows = _weights(base, resp)
    lags = int(max(1, min(max_lag, min(int(w.n[k]) for w, _, k in windows) // 3)))
    lagged = np.zeros((x.shape[0], lags + 1))
    n_valid = np.zeros(x.shape[0])
    for w, _, k in windows:
        lo, hi = int(w.lo[k]), int(w.hi[k])
        lagged += _autocorrelation(residual[:, lo:hi], lags)
        n_valid += finite[:, lo:hi].sum(axis=1)
    gamma = lagged / np.maximum(n_valid, 1)[:, None]
    taper = parzen_taper(lags) * np.where(np.arange(lags + 1) == 0, 1.0, 2.0)
    long_run = gamma @ taper  # variance per frame of a long window sum
    variance = np.zeros(x.shape[0])
    for w, weight, k in windows:
        n = int(w.n[k])
        bias = 1.0 - taper.sum() / n  # demeaning lowers every gamma(h) by about long_run / n
        variance += weight**2 * n * long_run / bias
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(observed) / np.sqrt(variance)
    p = 2.0 * ndtr(-z)
    p[variance <= 0] = 1.0
    p[~np.isfinite(observed)] = np.nan
    return p


def wilcoxon_pvalues(diff: np.ndarray) -> np.ndarray:
    """Two-sided Wilcoxon signed-rank p-values across runs (columns) for every ROI (row)."""
    from scipy.stats import wilcoxon  # scipy.stats takes ~1 s to import: only for this null

    with np.errstate(invalid="ignore", divide="ignore"):
        result = wilcoxon(diff, axis=1, zero_method="wilcox", nan_policy="omit")
    p = np.asarray(result.pvalue, dtype=float)
    p[np.all(diff == 0, axis=1)] = 1.0
    return p
