"""The yardstick of post-run power: the best valid test on the true spike counts (issue 26).

The **count oracle** sees what no classifier sees: every cell's true spike train (recorded by
``simulate_session(..., keep_spikes=True)``), its true baseline rate, and the process that drew
it (Poisson or bursty spiking, with or without the slow log-rate OU). It bins the spikes in
10 s bins (bins that overlap a run are dropped) and tests each cell for a mean shift with the
shape of the response it looks for (``h(t)`` of :mod:`validation.generator`: sustained or
persisting steps, and the decaying transient):

* **null covariance of the counts, exact, at the cell's rate r**: ``S = F r w I + (r w)^2 K``
  with ``w`` the bin width, ``F`` the Fano factor of the spiking (1 for Poisson, 11/3 for the
  generator's bursts of 1 + geometric(0.5) spikes: E[size^2] / E[size]) and ``K`` the bin
  average of ``exp(s^2 exp(-|t - u| / tau)) - 1`` (the OU log-rate, SD s = 0.5, tau 60 s;
  integrated exactly term by term of its series);
* **linear scale**: the GLS estimate of the shift ``b`` in ``counts = a + b d + e`` (``a`` free:
  the test does not use the baseline level, only its covariance), ``z = b / se(b)``;
* **log scale**: ``log(1 + b / a)``, the log ratio of the fitted response level to the
  baseline level (a fall to x0.25 weighs as much as a rise to x4; continued linearly below a
  ratio of 0.01, so that an empty response window still ranks);
* **combined**: Bonferroni over the two, ``p = min(1, 2 min(p_lin, p_log))``: it treats x2 and
  x0.5 evenly; this is the yardstick of the power targets;
* **p-values calibrated by simulation**: a Gaussian reference is far off in the tail (bursts
  in a short window, a skewed 10-min baseline under the log-rate OU: ``python -m
  validation.oracle`` prints both), so the null distribution of each statistic is simulated
  from the known process at a grid of rates (``RATE_GRID``, :func:`simulate_null_counts`) and
  a cell's p-value is interpolated in log rate between its two neighbouring grid rates;
* **BH at q = 0.05** across every ROI of the session (a label: q < 0.05 and the right sign).

The old oracle (the log ratio of the noise-free calcium's window means, matched weights, per-ROI
5 % level from the session's null ROIs; no false-discovery control) is kept as a second row.

``python -m validation.oracle`` computes every cell (design x {Poisson, bursty + log-rate OU})
and the oracle's own calibration on all-null spike trains, prints the table and caches it in
``validation/results/oracle.json``, which the harness reads (``--force`` recomputes).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .generator import (
    BURST_MEAN_SIZE,
    DESIGNS,
    LOG_RATE_SD,
    LOG_RATE_TAU_S,
    NUISANCES,
    _response_profile,
    draw_spike_trains,
    ou_process,
    simulate_session,
)
from .harness import FRACTIONS

__all__ = ["BIN_S", "RATE_GRID", "ACTIVITIES", "CACHE", "SessionBins", "session_bins",
           "count_kernel", "gls_statistics", "simulate_null_counts", "NullTable", "bh",
           "count_oracle", "calcium_oracle_power", "oracle_cell", "oracle_calibration",
           "compute_table", "load_table", "cell_oracle", "render_table", "source_fingerprint"]

BIN_S = 10.0
#: rates (Hz) of the simulated nulls: the generator's baseline rates are log-uniform in 0.2-1
RATE_GRID = np.geomspace(0.2, 1.0, 13)
#: the activities the oracle sees whole: nuisance name -> table label
ACTIVITIES = {"clean": "Poisson", "bursty": "bursty + log-rate OU"}
STATISTICS = ("lin", "log", "comb")
KIND_SIDE = {"activated": 1, "inhibited": -1, "transient": 1}
ALPHAS = (0.05, 0.01, 0.001)
CACHE = Path(__file__).resolve().parent / "results" / "oracle.json"
#: seeds of the mixed sessions (the harness's two first) and of the all-null calibration
ORACLE_SEEDS = (101, 202, 303, 404, 505, 606)
CALIBRATION_SEED = 9001
_LOG_FLOOR = 0.01  # below 1 % of the baseline level, the log ratio continues linearly


class SessionBins:
    """10 s bins of one design: ``edges`` (s, every bin), ``use`` (bins outside every run),
    ``centres`` (s, used bins) and the bin-mean response profile of each shape (used bins)."""

    def __init__(self, design, width: float = BIN_S, sub: int = 100):
        n = int(math.floor(design.duration_s / width + 1e-9))
        left = np.arange(n) * width
        right = left + width
        inrun = np.zeros(n, bool)
        for start, end in design.runs():
            inrun |= (right > start) & (left < end)
        self.design, self.width = design, float(width)
        self.edges = np.r_[left, right[-1:]]
        self.use = ~inrun
        self.centres = 0.5 * (left + right)[self.use]
        fine = (left[:, None] + (np.arange(sub) + 0.5) / sub * width).ravel()
        self.profiles = {shape: _response_profile(design, shape, fine).reshape(n, sub)
                         .mean(axis=1)[self.use] for shape in self.shapes}

    @property
    def shapes(self) -> tuple:
        """The design's response shape and the transient's (``decaying``)."""
        return tuple(dict.fromkeys((self.design.response, "decaying")))

    def counts(self, trains) -> np.ndarray:
        """(cell, used bin) spike counts of a list of spike-time arrays (s)."""
        return np.stack([np.histogram(t, self.edges)[0] for t in trains])[:, self.use]


def session_bins(design, width: float = BIN_S) -> SessionBins:
    design = DESIGNS[design] if isinstance(design, str) else design
    return SessionBins(design, width)


def count_kernel(centres, width: float, sd: float, tau_s: float, n_terms: int = 16):
    """``K[a, b]``: mean over ``t`` in bin a, ``u`` in bin b (width ``width`` s, centred at
    ``centres``) of ``exp(sd^2 exp(-|t - u| / tau_s)) - 1``, the correlation of a mean-one
    log-normal OU rate; exact, summed over the series ``sum_k sd^2k / k! exp(-k |t-u| / tau)``."""
    centres = np.asarray(centres, float)
    lag = np.abs(centres[:, None] - centres[None, :])
    same = lag < width / 2
    out = np.zeros(lag.shape)
    if sd == 0:
        return out
    for k in range(1, n_terms + 1):
        lam = k / tau_s
        within = 2 * (lam * width - 1 + math.exp(-lam * width)) / lam**2
        between = np.exp(-lam * lag) * (2 * math.cosh(lam * width) - 2) / lam**2
        out += sd ** (2 * k) / math.factorial(k) * np.where(same, within, between)
    return out / width**2


class _Covariance:
    """Eigen-decomposition of ``K``: ``S(r) = r w U diag(F + r w lambda) U'`` for every rate."""

    def __init__(self, bins: SessionBins, nuisance):
        nuisance = NUISANCES[nuisance] if isinstance(nuisance, str) else nuisance
        sd = LOG_RATE_SD if nuisance.rate_modulation else 0.0
        self.fano = _fano(nuisance.bursty)
        K = count_kernel(bins.centres, bins.width, sd, LOG_RATE_TAU_S)
        lam, self.U = np.linalg.eigh(K)
        self.lam = np.clip(lam, 0.0, None)
        self.width = bins.width


