"""The independent validation generator (validation/generator.py) against its specification."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import curve_fit

from validation.generator import (
    DESIGNS,
    Design,
    Nuisance,
    calcium_at,
    double_exponential,
    ou_process,
    simulate_session,
    spike_times,
    write_photometry,
    write_session,
)

SHORT = Design("short", 300.0, 1, 300.0, 0.0, 600.0, "sustained")


def test_kernel_rise_decay_and_peak_recovered_by_a_fit():
    t = np.arange(0, 8, 0.001)
    c = calcium_at(np.array([1.0]), t, 0.07, 0.8)
    assert c.max() == pytest.approx(1.0, abs=1e-3)  # peak normalised to one spike amplitude
    t_peak = 0.07 * 0.8 / (0.8 - 0.07) * np.log(0.8 / 0.07)
    assert t[c.argmax()] - 1.0 == pytest.approx(t_peak, abs=0.002)

    def model(x, rise, decay, a):
        return a * (np.exp(-x / decay) - np.exp(-x / rise))

    after = t >= 1.0
    (rise, decay, _), _ = curve_fit(model, t[after] - 1.0, c[after], p0=(0.03, 0.5, 1.0))
    assert rise == pytest.approx(0.07, rel=0.02) and decay == pytest.approx(0.8, rel=0.02)
    tail = t > 1.0 + 10 * 0.07
    slope = np.polyfit(t[tail], np.log(c[tail]), 1)[0]
    assert -1 / slope == pytest.approx(0.8, rel=0.02)


def test_calcium_exact_at_jittered_frame_times():
    rng = np.random.default_rng(3)
    times = np.sort(np.arange(3000) / 10 + rng.normal(0, 0.01, 3000))
    spikes = np.sort(rng.uniform(0, 300, 200))
    fast = calcium_at(spikes, times, 0.06, 1.2)
    direct = double_exponential(times[:, None] - spikes[None], 0.06, 1.2).sum(axis=1)
    np.testing.assert_allclose(fast, direct, atol=1e-9)
    # a list of trains with per-cell kernels gives the same rows
    rows = calcium_at([spikes, spikes[:50]], times, [0.06, 0.09], [1.2, 0.5])
    np.testing.assert_allclose(rows[0], fast, atol=1e-9)
    np.testing.assert_allclose(
        rows[1], double_exponential(times[:, None] - spikes[None, :50], 0.09, 0.5).sum(1),
        atol=1e-9)


def test_session_kernels_noise_and_amplitudes_in_their_ranges():
    s = simulate_session(SHORT, "clean", fs=10.0, n_rois=60, seed=4)
    tr = s.truth
    assert tr["rise_s"].between(0.05, 0.10).all() and tr["decay_s"].between(0.4, 1.5).all()
    assert tr["noise_ratio"].between(0.3, 1.2).all()
    assert tr["noise_ratio"].max() - tr["noise_ratio"].min() > 0.6  # the range is used
    # clean: F = F0 (1 + calcium) + c * Fneu_true + noise; the remainder is the per-frame noise
    n0 = s.extra["neuropil_level"]
    f0 = tr["F0"].to_numpy()[:, None]
    residual = (s.F - f0 * (1 + s.calcium)
                - (tr["contamination"] * tr["neuropil_local"]).to_numpy()[:, None] * n0)
    measured = residual.std(axis=1) / (tr["F0"] * tr["amplitude_dff"]).to_numpy()
    np.testing.assert_allclose(measured, tr["noise_ratio"], rtol=0.03)
    # noise is white (no autocorrelation) and the raw data carry no bleaching
    r = residual[0] - residual[0].mean()
    assert abs(np.dot(r[1:], r[:-1]) / np.dot(r, r)) < 0.03
    assert (s.bleach == 1).all()


def test_bleaching_fraction_and_tau_measured_on_the_neuropil_trace():
    s = simulate_session("single", Nuisance(bleaching=True), fs=5.0, n_rois=8, seed=5)
    tr = s.truth
    t = s.frame_times
    for i in range(8):
        level = tr["neuropil_local"][i] * s.extra["neuropil_level"]
        y = s.Fneu[i] / level

        def model(x, depth, tau):
            return 1 - depth * -np.expm1(-x / tau)

        (depth, tau), _ = curve_fit(model, t, y, p0=(0.3, 1800.0))
        loss = -(model(t[-1], depth, tau) - 1)
        assert 0.10 <= loss <= 0.20 and 20 * 60 <= tau <= 60 * 60
        assert loss == pytest.approx(tr["bleach_loss"][i], abs=0.005)
        assert tau == pytest.approx(tr["bleach_tau_s"][i], rel=0.1)
    # the cells bleach too: late / early fluorescence of the null cells
    null = (tr["kind"] == "null").to_numpy()
    early = s.F[null][:, t < 300].mean(axis=1)
    late = s.F[null][:, t > t[-1] - 300].mean(axis=1)
    assert np.median(1 - late / early) > 0.08


def test_neuropil_step_after_the_run_and_true_contamination_range():
    s = simulate_session(SHORT, Nuisance(neuropil=True, neuropil_step=True), fs=10.0,
                         n_rois=50, seed=6)
    end = SHORT.runs()[0, 1]
    step = s.extra["neuropil_step"]
    assert 0.05 <= step <= 0.10
    # the shared neuropil (noise-free) jumps by exactly the step at the run end
    before = s.neuropil[(s.frame_times < end) & (s.frame_times > end - 1)]
    after = s.neuropil[(s.frame_times >= end) & (s.frame_times < end + 1)]
    assert after.mean() / before.mean() - 1 == pytest.approx(step, abs=0.02)
    c = s.truth["contamination"]
    assert c.between(0.4, 1.0).all() and c.max() - c.min() > 0.4
    # fast and slow fluctuations: the neuropil is not flat within a rest
    rest = s.neuropil[s.frame_times < SHORT.pre_s] / s.extra["neuropil_level"]
    assert 0.02 < rest.std() < 0.15
    clean = simulate_session(SHORT, Nuisance(neuropil_step=True), fs=10.0, n_rois=5, seed=6)
    ratio = clean.neuropil[clean.frame_times >= end].mean() / clean.neuropil[0]
    assert ratio - 1 == pytest.approx(clean.extra["neuropil_step"], abs=1e-12)


def test_frame_time_jitter():
    s = simulate_session(SHORT, Nuisance(jitter=True), fs=20.0, n_rois=2, seed=7)
    t = s.frame_times
    n = np.arange(t.size)
    assert np.all(np.diff(t) > 0)
    clock = s.extra["clock"]
    assert abs(clock - 1) <= 5e-4
    deviation = (t - n * clock / 20.0) * 20.0 / clock  # in frames
    assert deviation.std() == pytest.approx(0.1, rel=0.05)
    assert np.median(np.diff(t)) * 20.0 == pytest.approx(clock, abs=0.01)
    clean = simulate_session(SHORT, "clean", fs=20.0, n_rois=2, seed=7)
    np.testing.assert_array_equal(clean.frame_times, n / 20.0)


def test_poisson_and_bursty_spike_statistics():
    rng = np.random.default_rng(8)
    frames = np.arange(1, 40001) / 10.0  # 4000 s
    rate = np.full(frames.size, 2.0)
    counts = {}
    for bursty in (False, True):
        s = spike_times(rate, frames, rng, bursty=bursty)
        assert s.size / 4000 == pytest.approx(2.0, rel=0.06)  # the mean rate is kept
        counts[bursty] = np.histogram(s, bins=np.arange(0, 4001, 1.0))[0]
        isi = np.diff(s)
        if bursty:
            assert np.mean(isi < 0.031) > 0.6  # 2 of 3 intervals are inside a burst
        else:
            assert np.std(isi) / np.mean(isi) == pytest.approx(1.0, abs=0.05)
    fano = {k: v.var() / v.mean() for k, v in counts.items()}
    assert fano[False] == pytest.approx(1.0, abs=0.1)
    assert fano[True] > 2.0


def test_ou_log_rate_modulation_sd_and_tau():
    rng = np.random.default_rng(9)
    x = ou_process(20000, 1.0, 60.0, 0.5, rng, size=40)
    assert x.std() == pytest.approx(0.5, rel=0.05)
    lag = 60
    r = np.mean([np.corrcoef(row[:-lag], row[lag:])[0, 1] for row in x])
    assert r == pytest.approx(np.exp(-1), abs=0.04)
    drift = ou_process(20000, 1.0, 300.0, 0.01, rng, size=40)
    assert drift.std() == pytest.approx(0.01, rel=0.1)


@pytest.mark.parametrize("design", ["single", "five_short", "eight_short"])
def test_post_run_rate_changes_by_the_truth_gain(design):
    d = DESIGNS[design]
    s = simulate_session(d, "clean", fs=5.0, n_rois=200, seed=10)
    t, tr = s.frame_times, s.truth
    base = (t > 60) & (t < d.pre_s)
    ends = d.runs()[:, 1]
    if d.response == "decaying":
        post = np.zeros(t.size, bool)
        for end in ends:
            post |= (t >= end + 5) & (t < end + 20)
        # log-gain x exp(-(t - end)/60): 2 ** exp(-12.5/60) ~ 1.78 on average over 5-20 s
        gain_up, gain_down = 2 ** np.exp(-12.5 / 60), 0.25 ** np.exp(-12.5 / 60)
    elif d.response == "persisting":
        post, gain_up, gain_down = t >= ends[0] + 5, 2.0, 0.25
    else:
        post, gain_up, gain_down = t >= ends[0] + 5, 2.0, 0.25
    ratio = s.calcium[:, post].mean(axis=1) / s.calcium[:, base].mean(axis=1)
    ratio = pd.Series(ratio).groupby(tr["kind"].to_numpy()).median()
    assert ratio["null"] == pytest.approx(1.0, abs=0.1)
    assert ratio["activated"] == pytest.approx(gain_up, rel=0.12)
    assert ratio["inhibited"] == pytest.approx(gain_down, rel=0.25)
    # the transient decays: more excess soon after a run end than 3-5 min later
    transient = (tr["kind"] == "transient").to_numpy()
    soon = (t >= ends[-1]) & (t < ends[-1] + 30)
    later = (t >= ends[-1] + 180) & (t < ends[-1] + 300)
    m = s.calcium[transient]
    assert np.median(m[:, soon].mean(1) / m[:, base].mean(1)) > 1.5
    assert np.median(m[:, later].mean(1) / m[:, base].mean(1)) == pytest.approx(1.0, abs=0.15)


def test_written_session_reads_back_as_suite2p(tmp_path):
    import sfone

    s = simulate_session(SHORT, Nuisance(neuropil=True, ops_neucoeff=1.0), fs=10.0, n_rois=12,
                         seed=11)
    plane = write_session(s, tmp_path)
    ds = sfone.read(plane)
    assert ds.attrs["source_format"] == "suite2p" and ds.attrs["fs"] == 10.0
    assert ds.attrs["neuropil_coefficient"] == 1.0
    np.testing.assert_array_equal(ds["F"].values, s.F)
    np.testing.assert_array_equal(ds["Fneu"].values, s.Fneu)
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(runs.columns) == ["start_s", "end_s"]
    np.testing.assert_array_equal(runs.to_numpy(), SHORT.runs())
    truth = pd.read_csv(tmp_path / "truth.csv", keep_default_na=False)
    assert list(truth["kind"]) == list(s.truth["kind"]) and len(truth) == 12


def test_photometry_channels_read_back_on_the_frame_clock(tmp_path):
    import sfone

    s = simulate_session(SHORT, Nuisance(jitter=True), fs=20.0, n_rois=40, seed=12)
    path = write_photometry(s, tmp_path / "phot.csv", n_channels=8)
    ds = sfone.read(path)
    assert ds.attrs["modality"] == "photometry"
    np.testing.assert_allclose(ds["time"].values, s.frame_times, rtol=1e-5)
    truth = pd.read_csv(path.with_suffix(".truth.csv"), keep_default_na=False)
    assert {"signal", "isosbestic"} <= set(ds.data_vars) and len(truth) == 10
    # the raw pair bleaches and shares the motion artefact; the dF/F channels do not bleach
    sig, iso = ds["signal"].values, ds["isosbestic"].values
    assert sig[-1000:].mean() < 0.95 * sig[:1000].mean()

    def band(x, fast=40, slow=1200):  # 2 s moving average minus a 60 s one
        return (np.convolve(x, np.ones(fast) / fast, "same")
                - np.convolve(x, np.ones(slow) / slow, "same"))[slow:-slow]

    assert np.corrcoef(band(sig), band(iso))[0, 1] > 0.5


@pytest.mark.parametrize("nuisance", ["clean", "all"])
def test_keep_spikes_changes_no_draw(nuisance):
    plain = simulate_session("five_short", nuisance, fs=5.0, n_rois=30, seed=13)
    kept = simulate_session("five_short", nuisance, fs=5.0, n_rois=30, seed=13, keep_spikes=True)
    for name in ("F", "Fneu", "spks", "calcium", "frame_times"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(kept, name))
    pd.testing.assert_frame_equal(plain.truth, kept.truth)
    assert "spike_times" not in plain.extra
    trains = kept.extra["spike_times"]
    np.testing.assert_array_equal([t.size for t in trains], kept.truth["n_spikes"])
    # they are the trains behind the calcium: the kernels of these spikes give it back
    tr = kept.truth
    rebuilt = tr["amplitude_dff"].to_numpy()[:, None] * calcium_at(
        trains, kept.frame_times, tr["rise_s"].to_numpy(), tr["decay_s"].to_numpy())
    np.testing.assert_allclose(rebuilt, kept.calcium, rtol=1e-5, atol=1e-6)


def test_keep_spikes_session_still_writes(tmp_path):
    s = simulate_session(SHORT, "clean", fs=5.0, n_rois=4, seed=14, keep_spikes=True)
    write_session(s, tmp_path)
    meta = json.loads((tmp_path / "session.json").read_text())
    assert "spike_times" not in meta and meta["clock"] == 1.0


def _dff(tmp_path, nuisance, name, n_channels=30):
    s = simulate_session(SHORT, nuisance, fs=5.0, n_rois=40, seed=15)
    return pd.read_csv(write_photometry(s, tmp_path / f"{name}.csv", n_channels=n_channels))


def test_photometry_residual_bleaching_falls_by_two_percent(tmp_path):
    clean = _dff(tmp_path, "clean", "clean")
    bleached = _dff(tmp_path, "residual_bleaching", "bleached")
    t = clean["Time(s)"].to_numpy()
    # only the dF/F channels change, and the same spikes and noise are underneath
    for raw in ("signal", "isosbestic"):
        np.testing.assert_array_equal(clean[raw], bleached[raw])
    taus = []
    for i in range(30):
        extra = (bleached[f"dff_{i}"] - clean[f"dff_{i}"]).to_numpy()
        assert extra[0] == pytest.approx(0.0, abs=1e-5)
        assert extra[-1] == pytest.approx(-0.02, abs=1e-5)
        (tau,), _ = curve_fit(lambda x, tau: -0.02 * np.expm1(-x / tau) / np.expm1(-t[-1] / tau),
                              t, extra, p0=(2000.0,))
        taus.append(tau)
    assert 20 * 60 <= min(taus) and max(taus) <= 60 * 60 and np.ptp(taus) > 600


def test_photometry_dff_drift_is_a_one_percent_ou(tmp_path):
    clean = _dff(tmp_path, "clean", "clean", n_channels=60)
    drifting = _dff(tmp_path, "dff_drift", "drift", n_channels=60)
    extra = np.stack([(drifting[f"dff_{i}"] - clean[f"dff_{i}"]).to_numpy() for i in range(60)])
    assert np.sqrt(np.mean(extra**2)) == pytest.approx(0.01, rel=0.15)
    for lag_s in (60, 300):  # the OU has mean 0: correlation without demeaning
        lag = lag_s * 5
        r = np.mean(extra[:, lag:] * extra[:, :-lag]) / np.mean(extra**2)
        assert r == pytest.approx(np.exp(-lag_s / 300), abs=0.1)


def test_photometry_channel_kinds_chosen(tmp_path):
    s = simulate_session(SHORT, "clean", fs=5.0, n_rois=10, fractions={"null": 1.0}, seed=16)
    path = write_photometry(s, tmp_path / "one.csv", n_channels=1, kinds=["null"])
    truth = pd.read_csv(path.with_suffix(".truth.csv"), keep_default_na=False)
    assert truth["channel"].tolist() == ["dff_0", "signal", "isosbestic"]
    assert truth["kind"].tolist()[0] == "null"
    with pytest.raises(ValueError, match="no 'activated' cell"):
        write_photometry(s, tmp_path / "two.csv", n_channels=1, kinds=["activated"])
