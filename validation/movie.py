"""A small two-photon movie with known post-run labels, for the real-suite2p multi-run case.

Neurons on a jittered grid with Gaussian footprints (SD ``footprint_sd`` pixels), each with its
own spike train (:func:`~validation.generator.spike_times`) and GCaMP-like calcium
(:func:`~validation.generator.calcium_at`); a smooth spatial neuropil field whose level has slow
and fast fluctuations; a static background and Poisson-like pixel noise. The schedule has
``n_runs`` short runs with short rests; ``activated`` cells double their rate and
``inhibited`` cells fall to a quarter in every post-run rest (from each run end to the next run
start, and after the last run), and are back at their resting rate during the runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .generator import Design, _response_profile, calcium_at, ou_process, spike_times

__all__ = ["MOVIE_DESIGN", "simulate_movie", "write_tiff", "match_rois"]

# a 5 min rest before the first run: the shortest pre-run baseline the classifier accepts
MOVIE_DESIGN = Design("movie_five_short", 300.0, 5, 40.0, 80.0, 240.0, "sustained")
_GAIN = {"null": 1.0, "activated": 2.0, "inhibited": 0.25}


def simulate_movie(*, n_side: int = 6, spacing: int = 11, fs: float = 3.0,
                   design: Design = MOVIE_DESIGN, footprint_sd: float = 2.0, seed: int = 0):
    """Return ``(movie, truth, footprints)``.

    ``movie``: (frames, Ly, Lx) float32 photon-like counts; ``truth``: one row per neuron (kind,
    expected label, centre y/x in pixels, rate, kernel); ``footprints``: (n, Ly, Lx) weights.
    """
    rng = np.random.default_rng(seed)
    n = n_side * n_side
    size = spacing * (n_side + 1)
    kinds = rng.permutation(np.repeat(["null", "activated", "inhibited"], n // 3 + 1)[:n])
    grid = (np.arange(n_side) + 1) * spacing
    cy, cx = [g.ravel() + rng.uniform(-2, 2, n) for g in np.meshgrid(grid, grid, indexing="ij")]
    yy, xx = np.mgrid[:size, :size]
    footprints = np.exp(-((yy[None] - cy[:, None, None]) ** 2 + (xx[None] - cx[:, None, None]) ** 2)
                        / (2 * footprint_sd**2))
    footprints[footprints < 0.05] = 0.0

    n_frames = int(round(design.duration_s * fs))
    times = np.arange(n_frames) / fs
    in_rest = _response_profile(design, "sustained", times)
    rate0 = rng.uniform(0.5, 1.5, n)
    rise, decay = rng.uniform(0.05, 0.10, n), rng.uniform(0.4, 1.5, n)
    trains = [spike_times(rate0[i] * _GAIN[kinds[i]] ** in_rest, times, rng) for i in range(n)]
    calcium = calcium_at(trains, times, rise, decay) * rng.uniform(0.8, 1.2, n)[:, None]

    brightness = rng.uniform(150, 250, n)  # peak pixel of a cell at rest, photons/frame
    neuropil_level = 1 + ou_process(n_frames, 1 / fs, 60.0, 0.05, rng)[0] \
        + ou_process(n_frames, 1 / fs, 1.0, 0.03, rng)[0]
    field = 60.0 * (1 + 0.3 * np.sin(yy / size * np.pi) * np.cos(xx / size * 2.0))
    background = 40.0
    cells = np.tensordot(brightness[:, None] * (1 + calcium), footprints, axes=(0, 0))
    movie = background + field[None] * neuropil_level[:, None, None] + cells
    movie = rng.poisson(np.clip(movie, 0, None)).astype(np.float32)
    truth = pd.DataFrame({"neuron": np.arange(n), "kind": kinds,
                          "expected_label": [{"null": "unchanged"}.get(k, k) for k in kinds],
                          "y": cy, "x": cx, "rate_hz": rate0, "rise_s": rise, "decay_s": decay,
                          "brightness": brightness})
    return movie, truth, footprints


def write_tiff(movie: np.ndarray, path) -> Path:
    """Write the movie as an int16 TIFF stack (what suite2p reads)."""
    import tifffile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, np.clip(movie, 0, 32767).astype(np.int16))
    return path


def match_rois(stat, footprints: np.ndarray, *, min_overlap: float = 0.3) -> dict:
    """Match suite2p ROIs (``stat`` dicts with ypix/xpix/lam) to true footprints.

    Overlap = weighted Jaccard of the ROI's ``lam`` and the true footprint, both scaled to sum 1;
    greedy one-to-one from the best pair down; pairs under ``min_overlap`` stay unmatched.
    Returns {neuron index: roi index}.
    """
    n = footprints.shape[0]
    truth = footprints.reshape(n, -1)
    truth = truth / truth.sum(axis=1, keepdims=True)
    shape = footprints.shape[1:]
    score = np.zeros((n, len(stat)))
    for j, s in enumerate(stat):
        inside = (s["ypix"] < shape[0]) & (s["xpix"] < shape[1])
        flat = np.ravel_multi_index((s["ypix"][inside], s["xpix"][inside]), shape)
        lam = np.asarray(s["lam"], float)[inside]
        lam = lam / lam.sum()
        roi = np.zeros(truth.shape[1])
        np.add.at(roi, flat, lam)
        score[:, j] = np.minimum(truth, roi).sum(axis=1) / np.maximum(truth, roi).sum(axis=1)
    pairs = {}
    for flat in np.argsort(score, axis=None)[::-1]:
        i, j = np.unravel_index(flat, score.shape)
        if score[i, j] < min_overlap:
            break
        if i not in pairs and j not in pairs.values():
            pairs[int(i)] = int(j)
    return pairs
