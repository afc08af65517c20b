"""The evidence behind one ROI's post-run label: its trace, the run schedule and windows, the
binned means and the fitted session model (:func:`plot_roi_evidence`).

Input: a :func:`sfone.classify.label_responses` result. With the default method (``glm``) it
holds, over ``(roi, bin)``, ``binned`` (the binned trace the model fits), ``fitted`` (the fitted
session model) and ``fitted_nuisance`` (the model without its post-run response terms), over the
coordinates ``bin_time`` (s, bin centres) and ``bin_segment``, and the windows the model used in
its attrs (``baseline_window_s``, ``post_run_windows_s``, ``run_windows_s``, s from the recording
start). Without them (other methods, photometry channels on several clocks) the figure shows what
there is: the trace, and the windows when the runs are given. The frame-level trace is optional;
it is shown as the minimum and maximum of each of :data:`DISPLAY_BLOCKS` display blocks.

:func:`prepare_evidence` gathers all of this once per session into one small Dataset (the
decimated trace instead of the frames), which :func:`plot_roi_evidence` and the evidence page
(:mod:`sfone.figures.evidence_page`) draw from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._docs import fill_doc
from .._logging import progress
from ._style import CLASS_COLORS, OKABE_ITO, display_name, figsize, format_p, new_axes, styled

__all__ = ["EVIDENCE_VARIABLES", "DISPLAY_BLOCKS", "prepare_evidence", "plot_roi_evidence"]

#: the (roi, bin) variables of a ``glm`` result that the figure draws
EVIDENCE_VARIABLES = ("binned", "fitted", "fitted_nuisance")
#: display blocks of the frame-level trace (each drawn as its minimum and maximum)
DISPLAY_BLOCKS = 600
_PER_ROI = ("label", "effect", "p_value", "q_value")
_ROW_BLOCK = 64
_TIME_SCALE = {"s": 1.0, "min": 60.0}
_FIT_COLORS = {**CLASS_COLORS, "unchanged": "#555555"}  # the class grey is too light for a line
_SIGNAL_NAMES = {"F - neuropil_coefficient*Fneu": "F \u2212 c\u00b7Fneu", "dff": "dF/F"}
_STYLE = {"trace": "#CDCDCD", "run": OKABE_ITO["yellow"], "baseline": "#777777",
          "post_run": OKABE_ITO["bluish_green"]}


# --- the decimated trace ----------------------------------------------------------------------

def _envelope(rows: np.ndarray, time: np.ndarray, n_blocks: int):
    """(time, values) of the min/max envelope: 2 points per block (its min at its first frame,
    its max at its last), NaN-padded to ``2 * n_blocks`` points."""
    n = rows.shape[1]
    blocks = max(1, min(n_blocks, n))
    edges = np.unique(np.linspace(0, n, blocks + 1).round().astype(int))
    lo = edges[:-1]
    values = np.full((rows.shape[0], 2 * n_blocks), np.nan, dtype=np.float32)
    times = np.full(2 * n_blocks, np.nan)
    if n == 0:
        return times, values
    values[:, 0:2 * lo.size:2] = np.fmin.reduceat(rows, lo, axis=1)
    values[:, 1:2 * lo.size:2] = np.fmax.reduceat(rows, lo, axis=1)
    times[0:2 * lo.size:2] = time[lo]
    times[1:2 * lo.size:2] = time[edges[1:] - 1]
    return times, values


def _trace_groups(trace) -> list[xr.DataArray]:
    if trace is None:
        return []
    groups = [trace] if isinstance(trace, xr.DataArray) else list(trace)
    for da in groups:
        if not isinstance(da, xr.DataArray) or da.dims != ("roi", "time"):
            raise ValueError("trace must be a (roi, time) DataArray (time in s) or a list of them "
                             f"(one per clock), got {getattr(da, 'dims', type(da).__name__)}")
    return groups


def _locate(rois: np.ndarray, groups: list[xr.DataArray]) -> list[tuple[int, np.ndarray]]:
    """For each trace group: (group index, positions of the result's ROIs in it, -1 absent)."""
    import pandas as pd

    found = np.zeros(rois.size, bool)
    where = []
    for g, da in enumerate(groups):
        values = np.asarray(da["roi"].values)
        if values.shape == rois.shape and np.array_equal(values, rois):
            index = np.arange(rois.size)
        else:
            index = pd.Index(values).get_indexer(rois)
        index = np.where(found, -1, index)
        found |= index >= 0
        where.append((g, index))
    if not found.all():
        missing = rois[~found][:5].tolist()
        raise ValueError(f"the trace lacks ROIs of the result: {missing} (the trace must come "
                         "from the Dataset that was classified)")
    return where


def _display_trace(rois, groups, n_blocks):
    """(roi, point) times and values of every ROI's envelope; units/name of the first group."""
    times = np.full((rois.size, 2 * n_blocks), np.nan)
    values = np.full((rois.size, 2 * n_blocks), np.nan, dtype=np.float32)
    for g, index in _locate(rois, groups):
        da = groups[g]
        time = np.asarray(da["time"].values, dtype=float)
        targets = np.flatnonzero(index >= 0)
        sources = index[targets]
        order = np.argsort(sources)
        targets, sources = targets[order], sources[order]
        for lo in progress(range(0, sources.size, _ROW_BLOCK), desc="evidence traces",
                           unit="block"):
            rows = sources[lo:lo + _ROW_BLOCK]
            block = np.asarray(da.data[rows] if rows.size != da.shape[0] else da.data,
                               dtype=np.float32)
            t, v = _envelope(block, time, n_blocks)
            times[targets[lo:lo + _ROW_BLOCK]] = t
            values[targets[lo:lo + _ROW_BLOCK]] = v
    return times, values


# --- the windows ------------------------------------------------------------------------------

def _pairs(value) -> list[list[float]]:
    array = np.asarray(value, dtype=float).reshape(-1, 2)
    return [[float(a), float(b)] for a, b in array]


def _windows(attrs, runs, recording) -> dict:
    """Run, baseline and post-run windows (lists of [start, end], s from recording start): the
    ``glm`` attrs, else from ``runs`` with the relative ``baseline_s`` / ``post_run_s``."""
    if "run_windows_s" in attrs:
        return {"run": _pairs(attrs["run_windows_s"]),
                "baseline": _pairs(attrs.get("baseline_window_s", [])),
                "post_run": _pairs(attrs.get("post_run_windows_s", []))}
    if runs is None:
        return {"run": [], "baseline": [], "post_run": []}
    from ..events import as_epochs

    epochs = as_epochs(runs)
    starts = np.asarray(epochs["start"].values, float)
    ends = np.asarray(epochs["end"].values, float)
    first, last = recording
    prev_end = np.concatenate([[first], ends[:-1]])
    next_start = np.concatenate([starts[1:], [last]])
    out = {"run": [[float(s), float(e)] for s, e in zip(starts, ends, strict=True)],
           "baseline": [], "post_run": []}
    if "baseline_s" in attrs:
        b0, b1 = (float(v) for v in attrs["baseline_s"])
        out["baseline"] = [[max(s + b0, p), s + b1] for s, p in zip(starts, prev_end,
                                                                    strict=True)]
    if "post_run_s" in attrs:
        p0, p1 = (float(v) for v in attrs["post_run_s"])
        out["post_run"] = [[e + p0, min(e + p1, n)] for e, n in zip(ends, next_start,
                                                                   strict=True)]
    return {k: [[float(a), float(b)] for a, b in v if b > a] for k, v in out.items()}


# --- the session's evidence -------------------------------------------------------------------

def prepare_evidence(result: xr.Dataset, trace=None, *, runs=None,
                     n_blocks: int = DISPLAY_BLOCKS) -> xr.Dataset:
    """Everything the evidence figures of a session draw, in one small Dataset.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`sfone.classify.label_responses` result (``label``, ``effect``, ``p_value``,
        ``q_value`` over ``roi``; with ``glm`` also :data:`EVIDENCE_VARIABLES`), or an earlier
        output of this function (returned as it is when ``trace`` and ``runs`` are None).
    trace : xarray.DataArray or list of xarray.DataArray, optional
        The frame-level ``(roi, time)`` trace that was classified (time in s; several, one per
        clock, for photometry channels on their own clocks): ``F - c * Fneu`` of an imaging
        Dataset (:func:`sfone.perievent.trace_array`) or its dF/F channels. Must hold every
        ROI of ``result``.
    runs : xarray.Dataset, str, os.PathLike, pandas.DataFrame or array_like, optional
        Run epochs (s from the recording start, any form :func:`sfone.events.as_epochs`
        accepts); used for the windows when ``result`` does not state them (methods other
        than ``glm``).
    n_blocks : int, default DISPLAY_BLOCKS
        Display blocks of the trace.

    Returns
    -------
    xarray.Dataset
        ``result``'s per-ROI variables and ``roi`` coordinates, the evidence variables where
        present, ``trace_time`` (s) and ``trace_display`` (the trace's units) over
        ``(roi, trace_point)`` (the min and max of each block, NaN without a trace), and the
        windows in attrs ``evidence_run_windows_s``, ``evidence_baseline_windows_s``,
        ``evidence_post_run_windows_s`` (lists of [start, end], s from recording start).

    Raises
    ------
    ValueError
        When ``result`` lacks a per-ROI variable or ``trace`` lacks one of its ROIs.
    """
    if "trace_display" in result and trace is None and runs is None:
        return result
    missing = [name for name in _PER_ROI if name not in result]
    if missing:
        raise ValueError(f"not a label_responses result: no {missing}")
    keep = [*_PER_ROI, *(v for v in EVIDENCE_VARIABLES if v in result)]
    out = result[keep]
    out = out.drop_vars([c for c in out.coords if c not in ("roi", "bin_time", "bin_segment")
                         and out[c].dims != ("roi",)])
    groups = _trace_groups(trace)
    rois = np.asarray(result["roi"].values)
    times, values = _display_trace(rois, groups, n_blocks) if groups else (
        np.full((rois.size, 2), np.nan), np.full((rois.size, 2), np.nan, np.float32))
    out["trace_time"] = (("roi", "trace_point"), times, {"units": "s"})
    units = str(groups[0].attrs.get("units", "a.u.")) if groups else ""
    signal = str(result.attrs.get("signal", groups[0].name if groups else "") or "trace")
    out["trace_display"] = (("roi", "trace_point"), values,
                            {"units": units, "long_name": f"{signal}, min and max per block"})
    if groups:
        recording = (min(float(da["time"].values[0]) for da in groups),
                     max(float(da["time"].values[-1]) for da in groups))
    elif "bin_time" in result.coords and result.sizes.get("bin", 0):
        recording = (float(result["bin_time"].values[0]), float(result["bin_time"].values[-1]))
    else:
        recording = (-np.inf, np.inf)
    windows = _windows(result.attrs, runs, recording)
    if not units and "binned" in result:
        units = str(result["binned"].attrs.get("units", ""))
    out.attrs = {**result.attrs, **{f"evidence_{k}_windows_s": v for k, v in windows.items()},
                 "evidence_signal": signal, "evidence_units": units}
    return out


@dataclass
class _Session:
    """numpy arrays of a prepared evidence Dataset, for drawing many ROIs fast."""

    roi: np.ndarray
    label: np.ndarray
    effect: np.ndarray
    p: np.ndarray
    q: np.ndarray
    trace_time: np.ndarray
    trace: np.ndarray
    bin_time: np.ndarray | None
    fits: dict
    windows: dict
    signal: str
    units: str
    effect_units: str

    @classmethod
    def from_dataset(cls, ev: xr.Dataset, positions=None) -> _Session:
        sel = slice(None) if positions is None else np.asarray(positions)

        def rows(name):
            return np.asarray(ev[name].values)[sel]

        has_fit = all(v in ev for v in EVIDENCE_VARIABLES)
        return cls(roi=rows("roi"), label=rows("label").astype(str), effect=rows("effect"),
                   p=rows("p_value"), q=rows("q_value"), trace_time=rows("trace_time"),
                   trace=rows("trace_display"),
                   bin_time=np.asarray(ev["bin_time"].values, float) if has_fit else None,
                   fits={v: rows(v) for v in EVIDENCE_VARIABLES} if has_fit else {},
                   windows={k: ev.attrs.get(f"evidence_{k}_windows_s", [])
                            for k in ("run", "baseline", "post_run")},
                   signal=str(ev.attrs.get("evidence_signal", "trace")),
                   units=str(ev.attrs.get("evidence_units", "")),
                   effect_units=str(ev["effect"].attrs.get("units", "z")))

    def xlim(self) -> tuple[float, float]:
        spans = [self.trace_time[np.isfinite(self.trace_time)]]
        if self.bin_time is not None:
            spans.append(self.bin_time)
        spans += [np.ravel(w) for w in self.windows.values() if len(w)]
        values = np.concatenate([np.asarray(s, float).ravel() for s in spans])
        values = values[np.isfinite(values)]
        return (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)


def short_name(roi, limit: int = 28) -> str:
    """The ROI's name for a figure title, cut to ``limit`` characters."""
    text = str(roi)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _q_text(q) -> str:
    return "q" + format_p(q)[1:]


def stats_text(effect, p, q, units: str = "z", *, compact: bool = False) -> str:
    """``"effect +3.95 z, p = 7.6e-12, q = 6.5e-11"`` (``n/a`` where not finite);
    ``compact``: ``"+3.95 z, p 7.6e-12, q 6.5e-11"``."""
    effect = float(effect)
    shown = f"{effect:+.2f} {units}" if np.isfinite(effect) else "n/a"
    if compact:
        return f"{shown}, {format_p(p).replace(' = ', ' ')}, {_q_text(q).replace(' = ', ' ')}"
    return f"effect {shown}, {format_p(p)}, {_q_text(q)}"


class EvidencePanel:
    """The artists of one evidence figure, drawn once and updated for each ROI (:meth:`show`).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to draw in.
    session : _Session
        The session's arrays.
    legend : bool, default True
        Draw the legend (right of the axes).
    compact : bool, default False
        Thumbnail: no axis labels, y ticks or legend, shorter titles.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis.
    """

    def __init__(self, ax, session: _Session, *, legend: bool = True, compact: bool = False,
                 time_unit: str = "min"):
        from matplotlib.patches import Rectangle
        from matplotlib.ticker import MaxNLocator, NullLocator, ScalarFormatter
        from matplotlib.transforms import blended_transform_factory

        self.ax, self.session, self.scale = ax, session, _TIME_SCALE[time_unit]
        self._legend_fitted = None
        self.compact = compact
        scale = self.scale
        for k, (start, end) in enumerate(session.windows["run"]):
            span = ax.axvspan(start / scale, end / scale, facecolor=_STYLE["run"], alpha=0.35,
                              lw=0, zorder=0, label="run" if k == 0 else None)
            span.set_gid("evidence:run")
        strip = blended_transform_factory(ax.transData, ax.transAxes)
        bars = {"baseline": {"facecolor": "none", "edgecolor": _STYLE["baseline"],
                             "hatch": "////", "lw": 0.0},
                "post_run": {"facecolor": _STYLE["post_run"], "edgecolor": "none",
                             "alpha": 0.7}}
        for kind, style in bars.items():
            for start, end in session.windows[kind]:
                patch = Rectangle((start / scale, 1.012), (end - start) / scale, 0.035,
                                  transform=strip, clip_on=False, **style)
                patch.set_gid(f"evidence:{kind}")
                ax.add_patch(patch)
        from matplotlib.patches import Polygon

        self.trace = Polygon(np.zeros((0, 2)), closed=True, facecolor=_STYLE["trace"],
                             edgecolor="none", lw=0, zorder=1,
                             label="trace, min to max")
        self.trace.set_gid("evidence:trace")
        ax.add_patch(self.trace)
        self.merge = 2 if compact else 1  # a thumbnail is half as wide: half as many blocks
        self.binned, = ax.plot([], [], ls="none", marker="o", ms=1.8 if compact else 2.2,
                               mew=0, color="black", zorder=3, label="bin means",
                               gid="evidence:binned")
        self.nuisance, = ax.plot([], [], color="black", ls=(0, (3, 1.5)), lw=0.8, zorder=4,
                                 label="model without post-run terms",
                                 gid="evidence:fitted_nuisance")
        self.fitted, = ax.plot([], [], lw=1.3, zorder=5, label="fitted model",
                               gid="evidence:fitted")
        font = {"fontsize": 6.5} if compact else {}
        self.title = ax.set_title("", loc="left", pad=5 if compact else 7, **font)
        self.title.set_gid("evidence:title")
        self.stats = ax.set_title("", loc="right", fontweight="normal",
                                  pad=5 if compact else 7, **font)
        self.stats.set_gid("evidence:stats")
        x0, x1 = session.xlim()
        ax.set_xlim(x0 / scale, x1 / scale)
        formatter = ScalarFormatter(useOffset=False)
        ax.yaxis.set_major_formatter(formatter)
        if compact:  # the shape, label and numbers; the y values are in the full figure
            ax.yaxis.set_major_locator(NullLocator())
            ax.xaxis.set_major_locator(MaxNLocator(5))
        else:
            ax.set_xlabel(f"Time from recording start ({time_unit})")
            units = f" ({session.units})" if session.units not in ("", "1") else ""
            ax.set_ylabel(f"{_SIGNAL_NAMES.get(session.signal, session.signal)}{units}")
        if legend and not compact:
            handles = [h for h, present in ((self.trace, np.isfinite(session.trace).any()),
                                            (self.binned, session.bin_time is not None),
                                            (self.fitted, session.bin_time is not None),
                                            (self.nuisance, session.bin_time is not None))
                       if present]
            runs = [p for p in ax.patches if p.get_gid() == "evidence:run"][:1]
            baseline = Rectangle((0, 0), 1, 1, label="baseline window", **bars["baseline"])
            post = Rectangle((0, 0), 1, 1, label="post-run window", **bars["post_run"])
            extra = runs + [r for r, kind in ((baseline, "baseline"), (post, "post_run"))
                            if session.windows[kind]]
            shown = ax.legend(handles=handles + extra, loc="upper left",
                              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
            if self.fitted in handles:  # its colour follows the label (see show)
                self._legend_fitted = shown.legend_handles[handles.index(self.fitted)]

    def dynamic_artists(self) -> list:
        """The artists :meth:`show` changes (lines, y axis, titles, the legend's fit handle):
        the rest of the figure is the same for every ROI of a session.

        Returns
        -------
        list of matplotlib.artist.Artist
            In drawing order.
        """
        artists = [self.trace, self.binned, self.nuisance, self.fitted,
                   *([] if self.compact else [self.ax.yaxis]), self.title, self.stats]
        return artists + ([self._legend_fitted] if self._legend_fitted is not None else [])

    def show(self, i: int) -> None:
        """Show the ``i``-th ROI of the session.

        Parameters
        ----------
        i : int
            Position of the ROI in the session.
        """
        s, scale = self.session, self.scale
        self.trace.set_xy(_band(s.trace_time[i] / scale, s.trace[i], self.merge))
        core = np.empty(0)
        if s.bin_time is not None:
            t = s.bin_time / scale
            self.binned.set_data(t, s.fits["binned"][i])
            self.fitted.set_data(t, s.fits["fitted"][i])
            self.nuisance.set_data(t, s.fits["fitted_nuisance"][i])
            core = np.concatenate([s.fits[v][i] for v in EVIDENCE_VARIABLES])
            core = core[np.isfinite(core)]
        label = str(s.label[i])
        self.fitted.set_color(_FIT_COLORS.get(label, "black"))
        if self._legend_fitted is not None:
            self._legend_fitted.set_color(self.fitted.get_color())
        prefix = "" if self.compact else "ROI "
        self.title.set_text(f"{prefix}{short_name(s.roi[i], 16 if self.compact else 28)}: "
                            f"{display_name(label)}")
        self.title.set_color(CLASS_COLORS.get(label, "black") if label != "unchanged"
                             else "black")
        self.stats.set_text(stats_text(s.effect[i], s.p[i], s.q[i], s.effect_units,
                                       compact=self.compact))
        self.ax.set_ylim(*_ylim(core, s.trace[i], widen=1.0 if self.compact else 2.0))


def _band(time: np.ndarray, envelope: np.ndarray, merge: int = 1) -> np.ndarray:
    """Polygon vertices (n, 2) of the band between the block minima and maxima of an
    interleaved (min, max) envelope, each block at its centre; ``merge`` blocks are joined."""
    lows, highs = envelope[0::2], envelope[1::2]
    starts, ends = time[0::2], time[1::2]
    keep = np.isfinite(lows) & np.isfinite(highs) & np.isfinite(starts)
    lows, highs, starts, ends = lows[keep], highs[keep], starts[keep], ends[keep]
    if merge > 1 and lows.size >= merge:
        n = lows.size - lows.size % merge
        tail = slice(n, None)
        lows = np.concatenate([lows[:n].reshape(-1, merge).min(axis=1), lows[tail]])
        highs = np.concatenate([highs[:n].reshape(-1, merge).max(axis=1), highs[tail]])
        starts = np.concatenate([starts[:n:merge], starts[tail]])
        ends = np.concatenate([ends[merge - 1:n:merge], ends[tail]])
    centre = (starts + ends) / 2
    return np.concatenate([np.column_stack([centre, highs]),
                           np.column_stack([centre[::-1], lows[::-1]])]) if centre.size else (
        np.zeros((0, 2)))


def _ylim(core: np.ndarray, trace: np.ndarray, widen: float = 2.0) -> tuple[float, float]:
    """y range: the binned means and fits, widened to the bulk of the trace (its block minima's
    1st and maxima's 99th percentile) by at most ``widen`` times their own range on each side;
    the trace alone without them (0.5th / 99.5th percentiles)."""
    lows, highs = trace[0::2], trace[1::2]
    lows, highs = lows[np.isfinite(lows)], highs[np.isfinite(highs)]
    if core.size:
        lo, hi = float(core.min()), float(core.max())
        width = hi - lo or max(abs(hi) * 0.1, 1e-6)
        if lows.size and highs.size:
            lo = max(min(lo, float(np.percentile(lows, 1))), lo - widen * width)
            hi = min(max(hi, float(np.percentile(highs, 99))), hi + widen * width)
    elif lows.size and highs.size:
        lo, hi = float(np.percentile(lows, 0.5)), float(np.percentile(highs, 99.5))
    else:
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi, lo = hi + max(abs(hi) * 0.05, 1e-6), lo - max(abs(lo) * 0.05, 1e-6)
    pad = 0.06 * (hi - lo)
    return lo - pad, hi + pad


def roi_position(result: xr.Dataset, roi) -> int:
    """Position of ``roi`` (a value of the ``roi`` coordinate) in ``result``.

    Parameters
    ----------
    result : xarray.Dataset
        Data over ``roi``.
    roi : object
        A value of its ``roi`` coordinate.

    Returns
    -------
    int
        The first position holding it.

    Raises
    ------
    KeyError
        When no ROI has that value.
    """
    values = np.asarray(result["roi"].values)
    hits = np.flatnonzero(values.astype(str) == str(roi)) if values.dtype.kind in "OUS" else (
        np.flatnonzero(values == roi))
    if not hits.size:
        shown = ", ".join(map(str, values[:5])) + (", ..." if values.size > 5 else "")
        raise KeyError(f"ROI {roi!r} is not in the result ({values.size} ROIs: {shown})")
    return int(hits[0])


@styled
@fill_doc
def plot_roi_evidence(result: xr.Dataset, roi, *, trace=None, runs=None, ax=None,
                      legend: bool = True, compact: bool = False, time_unit: str = "min"):
    """The evidence behind one ROI's post-run label, over the whole session.

    Run epochs are shaded yellow; the pre-run baseline (hatched) and the post-run windows (green) are
    the bars above the axes; the frame-level trace is drawn as the min and max of each display
    block (grey), the binned means the model fits as dots, the fitted session model as a line in
    the label's colour and the model without its post-run response terms dashed: where the two
    lines part after the run is the post-run effect the test weighs. The left title names the
    ROI and its label, the right one gives effect, p and q.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`sfone.classify.label_responses` result or :func:`prepare_evidence` output;
        without :data:`EVIDENCE_VARIABLES` (methods other than ``glm``, photometry channels on
        several clocks) no fit is drawn.
    roi : object
        The ROI, a value of ``result``'s ``roi`` coordinate.
    trace : xarray.DataArray or list of xarray.DataArray, optional
        The frame-level ``(roi, time)`` trace that was classified (see
        :func:`prepare_evidence`); not drawn when absent.
    runs : xarray.Dataset, str, os.PathLike, pandas.DataFrame or array_like, optional
        Run epochs (s from the recording start), for the windows of results that do not state
        them.
    %(ax)s
    legend : bool, default True
        Draw the legend right of the axes.
    compact : bool, default False
        Thumbnail layout: no axis labels, y ticks or legend, shorter titles.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis (from the recording start).

    Returns
    -------
    matplotlib.axes.Axes
        Artists carry gids ``evidence:<part>`` (``run``, ``baseline``, ``post_run``, ``trace``,
        ``binned``, ``fitted``, ``fitted_nuisance``, ``title``, ``stats``).

    Raises
    ------
    KeyError
        When ``roi`` is not in ``result``.
    """
    position = roi_position(result, roi)
    one = result.isel(roi=[position])
    if trace is not None:
        groups = _trace_groups(trace)
        key = one["roi"].values
        trace = [g.isel(roi=np.flatnonzero(np.isin(g["roi"].values, key))) for g in groups]
        trace = [g for g in trace if g.sizes["roi"]] or None
    session = _Session.from_dataset(prepare_evidence(one, trace, runs=runs))
    ax = new_axes(ax, figsize("double", 62))
    EvidencePanel(ax, session, legend=legend, compact=compact, time_unit=time_unit).show(0)
    return ax
