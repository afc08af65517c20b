"""Real export layouts of issue 30 (interoperability round 2): read on their real file where the
shared fixtures have one, else on a faithful generated copy of the layout with its quirks."""

from __future__ import annotations

import numpy as np
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import DataRepairWarning, FormatError

FPA = ("imaging", "inscopix_csv_no_status_fpa")


def test_inscopix_csv_without_status_round_trips_as_unknown(tmp_path):
    from sfone.io.imaging._writers import write_inscopix_csv

    ds = sfone.read(fixture_path(*FPA, "Inscopix.csv"))
    path = write_inscopix_csv(ds, tmp_path / "no_status.csv")
    with open(path) as fh:
        fh.readline()
        assert not fh.readline().startswith("Time(s)/Cell Status")  # written without the row
    back = sfone.read(path)
    assert (back["status"].values == "unknown").all() and not back["iscell"].values.any()
    assert back.attrs["fs"] == 20.0
    np.testing.assert_allclose(back["F"].values, ds["F"].values, rtol=1e-6)


# -- one centroid definition ------------------------------------------------------------------

NEUROCONV = ("imaging", "neuroconv_nwb")
ISXD = ("imaging", "inscopix_isx_exports_ideas_nca",
        "cellset_accepted_undecided_and_rejected_cells.isxd")


def _centroids(ds):
    return np.column_stack([ds["y"].values, ds["x"].values])


@pytest.mark.parametrize("nwb, source, options", [
    ("s2p_fissa.nwb", ("imaging", "suite2p_fissa_example_v0.10", "suite2p"), {"fs": 1.0}),
    ("s2p_v110_plane1.nwb", ("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p", "plane1"),
     {}),
    ("isxd_cellset.nwb", ISXD, {}),
])
def test_one_centroid_from_source_neuroconv_nwb_and_sfone_round_trip(tmp_path, nwb, source,
                                                                     options):
    """suite2p (was stat['med'], up to 7.3 px off), .isxd (was the positive part of the whole
    cell image, up to 16 px off) and NWB give the weighted centroid of the same footprint."""
    pytest.importorskip("pynwb")
    from sfone.footprints import footprint_centroids
    from sfone.io.imaging.nwb import read_nwb_segmentation

    src = sfone.read(fixture_path(*source), **options)
    np.testing.assert_allclose(_centroids(src), footprint_centroids(src), atol=1e-9)
    theirs = read_nwb_segmentation(fixture_path(*NEUROCONV, nwb))
    for var in ("mask_roi", "mask_y", "mask_x"):
        np.testing.assert_array_equal(theirs[var].values, src[var].values)
    np.testing.assert_allclose(_centroids(theirs), _centroids(src), atol=1e-9)
    back = sfone.read(sfone.to_nwb(src, tmp_path / "ours.nwb",
                                   session_start_time="2026-01-01T00:00:00+00:00"))
    np.testing.assert_allclose(_centroids(back), _centroids(src), atol=1e-9)
    if "med_y" in src.coords:  # suite2p's own med is kept, and is another point
        assert np.abs(src["med_x"].values - src["x"].values).max() > 1.0


def test_isxd_centroids_agree_with_the_largest_component_centres_isx_stored():
    from sfone.io.imaging._isxd import read_isxd_header

    path = fixture_path(*ISXD)
    ds = sfone.read(path)
    metrics = read_isxd_header(path)[0]["cellMetrics"]
    centre = np.array([[m[2]["y"], m[2]["x"]] for m in metrics], dtype=float)
    valid = centre[:, 0] > -1e18  # isx writes INT64_MIN for a cell without a component
    assert valid.sum() == 15
    distance = np.hypot(*(_centroids(ds)[valid] - centre[valid]).T)
    assert distance.max() < 1.5  # isx stores whole pixels
    assert ds["y"].attrs["units"] == "pixel"


