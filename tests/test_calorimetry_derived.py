"""Derived quantities: EE equations, RER and fuel oxidation checked against first principles."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sfone.calorimetry import (
    EE_EQUATIONS,
    energy_expenditure,
    fuel_oxidation,
    mask_flagged,
    respiratory_exchange_ratio,
)


def test_weir_in_ml_per_min_form():
    # Weir 1949: MR [kcal/day] = 1.44 (3.941 VO2 + 1.106 VCO2) with VO2, VCO2 in mL/min
    vo2_ml_min, vco2_ml_min = 2.0, 1.7
    per_day = 1.44 * (3.941 * vo2_ml_min + 1.106 * vco2_ml_min)
    ee = energy_expenditure(vo2_ml_min * 60, vco2_ml_min * 60)
    assert ee == pytest.approx(per_day / 24)


def test_equation_choice_and_unknown_name():
    a, b = EE_EQUATIONS["lusk"]
    assert energy_expenditure(100.0, 80.0, equation="lusk") == pytest.approx((a * 100 + b * 80) / 1000)
    with pytest.raises(ValueError, match="weir"):
        energy_expenditure(1.0, 1.0, equation="nonsense")


def test_dataarray_units_and_rer():
    vo2 = xr.DataArray([[100.0, 0.0]], dims=("subject", "time"))
    vco2 = xr.DataArray([[85.0, 1.0]], dims=("subject", "time"))
    assert energy_expenditure(vo2, vco2).attrs["units"] == "kcal/h"
    rer = respiratory_exchange_ratio(vo2, vco2)
    assert rer.values[0, 0] == pytest.approx(0.85) and np.isnan(rer.values[0, 1])


def test_frayn_coefficients_follow_his_stoichiometry():
    # Frayn 1983 Table 1: 1 g glucose uses 0.746 L O2 and gives 0.746 L CO2;
    # 1 g fat uses 2.03 L O2 and gives 1.43 L CO2. Solving for 1 g/min of each:
    grams = np.array([[0.746, 2.03], [0.746, 1.43]])  # rows: VO2, VCO2 (L/min per g/min)
    for cho, fat in ((1.0, 0.0), (0.0, 1.0), (0.6, 0.3)):
        vo2_l, vco2_l = grams @ [cho, fat]
        out = fuel_oxidation(vo2_l * 60000, vco2_l * 60000, equation="frayn", rer_limit=1.01)
        assert out["cho"] == pytest.approx(cho, abs=0.05)
        assert out["fat"] == pytest.approx(fat, abs=0.02)


def test_fuel_flagged_invalid_above_rer_one():
    out = fuel_oxidation(np.array([100.0, 100.0]), np.array([90.0, 110.0]), equation="peronnet")
    assert out["valid"].tolist() == [True, False]
    vo2_l, vco2_l = 100 / 60000, 90 / 60000
    assert out["cho"][0] == pytest.approx(4.585 * vco2_l - 3.226 * vo2_l)
    assert out["fat"][0] == pytest.approx(1.695 * vo2_l - 1.701 * vco2_l)


def test_mask_flagged_only_touches_flagged_readings():
    ds = xr.Dataset({"vo2": (("subject", "time"), [[1.0, 2.0, 3.0]], {"units": "mL/h"}),
                     "qc_flag": (("subject", "time"), np.array([[0, 2, 1]], dtype=np.int8))})
    assert np.isnan(mask_flagged(ds)["vo2"].values).tolist() == [[False, True, True]]
    assert np.isnan(mask_flagged(ds, flags=2)["vo2"].values).tolist() == [[False, True, False]]


def test_fuel_valid_flags_every_negative_rate():
    # RER 0.65: Frayn carbohydrate oxidation is negative (net gluconeogenesis) -> invalid
    vo2 = np.full(6, 1000.0)
    rer = np.array([0.65, 0.70, 0.71, 0.85, 1.0, 1.02])
    out = fuel_oxidation(vo2, vo2 * rer)
    assert out["cho"][0] < 0 and out["fat"][-1] < 0
    # valid exactly where both rates are >= 0: 3.21/4.55 = 0.7055 <= RER <= 1
    assert out["valid"].tolist() == [False, False, True, True, True, False]
    assert out["valid"].tolist() == ((out["cho"] >= 0) & (out["fat"] >= 0)).tolist()
    # Péronnet: fat turns negative above 1.695/1.701 = 0.9965, before RER reaches 1
    pm = fuel_oxidation(np.array([1000.0]), np.array([998.0]), equation="peronnet")
    assert pm["fat"][0] < 0 and not pm["valid"][0]


def test_brouwer_is_the_commonly_cited_16_18_and_5_02_kj_per_litre():
    # textbook worked example: 600 L O2, 500 L CO2 and 25 g urinary N a day -> 12,068 kJ/day with
    # 16.18 O2 + 5.02 CO2 - 5.99 N; without the N term it is 12,068 + 5.99 x 25 kJ/day
    vo2_ml_h, vco2_ml_h = 600_000 / 24, 500_000 / 24
    kcal_h = energy_expenditure(vo2_ml_h, vco2_ml_h, equation="brouwer")
    assert kcal_h * 24 * 4.184 == pytest.approx(12_068.25 + 5.99 * 25, abs=1e-6)
