"""Tracking without suite2p: registration, the same-cell model, track() on footprint sessions
(in memory, CaImAn files, NWB written by sfone), the CLI. Real files of each format:
test_tracking_formats.py."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from scipy import ndimage

import sfone
from sfone.cli import main
from sfone.footprints import add_footprints
from sfone.schema import finalize_dataset
from sfone.simulate.imaging import simulate_session, write_caiman_hdf5
from sfone.tracking import RigidTransform, SameCellModel, register_images, track
from sfone.tracking.register import prepare_image
from sfone.tracking.simulate import simulate_two_days


def _session(truth_day, movie, name, *, mean=True):
    """An imaging Dataset with gaussian footprints at the true centres (3 sigma disks)."""
    n, shape = len(truth_day["cell"]), movie.shape[1:]
    parts = []
    for k, ((cy, cx), sigma) in enumerate(zip(truth_day["centres"], truth_day["sigma"],
                                              strict=True)):
        r = int(np.ceil(3 * sigma))
        yy, xx = np.mgrid[int(cy) - r:int(cy) + r + 2, int(cx) - r:int(cx) + r + 2]
        w = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
        keep = w > np.exp(-4.5)
        parts.append((np.full(keep.sum(), k), yy[keep], xx[keep], w[keep]))
    roi, y, x, w = (np.concatenate(c) for c in zip(*parts, strict=True))
    ds = xr.Dataset({"F": (("roi", "time"), np.zeros((n, 3), np.float32), {"units": "a.u."})},
                    coords={"roi": np.arange(n), "iscell": ("roi", np.ones(n, bool)),
                            "time": ("time", np.arange(3.0), {"units": "s"})}, attrs={"fs": 1.0})
    ds = add_footprints(ds, roi=roi, y=y, x=x, weight=w, shape=shape,
                        mean_image=movie.mean(axis=0) if mean else None)
    return finalize_dataset(ds, modality="imaging", source_format="simulated",
                            source_file=f"<{name}>", session=name)


def _score(result, truth, a="day1", b="day8"):
    pairs = result.matched(a, b)
    cell_a = truth[a]["cell"][pairs[a].to_numpy(int)]
    cell_b = truth[b]["cell"][pairs[b].to_numpy(int)]
    correct = int((cell_a == cell_b).sum())
    n_true = np.intersect1d(truth[a]["cell"], truth[b]["cell"]).size
    return correct / max(len(pairs), 1), correct / n_true


@pytest.fixture(scope="module")
def two_days():
    movies, truth = simulate_two_days(n_frames=20, angle_deg=-3.0, shift=(4.5, 7.0),
                                      random_state=5)
    return movies, truth


def test_register_images_recovers_a_known_rotation_and_shift():
    rng = np.random.default_rng(1)
    tissue = ndimage.gaussian_filter(rng.normal(size=(200, 200)), 2.5)
    true = RigidTransform(-4.3, 3.7, -6.2, 79.5, 79.5)
    yy, xx = np.mgrid[:160, :160]
    reference = tissue[20:180, 20:180]
    moving = ndimage.map_coordinates(
        tissue, (true.apply(np.column_stack([yy.ravel(), xx.ravel()])) + 20).T,
        order=3).reshape(160, 160)
    found = register_images(prepare_image(reference, highpass_sigma=10),
                            prepare_image(moving, highpass_sigma=10))
    assert found.angle_deg == pytest.approx(-4.3, abs=0.15)
    assert (found.shift_y, found.shift_x) == pytest.approx((3.7, -6.2), abs=0.25)
    assert found.correlation > 0.95
    # warp() resamples the moving image on the reference grid: it then matches the reference
    warped = found.warp(moving)
    valid = np.isfinite(warped)
    assert np.corrcoef(warped[valid], reference[valid])[0, 1] > 0.95


def test_same_cell_model_recovers_the_mixture_it_was_drawn_from():
    rng = np.random.default_rng(2)
    n_same, n_diff, max_distance = 300, 1200, 15.0
    d_same = rng.rayleigh(1.2, n_same)
    r_same = rng.beta(8, 2, n_same)
    d_diff = max_distance * np.sqrt(rng.uniform(size=n_diff))  # density 2d / D^2
    r_diff = np.where(rng.uniform(size=n_diff) < 0.7, 0.0, rng.beta(1.5, 6, n_diff))
    d, r = np.r_[d_same, d_diff], np.r_[r_same, r_diff]
    model = SameCellModel(max_distance=max_distance).fit(d, r)
    assert model.converged
    assert model.weight_same == pytest.approx(n_same / (n_same + n_diff), abs=0.03)
    assert model.sigma == pytest.approx(1.2, rel=0.15)
    p = model.predict_proba(d, r)
    truth = np.r_[np.ones(n_same, bool), np.zeros(n_diff, bool)]
    assert ((p > 0.5) == truth).mean() > 0.97
    # calibrated: among pairs given P in (0.8, 1], most are the same cell
    assert truth[p > 0.8].mean() > 0.9


def test_track_two_days_matches_the_same_cells_and_leaves_lost_and_new_unmatched(two_days):
    movies, truth = two_days
    sessions = [_session(truth[d], m, d) for d, m in zip(("day1", "day8"), movies, strict=True)]
    result = track(sessions)
    assert result.sessions == ["day1", "day8"]
    precision, recall = _score(result, truth)
    assert precision == 1.0 and recall == 1.0
    day8 = result.transforms.set_index("session").loc["day8"]
    assert day8["image"] == "mean"
    assert day8["angle_deg"] == pytest.approx(-3.0, abs=0.2)
    assert (day8["shift_y"], day8["shift_x"]) == pytest.approx((4.5, 7.0), abs=0.3)
    lost = np.setdiff1d(truth["day1"]["cell"], truth["day8"]["cell"])
    lost_rois = np.flatnonzero(np.isin(truth["day1"]["cell"], lost))
    rows = result.table.set_index("day1").loc[lost_rois]
    assert rows["day8"].isna().all() and rows["p_same"].isna().all()
    assert result.table["day8"].notna().sum() == len(truth["day8"]["cell"])  # new cells kept
    assert (result.table["p_same"].dropna() >= 0.5).all()


def test_track_uses_footprint_projections_without_mean_images(two_days):
    movies, truth = two_days
    sessions = [_session(truth[d], m, d, mean=False)
                for d, m in zip(("day1", "day8"), movies, strict=True)]
    result = track(sessions, names=["a", "b"])
    assert set(result.transforms["image"]) == {"footprints"}
    truth = {"a": truth["day1"], "b": truth["day8"]}
    assert _score(result, truth, "a", "b") == (1.0, 1.0)


def test_three_sessions_chain_into_tracks(two_days):
    movies, truth = two_days
    day1, day8 = (_session(truth[d], m, d) for d, m in zip(("day1", "day8"), movies,
                                                             strict=True))
    again = day8.copy()
    result = track([day1, day8, again], names=["d1", "d8", "d15"])
    both = result.table.dropna(subset=["d8", "d15"])
    np.testing.assert_array_equal(both["d8"].to_numpy(int), both["d15"].to_numpy(int))
    assert len(both) == len(truth["day8"]["cell"])


def test_track_rejects_sessions_without_footprints_and_multiplane_without_plane(two_days):
    movies, truth = two_days
    day1 = _session(truth["day1"], movies[0], "day1")
    bare = day1.drop_vars(["mask_roi", "mask_y", "mask_x", "mask_weight"])
    with pytest.raises(ValueError, match="no ROI footprints"):
        track([day1, bare], names=["a", "b"])
    planes = day1.assign_coords(plane=("roi", np.arange(day1.sizes["roi"]) % 2))
    with pytest.raises(ValueError, match="track one plane at a time"):
        track([planes, day1], names=["a", "b"])
    with pytest.raises(ValueError, match="at least two sessions"):
        track([day1])


def _caiman_day(tmp_path, name, transform=None, random_state=0):
    session = simulate_session(n_rois=30, n_frames=50, n_noncells=0, shape=(96, 96),
                               random_state=random_state)
    yx = np.column_stack([session.y.values, session.x.values])
    if transform is not None:  # day-8 view: q = T^-1(p)
        inverse = RigidTransform(-transform.angle_deg, 0, 0, transform.center_y,
                                 transform.center_x)
        yx = inverse.apply(yx - [transform.shift_y, transform.shift_x])
    session = session.assign_coords(y=("roi", yx[:, 0], {"units": "pixel"}),
                                    x=("roi", yx[:, 1], {"units": "pixel"}))
    return write_caiman_hdf5(session, tmp_path / f"{name}.hdf5")


def test_cli_tracks_caiman_sessions(tmp_path):
    true = RigidTransform(2.0, -3.0, 2.5, 47.5, 47.5)
    day1 = _caiman_day(tmp_path, "mouse1_day1")
    day8 = _caiman_day(tmp_path, "mouse1_day8", true)
    out = tmp_path / "tracks.csv"
    result = CliRunner().invoke(main, ["track", str(day1), str(day8), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["track", "mouse1_day1", "mouse1_day8", "p_same"]
    # the simulated sessions put cell k at ROI k on both days
    both = table.dropna()
    assert len(both) == 30
    np.testing.assert_array_equal(both["mouse1_day1"], both["mouse1_day8"])
    saved = json.loads((tmp_path / "tracks_transforms.json").read_text())
    found = saved["sessions"]["mouse1_day8"]
    assert found["image"] == "footprints"  # CaImAn saves no mean image
    assert found["angle_deg"] == pytest.approx(2.0, abs=0.3)
    assert (found["shift_y"], found["shift_x"]) == pytest.approx((-3.0, 2.5), abs=0.4)
    assert saved["models"]["mouse1_day8"]["converged"]
    named = CliRunner().invoke(main, ["track", str(day1), str(day8), "--out", str(out),
                                      "--names", "d1"])
    assert named.exit_code != 0 and "1 names for 2 sessions" in named.output


def test_track_nwb_sessions_written_by_sfone(tmp_path):
    pytest.importorskip("pynwb", reason="NWB needs the nwb extra (part of make test)")
    true = RigidTransform(-2.5, 2.0, 3.0, 47.5, 47.5)
    paths = []
    for name, transform in (("d1", None), ("d8", true)):
        ds = sfone.read(_caiman_day(tmp_path, name, transform))
        paths.append(sfone.to_nwb(ds, tmp_path / f"{name}.nwb",
                                  session_start_time="2026-03-02T07:00:00+00:00"))
    assert "mask_roi" in sfone.read(paths[0])  # to_nwb writes and the reader keeps the masks
    result = track(paths)
    both = result.table.dropna()
    assert len(both) == 30 and (both["d1"] == both["d8"]).all()


def _rigid_residuals(truth):
    """Distance (px) of each shared cell's day-8 centre, mapped by the rigid transform, from its
    day-1 centre."""
    d1, d8 = truth["day1"], truth["day8"]
    common = np.intersect1d(d1["cell"], d8["cell"])
    a = d1["centres"][np.searchsorted(d1["cell"], common)]
    b = d8["centres"][np.searchsorted(d8["cell"], common)]
    return np.linalg.norm(truth["transform"].apply(b) - a, axis=1)


def test_simulated_nonrigid_deformation_is_smooth_and_bounded():
    _, rigid = simulate_two_days(n_frames=5, random_state=3)
    np.testing.assert_allclose(_rigid_residuals(rigid), 0, atol=1e-9)
    _, bent = simulate_two_days(n_frames=5, random_state=3, deform_px=6.0)
    residual = _rigid_residuals(bent)
    assert residual.max() <= 6.0 + 1e-9 and residual.mean() > 0.5