def test_nwb_written_with_centroid_only_masks_in_the_old_x_column_convention(tmp_path):
    """sfone < 0.2 wrote one-pixel masks (x = column) plus centroid columns: the columns are
    read, the masks are not footprints; NeuroConv's convention (x = row) is covered above."""
    pynwb = pytest.importorskip("pynwb")
    from datetime import UTC, datetime

    from pynwb.ophys import ImageSegmentation, OpticalChannel

    from sfone.io.imaging._nwb_masks import CENTROID_ONLY

    nwbfile = pynwb.NWBFile(session_description="old sfone", identifier="old-1",
                            session_start_time=datetime(2025, 1, 1, tzinfo=UTC))
    device = nwbfile.create_device(name="Microscope")
    plane = nwbfile.create_imaging_plane(
        name="ImagingPlane", device=device, indicator="GCaMP", location="V1",
        excitation_lambda=920.0, imaging_rate=10.0, description="plane",
        optical_channel=OpticalChannel(name="ch", description="ch", emission_lambda=510.0))
    module = nwbfile.create_processing_module(name="ophys", description="ophys")
    segmentation = ImageSegmentation()
    module.add(segmentation)
    table = segmentation.create_plane_segmentation(name="PlaneSegmentation",
                                                   imaging_plane=plane,
                                                   description=f"ROIs; {CENTROID_ONLY[1]}")
    rows, cols = np.array([5.25, 40.5]), np.array([30.75, 2.0])
    table.add_column(name="centroid_y", description="row")
    table.add_column(name="centroid_x", description="column")
    for r, c in zip(rows, cols, strict=True):
        table.add_roi(pixel_mask=[(int(round(c)), int(round(r)), 1.0)], centroid_y=r,
                      centroid_x=c)
    region = table.create_roi_table_region(region=[0, 1], description="all")
    from pynwb.ophys import Fluorescence, RoiResponseSeries

    module.add(Fluorescence(roi_response_series=RoiResponseSeries(
        name="RoiResponseSeries", data=np.ones((20, 2)), rois=region, unit="a.u.", rate=10.0)))
    path = tmp_path / "old.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    ds = sfone.read(path)
    np.testing.assert_array_equal(_centroids(ds), np.column_stack([rows, cols]))
    assert "mask_roi" not in ds


# -- TSE LabMaster 6.9.5 with a duplicated first data row -------------------------------------

TSE_695 = ("calorimetry", "tse_labmaster_v6.9.5_dako_duplicated_row.csv")


def test_tse_695_exact_duplicate_rows_dropped_with_a_warning_naming_subject_and_count():
    path = fixture_path(*TSE_695)
    with pytest.raises(FormatError, match="decimal separators look destroyed"):
        sfone.read(path)
    with pytest.warns(DataRepairWarning) as caught:
        ds = sfone.read(path, repair="decimal")
    messages = [str(w.message) for w in caught]
    dropped = [m for m in messages if "exact duplicate" in m]
    assert dropped == [f"{path}: dropped 2 exact duplicate row(s), each equal cell for cell to an "
                       "earlier row: subject '120632': 2 (lines 20, 26)"]
    assert ds.sizes["subject"] == 12
    first = ds["datetime"].sel(subject="120632").values
    assert str(first[0])[:16] == "2020-01-20T18:23" and str(first[1])[:16] == "2020-01-20T19:02"
    # line 19 (the kept copy): VO2(3) 86 ml/h, VCO2(3) 75 ml/h
    assert ds["vo2"].sel(subject="120632").values[0] == 86.0
    assert ds["vco2"].sel(subject="120632").values[0] == 75.0
    import re

    text = open(path, encoding="latin-1").read()
    n_rows = len(re.findall(r"^\d\d\.\d\d\.\d{4};", text, flags=re.M))
    assert n_rows == 4836 and int(ds["datetime"].notnull().sum()) == n_rows - 2


def test_tse_rows_with_the_same_time_but_other_values_stay_an_error(tmp_path):
    lines = open(fixture_path(*TSE_695), encoding="latin-1").read().split("\n")
    assert lines[19] == lines[18]  # the duplicated first data row (file lines 19 and 20)
    lines[19] = lines[19].replace(";86;", ";87;", 1)  # same time, VO2(3) differs
    path = tmp_path / "same_time.csv"
    path.write_text("\n".join(lines), encoding="latin-1")
    with pytest.warns(DataRepairWarning, match="repaired spreadsheet-damaged decimals"), \
            pytest.raises(FormatError, match=r"subject '120632', line 20: timestamp 2020-01-20 "
                                             r"18:23:00 does not come after"):
        sfone.read(path, repair="decimal")
