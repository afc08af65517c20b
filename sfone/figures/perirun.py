"""Figures 2 and 3: peri-run heatmaps and mean +- SEM traces per post-run class.

Inputs: peri-run traces, a DataArray over (roi, trial, lag) with ``lag`` in seconds from the run
end and values in z-score units; and the classifier output over ``roi`` (``label``, ``effect``),
with the same ``roi`` values. Several days are given as mappings ``{day: ...}`` or as one object
with a ``day`` coordinate over ``roi``.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .._docs import fill_doc
from ._style import (
    CLASS_COLORS,
    CLASS_ORDER,
    MIN_FONT_PT,
    annotate_corner,
    display_name,
    figsize,
    figure_style,
    label_with_n,
    mean_sem,
    new_axes,
    styled,
)
from ._summary import group_summary, record_counts, record_test

__all__ = ["HEATMAP_CLASS_ORDER", "ZSCORE_LABEL", "mark_segments", "sort_by_class", "plot_perirun_heatmap", "plot_class_traces",
           "figure_perirun_heatmaps", "figure_class_traces", "select_group"]

#: Heatmap rows top to bottom: activated, no change, inhibited (each by decreasing effect).
HEATMAP_CLASS_ORDER = ("activated", "unchanged", "inhibited")
_TIME_SCALE = {"s": 1.0, "min": 60.0}


def select_group(data, key, by: str = "day"):
    """The part of ``data`` for one day: ``data[key]`` for a mapping, else ROIs with ``by == key``.

    Parameters
    ----------
    data : mapping, xarray.Dataset or xarray.DataArray
        ``{day: ...}`` or data with a ``by`` coordinate over ``roi``.
    key : str
        The day.
    by : str, default "day"
        Coordinate compared with ``key``.

    Returns
    -------
    object
        ``data[key]``, or the ROIs of ``data`` whose ``by`` equals ``key``.
    """
    if isinstance(data, Mapping) and not isinstance(data, xr.Dataset):
        return data[key]
    return data.isel(roi=np.flatnonzero(np.asarray(data[by].values, dtype=str) == str(key)))


def _trial_mean(traces: xr.DataArray) -> xr.DataArray:
    missing = {"roi", "lag"} - set(traces.dims)
    if missing:
        raise ValueError(f"peri-run traces need dims (roi, trial, lag); missing {sorted(missing)}")
    return traces.mean("trial", skipna=True) if "trial" in traces.dims else traces


def _aligned_classes(traces: xr.DataArray, classes: xr.Dataset) -> xr.Dataset:
    rois = traces["roi"].values
    if classes.sizes["roi"] == rois.size and np.array_equal(classes["roi"].values, rois):
        return classes
    try:
        return classes.sel(roi=rois)
    except KeyError as err:
        raise ValueError(f"the classifier output lacks ROIs of the traces: {err}") from None


ZSCORE_LABEL = "z-score vs pre-run baseline"
#: the segment strip above a peri-run axes: from, to (points above the axes' top); its labels
#: sit 1.5 pt above it, and the title of an axes with a strip clears them at TITLE_PAD_PT
STRIP_PT = (1.5, 6.0)
TITLE_PAD_PT = 18.0


def mark_segments(ax, segments, *, time_unit: str = "min", strip: bool = False,
                  labels: bool = True) -> None:
    """Mark the pre-run baseline (hatched) and the run (grey) on a peri-run time axis.

    ``strip=True`` draws them as a labelled band just above the axes (for heatmaps, where
    shading would hide data); otherwise as shaded spans behind the data. Artists carry gid
    "segment:<name>".

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes with a peri-run time axis.
    segments : mapping or None
        ``{"baseline": (start, end), "run": (start, end)}`` in s from run end; nothing is drawn
        when empty.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis.
    strip : bool, default False
        Draw a band above the axes instead of spans.
    labels : bool, default True
        Name each segment ("baseline", "run").
    """
    if not segments:
        return
    from matplotlib.transforms import Affine2D, ScaledTranslation, blended_transform_factory

    scale = _TIME_SCALE[time_unit]
    style = {"run": {"facecolor": "#BBBBBB", "edgecolor": "none", "alpha": 0.5},
             "baseline": {"facecolor": "none", "edgecolor": "#999999", "hatch": "////",
                          "lw": 0.0}}
    transform = blended_transform_factory(ax.transData, ax.transAxes)
    # the strip: x in data, y in points above the top of the axes (its height and the labels'
    # place do not change with the axes' height, so titles clear them at a fixed pad)
    above = blended_transform_factory(ax.transData, Affine2D().scale(1 / 72)
                                      + ax.figure.dpi_scale_trans
                                      + ScaledTranslation(0, 1, ax.transAxes))
    for name, (start, end) in segments.items():
        x0, x1 = start / scale, end / scale
        if strip:
            patch = plt.Rectangle((x0, STRIP_PT[0]), x1 - x0, STRIP_PT[1] - STRIP_PT[0],
                                  transform=above, clip_on=False,
                                  **{**style[name], "alpha": 1.0})
            ax.add_patch(patch)
            if labels:
                ax.text((x0 + x1) / 2, STRIP_PT[1] + 1.5, name, transform=above,
                        ha="center", va="bottom", fontsize=MIN_FONT_PT)
        else:
            patch = ax.axvspan(x0, x1, zorder=0, **style[name])
            if labels:
                ax.text((x0 + x1) / 2, 0.99, name, transform=transform, ha="center",
                        va="top", fontsize=MIN_FONT_PT, color="#555555")
        patch.set_gid(f"segment:{name}")


def sort_by_class(classes: xr.Dataset, class_order=HEATMAP_CLASS_ORDER) -> np.ndarray:
    """Positions of ROIs sorted by class (``class_order``), then by decreasing ``effect``.

    Parameters
    ----------
    classes : xarray.Dataset
        Classifier output over ``roi`` with ``label`` and ``effect``.
    class_order : sequence of str, default HEATMAP_CLASS_ORDER
        Class order (activated, unchanged, inhibited); other labels go last.

    Returns
    -------
    numpy.ndarray of int
        ROI positions in display order.
    """
    labels = np.asarray(classes["label"].values, dtype=str)
    rank = np.full(labels.size, len(class_order))
    for i, cls in enumerate(class_order):
        rank[labels == cls] = i
    return np.lexsort((-np.asarray(classes["effect"].values, dtype=float), rank))


@styled
@fill_doc
def plot_perirun_heatmap(traces: xr.DataArray, classes: xr.Dataset, *, vmin=None, vmax=None,
                         cmap: str = "RdBu_r", time_unit: str = "min", colorbar: bool = True,
                         segments=None, ax=None):
    """ROI x time heatmap of trial-averaged z around the run end, sorted by class then effect.

    Parameters
    ----------
    traces : DataArray (roi, trial, lag)
        Peri-run z-scores; ``lag`` in s from run end.
    classes : Dataset over roi
        Classifier output with ``label`` and ``effect`` for the same ROIs.
    vmin, vmax : float, optional
        Colour limits in z (default: symmetric 99th percentile of |z|).
    cmap : str, default "RdBu_r"
        Matplotlib colour map.
    time_unit : {"min", "s"}
        Unit of the x axis.
    colorbar : bool, default True
        Draw a colour bar.
    segments : mapping, optional
        {"baseline": (start, end), "run": (start, end)} in s from run end, marked above the map.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0]`` holds the sorted ROI x lag array; y ticks name each class block and its n.
    """
    mean = _trial_mean(traces).transpose("roi", "lag")
    classes = _aligned_classes(mean, classes)
    order = sort_by_class(classes)
    matrix = np.asarray(mean.values, dtype=float)[order]
    if vmax is None:
        vmax = float(np.nanpercentile(np.abs(matrix), 99)) if matrix.size else 1.0
    vmin = -vmax if vmin is None else vmin
    lag = np.asarray(mean["lag"].values, dtype=float) / _TIME_SCALE[time_unit]
    step = np.median(np.diff(lag)) if lag.size > 1 else 1.0
    ax = new_axes(ax, figsize(60, 60))
    image = ax.imshow(matrix, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax,
                      extent=(lag[0] - step / 2, lag[-1] + step / 2, matrix.shape[0], 0),
                      interpolation="nearest", rasterized=True)
    ax.axvline(0, color="black", ls="--", lw=0.6)
    if segments and "run" in segments:
        ax.axvline(segments["run"][0] / _TIME_SCALE[time_unit], color="black", ls=":", lw=0.6)
    mark_segments(ax, segments, time_unit=time_unit, strip=True)
    _label_class_blocks(ax, np.asarray(classes["label"].values, dtype=str)[order])
    ax.set_xlabel(f"Time from run end ({time_unit})")
    ax.set_ylabel("ROIs sorted by class, effect")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=ZSCORE_LABEL, shrink=0.8)
    return ax


def _label_class_blocks(ax, sorted_labels: np.ndarray) -> None:
    ticks, names, colors = [], [], []
    start = 0
    for cls in HEATMAP_CLASS_ORDER:
        n = int(np.sum(sorted_labels == cls))
        if n == 0:
            continue
        ticks.append(start + n / 2)
        names.append(f"{display_name(cls)}\n(n = {n})")
        colors.append(CLASS_COLORS[cls] if cls != "unchanged" else "#555555")
        if start > 0:
            ax.axhline(start, color="black", lw=0.6)
        start += n
    ax.set_yticks(ticks, names)
    ax.tick_params(axis="y", length=0)
    for label, color in zip(ax.get_yticklabels(), colors, strict=True):
        label.set_color(color)


@styled
@fill_doc
def plot_class_traces(traces: xr.DataArray, classes: xr.Dataset, *, time_unit: str = "min",
                      legend: bool = True, segments=None, ax=None):
    """Mean +- SEM (across ROIs) of the trial-averaged peri-run z trace for each class.

    ``segments``: {"baseline": (start, end), "run": (start, end)} in s from run end, shaded
    and named in a band above the axes.

    Parameters
    ----------
    traces : xarray.DataArray
        Peri-run z over ``(roi, trial, lag)`` (``lag`` in s from run end).
    classes : xarray.Dataset
        Classifier output over the same ``roi`` with ``label``.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis.
    legend : bool, default True
        Draw the legend.
    segments : mapping, optional
        ``{"baseline": (start, end), "run": (start, end)}`` in s from run end.
        Shaded behind the traces.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        One line per class (label "<Class> (n = k)", gid the class name) and its SEM band
        (a PolyCollection with the same gid).
    """
    mean = _trial_mean(traces).transpose("roi", "lag")
    classes = _aligned_classes(mean, classes)
    labels = np.asarray(classes["label"].values, dtype=str)
    lag = np.asarray(mean["lag"].values, dtype=float) / _TIME_SCALE[time_unit]
    ax = new_axes(ax, figsize(60, 50))
    for cls in CLASS_ORDER:
        rows = np.asarray(mean.values, dtype=float)[labels == cls]
        if rows.shape[0] == 0:
            continue
        avg, sem, _ = mean_sem(rows, axis=0)
        color = CLASS_COLORS[cls] if cls != "unchanged" else "#777777"
        line, = ax.plot(lag, avg, color=color, label=label_with_n(cls, rows.shape[0]), gid=cls)
        band = ax.fill_between(lag, avg - np.nan_to_num(sem), avg + np.nan_to_num(sem),
                               color=color, alpha=0.25, lw=0)
        band.set_gid(cls)
    ax.axvline(0, color="black", ls="--", lw=0.6)
    ax.axhline(0, color="#BBBBBB", lw=0.5, zorder=0)
    # shaded behind the traces, named in a band above the axes (inside, "baseline" ran into
    # "run" over the hatching)
    mark_segments(ax, segments, time_unit=time_unit, labels=False)
    mark_segments(ax, segments, time_unit=time_unit, strip=True)
    ax.set_xlabel(f"Time from run end ({time_unit})")
    ax.set_ylabel(f"{ZSCORE_LABEL}\n(mean ± SEM across ROIs)")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _shared_limit(matrices) -> float:
    values = np.concatenate([np.abs(np.asarray(m, dtype=float)).ravel() for m in matrices])
    return float(np.nanpercentile(values, 99)) if values.size else 1.0


@fill_doc
def figure_perirun_heatmaps(traces, classes, *, days=("day1", "day8"), by: str = "day",
                            clim: float | None = None, time_unit: str = "min", stats=None,
                            segments=None, figure_id: str = "fig2"):
    """Figure 2: one heatmap per day with ONE symmetric colour scale (``clim``, z) and colourbar.

    ``segments`` marks the baseline and the run (s from run end) above each heatmap.

    ``traces`` and ``classes`` are mappings ``{day: ...}`` or objects with a ``by`` coordinate.
    ``stats`` rows: ``n_rois``, ``n_mice`` and ``n_rois_<class>`` per day (and over all),
    and ``colour_limit_z``.

    Parameters
    ----------
    traces : xarray.DataArray or mapping
        Peri-run z-scored dF/F over ``(roi, trial, lag)`` (``lag`` in s from run end), with a
        ``by`` coordinate over ``roi``, or ``{day: DataArray}``.
    classes : xarray.Dataset or mapping
        Classifier output over ``roi`` (``label``, ``effect``) with a ``by`` coordinate, or
        ``{day: Dataset}``.
    days : sequence of str, default ("day1", "day8")
        One heatmap per day.
    by : str, default "day"
        Day coordinate.
    clim : float, optional
        Symmetric colour limit (z); default the 99th percentile of |z| over all days.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis.
    %(stats_table)s
    segments : mapping, optional
        ``{"baseline": (start, end), "run": (start, end)}`` in s from run end.
        Marked above each heatmap.
    figure_id : str, default "fig2"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    per_day = [(_trial_mean(select_group(traces, d, by)), select_group(classes, d, by))
               for d in days]
    if clim is None:
        clim = _shared_limit(m.values for m, _ in per_day)
    with figure_style():
        fig, axes = plt.subplots(1, len(days), figsize=figsize("double", 62), sharex=True,
                                 layout="constrained", squeeze=False)
        for ax, day, (mean, cls) in zip(axes[0], days, per_day, strict=True):
            plot_perirun_heatmap(mean, cls, vmin=-clim, vmax=clim, time_unit=time_unit,
                                 colorbar=False, segments=segments, ax=ax)
            ax.set_title(display_name(day), pad=TITLE_PAD_PT if segments else 6)
        for ax in axes[0, 1:]:
            ax.set_ylabel("")
        fig.colorbar(axes[0, 0].images[0], ax=axes[0].tolist(), label=ZSCORE_LABEL, shrink=0.8,
                     aspect=25)
    record_counts(stats, figure_id, _roi_table(classes, days, by), by, per_class=True)
    if stats is not None:
        stats.add(figure_id, "colour_limit_z", "all", clim)
    return fig


