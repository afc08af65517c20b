"""Figure 11: post-run class transitions of the neurons tracked across the two days.

Input: the result of :func:`sfone.tracking.cohort.track_cohort` (per-mouse and pooled transition
tables with their tests). The matrix is :func:`sfone.tracking.plot_transitions`; this module
gives it the journal style, the class and day names of the other figures, n, and the per-mouse
tests, which are the primary ones (cells of different mice are not independent replicates).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .._docs import fill_doc
from ._style import display_name, figsize, figure_style, format_p

__all__ = ["figure_tracked_transitions"]


@fill_doc
def figure_tracked_transitions(result: dict, *, days=("day1", "day8"), stats=None,
                               figure_id: str = "fig11"):
    """Transition matrix of tracked cells pooled over mice, with the per-mouse McNemar tests.

    ``stats`` rows: per mouse, the fraction activated among its tracked cells on the second day
    (n = its tracked cells; Stuart-Maxwell statistic and p, McNemar p in the test text); and
    ``n_rois`` (tracked cells, pooled) and ``n_mice`` over all.

    Parameters
    ----------
    result : dict
        Output of :func:`sfone.tracking.cohort.track_cohort` (``pooled``, ``pooled_tests``,
        ``tests``, ``tables``).
    days : (str, str), default ("day1", "day8")
        The two days (rows, columns), as the other figures name them.
    %(stats_table)s
    figure_id : str, default "fig11"
        Figure key of the ``stats`` rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..tracking import plot_transitions

    pooled = result["pooled"]
    n_tracked = int(result["pooled_tests"]["n_tracked"])
    per_mouse = [f"{s}: {format_p(t['mcnemar']['activated']['p_value'])}"
                 for s, t in result["tests"].items()]
    with figure_style():
        fig, ax = plt.subplots(figsize=figsize("single", 88), layout="constrained")
        plot_transitions(pooled, ax=ax, tests=result["pooled_tests"])
        names = [display_name(c) for c in pooled.columns]
        ax.set_xticks(range(len(names)), names, rotation=0)
        ax.set_yticks(range(len(pooled.index)), [display_name(c) for c in pooled.index])
        ax.set_xlabel(f"Class on {display_name(days[1])}")
        ax.set_ylabel(f"Class on {display_name(days[0])}")
        for text in ax.texts:  # counts and row shares in the cells
            text.set_fontsize(7)
        sm = result["pooled_tests"]["stuart_maxwell"]
        mice = len(result["tables"])
        lines = [f"Tracked neurons, pooled over {mice} mice (n = {n_tracked})",
                 f"Stuart-Maxwell χ²({sm['df']}) = {sm['statistic']:.2f}, "
                 f"{format_p(sm['p_value'])}", "McNemar on 'activated', per mouse:"]
        lines += _joined_lines(per_mouse, width=64)
        ax.set_title("\n".join(lines), fontsize=6, fontweight="normal")
    if stats is not None:
        for subject, test in result["tests"].items():
            sm, mc = test["stuart_maxwell"], test["mcnemar"]["activated"]
            stats.add(figure_id, "fraction_activated_tracked_day_b", subject,
                      test["fraction_b"]["activated"], n=test["n_tracked"],
                      test=f"Stuart-Maxwell chi2({sm['df']}); McNemar exact p = "
                           f"{mc['p_value']:.3g}",
                      statistic=sm["statistic"], p_value=sm["p_value"])
        stats.add(figure_id, "n_rois", "all", n_tracked, n=n_tracked)
        stats.add(figure_id, "n_mice", "all", mice, n=mice)
    return fig


def _joined_lines(items, *, width: int, sep: str = "; ") -> list[str]:
    """``items`` joined by ``sep`` into lines of at most ``width`` characters, never inside an
    item."""
    lines, line = [], ""
    for item in items:
        candidate = f"{line}{sep}{item}" if line else item
        if line and len(candidate) > width:
            lines.append(line + sep.rstrip())
            line = item
        else:
            line = candidate
    return lines + ([line] if line else [])
