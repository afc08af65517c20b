"""Class transitions of tracked cells: day-1 class x day-8 class, and marginal homogeneity.

For cells tracked in both sessions the labels form a square table ``n[i, j]`` (day-1 class i,
day-8 class j). Whether the share of a class changed *for the same cells* is a question of
marginal homogeneity of that paired table:

* **Stuart-Maxwell** (Stuart 1955, Maxwell 1970) for all classes at once:
  ``chi2 = d' V^-1 d`` with ``d_i = n_i. - n_.i`` and ``V_ii = n_i. + n_.i - 2 n_ii``,
  ``V_ij = -(n_ij + n_ji)`` over the first k-1 classes; df = k - 1. **Bhapkar** (1966), the
  Wald form, is ``chi2 / (1 - chi2 / N)`` (same df).
* **McNemar** for one class against the rest (e.g. post-run activated or not): the discordant
  cells ``b`` (class on day 1 only) and ``c`` (on day 8 only); the exact two-sided binomial
  p of ``b`` of ``b + c`` at 1/2, and the chi-square ``(b - c)**2 / (b + c)`` (no continuity
  correction).

These tests treat cells as independent: use them within one mouse. Across mice, compare
per-mouse fractions (:mod:`sfone.stats`); pooled tracked cells of several mice are
pseudo-replicated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["CLASSES", "transition_table", "stuart_maxwell", "mcnemar", "transition_tests",
           "plot_transitions"]

CLASSES = ("activated", "unchanged", "inhibited")


def _label_lookup(labels) -> dict:
    """ROI -> class from a classification result (Dataset with ``label`` over ``roi``), a
    pandas Series indexed by ROI, or a mapping."""
    if hasattr(labels, "data_vars") and "label" in labels:
        return dict(zip(np.asarray(labels["roi"].values).tolist(),
                        np.asarray(labels["label"].values).astype(str).tolist(), strict=True))
    if isinstance(labels, pd.Series):
        return {k: str(v) for k, v in labels.items()}
    return {k: str(v) for k, v in dict(labels).items()}


def transition_table(tracks, labels_a, labels_b, *, sessions=None,
                     classes=CLASSES) -> pd.DataFrame:
    """Counts of tracked cells by class in session ``a`` (rows) and ``b`` (columns).

    Parameters
    ----------
    tracks : Tracks or pandas.DataFrame
        :func:`sfone.track` result (or its ``table``).
    labels_a, labels_b : Dataset, Series or mapping
        Classes of the ROIs of each session (``label_responses`` results, keyed by ``roi``).
    sessions : (str, str), optional
        The two session columns (default: the first two sessions of the table).
    classes : sequence of str
        Row/column order; a tracked ROI with a label outside it is an error.

    Returns
    -------
    pandas.DataFrame
        Counts, index ``"<a> class"`` x columns ``"<b> class"`` in ``classes`` order.

    Raises
    ------
    ValueError
        If a tracked ROI has no label or a label outside ``classes``.
    """
    table = getattr(tracks, "table", tracks)
    if sessions is None:
        sessions = [c for c in table.columns if c not in ("track", "p_same")][:2]
    a, b = sessions
    both = table.dropna(subset=[a, b])
    lookup_a, lookup_b = _label_lookup(labels_a), _label_lookup(labels_b)
    counts = pd.DataFrame(0, index=pd.Index(list(classes), name=f"{a} class"),
                          columns=pd.Index(list(classes), name=f"{b} class"))
    for name, lookup, rois in ((a, lookup_a, both[a]), (b, lookup_b, both[b])):
        missing = [int(r) for r in rois if int(r) not in lookup]
        if missing:
            raise ValueError(f"session {name!r}: tracked ROI(s) {missing[:5]} have no label "
                             "(were the labels computed with cells_only as in track?)")
        unknown = sorted({lookup[int(r)] for r in rois} - set(classes))
        if unknown:
            raise ValueError(f"session {name!r}: labels {unknown} are not among {list(classes)}")
    for ra, rb in zip(both[a], both[b], strict=True):
        counts.loc[lookup_a[int(ra)], lookup_b[int(rb)]] += 1
    return counts


def stuart_maxwell(table) -> dict:
    """Stuart-Maxwell and Bhapkar tests of marginal homogeneity of a square table.

    Classes with no cell on either day are left out (they carry no information).

    Parameters
    ----------
    table : array_like
        Square count table.

    Returns
    -------
    dict
        ``statistic``, ``df``, ``p_value``, ``bhapkar``, ``bhapkar_p_value``, ``n``.

    Raises
    ------
    ValueError
        If ``table`` is not square.
    """
    n = np.asarray(table, dtype=float)
    if n.ndim != 2 or n.shape[0] != n.shape[1]:
        raise ValueError(f"expected a square table, got shape {n.shape}")
    used = (n.sum(axis=0) + n.sum(axis=1)) > 0
    n = n[np.ix_(used, used)]
    k, total = n.shape[0], float(n.sum())
    if k < 2:
        return {"statistic": 0.0, "df": 0, "p_value": 1.0, "bhapkar": 0.0,
                "bhapkar_p_value": 1.0, "n": int(total)}
    rows, cols = n.sum(axis=1), n.sum(axis=0)
    d = (rows - cols)[:-1]
    V = -(n + n.T)
    np.fill_diagonal(V, rows + cols - 2 * np.diag(n))
    V = V[:-1, :-1]
    if np.allclose(d, 0):
        statistic = 0.0
    else:
        statistic = float(d @ np.linalg.pinv(V) @ d)
    bhapkar = statistic / (1 - statistic / total) if statistic < total else np.inf
    return {"statistic": statistic, "df": k - 1,
            "p_value": float(stats.chi2.sf(statistic, k - 1)), "bhapkar": float(bhapkar),
            "bhapkar_p_value": float(stats.chi2.sf(bhapkar, k - 1)), "n": int(total)}


def mcnemar(table, cls) -> dict:
    """McNemar test of one class against the rest: ``b`` = cells in ``cls`` on day 1 only,
    ``c`` = on day 8 only; exact binomial ``p_value`` and uncorrected ``chi2``.

    Parameters
    ----------
    table : pandas.DataFrame
        Square count table, rows day 1 (session a), columns day 8 (session b).
    cls : str
        The class tested.

    Returns
    -------
    dict
        ``class``, ``b``, ``c``, ``p_value`` (exact binomial), ``chi2`` and ``chi2_p_value``.
    """
    table = pd.DataFrame(table)
    inside = table.index == cls
    b = int(table.loc[inside, table.columns != cls].to_numpy().sum())
    c = int(table.loc[~inside, table.columns == cls].to_numpy().sum())
    exact = float(stats.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0
    chi2 = (b - c) ** 2 / (b + c) if b + c else 0.0
    return {"class": cls, "b": b, "c": c, "p_value": exact, "chi2": float(chi2),
            "chi2_p_value": float(stats.chi2.sf(chi2, 1))}


def transition_tests(table, *, classes=None) -> dict:
    """Stuart-Maxwell (+ Bhapkar) on the whole table and McNemar per class; fractions of each
    class on both days among the tracked cells.

    Parameters
    ----------
    table : pandas.DataFrame
        Square count table (:func:`transition_table`).
    classes : sequence of str, optional
        Classes tested with McNemar; default the table's rows.

    Returns
    -------
    dict
        ``n_tracked``, ``stuart_maxwell`` (:func:`stuart_maxwell`), ``mcnemar`` (class ->
        :func:`mcnemar`), ``fraction_a`` and ``fraction_b`` (class -> share of tracked cells).
    """
    table = pd.DataFrame(table)
    total = int(table.to_numpy().sum())
    classes = list(table.index) if classes is None else list(classes)
    return {"n_tracked": total, "stuart_maxwell": stuart_maxwell(table),
            "mcnemar": {c: mcnemar(table, c) for c in classes},
            "fraction_a": (table.sum(axis=1) / max(total, 1)).to_dict(),
            "fraction_b": (table.sum(axis=0) / max(total, 1)).to_dict()}


def plot_transitions(table, *, ax=None, tests: dict | None = None, cmap="Blues"):
    """Transition matrix of tracked cells: counts and row percentages, Stuart-Maxwell p.

    Parameters
    ----------
    table : pandas.DataFrame
        Square count table (:func:`transition_table`), rows session a, columns session b.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; default a new figure.
    tests : dict, optional
        :func:`transition_tests` of ``table`` (computed when omitted).
    cmap : str, default "Blues"
        Colour map of the row shares.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    table = pd.DataFrame(table)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.2))
    counts = table.to_numpy(dtype=float)
    row_share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(row_share, cmap=cmap, vmin=0, vmax=1)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(j, i, f"{int(counts[i, j])}\n{100 * row_share[i, j]:.0f}%", ha="center",
                    va="center", fontsize=8, color="white" if row_share[i, j] > 0.6 else "black")
    ax.set_xticks(range(counts.shape[1]), [str(c) for c in table.columns], rotation=30)
    ax.set_yticks(range(counts.shape[0]), [str(c) for c in table.index])
    ax.set_xlabel(str(table.columns.name or "session b class"))
    ax.set_ylabel(str(table.index.name or "session a class"))
    tests = tests or transition_tests(table)
    sm = tests["stuart_maxwell"]
    ax.set_title(f"tracked cells n = {tests['n_tracked']}\nStuart-Maxwell chi2({sm['df']}) = "
                 f"{sm['statistic']:.2f}, p = {sm['p_value']:.3g}", fontsize=8)
    return ax
