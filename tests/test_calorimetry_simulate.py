"""Simulated home cages written in vendor formats read back with the truth intact."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import sfone
from sfone.calorimetry import summarize_periods
from sfone.simulate.calorimetry import (
    simulate_metabolic_cages,
    write_clams_csv,
    write_promethion_macro,
    write_samples,
)


@pytest.fixture(scope="module")
def cages():
    return simulate_metabolic_cages(random_state=5)


def test_promethion_round_trip_units(cages, tmp_path):
    path = write_promethion_macro(cages, tmp_path / "macro.csv")
    header = path.read_text().split("\n", 1)[0]
    assert header.startswith("Date_Time_1,vo2_1,vco2_1,kcal_hr_1,rq_1")
    ds = sfone.read(path)
    assert ds.attrs["source_format"] == "promethion" and ds.sizes["subject"] == 8
    # file holds mL/min; the dataset is mL/h again
    np.testing.assert_allclose(ds["vo2"].values, cages["vo2"].values, rtol=1e-3)
    np.testing.assert_allclose(ds["body_mass"].values, cages["body_mass"].values)
    np.testing.assert_allclose(ds["ee_vendor"].values, ds["ee"].values, atol=2e-4)
    np.testing.assert_allclose(ds["feed"].values[:, 1:], cages["feed"].values[:, 1:], atol=2e-3)


def test_clams_writer_round_trip(cages, tmp_path):
    path = write_clams_csv(cages, tmp_path / "cage.csv", subject=2)
    ds = sfone.read(path)
    assert ds.attrs["source_format"] == "clams"
    assert ds["subject"].item() == "M03" and ds["body_mass"].item() == cages["body_mass"].values[2]
    np.testing.assert_allclose(ds["vo2"].values[0], cages["vo2"].values[2], rtol=0.01)
    assert (ds["datetime"].values[0] == cages["datetime"].values[2]).all()


def test_simulated_group_effect_and_rhythm(cages):
    table = summarize_periods(cages, diet_kcal_per_g=3.8)
    full = table[table["period"] == "full_day"]
    per_gram = full["ee_kcal_h"] / cages["body_mass"].values
    by_group = per_gram.groupby(full["group"].to_numpy()).mean()
    assert by_group["treated"] / by_group["control"] == pytest.approx(1.08, abs=0.02)
    light = table[table["period"] == "light"].set_index("subject")["vo2_ml_h"]
    dark = table[table["period"] == "dark"].set_index("subject")["vo2_ml_h"]
    assert (dark > light * 1.15).all()


def test_samples_reproducible_and_small(tmp_path):
    first = write_samples(tmp_path / "a")
    second = write_samples(tmp_path / "b")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in first]
    assert digest == [hashlib.sha256(p.read_bytes()).hexdigest() for p in second]
    assert sum(p.stat().st_size for p in first) < 2_000_000
    formats = {p.name: sfone.io.detect_format(p).name for p in first}
    assert formats["calorimetry_promethion_macro.csv"] == "promethion"
    assert formats["stress_test_WT.csv"] == formats["stress_test_KO.csv"] == "treadmill"