def _fano(bursty: bool) -> float:
    """Fano factor of the counts without rate modulation: E[size^2] / E[size] of a burst of
    1 + geometric(0.5) extra spikes (size mean 3, variance 2: 11 / 3); 1 for Poisson."""
    if not bursty:
        return 1.0
    extra_mean = BURST_MEAN_SIZE - 1.0  # geometric(p) on {1, 2, ...}: mean 1/p, var (1-p)/p^2
    p = 1.0 / extra_mean
    var = (1 - p) / p**2
    return (var + BURST_MEAN_SIZE**2) / BURST_MEAN_SIZE


def gls_statistics(counts, rate, shape, cov: _Covariance) -> dict:
    """Statistics of every row of ``counts`` (cell, bin) at its rate ``rate`` (Hz) for the
    response ``shape`` (bin values), with the exact null covariance ``cov``: ``lin`` (GLS
    ``b / se(b)``), ``log`` (``log(1 + b / a)``, continued linearly below 0.01; not standardised:
    its simulated null is interpolated between rates) and ``log_z`` (``log`` in units of
    ``se(b) / (r w)``, for the Gaussian reference)."""
    counts = np.atleast_2d(np.asarray(counts, float))
    rate = np.broadcast_to(np.asarray(rate, float), (counts.shape[0],))
    X = np.column_stack([np.ones(shape.size), shape / shape.max()])
    Y = cov.U.T @ X
    C = counts @ cov.U
    mu = rate * cov.width  # expected count per bin
    D = 1.0 / (cov.fano + mu[:, None] * cov.lam[None, :])  # S^-1 = U diag(D / mu) U'
    A = np.einsum("nk,kp,kq->npq", D, Y, Y) / mu[:, None, None]
    b = np.einsum("nk,kp,nk->np", D, Y, C) / mu[:, None]
    Ai = np.linalg.inv(A)
    beta = np.einsum("npq,nq->np", Ai, b)
    se = np.sqrt(Ai[:, 1, 1])
    z_lin = beta[:, 1] / se
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(beta[:, 0] > 0, 1 + beta[:, 1] / beta[:, 0],
                         np.where(beta[:, 1] > 0, np.inf, -np.inf))
    log = _extended_log(ratio)
    return {"lin": z_lin, "log": log, "log_z": log * mu / se}


