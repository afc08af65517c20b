"""Mouse-level day comparison: pairing by subject, refusals, rank-test limits, GLMM, magnitude."""

import warnings

import numpy as np
import pytest
import xarray as xr
from scipy import integrate, stats
from scipy.special import expit

from sfone.stats import (
    LowPowerWarning,
    PairingWarning,
    compare_magnitude,
    compare_proportions,
    rank_sum_min_p,
    signed_rank_min_p,
)
from sfone.stats._glmm import _loglik, _nodes, fit_binomial_glmm, glmm_day_test


def _result(subject, k, n, *, day=None, session=None, effect=None):
    """A label_responses-like result: label (and effect) over roi, subject/session/day attrs."""
    labels = np.array(["activated"] * k + ["unchanged"] * (n - k))
    data = {"label": ("roi", labels)}
    if effect is not None:
        data["effect"] = ("roi", np.asarray(effect, float))
    attrs = {"subject": subject}
    attrs.update({key: value for key, value in (("day", day), ("session", session)) if value})
    return xr.Dataset(data, coords={"roi": np.arange(n)}, attrs=attrs)


# issue 15: three mice whose fractions rise by ~0.1-0.13 each; paired by position after a
# reordering of day 8, the paired p was 0.73 instead of 0.0099.
DAY1 = {"mA": 2, "mB": 3, "mC": 16}
DAY8 = {"mA": 5, "mB": 6, "mC": 20}


def test_reordered_mice_pair_by_subject_issue_example():
    day1 = [_result(s, k, 30, day=1) for s, k in DAY1.items()]
    day8 = [_result(s, DAY8[s], 30, day=8) for s in ("mC", "mB", "mA")]  # another order
    result = compare_proportions(day1, day8, groups=("day1", "day8"))
    right = stats.ttest_rel([5 / 30, 6 / 30, 20 / 30], [2 / 30, 3 / 30, 16 / 30]).pvalue
    by_position = stats.ttest_rel([20 / 30, 6 / 30, 5 / 30], [2 / 30, 3 / 30, 16 / 30]).pvalue
    assert round(right, 4) == 0.0099 and round(by_position, 2) == 0.73
    assert result.p_value("mouse_paired_t") == pytest.approx(right, rel=1e-12)
    in_order = compare_proportions(day1, [_result(s, DAY8[s], 30) for s in DAY8])
    assert in_order.p_value("mouse_paired_t") == pytest.approx(right, rel=1e-12)
    headline = result.headline()
    assert headline["p_value"] == pytest.approx(right)
    assert "n = 3 mice, 180 neurons" in headline["test"]


def test_per_cell_subject_coordinate_pairs_like_attrs():
    """The concatenated cohort Dataset of `sfone reproduce` (subject coordinate over roi)."""
    parts = [_result(s, DAY1[s], 30).assign_coords(subject=("roi", [s] * 30)).drop_attrs()
             for s in DAY1]
    day1 = xr.concat(parts, dim="roi")
    day8 = xr.concat([_result(s, DAY8[s], 30).assign_coords(subject=("roi", [s] * 30))
                      for s in ("mB", "mA", "mC")], dim="roi", combine_attrs="drop")
    result = compare_proportions(day1, day8)
    assert result.p_value("mouse_paired_t") == pytest.approx(0.009852457, rel=1e-6)


def test_ambiguous_pairing_is_refused():
    ok = [_result("m1", 3, 10), _result("m2", 4, 10)]
    no_subject = [_result("m1", 3, 10), _result("m2", 4, 10).drop_attrs()]
    with pytest.raises(ValueError, match=r"day 8\[1\] has no subject.*never by position"):
        compare_proportions(ok, no_subject)
    duplicate = [_result("m1", 3, 10, session="s1"), _result("m1", 4, 10, session="s2")]
    with pytest.raises(ValueError, match=r"subject 'm1' appears in results 0 and 1.*'s1', 's2'"):
        compare_proportions(ok, duplicate)
    with pytest.raises(ValueError, match="disagree with the result's own 'subject'"):
        compare_proportions(ok, ok, mice_b=["m2", "m1"])
    with pytest.raises(ValueError, match="3 subject ids for 2 results"):
        compare_proportions(ok, ok, mice_b=["m1", "m2", "m3"])
    with pytest.raises(ValueError, match="5 subject ids for 10 labelled cells"):
        compare_proportions(ok[0]["label"].values, ok[0], mice_a=["m1"] * 5)


