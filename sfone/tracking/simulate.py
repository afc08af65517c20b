"""Simulated movies of one field of view on two days, with known cell identities.

Day 8 sees the same tissue shifted and rotated (the transform ``truth["transform"]`` maps
day-8 pixels to day-1 pixels, as :func:`sfone.track` reports it), with some cells lost (silent
on day 8), some new (silent on day 1), a different brightness and its own noise. A smooth
background texture (vessels, uneven tissue) moves with the tissue, as in a real mean image.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, optimize

from ..simulate.imaging import _calcium
from .register import RigidTransform

__all__ = ["simulate_two_days", "truth_of_rois"]


def _positions(n: int, shape, margin: float, separation: float, rng) -> np.ndarray:
    points: list[np.ndarray] = []
    for _ in range(200 * n):
        candidate = rng.uniform([margin, margin], [shape[0] - margin, shape[1] - margin])
        if all(np.hypot(*(candidate - p)) >= separation for p in points):
            points.append(candidate)
            if len(points) == n:
                return np.array(points)
    raise ValueError(f"cannot place {n} cells {separation} px apart in {shape}")


def _displacement(shape, amplitude: float, rng) -> np.ndarray:
    """Smooth displacement field ``(2, rows, cols)`` with largest magnitude ``amplitude``."""
    field = np.stack([ndimage.gaussian_filter(rng.normal(size=shape), 24.0) for _ in range(2)])
    return field * (amplitude / np.hypot(*field).max())


def _sample(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The displacement ``(n, 2)`` at ``(n, 2)`` (row, col) points (nearest edge value outside)."""
    return np.column_stack([ndimage.map_coordinates(f, points.T, order=1, mode="nearest")
                            for f in field])


def _movie(centres, sigmas, calcium, background, gain, baseline, rng, shape):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    blobs = np.exp(-((yy[None] - centres[:, 0, None, None]) ** 2
                     + (xx[None] - centres[:, 1, None, None]) ** 2)
                   / (2 * sigmas[:, None, None] ** 2)).reshape(len(centres), -1)
    activity = (calcium * 60.0 + 30.0).T @ blobs
    movie = gain * (baseline + background.ravel()[None] + activity)
    movie = movie + rng.normal(0.0, 6.0, movie.shape)
    return np.clip(movie, 0, 2**15 - 2).astype(np.int16).reshape(-1, *shape)


