"""The response size of two groups, compared mouse by mouse (the paper's second readout)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._docs import fill_doc
from ._cells import _flatten
from ._headline import _t_row, _t_test_or_reason
from ._rows import PairingWarning, _design, _not_computed, _row, _test_dict, _tests_frame, _wide


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

    @fill_doc
    def p_value(self, test: str) -> float:
        """p-value of the named test (``"mouse_paired_t"``, ``"pooled_welch_t"``, ...).

        Parameters
        ----------
        %(test_row)s

        Returns
        -------
        float
        """
        return float(self.tests.loc[test, "p_value"])

    def headline(self) -> dict | None:
        """The mouse-level test, as :meth:`ProportionComparison.headline`.

        Returns
        -------
        dict
            ``{"test", "statistic", "p_value", "n_mice", "n_cells"}``; when the mice do not
            allow the test (e.g. no mouse has an activated neuron on one day) the statistic and
            p-value are NaN and ``test`` and ``reason`` say why.
        """
        names = self.tests.index[self.tests["role"] == "headline"]
        if len(names):
            return _test_dict(self.tests, names[0])
        return _not_computed(f"mouse-level test of the per-mouse mean {self.variable}",
                             "; ".join(n.split(": ", 1)[-1] for n in self.notes
                                       if n.startswith("mouse-level")) or "too few mice",
                             n_mice=self.per_mouse["mouse"].nunique(),
                             n_cells=int(self.per_mouse["n_cells"].sum()))


@fill_doc
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
    %(mice_ab)s
    %(two_group_names)s

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
        cells = int(per_mouse[per_mouse.mouse.isin(shared)]["n_cells"].sum())
        rows["mouse_paired_t"] = _t_row(f"paired t, {what}", b[shared], a[shared], paired=True,
                                        role="headline", n_mice=len(shared), n_cells=cells)
    elif design == "independent" and len(a) >= 2 and len(b) >= 2:
        rows["mouse_welch_t"] = _t_row(f"Welch t, {what}", b, a, paired=False, role="headline",
                                       n_mice=len(a) + len(b),
                                       n_cells=int(per_mouse["n_cells"].sum()))
    elif design == "paired":
        notes.append(f"mouse-level test skipped: {len(shared)} mouse with {among or 'finite'} "
                     f"neurons in both groups (a paired test needs 2)")
    else:
        notes.append(f"mouse-level test skipped: {len(a)} and {len(b)} mice with "
                     f"{among or 'finite'} neurons in {groups[0]} and {groups[1]} (Welch's t "
                     "needs 2 per group)")
    if all(v.size >= 2 for v in pooled):
        t, reason = _t_test_or_reason(pooled[1], pooled[0], paired=False)
        rows["pooled_welch_t"] = _row(f"Welch t-test on {variable} of pooled {among or 'all'} "
                                      "neurons", np.nan if t is None else t.statistic,
                                      np.nan if t is None else t.pvalue, level="neuron",
                                      role="secondary", n_mice=per_mouse["mouse"].nunique(),
                                      n_cells=sum(v.size for v in pooled), reason=reason or "")
    if not all(v.size >= 2 for v in pooled):
        notes.append(f"pooled Welch t skipped: {pooled[0].size} and {pooled[1].size} "
                     f"{among or 'finite'} neurons (needs 2 per group)")
    return MagnitudeComparison(per_mouse=per_mouse, tests=_tests_frame(rows),
                               groups=tuple(groups), among=among, variable=variable, notes=notes)
