"""The session model's test: weighted GLS with one noise correlation for the whole session and
a Satterthwaite reference distribution.

Every ROI's binned trace ``y`` is fitted by ``common`` columns (intercept, run levels, the
post-run response terms) and its own standardised neuropil column, with the covariance
``Sigma_i = D_i R D_i``:

* ``D_i`` holds the ROI's residual SD in each segment (pre-run rest, runs, post-run windows,
  the rest): spiking is multiplicative, so a response that doubles the rate raises the variance
  after the run; a single variance for the session weighs the quieter segment wrongly;
* ``R`` is one correlation for every ROI of the session: white noise plus an exponentially
  correlated (OU) component, its time constant and share chosen by the summed restricted
  likelihood over ROIs from :func:`sfone.classify._glm.noise_models` (a choice per ROI from a
  grid is a pre-test that the F test does not account for, and 140 bins cannot tell a 300 s
  from a 1200 s time constant);
* the segment variances are estimated, with few bins in the pre-run rest (20 in 10 min), so the
  response's variance is uncertain: its degrees of freedom come from Satterthwaite's
  approximation (each segment variance's effective df under ``R``, weighted by how much the
  response's variance depends on it), not from ``n - k``: with ``n - k`` the far tail was 3-8x
  too heavy.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cholesky, solve_triangular

from . import _glm

__all__ = ["session_test", "segment_index"]


def segment_index(segments: np.ndarray, min_bins: int = 4) -> tuple[np.ndarray, int]:
    """(bin,) index of each bin's variance group and the number of groups: the segments in
    ``np.unique`` order; a segment of fewer than ``min_bins`` bins joins the last group."""
    names, index, counts = np.unique(segments, return_inverse=True, return_counts=True)
    small = counts < min_bins
    if small.any() and (~small).any():
        keep = np.flatnonzero(~small)
        remap = np.full(names.size, -1)
        remap[keep] = np.arange(keep.size)
        remap[small] = keep.size - 1
        return remap[index], keep.size
    return index, names.size


def _leverage(X: np.ndarray) -> np.ndarray:
    return np.einsum("nk,kl,nl->n", X, np.linalg.pinv(X.T @ X), X)


def _segment_variances(resid, leverage, index, n_groups) -> np.ndarray:
    """(roi, group) residual variances, leverage-corrected (unbiased for white noise)."""
    out = np.empty((resid.shape[0], n_groups))
    for g in range(n_groups):
        m = index == g
        out[:, g] = (resid[:, m] ** 2).sum(axis=1) / max((1.0 - leverage[m]).sum(), 1.0)
    return np.maximum(out, 1e-300)


def _residual_correlation(common, corr) -> np.ndarray:
    """``(I - H) R (I - H)'``: the correlation of OLS residuals of ``common`` under ``R``."""
    n = common.shape[0]
    M = np.eye(n) - common @ np.linalg.pinv(common.T @ common) @ common.T
    return M @ corr @ M.T


def _corrected_variances(resid, S, index, n_groups) -> np.ndarray:
    """(roi, group) variances from OLS residuals, unbiased under the residual correlation
    ``S`` (:func:`_residual_correlation`): a segment's fitted levels absorb correlated noise, so
    ``sum e^2`` is ``v * sum_b S_bb`` (not ``v * sum (1 - h)``, which under-stated the run
    segments' variance by a third in five 90 s runs)."""
    out = np.empty((resid.shape[0], n_groups))
    for g in range(n_groups):
        m = index == g
        out[:, g] = (resid[:, m] ** 2).sum(axis=1) / max(np.trace(S[np.ix_(m, m)]), 1e-9)
    return np.maximum(out, 1e-300)


def _segment_dof(S, index, n_groups) -> np.ndarray:
    """Effective degrees of freedom of each group's variance: ``(tr S_g)^2 / sum S_g^2`` with
    ``S`` the residual correlation (:func:`_residual_correlation`) over the group's bins."""
    out = np.empty(n_groups)
    for g in range(n_groups):
        block = S[np.ix_(index == g, index == g)]
        out[g] = max(np.trace(block), 1e-9) ** 2 / max((block**2).sum(), 1e-300)
    return out


