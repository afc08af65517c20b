"""Figures 1 and 4: post-run class proportions per day and per-mouse fraction activated.

Inputs are the classifier output (issue 6): a Dataset over ``roi`` with a ``label`` variable
("activated" | "inhibited" | "unchanged") and a ``day`` (or ``session``) coordinate, or a mapping
``{day: Dataset}``; and a per-mouse table with columns subject, day, n_rois, n_activated, fraction.

Both figures show the mouse-level test (``test``, e.g. ``compare_proportions(...).headline()``)
on the bracket, and a test on pooled ROIs only as secondary text (``secondary``), because pooled
ROIs of a few mice are not independent replicates (``docs/statistics.md``).

Given the per-session fractions (the attrs of each session's labels, issue 27), each figure
gets a second panel: the labelled fractions next to the **estimated** ones (the fraction that
responds whatever the session could detect, with its 95 % interval), with the mouse-level test
on the estimates (``estimate_test``, :func:`sfone.stats.compare_estimated_fractions`). ROIs
labelled ``insufficient data`` were not tested and count in no fraction.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from .._docs import fill_doc
from ..stats import pooled_estimates, wilson_ci
from ._style import (
    CLASS_COLORS,
    CLASS_NAMES,
    CLASS_ORDER,
    MIN_FONT_PT,
    annotate_test,
    as_test_result,
    display_name,
    figsize,
    figure_style,
    label_panels,
    new_axes,
    styled,
    test_label,
)
from ._summary import group_summary, record_counts, record_summary, record_test

__all__ = ["class_counts", "plot_class_proportions", "plot_fraction_activated_paired",
           "plot_estimated_fractions", "figure_class_proportions",
           "figure_fraction_activated_paired"]

#: the directions whose estimated fractions are drawn
DIRECTIONS = ("activated", "inhibited")


def _subjects(ds) -> np.ndarray | None:
    if "subject" in ds.variables and ds["subject"].ndim == 1:
        return np.asarray(ds["subject"].values, dtype=str)
    subject = ds.attrs.get("subject")
    return None if subject is None else np.repeat(str(subject), ds.sizes["roi"])


def _labels_by_group(classes, by: str) -> pd.DataFrame:
    """One row per tested ROI: ``by`` group, label, and subject (None when unknown); ROIs
    labelled ``insufficient data`` were not tested and are left out."""
    from ..classify import INSUFFICIENT_DATA

    if isinstance(classes, Mapping) and not isinstance(classes, xr.Dataset):
        frames = [pd.DataFrame({by: str(key), "label": np.asarray(ds["label"].values, dtype=str),
                                "subject": _subjects(ds)})
                  for key, ds in classes.items()]
        table = pd.concat(frames, ignore_index=True)
    elif by not in classes.coords and by not in classes:
        raise ValueError(f"the classifier output has no '{by}' coordinate over 'roi'; pass a "
                         f"mapping {{{by}: Dataset}} or add the coordinate")
    else:
        table = pd.DataFrame({by: np.asarray(classes[by].values, dtype=str),
                              "label": np.asarray(classes["label"].values, dtype=str),
                              "subject": _subjects(classes)})
    return table[table["label"] != INSUFFICIENT_DATA].reset_index(drop=True)


def _wrapped(result, width: int = 40, *, break_after_colon: bool = False) -> str | None:
    """``test_label`` of a test result wrapped to lines of ``width`` characters."""
    result = as_test_result(result)
    if result is None:
        return None
    # a line break before the n (and after a leading "Secondary, pooled neurons:"); no breaks
    # inside hyphenated words ("chi-square")
    text = test_label(result)
    if break_after_colon:
        text = text.replace(": ", ":\n", 1)
    lines = text.replace(" (n = ", "\n(n = ").split("\n")
    return "\n".join(part for line in lines
                     for part in textwrap.wrap(line, width, break_on_hyphens=False))


def _secondary_text(ax, secondary, *, x: float, y: float, ha: str = "left") -> None:
    """The pooled-ROI test as small grey text, labelled secondary (nothing if None)."""
    if as_test_result(secondary) is None:
        return
    ax.text(x, y, _wrapped(secondary, 32, break_after_colon=True), transform=ax.transAxes,
            ha=ha, va="top", fontsize=MIN_FONT_PT, color="#555555", clip_on=False)


def class_counts(classes, *, by: str = "day", order=None) -> pd.DataFrame:
    """ROI counts per class (columns in :data:`CLASS_ORDER`) and per ``by`` group (rows).

    Parameters
    ----------
    classes : xarray.Dataset or mapping
        Classifier Dataset with a ``by`` coordinate over ``roi``, or ``{group: Dataset}``.
    by : str, default "day"
        Coordinate (or mapping key) that defines the rows.
    order : sequence of str, optional
        Row order; default sorted group names.

    Returns
    -------
    pandas.DataFrame
        Integer counts of the tested ROIs (``insufficient data`` left out), index the groups,
        columns in :data:`CLASS_ORDER`.

    Raises
    ------
    ValueError
        On labels outside the three classes, or an ``order`` naming a missing group.
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
@fill_doc
def plot_class_proportions(classes, *, by: str = "day", order=None, test=None, secondary=None,
                           show_percent: bool = True, ax=None):
    """Stacked bars of the fraction of ROIs per post-run class, one bar per day.

    Parameters
    ----------
    classes : xarray.Dataset or mapping {day: Dataset}
        Classifier output over ``roi`` with ``label`` (and a ``by`` coordinate if one Dataset);
        a ``subject`` coordinate (or attr) adds the number of mice to the tick labels.
    by : str
        Coordinate that defines the bars (``"day"`` or ``"session"``).
    order : sequence of str, optional
        Bar order (default: sorted group names).
    test : mapping, optional
        The headline (mouse-level) test ``{"test", "statistic", "p_value"}``, on the bracket.
    secondary : mapping, optional
        A pooled-ROI test, written small under the legend as secondary.
    show_percent : bool
        Write the percentage inside segments tall enough to hold it.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        Bars are ``ax.containers`` in :data:`CLASS_ORDER`; tick labels carry n mice and n ROIs.
    """
    counts = class_counts(classes, by=by, order=order)
    fractions = counts.div(counts.sum(axis=1), axis=0)
    table = _labels_by_group(classes, by)
    mice = table.dropna(subset=["subject"]).groupby(by)["subject"].nunique()
    ax = new_axes(ax, figsize(75, 62))
    x = np.arange(len(fractions))
    bottom = np.zeros(len(fractions))
    for cls in CLASS_ORDER:
        heights = fractions[cls].to_numpy()
        bars = ax.bar(x, heights, bottom=bottom, width=0.7, color=CLASS_COLORS[cls],
                      label=display_name(cls), edgecolor="white", linewidth=0.5)
        if show_percent:
            labels = [f"{h:.1%}" if h >= 0.07 else "" for h in heights]
            text_color = "black" if cls == "unchanged" else "white"
            ax.bar_label(bars, labels=labels, label_type="center", fontsize=MIN_FONT_PT,
                         color=text_color)
        bottom += heights
    ticks = []
    for group, n in counts.sum(axis=1).items():
        n_mice = f"{int(mice[group])} mice\n" if group in mice.index else "n = "
        ticks.append(f"{display_name(group)}\n{n_mice}{n} ROIs")
    ax.set_xticks(x, ticks)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylim(0, 1)
    ax.set_ylabel("Fraction of ROIs")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0),
              title="Post-run class")
    if len(x) > 1:
        annotate_test(ax, test, x0=0, x1=len(x) - 1, y=1.03, text=_wrapped(test))
    _secondary_text(ax, secondary, x=1.03, y=0.45)
    return ax


