"""Post-run classification of ROIs: ``activated`` | ``inhibited`` | ``unchanged``.

:func:`label_responses` works on Datasets and run epochs; :class:`PostRunClassifier` is the
scikit-learn estimator over a (roi, time) matrix. See ``docs/classification.md``.
"""

from ._estimator import PostRunClassifier, windows_from_lags
from ._labels import LABELS, cross_table, default_protocol, label_responses
from ._null import bh_qvalues

__all__ = ["label_responses", "cross_table", "default_protocol", "PostRunClassifier",
           "bh_qvalues", "windows_from_lags", "LABELS"]
