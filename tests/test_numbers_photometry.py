"""Photometry numbers that were silently wrong (issue 28), through the real CLI: impossible
samples, missing samples and rows, implausible rates and swapped signal/control channels."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from shared_fixtures import fixture_path

from sfone.cli import main
from sfone.io.photometry._plausibility import MAX_MISSING_FRACTION
from sfone.photometry import compute_dff

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "photometry_generic.csv"
WARNINGS_PRINTED = pytest.mark.filterwarnings("default::sfone.exceptions.SfoneWarning")


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(SAMPLE)  # Time(s), signal, control, TTL at 20 Hz, 3600 rows


def _dff(path: Path, tmp_path: Path, signal="signal", control="control"):
    out = tmp_path / "dff.nc"
    result = CliRunner().invoke(main, ["photometry", "dff", str(path), "--signal", signal,
                                       "--control", control, "--out", str(out)])
    return result, out


def _warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning:")]


def _one_line_error(result, path: Path) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}:"), lines
    return lines[0]


@WARNINGS_PRINTED
@pytest.mark.parametrize("value,shown", [(np.inf, "inf"), (1e308, "1e+308"), (-1e300, "-1e+300")])
def test_impossible_sample_becomes_nan_and_is_named(tmp_path, table, value, shown):
    bad = table.copy()
    bad.loc[100, "signal"] = value
    path = tmp_path / "glitch.csv"
    bad.to_csv(path, index=False)
    result, out = _dff(path, tmp_path)
    assert result.exit_code == 0, result.output
    assert (f"warning: {path}: channel 'signal': 1 impossible sample(s) (first {shown} at "
            "sample 100, t = 5 s) set to NaN") in _warnings(result)[0]
    dff = xr.open_dataset(out)["dff"]
    assert np.isnan(dff.values[100]) and np.isfinite(np.delete(dff.values, 100)).all()
    assert 0.5 < dff.attrs["fit_slope"] < 2  # was -1.5e288 with the 1e308 sample
    assert np.nanmax(np.abs(dff.values)) < 1


@WARNINGS_PRINTED
def test_missing_values_are_counted_in_a_warning(tmp_path, table):
    bad = table.copy()
    rows = bad.sample(frac=0.2, random_state=0).index
    bad.loc[rows, ["signal", "control"]] = np.nan
    path = tmp_path / "holes.csv"
    bad.to_csv(path, index=False)
    result, _ = _dff(path, tmp_path)
    assert result.exit_code == 0, result.output
    assert any(f"channel 'signal': {len(rows)} of 3600 samples (20 %) are missing (NaN) inside "
               "the recording" in w for w in _warnings(result)), result.stderr


@WARNINGS_PRINTED
def test_rows_without_time_are_dropped_with_a_count(tmp_path, table):
    bad = table.copy()
    rows = bad.sample(frac=0.2, random_state=1).index
    bad.loc[rows, :] = np.nan  # whole rows empty
    path = tmp_path / "emptyrows.csv"
    bad.to_csv(path, index=False)
    result, out = _dff(path, tmp_path)
    assert result.exit_code == 0, result.output
    assert (f"warning: {path}: {len(rows)} of 3600 rows have no readable time in column "
            "'Time(s)'") in _warnings(result)[0]
    assert xr.open_dataset(out).sizes["time"] == 3600 - len(rows)


@WARNINGS_PRINTED
def test_a_nul_row_is_dropped_and_named(tmp_path):
    lines = SAMPLE.read_text().splitlines()
    lines[201] = "\0" * len(lines[201])  # data row 201
    path = tmp_path / "nul.csv"
    path.write_text("\n".join(lines) + "\n")
    result, _ = _dff(path, tmp_path)
    assert result.exit_code == 0, result.output
    assert (f"warning: {path}: 1 of 3600 rows have no readable time in column 'Time(s)' (first "
            "at data row 201: ") in _warnings(result)[0]


@pytest.mark.parametrize("where", ["rows", "values"])
def test_a_mostly_missing_recording_is_refused(tmp_path, table, where):
    bad = table.copy()
    rows = bad.iloc[1:-1].sample(n=1080, random_state=2).index  # 30 %, not the first or last
    bad.loc[rows, slice(None) if where == "rows" else ["signal"]] = np.nan
    path = tmp_path / "mostlymissing.csv"
    bad.to_csv(path, index=False)
    result, out = _dff(path, tmp_path)
    line = _one_line_error(result, path)
    unit = "rows" if where == "rows" else "samples"
    assert f"1080 of 3600 {unit} (30.0 %) are missing or unreadable; more than " \
           f"{100 * MAX_MISSING_FRACTION:g} %" in line
    assert not out.exists()


def test_a_002_hz_photometry_file_is_refused(tmp_path, table):
    slow = table.copy()
    slow["Time(s)"] = np.arange(len(slow)) * 50.0
    path = tmp_path / "slow.csv"
    slow.to_csv(path, index=False)
    line = _one_line_error(_dff(path, tmp_path)[0], path)
    assert "clock 'time' (samples every 50 s, median): sampling rate 0.02 Hz is outside the " \
           "plausible range of photometry data, 1 to 1e+06 Hz" in line


@WARNINGS_PRINTED
def test_swapped_arguments_are_named(tmp_path):
    result, _ = _dff(SAMPLE, tmp_path, signal="control", control="signal")
    assert result.exit_code == 0, result.output
    assert (f"warning: {SAMPLE}: dF/F (signal 'control', control 'signal'): the signal is named "
            "like an isosbestic/control channel and the control like a sensor channel") \
        in _warnings(result)[0]


@WARNINGS_PRINTED
def test_swapped_channels_with_neutral_names_are_detected_by_their_response(tmp_path, table):
    relabelled = table.rename(columns={"signal": "ch2", "control": "ch1"})
    path = tmp_path / "neutral.csv"
    relabelled.to_csv(path, index=False)
    result, out = _dff(path, tmp_path, signal="ch1", control="ch2")  # ch1 is the isosbestic one
    assert result.exit_code == 0, result.output
    assert "dF/F (signal 'ch1', control 'ch2') moves mostly downward" in _warnings(result)[0]
    right, _ = _dff(path, tmp_path, signal="ch2", control="ch1")
    assert right.exit_code == 0 and _warnings(right) == [], right.stderr


def test_the_right_channels_give_no_warning(tmp_path):
    result, _ = _dff(SAMPLE, tmp_path)  # any warning is an error here (pytest config)
    assert result.exit_code == 0 and "warning" not in result.stderr, result.output


def test_swapped_real_pyphotometry_channels_are_detected():
    import sfone

    path = fixture_path("photometry", "pyphotometry", "m17-R-2018-12-12-090409.ppd")
    ds = sfone.read(path)  # analog_1 GCaMP, analog_2 tdTomato control (PROVENANCE.md)
    compute_dff(ds, signal="analog_1", control="analog_2")  # no warning
    with pytest.warns(Warning, match=r"signal 'analog_2', control 'analog_1'\) moves mostly "
                      "downward"):
        compute_dff(ds, signal="analog_2", control="analog_1")


def test_in_memory_infinite_samples_are_refused():
    t = np.arange(0, 60, 0.05)
    values = 1 + 0.01 * np.sin(t)
    values[10] = np.inf
    ds = xr.Dataset({"s": ("time", values, {"units": "V"}), "c": ("time", 1 + 0 * t,
                                                                   {"units": "V"})},
                    coords={"time": ("time", t, {"units": "s"})})
    with warnings.catch_warnings(), pytest.raises(ValueError, match=r"channel 's' holds 1 "
                                                  r"impossible sample\(s\) \(first inf at index "
                                                  "10\\)"):
        compute_dff(ds, signal="s", control="c", method="ols")
