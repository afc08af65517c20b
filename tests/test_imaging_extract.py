"""Run the real suite2p 1.x on a tiny simulated movie (CPU) and check the known cells are found."""

from __future__ import annotations

import numpy as np
import pytest

from sfone.simulate.imaging import simulate_movie, write_movie_tiff


@pytest.mark.suite2p
@pytest.mark.filterwarnings("ignore:Sparse:UserWarning")
def test_run_suite2p_finds_known_cells(tmp_path, suite2p_module):
    from sfone.extract import run_suite2p

    movie, truth = simulate_movie(n_frames=300, shape=(64, 64), n_cells=9, random_state=0)
    tif = write_movie_tiff(movie, tmp_path / "movie" / "movie.tif")
    ds = run_suite2p([tif], tmp_path / "out", fs=truth["fs"], tau=truth["tau"])
    assert ds.attrs["source_format"] == "suite2p" and ds.attrs["suite2p_layout"] == "1.x"
    assert ds.sizes["time"] == 300 and ds.attrs["fs"] == 10.0
    assert (tmp_path / "out" / "suite2p" / "plane0" / "stat.npy").exists()
    roi_yx = np.c_[ds["y"].values, ds["x"].values]
    distance = np.linalg.norm(truth["centres"][:, None, :] - roi_yx[None], axis=-1)
    nearest = distance.argmin(axis=1)
    assert distance.min(axis=1).max() < 3.0  # every true cell has an ROI within 3 pixels
    # and that ROI carries the cell's calcium signal
    fc = ds["F"].values - 0.7 * ds["Fneu"].values
    r = [np.corrcoef(fc[nearest[c]], truth["calcium"][c])[0, 1] for c in range(9)]
    assert min(r) > 0.8