def _roi_table(classes, days, by: str):
    """One row per ROI of ``days``: the day (column ``by``), ``label`` and ``subject``."""
    import pandas as pd

    frames = []
    for day in days:
        cls = select_group(classes, day, by)
        subject = (np.asarray(cls["subject"].values, dtype=str) if "subject" in cls.variables
                   else None)
        frames.append(pd.DataFrame({by: str(day), "subject": subject,
                                    "label": np.asarray(cls["label"].values, dtype=str)}))
    return pd.concat(frames, ignore_index=True)


@fill_doc
def figure_class_traces(traces, classes, *, days=("day1", "day8"), by: str = "day",
                        post_window_s: tuple[float, float] = (0.0, np.inf),
                        time_unit: str = "min", test=None, stats=None, segments=None,
                        figure_id: str = "fig3"):
    """Figure 3: mean +- SEM trace per class, one panel per day, shared y axis.

    ``segments`` shades the baseline and the run (s from run end).

    ``test``: optional precomputed comparison of the activated ROIs' effect between the days.
    ``stats`` rows: ``mean_postrun_z_<class>`` per day = mean over ROIs of each ROI's trial-mean z
    averaged over lags in ``post_window_s`` (n = ROIs, 95 % t CI); the test; ``n_rois`` and
    ``n_mice`` per day and over all.

    Parameters
    ----------
    traces : xarray.DataArray or mapping
        Peri-run z-scored dF/F over ``(roi, trial, lag)`` (``lag`` in s from run end), with a
        ``by`` coordinate over ``roi``, or ``{day: DataArray}``.
    classes : xarray.Dataset or mapping
        Classifier output over ``roi`` (``label``, ``effect``) with a ``by`` coordinate, or
        ``{day: Dataset}``.
    days : sequence of str, default ("day1", "day8")
        One panel per day.
    by : str, default "day"
        Day coordinate.
    post_window_s : (float, float), default (0.0, inf)
        Lags (s from run end) averaged for the ``mean_postrun_z_<class>`` rows.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis.
    test : mapping, optional
        Precomputed comparison of the activated ROIs' effect between the days.
    %(stats_table)s
    segments : mapping, optional
        ``{"baseline": (start, end), "run": (start, end)}`` in s from run end.
        Shaded in each panel.
    figure_id : str, default "fig3"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        fig, axes = plt.subplots(1, len(days), figsize=figsize("double", 55), sharey=True,
                                 layout="constrained", squeeze=False)
        for i, (ax, day) in enumerate(zip(axes[0], days, strict=True)):
            plot_class_traces(select_group(traces, day, by), select_group(classes, day, by),
                              time_unit=time_unit, segments=segments, ax=ax)
            ax.set_title(display_name(day), pad=TITLE_PAD_PT if segments else 6)
            if i > 0:
                ax.set_ylabel("")
        if len(days) > 1:
            annotate_corner(axes[0, -1], test, x=1.02, y=0.45, sep=",\n",
                            prefix=f"Activated,\n{display_name(days[-1])} vs {display_name(days[0])}:\n")
    _record_postrun_means(stats, figure_id, traces, classes, days, by, post_window_s)
    record_test(stats, figure_id, "mean_postrun_z_activated", "_vs_".join(days), test)
    record_counts(stats, figure_id, _roi_table(classes, days, by), by)
    return fig


def _record_postrun_means(stats, figure_id, traces, classes, days, by, window) -> None:
    """``mean_postrun_z_<class>`` per day over ROIs (n = ROIs) and, with a ``subject``
    coordinate, ``mean_postrun_z_<class>_mouse_mean``: the mean over mice of each mouse's mean
    (n = mice, 95 % t CI), the level at which figure 3's test compares the days."""
    if stats is None:
        return
    import pandas as pd

    for day in days:
        mean = _trial_mean(select_group(traces, day, by))
        cls = _aligned_classes(mean, select_group(classes, day, by))
        lag = mean["lag"].values
        post = mean.isel(lag=np.flatnonzero((lag >= window[0]) & (lag <= window[1])))
        table = pd.DataFrame({"label": np.asarray(cls["label"].values, dtype=str),
                              "z": post.mean("lag").values})
        summary = group_summary(table, "z", "label")
        for label, row in summary.iterrows():
            stats.add(figure_id, f"mean_postrun_z_{label}", day, row["mean"], n=row["n"],
                      ci_low=row["ci_low"], ci_high=row["ci_high"])
        if "subject" not in cls.variables:
            continue
        table["subject"] = np.asarray(cls["subject"].values, dtype=str)
        per_mouse = table.groupby(["label", "subject"], as_index=False)["z"].mean()
        for label, row in group_summary(per_mouse, "z", "label").iterrows():
            stats.add(figure_id, f"mean_postrun_z_{label}_mouse_mean", day, row["mean"],
                      n=row["n"], ci_low=row["ci_low"], ci_high=row["ci_high"])
