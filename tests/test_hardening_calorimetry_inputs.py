"""Regressions from fuzzing the calorimetry text parsers: each damaged file is a FormatError
naming the file and the problem (before: KeyError, IndexError, OutOfBoundsDatetime...)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sfone
from sfone.exceptions import FormatError

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


def _edited(tmp_path, name: str, edit) -> Path:
    source = SAMPLES / name
    if not source.exists():
        pytest.skip(f"{name} not in data_samples/")
    path = tmp_path / name
    path.write_bytes(edit(source.read_bytes()))
    return path


def _refused(path: Path, fmt: str, match: str) -> None:
    with pytest.raises(FormatError, match=match) as info:
        sfone.read(path, format=fmt)
    assert path.name in str(info.value)


def test_promethion_cage_without_vco2(tmp_path):
    path = _edited(tmp_path, "calorimetry_promethion_macro.csv",
                   lambda b: b.replace(b"vco2_2,", b"vcoX_2,", 1))
    _refused(path, "promethion", "cage 2 has 'vo2_2' but no 'vco2_2' column")


def test_treadmill_damaged_start_line(tmp_path):
    path = _edited(tmp_path, "stress_test_WT.csv",
                   lambda b: b.replace(b"# start: 2026-03-02", b"# start: 2026-13-02"))
    _refused(path, "treadmill", r"'# start:' line: found '2026-13-02 07:00:00', expected a date")


def test_clams_damaged_year(tmp_path):
    path = _edited(tmp_path, "calorimetry_clams_cage0101.csv",
                   lambda b: b.replace(b"/2026 ", b"/3026 "))
    _refused(path, "clams", r"column 'DATE/TIME': timestamps from 3026-.* are outside the years "
                            "1677-2262")


def test_clams_header_without_vco2(tmp_path):
    path = _edited(tmp_path, "calorimetry_clams_cage0101.csv",
                   lambda b: b.replace(b",VCO2,", b",VCOX,", 1))
    _refused(path, "clams", "the column header after ':DATA' has no VCO2")


def test_clams_whose_only_data_row_is_cut(tmp_path):
    def cut(data: bytes) -> bytes:
        lines = data.split(b"\n")
        first = next(i for i, line in enumerate(lines) if line[:1].isdigit())  # data row 1
        return b"\n".join(lines[:first]) + b"\n" + lines[first][:20]
    path = _edited(tmp_path, "calorimetry_clams_cage0101.csv", cut)
    with pytest.warns(sfone.exceptions.DataRepairWarning, match="file cut off"):
        _refused(path, "clams", r"data block after ':DATA': only the header line")
