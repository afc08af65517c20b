"""Damaged calorimetry files fail with a FormatError naming the file, the line and the problem.

Each test damages a sample file (data_samples/) or a real fixture the way a spreadsheet, a
truncated copy or a flipped byte would, and checks the message; none may reach the data contract
validator (a SchemaError from a loader is a bug).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import DataRepairWarning, FormatError
from sfone.io.calorimetry._common import long_to_dataset, read_table, read_text
from sfone.io.calorimetry.treadmill import read_treadmill

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


def _damaged(tmp_path, source: Path, edit) -> Path:
    path = tmp_path / source.name
    path.write_text(edit(read_text(source)), encoding="utf-8")
    return path


def _raises(path, match, reader=sfone.read):
    with pytest.raises(FormatError, match=match) as err:
        reader(path)
    assert str(path) in str(err.value)
    return str(err.value)


def _replace_line(text: str, number: int, new: str) -> str:
    lines = text.split("\n")
    lines[number - 1] = new
    return "\n".join(lines)


# ---------------------------------------------------------------- header only / empty tables

@pytest.mark.parametrize("name", ["calorimetry_promethion_macro.csv", "stress_test_KO.csv"])
def test_header_only_is_refused(tmp_path, name):
    path = _damaged(tmp_path, SAMPLES / name, lambda t: t.split("\n", 1)[0] + "\n")
    _raises(path, "header|no data rows", reader=sfone.read)


def test_read_table_header_only_names_the_header_line():
    with pytest.raises(FormatError, match="only the header line 7"):
        read_table(["a,b"], line_numbers=[7], path="x.csv")


# ---------------------------------------------------------------- decimal commas, merged lines

def test_treadmill_decimal_commas_name_first_row_and_field_counts(tmp_path):
    path = _damaged(tmp_path, SAMPLES / "stress_test_KO.csv", lambda t: t.replace(".", ","))
    # line 7 "0,0,0,0,0,0,3181,6,2545,6,0,0": 12 fields under a 6-column header
    _raises(path, "line 7 has 12 fields, expected 6")


def test_treadmill_body_mass_with_decimal_comma(tmp_path):
    path = _damaged(tmp_path, SAMPLES / "stress_test_KO.csv",
                    lambda t: t.replace("# body_mass_g: 26.6", "# body_mass_g: 26,6"))
    _raises(path, r"'# body_mass_g:' line: found '26,6', expected a positive mass in g")


def test_clams_merged_decimal_commas(tmp_path):
    source = fixture_path("calorimetry", "clams_merged_long_auwerx_b6aging.csv")
    path = _damaged(tmp_path, source, lambda t: t.replace(".", ","))
    _raises(path, r"line 2 has \d+ fields, expected \d+ \(as many as the header\)")


def test_tse_comma_file_with_decimal_commas(tmp_path):
    source = fixture_path("calorimetry", "tse_labmaster_v5.9.9_comma_us.csv")
    path = _damaged(tmp_path, source, lambda t: t.replace(".", ","))
    # the first row with a decimal point in a numeric cell gets more fields than the header
    _raises(path, r"data table under the header on line 13: line 15 has 25 fields, expected 22")


def test_tse_semicolon_file_with_mangled_header(tmp_path):
    source = fixture_path("calorimetry", "tse_labmaster_v6.3.3_semicolon_decimalcomma_ucp1ko.csv")
    path = _damaged(tmp_path, source, lambda t: t.replace(".", ","))
    _raises(path, r"data header \(line 9\) has no 'Animal No\.' column; found Date, Time, "
                  "Animal No,")


def test_clams_merged_line_is_named_by_its_file_line(tmp_path):
    source = SAMPLES / "calorimetry_clams_cage0101.csv"
    text = source.read_text(encoding="utf-8-sig").split("\n")
    # join data lines 20 and 21 (a flipped newline): the error names file line 20
    text[19] = text[19] + text.pop(20)
    path = tmp_path / source.name
    path.write_text("\n".join(text))
    _raises(path, "data block after ':DATA': line 20 has")


# ---------------------------------------------------------------- time columns

def test_treadmill_unparseable_times_are_named(tmp_path):
    def damage(text):
        text = _replace_line(text, 9, "1\xd10.0,0.0,0.0,3230.3,2606.0,0.0")
        return _replace_line(text, 12, "inf,0.0,0.0,3119.8,2506.0,0.0")
    path = _damaged(tmp_path, SAMPLES / "stress_test_KO.csv", damage)
    message = _raises(path, r"column 'time \[s\]': 2 time value\(s\) are not finite numbers")
    assert "line 9: '1\xd10.0'" in message and "line 12: 'inf'" in message


def test_treadmill_nan_times_are_named(tmp_path):
    path = _damaged(tmp_path, SAMPLES / "stress_test_WT.csv",
                    lambda t: _replace_line(t, 8, "nan,0.0,0.0,3192.8,2519.2,0.0"))
    _raises(path, r"line 8: 'nan'\); expected seconds")


def test_treadmill_time_going_back_is_named(tmp_path):
    path = _damaged(tmp_path, SAMPLES / "stress_test_KO.csv",
                    lambda t: _replace_line(t, 10, "5.0,0.0,0.0,3197.8,2529.5,0.0"))
    _raises(path, r"line 10: time 5 s does not increase after 10 s \(line 9\)",
            reader=read_treadmill)


def test_long_to_dataset_refuses_missing_and_repeated_timestamps():
    meta = pd.DataFrame({"body_mass": [25.0]}, index=pd.Index(["m1"], name="subject"))
    stamps = pd.to_datetime(["2026-01-01 00:00", None, "2026-01-01 00:20"])
    long = pd.DataFrame({"subject": "m1", "datetime": stamps, "vo2": [80.0, 81, 82],
                         "vco2": [70.0, 71, 72], "_line": [5, 6, 7]})
    with pytest.raises(FormatError, match=r"1 reading\(s\) have no valid timestamp \(lines \[6\]"):
        long_to_dataset(long, meta, path="x.csv", source_format="test", source_units={})
    long["datetime"] = pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:10",
                                       "2026-01-01 00:10"])
    with pytest.raises(FormatError, match="subject 'm1', line 7: timestamp 2026-01-01 00:10:00 "
                                          "does not come after"):
        long_to_dataset(long, meta, path="x.csv", source_format="test", source_units={})


def test_damaged_timestamp_is_named_by_line_and_the_layout_of_the_others(tmp_path):
    path = _damaged(tmp_path, SAMPLES / "calorimetry_clams_cage0101.csv",
                    lambda t: t.replace("2,0001,3/2/2026 7:10:00 AM", "2,0001,3/2/20\xd16 7:10:00 AM"))
    message = _raises(path, r"column 'DATE/TIME', line 21: cannot parse timestamp "
                            r"'3/2/20\xd16 7:10:00 AM' \(1 such row\(s\)\)")
    assert "parse as '%m/%d/%Y %I:%M:%S %p'" in message


def test_file_cut_mid_line_drops_the_partial_last_row_with_a_warning(tmp_path):
    # lines 7-11 are complete readings at 0, 5, ..., 20 s; line 12 is cut after "31"
    path = _damaged(tmp_path, SAMPLES / "stress_test_KO.csv",
                    lambda t: t[:t.index("25.0,0.0,0.0,3119.8")] + "25.0,0.0,0.0,31")
    with pytest.warns(DataRepairWarning, match=r"the last line \(12\) has only 4 of 6 fields"):
        ds = read_treadmill(path)
    assert ds["time"].values.tolist() == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert ds["vo2"].values[0, -1] == pytest.approx(3250.8 * 26.6 / 1000)


def test_damaged_data_cell_is_reported_not_silently_missing(tmp_path):
    path = _damaged(tmp_path, SAMPLES / "stress_test_WT.csv",
                    lambda t: _replace_line(t, 9, "10.0,0.0,0.0,32\xd10.3,2606.0,0.0"))
    with pytest.warns(DataRepairWarning, match=r"column 'VO2 \[ml/kg/h\]': 1 cell\(s\) are not "
                                               r"numbers \(first at line 9: '32\xd10.3'\)"):
        ds = read_treadmill(path)
    vo2 = ds["vo2"].values[0]
    assert np.isnan(vo2[2]) and np.isfinite(vo2[[0, 1, 3]]).all()