def _extended_log(x):
    """``log(x)``, continued linearly (slope 1 / f) below ``f = _LOG_FLOOR``: monotone on the
    whole real line, so a fitted response level at or below zero still ranks, without an atom;
    +-inf (a baseline level fitted at or below zero) maps to +-1e6."""
    x = np.clip(np.asarray(x, float), -1e6, 1e6)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x >= _LOG_FLOOR, np.log(np.maximum(x, _LOG_FLOOR)),
                        math.log(_LOG_FLOOR) + (x - _LOG_FLOOR) / _LOG_FLOOR)


def simulate_null_counts(bins: SessionBins, nuisance, rate: float, n: int, rng, *,
                         step_s: float = 1.0, chunk: int = 2000) -> np.ndarray:
    """``(n, used bins)`` null spike counts of the generator's process at ``rate`` (Hz), drawn
    bin by bin: the log-rate OU (:func:`validation.generator.ou_process`) on a ``step_s`` grid,
    integrated over each bin; Poisson counts, or Poisson burst counts B with 2 B +
    negative-binomial(B, 0.5) spikes (B bursts of 1 + geometric(0.5) extra spikes)."""
    nuisance = NUISANCES[nuisance] if isinstance(nuisance, str) else nuisance
    per_bin = int(round(bins.width / step_s))
    n_bins = bins.use.size
    out = []
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        if nuisance.rate_modulation:
            x = (ou_process(n_bins * per_bin, step_s, LOG_RATE_TAU_S, LOG_RATE_SD, rng, size)
                 - 0.5 * LOG_RATE_SD**2)
            lam = rate * step_s * np.exp(x).reshape(size, n_bins, per_bin).sum(axis=2)
        else:
            lam = np.full((size, n_bins), rate * bins.width)
        lam = lam[:, bins.use]
        if nuisance.bursty:
            bursts = rng.poisson(lam / BURST_MEAN_SIZE)
            extra = rng.negative_binomial(np.maximum(bursts, 1), 0.5) * (bursts > 0)
            counts = 2 * bursts + extra
        else:
            counts = rng.poisson(lam)
        out.append(counts)
    return np.concatenate(out).astype(float)


