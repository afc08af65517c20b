"""The building blocks of the ``glm`` method's session model (:mod:`._model` fits and tests it).

* bins of about ``bin_s`` that never straddle a run edge (:func:`schedule_bins`) and the
  per-ROI means over them (:func:`bin_means`);
* the design columns: intercept and one indicator per run, with an optional Legendre trend up
  to ``trend_degree`` (:func:`nuisance_design`; 0, no trend, by default), and the post-run
  response regressors (:func:`response_regressors`: ``sustained`` is 1 inside every post-run
  window, ``transient`` ``exp(-(t - run end) / transient_tau_s)`` in the same windows);
* the check that the response can be told from the nuisance columns (:func:`separability`,
  :func:`check_separable`);
* the normal equations of every ROI's weighted model after whitening by one noise
  correlation (:class:`_WhitenedNormalEquations`), the candidate OU time constants
  (:data:`TAU_GRID_S`) and shares (:data:`POOLED_SHARE_GRID`), and the F and t tails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre
from scipy.special import betainc

from .._logging import warn
from ..exceptions import QualityWarning, SchemaError


@dataclass(frozen=True)
class Bins:
    """Frame ranges ``[lo, hi)`` of the bins, their centre times (s), and what each bin is."""

    lo: np.ndarray
    hi: np.ndarray
    centre: np.ndarray
    run: np.ndarray  # run index of a bin inside a run, else -1


def schedule_bins(time, starts, ends, *, bin_s: float, span) -> Bins:
    """Bins of about ``bin_s`` seconds over ``span = (t_first, t_last)``, cut at every run start
    and end so no bin straddles a run edge; bins with fewer than half the median count of
    frames (gaps, edges) are dropped."""
    edges = np.unique(np.clip(np.concatenate([[span[0], span[1]], starts, ends]),
                              span[0], span[1]))
    bin_edges = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        n = max(1, int(round((b - a) / bin_s)))
        bin_edges.append(np.linspace(a, b, n + 1)[:-1])
    bin_edges = np.concatenate(bin_edges + [[span[1]]])
    lo = np.searchsorted(time, bin_edges[:-1], side="left")
    hi = np.searchsorted(time, bin_edges[1:], side="left")
    hi[-1] = np.searchsorted(time, span[1], side="right")
    count = hi - lo
    keep = count >= 0.5 * np.median(count[count > 0])
    centre = 0.5 * (bin_edges[:-1] + bin_edges[1:])
    run = np.full(centre.size, -1)
    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        run[(centre > s) & (centre < e)] = k
    return Bins(lo[keep], hi[keep], centre[keep], run[keep])


_CAST_ROIS = 16  # rows cast to float64 at a time by bin_means


def bin_means(x: np.ndarray, bins: Bins) -> np.ndarray:
    """NaN-aware (roi, bin) means of the frames of every bin (one ``reduceat`` pass,
    accumulated in float64; no copy of the frames when every value is finite)."""
    x = np.asarray(x)
    edges = np.stack([bins.lo, bins.hi], axis=1).ravel()  # lo0 <= hi0 <= lo1 <= ...
    if edges[-1] >= x.shape[1]:
        # reduceat needs indices inside the array; the last bin's sum then runs to the end,
        # which is where it ends (the odd entries, gaps between bins, are discarded)
        edges = edges[:-1]
    if np.isfinite(x.sum()):  # no NaN or inf anywhere (no (roi, frame) mask allocated)
        sums = np.empty((x.shape[0], bins.lo.size))
        # reduceat with dtype= casts the whole block to float64 first; cast a few ROIs at a
        # time into one reused buffer instead (same sums, no block-sized temporary)
        buffer = np.empty((min(x.shape[0], _CAST_ROIS), x.shape[1]))
        for start in range(0, x.shape[0], _CAST_ROIS):
            rows = buffer[:min(_CAST_ROIS, x.shape[0] - start)]
            np.copyto(rows, x[start:start + rows.shape[0]])
            sums[start:start + rows.shape[0]] = np.add.reduceat(rows, edges, axis=1)[:, ::2]
        count = (bins.hi - bins.lo)[None, :]
        return np.where(count > 0, sums / np.maximum(count, 1), np.nan)
    finite = np.isfinite(x)
    sums = np.add.reduceat(np.where(finite, x, 0.0), edges, axis=1, dtype=np.float64)[:, ::2]
    counts = np.add.reduceat(finite, edges, axis=1, dtype=np.int64)[:, ::2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def response_regressors(centre, starts, ends, *, post_run_s, transient_tau_s) -> np.ndarray:
    """(bin, 2) sustained and transient post-run regressors (see the module docstring)."""
    next_start = np.concatenate([starts[1:], [np.inf]])
    out = np.zeros((centre.size, 2))
    for end, nxt in zip(ends, next_start, strict=True):
        inside = (centre >= end + post_run_s[0]) & (centre < min(end + post_run_s[1], nxt))
        out[inside, 0] = 1.0
        out[inside, 1] = np.exp(-(centre[inside] - end) / transient_tau_s)
    return out


def nuisance_design(bins: Bins, span, n_runs: int, trend_degree: int) -> np.ndarray:
    """(bin, k) intercept + Legendre trend + one indicator per run."""
    u = 2.0 * (bins.centre - span[0]) / max(span[1] - span[0], 1e-9) - 1.0
    trend = legendre.legvander(u, trend_degree)  # column 0 is the intercept
    runs = (bins.run[:, None] == np.arange(n_runs)[None, :]).astype(float)
    runs = runs[:, runs.any(axis=0)]
    return np.concatenate([trend, runs], axis=1)


def separability(nuisance: np.ndarray, response: np.ndarray) -> np.ndarray:
    """Fraction of each response regressor's variance (about its mean) left once the nuisance
    columns are regressed out: near 0, the trend or the runs cannot be told from the response."""
    resid = response - nuisance @ np.linalg.lstsq(nuisance, response, rcond=None)[0]
    centred = response - response.mean(axis=0)
    total = (centred**2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (resid**2).sum(axis=0) / total, 0.0)


def _solve(X, y):
    """Batched least squares: X (roi, n, k), y (roi, n) -> beta (roi, k), (X'X)^-1 (roi, k, k)."""
    xt = X.transpose(0, 2, 1)
    return _solve_normal(xt @ X, (xt @ y[:, :, None])[:, :, 0])  # matmul: faster than einsum


def _solve_normal(xtx, xty):
    """Batched normal equations ``xtx beta = xty`` -> beta (roi, k), xtx^-1 (roi, k, k).

    Scaled to a unit diagonal and inverted by LU; a ROI whose matrix is singular or
    ill-conditioned (a constant neuropil column) gets the pseudo-inverse instead."""
    scale = np.sqrt(np.clip(np.diagonal(xtx, axis1=1, axis2=2), 1e-300, None))
    xtx_s = xtx / scale[:, :, None] / scale[:, None, :]
    inv_s = np.empty_like(xtx_s)
    bad = ~(np.diagonal(xtx_s, axis1=1, axis2=2) > 0.5).all(axis=1)  # a zero column
    try:
        inv_s[~bad] = np.linalg.inv(xtx_s[~bad])
        error = np.abs(xtx_s[~bad] @ inv_s[~bad] - np.eye(xtx_s.shape[1])).max(axis=(1, 2))
        bad[~bad] = ~(error < 1e-8)
    except np.linalg.LinAlgError:  # one singular matrix fails the whole batch
        bad[:] = True
    if bad.any():
        inv_s[bad] = np.linalg.pinv(xtx_s[bad], hermitian=True)
    inv = inv_s / scale[:, :, None] / scale[:, None, :]
    beta = (inv @ xty[:, :, None])[:, :, 0]
    return beta, inv


class _WhitenedNormalEquations:
    """``X'X``, ``X'y`` and ``y'y`` of every ROI's weighted model after whitening by a noise
    model's ``L^-1``, without forming the (roi, bin, k) whitened design.

    The weights are constant within a segment (the segment variances of :mod:`._model`), so a
    ROI's whitened common columns are ``sum_g w[r, g] * C_g`` with
    ``C_g = L^-1 (common * [segment == g])``:
    the common block of ``X'X`` is ``sum_gh w_g w_h C_g'C_h`` (one small matrix product for
    all ROIs), and only ``y`` and the ROI's own neuropil column are whitened per ROI. ``y`` is
    centred first (the intercept column absorbs it) so that ``rss = y'y - beta'X'y`` keeps its
    precision.
    """

    def __init__(self, common, index, seg_w, y, z=None):
        n, k0 = common.shape
        g = seg_w.shape[1]
        self.k0, self.g, self.seg_w = k0, g, seg_w  # seg_w: (roi, segment); index: (bin,)
        w = seg_w[:, index]
        self.pair_w = (self.seg_w[:, :, None] * self.seg_w[:, None, :]).reshape(len(w), g * g)
        masked = common[None, :, :] * (index[None, :] == np.arange(g)[:, None])[:, :, None]
        self.masked = np.ascontiguousarray(masked.transpose(1, 0, 2).reshape(n, g * k0))
        self.yw = (y - y.mean(axis=1, keepdims=True)) * w
        self.zw = z * w if z is not None else None
        self._yy, self._zz = np.empty_like(self.yw), (np.empty_like(self.yw) if z is not None
                                                      else None)

    def _common_part(self, whitened_vectors, cols):
        """(roi, k0) ``X_common' v`` for whitened per-ROI vectors ``v`` (roi, bin)."""
        return np.einsum("rgk,rg->rk", (whitened_vectors @ cols).reshape(-1, self.g, self.k0),
                         self.seg_w)

    def __call__(self, whiten):
        cols = whiten @ self.masked  # (bin, segment * k0)
        yy = np.matmul(self.yw, whiten.T, out=self._yy)
        zz = np.matmul(self.zw, whiten.T, out=self._zz) if self.zw is not None else None
        return self._products(cols, yy, zz)

    def rotated(self, basis):
        """A function of ``d`` (bin,) giving what ``self(diag(d) @ basis.T)`` gives, with the
        products by the orthogonal ``basis`` (bin, bin) done once: the candidate correlations
        ``share * OU + (1 - share) I`` of one time constant share the eigenvectors of ``OU``."""
        cols0 = basis.T @ self.masked
        yq = self.yw @ basis
        zq = self.zw @ basis if self.zw is not None else None

        def products(d):
            zz = zq * d if zq is not None else None
            return self._products(d[:, None] * cols0, yq * d, zz)

        return products

    def _products(self, cols, yy, zz):
        k0, g = self.k0, self.g
        gram = (cols.T @ cols).reshape(g, k0, g, k0).transpose(0, 2, 1, 3).reshape(g * g, -1)
        k = k0 + (self.zw is not None)
        xtx = np.empty((len(yy), k, k))
        xty = np.empty((len(yy), k))
        xtx[:, :k0, :k0] = (self.pair_w @ gram).reshape(-1, k0, k0)
        xty[:, :k0] = self._common_part(yy, cols)
        if zz is not None:
            xz = self._common_part(zz, cols)
            xtx[:, :k0, k0] = xz
            xtx[:, k0, :k0] = xz
            xtx[:, k0, k0] = np.einsum("rn,rn->r", zz, zz)
            xty[:, k0] = np.einsum("rn,rn->r", zz, yy)
        return xtx, xty, np.einsum("rn,rn->r", yy, yy)


def standardised_rows(z: np.ndarray) -> np.ndarray:
    """Each row of ``z`` (roi, bin) centred and scaled to unit SD (NaN-aware; a constant row and
    NaNs become 0): the neuropil regressor of the session model."""
    z = z - np.nanmean(z, axis=1, keepdims=True)
    sd = np.nanstd(z, axis=1, keepdims=True)
    return np.nan_to_num(np.where(sd > 0, z / np.where(sd > 0, sd, 1.0), 0.0))


TAU_GRID_S = (30.0, 60.0, 120.0, 300.0, 600.0, 1200.0)
#: the session model's pooled choice (one for all ROIs, so a finer grid costs no selection)
POOLED_SHARE_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def f_sf(x, d1: int, d2: int) -> np.ndarray:
    """Upper tail of the F(d1, d2) distribution (as ``scipy.stats.f.sf``, without importing
    scipy.stats, which costs about a second on the command line)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    return betainc(0.5 * d2, 0.5 * d1, d2 / (d2 + d1 * x))


def t_two_sided(t, df: int) -> np.ndarray:
    """Two-sided p-value of Student's t with ``df`` degrees of freedom."""
    t = np.asarray(t, dtype=float)
    return betainc(0.5 * df, 0.5, df / (df + t * t))


def check_separable(frac: np.ndarray, *, source: str, minimum: float = 0.01) -> None:
    """Refuse a design whose response regressors are (almost) explained by the trend and run
    terms; warn when little is left (less than 3x ``minimum``)."""
    if np.any(frac < minimum):
        raise SchemaError(
            f"{source}: the post-run response cannot be separated from the slow trend in this run "
            f"schedule (only {100 * frac.min():.0f}% of the response regressor's variance is "
            "left once the trend and run terms are removed; need a longer pre-run baseline or "
            "a lower trend_degree)")
    if np.any(frac < 3 * minimum):
        warn(f"{source}: the post-run response is barely separable from the slow trend ({100 * frac.min():.0f}% "
             "of the response regressor's variance left): labels have little power", QualityWarning)