def _pooled_model(y, common, z, index, weights, centre):
    """The correlation model with the highest restricted likelihood summed over ROIs."""
    n = y.shape[1]
    normal = _glm._WhitenedNormalEquations(common, index, weights, y, z)
    k = common.shape[1] + (z is not None)
    dof = n - k
    best = None
    for tau, share, corr in _glm.noise_models(centre, shares=_glm.POOLED_SHARE_GRID):
        chol = cholesky(corr, lower=True)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        xtx, xty, yty = normal(solve_triangular(chol, np.eye(n), lower=True))
        beta, inv = _glm._solve_normal(xtx, xty)
        rss = np.maximum(yty - np.einsum("rk,rk->r", beta, xty), 1e-300)
        logdet_x = -np.linalg.slogdet(inv)[1]
        logdet_x = np.where(np.isfinite(logdet_x), logdet_x, 0.0)
        ll = float(np.sum(-0.5 * (dof * np.log(rss / dof) + logdet + logdet_x)))
        if best is None or ll > best[0]:
            best = (ll, tau, share, corr, chol)
    return best[1:]


def _covariance(common, index, variances, z, chol) -> tuple[np.ndarray, np.ndarray]:
    """(roi, k, k) ``(X' Sigma^-1 X)^-1`` for segment variances ``variances`` (roi, group)."""
    n = common.shape[0]
    dummy = np.zeros((variances.shape[0], n))
    normal = _glm._WhitenedNormalEquations(common, index, 1.0 / np.sqrt(variances), dummy, z)
    xtx, _, _ = normal(solve_triangular(chol, np.eye(n), lower=True))
    return _glm._solve_normal(xtx, np.zeros(xtx.shape[:2]))[1], xtx


def _curve_variance(common, index, variances, zs, whiten, cov, test, curve) -> np.ndarray:
    """(roi, m, m) variance the bleaching curves' estimation error gives the tested terms:
    ``level^2 M C M'`` with ``M`` the tested coefficients' response to each basis column
    (its GLS projection) and ``C`` the curve's covariance in the basis."""
    basis, curve_cov, level = curve
    n_roi = variances.shape[0]
    M = np.empty((n_roi, len(test), basis.shape[1]))
    for j in range(basis.shape[1]):
        column = np.broadcast_to(basis[:, j], (n_roi, basis.shape[0]))
        normal = _glm._WhitenedNormalEquations(common, index, 1.0 / np.sqrt(variances),
                                               np.ascontiguousarray(column), zs)
        _, xtb, _ = normal(whiten)
        M[:, :, j] = np.einsum("rkl,rl->rk", cov, xtb)[:, test]
    return np.einsum("r,rmk,rkl,rnl->rmn", level**2, M, curve_cov, M)


def session_test(y, common, test, z, segments, centre, curve=None) -> dict:
    """Fit and test the post-run terms ``test`` (column indices of ``common``) of every ROI.

    Parameters
    ----------
    y : numpy.ndarray
        (roi, bin) binned traces, finite.
    common : numpy.ndarray
        (bin, k0) columns shared by every ROI.
    test : numpy.ndarray
        Indices of the tested (post-run response) columns of ``common``.
    z : numpy.ndarray or None
        (roi, bin) each ROI's neuropil regressor (standardised here), or None.
    segments : numpy.ndarray
        (bin,) segment of every bin (pre-run, run, post-run, other).
    centre : numpy.ndarray
        (bin,) bin centres, s.
    curve : tuple, optional
        ``(basis, curve_cov, level)`` of the bleaching curves divided out of ``y``
        (:func:`sfone.classify._bleaching.normalise_bleaching`): their estimation error's
        variance is added to the tested terms' (treated as known, no degrees of freedom).

    Returns
    -------
    dict
        ``beta`` (roi, k), ``cov`` (roi, k, k), ``t`` (roi, m) of the tested terms, ``F``,
        ``df`` (Satterthwaite, roi), ``p``, ``resid_sd``, ``tau``/``share`` of the pooled
        correlation and ``fitted`` parts for the evidence figures.
    """
    n_roi, n = y.shape
    zs = _glm.standardised_rows(z) if z is not None else None
    X = np.broadcast_to(common, (n_roi,) + common.shape)
    if zs is not None:
        X = np.concatenate([X, zs[:, :, None]], axis=2)
    beta_ols, _ = _glm._solve(X, y)
    resid = y - np.einsum("rnk,rk->rn", X, beta_ols)
    k = X.shape[2]
    resid_sd = np.sqrt((resid**2).sum(axis=1) / max(n - k, 1))
    index, n_groups = segment_index(segments)
    leverage = _leverage(common)
    variances = _segment_variances(resid, leverage, index, n_groups)
    relative = 1.0 / np.sqrt(variances)
    relative /= np.exp(np.log(relative).mean(axis=1, keepdims=True))
    tau, share, corr, chol = _pooled_model(y, common, zs, index, relative, centre)
    shares = np.full(n_roi, share)
    if PER_ROI_SHARE:
        shares = _roi_shares(y, common, zs, index, relative, centre, tau)
    out = {key: None for key in ("beta", "cov", "t", "F", "df", "p")}
    for value in np.unique(shares):
        rows = np.flatnonzero(shares == value)
        corr_v = value * np.exp(-np.abs(centre[:, None] - centre[None, :]) / tau) + \
            (1.0 - value) * np.eye(n) if tau > 0 else np.eye(n)
        S = _residual_correlation(common, corr_v)
        part = _fit_rows(y[rows], common, test, None if zs is None else zs[rows], index,
                         _corrected_variances(resid[rows], S, index, n_groups), S, n_groups,
                         corr_v,
                         None if curve is None else (curve[0], curve[1][rows], curve[2][rows]))
        for key, value_ in part.items():
            if out[key] is None:
                out[key] = np.zeros((n_roi,) + value_.shape[1:])
            out[key][rows] = value_
    return {**out, "resid_sd": resid_sd, "tau": tau, "share": shares, "X": X}


