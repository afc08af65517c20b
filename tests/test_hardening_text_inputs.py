"""Locale and column mix-ups in text files: repaired with a warning or refused with a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sfone
from sfone.exceptions import DataRepairWarning, FormatError

ROOT = Path(__file__).resolve().parents[1]
NPM = ROOT / "data_samples" / "photometry_npm.csv"


def test_latin1_generic_csv_is_decoded_with_a_warning(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("Time (\u00b5s),signal\n0,1.5\n500000,1.25\n1000000,1.0\n".encode("latin-1"))
    with pytest.warns(DataRepairWarning, match=r"export\.csv: not UTF-8 text; decoded as Latin-1"):
        ds = sfone.read(path)
    np.testing.assert_allclose(ds["time"].values, [0.0, 0.5, 1.0])  # µs read as microseconds
    np.testing.assert_allclose(ds["signal"].values, [1.5, 1.25, 1.0])


def test_mixed_decimal_separators_are_refused_with_a_hint(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("Time(s),signal\n0.0,1.5\n0,05,1,25\n0.1,1.0\n")
    with pytest.raises(FormatError, match=r"mixed\.csv: cannot parse as photometry CSV: .*line 3"
                                          r".*decimal commas"):
        sfone.read(path)


def test_swapped_npm_frame_counter_and_timestamp_are_refused(tmp_path):
    lines = NPM.read_text().splitlines(keepends=True)
    path = tmp_path / "swapped.csv"
    path.write_text(lines[0].replace("FrameCounter,SystemTimestamp",
                                     "SystemTimestamp,FrameCounter") + "".join(lines[1:]))
    with pytest.raises(FormatError, match=r"swapped\.csv: row 2, column 'FrameCounter': found "
                                          r"100\.025, expected a whole frame number"):
        sfone.read(path)


def test_npm_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(NPM.read_bytes().replace(b"G0", b"G0\xe9", 1).replace(b"\n1,", b"\n\xe91,", 1))
    with pytest.raises(FormatError, match=r"latin\.csv: not UTF-8 text: byte 0xe9 at position"):
        sfone.read(path, format="npm")
