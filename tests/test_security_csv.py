"""sfone's one CSV writer: text that a spreadsheet would run as a formula is neutralised, numbers
never are, floats read back exactly, and the write is atomic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sfone._atomic import neutralize_formula, read_csv, restore_formula, write_csv

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "-inf", "-A1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_text_gets_a_leading_quote(text):
    assert neutralize_formula(text) == "'" + text


@pytest.mark.parametrize("value", ["-1.5", "+3", "-1e-3", "mouse-1", "a=b", "", -1.5, 7, None])
def test_numbers_and_harmless_text_are_unchanged(value):
    assert neutralize_formula(value) == value


QUOTED = ["'=x", "''=x", "'hello", "'", "'-1.5", "'+cmd"]


@pytest.mark.parametrize("text", HOSTILE + QUOTED + ["-1.5", "mouse-1", "a=b", ""])
def test_restore_gives_back_exactly_the_text_before_neutralising(text):
    assert restore_formula(neutralize_formula(text)) == text


def test_text_already_quoted_before_a_formula_gets_one_more_quote():
    assert neutralize_formula("'=x") == "''=x" and neutralize_formula("'hello") == "'hello"
    assert restore_formula("'hello") == "'hello"  # a quote that was in the data stays


def test_read_csv_reads_back_the_table_write_csv_wrote(tmp_path):
    table = pd.DataFrame({"subject": HOSTILE[:6] + QUOTED[:2], "value": np.arange(8) - 4.5,
                          "=col": ["a"] * 8})
    back = read_csv(write_csv(table, tmp_path / "t.csv"))
    pd.testing.assert_frame_equal(back, table)


def test_write_csv_neutralises_cells_and_header_but_not_numbers(tmp_path):
    table = pd.DataFrame({"subject": HOSTILE, "value": np.linspace(-1.5, 1.0, len(HOSTILE)),
                          "count": np.arange(-4, 4), "=evil()": ["-4"] * len(HOSTILE),
                          "group": pd.Categorical(["=x", "ctrl"] * 4)})
    path = write_csv(table, tmp_path / "out.csv")
    back = pd.read_csv(path, keep_default_na=False, dtype=str)
    assert list(back.columns) == ["subject", "value", "count", "'=evil()", "group"]
    assert all(cell.startswith("'") for cell in back["subject"])
    assert back["subject"].str[1:].tolist() == HOSTILE  # "\r" is quoted, not a line break
    assert back["value"].iloc[0] == "-1.5" and back["count"].iloc[0] == "-4"
    assert back["'=evil()"].tolist() == ["-4"] * len(HOSTILE)  # text that is a number
    assert back["group"].tolist() == ["'=x", "ctrl"] * 4
    assert table["subject"].tolist() == HOSTILE  # the caller's table is not modified


def test_tables_without_carriage_returns_quote_nothing(tmp_path):
    table = pd.DataFrame({"subject": ["=a", "b"], "value": [-1.5, 2.0]})
    assert write_csv(table, tmp_path / "out.csv").read_text() == (
        "subject,value\n'=a,-1.5\nb,2.0\n")


def test_text_index_is_neutralised(tmp_path):
    table = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index(["=cmd", "m2"], name="subject"))
    text = write_csv(table, tmp_path / "out.csv", index=True).read_text()
    assert text == "subject,v\n'=cmd,1.0\nm2,2.0\n"


def test_default_float_policy_reads_back_exactly(tmp_path):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1e-7, 50), rng.normal(0, 1e9, 50), [0.1, 1 / 3]])
    path = write_csv(pd.DataFrame({"x": values}), tmp_path / "x.csv")
    np.testing.assert_array_equal(pd.read_csv(path)["x"].to_numpy(), values)
    assert "0.1\n" in path.read_text()  # shortest text, not 0.10000000000000001


def test_float_format_and_missing_values(tmp_path):
    table = pd.DataFrame({"x": [1 / 3, np.nan], "y": [1.0, 2.0]})
    assert write_csv(table, tmp_path / "a.csv", float_format="%.3g").read_text() == (
        "x,y\n0.333,1\n,2\n")
    assert write_csv(table, tmp_path / "b.csv", float_format="%.3g",
                     na_rep="NA").read_text() == "x,y\n0.333,1\nNA,2\n"


def test_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = write_csv(pd.DataFrame({"x": [1]}), tmp_path / "x.csv")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(OSError, match="disk full"):
        write_csv(pd.DataFrame({"x": [2]}), path)
    assert path.read_text() == "x\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_columns_of_objects_that_are_not_text_are_written_as_they_are(tmp_path):
    table = pd.DataFrame({"o": pd.Series([1, 2], dtype=object), "b": [True, False],
                          "mixed": ["=a", 3], "none": [None, None]})
    assert write_csv(table, tmp_path / "o.csv").read_text() == (
        "o,b,mixed,none\n1,True,'=a,\n2,False,3,\n")
