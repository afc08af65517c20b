"""The mouse-level test on estimated fractions and the sensitivity check (issue 27)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats as sps

from sfone.exceptions import QualityWarning
from sfone.stats import (
    SENSITIVITY_MIN_ARTEFACT,
    SENSITIVITY_SHARE,
    compare_estimated_fractions,
    compare_proportions,
    pooled_estimates,
    session_fractions,
)


def _sessions(day, estimates, labelled, powers, *, mice=None, n_tested=100, width=0.2):
    mice = mice or [f"m{i}" for i in range(len(estimates))]
    return pd.DataFrame({
        "subject": mice, "day": day, "n_rois": n_tested, "n_tested": n_tested,
        "fraction_activated_estimate": estimates, "fraction_activated_labelled": labelled,
        "fraction_activated_ci_low": np.subtract(estimates, width / 2),
        "fraction_activated_ci_high": np.add(estimates, width / 2),
        "fraction_inhibited_estimate": 0.1, "fraction_inhibited_labelled": 0.08,
        "fraction_inhibited_ci_low": 0.02, "fraction_inhibited_ci_high": 0.18,
        "power_x2": powers, "detectable_gain_80": 1.5})


def _no_quality_warning(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    assert not [w for w in caught if issubclass(w.category, QualityWarning)], \
        [str(w.message) for w in caught]
    return result


def test_paired_t_on_estimates_is_scipys_on_the_per_mouse_estimates():
    d1 = _sessions("day1", [0.30, 0.25, 0.35, 0.28, 0.33], [0.28, 0.22, 0.30, 0.27, 0.30],
                   [0.9] * 5)
    d8 = _sessions("day8", [0.52, 0.41, 0.55, 0.47, 0.60], [0.50, 0.40, 0.50, 0.45, 0.55],
                   [0.9] * 5)
    result = _no_quality_warning(lambda: compare_estimated_fractions(d1, d8,
                                                                     groups=("day1", "day8")))
    expected = sps.ttest_rel(d8["fraction_activated_estimate"], d1["fraction_activated_estimate"])
    head = result.headline()
    assert head["p_value"] == pytest.approx(expected.pvalue, rel=1e-12)
    assert head["statistic"] == pytest.approx(expected.statistic, rel=1e-12)
    assert head["n_mice"] == 5 and head["n_cells"] == 1000
    assert "estimated activated" in head["test"] and "(n = 5 mice" in head["test"]
    assert result.sensitivity["warn"] is False


def test_mice_are_paired_by_subject_not_by_row_order():
    d1 = _sessions("day1", [0.30, 0.20, 0.40], [0.3, 0.2, 0.4], [0.9] * 3, mice=["a", "b", "c"])
    d8 = _sessions("day8", [0.62, 0.33, 0.41], [0.6, 0.3, 0.4], [0.9] * 3, mice=["c", "a", "b"])
    result = compare_estimated_fractions(d1, d8, warn=False)
    # a: 0.30 -> 0.33, b: 0.20 -> 0.41, c: 0.40 -> 0.62
    expected = sps.ttest_rel([0.33, 0.41, 0.62], [0.30, 0.20, 0.40])
    assert result.headline()["p_value"] == pytest.approx(expected.pvalue, rel=1e-12)


def test_a_mouse_with_two_sessions_is_weighted_by_tested_rois():
    d1 = pd.concat([_sessions("day1", [0.2, 0.3], [0.2, 0.3], [0.9, 0.9], mice=["a", "b"]),
                    _sessions("day1", [0.5], [0.5], [0.9], mice=["a"], n_tested=300)])
    d8 = _sessions("day8", [0.5, 0.6], [0.5, 0.6], [0.9, 0.9], mice=["a", "b"])
    result = compare_estimated_fractions(d1, d8, groups=("day1", "day8"), warn=False)
    a = result.per_mouse.set_index(["group", "mouse"]).loc[("day1", "a")]
    assert a["estimate"] == pytest.approx((0.2 * 100 + 0.5 * 300) / 400)
    assert a["n_tested"] == 400 and a["n_sessions"] == 2


def test_different_mice_get_welch():
    d1 = _sessions("day1", [0.30, 0.25, 0.35], [0.3, 0.25, 0.35], [0.9] * 3, mice=["a", "b", "c"])
    d8 = _sessions("day8", [0.52, 0.41, 0.55], [0.5, 0.4, 0.5], [0.9] * 3, mice=["d", "e", "f"])
    result = compare_estimated_fractions(d1, d8, warn=False)
    expected = sps.ttest_ind([0.52, 0.41, 0.55], [0.30, 0.25, 0.35], equal_var=False)
    assert "mouse_welch_t" in result.tests.index
    assert result.headline()["p_value"] == pytest.approx(expected.pvalue, rel=1e-12)


def test_one_mouse_gives_a_reason_not_a_p_value():
    result = compare_estimated_fractions(_sessions("day1", [0.3], [0.3], [0.9]),
                                         _sessions("day8", [0.5], [0.5], [0.9]), warn=False)
    head = result.headline()
    assert np.isnan(head["p_value"]) and "not computed" in head["test"]


def test_sensitivity_check_fires_when_day8_is_cleaner_and_the_biology_equal():
    # same true 30 % both days; day 1 sees half its responders, day 8 nearly all
    d1 = _sessions("day1", [0.31, 0.29, 0.30, 0.32, 0.28], [0.15, 0.14, 0.16, 0.15, 0.13],
                   [0.45, 0.5, 0.48, 0.5, 0.47])
    d8 = _sessions("day8", [0.30, 0.31, 0.29, 0.30, 0.30], [0.28, 0.29, 0.27, 0.29, 0.28],
                   [0.93, 0.95, 0.9, 0.94, 0.92])
    with pytest.warns(QualityWarning, match=r"day1 vs day8.*0\.48 on day1, 0\.93 on day8.*"
                                            r"could produce the observed"):
        result = compare_estimated_fractions(d1, d8, groups=("day1", "day8"))
    s = result.sensitivity
    pooled = np.mean(np.r_[d1["fraction_activated_estimate"], d8["fraction_activated_estimate"]])
    power = d8["power_x2"].mean() - d1["power_x2"].mean()
    assert s["expected_artefact"] == pytest.approx(pooled * power)
    observed = np.mean(d8["fraction_activated_labelled"].to_numpy()
                       - d1["fraction_activated_labelled"].to_numpy())
    assert s["observed_labelled_difference"] == pytest.approx(observed)
    assert s["warn"] and abs(s["expected_artefact"]) >= SENSITIVITY_SHARE * abs(observed)
    # the labelled fractions differ, the estimates do not
    assert observed > 0.1 and abs(s["estimate_difference"]) < 0.01
    assert result.headline()["p_value"] > 0.05


def test_sensitivity_check_names_a_difference_it_could_hide():
    # day 8 has more responders (0.5 vs 0.3) but sees few of them: the labelled fractions agree
    d1 = _sessions("day1", [0.30] * 4, [0.29, 0.28, 0.30, 0.29], [0.95] * 4)
    d8 = _sessions("day8", [0.50] * 4, [0.31, 0.30, 0.31, 0.30], [0.55] * 4)
    with pytest.warns(QualityWarning, match="could hide"):
        result = compare_estimated_fractions(d1, d8, groups=("day1", "day8"))
    assert result.sensitivity["expected_artefact"] == pytest.approx(0.4 * (0.55 - 0.95))


def test_sensitivity_check_does_not_fire_for_equal_sensitivity_and_a_real_difference():
    d1 = _sessions("day1", [0.30, 0.28, 0.33, 0.31], [0.29, 0.27, 0.31, 0.30], [0.9, 0.92, 0.9, 0.91])
    d8 = _sessions("day8", [0.52, 0.50, 0.55, 0.49], [0.50, 0.48, 0.53, 0.47], [0.9, 0.88, 0.91, 0.9])
    result = _no_quality_warning(lambda: compare_estimated_fractions(d1, d8))
    assert abs(result.sensitivity["expected_artefact"]) < SENSITIVITY_MIN_ARTEFACT
    assert not result.sensitivity["warn"] and result.sensitivity["message"] == ""


def test_sensitivity_check_needs_both_conditions():
    # a 0.06 artefact is over the 0.05 floor but under half of a 0.2 labelled difference
    d1 = _sessions("day1", [0.3] * 3, [0.25, 0.26, 0.24], [0.9] * 3)
    d8 = _sessions("day8", [0.5] * 3, [0.45, 0.46, 0.44], [0.75] * 3)
    result = _no_quality_warning(lambda: compare_estimated_fractions(d1, d8))
    s = result.sensitivity
    assert s["expected_artefact"] == pytest.approx(0.4 * -0.15)
    assert abs(s["expected_artefact"]) >= SENSITIVITY_MIN_ARTEFACT
    assert abs(s["expected_artefact"]) < SENSITIVITY_SHARE * abs(s["observed_labelled_difference"])
    # a 0.04 artefact that is the whole labelled difference is still under the floor
    d1 = _sessions("day1", [0.2] * 3, [0.18] * 3, [0.9] * 3)
    d8 = _sessions("day8", [0.2] * 3, [0.14] * 3, [0.7] * 3)
    assert not _no_quality_warning(lambda: compare_estimated_fractions(d1, d8)).sensitivity["warn"]


def test_sessions_without_power_skip_the_check_and_say_why():
    d1 = _sessions("day1", [0.3, 0.2], [0.1, 0.1], [np.nan, np.nan])
    d8 = _sessions("day8", [0.3, 0.2], [0.3, 0.3], [np.nan, np.nan])
    result = _no_quality_warning(lambda: compare_estimated_fractions(d1, d8))
    assert not result.sensitivity["warn"] and "power_x2" in result.sensitivity["reason"]


def _labels_result(subject, day, labels, attrs):
    n = len(labels)
    return xr.Dataset({"label": ("roi", np.array(labels)), "effect": ("roi", np.zeros(n))},
                      coords={"roi": np.arange(n)},
                      attrs={"subject": subject, "day": day, "session": f"{subject}_{day}",
                             **attrs})


def test_label_responses_results_are_read_from_their_attrs():
    attrs = lambda e, p: {"n_rois": 10, "n_tested": 9, "fraction_activated_labelled": 0.3,  # noqa: E731
                          "fraction_activated_estimate": e, "power_x2": p}
    a = [_labels_result(f"m{i}", "d1", ["activated"] * 3 + ["unchanged"] * 7, attrs(e, 0.9))
         for i, e in enumerate([0.3, 0.35, 0.25])]
    b = [_labels_result(f"m{i}", "d8", ["activated"] * 5 + ["unchanged"] * 5, attrs(e, 0.9))
         for i, e in enumerate([0.5, 0.45, 0.6])]
    table = session_fractions(a)
    assert list(table["subject"]) == ["m0", "m1", "m2"] and (table["day"] == "d1").all()
    assert np.isnan(table["fraction_inhibited_estimate"]).all()  # attr absent -> NaN
    result = compare_estimated_fractions(a, b, warn=False)
    assert result.headline()["p_value"] == pytest.approx(
        sps.ttest_rel([0.5, 0.45, 0.6], [0.3, 0.35, 0.25]).pvalue)
    with pytest.raises(ValueError, match="has no subject"):
        session_fractions([a[0].assign_attrs(subject="")])


def test_pooled_estimates_weight_sessions_and_combine_their_intervals():
    table = pd.concat([_sessions("day1", [0.2, 0.4], [0.1, 0.3], [0.9, 0.8], n_tested=100),
                       _sessions("day8", [0.5], [0.4], [0.7], n_tested=50)])
    table.loc[table.index[1], "n_tested"] = 300
    pooled = pooled_estimates(table, order=("day1", "day8")).set_index(["group", "direction"])
    row = pooled.loc[("day1", "activated")]
    assert row["estimate"] == pytest.approx((0.2 * 100 + 0.4 * 300) / 400)
    assert row["labelled"] == pytest.approx((0.1 * 100 + 0.3 * 300) / 400)
    se = 0.2 / (2 * 1.959963984540054)  # each session's interval is 0.2 wide
    half = 1.959963984540054 * se * np.sqrt(0.25 ** 2 + 0.75 ** 2)
    assert row["ci_low"] == pytest.approx(row["estimate"] - half)
    assert row["ci_high"] == pytest.approx(row["estimate"] + half)
    assert row["n_tested"] == 400 and row["n_sessions"] == 2 and row["n_mice"] == 2
    assert row["power_x2"] == pytest.approx(0.9 * 0.25 + 0.8 * 0.75)
    assert pooled.loc[("day8", "activated"), "estimate"] == pytest.approx(0.5)


def test_insufficient_data_counts_in_no_denominator():
    a = np.array(["activated"] * 3 + ["unchanged"] * 7 + ["insufficient data"] * 5)
    b = np.array(["activated"] * 6 + ["unchanged"] * 4 + ["insufficient data"] * 2)
    result = compare_proportions(a, b, mice_a=["m1"] * 8 + ["m2"] * 7,
                                 mice_b=["m1"] * 6 + ["m2"] * 6, glmm=False)
    assert result.table.values.sum() == 20
    assert result.effect_sizes["activated_difference"] == pytest.approx(0.6 - 0.3)
    per = result.per_mouse.set_index(["group", "mouse"])
    assert per.loc[("day 1", "m2"), "n_cells"] == 2  # 7 ROIs, 5 of them not tested
    assert any("5 ROIs labelled 'insufficient data'" in n for n in result.notes)
