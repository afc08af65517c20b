"""Descriptive summaries shared by the figure modules and written to ``stats.csv``.

Only descriptive numbers live here (means, SEM, t-based and Wilson confidence intervals); the
hypothesis tests are computed elsewhere and passed to the figures as results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _stats

from ._style import as_test_result, mean_sem

__all__ = ["group_summary", "record_summary", "record_test", "record_counts"]


def group_summary(table: pd.DataFrame, value: str, by: str | list[str],
                  order=None) -> pd.DataFrame:
    """Mean, SEM, n and 95 % t-interval of ``value`` per ``by`` group (NaN values ignored).

    Returns a DataFrame indexed by the group(s) with columns mean, sem, n, ci_low, ci_high.
    """
    grouped = table.groupby(by, sort=order is None, observed=True)[value]
    rows = {}
    for key, values in grouped:
        key = key[0] if isinstance(key, tuple) and len(key) == 1 else key
        mean, sem, n = mean_sem(values.to_numpy(dtype=float))
        half = _stats.t.ppf(0.975, n - 1) * sem if n > 1 else np.nan
        rows[key] = {"mean": float(mean), "sem": float(sem), "n": int(n),
                     "ci_low": float(mean - half), "ci_high": float(mean + half)}
    summary = pd.DataFrame.from_dict(rows, orient="index")
    if order is not None:
        summary = summary.reindex([o for o in order if o in summary.index])
    return summary


def record_summary(stats, figure: str, quantity: str, summary: pd.DataFrame,
                   group_prefix: str = "") -> None:
    """Add one ``stats`` row per group of a :func:`group_summary` table (no-op if stats is None)."""
    if stats is None:
        return
    for group, row in summary.iterrows():
        name = "/".join(map(str, group)) if isinstance(group, tuple) else str(group)
        stats.add(figure, quantity, group_prefix + name, row["mean"], n=row["n"],
                  ci_low=row["ci_low"], ci_high=row["ci_high"])


def record_test(stats, figure: str, quantity: str, group: str, result, *, n=None) -> None:
    """Add a test row (test, statistic, p; ``n`` the count behind it, when given) when both
    ``stats`` and ``result`` are given."""
    if stats is not None and as_test_result(result) is not None:
        stats.add_test(figure, quantity, group, result, n=n)


def record_counts(stats, figure: str, table: pd.DataFrame, by: str, *,
                  per_class: bool = False) -> None:
    """Add the counts a figure states: ``n_rois`` and ``n_mice`` per ``by`` group and over all.

    Parameters
    ----------
    stats : StatsTable or None
        Collector (nothing is added when None).
    figure : str
        Figure id.
    table : pandas.DataFrame
        One row per ROI with column ``by`` and, when known, ``subject`` (mice) and ``label``.
    by : str
        Column of the groups (e.g. ``"day"``).
    per_class : bool, default False
        Also ``n_rois_<class>`` per group (needs ``label``).
    """
    if stats is None:
        return
    subjects = "subject" in table and table["subject"].notna().all()
    parts = [(str(g), part) for g, part in table.groupby(by, sort=False)] + [("all", table)]
    for group, part in parts:
        stats.add(figure, "n_rois", group, len(part), n=len(part))
        if subjects:
            mice = part["subject"].nunique()
            stats.add(figure, "n_mice", group, mice, n=mice)
        if per_class and group != "all":
            for label, count in part["label"].value_counts(sort=False).items():
                stats.add(figure, f"n_rois_{label}", group, int(count), n=int(count))
