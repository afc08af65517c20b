"""Figures 8 and 9: endurance across training days and post-exercise blood glucose.

Inputs: an endurance table (subject, group, day, distance_m or time_to_exhaustion_s) with groups
control / inhibit_15min / stimulate_60min; a glucose table (subject, group, time_min,
glucose_mg_dl) with groups control / inhibit.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._docs import fill_doc
from ..experiment_tables import glucose_iauc, training_gain
from ._style import (
    MIN_FONT_PT,
    STARS_KEY,
    figsize,
    figure_style,
    label_panels,
    significance_stars,
)
from ._summary import group_summary, record_summary, record_test
from .groups import ordered_groups, plot_group_points, plot_group_timecourse, scaled_column

__all__ = ["ENDURANCE_GROUPS", "GLUCOSE_GROUPS", "plot_endurance_days", "plot_glucose",
           "figure_endurance", "figure_glucose"]

ENDURANCE_GROUPS = ("control", "inhibit_15min", "stimulate_60min")
GLUCOSE_GROUPS = ("control", "inhibit")


def _present(table: pd.DataFrame, order) -> list:
    present = set(table["group"])
    return [g for g in order if g in present] + [g for g in pd.unique(table["group"])
                                                 if g not in order]


@fill_doc
def plot_endurance_days(table: pd.DataFrame, *, value: str = "distance_m", order=ENDURANCE_GROUPS,
                        test=None, ax=None):
    """Mean +- SEM of ``value`` (distance_m or time_to_exhaustion_s) per group over training days.

    ``test``: optional precomputed group x day test (annotated above the axes).

    Parameters
    ----------
    table : pandas.DataFrame
        Training table: ``subject``, ``group``, ``day`` and ``value``.
    value : str, default "distance_m"
        Endurance column (``distance_m`` in m or ``time_to_exhaustion_s`` in s).
    order : sequence of str, default ENDURANCE_GROUPS
        Group order.
    test : mapping, optional
        Precomputed group x day test (annotated above the axes).
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = plot_group_timecourse(table, value, x="day", order=_present(table, order),
                               xlabel="Training day", test=test, test_prefix="",
                               legend_loc="upper left", legend_room=0.15, ax=ax)
    days = np.unique(table["day"].to_numpy())
    if days.size <= 15 and np.issubdtype(days.dtype, np.number):
        ax.set_xticks(days)
    return ax


@fill_doc
def plot_glucose(table: pd.DataFrame, *, order=GLUCOSE_GROUPS, test=None, per_time=None,
                 ax=None):
    """Mean +- SEM blood glucose (mg/dL) per group against time after the run (min).

    ``per_time``: optional {time_min: result} of a between-group test at each time point;
    asterisks (* p < 0.05, ** < 0.01, *** < 0.001; text gid "per_time") mark the significant
    ones just above the highest error bar at that time, with their key (the thresholds; text
    gid "per_time_key") in the upper right corner.

    Parameters
    ----------
    table : pandas.DataFrame
        Glucose table: ``subject``, ``group``, ``time_min`` (min), ``glucose_mg_dl``.
    order : sequence of str, default GLUCOSE_GROUPS
        Group order.
    test : mapping, optional
        Precomputed group x time test.
    per_time : mapping, optional
        ``{time_min: result}`` between-group tests at each time point.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
    """
    groups = _present(table, order)
    ax = plot_group_timecourse(table, "glucose_mg_dl", x="time_min", order=groups,
                               xlabel="Time after run (min)", test=test,
                               test_prefix="", legend_loc="lower right",
                               legend_room=0.3, ax=ax)
    marked = {t: significance_stars(r["p_value"]) for t, r in (per_time or {}).items()}
    marked = {t: stars for t, stars in marked.items() if stars}
    if marked:
        summary = group_summary(table, "glucose_mg_dl", ["group", "time_min"])
        tops = (summary["mean"] + summary["sem"].fillna(0)).groupby(level=1).max()
        from matplotlib.transforms import ScaledTranslation

        above = ax.transData + ScaledTranslation(0, 1 / 72, ax.figure.dpi_scale_trans)  # 1 pt
        for t, stars in marked.items():
            ax.text(float(t), float(tops[t]), stars, transform=above, ha="center",
                    va="bottom", fontsize=7, gid="per_time")
        low, high = ax.get_ylim()
        ax.set_ylim(low, max(high, float(tops.max()) + 0.12 * (high - low)))
        # the key in the upper right, where glucose is back near baseline; the caption names
        # the test and its correction
        ax.text(0.99, 0.99, STARS_KEY.replace(", ", "\n"), transform=ax.transAxes, ha="right",
                va="top", fontsize=MIN_FONT_PT, gid="per_time_key", linespacing=1.3)
    return ax


