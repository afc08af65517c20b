"""The decision methods of ``label_responses`` and their nulls, as lookup tables.

Light on purpose (no numpy, pandas or xarray): the command line builds its ``--method`` and
``--null`` choices from these tables without importing the analysis code. Measured
false-positive rates and power of every method are in ``docs/classification.md``.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["METHODS", "NULLS", "DEFAULT_METHOD"]


class Method(NamedTuple):
    """A decision method: where its implementation lives and what it does."""

    function: str  # "module:attribute" inside sfone.classify, imported on use
    description: str


METHODS: dict[str, Method] = {
    "glm": Method("sfone.classify._session:glm_group",
                  "session regression on binned traces: polynomial trend, run terms, neuropil, "
                  "sustained + transient post-run terms; REML-chosen autocorrelated noise; "
                  "Wald F test; BH across ROIs (default)"),
    "test": Method("sfone.classify._labels:_block_stats",
                   "per-run window means: post-run window vs pre-run baseline; HAC or "
                   "circular-shift null (Wilcoxon across runs with many runs); BH across ROIs"),
    "threshold": Method("sfone.classify._labels:_block_stats",
                        "median post-run z > +theta / < -theta against the pre-run baseline "
                        "(the related lab's convention; no test)"),
    "cluster": Method("sfone.classify._cluster:cluster_labels",
                      "PCA + 4-component Gaussian mixture on binned peri-run z traces; every "
                      "cluster but the one nearest zero is labelled (not calibrated)"),
}
DEFAULT_METHOD = "glm"

#: nulls of the ``test`` method with fewer runs than ``min_runs_for_wilcoxon``
NULLS: dict[str, str] = {
    "autocorrelation": "variance of the window contrast from the residual autocovariance (HAC)",
    "shift": "empirical circular-shift distribution of the piecewise-demeaned trace",
}
