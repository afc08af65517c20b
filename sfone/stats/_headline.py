"""Mouse-level tests of the activated share: the headline test and its alternatives.

A paired design (the same mice in both groups) gets the paired t-test on per-mouse activated
fractions (headline), the paired t on empirical logits, the Wilcoxon signed-rank (only when it
can reach ``alpha``) and the binomial GLMM with a mouse:day term. Different mice get Welch's t,
Welch's t on logits, the Mann-Whitney U (same rule) and the GLMM with a mouse term.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

from ._rows import LowPowerWarning, _row, _wide


def _t_test_or_reason(b, a, *, paired: bool):
    """Paired or Welch t of ``b`` vs ``a``, or ``(None, reason)`` when t is undefined.

    With no variation (every paired difference equal, or every value of both groups equal
    within its group) the t statistic is 0/0 or +-inf and its p-value means nothing: the test
    is not run and the reason says so.

    Parameters
    ----------
    b, a : array_like of float
        Per-mouse values of the second and the first group (paired: the same mice in order).
    paired : bool
        Paired t (``scipy.stats.ttest_rel``) or Welch's t (``scipy.stats.ttest_ind``).

    Returns
    -------
    (scipy result or None, str or None)
        The test result and None, or None and why the test was not run.
    """
    b, a = np.asarray(b, float), np.asarray(a, float)
    if paired:
        diff = b - a
        if diff.size and np.ptp(diff) == 0:
            return None, f"no variation: every mouse's difference is {diff[0]:.3g}"
        return stats.ttest_rel(b, a), None
    if a.size and b.size and np.ptp(a) == 0 and np.ptp(b) == 0:
        return None, "no variation: the per-mouse values are equal within each group"
    return stats.ttest_ind(b, a, equal_var=False), None


def _t_row(test, b, a, *, paired, role, n_mice, n_cells):
    result, reason = _t_test_or_reason(b, a, paired=paired)
    if result is None:
        return _row(test, np.nan, np.nan, level="mouse", role=role, n_mice=n_mice,
                    n_cells=n_cells, reason=reason)
    return _row(test, result.statistic, result.pvalue, level="mouse", role=role,
                n_mice=n_mice, n_cells=n_cells)


def signed_rank_min_p(n_pairs: int) -> float:
    """Smallest two-sided p the exact Wilcoxon signed-rank test can give with ``n_pairs``.

    Parameters
    ----------
    n_pairs : int
        Number of (non-zero) pairs.

    Returns
    -------
    float
    """
    return min(1.0, 2.0 / 2.0 ** int(n_pairs))


def rank_sum_min_p(n_a: int, n_b: int) -> float:
    """Smallest two-sided p the exact Mann-Whitney U test can give with groups of n_a and n_b.

    Parameters
    ----------
    n_a, n_b : int
        Group sizes.

    Returns
    -------
    float
    """
    return min(1.0, 2.0 / math.comb(int(n_a) + int(n_b), int(n_a)))


def _rank_test_allowed(requested, min_p, alpha, name, what, n_text):
    """Whether to run a rank test; warns when requested although it cannot reach ``alpha``."""
    if min_p <= alpha:
        return requested is not False
    if requested:
        warnings.warn(f"{what} with {n_text} cannot reach p < {alpha:g}: its smallest two-sided "
                      f"p is {min_p:.4g}; a non-significant result says nothing", LowPowerWarning,
                      stacklevel=4)
        return True
    return False


def _paired_rows(per_mouse, groups, shared, *, wilcoxon, glmm, alpha, name):
    """Mouse-level tests of a paired design (one row per test)."""
    a, b, _ = _wide(per_mouse, "activated_fraction", groups)
    la, lb, _ = _wide(per_mouse, "activated_logit", groups)
    cells = int(per_mouse[per_mouse.mouse.isin(shared)]["n_cells"].sum())
    m = len(shared)
    rows, notes = {}, []
    if m >= 2:
        rows["mouse_paired_t"] = _t_row("paired t, per-mouse activated fractions", b[shared],
                                        a[shared], paired=True, role="headline", n_mice=m,
                                        n_cells=cells)
        rows["mouse_paired_t_logit"] = _t_row("paired t, per-mouse activated logit fractions",
                                              lb[shared], la[shared], paired=True,
                                              role="alternative", n_mice=m, n_cells=cells)
    else:
        notes.append(f"mouse-level tests skipped: {m} mouse with cells in both groups (a "
                     "paired test needs 2)")
    diff = (b[shared] - a[shared]).to_numpy()
    n_nonzero = int(np.sum(diff != 0))
    min_p = signed_rank_min_p(n_nonzero)
    if n_nonzero >= 1 and _rank_test_allowed(wilcoxon, min_p, alpha, name,
                                             "the Wilcoxon signed-rank test",
                                             f"{n_nonzero} mice (non-zero differences)"):
        w = stats.wilcoxon(b[shared], a[shared])
        rows["mouse_wilcoxon"] = _row("Wilcoxon signed-rank, per-mouse activated fractions", w.statistic,
                                      w.pvalue, level="mouse", role="alternative", n_mice=m,
                                      n_cells=cells, min_p=min_p)
    elif n_nonzero >= 1:
        notes.append(f"Wilcoxon signed-rank not run: with {n_nonzero} mice its smallest two-sided p "
                     f"is {min_p:.4g} > {alpha:g}; pass wilcoxon=True to run it anyway")
    if glmm and m >= 2:
        rows["glmm_lrt"] = _glmm_row(per_mouse, groups, mouse_day=True)
    return rows, notes


def _independent_rows(per_mouse, groups, *, wilcoxon, glmm, alpha, name):
    a, b, _ = _wide(per_mouse, "activated_fraction", groups)
    la, lb, _ = _wide(per_mouse, "activated_logit", groups)
    m, cells = len(a) + len(b), int(per_mouse["n_cells"].sum())
    rows, notes = {}, []
    if len(a) < 2 or len(b) < 2:
        notes.append(f"mouse-level tests skipped: {len(a)} and {len(b)} mice (Welch's t needs "
                     "2 per group)")
        return rows, notes
    rows["mouse_welch_t"] = _t_row("Welch t, per-mouse activated fractions", b, a, paired=False,
                                   role="headline", n_mice=m, n_cells=cells)
    rows["mouse_welch_t_logit"] = _t_row("Welch t, per-mouse activated logit fractions", lb, la,
                                         paired=False, role="alternative", n_mice=m,
                                         n_cells=cells)
    min_p = rank_sum_min_p(len(a), len(b))
    if _rank_test_allowed(wilcoxon, min_p, alpha, name, "the Mann-Whitney U test",
                          f"{len(a)} and {len(b)} mice"):
        u = stats.mannwhitneyu(b, a)
        rows["mouse_mannwhitney"] = _row("Mann-Whitney U, per-mouse activated fractions", u.statistic,
                                         u.pvalue, level="mouse", role="alternative", n_mice=m,
                                         n_cells=cells, min_p=min_p)
    else:
        notes.append(f"Mann-Whitney U not run: with {len(a)} and {len(b)} mice its smallest "
                     f"two-sided p is {min_p:.4g} > {alpha:g}; pass wilcoxon=True to run it anyway")
    if glmm:
        rows["glmm_lrt"] = _glmm_row(per_mouse, groups, mouse_day=False)
    return rows, notes


def _glmm_row(per_mouse, groups, *, mouse_day):
    from ._glmm import glmm_day_test

    result = glmm_day_test(per_mouse["n_activated"], per_mouse["n_cells"], per_mouse["mouse"],
                           (per_mouse["group"] == groups[1]).astype(float), mouse_day=mouse_day)
    label = ("binomial GLMM (1|mouse) + (1|mouse:day), LR test" if mouse_day
             else "binomial GLMM (1|mouse), LR test")
    if not result["converged"]:
        label += " (optimiser did not converge)"
    return _row(label, result["statistic"], result["p_value"], level="mouse", role="alternative",
                n_mice=per_mouse["mouse"].nunique(), n_cells=int(per_mouse["n_cells"].sum()))
