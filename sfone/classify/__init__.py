"""Post-run classification of ROIs: ``activated`` | ``inhibited`` | ``unchanged``.

:func:`label_responses` works on Datasets and run epochs; :class:`PostRunClassifier` is the
scikit-learn estimator over a (roi, time) matrix. The methods are listed in :data:`METHODS`.
See ``docs/classification.md``. Attributes are imported on first use (PEP 562).
"""

from importlib import import_module

from ._methods import DEFAULT_METHOD, METHODS, NULLS

_LAZY = {"PostRunClassifier": "_estimator", "windows_from_lags": "_estimator",
         "LABELS": "_labels", "cross_table": "_labels", "default_protocol": "_labels",
         "label_responses": "_labels", "bh_qvalues": "_null",
         "provenance_lines": "_labels", "INSUFFICIENT_DATA": "_labels",
         "FRACTION_COLUMNS": "_fractions", "estimate_fractions": "_fractions"}

__all__ = ["label_responses", "cross_table", "default_protocol", "PostRunClassifier",
           "bh_qvalues", "windows_from_lags", "LABELS", "METHODS", "NULLS", "DEFAULT_METHOD",
           "provenance_lines", "INSUFFICIENT_DATA", "FRACTION_COLUMNS", "estimate_fractions"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
