"""Treadmill stress tests: simulated groups give back their known VO2max, crossover and
exhaustion, through the library, the file formats and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import sfone
from sfone.calorimetry.stress import (
    compare_groups,
    protocol_schedule,
    stage_summary,
    stress_test_endpoints,
)
from sfone.cli import main
from sfone.protocols import load_protocol
from sfone.simulate.calorimetry import (
    DEFAULT_STRESS_GROUPS,
    simulate_stress_test,
    write_clams_csv,
    write_treadmill_csv,
)

PROTOCOL_PATH = Path(__file__).resolve().parents[1] / "protocols" / "stress_test.yaml"


@pytest.fixture(scope="module")
def protocol():
    return load_protocol(PROTOCOL_PATH)


@pytest.fixture(scope="module")
def tests_ds(protocol):
    return simulate_stress_test(protocol, n_per_group=3, random_state=3)


def test_schedule_follows_the_yaml(protocol):
    # stages end at 180, 300, 420, 540, 660, 720, 780, 840, 900 s; then +1 m/min per minute
    schedule = protocol_schedule(protocol, [0, 179, 180, 300, 600, 800, 899, 900, 1019, 1020])
    assert schedule["speed"].tolist() == [0, 0, 6, 9, 15, 23, 24, 25, 26, 27]
    assert schedule["incline"].tolist() == [0, 0, 0, 5, 15, 15, 15, 15, 15, 15]
    assert schedule["stage"].tolist() == [0, 0, 1, 2, 4, 7, 8, 9, 10, 11]


def test_endpoints_recover_known_truth(protocol, tests_ds):
    table = stress_test_endpoints(tests_ds, protocol)
    for group, truth in DEFAULT_STRESS_GROUPS.items():
        rows = table[table["group"] == group]
        attrs = {k.removeprefix(f"truth_{group}_"): v for k, v in tests_ds.attrs.items()
                 if k.startswith(f"truth_{group}_")}
        np.testing.assert_allclose(rows["vo2max_ml_kg_h"], truth["vo2max_ml_kg_h"], rtol=0.03)
        # interpolated: within 1 m/min of the true 16.5 / 19.5, not the 18 / 21 stage speed
        assert attrs["crossover_speed_m_min"] == pytest.approx(truth["crossover_speed_m_min"])
        assert (np.abs(rows["crossover_speed_m_min"] - truth["crossover_speed_m_min"]) < 1).all()
        assert (np.abs(rows["brooks_mercier_speed_m_min"]
                       - attrs["brooks_mercier_speed_m_min"]) < 1).all()
        assert (np.abs(rows["crossover_time_s"] - attrs["crossover_time_s"]) <= 20).all()
        assert (np.abs(rows["brooks_mercier_time_s"] - attrs["brooks_mercier_time_s"]) <= 30).all()
        assert (rows["max_speed_m_min"] == truth["exhaustion_speed_m_min"]).all()
        assert (rows["time_to_exhaustion_s"] == attrs["time_to_exhaustion_s"]).all()
        assert (rows["warmup_s"] == 180).all()
        assert rows["exhausted"].all() and rows["vo2max_attained"].all()
    # the brief 2 s tail contacts earlier in the test did not count as exhaustion
    assert (table["time_to_exhaustion_s"] > 900 - 180).all()
    assert (table["crossover_rer"] == 1.0).all()
    assert table["brooks_mercier_rer"].iloc[0] == pytest.approx(0.847, abs=5e-4)


def test_distance_and_work_follow_the_schedule(protocol, tests_ds):
    table = stress_test_endpoints(tests_ds, protocol).set_index("subject")
    one = tests_ds.sel(subject="KO1")
    end = int(np.flatnonzero(np.isfinite(one["vo2"].values))[-1])
    speed = one["speed"].values[: end + 1] / 60.0
    incline = np.radians(one["incline"].values[: end + 1])
    assert table.loc["KO1", "distance_m"] == pytest.approx(np.sum(speed * 5.0))
    mass_kg = float(one["body_mass"]) / 1000
    assert table.loc["KO1", "work_j"] == pytest.approx(
        mass_kg * 9.80665 * np.sum(speed * np.sin(incline) * 5.0))


def test_time_to_exhaustion_and_distance_cover_the_same_run(protocol, tests_ds):
    """Analytic check: the distance is the protocol's speed integrated from the start to the end
    of the exhaustion interval, and the time to exhaustion is that same span minus the 0 m/min
    warm-up (3 min)."""
    table = stress_test_endpoints(tests_ds, protocol)
    for row in table.itertuples():
        fine = np.arange(0.0, row.test_duration_s, 0.01)
        analytic = protocol_schedule(protocol, fine)["speed"].sum() * 0.01 / 60.0
        assert row.distance_m == pytest.approx(analytic, rel=1e-4)
        assert row.test_duration_s == pytest.approx(row.warmup_s + row.time_to_exhaustion_s)
        moving = fine[protocol_schedule(protocol, fine)["speed"] > 0]
        assert row.time_to_exhaustion_s == pytest.approx(row.test_duration_s - moving[0], abs=0.01)
        # the exhaustion interval counts: the run ends 5 s after the last sample starts
        last = tests_ds["time"].values[np.isfinite(tests_ds["vo2"].sel(subject=row.subject).values)][-1]
        assert row.test_duration_s == last + 5.0


def test_crossover_is_interpolated_between_samples_and_stages():
    from sfone.calorimetry.stress import _crossing_speed, _crossing_time

    time = np.array([0.0, 10.0, 20.0, 30.0])
    assert _crossing_time(time, np.array([0.90, 0.96, 1.02, 1.05]), 1.0) == pytest.approx(
        10 + 10 * 0.04 / 0.06)
    assert np.isnan(_crossing_time(time, np.array([1.01, 1.02, 1.03, 1.04]), 1.0))
    assert np.isnan(_crossing_time(time, np.array([0.8, 0.9, 0.95, 0.97]), 1.0))
    stages = pd.DataFrame({"speed": [12.0, 15.0, 18.0], "rer": [0.95, 0.98, 1.02]})
    assert _crossing_speed(stages, 1.0) == pytest.approx(15 + 3 * 0.02 / 0.04)


def test_stage_summary_and_fuel_validity(protocol, tests_ds):
    stages = stage_summary(tests_ds, protocol)
    first = stages[(stages["subject"] == "WT1") & (stages["stage"] == 0)].iloc[0]
    vo2_l_min, vco2_l_min = first["vo2_ml_h"] / 60000, first["vco2_ml_h"] / 60000
    assert first["cho_g_min"] == pytest.approx(4.55 * vco2_l_min - 3.21 * vo2_l_min)
    assert first["fat_g_min"] == pytest.approx(1.67 * vo2_l_min - 1.67 * vco2_l_min)
    cho_ok, fat_ok = stages["cho_g_min"] >= 0, stages["fat_g_min"] >= 0
    assert (stages["fuel_valid"] == (cho_ok & fat_ok & (stages["rer"] <= 1.0))).all()
    assert not stages["fuel_valid"].all() and stages["fuel_valid"].any()


def test_group_comparison_finds_the_vo2max_difference(protocol, tests_ds):
    table = stress_test_endpoints(tests_ds, protocol)
    result = compare_groups(table, ["vo2max_ml_kg_h"])
    # 3 vs 3 mice: the smallest exact two-sided Mann-Whitney p is 2/20 = 0.1
    assert result.loc[0, "test"] == "Mann-Whitney U, two-sided (exact)"
    assert result.loc[0, "p"] == pytest.approx(0.1) and result.loc[0, "statistic"] in (0, 9)
    three = table.assign(group=["A", "A", "B", "B", "C", "C"])
    multi = compare_groups(three, ["vo2max_ml_kg_h"])
    assert multi["test"].tolist() == ["Kruskal-Wallis H"] + [
        "Mann-Whitney U, two-sided (exact), Holm-adjusted"] * 3


def test_ties_and_constant_endpoints_give_no_runtime_warning():
    import warnings

    from sfone.calorimetry.stress import endpoint_tests

    table = pd.DataFrame({"group": ["a"] * 4 + ["b"] * 4,
                          "speed": [25, 25, 25, 25, 30, 30, 31, 30.0],
                          "flat": [1.0] * 8})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tests = endpoint_tests(table, ["speed", "flat"], ("a", "b"))
        frame = compare_groups(table, ["speed", "flat"])
    assert tests["speed"]["test"] == "Mann-Whitney U, two-sided (normal approximation, tie-corrected)"
    from scipy import stats
    expected = stats.mannwhitneyu([25] * 4, [30, 30, 31, 30], method="asymptotic")
    assert tests["speed"]["p_value"] == pytest.approx(expected.pvalue)
    assert tests["flat"]["test"] == "none (all values equal)" and np.isnan(tests["flat"]["p_value"])
    assert frame.set_index("endpoint").loc["speed", "p"] == pytest.approx(expected.pvalue)


def test_reproduce_uses_the_same_test_as_the_cli():
    """Figures 6 and 7 of `sfone reproduce` record the test `stress-test --compare` uses."""
    from pathlib import Path

    import matplotlib.pyplot as plt

    from sfone.reproduce import STAGES, StatsTable, load_study, spec_for

    study = load_study(Path(__file__).resolve().parents[1] / "data_samples" / "study.yaml")
    data = STAGES["stress test"](study, scheduler=None, workers=None)
    stats = StatsTable()
    for number in (6, 7):
        spec = spec_for(number)
        plt.close(spec.build(data, stats, spec.figure_id).figure)
    frame = stats.to_frame()
    named = [t for t in frame["test"] if t]
    assert named and all("Mann-Whitney U, two-sided" in t for t in named), named


def test_files_round_trip_and_cli(protocol, tests_ds, tmp_path):
    paths = [write_treadmill_csv(tests_ds, tmp_path / f"t{i}.csv", subject=i) for i in (0, 3)]
    oxymax = write_clams_csv(tests_ds, tmp_path / "ko2_oxymax.csv", subject=4)
    generic = sfone.read(paths[0])
    assert generic.attrs["source_format"] == "treadmill" and generic["group"].item() == "WT"
    np.testing.assert_allclose(generic["vo2"].values[0],
                               tests_ds["vo2"].sel(subject="WT1").values[: generic.sizes["time"]],
                               rtol=1e-3)
    variant = sfone.read(oxymax)
    assert variant.attrs["source_format"] == "clams" and "speed" in variant
    out = tmp_path / "endpoints.csv"
    result = CliRunner().invoke(main, ["calorimetry", "stress-test", *map(str, paths), str(oxymax),
                                       "--protocol", str(PROTOCOL_PATH), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["subject"].tolist() == ["WT1", "KO1", "KO2"]
    assert table["max_speed_m_min"].tolist() == [30, 25, 25]
    np.testing.assert_allclose(table["vo2max_ml_kg_h"], [7200, 6000, 6000], rtol=0.03)


def test_treadmill_without_speed_uses_the_protocol(protocol, tmp_path):
    path = tmp_path / "bare.csv"
    path.write_text("time [s],VO2 [ml/min],VCO2 [ml/min]\n0,1.5,1.2\n200,2.0,1.8\n400,2.5,2.4\n")
    ds = sfone.read(path, format="treadmill", protocol=protocol, subject="X")
    assert ds["speed"].values[0].tolist() == [0, 6, 9]  # stage 2 runs 300-420 s
    assert ds["vo2"].values[0].tolist() == [90.0, 120.0, 150.0]


def test_treadmill_missing_column_error_names_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time [s],speed [m/min],VO2 [ml/min]\n0,0,1.5\n")
    with pytest.raises(sfone.exceptions.FormatError, match="vco2") as err:
        sfone.read(path, format="treadmill")
    assert str(path) in str(err.value)


def test_exhaustion_by_shock_count():
    from sfone.calorimetry.stress import _exhaustion_index

    shock = np.array([[0, 1, 0, 2, 0, 1, 0, 5, 5], [0, 0, 0, 0, 0, 0, 0, 0, 0.0]])
    assert _exhaustion_index(shock, 5.0).tolist() == [7, -1]
    assert _exhaustion_index(shock, 5.0, max_shocks=3).tolist() == [5, -1]


def test_cli_group_comparison(protocol, tests_ds, tmp_path):
    paths = [write_treadmill_csv(tests_ds, tmp_path / f"t{i}.csv", subject=i) for i in range(6)]
    compare = tmp_path / "compare.csv"
    result = CliRunner().invoke(main, ["calorimetry", "stress-test", *map(str, paths),
                                       "--protocol", str(PROTOCOL_PATH), "--out",
                                       str(tmp_path / "e.csv"), "--compare", str(compare)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(compare).set_index("endpoint")
    assert "Mann-Whitney U, two-sided" in result.output
    assert set(table["test"]) <= {"Mann-Whitney U, two-sided (exact)",
                                  "Mann-Whitney U, two-sided (normal approximation, tie-corrected)"}
    assert table.loc["vo2max_ml_kg_h", "p"] == pytest.approx(0.1)  # 3 vs 3: the smallest p
    assert "brooks_mercier_speed_m_min" in table.index
    assert table.loc["max_speed_m_min", "mean_WT"] == 30 and table.loc["max_speed_m_min",
                                                                        "mean_KO"] == 25
