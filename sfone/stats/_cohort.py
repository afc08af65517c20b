"""The day comparison of a cohort's classifier output: the tests figures 1, 3 and 4 show."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._estimates import compare_estimated_fractions
from ._magnitude import compare_magnitude
from ._proportions import compare_proportions
from ._rows import _test_dict


def cohort_day_tests(classes: xr.Dataset, *, days=("day1", "day8"), by: str = "day",
                     sessions=None) -> dict:
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
    sessions : pandas.DataFrame, optional
        One row per session: ``subject``, ``by`` and the fraction attrs of its labels
        (:func:`session_fractions`); adds the test on the estimated fractions and the
        sensitivity check (:func:`compare_estimated_fractions`).

    Returns
    -------
    dict
        Test dicts (``test``, ``statistic``, ``p_value``, ``n_mice``, ``n_cells``): ``"mouse"``
        (headline share of activated neurons), ``"pooled_chi2"`` and ``"pooled_fisher"``
        (secondary), ``"magnitude"`` (per-mouse mean effect of activated neurons; short label for a
        figure corner), ``"magnitude_pooled"`` (secondary, when computed); and the
        ``"comparison"`` (:class:`ProportionComparison`) and ``"magnitude_comparison"``
        (:class:`MagnitudeComparison`) objects. With ``sessions``: ``"estimate"`` (the
        mouse-level test on the estimated activated fractions), ``"estimate_comparison"``
        (:class:`FractionEstimateComparison`) and ``"sensitivity"`` (its check; a
        :class:`~sfone.exceptions.QualityWarning` when it fires). A test the labels do not allow (no activated
        neuron on a day, one mouse, a single class) has NaN statistic and p-value and a
        ``reason``; it is never left out.

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
    if "reason" not in head:
        kind = "paired t" if "paired" in head["test"] else "Welch t"
        head["test"] = f"{kind}, mouse means ({head['n_mice']} mice, {head['n_cells']} ROIs)"
    out["magnitude"] = head
    if "pooled_welch_t" in magnitude.tests.index:
        pooled = _test_dict(magnitude.tests, "pooled_welch_t", with_n=False)
        pooled["test"] = f"Secondary, {pooled['test']} (n = {pooled['n_cells']} neurons)"
        out["magnitude_pooled"] = pooled
    if sessions is not None:
        day = sessions[by].astype(str)
        estimates = compare_estimated_fractions(sessions[day == str(days[0])],
                                                sessions[day == str(days[1])],
                                                groups=tuple(days))
        out.update(estimate=estimates.headline(), estimate_comparison=estimates,
                   sensitivity=estimates.sensitivity)
    return out
