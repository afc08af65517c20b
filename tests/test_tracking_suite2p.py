"""Tracking validated end to end: two simulated days of one field (day 8 shifted, rotated, some
cells lost and some new, dimmer), each run through the real suite2p, then ``sfone.track``."""

from __future__ import annotations

import numpy as np
import pytest

import sfone
from sfone.footprints import footprint_centroids
from sfone.simulate.imaging import write_movie_tiff
from sfone.tracking.simulate import simulate_two_days, truth_of_rois

ANGLE, SHIFT = 4.0, (6.0, -5.0)


@pytest.fixture(scope="session")
def suite2p_days(tmp_path_factory):
    """suite2p outputs of both days and the simulation's truth (run once per test session)."""
    pytest.importorskip("suite2p", reason="suite2p extra not installed")
    root = tmp_path_factory.mktemp("tracking_suite2p")
    mp = pytest.MonkeyPatch()
    mp.setenv("HOME", str(root / "home"))  # importing suite2p writes ~/.suite2p
    from sfone.extract import run_suite2p

    movies, truth = simulate_two_days(n_frames=400, angle_deg=ANGLE, shift=SHIFT,
                                      gain_day8=0.7, n_cells=50, n_lost=5, n_new=5,
                                      random_state=1)
    folders = {}
    for day, movie in zip(("day1", "day8"), movies, strict=True):
        tif = write_movie_tiff(movie, root / day / "movie" / "movie.tif")
        run_suite2p([tif], root / day, fs=truth["fs"], tau=truth["tau"])
        folders[day] = root / day
    mp.undo()
    return folders, truth


def _truth_pairs(datasets, truth):
    ids = {day: truth_of_rois(footprint_centroids(ds), truth[day])
           for day, ds in datasets.items()}
    shared = np.intersect1d(ids["day1"][ids["day1"] >= 0], ids["day8"][ids["day8"] >= 0])
    return ids, shared


@pytest.mark.suite2p
@pytest.mark.filterwarnings("ignore:Sparse:UserWarning")
@pytest.mark.parametrize("image", ["mean", "footprints"])
def test_suite2p_sessions_tracked_with_precision_and_recall_above_095(suite2p_days, image):
    folders, truth = suite2p_days
    datasets = {day: sfone.read(folder) for day, folder in folders.items()}
    ids, shared = _truth_pairs(datasets, truth)
    # suite2p found (nearly) every simulated cell on each day
    assert (ids["day1"] >= 0).sum() >= 0.9 * len(truth["day1"]["cell"])
    assert (ids["day8"] >= 0).sum() >= 0.9 * len(truth["day8"]["cell"])
    result = sfone.track([folders["day1"], folders["day8"]], names=["day1", "day8"],
                         cells_only=False, image=image)
    found = result.transforms.set_index("session").loc["day8"]
    assert found["angle_deg"] == pytest.approx(ANGLE, abs=0.3)
    assert (found["shift_y"], found["shift_x"]) == pytest.approx(SHIFT, abs=0.5)
    pairs = result.matched("day1", "day8")
    cell1 = ids["day1"][pairs["day1"].to_numpy(int)]
    cell8 = ids["day8"][pairs["day8"].to_numpy(int)]
    correct = int(((cell1 == cell8) & (cell1 >= 0)).sum())
    precision, recall = correct / len(pairs), correct / shared.size
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    # lost cells (day 1 only) are never matched
    lost = np.setdiff1d(truth["day1"]["cell"], truth["day8"]["cell"])
    assert not np.isin(cell1, lost).any()


@pytest.mark.suite2p
@pytest.mark.filterwarnings("ignore:Sparse:UserWarning")
def test_cli_on_suite2p_sessions_writes_tracks_and_transforms(suite2p_days, tmp_path):
    from click.testing import CliRunner

    from sfone.cli import main

    folders, _ = suite2p_days
    out = tmp_path / "tracks.csv"
    result = CliRunner().invoke(main, ["track", str(folders["day1"]), str(folders["day8"]),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table.columns) == ["track", "day1", "day8", "p_same"]
    iscell = {day: sfone.read(folder)["iscell"].values for day, folder in folders.items()}
    # by default only iscell ROIs are tracked
    assert set(table["day1"].dropna().astype(int)) <= set(np.flatnonzero(iscell["day1"]))
    assert (tmp_path / "tracks_transforms.json").exists()
