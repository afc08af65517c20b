"""The figure list of `sfone reproduce` (one FigureSpec per figure) and the generic tests it uses."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from sfone.reproduce import FIGURE_SPECS, STAGES, figures_for, parse_study, spec_for
from sfone.stats import holm, mann_whitney, one_way_anova, pairwise_tests, welch_test


def test_one_spec_per_figure_with_its_number_in_one_place():
    numbers = [s.number for s in FIGURE_SPECS]
    # 11: tracked transitions, when a mouse is tracked; 12-13: photometry
    assert numbers == list(range(1, 14))
    assert len({s.stem for s in FIGURE_SPECS}) == 13
    for spec in FIGURE_SPECS:
        assert spec.stem.startswith(f"{spec.figure_id}_") and spec.stage in STAGES
    assert spec_for(6).stem == "fig6_stress_test"
    assert {spec_for(n).stage for n in (12, 13)} == {"photometry"}
    with pytest.raises(KeyError, match="no figure 14"):
        spec_for(14)


def test_figures_follow_from_the_sections_present(tmp_path):
    assert figures_for(parse_study({"tables": {"glucose": "g.csv"}})) == [9]
    assert figures_for(parse_study({"calorimetry": {"files": ["a.csv"], "session": "s.csv"},
                                    "tables": {"bdnf_counts": "b.csv"}})) == [5, 10]
    photometry = {"sessions": [{"path": "m1.ppd", "subject": "m1", "day": "d1",
                                "signal": "analog_1", "method": "signal-only",
                                "runs": "r.csv"}]}
    assert figures_for(parse_study({"photometry": photometry})) == [12, 13]


def test_holm_equals_statsmodels_and_is_monotone():
    rng = np.random.default_rng(3)
    for size in (1, 2, 5, 12):
        p = rng.uniform(0, 0.3, size)
        np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    assert holm([0.017, 0.2, 0.9]).tolist()[0] == pytest.approx(0.051)  # the example


def test_two_group_tests_match_scipy_and_refuse_tiny_groups():
    rng = np.random.default_rng(4)
    table = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 7, "v": rng.normal(0, 1, 13)})
    a, b = table[table.g == "a"].v, table[table.g == "b"].v
    assert welch_test(table, "v", "g", ("a", "b"))["p_value"] == pytest.approx(
        sps.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-12)
    assert mann_whitney(table, "v", "g", ("a", "b"))["p_value"] == pytest.approx(
        sps.mannwhitneyu(a, b).pvalue, rel=1e-12)
    assert one_way_anova(table, "v", "g")["p_value"] == pytest.approx(
        sps.f_oneway(a, b).pvalue, rel=1e-12)
    with pytest.raises(ValueError, match="group 'c' has 0 value"):
        welch_test(table, "v", "g", ("a", "c"))


def test_pairwise_tests_correct_over_the_pairs():
    rng = np.random.default_rng(5)
    table = pd.DataFrame({"g": np.repeat(["x", "y", "z"], 6),
                          "v": rng.normal(0, 1, 18) + np.repeat([0, 0.5, 1.5], 6)})
    pairs = [("x", "y"), ("x", "z"), ("y", "z")]
    results = pairwise_tests(table, "v", "g", pairs)
    raw = [sps.ttest_ind(table[table.g == a].v, table[table.g == b].v, equal_var=False).pvalue
           for a, b in pairs]
    np.testing.assert_allclose([r["p_uncorrected"] for r in results], raw, rtol=1e-12)
    np.testing.assert_allclose([r["p_value"] for r in results],
                               multipletests(raw, method="holm")[1], rtol=1e-12)
    assert [r["pair"] for r in results] == pairs
    assert results[0]["test"] == "Welch t-test, Holm over 3 comparisons"
