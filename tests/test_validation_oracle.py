"""The count oracle of validation/oracle.py (issue 26): its null covariance, its calibration on
all-null spike trains, and the power ordering of its linear and log-scale statistics."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from validation import oracle
from validation.generator import DESIGNS, NUISANCES, draw_spike_trains, simulate_session
from validation.harness import FRACTIONS


@functools.cache
def _table(design: str, nuisance: str) -> oracle.NullTable:
    # a small null (4,000 count vectors per rate) keeps the tests quick; p-values down to 2.5e-4
    return oracle.NullTable(oracle.session_bins(design), nuisance, n_per_rate=4000, seed=3)


def _null_counts(design: str, nuisance: str, n: int, seed: int, fs: float = 10.0):
    """Counts of ``n`` all-null cells drawn by the generator itself on its 10 Hz frame clock."""
    bins = oracle.session_bins(design)
    rng = np.random.default_rng(seed)
    rate = np.exp(rng.uniform(np.log(0.2), np.log(1.0), n))
    frames = np.arange(int(round(bins.design.duration_s * fs))) / fs
    counts = np.concatenate([
        bins.counts(draw_spike_trains(bins.design, NUISANCES[nuisance], rate[i:i + 250],
                                      ["null"] * rate[i:i + 250].size, frames, 1 / fs, rng))
        for i in range(0, n, 250)])
    return rate, counts


def test_count_kernel_is_the_bin_average_of_the_log_normal_covariance():
    centres = np.array([5.0, 15.0, 45.0, 305.0])
    K = oracle.count_kernel(centres, 10.0, 0.5, 60.0)
    # brute force: midpoint rule on 2000 points per bin
    off = (np.arange(2000) + 0.5) / 2000 * 10.0 - 5.0
    for a in range(4):
        for b in range(4):
            t, u = centres[a] + off[:, None], centres[b] + off[None, :]
            direct = np.expm1(0.25 * np.exp(-np.abs(t - u) / 60.0)).mean()
            assert K[a, b] == pytest.approx(direct, rel=1e-4)
    assert np.all(oracle.count_kernel(centres, 10.0, 0.0, 60.0) == 0)


@pytest.mark.parametrize("nuisance", ["clean", "bursty"])
def test_null_covariance_matches_the_generators_counts(nuisance):
    """S = F r w I + (r w)^2 K against 3,000 cells of the generator at one rate."""
    design = DESIGNS["five_short"]
    bins = oracle.session_bins(design)
    rate = 0.5
    frames = np.arange(int(design.duration_s * 10)) / 10
    rng = np.random.default_rng(11)
    counts = np.concatenate([bins.counts(draw_spike_trains(
        design, NUISANCES[nuisance], np.full(300, rate), ["null"] * 300, frames, 0.1, rng))
        for _ in range(10)]).astype(float)
    cov = oracle._Covariance(bins, nuisance)
    K = cov.U @ np.diag(cov.lam) @ cov.U.T
    mu = rate * bins.width
    S = cov.fano * mu * np.eye(K.shape[0]) + mu**2 * K
    sample = np.cov(counts[:, :60].T)  # the 60 pre-run bins
    assert counts.mean() == pytest.approx(mu, rel=0.02)
    assert np.mean(np.diag(sample)) == pytest.approx(np.mean(np.diag(S)[:60]), rel=0.05)
    for lag in (1, 6, 20):  # 10, 60 and 200 s
        measured = np.mean(np.diag(sample, lag))
        assert measured == pytest.approx(np.mean(np.diag(S[:60, :60], lag)),
                                         abs=0.08 * S[0, 0])
    if nuisance == "bursty":
        assert S[0, 0] / mu > 3.6  # Fano 11/3 plus the log-rate variance
        assert np.mean(np.diag(sample, 6)) > 0.05 * S[0, 0]  # correlated 60 s apart


@pytest.mark.parametrize("design,nuisance", [("five_short", "bursty"), ("single", "bursty"),
                                             ("five_short", "clean")])
def test_oracle_p_values_calibrated_on_all_null_cells(design, nuisance):
    """P(p < a) within 3 binomial SEs of a (and not above at 0.01) for every statistic and
    shape, on 2,000 all-null cells of the generator (5 Hz frame clock; not the simulated null
    the oracle is calibrated on)."""
    rate, counts = _null_counts(design, nuisance, 2000, seed=21, fs=5.0)
    result = oracle.count_oracle(counts, rate, _table(design, nuisance))
    for shape, res in result.items():
        for stat in ("lin", "log", "comb"):
            p = res[stat]
            assert np.all((p > 0) & (p <= 1))
            p05 = np.mean(p < 0.05)
            assert abs(p05 - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / 2000) or (
                stat == "comb" and 0.02 <= p05 <= 0.05), (shape, stat, p05)
            assert np.mean(p < 0.01) <= 0.01 + 3 * np.sqrt(0.01 / 2000), (shape, stat)


def test_gaussian_reference_is_too_liberal_in_short_windows():
    """Why the oracle simulates its null: with bursts, a normal reference for the transient's
    statistics labels many times the nominal rate."""
    rate, counts = _null_counts("single", "bursty", 1000, seed=22)
    res = oracle.count_oracle(counts, rate, _table("single", "bursty"), gaussian=True)
    assert np.mean(res["decaying"]["lin"] < 0.001) > 0.004  # nominal 0.001
    assert np.mean(res["decaying"]["log"] < 0.01) > 0.05  # nominal 0.01


def test_bh_qvalues():
    q = oracle.bh([0.01, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(q, [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])


def test_linear_wins_for_doubling_log_for_quartering_with_bursty_spiking():
    """Single run, bursty + log-rate OU: the linear statistic finds more x2 responses, the log
    ratio more x0.25 ones; the combined one keeps most of both."""
    power = oracle.oracle_cell("single", "bursty", seeds=(101,), table=_table("single", "bursty"))
    lin, log, comb = power["lin"], power["log"], power["comb"]
    assert lin["activated"] > log["activated"] + 0.1
    assert log["inhibited"] > lin["inhibited"] + 0.2
    assert comb["activated"] >= 0.8 * lin["activated"]
    assert comb["inhibited"] >= 0.9 * log["inhibited"]
    assert power["n"] == {"activated": 30, "inhibited": 30, "transient": 20}


def test_oracle_counts_every_spike_outside_the_runs():
    s = simulate_session("five_short", "clean", fs=5.0, n_rois=20, fractions=FRACTIONS, seed=4,
                         keep_spikes=True)
    bins = oracle.session_bins("five_short")  # run edges fall on bin edges in this design
    counts = bins.counts(s.extra["spike_times"])
    runs = DESIGNS["five_short"].runs()
    for train, row in zip(s.extra["spike_times"], counts, strict=True):
        inside = np.any([(train >= a) & (train < b) for a, b in runs], axis=0)
        # the generator draws from half a frame before frame 0; the bins start at 0
        assert row.sum() == np.sum(~inside & (train >= 0) & (train <= bins.edges[-1]))
    assert counts.shape[1] == (DESIGNS["five_short"].duration_s - 5 * 90) / 10
