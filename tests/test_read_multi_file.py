"""sfone.read of several files: only for formats declared multi_file (issue 17, move 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import FormatError, QualityWarning
from sfone.io import get_format
from sfone.io.calorimetry.clams import read_clams

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


def test_clams_is_the_declared_multi_file_format():
    assert get_format("clams").multi_file
    assert not get_format("suite2p").multi_file


def test_read_a_list_of_clams_cages_equals_the_reader():
    paths = [fixture_path("calorimetry", "clams_oxymax_2015-01-06_cage0101.csv"),
             fixture_path("calorimetry", "clams_oxymax_2015-01-06_cage0102.csv")]
    with pytest.warns(QualityWarning, match="flagged"):  # the real cages have flagged readings
        ds = sfone.read(paths)
    with pytest.warns(QualityWarning, match="flagged"):
        direct = read_clams(paths)
    assert ds.sizes["subject"] == 2
    assert list(ds["subject"].values) == list(direct["subject"].values)
    np.testing.assert_array_equal(ds["vo2"].values, direct["vo2"].values)


def test_a_list_of_single_file_formats_or_mixed_formats_is_refused(tmp_path):
    ppd = SAMPLES / "photometry_pyphotometry.ppd"
    with pytest.raises(FormatError, match="reads one file at a time"):
        sfone.read([ppd, ppd])
    with pytest.raises(FormatError, match="different formats"):
        sfone.read([SAMPLES / "calorimetry_clams_cage0101.csv", ppd])
    with pytest.raises(FormatError, match="empty list"):
        sfone.read([])
    with pytest.raises(FileNotFoundError):
        sfone.read([SAMPLES / "calorimetry_clams_cage0101.csv", tmp_path / "missing.csv"],
                   format="clams")
