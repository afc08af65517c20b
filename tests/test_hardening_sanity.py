"""Numeric sanity (rates, gaps, monotonic time, ranges, strict mode) and resource safety of reads."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import sfone
from sfone.exceptions import FormatError, QualityWarning
from sfone.io import _checks
from sfone.io.photometry import ppd as ppd_module

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
PPD = SAMPLES / "photometry_pyphotometry.ppd"


def _ppd_with_header(tmp_path, **fields) -> Path:
    raw = PPD.read_bytes()
    n = int.from_bytes(raw[:2], "little")
    header = {**json.loads(raw[2:2 + n]), **fields}
    header_bytes = json.dumps(header).encode()
    path = tmp_path / "edited.ppd"
    path.write_bytes(len(header_bytes).to_bytes(2, "little") + header_bytes + raw[2 + n:])
    return path


def _ppd_samples() -> int:
    raw = PPD.read_bytes()
    return (len(raw) - 2 - int.from_bytes(raw[:2], "little")) // 4  # 2 inputs x 2 bytes


def _doric_v6(path: Path, time: np.ndarray, values: np.ndarray | None = None) -> Path:
    values = np.sin(time) if values is None else values
    with h5py.File(path, "w") as fh:
        group = fh.create_group("DataAcquisition/FPConsole/Signals/Series0001/AIN01xAOUT01-LockIn")
        group["Time"] = time
        group["Values"] = values
    return path


# -- sampling rate against the header --------------------------------------------------------

def test_ppd_end_time_consistent_with_rate_reads_silently(tmp_path):
    duration = _ppd_samples() / 20.0
    end = f"2025-01-06T10:{int(duration // 60):02d}:{int(duration % 60):02d}"
    ds = sfone.read(_ppd_with_header(tmp_path, end_time=end))
    assert ds.attrs["fs"] == 20.0


def test_ppd_header_rate_contradicting_duration_is_flagged_or_refused(tmp_path):
    # the file's 3600 samples span 180 s at 20 Hz; a header rate of 40 Hz would halve every time
    assert _ppd_samples() == 3600
    path = _ppd_with_header(tmp_path, sampling_rate=40, end_time="2025-01-06T10:03:00")
    with pytest.warns(QualityWarning, match=r"3600 samples .* 40 Hz last 90\.0 s but .* 180\.0 s"):
        ds = sfone.read(path)
    assert ds.attrs["fs"] == 40.0  # kept as declared, but flagged
    with pytest.raises(FormatError, match="strict mode") as info:
        sfone.read(path, strict=True)
    assert "edited.ppd" in str(info.value)
    with sfone.set_options(strict=True), pytest.raises(FormatError, match="span 180.0 s"):
        sfone.read(path)
    assert sfone.get_options()["strict"] is False  # restored after the with block


@pytest.mark.parametrize("rate", [0, -20, "fast", None, float("nan")])
def test_ppd_absurd_sampling_rate_is_refused(tmp_path, rate):
    path = _ppd_with_header(tmp_path, sampling_rate=rate)
    with pytest.raises(FormatError, match=r"edited\.ppd.*'sampling_rate'.*expected a positive"):
        sfone.read(path)


def test_ppd_rate_above_hardware_limit_is_flagged(tmp_path):
    with pytest.warns(QualityWarning, match="above pyPhotometry's 260 Hz limit"):
        sfone.read(_ppd_with_header(tmp_path, sampling_rate=5000))


@pytest.mark.parametrize("field,value,expected", [
    ("volts_per_division", None, "ADC scale"),
    ("volts_per_division", [0.1], "one value per analog input"),
    ("n_analog_signals", 1e12, "whole number from 0 to 16"),
    ("mode", ["2 colour time div."], "mode name"),
    ("LED_current", "high", "number or a list of them"),
    ("volts_per_division", [0.0001, 0], "positive number"),
])
def test_ppd_malformed_header_field_is_named(tmp_path, field, value, expected):
    with pytest.raises(FormatError, match=f"'{field}'.*{expected}"):
        sfone.read(_ppd_with_header(tmp_path, **{field: value}))


def test_doric_gap_in_time_vector_names_the_sample(tmp_path):
    time = np.arange(200) / 10.0
    time[120:] += 3.0  # 3 s of lost samples before sample 120
    path = _doric_v6(tmp_path / "gap.doric", time)
    with pytest.warns(QualityWarning, match=r"1 gap\(s\) .* before sample\(s\) 120 "):
        ds = sfone.read(path)
    np.testing.assert_array_equal(ds["AIN01xAOUT01-LockIn"].time.values, time)
    with pytest.raises(FormatError, match="gap.*strict mode"):
        sfone.read(path, strict=True)


def test_doric_time_going_backwards_names_the_samples(tmp_path):
    time = np.arange(100) / 10.0
    time[[40, 70]] = time[[39, 69]] - 0.5
    with pytest.raises(FormatError, match=r"backwards\.doric.*not strictly increasing"):
        sfone.read(_doric_v6(tmp_path / "backwards.doric", time))


def test_check_monotonic_names_every_row():
    time = np.array([0.0, 1.0, 1.0, 3.0, 2.0, 5.0])
    with pytest.raises(FormatError, match=r"sample\(s\) 2, 4 \(1\.0 then 1\.0\)"):
        _checks.check_monotonic(time, what="clock 'x'", path="f.csv")


def test_check_range_flags_rows_and_keeps_values():
    rer = np.array([0.8, 0.9, 9.0, 0.85, np.nan, -1.0])
    with pytest.warns(QualityWarning, match=r"2 value\(s\) outside .* row\(s\) 2, 5 \(first 9\)"):
        _checks.check_range(rer, 0.6, 1.3, what="rer", units="1", path="cage.csv")
    with pytest.raises(FormatError, match="cage.csv: rer"):
        _checks.check_range(rer, 0.6, 1.3, what="rer", units="1", path="cage.csv", strict=True)


# -- resource safety -------------------------------------------------------------------------

def test_doric_dataset_declaring_an_absurd_shape_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.doric"
    with h5py.File(path, "w") as fh:  # 2**36 float64 (512 GiB) declared, nothing written
        group = fh.create_group("DataAcquisition/FPConsole/Signals/Series0001/AIN01xAOUT01-LockIn")
        group.create_dataset("Time", shape=(2**36,), dtype="f8", chunks=(2**16,))
        group.create_dataset("Values", shape=(2**36,), dtype="f8", chunks=(2**16,))
    assert path.stat().st_size < 100_000
    with pytest.raises(FormatError, match=r"huge\.doric.*Time, declared as .*, declares 549755813888 bytes"):
        sfone.read(path)


def test_doric_mismatched_dataset_lengths_name_both(tmp_path):
    path = _doric_v6(tmp_path / "short.doric", np.arange(100) / 10.0, np.zeros(90))
    with pytest.raises(FormatError, match=r"Values has 90 samples but .*/Time has 100"):
        sfone.read(path)


FIXED_NS = 1_600_000_000_000_000_000


def _read_only_copy(tmp_path, source: Path) -> Path:
    """A copy of ``source`` (file or folder) with fixed mtimes, every file and folder read-only."""
    folder = tmp_path / "ro"
    folder.mkdir()
    dest = folder / source.name
    if source.is_dir():
        shutil.copytree(source, dest)
    else:
        dest.write_bytes(source.read_bytes())
    for path in [dest, *dest.rglob("*")]:
        if path.is_file():
            os.utime(path, ns=(FIXED_NS, FIXED_NS))
    for path in sorted([dest, *dest.rglob("*")], key=lambda p: -len(p.parts)) + [folder]:
        path.chmod(stat.S_IRUSR | stat.S_IXUSR if path.is_dir() else stat.S_IRUSR)
    return dest


def _snapshot(root: Path) -> dict:
    """Every path under ``root`` (itself included) with its bytes and mtime."""
    paths = [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]
    return {str(p.relative_to(root.parent)): (p.read_bytes() if p.is_file() else None,
                                               p.stat().st_mtime_ns if p.is_file() else None)
            for p in paths}


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(stat.S_IRWXU)


def _one_of_each_format() -> list[Path]:
    """Sample recordings (cohort sessions included), the first of each source format."""
    from sfone.io import detect_format
    from sfone.summary import sample_entries

    seen, entries = set(), []
    for entry in sample_entries(SAMPLES):
        fmt = detect_format(entry).name
        if fmt not in seen:
            seen.add(fmt)
            entries.append(entry)
    return entries


@pytest.mark.parametrize("entry", _one_of_each_format(), ids=lambda p: p.name)
def test_read_leaves_a_read_only_input_untouched(tmp_path, entry):
    name = entry.name
    path = _read_only_copy(tmp_path, entry)
    before = _snapshot(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = sfone.read(path)
        assert ds.sizes
        assert _snapshot(path) == before  # same files, bytes and mtimes: nothing written
        assert sorted(p.name for p in path.parent.iterdir()) == [name]  # no lock/side files
    finally:
        _make_writable(tmp_path / "ro")


def test_doric_is_read_while_another_process_holds_it_open_for_writing(tmp_path):
    path = tmp_path / "busy.doric"
    path.write_bytes((SAMPLES / "photometry_doric_v6.doric").read_bytes())
    holder = subprocess.Popen(
        [sys.executable, "-c", "import h5py, sys, time; f = h5py.File(sys.argv[1], 'r+'); "
         "print('open', flush=True); time.sleep(30)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        ds = sfone.read(path)  # an HDF5 file lock would make this fail
        assert "AIN01xAOUT01-LockIn" in ds
    finally:
        holder.kill()
        holder.wait()


def test_file_changing_during_the_read_is_detected(tmp_path, monkeypatch):
    path = tmp_path / "growing.ppd"
    path.write_bytes(PPD.read_bytes())
    original = ppd_module._split_header

    def split_then_append(raw, where):
        with open(path, "ab") as fh:  # the acquisition software is still writing
            fh.write(b"\x00\x01" * 8)
        return original(raw, where)

    monkeypatch.setattr(ppd_module, "_split_header", split_then_append)
    with pytest.raises(FormatError, match=r"growing\.ppd.*changed while reading"):
        sfone.read(path)
    with pytest.raises(FormatError, match="changed while reading"):
        ppd_module.read_ppd(path)  # direct reader calls are guarded too


def test_sfone_files_declaring_absurd_sizes_are_refused_before_loading(tmp_path):
    import xarray as xr

    from sfone.schema import finalize_dataset

    n = 2**33  # 64 GiB of float64 declared; chunks never written (fill value)
    time = xr.DataArray(np.arange(4, dtype=float), dims="time", attrs={"units": "s"})
    ds = xr.Dataset({"x": ("time", np.zeros(4), {"units": "V"})}, coords={"time": time})
    ds = finalize_dataset(ds, modality="photometry", source_format="simulated", source_file="sim")
    path = sfone.write_dataset(ds, tmp_path / "small.nc")
    with h5py.File(path, "r+") as fh:  # add a huge, empty, chunked variable next to the data
        fh.create_dataset("huge", shape=(n,), dtype="f8", chunks=(2**16,))
    with pytest.raises(FormatError, match=r"small\.nc.*declares \d+ bytes of data .*refused"):
        sfone.read(path)
