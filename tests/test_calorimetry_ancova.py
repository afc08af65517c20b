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
