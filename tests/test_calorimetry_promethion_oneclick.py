"""Sable Promethion One-Click-Macro long summary: read with its units, Avg_EE checked against
Weir, summarised like every other calorimetry file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sfone
from sfone.calorimetry import summarize_periods
from sfone.exceptions import FormatError, QualityWarning
from sfone.io import detect_format
from sfone.simulate.calorimetry import simulate_metabolic_cages, write_promethion_oneclick


@pytest.fixture(scope="module")
def cages():
    return simulate_metabolic_cages(n_per_group=2, days=1.0, random_state=4)


@pytest.fixture()
def oneclick(cages, tmp_path):
    return write_promethion_oneclick(cages, tmp_path / "oneclick.csv")


def test_layout_detected_and_read_in_contract_units(oneclick):
    raw = pd.read_csv(oneclick)
    assert list(raw.columns[:5]) == ["StartDate", "StartTime", "EndDate", "EndTime", "Animal"]
    assert detect_format(oneclick).name == "promethion-oneclick"
    ds = sfone.read(oneclick)
    assert ds.attrs["source_format"] == "promethion-oneclick"
    assert ds["subject"].values.tolist() == ["1", "2", "3", "4"]
    first = raw[raw["Animal"] == 2]
    np.testing.assert_allclose(ds["vo2"].sel(subject="2").values, first["Avg_VO2"] * 60)
    np.testing.assert_allclose(ds["vco2"].sel(subject="2").values, first["Avg_VCO2"] * 60)
    assert ds["vo2"].attrs["units"] == "mL/h" and ds["vo2"].attrs["source_units"] == "mL/min"
    weir = (3.941 * first["Avg_VO2"] + 1.106 * first["Avg_VCO2"]) * 60 / 1000
    np.testing.assert_allclose(ds["ee"].sel(subject="2").values, weir, rtol=1e-12)
    np.testing.assert_allclose(ds["ee_vendor"].sel(subject="2").values, first["Avg_EE"])
    np.testing.assert_allclose(ds["feed_acc"].sel(subject="2").values, first["Sum_FoodA"].cumsum())
    np.testing.assert_allclose(ds["xytot"].sel(subject="2").values,
                               first["Sum_XBreak"] + first["Sum_YBreak"])
    assert float(ds["body_mass"].sel(subject="2")) == first["Avg_BodyMass"].iloc[0]
    assert np.all(np.diff(ds["time"].values) == 1800.0)  # fixed 30-min bins
    assert "unread_columns" not in ds.attrs  # EndDate/EndTime give the interval
    assert ds.attrs["interval_s"] == 1800.0


def test_summary_matches_the_file_columns(oneclick):
    raw = pd.read_csv(oneclick)
    stamps = pd.to_datetime(raw["StartDate"] + " " + raw["StartTime"], format="%m/%d/%Y %H:%M:%S")
    raw["lit"] = (stamps.dt.hour >= 7) & (stamps.dt.hour < 19)
    raw["weir"] = (3.941 * raw["Avg_VO2"] + 1.106 * raw["Avg_VCO2"]) * 60 / 1000
    table = summarize_periods(sfone.read(oneclick), light=(7, 19), diet_kcal_per_g=3.8)
    table = table.set_index(["subject", "period"])
    for animal, part in raw.groupby("Animal"):
        for period, rows in (("full_day", part), ("light", part[part["lit"]]),
                             ("dark", part[~part["lit"]])):
            got = table.loc[(str(animal), period)]
            assert got["ee_kcal_h"] == pytest.approx(rows["weir"].mean(), rel=1e-12)
            assert got["vo2_ml_h"] == pytest.approx(rows["Avg_VO2"].mean() * 60, rel=1e-12)


def _rewrite(path, column, change):
    raw = pd.read_csv(path, dtype=str)
    raw[column] = change(raw[column].astype(float)).map(lambda v: f"{v:.6f}")
    raw.to_csv(path, index=False)
    return path


def test_avg_ee_in_other_units_is_refused(oneclick):
    _rewrite(oneclick, "Avg_EE", lambda ee: ee * 60)
    with pytest.raises(FormatError, match=r"Avg_EE.*x 60: VO2/VCO2 in mL/h") as err:
        sfone.read(oneclick)
    assert str(oneclick) in str(err.value)


def test_a_few_avg_ee_rows_off_weir_warn(oneclick):
    raw = pd.read_csv(oneclick)
    raw.loc[[3, 10], "Avg_EE"] *= 1.02
    raw.to_csv(oneclick, index=False)
    with pytest.warns(QualityWarning, match=r"column 'Avg_EE': 2 row\(s\) differ from Weir"):
        ds = sfone.read(oneclick)
    weir = (3.941 * raw["Avg_VO2"] + 1.106 * raw["Avg_VCO2"]) * 60 / 1000
    assert float(ds["ee"].sel(subject=str(raw.loc[3, "Animal"])).values[0]) == pytest.approx(
        weir[3])


def test_missing_column_names_the_file(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("StartDate,StartTime,Animal,Avg_VO2\n3/2/2026,07:00:00,1,1.5\n")
    with pytest.raises(FormatError, match="avg_vco2") as err:
        sfone.read(path, format="promethion-oneclick")
    assert str(path) in str(err.value)
