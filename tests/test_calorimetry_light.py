"""Light and dark phases on the clock: ``light=(on, off)`` / ``--light ON OFF`` mean lights on at
ON and off at OFF (light when on <= clock time < off); CalR session files are converted."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shared_fixtures import fixture_path

import sfone
from sfone.calorimetry import is_light, summarize_periods
from sfone.cli import main
from sfone.io.calorimetry.calr import CalRSession, read_calr_session, write_calr_session
from sfone.io.calorimetry.timebins import light_from_calr_session, light_to_calr_session
from sfone.simulate.calorimetry import simulate_metabolic_cages

STAMPS = pd.to_datetime(format="ISO8601", arg=["2026-03-02 06:50", "2026-03-02 06:59:59", "2026-03-02 07:00",
                         "2026-03-02 12:00", "2026-03-02 18:50", "2026-03-02 18:59:59",
                         "2026-03-02 19:00", "2026-03-02 23:00"])


def test_clock_convention_lights_on_at_on_and_off_at_off():
    assert is_light(STAMPS, (7, 19)).tolist() == [False, False, True, True, True, True, False,
                                                  False]
    # minutes: lights on 06:30, off 18:45
    assert is_light(STAMPS, (6.5, 18.75)).tolist() == [True, True, True, True, False, False,
                                                       False, False]
    # reversed light cycle wraps past midnight: on 19:00, off 07:00
    assert is_light(STAMPS, (19, 7)).tolist() == [True, True, False, False, False, False, True,
                                                  True]
    with pytest.raises(ValueError, match="0 <= on, off < 24"):
        is_light(STAMPS, (7, 25))


def test_calr_session_values_are_converted_both_ways(tmp_path):
    assert light_from_calr_session((6, 18)) == (7.0, 19.0)
    assert light_to_calr_session((7, 19)) == (6.0, 18.0)
    with pytest.raises(ValueError, match="whole hours"):
        light_to_calr_session((6.5, 18.5))
    session = read_calr_session(fixture_path("calorimetry", "calr_session_mmpc_ucdavis_week12.csv"))
    assert session.light == (7.0, 19.0) and session.light_in_file
    written = write_calr_session(session, tmp_path / "session.csv")
    raw = pd.read_csv(written)
    assert raw["light"].iloc[:2].tolist() == [6, 18]  # CalR's own values, as CalR wrote them
    assert read_calr_session(written).light == (7.0, 19.0)


def test_calr_tse_reference_is_unchanged_by_the_light_convention():
    """The CalR R reference of the TSE fixture carries no light column: its import parity (to
    1e-12, test_calorimetry_loaders) and this summary's phases both follow the clock."""
    ds = sfone.read(fixture_path("calorimetry", "calr_R_reference_output_of_tse_labmaster_v5.9.9.csv"))
    table = summarize_periods(ds, light=(7, 19))
    hours = pd.DatetimeIndex(ds["datetime"].values[0]).hour
    lit = (hours >= 7) & (hours < 19)
    first = table[(table["subject"] == str(ds["subject"].values[0]))].set_index("period")
    ee = ds["ee"].values[0]
    assert first.loc["light", "ee_kcal_h"] == pytest.approx(np.nanmean(ee[lit]), rel=1e-12)
    assert first.loc["dark", "ee_kcal_h"] == pytest.approx(np.nanmean(ee[~lit]), rel=1e-12)


@pytest.fixture(scope="module")
def cages():
    return simulate_metabolic_cages(n_per_group=2, days=1.0, interval_min=10.0, random_state=3)


def test_readings_of_data_switching_at_seven_fall_in_the_right_phase(cages, tmp_path):
    """Simulated lights switch at 07:00 and 19:00; the simulator's own session file and
    ``light=(7, 19)`` must put 07:00-18:50 in light and 19:00-06:50 in dark."""
    from sfone.simulate.study import _calr_session

    stamps = pd.DatetimeIndex(cages["datetime"].values[0])
    ee = cages["ee"].values[0]
    expected_light = (stamps.hour >= 7) & (stamps.hour < 19)
    assert expected_light[stamps.strftime("%H:%M") == "07:00"].all()
    assert not expected_light[stamps.strftime("%H:%M") == "19:00"].any()
    table = summarize_periods(cages, light=(7, 19), diet_kcal_per_g=3.8).set_index(
        ["subject", "period"])
    subject = str(cages["subject"].values[0])
    assert table.loc[(subject, "light"), "ee_kcal_h"] == pytest.approx(ee[expected_light].mean())
    assert table.loc[(subject, "dark"), "ee_kcal_h"] == pytest.approx(ee[~expected_light].mean())
    # the simulator's session file stores CalR's 6/18 and reads back as the 07:00 switch
    session_file = _calr_session(tmp_path)
    assert pd.read_csv(session_file)["light"].iloc[:2].tolist() == [6, 18]
    assert read_calr_session(session_file).light == (7.0, 19.0)


def test_default_schedule_is_logged_and_in_the_output(cages, caplog):
    with caplog.at_level(logging.INFO, logger="sfone"):
        table = summarize_periods(cages, diet_kcal_per_g=3.8)
    assert set(table["light_schedule"]) == {
        "light 07:00-19:00 (default: no session light and no light= given)"}
    assert "07:00-19:00 (default" in caplog.text
    given = summarize_periods(cages, light=(6.5, 18.5), diet_kcal_per_g=3.8)
    assert set(given["light_schedule"]) == {"light 06:30-18:30 (argument)"}
    session = CalRSession(groups={"a": ["M01"]})  # a session without a light column
    assert not session.light_in_file
    from_default = summarize_periods(cages, session, diet_kcal_per_g=3.8)
    assert from_default["light_schedule"].iloc[0].startswith("light 07:00-19:00 (default")


def test_cli_light_and_missing_light_sensor(cages, tmp_path):
    from sfone.io.calorimetry.calr import write_calr

    path = write_calr(cages, tmp_path / "cages.csv")
    out = tmp_path / "summary.csv"
    result = CliRunner().invoke(main, ["calorimetry", "summary", str(path), "--light", "6.5",
                                       "18.5", "--kcal-per-g", "3.8", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    stamps = pd.DatetimeIndex(cages["datetime"].values[0])
    clock = stamps.hour + stamps.minute / 60
    lit = (clock >= 6.5) & (clock < 18.5)
    light_row = table[(table["subject"] == "M01") & (table["period"] == "light")]
    assert light_row["ee_kcal_h"].iloc[0] == pytest.approx(cages["ee"].values[0][lit].mean())
    assert "light 06:30-18:30 (argument)" in result.output
    bad = CliRunner().invoke(main, ["calorimetry", "summary", str(path), "--light-sensor",
                                    "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0 and "light sensor" in bad.output
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(ValueError, match="light sensor"):
        summarize_periods(cages, use_light_sensor=True)
