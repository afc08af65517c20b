"""Figure 5: Bdnf+ fraction of SF1 neurons, sedentary vs one run, per VMH subregion.

Input: a cell-count table with columns subject, condition (sedentary | one_run), region, n_sf1,
n_bdnf_sf1 (one row per mouse and region).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._validate import _check_option
from ..stats import wilson_ci
from ._style import (
    annotate_test,
    as_test_result,
    color_for,
    figsize,
    figure_style,
    format_p,
    label_with_n,
    new_axes,
    styled,
)
from ._summary import group_summary, record_test

__all__ = ["CONDITIONS", "bdnf_fractions", "plot_bdnf_fraction", "figure_bdnf"]

CONDITIONS = ("sedentary", "one_run")


def bdnf_fractions(counts: pd.DataFrame) -> pd.DataFrame:
    """Per mouse and region: the Bdnf+ fraction of SF1 neurons (``fraction``, 0-1).

    Parameters
    ----------
    counts : pandas.DataFrame
        Columns ``subject``, ``condition``, ``region``, ``n_sf1``, ``n_bdnf_sf1``.

    Returns
    -------
    pandas.DataFrame
        A copy with column ``fraction`` = ``n_bdnf_sf1 / n_sf1``.
    """
    out = counts.copy()
    out["fraction"] = out["n_bdnf_sf1"].astype(float) / out["n_sf1"].astype(float)
    return out


def _bar_values(counts: pd.DataFrame, summary: str) -> pd.DataFrame:
    """Bar height, n, CI per (region, condition): pooled cells (Wilson) or mean of mice (t)."""
    _check_option("summary", summary, ("pooled", "mean"))
    if summary == "pooled":
        sums = counts.groupby(["region", "condition"], sort=False)[["n_bdnf_sf1", "n_sf1"]].sum()
        low, high = wilson_ci(sums["n_bdnf_sf1"].to_numpy(), sums["n_sf1"].to_numpy())
        return pd.DataFrame({"value": sums["n_bdnf_sf1"] / sums["n_sf1"],
                             "n": sums["n_sf1"], "ci_low": low, "ci_high": high},
                            index=sums.index)
    table = group_summary(bdnf_fractions(counts), "fraction", ["region", "condition"])
    return table.rename(columns={"mean": "value"})[["value", "n", "ci_low", "ci_high"]]


def _test_for(tests, region):
    if isinstance(tests, Mapping) and region in tests:
        return tests[region]
    return None if isinstance(tests, Mapping) and "p_value" not in tests else tests


@styled
@fill_doc
def plot_bdnf_fraction(counts: pd.DataFrame, *, regions=None, conditions=CONDITIONS,
                       summary: str = "pooled", tests=None, ax=None):
    """Bars of the Bdnf+ fraction of SF1 neurons per region and condition, mice as points.

    Parameters
    ----------
    counts : DataFrame
        subject, condition, region, n_sf1, n_bdnf_sf1.
    regions : sequence of str, optional
        Regions on the x axis (default: order of appearance).
    conditions : sequence of str, default ("sedentary", "one_run")
        Conditions, one bar each per region.
    summary : {"pooled", "mean"}
        Bar height: pooled cells (sum Bdnf+ / sum SF1) or mean of the per-mouse fractions.
    tests : mapping region -> result, or one result, optional
        Precomputed ``{"test", "statistic", "p_value"}`` per region (bracket over its bars).
    %(ax)s

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[i]`` holds the bars of ``conditions[i]`` in region order; the legend
        carries n mice per condition.
    """
    regions = list(regions) if regions is not None else list(pd.unique(counts["region"]))
    bars = _bar_values(counts, summary)
    per_mouse = bdnf_fractions(counts)
    ax = new_axes(ax, figsize(60, 55))
    x = np.arange(len(regions))
    width = 0.36
    for j, condition in enumerate(conditions):
        offset = (j - (len(conditions) - 1) / 2) * width
        heights = [bars["value"].get((r, condition), np.nan) for r in regions]
        n_mice = per_mouse.loc[per_mouse["condition"] == condition, "subject"].nunique()
        ax.bar(x + offset, heights, width=width * 0.9, color=color_for(condition, j), alpha=0.85,
               label=label_with_n(condition, n_mice, "mice"))
        for i, region in enumerate(regions):
            values = per_mouse.loc[(per_mouse["region"] == region)
                                   & (per_mouse["condition"] == condition), "fraction"]
            jitter = np.linspace(-0.08, 0.08, len(values)) if len(values) > 1 else 0.0
            ax.scatter(i + offset + jitter, values, s=7, color="black", linewidths=0, zorder=3)
    names = set()
    for i, region in enumerate(regions):
        result = as_test_result(_test_for(tests, region))
        if result is not None:
            names.add(result["test"])
            annotate_test(ax, result, x0=i - width / 2, x1=i + width / 2, y=1.0,
                          text=format_p(result["p_value"]))
    ax.set_xticks(x, regions)
    ax.set_xlabel("VMH subregion")
    ax.set_ylabel("Bdnf$^+$ fraction of SF1 neurons")
    top = float(np.nanmax(per_mouse["fraction"])) if len(per_mouse) else 1.0
    ax.set_ylim(0, min(1.0, top * 1.15) if top < 0.87 else 1.0)
    title = f"{', '.join(sorted(n for n in names if n))}, per region" if names - {""} else None
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(conditions), title=title,
              title_fontsize=6)
    return ax


@fill_doc
def figure_bdnf(counts: pd.DataFrame, *, regions=None, summary: str = "pooled", tests=None,
                stats=None, figure_id: str = "fig5"):
    """Figure 5; ``stats`` rows ``fraction_bdnf_sf1`` per "<region>/<condition>" and the tests.

    With ``summary="pooled"`` n is the number of SF1 cells and the CI is Wilson's; with
    ``"mean"`` n is the number of mice and the CI is the t interval.

    Parameters
    ----------
    counts : pandas.DataFrame
        Counts per mouse and region (see :func:`plot_bdnf_fraction`).
    regions : sequence of str, optional
        Regions on the x axis.
    summary : {"pooled", "mean"}, default "pooled"
        Bar height: pooled cells or mean of the per-mouse fractions.
    tests : mapping or result, optional
        Precomputed test per region.
    %(stats_table)s
    figure_id : str, default "fig5"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        fig, ax = plt.subplots(figsize=figsize("single", 72), layout="constrained")
        plot_bdnf_fraction(counts, regions=regions, summary=summary, tests=tests, ax=ax)
    if stats is not None:
        for (region, condition), row in _bar_values(counts, summary).iterrows():
            stats.add(figure_id, "fraction_bdnf_sf1", f"{region}/{condition}", row["value"],
                      n=row["n"], ci_low=row["ci_low"], ci_high=row["ci_high"])
        for region in pd.unique(counts["region"]):
            record_test(stats, figure_id, "fraction_bdnf_sf1", f"{region}/sedentary_vs_one_run",
                        _test_for(tests, region))
    return fig