#: choose the correlated share of each ROI's noise (the time constant stays the session's)
PER_ROI_SHARE = False


def _roi_shares(y, common, zs, index, weights, centre, tau) -> np.ndarray:
    """Each ROI's share of the session's OU component with the highest restricted likelihood."""
    n = y.shape[1]
    normal = _glm._WhitenedNormalEquations(common, index, weights, y, zs)
    dof = n - common.shape[1] - (zs is not None)
    best_ll, best = np.full(y.shape[0], -np.inf), np.zeros(y.shape[0])
    lag = np.abs(centre[:, None] - centre[None, :])
    for share in (0.0,) + _glm.SHARE_GRID:
        corr = share * np.exp(-lag / tau) + (1 - share) * np.eye(n) if tau > 0 else np.eye(n)
        chol = cholesky(corr, lower=True)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        xtx, xty, yty = normal(solve_triangular(chol, np.eye(n), lower=True))
        beta, inv = _glm._solve_normal(xtx, xty)
        rss = np.maximum(yty - np.einsum("rk,rk->r", beta, xty), 1e-300)
        logdet_x = np.nan_to_num(-np.linalg.slogdet(inv)[1])
        ll = -0.5 * (dof * np.log(rss / dof) + logdet + logdet_x)
        better = ll > best_ll
        best_ll[better], best[better] = ll[better], share
    return best


def _fit_rows(y, common, test, zs, index, variances, S, n_groups, corr, curve) -> dict:
    """GLS fit and Satterthwaite test of ROIs sharing one correlation ``corr``."""
    n = y.shape[1]
    k = common.shape[1] + (zs is not None)
    chol = cholesky(corr, lower=True)
    # the fit with absolute segment variances: beta and its covariance
    normal = _glm._WhitenedNormalEquations(common, index, 1.0 / np.sqrt(variances), y, zs)
    xtx, xty, _ = normal(solve_triangular(chol, np.eye(n), lower=True))
    beta, cov = _glm._solve_normal(xtx, xty)
    beta[:, 0] += y.mean(axis=1)  # the normal equations centre y; the intercept absorbs it
    cov_t = cov[:, test][:, :, test]
    extra = (_curve_variance(common, index, variances, zs,
                             solve_triangular(chol, np.eye(n), lower=True), cov, test, curve)
             if curve is not None else np.zeros_like(cov_t))
    # Satterthwaite: how the tested terms' variances move with each group's variance
    dof_g = _segment_dof(S, index, n_groups)
    var_t = np.einsum("rkk->rk", cov_t)  # (roi, m)
    var_of_var = np.zeros_like(var_t)
    eps = 1e-4
    for g in range(n_groups):
        bumped = variances.copy()
        bumped[:, g] *= 1.0 + eps
        cov_g, _ = _covariance(common, index, bumped, zs, chol)
        d = (np.einsum("rkk->rk", cov_g[:, test][:, :, test]) - var_t) / eps
        var_of_var += d**2 * 2.0 / dof_g[g]
    cov_t = cov_t + extra
    var_t = np.einsum("rkk->rk", cov_t)
    dof_terms = 2.0 * var_t**2 / np.maximum(var_of_var, 1e-300)
    df = np.clip(dof_terms.min(axis=1), 2.0, n - k)
    bt = beta[:, test]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = bt / np.sqrt(var_t)
        F = np.einsum("rk,rkl,rl->r", bt, np.linalg.pinv(cov_t, hermitian=True), bt) / len(test)
    p = _glm.f_sf(F, len(test), df)
    return {"beta": beta, "cov": cov, "t": t, "F": F, "df": df, "p": p}
