"""A study runs whatever the labels turn out to be (issue 29): empty classes give NaN + a reason.

Labels are built here (no classifier): every case goes through the day tests of figures 1, 3
and 4 (:func:`sfone.stats.cohort_day_tests`) and the four imaging figure specs, as
``sfone reproduce`` runs them.
"""

from __future__ import annotations

import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from sfone.reproduce.analyses import ImagingResult
from sfone.reproduce.figures import FIGURE_SPECS
from sfone.reproduce.report import StatsTable
from sfone.stats import PairingWarning, cohort_day_tests, compare_magnitude, compare_proportions

U, A, INH = "unchanged", "activated", "inhibited"

#: case -> sessions (subject, day, labels of its ROIs)
CASES = {
    "all unchanged": [("m1", "d1", [U] * 5), ("m2", "d1", [U] * 4), ("m1", "d2", [U] * 6),
                      ("m2", "d2", [U] * 3)],
    "a mouse with no activated neuron": [("m1", "d1", [U] * 5 + [A]), ("m2", "d1", [U] * 4),
                                         ("m3", "d1", [A, A, U]), ("m1", "d2", [A, U, INH]),
                                         ("m2", "d2", [U, A]), ("m3", "d2", [U, U, INH])],
    "no activated neuron on day 1": [("m1", "d1", [U, INH]), ("m2", "d1", [U] * 4),
                                     ("m1", "d2", [A, U, INH]), ("m2", "d2", [U, A])],
    "a day with one mouse": [("m1", "d1", [U, A, INH]), ("m1", "d2", [A, U, INH]),
                             ("m2", "d2", [U, A])],
    "one mouse": [("m1", "d1", [U, A, INH]), ("m1", "d2", [A, U, INH])],
    "no inhibited neuron": [("m1", "d1", [U, A]), ("m2", "d1", [U, A, A]), ("m1", "d2", [A, U]),
                            ("m2", "d2", [U, A])],
    "all activated": [("m1", "d1", [A] * 3), ("m2", "d1", [A] * 2), ("m1", "d2", [A] * 2),
                      ("m2", "d2", [A])],
    "one ROI per session": [("m1", "d1", [U]), ("m2", "d1", [A]), ("m1", "d2", [A]),
                            ("m2", "d2", [U])],
}


def _imaging_result(sessions, seed=0) -> ImagingResult:
    rng = np.random.default_rng(seed)
    labels, subjects, days = [], [], []
    for subject, day, session_labels in sessions:
        labels += session_labels
        subjects += [subject] * len(session_labels)
        days += [day] * len(session_labels)
    n = len(labels)
    effect = rng.normal(size=n) + np.where(np.array(labels) == A, 2.0, 0.0)
    classes = xr.Dataset(
        {"label": ("roi", np.array(labels)), "effect": ("roi", effect),
         "p_value": ("roi", np.full(n, 0.5)), "q_value": ("roi", np.full(n, 0.5))},
        coords={"roi": np.arange(n), "subject": ("roi", subjects), "day": ("roi", days),
                "group": ("roi", [""] * n), "roi_in_session": ("roi", np.arange(n))})
    lag = np.arange(-90.0, 60.0, 10.0)
    traces = xr.DataArray(rng.normal(size=(n, 2, lag.size)), dims=("roi", "trial", "lag"),
                          coords={"roi": np.arange(n), "lag": lag,
                                  "subject": ("roi", subjects), "day": ("roi", days)})
    fractions = pd.DataFrame([{"subject": s, "day": d, "n_rois": len(ls),
                               "n_activated": ls.count(A), "fraction": ls.count(A) / len(ls)}
                              for s, d, ls in sessions])
    return ImagingResult(classes, traces, fractions, ("d1", "d2"), (-30.0, 0.0),
                         (-90.0, -30.0), (0.0, 60.0), {})


def _per_mouse_fraction(sessions, day):
    return {s: ls.count(A) / len(ls) for s, d, ls in sessions if d == day}


