"""Figures 8 and 9: endurance across training days and post-exercise blood glucose.

Inputs: an endurance table (subject, group, day, distance_m or time_to_exhaustion_s) with groups
control / inhibit_15min / stimulate_60min; a glucose table (subject, group, time_min,
glucose_mg_dl) with groups control / inhibit.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._style import figsize, figure_style
from ._summary import group_summary, record_summary, record_test
from .groups import ordered_groups, plot_group_points, plot_group_timecourse, scaled_column

__all__ = ["ENDURANCE_GROUPS", "GLUCOSE_GROUPS", "plot_endurance_days", "training_gain",
           "plot_glucose", "glucose_iauc", "figure_endurance", "figure_glucose"]

ENDURANCE_GROUPS = ("control", "inhibit_15min", "stimulate_60min")
GLUCOSE_GROUPS = ("control", "inhibit")


def _present(table: pd.DataFrame, order) -> list:
    present = set(table["group"])
    return [g for g in order if g in present] + [g for g in pd.unique(table["group"])
                                                 if g not in order]


def plot_endurance_days(table: pd.DataFrame, *, value: str = "distance_m", order=ENDURANCE_GROUPS,
                        test=None, ax=None):
    """Mean +- SEM of ``value`` (distance_m or time_to_exhaustion_s) per group over training days.

    ``test``: optional precomputed group x day test (annotated above the axes).
    """
    ax = plot_group_timecourse(table, value, x="day", order=_present(table, order),
                               xlabel="Training day", test=test, test_prefix="",
                               legend_loc="upper left", legend_room=0.15, ax=ax)
    days = np.unique(table["day"].to_numpy())
    if days.size <= 15 and np.issubdtype(days.dtype, np.number):
        ax.set_xticks(days)
    return ax


def training_gain(table: pd.DataFrame, *, value: str = "distance_m") -> pd.DataFrame:
    """Per-mouse change of ``value`` from its first to its last training day.

    Returns a DataFrame with columns subject, group, ``<value minus unit>_gain_<unit>``
    (``distance_gain_m`` for distance).
    """
    ordered = table.sort_values(["subject", "day"])
    first = ordered.groupby("subject", sort=True).first()
    last = ordered.groupby("subject", sort=True).last()
    name = "distance_gain_m" if value == "distance_m" else f"{value}_gain"
    return pd.DataFrame({"subject": first.index, "group": first["group"].to_numpy(),
                         name: (last[value] - first[value]).to_numpy(dtype=float)})


def plot_glucose(table: pd.DataFrame, *, order=GLUCOSE_GROUPS, test=None, ax=None):
    """Mean +- SEM blood glucose (mg/dL) per group against time after the run (min)."""
    return plot_group_timecourse(table, "glucose_mg_dl", x="time_min",
                                 order=_present(table, order),
                                 xlabel="Time after run (min)", test=test,
                                 test_prefix="", legend_loc="lower right",
                                 legend_room=0.3, ax=ax)


def glucose_iauc(table: pd.DataFrame) -> pd.DataFrame:
    """Incremental area under the glucose curve above each mouse's first sample (mg/dL x min).

    Trapezoid rule over ``time_min``; returns columns subject, group, glucose_iauc.
    """
    rows = []
    for subject, part in table.sort_values(["subject", "time_min"]).groupby("subject"):
        t = part["time_min"].to_numpy(dtype=float)
        rise = part["glucose_mg_dl"].to_numpy(dtype=float) - part["glucose_mg_dl"].iloc[0]
        rows.append({"subject": subject, "group": part["group"].iloc[0],
                     "glucose_iauc": float(np.trapezoid(rise, t))})
    return pd.DataFrame(rows)


def _record_timecourse(stats, figure_id, table, value, x, group_format):
    if stats is None:
        return
    data, quantity = scaled_column(table, value)
    summary = group_summary(data, quantity, ["group", x])
    summary.index = [group_format.format(group=g, x=v) for g, v in summary.index]
    record_summary(stats, figure_id, quantity, summary)


def figure_endurance(table: pd.DataFrame, *, value: str = "distance_m", order=ENDURANCE_GROUPS,
                     test=None, gain_test=None, stats=None, figure_id: str = "fig8"):
    """Figure 8: (a) endurance over training days, (b) per-mouse gain first -> last day.

    ``stats`` rows: the mean per group/day (group "<group>/day<d>"), the mean gain per group, tests.
    """
    gains = training_gain(table, value=value)
    gain_column = gains.columns[-1]
    groups = _present(table, order)
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=figsize("double", 60), layout="constrained",
                                 width_ratios=(1.5, 1))
        plot_endurance_days(table, value=value, order=groups, test=test, ax=axes[0])
        plot_group_points(gains, gain_column, order=groups, test=gain_test, ax=axes[1])
    _record_timecourse(stats, figure_id, table, value, "day", "{group}/day{x:g}")
    data, quantity = scaled_column(gains, gain_column)
    record_summary(stats, figure_id, quantity, group_summary(data, quantity, "group",
                                                             order=groups))
    record_test(stats, figure_id, f"{value}_group_x_day", "all", test)
    record_test(stats, figure_id, quantity, "all", gain_test)
    return fig


def figure_glucose(table: pd.DataFrame, *, order=GLUCOSE_GROUPS, test=None, auc_test=None,
                   stats=None, figure_id: str = "fig9"):
    """Figure 9: (a) glucose time course per group, (b) incremental AUC per mouse."""
    auc = glucose_iauc(table)
    groups = ordered_groups(auc, "group", _present(table, order))
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=figsize("1.5", 58), layout="constrained",
                                 width_ratios=(1.6, 1))
        plot_glucose(table, order=groups, test=test, ax=axes[0])
        plot_group_points(auc, "glucose_iauc", order=groups, test=auc_test, ax=axes[1])
    _record_timecourse(stats, figure_id, table, "glucose_mg_dl", "time_min",
                       "{group}/{x:g}min")
    data, quantity = scaled_column(auc, "glucose_iauc")
    record_summary(stats, figure_id, quantity, group_summary(data, quantity, "group",
                                                             order=groups))
    record_test(stats, figure_id, "glucose_group_x_time", "all", test)
    record_test(stats, figure_id, quantity, "_vs_".join(map(str, groups)), auc_test)
    return fig
