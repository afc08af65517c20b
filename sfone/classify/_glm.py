"""The ``glm`` method: one regression per session, fitted to binned traces of all ROIs at once.

Model of every ROI's binned trace ``y`` (bins of about ``bin_s`` that never straddle a run edge)::

    y = intercept + smooth trend + run-period means [+ b_b * bleaching] + b_n * neuropil
        + b_s * sustained(t) + b_t * transient(t) + noise

* smooth trend: Legendre polynomials of time up to ``trend_degree`` over the analysed span
  (slow drift); a polynomial cannot follow a step at a run end.
* run-period means: one indicator per run (activity during the run is not a post-run effect).
* bleaching (imaging with ``Fneu``): the population's bleaching curve ``exp(-t / tau)`` fitted
  to the median log neuropil (``_session.population_bleaching``), a free coefficient per ROI.
* neuropil: the ROI's binned ``Fneu`` (absorbs a mis-estimated contamination coefficient and a
  neuropil step after the run).
* sustained: 1 inside every post-run window (run end to ``post_run_s`` end, clipped at the next
  run start); transient: ``exp(-(t - run end) / transient_tau_s)`` inside the same windows.

Noise: weighted least squares with one residual variance per segment (pre-run, runs,
post-run, other), and per ROI the white + exponentially correlated (OU) noise model of
:func:`noise_models` with the highest restricted likelihood (REML). The post-run response
terms are tested jointly (Wald F, ``n - k`` residual degrees of freedom). ``effect`` is the
dominant term's mean fitted response over the post-run bins in residual SDs of the binned trace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre
from scipy.linalg import cholesky, solve_triangular
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

    The weights are constant within a segment (:func:`segment_weights`), so a ROI's whitened
    common columns are ``sum_g w[r, g] * C_g`` with ``C_g = L^-1 (common * [segment == g])``:
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
SHARE_GRID = (0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99)
#: the session model's pooled choice (one for all ROIs, so a finer grid costs no selection)
POOLED_SHARE_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def noise_models(centre: np.ndarray, taus=TAU_GRID_S, shares=SHARE_GRID):
    """Correlation matrices of the candidate noise models: ``share`` of the variance an
    exponentially correlated (OU / AR(1)) process of time constant ``tau`` (s), the rest white."""
    lag = np.abs(centre[:, None] - centre[None, :])
    models = [(0.0, 0.0, np.eye(centre.size))]
    for tau in taus:
        ou = np.exp(-lag / tau)
        for share in shares:
            if share > 0:
                models.append((tau, share, share * ou + (1.0 - share) * np.eye(centre.size)))
    return models


def f_sf(x, d1: int, d2: int) -> np.ndarray:
    """Upper tail of the F(d1, d2) distribution (as ``scipy.stats.f.sf``, without importing
    scipy.stats, which costs about a second on the command line)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    return betainc(0.5 * d2, 0.5 * d1, d2 / (d2 + d1 * x))


def t_two_sided(t, df: int) -> np.ndarray:
    """Two-sided p-value of Student's t with ``df`` degrees of freedom."""
    t = np.asarray(t, dtype=float)
    return betainc(0.5 * df, 0.5, df / (df + t * t))


