"""Figures 6 and 7: graded treadmill stress test, control vs SF1-silenced mice.

Inputs: a long table with one row per mouse and sample or stage (subject, group, time_s,
speed_m_min, vo2_ml_kg_min or vo2_ml_h, rer) and an endpoints table (subject, group, vo2max,
time_to_exhaustion_s, distance_m, max_speed_m_min, crossover_speed_m_min).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .._docs import fill_doc
from ._style import (
    MIN_FONT_PT,
    annotate_corner,
    color_for,
    figsize,
    figure_style,
    label_panels,
    label_with_n,
    new_axes,
    styled,
)
from ._summary import group_summary, record_summary, record_test
from .groups import COLUMN_INFO, ordered_groups, plot_group_points, scaled_column

__all__ = ["STRESS_GROUPS", "ENDPOINT_COLUMNS", "speed_profile", "plot_stress_curve",
           "plot_stress_endpoint", "figure_stress_test", "figure_stress_endpoints"]

STRESS_GROUPS = ("control", "silenced")
ENDPOINT_COLUMNS = ("time_to_exhaustion_s", "distance_m", "max_speed_m_min", "vo2max")
_Y_COLUMNS = {"vo2": (("vo2_ml_kg_min", "VO$_2$ (mL/kg/min)"), ("vo2_ml_h", "VO$_2$ (mL/h)")),
              "rer": (("rer", "RER (VCO$_2$/VO$_2$)"),)}


def _y_column(table: pd.DataFrame, y: str) -> tuple[str, str]:
    for column, label in _Y_COLUMNS.get(y, ((y, y),)):
        if column in table:
            return column, label
    raise ValueError(f"the stress-test table has no column for {y!r}; expected one of "
                     f"{[c for c, _ in _Y_COLUMNS.get(y, ((y, y),))]}")


def speed_profile(timeseries: pd.DataFrame, column: str, *, min_mice: int = 1) -> pd.DataFrame:
    """Mean +- SEM across mice of ``column`` at each speed and group (per-mouse mean first).

    Speeds reached by fewer than ``min_mice`` mice of a group are left out.

    Parameters
    ----------
    timeseries : pandas.DataFrame
        One row per reading: ``group``, ``subject``, ``speed_m_min`` and the plotted columns
        (``vo2_ml_kg_min`` or else ``vo2_ml_h`` for VO2, ``rer``).
    column : str
        Column summarised.
    min_mice : int, default 1
        Smallest number of mice at a speed.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``group``, ``speed_m_min``): ``mean``, ``sem``, ``n`` (mice at that speed),
        ``ci_low``, ``ci_high``.
    """
    per_mouse = (timeseries.groupby(["group", "subject", "speed_m_min"], sort=True)[column]
                 .mean().reset_index())
    profile = group_summary(per_mouse, column, ["group", "speed_m_min"])
    return profile[profile["n"] >= min_mice]


@styled
@fill_doc
def plot_stress_curve(timeseries: pd.DataFrame, *, y: str = "vo2", endpoints=None,
                      order=STRESS_GROUPS, test=None, min_mice: int = 1, legend: bool = True,
                      ax=None):
    """Mean +- SEM of VO2 (``y="vo2"``) or RER (``y="rer"``) against treadmill speed per group.

    Each point averages the mice still running at that speed. Where fewer than all of a group's
    mice remain, their number is written under that speed in a row along the bottom of the axes
    (one row per group, in its colour, after "n ="; text gid "n:<group>"), away from the points;
    speeds reached by fewer than ``min_mice`` mice are not drawn. The legend gives the group's
    mice at the start.

    With ``endpoints``, VO2 panels show each group's mean VO2max (+- SEM across mice; a line
    with whiskers) to the right of the curves, at the x tick "VO2max" (gid "vo2max:<group>"),
    where it covers no point; RER panels mark each group's mean crossover speed (vertical dashed line, gid
    "crossover:<group>") with RER = 1 dotted. ``test``: optional precomputed group x speed test
    (annotated above the axes).

    Parameters
    ----------
    timeseries : pandas.DataFrame
        One row per reading: ``group``, ``subject``, ``speed_m_min`` and the plotted columns
        (``vo2_ml_kg_min`` or else ``vo2_ml_h`` for VO2, ``rer``).
    y : {"vo2", "rer"}, default "vo2"
        Column on the y axis.
    endpoints : pandas.DataFrame, optional
        Endpoints table; adds the VO2max or crossover marks.
    order : sequence of str, default ("control", "silenced")
        Group order.
    test : mapping, optional
        Precomputed group x speed test.
    min_mice : int, default 1
        Speeds reached by fewer mice are not drawn.
    legend : bool, default True
        Draw the legend in the axes (figure 6 draws one for both panels instead).
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
    """
    column, label = _y_column(timeseries, y)
    profile = speed_profile(timeseries, column, min_mice=min_mice)
    groups = ordered_groups(timeseries, "group", [g for g in order if g in set(timeseries["group"])]
                            or None)
    ax = new_axes(ax, figsize(60, 50))
    fewer = {}
    for i, group in enumerate(groups):
        part = profile.loc[group]
        n_mice = timeseries.loc[timeseries["group"] == group, "subject"].nunique()
        speeds = part.index.to_numpy(dtype=float)
        bar = ax.errorbar(speeds, part["mean"].to_numpy(), yerr=part["sem"].to_numpy(),
                          color=color_for(group, i), marker="o", ms=2.5, capsize=1.5,
                          label=f"{label_with_n(group, n_mice, 'mice')}, mean ± SEM")
        bar.lines[0].set_gid(str(group))
        fewer[group] = part["n"][part["n"] < n_mice]
    rows_top = _n_rows(ax, groups, fewer)
    if endpoints is not None:
        if y == "vo2":
            _mark_vo2max(ax, endpoints, groups, float(profile.index.get_level_values(1).max()))
        elif y == "rer":
            for i, group in enumerate(groups):
                ends = endpoints[endpoints["group"] == group]
                crossover = group_summary(ends, "crossover_speed_m_min", "group").iloc[0]
                # from above the rows of n, so the line does not cross their numbers
                line = ax.axvline(crossover["mean"], ymin=rows_top, color=color_for(group, i),
                                  ls="--", lw=0.8)
                line.set_gid(f"crossover:{group}")
    if y == "rer":
        ax.axhline(1.0, color="#777777", ls=":", lw=0.7)
    ax.set_xlabel("Treadmill speed (m/min)")
    ax.set_ylabel(label)
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        mark = _mark_handle(ax, y) if endpoints is not None else None
        if mark is not None:
            handles.append(mark)
            labels.append(_MARK_LABELS[y])
        ax.legend(handles, labels, loc="upper left")
    annotate_corner(ax, test, prefix="", y=1.08)  # the test names what it compares
    return ax


_MARK_LABELS = {"vo2": "VO$_2$max (mean ± SEM)", "rer": "RER-crossover speed (mean)"}


def _mark_handle(ax, y: str):
    """Legend handle of the endpoint marks: the first VO2max mark itself (line, whisker and
    caps, so it reads as a mark) or a dashed line for the crossover speeds."""
    if y == "rer":
        return plt.Line2D([], [], color="#555555", ls="--", lw=0.8)
    marks = [c for c in ax.containers if str(c.lines[0].get_gid()).startswith("vo2max:")]
    return marks[0] if marks else None
#: rows of "mice still running" numbers, from the bottom of the axes (axes fraction)
_N_ROW_Y0, _N_ROW_STEP = 0.03, 0.08


def _n_rows(ax, groups, fewer: dict) -> float:
    """One row of "n = k k k" under the speeds where fewer than all of a group's mice remain.

    Returns the height (axes fraction) above the rows (0 when there is none).
    """
    rows = [g for g in groups if len(fewer[g])]
    for r, group in enumerate(rows):
        color = color_for(group, list(groups).index(group))
        y = _N_ROW_Y0 + _N_ROW_STEP * (len(rows) - 1 - r)
        for k, (speed, n) in enumerate(fewer[group].items()):
            text = ax.annotate(f"{int(n)}", (float(speed), y), xycoords=("data", "axes fraction"),
                               ha="center", va="bottom", fontsize=MIN_FONT_PT, color=color)
            text.set_gid(f"n:{group}")
            if k == 0:
                ax.annotate("n =", (float(speed), y), xycoords=("data", "axes fraction"),
                            xytext=(-5, 0), textcoords="offset points", ha="right",
                            va="bottom", fontsize=MIN_FONT_PT, color=color, gid="n-row")
    return _N_ROW_Y0 + _N_ROW_STEP * len(rows) if rows else 0.0


def _mark_vo2max(ax, endpoints: pd.DataFrame, groups, last_speed: float) -> None:
    """Each group's mean VO2max +- SEM right of the curves, at the x tick "VO2max"."""
    ax.autoscale_view()
    speed_ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= last_speed + 1e-9]
    gap = 0.1 * max(last_speed, 1.0)
    xs = [last_speed + gap * (1.6 + 0.55 * i) for i in range(len(groups))]
    for i, (group, x) in enumerate(zip(groups, xs, strict=True)):
        vo2max = group_summary(endpoints[endpoints["group"] == group], "vo2max", "group").iloc[0]
        # a thin line with whiskers, as the means of figure 7: a filled marker hid the SEM
        mark = ax.errorbar(x, vo2max["mean"], yerr=vo2max["sem"], fmt="_", ms=8, mew=1.0,
                           color=color_for(group, i), capsize=2.5, capthick=0.7,
                           elinewidth=0.7, zorder=4)
        mark.lines[0].set_gid(f"vo2max:{group}")
    ax.axvline(last_speed + gap * 0.8, color="#BBBBBB", lw=0.5, zorder=0)
    center = sum(xs) / len(xs)
    ax.set_xticks(speed_ticks + [center], [f"{t:g}" for t in speed_ticks] + ["VO$_2$max"])
    ax.set_xlim(right=xs[-1] + gap * 0.7)


