"""CaImAn HDF5 and Inscopix CSV readers: real fixtures, bad input, writer round trips."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import DataRepairWarning, FormatError
from sfone.io.imaging import caiman
from sfone.io.imaging.caiman import read_caiman
from sfone.io.imaging.inscopix import (
    read_gpio_table,
    read_inscopix,
    read_inscopix_events,
    read_inscopix_isxd,
)
from sfone.simulate.imaging import simulate_session, write_caiman_hdf5, write_inscopix_csv

CAIMAN = ("imaging", "caiman_cnmfe_inscopix_ideas")
NCA = ("imaging", "inscopix_isx_exports_ideas_nca")


@pytest.mark.parametrize("name", ["sample_cellset_msr_1.hdf5", "sample_cellset_msr_2.hdf5"])
def test_caiman_cnmfe_fixture(name):
    path = fixture_path(*CAIMAN, name)
    ds = sfone.read(path)
    assert ds.attrs["source_format"] == "caiman"
    assert ds["F"].shape == (5, 100)
    assert ds.attrs["fs"] == pytest.approx(20.0152, abs=1e-4)
    assert (ds.attrs["Ly"], ds.attrs["Lx"]) == (400, 640)
    assert ds.attrs["caiman_version"] == "1.11.3"
    assert bool(ds["iscell"].all())  # idx_components = [0..4]
    assert "dff" not in ds  # F_dff was stored as b'NoneType'
    with h5py.File(path) as f:
        C, YrA, S = (f[f"estimates/{k}"][()] for k in ("C", "YrA", "S"))
    np.testing.assert_allclose(ds["F"].values, C + YrA)
    np.testing.assert_allclose(ds["spks"].values, S)
    assert ((ds["y"] >= 0) & (ds["y"] < 400) & (ds["x"] >= 0) & (ds["x"] < 640)).all()


def test_caiman_writer_round_trip_fortran_footprints(tmp_path):
    truth = simulate_session(n_rois=5, n_frames=200, n_noncells=2, shape=(48, 96),
                             random_state=5)
    path = write_caiman_hdf5(truth, tmp_path / "cnm.hdf5")
    ds = read_caiman(path)
    np.testing.assert_allclose(ds["F"].values, truth["F"].values, rtol=1e-6)
    np.testing.assert_array_equal(ds["iscell"].values, [True, True, True, False, False])
    # centroids of gaussian footprints come back where they were put (non-square FOV)
    np.testing.assert_allclose(ds["y"].values, truth["y"].values, atol=0.05)
    np.testing.assert_allclose(ds["x"].values, truth["x"].values, atol=0.05)
    assert (ds.attrs["Ly"], ds.attrs["Lx"]) == (48, 96)


def test_caiman_without_estimates(tmp_path):
    path = tmp_path / "broken.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("dims", data=[10, 10])
        f.create_group("params/data").create_dataset("fr", data=10.0)
    assert sfone.io.detect_format(path).name == "caiman"
    with pytest.raises(FormatError, match="no 'estimates' group") as err:
        sfone.read(path)
    assert str(path) in str(err.value)


class _DamagedHDF5:
    """Stands in for an h5py.File whose object headers flipped bytes broke."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def get(self, name):
        raise OSError("Can't synchronously read data (bad heap pointer, heap object = {810, 43})")


def test_caiman_damaged_hdf5_is_a_format_error(tmp_path, monkeypatch):
    path = tmp_path / "cnm.hdf5"
    path.write_bytes(b"")
    monkeypatch.setattr(caiman, "_open", lambda _path: _DamagedHDF5())
    with pytest.raises(FormatError, match="cannot read as a CaImAn result .*OSError: Can't "
                                          "synchronously read data") as err:
        read_caiman(path)
    assert str(path) in str(err.value)


def test_caiman_not_hdf5(tmp_path):
    path = tmp_path / "x.hdf5"
    path.write_text("not hdf5")
    with pytest.raises(FormatError, match="not a readable HDF5 file"):
        read_caiman(path)


def test_idps_traces_canalysis():
    ds = sfone.read(fixture_path("imaging", "inscopix_idps_celltraces_canalysis",
                                 "Animal01_day02_traces.csv"))
    assert ds.attrs["source_format"] == "inscopix"
    assert ds["F"].shape == (7, 18424)
    assert bool(ds["iscell"].all())
    assert ds.attrs["fs"] == pytest.approx(10.0, rel=1e-3)
    assert ds["time"].values[0] == 0.0
    assert ds["time"].values[-1] == pytest.approx(1841.6, abs=0.01)
    assert list(ds["cell_name"].values) == [f"C{i}" for i in range(7)]
    np.testing.assert_array_equal(ds["F"].values[:, 0], 0.0)  # first row all zeros
    assert ds["F"].values[0, 1] == pytest.approx(0.03968996)