def segment_weights(resid: np.ndarray, segments: np.ndarray, *,
                    min_bins: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Weights 1/SD of the OLS residuals in each segment (pre-run, runs, post-run, other),
    scaled to a geometric mean of 1 over the bins: a response that raises the rate also raises
    the variance (spiking is multiplicative), so one residual variance for the whole session
    would over-weight the quieter segment. Segments with fewer than ``min_bins`` bins share
    the whole-session variance.

    Returns the (roi, segment) weights of the segments in ``np.unique(segments)`` order and
    each bin's segment index (bin,); a bin's weight is ``weights[:, index]``."""
    _, index, counts = np.unique(segments, return_inverse=True, return_counts=True)
    whole = (resid**2).mean(axis=1)
    var = np.stack([(resid[:, index == g] ** 2).mean(axis=1) if counts[g] >= min_bins else whole
                    for g in range(counts.size)], axis=1)
    w = 1.0 / np.sqrt(np.maximum(var, 1e-300))
    geometric_mean = np.exp((np.log(w) * counts).sum(axis=1, keepdims=True) / counts.sum())
    return w / geometric_mean, index


def glm_test(y: np.ndarray, nuisance: np.ndarray, response: np.ndarray,
             neuropil: np.ndarray | None, *, centre: np.ndarray, segments: np.ndarray | None = None,
             run_cols: np.ndarray | None = None) -> dict:
    """Fit the session model to every ROI's binned trace ``y`` (roi, bin) by weighted
    generalised least squares: per-segment residual variances (:func:`segment_weights`) and,
    per ROI, the noise correlation of :func:`noise_models` with the highest restricted
    likelihood (REML).

    Returns ``effect`` (roi,): the post-run response in units of the residual SD of the binned
    trace (the fitted response of the dominant term, sustained or transient, averaged over the
    post-run bins; its sign is the label's direction), ``p`` (Wald F test of both response
    terms), ``F``, ``df``, ``tau`` and ``share`` of the chosen noise model, ``bic``, and with
    ``run_cols`` (the run-indicator columns of ``nuisance``) ``run_effect`` and ``run_p``.
    """
    n_roi, n = y.shape
    common = np.concatenate([nuisance, response], axis=1)
    X = np.broadcast_to(common, (n_roi,) + common.shape)
    if neuropil is not None:
        z = standardised_rows(neuropil)
        X = np.concatenate([X, z[:, :, None]], axis=2)
    k = X.shape[2]
    test = np.arange(nuisance.shape[1], nuisance.shape[1] + response.shape[1])
    df = n - k
    if df < 5:
        raise SchemaError(f"the session has {n} usable bins for {k} model terms: too short to "
                          f"classify (need at least {k + 5})")
    finite = np.isfinite(y).all(axis=1)
    y0 = np.where(finite[:, None], y, 0.0)
    beta_ols, _ = _solve(X, y0)
    resid = y0 - np.einsum("rnk,rk->rn", X, beta_ols)
    resid_sd = np.sqrt((resid**2).sum(axis=1) / df)
    seg_w, index = (segment_weights(resid, segments) if segments is not None
                    else (np.ones((n_roi, 1)), np.zeros(n, int)))
    normal = _WhitenedNormalEquations(common, index, seg_w, y0,
                                      z if neuropil is not None else None)
    best = {"ll": np.full(n_roi, -np.inf)}
    for tau, share, corr in noise_models(centre):
        chol = cholesky(corr, lower=True)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        xtx, xty, yty = normal(solve_triangular(chol, np.eye(n), lower=True))
        beta, inv = _solve_normal(xtx, xty)
        rss = yty - np.einsum("rk,rk->r", beta, xty)
        logdet_x = -np.linalg.slogdet(inv)[1]  # log det X'X (inv is its pseudo-inverse)
        logdet_x = np.where(np.isfinite(logdet_x), logdet_x, 0.0)  # a degenerate column
        ll = -0.5 * (df * np.log(np.maximum(rss, 1e-300) / df) + logdet + logdet_x)
        better = ll > best["ll"]
        if better.any():
            ml = -0.5 * (n * np.log(np.maximum(rss, 1e-300) / n) + logdet)
            for key, value in (("ll", ll), ("rss", rss), ("beta", beta), ("inv", inv),
                               ("ml", ml),
                               ("tau", np.full(n_roi, tau)), ("share", np.full(n_roi, share))):
                if key not in best:
                    best[key] = np.zeros_like(value)
                best[key][better] = value[better]
    beta, inv = best["beta"], best["inv"]
    sigma2 = best["rss"] / df
    bt = beta[:, test]
    cov = inv[:, test][:, :, test] * sigma2[:, None, None]
    stat = np.einsum("rk,rkl,rl->r", bt, np.linalg.pinv(cov, hermitian=True), bt) / test.size
    p = f_sf(stat, test.size, df)
    post = response[:, 0] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        t_terms = bt / np.sqrt(np.einsum("rkk->rk", cov))
        dominant = np.argmax(np.abs(np.nan_to_num(t_terms)), axis=1)
        contribution = bt * response[post].mean(axis=0)[None, :]  # (roi, term)
        effect = np.take_along_axis(contribution, dominant[:, None], axis=1)[:, 0] / resid_sd
    p[~finite] = np.nan
    effect[~finite] = np.nan
    # BIC of the fit (ML log-likelihood at the chosen noise model; k fixed effects + 2 noise
    # parameters)
    bic = -2.0 * best["ml"] + (k + 2) * np.log(n)
    out = {"effect": effect, "p": p, "F": stat, "df": df, "tau": best["tau"],
           "share": best["share"], "bic": bic,
           **fitted_curves(X, beta, y0, test, finite)}
    if run_cols is not None and len(run_cols):
        contrast = np.zeros(beta.shape[1])
        contrast[run_cols] = 1.0 / len(run_cols)
        estimate = beta @ contrast
        se = np.sqrt(np.einsum("k,rkl,l->r", contrast, inv, contrast) * sigma2)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["run_effect"] = np.where(finite, estimate / resid_sd, np.nan)
            out["run_p"] = np.where(finite, t_two_sided(estimate / se, df), np.nan)
    return out


def fitted_curves(X, beta, y, test, finite) -> dict:
    """(roi, bin) fitted trace of the whole model (``fitted``) and of its nuisance part alone
    (``fitted_nuisance``: the response terms set to 0), in the units of the binned trace ``y``
    (the normal equations centre ``y``: its mean is added back); NaN for ROIs not fitted."""
    level = y.mean(axis=1, keepdims=True)
    full = np.einsum("rnk,rk->rn", X, beta) + level
    nuisance_beta = beta.copy()
    nuisance_beta[:, test] = 0.0
    nuisance = np.einsum("rnk,rk->rn", X, nuisance_beta) + level
    full[~finite] = np.nan
    nuisance[~finite] = np.nan
    return {"fitted": full, "fitted_nuisance": nuisance}


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
