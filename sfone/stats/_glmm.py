"""Binomial GLMM for per-mouse counts, fitted by maximum likelihood with Gauss-Hermite quadrature.

Model (one row per mouse x day cell, ``k`` activated of ``n`` neurons)::

    logit P(activated) = X @ beta + sd_mouse * u[mouse] + sd_mouse_day * v[mouse, day]
    u, v ~ N(0, 1) independent

i.e. lme4's ``cbind(k, n - k) ~ day + (1 | mouse) + (1 | mouse:day)``. The mouse:day term is what
makes day-to-day variation of a mouse's share count as noise; without it the model treats every
neuron as an independent draw given the mouse and is anti-conservative (issue 15's glmer column).

The marginal likelihood of each mouse is a nested integral: the inner one over ``v`` (one per
mouse x day row), the outer one over ``u``; both by Gauss-Hermite quadrature with ``nodes`` points
(exact in the limit; ``docs/statistics.md`` reports the change from 40 to 80 nodes). The test of
a fixed effect is the likelihood ratio against the model without it, referred to chi2(1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

__all__ = ["GlmmFit", "fit_binomial_glmm", "glmm_day_test"]

_LOG_SD_BOUNDS = (-7.0, 2.5)  # sd from 0.001 to 12 on the logit scale


@dataclass
class GlmmFit:
    """Maximum-likelihood fit: fixed effects, random-effect SDs (logit scale), log-likelihood."""

    beta: np.ndarray
    sd_mouse: float
    sd_mouse_day: float
    loglik: float
    converged: bool


def _nodes(n: int):
    x, w = np.polynomial.hermite.hermgauss(n)
    return np.sqrt(2.0) * x, np.log(w / np.sqrt(np.pi))


def _loglik(params, k, n, X, member, const, nodes, log_w, mouse_day):
    """Log-likelihood and its gradient in (beta, log sd_mouse[, log sd_mouse_day])."""
    p = X.shape[1]
    beta = params[:p]
    sd_u = np.exp(params[p])
    inner_nodes = nodes if mouse_day else np.zeros(1)
    inner_w = log_w if mouse_day else np.zeros(1)
    sd_v = np.exp(params[p + 1]) if mouse_day else 0.0
    eta = ((X @ beta)[:, None, None] + sd_u * nodes[None, :, None]
           + sd_v * inner_nodes[None, None, :])  # (rows, outer, inner)
    # log binomial pmf without its constant: k*log(p) + (n-k)*log(1-p) = k*eta - n*log(1+e^eta)
    logp = k[:, None, None] * eta - n[:, None, None] * np.logaddexp(0, eta)
    inner, pi = _logsumexp(logp + inner_w[None, None, :], axis=2)  # pi: weights over inner nodes
    score = k[:, None, None] - n[:, None, None] * special.expit(eta)  # d logp / d eta
    pg = pi * score
    d_eta = pg.sum(axis=2)  # (rows, outer): d inner / d eta-shift
    per_mouse = member @ inner  # (mice, outer)
    total, rho = _logsumexp(per_mouse + log_w[None, :], axis=1)  # rho: weights over outer nodes
    weight = member.T @ rho  # (rows, outer): rho of each row's mouse
    grad = [X.T @ (weight * d_eta).sum(axis=1), [np.sum(weight * d_eta * sd_u * nodes[None, :])]]
    if mouse_day:
        grad.append([np.sum(weight * (pg * sd_v * nodes[None, None, :]).sum(axis=2))])
    return float(total.sum() + const), np.concatenate(grad)


def _logsumexp(x, axis):
    """log-sum-exp along ``axis`` and the softmax weights along it."""
    top = x.max(axis=axis, keepdims=True)
    e = np.exp(x - top)
    s = e.sum(axis=axis, keepdims=True)
    return np.squeeze(np.log(s) + top, axis=axis), e / s


def _negative(params, *args):
    value, grad = _loglik(params, *args)
    return -value, -grad


def fit_binomial_glmm(k, n, mouse, X, *, mouse_day: bool = True, nodes: int = 20) -> GlmmFit:
    """Maximum-likelihood binomial GLMM with a random intercept per mouse (and per mouse x day).

    Parameters
    ----------
    k, n : activated and total neurons of each row (one row per mouse x day).
    mouse : mouse id of each row.
    X : fixed-effect design, rows x p (an intercept column included by the caller).
    mouse_day : add the mouse x day random intercept (one per row).
    nodes : Gauss-Hermite points per random effect.
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    X = np.asarray(X, float).reshape(k.size, -1)
    _, index = np.unique(np.asarray(mouse).astype(str), return_inverse=True)
    member = np.zeros((index.max() + 1, k.size))
    member[index, np.arange(k.size)] = 1.0
    const = float(np.sum(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)))
    z, log_w = _nodes(nodes)
    empirical = np.log((k + 0.5) / (n - k + 0.5))
    beta0, *_ = np.linalg.lstsq(X, empirical, rcond=None)
    start = np.concatenate([beta0, [np.log(0.3)], [np.log(0.3)] if mouse_day else []])
    bounds = [(None, None)] * X.shape[1] + [_LOG_SD_BOUNDS] * (2 if mouse_day else 1)
    args = (k, n, X, member, const, z, log_w, mouse_day)
    best = optimize.minimize(_negative, start, args=args, jac=True, method="L-BFGS-B",
                             bounds=bounds)
    if not best.success:  # a second start: the likelihood can be flat in the SDs
        start[X.shape[1]:] = 0.0
        again = optimize.minimize(_negative, start, args=args, jac=True, method="L-BFGS-B",
                                  bounds=bounds)
        best = again if again.fun < best.fun else best
    p = X.shape[1]
    return GlmmFit(beta=best.x[:p], sd_mouse=float(np.exp(best.x[p])),
                   sd_mouse_day=float(np.exp(best.x[p + 1])) if mouse_day else 0.0,
                   loglik=-float(best.fun), converged=bool(best.success))


def glmm_day_test(k, n, mouse, second_day, *, mouse_day: bool = True, nodes: int = 20) -> dict:
    """Likelihood-ratio test of the day effect (``second_day`` is 1 for day-8 rows, else 0).

    Returns ``statistic`` (LR chi2, 1 df), ``p_value``, ``log_odds_ratio`` and the fitted SDs.
    """
    second_day = np.asarray(second_day, float)
    ones = np.ones_like(second_day)
    full = fit_binomial_glmm(k, n, mouse, np.column_stack([ones, second_day]),
                             mouse_day=mouse_day, nodes=nodes)
    null = fit_binomial_glmm(k, n, mouse, ones[:, None], mouse_day=mouse_day, nodes=nodes)
    lr = max(0.0, 2.0 * (full.loglik - null.loglik))
    return {"statistic": lr, "p_value": float(sps.chi2.sf(lr, 1)),
            "log_odds_ratio": float(full.beta[1]), "sd_mouse": full.sd_mouse,
            "sd_mouse_day": full.sd_mouse_day,
            "converged": full.converged and null.converged}
