"""Register the fields of view of two sessions: rigid transform (rotation + translation).

The moving session's image is rotated over a grid of angles about the image centre; for each
angle scikit-image's ``phase_cross_correlation`` gives the translation, and the angle whose
transformed image correlates best with the reference (Pearson r over the overlap) wins; a
finer grid around it refines the angle. The images are mean images (high-pass filtered, so
that uneven illumination and a brightness change between days do not matter) or, when a
session has none, the projection of its ROI footprints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

__all__ = ["RigidTransform", "register_images", "prepare_image", "registration_problem",
           "MIN_CORRELATION", "MIN_OVERLAP"]

#: smallest Pearson r of the registered images that supports tracking, per image kind. Measured
#: on the shared fixtures (every ordered pair of 9 sessions, docs/tracking.md): same-field pairs
#: reach r 0.99 with mean images (the two suite2p planes and their NeuroConv NWB copies) and 0.74
#: with footprint projections (the two CaImAn msr sessions); unrelated pairs at most 0.26 with
#: mean images and 0.52 with footprints
MIN_CORRELATION = {"mean": 0.5, "footprints": 0.65}
#: smallest fraction of the reference field covered by the registered moving field
MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class RigidTransform:
    """Map moving-session pixels ``q = (row, col)`` to the reference: ``R(q - c) + c + t``.

    ``R = [[cos a, -sin a], [sin a, cos a]]`` acts on (row, col) column vectors (with row 0 at the
    top of the display a positive angle turns clockwise).

    Parameters
    ----------
    angle_deg : float, default 0.0
        Rotation ``a`` (degrees).
    shift_y, shift_x : float, default 0.0
        Translation ``t`` (pixels, rows and columns).
    center_y, center_x : float, default 0.0
        Rotation centre ``c`` (pixels).
    correlation : float, default nan
        Pearson r of the registered images over their overlap.
    """

    angle_deg: float = 0.0
    shift_y: float = 0.0
    shift_x: float = 0.0
    center_y: float = 0.0
    center_x: float = 0.0
    correlation: float = float("nan")

    @property
    def matrix(self) -> np.ndarray:
        """The 2 x 2 rotation matrix ``R`` acting on (row, col) column vectors."""
        a = np.deg2rad(self.angle_deg)
        return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])

    def apply(self, points) -> np.ndarray:
        """Moving ``(n, 2)`` (row, col) points in reference coordinates.

        Parameters
        ----------
        points : array_like of float
            Points of the moving session, reshaped to ``(n, 2)`` (row, col; pixels).

        Returns
        -------
        numpy.ndarray
            ``(n, 2)`` points in reference pixels.
        """
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        centre = np.array([self.center_y, self.center_x])
        return (points - centre) @ self.matrix.T + centre + np.array([self.shift_y, self.shift_x])

    def inverse(self) -> RigidTransform:
        """The transform from reference pixels back to the moving session's:
        ``q = R^T (p - c) + c - R^T t``.

        Returns
        -------
        RigidTransform
            The inverse (angle negated, shift rotated back, same centre).
        """
        back = -self.matrix.T @ np.array([self.shift_y, self.shift_x])
        return RigidTransform(-self.angle_deg, float(back[0]), float(back[1]), self.center_y,
                              self.center_x, self.correlation)

    def warp(self, image: np.ndarray, shape=None) -> np.ndarray:
        """``image`` of the moving session resampled on the reference grid (NaN outside).

        Parameters
        ----------
        image : numpy.ndarray
            2-D image of the moving session.
        shape : (int, int), optional
            Shape of the reference grid; default ``image.shape``.

        Returns
        -------
        numpy.ndarray
            Float image of ``shape`` (bilinear interpolation).
        """
        shape = image.shape if shape is None else tuple(shape)
        inverse = self.matrix.T  # reference p -> moving q = R^T (p - c - t) + c
        centre = np.array([self.center_y, self.center_x])
        offset = centre - inverse @ (centre + np.array([self.shift_y, self.shift_x]))
        return ndimage.affine_transform(np.asarray(image, float), inverse, offset=offset,
                                        output_shape=shape, order=1, cval=np.nan)

    def as_dict(self) -> dict:
        """The six fields as a plain dict (for tables and JSON).

        Returns
        -------
        dict
        """
        return asdict(self)


def registration_problem(transform: RigidTransform, kind: str, moving_shape,
                         reference_shape) -> tuple[float, str | None]:
    """The overlap of a registration and why it does not support tracking (None if it does).

    Parameters
    ----------
    transform : RigidTransform
        The registration (its ``correlation`` is the Pearson r of the registered images).
    kind : {"mean", "footprints"}
        The images registered (selects :data:`MIN_CORRELATION`).
    moving_shape, reference_shape : (int, int)
        Field-of-view shapes (pixels).

    Returns
    -------
    overlap : float
        Fraction of the reference field covered by the registered moving field (0-1).
    problem : str or None
        The reason (low correlation, small overlap), or None.
    """
    covered = np.isfinite(transform.warp(np.ones(tuple(moving_shape)), reference_shape))
    overlap = float(covered.mean())
    reasons = []
    low = MIN_CORRELATION.get(kind, MIN_CORRELATION["mean"])
    if not transform.correlation >= low:
        reasons.append(f"r = {transform.correlation:.3f} (below {low:g} for {kind} images: "
                       "same-field pairs of the fixtures reach 0.74-0.99, unrelated ones at most "
                       f"{0.26 if kind == 'mean' else 0.52:g})")
    if overlap < MIN_OVERLAP:
        reasons.append(f"the registered fields overlap by {100 * overlap:.0f} % (below "
                       f"{100 * MIN_OVERLAP:g} %)")
    return overlap, "; ".join(reasons) or None


def prepare_image(image: np.ndarray, *, highpass_sigma: float | None) -> np.ndarray:
    """Image for registration: NaN to the median, minus a gaussian blur, scaled to unit SD.

    Parameters
    ----------
    image : numpy.ndarray
        2-D mean image or footprint projection.
    highpass_sigma : float or None
        Gaussian blur subtracted (pixels); None or 0: unfiltered.

    Returns
    -------
    numpy.ndarray
        Float image of zero mean and unit SD (zero mean only when flat).
    """
    image = np.asarray(image, dtype=float)
    image = np.where(np.isfinite(image), image, np.nanmedian(image))
    if highpass_sigma:
        image = image - ndimage.gaussian_filter(image, highpass_sigma)
    sd = image.std()
    return (image - image.mean()) / sd if sd > 0 else image - image.mean()


def _overlap_r(reference: np.ndarray, warped: np.ndarray) -> float:
    valid = np.isfinite(warped)
    if valid.sum() < 0.25 * warped.size:  # less than a quarter overlaps: not a solution
        return -1.0
    a, b = reference[valid], warped[valid]
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else -1.0


def _phase_correlation():
    try:
        from skimage.registration import phase_cross_correlation
    except ImportError:
        raise ImportError("registering fields of view needs scikit-image: "
                          "pip install 'sfone[tracking]'") from None
    return phase_cross_correlation


def _best_at(reference, moving, angle, centre, upsample):
    phase_cross_correlation = _phase_correlation()

    rotated = RigidTransform(angle, 0.0, 0.0, *centre).warp(moving, reference.shape)
    filled = np.where(np.isfinite(rotated), rotated, 0.0)
    shift, _, _ = phase_cross_correlation(reference, filled, upsample_factor=upsample,
                                          normalization=None)
    transform = RigidTransform(angle, float(shift[0]), float(shift[1]), *centre)
    return _overlap_r(reference, transform.warp(moving, reference.shape)), transform


def register_images(reference: np.ndarray, moving: np.ndarray, *, max_rotation: float = 10.0,
                    rotation_step: float = 1.0, upsample: int = 10) -> RigidTransform:
    """The rigid transform that maps ``moving`` onto ``reference`` (both prepared images).

    Parameters
    ----------
    reference, moving : numpy.ndarray
        2-D images of the two fields of view (see :func:`prepare_image`); may differ in shape.
    max_rotation : float
        Largest rotation searched, degrees (0: translation only).
    rotation_step : float
        Coarse grid step, degrees; the best angle is then refined to ``rotation_step / 10``.
    upsample : int
        Subpixel precision of the translation (1 / ``upsample`` pixels).

    Returns
    -------
    RigidTransform
        Rotation (degrees) about the centre of ``moving``, shift (pixels) and the correlation of
        the registered images.
    """
    reference, moving = np.asarray(reference, float), np.asarray(moving, float)
    if moving.shape != reference.shape:
        padded = np.zeros(reference.shape)
        rows, cols = min(moving.shape[0], reference.shape[0]), min(moving.shape[1],
                                                                     reference.shape[1])
        padded[:rows, :cols] = moving[:rows, :cols]
        moving = padded
    centre = ((moving.shape[0] - 1) / 2.0, (moving.shape[1] - 1) / 2.0)
    n_steps = int(np.floor(max_rotation / rotation_step)) if max_rotation > 0 else 0
    angles = rotation_step * np.arange(-n_steps, n_steps + 1)
    # coarse angle search on images of at most ~256 pixels a side (4x faster at 512)
    factor = max(1, int(np.ceil(max(reference.shape) / 256)))
    small_ref, small_mov = (ndimage.zoom(im, 1.0 / factor, order=1) if factor > 1 else im
                            for im in (reference, moving))
    small_centre = ((small_mov.shape[0] - 1) / 2.0, (small_mov.shape[1] - 1) / 2.0)
    coarse = [_best_at(small_ref, small_mov, a, small_centre, upsample) for a in angles]
    best_angle = max(coarse, key=lambda item: item[0])[1].angle_deg
    fine = best_angle + rotation_step / 10.0 * np.arange(-5, 6) if n_steps else [0.0]
    best_r, best = max((_best_at(reference, moving, a, centre, upsample) for a in fine),
                       key=lambda item: item[0])
    return RigidTransform(float(best.angle_deg), best.shift_y, best.shift_x, *centre,
                          correlation=best_r)
