"""Group statistics on post-run labels: day 1 vs day 8 (or any two groups), mouse by mouse.

Cells are nested in mice: two days of one cohort differ by mouse-to-mouse and day-to-day
variation on top of the binomial noise of the cells, so a test that pools cells counts mice
that differ as a treatment effect (its type-I error reaches 0.2 in ``docs/statistics.md``).

:func:`compare_proportions` gives, for two groups of labelled cells:

* the headline test, at the mouse level: a paired t-test on per-mouse activated fractions when
  the same mice are in both groups (Welch's t when they are different mice), with n mice and
  n cells; its type-I error and power are measured in ``docs/statistics.md``;
* alternatives at the mouse level: the t-test on empirical logits, the Wilcoxon signed-rank (only
  when it can reach ``alpha``: 5 mice cannot) and a binomial GLMM likelihood-ratio test;
* secondary, pooled over cells: the 2 x 3 (group x class) chi-square with Cramer's V, Fisher's
  exact test on activated-vs-not with the odds ratio and Cohen's h;
* Wilson confidence intervals of every class proportion of each group;
* McNemar's test when the same cells are tracked across the two groups (``paired_cells=True``).

:func:`compare_magnitude` does the same for the response size (each neuron's ``effect``): the
per-mouse mean, day against day, with a paired t-test across mice.

Mice are paired by subject id, never by position in a list.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from .exceptions import SfoneWarning
from .schema import POST_RUN_LABELS

__all__ = ["compare_proportions", "ProportionComparison", "compare_magnitude", "cohort_day_tests",
           "MagnitudeComparison", "wilson_ci", "empirical_logit", "signed_rank_min_p",
           "rank_sum_min_p", "LowPowerWarning", "PairingWarning"]

LABELS = POST_RUN_LABELS


class LowPowerWarning(SfoneWarning):
    """A requested test cannot reach the significance level with this many mice."""


class PairingWarning(SfoneWarning):
    """Some mice are in one group only and are left out of the paired tests."""


def _test_dict(tests: pd.DataFrame, name: str, *, with_n: bool = True) -> dict:
    row = tests.loc[name]
    label = str(row["test"])
    if with_n:
        label += f" (n = {int(row['n_mice'])} mice, {int(row['n_cells'])} neurons)"
    return {"test": label, "statistic": float(row["statistic"]), "p_value": float(row["p_value"]),
            "n_mice": int(row["n_mice"]), "n_cells": int(row["n_cells"])}


@dataclass
class ProportionComparison:
    """Result of :func:`compare_proportions`; ``tests`` has one row per test.

    Parameters
    ----------
    table : pandas.DataFrame
        Cell counts: one row per group, columns ``activated``, ``inhibited``, ``unchanged``.
    proportions : pandas.DataFrame
        One row per (group, label): ``count``, ``n``, ``proportion`` and the Wilson interval
        ``ci_low``/``ci_high`` (level 1 - alpha).
    tests : pandas.DataFrame
        One row per test, columns: test (description), statistic, p_value, level ("mouse" or
        "neuron"), role ("headline", "alternative" or "secondary"), n_mice, n_cells, min_p
        (smallest p the test can give; 0 for continuous tests).
    effect_sizes : dict
        ``activated_difference`` (b minus a, pooled), ``odds_ratio_a_vs_b``, ``cohens_h``,
        ``cramers_v`` and, with subject ids, ``mouse_mean_difference``.
    per_mouse : pandas.DataFrame or None, default None
        One row per (group, mouse): ``group``, ``mouse``, ``n_activated``, ``n_cells``,
        ``activated_fraction`` and ``activated_logit`` (empirical logit); None without subject
        ids.
    groups : tuple of str, default ("a", "b")
        Names of the two groups.
    notes : list of str, default []
        Why tests were skipped.
    """

    table: pd.DataFrame
    proportions: pd.DataFrame
    tests: pd.DataFrame
    effect_sizes: dict
    per_mouse: pd.DataFrame | None = None
    groups: tuple[str, str] = ("a", "b")
    notes: list[str] = field(default_factory=list)

    def p_value(self, test: str) -> float:
        """p-value of the named test (e.g. ``"mouse_paired_t"``, ``"fisher"``, ``"mcnemar"``).

        Parameters
        ----------
        test : str
            Row name of :attr:`tests`.

        Returns
        -------
        float
        """
        return float(self.tests.loc[test, "p_value"])

    def headline(self) -> dict | None:
        """The mouse-level headline test.

        Returns
        -------
        dict or None
            ``{"test", "statistic", "p_value", "n_mice", "n_cells"}`` (the label names n mice and n
            neurons); None without subject ids.
        """
        names = self.tests.index[self.tests["role"] == "headline"]
        return _test_dict(self.tests, names[0]) if len(names) else None

    def secondary(self, name: str = "fisher") -> dict:
        """A pooled-cell test, labelled as secondary.

        Parameters
        ----------
        name : {"fisher", "chi2"}, default "fisher"
            Row name of :attr:`tests`.

        Returns
        -------
        dict
            As :meth:`headline`, with ``test`` starting "Secondary, pooled neurons".
        """
        result = _test_dict(self.tests, name, with_n=False)
        test = result["test"].replace(", pooled neurons", "")
        result["test"] = f"Secondary, pooled neurons: {test} (n = {result['n_cells']} neurons)"
        return result


def wilson_ci(count, n, alpha: float = 0.05):
    """Wilson score interval (low, high) for ``count`` successes out of ``n``.

    Parameters
    ----------
    count : array_like of int
        Successes.
    n : array_like of int
        Trials.
    alpha : float, default 0.05
        The interval has coverage 1 - alpha.

    Returns
    -------
    tuple of numpy.ndarray
        ``(low, high)`` proportions, shaped like ``count``.
    """
    low, high = proportion_confint(np.asarray(count), np.asarray(n), alpha=alpha, method="wilson")
    return np.asarray(low, float), np.asarray(high, float)


def _subject_of(item):
    """The ``subject`` attr of a labels Dataset (None when absent or not a Dataset)."""
    if isinstance(item, xr.Dataset):
        value = item.attrs.get("subject")
        return None if value is None or str(value) == "" else str(value)
    return None


def _labels_of(item, variable: str = "label") -> np.ndarray:
    if isinstance(item, xr.Dataset):
        if variable not in item:
            raise ValueError(f"a labels Dataset needs a {variable!r} variable; got "
                             f"{sorted(map(str, item.data_vars))}")
        values = np.asarray(item[variable].values)
        return values.astype(str) if variable == "label" else values.astype(float)
    if variable != "label":
        raise ValueError(f"the {variable!r} of each neuron needs labels Datasets, got an array")
    return np.asarray(item, str)


def _cell_subjects(item, mice, name) -> np.ndarray | None:
    """Subject of every cell of one Dataset or array: ``mice``, a ``subject`` coord, or the attr."""
    labels = _labels_of(item)
    coord = None
    if isinstance(item, xr.Dataset) and "subject" in item.variables and item["subject"].ndim == 1:
        coord = np.asarray(item["subject"].values, str)
    attr = _subject_of(item)
    if mice is not None:
        ids = np.asarray(mice).astype(str)
        ids = np.repeat(ids, labels.size) if ids.ndim == 0 else ids
        if ids.size != labels.size:
            raise ValueError(f"{name}: {ids.size} subject ids for {labels.size} labelled cells")
        given = coord if coord is not None else (None if attr is None else np.repeat(attr, labels.size))
        if given is not None and not np.array_equal(given, ids):
            raise ValueError(f"{name}: the subject ids passed disagree with the result's own "
                             f"'subject' ({sorted(set(given))} vs {sorted(set(ids))})")
        return ids
    if coord is not None:
        blank = np.isin(coord, ["", "nan", "None"])
        if blank.any():
            raise ValueError(f"{name}: {int(blank.sum())} cells have no subject id in the "
                             "'subject' coordinate")
        return coord
    return None if attr is None else np.repeat(attr, labels.size)


def _flatten(group, mice, name, variable: str = "label"):
    """(labels, subject of each cell or None) from an array, a labels Dataset or a list of those.

    A list holds one result per mouse; each one's subject comes from ``mice`` (one id per element)
    or from the result (attr or coordinate ``subject``). A list whose subjects are missing or
    repeated is refused: pairing mice by list position would be a guess.
    """
    if isinstance(group, list | tuple) and group and not isinstance(group[0], str):
        if mice is not None and len(mice) != len(group):
            raise ValueError(f"{name}: {len(mice)} subject ids for {len(group)} results; pass one "
                             "id per result")
        labels, ids = [], []
        for i, item in enumerate(group):
            cells = _cell_subjects(item, None if mice is None else mice[i], f"{name}[{i}]")
            if cells is None:
                raise ValueError(f"{name}[{i}] has no subject (no 'subject' attr or coordinate); "
                                 f"set result.attrs['subject'] or pass mice_a/mice_b with one id "
                                 f"per result. Mice are paired by subject, never by position")
            labels.append(_labels_of(item, variable))
            ids.append(cells)
        owners = [sorted(map(str, set(c))) for c in ids]
        seen = {}
        for i, subjects in enumerate(owners):
            for subject in subjects:
                if subject in seen:
                    raise ValueError(f"{name}: subject {subject!r} appears in results {seen[subject]} "
                                     f"and {i} (sessions {_session_of(group[seen[subject]])!r}, "
                                     f"{_session_of(group[i])!r}); combine one mouse's results "
                                     "into one before comparing, or fix the subject ids")
                seen[subject] = i
        return np.concatenate(labels), np.concatenate(ids)
    return _labels_of(group, variable), _cell_subjects(group, mice, name)


def _session_of(item):
    return item.attrs.get("session") if isinstance(item, xr.Dataset) else None


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
    """One row per (group, mouse): activated count, cells, fraction and empirical logit."""
    frames = []
    for lab, ids, g in zip(labels, mice, groups, strict=True):
        if ids is None:
            return None
        df = pd.DataFrame({"mouse": ids, "activated": lab == "activated"})
        per = df.groupby("mouse", sort=True)["activated"].agg(["sum", "size"]).reset_index()
        per.columns = ["mouse", "n_activated", "n_cells"]
        per["activated_fraction"] = per["n_activated"] / per["n_cells"]
        per["activated_logit"] = empirical_logit(per["n_activated"], per["n_cells"])
        per.insert(0, "group", g)
        frames.append(per)
    return pd.concat(frames, ignore_index=True)


def empirical_logit(k, n):
    """log((k + 0.5) / (n - k + 0.5)): a finite logit of k successes out of n (Cox 1970).

    Parameters
    ----------
    k : array_like of float
        Successes.
    n : array_like of float
        Trials (same shape as ``k``).

    Returns
    -------
    numpy.ndarray
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    return np.log((k + 0.5) / (n - k + 0.5))


