"""The CLAMS reader's fast paths (arrow number cast, Oxymax timestamps from their distinct dates
and times) give exactly what the general parsers give, and fall back to them for anything else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sfone.exceptions import FormatError
from sfone.io.calorimetry import _dates
from sfone.io.calorimetry._clams_header import light_state
from sfone.io.calorimetry._common import to_number
from sfone.io.calorimetry._dates import parse_datetimes
from sfone.io.calorimetry.clams import _column_number


@pytest.mark.parametrize("cells", [
    ["1", " 2.5 ", None, "3e2", "-0.125"], ["ERR:0", "1"], ["", "4"], ["-", "2"], ["NA", "7"],
    ["NaN", "1"], ["1,5", "2"], ["0.1", "0.7", "123.456", "3364"], ["abc", "1"]])
def test_column_number_equals_to_number(cells):
    values = pd.Series(cells, dtype="string")
    fast = _column_number(values)
    assert fast.dtype == np.float64
    np.testing.assert_array_equal(fast.to_numpy(), to_number(values).to_numpy())


def test_column_number_random_decimals_bit_identical():
    rng = np.random.default_rng(0)
    cells = [f"{v:.{d}f}" for v, d in zip(rng.normal(0, 5000, 2000), rng.integers(0, 6, 2000),
                                          strict=True)]
    values = pd.Series(cells, dtype="string")
    np.testing.assert_array_equal(_column_number(values).to_numpy(),
                                  to_number(values).to_numpy())


STAMPS = [
    ["3/2/2026 7:00:00 AM ", "3/2/2026 12:05:00 PM", "3/2/2026 11:55:00 PM", "3/3/2026 12:00:00 AM"],
    [" 2/28/2024 1:00:00 PM", "2/29/2024 1:00:00 PM", "3/1/2024 1:00:00 PM"],
    ["1/12/2015 1:00:00 PM", "2/12/2015 1:00:00 PM"],  # month-first jumps a month: day-first
    ["01.09.2010 14:36:52", "01.09.2010 14:37:52"], ["2017-12-05 10:31:00"],
    ["1/6/2015 11:01 AM"], ["3/2/2026 7:00:00 pm"], ["3/2/2026 7:00:00 PM", None]]


@pytest.mark.parametrize("stamps", STAMPS)
@pytest.mark.parametrize("day_first", [None, False])
def test_parse_datetimes_fast_layout_equals_format_by_format(stamps, day_first, monkeypatch):
    text = pd.Series(stamps, dtype="string")

    def parse():
        try:
            return parse_datetimes(text, path="cage.csv", day_first=day_first).to_numpy(), None
        except FormatError as exc:
            return None, str(exc)

    fast = parse()
    monkeypatch.setattr(_dates, "us_12h_datetimes", lambda s: _raise(ValueError("off")))
    general = parse()
    if fast[0] is not None:
        assert fast[0].dtype == "datetime64[ns]"
        np.testing.assert_array_equal(fast[0], general[0])
    assert fast[1] == general[1]


def _raise(exc):
    raise exc


@pytest.mark.parametrize("stamps", STAMPS[:3] + [STAMPS[6]])
def test_us_12h_datetimes_equal_the_first_us_format(stamps):
    text = pd.Series(stamps, dtype="string")
    expected = pd.to_datetime(text.str.strip(), format=_dates.US_FORMATS[0]).to_numpy()
    np.testing.assert_array_equal(_dates.us_12h_datetimes(text), expected)


@pytest.mark.parametrize("stamps", STAMPS[3:6] + [STAMPS[7], ["2/30/2024 1:00:00 PM"],
                                                  ["3/2/1066 7:00:00 PM"]])
def test_us_12h_datetimes_refuse_anything_else(stamps):
    with pytest.raises(ValueError):
        _dates.us_12h_datetimes(pd.Series(stamps, dtype="string"))


def test_bad_stamp_names_file_and_value():
    text = pd.Series(["2/30/2024 1:00:00 PM", "13/45/2024 1:00:00 PM"], dtype="string")
    with pytest.raises(FormatError) as info:
        parse_datetimes(text, path="cage.csv")
    assert "2/30/2024" in str(info.value) and "cage.csv" in str(info.value)


def test_light_state_reads_on_off_and_nothing_else():
    cells = [" on", "OFF ", "Off", "dim", None, ""]
    expected = [1.0, 0.0, 0.0, np.nan, np.nan, np.nan]
    np.testing.assert_array_equal(light_state(pd.Series(cells, dtype="string")), expected)
    np.testing.assert_array_equal(light_state(pa.chunked_array([cells[:3], cells[3:]])), expected)
