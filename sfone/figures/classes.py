"""Figures 1 and 4: post-run class proportions per day and per-mouse fraction activated.

Inputs are the classifier output (issue 6): a Dataset over ``roi`` with a ``label`` variable
("activated" | "inhibited" | "unchanged") and a ``day`` (or ``session``) coordinate, or a mapping
``{day: Dataset}``; and a per-mouse table with columns subject, day, n_rois, n_activated, fraction.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from ._style import (
    CLASS_COLORS,
    CLASS_ORDER,
    annotate_test,
    color_for,
    display_name,
    figsize,
    figure_style,
    new_axes,
    styled,
)
from ._summary import group_summary, record_summary, record_test, wilson_interval

__all__ = ["class_counts", "plot_class_proportions", "plot_fraction_activated_paired",
           "figure_class_proportions", "figure_fraction_activated_paired"]


def _labels_by_group(classes, by: str) -> pd.DataFrame:
    if isinstance(classes, Mapping) and not isinstance(classes, xr.Dataset):
        frames = [pd.DataFrame({by: str(key), "label": np.asarray(ds["label"].values, dtype=str)})
                  for key, ds in classes.items()]
        return pd.concat(frames, ignore_index=True)
    if by not in classes.coords and by not in classes:
        raise ValueError(f"the classifier output has no '{by}' coordinate over 'roi'; pass a "
                         f"mapping {{{by}: Dataset}} or add the coordinate")
    return pd.DataFrame({by: np.asarray(classes[by].values, dtype=str),
                         "label": np.asarray(classes["label"].values, dtype=str)})


def class_counts(classes, *, by: str = "day", order=None) -> pd.DataFrame:
    """ROI counts per class (columns in :data:`CLASS_ORDER`) and per ``by`` group (rows).

    ``classes`` is a classifier Dataset with a ``by`` coordinate over ``roi``, or a mapping
    ``{group: Dataset}``. Raises ValueError on labels outside the three classes.
    """
    table = _labels_by_group(classes, by)
    unknown = sorted(set(table["label"]) - set(CLASS_ORDER))
    if unknown:
        raise ValueError(f"unknown class labels {unknown}; expected {list(CLASS_ORDER)}")
    counts = pd.crosstab(table[by], table["label"]).reindex(columns=list(CLASS_ORDER),
                                                            fill_value=0)
    if order is not None:
        missing = [str(g) for g in order if g not in counts.index]
        if missing:
            raise ValueError(f"no ROIs for {by} {missing}; the classifier output has "
                             f"{sorted(map(str, counts.index))}")
        counts = counts.reindex(list(order))
    counts.columns.name = None
    return counts.astype(int)


@styled
def plot_class_proportions(classes, *, by: str = "day", order=None, test=None,
                           show_percent: bool = True, ax=None):
    """Stacked bars of the fraction of ROIs per post-run class, one bar per day.

    Parameters
    ----------
    classes : xarray.Dataset or mapping {day: Dataset}
        Classifier output over ``roi`` with ``label`` (and a ``by`` coordinate if one Dataset).
    by : str
        Coordinate that defines the bars (``"day"`` or ``"session"``).
    order : sequence of str, optional
        Bar order (default: sorted group names).
    test : mapping, optional
        Precomputed comparison of the proportions: ``{"test", "statistic", "p_value"}``.
    show_percent : bool
        Write the percentage inside segments tall enough to hold it.

    Returns
    -------
    matplotlib.axes.Axes
        Bars are ``ax.containers`` in :data:`CLASS_ORDER`; tick labels carry n ROIs.
    """
    counts = class_counts(classes, by=by, order=order)
    fractions = counts.div(counts.sum(axis=1), axis=0)
    ax = new_axes(ax, figsize(45, 55))
    x = np.arange(len(fractions))
    bottom = np.zeros(len(fractions))
    for cls in CLASS_ORDER:
        heights = fractions[cls].to_numpy()
        bars = ax.bar(x, heights, bottom=bottom, width=0.6, color=CLASS_COLORS[cls],
                      label=display_name(cls), edgecolor="white", linewidth=0.5)
        if show_percent:
            labels = [f"{h:.1%}" if h >= 0.07 else "" for h in heights]
            text_color = "black" if cls == "unchanged" else "white"
            ax.bar_label(bars, labels=labels, label_type="center", fontsize=5.5,
                         color=text_color)
        bottom += heights
    ax.set_xticks(x, [f"{display_name(g)}\n(n = {n} ROIs)" for g, n in counts.sum(axis=1).items()])
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylim(0, 1)
    ax.set_ylabel("Fraction of ROIs")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.0, 0.5),
              title="Post-run class")
    if len(x) > 1:
        annotate_test(ax, test, x0=0, x1=len(x) - 1, y=1.03)
    return ax


@styled
def plot_fraction_activated_paired(fractions: pd.DataFrame, *, order=("day1", "day8"),
                                   test=None, ax=None):
    """Per-mouse fraction of post-run activated ROIs, paired lines between days.

    Parameters
    ----------
    fractions : DataFrame
        Columns ``subject``, ``day``, ``fraction`` (0-1; ``n_rois``, ``n_activated`` optional).
    order : sequence of str
        Days on the x axis, left to right.
    test : mapping, optional
        Precomputed paired test ``{"test", "statistic", "p_value"}``.

    Returns
    -------
    matplotlib.axes.Axes
        One grey line per subject (``ax.lines`` labelled with the subject, gid "subject"),
        then the mean +- SEM per day (errorbar, gid "mean"). Tick labels carry n mice.
    """
    wide = fractions.pivot(index="subject", columns="day", values="fraction")
    wide = wide.reindex(columns=list(order))
    ax = new_axes(ax, figsize(40, 55))
    x = np.arange(len(order))
    for subject, row in wide.iterrows():
        line, = ax.plot(x, row.to_numpy(dtype=float), color="#9A9A9A", lw=0.7, marker="o",
                        ms=2.5, label=str(subject), zorder=2)
        line.set_gid("subject")
    summary = group_summary(fractions, "fraction", "day", order=order).reindex(list(order))
    offsets = np.where(x < (len(order) - 1) / 2, -0.18, 0.18)
    for i, (day, row) in enumerate(summary.iterrows()):
        container = ax.errorbar(i + offsets[i], row["mean"], yerr=row["sem"], fmt="s", ms=4, capsize=2,
                                color=color_for(day), lw=1.0, zorder=3, label="_mean")
        container.lines[0].set_gid("mean")
    n_mice = wide.notna().sum()
    ax.set_xticks(x, [f"{display_name(d)}\n(n = {n_mice[d]} mice)" for d in order])
    ax.set_xlim(-0.5, len(order) - 0.5)
    ax.set_ylim(0, max(1.0, float(np.nanmax(wide.to_numpy()))) if wide.size else 1.0)
    ax.set_ylabel("Fraction of ROIs activated\nafter the run")
    ax.legend([plt.Line2D([], [], color="#9A9A9A", lw=0.7, marker="o", ms=2.5),
               plt.Line2D([], [], color="black", marker="s", ms=4, ls="none")],
              ["One mouse", "Mean ± SEM"], loc="upper left")
    if len(order) > 1:
        annotate_test(ax, test, x0=0, x1=len(order) - 1, y=1.03)
    return ax


def figure_class_proportions(classes, *, by: str = "day", order=("day1", "day8"), test=None,
                             stats=None, figure_id: str = "fig1"):
    """Figure 1: class proportions per day; records fractions (with Wilson 95 % CI) and the test.

    ``stats`` rows: ``fraction_<class>`` per day (n = ROIs), and ``class_proportions`` with the test.
    """
    with figure_style():
        fig, ax = plt.subplots(figsize=figsize("single", 60), layout="constrained")
        fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02)
        plot_class_proportions(classes, by=by, order=order, test=test, ax=ax)
    counts = class_counts(classes, by=by, order=order)
    if stats is not None:
        totals = counts.sum(axis=1)
        for cls in CLASS_ORDER:
            low, high = wilson_interval(counts[cls].to_numpy(), totals.to_numpy())
            for i, group in enumerate(counts.index):
                stats.add(figure_id, f"fraction_{cls}", group, counts[cls].iloc[i] / totals.iloc[i],
                          n=totals.iloc[i], ci_low=low[i], ci_high=high[i])
        record_test(stats, figure_id, "class_proportions", "_vs_".join(counts.index), test)
    return fig


def figure_fraction_activated_paired(fractions: pd.DataFrame, *, order=("day1", "day8"),
                                     test=None, stats=None, figure_id: str = "fig4"):
    """Figure 4: per-mouse fraction activated; records the mean per day (n = mice) and the test."""
    with figure_style():
        fig, ax = plt.subplots(figsize=figsize(55, 60), layout="constrained")
        plot_fraction_activated_paired(fractions, order=order, test=test, ax=ax)
    summary = group_summary(fractions, "fraction", "day", order=order)
    record_summary(stats, figure_id, "fraction_activated_per_mouse_mean", summary)
    record_test(stats, figure_id, "fraction_activated_per_mouse", "_vs_".join(order), test)
    return fig
