"""Simulated Bdnf counts, endurance training and glucose tables recover their true effects."""

import numpy as np
import pandas as pd
import pytest

from sfone.simulate import experiment_tables as et


def test_bdnf_counts_columns_seed_and_true_fractions():
    counts = et.make_bdnf_counts(n_mice_per_condition=200, random_state=1)
    assert list(counts.columns) == ["subject", "condition", "region", "n_sf1", "n_bdnf_sf1"]
    assert (counts["n_bdnf_sf1"] <= counts["n_sf1"]).all()
    pooled = counts.groupby(["region", "condition"])[["n_bdnf_sf1", "n_sf1"]].sum()
    fraction = pooled["n_bdnf_sf1"] / pooled["n_sf1"]
    # 200 mice x ~180 cells: binomial SE ~ 0.0025, so 0.01 is four SE
    assert fraction[("dmVMH", "sedentary")] == pytest.approx(0.345, abs=0.01)
    assert fraction[("dmVMH", "one_run")] == pytest.approx(0.422, abs=0.01)
    for region in ("cVMH", "vlVMH"):
        assert fraction[(region, "one_run")] == pytest.approx(0.30, abs=0.01)
    pd.testing.assert_frame_equal(et.make_bdnf_counts(random_state=3),
                                  et.make_bdnf_counts(random_state=3))
    assert counts.attrs["truth"]["fraction_bdnf"] == {"sedentary": 0.345, "one_run": 0.422}


def test_endurance_slopes_follow_true_gains():
    table = et.make_endurance_training(n_mice_per_group=60, n_days=10, random_state=2)
    assert set(table["group"]) == {"control", "inhibit_15min", "stimulate_60min"}
    for group, gain in et.ENDURANCE_TRUE_GAIN_M_PER_DAY.items():
        part = table[table["group"] == group]
        slope = np.polyfit(part["day"], part["distance_m"], 1)[0]
        assert slope == pytest.approx(gain, abs=3.0)  # SE of the slope ~0.85 m/day


def test_glucose_rise_is_blunted_by_inhibition():
    table = et.make_post_exercise_glucose(n_mice_per_group=80, random_state=3)
    means = table.groupby(["group", "time_min"])["glucose_mg_dl"].mean()
    for group, rise in et.GLUCOSE_TRUE_PEAK_RISE_MG_DL.items():
        assert means[(group, 30.0)] - means[(group, 0.0)] == pytest.approx(rise, abs=4.0)
    assert means[("control", 30.0)] > means[("inhibit", 30.0)] + 20


def test_csv_writer_round_trips(tmp_path):
    table = et.make_post_exercise_glucose(n_mice_per_group=2)
    path = et.write_table_csv(table, tmp_path / "glucose.csv")
    back = pd.read_csv(path)
    np.testing.assert_allclose(back["glucose_mg_dl"], table["glucose_mg_dl"])
    assert back["subject"].tolist() == table["subject"].tolist()
    assert "\r" not in path.read_text()