def test_lists_of_plain_arrays_need_explicit_subjects():
    arrays = [np.array(["activated", "unchanged"]), np.array(["unchanged", "unchanged"])]
    with pytest.raises(ValueError, match="has no subject"):
        compare_proportions(arrays, arrays)
    result = compare_proportions(arrays, arrays[::-1], mice_a=["a", "b"], mice_b=["b", "a"],
                                 glmm=False)
    assert result.p_value("mouse_paired_t") == pytest.approx(1.0) or np.isnan(
        result.p_value("mouse_paired_t"))
    assert set(result.per_mouse["mouse"]) == {"a", "b"}


def test_without_subjects_only_pooled_tests_and_a_note():
    labels = np.array(["activated"] * 10 + ["unchanged"] * 20)
    result = compare_proportions(labels, labels[::-1].copy())
    assert result.headline() is None
    assert set(result.tests.index) == {"chi2", "fisher"}
    assert (result.tests["role"] == "secondary").all()
    assert any("ignore that cells are nested in mice" in note for note in result.notes)


def _cohort(n_mice, rise=0.2, n=40):
    rng = np.random.default_rng(n_mice)
    base = rng.uniform(0.2, 0.4, n_mice)
    day1 = [_result(f"m{i}", int(round(b * n)), n) for i, b in enumerate(base)]
    day8 = [_result(f"m{i}", int(round((b + rise + 0.02 * i) * n)), n) for i, b in enumerate(base)]
    return day1, day8


def test_wilcoxon_with_five_mice_is_not_offered_silently():
    day1, day8 = _cohort(5)
    result = compare_proportions(day1, day8, glmm=False)
    assert "mouse_wilcoxon" not in result.tests.index
    assert any("smallest two-sided p is 0.0625" in note for note in result.notes)
    with pytest.warns(LowPowerWarning, match="cannot reach p < 0.05.*0.0625"):
        forced = compare_proportions(day1, day8, wilcoxon=True, glmm=False)
    row = forced.tests.loc["mouse_wilcoxon"]
    assert row["min_p"] == 0.0625 and row["p_value"] >= 0.0625  # all 5 mice rose: the minimum
    assert row["p_value"] == pytest.approx(0.0625)


