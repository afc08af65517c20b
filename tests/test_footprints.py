"""ROI footprints in the data contract: real fixtures of suite2p, CaImAn and Inscopix .isxd,
round trips through netCDF/zarr, lazy readers and cohorts, schema checks, helpers."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from scipy import ndimage, sparse
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import SchemaError
from sfone.footprints import (
    MASK_VARIABLES,
    footprint_centroids,
    footprint_image,
    footprint_matrix,
    has_footprints,
    select_rois,
)
from sfone.io.imaging._isxd import read_isxd_cellset
from sfone.io.imaging.inscopix import ISXD_MASK_THRESHOLD
from sfone.io.imaging.suite2p import read_suite2p
from sfone.simulate.imaging import simulate_session, write_caiman_hdf5, write_suite2p

FISSA = ("imaging", "suite2p_fissa_example_v0.10", "suite2p", "plane0")
TWO_PLANE = ("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p")
CAIMAN = ("imaging", "caiman_cnmfe_inscopix_ideas", "sample_cellset_msr_1.hdf5")
ISXD = ("imaging", "inscopix_isx_exports_ideas_nca",
        "cellset_accepted_undecided_and_rejected_cells.isxd")


def _pixels_of(ds, position: int):
    keep = ds["mask_roi"].values == position
    return ds["mask_y"].values[keep], ds["mask_x"].values[keep], ds["mask_weight"].values[keep]


def test_suite2p_masks_are_stat_ypix_xpix_lam_and_mean_image_is_meanimg():
    folder = fixture_path(*FISSA)
    ds = sfone.read(folder)
    stat = np.load(folder / "stat.npy", allow_pickle=True)
    ops = np.load(folder / "ops.npy", allow_pickle=True).item()
    assert ds.sizes["mask_pixel"] == sum(len(s["ypix"]) for s in stat)
    assert ds.attrs["fov_shape"] == [ops["Ly"], ops["Lx"]] == [176, 156]
    for position in (0, 11, 22):
        y, x, w = _pixels_of(ds, position)
        np.testing.assert_array_equal(y, stat[position]["ypix"])
        np.testing.assert_array_equal(x, stat[position]["xpix"])
        np.testing.assert_allclose(w, stat[position]["lam"])
    np.testing.assert_allclose(ds["mean_image"].values, ops["meanImg"], rtol=1e-6)
    assert ds["mean_image"].dims == ("fov_y", "fov_x")
    assert [ds[n].dtype for n in MASK_VARIABLES] == [np.int64, np.int32, np.int32, np.float32]
    assert np.all(np.diff(ds["mask_roi"].values) >= 0)


def test_suite2p_two_planes_offset_rois_and_combined_keeps_the_mosaic_mean_image():
    ds = sfone.read(fixture_path(*TWO_PLANE))
    stat1 = np.load(fixture_path(*TWO_PLANE, "plane1", "stat.npy"), allow_pickle=True)
    n0 = int((ds["plane"].values == 0).sum())
    y, x, _ = _pixels_of(ds, n0 + 2)  # third ROI of plane 1
    np.testing.assert_array_equal(y, stat1[2]["ypix"])
    np.testing.assert_array_equal(x, stat1[2]["xpix"])
    assert ds.attrs["fov_shape"] == [64, 64] and "mean_image" not in ds  # one image per plane
    combined = read_suite2p(fixture_path(*TWO_PLANE), combined=True)
    db = np.load(fixture_path(*TWO_PLANE, "combined", "db.npy"), allow_pickle=True).item()
    assert combined.attrs["fov_shape"] == [64, 128]
    np.testing.assert_allclose(combined["mean_image"].values, db["meanImg"], rtol=1e-6)


def test_caiman_footprints_follow_fortran_pixel_order_of_real_cnmfe_file():
    path = fixture_path(*CAIMAN)
    ds = sfone.read(path)
    with h5py.File(path) as f:
        group = f["estimates/A"]
        A = sparse.csc_matrix((group["data"][()], group["indices"][()], group["indptr"][()]),
                              shape=tuple(group["shape"][()]))
        dims = tuple(int(n) for n in f["dims"][()])
    assert ds.attrs["fov_shape"] == [400, 640] and ds.sizes["mask_pixel"] == A.nnz
    matrix = footprint_matrix(ds).toarray()
    for k in range(A.shape[1]):
        image = A[:, k].toarray().reshape(dims, order="F")
        np.testing.assert_allclose(matrix[k].reshape(dims), image, rtol=1e-6)
        # a CNMF-E footprint is one compact blob: it fills most of its bounding box (read in
        # C order, the same pixels would scatter into thin stripes)
        y, x, _ = _pixels_of(ds, k)
        fill = y.size / ((np.ptp(y) + 1) * (np.ptp(x) + 1))
        assert fill > 0.5 and ndimage.label(image > 0)[1] == 1
    np.testing.assert_allclose(footprint_centroids(ds), np.column_stack([ds.y, ds.x]), atol=1e-6)


def test_isxd_footprints_are_the_cell_images_above_threshold():
    path = fixture_path(*ISXD)
    ds = sfone.read(path)
    images = read_isxd_cellset(path)["images"]
    assert ds.attrs["fov_shape"] == list(images.shape[1:]) == [52, 50]
    for k in range(images.shape[0]):
        y, x, w = _pixels_of(ds, k)
        expected = images[k] > ISXD_MASK_THRESHOLD * images[k].max()
        assert y.size == expected.sum() > 0
        assert np.all(expected[y, x])
        np.testing.assert_allclose(w, images[k][y, x])
        # at this threshold a cell is one blob (two undecided cells add a single stray pixel)
        labels, n = ndimage.label(expected)
        weight = ndimage.sum(images[k], labels, range(1, n + 1))
        assert weight.max() / weight.sum() > 0.95
    assert "mean_image" not in ds  # a cell set holds no movie mean


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
@pytest.mark.parametrize("parts", [FISSA, CAIMAN, ISXD], ids=["suite2p", "caiman", "isxd"])
def test_footprints_survive_convert_round_trip(parts, suffix, tmp_path):
    if suffix == ".zarr":
        pytest.importorskip("zarr")
    ds = sfone.read(fixture_path(*parts))
    back = sfone.read(sfone.write_dataset(ds, tmp_path / f"copy{suffix}"))
    for name in (*MASK_VARIABLES, *(["mean_image"] if "mean_image" in ds else [])):
        assert back[name].dtype == ds[name].dtype
        np.testing.assert_array_equal(back[name].values, ds[name].values)
    assert list(np.ravel(back.attrs["fov_shape"])) == ds.attrs["fov_shape"]
    assert (footprint_matrix(back) != footprint_matrix(ds)).nnz == 0
    lazy = sfone.read(tmp_path / f"copy{suffix}", chunks={})
    assert type(lazy["mask_y"].data).__module__.startswith("dask")
    np.testing.assert_array_equal(lazy["mask_x"].values, ds["mask_x"].values)


@pytest.mark.parametrize("parts", [FISSA, CAIMAN, ISXD], ids=["suite2p", "caiman", "isxd"])
def test_lazy_readers_give_the_same_footprints_as_dask(parts):
    eager = sfone.read(fixture_path(*parts))
    lazy = sfone.read(fixture_path(*parts), chunks="auto")
    for name in MASK_VARIABLES:
        assert type(lazy[name].data).__module__.startswith("dask")
        np.testing.assert_array_equal(lazy[name].values, eager[name].values)


def test_simulated_suite2p_and_caiman_cohort_sessions_carry_footprints(tmp_path):
    session = simulate_session(n_rois=6, n_frames=300, n_noncells=1, random_state=3)
    write_suite2p(session, tmp_path / "m1_d1")
    write_caiman_hdf5(session, tmp_path / "m1_d8.hdf5")
    (tmp_path / "manifest.csv").write_text("path,subject,session\nm1_d1,m1,d1\nm1_d8.hdf5,m1,d8\n")
    cohort = sfone.open_cohort(tmp_path / "manifest.csv")
    for key in cohort:
        ds = cohort[key]
        assert has_footprints(ds) and ds.attrs["fov_shape"] == [session.attrs["Ly"],
                                                                 session.attrs["Lx"]]
        centroids = footprint_centroids(ds.compute())
        np.testing.assert_allclose(centroids, np.column_stack([session.y, session.x]), atol=0.6)


def test_validate_names_broken_footprints():
    ds = sfone.read(fixture_path(*FISSA))
    roi = ds["mask_roi"].values.copy()
    roi[[0, -1]] = roi[[-1, 0]]
    with pytest.raises(SchemaError, match="'mask_roi' is not sorted"):
        sfone.validate(ds.assign(mask_roi=("mask_pixel", roi, ds["mask_roi"].attrs)))
    with pytest.raises(SchemaError, match=r"'mask_y' spans .* outside the field of view"):
        sfone.validate(ds.assign(mask_y=ds["mask_y"] + np.int32(170)))
    with pytest.raises(SchemaError, match="mask_weight missing"):
        sfone.validate(ds.drop_vars("mask_weight"))
    with pytest.raises(SchemaError, match="'mask_x' has dtype float64"):
        sfone.validate(ds.assign(mask_x=ds["mask_x"].astype(float)))
    broken = ds.copy()
    broken.attrs["fov_shape"] = [176]
    with pytest.raises(SchemaError, match="attr 'fov_shape'"):
        sfone.validate(broken)


def test_select_rois_renumbers_masks_and_helpers_stay_sparse():
    ds = sfone.read(fixture_path(*FISSA))
    keep = np.array([3, 0, 20])
    subset = select_rois(ds, keep)
    sfone.validate(subset)
    for new, old in enumerate(keep):
        np.testing.assert_array_equal(_pixels_of(subset, new)[0], _pixels_of(ds, old)[0])
    matrix = footprint_matrix(ds, normalize="l2")
    assert sparse.issparse(matrix) and matrix.nnz <= ds.sizes["mask_pixel"]
    np.testing.assert_allclose(sparse.linalg.norm(matrix, axis=1), 1.0, rtol=1e-6)
    image = footprint_image(ds)
    assert image.shape == (176, 156) and image.max() == pytest.approx(1.0)
