"""Numeric sanity (issue 9): physiological ranges and reading intervals of calorimetry data,
frame-rate consistency of suite2p outputs. Values are kept; warnings name subjects and rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sfone
from sfone.exceptions import FormatError, QualityWarning
from sfone.io.calorimetry._common import long_to_dataset
from sfone.io.imaging.suite2p import read_suite2p
from sfone.simulate.imaging import simulate_session, write_suite2p

N = 12


def _long(vo2, *, minutes=None, rer=0.85, subject="m1"):
    vo2 = np.asarray(vo2, dtype=float)
    minutes = np.arange(vo2.size) * 10.0 if minutes is None else np.asarray(minutes, float)
    stamps = pd.Timestamp("2026-01-01") + pd.to_timedelta(minutes, unit="min")
    return pd.DataFrame({"subject": subject, "datetime": stamps, "vo2": vo2,
                         "vco2": vo2 * rer})


def _read(long, body_mass=25.0, source_format="test"):
    meta = pd.DataFrame({"body_mass": [body_mass]}, index=pd.Index(["m1"], name="subject"))
    return long_to_dataset(long, meta, path="cage.csv", source_format=source_format,
                           source_units={})


def test_plausible_session_gives_no_warning():
    ds = _read(_long(np.full(N, 75.0)))  # 3 mL/h/g, RER 0.85: any warning fails (pytest config)
    assert int(ds["qc_flag"].sum()) == 0


def test_negative_vo2_is_kept_and_named_by_subject_and_row():
    vo2 = np.full(N, 75.0)
    vo2[4] = -3.0  # RER 0.85 (both negative): the loader's qc_flag does not see it
    with pytest.warns(QualityWarning, match=r"cage.csv: implausible readings not flagged by "
                      r"qc_flag .*subject 'm1' VO2: 1 value\(s\) outside the plausible range "
                      r"\[0, inf\] mL/h at row\(s\) 4 \(first -3\)") as record:
        ds = _read(_long(vo2))
    assert ds["vo2"].values[0, 4] == -3.0
    # reported once, not again per gram of body mass or as EE
    message = str(record[0].message)
    assert "per gram" not in message and message.count("row(s) 4") == 2  # VO2 and VCO2


def test_rer_outside_home_cage_range_but_inside_qc_band_is_warned():
    long = _long(np.full(N, 75.0))
    long.loc[[2, 7], "vco2"] = 75.0 * 1.4  # RER 1.4: inside qc's 0.5-1.5, outside 0.6-1.3
    with pytest.warns(QualityWarning, match=r"subject 'm1' RER: 2 value\(s\) outside the "
                      r"plausible range \[0.6, 1.3\] 1 at row\(s\) 2, 7 \(first 1.4\)"):
        _read(long)
    _read(long, source_format="treadmill")  # exercise allows RER up to 1.5: no warning


def test_readings_flagged_by_qc_are_not_reported_again():
    vo2 = np.full(N, 75.0)
    vo2[-3:] = [-2.0, 0.5, -1.0]  # animal removed: trailing near-zero/negative VO2
    with pytest.warns(QualityWarning, match="animal was removed") as record:
        ds = _read(_long(vo2))
    assert ((ds["qc_flag"].values[0] & 2) != 0).sum() == 3
    assert not any("implausible readings" in str(w.message) for w in record)


def test_vo2_per_gram_names_a_wrong_body_mass():
    with pytest.warns(QualityWarning, match="900 g is outside a mouse's plausible"), \
            pytest.warns(QualityWarning, match=r"VO2 per gram of body mass: 12 value\(s\) outside "
                      r"the plausible range \[0.1, 20\] mL/h/g at row\(s\) 0, 1, 2, 3, 4 and 7 "
                      r"more \(first 0.0833333\).*EE per gram of body mass"):
        _read(_long(np.full(N, 75.0)), body_mass=900.0)  # 30 g typed as 900: a rodent's mass


def test_strict_mode_makes_the_range_check_an_error():
    vo2 = np.full(N, 75.0)
    vo2[4] = -3.0
    with sfone.set_options(strict=True), pytest.raises(
            FormatError, match=r"cage.csv.*VO2: 1 value\(s\).*strict mode"):
        _read(_long(vo2))


def test_irregular_reading_intervals_are_named():
    minutes = np.arange(N) * 10.0
    minutes[6:] += 35.0  # a 45-minute interval before reading 6 (a paused run)
    with pytest.warns(QualityWarning, match=r"subject 'm1': readings are not evenly spaced: "
                      r"intervals from 600 s to 2700 s \(median 600 s\) at row\(s\) 6$"):
        _read(_long(np.full(N, 75.0), minutes=minutes))


@pytest.fixture
def suite2p_folder(tmp_path):
    truth = simulate_session(n_rois=3, n_frames=60, n_noncells=0, random_state=3)
    write_suite2p(truth, tmp_path)
    return tmp_path, truth


@pytest.mark.parametrize("fs", [0, -30.0, float("nan")])
def test_suite2p_refuses_a_non_positive_frame_rate(suite2p_folder, fs):
    folder, _ = suite2p_folder
    with pytest.raises(FormatError, match=r"argument fs=: sampling rate .*; expected a positive "
                       "number of Hz"):
        read_suite2p(folder, fs=fs)


def test_suite2p_timestamps_contradicting_fs_warn(suite2p_folder):
    folder, truth = suite2p_folder
    fs = float(truth.attrs["fs"])
    n = truth.sizes["time"]
    ds = read_suite2p(folder, timestamps=np.arange(n) / fs)  # consistent: no warning
    assert ds.sizes["time"] == n
    with pytest.warns(QualityWarning, match=r"timestamps= against the frame rate 'fs': "
                      r"timestamps advance by .* but the declared rate"):
        read_suite2p(folder, timestamps=np.arange(n) * 2 / fs)  # frames of two planes
