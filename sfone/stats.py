"""Group statistics on post-run labels: day 1 vs day 8 (or any two groups).

:func:`compare_proportions` gives, for two groups of labelled cells:

* the 2 x 3 (group x class) table and Pearson's chi-square on it, with Cramer's V;
* Fisher's exact test on the 2 x 2 activated-vs-not table, with the odds ratio, the difference in
  activated fraction and Cohen's h;
* Wilson 95 % confidence intervals for every class proportion of each group;
* per-mouse activated fractions and a test across mice (paired t and Wilcoxon signed-rank when
  the same mice appear in both groups, Welch t and Mann-Whitney otherwise), which avoids treating
  cells of one mouse as independent replicates;
* McNemar's test when the same cells are tracked across the two groups (``paired_cells=True``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

__all__ = ["compare_proportions", "ProportionComparison", "wilson_ci"]

LABELS = ("activated", "inhibited", "unchanged")


@dataclass
class ProportionComparison:
    """Result of :func:`compare_proportions`; ``tests`` has one row per test."""

    table: pd.DataFrame
    proportions: pd.DataFrame
    tests: pd.DataFrame
    effect_sizes: dict
    per_mouse: pd.DataFrame | None = None
    groups: tuple[str, str] = ("a", "b")
    notes: list[str] = field(default_factory=list)

    def p_value(self, test: str) -> float:
        """p-value of the named test (e.g. ``"chi2"``, ``"fisher"``, ``"mcnemar"``)."""
        return float(self.tests.loc[test, "p_value"])


def wilson_ci(count, n, alpha: float = 0.05):
    """Wilson score interval (low, high) for ``count`` successes out of ``n``."""
    low, high = proportion_confint(np.asarray(count), np.asarray(n), alpha=alpha, method="wilson")
    return np.asarray(low, float), np.asarray(high, float)


def _flatten(group, mice):
    """(labels, mouse ids) from an array, a labels Dataset or a list of those (one per mouse)."""
    if isinstance(group, xr.Dataset):
        return np.asarray(group["label"].values, str), mice
    if isinstance(group, list | tuple) and group and not isinstance(group[0], str):
        labels = [_flatten(g, None)[0] for g in group]
        ids = [(g.attrs.get("subject") if isinstance(g, xr.Dataset) else None) or f"mouse{i + 1}"
               for i, g in enumerate(group)]
        if mice is not None:
            ids = list(mice)
        return np.concatenate(labels), np.repeat(np.asarray(ids, str), [x.size for x in labels])
    labels = np.asarray(group, str)
    return labels, (None if mice is None else np.asarray(mice, str))


def _check_labels(labels, name):
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ValueError(f"{name} has labels {unknown}; expected only {list(LABELS)}")
    if labels.size == 0:
        raise ValueError(f"{name} has no labelled cells")


def _proportions(table, groups, alpha):
    rows = []
    for g in groups:
        n = int(table.loc[g].sum())
        for cls in LABELS:
            k = int(table.loc[g, cls])
            low, high = wilson_ci(k, n, alpha)
            rows.append({"group": g, "label": cls, "count": k, "n": n, "proportion": k / n,
                         "ci_low": float(low), "ci_high": float(high)})
    return pd.DataFrame(rows)


def _per_mouse(labels, mice, groups):
    frames = []
    for lab, ids, g in zip(labels, mice, groups, strict=True):
        if ids is None:
            return None
        df = pd.DataFrame({"mouse": ids, "activated": lab == "activated"})
        per = df.groupby("mouse", sort=True)["activated"].agg(["mean", "size"]).reset_index()
        per.columns = ["mouse", "activated_fraction", "n_cells"]
        per.insert(0, "group", g)
        frames.append(per)
    return pd.concat(frames, ignore_index=True)


def _mouse_tests(per_mouse, groups):
    a = per_mouse[per_mouse.group == groups[0]].set_index("mouse")["activated_fraction"]
    b = per_mouse[per_mouse.group == groups[1]].set_index("mouse")["activated_fraction"]
    shared = a.index.intersection(b.index)
    rows = {}
    if len(shared) >= 2 and len(shared) == len(a) == len(b):
        diff = b[shared] - a[shared]
        rows["mouse_paired_t"] = stats.ttest_rel(b[shared], a[shared])
        if np.any(diff != 0):
            rows["mouse_wilcoxon"] = stats.wilcoxon(b[shared], a[shared])
    elif len(a) >= 2 and len(b) >= 2:
        rows["mouse_welch_t"] = stats.ttest_ind(b, a, equal_var=False)
        rows["mouse_mannwhitney"] = stats.mannwhitneyu(b, a)
    return {k: (float(v.statistic), float(v.pvalue)) for k, v in rows.items()}


def compare_proportions(labels_a, labels_b, *, mice_a=None, mice_b=None,
                        paired_cells: bool = False, groups=("day 1", "day 8"),
                        alpha: float = 0.05) -> ProportionComparison:
    """Compare the label proportions of two groups of cells (e.g. training day 1 vs day 8).

    Parameters
    ----------
    labels_a, labels_b : labels (``activated``/``inhibited``/``unchanged``) as an array, a
        :func:`~sfone.classify.label_responses` Dataset, or a list of those, one per mouse (the
        mouse id is the Dataset's ``subject`` attr, else ``mouse1``, ``mouse2``, ...).
    mice_a, mice_b : mouse id of every cell (or of every list element); enables the per-mouse
        analysis.
    paired_cells : the i-th cell of a and of b are the same cell (registered across days):
        adds McNemar's test on activated-vs-not.
    groups : names of the two groups.
    alpha : 1 - confidence level of the Wilson intervals.
    """
    lab_a, ids_a = _flatten(labels_a, mice_a)
    lab_b, ids_b = _flatten(labels_b, mice_b)
    _check_labels(lab_a, groups[0])
    _check_labels(lab_b, groups[1])
    table = pd.DataFrame([[int(np.sum(lab == c)) for c in LABELS] for lab in (lab_a, lab_b)],
                         index=list(groups), columns=list(LABELS))
    notes = []
    tests = {}
    nonzero = table.loc[:, table.sum(axis=0) > 0]
    if nonzero.shape[1] >= 2:
        chi2, p, dof, _ = stats.chi2_contingency(nonzero, correction=False)
        tests["chi2"] = (float(chi2), float(p))
        cramer_v = float(np.sqrt(chi2 / (table.values.sum() * (min(nonzero.shape) - 1))))
    else:
        notes.append("chi-square skipped: only one class present")
        cramer_v = float("nan")
    act = np.array([[table.loc[g, "activated"], table.loc[g].sum() - table.loc[g, "activated"]]
                    for g in groups])
    odds, p_fisher = stats.fisher_exact(act)
    tests["fisher"] = (float(odds), float(p_fisher))
    p_a, p_b = act[:, 0] / act.sum(axis=1)
    effects = {"activated_difference": float(p_b - p_a), "odds_ratio_a_vs_b": float(odds),
               "cohens_h": float(2 * np.arcsin(np.sqrt(p_b)) - 2 * np.arcsin(np.sqrt(p_a))),
               "cramers_v": cramer_v}
    if paired_cells:
        if lab_a.size != lab_b.size:
            raise ValueError(f"paired_cells=True needs the same cells in both groups; got "
                             f"{lab_a.size} and {lab_b.size} cells")
        a_act, b_act = lab_a == "activated", lab_b == "activated"
        square = [[int(np.sum(a_act & b_act)), int(np.sum(a_act & ~b_act))],
                  [int(np.sum(~a_act & b_act)), int(np.sum(~a_act & ~b_act))]]
        result = mcnemar(square, exact=True)
        tests["mcnemar"] = (float(result.statistic), float(result.pvalue))
    per_mouse = _per_mouse((lab_a, lab_b), (ids_a, ids_b), groups)
    if per_mouse is not None:
        tests.update(_mouse_tests(per_mouse, groups))
    frame = pd.DataFrame.from_dict(tests, orient="index", columns=["statistic", "p_value"])
    return ProportionComparison(table=table, proportions=_proportions(table, groups, alpha),
                                tests=frame, effect_sizes=effects, per_mouse=per_mouse,
                                groups=tuple(groups), notes=notes)


# --- generic group tests used by the figures of ``sfone reproduce`` (one row per animal) -------

__all__ += ["welch_test", "mann_whitney", "mixed_interaction", "one_way_anova", "holm",
            "pairwise_tests"]


def _two_samples(table: pd.DataFrame, value: str, group: str, order) -> list[np.ndarray]:
    samples = []
    for name in order:
        values = table.loc[table[group] == name, value].dropna().to_numpy(float)
        if values.size < 2:
            raise ValueError(f"{value}: group {name!r} has {values.size} value(s); a two-sample "
                             f"test needs at least 2 (groups: {sorted(map(str, set(table[group])))})")
        samples.append(values)
    return samples


def welch_test(table: pd.DataFrame, value: str, group: str, order) -> dict:
    """Welch's t-test of ``value`` between the two groups ``order`` (one row per mouse).

    Returns ``{"test", "statistic", "p_value", "n"}`` (t of ``order[0]`` minus ``order[1]``).
    """
    a, b = _two_samples(table, value, group, order)
    result = stats.ttest_ind(a, b, equal_var=False)
    return {"test": "Welch t-test", "statistic": float(result.statistic),
            "p_value": float(result.pvalue), "n": int(a.size + b.size)}


def mann_whitney(table: pd.DataFrame, value: str, group: str, order) -> dict:
    """Two-sided Mann-Whitney U of ``value`` between two groups: for values quantised by the
    protocol (speeds come in stage steps), where a t-test's variance estimate is meaningless."""
    a, b = _two_samples(table, value, group, order)
    result = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {"test": "Mann-Whitney U", "statistic": float(result.statistic),
            "p_value": float(result.pvalue), "n": int(a.size + b.size)}


def mixed_interaction(table: pd.DataFrame, value: str, time: str, *, categorical_time: bool
                      ) -> dict:
    """Group x time interaction in a linear mixed model with a random intercept per mouse
    (statsmodels MixedLM, REML): Wald chi-square test of all interaction terms."""
    import statsmodels.formula.api as smf

    term = f"C({time})" if categorical_time else time
    fit = smf.mixedlm(f"{value} ~ C(group) * {term}", table, groups=table["subject"]).fit()
    row = fit.wald_test_terms(scalar=True).table.loc[f"C(group):{term}"]
    return {"test": "mixed model, group x time (Wald chi2)", "statistic": float(row["statistic"]),
            "p_value": float(row["pvalue"]), "n": int(table["subject"].nunique())}


def one_way_anova(table: pd.DataFrame, value: str, group: str = "group") -> dict:
    """One-way ANOVA of ``value`` across the groups of ``group`` (one row per animal)."""
    samples = [part[value].dropna().to_numpy(float)
               for _, part in table.groupby(group, sort=True)]
    result = stats.f_oneway(*samples)
    return {"test": "one-way ANOVA", "statistic": float(result.statistic),
            "p_value": float(result.pvalue), "n": int(sum(s.size for s in samples))}


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = p.size
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def pairwise_tests(table: pd.DataFrame, value: str, group: str, pairs, *, test=welch_test,
                   family: str = "") -> list[dict]:
    """``test`` on each pair of groups, Holm-corrected over the pairs.

    Returns one dict per pair: ``test`` (named with the correction), ``statistic``, ``p_value``
    (Holm-adjusted), ``p_uncorrected``, ``pair`` and ``n``.
    """
    pairs = [tuple(pair) for pair in pairs]
    results = [test(table, value, group, pair) for pair in pairs]
    adjusted = holm([r["p_value"] for r in results]) if results else []
    scope = family or f"{len(pairs)} comparisons"
    return [{**r, "test": f"{r['test']}, Holm over {scope}", "p_uncorrected": r["p_value"],
             "p_value": float(p), "pair": pair}
            for r, p, pair in zip(results, adjusted, pairs, strict=True)]