def test_idps_emulated_statuses():
    ds = sfone.read(fixture_path(*NCA, "EMULATED_cellset_traces_idps_format.csv"))
    assert ds["F"].shape == (20, 2047)
    assert ds.attrs["fs"] == pytest.approx(10.0)
    counts = {s: int((ds["status"] == s).sum()) for s in ("accepted", "undecided", "rejected")}
    assert counts == {"accepted": 9, "undecided": 6, "rejected": 5}
    assert int(ds["iscell"].sum()) == 9
    assert ds["status"].values[2] == "rejected" and not ds["iscell"].values[2]
    assert ds["F"].values[0, 0] == pytest.approx(126.1744)


def test_isx_event_set_long_csv():
    ds = sfone.read(fixture_path(*NCA, "input_cellset-ED_events_long.csv"))
    assert ds.attrs["modality"] == "events"
    assert ds.sizes["epoch"] == 2553
    assert np.unique(ds["label"].values).size == 117  # one of 118 cells has no event
    assert ds["start"].values[0] == pytest.approx(393.792602)
    np.testing.assert_array_equal(ds["start"].values, ds["end"].values)
    assert ds["value"].values[0] == pytest.approx(9.907722)


def test_gpio_long_csv_to_epochs(tmp_path):
    path = tmp_path / "session_gpio.csv"
    path.write_text("Time (s), Channel Name, Value\n"
                    "0, GPIO-1, 0\n1.5, GPIO-1, 1\n3.0, GPIO-1, 0\n7.25, GPIO-1, 1\n9.0, GPIO-1, 0\n"
                    "0, EX_LED, 0\n0.5, EX_LED, 1.2\n\n"
                    "0, GPIO4_AI, 0.1\n0.001, GPIO4_AI, 0.2\n")
    with pytest.warns(DataRepairWarning, match="GPIO4_AI"):
        ds = sfone.read(path)
    assert ds.attrs["source_format"] == "inscopix-events"
    np.testing.assert_allclose(ds["start"].values, [0.5, 1.5, 7.25])
    np.testing.assert_allclose(ds["end"].values, [9.0, 3.0, 9.0])  # LED on until the file ends
    assert list(ds["label"].values) == ["EX_LED", "GPIO-1", "GPIO-1"]


BAD_CSV = [
    (read_inscopix, " , C0, C1\nTime(s)/Cell Status, accepted, maybe\n0, 1, 2\n0.1, 1, 2\n",
     "cell C1 has status 'maybe'"),
    (read_inscopix, " , C0\nTime(s)/Cell Status, accepted\n0, 1\n0.2, 1\n0.1, 1\n",
     "line 5: time 0.1 does not increase"),
    (read_inscopix, " , C0, C1\nTime(s)/Cell Status, accepted\n0, 1\n",
     "line 1 has 3 columns but line 2 has 2"),
    (read_inscopix_events, "Time, Channel, Value\n0, a, 1\n",
     "expected 'Time \\(s\\), Channel Name, Value'"),
    # decimal commas: a row with more fields than the header
    (read_inscopix_events, "Time (s), Cell Name, Value\n393,79, C000, 9,9\n",
     "line 2 has 5 fields, expected 3 \\(as many as the header\\)"),
    # unparseable / infinite times and values name their line, column and text
    (read_inscopix_events, "Time (s), Cell Name, Value\n0.5, C000, 1.0\n\n6inf.9, C001, 2\n",
     "line 4, column 'Time \\(s\\)': found '6inf.9', expected a finite number"),
    (read_inscopix_events, "Time (s), Cell Name, Value\n0.5, C000, inf\n",
     "line 2, column 'Value': found 'inf', expected a finite number"),
    (read_inscopix_events, "Time (s), Cell Name, Value\n0.5, C000\n",
     "line 2, column 'Value': found '', expected a finite number"),
    (read_gpio_table, "Time(s),Lick\n0,0\n1\xd15,1\n",
     "line 3, column 'Time\\(s\\)': found '1\xd15', expected a finite number"),
]


@pytest.mark.parametrize(("reader", "text", "message"), BAD_CSV)
def test_bad_inscopix_csv_names_file_and_problem(tmp_path, reader, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match=message) as err:
        reader(path)
    assert str(path) in str(err.value)


def test_event_set_without_events_is_an_empty_events_dataset(tmp_path):
    path = tmp_path / "no_events.csv"
    path.write_text("Time (s), Cell Name, Value\n")
    ds = read_inscopix_events(path)
    assert ds.sizes["epoch"] == 0 and ds["value"].attrs["units"] == "a.u."


