"""Property tests: any small imaging Dataset survives the suite2p / CaImAn / Inscopix writers."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import sfone
from sfone.schema import finalize_dataset
from sfone.simulate.imaging import write_caiman_hdf5, write_inscopix_csv, write_suite2p


@st.composite
def imaging_datasets(draw):
    n_rois = draw(st.integers(1, 6))
    n_frames = draw(st.integers(2, 40))
    fs = draw(st.sampled_from([4.0, 10.0, 15.5, 30.0]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    planes = np.sort(rng.integers(0, draw(st.integers(1, 3)), n_rois))
    ds = xr.Dataset(
        {"F": (("roi", "time"), rng.normal(100, 20, (n_rois, n_frames)).astype(np.float32),
               {"units": "a.u."})},
        coords={"roi": np.arange(n_rois), "iscell": ("roi", rng.random(n_rois) > 0.3),
                "time": ("time", np.arange(n_frames) / fs, {"units": "s"}),
                "y": ("roi", rng.integers(5, 40, n_rois).astype(float), {"units": "pixel"}),
                "x": ("roi", rng.integers(5, 60, n_rois).astype(float), {"units": "pixel"}),
                "plane": ("roi", planes)},
        attrs={"fs": fs, "Ly": 48, "Lx": 64})
    return finalize_dataset(ds, modality="imaging", source_format="test", source_file="<h>")


@settings(max_examples=15, deadline=None)
@given(ds=imaging_datasets(), layout=st.sampled_from(["1.x", "0.14"]))
def test_suite2p_round_trip(ds, layout):
    with tempfile.TemporaryDirectory() as tmp:
        write_suite2p(ds, tmp, layout=layout)
        back = sfone.read(tmp)
        # planes come back in plane order; the strategy sorts ROIs by plane already
        np.testing.assert_array_equal(back["F"].values, ds["F"].values)
        np.testing.assert_array_equal(back["iscell"].values, ds["iscell"].values)
        np.testing.assert_array_equal(back["plane"].values, ds["plane"].values)
        np.testing.assert_array_equal(back["y"].values, ds["y"].values)
        assert back.attrs["fs"] == ds.attrs["fs"]


@settings(max_examples=15, deadline=None)
@given(ds=imaging_datasets())
def test_caiman_and_inscopix_round_trip(ds):
    with tempfile.TemporaryDirectory() as tmp:
        for path in (write_caiman_hdf5(ds, Path(tmp) / "c.hdf5"),
                     write_inscopix_csv(ds, Path(tmp) / "i.csv")):
            back = sfone.read(path)
            np.testing.assert_allclose(back["F"].values, ds["F"].values, rtol=1e-6)
            np.testing.assert_array_equal(back["iscell"].values, ds["iscell"].values)
            assert abs(back.attrs["fs"] - ds.attrs["fs"]) < 1e-6 * ds.attrs["fs"]
