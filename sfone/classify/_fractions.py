"""How many ROIs respond, corrected for how sensitive the session was (issue 27).

The fraction of ROIs *labelled* activated is (true fraction) x (power) + (false labels), and
power depends on the recording: the same biology gives 28 % in a clean session and 2 % in a
bursty one. sfone reports besides it an **estimate** of the fraction that responds, from the
distribution of the per-ROI statistics under their calibrated null:

* every tested ROI's p-value and direction give a signed z (``z = sign * Phi^-1(1 - p/2)``),
  standard normal for a null ROI;
* null ROIs fall inside ``|z| < c`` with probability ``2 Phi(c) - 1``, responders rarely
  (their z sits away from 0 on their side): the share of nulls is estimated from that count,
  ``pi0 = #{|z| < c} / (m (2 Phi(c) - 1))`` (Storey's estimator with lambda = 2 (1 - Phi(c)));
* the activated fraction is what lies beyond ``+c`` minus the nulls' share there,
  ``#{z > c} / m - pi0 (1 - Phi(c))``, and the inhibited one the same on the other side;
* the 95 % interval is the percentile interval of the same estimate over
  :data:`N_BOOTSTRAP` bootstrap resamples of the ROIs.

A responder whose |z| stays under ``c`` counts as null, so the estimate is low when a
session cannot see its responders at all; that is what the session's **sensitivity** says:
``detectable_gain_80`` is the median over ROIs of the post-run gain (multiplicative, on the
activity above the zero level) that a test at the default q detects with 80 % power in that
ROI, ``exp((z_q + 0.84) * SE(log ratio))``, with ``z_q`` the z of the session's BH cut-off.
``power_x2`` is the mean over ROIs of the power for a doubling.

The choice of ``c`` (0.5) and the measured bias and interval coverage are in
docs/validation.md (``python -m validation.fractions``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["estimate_fractions", "FRACTION_COLUMNS", "CENTRAL_Z", "N_BOOTSTRAP"]

#: half-width of the central region whose count estimates the share of nulls
CENTRAL_Z = 0.5
#: bootstrap resamples of the ROIs for the 95 % interval
N_BOOTSTRAP = 1000

#: the per-session summary (``sfone classify --summary``), in this order
FRACTION_COLUMNS = ("n_rois", "n_tested",
                    "fraction_activated_labelled", "fraction_activated_estimate",
                    "fraction_activated_ci_low", "fraction_activated_ci_high",
                    "fraction_inhibited_labelled", "fraction_inhibited_estimate",
                    "fraction_inhibited_ci_low", "fraction_inhibited_ci_high",
                    "detectable_gain_80", "power_x2")


def _ndtr(x):
    from scipy.special import ndtr

    return ndtr(x)


def signed_z(p, effect) -> np.ndarray:
    """Signed z of two-sided p-values (the sign of ``effect``)."""
    from scipy.special import ndtri

    return np.sign(effect) * -ndtri(np.clip(np.asarray(p, float), 1e-300, 1.0) / 2.0)


def _shares(z: np.ndarray, c: float) -> np.ndarray:
    """(activated, inhibited) estimated fractions of the ROIs whose signed z are the rows of
    ``z`` (last axis: ROIs), clipped to [0, 1]."""
    tail = 1.0 - _ndtr(c)
    m = z.shape[-1]
    pi0 = np.minimum((np.abs(z) < c).sum(axis=-1) / (m * (1.0 - 2.0 * tail)), 1.0)
    act = (z > c).sum(axis=-1) / m - pi0 * tail
    inh = (z < -c).sum(axis=-1) / m - pi0 * tail
    return np.clip(np.stack([act, inh], axis=-1), 0.0, 1.0)


def estimate_fractions(labels, p, effect, sd_log=None, *, q: float = 0.05, random_state=0
                       ) -> dict:
    """Labelled and estimated fractions of activated and inhibited ROIs, with 95 % intervals,
    and the session's sensitivity (see the module docstring).

    Parameters
    ----------
    labels : array_like of str
        Per-ROI labels (``activated``, ``inhibited``, ``unchanged``, ``insufficient data``).
    p, effect : array_like
        Per-ROI two-sided p-values and the effects whose sign is the direction; NaN p: not
        tested (left out of every fraction).
    sd_log : array_like, optional
        Per-ROI SE of the log post/pre ratio under the null (the glm's); without it the
        sensitivity columns are NaN.
    q : float
        The false-discovery rate of the labels (the BH cut-off's z comes from it).
    random_state : int, optional
        Seed of the bootstrap.

    Returns
    -------
    dict
        The keys of :data:`FRACTION_COLUMNS` (fractions of the tested ROIs; gain
        dimensionless, > 1; power in [0, 1]).
    """
    labels = np.asarray(labels, str)
    p = np.asarray(p, float)
    tested = np.isfinite(p)
    m = int(tested.sum())
    out = {"n_rois": int(labels.size), "n_tested": m}
    if m == 0:
        nan = float("nan")
        out.update({k: nan for k in FRACTION_COLUMNS if k not in out})
        return out
    z = signed_z(p[tested], np.asarray(effect, float)[tested])
    est = _shares(z[None, :], CENTRAL_Z)[0]
    rng = np.random.default_rng(random_state)
    draws = z[rng.integers(0, m, size=(N_BOOTSTRAP, m))]
    boot = _shares(draws, CENTRAL_Z)
    low, high = np.quantile(boot, [0.025, 0.975], axis=0)
    for k, name in enumerate(("activated", "inhibited")):
        out[f"fraction_{name}_labelled"] = float(np.mean(labels[tested] == name))
        out[f"fraction_{name}_estimate"] = float(est[k])
        out[f"fraction_{name}_ci_low"] = float(low[k])
        out[f"fraction_{name}_ci_high"] = float(high[k])
    out["detectable_gain_80"], out["power_x2"] = _sensitivity(
        None if sd_log is None else np.asarray(sd_log, float)[tested], est.sum(), m, q)
    return out


def _sensitivity(sd_log, responding: float, m: int, q: float) -> tuple[float, float]:
    """(median detectable gain at 80 % power, mean power for a doubling) of the ROIs whose
    null SE of the log ratio is ``sd_log``; the BH cut-off is that of a session where the
    estimated ``responding`` fraction is found: two-sided p < q * max(responding, 1/m)."""
    from scipy.special import ndtri

    if sd_log is None or not np.isfinite(sd_log).any():
        return float("nan"), float("nan")
    sd = sd_log[np.isfinite(sd_log) & (sd_log > 0)]
    alpha = q * max(responding, 1.0 / m)
    z_q = -ndtri(alpha / 2.0)
    gain = np.exp((z_q + ndtri(0.8)) * sd)
    shift = np.log(2.0) / sd
    power = _ndtr(shift - z_q) + _ndtr(-shift - z_q)
    return float(np.median(gain)), float(np.mean(power))
