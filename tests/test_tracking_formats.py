"""``sfone track`` on real sessions of each format: suite2p, CaImAn, Inscopix .isxd, NWB. Day 8 is the real day-1 file re-imaged through a known rigid transform
and written back in the same format (tests/moved_sessions.py), so every ROI's true partner is
itself: the CLI must recover the transform and pair each ROI with itself."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from moved_sessions import (
    write_moved_caiman,
    write_moved_isxd,
    write_moved_nwb,
    write_moved_suite2p,
)
from shared_fixtures import fixture_path

import sfone
from sfone.cli import main
from sfone.tracking import RigidTransform


def _track_cli(day1, day8, tmp_path, *extra):
    out = tmp_path / "tracks.csv"
    result = CliRunner().invoke(main, ["track", str(day1), str(day8), "--names", "day1,day8",
                                       "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["track", "day1", "day8", "p_same"]
    saved = json.loads((tmp_path / "tracks_transforms.json").read_text())
    return table, saved["sessions"]["day8"]


def _check(table, found, true, kept, rois, *, image, angle_tol=0.3, shift_tol=0.5):
    assert found["image"] == image
    assert found["angle_deg"] == pytest.approx(true.angle_deg, abs=angle_tol)
    assert (found["shift_y"], found["shift_x"]) == pytest.approx(
        (true.shift_y, true.shift_x), abs=shift_tol)
    both = table.dropna(subset=["day1", "day8"])
    # precision: every match pairs a ROI with itself; recall: every tracked ROI that stays
    # (>= 90 % of its weight) inside the day-8 field is matched
    assert (both["day1"] == both["day8"]).all(), both[both["day1"] != both["day8"]]
    expected = {int(r) for r, k in zip(rois, kept, strict=True) if k >= 0.9}
    assert expected and expected <= set(both["day1"].astype(int))
    assert both["p_same"].between(0.5, 1.0).all()


def test_track_cli_on_real_suite2p_plane_and_its_moved_copy(tmp_path):
    plane = fixture_path("imaging", "suite2p_fissa_example_v0.10", "suite2p", "plane0")
    true = RigidTransform(3.0, 2.5, -3.0, 87.5, 77.5)
    day8, kept = write_moved_suite2p(plane, tmp_path / "day8" / "plane0", true)
    table, found = _track_cli(plane, day8, tmp_path)
    iscell = sfone.read(plane)["iscell"].values.astype(bool)
    # default: only iscell ROIs (21 of 23) are tracked
    assert set(table["day1"].dropna().astype(int)) <= set(np.flatnonzero(iscell))
    _check(table, found, true, kept[iscell], np.flatnonzero(iscell), image="mean")


def test_track_cli_on_real_caiman_cnmfe_file_and_its_moved_copy(tmp_path):
    source = fixture_path("imaging", "caiman_cnmfe_inscopix_ideas", "sample_cellset_msr_1.hdf5")
    true = RigidTransform(-2.0, -4.0, 3.5, 199.5, 319.5)
    day8, kept = write_moved_caiman(source, tmp_path / "day8.hdf5", true)
    table, found = _track_cli(source, day8, tmp_path)
    rois = sfone.read(source)["roi"].values
    _check(table, found, true, kept, rois, image="footprints")


@pytest.mark.parametrize("name", ["s2p_fissa.nwb", "caiman_msr1.nwb"])
def test_track_cli_on_real_neuroconv_nwb_file_and_its_moved_copy(tmp_path, name):
    pytest.importorskip("pynwb", reason="NWB needs the nwb extra (part of make test)")
    source = fixture_path("imaging", "neuroconv_nwb", name)
    ds = sfone.read(source)
    assert "mask_roi" in ds  # the NWB reader keeps the pixel masks as footprints
    rows, cols = ds.attrs["fov_shape"]
    true = RigidTransform(2.5, -2.0, 3.0, (rows - 1) / 2, (cols - 1) / 2)
    day8, kept = write_moved_nwb(source, tmp_path / "day8.nwb", true)
    table, found = _track_cli(source, day8, tmp_path, "--all-rois")
    has_mean = "mean_image" in ds
    _check(table, found, true, kept, ds["roi"].values,
           image="mean" if has_mean else "footprints")


def test_track_cli_on_real_isxd_cell_set_and_its_moved_copy(tmp_path):
    source = fixture_path("imaging", "inscopix_isx_exports_ideas_nca",
                          "cellset_accepted_undecided_and_rejected_cells.isxd")
    ds = sfone.read(source)
    rows, cols = ds.attrs["fov_shape"]
    true = RigidTransform(3.0, 1.5, -2.0, (rows - 1) / 2, (cols - 1) / 2)
    day8, kept = write_moved_isxd(source, tmp_path / "day8.isxd", true)
    table, found = _track_cli(source, day8, tmp_path, "--all-rois", "--max-rotation", "6")
    _check(table, found, true, kept, ds["roi"].values, image="footprints", angle_tol=0.5)