class NullTable:
    """Simulated null distributions of ``|z_lin|`` and ``|z_log|`` per shape at every rate of
    ``RATE_GRID`` (``n_per_rate`` count vectors each); :meth:`pvalues` interpolates."""

    def __init__(self, bins: SessionBins, nuisance, *, n_per_rate: int = 15000, seed: int = 0,
                 rates=RATE_GRID):
        rng = np.random.default_rng(seed)
        self.cov = _Covariance(bins, nuisance)
        self.bins, self.rates, self.n = bins, np.asarray(rates, float), int(n_per_rate)
        self.sorted = {shape: {"lin": [], "log": []} for shape in bins.shapes}
        for rate in self.rates:
            counts = simulate_null_counts(bins, nuisance, rate, self.n, rng)
            for shape in bins.shapes:
                z = gls_statistics(counts, rate, bins.profiles[shape], self.cov)
                for stat in ("lin", "log"):
                    self.sorted[shape][stat].append(np.sort(np.abs(z[stat])))

    def pvalues(self, z, rate, shape: str, stat: str) -> np.ndarray:
        """Two-sided simulated p-values of ``z`` at ``rate`` (Hz), linear in log rate between
        the two neighbouring grid rates (flat outside the grid)."""
        z, rate = np.abs(np.asarray(z, float)), np.asarray(rate, float)
        tables = self.sorted[shape][stat]
        p_grid = np.stack([(1 + self.n - np.searchsorted(t, z, side="left")) / (self.n + 1)
                           for t in tables])
        x = np.clip(np.log(rate), np.log(self.rates[0]), np.log(self.rates[-1]))
        j = np.clip(np.searchsorted(np.log(self.rates), x, side="right") - 1, 0,
                    self.rates.size - 2)
        f = (x - np.log(self.rates[j])) / (np.log(self.rates[j + 1]) - np.log(self.rates[j]))
        cols = np.arange(z.size)
        return (1 - f) * p_grid[j, cols] + f * p_grid[j + 1, cols]


def bh(p) -> np.ndarray:
    """Benjamini-Hochberg q-values of ``p`` (written here: the oracle does not use sfone)."""
    p = np.asarray(p, float)
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    q = np.empty_like(p)
    q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q


def count_oracle(counts, rate, table: NullTable, *, gaussian: bool = False) -> dict:
    """Per shape: ``{"lin" | "log" | "comb": p, "sign": sign of the shift}`` for every row of
    ``counts``; ``gaussian`` uses the normal reference instead of the simulated null."""
    from scipy.stats import norm

    out = {}
    for shape in table.bins.shapes:
        z = gls_statistics(counts, rate, table.bins.profiles[shape], table.cov)
        if gaussian:
            p = {"lin": 2 * norm.sf(np.abs(z["lin"])), "log": 2 * norm.sf(np.abs(z["log_z"]))}
        else:
            p = {stat: table.pvalues(z[stat], rate, shape, stat) for stat in ("lin", "log")}
        p["comb"] = np.minimum(1.0, 2 * np.minimum(p["lin"], p["log"]))
        p["sign"] = np.sign(z["lin"])
        out[shape] = p
    return out


def calcium_oracle_power(session) -> dict:
    """The old oracle on one session: the log ratio of the noise-free calcium's response-
    weighted post-run mean to its pre-run mean, two-sided 5 % critical values from the session's
    null ROIs (per ROI, no false-discovery control); power per kind."""
    t, runs = session.frame_times, session.design.runs()
    pre = t < runs[0, 0]
    post = np.zeros(t.size, bool)
    for k in range(len(runs)):
        stop = runs[k + 1, 0] if k + 1 < len(runs) else np.inf
        post |= (t >= runs[k, 1]) & (t < stop)
    kinds = session.truth["kind"].to_numpy()
    baseline = session.calcium[:, pre].mean(axis=1)
    out = {}
    for kind, side in KIND_SIDE.items():
        shape = "decaying" if kind == "transient" else session.design.response
        weight = _response_profile(session.design, shape, t) * post
        stat = np.log((session.calcium @ weight) / weight.sum() / baseline)
        low, high = np.quantile(stat[kinds == "null"], [0.025, 0.975])
        v = stat[kinds == kind]
        out[kind] = float(np.mean(v > high) if side > 0 else np.mean(v < low))
    return out


def _kind_shape(design, kind: str) -> str:
    return "decaying" if kind == "transient" else design.response