def test_wilcoxon_offered_from_six_mice():
    day1, day8 = _cohort(6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compare_proportions(day1, day8, glmm=False)
    assert result.tests.loc["mouse_wilcoxon", "p_value"] == pytest.approx(0.03125)
    assert signed_rank_min_p(5) == 0.0625 and signed_rank_min_p(6) == 0.03125
    assert rank_sum_min_p(3, 3) == pytest.approx(0.1) and rank_sum_min_p(4, 4) == pytest.approx(
        2 / 70)


def test_mice_seen_on_one_day_are_named_and_left_out_of_the_pairs():
    day1, day8 = _cohort(5)
    with pytest.warns(PairingWarning, match=r"mice \['m4'\] have cells in one group only"):
        result = compare_proportions(day1, day8[:4], glmm=False)
    assert result.tests.loc["mouse_paired_t", "n_mice"] == 4
    f1 = [r["label"].values.tolist().count("activated") / 40 for r in day1[:4]]
    f8 = [r["label"].values.tolist().count("activated") / 40 for r in day8[:4]]
    assert result.p_value("mouse_paired_t") == pytest.approx(stats.ttest_rel(f8, f1).pvalue)


def test_different_mice_use_welch_on_mouse_fractions():
    day1, _ = _cohort(4)
    _, day8 = _cohort(5)
    day8 = [r.assign_attrs(subject=f"other{i}") for i, r in enumerate(day8)]
    result = compare_proportions(day1, day8, glmm=False)
    frac = result.per_mouse.groupby("group")["activated_fraction"].apply(list)
    expected = stats.ttest_ind(frac["day 8"], frac["day 1"], equal_var=False).pvalue
    assert result.headline()["p_value"] == pytest.approx(expected)
    assert result.tests.loc["mouse_welch_t", "role"] == "headline"
    assert "mouse_paired_t" not in result.tests.index


def test_glmm_likelihood_equals_direct_numerical_integration():
    k, n = np.array([3.0, 9, 5, 12]), np.array([20.0, 22, 18, 25])
    mouse = np.array([0, 0, 1, 1])
    X = np.column_stack([np.ones(4), [0, 1, 0, 1]])
    member = np.array([[1.0, 1, 0, 0], [0, 0, 1, 1]])
    beta, sd_u, sd_v = np.array([-1.0, 0.8]), 0.6, 0.4
    z, log_w = _nodes(30)
    mine, _ = _loglik(np.r_[beta, np.log(sd_u), np.log(sd_v)], k, n, X, member, 0.0, z, log_w,
                      True)

    def mouse_likelihood(rows):
        def inner(u, r):
            f = lambda v: (stats.norm.pdf(v) * stats.binom.pmf(  # noqa: E731
                k[r], n[r], expit(X[r] @ beta + sd_u * u + sd_v * v)))
            return integrate.quad(f, -9, 9)[0]
        return integrate.quad(lambda u: stats.norm.pdf(u) * np.prod([inner(u, r) for r in rows]),
                              -9, 9)[0]

    const = np.sum(stats.binom.logpmf(k, n, 0.5) - k * np.log(0.5) - (n - k) * np.log(0.5))
    direct = sum(np.log(mouse_likelihood(np.flatnonzero(mouse == m))) for m in (0, 1))
    assert mine + const == pytest.approx(direct, abs=1e-7)


def test_glmm_without_random_spread_is_logistic_regression():
    import statsmodels.api as sm

    k, n = np.array([4.0, 10, 6, 11, 5, 12]), np.full(6, 30.0)
    day = np.tile([0.0, 1.0], 3)
    fit = fit_binomial_glmm(k, n, np.repeat([0, 1, 2], 2), np.column_stack([np.ones(6), day]))
    glm = sm.GLM(np.column_stack([k, n - k]), sm.add_constant(day),
                 family=sm.families.Binomial()).fit()
    # these counts are less spread than binomial: the ML SDs go to the lower bound
    assert fit.sd_mouse < 0.01 and fit.sd_mouse_day < 0.01
    np.testing.assert_allclose(fit.beta, glm.params, atol=1e-3)
    assert fit.loglik == pytest.approx(glm.llf, abs=1e-3)
    # without the day term the day-to-day spread is absorbed by the mouse x day SD
    null = fit_binomial_glmm(k, n, np.repeat([0, 1, 2], 2), np.ones((6, 1)))
    assert null.sd_mouse_day > 0.3
    test = glmm_day_test(k, n, np.repeat([0, 1, 2], 2), day)
    assert test["statistic"] == pytest.approx(2 * (fit.loglik - null.loglik), abs=1e-6)
    assert test["p_value"] == pytest.approx(stats.chi2.sf(test["statistic"], 1))


def test_magnitude_per_mouse_means_and_paired_test():
    rng = np.random.default_rng(3)
    day1, day8, means = [], [], {}
    for i, subject in enumerate(["m1", "m2", "m3", "m4"]):
        e1, e8 = rng.normal(2.0, 0.5, 30), rng.normal(2.6 + 0.1 * i, 0.5, 30)
        day1.append(_result(subject, 12, 30, effect=e1))
        day8.append(_result(subject, 18, 30, effect=e8))
        means[subject] = (e1[:12].mean(), e8[:18].mean(), e1.mean(), e8.mean())
    m = np.array([means[s] for s in ["m1", "m2", "m3", "m4"]])
    activated = compare_magnitude(day1, day8[::-1])  # order must not matter
    assert activated.p_value("mouse_paired_t") == pytest.approx(
        stats.ttest_rel(m[:, 1], m[:, 0]).pvalue)
    assert "n = 4 mice, 120 neurons" in activated.headline()["test"]
    everyone = compare_magnitude(day1, day8, among=None)
    assert everyone.p_value("mouse_paired_t") == pytest.approx(
        stats.ttest_rel(m[:, 3], m[:, 2]).pvalue)
    pooled = stats.ttest_ind(np.concatenate([d["effect"].values[:18] for d in day8]),
                             np.concatenate([d["effect"].values[:12] for d in day1]),
                             equal_var=False)
    assert activated.tests.loc["pooled_welch_t", "role"] == "secondary"
    assert activated.p_value("pooled_welch_t") == pytest.approx(pooled.pvalue)


def test_magnitude_mouse_without_activated_neurons_is_named():
    effect = np.linspace(1.0, 3.0, 10)
    day1 = [_result("m1", 5, 10, effect=effect), _result("m2", 0, 10, effect=effect),
            _result("m3", 4, 10, effect=effect * 0.7)]
    day8 = [_result(s, 6, 10, effect=effect * 1.5) for s in ("m1", "m2", "m3")]
    with pytest.warns(PairingWarning) as record:
        result = compare_magnitude(day1, day8)
    messages = " ".join(str(w.message) for w in record)
    assert "['m2'] have no activated neurons" in messages
    assert result.tests.loc["mouse_paired_t", "n_mice"] == 2
