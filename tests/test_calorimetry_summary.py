"""CalR-exact period summary: checked against an independent pandas reading of the CalR recipe
on the raw CalR standard + session files, and the CLI output columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shared_fixtures import fixture_path

import sfone
from sfone.calorimetry import SUMMARY_COLUMNS, summarize_periods
from sfone.cli import main
from sfone.io.calorimetry.calr import read_calr_session

STANDARD = "calr_standard_mmpc_ucdavis_week12.csv"
SESSION = "calr_session_mmpc_ucdavis_week12.csv"


@pytest.fixture(scope="module")
def summary():
    ds = sfone.read(fixture_path("calorimetry", STANDARD))
    session = read_calr_session(fixture_path("calorimetry", SESSION))
    return summarize_periods(ds, session)


def reference_recipe() -> pd.DataFrame:
    """docs/calorimetry.md section 1.4, straight from the raw CSV columns."""
    raw = pd.read_csv(fixture_path("calorimetry", STANDARD))
    raw["clock"] = pd.to_datetime(raw["Date.Time"], format="%m/%d/%y %H:%M").dt.hour
    raw = raw[(raw["exp.hour"] >= 21) & (raw["exp.hour"] <= 93)]
    kcal = {**dict.fromkeys(["1_D3", "1_D5", "1_D7", "1_D8", "2_D10", "2_D11", "2_D12", "2_D13"],
                            3.82)}
    rows = []
    for subject, part in raw.groupby("subject.id", sort=False):
        factor = kcal.get(subject, 5.21)
        start = part["feed.acc"].iloc[0]
        light = (part["clock"] >= 7) & (part["clock"] < 19)
        for period, sub in (("full_day", part), ("light", part[light]), ("dark", part[~light])):
            food = sub["feed"].sum() * factor / sub["exp.hour"].nunique()
            rows.append({"subject": subject, "period": period, "vo2_ml_h": sub["vo2"].mean(),
                         "vco2_ml_h": sub["vco2"].mean(), "ee_kcal_h": sub["ee"].mean(),
                         "rer": sub["rer"].mean(), "food_kcal_h": food,
                         "cumulative_food_kcal": (sub["feed.acc"].iloc[-1] - start) * factor,
                         "energy_balance_kcal_h": food - sub["ee"].mean(),
                         "locomotor_activity": sub["xytot"].mean(),
                         "hours": sub["exp.hour"].nunique()})
    return pd.DataFrame(rows)


def test_summary_matches_calr_recipe_column_by_column(summary):
    ref = reference_recipe()
    assert len(summary) == len(ref) == 48
    assert summary[["subject", "period"]].values.tolist() == ref[["subject", "period"]].values.tolist()
    # the window holds 73 distinct experiment hours: 36 light and 37 dark (CalR's divisors)
    assert ref.groupby("period")["hours"].unique().apply(list).to_dict() == {
        "dark": [37], "full_day": [73], "light": [36]}
    for column in SUMMARY_COLUMNS[3:]:
        np.testing.assert_allclose(summary[column], ref[column], rtol=0, atol=1e-9,
                                   err_msg=column)


def test_summary_groups_and_mri_masses(summary):
    first = summary[summary["subject"] == "1_D1"].iloc[0]
    assert first["group"] == "HFD" and first["lean_mass"] == 24.34 and first["total_mass"] == 42.48
    assert set(summary.loc[summary["subject"] == "1_D3", "group"]) == {"LFD"}


def test_cli_summary_writes_exact_columns(tmp_path):
    out = tmp_path / "summary.csv"
    result = CliRunner().invoke(main, ["calorimetry", "summary",
                                       str(fixture_path("calorimetry", STANDARD)), "--session",
                                       str(fixture_path("calorimetry", SESSION)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == [*SUMMARY_COLUMNS, "light_schedule"]
    # the session's stored 6/18 is CalR's convention for lights on 07:00, off 19:00
    assert set(table["light_schedule"]) == {"light 07:00-19:00 (session file)"}
    assert "light 07:00-19:00 (session file)" in result.output
    assert table["period"].tolist()[:3] == ["full_day", "light", "dark"]
    ref = reference_recipe()
    np.testing.assert_allclose(table["ee_kcal_h"], ref["ee_kcal_h"], atol=1e-9)


def test_cli_summary_bad_file_names_it(tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(main, ["calorimetry", "summary", str(bad), "--out",
                                       str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and str(bad) in result.output
    assert not (tmp_path / "x.csv").exists()


def test_summary_of_clams_cages_masks_removal_on_request():
    from sfone.calorimetry import mask_flagged, read_many
    from sfone.exceptions import QualityWarning

    with pytest.warns(QualityWarning):
        ds = read_many([fixture_path("calorimetry", "clams_oxymax_2015-01-06_cage0101.csv"),
                        fixture_path("calorimetry", "clams_oxymax_2015-01-06_cage0102.csv")])
    masked = summarize_periods(mask_flagged(ds), diet_kcal_per_g=3.1)
    kept = summarize_periods(ds, diet_kcal_per_g=3.1)
    full = masked[masked["period"] == "full_day"].set_index("subject")
    # masking the empty-cage tail and impossible RERs raises the mean VO2 of the animal
    assert (full["vo2_ml_h"] > kept[kept["period"] == "full_day"].set_index("subject")["vo2_ml_h"]).all()
    vo2 = ds["vo2"].values[0]
    flagged = ds["qc_flag"].values[0] != 0
    assert full.loc["NH", "vo2_ml_h"] == pytest.approx(vo2[~flagged].mean())


def test_hourly_table_sums_feed_and_averages_rates():
    from sfone.calorimetry import hourly_table

    ds = sfone.read(fixture_path("calorimetry", STANDARD))
    hourly = hourly_table(ds)
    raw = pd.read_csv(fixture_path("calorimetry", STANDARD))
    one = raw[(raw["subject.id"] == "1_D1") & (raw["exp.hour"] == 30)]
    row = hourly[(hourly["subject"] == "1_D1") & (hourly["exp_hour"] == 30)].iloc[0]
    assert row["n_readings"] == len(one)
    assert row["feed"] == pytest.approx(one["feed"].sum())
    assert row["vo2"] == pytest.approx(one["vo2"].mean())
    assert row["feed_acc"] == pytest.approx(one["feed.acc"].max())
    assert len(hourly) == raw.groupby(["subject.id", "exp.hour"]).ngroups
