"""Match ROIs of two registered sessions with a "same cell" model learned from the data.

CellReg's idea (Sheintuch et al. 2017, Cell Reports 21:1102): among nearby ROI pairs, the
centroid distance and the footprint correlation have one distribution for pairs that are the
same cell and another for different cells. :class:`SameCellModel` fits that two-component
mixture to the candidate pairs of the two sessions by EM:

* same cell: distance ~ Rayleigh(sigma) (a 2-D gaussian registration / centroid error;
  sigma >= ``MIN_SIGMA`` pixels, the resolution of a centroid), correlation ~ a histogram
  ``h1`` over 20 bins of [0, 1];
* different cells: distance with density ``2 d / D**2`` on ``[0, D]`` (neighbours spread
  evenly over the search disk of radius ``D``), correlation ~ a histogram ``h0``;

the two features independent within a component (CellReg's joint model). ``P(same)`` of a pair
is the posterior of the first component. One-to-one matches are then the assignment that
maximises the summed ``P(same)`` (``scipy.optimize.linear_sum_assignment``) among pairs with
``P(same) >= p_threshold``; the other ROIs stay unmatched (lost or new cells).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from .._logging import warn
from ..exceptions import QualityWarning

__all__ = ["SameCellModel", "candidate_pairs", "warp_footprints", "match_pairs"]

MIN_SIGMA = 0.5  # pixels: same-cell centroid scatter is not resolved below half a pixel
_BINS = np.linspace(0.0, 1.0, 21)
_PSEUDOCOUNT = 0.5  # per bin, so that no correlation is impossible under either component


def warp_footprints(matrix: sparse.csr_matrix, shape, transform, ref_shape) -> sparse.csr_matrix:
    """Footprints ``(n_roi, rows * cols)`` of the moving session on the reference pixel grid.

    Every pixel is carried through ``transform`` and split over its 4 nearest reference
    pixels (bilinear weights), so a rotated footprint keeps its weight and shape.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        Footprints ``(n_roi, rows * cols)`` on the moving grid (pixels in C order).
    shape : (int, int)
        Moving field of view (pixels).
    transform : RigidTransform
        Moving -> reference transform.
    ref_shape : (int, int)
        Reference field of view (pixels).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n_roi, ref_rows * ref_cols)``; weight falling outside the reference is dropped.
    """
    coo = matrix.tocoo()
    cols = int(shape[1])
    points = transform.apply(np.column_stack([coo.col // cols, coo.col % cols]))
    base = np.floor(points).astype(np.int64)
    frac = points - base
    rows_out, pixels_out, weights_out = [], [], []
    for dy in (0, 1):
        for dx in (0, 1):
            w = (frac[:, 0] if dy else 1 - frac[:, 0]) * (frac[:, 1] if dx else 1 - frac[:, 1])
            y, x = base[:, 0] + dy, base[:, 1] + dx
            inside = (y >= 0) & (y < ref_shape[0]) & (x >= 0) & (x < ref_shape[1]) & (w > 0)
            rows_out.append(coo.row[inside])
            pixels_out.append(y[inside] * int(ref_shape[1]) + x[inside])
            weights_out.append(coo.data[inside] * w[inside])
    out = sparse.csr_matrix((np.concatenate(weights_out),
                             (np.concatenate(rows_out), np.concatenate(pixels_out))),
                            shape=(matrix.shape[0], int(ref_shape[0]) * int(ref_shape[1])))
    out.sum_duplicates()
    return out


def _unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norm = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    with np.errstate(divide="ignore"):
        return sparse.diags(np.where(norm > 0, 1.0 / norm, 0.0)) @ matrix


def candidate_pairs(ref_centroids, ref_matrix, mov_centroids, mov_matrix, *,
                    max_distance: float) -> dict:
    """Pairs ``(i, j)`` of reference and moving ROIs with centroids within ``max_distance``.

    Parameters
    ----------
    ref_centroids : numpy.ndarray
        ``(n_ref, 2)`` centroids of the tracks (row, col; reference pixels); rows with NaN are
        never paired.
    ref_matrix : scipy.sparse.csr_matrix
        Their footprints ``(n_ref, pixels)`` on the reference grid.
    mov_centroids : numpy.ndarray
        ``(n_mov, 2)`` centroids of the moving session's ROIs, in reference pixels.
    mov_matrix : scipy.sparse.csr_matrix
        Their footprints ``(n_mov, pixels)`` warped onto the reference grid.
    max_distance : float
        Largest centroid distance (pixels).

    Returns
    -------
    dict of str to numpy.ndarray
        ``i``, ``j`` (ROI indices), ``distance`` (pixels) and ``correlation`` (cosine similarity
        of the footprint weights, clipped to 0-1).
    """
    ref_ok = np.all(np.isfinite(ref_centroids), axis=1)
    mov_ok = np.all(np.isfinite(mov_centroids), axis=1)
    tree_ref = cKDTree(np.where(ref_ok[:, None], ref_centroids, -1e9))
    tree_mov = cKDTree(np.where(mov_ok[:, None], mov_centroids, 1e9))
    near = tree_ref.sparse_distance_matrix(tree_mov, max_distance, output_type="coo_matrix")
    i, j = near.row.astype(np.int64), near.col.astype(np.int64)
    distance = np.linalg.norm(ref_centroids[i] - mov_centroids[j], axis=1)
    overlap = (_unit_rows(ref_matrix) @ _unit_rows(mov_matrix).T).tocsr()
    correlation = np.asarray(overlap[i, j]).ravel() if i.size else np.zeros(0)
    return {"i": i, "j": j, "distance": distance, "correlation": np.clip(correlation, 0, 1)}


def _histogram(r_bin: np.ndarray, weights: np.ndarray) -> np.ndarray:
    counts = np.bincount(r_bin, weights=weights, minlength=_BINS.size - 1) + _PSEUDOCOUNT
    return counts / counts.sum() / np.diff(_BINS)  # a density on [0, 1]


def _bin_of(correlation) -> np.ndarray:
    r = np.clip(np.asarray(correlation, float), 0.0, 1.0)
    return np.minimum(np.searchsorted(_BINS, r, side="right") - 1, _BINS.size - 2)


@dataclass
class SameCellModel:
    """Two-component mixture over (centroid distance, footprint correlation) of nearby pairs.

    "Same" pairs have Rayleigh-distributed distances, "different" pairs distances uniform on the
    disk of radius ``max_distance``; each component has its own correlation histogram.

    Parameters
    ----------
    max_distance : float
        Largest candidate distance (pixels).
    max_iter : int, default 500
        EM iterations at most.
    tol : float, default 1e-8
        Relative change of the log-likelihood that stops EM.
    weight_same : float, default nan
        Prior of "same" (set by :meth:`fit`).
    sigma : float, default nan
        Rayleigh scale of same-cell distances (pixels; set by :meth:`fit`).
    hist_same, hist_different : numpy.ndarray, optional
        Densities of the correlation over the 20 bins of [0, 1] (set by :meth:`fit`).
    n_iter : int, default 0
        EM iterations run.
    converged : bool, default False
        Whether EM converged.
    """

    max_distance: float
    max_iter: int = 500
    tol: float = 1e-8
    weight_same: float = float("nan")
    sigma: float = float("nan")
    hist_same: np.ndarray = field(default=None, repr=False)
    hist_different: np.ndarray = field(default=None, repr=False)
    n_iter: int = 0
    converged: bool = False

    def _joint(self, distance, r_bin):
        # both distance densities carry the factor d (Rayleigh d / s^2 exp(-d^2 / 2 s^2),
        # uniform-on-disk 2 d / D^2); it is dropped, so that d = 0 (identical centroids)
        # keeps its likelihood ratio instead of 0 / 0
        same = np.exp(-distance**2 / (2 * self.sigma**2)) / self.sigma**2 * self.hist_same[r_bin]
        different = 2 / self.max_distance**2 * self.hist_different[r_bin]
        return self.weight_same * same, (1 - self.weight_same) * different

    def fit(self, distance, correlation) -> SameCellModel:
        """EM on the candidate pairs; starts from "same" = correlation > 0.5.

        Warns (QualityWarning) when EM does not converge or the "same" component does not have the
        higher correlation.

        Parameters
        ----------
        distance : array_like of float
            Centroid distance of each pair (pixels, after registration).
        correlation : array_like of float
            Footprint correlation of each pair (0-1).

        Returns
        -------
        SameCellModel
            ``self``, fitted.

        Raises
        ------
        ValueError
            With fewer than 4 candidate pairs.
        """
        d = np.asarray(distance, float)
        r_bin = _bin_of(correlation)
        if d.size < 4:
            raise ValueError(f"only {d.size} candidate ROI pairs within {self.max_distance:.3g} "
                             "pixels: too few to learn the same-cell model (are the sessions "
                             "of one field of view, and registered?)")
        resp = np.where(np.asarray(correlation) > 0.5, 0.9, 0.1)
        previous = -np.inf
        for iteration in range(1, self.max_iter + 1):
            self.weight_same = float(np.clip(resp.mean(), 1e-3, 1 - 1e-3))
            self.sigma = float(max(np.sqrt((resp * d**2).sum() / (2 * resp.sum())), MIN_SIGMA))
            self.hist_same = _histogram(r_bin, resp)
            self.hist_different = _histogram(r_bin, 1 - resp)
            joint1, joint0 = self._joint(d, r_bin)
            total = np.maximum(joint1 + joint0, 1e-300)
            resp = joint1 / total
            log_likelihood = float(np.log(total).sum())
            self.n_iter = iteration
            if abs(log_likelihood - previous) < self.tol * max(1.0, abs(log_likelihood)):
                self.converged = True
                break
            previous = log_likelihood
        if not self.converged:
            warn(f"same-cell model: EM did not converge in {self.max_iter} iterations",
                 QualityWarning)
        centres = (_BINS[:-1] + _BINS[1:]) / 2
        if (self.hist_same * centres).sum() <= (self.hist_different * centres).sum():
            warn("same-cell model: the 'same' component does not have the higher footprint "
                 "correlation; the sessions may not show the same field of view", QualityWarning)
        return self

    def predict_proba(self, distance, correlation) -> np.ndarray:
        """P(same cell) of pairs (0-1).

        Parameters
        ----------
        distance : array_like of float
            Centroid distance of each pair (pixels, after registration).
        correlation : array_like of float
            Footprint correlation of each pair (0-1).

        Returns
        -------
        numpy.ndarray
            One probability per pair.
        """
        joint1, joint0 = self._joint(np.asarray(distance, float), _bin_of(correlation))
        return joint1 / np.maximum(joint1 + joint0, 1e-300)

    def params(self) -> dict:
        """The fitted parameters as plain numbers and lists (for JSON).

        Returns
        -------
        dict
            ``weight_same``, ``sigma_px``, ``max_distance_px``, ``correlation_bins``,
            ``density_same``, ``density_different``, ``n_iter``, ``converged``.
        """
        return {"weight_same": self.weight_same, "sigma_px": self.sigma,
                "max_distance_px": float(self.max_distance),
                "correlation_bins": _BINS.tolist(),
                "density_same": np.round(self.hist_same, 6).tolist(),
                "density_different": np.round(self.hist_different, 6).tolist(),
                "n_iter": self.n_iter, "converged": self.converged}


def match_pairs(pairs: dict, p_same: np.ndarray, *, p_threshold: float) -> np.ndarray:
    """Indices into ``pairs`` of the one-to-one matches (max summed P(same), each >= threshold).

    Parameters
    ----------
    pairs : dict
        Output of :func:`candidate_pairs`.
    p_same : numpy.ndarray
        P(same) of each pair.
    p_threshold : float
        Smallest P(same) of a match.

    Returns
    -------
    numpy.ndarray of int
        Sorted pair indices.
    """
    keep = np.flatnonzero(p_same >= p_threshold)
    if keep.size == 0:
        return keep
    rows, row_index = np.unique(pairs["i"][keep], return_inverse=True)
    cols, col_index = np.unique(pairs["j"][keep], return_inverse=True)
    gain = np.zeros((rows.size, cols.size))
    gain[row_index, col_index] = p_same[keep]
    lookup = np.full(gain.shape, -1, dtype=np.int64)
    lookup[row_index, col_index] = keep
    chosen_r, chosen_c = linear_sum_assignment(gain, maximize=True)
    picked = lookup[chosen_r, chosen_c]
    return np.sort(picked[picked >= 0])
