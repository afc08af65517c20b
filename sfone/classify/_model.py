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
  likelihood over ROIs (:data:`sfone.classify._glm.TAU_GRID_S` x ``POOLED_SHARE_GRID``; a
  choice per ROI from a grid is a pre-test that the F test does not account for, and 140 bins cannot tell a 300 s
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
    lag = np.abs(centre[:, None] - centre[None, :])
    # each time constant's OU correlation is diagonalised once: every share's correlation
    # share * OU + (1 - share) I has its eigenvectors, so its whitening is diag(d) Q' (the
    # likelihood needs only inner products, which the orthogonal Q' leaves alone)
    candidates = [(0.0, (0.0,), np.eye(n), np.ones(n))]
    for tau in _glm.TAU_GRID_S:
        lam, basis = np.linalg.eigh(np.exp(-lag / tau))
        candidates.append((tau, [s for s in _glm.POOLED_SHARE_GRID if s > 0], basis,
                           np.clip(lam, 0.0, None)))
    best = None
    for tau, shares, basis, lam in candidates:
        products = normal.rotated(basis)
        for share in shares:
            eig = share * lam + (1.0 - share)
            logdet = float(np.log(eig).sum())
            xtx, xty, yty = products(1.0 / np.sqrt(eig))
            beta, inv = _glm._solve_normal(xtx, xty)
            rss = np.maximum(yty - np.einsum("rk,rk->r", beta, xty), 1e-300)
            logdet_x = -np.linalg.slogdet(inv)[1]
            logdet_x = np.where(np.isfinite(logdet_x), logdet_x, 0.0)
            ll = float(np.sum(-0.5 * (dof * np.log(rss / dof) + logdet + logdet_x)))
            if best is None or ll > best[0]:
                best = (ll, tau, share)
    _, tau, share = best
    corr = (share * np.exp(-lag / tau) + (1.0 - share) * np.eye(n)) if tau > 0 else np.eye(n)
    return tau, share, corr


def _covariance(common, index, variances, z, whiten) -> tuple[np.ndarray, np.ndarray]:
    """(roi, k, k) ``(X' Sigma^-1 X)^-1`` for segment variances ``variances`` (roi, group),
    the correlation's whitening ``L^-1`` given."""
    dummy = np.zeros((variances.shape[0], common.shape[0]))
    normal = _glm._WhitenedNormalEquations(common, index, 1.0 / np.sqrt(variances), dummy, z)
    xtx, _, _ = normal(whiten)
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
    tau, share, corr = _pooled_model(y, common, zs, index, relative, centre)
    S = _residual_correlation(common, corr)
    out = _fit_rows(y, common, test, zs, index, _corrected_variances(resid, S, index, n_groups),
                    S, n_groups, corr, curve)
    return {**out, "resid_sd": resid_sd, "tau": tau, "share": np.full(n_roi, share), "X": X}


def _fit_rows(y, common, test, zs, index, variances, S, n_groups, corr, curve) -> dict:
    """GLS fit and Satterthwaite test of ROIs sharing one correlation ``corr``."""
    n = y.shape[1]
    k = common.shape[1] + (zs is not None)
    whiten = solve_triangular(cholesky(corr, lower=True), np.eye(n), lower=True)
    # the fit with absolute segment variances: beta and its covariance
    normal = _glm._WhitenedNormalEquations(common, index, 1.0 / np.sqrt(variances), y, zs)
    xtx, xty, _ = normal(whiten)
    beta, cov = _glm._solve_normal(xtx, xty)
    beta[:, 0] += y.mean(axis=1)  # the normal equations centre y; the intercept absorbs it
    cov_t = cov[:, test][:, :, test]
    extra = (_curve_variance(common, index, variances, zs, whiten, cov, test, curve)
             if curve is not None else np.zeros_like(cov_t))
    # Satterthwaite: how the tested terms' variances move with each group's variance
    dof_g = _segment_dof(S, index, n_groups)
    var_t = np.einsum("rkk->rk", cov_t)  # (roi, m)
    var_of_var = np.zeros_like(var_t)
    eps = 1e-4
    for g in range(n_groups):
        bumped = variances.copy()
        bumped[:, g] *= 1.0 + eps
        cov_g, _ = _covariance(common, index, bumped, zs, whiten)
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


# --- the log-scale contrast and the combined test ------------------------------------------

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(96)


def max_abs_p(p1, p2, rho) -> np.ndarray:
    """``P(max(|Z1|, |Z2|) > c)`` for a standard bivariate normal pair with correlation ``rho``,
    ``c`` the larger of the z-equivalents of the two-sided p-values ``p1`` and ``p2``: the exact
    p-value of the larger of two correlated tests (no Bonferroni factor: under the null the
    linear and log contrasts nearly agree, so the max costs little)."""
    from scipy.special import ndtr, ndtri

    c = np.maximum(-ndtri(np.clip(p1, 1e-300, 1.0) / 2), -ndtri(np.clip(p2, 1e-300, 1.0) / 2))
    rho = np.clip(np.nan_to_num(rho, nan=0.0), -0.999999, 0.999999)
    s = np.sqrt(1.0 - rho**2)[:, None]
    x = c[:, None] * _NODES[None, :]
    inner = (ndtr(-(c[:, None] - rho[:, None] * x) / s)
             + ndtr((-c[:, None] - rho[:, None] * x) / s))
    phi = np.exp(-0.5 * x**2) / np.sqrt(2.0 * np.pi)
    return np.clip(2.0 * ndtr(-c) + c * (phi * inner * _WEIGHTS).sum(axis=1), 0.0, 1.0)


def log_contrast(out, response, segments, test, level0) -> tuple:
    """The post-run response on the log scale of activity above the zero level ``level0``:
    ``L = log((m_pre + b - level0) / (m_pre - level0))`` with ``m_pre`` the fitted pre-run level
    and ``b`` the mean fitted response over the post-run bins; its z (delta method with the
    fit's covariance), two-sided p (t with the fit's df), the correlation with the linear
    contrast ``b``, and where it is defined (both levels above ``level0``)."""
    beta, cov, X = out["beta"], out["cov"], out["X"]
    k = beta.shape[1]
    w = np.zeros(k)
    w[test] = response[segments == 2].mean(axis=0)
    pre_rows = X[:, segments == 0, :].mean(axis=1)
    pre_rows[:, test] = 0.0
    m_pre = np.einsum("rk,rk->r", pre_rows, beta)
    b = beta @ w
    a = m_pre - level0
    after = a + b
    defined = np.isfinite(a) & (a > 0) & (after > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        L = np.log(after / a)
        grad = pre_rows * (1.0 / after - 1.0 / a)[:, None] + w[None, :] / after[:, None]
        var_log = np.einsum("rk,rkl,rl->r", grad, cov, grad)
        var_lin = np.einsum("k,rkl,l->r", w, cov, w)
        z = L / np.sqrt(var_log)
        z_lin = b / np.sqrt(var_lin)
        rho = np.einsum("k,rkl,rl->r", w, cov, grad) / np.sqrt(var_lin * var_log)
    defined &= np.isfinite(z) & np.isfinite(rho) & np.isfinite(z_lin)
    p = _glm.t_two_sided(np.nan_to_num(z), out["df"])
    p_lin = _glm.t_two_sided(np.nan_to_num(z_lin), out["df"])
    with np.errstate(invalid="ignore", divide="ignore"):
        # SE of the log ratio under the null (no response): the ROI's sensitivity
        sd_null = np.where(a > 0, np.sqrt(var_lin) / a, np.nan)
    return z, p, rho, defined, p_lin, sd_null


# --- one session's bins -> per-ROI statistics ----------------------------------------------

def _subset(bins, keep):
    return _glm.Bins(bins.lo[keep], bins.hi[keep], bins.centre[keep], bins.run[keep])


def _fit_group(y, z, bins, span, n_runs, response, segments, level0, params, source) -> dict:
    """Statistics of ROIs that share their usable bins (see :func:`classify_bins`)."""
    from ._bleaching import normalise_bleaching

    pre = segments == 0
    curves, curve, bleach = np.ones_like(y), None, {}
    if z is not None:
        y, z, info = normalise_bleaching(y, z, bins, span, n_runs, response, pre)
        curves = info["curves"]
        # the curves' error reaches the trace and, through z / curves, the neuropil regressor
        # too; counting it once left ROIs whose variance it dominates 1.5x too often below .05
        curve = (info["basis"], CURVE_VARIANCE_FACTOR * info["curve_cov"], info["level"])
        bleach = {"population_loss": info["loss"], "relative_curves": info["n_relative"]}
    nuisance = _glm.nuisance_design(bins, span, n_runs, int(params.get("trend_degree") or 0))
    if (segments == 3).any():  # rests outside every window (a post-run window shorter than the
        # rest): their own level, so a response lasting past the window is not the baseline
        nuisance = np.concatenate([nuisance, (segments == 3).astype(float)[:, None]], axis=1)
    if z is None:  # a dF/F channel: no neuropil to take the bleaching from; what the dF/F
        # correction left of it is a slow decay, fitted (a free exponential, RESIDUAL_DECAY_S)
        t = bins.centre - span[0]
        decay = np.exp(-t / RESIDUAL_DECAY_S)
        nuisance = np.concatenate([nuisance, (decay - decay.mean())[:, None]], axis=1)
    frac = _glm.separability(nuisance, response)
    _glm.check_separable(frac, source=source)
    common = np.concatenate([nuisance, response], axis=1)
    test = np.arange(nuisance.shape[1], common.shape[1])
    out = session_test(y, common, test, z, segments, bins.centre, curve=curve)
    z_log, p_log, rho, defined, p_mean, sd_null = log_contrast(out, response, segments, test,
                                                                level0)
    p = out["p"].copy()
    if len(test) == 1:
        p[defined] = max_abs_p(out["p"][defined], p_log[defined], rho[defined])
    else:  # the log contrast's partner is the same mean response on the linear scale (the
        # joint null of an F and a t is not bivariate normal: 7 % of p < .05 in five short runs);
        # the F of both terms keeps the transient in view, Bonferroni over the two
        pair = max_abs_p(p_mean[defined], p_log[defined], rho[defined])
        p[defined] = np.minimum(1.0, 2.0 * np.minimum(out["p"][defined], pair))
    beta, cov, X = out["beta"], out["cov"], out["X"]
    post = segments == 2
    with np.errstate(invalid="ignore", divide="ignore"):
        contribution = beta[:, test] * response[post].mean(axis=0)[None, :]
        dominant = np.argmax(np.abs(np.nan_to_num(out["t"])), axis=1)
        effect = np.take_along_axis(contribution, dominant[:, None], axis=1)[:, 0]
        effect = effect / out["resid_sd"]
        # direction: the linear response's sign, or the log contrast's where it decided
        log_decides = defined & (p_log < out["p"])
        effect = np.where(log_decides & (np.sign(z_log) != np.sign(effect)),
                          np.sign(z_log) * np.abs(effect), effect)
    run_cols = np.arange(nuisance.shape[1])[(nuisance[bins.run >= 0] != 0).any(axis=0)
                                             & (nuisance[bins.run < 0] == 0).all(axis=0)]
    stats = {"effect": effect, "p": p, "p_linear": out["p"], "p_log": np.where(defined, p_log,
                                                                                np.nan),
             "df": out["df"], "sd_log": sd_null}
    if run_cols.size:
        c = np.zeros(beta.shape[1])
        c[run_cols] = 1.0 / run_cols.size
        est = beta @ c
        se = np.sqrt(np.einsum("k,rkl,l->r", c, cov, c))
        with np.errstate(invalid="ignore", divide="ignore"):
            stats["run_effect"] = est / out["resid_sd"]
            stats["run_p"] = _glm.t_two_sided(np.nan_to_num(est / se), out["df"])
    fitted = np.einsum("rnk,rk->rn", X, beta)
    nuisance_beta = beta.copy()
    nuisance_beta[:, test] = 0.0
    stats["fitted"] = fitted * curves
    stats["fitted_nuisance"] = np.einsum("rnk,rk->rn", X, nuisance_beta) * curves
    return {"stats": stats, "separability": frac, "noise": (out["tau"], out["share"]),
            "bleaching": bleach}


#: time constant (s) of the decay fitted in every dF/F channel (photometry): the residual
#: bleaching a dF/F correction leaves (20-60 min seen) labelled 40 % of null channels unfitted
RESIDUAL_DECAY_S = 1800.0

#: how many times the bleaching curves' estimated error variance the test counts (see
#: :func:`_fit_group`)
CURVE_VARIANCE_FACTOR = 2.0


def classify_bins(y, z, bins, span, n_runs, response, segments, level0, params, *,
                  source="<dataset>") -> tuple[dict, dict]:
    """Per-ROI post-run statistics of one session's binned traces.

    Bins without data in any ROI (dropped frames stored as NaN) are dropped with a warning;
    ROIs missing further bins are fitted on the bins they have (each set of usable bins on its
    own); a ROI left with fewer than :data:`MIN_USABLE_PRE` pre-run or post-run bins, or
    without data, is not tested (``tested`` False, p NaN).

    Parameters
    ----------
    y, z : numpy.ndarray
        (roi, bin) binned trace and neuropil (z None without neuropil).
    bins, span, n_runs, response, segments
        The session's bins, analysed span (s), number of runs, post-run regressors (bin, m)
        and segment of each bin.
    level0 : numpy.ndarray
        (roi,) zero-activity level of every ROI (the log contrast's origin).
    params : dict
        The classification parameters (``trend_degree``).
    source : str
        Named in messages.

    Returns
    -------
    (dict, dict)
        Per-ROI arrays (``effect``, ``p``, ``p_linear``, ``p_log``, ``df``, ``run_effect``,
        ``run_p``, ``tested``, ``fitted``, ``fitted_nuisance``) and session facts
        (``separability``, ``noise_tau_s``, ``noise_share``, ``bleaching``, ``dropped_bins``).
    """
    from .._logging import warn
    from ..exceptions import DataRepairWarning

    n_roi, n = y.shape
    finite = np.isfinite(y) & (np.isfinite(z) if z is not None else True)
    empty = ~finite.any(axis=0)
    if empty.any():
        warn(f"{source}: {int(empty.sum())} of {n} bins hold no data in any ROI (dropped "
             f"frames, NaN); bins centred at {', '.join(f'{c:.0f}' for c in bins.centre[empty][:5])}"
             f"{' ...' if empty.sum() > 5 else ''} s are left out", DataRepairWarning)
    stats = {key: np.full(n_roi, np.nan) for key in ("effect", "p", "p_linear", "p_log", "df",
                                                      "run_effect", "run_p", "sd_log")}
    stats["fitted"] = np.full((n_roi, n), np.nan)
    stats["fitted_nuisance"] = np.full((n_roi, n), np.nan)
    stats["tested"] = np.zeros(n_roi, bool)
    facts = {"dropped_bins": int(empty.sum())}
    patterns, group = np.unique(finite & ~empty, axis=0, return_inverse=True)
    group = np.asarray(group).reshape(-1)
    order = np.argsort([-np.sum(group == g) for g in range(len(patterns))])
    partial = 0
    for g in order:
        keep, rows = patterns[g], np.flatnonzero(group == g)
        seg = segments[keep]
        if (seg == 0).sum() < MIN_USABLE_PRE or (seg == 2).sum() < MIN_USABLE_PRE or \
                keep.sum() < 20:
            continue  # too little left to test: "insufficient data"
        if keep.sum() < (~empty).sum():
            partial += rows.size
        part = _fit_group(y[np.ix_(rows, keep)], None if z is None else z[np.ix_(rows, keep)],
                          _subset(bins, keep), span, n_runs, response[keep], seg,
                          level0[rows], params, source)
        for key, value in part["stats"].items():
            if value.ndim == 2:
                stats[key][np.ix_(rows, keep)] = value
            else:
                stats[key][rows] = value
        stats["tested"][rows] = True
        if "separability" not in facts:  # the largest group's session facts
            facts.update(separability=[float(v) for v in part["separability"]],
                         noise_tau_s=float(part["noise"][0]),
                         noise_share=float(np.median(part["noise"][1])),
                         bleaching=part["bleaching"])
    if partial:
        warn(f"{source}: {partial} ROI(s) miss some bins (NaN) and were fitted on the bins they "
             "have", DataRepairWarning)
    untested = int((~stats["tested"]).sum())
    if untested:
        warn(f"{source}: {untested} ROI(s) hold too little data to test (fewer than "
             f"{MIN_USABLE_PRE} pre-run or post-run bins): labelled 'insufficient data'",
             DataRepairWarning)
    if "separability" not in facts:
        facts["separability"] = []
    return stats, facts


#: fewest usable pre-run (and post-run) bins a ROI is tested on
MIN_USABLE_PRE = 3
