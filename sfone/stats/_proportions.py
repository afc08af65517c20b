"""The label proportions of two groups of cells, mouse-level headline test first.

:func:`compare_proportions` gives the headline test at the mouse level (:mod:`._headline`), the
pooled-cell chi-square and Fisher tests as secondary results, the effect sizes, Wilson intervals
of every class proportion and, for the same cells tracked across groups, McNemar's test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from .._docs import fill_doc
from ._cells import LABELS, _check_labels, _flatten
from ._headline import _independent_rows, _paired_rows
from ._rows import _design, _not_computed, _row, _test_dict, _tests_frame, _wide


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
        (smallest p the test can give; 0 for continuous tests) and reason (why a test that
        the data do not allow was not computed: its statistic and p_value are NaN; "" else).
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

    @fill_doc
    def p_value(self, test: str) -> float:
        """p-value of the named test (e.g. ``"mouse_paired_t"``, ``"fisher"``, ``"mcnemar"``).

        Parameters
        ----------
        %(test_row)s

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
            neurons); None without subject ids. When the mice do not allow the test (fewer than
            two per group or pair, or no variation) the statistic and p-value are NaN and
            ``test`` and ``reason`` say why.
        """
        names = self.tests.index[self.tests["role"] == "headline"]
        if len(names):
            return _test_dict(self.tests, names[0])
        if self.per_mouse is None:
            return None
        reasons = [n for n in self.notes if n.startswith("mouse-level")]
        return _not_computed("mouse-level test of the activated share",
                             "; ".join(r.split(": ", 1)[-1] for r in reasons) or "too few mice",
                             n_mice=self.per_mouse["mouse"].nunique(),
                             n_cells=int(self.table.values.sum()))

    def secondary(self, name: str = "fisher") -> dict:
        """A pooled-cell test, labelled as secondary.

        Parameters
        ----------
        name : {"fisher", "chi2"}, default "fisher"
            Row name of :attr:`tests`.

        Returns
        -------
        dict
            As :meth:`headline`, with ``test`` starting "Secondary, pooled neurons"; NaN with
            the reason when the test was not run (the chi-square with one class present).
        """
        if name not in self.tests.index:
            what = {"chi2": "chi-square"}.get(name, name)
            reasons = [n.removeprefix(f"{what} skipped: ") for n in self.notes
                       if n.startswith(f"{what} skipped: ")]
            n_mice = 0 if self.per_mouse is None else self.per_mouse["mouse"].nunique()
            return _not_computed(f"Secondary, pooled neurons: {what}",
                                 "; ".join(reasons) or "not run", n_mice=n_mice,
                                 n_cells=int(self.table.values.sum()))
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


def _tested_only(labels, ids):
    """(labels, ids, number left out) without the ROIs labelled "insufficient data": they were
    not tested, so they are in no fraction's numerator or denominator."""
    from ..classify import INSUFFICIENT_DATA

    keep = labels != INSUFFICIENT_DATA
    return labels[keep], None if ids is None else ids[keep], int((~keep).sum())


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


@fill_doc
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
        :func:`~sfone.classify.label_responses` Dataset, or a list of those, one per mouse.
        ROIs labelled ``insufficient data`` were not tested and are left out (``notes`` says
        how many). The
        mouse of each cell is ``mice_a``/``mice_b`` if given, else the Dataset's ``subject``
        coordinate or ``subject`` attr. Mice are paired by subject id; a list with a result
        lacking a subject, or two results of the same subject, is refused (ValueError).
    %(mice_ab)s
    paired_cells : bool, default False
        The i-th cell of a and of b are the same cell (registered across days): adds McNemar's
        test on activated-vs-not.
    %(two_group_names)s
    wilcoxon : bool or None, default None
        Run the rank test (Wilcoxon signed-rank, or Mann-Whitney for different mice). ``None``:
        only when it can reach p < ``alpha`` (with 5 paired mice its smallest p is 0.0625, so it
        is not run and ``notes`` says why); ``True``: always, with a :class:`LowPowerWarning`
        when it cannot reach ``alpha``.
    glmm : bool, default True
        Add the binomial GLMM likelihood-ratio test (``sfone.stats._glmm``).
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
    (lab_a, ids_a, untested_a), (lab_b, ids_b, untested_b) = (
        _tested_only(lab_a, ids_a), _tested_only(lab_b, ids_b))
    _check_labels(lab_a, groups[0])
    _check_labels(lab_b, groups[1])
    table = pd.DataFrame([[int(np.sum(lab == c)) for c in LABELS] for lab in (lab_a, lab_b)],
                         index=list(groups), columns=list(LABELS))
    n_cells = int(table.values.sum())
    notes = [f"{g}: {k} ROIs labelled 'insufficient data' (not tested) are left out of "
             "every count" for g, k in zip(groups, (untested_a, untested_b), strict=True) if k]
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
        present = [c for c in LABELS if table[c].sum() > 0]
        notes.append(f"chi-square skipped: only one class present ({', '.join(present)}); a "
                     "contingency test needs two")
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
    frame = _tests_frame(tests)
    return ProportionComparison(table=table, proportions=_proportions(table, groups, alpha),
                                tests=frame, effect_sizes=effects, per_mouse=per_mouse,
                                groups=tuple(groups), notes=notes)