@pytest.mark.parametrize("case", list(CASES))
def test_every_imaging_figure_is_drawn_and_every_test_is_a_number_or_a_reason(case):
    data = _imaging_result(CASES[case])
    stats_table = StatsTable()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PairingWarning for mice without activated neurons
        for spec in FIGURE_SPECS[:4]:
            output = spec.build(data, stats_table, spec.figure_id)
            assert output.caption
            plt.close(output.figure)
    table = stats_table.to_frame()
    tests = table[table["test"] != ""]
    assert len(tests) >= 4
    for row in tests.itertuples():
        if math.isnan(row.p_value):
            assert "not computed (" in row.test, (row.quantity, row.test)
        else:
            assert 0.0 <= row.p_value <= 1.0


def test_all_unchanged_states_why_there_is_no_test():
    with pytest.warns(PairingWarning, match="have no activated neurons"):
        tests = cohort_day_tests(_imaging_result(CASES["all unchanged"]).classes,
                                 days=("d1", "d2"))
    assert math.isnan(tests["mouse"]["p_value"])
    assert "no variation" in tests["mouse"]["reason"]
    assert math.isnan(tests["pooled_chi2"]["p_value"])
    assert "only one class present (unchanged)" in tests["pooled_chi2"]["reason"]
    assert math.isnan(tests["magnitude"]["p_value"])
    assert "0 and 0 mice with activated neurons" in tests["magnitude"]["reason"]
    # Fisher's exact test is defined (both days 0 activated): p = 1
    assert tests["pooled_fisher"]["p_value"] == pytest.approx(1.0)


def test_a_mouse_without_activated_neurons_keeps_the_share_test_and_leaves_it_out_of_magnitude():
    sessions = CASES["a mouse with no activated neuron"]
    classes = _imaging_result(sessions).classes
    with pytest.warns(PairingWarning) as caught:
        tests = cohort_day_tests(classes, days=("d1", "d2"))
    messages = [str(w.message) for w in caught]
    assert any("d1: mice ['m2'] have no activated neurons" in m for m in messages)
    assert any("d2: mice ['m3'] have no activated neurons" in m for m in messages)
    a, b = _per_mouse_fraction(sessions, "d1"), _per_mouse_fraction(sessions, "d2")
    mice = sorted(a)
    expected = stats.ttest_rel([b[m] for m in mice], [a[m] for m in mice])
    assert tests["mouse"]["p_value"] == pytest.approx(expected.pvalue)
    # m2 has activated neurons on day 2 only and m3 on day 1 only: 1 complete pair
    assert math.isnan(tests["magnitude"]["p_value"])
    assert "1 mouse with activated neurons in both groups" in tests["magnitude"]["reason"]


def test_a_day_with_one_mouse_has_no_paired_test_and_says_so():
    with pytest.warns(PairingWarning, match=r"mice \['m2'\] have cells in one group only"):
        tests = cohort_day_tests(_imaging_result(CASES["a day with one mouse"]).classes,
                                 days=("d1", "d2"))
    assert math.isnan(tests["mouse"]["p_value"])
    assert "1 mouse with cells in both groups" in tests["mouse"]["reason"]
    assert tests["mouse"]["n_mice"] == 2


def test_equal_differences_are_not_given_a_p_of_zero():
    # every mouse gains exactly 0.25: scipy's paired t is +inf with p = 0
    a = [np.array([A, U, U, U]), np.array([A, U, U, U])]
    b = [np.array([A, A, U, U]), np.array([A, A, U, U])]
    result = compare_proportions(a, b, mice_a=["m1", "m2"], mice_b=["m1", "m2"], glmm=False)
    head = result.headline()
    assert math.isnan(head["p_value"]) and "difference is 0.25" in head["test"]