def oracle_cell(design: str, nuisance: str, *, seeds=ORACLE_SEEDS, n_rois: int = 200,
                fs: float = 10.0, q: float = 0.05, table: NullTable | None = None) -> dict:
    """BH power of lin / log / comb (and the old oracle) per kind, pooled over ``seeds``
    (mixed sessions of the harness's mixture); ``n`` counts ROIs per kind."""
    bins = session_bins(design)
    table = table or NullTable(bins, nuisance)
    hits = {s: {k: 0 for k in KIND_SIDE} for s in (*STATISTICS, "old")}
    n = dict.fromkeys(KIND_SIDE, 0)
    for seed in seeds:
        s = simulate_session(design, nuisance, fs=fs, n_rois=n_rois, fractions=FRACTIONS,
                             seed=seed, keep_spikes=True)
        kinds = s.truth["kind"].to_numpy()
        result = count_oracle(bins.counts(s.extra["spike_times"]), s.truth["rate_hz"].to_numpy(),
                              table)
        old = calcium_oracle_power(s)
        for kind, side in KIND_SIDE.items():
            sel = kinds == kind
            n[kind] += int(sel.sum())
            res = result[_kind_shape(bins.design, kind)]
            for stat in STATISTICS:
                labelled = (bh(res[stat]) < q) & (res["sign"] == side)
                hits[stat][kind] += int(labelled[sel].sum())
            hits["old"][kind] += round(old[kind] * sel.sum())
    return {stat: {k: hits[stat][k] / n[k] for k in KIND_SIDE} for stat in hits} | {"n": n}


def oracle_calibration(design: str, nuisance: str, *, n_rois: int = 4000, fs: float = 10.0,
                       seed: int = CALIBRATION_SEED, session_rois: int = 200, q: float = 0.05,
                       table: NullTable | None = None, gaussian: bool = True) -> dict:
    """P(p < a) of every statistic and shape on ``n_rois`` all-null cells (the generator's
    :func:`~validation.generator.draw_spike_trains` on the design's frame clock, rates
    log-uniform in 0.2-1 Hz), with the simulated null and (``gaussian``) the normal reference;
    ``any_label``: fraction of sessions of ``session_rois`` cells with a BH label (comb)."""
    bins = session_bins(design)
    table = table or NullTable(bins, nuisance)
    rng = np.random.default_rng(seed)
    frames = np.arange(int(round(bins.design.duration_s * fs))) / fs
    nz = NUISANCES[nuisance]
    rate = np.exp(rng.uniform(np.log(0.2), np.log(1.0), n_rois))
    counts = np.concatenate([
        bins.counts(draw_spike_trains(bins.design, nz, rate[i:i + session_rois],
                                      ["null"] * len(rate[i:i + session_rois]), frames, 1 / fs,
                                      rng))
        for i in range(0, n_rois, session_rois)])
    out = {"n": int(n_rois), "n_sessions": int(math.ceil(n_rois / session_rois))}
    for reference in ("simulated", "gaussian") if gaussian else ("simulated",):
        result = count_oracle(counts, rate, table, gaussian=reference == "gaussian")
        out[reference] = {shape: {stat: [float(np.mean(res[stat] < a)) for a in ALPHAS]
                                  for stat in STATISTICS} for shape, res in result.items()}
        sessions = [slice(i, i + session_rois) for i in range(0, n_rois, session_rois)]
        out[reference]["any_label"] = {
            shape: float(np.mean([(bh(res["comb"][s]) < q).any() for s in sessions]))
            for shape, res in result.items()}
    return out


def compute_table(*, designs=tuple(DESIGNS), seeds=ORACLE_SEEDS, n_per_rate: int = 15000,
                  n_calibration: int = 4000, progress=None) -> dict:
    """Every design x activity: power (``oracle_cell``) and calibration (``oracle_calibration``)."""
    cells = {}
    for design in designs:
        for nuisance in ACTIVITIES:
            start = time.perf_counter()
            table = NullTable(session_bins(design), nuisance, n_per_rate=n_per_rate)
            cell = {"power": oracle_cell(design, nuisance, seeds=seeds, table=table),
                    "calibration": oracle_calibration(design, nuisance, n_rois=n_calibration,
                                                      table=table)}
            cell["seconds"] = time.perf_counter() - start
            cells[f"{design} {nuisance}"] = cell
            if progress:
                progress(design, nuisance, cell)
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "fingerprint": source_fingerprint(),
            "seeds": list(seeds), "n_rois": 200, "fs": 10.0, "bin_s": BIN_S, "q": 0.05,
            "n_per_rate": n_per_rate, "rate_grid_hz": [float(r) for r in RATE_GRID],
            "n_calibration": n_calibration, "cells": cells}


