"""NWB: suite2p's own ophys.nwb, and the to_nwb -> read_nwb round trip checked by pynwb."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone import to_nwb
from sfone.exceptions import FormatError, SchemaError
from sfone.imaging import compute_dff
from sfone.io.imaging.nwb import read_nwb, read_nwb_events
from sfone.schema import make_events
from sfone.simulate.imaging import simulate_session

pynwb = pytest.importorskip("pynwb")

TWO_PLANE = ("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p")


def test_suite2p_ophys_nwb_matches_npy_outputs():
    ds = sfone.read(fixture_path(*TWO_PLANE, "ophys.nwb"))
    assert ds.attrs["source_format"] == "nwb"
    assert ds["F"].shape == (15, 200)
    assert {v for v in ds.data_vars if ds[v].dims == ("roi", "time")} == {"F", "Fneu", "spks"}
    assert ds.attrs["fs"] == 10.0
    assert ds.attrs["indicator"] == "GCaMP" and ds.attrs["location"] == "V1"
    np.testing.assert_array_equal(ds["plane"].values, [0] * 7 + [1] * 8)
    npy = sfone.read(fixture_path(*TWO_PLANE))
    np.testing.assert_array_equal(ds["F"].values, npy["F"].values)
    np.testing.assert_array_equal(ds["Fneu"].values, npy["Fneu"].values)
    np.testing.assert_array_equal(ds["iscell"].values, npy["iscell"].values)
    np.testing.assert_allclose(ds["iscell_prob"].values, npy["iscell_prob"].values)
    # one centroid definition: the lam-weighted voxel-mask centroids (suite2p stores ypix in
    # "x") equal those of the npy outputs' stat
    np.testing.assert_allclose(ds["y"].values, npy["y"].values, atol=1e-9)
    np.testing.assert_allclose(ds["x"].values, npy["x"].values, atol=1e-9)


@pytest.fixture
def session():
    ds = simulate_session(n_rois=6, n_frames=400, n_noncells=2, random_state=11)
    ds = ds.assign(dff=compute_dff(ds, window_s=10.0))
    ds.attrs["subject"] = "mouse07"
    return ds


def test_round_trip_values_metadata_and_validator(tmp_path, session):
    runs = make_events([5.0, 20.0], [9.5, 31.0], label=["run1", "run2"])
    start = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    path = to_nwb(session, tmp_path / "s.nwb", events=runs, session_start_time=start,
                  identifier="sfone-test-1", species="Mus musculus", indicator="GCaMP6s",
                  location="M1", excitation_lambda=920.0)
    assert pynwb.validate(path=str(path)) == []
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        series = nwbfile.processing["ophys"]["Fluorescence"]["RoiResponseSeries"]
        assert series.data.shape == (400, 6)  # (time, rois)
        assert "DfOverF" in nwbfile.processing["ophys"]["DfOverF"].roi_response_series
    back = sfone.read(path)
    np.testing.assert_array_equal(back["F"].values, session["F"].values)
    np.testing.assert_array_equal(back["Fneu"].values, session["Fneu"].values)
    np.testing.assert_allclose(back["dff"].values, session["dff"].values, equal_nan=True)
    assert back["dff"].attrs["units"] == "1"
    np.testing.assert_array_equal(back["iscell"].values, session["iscell"].values)
    np.testing.assert_allclose(back["iscell_prob"].values, session["iscell_prob"].values)
    np.testing.assert_array_equal(back["y"].values, session["y"].values)
    np.testing.assert_array_equal(back["roi"].values, session["roi"].values)
    np.testing.assert_allclose(back["time"].values, session["time"].values)
    assert back.attrs["fs"] == 10.0 and back.attrs["subject"] == "mouse07"
    assert back.attrs["session_start"] == "2026-03-02T09:30:00+00:00"
    assert back.attrs["indicator"] == "GCaMP6s" and back.attrs["excitation_lambda"] == 920.0
    events = read_nwb_events(path)
    np.testing.assert_array_equal(events["start"].values, [5.0, 20.0])
    np.testing.assert_array_equal(events["end"].values, [9.5, 31.0])
    assert list(events["label"].values) == ["run1", "run2"]


@pytest.mark.parametrize("kind", ["offset", "gap"])
def test_time_axis_round_trip(tmp_path, session, kind):
    time = session["time"].values + 2.5  # recording starts 2.5 s into the session
    if kind == "gap":
        time[200:] += 0.05  # a dropped-frame gap: written as timestamps
    ds = session.drop_vars("dff").assign_coords(time=("time", time, {"units": "s"}))
    path = to_nwb(ds, tmp_path / f"{kind}.nwb", session_start_time="2026-01-01T00:00:00Z")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        series = io.read().processing["ophys"]["Fluorescence"]["RoiResponseSeries"]
        assert (series.timestamps is None) == (kind == "offset")
    np.testing.assert_allclose(read_nwb(path)["time"].values, time)


def test_session_start_required(tmp_path, session):
    with pytest.raises(SchemaError, match="session start"):
        to_nwb(session, tmp_path / "x.nwb")
    with pytest.raises(SchemaError, match="no time zone"):
        to_nwb(session, tmp_path / "x.nwb", session_start_time="2026-01-01T00:00:00")
    assert not (tmp_path / "x.nwb").exists()


def test_nwb_without_ophys(tmp_path):
    path = tmp_path / "empty.nwb"
    nwbfile = pynwb.NWBFile(session_description="x", identifier="x",
                            session_start_time=datetime(2026, 1, 1, tzinfo=UTC))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    with pytest.raises(FormatError, match="no processing/ophys module") as err:
        read_nwb(path)
    assert str(path) in str(err.value)


def test_two_plane_suite2p_to_nwb_keeps_planes(tmp_path):
    ds = sfone.read(fixture_path(*TWO_PLANE))
    path = to_nwb(ds, tmp_path / "two.nwb", session_start_time="2026-05-01T10:00:00+02:00")
    assert pynwb.validate(path=str(path)) == []
    back = read_nwb(path)
    np.testing.assert_array_equal(back["plane"].values, [0] * 7 + [1] * 8)
    np.testing.assert_array_equal(back["spks"].values, ds["spks"].values)
    np.testing.assert_array_equal(back["x"].values, ds["x"].values)
    assert back.attrs["session_start"] == "2026-05-01T10:00:00+02:00"


@pytest.mark.parametrize("reader", [read_nwb, read_nwb_events])
def test_damaged_nwb_metadata_is_a_format_error(tmp_path, monkeypatch, reader):
    # what h5py raises when flipped bytes break a link table (seen in the bad-input corpus)
    path = tmp_path / "damaged.nwb"
    nwbfile = pynwb.NWBFile(session_description="x", identifier="x",
                            session_start_time=datetime(2026, 1, 1, tzinfo=UTC))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)

    def broken_read(self):
        raise RuntimeError("Link iteration failed (unable to offset into local heap data block)")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "read", broken_read)
    with pytest.raises(FormatError, match="cannot read as NWB .*RuntimeError: Link iteration "
                                          "failed") as err:
        reader(path)
    assert str(path) in str(err.value)
