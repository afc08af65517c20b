"""Photometry panels: post-run traces per group and each mouse's post-run response.

Inputs are those of the imaging figures with one "ROI" per photometry channel (the dF/F of a
session's signal): peri-run traces over ``(roi, trial, lag)`` (``lag`` in s from the run end,
z-scores of dF/F against the pre-run baseline) and the classifier output over ``roi``
(``label``, ``effect``) with ``subject`` and the grouping coordinate (``group`` or ``day``).
Mice are the unit: a mouse's sessions (or channels) of one group are averaged first, so every
mean and SEM is across mice.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from .._docs import fill_doc
from ._style import (
    CLASS_COLORS,
    CLASS_ORDER,
    annotate_test,
    as_test_result,
    color_for,
    display_name,
    figsize,
    figure_style,
    label_with_n,
    mean_sem,
    new_axes,
    short_test_label,
    styled,
)
from ._summary import group_summary, record_test
from .perirun import ZSCORE_LABEL, mark_segments

__all__ = ["mouse_traces", "mouse_responses", "plot_photometry_traces",
           "plot_photometry_responses", "figure_photometry_traces",
           "figure_photometry_responses"]

_TIME_SCALE = {"s": 1.0, "min": 60.0}


def _levels(values, order) -> list:
    present = list(dict.fromkeys(np.asarray(values, dtype=str)))
    if order is None:
        return present
    return [str(o) for o in order if str(o) in present]


def mouse_traces(traces: xr.DataArray, *, by: str = "group", order=None) -> dict:
    """Each mouse's trial-averaged peri-run trace, per value of ``by``.

    Parameters
    ----------
    traces : xarray.DataArray
        ``(roi, trial, lag)`` z-scores with ``subject`` and ``by`` coordinates over ``roi``.
    by : str, default "group"
        Grouping coordinate (``"group"`` or ``"day"``).
    order : sequence of str, optional
        Groups to keep, in order; default all, in order of appearance.

    Returns
    -------
    dict of str to pandas.DataFrame
        Group -> one row per mouse (index: subject), one column per lag (s from run end):
        the mean over the mouse's channels and runs.
    """
    mean = traces.mean("trial", skipna=True) if "trial" in traces.dims else traces
    mean = mean.transpose("roi", "lag")
    table = pd.DataFrame(np.asarray(mean.values, dtype=float),
                         columns=np.asarray(mean["lag"].values, dtype=float))
    table["subject"] = np.asarray(mean["subject"].values, dtype=str)
    table["level"] = np.asarray(mean[by].values, dtype=str)
    out = {}
    for level in _levels(table["level"], order):
        part = table[table["level"] == level].drop(columns="level")
        out[level] = part.groupby("subject", sort=False).mean()
    return out


def mouse_responses(classes: xr.Dataset, *, by: str = "group", order=None) -> pd.DataFrame:
    """Each mouse's post-run response (mean ``effect`` of its channels) and label, per group.

    Parameters
    ----------
    classes : xarray.Dataset
        Classifier output over ``roi`` (``label``, ``effect``) with ``subject`` and ``by``.
    by : str, default "group"
        Grouping coordinate.
    order : sequence of str, optional
        Groups to keep, in order.

    Returns
    -------
    pandas.DataFrame
        Columns ``by``, ``subject``, ``effect`` (z), ``n_channels`` and ``label`` (the
        channel's label; ``"mixed"`` when a mouse's channels disagree).
    """
    table = pd.DataFrame({by: np.asarray(classes[by].values, dtype=str),
                          "subject": np.asarray(classes["subject"].values, dtype=str),
                          "effect": np.asarray(classes["effect"].values, dtype=float),
                          "label": np.asarray(classes["label"].values, dtype=str)})
    levels = _levels(table[by], order)
    table = table[table[by].isin(levels)]
    rows = []
    for (level, subject), part in table.groupby([by, "subject"], sort=False):
        labels = set(part["label"])
        rows.append({by: level, "subject": subject, "effect": float(part["effect"].mean()),
                     "n_channels": len(part),
                     "label": labels.pop() if len(labels) == 1 else "mixed"})
    out = pd.DataFrame(rows, columns=[by, "subject", "effect", "n_channels", "label"])
    out[by] = pd.Categorical(out[by], categories=levels, ordered=True)
    return out.sort_values([by, "subject"], kind="stable").reset_index(drop=True)


@styled
@fill_doc
def plot_photometry_traces(traces: xr.DataArray, *, by: str = "group", order=None,
                           segments=None, time_unit: str = "min", ax=None):
    """Mean +- SEM across mice of the peri-run photometry trace, one line per group.

    Parameters
    ----------
    traces : xarray.DataArray
        ``(roi, trial, lag)`` z-scored dF/F (``lag`` in s from run end) with ``subject`` and
        ``by`` coordinates over ``roi``.
    by : str, default "group"
        Grouping coordinate.
    order : sequence of str, optional
        Groups, in order.
    segments : mapping, optional
        ``{"baseline": (start, end), "run": (start, end)}`` in s from run end, shaded.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        One line per group (gid ``"group:<name>"``, label with n mice) and its SEM band
        (same gid); a group of one mouse has no band.
    """
    ax = new_axes(ax, figsize(70, 50))
    for i, (level, table) in enumerate(mouse_traces(traces, by=by, order=order).items()):
        lag = np.asarray(table.columns, dtype=float) / _TIME_SCALE[time_unit]
        avg, sem, _ = mean_sem(table.to_numpy(dtype=float), axis=0)
        color = color_for(level, i)
        ax.plot(lag, avg, color=color, label=label_with_n(level, len(table), "mice"),
                gid=f"group:{level}")
        band = ax.fill_between(lag, avg - np.nan_to_num(sem), avg + np.nan_to_num(sem),
                               color=color, alpha=0.25, lw=0)
        band.set_gid(f"group:{level}")
    ax.axvline(0, color="black", ls="--", lw=0.6)
    ax.axhline(0, color="#BBBBBB", lw=0.5, zorder=0)
    mark_segments(ax, segments, time_unit=time_unit)
    ax.set_xlabel(f"Time from run end ({time_unit})")
    ax.set_ylabel(f"dF/F, {ZSCORE_LABEL}\n(mean ± SEM across mice)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


@styled
@fill_doc
def plot_photometry_responses(responses: pd.DataFrame, *, by: str = "group", order=None,
                              test=None, ax=None):
    """One point per mouse (coloured by its post-run label) per group, with mean +- SEM.

    Parameters
    ----------
    responses : pandas.DataFrame
        :func:`mouse_responses` output.
    by : str, default "group"
        Grouping column.
    order : sequence of str, optional
        Groups, in order.
    test : mapping, optional
        Precomputed ``{"test", "statistic", "p_value"}`` of the first two groups: a bracket.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        Points per group (gid ``"points:<group>"``), mean markers (gid ``"mean:<group>"``),
        grey lines joining a mouse's groups (gid ``"mouse:<subject>"``); tick labels carry n
        mice.
    """
    levels = _levels(responses[by].astype(str), order)
    ax = new_axes(ax, figsize(55, 55))
    x_of = {level: i for i, level in enumerate(levels)}
    table = responses.assign(x=responses[by].astype(str).map(x_of)).dropna(subset=["x"])
    for subject, part in table.groupby("subject", sort=False):
        if len(part) > 1:
            line, = ax.plot(part["x"] + 0.1, part["effect"], color="#BBBBBB", lw=0.6, zorder=1)
            line.set_gid(f"mouse:{subject}")
    summary = group_summary(table.assign(level=table[by].astype(str)), "effect", "level",
                            order=levels)
    colours = {**CLASS_COLORS, "unchanged": "#777777", "mixed": "#CCCCCC"}
    for i, level in enumerate(levels):
        part = table[table[by].astype(str) == level]
        points = ax.scatter(part["x"] + 0.1, part["effect"], s=12, zorder=2, linewidths=0.4,
                            edgecolors="black", c=[colours.get(lab, "#777777")
                                                   for lab in part["label"]])
        points.set_gid(f"points:{level}")
        if level in summary.index:
            row = summary.loc[level]
            bar = ax.errorbar(i - 0.17, row["mean"], yerr=np.nan_to_num(row["sem"]), fmt="_",
                              ms=10, mew=1.2, capsize=2.5, color="black", lw=1.0, zorder=3)
            bar.lines[0].set_gid(f"mean:{level}")
    for label in [c for c in CLASS_ORDER if c in set(table["label"])] + (
            ["mixed"] if "mixed" in set(table["label"]) else []):
        ax.scatter([], [], s=12, c=colours[label], edgecolors="black", linewidths=0.4,
                   label=display_name(label))
    ax.axhline(0, color="#BBBBBB", lw=0.5, zorder=0)
    ax.set_xticks(range(len(levels)),
                  [f"{display_name(g, short=True)}\n(n = {int((table[by].astype(str) == g).sum())}"
                   " mice)" for g in levels])
    ax.set_xlim(-0.6, len(levels) - 0.4)
    ax.set_ylabel("Post-run response (z, classifier effect)")
    ax.legend(title="Post-run label", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    result = as_test_result(test)
    if len(levels) >= 2 and result is not None:
        annotate_test(ax, result, x0=0, x1=1, y=1.03, text=short_test_label(result))
    return ax


def _post_means(traces, by, order, window) -> pd.DataFrame:
    rows = []
    for level, table in mouse_traces(traces, by=by, order=order).items():
        lag = np.asarray(table.columns, dtype=float)
        post = table.loc[:, (lag >= window[0]) & (lag <= window[1])]
        for subject, value in post.mean(axis=1).items():
            rows.append({"level": level, "subject": subject, "z": float(value)})
    return pd.DataFrame(rows, columns=["level", "subject", "z"])


@fill_doc
def figure_photometry_traces(traces, *, by: str = "group", order=None, segments=None,
                             post_window_s=(0.0, np.inf), time_unit: str = "min", stats=None,
                             figure_id: str = "fig12"):
    """Photometry: mean +- SEM across mice of the peri-run trace per group.

    ``stats`` rows: ``n_mice`` per group and ``mean_postrun_z`` per group (the mean over mice
    of each mouse's mean z over ``post_window_s``; n = mice, 95 % t CI).

    Parameters
    ----------
    traces : xarray.DataArray
        ``(roi, trial, lag)`` z-scored dF/F with ``subject`` and ``by`` over ``roi``.
    by : str, default "group"
        Grouping coordinate.
    order : sequence of str, optional
        Groups, in order.
    segments : mapping, optional
        ``{"baseline": (start, end), "run": (start, end)}`` in s from run end.
    post_window_s : (float, float), default (0.0, inf)
        Lags (s from run end) averaged for ``mean_postrun_z``.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis.
    %(stats_table)s
    figure_id : str, default "fig12"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        fig, ax = plt.subplots(figsize=figsize("1.5", 60), layout="constrained")
        plot_photometry_traces(traces, by=by, order=order, segments=segments,
                               time_unit=time_unit, ax=ax)
    if stats is not None:
        means = _post_means(traces, by, order, post_window_s)
        for level, row in group_summary(means, "z", "level", order=_levels(
                means["level"], order)).iterrows():
            stats.add(figure_id, "n_mice", level, row["n"], n=row["n"])
            stats.add(figure_id, "mean_postrun_z", level, row["mean"], n=row["n"],
                      ci_low=row["ci_low"], ci_high=row["ci_high"])
    return fig


@fill_doc
def figure_photometry_responses(responses: pd.DataFrame, *, by: str = "group", order=None,
                                test=None, stats=None, figure_id: str = "fig13"):
    """Photometry: each mouse's post-run response, per group, with the mouse-level test.

    ``stats`` rows: ``postrun_effect`` per mouse (group ``<group>/<subject>``), its mean over
    mice per group (n = mice, 95 % t CI), ``n_activated_mice`` per group, and the test (n = the
    mice compared).

    Parameters
    ----------
    responses : pandas.DataFrame
        :func:`mouse_responses` output.
    by : str, default "group"
        Grouping column.
    order : sequence of str, optional
        Groups, in order.
    test : mapping, optional
        Precomputed comparison of the first two groups.
    %(stats_table)s
    figure_id : str, default "fig13"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    levels = _levels(responses[by].astype(str), order)
    with figure_style():
        fig, ax = plt.subplots(figsize=figsize(90, 60), layout="constrained")
        plot_photometry_responses(responses, by=by, order=levels, test=test, ax=ax)
    if stats is not None:
        table = responses.assign(level=responses[by].astype(str))
        for row in table.itertuples():
            stats.add(figure_id, "postrun_effect", f"{row.level}/{row.subject}", row.effect,
                      n=row.n_channels)
        for level, row in group_summary(table, "effect", "level", order=levels).iterrows():
            stats.add(figure_id, "postrun_effect_mouse_mean", level, row["mean"], n=row["n"],
                      ci_low=row["ci_low"], ci_high=row["ci_high"])
            part = table[table["level"] == level]
            stats.add(figure_id, "n_activated_mice", level,
                      int((part["label"] == "activated").sum()), n=len(part))
        if len(levels) >= 2:
            compared = table[table["level"].isin(levels[:2]) & np.isfinite(table["effect"])]
            n_mice = test.get("n_mice") if hasattr(test, "get") else None
            record_test(stats, figure_id, "postrun_effect", "_vs_".join(levels[:2]), test,
                        n=int(len(compared) if n_mice is None else n_mice))  # mice compared
    return fig
