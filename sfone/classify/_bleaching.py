"""Photobleaching of imaging sessions, divided out before the session model is fitted.

Bleaching multiplies everything a ROI emits: ``F = b(t) (F0 (1 + calcium) + c N(t))`` and its
neuropil annulus ``Fneu = b(t) N(t)`` bleach with the same ``b(t)`` (one fluorophore under one
beam). A free bleaching coefficient per ROI cannot be told from a sustained post-run step (the
two are correlated at -0.86 over a one-hour session, which took most of the power), so sfone
estimates the curve ``b(t)`` of every ROI without a free coefficient and divides it out:

1. **Each ROI's own bleaching, relative to the population**, from its neuropil: the shared
   neuropil (the cross-ROI median of each ROI's centred log binned ``Fneu``) carries the
   fluctuations and steps every annulus sees; ``log Fneu_i`` minus it is the ROI's bleaching
   relative to the population's. Its smooth part (decaying exponentials, fitted together with
   run levels and the post-run terms, so that a neuropil step after the run stays out) is the
   ROI's relative curve. It is fitted to ``Fneu`` alone, never to the trace tested, and used
   only where it differs from flat beyond its noise (:data:`MIN_CURVE_CHI2`).
2. **The population's bleaching** ``p(t)``: after dividing by the relative curve, each ROI's
   trace is ``A_i p(t) (1 + response)`` + neuropil + noise. Every ROI's fit (level, runs,
   post-run terms and the decaying exponentials) estimates ``A_i (p(t) - 1)``; their
   precision-weighted ratio to the ROI's level ``A_i`` over all ROIs gives ``p(t) - 1``, one
   curve for the session (used when it differs from flat: :data:`MIN_POPULATION_CHI2`).

Both curves carry estimation error; its covariance (per ROI: relative curve plus population
curve, in the basis of :func:`curve_basis`) goes with the result, and the session test adds
the variance it gives the post-run terms (``level^2 * M C M'``), so the test stays calibrated.
"""

from __future__ import annotations

import numpy as np

from . import _glm

__all__ = ["BLEACH_TAUS_S", "curve_basis", "normalise_bleaching"]

#: time constants (s) of the decaying exponentials that make up the bleaching curves
BLEACH_TAUS_S = (900.0, 1800.0, 3600.0)
#: a ROI's relative curve is used when its coefficients differ from 0 by at least this
#: chi-square (3 df, p < 0.003) with the residuals' autocorrelation taken into account; a flat
#: one divided in only added its noise (0.09 % a session, 0.15 of a clean ROI's SE)
MIN_CURVE_CHI2 = 13.8
#: the population curve is divided out when its coefficients differ from 0 by this chi-square
#: (2 df; p < 1e-4)
MIN_POPULATION_CHI2 = 18.4


def curve_basis(bins, span, pre) -> np.ndarray:
    """(bin, k) decaying exponentials ``exp(-t / tau)`` of time from the span's start, one per
    :data:`BLEACH_TAUS_S`, each zero on average over the pre-run baseline ``pre``."""
    t = bins.centre - span[0]
    basis = np.column_stack([np.exp(-t / tau) for tau in BLEACH_TAUS_S])
    return basis - basis[pre].mean(axis=0)


def _ols(X, Y):
    """Coefficients (roi, k) of every row of ``Y`` (roi, bin) on ``X`` (bin, k), their
    covariance (roi, k, k) widened by ``(1 + rho) / (1 - rho)`` for the lag-1 autocorrelation
    ``rho`` of each row's residuals."""
    inv = np.linalg.pinv(X.T @ X)
    coef = Y @ (X @ inv)
    resid = Y - coef @ X.T
    dof = max(X.shape[0] - X.shape[1], 1)
    s2 = (resid**2).sum(axis=1) / dof
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (resid[:, 1:] * resid[:, :-1]).sum(axis=1) / (resid**2).sum(axis=1)
    rho = np.clip(np.nan_to_num(rho), 0.0, 0.95)
    return coef, inv[None] * (s2 * (1 + rho) / (1 - rho))[:, None, None]