def test_inscopix_writer_round_trip(tmp_path):
    truth = simulate_session(n_rois=12, n_frames=50, n_noncells=3, random_state=6)
    path = write_inscopix_csv(truth, tmp_path / "cells.csv")
    lines = path.read_text().splitlines()
    assert lines[0].startswith(" , C00, C01") and lines[1].endswith("rejected")
    ds = sfone.read(path)
    np.testing.assert_array_equal(ds["roi"].values, truth["roi"].values)
    np.testing.assert_allclose(ds["F"].values, truth["F"].values, rtol=1e-6)
    np.testing.assert_array_equal(ds["iscell"].values, truth["iscell"].values)
    assert ds.attrs["fs"] == pytest.approx(10.0)


def test_traces_with_crlf_line_endings(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(b" , C0, C1\r\nTime(s)/Cell Status, accepted, rejected\r\n"
                     b"0, 1.5, 2\r\n0.05, 1.25, 3\r\n")
    ds = sfone.read(path)
    np.testing.assert_allclose(ds["F"].values, [[1.5, 1.25], [2, 3]])
    np.testing.assert_array_equal(ds["iscell"].values, [True, False])
    assert ds.attrs["fs"] == pytest.approx(20.0)


def test_derived_gpio_table_canalysis():
    ds = sfone.read(fixture_path("imaging", "inscopix_idps_celltraces_canalysis",
                                 "Animal01_day02_gpio_processed.csv"))
    assert ds.attrs["source_format"] == "gpio-table" and ds.attrs["modality"] == "events"
    assert (ds["start"].values[0], ds["end"].values[0]) == (66.443, 66.453)
    assert ds["label"].values[0] == "Lick"
    labels, counts = np.unique(ds["label"].values, return_counts=True)
    assert dict(zip(labels, counts, strict=True)) == {
        "Lick": 691, "Rinse": 110, "ArtSal": 20, "Quinine": 20, "NaCl": 20, "Sucrose": 20,
        "MSG": 10, "Citric": 17}
    assert (ds["end"] > ds["start"]).all()


def test_gpio_table_rejects_non_indicator_values(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("Time(s),Lick\n0,0\n1.5,2\n")
    with pytest.raises(FormatError, match="line 3, column 'Lick': found 2.0, expected 0 or 1"):
        read_gpio_table(path)


def test_isxd_cellset_without_isx_matches_its_csv_export():
    ds = sfone.read(fixture_path(*NCA, "cellset_accepted_undecided_and_rejected_cells.isxd"))
    assert ds.attrs["source_format"] == "inscopix-isxd"
    assert ds["F"].shape == (20, 2047)
    assert ds.attrs["fs"] == pytest.approx(10.0)
    assert (ds.attrs["Ly"], ds.attrs["Lx"]) == (52, 50)
    assert ds.attrs["trace_units"] == "dF over F"
    assert ds.attrs["session_start"].startswith("2017-11-30T")
    assert list(ds["cell_name"].values) == [f"C{i:02d}" for i in range(20)]
    csv = sfone.read(fixture_path(*NCA, "EMULATED_cellset_traces_idps_format.csv"))
    np.testing.assert_array_equal(ds["status"].values, csv["status"].values)
    np.testing.assert_allclose(ds["F"].values, csv["F"].values, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(ds["time"].values, csv["time"].values, atol=1e-9)
    assert ((ds["y"] >= 0) & (ds["y"] < 52) & (ds["x"] >= 0) & (ds["x"] < 50)).all()


def test_isxd_event_set_is_refused_by_the_cell_set_reader():
    # event sets have their own reader (tests/test_imaging_isxd_events.py)
    path = fixture_path(*NCA, "input_cellset-ED.isxd")
    with pytest.raises(FormatError, match="type 5 is not a cell set.*read_inscopix_isxd_events"
                       ) as err:
        read_inscopix_isxd(path)
    assert str(path) in str(err.value)


def test_isxd_truncated(tmp_path):
    src = fixture_path(*NCA, "cellset_accepted_undecided_and_rejected_cells.isxd")
    data = src.read_bytes()
    path = tmp_path / "cut.isxd"
    header_bytes = int.from_bytes(data[-8:], "little") + 9  # JSON + its size field
    path.write_bytes(data[:1000] + data[-header_bytes:])  # data section cut, header kept
    with pytest.raises(FormatError, match="data section has .* bytes, expected 20 cells"):
        read_inscopix_isxd(path)


def test_traces_with_unix_time_reference(tmp_path):
    path = tmp_path / "unix.csv"
    path.write_text(" , C0\nTime(s)/Cell Status, undecided\n"
                    "1700000000.5, 1\n1700000000.55, 2\n1700000000.6, 3\n")
    ds = read_inscopix(path)
    np.testing.assert_allclose(ds["time"].values, [0.0, 0.05, 0.1], atol=1e-6)
    assert ds.attrs["session_start"] == "2023-11-14T22:13:20.500000+00:00"
    assert not ds["iscell"].values[0] and ds["status"].values[0] == "undecided"
