"""The cluster method: PCA + Gaussian mixture on binned peri-run z traces."""

from __future__ import annotations

import numpy as np

from ._windows import WindowMeans, Windows

N_BINS = 10


def perirun_features(x: np.ndarray, base: Windows, post: Windows) -> np.ndarray:
    """(roi, 2 * N_BINS) features: the baseline and post-run windows each cut into N_BINS
    equal bins, in baseline z units, averaged over runs."""
    means = WindowMeans(x)
    mu, sd = means.mean(base), means.sd(base)
    sd = np.where(sd > 0, sd, np.nan)
    features = np.zeros((x.shape[0], 2 * N_BINS))
    for k in range(base.lo.size):
        for j, w in enumerate((base, post)):
            edges = np.linspace(w.lo[k], w.hi[k], N_BINS + 1).round().astype(int)
            hi = np.minimum(np.maximum(edges[1:], edges[:-1] + 1), x.shape[1])
            bins = Windows(np.minimum(edges[:-1], hi - 1), hi)
            z = (means.mean(bins) - mu[:, k:k + 1]) / sd[:, k:k + 1]
            features[:, j * N_BINS:(j + 1) * N_BINS] += np.nan_to_num(z)
    return features / base.lo.size


def map_clusters(cluster: np.ndarray, response: np.ndarray, n_clusters: int) -> np.ndarray:
    """Class of every cluster from its mean response: the cluster whose mean is closest to 0 is
    ``unchanged``; clusters with a higher mean are ``activated``, lower ``inhibited``."""
    centre = np.array([response[cluster == c].mean() if np.any(cluster == c) else 0.0
                       for c in range(n_clusters)])
    neutral = centre[np.argmin(np.abs(centre))]
    names = np.where(centre > neutral, "activated",
                     np.where(centre < neutral, "inhibited", "unchanged"))
    return names


def fit_cluster_model(features: np.ndarray, random_state, n_clusters: int = 4):
    """Fit PCA (up to 5 components) + GaussianMixture; returns (pca, gmm)."""
    from sklearn.decomposition import PCA  # scikit-learn only for this method
    from sklearn.mixture import GaussianMixture

    n_comp = max(1, min(5, features.shape[0] - 1, features.shape[1]))
    pca = PCA(n_components=n_comp, random_state=random_state).fit(features)
    k = min(n_clusters, features.shape[0])
    gmm = GaussianMixture(n_components=k, random_state=random_state, n_init=5,
                          reg_covar=1e-4).fit(pca.transform(features))
    return pca, gmm


def cluster_labels(features, params):
    """Labels and effect of the cluster method from :func:`perirun_features`."""
    effect = features[:, N_BINS:].mean(axis=1)
    pca, gmm = fit_cluster_model(features, params["random_state"])
    cluster = gmm.predict(pca.transform(features))
    names = map_clusters(cluster, effect, gmm.n_components)
    return names[cluster], effect
