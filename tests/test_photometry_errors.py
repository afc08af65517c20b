"""Bad input gives a FormatError that names the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import sfone.io as sio
from sfone.exceptions import DataRepairWarning, FormatError, QualityWarning
from sfone.io.photometry.csv import read_photometry_csv
from sfone.io.photometry.doric import read_doric
from sfone.io.photometry.ppd import read_ppd
from sfone.simulate.photometry import simulate_photometry, write_ppd


@pytest.fixture(scope="module")
def ppd_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("ppd") / "ok.ppd"
    write_ppd(simulate_photometry(duration_s=20, random_state=0), path)
    return path.read_bytes()


def test_random_bytes_named_doric(tmp_path):
    path = tmp_path / "noise.doric"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(FormatError, match="not a readable HDF5 file") as info:
        read_doric(path)
    assert str(path) in str(info.value)
    with pytest.raises(FormatError, match="noise.doric.*unrecognised"):
        sio.read(path)  # no sniffer claims it


def test_hdf5_without_doric_layout(tmp_path):
    path = tmp_path / "other.doric"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("Something", data=np.arange(3))
    with pytest.raises(FormatError, match=r"other\.doric.*\['Something'\].*DataAcquisition"):
        read_doric(path)


def test_csv_without_time_column(tmp_path):
    path = tmp_path / "notime.csv"
    path.write_text("signal,control\n1.0,2.0\n1.1,2.1\n")
    with pytest.raises(FormatError, match="notime.csv: no time column.*signal, control"):
        read_photometry_csv(path)
    with pytest.raises(FormatError, match="notime.csv.*time column 'clock' not found"):
        read_photometry_csv(path, time_column="clock")


@pytest.mark.parametrize("cut, problem", [
    (-3, "cut short .*trailing bytes"),
    (40, "cut short"),
    (1, "2-byte header length"),
])
def test_ppd_cut_short(tmp_path, ppd_bytes, cut, problem):
    path = tmp_path / "cut.ppd"
    path.write_bytes(ppd_bytes[:cut])
    with pytest.raises(FormatError, match=problem) as info:
        read_ppd(path)
    assert str(path) in str(info.value)


def test_ppd_unknown_mode_refused(tmp_path):
    header = json.dumps({"mode": "4 colour time div.", "sampling_rate": 130,
                         "volts_per_division": [1e-4, 1e-4], "version": "0.3"}).encode()
    path = tmp_path / "fork.ppd"
    path.write_bytes(len(header).to_bytes(2, "little") + header + b"\x00" * 400)
    with pytest.raises(FormatError, match="fork.ppd: unknown acquisition mode '4 colour"):
        read_ppd(path)


def test_ppd_v11_pulsed_pairs_subtract_baseline(tmp_path):
    header = json.dumps({"mode": "2EX_2EM_pulsed", "sampling_rate": 100, "n_analog_signals": 2,
                         "n_digital_signals": 2, "volts_per_division": [0.001, 0.001],
                         "version": "1.1.0"}).encode()
    # per sample: analog1 on, analog1 off, analog2 on, analog2 off (value << 1 | digital bit)
    frame = np.array([(500 << 1) | 1, 100 << 1, 300 << 1, 50 << 1], dtype="<u2")
    path = tmp_path / "paired.ppd"
    path.write_bytes(len(header).to_bytes(2, "little") + header + np.tile(frame, 10).tobytes())
    ds = read_ppd(path)
    assert ds.sizes["time_analog_1"] == 10
    np.testing.assert_allclose(ds["analog_1"].values, 0.4)
    np.testing.assert_allclose(ds["analog_2"].values, 0.25)
    np.testing.assert_allclose(ds["analog_1_baseline"].values, 0.1)
    assert ds["digital_1"].values.tolist() == [1] * 10
    assert ds["time_analog_2"].values[0] == pytest.approx(1 / 200)


def test_tdt_folder_without_tsq(tmp_path):
    from sfone.io.photometry.tdt import read_tdt

    with pytest.raises(FormatError, match=r"expected one \.tsq header file"):
        read_tdt(tmp_path)


def test_ppd_zero_padded_gap_flagged_and_kept(tmp_path, ppd_bytes):
    n_header = int.from_bytes(ppd_bytes[:2], "little")
    body = bytearray(ppd_bytes[2 + n_header:])
    body[400:440] = bytes(40)  # 10 two-word frames lost on the serial line
    path = tmp_path / "gap.ppd"
    path.write_bytes(ppd_bytes[:2 + n_header] + bytes(body))
    with pytest.warns(QualityWarning, match=r"gap.ppd: 10 sample frame\(s\) are all zero"):
        ds = read_ppd(path)
    assert (ds["analog_1"].values[100:110] == 0).all()
    assert ds.sizes["time_analog_1"] == len(body) // 4


def test_npm_dropped_frames_flagged(tmp_path):
    from sfone.simulate.photometry import write_npm_csv

    path = write_npm_csv(simulate_photometry(duration_s=20, random_state=1), tmp_path / "n.csv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:50] + lines[53:]) + "\n")  # lose three frames
    with pytest.warns(QualityWarning, match="FrameCounter jumps at 1 place"), \
            pytest.warns(DataRepairWarning):
        ds = sio.read(path)
    assert ds.sizes["time_470"] + ds.sizes["time_415"] == len(lines) - 1 - 1 - 3


def test_ppd_legacy_42_byte_header(tmp_path):
    text = b"m01  2018-01-02T03:04:05".ljust(31)
    header = (text + bytes([1]) + (130).to_bytes(2, "little")
              + (101220).to_bytes(4, "little") * 2)  # 0.00010122 V x 1e9
    assert len(header) == 42
    words = np.tile(np.array([(1000 << 1) | 1, 2000 << 1], dtype="<u2"), 13)
    path = tmp_path / "legacy.ppd"
    path.write_bytes((42).to_bytes(2, "little") + header + words.tobytes())
    ds = sio.read(path)
    assert ds.attrs["subject"] == "m01"
    assert ds.attrs["session_start"] == "2018-01-02T03:04:05"
    assert set(ds.dims) == {"time"}  # mode code unpublished: no stagger claimed
    np.testing.assert_allclose(ds["analog_1"].values, 1000 * 0.00010122)
    np.testing.assert_allclose(ds["analog_2"].values, 2000 * 0.00010122)
    assert ds.sizes["time"] == 13 and ds["time"].values[1] == pytest.approx(1 / 130)


def test_ppd_continuous_v1_shares_one_clock(tmp_path):
    header = json.dumps({"subject_ID": "s", "date_time": "2024-05-06T07:08:09",
                         "mode": "2EX_2EM_continuous", "sampling_rate": 1000,
                         "n_analog_signals": 2, "n_digital_signals": 2,
                         "volts_per_division": [1e-4, 2e-4], "version": "1.0.2"}).encode()
    words = np.tile(np.array([10 << 1, (20 << 1) | 1], dtype="<u2"), 50)
    path = tmp_path / "cont.ppd"
    path.write_bytes(len(header).to_bytes(2, "little") + header + words.tobytes())
    ds = read_ppd(path)
    assert set(ds.dims) == {"time"} and ds.sizes["time"] == 50
    np.testing.assert_allclose(ds["analog_2"].values, 20 * 2e-4)
    assert ds["digital_2"].values.sum() == 50 and ds["digital_1"].values.sum() == 0


def test_npm_header_without_rows(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "data_samples" / "photometry_npm.csv"
    path = tmp_path / "header_only.csv"
    path.write_text(sample.read_text().splitlines()[0] + "\n")
    with pytest.raises(FormatError, match=r"header_only\.csv.*no data rows"):
        sio.read(path, format="npm")
