"""The imaging-session simulator: contract-valid, seeded, with the truth it promises."""

import numpy as np
import pytest
import xarray as xr

import sfone
from sfone.classify import label_responses
from sfone.schema import validate
from sfone.simulate.neurons import make_cohort, make_imaging_session


def test_session_is_contract_valid_and_round_trips_through_netcdf(tmp_path):
    ds, epochs = make_imaging_session(20, fs=7.5, n_runs=2, baseline_s=120.0, run_s=60.0,
                                      post_s=300.0, random_state=5)
    validate(ds)
    validate(epochs)
    assert ds["F"].dims == ("roi", "time") and ds.attrs["fs"] == 7.5
    assert ds["iscell"].dtype == bool
    np.testing.assert_array_equal(ds["iscell"].values, ds["roi_kind"].values != "noise")
    # schedule: 120 s quiet, then (60 s run + 300 s post) twice
    np.testing.assert_allclose(epochs["start"].values, [120.0, 480.0])
    np.testing.assert_allclose(epochs["end"].values, [180.0, 540.0])
    assert ds["time"].values[-1] == pytest.approx(840.0 - 1 / 7.5)
    sfone.write_dataset(ds, tmp_path / "s.nc")
    back = sfone.read(tmp_path / "s.nc")
    np.testing.assert_array_equal(back["true_label"].values, ds["true_label"].values)
    np.testing.assert_array_equal(back["F"].values, ds["F"].values)


def test_same_seed_same_session_and_fractions_respected():
    a, _ = make_imaging_session(50, fs=2.0, post_s=600.0, random_state=3)
    b, _ = make_imaging_session(50, fs=2.0, post_s=600.0, random_state=3)
    xr.testing.assert_identical(a, b)
    c, _ = make_imaging_session(50, fs=2.0, post_s=600.0, random_state=4)
    assert not np.array_equal(a["F"].values, c["F"].values)
    labels = a["true_label"].values[a["roi_kind"].values != "noise"]  # 45 cells
    assert np.sum(labels == "activated") == int(0.35 * 45)
    assert np.sum(labels == "inhibited") == int(0.25 * 45)


def test_activated_cells_fire_more_after_the_run_in_the_simulation():
    ds, epochs = make_imaging_session(60, fs=5.0, run_s=300.0, post_s=1200.0, random_state=6)
    time = ds["time"].values
    events = ds["spks"].values > 0
    before = events[:, time < 600].mean(axis=1)
    after = events[:, time >= 900].mean(axis=1)
    act = ds["true_label"].values == "activated"
    low = ds["roi_kind"].values == "low_rate"
    assert np.all(after[act] > before[act])
    assert np.all(after[low] == 0)


def test_cohort_has_every_mouse_on_both_days():
    sessions = make_cohort(n_mice=3, random_state=1)
    assert sorted((s["day"], s["mouse"]) for s in sessions) == [
        (d, f"mouse{m}") for d in (1, 8) for m in (1, 2, 3)]
    assert all(s["dataset"].attrs["day"] == s["day"] for s in sessions)


def test_dask_backed_and_gappy_data_give_the_same_labels():
    ds, epochs = make_imaging_session(40, fs=5.0, run_s=300.0, post_s=1200.0, random_state=12)
    kwargs = dict(post_run_s=(0, 1200))
    eager = label_responses(ds, epochs, **kwargs)
    lazy = label_responses(ds.chunk({"roi": 16}), epochs, **kwargs)
    np.testing.assert_array_equal(lazy["label"].values, eager["label"].values)
    np.testing.assert_allclose(lazy["p_value"].values, eager["p_value"].values, rtol=1e-9)
    gappy = ds.copy(deep=True)
    gappy["F"].values[:, 1000:1050] = np.nan  # 10 s of lost frames in the baseline
    with_gap = label_responses(gappy, epochs, method="test", **kwargs)
    assert np.mean(with_gap["label"].values == ds["true_label"].values) >= 0.9
    glm_gap = label_responses(gappy, epochs, **kwargs)  # glm: a NaN stretch inside a bin
    assert np.mean(glm_gap["label"].values == eager["label"].values) >= 0.95