def simulate_two_days(*, shape=(128, 128), n_cells: int = 50, n_lost: int = 5, n_new: int = 5,
                      angle_deg: float = 4.0, shift=(6.0, -5.0), gain_day8: float = 0.7,
                      n_frames: int = 500, fs: float = 10.0, tau: float = 1.0,
                      rate_hz: float = 0.5, separation: float = 8.0, deform_px: float = 0.0,
                      random_state=0):
    """Two int16 movies ``(n_frames, *shape)`` (day 1, day 8) and their truth.

    ``n_cells`` cells are in both days, ``n_lost`` only on day 1, ``n_new`` only on day 8.

    Parameters
    ----------
    shape : (int, int), default (128, 128)
        Field of view (pixels).
    n_cells : int, default 50
        Cells present on both days.
    n_lost : int, default 5
        Cells on day 1 only.
    n_new : int, default 5
        Cells on day 8 only.
    angle_deg : float, default 4.0
        Rotation of day 8 relative to day 1 (degrees).
    shift : (float, float), default (6.0, -5.0)
        Translation (rows, columns; pixels).
    gain_day8 : float, default 0.7
        Brightness of day-8 cells relative to day 1.
    n_frames : int, default 500
        Frames per movie.
    fs : float, default 10.0
        Frame rate (Hz).
    tau : float, default 1.0
        Calcium decay time (s).
    rate_hz : float, default 0.5
        Spike rate (Hz).
    separation : float, default 8.0
        Smallest distance between cell centres (pixels).
    deform_px : float, default 0.0
        Largest non-rigid displacement of day 8 (pixels): a smooth random displacement of the
        tissue (gaussian-filtered noise, 24 px correlation length) on top of the rigid
        transform (``truth["transform"]`` is then only the rigid part); 0 for none.

    random_state : int or numpy.random.Generator, default 0
        Seed.
    Returns
    -------
    movies : list of numpy.ndarray
        ``[day1, day8]``, each int16 ``(n_frames, *shape)``.
    truth : dict
        ``day1``/``day8`` dicts with ``centres`` (row, col pixels), ``cell`` (the identity of each
        centre) and ``sigma`` (gaussian cell radius, pixels), ``transform`` (:class:`RigidTransform`,
        day 8 -> day 1), ``fs`` (Hz), ``tau`` (s).
    """
    rng = np.random.default_rng(random_state)
    total = n_cells + n_lost + n_new
    centre = ((shape[0] - 1) / 2, (shape[1] - 1) / 2)
    transform = RigidTransform(float(angle_deg), float(shift[0]), float(shift[1]), *centre)
    # tissue (= day-1) positions far enough inside that the day-8 view holds them too
    margin = 8 + np.hypot(*shift) + np.deg2rad(abs(angle_deg)) * max(shape) / 2
    margin += deform_px
    day1_all = _positions(total, shape, margin, separation, rng)
    sigmas = rng.uniform(1.6, 2.4, total)
    texture = ndimage.gaussian_filter(rng.normal(size=(shape[0] * 2, shape[1] * 2)), 4) * 400
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    offset = np.array(shape) / 2
    background1 = ndimage.map_coordinates(texture, [yy + offset[0], xx + offset[1]], order=1)
    displacement = _displacement(shape, deform_px, rng) if deform_px > 0 else None
    moved = day1_all if displacement is None else day1_all + _sample(displacement, day1_all)
    day8_all = transform.inverse().apply(moved)  # q = R^T (p + d(p) - t - c) + c
    tissue8 = transform.apply(np.column_stack([yy.ravel(), xx.ravel()]))
    if displacement is not None:  # day-8 pixel shows the tissue at p - d(p) (first order)
        tissue8 = tissue8 - _sample(displacement, tissue8)
    tissue8 = tissue8 + offset
    background8 = ndimage.map_coordinates(texture, tissue8.T, order=1).reshape(shape)
    in_day1 = np.arange(total) < n_cells + n_lost
    in_day8 = (np.arange(total) < n_cells) | (np.arange(total) >= n_cells + n_lost)
    movies, truth = [], {"transform": transform, "fs": fs, "tau": tau}
    for day, present, centres, background, gain, base in (
            ("day1", in_day1, day1_all, background1, 1.0, 200.0),
            ("day8", in_day8, day8_all, background8, gain_day8, 260.0)):
        cells = np.flatnonzero(present)
        spikes = rng.poisson(rate_hz / fs, (cells.size, n_frames)).astype(float)
        calcium = _calcium(spikes, fs=fs, tau=tau)
        movies.append(_movie(centres[cells], sigmas[cells], calcium, background, gain, base,
                             rng, shape))
        truth[day] = {"centres": centres[cells], "cell": cells, "sigma": sigmas[cells]}
    return movies, truth


def truth_of_rois(centroids, truth_day: dict, *, max_distance: float = 3.0) -> np.ndarray:
    """True cell of each ROI (``-1`` if none within ``max_distance`` pixels), one-to-one.

    Parameters
    ----------
    centroids : array_like of float
        ``(n_roi, 2)`` ROI centroids (row, col; pixels) in one day's frame.
    truth_day : dict
        ``truth["day1"]`` or ``truth["day8"]`` of :func:`simulate_two_days`.
    max_distance : float, default 3.0
        Largest ROI-to-cell distance of a match (pixels).

    Returns
    -------
    numpy.ndarray of int
        True cell identity per ROI, or -1.
    """
    centroids = np.asarray(centroids, float)
    distance = np.linalg.norm(centroids[:, None] - truth_day["centres"][None], axis=-1)
    cost = np.where(distance <= max_distance, distance, 1e6)
    rows, cols = optimize.linear_sum_assignment(cost)
    out = np.full(len(centroids), -1)
    ok = cost[rows, cols] <= max_distance
    out[rows[ok]] = truth_day["cell"][cols[ok]]
    return out
