"""Simulated recordings with known truth, written in each real format and read back."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import sfone.io as sio
from sfone.exceptions import DataRepairWarning
from sfone.photometry import compute_dff, ttl_to_events
from sfone.simulate.photometry import (
    simulate_photometry,
    write_doric_v1,
    write_doric_v6,
    write_npm_csv,
    write_photometry_csv,
    write_ppd,
    write_samples,
)


@pytest.fixture(scope="module")
def staggered():
    return simulate_photometry(duration_s=600.0, fs=20.0, stagger=0.5, random_state=7)


@pytest.fixture(scope="module")
def shared():
    return simulate_photometry(duration_s=600.0, fs=20.0, stagger=0.0, random_state=8)


def _r(dff, truth):
    ok = np.isfinite(dff)
    return np.corrcoef(dff[ok], truth[ok])[0, 1]


def _read_v6(path):
    with pytest.warns(DataRepairWarning, match="AIN01xAOUT02-LockIn.*entirely NaN"):
        return sio.read(path)


def test_doric_v6_each_group_own_clock_nan_handling(staggered, tmp_path):
    ds = _read_v6(write_doric_v6(staggered, tmp_path / "rec.doric", warmup_samples=5))
    assert ds.attrs["doric_layout"] == "v6"
    assert "AIN01xAOUT02-LockIn" not in ds.data_vars  # all-NaN crosstalk dropped
    sig, ctl = ds["AIN01xAOUT01-LockIn"], ds["AIN02xAOUT02-LockIn"]
    assert sig.dims == ("time_AIN01xAOUT01-LockIn",)
    assert ctl.dims == ("time_AIN02xAOUT02-LockIn",)
    np.testing.assert_array_equal(ctl[ctl.dims[0]].values, staggered.time_control)
    assert np.isnan(sig.values[:5]).all() and np.isfinite(sig.values[5:]).all()  # warm-up kept
    assert ds["DIO01"].attrs["units"] == "1"
    assert ds.attrs["session_start"] == "2025-01-06T10:00:00"


@pytest.mark.parametrize("method, lowpass_hz", [("irls", None), ("irls", 3.0), ("ols", 3.0)])
def test_dff_recovers_truth_on_staggered_clocks(staggered, tmp_path, method, lowpass_hz):
    ds = _read_v6(write_doric_v6(staggered, tmp_path / "rec.doric"))
    dff = compute_dff(ds, signal="AIN01xAOUT01-LockIn", control="AIN02xAOUT02-LockIn",
                      method=method, lowpass_hz=lowpass_hz)
    assert dff.dims == ("time_AIN01xAOUT01-LockIn",)
    assert dff.attrs["units"] == "1" and dff.attrs["control_interpolated"] == 1
    assert _r(dff.values, staggered.dff_true) >= 0.95


def test_robust_fit_less_biased_by_transients_than_ols(staggered, tmp_path):
    ds = _read_v6(write_doric_v6(staggered, tmp_path / "rec.doric"))
    errors = {}
    for method in ("irls", "ols"):
        dff = compute_dff(ds, signal="AIN01xAOUT01-LockIn", control="AIN02xAOUT02-LockIn",
                          method=method, lowpass_hz=3.0)
        errors[method] = np.nanmedian(np.abs(dff.values - staggered.dff_true))
    assert errors["irls"] < 0.01
    assert errors["irls"] < errors["ols"]


def test_dff_without_motion_correction_is_worse(staggered, tmp_path):
    """The shared motion artefacts are what the control removes."""
    ds = _read_v6(write_doric_v6(staggered, tmp_path / "rec.doric"))
    alone = compute_dff(ds, signal="AIN01xAOUT01-LockIn", method="signal-only")
    assert _r(alone.values, staggered.dff_true) < 0.9
    akam = compute_dff(ds, signal="AIN01xAOUT01-LockIn", control="AIN02xAOUT02-LockIn",
                       method="signal-only")
    assert _r(akam.values, staggered.dff_true) >= 0.95


def test_ttl_times_match_to_one_sample(staggered, tmp_path):
    ds = _read_v6(write_doric_v6(staggered, tmp_path / "rec.doric"))
    events = ttl_to_events(ds["DIO01"])
    assert len(events.epoch) == staggered.ttl_onsets.size
    assert np.max(np.abs(events.start.values - staggered.ttl_onsets)) <= 1 / staggered.fs
    assert np.max(np.abs(events.end.values - staggered.ttl_offsets)) <= 1 / staggered.fs


def test_doric_v1_shared_clock(shared, tmp_path):
    ds = sio.read(write_doric_v1(shared, tmp_path / "legacy.doric"))
    assert ds.attrs["doric_layout"] == "v1"
    assert set(ds.dims) == {"time"}
    assert {"AIn-1 - Dem (AOut-1)", "AIn-2 - Dem (AOut-2)", "DI--O-1"} == set(ds.data_vars)
    dff = compute_dff(ds, signal="AIn-1 - Dem (AOut-1)", control="AIn-2 - Dem (AOut-2)",
                      lowpass_hz=3.0)
    assert dff.attrs["control_interpolated"] == 0
    assert _r(dff.values, shared.dff_true) >= 0.95


def test_ppd_roundtrip_staggered_and_dff(staggered, tmp_path):
    ds = sio.read(write_ppd(staggered, tmp_path / "rec.ppd"))
    np.testing.assert_allclose(ds["time_analog_2"].values, staggered.time_control)
    np.testing.assert_allclose(ds["analog_1"].values, staggered.signal, atol=0.00010122)
    dff = compute_dff(ds, signal="analog_1", control="analog_2", lowpass_hz=3.0)
    assert _r(dff.values, staggered.dff_true) >= 0.95
    events = ttl_to_events(ds["digital_1"])
    np.testing.assert_allclose(events.start.values, staggered.ttl_onsets, atol=1 / staggered.fs)


def test_npm_roundtrip_staggered(staggered, tmp_path):
    with pytest.warns(DataRepairWarning, match="all LEDs"):
        ds = sio.read(write_npm_csv(staggered, tmp_path / "rec.csv"))
    assert ds.attrs["source_format"] == "npm"
    offset = ds["time_470"].values[0]
    np.testing.assert_allclose(ds["time_415"].values - offset,
                               staggered.time_control - staggered.time_signal[0], atol=1e-6)
    dff = compute_dff(ds, signal="G0_470", control="G0_415", lowpass_hz=3.0)
    assert _r(dff.values, staggered.dff_true) >= 0.95


def test_generic_csv_roundtrip(shared, tmp_path):
    ds = sio.read(write_photometry_csv(shared, tmp_path / "rec.csv"))
    assert ds.attrs["source_format"] == "photometry-csv"
    assert set(ds.data_vars) == {"signal", "control", "TTL"}
    assert ds["TTL"].attrs["units"] == "1"
    dff = compute_dff(ds, signal="signal", control="control", method="irls", robust="huber",
                      lowpass_hz=3.0)
    assert _r(dff.values, shared.dff_true) >= 0.95


def test_simulation_is_seeded():
    a = simulate_photometry(duration_s=60, random_state=3)
    b = simulate_photometry(duration_s=60, random_state=3)
    c = simulate_photometry(duration_s=60, random_state=4)
    np.testing.assert_array_equal(a.signal, b.signal)
    assert not np.array_equal(a.signal, c.signal)


def test_samples_reproducible_small_and_readable(tmp_path):
    first = write_samples(tmp_path / "a")
    second = write_samples(tmp_path / "b")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in first]
    assert digest == [hashlib.sha256(p.read_bytes()).hexdigest() for p in second]
    assert sum(p.stat().st_size for p in first) < 2 * 2 ** 20
    formats = {sio.read(path).attrs["source_format"] for path in first}  # no repair warnings
    assert formats == {"doric", "ppd", "npm", "photometry-csv"}


def test_doric_csv_export_two_header_rows_and_trailing_commas(shared, tmp_path):
    """Old Doric CSV exports: a descriptor row, then names; trailing commas; DI/O level line."""
    path = tmp_path / "doric_export.csv"
    rows = ["---,Analog In. | Ch.1,Analog In. | Ch.2,Digital I/O | Ch.1,",
            "Time(s),AIn-1 - Dem (AOut-1),AIn-2 - Dem (AOut-2),DI/O-1,"]
    rows += [f"{t:.3f},{s:.6f},{c:.6f},{d}," for t, s, c, d in
             zip(shared.time_signal, shared.signal, shared.control, shared.ttl, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    ds = sio.read(path)
    assert set(ds.data_vars) == {"AIn-1 - Dem (AOut-1)", "AIn-2 - Dem (AOut-2)", "DI_O-1"}
    assert ds["DI_O-1"].attrs["source_name"] == "DI/O-1"
    assert ds["DI_O-1"].attrs["units"] == "1"
    assert ds.attrs["ignored_columns"] == ["Unnamed: 4"]
    events = ttl_to_events(ds["DI_O-1"])
    np.testing.assert_allclose(events.start.values, shared.ttl_onsets, atol=1 / shared.fs)


def test_short_simulation_stays_physical():
    """Overlapping motion artefacts never drive fluorescence to zero or below."""
    sim = simulate_photometry(duration_s=20, n_artefacts=30, random_state=0)
    assert sim.motion.min() > 0.1  # 30 overlapping dips of <= 25 % each, multiplied
    assert sim.signal.min() > 0.1 and sim.control.min() > 0.05
