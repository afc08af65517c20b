"""Peri-run alignment by real timestamps."""

import numpy as np
import pytest
import xarray as xr

from sfone.exceptions import SchemaError
from sfone.perievent import compute_perievent
from sfone.schema import make_events


def _ramp_dataset(n_rois=3, fs=20.0, duration=600.0, jitter=0.3, seed=0):
    """Traces whose value IS the frame's timestamp (times roi+1), so alignment is checkable."""
    rng = np.random.default_rng(seed)
    time = np.arange(0, duration, 1 / fs) + rng.uniform(-jitter, jitter, int(duration * fs)) / fs
    values = (np.arange(1, n_rois + 1)[:, None] * time[None, :]).astype(np.float32)
    return xr.DataArray(values, dims=("roi", "time"),
                        coords={"roi": np.arange(n_rois), "time": ("time", time, {"units": "s"})},
                        name="F"), time


def test_values_come_from_the_nearest_real_timestamp():
    da, time = _ramp_dataset()
    epochs = make_events([100.0, 300.0], [200.0, 550.0])
    out = compute_perievent(da, epochs, align="end", window=(-30, 120))
    assert out.dims == ("roi", "trial", "lag")
    assert out.sizes["roi"] == 3 and out.sizes["trial"] == 2
    target = out["align_time"].values[:, None] + out["lag"].values[None, :]
    got = out.sel(roi=0).values
    finite = np.isfinite(got)
    # the picked frame's timestamp is within half a frame (plus jitter) of the target
    assert np.all(np.abs(got[finite] - target[finite]) <= 0.5 / 20 + 0.3 / 20 + 1e-3)
    np.testing.assert_allclose(out.sel(roi=2).values[finite], 3 * got[finite], rtol=1e-5)


def test_nan_beyond_the_recording():
    da, time = _ramp_dataset(duration=600.0)
    out = compute_perievent(da, make_events([100.0], [550.0]), window=(-30, 120))
    lags = out["lag"].values
    beyond = 550.0 + lags > time[-1] + 0.05
    assert np.all(np.isnan(out.values[:, 0, beyond]))
    assert np.all(np.isfinite(out.values[:, 0, ~beyond & (550.0 + lags < time[-1] - 0.05)]))


def test_gap_in_timestamps_gives_nan():
    da, time = _ramp_dataset(jitter=0.0)
    keep = (time < 200) | (time > 210)
    out = compute_perievent(da.isel(time=keep), make_events([0.0], [205.0]), window=(-2, 2))
    assert np.all(np.isnan(out.values[:, 0, np.abs(out["lag"].values) < 4.9]))


def test_dask_input_matches_numpy_and_stays_lazy():
    dask = pytest.importorskip("dask.array")
    da, _ = _ramp_dataset()
    epochs = make_events([100.0, 300.0], [200.0, 550.0])
    eager = compute_perievent(da, epochs, window=(-30, 120))
    lazy_in = da.copy(data=dask.from_array(da.values, chunks=(2, 1000)))
    lazy = compute_perievent(lazy_in, epochs, window=(-30, 120))
    assert isinstance(lazy.data, dask.Array)
    np.testing.assert_array_equal(lazy.values, eager.values)


def test_binned_lags_average_frames_in_each_bin():
    da, time = _ramp_dataset(jitter=0.0)
    out = compute_perievent(da, make_events([100.0], [200.0]), align="start",
                            window=(-10, 10), bin_s=1.0)
    # the mean of t over frames in [t0 - 0.5, t0 + 0.5) is t0 - half a frame
    np.testing.assert_allclose(out.sel(roi=0, trial=0).values,
                               100.0 + out["lag"].values - 0.5 / 20, atol=1e-3)


def test_photometry_channels_become_rois():
    time = np.arange(0, 100, 0.05)
    ds = xr.Dataset({"GCaMP": ("time", np.sin(time), {"units": "V"}),
                     "Isos": ("time", np.cos(time), {"units": "V"}),
                     "TTL1": ("time", time > 20, {"units": "1", "kind": "digital"})},
                    coords={"time": ("time", time, {"units": "s"})})
    out = compute_perievent(ds, make_events([20.0], [40.0]), window=(-5, 5))
    assert list(out["roi"].values) == ["GCaMP", "Isos"]
    np.testing.assert_allclose(out.sel(roi="GCaMP", trial=0).values,
                               np.sin(40.0 + out["lag"].values), atol=1e-9)


def test_channels_on_separate_clocks_need_a_variable():
    ds = xr.Dataset({"G": ("time_a", np.zeros(10), {"units": "V"}),
                     "R": ("time_b", np.zeros(12), {"units": "V"})},
                    coords={"time_a": ("time_a", np.arange(10.0), {"units": "s"}),
                            "time_b": ("time_b", np.arange(12.0), {"units": "s"})})
    with pytest.raises(SchemaError, match="give variable="):
        compute_perievent(ds, make_events([2.0], [4.0]), window=(-1, 1))
    out = compute_perievent(ds, make_events([2.0], [4.0]), window=(-1, 1), variable="R")
    assert out.sizes["roi"] == 1 and out.sizes["lag"] == 3