def _mouse_offsets(subjects, spread: float = 0.24) -> dict:
    """A fixed horizontal offset per subject (sorted), spread over ``spread`` x units."""
    names = sorted(map(str, subjects))
    if len(names) == 1:
        return {names[0]: 0.0}
    return dict(zip(names, np.linspace(-spread / 2, spread / 2, len(names)), strict=True))


@styled
@fill_doc
def plot_fraction_activated_paired(fractions: pd.DataFrame, *, order=("day1", "day8"),
                                   test=None, secondary=None, value: str = "fraction",
                                   interval=None, ylabel: str | None = None,
                                   top: float | None = None, ax=None):
    """Per-mouse fraction of post-run activated ROIs, paired lines between days.

    Every mouse is drawn with its own small horizontal offset (open markers), so mice with equal
    fractions stay visible.

    Parameters
    ----------
    fractions : DataFrame
        Columns ``subject``, ``day`` and ``value`` (0-1; ``n_rois``, ``n_tested``,
        ``n_activated`` optional).
    order : sequence of str
        Days on the x axis, left to right.
    test : mapping, optional
        The mouse-level paired test ``{"test", "statistic", "p_value"}``, on the bracket.
    secondary : mapping, optional
        A pooled-ROI test, written small under the legend as secondary.
    value : str, default "fraction"
        Column drawn (the labelled fraction; ``"fraction_activated_estimate"`` for the
        estimated one).
    interval : tuple of str, optional
        Columns of each mouse-day's interval (e.g. ``("fraction_activated_ci_low",
        "fraction_activated_ci_high")``), drawn as thin grey whiskers (gid "subject_ci").
    ylabel : str, optional
        Y axis label (default: the labelled fraction's).
    top : float, optional
        Top of the y axis (default: the next tenth 0.1 above the highest value, at most 1).
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        One grey line per subject (``ax.lines`` labelled with the subject, gid "subject"; x =
        day position + the subject's offset), then the mean +- SEM per day (errorbar, gid
        "mean"). Tick labels carry n mice (and n ROIs: ``n_tested`` when given, else
        ``n_rois``).
    """
    wide = fractions.pivot(index="subject", columns="day", values=value)
    wide = wide.reindex(columns=list(order))
    ax = new_axes(ax, figsize(70, 60))
    x = np.arange(len(order))
    offsets = _mouse_offsets(wide.index)
    mouse_style = dict(color="#7A7A7A", lw=0.7, marker="o", ms=3.0, mfc="white", mew=0.7)
    highest = wide.to_numpy(dtype=float)
    ci_handle = None
    if interval is not None:
        low = fractions.pivot(index="subject", columns="day", values=interval[0])
        high = fractions.pivot(index="subject", columns="day", values=interval[1])
        low, high = low.reindex(index=wide.index, columns=list(order)), high.reindex(
            index=wide.index, columns=list(order))
        highest = high.to_numpy(dtype=float)
        for subject, row in wide.iterrows():
            mid = row.to_numpy(dtype=float)
            err = np.vstack([mid - low.loc[subject].to_numpy(dtype=float),
                             high.loc[subject].to_numpy(dtype=float) - mid])
            container = ax.errorbar(x + offsets[str(subject)], mid, yerr=np.clip(err, 0, None),
                                    fmt="none", ecolor="#B0B0B0", elinewidth=0.6, capsize=0,
                                    zorder=1, label="_ci")
            for line in container.lines[2]:
                line.set_gid("subject_ci")
            ci_handle = ci_handle or container
    for subject, row in wide.iterrows():
        line, = ax.plot(x + offsets[str(subject)], row.to_numpy(dtype=float), label=str(subject),
                        zorder=2, **mouse_style)
        line.set_gid("subject")
    summary = group_summary(fractions, value, "day", order=order).reindex(list(order))
    side = np.where(x < (len(order) - 1) / 2, -0.3, 0.3)
    mean_handle = None
    for i, (_, row) in enumerate(summary.iterrows()):
        # the mean is a thin horizontal line, not a filled marker: a small SEM stays visible
        # as the whisker and caps above and below it instead of hiding under the marker
        container = ax.errorbar(i + side[i], row["mean"], yerr=row["sem"], fmt="_", ms=9,
                                mew=0.8, capsize=3, capthick=0.6, elinewidth=0.6,
                                color="black", zorder=3, label="_mean")
        container.lines[0].set_gid("mean")
        mean_handle = mean_handle or container
    n_mice = wide.notna().sum()
    count = "n_tested" if "n_tested" in fractions else "n_rois"
    rois = fractions.groupby("day")[count].sum() if count in fractions else None
    ticks = []
    for d in order:
        extra = f"\n{int(rois[d])} ROIs" if rois is not None and d in rois.index else ""
        ticks.append(f"{display_name(d)}\n{n_mice[d]} mice{extra}")
    ax.set_xticks(x, ticks)
    ax.set_xlim(-0.55, len(order) - 0.45)
    if top is None:
        # from 0 to the next tenth 0.1 above the highest mouse (at most 1), so the SEM is drawn
        # on as tall a scale as the data allow
        top = _top(highest)
    ax.set_ylim(0, top)
    ax.set_ylabel(ylabel or "Fraction of ROIs activated\nafter the run")
    subject_lines = [line for line in ax.lines if line.get_gid() == "subject"]
    handles = subject_lines[:1] + ([mean_handle] if mean_handle is not None else [])
    labels = [f"One mouse (n = {len(wide)})", "Mean ± SEM"][:len(handles)]
    if ci_handle is not None:
        handles.append(ci_handle)
        labels.append("A mouse's 95 % CI")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if len(order) > 1:
        annotate_test(ax, test, x0=0, x1=len(order) - 1, y=1.03, text=_wrapped(test))
    _secondary_text(ax, secondary, x=1.03, y=0.62)
    return ax


