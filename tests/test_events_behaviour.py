"""Behaviour event files: BORIS exports and pMAT BehData, on the real fixtures."""

import numpy as np
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import FormatError


def test_boris_trimmed_export_has_the_20_laser_pulses():
    path = fixture_path("photometry", "neurophotometrics", "phat", "Sample2_beh_BORIS.csv")
    events = sfone.read(path)
    assert events.attrs["source_format"] == "boris"
    # PROVENANCE: 20 Laser START/STOP rows, 1 s pulses every ~30 s
    assert events.sizes["epoch"] == 10
    np.testing.assert_allclose(events["end"] - events["start"], 1.0, atol=1e-6)
    assert events["start"].values[0] == pytest.approx(61.29032)
    assert set(events["label"].values) == {"Laser"}
    gaps = np.diff(events["start"].values)
    assert np.all((gaps > 25) & (gaps < 35))


def test_boris_full_export_with_preamble_pairs_each_behaviour():
    path = fixture_path("photometry", "neurophotometrics", "phat", "Sample1_beh_BORIS.csv")
    events = sfone.read(path)
    labels = events["label"].values
    # START rows per behaviour in the file's table (after its 15-line preamble)
    expected = {"active interaction": 82, "nonsocial": 91, "one sided interaction": 34,
                "passive interaction": 8, "seperate": 2, "together": 1}
    for behaviour, count in expected.items():
        assert (labels == behaviour).sum() == count
    assert events.sizes["epoch"] == sum(expected.values())
    assert np.all(events["end"].values >= events["start"].values)
    assert np.all(np.diff(events["start"].values) >= 0)
    only = sfone.read(path, behavior="nonsocial")
    assert only.sizes["epoch"] == 91


def test_pmat_behdata_matches_the_tdt_epocs():
    path = fixture_path("photometry", "tdt", "pmat_Photometry-161823_tsq_only",
                        "pMAT_BehData_example.csv")
    events = sfone.read(path)
    assert events.attrs["source_format"] == "pmat-events"
    assert events.sizes["epoch"] == 30
    assert events["start"].values[0] == pytest.approx(160.7157)
    assert events["end"].values[0] == pytest.approx(165.7142)
    assert np.isinf(events["end"].values[-1])  # pMAT writes Inf for the unfinished last bout
    assert set(events["label"].values) == {"PAB_16", "PAB_2064", "PAB_0"}


def test_boris_unpaired_start_and_bad_status(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("Time,Behavior,Status\n1.0,groom,START\n2.0,groom,START\n")
    with pytest.raises(FormatError, match="'groom' STARTs again at 2.0 s"):
        sfone.read(path)
    path.write_text("Time,Behavior,Status\n1.0,groom,BEGIN\n")
    with pytest.raises(FormatError, match="Status 'BEGIN'"):
        sfone.read(path)
    path.write_text("Time,Behavior,Status\nabc,groom,POINT\n")
    with pytest.raises(FormatError, match="line 2, column 'Time'"):
        sfone.read(path)


def test_pmat_offset_before_onset(tmp_path):
    path = tmp_path / "beh.csv"
    path.write_text("Event,Onset,Offset\nA,10,5\n")
    with pytest.raises(FormatError, match="line 2: onset 10.0 and offset 5.0"):
        sfone.read(path)