def _wide(per_mouse, value, groups):
    """(a, b) Series of ``value`` by mouse; ``shared`` mice in both groups."""
    a = per_mouse[per_mouse.group == groups[0]].set_index("mouse")[value]
    b = per_mouse[per_mouse.group == groups[1]].set_index("mouse")[value]
    return a, b, a.index.intersection(b.index)


def _design(per_mouse, groups, name):
    """"paired" (same mice in both groups, complete pairs), "independent" (no mouse in common)."""
    a, b, shared = _wide(per_mouse, "n_cells", groups)
    if len(shared) == 0:
        return "independent", shared
    only = sorted(map(str, set(a.index).symmetric_difference(b.index)))
    if only:
        warnings.warn(f"{name}: mice {only} have cells in one group only; they are left out of "
                      f"the paired mouse-level tests ({len(shared)} complete pairs)",
                      PairingWarning, stacklevel=3)
    return "paired", shared


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


def _row(test, statistic, p, *, level, role, n_mice, n_cells, min_p=0.0):
    return {"test": test, "statistic": float(statistic), "p_value": float(p), "level": level,
            "role": role, "n_mice": int(n_mice), "n_cells": int(n_cells), "min_p": float(min_p)}


def _paired_rows(per_mouse, groups, shared, *, wilcoxon, glmm, alpha, name):
    """Mouse-level tests of a paired design (one row per test)."""
    a, b, _ = _wide(per_mouse, "activated_fraction", groups)
    la, lb, _ = _wide(per_mouse, "activated_logit", groups)
    cells = int(per_mouse[per_mouse.mouse.isin(shared)]["n_cells"].sum())
    m = len(shared)
    rows, notes = {}, []
    if m >= 2:
        t = stats.ttest_rel(b[shared], a[shared])
        rows["mouse_paired_t"] = _row("paired t, per-mouse activated fractions", t.statistic,
                                      t.pvalue, level="mouse", role="headline", n_mice=m,
                                      n_cells=cells)
        t = stats.ttest_rel(lb[shared], la[shared])
        rows["mouse_paired_t_logit"] = _row("paired t, per-mouse activated logit fractions",
                                            t.statistic, t.pvalue, level="mouse",
                                            role="alternative", n_mice=m, n_cells=cells)
    else:
        notes.append(f"mouse-level tests skipped: {m} mouse with cells in both groups")
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
        notes.append(f"mouse-level tests skipped: {len(a)} and {len(b)} mice")
        return rows, notes
    t = stats.ttest_ind(b, a, equal_var=False)
    rows["mouse_welch_t"] = _row("Welch t, per-mouse activated fractions", t.statistic, t.pvalue,
                                 level="mouse", role="headline", n_mice=m, n_cells=cells)
    t = stats.ttest_ind(lb, la, equal_var=False)
    rows["mouse_welch_t_logit"] = _row("Welch t, per-mouse activated logit fractions", t.statistic,
                                       t.pvalue, level="mouse", role="alternative", n_mice=m,
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
    from ._binomial_glmm import glmm_day_test

    result = glmm_day_test(per_mouse["n_activated"], per_mouse["n_cells"], per_mouse["mouse"],
                           (per_mouse["group"] == groups[1]).astype(float), mouse_day=mouse_day)
    label = ("binomial GLMM (1|mouse) + (1|mouse:day), LR test" if mouse_day
             else "binomial GLMM (1|mouse), LR test")
    if not result["converged"]:
        label += " (optimiser did not converge)"
    return _row(label, result["statistic"], result["p_value"], level="mouse", role="alternative",
                n_mice=per_mouse["mouse"].nunique(), n_cells=int(per_mouse["n_cells"].sum()))


@dataclass
class MagnitudeComparison:
    """Result of :func:`compare_magnitude`.

    Parameters
    ----------
    per_mouse : pandas.DataFrame
        One row per (group, mouse): ``group``, ``mouse``, ``n_cells`` and ``mean`` (the mouse's
        mean ``variable``).
    tests : pandas.DataFrame
        One row per test, with the columns of :class:`ProportionComparison`'s ``tests``.
    groups : tuple of str
        Names of the two groups.
    among : str or None
        Label of the neurons averaged (``None``: all neurons).
    variable : str
        Per-neuron variable compared (e.g. ``"effect"``, in baseline SDs).
    notes : list of str, default []
        Why tests were skipped or left out.
    """

    per_mouse: pd.DataFrame
    tests: pd.DataFrame
    groups: tuple[str, str]
    among: str | None
    variable: str
    notes: list[str] = field(default_factory=list)

    def p_value(self, test: str) -> float:
        """p-value of the named test (``"mouse_paired_t"``, ``"pooled_welch_t"``, ...).

        Parameters
        ----------
        test : str
            Row name of :attr:`tests`.

        Returns
        -------
        float
        """
        return float(self.tests.loc[test, "p_value"])

    def headline(self) -> dict | None:
        """The mouse-level test, as :meth:`ProportionComparison.headline`.

        Returns
        -------
        dict or None
            ``{"test", "statistic", "p_value", "n_mice", "n_cells"}``; None without a mouse-level test.
        """
        names = self.tests.index[self.tests["role"] == "headline"]
        return _test_dict(self.tests, names[0]) if len(names) else None


def compare_magnitude(results_a, results_b, *, among: str | None = "activated",
                      variable: str = "effect", mice_a=None, mice_b=None,
                      groups=("day 1", "day 8")) -> MagnitudeComparison:
    """Compare the response size of two groups mouse by mouse (the paper's second readout).

    Each mouse contributes the mean ``variable`` (the classifier's ``effect``: post-run minus
    baseline in baseline SDs) of its ``among`` neurons (``None``: all neurons). The headline test
    is a paired t-test of the per-mouse means (same mice in both groups) or Welch's t (different
    mice); Welch's t on pooled neurons is kept as a secondary result. ``among="activated"``
    selects neurons by their effect, so the two days' means are both biased upwards (by less on
    the day with more activated neurons); ``among=None`` has no selection.

    Parameters
    ----------
    results_a, results_b : xarray.Dataset or list of xarray.Dataset
        Labels Datasets (with ``label`` and ``variable`` over ``roi``), or lists of them, one per
        mouse; subjects as in :func:`compare_proportions`.
    among : str or None, default "activated"
        Label of the neurons averaged; ``None``: all neurons.
    variable : str, default "effect"
        Per-neuron variable compared.
    mice_a, mice_b : array_like or list, optional
        Subject id of every cell (arrays), or of every list element (lists).
    groups : tuple of str, default ("day 1", "day 8")
        Names of the two groups.

    Returns
    -------
    MagnitudeComparison

    Raises
    ------
    ValueError
        If a group has no subject ids.
    """
    frames, pooled = [], []
    for results, mice, g in ((results_a, mice_a, groups[0]), (results_b, mice_b, groups[1])):
        labels, ids = _flatten(results, mice, g)
        values, _ = _flatten(results, mice, g, variable)
        if ids is None:
            raise ValueError(f"{g}: no subject ids; the per-mouse magnitude needs results with a "
                             "'subject' attr or coordinate, or mice_a/mice_b")
        keep = np.ones(labels.size, bool) if among is None else labels == among
        keep &= np.isfinite(values)
        table = pd.DataFrame({"mouse": ids[keep], "value": values[keep]})
        per = table.groupby("mouse", sort=True)["value"].agg(["size", "mean"]).reset_index()
        per.columns = ["mouse", "n_cells", "mean"]
        empty = sorted(map(str, set(ids) - set(per["mouse"])))
        if empty:
            warnings.warn(f"{g}: mice {empty} have no {among or 'finite'} neurons; they have no "
                          f"mean {variable} and are left out", PairingWarning, stacklevel=2)
        per.insert(0, "group", g)
        frames.append(per)
        pooled.append(values[keep])
    per_mouse = pd.concat(frames, ignore_index=True)
    name = f"{groups[0]} vs {groups[1]}"
    design, shared = _design(per_mouse, groups, name)
    a, b, _ = _wide(per_mouse, "mean", groups)
    what = f"per-mouse mean {variable} of {among or 'all'} neurons"
    rows, notes = {}, []
    if design == "paired" and len(shared) >= 2:
        t = stats.ttest_rel(b[shared], a[shared])
        cells = int(per_mouse[per_mouse.mouse.isin(shared)]["n_cells"].sum())
        rows["mouse_paired_t"] = _row(f"paired t, {what}", t.statistic, t.pvalue,
                                      level="mouse", role="headline", n_mice=len(shared),
                                      n_cells=cells)
    elif design == "independent" and len(a) >= 2 and len(b) >= 2:
        t = stats.ttest_ind(b, a, equal_var=False)
        rows["mouse_welch_t"] = _row(f"Welch t, {what}", t.statistic, t.pvalue,
                                     level="mouse", role="headline", n_mice=len(a) + len(b),
                                     n_cells=int(per_mouse["n_cells"].sum()))
    else:
        notes.append(f"mouse-level test skipped: {len(a)} and {len(b)} mice with a mean")
    if all(v.size >= 2 for v in pooled):
        t = stats.ttest_ind(pooled[1], pooled[0], equal_var=False)
        rows["pooled_welch_t"] = _row(f"Welch t-test on {variable} of pooled {among or 'all'} "
                                      "neurons", t.statistic, t.pvalue, level="neuron",
                                      role="secondary", n_mice=per_mouse["mouse"].nunique(),
                                      n_cells=sum(v.size for v in pooled))
    return MagnitudeComparison(per_mouse=per_mouse, tests=pd.DataFrame.from_dict(rows, "index"),
                               groups=tuple(groups), among=among, variable=variable, notes=notes)


def cohort_day_tests(classes: xr.Dataset, *, days=("day1", "day8"), by: str = "day") -> dict:
    """The tests figures 1, 3 and 4 show, from a cohort's classifier output.

    Parameters
    ----------
    classes : xarray.Dataset
        Labels over ``roi`` with ``label``, ``effect`` and the coordinates ``by`` and ``subject``
        (the concatenated cohort of ``sfone reproduce``).
    days : tuple of str, default ("day1", "day8")
        The two values of ``by`` compared.
    by : str, default "day"
        Coordinate over ``roi`` that holds the day.

    Returns
    -------
    dict
        Test dicts (``test``, ``statistic``, ``p_value``, ``n_mice``, ``n_cells``): ``"mouse"``
        (headline share of activated neurons), ``"pooled_chi2"`` and ``"pooled_fisher"``
        (secondary), ``"magnitude"`` (per-mouse mean effect of activated neurons; short label for a
        figure corner), ``"magnitude_pooled"`` (secondary, when computed); and the
        ``"comparison"`` (:class:`ProportionComparison`) and ``"magnitude_comparison"``
        (:class:`MagnitudeComparison`) objects.

    Raises
    ------
    ValueError
        If ``classes`` has no ``subject`` coordinate.
    """
    if "subject" not in classes.variables:
        raise ValueError("cohort_day_tests needs a 'subject' coordinate over 'roi' (one mouse id "
                         "per ROI)")
    group = np.asarray(classes[by].values, str)
    a, b = (classes.isel(roi=np.flatnonzero(group == str(d))) for d in days)
    comparison = compare_proportions(a, b, groups=tuple(days))
    magnitude = compare_magnitude(a, b, groups=tuple(days))
    out = {"comparison": comparison, "magnitude_comparison": magnitude,
           "mouse": comparison.headline(), "pooled_chi2": comparison.secondary("chi2"),
           "pooled_fisher": comparison.secondary("fisher")}
    head = magnitude.headline()
    if head is not None:
        kind = "paired t" if "paired" in head["test"] else "Welch t"
        head["test"] = f"{kind}, mouse means ({head['n_mice']} mice, {head['n_cells']} ROIs)"
    out["magnitude"] = head
    if "pooled_welch_t" in magnitude.tests.index:
        pooled = _test_dict(magnitude.tests, "pooled_welch_t", with_n=False)
        pooled["test"] = f"Secondary, {pooled['test']} (n = {pooled['n_cells']} neurons)"
        out["magnitude_pooled"] = pooled
    return out


def compare_proportions(labels_a, labels_b, *, mice_a=None, mice_b=None,
                        paired_cells: bool = False, groups=("day 1", "day 8"),
                        wilcoxon: bool | None = None, glmm: bool = True,
                        alpha: float = 0.05) -> ProportionComparison:
    """Compare the label proportions of two groups of cells (e.g. training day 1 vs day 8).

    The headline test is at the mouse level (``result.headline()``): a paired t-test on the
    per-mouse activated fractions when the same mice are in both groups, a Welch t-test when the
    groups are different mice. Its type-I error and power are in ``docs/statistics.md``. Tests
    on pooled cells (chi-square, Fisher) treat cells of one mouse as independent and are kept as
    secondary results only.

    Parameters
    ----------
    labels_a, labels_b : array_like, xarray.Dataset or list
        Labels (``activated``/``inhibited``/``unchanged``) as an array, a
        :func:`~sfone.classify.label_responses` Dataset, or a list of those, one per mouse. The
        mouse of each cell is ``mice_a``/``mice_b`` if given, else the Dataset's ``subject``
        coordinate or ``subject`` attr. Mice are paired by subject id; a list with a result
        lacking a subject, or two results of the same subject, is refused (ValueError).
    mice_a, mice_b : array_like or list, optional
        Subject id of every cell (arrays), or of every list element (lists).
    paired_cells : bool, default False
        The i-th cell of a and of b are the same cell (registered across days): adds McNemar's
        test on activated-vs-not.
    groups : tuple of str, default ("day 1", "day 8")
        Names of the two groups.
    wilcoxon : bool or None, default None
        Run the rank test (Wilcoxon signed-rank, or Mann-Whitney for different mice). ``None``:
        only when it can reach p < ``alpha`` (with 5 paired mice its smallest p is 0.0625, so it
        is not run and ``notes`` says why); ``True``: always, with a :class:`LowPowerWarning`
        when it cannot reach ``alpha``.
    glmm : bool, default True
        Add the binomial GLMM likelihood-ratio test (``sfone._binomial_glmm``).
    alpha : float, default 0.05
        Significance level (Wilson intervals are 1 - alpha).

    Returns
    -------
    ProportionComparison

    Raises
    ------
    ValueError
        For unknown labels, ambiguous subjects, or ``paired_cells=True`` with different numbers of
        cells.
    """
    lab_a, ids_a = _flatten(labels_a, mice_a, groups[0])
    lab_b, ids_b = _flatten(labels_b, mice_b, groups[1])
    _check_labels(lab_a, groups[0])
    _check_labels(lab_b, groups[1])
    table = pd.DataFrame([[int(np.sum(lab == c)) for c in LABELS] for lab in (lab_a, lab_b)],
                         index=list(groups), columns=list(LABELS))
    n_cells = int(table.values.sum())
    notes = []
    tests = {}
    per_mouse = _per_mouse((lab_a, lab_b), (ids_a, ids_b), groups)
    if per_mouse is not None:
        design, shared = _design(per_mouse, groups, f"{groups[0]} vs {groups[1]}")
        if design == "paired":
            rows, more = _paired_rows(per_mouse, groups, shared, wilcoxon=wilcoxon, glmm=glmm,
                                      alpha=alpha, name=f"{groups[0]} vs {groups[1]}")
        else:
            rows, more = _independent_rows(per_mouse, groups, wilcoxon=wilcoxon, glmm=glmm,
                                           alpha=alpha, name=f"{groups[0]} vs {groups[1]}")
        tests.update(rows)
        notes += more
    else:
        notes.append("no subject ids: only pooled-cell tests, which ignore that cells are nested "
                     "in mice; pass mice_a/mice_b or results with a 'subject' attr")
    n_mice = 0 if per_mouse is None else int(per_mouse["mouse"].nunique())
    pooled = dict(level="neuron", role="secondary", n_mice=n_mice, n_cells=n_cells)
    nonzero = table.loc[:, table.sum(axis=0) > 0]
    if nonzero.shape[1] >= 2:
        chi2, p, dof, _ = stats.chi2_contingency(nonzero, correction=False)
        tests["chi2"] = _row(f"chi-square {nonzero.shape[0]}x{nonzero.shape[1]}, pooled neurons",
                             chi2, p, **pooled)
        cramer_v = float(np.sqrt(chi2 / (n_cells * (min(nonzero.shape) - 1))))
    else:
        notes.append("chi-square skipped: only one class present")
        cramer_v = float("nan")
    act = np.array([[table.loc[g, "activated"], table.loc[g].sum() - table.loc[g, "activated"]]
                    for g in groups])
    odds, p_fisher = stats.fisher_exact(act)
    tests["fisher"] = _row("Fisher exact (activated vs not), pooled neurons", odds, p_fisher,
                           **pooled)
    p_a, p_b = act[:, 0] / act.sum(axis=1)
    effects = {"activated_difference": float(p_b - p_a), "odds_ratio_a_vs_b": float(odds),
               "cohens_h": float(2 * np.arcsin(np.sqrt(p_b)) - 2 * np.arcsin(np.sqrt(p_a))),
               "cramers_v": cramer_v}
    if per_mouse is not None:
        a, b, shared = _wide(per_mouse, "activated_fraction", groups)
        if len(shared):
            effects["mouse_mean_difference"] = float((b[shared] - a[shared]).mean())
        else:
            effects["mouse_mean_difference"] = float(b.mean() - a.mean())
    if paired_cells:
        if lab_a.size != lab_b.size:
            raise ValueError(f"paired_cells=True needs the same cells in both groups; got "
                             f"{lab_a.size} and {lab_b.size} cells")
        a_act, b_act = lab_a == "activated", lab_b == "activated"
        square = [[int(np.sum(a_act & b_act)), int(np.sum(a_act & ~b_act))],
                  [int(np.sum(~a_act & b_act)), int(np.sum(~a_act & ~b_act))]]
        result = mcnemar(square, exact=True)
        tests["mcnemar"] = _row("McNemar exact (same cells, activated vs not)", result.statistic,
                                result.pvalue, level="neuron", role="secondary", n_mice=n_mice,
                                n_cells=lab_a.size)
    frame = pd.DataFrame.from_dict(tests, orient="index")
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

    Parameters
    ----------
    table : pandas.DataFrame
        One row per animal.
    value : str
        Column tested.
    group : str
        Column naming each row's group.
    order : sequence of str
        The two groups compared (statistic of ``order[0]`` minus ``order[1]``).

    Returns
    -------
    dict
        ``{"test", "statistic", "p_value", "n"}`` (``n``: values used).

    Raises
    ------
    ValueError
        If a group has fewer than 2 values.
    """
    a, b = _two_samples(table, value, group, order)
    result = stats.ttest_ind(a, b, equal_var=False)
    return {"test": "Welch t-test", "statistic": float(result.statistic),
            "p_value": float(result.pvalue), "n": int(a.size + b.size)}


def mann_whitney(table: pd.DataFrame, value: str, group: str, order) -> dict:
    """Two-sided Mann-Whitney U of ``value`` between two groups.

    For values quantised by the protocol (speeds come in stage steps), where a t-test's variance
    estimate is meaningless.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per animal.
    value : str
        Column tested.
    group : str
        Column naming each row's group.
    order : sequence of str
        The two groups compared (statistic of ``order[0]`` minus ``order[1]``).

    Returns
    -------
    dict
        ``{"test", "statistic", "p_value", "n"}`` (``n``: values used).

    Raises
    ------
    ValueError
        If a group has fewer than 2 values.
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


def pairwise_tests(table: pd.DataFrame, value: str, group: str, pairs, *, test=welch_test,
                   family: str = "") -> list[dict]:
    """``test`` on each pair of groups, Holm-corrected over the pairs.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per animal.
    value : str
        Column tested.
    group : str
        Column naming each row's group.
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
