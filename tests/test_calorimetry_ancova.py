"""ANCOVA: interaction tested first, adjusted means at the mean mass, pairwise for > 2 groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sfone.calorimetry.ancova import ancova


def make(slopes, offsets, masses_by_group, noise=0.005, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for g, (slope, offset, masses) in enumerate(zip(slopes, offsets, masses_by_group, strict=True)):
        for m in masses:
            rows.append({"group": f"g{g}", "lean_mass": m,
                         "ee_kcal_h": 0.2 + offset + slope * m + rng.normal(0, noise)})
    return pd.DataFrame(rows)


def test_mass_confound_is_not_a_group_effect():
    # heavier group, same EE-mass line: a ratio would differ, ANCOVA finds no group effect
    light, heavy = np.linspace(20, 25, 10), np.linspace(28, 33, 10)
    data = make([0.015, 0.015], [0.0, 0.0], [light, heavy])
    per_gram = data["ee_kcal_h"] / data["lean_mass"]
    assert per_gram[data["group"] == "g0"].mean() != pytest.approx(
        per_gram[data["group"] == "g1"].mean(), rel=0.02)
    result = ancova(data, covariate="lean_mass")
    assert result.slopes_homogeneous and result.p_group > 0.05
    assert result.covariate_mean == pytest.approx(data["lean_mass"].mean())
    means = result.adjusted_means.set_index("group")["adjusted_mean"]
    assert means["g0"] == pytest.approx(0.2 + 0.015 * data["lean_mass"].mean(), abs=0.01)
    assert abs(means["g1"] - means["g0"]) < 0.01


def test_known_offset_recovered_with_pairwise_holm():
    masses = [np.linspace(20, 30, 12)] * 3
    data = make([0.01] * 3, [0.0, 0.05, 0.10], masses, seed=3)
    result = ancova(data, covariate="lean_mass")
    assert result.p_group < 1e-6 and result.slopes_homogeneous
    pairs = result.pairwise.set_index(["group_a", "group_b"])
    assert pairs.loc[("g0", "g1"), "difference"] == pytest.approx(0.05, abs=0.01)
    assert pairs.loc[("g0", "g2"), "difference"] == pytest.approx(0.10, abs=0.01)
    assert (pairs["p_holm"] >= pairs["p"]).all() and len(pairs) == 3
    assert set(result.wald_p_group) == {"g1", "g2"}


def test_interaction_is_tested_first():
    masses = [np.linspace(20, 30, 12)] * 2
    data = make([0.005, 0.03], [0.0, -0.2], masses, seed=2)
    result = ancova(data, covariate="lean_mass")
    assert result.p_interaction < 0.001 and not result.slopes_homogeneous
    assert "*" in result.formula


def test_too_few_subjects_is_an_error():
    data = pd.DataFrame({"group": ["a", "b"], "lean_mass": [20, 21], "ee_kcal_h": [0.5, 0.6]})
    with pytest.raises(ValueError, match="enough subjects"):
        ancova(data, covariate="lean_mass")


def test_cli_ancova_on_calr_fixture_matches_least_squares(tmp_path):
    from click.testing import CliRunner
    from shared_fixtures import fixture_path

    from sfone.cli import main

    standard = fixture_path("calorimetry", "calr_standard_mmpc_ucdavis_week12.csv")
    session = fixture_path("calorimetry", "calr_session_mmpc_ucdavis_week12.csv")
    out, pairs = tmp_path / "ancova.csv", tmp_path / "pairs.csv"
    summary_csv = tmp_path / "summary.csv"
    runner = CliRunner()
    assert runner.invoke(main, ["calorimetry", "summary", str(standard), "--session", str(session),
                                "--out", str(summary_csv)]).exit_code == 0
    result = runner.invoke(main, ["calorimetry", "ancova", str(standard), "--session", str(session),
                                  "--covariate", "lean_mass", "--out", str(out),
                                  "--pairwise", str(pairs)])
    assert result.exit_code == 0, result.output
    # independent least squares: ee = a + b * lean + c * [HFD], adjusted means at the mean lean
    summary = pd.read_csv(summary_csv)
    full = summary[summary["period"] == "full_day"].set_index("subject")
    lean = pd.read_csv(session).dropna(subset=["id"]).set_index("id")["Lean.Mass"]
    lean = lean.loc[full.index].to_numpy()
    hfd = (full["group"] == "HFD").to_numpy(float)
    design = np.column_stack([np.ones_like(lean), lean, hfd])
    coef = np.linalg.lstsq(design, full["ee_kcal_h"].to_numpy(), rcond=None)[0]
    table = pd.read_csv(out)
    day = table[table["period"] == "full_day"].set_index("group")
    assert day.loc["LFD", "adjusted_mean"] == pytest.approx(coef[0] + coef[1] * lean.mean())
    assert day.loc["HFD", "adjusted_mean"] == pytest.approx(coef[0] + coef[1] * lean.mean()
                                                            + coef[2])
    pair = pd.read_csv(pairs)
    assert pair.loc[0, "difference"] == pytest.approx(-coef[2])


def test_ancova_reports_the_slopes_of_the_selected_model():
    import numpy as np
    import pandas as pd

    from sfone.calorimetry import ancova

    rng = np.random.default_rng(3)
    mass = rng.uniform(20, 40, 40)
    group = np.repeat(["a", "b"], 20)
    steep = np.where(group == "a", 0.01, 0.05)  # clearly different slopes
    table = pd.DataFrame({"ee_kcal_h": 0.2 + steep * mass + rng.normal(0, 0.005, 40),
                          "total_mass": mass, "group": group})
    result = ancova(table)
    assert not result.slopes_homogeneous
    for g in ("a", "b"):
        part = table[table.group == g]
        expected = np.polyfit(part.total_mass, part.ee_kcal_h, 1)[0]
        assert result.slopes[g] == pytest.approx(expected, rel=1e-9)
    parallel = table.assign(ee_kcal_h=0.2 + 0.03 * mass + rng.normal(0, 0.005, 40))
    common = ancova(parallel)
    assert common.slopes_homogeneous and common.slopes["a"] == common.slopes["b"]


def _ols(design, y):
    from scipy import stats

    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = len(y) - design.shape[1]
    sigma2 = resid @ resid / dof
    cov = sigma2 * np.linalg.inv(design.T @ design)
    t = coef / np.sqrt(np.diag(cov))
    return coef, cov, 2 * stats.t.sf(np.abs(t), dof)


def test_with_interaction_everything_comes_from_the_separate_slopes_model():
    rng = np.random.default_rng(5)
    mass = rng.uniform(20, 40, 30)
    group = np.repeat(["a", "b"], 15)
    b = (group == "b").astype(float)
    y = 0.2 + np.where(b, 0.04, 0.01) * mass - 0.895 * b + rng.normal(0, 0.01, 30)
    table = pd.DataFrame({"ee_kcal_h": y, "total_mass": mass, "group": group})
    result = ancova(table)
    assert not result.slopes_homogeneous and result.model == "interaction"
    assert "separate-slopes" in result.p_group_test
    # independent least squares, mass centred at its mean: [1, x, b, x*b]
    x = mass - mass.mean()
    coef, cov, p = _ols(np.column_stack([np.ones(30), x, b, x * b]), y)
    assert result.p_group == pytest.approx(p[2], rel=1e-9)   # group difference at mean mass
    assert result.wald_p_group["b"] == pytest.approx(p[2], rel=1e-9)
    means = result.adjusted_means.set_index("group")
    assert means.loc["a", "adjusted_mean"] == pytest.approx(coef[0], rel=1e-9)
    assert means.loc["b", "adjusted_mean"] == pytest.approx(coef[0] + coef[2], rel=1e-9)
    assert means.loc["b", "se"] == pytest.approx(
        np.sqrt(cov[0, 0] + cov[2, 2] + 2 * cov[0, 2]), rel=1e-9)
    assert result.pairwise["p"].iloc[0] == pytest.approx(p[2], rel=1e-9)
    # the additive model's group p (today's value) is a different number
    _, _, p_additive = _ols(np.column_stack([np.ones(30), x, b]), y)
    assert result.p_group != pytest.approx(p_additive[2], rel=0.05)


def test_without_interaction_p_group_is_the_additive_type2_test():
    from statsmodels.formula.api import ols
    from statsmodels.stats.anova import anova_lm

    masses = [np.linspace(20, 30, 12)] * 3
    data = make([0.01] * 3, [0.0, 0.02, 0.03], masses, noise=0.01, seed=9)
    result = ancova(data, covariate="lean_mass")
    assert result.model == "additive" and "type-II" in result.p_group_test
    type2 = anova_lm(ols("ee_kcal_h ~ lean_mass + C(group)", data=data).fit(), typ=2)
    assert result.p_group == pytest.approx(type2.loc["C(group)", "PR(>F)"], rel=1e-9)
    assert result.p_covariate == pytest.approx(type2.loc["lean_mass", "PR(>F)"], rel=1e-9)