def source_fingerprint() -> str:
    """SHA-256 (first 16 hex digits) of the generator's and this module's source: a cached
    table computed from other code is stale."""
    import hashlib

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("generator.py", "oracle.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def load_table(path=CACHE) -> dict | None:
    """The cached oracle table, or None when it was never computed."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else None


def cell_oracle(table: dict | None, design: str, nuisance: str) -> dict | None:
    """The combined oracle's BH power ``{"x2", "x025", "transient"}`` of a harness cell, or
    None when the oracle does not see the cell whole (a nuisance other than clean or bursty)."""
    if not table or f"{design} {nuisance}" not in table["cells"]:
        return None
    comb = table["cells"][f"{design} {nuisance}"]["power"]["comb"]
    return {"x2": comb["activated"], "x025": comb["inhibited"], "transient": comb["transient"]}


_ROW_NAMES = {"lin": "linear (GLS, exact count covariance)", "log": "log ratio",
              "comb": "**combined** (Bonferroni lin + log: the yardstick)",
              "old": "old: log ratio of the noise-free calcium, per-ROI 5 % (no BH)"}


def render_table(table: dict) -> str:
    """Markdown: the power table and the oracle's calibration table."""
    lines = ["| design | spiking | oracle | power x2 | power x0.25 | power transient |",
             "|---|---|---|---|---|---|"]
    for key, cell in table["cells"].items():
        design, nuisance = key.split()
        for stat in (*STATISTICS, "old"):
            p = cell["power"][stat]
            lines.append(f"| `{design}` | {ACTIVITIES[nuisance]} | {_ROW_NAMES[stat]} | "
                         f"{p['activated']:.2f} | {p['inhibited']:.2f} | {p['transient']:.2f} |")
    lines += ["", "Calibration of the oracle on all-null cells (P(p < .05) / P(p < .01) / "
              "P(p < .001); any label: fraction of all-null 200-cell sessions with a BH label, "
              "combined):", "",
              "| design | spiking | shape | reference | lin | log | comb | any label |",
              "|---|---|---|---|---|---|---|---|"]
    for key, cell in table["cells"].items():
        design, nuisance = key.split()
        cal = cell["calibration"]
        for reference in ("simulated", "gaussian"):
            if reference not in cal:
                continue
            for shape in cal[reference]:
                if shape == "any_label":
                    continue
                stats = " | ".join(" / ".join(f"{x:.4f}" for x in cal[reference][shape][s])
                                   for s in STATISTICS)
                lines.append(f"| `{design}` | {ACTIVITIES[nuisance]} | {shape} | {reference} | "
                             f"{stats} | {cal[reference]['any_label'][shape]:.2f} |")
    note = (f"\n(`python -m validation.oracle`, {table['date']}: mixed sessions of 200 ROIs, "
            f"seeds {table['seeds']}, 10 Hz; nulls simulated with {table['n_per_rate']} count "
            f"vectors at each of {len(table['rate_grid_hz'])} rates 0.2-1 Hz; calibration on "
            f"{table['n_calibration']} all-null cells per design and activity, the generator's "
            "own spike trains on its 10 Hz frame clock.)\n")
    return "\n".join(lines) + "\n" + note


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validation.oracle",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="recompute even if cached")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(ORACLE_SEEDS))
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=list(DESIGNS))
    parser.add_argument("--n-per-rate", type=int, default=15000)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    table = None if args.force else load_table(args.cache)
    if table is None:
        def progress(design, nuisance, cell):
            print(f"{design} {nuisance}: {cell['seconds']:.0f} s", file=sys.stderr, flush=True)

        table = compute_table(designs=tuple(args.designs), seeds=tuple(args.seeds),
                              n_per_rate=args.n_per_rate, progress=progress)
        table["command"] = "python -m validation.oracle " + " ".join(argv or sys.argv[1:])
        from .report import save_json

        save_json(args.cache, table)
        print(f"wrote {args.cache}", file=sys.stderr)
    print(render_table(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
