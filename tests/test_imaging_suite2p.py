"""suite2p reader: every real fixture (shapes, rates, counts from PROVENANCE), bad input, writers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import DataRepairWarning, FormatError
from sfone.io.imaging.suite2p import read_suite2p
from sfone.simulate.imaging import simulate_session, write_suite2p

FISSA = ("imaging", "suite2p_fissa_example_v0.10")
IDEAS = ("imaging", "suite2p_inscopix_ideas_sample")
TWO_PLANE = ("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p")


@pytest.mark.parametrize("parts", [FISSA, FISSA + ("suite2p",), FISSA + ("suite2p", "plane0")])
def test_fissa_v010_any_folder_level(parts):
    ds = sfone.read(fixture_path(*parts))
    assert ds.attrs["source_format"] == "suite2p"
    assert ds["F"].shape == (23, 864) and ds["F"].dtype == np.float32
    assert set(ds.data_vars) == {"F", "Fneu", "spks", "mask_roi", "mask_y", "mask_x",
                                 "mask_weight", "mean_image"}  # footprints from stat, ops meanImg
    assert int(ds["iscell"].sum()) == 21
    assert ds.attrs["suite2p_layout"] == "<=0.14"
    assert ds.attrs["fs"] == 1.0  # the file's placeholder
    assert ds.attrs["neuropil_coefficient"] == 0.7 and ds.attrs["tau"] == 0.7
    assert (ds.attrs["Ly"], ds.attrs["Lx"]) == (176, 156)
    assert ds.attrs["frames_per_file"] == [288, 288, 288]
    np.testing.assert_array_equal(np.bincount(ds["file"].values), [288, 288, 288])
    assert ds["file"].values[287] == 0 and ds["file"].values[288] == 1
    assert ds.attrs["file_list"] == ["AVG_A01.tif", "AVG_A02.tif", "AVG_A03.tif"]
    np.testing.assert_array_equal(ds["time"].values, np.arange(864.0))


def test_fissa_values_memmapped_and_med_coords():
    folder = fixture_path(*FISSA, "suite2p", "plane0")
    ds = read_suite2p(folder)
    raw = np.load(folder / "F.npy")
    assert isinstance(ds["F"].variable._data, np.memmap)
    np.testing.assert_array_equal(ds["F"].values, raw)
    stat = np.load(folder / "stat.npy", allow_pickle=True)
    # y/x: the lam-weighted centroid of ypix/xpix; stat['med'] (a pixel of the ROI) kept apart
    lam = stat[0]["lam"] / stat[0]["lam"].sum()
    assert ds["y"][0].item() == pytest.approx((stat[0]["ypix"] * lam).sum())
    assert ds["x"][0].item() == pytest.approx((stat[0]["xpix"] * lam).sum())
    assert (ds["med_y"][0].item(), ds["med_x"][0].item()) == tuple(stat[0]["med"])
    assert ds["y"].attrs["units"] == ds["med_y"].attrs["units"] == "pixel"
    iscell = np.load(folder / "iscell.npy")
    np.testing.assert_allclose(ds["iscell_prob"].values, iscell[:, 1])


def test_fs_override_replaces_placeholder():
    ds = read_suite2p(fixture_path(*FISSA), fs=30.0)
    assert ds.attrs["fs"] == 30.0
    assert ds["time"].values[-1] == pytest.approx(863 / 30.0)


def test_inscopix_ideas_suite2p_with_ops_snapshot():
    ds = sfone.read(fixture_path(*IDEAS))
    assert ds["F"].shape == (54, 300)
    assert int(ds["iscell"].sum()) == 20
    assert ds.attrs["fs"] == pytest.approx(29.8739, abs=1e-4)
    assert (ds.attrs["Ly"], ds.attrs["Lx"]) == (512, 512)
    assert ds.attrs["tau"] == 1.0 and ds.attrs["neuropil_coefficient"] == 0.7


def test_v1_two_planes_concatenated_with_plane_coord():
    ds = sfone.read(fixture_path(*TWO_PLANE))
    assert ds.attrs["suite2p_layout"] == "1.x"
    assert ds["F"].shape == (15, 200)
    assert ds.attrs["fs"] == 10.0 and ds.attrs["neuropil_coefficient"] == 0.7
    assert ds.attrs["suite2p_version"] == "1.1.0"
    np.testing.assert_array_equal(ds["plane"].values, [0] * 7 + [1] * 8)
    np.testing.assert_array_equal(ds["plane_roi"].values, list(range(7)) + list(range(8)))
    plane1 = np.load(fixture_path(*TWO_PLANE, "plane1", "F.npy"))
    np.testing.assert_array_equal(ds["F"].values[7:], plane1)
    combined = np.load(fixture_path(*TWO_PLANE, "combined", "F.npy"))
    np.testing.assert_array_equal(ds["F"].values, combined)  # same ROI order as combined/
    assert ds["time"].values[-1] == pytest.approx(19.9)


def test_v1_parent_folder_and_combined_option():
    parent = fixture_path(*TWO_PLANE).parent
    assert sfone.read(parent)["F"].shape == (15, 200)
    combined = read_suite2p(parent, combined=True)
    assert combined.attrs["planes"] == ["combined"]
    assert combined.attrs["Lx"] == 128  # the mosaic canvas
    np.testing.assert_array_equal(combined["plane"].values, [0] * 7 + [1] * 8)


def test_chunks_gives_lazy_dask_arrays():
    ds = read_suite2p(fixture_path(*TWO_PLANE), chunks={"roi": 4})
    assert type(ds["F"].data).__module__.startswith("dask")
    assert ds["F"].data.chunks[0] == (4, 3, 4, 4)
    np.testing.assert_array_equal(ds["F"].values, read_suite2p(fixture_path(*TWO_PLANE))["F"])


@pytest.fixture
def plane_copy(tmp_path):
    src = fixture_path(*FISSA, "suite2p", "plane0")
    dest = tmp_path / "suite2p" / "plane0"
    shutil.copytree(src, dest)
    return dest


def test_missing_F_names_file(plane_copy):
    (plane_copy / "F.npy").unlink()
    with pytest.raises(FormatError, match="F.npy") as err:
        read_suite2p(plane_copy.parent)
    assert str(plane_copy.parent) in str(err.value)


def test_truncated_npy(plane_copy):
    data = (plane_copy / "Fneu.npy").read_bytes()
    (plane_copy / "Fneu.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"Fneu\.npy.*truncated"):
        read_suite2p(plane_copy)


def test_F_Fneu_shape_mismatch(plane_copy):
    np.save(plane_copy / "Fneu.npy", np.zeros((23, 100), np.float32))
    with pytest.raises(FormatError, match=r"Fneu\.npy has shape \(23, 100\) but F\.npy has "
                                          r"\(23, 864\)"):
        read_suite2p(plane_copy)


def test_iscell_length_mismatch(plane_copy):
    np.save(plane_copy / "iscell.npy", np.ones((20, 2)))
    with pytest.raises(FormatError, match="iscell.npy has 20 rows but F.npy has 23 ROIs"):
        read_suite2p(plane_copy)


def test_unreadable_pickle(plane_copy):
    data = (plane_copy / "stat.npy").read_bytes()
    (plane_copy / "stat.npy").write_bytes(data[:200])
    with pytest.raises(FormatError, match="cannot unpickle stat.npy") as err:
        read_suite2p(plane_copy)
    assert str(plane_copy / "stat.npy") in str(err.value)


def test_missing_iscell_is_reported(plane_copy):
    (plane_copy / "iscell.npy").unlink()
    with pytest.warns(DataRepairWarning, match="no iscell.npy"):
        ds = read_suite2p(plane_copy)
    assert bool(ds["iscell"].all())


def test_not_a_suite2p_folder(tmp_path):
    with pytest.raises(FormatError, match="not a suite2p output folder"):
        read_suite2p(tmp_path)


@pytest.mark.parametrize("layout", ["1.x", "0.14"])
def test_write_suite2p_round_trip(tmp_path, layout):
    truth = simulate_session(n_rois=6, n_frames=300, n_noncells=2, random_state=3)
    folder = write_suite2p(truth, tmp_path, layout=layout)
    assert (folder / "plane0" / ("settings.npy" if layout == "1.x" else "ops.npy")).exists()
    ds = sfone.read(tmp_path)
    assert ds.attrs["suite2p_layout"] == ("1.x" if layout == "1.x" else "<=0.14")
    np.testing.assert_array_equal(ds["F"].values, truth["F"].values)
    np.testing.assert_array_equal(ds["iscell"].values, [True] * 4 + [False] * 2)
    np.testing.assert_array_equal(ds["x"].values, truth["x"].values)
    assert ds.attrs["fs"] == 10.0 and ds.attrs["neuropil_coefficient"] == 0.7
    assert ds.attrs["frames_per_file"] == [150, 150]


def test_write_suite2p_multi_plane(tmp_path):
    truth = simulate_session(n_rois=5, n_frames=100, n_noncells=1, random_state=4)
    truth = truth.assign_coords(plane=("roi", [0, 0, 1, 1, 1]))
    write_suite2p(truth, tmp_path)
    assert sorted(p.name for p in (tmp_path / "suite2p").iterdir() if p.is_dir()) == [
        "plane0", "plane1"]
    ds = read_suite2p(tmp_path)
    np.testing.assert_array_equal(ds["plane"].values, [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(ds["spks"].values, truth["spks"].values)


def test_explicit_timestamps_checked_and_used():
    folder = fixture_path(*FISSA)
    stamps = np.cumsum(np.full(864, 0.033))
    ds = read_suite2p(folder, timestamps=stamps, fs=30.3)
    np.testing.assert_array_equal(ds["time"].values, stamps)
    with pytest.raises(FormatError, match="timestamps has 10 values but the planes have 864"):
        read_suite2p(folder, timestamps=np.arange(10.0))


def test_v1_plane_without_merged_ops(tmp_path):
    # settings['io']['save_ops_orig'] = False: only db.npy + nested settings.npy remain
    plane = tmp_path / "plane0"
    shutil.copytree(fixture_path(*TWO_PLANE, "plane0"), plane)
    (plane / "ops.npy").unlink()
    ds = read_suite2p(plane)
    assert ds.attrs["suite2p_layout"] == "1.x"
    assert ds.attrs["fs"] == 10.0 and ds.attrs["neuropil_coefficient"] == 0.7
    assert ds.attrs["frames_per_file"] == [200] and ds["F"].shape == (7, 200)


def test_no_frame_rate_anywhere(plane_copy):
    (plane_copy / "ops.npy").unlink()
    with pytest.raises(FormatError, match="no frame rate.*pass fs="):
        read_suite2p(plane_copy)
    assert read_suite2p(plane_copy, fs=7.5).attrs["fs"] == 7.5


def test_second_channel_traces_and_redcell(plane_copy):
    F = np.load(plane_copy / "F.npy")
    np.save(plane_copy / "F_chan2.npy", 2 * F)
    redcell = np.zeros((23, 2))
    redcell[[1, 5], 0] = 1
    np.save(plane_copy / "redcell.npy", redcell)
    ds = read_suite2p(plane_copy)
    np.testing.assert_array_equal(ds["F_chan2"].values, 2 * F)
    np.testing.assert_array_equal(np.flatnonzero(ds["redcell"].values), [1, 5])
    np.save(plane_copy / "redcell.npy", redcell[:4])
    with pytest.raises(FormatError, match=r"redcell.npy has shape \(4, 2\) but F.npy has 23"):
        read_suite2p(plane_copy)


def test_planes_of_unequal_length_truncated_with_warning(tmp_path):
    truth = simulate_session(n_rois=4, n_frames=100, n_noncells=1, random_state=8)
    write_suite2p(truth.assign_coords(plane=("roi", [0, 0, 1, 1])), tmp_path)
    plane1 = tmp_path / "suite2p" / "plane1"
    for name in ("F", "Fneu", "spks"):
        np.save(plane1 / f"{name}.npy", np.load(plane1 / f"{name}.npy")[:, :99])
    with pytest.warns(DataRepairWarning, match=r"planes have \[100, 99\] frames; truncated to 99"):
        ds = read_suite2p(tmp_path)
    assert ds.sizes["time"] == 99
    np.testing.assert_array_equal(ds["F"].values, truth["F"].values[:, :99])


def test_all_zero_rows_found_from_the_first_frames_then_confirmed(plane_copy):
    """Rows zero only in the first frames are candidates, not all-zero rows (issue 30: the
    check reads the first frames of every ROI and the candidates in full, not all of F)."""
    from sfone.exceptions import QualityWarning
    from sfone.io.imaging.suite2p import ZERO_ROW_PROBE, _zero_rows

    f = np.load(plane_copy / "F.npy")
    f[3] = 0.0
    f[7, :ZERO_ROW_PROBE] = 0.0  # zero at the start only: not an all-zero row
    f[11, : ZERO_ROW_PROBE + 1] = 0.0
    f[11, -1] = 0.0
    np.save(plane_copy / "F.npy", f)
    np.testing.assert_array_equal(_zero_rows(np.load(plane_copy / "F.npy", mmap_mode="r")), [3])
    with pytest.warns(QualityWarning, match=r"1 of 23 ROIs have an all-zero F row \(ROI 3\)"):
        read_suite2p(plane_copy)
    short = np.zeros((4, ZERO_ROW_PROBE // 2), np.float32)
    short[1, -1] = 1.0
    np.testing.assert_array_equal(_zero_rows(short), [0, 2, 3])