def _top(values) -> float:
    """The next tenth 0.1 above the highest finite value (at most 1; 0.9 without values)."""
    values = np.asarray(values, dtype=float)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.8
    return min(1.0, np.ceil(10 * (top + 0.1) - 1e-9) / 10)


@styled
@fill_doc
def plot_estimated_fractions(sessions: pd.DataFrame, *, by: str = "day", order=("day1", "day8"),
                             test=None, ax=None):
    """Labelled (bars) and estimated (diamonds, 95 % interval) fractions of activated and of
    inhibited ROIs per day, each day's sessions pooled (:func:`sfone.stats.pooled_estimates`).

    Parameters
    ----------
    sessions : pandas.DataFrame
        One row per session: ``by``, ``subject``, ``n_tested`` and the
        ``fraction_<direction>_{labelled,estimate,ci_low,ci_high}`` columns (the attrs of
        its labels).
    by : str, default "day"
        Column of the days.
    order : sequence of str, default ("day1", "day8")
        Days, left to right.
    test : mapping, optional
        The mouse-level test on the estimated activated fractions, on a bracket over the
        activated diamonds.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        Bars (``ax.containers``: activated then inhibited labelled fractions), the estimates
        as errorbars whose marker line has gid "estimate"; tick labels carry n mice and n
        tested ROIs.
    """
    pooled = pooled_estimates(sessions, by=by, order=order)
    ax = new_axes(ax, figsize(75, 62))
    x = np.arange(len(order))
    width = 0.36
    estimate_handle, highest = None, [0.0]
    positions = {}
    for k, direction in enumerate(DIRECTIONS):
        part = pooled[pooled["direction"] == direction].set_index("group").reindex(
            [str(o) for o in order])
        xs = x + (k - 0.5) * width
        positions[direction] = xs
        ax.bar(xs, part["labelled"].to_numpy(float), width * 0.9, color=CLASS_COLORS[direction],
               label=f"{CLASS_NAMES[direction]}, labelled", edgecolor="white", linewidth=0.5)
        est = part["estimate"].to_numpy(float)
        err = np.clip(np.vstack([est - part["ci_low"].to_numpy(float),
                                 part["ci_high"].to_numpy(float) - est]), 0, None)
        container = ax.errorbar(xs, est, yerr=err, fmt="D", ms=3.5, mfc="white", mec="black",
                                mew=0.7, ecolor="black", elinewidth=0.7, capsize=2,
                                capthick=0.6, zorder=3, label="_estimate")
        container.lines[0].set_gid("estimate")
        estimate_handle = estimate_handle or container
        highest += list(part["ci_high"].to_numpy(float)) + list(part["labelled"].to_numpy(float))
    first = pooled.drop_duplicates("group").set_index("group")
    ticks = [f"{display_name(d)}\n{int(first.loc[str(d), 'n_mice'])} mice\n"
             f"{int(first.loc[str(d), 'n_tested'])} ROIs" for d in order]
    ax.set_xticks(x, ticks)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylim(0, _top(highest))
    ax.set_ylabel("Fraction of tested ROIs")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(estimate_handle)
    labels.append("Estimated\n(95 % CI)")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if len(x) > 1:
        xs = positions["activated"]
        annotate_test(ax, test, x0=xs[0], x1=xs[-1], y=1.03, text=_wrapped(test))
    return ax


