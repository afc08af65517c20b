"""PostRunClassifier: the post-run decision rules as a scikit-learn estimator.

Rows of ``X`` are ROIs, columns are consecutive frames of one trace (a whole session, or one
peri-run trace) containing a baseline and a response window given as column ranges. ``fit``
learns what the rule needs from the fitted population and ``predict`` applies it row by row, so
labels of a row never depend on which other rows are predicted with it:

* ``test``: draws the circular shifts and learns the Benjamini-Hochberg p-value cut-off of the
  fitted ROIs; ``predict`` compares each row's shift-null p-value with that cut-off
  (``fit(X).predict(X)`` gives the Benjamini-Hochberg labels of the fitted ROIs).
* ``glm``: the session regression of ``label_responses``' default (``frame_times`` and
  ``runs`` in s give the schedule; no neuropil term): ``fit`` learns the BH p-value cut-off of
  the fitted ROIs, ``predict`` compares each row's p-value with it, so ``fit(X).predict(X)``
  equals ``label_responses(method="glm")`` on the same traces.
* ``test`` is ``label_responses(method="test", null="shift")`` on one baseline and one response
  column range.
* ``threshold``: nothing to learn (median response z > +theta / < -theta).
* ``cluster``: fits PCA + Gaussian mixture on the binned z traces and maps clusters to classes.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validate import _check_option, _must_be
from ..schema import POST_RUN_LABELS
from ._cluster import fit_cluster_model, map_clusters, perirun_features
from ._null import bh_qvalues, draw_shifts, shift_null_pvalues
from ._windows import WindowMeans, Windows

LABELS = np.array(POST_RUN_LABELS)


def windows_from_lags(lags, baseline_s, response_s) -> dict:
    """Column ranges for :class:`PostRunClassifier` from a lag axis in seconds.

    Parameters
    ----------
    lags : array-like of float
        Time of every column in s, ascending, e.g. the ``lag`` coordinate of
        :func:`sfone.perievent.compute_perievent` (s from the run end or start).
    baseline_s : (float, float)
        ``(start, end)`` of the baseline window, s on the ``lags`` axis.
    response_s : (float, float)
        ``(start, end)`` of the response window, s on the ``lags`` axis.

    Returns
    -------
    dict
        ``{"baseline_cols": (lo, hi), "response_cols": (lo, hi)}``: half-open column ranges
        ``[lo, hi)``, ``lo`` the first column with lag >= start and ``hi`` the first with
        lag >= end; pass them as ``PostRunClassifier(**windows_from_lags(...))``.
    """
    lags = np.asarray(lags, float)

    def cols(window):
        return (int(np.searchsorted(lags, window[0])), int(np.searchsorted(lags, window[1])))

    return {"baseline_cols": cols(baseline_s), "response_cols": cols(response_s)}


class _Rows:
    """A numpy (roi, frame) matrix seen through the ``.data``/``.shape`` the binning reads."""

    def __init__(self, x):
        self.data, self.shape = x, x.shape


class PostRunClassifier(BaseEstimator):
    """Label rows (ROIs) of a (roi, frame) matrix as activated / inhibited / unchanged.

    Parameters
    ----------
    method : ``"glm"`` (label_responses' default rule; needs ``frame_times`` and ``runs``),
        ``"test"`` (circular-shift null + BH FDR), ``"threshold"`` or ``"cluster"``.
    baseline_cols, response_cols : (start, stop) column ranges; None: the first half of the
        columns is the baseline and the second half the response.
    threshold : theta in baseline z units (threshold method; cluster mapping is by sign).
    alpha : FDR level (or per-ROI level when ``fdr`` is False).
    fdr : Benjamini-Hochberg across the fitted ROIs.
    n_shuffles : number of circular shifts.
    min_shift : shortest circular shift, in columns (set it to >= the signal's autocorrelation
        time in frames; :func:`label_responses` uses ``min_shift_s``).
    random_state : seed of the shifts and of the mixture model.
    frame_times, runs : glm only: time of every column (s) and the (n, 2) run start/end (s).
    protocol : glm only: classification protocol (name or path) for its windows and terms.
    """

    def __init__(self, method="test", baseline_cols=None, response_cols=None, threshold=1.64,
                 alpha=0.05, fdr=True, n_shuffles=1000, min_shift=1, random_state=0,
                 frame_times=None, runs=None, protocol=None):
        self.method = method
        self.baseline_cols = baseline_cols
        self.response_cols = response_cols
        self.threshold = threshold
        self.alpha = alpha
        self.fdr = fdr
        self.n_shuffles = n_shuffles
        self.min_shift = min_shift
        self.random_state = random_state
        self.frame_times = frame_times
        self.runs = runs
        self.protocol = protocol

    def _glm(self, X):
        """(effect, p) of every row with the session GLM."""
        from ..protocols import load_protocol
        from ._session import glm_group

        if self.frame_times is None or self.runs is None:
            missing = "frame_times" if self.frame_times is None else "runs"
            raise ValueError(_must_be(missing, "given for method='glm' (frame_times: s, one per "
                                      "column of X; runs: (n, 2) start/end s)", None))
        time = np.asarray(self.frame_times, float)
        if time.shape != (X.shape[1],):
            raise ValueError(_must_be("frame_times", f"one time per column of X ({X.shape[1]})",
                                      f"{time.size} values"))
        runs = np.asarray(self.runs, float).reshape(-1, 2)
        params = load_protocol(self.protocol or "classification").model_dump()
        out = glm_group(_Rows(X), time, runs[:, 0], runs[:, 1], params)["stats"]
        return out["effect"], out["p"]

    def _windows(self, n_features):
        half = n_features // 2
        base = self.baseline_cols if self.baseline_cols is not None else (0, half)
        resp = self.response_cols if self.response_cols is not None else (half, n_features)
        for name, (a, b) in (("baseline_cols", base), ("response_cols", resp)):
            if not 0 <= a < b <= n_features:
                raise ValueError(_must_be(name, f"a column range (start, stop) inside the "
                                          f"{n_features} columns of X", (a, b)))
        return Windows(np.array([base[0]]), np.array([base[1]])), \
            Windows(np.array([resp[0]]), np.array([resp[1]]))

    def _p_values(self, X, base, resp):
        means = WindowMeans(X)
        observed = (means.mean(resp) - means.mean(base))[:, 0]
        return shift_null_pvalues(X, base, resp, self.shifts_, observed)

    def fit(self, X, y=None):
        """Learn the decision rule from the ROIs in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_rois, n_frames)
            One trace per row (at least 2 columns), converted to float64; the columns hold the
            baseline and response column ranges (``glm``: one column per ``frame_times``).
        y : None
            Ignored (present for the scikit-learn API).

        Returns
        -------
        PostRunClassifier
            ``self``, fitted: ``classes_``, ``shifts_`` (circular shifts, in columns), and
            ``p_cutoff_`` (``test``/``glm``: the largest p-value of the fitted ROIs that was
            significant, q < ``alpha`` with ``fdr`` or p < ``alpha`` without; 0 when none was)
            or ``pca_``, ``mixture_`` and ``cluster_labels_`` (``cluster``).
        """
        _check_option("method", self.method, ("glm", "test", "threshold", "cluster"))
        X = validate_data(self, X, dtype=np.float64, ensure_min_features=2)
        base, resp = self._windows(X.shape[1])
        rng = np.random.default_rng(self.random_state)
        self.classes_ = LABELS.copy()
        self.shifts_ = draw_shifts(X.shape[1], self.n_shuffles, self.min_shift, rng)
        if self.method in ("test", "glm"):
            p = self._glm(X)[1] if self.method == "glm" else self._p_values(X, base, resp)
            q = bh_qvalues(p) if self.fdr else p
            rejected = p[q < self.alpha]
            self.p_cutoff_ = float(rejected.max()) if rejected.size else 0.0
        elif self.method == "cluster":
            features = perirun_features(X, base, resp)
            seed = int(rng.integers(2**31)) if self.random_state is None else self.random_state
            self.pca_, self.mixture_ = fit_cluster_model(features, seed)
            cluster = self.mixture_.predict(self.pca_.transform(features))
            effect = features[:, features.shape[1] // 2:].mean(axis=1)
            self.cluster_labels_ = map_clusters(cluster, effect, self.mixture_.n_components)
        return self

    def predict(self, X):
        """Label each row of ``X`` with the rule learnt by :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_rois, n_frames)
            One trace per row, with as many columns as the ``X`` given to :meth:`fit`.

        Returns
        -------
        numpy.ndarray of str, shape (n_rois,)
            ``"activated"``, ``"inhibited"`` or ``"unchanged"`` per row; a row's label does not
            depend on the other rows predicted with it.
        """
        check_is_fitted(self, "classes_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        base, resp = self._windows(X.shape[1])
        means = WindowMeans(X)
        if self.method == "cluster":
            features = perirun_features(X, base, resp)
            return self.cluster_labels_[self.mixture_.predict(self.pca_.transform(features))]
        if self.method == "threshold":
            mu, sd = means.mean(base)[:, 0], means.sd(base)[:, 0]
            with np.errstate(invalid="ignore", divide="ignore"):
                z = (np.median(X[:, resp.lo[0]:resp.hi[0]], axis=1) - mu) / sd
            return np.where(z > self.threshold, "activated",
                            np.where(z < -self.threshold, "inhibited", "unchanged"))
        if self.method == "glm":
            effect, p = self._glm(X)
        else:
            effect = (means.mean(resp) - means.mean(base))[:, 0]
            p = self._p_values(X, base, resp)
        significant = p <= self.p_cutoff_
        return np.where(significant & (effect > 0), "activated",
                        np.where(significant & (effect < 0), "inhibited", "unchanged"))
