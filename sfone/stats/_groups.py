"""Generic group tests of the ``sfone reproduce`` figures: one row per animal.

Two groups (:func:`welch_test`, :func:`mann_whitney`), several (:func:`one_way_anova`), pairs
Holm-corrected (:func:`pairwise_tests`, :func:`holm`) and a group x time interaction in a linear
mixed model with a random intercept per mouse (:func:`mixed_interaction`). Each returns a dict
``{"test", "statistic", "p_value", "n"}``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._docs import fill_doc


def _two_samples(table: pd.DataFrame, value: str, group: str, order) -> list[np.ndarray]:
    samples = []
    for name in order:
        values = table.loc[table[group] == name, value].dropna().to_numpy(float)
        if values.size < 2:
            raise ValueError(f"{value}: group {name!r} has {values.size} value(s); a two-sample "
                             f"test needs at least 2 (groups: {sorted(map(str, set(table[group])))})")
        samples.append(values)
    return samples


@fill_doc
def welch_test(table: pd.DataFrame, value: str, group: str, order) -> dict:
    """Welch's t-test of ``value`` between the two groups ``order`` (one row per mouse).

    Parameters
    ----------
    %(animal_table)s
    %(two_groups_order)s

    Returns
    -------
    %(two_sample_returns)s

    Raises
    ------
    %(two_sample_raises)s
    """
    a, b = _two_samples(table, value, group, order)
    result = stats.ttest_ind(a, b, equal_var=False)
    return {"test": "Welch t-test", "statistic": float(result.statistic),
            "p_value": float(result.pvalue), "n": int(a.size + b.size)}


@fill_doc
def mann_whitney(table: pd.DataFrame, value: str, group: str, order) -> dict:
    """Two-sided Mann-Whitney U of ``value`` between two groups.

    For values quantised by the protocol (speeds come in stage steps), where a t-test's variance
    estimate is meaningless.

    Parameters
    ----------
    %(animal_table)s
    %(two_groups_order)s

    Returns
    -------
    %(two_sample_returns)s

    Raises
    ------
    %(two_sample_raises)s
    """
    a, b = _two_samples(table, value, group, order)
    result = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {"test": "Mann-Whitney U", "statistic": float(result.statistic),
            "p_value": float(result.pvalue), "n": int(a.size + b.size)}


def mixed_interaction(table: pd.DataFrame, value: str, time: str, *, categorical_time: bool
                      ) -> dict:
    """Group x time interaction in a linear mixed model with a random intercept per mouse.

    statsmodels MixedLM (REML) of ``value ~ C(group) * time``; Wald chi-square test of all
    interaction terms.

    Parameters
    ----------
    table : pandas.DataFrame
        Long table with columns ``value``, ``time``, ``group`` and ``subject`` (the mouse).
    value : str
        Response column.
    time : str
        Time column (e.g. day or stage).
    categorical_time : bool
        Treat ``time`` as categorical (``C(time)``) instead of linear.

    Returns
    -------
    dict
        ``{"test", "statistic", "p_value", "n"}`` (``n``: mice).
    """
    import statsmodels.formula.api as smf

    term = f"C({time})" if categorical_time else time
    fit = smf.mixedlm(f"{value} ~ C(group) * {term}", table, groups=table["subject"]).fit()
    row = fit.wald_test_terms(scalar=True).table.loc[f"C(group):{term}"]
    return {"test": "mixed model, group x time (Wald chi2)", "statistic": float(row["statistic"]),
            "p_value": float(row["pvalue"]), "n": int(table["subject"].nunique())}


def one_way_anova(table: pd.DataFrame, value: str, group: str = "group") -> dict:
    """One-way ANOVA of ``value`` across the groups of ``group`` (one row per animal).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per animal.
    value : str
        Column tested (NaN dropped).
    group : str, default "group"
        Column naming each row's group.

    Returns
    -------
    dict
        ``{"test", "statistic", "p_value", "n"}`` (F statistic; ``n``: values used).
    """
    samples = [part[value].dropna().to_numpy(float)
               for _, part in table.groupby(group, sort=True)]
    result = stats.f_oneway(*samples)
    return {"test": "one-way ANOVA", "statistic": float(result.statistic),
            "p_value": float(result.pvalue), "n": int(sum(s.size for s in samples))}


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1).

    Parameters
    ----------
    p_values : array_like of float
        Unadjusted p-values of one family.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, in the input order.
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = p.size
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


@fill_doc
def pairwise_tests(table: pd.DataFrame, value: str, group: str, pairs, *, test=welch_test,
                   family: str = "") -> list[dict]:
    """``test`` on each pair of groups, Holm-corrected over the pairs.

    Parameters
    ----------
    %(animal_table)s
    pairs : iterable of (str, str)
        The pairs of groups compared.
    test : callable, default welch_test
        ``test(table, value, group, pair) -> dict`` (e.g. :func:`welch_test`, :func:`mann_whitney`).
    family : str, default ""
        Name of the correction family in the test label; default "<n> comparisons".

    Returns
    -------
    list of dict
        One per pair: ``test`` (named with the correction), ``statistic``, ``p_value``
        (Holm-adjusted), ``p_uncorrected``, ``pair`` and ``n``.
    """
    pairs = [tuple(pair) for pair in pairs]
    results = [test(table, value, group, pair) for pair in pairs]
    adjusted = holm([r["p_value"] for r in results]) if results else []
    scope = family or f"{len(pairs)} comparisons"
    return [{**r, "test": f"{r['test']}, Holm over {scope}", "p_uncorrected": r["p_value"],
             "p_value": float(p), "pair": pair}
            for r, p, pair in zip(results, adjusted, pairs, strict=True)]