@styled
@fill_doc
def plot_stress_endpoint(endpoints: pd.DataFrame, column: str, *, order=STRESS_GROUPS,
                         test=None, ylabel: str | None = None, ax=None):
    """One endpoint per group: mice as points with mean +- SEM (see ``plot_group_points``).

    Parameters
    ----------
    endpoints : pandas.DataFrame
        :func:`sfone.calorimetry.stress_test_endpoints` table (one row per mouse).
    column : str
        Endpoint column (converted to its display unit).
    order : sequence of str, default ("control", "silenced")
        Group order.
    test : mapping, optional
        Precomputed ``{"test", "statistic", "p_value"}``, annotated on the axes.
    ylabel : str, optional
        Y label; default the column's label with unit.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
    """
    groups = [g for g in order if g in set(endpoints["group"])] or None
    return plot_group_points(endpoints, column, order=groups, test=test, ylabel=ylabel, ax=ax)


@fill_doc
def figure_stress_test(timeseries: pd.DataFrame, endpoints: pd.DataFrame, *,
                       order=STRESS_GROUPS, vo2_test=None, rer_test=None, stats=None,
                       min_mice: int = 1, figure_id: str = "fig6"):
    """Figure 6: (a) VO2 vs speed with VO2max marks, (b) RER vs speed with crossover marks.

    ``stats`` rows: mean VO2 and RER per "<group>/<speed>m_min" (n = mice at that speed; the
    speeds drawn, i.e. reached by at least ``min_mice`` mice), the marked VO2max and
    crossover speed per group, and the tests.

    Parameters
    ----------
    timeseries : pandas.DataFrame
        One row per reading: ``group``, ``subject``, ``speed_m_min`` and the plotted columns
        (``vo2_ml_kg_min`` or else ``vo2_ml_h`` for VO2, ``rer``).
    endpoints : pandas.DataFrame
        :func:`sfone.calorimetry.stress_test_endpoints` table (one row per mouse).
    order : sequence of str, default ("control", "silenced")
        Group order.
    vo2_test, rer_test : mapping, optional
        Precomputed group x speed tests of the two panels.
    %(stats_table)s
    min_mice : int, default 1
        Speeds reached by fewer mice are not drawn.
    figure_id : str, default "fig6"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=figsize("double", 66), layout="constrained")
        plot_stress_curve(timeseries, y="vo2", endpoints=endpoints, order=order, test=vo2_test,
                          min_mice=min_mice, legend=False, ax=axes[0])
        plot_stress_curve(timeseries, y="rer", endpoints=endpoints, order=order, test=rer_test,
                          min_mice=min_mice, legend=False, ax=axes[1])
        # one legend for both panels, above them: in a panel it covered the rising curves
        handles, labels = axes[0].get_legend_handles_labels()
        for ax, y in zip(axes, ("vo2", "rer"), strict=True):
            mark = _mark_handle(ax, y)
            if mark is not None:
                handles.append(mark)
                labels.append(_MARK_LABELS[y])
        handles.append(plt.Line2D([], [], color="#777777", ls=":", lw=0.7))
        labels.append("RER = 1")
        fig.legend(handles, labels, loc="outside upper center", ncol=3)
        label_panels(axes)
    if stats is not None:
        for y, result in (("vo2", vo2_test), ("rer", rer_test)):
            column, _ = _y_column(timeseries, y)
            profile = speed_profile(timeseries, column, min_mice=min_mice)
            profile.index = [f"{g}/{s:g}m_min" for g, s in profile.index]
            record_summary(stats, figure_id, column, profile)
            record_test(stats, figure_id, f"{y}_panel_test", "all", result)  # as the caller named it
        for column in ("vo2max", "crossover_speed_m_min"):
            data, quantity = scaled_column(endpoints, column)
            record_summary(stats, figure_id, quantity, group_summary(data, quantity, "group"))
    return fig


@fill_doc
def figure_stress_endpoints(endpoints: pd.DataFrame, *, columns=ENDPOINT_COLUMNS,
                            order=STRESS_GROUPS, tests=None, stats=None,
                            figure_id: str = "fig7"):
    """Figure 7: one panel per endpoint column; ``tests`` maps column -> precomputed result.

    ``stats`` rows: mean per group of each endpoint in its displayed unit (quantity names in
    ``groups.COLUMN_INFO``, e.g. time_to_exhaustion_min) and the tests.

    Parameters
    ----------
    endpoints : pandas.DataFrame
        :func:`sfone.calorimetry.stress_test_endpoints` table (one row per mouse).
    columns : sequence of str, default ENDPOINT_COLUMNS
        One panel per endpoint column.
    order : sequence of str, default ("control", "silenced")
        Group order.
    tests : mapping, optional
        Column -> precomputed test.
    %(stats_table)s
    figure_id : str, default "fig7"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    tests = tests or {}
    with figure_style():
        fig, axes = plt.subplots(1, len(columns), figsize=figsize("double", 55),
                                 layout="constrained", squeeze=False)
        for ax, column in zip(axes[0], columns, strict=True):
            plot_stress_endpoint(endpoints, column, order=order, test=tests.get(column), ax=ax)
    groups = [g for g in order if g in set(endpoints["group"])]
    for column in columns:
        data, quantity = scaled_column(endpoints, column)
        record_summary(stats, figure_id, quantity, group_summary(data, quantity, "group",
                                                                 order=groups))
        record_test(stats, figure_id, COLUMN_INFO.get(column, (column,))[0],
                    "_vs_".join(groups), tests.get(column))
    return fig