def _record_timecourse(stats, figure_id, table, value, x, group_format):
    if stats is None:
        return
    data, quantity = scaled_column(table, value)
    summary = group_summary(data, quantity, ["group", x])
    summary.index = [group_format.format(group=g, x=v) for g, v in summary.index]
    record_summary(stats, figure_id, quantity, summary)


@fill_doc
def figure_endurance(table: pd.DataFrame, *, value: str = "distance_m", order=ENDURANCE_GROUPS,
                     test=None, gain_test=None, pairwise=None, stats=None,
                     figure_id: str = "fig8"):
    """Figure 8: (a) endurance over training days, (b) per-mouse gain first -> last day.

    ``pairwise``: optional precomputed pairwise results on the gains (each with ``pair``),
    drawn as brackets on (b). ``stats`` rows: the mean per group/day (group "<group>/day<d>"),
    the mean gain per group, the tests (pairwise ones per "<a>_vs_<b>").

    Parameters
    ----------
    table : pandas.DataFrame
        Training table: ``subject``, ``group``, ``day`` and ``value``.
    value : str, default "distance_m"
        Endurance column (``distance_m`` in m or ``time_to_exhaustion_s`` in s).
    order : sequence of str, default ENDURANCE_GROUPS
        Group order.
    test : mapping, optional
        Precomputed group x day test.
    gain_test : mapping, optional
        Precomputed test on the per-mouse gains.
    pairwise : sequence of mapping, optional
        Precomputed pairwise results on the gains (each with ``pair``).
    %(stats_table)s
    figure_id : str, default "fig8"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    gains = training_gain(table, value=value)
    gain_column = gains.columns[-1]
    groups = _present(table, order)
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=figsize("double", 60), layout="constrained",
                                 width_ratios=(1.5, 1))
        plot_endurance_days(table, value=value, order=groups, test=test, ax=axes[0])
        plot_group_points(gains, gain_column, order=groups, test=gain_test, pairwise=pairwise,
                          ax=axes[1])
        label_panels(axes)
    _record_timecourse(stats, figure_id, table, value, "day", "{group}/day{x:g}")
    data, quantity = scaled_column(gains, gain_column)
    record_summary(stats, figure_id, quantity, group_summary(data, quantity, "group",
                                                             order=groups))
    record_test(stats, figure_id, f"{value}_group_x_day", "all", test)
    record_test(stats, figure_id, quantity, "all", gain_test)
    for result in pairwise or ():
        record_test(stats, figure_id, quantity, "_vs_".join(map(str, result["pair"])), result)
    return fig


@fill_doc
def figure_glucose(table: pd.DataFrame, *, order=GLUCOSE_GROUPS, test=None, auc_test=None,
                   per_time=None, stats=None, figure_id: str = "fig9"):
    """Figure 9: (a) glucose time course per group, (b) incremental AUC per mouse.

    ``per_time``: optional {time_min: result} between-group tests at each time point (asterisks
    on (a); ``stats`` rows "glucose_mg_dl" per "<t>min/<a>_vs_<b>").

    Parameters
    ----------
    table : pandas.DataFrame
        Glucose table: ``subject``, ``group``, ``time_min`` (min), ``glucose_mg_dl``.
    order : sequence of str, default GLUCOSE_GROUPS
        Group order.
    test : mapping, optional
        Precomputed group x time test.
    auc_test : mapping, optional
        Precomputed test on the incremental AUC (mg/dL x min).
    per_time : mapping, optional
        ``{time_min: result}`` between-group tests at each time point.
    %(stats_table)s
    figure_id : str, default "fig9"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    auc = glucose_iauc(table)
    groups = ordered_groups(auc, "group", _present(table, order))
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=figsize("1.5", 58), layout="constrained",
                                 width_ratios=(1.6, 1))
        plot_glucose(table, order=groups, test=test, per_time=per_time, ax=axes[0])
        plot_group_points(auc, "glucose_iauc", order=groups, test=auc_test, ax=axes[1])
        label_panels(axes)
    _record_timecourse(stats, figure_id, table, "glucose_mg_dl", "time_min",
                       "{group}/{x:g}min")
    data, quantity = scaled_column(auc, "glucose_iauc")
    record_summary(stats, figure_id, quantity, group_summary(data, quantity, "group",
                                                             order=groups))
    record_test(stats, figure_id, "glucose_group_x_time", "all", test)
    record_test(stats, figure_id, quantity, "_vs_".join(map(str, groups)), auc_test)
    for t, result in (per_time or {}).items():
        record_test(stats, figure_id, "glucose_mg_dl", f"{t:g}min/" + "_vs_".join(
            map(str, groups[:2])), result)
    return fig
