"""Calorimetry numbers that were silently wrong (issue 28), through the real CLI: a stress test
needs a belt speed and a protocol-like recording; a body mass must be a rodent's, in grams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sfone.calorimetry._stress_input import MAX_BELT_SPEED_M_MIN, MAX_TEST_DURATION_H
from sfone.cli import main
from sfone.io.calorimetry._plausibility import MOUSE_BODY_MASS_G, RODENT_BODY_MASS_G
from sfone.simulate.calorimetry import simulate_metabolic_cages, write_clams_csv

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _one_line_error(result, path: Path) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and str(path) in lines[0], result.stderr
    return lines[0]


def _treadmill(path: Path, *, n: int, step_s: float, speed: bool, mass: str = "27") -> Path:
    """A treadmill CSV of ``n`` readings ``step_s`` apart (VO2 ~ 3000 mL/kg/h, RER 0.85)."""
    rows = []
    for i in range(n):
        cells = [f"{i * step_s:.1f}"] + (["10.0", "0.0"] if speed else []) + ["3000.0", "2550.0",
                                                                             "0.0"]
        rows.append(",".join(cells))
    header = "time [s]," + ("speed [m/min],incline [deg]," if speed else "") + \
        "VO2 [ml/kg/h],VCO2 [ml/kg/h],shock [s]"
    path.write_text(f"# sfone treadmill calorimetry\n# subject: m1\n# body_mass_g: {mass}\n"
                    f"# start: 2026-03-02 07:00:00\n{header}\n" + "\n".join(rows) + "\n")
    return path


def test_stress_test_of_a_ten_day_home_cage_file_is_refused(tmp_path):
    ds = simulate_metabolic_cages(n_per_group=1, days=10, interval_min=10.5)
    path = write_clams_csv(ds, tmp_path / "homecage_10d.csv")
    result = _run("calorimetry", "stress-test", path, "--protocol", "stress_test", "--out",
                  tmp_path / "st.csv")
    line = _one_line_error(result, path)
    assert "not a stress-test recording: no belt speed" in line and "clams" in line
    assert not (tmp_path / "st.csv").exists()


def test_treadmill_file_longer_than_one_test_is_refused(tmp_path):
    hours = MAX_TEST_DURATION_H + 1
    path = _treadmill(tmp_path / "long.csv", n=int(hours * 60) + 1, step_s=60.0, speed=True)
    line = _one_line_error(_run("calorimetry", "stress-test", path, "--protocol", "stress_test",
                                "--out", tmp_path / "st.csv"), path)
    assert f"it lasts {hours:g} h" in line and f"at most {MAX_TEST_DURATION_H:g} h" in line


def test_protocol_ramp_extended_past_any_mouse_speed_is_refused(tmp_path):
    # no speed column: the protocol's ramp (+1 m/min per minute after 15 min) stands in for it;
    # at 3 h it is 24 + 166 = 190 m/min
    path = _treadmill(tmp_path / "noramp.csv", n=3 * 360 + 1, step_s=10.0, speed=False)
    line = _one_line_error(_run("calorimetry", "stress-test", path, "--protocol", "stress_test",
                                "--out", tmp_path / "st.csv"), path)
    assert "belt speed reaches 190 m/min (from the protocol's stage table)" in line
    assert f"faster than {MAX_BELT_SPEED_M_MIN:g} m/min" in line


def test_readings_too_sparse_for_the_stages_are_refused(tmp_path):
    path = _treadmill(tmp_path / "sparse.csv", n=6, step_s=600.0, speed=True)
    line = _one_line_error(_run("calorimetry", "stress-test", path, "--protocol", "stress_test",
                                "--out", tmp_path / "st.csv"), path)
    assert "readings every 600 s (median) cannot resolve the protocol's stages of 60-180 s" in line


def test_treadmill_tests_that_follow_the_protocol_still_give_their_endpoints(tmp_path):
    out = tmp_path / "st.csv"  # a generic treadmill CSV and an Oxymax one with a SPEED column
    result = _run("calorimetry", "stress-test", SAMPLES / "stress_test_KO.csv",
                  SAMPLES / "stress_test_WT_oxymax.csv", "--protocol", "stress_test",
                  "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 2 and (table["max_speed_m_min"] < 40).all() and (table["time_to_exhaustion_s"] < 3600).all()


def _clams_with_mass(tmp_path: Path, mass: str) -> Path:
    text = (SAMPLES / "calorimetry_clams_cage0101.csv").read_text()
    assert "Subject Mass (G), 30 " in text
    path = tmp_path / f"cage_{mass}.csv"
    path.write_text(text.replace("Subject Mass (G), 30 ", f"Subject Mass (G), {mass} "))
    return path


@pytest.mark.parametrize("mass", ["0.030", "0", "30000"])
def test_body_mass_in_the_wrong_unit_is_refused_naming_subject_and_value(tmp_path, mass):
    path = _clams_with_mass(tmp_path, mass)
    line = _one_line_error(_run("calorimetry", "summary", path, "--out", tmp_path / "s.csv"),
                           path)
    assert f"body mass subject 'M01' {float(mass):g} g: no rodent weighs this" in line
    assert f"{RODENT_BODY_MASS_G[0]:g}-{RODENT_BODY_MASS_G[1]:g} g" in line
    if mass == "0.030":
        assert "typed in kg? 0.03 kg = 30 g" in line


@pytest.mark.filterwarnings("default::sfone.exceptions.QualityWarning")  # the CLI prints it
def test_body_mass_outside_a_mouse_range_is_a_warning_naming_it(tmp_path):
    path = _clams_with_mass(tmp_path, "120")
    result = _run("calorimetry", "summary", path, "--out", tmp_path / "s.csv")
    assert result.exit_code == 0, result.output
    low, high = MOUSE_BODY_MASS_G
    assert (f"warning: {path}: body mass subject 'M01' 120 g is outside a mouse's plausible "
            f"{low:g}-{high:g} g") in result.stderr


def test_plausible_masses_of_the_real_fixtures_pass_silently():
    from shared_fixtures import fixture_path

    import sfone

    ds = sfone.read(fixture_path("calorimetry", "tse_labmaster_v5.9.9_comma_us.csv"))
    mass = ds["body_mass"].values
    assert np.all((mass > MOUSE_BODY_MASS_G[0]) & (mass < MOUSE_BODY_MASS_G[1]))