@fill_doc
def figure_class_proportions(classes, *, by: str = "day", order=("day1", "day8"), test=None,
                             secondary=None, estimates=None, estimate_test=None, stats=None,
                             figure_id: str = "fig1"):
    """Figure 1: class proportions per day; records fractions (with Wilson 95 % CI) and the tests.

    ``test`` is the mouse-level test, ``secondary`` a pooled-ROI one (both optional).
    ``stats`` rows: ``fraction_<class>`` per day (n = tested ROIs), ``fraction_activated_mouse_
    level`` with ``test`` and ``class_proportions`` with ``secondary`` (the pooled 2 x 3
    chi-square); ``n_rois`` and ``n_mice`` per group and over all (the counts the ticks state).
    With ``estimates`` a panel (b) draws the labelled and the estimated fractions of activated
    and inhibited ROIs (:func:`plot_estimated_fractions`) and adds the rows
    ``fraction_<direction>_estimate`` per day (its 95 % interval, n = tested ROIs) and
    ``fraction_activated_estimate_mouse_level`` with ``estimate_test``.

    Parameters
    ----------
    classes : xarray.Dataset or mapping
        Classifier output (see :func:`plot_class_proportions`).
    by : str, default "day"
        Coordinate that defines the bars.
    order : sequence of str, default ("day1", "day8")
        Bar order.
    test : mapping, optional
        Mouse-level test ``{"test", "statistic", "p_value"}``.
    secondary : mapping, optional
        Pooled-ROI test.
    estimates : pandas.DataFrame, optional
        One row per session with the fraction attrs of its labels (see
        :func:`plot_estimated_fractions`).
    estimate_test : mapping, optional
        Mouse-level test on the estimated activated fractions.
    %(stats_table)s
    figure_id : str, default "fig1"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        if estimates is None:
            fig, ax = plt.subplots(figsize=figsize("single", 62), layout="constrained")
        else:
            fig, (ax, right) = plt.subplots(1, 2, figsize=figsize("double", 70),
                                            layout="constrained")
        fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02)
        plot_class_proportions(classes, by=by, order=order, test=test, secondary=secondary,
                               ax=ax)
        if estimates is not None:
            plot_estimated_fractions(estimates, by=by, order=order, test=estimate_test,
                                     ax=right)
            label_panels([ax, right])
    counts = class_counts(classes, by=by, order=order)
    if stats is not None:
        totals = counts.sum(axis=1)
        for cls in CLASS_ORDER:
            low, high = wilson_ci(counts[cls].to_numpy(), totals.to_numpy())
            for i, group in enumerate(counts.index):
                stats.add(figure_id, f"fraction_{cls}", group, counts[cls].iloc[i] / totals.iloc[i],
                          n=totals.iloc[i], ci_low=low[i], ci_high=high[i])
        group = "_vs_".join(counts.index)
        record_test(stats, figure_id, "fraction_activated_mouse_level", group, test)
        record_test(stats, figure_id, "class_proportions", group, secondary)
        record_counts(stats, figure_id, _labels_by_group(classes, by), by)
        if estimates is not None:
            for row in pooled_estimates(estimates, by=by, order=order).itertuples():
                stats.add(figure_id, f"fraction_{row.direction}_estimate", row.group,
                          row.estimate, n=row.n_tested, ci_low=row.ci_low, ci_high=row.ci_high)
            record_test(stats, figure_id, "fraction_activated_estimate_mouse_level", group,
                        estimate_test)
    return fig


@fill_doc
def figure_fraction_activated_paired(fractions: pd.DataFrame, *, order=("day1", "day8"),
                                     test=None, secondary=None, estimate_test=None, stats=None,
                                     figure_id: str = "fig4"):
    """Figure 4: per-mouse fraction activated; records the mean per day (n = mice) and the test.

    ``secondary`` (a pooled-ROI test) is drawn as secondary text and not recorded again (figure
    1 records it); ``n_mice`` and ``n_rois`` rows per day and over all days give the counts the
    panel states. When ``fractions`` has the estimated fractions (``fraction_activated_
    estimate``, ``_ci_low``, ``_ci_high``: the attrs of each session's labels), panel (b) draws
    them per mouse with each one's 95 % interval, on the y scale of panel (a), with
    ``estimate_test`` on its bracket; rows ``fraction_activated_estimate_per_mouse_mean`` per
    day, ``fraction_activated_estimate_per_mouse`` (the test) and, per session
    (``<subject>/<day>``), ``fraction_activated`` and ``fraction_activated_estimate`` (with its
    interval; n = tested ROIs).

    Parameters
    ----------
    fractions : pandas.DataFrame
        Columns ``subject``, ``day``, ``fraction`` (see :func:`plot_fraction_activated_paired`).
    order : sequence of str, default ("day1", "day8")
        Days, left to right.
    test : mapping, optional
        Mouse-level paired test.
    secondary : mapping, optional
        Pooled-ROI test (drawn, not recorded).
    estimate_test : mapping, optional
        Mouse-level test on the estimated fractions (panel b).
    %(stats_table)s
    figure_id : str, default "fig4"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    estimated = "fraction_activated_estimate" in fractions
    interval = ("fraction_activated_ci_low", "fraction_activated_ci_high")
    with figure_style():
        if not estimated:
            fig, ax = plt.subplots(figsize=figsize(80, 62), layout="constrained")
            plot_fraction_activated_paired(fractions, order=order, test=test,
                                           secondary=secondary, ax=ax)
        else:
            fig, (ax, right) = plt.subplots(1, 2, figsize=figsize("double", 70),
                                            layout="constrained")
            top = _top(np.r_[fractions["fraction"].to_numpy(float),
                             fractions[interval[1]].to_numpy(float)])
            plot_fraction_activated_paired(fractions, order=order, test=test,
                                           secondary=secondary, top=top, ax=ax)
            plot_fraction_activated_paired(
                fractions, order=order, test=estimate_test, value="fraction_activated_estimate",
                interval=interval, top=top,
                ylabel="Estimated fraction of ROIs\nactivated after the run", ax=right)
            label_panels([ax, right])
    summary = group_summary(fractions, "fraction", "day", order=order)
    record_summary(stats, figure_id, "fraction_activated_per_mouse_mean", summary)
    record_test(stats, figure_id, "fraction_activated_per_mouse", "_vs_".join(order), test)
    if estimated and stats is not None:
        summary = group_summary(fractions, "fraction_activated_estimate", "day", order=order)
        record_summary(stats, figure_id, "fraction_activated_estimate_per_mouse_mean", summary)
        record_test(stats, figure_id, "fraction_activated_estimate_per_mouse",
                    "_vs_".join(order), estimate_test)
        count = "n_tested" if "n_tested" in fractions else "n_rois"
        for row in fractions.itertuples():
            name, n = f"{row.subject}/{row.day}", getattr(row, count, None)
            stats.add(figure_id, "fraction_activated", name, row.fraction, n=n)
            stats.add(figure_id, "fraction_activated_estimate", name,
                      row.fraction_activated_estimate, n=n,
                      ci_low=row.fraction_activated_ci_low, ci_high=row.fraction_activated_ci_high)
    _record_session_counts(stats, figure_id, fractions, order)
    return fig


def _record_session_counts(stats, figure_id, fractions: pd.DataFrame, order) -> None:
    """``n_mice`` and ``n_rois`` (the tested ROIs: ``n_tested`` when given, else ``n_rois``)
    per day and over all days."""
    if stats is None:
        return
    count = "n_tested" if "n_tested" in fractions else "n_rois"
    days = [(str(d), fractions[fractions["day"] == d]) for d in order] + [("all", fractions)]
    for day, part in days:
        stats.add(figure_id, "n_mice", day, part["subject"].nunique(),
                  n=part["subject"].nunique())
        if count in part:
            stats.add(figure_id, "n_rois", day, int(part[count].sum()),
                      n=int(part[count].sum()))
