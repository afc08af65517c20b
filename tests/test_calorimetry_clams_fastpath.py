"""The CLAMS reader's fast paths (arrow number cast, vectorised Oxymax timestamps) give exactly
what the general parsers give, and fall back to them for anything else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sfone.exceptions import FormatError
from sfone.io.calorimetry._common import to_number
from sfone.io.calorimetry._dates import parse_datetimes
from sfone.io.calorimetry.clams import _column_number, _oxymax_datetimes


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


@pytest.mark.parametrize("stamps", [
    ["3/2/2026 7:00:00 AM ", "3/2/2026 12:05:00 PM", "3/2/2026 11:55:00 PM", "3/3/2026 12:00:00 AM"],
    [" 2/28/2024 1:00:00 PM", "2/29/2024 1:00:00 PM", "3/1/2024 1:00:00 PM"],
    ["1/12/2015 1:00:00 PM", "2/12/2015 1:00:00 PM"],  # month-first jumps a month: day-first
    ["01.09.2010 14:36:52", "01.09.2010 14:37:52"], ["2017-12-05 10:31:00"],
    ["1/6/2015 11:01 AM"]])
def test_oxymax_datetimes_equal_parse_datetimes(stamps):
    text = pd.Series(stamps, dtype="string")
    fast = _oxymax_datetimes(text, "cage.csv")
    assert fast.dtype == "datetime64[ns]"
    np.testing.assert_array_equal(fast.to_numpy(), parse_datetimes(text, path="cage.csv").to_numpy())


def test_oxymax_datetimes_bad_stamp_names_file_and_value():
    text = pd.Series(["2/30/2024 1:00:00 PM", "13/45/2024 1:00:00 PM"], dtype="string")
    with pytest.raises(FormatError, match=r"cage\.csv.*|2/30/2024") as info:
        _oxymax_datetimes(text, "cage.csv")
    assert "2/30/2024" in str(info.value) and "cage.csv" in str(info.value)


def test_without_pyarrow_the_general_parsers_are_used(monkeypatch):
    import sfone.io.calorimetry.clams as clams

    monkeypatch.setattr(clams, "pa", None)
    numbers = pd.Series(["1", "ERR:0", " 2.5"], dtype="string")
    np.testing.assert_array_equal(clams._column_number(numbers).to_numpy(), [1.0, np.nan, 2.5])
    stamps = pd.Series(["3/2/2026 7:00:00 PM"], dtype="string")
    assert clams._oxymax_datetimes(stamps, "cage.csv").iloc[0] == pd.Timestamp("2026-03-02 19:00")