def test_welch_without_variation_is_not_computed_but_with_variation_matches_scipy():
    def ds(labels, effects, subject):
        return xr.Dataset({"label": ("roi", np.array(labels)), "effect": ("roi", effects)},
                          attrs={"subject": subject})

    a = [ds([A, U], np.array([1.0, 0.0]), "m1"), ds([A, U], np.array([1.0, 0.0]), "m2")]
    b = [ds([A, U], np.array([2.0, 0.0]), "m3"), ds([A, U], np.array([2.0, 0.0]), "m4")]
    flat = compare_magnitude(a, b)  # different mice: Welch's t
    assert "no variation" in flat.headline()["reason"]
    assert "no variation" in flat.tests.loc["pooled_welch_t", "reason"]
    a[1] = ds([A, U], np.array([1.5, 0.0]), "m2")
    b[1] = ds([A, U], np.array([3.0, 0.0]), "m4")
    varied = compare_magnitude(a, b).headline()
    assert varied["p_value"] == pytest.approx(stats.ttest_ind([2.0, 3.0], [1.0, 1.5],
                                                              equal_var=False).pvalue)


def _photometry_result(sessions, seed=1):
    """sessions: (subject, group, label) per recording."""
    from sfone.reproduce.analyses import PhotometryResult

    rng = np.random.default_rng(seed)
    n = len(sessions)
    subjects, groups, labels = (list(x) for x in zip(*sessions, strict=True))
    classes = xr.Dataset(
        {"label": ("roi", np.array(labels)), "effect": ("roi", rng.normal(size=n)),
         "p_value": ("roi", np.full(n, 0.5)), "q_value": ("roi", np.full(n, 0.5))},
        coords={"roi": np.arange(n), "subject": ("roi", subjects), "group": ("roi", groups),
                "day": ("roi", ["d1"] * n), "roi_in_session": ("roi", ["dff"] * n)})
    lag = np.arange(-90.0, 60.0, 10.0)
    traces = xr.DataArray(rng.normal(size=(n, 3, lag.size)), dims=("roi", "trial", "lag"),
                          coords={"roi": np.arange(n), "lag": lag, "subject": ("roi", subjects),
                                  "group": ("roi", groups)})
    return PhotometryResult(classes, traces, "group", tuple(dict.fromkeys(groups)),
                            (-30.0, 0.0), (-90.0, -30.0), (0.0, 60.0), {})


@pytest.mark.parametrize("sessions, reason", [
    ([("m1", "ctrl", U), ("m2", "ctrl", A)], "one group only (ctrl)"),
    ([("m1", "ctrl", U), ("m2", "run", U)], "1 and 1 mice with a recording in ctrl and run"),
])
def test_photometry_panels_without_a_test_say_why(sessions, reason):
    from sfone.reproduce.figures import spec_for

    data = _photometry_result(sessions)
    stats_table = StatsTable()
    for number in (12, 13):
        spec = spec_for(number)
        output = spec.build(data, stats_table, spec.figure_id)
        plt.close(output.figure)
    assert reason in output.caption and "not computed" in output.caption
    table = stats_table.to_frame()
    per_mouse = table[(table["quantity"] == "postrun_effect") & table["group"].str.contains("/")]
    assert sorted(per_mouse["group"]) == sorted(f"{g}/{s}" for s, g, _ in sessions)
    effects = dict(zip(data.classes["subject"].values, data.classes["effect"].values,
                       strict=True))
    for row in per_mouse.itertuples():
        assert row.value == pytest.approx(effects[row.group.split("/")[1]])


def test_photometry_test_pairs_mice_by_subject_across_days():
    data = _photometry_result([("m1", "d1", U), ("m2", "d1", A), ("m3", "d1", U),
                               ("m1", "d8", A), ("m2", "d8", A), ("m3", "d8", U)])
    effect = dict(zip(zip(data.classes["subject"].values, data.classes["group"].values,
                          strict=True), data.classes["effect"].values, strict=True))
    result = data.response_test
    expected = stats.ttest_rel([effect[m, "d8"] for m in ("m1", "m2", "m3")],
                               [effect[m, "d1"] for m in ("m1", "m2", "m3")])
    assert result["p_value"] == pytest.approx(expected.pvalue)
    assert result["test"].startswith("paired t, per-mouse mean post-run effect (n = 3 mice")
