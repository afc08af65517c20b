"""Format registry: detection, unknown files, missing paths, options."""

import numpy as np
import pytest

import sfone
from sfone.exceptions import FormatError
from sfone.io import detect_format, read
from sfone.io.events.runs_csv import write_runs_csv


def test_formats_table_lists_builtin_formats():
    table = sfone.formats()
    assert {"name", "modality", "suffixes", "extra", "available"} <= set(table.columns)
    assert "runs-csv" in set(table["name"])
    assert table["name"].is_unique


def test_detects_runs_csv_by_suffix_and_content(tmp_path):
    path = write_runs_csv(([10.0, 100.0], [40.0, 160.0]), tmp_path / "runs.csv")
    assert detect_format(path).name == "runs-csv"
    ds = read(path)
    np.testing.assert_allclose(ds["start"].values, [10.0, 100.0])
    np.testing.assert_allclose(ds["end"].values, [40.0, 160.0])
    assert ds.attrs["modality"] == "events"
    assert ds["start"].attrs["units"] == "s"


def test_unknown_file_names_file_lists_formats_and_hints(tmp_path):
    path = tmp_path / "mystery.xyz"
    path.write_bytes(b"\x00\x01 not a known format")
    with pytest.raises(FormatError) as info:
        read(path)
    message = str(info.value)
    assert str(path) in message
    assert "runs-csv" in message  # known formats are listed
    assert "Hint" in message


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        read(tmp_path / "nothere.csv")
    with pytest.raises(FileNotFoundError):
        read(tmp_path / "nothere.csv", format="runs-csv")


def test_unknown_format_name_lists_known_names(tmp_path):
    path = write_runs_csv(([1.0], [2.0]), tmp_path / "r.csv")
    with pytest.raises(FormatError, match="runs-csv"):
        read(path, format="no-such-format")


def test_unknown_option_is_rejected_with_accepted_list(tmp_path):
    path = write_runs_csv(([1.0], [2.0]), tmp_path / "r.csv")
    with pytest.raises(TypeError, match="bogus"):
        read(path, bogus=1)


def test_bad_runs_csv_names_line_and_column(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("start_s,end_s\n1,2\nabc,5\n")
    with pytest.raises(FormatError, match=r"line 3, column 'start_s'.*'abc'"):
        read(path)
    path.write_text("start_s,end_s\n10,5\n")
    with pytest.raises(FormatError, match="line 2: end_s 5.0 is not after start_s 10.0"):
        read(path)