def _relative_curves(z, common, basis, pre) -> tuple[np.ndarray, np.ndarray]:
    """Each ROI's log bleaching relative to the population in the basis: coefficients (roi, k)
    (0 where flat within noise) and their covariance (roi, k, k)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        log_z = np.log(np.where(z > 0, z, np.nan))
    # each ROI centred first: the median of raw levels follows the one ROI at the median (its
    # noise, 0.05 % a bin, entered every ROI's curve); of centred values it averages them all
    relative = log_z - np.nanmedian(log_z - np.nanmean(log_z, axis=1, keepdims=True), axis=0)
    usable = np.isfinite(relative).all(axis=1)
    X = np.concatenate([common, basis], axis=1)
    k = basis.shape[1]
    coef, cov = _ols(X, np.where(usable[:, None], relative, 0.0))
    coef, cov = coef[:, -k:], cov[:, -k:, -k:]
    chi2 = np.einsum("rk,rkl,rl->r", coef, np.linalg.pinv(cov, hermitian=True), coef)
    used = usable & (chi2 >= MIN_CURVE_CHI2)
    coef[~used] = 0.0
    cov[~used] = 0.0
    return coef, cov


def _population_curve(y, common, basis, pre, neuropil=None) -> tuple[np.ndarray, np.ndarray]:
    """The population's bleaching coefficients (k,) (``p(t) = 1 + basis @ kappa``; 0 when flat)
    and their (k, k) covariance, from every ROI's fit of ``y`` (already divided by its
    relative curve), with each ROI's ``neuropil`` (roi, bin) as a regressor when given."""
    level = y[:, pre].mean(axis=1)
    X = np.concatenate([common, basis], axis=1)
    k = basis.shape[1]
    if neuropil is None:
        coef, cov = _ols(X, y)
        phi, cov = coef[:, -k:], cov[:, -k:, -k:]  # estimates of level * (p - 1) in the basis
    else:
        zs = _glm.standardised_rows(neuropil)
        Xr = np.concatenate([np.broadcast_to(X, (y.shape[0],) + X.shape), zs[:, :, None]], axis=2)
        beta, inv = _glm._solve(Xr, y)
        resid = y - np.einsum("rnk,rk->rn", Xr, beta)
        dof = max(y.shape[1] - Xr.shape[2], 1)
        s2 = (resid**2).sum(axis=1) / dof
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = (resid[:, 1:] * resid[:, :-1]).sum(axis=1) / (resid**2).sum(axis=1)
        rho = np.clip(np.nan_to_num(rho), 0.0, 0.95)
        cols = np.arange(X.shape[1] - k, X.shape[1])
        phi = beta[:, cols]
        cov = inv[:, cols][:, :, cols] * (s2 * (1 + rho) / (1 - rho))[:, None, None]
    ok = (np.isfinite(phi).all(axis=1) & np.isfinite(level) & (np.abs(level) > 0)
          & (np.einsum("rkk->r", cov) > 0))
    if ok.sum() < 3:
        return np.zeros(k), np.zeros((k, k))
    precision = np.linalg.pinv(cov[ok], hermitian=True)
    a = level[ok]
    info = np.einsum("r,rkl->kl", a * a, precision)
    inv_info = np.linalg.pinv(info, hermitian=True)
    kappa = inv_info @ np.einsum("r,rkl,rl->k", a, precision, phi[ok])
    # the sandwich (the ROIs' own scatter about the common curve) rather than the model's
    # covariance: the per-ROI variances under slow drift are too small (seen: errors 2-3x the
    # model's SE with every nuisance), not the spread of the ROIs' estimates
    score = a[:, None] * np.einsum("rkl,rl->rk", precision, phi[ok] - a[:, None] * kappa)
    kappa_cov = inv_info @ (score.T @ score) @ inv_info * (ok.sum() / max(ok.sum() - k, 1))
    if not kappa @ np.linalg.pinv(kappa_cov, hermitian=True) @ kappa >= MIN_POPULATION_CHI2:
        return np.zeros(k), kappa_cov
    return kappa, kappa_cov


def normalise_bleaching(y, z, bins, span, n_runs, response, pre) -> tuple:
    """``y`` and ``z`` divided by each ROI's bleaching curve (see the module docstring).

    Parameters
    ----------
    y, z : numpy.ndarray
        (roi, bin) binned trace and binned neuropil (a.u.).
    bins : Bins
        The session's bins.
    span : tuple of float
        (first, last) s analysed.
    n_runs : int
        Number of runs.
    response : numpy.ndarray
        (bin, m) post-run response regressors.
    pre : numpy.ndarray
        (bin,) bool, the pre-run baseline bins.

    Returns
    -------
    tuple
        ``(y, z, info)``: the divided trace and neuropil, and a dict with ``curves`` (roi,
        bin: what was divided out, 1 over the pre-run baseline on average), ``basis``
        (:func:`curve_basis`), ``curve_cov`` (roi, k, k: covariance of each ROI's curve in the
        basis), ``level`` (roi: the divided trace's pre-run mean), ``loss`` (the population
        curve's loss over the span, fraction) and ``n_relative`` (ROIs whose own curve was
        used).
    """
    common = np.concatenate([_glm.nuisance_design(bins, span, n_runs, 0), response], axis=1)
    basis = curve_basis(bins, span, pre)
    rel_coef, rel_cov = _relative_curves(z, common, basis, pre)
    relative = np.exp(rel_coef @ basis.T)
    y1, z1 = y / relative, z / relative
    kappa, kappa_cov = _population_curve(y1, common, basis, pre)
    if kappa.any():  # again, with the neuropil freed of the first curve as a regressor: the
        # neuropil's slow fluctuations enter every ROI (c - c_file) N(t) and were common error
        first = np.clip(1.0 + basis @ kappa, 0.05, None)
        kappa, kappa_cov = _population_curve(y1, common, basis, pre, neuropil=z1 / first)
    population = np.clip(1.0 + basis @ kappa, 0.05, None)  # the clip is a guard, never reached
    curves = relative * population[None, :]
    y2 = y / curves
    z2 = z / curves
    info = {"curves": curves, "basis": basis, "level": y2[:, pre].mean(axis=1),
            "curve_cov": rel_cov + (kappa_cov[None] if kappa.any() else 0.0),
            "loss": float(population[pre].mean() - population[-1]),
            "n_relative": int((rel_coef != 0).any(axis=1).sum())}
    return y2, z2, info
