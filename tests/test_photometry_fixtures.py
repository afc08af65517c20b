"""Every real photometry fixture loads with the rates, durations and event counts of PROVENANCE.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared_fixtures import fixture_path

import sfone.io as sio
from sfone.exceptions import DataRepairWarning, FormatError
from sfone.io.photometry.tdt import read_tdt_epocs
from sfone.photometry import ttl_to_events


def _rate(ds, dim):
    return 1.0 / np.median(np.diff(ds[dim].values))


def _duration(ds, dim):
    t = ds[dim].values
    return t[-1] - t[0]


@pytest.mark.parametrize("name, n_samples, duration, d1, d2", [
    ("m17-R-2018-12-12-090409.ppd", 474_192, 3647.6, 127, 722),
    ("m53_NAc_L-2019-11-24-093939.ppd", 705_249, 5425.0, 137, 1046),
])
def test_ppd_fixture_float_version_header(name, n_samples, duration, d1, d2):
    ds = sio.read(fixture_path("photometry", "pyphotometry", name))
    assert ds.attrs["source_format"] == "ppd"
    assert ds.attrs["ppd_version"] == "0.2"
    assert ds.attrs["mode"] == "2 colour time div."
    for i in (1, 2):
        dim = f"time_analog_{i}"
        assert ds[f"analog_{i}"].dims == (dim,)
        assert ds.sizes[dim] == n_samples
        assert _rate(ds, dim) == pytest.approx(130.0, rel=1e-9)
        assert n_samples / 130.0 == pytest.approx(duration, abs=0.05)
        assert ds[f"analog_{i}"].attrs["units"] == "V"
    # pulsed: analog_2 sampled half a 130 Hz period after analog_1
    assert ds["time_analog_2"].values[0] - ds["time_analog_1"].values[0] == pytest.approx(
        1 / 260)
    assert len(ttl_to_events(ds["digital_1"]).epoch) == d1
    assert len(ttl_to_events(ds["digital_2"]).epoch) == d2
    # volts: 15-bit ADC times 0.00010122 V per division
    assert 0 < float(ds["analog_1"].max()) <= 2 ** 15 * 0.00010122


def test_ppd_reward_cues_lead_digital_1_by_half_a_second():
    ds = sio.read(fixture_path("photometry", "pyphotometry", "m53_NAc_L-2019-11-24-093939.ppd"))
    cues = np.load(fixture_path("photometry", "pyphotometry", "reward_cue_times.npy"))
    edges = ttl_to_events(ds["digital_1"]).start.values
    assert edges.size == cues.size == 137
    lead = edges - cues
    assert np.median(lead) == pytest.approx(0.504, abs=0.01)
    assert lead.std() < 0.01


def test_npm_fp3002_csv_demultiplexed_per_led():
    path = fixture_path("photometry", "neurophotometrics", "ibl_fp3002", "raw_photometry.csv")
    with pytest.warns(DataRepairWarning, match="no LED or all LEDs"):
        ds = sio.read(path)
    assert ds.attrs["source_format"] == "npm"
    assert {f"G{i}_{nm}" for i in range(5) for nm in ("415", "470")} == set(ds.data_vars)
    # 2013 frames minus the LedState-7 first frame, alternating 470/415
    assert ds.sizes["time_470"] + ds.sizes["time_415"] == 2012
    for dim in ("time_415", "time_470"):
        assert _rate(ds, dim) == pytest.approx(30.0, rel=0.01)
        assert _duration(ds, dim) == pytest.approx(33.5, abs=0.1)
    assert ds["G0_470"].dims == ("time_470",)
    # the 415 and 470 frames are sequential, never simultaneous
    assert not np.intersect1d(ds["time_415"].values, ds["time_470"].values).size


def test_npm_phat_resaved_csv_three_leds():
    path = fixture_path("photometry", "neurophotometrics", "phat", "Sample2_NPM_1fiber.csv")
    with pytest.warns(DataRepairWarning) as record:
        ds = sio.read(path)
    messages = " ".join(str(w.message) for w in record)
    assert "unnamed column" in messages and "no LED" in messages
    assert set(ds.data_vars) == {f"Region{r}_{nm}" for r in ("0R", "1G")
                                 for nm in ("415", "470", "560")}
    assert sum(ds.sizes[d] for d in ds.dims) == 14_569 - 1  # first frame LedState 0 dropped
    for dim in ("time_415", "time_470", "time_560"):
        assert _rate(ds, dim) == pytest.approx(40 / 3, rel=0.01)
        assert _duration(ds, dim) == pytest.approx(365, abs=1)


def test_npm_ibl_parquet_flags_masked_and_digital_bits():
    path = fixture_path("photometry", "neurophotometrics", "ibl_versions",
                        "version_1__neurophotometrics_fpData.raw.pqt")
    with pytest.warns(DataRepairWarning, match="no LED"):
        ds = sio.read(path)
    leds = {d for d in ds.dims if d != "time_frame"}
    assert leds == {"time_415", "time_470"}  # Flags 17/18/273/... masked with & 7: two LEDs
    assert ds.sizes["time_415"] + ds.sizes["time_470"] == 86_936 - 1
    assert ds.sizes["time_frame"] == 86_936
    assert _rate(ds, "time_frame") == pytest.approx(30.0, rel=0.01)
    assert _rate(ds, "time_470") == pytest.approx(15.0, rel=0.01)
    assert _duration(ds, "time_frame") == pytest.approx(2897.7, abs=0.1)
    assert {"Flags_bit8", "Flags_bit9"} <= set(ds.data_vars)
    assert len([v for v in ds.data_vars if v.endswith("_470")]) == 7


@pytest.mark.parametrize("version, rows, variables", [
    (1, 358, {"Value"}),
    (2, 604, {"Value.Value", "Timestamp"}),
    (5, 4002, {"Input0", "Input1"}),
])
def test_npm_digital_input_layouts(version, rows, variables):
    path = fixture_path("photometry", "neurophotometrics", "ibl_versions",
                        f"version_{version}__neurophotometrics_fpData.digitalInputs.pqt")
    ds = sio.read(path)
    assert set(ds.data_vars) == variables
    assert sum(ds.sizes[d] for d in ds.dims) == rows
    table = pd.read_parquet(path)
    if version == 1:
        assert int(ds["Value"].sum()) == int(table["Value"].sum())
        assert _duration(ds, "time") == pytest.approx(8217.7 - 5388.7, abs=0.1)
    if version == 5:
        assert ds.sizes["time_Input0"] == int((table["ChannelName"] == "Input0").sum())


def test_npm_digital_input_time_origin_aligns_with_raw_file():
    raw = fixture_path("photometry", "neurophotometrics", "ibl_versions",
                       "version_1__neurophotometrics_fpData.raw.pqt")
    digital = fixture_path("photometry", "neurophotometrics", "ibl_versions",
                           "version_1__neurophotometrics_fpData.digitalInputs.pqt")
    with pytest.warns(DataRepairWarning):
        origin = sio.read(raw).attrs["time_origin_s"]
    ds = sio.read(digital, time_origin=origin)
    assert ds["time"].values[0] == pytest.approx(5388.657440 - origin)


def test_martianova_csv_two_clocks():
    ds = sio.read(fixture_path("photometry", "csv", "martianova", "example.csv"))
    assert ds.attrs["source_format"] == "photometry-csv"
    assert ds["MeanInt_410nm"].dims == ("time_410nm",)
    assert ds["MeanInt_470nm"].dims == ("time_470nm",)
    for dim in ("time_410nm", "time_470nm"):
        assert ds.sizes[dim] == 3600
        assert _rate(ds, dim) == pytest.approx(10.0, rel=1e-6)
        assert ds[dim].values[-1] == pytest.approx(360.0, abs=0.06)
    assert ds["time_410nm"].values[0] - ds["time_470nm"].values[0] == pytest.approx(0.05)
    assert "Realtime_410nm" in ds.attrs["ignored_columns"]
    assert float(ds["MeanInt_410nm"].values[0]) == pytest.approx(1338.081287)


TDT = ("photometry", "tdt", "pmat_Photometry-161823_tsq_only")


def test_tdt_headers_only_block_signals_give_clear_error():
    with pytest.raises(FormatError, match=r"\.tev is missing.*490R.*signals=False") as info:
        sio.read(fixture_path(*TDT))
    assert "pmat_Photometry-161823_tsq_only" in str(info.value)


def test_tdt_headers_only_block_epocs_readable():
    ds = sio.read(fixture_path(*TDT), signals=False)
    assert ds.attrs["duration_s"] == pytest.approx(660.8, abs=0.05)
    assert ds.sizes["time_Vid1"] == 9933
    assert ds.sizes["time_Tick"] == 661
    assert ds.sizes["time_PAB_"] == 30
    assert ds["time_PAB_"].values[0] == pytest.approx(160.7157, abs=1e-4)
    assert set(np.unique(ds["PAB_"].values)) == {0.0, 16.0, 2064.0}
    assert ds.attrs["session_start"].startswith("2017-02-07T21:18:2")
    assert ds.attrs["scalar_Fi1i"] == [1, 211, 40, 0.5, 2, 530, 10, 0.5]  # lock-in settings


def test_tdt_epocs_match_pmat_behaviour_table():
    events = read_tdt_epocs(fixture_path(*TDT), "PAB/")
    table = pd.read_csv(fixture_path(*TDT, "pMAT_BehData_example.csv"))
    assert len(events.epoch) == len(table) == 30
    np.testing.assert_allclose(events.start.values, table["Onset"], atol=1e-4)
    assert list("PAB_" + events.label.values) == list(table["Event"])
    finite = np.isfinite(table["Offset"].to_numpy())
    np.testing.assert_allclose(events.end.values[finite], table["Offset"][finite], atol=1e-4)
    assert events.end.values[-1] == pytest.approx(660.84, abs=0.01)  # Inf -> block end


def test_tdt_streams_own_rate_when_signal_file_present(tmp_path):
    """Stream reading through tdt: the fixture's headers with a zero-filled (sparse) .tev."""
    source = fixture_path(*TDT)
    for file in source.glob("*Photometry-161823.*"):
        (tmp_path / file.name).symlink_to(file)
    tev = tmp_path / "99761-170207-161634_Photometry-161823.tev"
    with open(tev, "wb") as fh:
        fh.truncate(200 * 2 ** 20)
    ds = sio.read(tmp_path, stores=("490R", "405R", "PAB/"))
    for store in ("490R", "405R"):
        dim = f"time_{store}"
        assert ds[store].dims == (dim,)
        assert ds.sizes[dim] == 5251 * 128
        assert _rate(ds, dim) == pytest.approx(1017.2526, rel=1e-6)
        assert _duration(ds, dim) == pytest.approx(660.7, abs=0.2)
    assert "PAB_" in ds.data_vars and "Tick" not in ds.data_vars


def test_ppd_dlight_rises_after_reward_ttl():
    """Real data: NAc dLight (m53) goes up after the 137 reward TTLs on digital_1."""
    from sfone.photometry import compute_dff

    ds = sio.read(fixture_path("photometry", "pyphotometry", "m53_NAc_L-2019-11-24-093939.ppd"))
    dff = compute_dff(ds, signal="analog_1", control="analog_2", method="signal-only",
                      lowpass_hz=10.0)
    assert dff.dims == ("time_analog_1",)
    assert 0 < dff.attrs["fit_slope"] < 1  # red control: weak positive motion coupling
    t, x = dff["time_analog_1"].values, dff.values
    onsets = ttl_to_events(ds["digital_1"]).start.values
    change = np.array([x[(t > e) & (t < e + 1)].mean() - x[(t > e - 2) & (t < e)].mean()
                       for e in onsets])
    assert change.mean() > 0.01  # > 1 % dF/F
    assert change.mean() / (change.std() / np.sqrt(change.size)) > 10
