"""Neuropil correction, maximin / percentile baselines, dF/F and z-scores on known signals."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sfone.exceptions import QualityWarning, SchemaError
from sfone.imaging import (
    baseline_maximin,
    baseline_percentile,
    compute_dff,
    neuropil_correct,
    zscore,
)
from sfone.schema import finalize_dataset

FS = 10.0


def _dataset(F, Fneu=None, *, coefficient=0.7) -> xr.Dataset:
    F = np.atleast_2d(np.asarray(F, dtype=float))
    data = {"F": (("roi", "time"), F, {"units": "a.u."})}
    if Fneu is not None:
        data["Fneu"] = (("roi", "time"), np.atleast_2d(Fneu), {"units": "a.u."})
    ds = xr.Dataset(data, coords={
        "roi": np.arange(F.shape[0]), "iscell": ("roi", np.ones(F.shape[0], bool)),
        "time": ("time", np.arange(F.shape[1]) / FS, {"units": "s"})},
        attrs={"fs": FS, "neuropil_coefficient": coefficient})
    return finalize_dataset(ds, modality="imaging", source_format="test", source_file="<t>")


def test_neuropil_correction_uses_file_coefficient_or_override():
    ds = _dataset([[10.0, 12.0]], [[4.0, 2.0]], coefficient=0.5)
    np.testing.assert_allclose(neuropil_correct(ds).values, [[8.0, 11.0]])
    fc = neuropil_correct(ds, coefficient=1.0)
    np.testing.assert_allclose(fc.values, [[6.0, 10.0]])
    assert fc.attrs["neuropil_coefficient"] == 1.0 and fc.attrs["units"] == "a.u."
    with pytest.raises(SchemaError, match="Fneu"):
        neuropil_correct(_dataset([[1.0, 2.0]]))


def test_dff_of_known_transient_on_flat_baseline():
    # two ROIs: baselines 100 and 50, one 50% transient lasting 2 s in a 120 s trace
    n = int(120 * FS)
    F = np.vstack([np.full(n, 100.0), np.full(n, 50.0)])
    F[:, 600:620] *= 1.5
    Fneu = np.zeros_like(F)
    dff = compute_dff(_dataset(F, Fneu), window_s=20.0, sigma_s=0.5)
    assert dff.attrs["units"] == "1" and dff.attrs["window_s"] == 20.0
    np.testing.assert_allclose(dff.values[:, 100:500], 0.0, atol=1e-9)
    np.testing.assert_allclose(dff.values[:, 605:615], 0.5, atol=0.02)


def test_maximin_ignores_transients_and_tracks_slow_drift():
    t = np.arange(int(300 * FS)) / FS
    drift = 100.0 + 0.1 * t  # 0.1 a.u./s
    trace = drift.copy()
    trace[1000:1030] += 80.0  # 3-s transient
    da = xr.DataArray(trace[None], dims=("roi", "time"), coords={"time": t},
                      attrs={"fs": FS, "units": "a.u."})
    f0 = baseline_maximin(da, window_s=30.0, sigma_s=1.0)
    # the baseline stays within one window's drift (3 a.u.) of the true baseline, transient or not
    assert np.abs(f0.values[0] - drift).max() < 3.5
    assert f0.attrs["baseline"] == "maximin" and f0.attrs["units"] == "a.u."


def test_percentile_baseline_matches_pandas_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 500))
    da = xr.DataArray(x, dims=("roi", "time"), coords={"time": np.arange(500) / FS},
                      attrs={"fs": FS})
    f0 = baseline_percentile(da, window_s=5.0, percentile=20)
    i, roi = 250, 1  # centred 50-frame window: frames 225..274
    expected = np.quantile(x[roi, 225:275], 0.2)
    assert f0.values[roi, i] == pytest.approx(expected)


def test_dff_warns_and_masks_nonpositive_baseline():
    F = np.vstack([np.full(100, 10.0), np.full(100, 10.0)])
    Fneu = np.vstack([np.zeros(100), np.full(100, 20.0)])  # second ROI: Fc = -4
    with pytest.warns(QualityWarning, match="1 ROI"):
        dff = compute_dff(_dataset(F, Fneu), window_s=2.0)
    assert np.isnan(dff.values[1]).all() and np.isfinite(dff.values[0]).all()


def test_zscore_against_baseline_window():
    t = np.arange(200) / FS
    x = np.where(t < 10, np.tile([1.0, 3.0], 100), 10.0)
    da = xr.DataArray(x[None], dims=("roi", "time"), coords={"time": t})
    z = zscore(da, baseline=(0.0, 9.95))
    sd = np.std(x[:100], ddof=1)
    assert z.values[0, -1] == pytest.approx((10.0 - 2.0) / sd)
    assert z.attrs["units"] == "1"
    with pytest.raises(ValueError, match="need at least 2"):
        zscore(da, baseline=(50.0, 60.0))


def test_dask_input_stays_lazy_and_equals_numpy():
    pytest.importorskip("dask")
    rng = np.random.default_rng(1)
    F = 100 + rng.normal(size=(8, 600))
    ds = _dataset(F, rng.normal(size=(8, 600)))
    eager = compute_dff(ds, window_s=10.0, baseline="percentile")
    lazy = compute_dff(ds.chunk({"roi": 3}), window_s=10.0, baseline="percentile")
    assert type(lazy.data).__module__.startswith("dask")
    np.testing.assert_allclose(lazy.compute().values, eager.values)


def test_dff_against_a_fixed_baseline_window_keeps_sustained_changes():
    """A rolling baseline absorbs a sustained step; the pre-run window baseline keeps it."""
    fs, n = 10.0, 6000
    t = np.arange(n) / fs
    f = np.where(t >= 300, 150.0, 100.0)[None, :] * np.ones((2, 1))
    ds = xr.Dataset({"F": (("roi", "time"), f, {"units": "a.u."})},
                    coords={"roi": [0, 1], "time": ("time", t, {"units": "s"}),
                            "iscell": ("roi", [True, True])}, attrs={"fs": fs})
    dff = compute_dff(ds, baseline="window", baseline_window=(0.0, 300.0))
    np.testing.assert_allclose(dff.sel(time=slice(400, 600)).values, 0.5)
    np.testing.assert_allclose(dff.sel(time=slice(0, 299)).values, 0.0)
    rolling = compute_dff(ds, baseline="maximin", window_s=60.0)
    assert float(rolling.sel(time=slice(450, 600)).mean()) < 0.05  # the step is gone
    with pytest.raises(ValueError, match="holds no frames"):
        compute_dff(ds, baseline="window", baseline_window=(900.0, 1000.0))
