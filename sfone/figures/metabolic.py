"""Figure 10: metabolic cage time courses with light/dark shading, and the ANCOVA panel.

Inputs: a calorimetry Dataset over (subject, time) with ``ee`` (kcal/h), ``rer`` ("1"), ``vo2``
(mL/h), coords ``body_mass`` (g) and ``group`` per subject, ``time`` in s from the start; a boolean
``is_dark`` DataArray over ``time``; and an ANCOVA result mapping (see :func:`plot_ancova`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from .._docs import fill_doc
from .._validate import _check_option
from ._style import (
    annotate_corner,
    as_test_result,
    color_for,
    figsize,
    figure_style,
    label_panels,
    label_with_n,
    mean_sem,
    new_axes,
    styled,
)
from ._summary import group_summary, record_summary, record_test

__all__ = ["VARIABLE_LABELS", "dark_intervals", "subject_means", "plot_metabolic_timecourse",
           "plot_ancova", "figure_metabolic"]

VARIABLE_LABELS = {"ee": "EE (kcal/h)", "rer": "RER (VCO$_2$/VO$_2$)", "vo2": "VO$_2$ (mL/h)",
                   "vco2": "VCO$_2$ (mL/h)"}
_QUANTITY = {"ee": "ee_kcal_h", "rer": "rer", "vo2": "vo2_ml_h", "vco2": "vco2_ml_h"}
_TIME_SCALE = {"d": 86400.0, "h": 3600.0}
_TIME_NAME = {"d": "days", "h": "h"}


def dark_intervals(is_dark: xr.DataArray) -> list[tuple[float, float]]:
    """(start, end) times in s of each run of dark samples (end = first light sample or last time).

    Parameters
    ----------
    is_dark : xarray.DataArray
        Boolean over ``time`` (s).

    Returns
    -------
    list of (float, float)
        Dark phases in s; the last one ends one sampling step after the last time.
    """
    time = np.asarray(is_dark["time"].values, dtype=float)
    dark = np.asarray(is_dark.values, dtype=bool)
    edges = np.diff(np.concatenate([[0], dark.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    step = np.median(np.diff(time)) if time.size > 1 else 0.0
    ends = np.where(stops < time.size, time[np.minimum(stops, time.size - 1)], time[-1] + step)
    return [(float(time[a]), float(b)) for a, b in zip(starts, ends, strict=True)]


def _groups(ds: xr.Dataset, order) -> list:
    present = list(pd.unique(np.asarray(ds["group"].values, dtype=str)))
    return [g for g in order if g in present] + [g for g in present if g not in order] \
        if order is not None else present


def _time_axis(ds: xr.Dataset, time_unit: str, lights_on) -> tuple[float, float, str]:
    """``(offset, scale, label)``: the axis value of time t (s) is ``offset + t / scale``.

    ``"zt"`` is zeitgeber time, hours from lights on (ZT0 = lights on, ZT12 = lights off on a
    12:12 schedule; continuing past 24 on later days), from the clock time of the first sample
    (``datetime``) and the lights-on hour.
    """
    _check_option("time_unit", time_unit, ("zt", "d", "h"))
    if time_unit != "zt":
        return 0.0, _TIME_SCALE[time_unit], f"Time ({_TIME_NAME[time_unit]})"
    if lights_on is None:
        raise ValueError("time_unit='zt' (zeitgeber time) needs lights_on=, the lights-on "
                         "clock hour (e.g. 7.0 for 07:00)")
    if "datetime" not in ds.variables:
        raise ValueError("time_unit='zt' needs the clock time of the readings (a 'datetime' "
                         "variable); this Dataset has none: use time_unit='h' or 'd'")
    first = pd.Timestamp(np.asarray(ds["datetime"].values).ravel()[0])
    clock = first.hour + first.minute / 60 + first.second / 3600
    t0 = float(np.asarray(ds["time"].values, dtype=float)[0])
    offset = (clock - float(lights_on)) % 24.0 - t0 / 3600.0
    return offset, 3600.0, "Zeitgeber time (h; ZT0 = lights on)"


@styled
@fill_doc
def plot_metabolic_timecourse(ds: xr.Dataset, *, variable: str = "ee", is_dark=None,
                              order=None, time_unit: str = "d", lights_on: float | None = None,
                              ax=None):
    """Mean +- SEM across subjects of ``variable`` over time per group, dark phases shaded.

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset over ``(subject, time)`` with a ``group`` coordinate (and, for
        zeitgeber time, the clock time of each reading, ``datetime``).
    variable : str, default "ee"
        Variable plotted (its units).
    is_dark : xarray.DataArray, optional
        Boolean over ``time``; its dark phases are shaded.
    order : sequence of str, optional
        Group order; default sorted.
    time_unit : {"d", "h", "zt"}, default "d"
        Time axis: days or hours from the first sample, or zeitgeber time (h from lights on,
        ZT0 = lights on; ticks every 12 h on recordings of 36 h or more, else every 6 h).
    lights_on : float, optional
        Lights-on clock hour (7.0 = 07:00); needed for ``time_unit="zt"``.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        One line per group (gid the group, label with n mice), an SEM band per group, and one
        grey span per dark phase (gid "dark").

    Raises
    ------
    ValueError
        For ``time_unit="zt"`` without ``lights_on`` or without a ``datetime`` variable.
    """
    offset, scale, xlabel = _time_axis(ds, time_unit, lights_on)
    time = offset + np.asarray(ds["time"].values, dtype=float) / scale
    groups_of = np.asarray(ds["group"].values, dtype=str)
    ax = new_axes(ax, figsize(100, 45))
    if is_dark is not None:
        for start, end in dark_intervals(is_dark):
            span = ax.axvspan(offset + start / scale, offset + end / scale, color="#DDDDDD",
                              lw=0, zorder=0)
            span.set_gid("dark")
    values = ds[variable].transpose("subject", "time").values
    for i, group in enumerate(_groups(ds, order)):
        avg, sem, _ = mean_sem(values[groups_of == group], axis=0)
        color = color_for(group, i)
        ax.plot(time, avg, color=color, lw=0.8, gid=str(group),
                label=label_with_n(group, int(np.sum(groups_of == group)), "mice"))
        ax.fill_between(time, avg - np.nan_to_num(sem), avg + np.nan_to_num(sem), color=color,
                        alpha=0.25, lw=0)
    ax.set_xlim(time[0], time[-1])
    if time_unit == "zt":
        from matplotlib.ticker import MultipleLocator

        ax.xaxis.set_major_locator(MultipleLocator(12 if time[-1] - time[0] >= 36 else 6))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(VARIABLE_LABELS.get(variable, f"{variable} ({ds[variable].attrs.get('units')})"))
    return ax


def subject_means(ds: xr.Dataset, variable: str = "ee", *, mask=None) -> pd.DataFrame:
    """Per-subject mean of ``variable`` over time (or over ``mask`` times).

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset over ``(subject, time)`` with ``group`` and ``body_mass`` (g).
    variable : str, default "ee"
        Variable averaged (its units, e.g. kcal/h).
    mask : xarray.DataArray, optional
        Boolean over ``time`` selecting the times averaged (e.g. dark phases).

    Returns
    -------
    pandas.DataFrame
        Columns ``subject``, ``group``, ``body_mass_g`` and ``variable``.
    """
    data = ds[variable]
    if mask is not None:
        data = data.isel(time=np.flatnonzero(np.asarray(mask.values, dtype=bool)))
    return pd.DataFrame({"subject": np.asarray(ds["subject"].values, dtype=str),
                         "group": np.asarray(ds["group"].values, dtype=str),
                         "body_mass_g": np.asarray(ds["body_mass"].values, dtype=float),
                         variable: data.mean("time").values})


@styled
@fill_doc
def plot_ancova(data, ancova: dict, *, variable: str = "ee", order=None, ax=None):
    """EE (or ``variable``) against body mass per group, fitted lines and adjusted means.

    Parameters
    ----------
    data : Dataset or DataFrame
        Calorimetry Dataset (averaged over time per subject) or a table from
        :func:`subject_means` (subject, group, body_mass_g, ``variable``).
    ancova : mapping
        ``{"groups": {group: {"slope": <unit/g>, "intercept": <unit>, "adjusted_mean": <unit>,
        "adjusted_sem": <unit, optional>}}, "mean_body_mass": g, "test": str,
        "statistic": F, "p_value": p for group}``. The fitted line of a group is
        ``intercept + slope * body_mass``; adjusted means are drawn at ``mean_body_mass``.
    variable : str, default "ee"
        Response variable on the y axis.
    order : sequence of str, optional
        Group order; default sorted.
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        Per group: points (gid "points:<group>"), fitted line over the group's mass range
        (gid "fit:<group>"), adjusted mean marker (gid "adjusted:<group>").
    """
    table = subject_means(data, variable) if isinstance(data, xr.Dataset) else data
    groups = _groups(xr.Dataset(coords={"group": table["group"].to_numpy()}), order)
    mean_mass = float(ancova["mean_body_mass"])
    ax = new_axes(ax, figsize(60, 55))
    for i, group in enumerate(groups):
        part = table[table["group"] == group]
        color = color_for(group, i)
        fit = ancova["groups"][group]
        points = ax.scatter(part["body_mass_g"], part[variable], s=10, color=color, lw=0,
                            alpha=0.7, label=label_with_n(group, len(part), "mice"))
        points.set_gid(f"points:{group}")
        mass = np.array([part["body_mass_g"].min(), part["body_mass_g"].max()])
        line, = ax.plot(mass, fit["intercept"] + fit["slope"] * mass, color=color, lw=1.0)
        line.set_gid(f"fit:{group}")
        # a line with whiskers: a filled marker hid an SE smaller than itself
        mark = ax.errorbar(mean_mass, fit["adjusted_mean"], yerr=fit.get("adjusted_sem"),
                           fmt="_", ms=10, mew=1.2, color=color, capsize=2.5, capthick=0.7,
                           elinewidth=0.7, zorder=4)
        mark.lines[0].set_gid(f"adjusted:{group}")
    ax.axvline(mean_mass, color="#999999", ls=":", lw=0.6)
    ax.set_xlabel("Body mass (g)")
    ax.set_ylabel(VARIABLE_LABELS.get(variable, variable))
    handles, labels = ax.get_legend_handles_labels()
    handles.append(_adjusted_handle(ax))
    labels.append("Adjusted mean ± SE\n(at the mean body mass)")
    ax.legend(handles, labels, loc="lower right")  # EE rises with mass: lower right is empty
    annotate_corner(ax, as_test_result_or_none(ancova), prefix="Group effect: ", y=1.08)
    return ax


def _adjusted_handle(ax):
    """Legend handle of the adjusted-mean marks of :func:`plot_ancova` in ``ax``: the first
    mark itself (line, whisker and caps), so it reads as a mark."""
    return next(c for c in ax.containers if str(c.lines[0].get_gid()).startswith("adjusted:"))


def as_test_result_or_none(result):
    """The normalised test of an ANCOVA mapping, or None if it carries no p-value."""
    return as_test_result(result) if result.get("p_value") is not None else None


@fill_doc
def figure_metabolic(ds: xr.Dataset, is_dark: xr.DataArray, ancova: dict, *,
                     ancova_variable: str = "ee", order=None, time_unit: str = "d",
                     lights_on: float | None = None, stats=None, figure_id: str = "fig10"):
    """Figure 10: (a) EE and (b) RER over time with dark shading, (c) ANCOVA of EE on mass.

    ``stats`` rows: per-subject means of ee and rer averaged over mice per "<group>/light|dark",
    the ANCOVA slope and adjusted mean per group, and the group test.

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset over ``(subject, time)`` (``ee`` kcal/h, ``rer``, ``group``,
        ``body_mass`` g).
    is_dark : xarray.DataArray
        Boolean over ``time``: the dark phase.
    ancova : dict
        ANCOVA summary as :func:`plot_ancova` takes it.
    ancova_variable : str, default "ee"
        Response of the ANCOVA panel.
    order : sequence of str, optional
        Group order.
    time_unit : {"d", "h", "zt"}, default "d"
        Time axis (see :func:`plot_metabolic_timecourse`; ``"zt"``: zeitgeber time).
    lights_on : float, optional
        Lights-on clock hour; needed for ``time_unit="zt"``.
    %(stats_table)s
    figure_id : str, default "fig10"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        fig, axes = plt.subplot_mosaic([["ee", "ancova"], ["rer", "ancova"]],
                                       figsize=figsize("double", 80), layout="constrained",
                                       width_ratios=(2.1, 1))
        axes["ee"].sharex(axes["rer"])
        for variable in ("ee", "rer"):
            plot_metabolic_timecourse(ds, variable=variable, is_dark=is_dark, order=order,
                                      time_unit=time_unit, lights_on=lights_on,
                                      ax=axes[variable])
        axes["ee"].set_xlabel("")
        axes["ee"].tick_params(labelbottom=False)  # the time axis is (b)'s, shared
        plot_ancova(ds, ancova, variable=ancova_variable, order=order, ax=axes["ancova"])
        # one legend above the panels (groups with n, dark phase, adjusted mean): in (c) it
        # covered the fitted lines
        axes["ancova"].get_legend().remove()
        handles, labels = axes["ee"].get_legend_handles_labels()
        handles += [plt.Rectangle((0, 0), 1, 1, color="#DDDDDD", lw=0), _adjusted_handle(axes["ancova"])]
        labels += ["Dark phase", "Adjusted mean ± SE at the mean body mass (c)"]
        fig.legend(handles, labels, loc="outside upper center", ncol=len(labels))
        label_panels([axes["ee"], axes["rer"], axes["ancova"]])
    _record_metabolic(stats, figure_id, ds, is_dark, ancova, ancova_variable)
    return fig


def _record_metabolic(stats, figure_id, ds, is_dark, ancova, variable) -> None:
    if stats is None:
        return
    for name in ("ee", "rer"):
        for phase, mask in (("light", ~is_dark), ("dark", is_dark)):
            table = subject_means(ds, name, mask=mask)
            summary = group_summary(table, name, "group")
            summary.index = [f"{g}/{phase}" for g in summary.index]
            record_summary(stats, figure_id, _QUANTITY[name], summary)
    for group, fit in ancova["groups"].items():
        stats.add(figure_id, f"{variable}_adjusted_mean", str(group), fit["adjusted_mean"],
                  n=int(np.sum(np.asarray(ds["group"].values, dtype=str) == group)))
        stats.add(figure_id, f"{variable}_slope_per_g", str(group), fit["slope"])
    record_test(stats, figure_id, f"{variable}_ancova_group", "all",
                as_test_result_or_none(ancova))
