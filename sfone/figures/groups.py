"""Group comparisons of one value per animal: points + mean +- SEM, and mean +- SEM time courses.

Used by the stress-test endpoints (figure 7), training gains (figure 8) and glucose AUC (figure 9).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._docs import fill_doc
from ._style import (
    annotate_corner,
    annotate_test,
    as_test_result,
    color_for,
    display_name,
    figsize,
    format_p,
    label_with_n,
    new_axes,
    short_test_label,
    styled,
)
from ._summary import group_summary

__all__ = ["COLUMN_INFO", "column_label", "scaled_column", "plot_group_points", "annotate_pairs",
           "plot_group_timecourse", "ordered_groups"]

#: column -> (quantity name in stats.csv, factor to the displayed unit, axis label with unit).
COLUMN_INFO = {
    "time_to_exhaustion_s": ("time_to_exhaustion_min", 1 / 60, "Time to exhaustion (min)"),
    "distance_m": ("distance_m", 1.0, "Distance to exhaustion (m)"),
    "max_speed_m_min": ("max_speed_m_min", 1.0, "Maximum speed (m/min)"),
    "vo2max": ("vo2max_ml_kg_min", 1.0, "VO$_2$max (mL/kg/min)"),
    "crossover_speed_m_min": ("crossover_speed_m_min", 1.0, "RER-crossover speed (m/min)"),
    "distance_gain_m": ("distance_gain_m", 1.0, "Distance gain, last - first day (m)"),
    "glucose_iauc": ("glucose_iauc_mg_dl_min", 1.0, "Glucose iAUC (mg/dL × min)"),
    "glucose_mg_dl": ("glucose_mg_dl", 1.0, "Blood glucose (mg/dL)"),
}


def column_label(column: str) -> str:
    """Axis label with unit for a known column, else the column name.

    Parameters
    ----------
    column : str
        Table column.

    Returns
    -------
    str
    """
    return COLUMN_INFO.get(column, (column, 1.0, column))[2]


def scaled_column(table: pd.DataFrame, column: str) -> tuple[pd.DataFrame, str]:
    """A copy of ``table`` with ``column`` converted to its displayed unit, and that column name.

    Parameters
    ----------
    table : pandas.DataFrame
        Table with ``column``.
    column : str
        Column in its stored unit (e.g. ``time_to_exhaustion_s``).

    Returns
    -------
    (pandas.DataFrame, str)
        The copy and the displayed column's name (from :data:`COLUMN_INFO`, e.g.
        ``time_to_exhaustion_min``; ``column`` itself when unknown).
    """
    quantity, factor, _ = COLUMN_INFO.get(column, (column, 1.0, column))
    out = table.copy()
    out[quantity] = out[column].astype(float) * factor
    return out, quantity


def ordered_groups(table: pd.DataFrame, group: str, order=None) -> list:
    """``order`` if given, else groups in order of first appearance.

    Parameters
    ----------
    table : pandas.DataFrame
        Table with a group column.
    group : str
        Group column.
    order : sequence, optional
        Explicit order.

    Returns
    -------
    list
    """
    return list(order) if order is not None else list(pd.unique(table[group]))


@styled
@fill_doc
def plot_group_points(table: pd.DataFrame, value: str, *, group: str = "group", order=None,
                      test=None, pairwise=None, ylabel: str | None = None, ax=None):
    """One point per animal per group with the group mean +- SEM.

    Parameters
    ----------
    table : DataFrame
        One row per animal with columns ``group`` and ``value``.
    value : str
        Column to plot; known columns (:data:`COLUMN_INFO`) are converted to their display unit.
    group : str, default "group"
        Group column.
    order : sequence, optional
        Group order on the x axis; default order of appearance.
    test : mapping, optional
        Precomputed ``{"test", "statistic", "p_value"}``; a bracket for two groups, a corner
        note for more.
    pairwise : sequence of mappings, optional
        Precomputed pairwise results, each with ``pair`` = (group a, group b): one bracket per
        pair (stacked), labelled with its p-value; ``test`` then goes above them.
    ylabel : str, optional
        Y label; default the column's label with unit.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        Points are ``ax.collections`` (gid "points:<group>"); mean markers are lines with gid
        "mean:<group>"; tick labels carry n animals.
    """
    data, quantity = scaled_column(table, value)
    groups = ordered_groups(data, group, order)
    summary = group_summary(data, quantity, group, order=groups)
    ax = new_axes(ax, figsize(40, 50))
    for i, name in enumerate(groups):
        values = data.loc[data[group] == name, quantity].to_numpy(dtype=float)
        jitter = np.linspace(-0.08, 0.08, values.size) if values.size > 1 else np.zeros(1)
        points = ax.scatter(i + 0.1 + jitter, values, s=9, color=color_for(name, i), alpha=0.6,
                            linewidths=0, zorder=2)
        points.set_gid(f"points:{name}")
        row = summary.loc[name]
        bar = ax.errorbar(i - 0.17, row["mean"], yerr=row["sem"], fmt="_", ms=10, mew=1.2,
                          capsize=2.5,
                          color="black", lw=1.0, zorder=3)
        bar.lines[0].set_gid(f"mean:{name}")
    ax.set_xticks(range(len(groups)),
                  [f"{display_name(g, short=True)}\n(n = {int(summary.loc[g, 'n'])})"
                   for g in groups])
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel(ylabel or column_label(value))
    if pairwise:
        # the brackets go inside the axes, over the data (room made on the y axis), so the
        # panel keeps the height of its neighbours; the omnibus test sits above, as theirs
        step = 0.08
        low, high = ax.get_ylim()
        room = step * len(pairwise) + 0.04
        ax.set_ylim(low, low + (high - low) / (1 - room))
        annotate_pairs(ax, pairwise, groups, y0=1 - room + 0.03, step=step)
        annotate_corner(ax, test, y=1.08)
    elif len(groups) == 2 and (result := as_test_result(test)) is not None:
        # the test's short name: its qualifiers ("two-sided (normal approximation, ...)") ran
        # across the neighbouring panels; the caption names the test in full
        annotate_test(ax, result, x0=0, x1=1, y=1.03, text=short_test_label(result))
    else:
        annotate_corner(ax, test, y=1.08)
    return ax


def annotate_pairs(ax, pairwise, groups, *, y0: float = 1.03, step: float = 0.08) -> float:
    """One bracket per pairwise result, stacked from ``y0`` with the shortest spans lowest.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes with one x position per group.
    pairwise : sequence of mapping
        Results with ``pair`` (two of ``groups``) and ``p_value``.
    groups : sequence of str
        Groups in x order.
    y0 : float, default 1.03
        Height of the first bracket (axes fraction).
    step : float, default 0.08
        Spacing between brackets (axes fraction).

    Returns
    -------
    float
        The height above the last bracket (axes fraction).
    """
    groups = list(groups)
    ordered = sorted(pairwise, key=lambda r: abs(groups.index(r["pair"][1])
                                                 - groups.index(r["pair"][0])))
    y = y0
    for result in ordered:
        x0, x1 = sorted((groups.index(result["pair"][0]), groups.index(result["pair"][1])))
        annotate_test(ax, result, x0=x0, x1=x1, y=y, text=format_p(result["p_value"]))
        y += step
    return y


@styled
@fill_doc
def plot_group_timecourse(table: pd.DataFrame, value: str, *, x: str, group: str = "group",
                          order=None, xlabel: str = "", ylabel: str | None = None, test=None,
                          test_prefix: str = "", legend_loc: str = "best",
                          legend_room: float = 0.0, ax=None):
    """Mean +- SEM across animals of ``value`` against ``x`` for each group.

    ``legend_room`` extends the y axis by that fraction of its range on the legend's side
    ("lower ..." or "upper ..." ``legend_loc``) so the legend does not cover data.

    Parameters
    ----------
    table : pandas.DataFrame
        Long table: one row per animal and ``x`` (with ``subject`` when animals repeat).
    value : str
        Column plotted; known columns are converted to their display unit.
    x : str
        X column (e.g. ``day`` or ``time_min``).
    group : str, default "group"
        Group column.
    order : sequence, optional
        Group order; default order of appearance.
    xlabel : str, default ""
        X label.
    ylabel : str, optional
        Y label; default the column's label with unit.
    test : mapping, optional
        Precomputed ``{"test", "statistic", "p_value"}``, annotated on the axes.
    test_prefix : str, default ""
        Text before the test annotation.
    legend_loc : str, default "best"
        Matplotlib legend location.
    legend_room : float, default 0.0
        Extra y range (fraction) on the legend's side.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        One errorbar line per group labelled "<Group> (n = k)", gid the group name.
    """
    data, quantity = scaled_column(table, value)
    groups = ordered_groups(data, group, order)
    ax = new_axes(ax, figsize(60, 50))
    for i, name in enumerate(groups):
        part = data[data[group] == name]
        summary = group_summary(part, quantity, x)
        n_animals = part["subject"].nunique() if "subject" in part else len(part)
        bar = ax.errorbar(summary.index.to_numpy(dtype=float), summary["mean"].to_numpy(),
                          yerr=summary["sem"].to_numpy(), color=color_for(name, i), marker="o", ms=2.5,
                          capsize=1.5, lw=1.0, label=label_with_n(name, n_animals, "mice"))
        bar.lines[0].set_gid(str(name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or column_label(value))
    if legend_room:
        low, high = ax.get_ylim()
        extra = legend_room * (high - low)
        ax.set_ylim(low - extra if legend_loc.startswith("lower") else low,
                    high + extra if legend_loc.startswith("upper") else high)
    ax.legend(loc=legend_loc)
    annotate_corner(ax, test, prefix=test_prefix, y=1.08)
    return ax
