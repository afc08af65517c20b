"""The per-session evidence page: a static folder a reviewer opens in a browser, offline.

:func:`write_evidence_page` writes, atomically as one folder::

    DIR/index.html        sortable table of ROIs (roi, label, effect, p, q, iscell), a label filter
    DIR/thumbs/NNNNN.png  each ROI's evidence figure as a thumbnail (linked from the table)
    DIR/figures/NNNNN.png the full-size figure a thumbnail opens
    DIR/evidence.json     what wrote the folder (an earlier page may be replaced, nothing else)

The page needs no server and loads no external file; its one inline script sorts and filters
the table. PNG names are the ROI's position, so no text from an input file reaches a path; every
text from an input (ROI names, file names, attrs) is HTML-escaped. The figures are
:func:`sfone.figures.evidence.plot_roi_evidence`'s, drawn on two reused Figures (one per size)
whose artists are updated for each ROI.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np

from .. import __version__
from .._atomic import atomic_path
from .._logging import logger, progress
from ..exceptions import SfoneError
from ._style import CLASS_COLORS, CLASS_ORDER, figure_style, format_p
from .evidence import EvidencePanel, _Session, prepare_evidence

__all__ = ["write_evidence_page", "MARKER", "THUMB_SIZE_IN", "FULL_SIZE_IN"]

MARKER = "evidence.json"
#: figure sizes (inches) and resolutions (dpi) of the thumbnails and full-size figures
THUMB_SIZE_IN, THUMB_DPI = (3.4, 1.5), 100
FULL_SIZE_IN, FULL_DPI = (6.85, 2.6), 150
#: the PNGs: a palette of this many colours (the figures are flat colours; half the bytes and
#: time of RGB) and zlib level 1 (the fastest)
PNG_COLORS, PNG_COMPRESS_LEVEL = 64, 1
#: axes margins (inches: left, right, bottom, top) of the two layouts
_THUMB_MARGINS = (0.1, 0.08, 0.2, 0.24)
_FULL_MARGINS = (0.62, 1.75, 0.42, 0.3)


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def check_folder(folder) -> None:
    """Refuse a ``folder`` that exists and is neither empty nor an earlier evidence page.

    Parameters
    ----------
    folder : str or os.PathLike
        The page folder.

    Raises
    ------
    sfone.exceptions.SfoneError
        When writing the page there would replace something else.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or (
            any(folder.iterdir()) and not (folder / MARKER).is_file())):
        raise SfoneError(f"{folder}: exists and is not an earlier evidence page (no {MARKER}); "
                         "give a new or empty folder so nothing else is replaced")


def _figure(size, margins, dpi):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    width, height = size
    left, right, bottom, top = margins
    ax = fig.add_axes((left / width, bottom / height, 1 - (left + right) / width,
                       1 - (bottom + top) / height))
    return fig, ax


class _Blitter:
    """One reused Figure: everything but :meth:`EvidencePanel.dynamic_artists` is drawn once
    and kept as a background; each ROI restores it and draws only those artists."""

    def __init__(self, session: _Session, size, margins, dpi: int, *, compact: bool,
                 time_unit: str):
        self.fig, ax = _figure(size, margins, dpi)
        self.panel = EvidencePanel(ax, session, compact=compact, legend=not compact,
                                   time_unit=time_unit)
        label = ax.yaxis.label  # static: drawn once as figure text, not with every y axis
        if label.get_text():
            box = ax.get_position()
            self.fig.text(0.15 / size[0], (box.y0 + box.y1) / 2, label.get_text(),
                          rotation=90, ha="center", va="center",
                          fontsize=label.get_fontsize(), color=label.get_color())
            ax.set_ylabel("")
        self.dynamic = self.panel.dynamic_artists()
        for artist in self.dynamic:
            artist.set_animated(True)
        self.dpi = dpi
        self.panel.show(0)
        self.fig.canvas.draw()
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def save(self, i: int, path: Path) -> None:
        from PIL import Image

        canvas = self.fig.canvas
        self.panel.show(i)
        canvas.restore_region(self.background)
        renderer = canvas.get_renderer()
        for artist in self.dynamic:
            artist.draw(renderer)
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA",
                                 0, 1).convert("RGB")
        image = image.quantize(PNG_COLORS, method=Image.Quantize.FASTOCTREE,
                               dither=Image.Dither.NONE)
        image.save(path, format="png", compress_level=PNG_COMPRESS_LEVEL,
                   dpi=(self.dpi, self.dpi))


def render_figures(session: _Session, folder, names, *, time_unit: str = "min") -> None:
    """Draw every ROI of ``session`` as ``folder/thumbs/<name>`` and ``folder/figures/<name>``.

    Parameters
    ----------
    session : _Session
        The ROIs to draw.
    folder : str or os.PathLike
        The page folder (``thumbs/`` and ``figures/`` must exist).
    names : sequence of str
        PNG file name of each ROI.
    time_unit : {"min", "s"}, default "min"
        Unit of the time axis.
    """
    folder = Path(folder)
    if not len(names):
        return
    with figure_style():
        sizes = ((THUMB_SIZE_IN, _THUMB_MARGINS, THUMB_DPI, True, folder / "thumbs"),
                 (FULL_SIZE_IN, _FULL_MARGINS, FULL_DPI, False, folder / "figures"))
        figures = [(_Blitter(session, size, margins, dpi, compact=compact,
                             time_unit=time_unit), sub)
                   for size, margins, dpi, compact, sub in sizes]
        for i in progress(range(len(names)), desc="evidence figures", unit="ROI"):
            for blitter, sub in figures:
                blitter.save(i, sub / names[i])


def _render_part(args) -> None:
    session, folder, names, time_unit = args
    render_figures(session, folder, names, time_unit=time_unit)


def _number(value, kind: str) -> tuple[str, str]:
    """(sort key, shown text) of a cell."""
    value = float(value)
    if not math.isfinite(value):
        return "", "n/a"
    if kind == "effect":
        return repr(value), f"{value:+.2f}"
    return repr(value), format_p(value).removeprefix("p = ").removeprefix("p ")


_CSS = """body{font-family:Arial,Helvetica,sans-serif;max-width:1200px;margin:1.5em auto;
padding:0 1em;color:#222;line-height:1.4}h1{font-size:1.4em;overflow-wrap:anywhere}
.facts td,.facts th{padding:1px 8px 1px 0;text-align:left;vertical-align:top;
overflow-wrap:anywhere}.controls{margin:1em 0;display:flex;gap:1.5em;flex-wrap:wrap;
align-items:center}table.rois{border-collapse:collapse;width:100%;table-layout:auto}
table.rois td,table.rois th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;
vertical-align:middle;overflow-wrap:anywhere}table.rois th button{font:inherit;font-weight:bold;
background:none;border:0;padding:0;cursor:pointer;color:#0072B2}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
td.thumb{width:342px;max-width:45vw}td.thumb img{display:block;width:340px;max-width:100%;
height:auto;outline:1px solid #eee}td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:-.05em}
p.legend{max-width:900px;font-size:92%}"""

_JS = """(function(){
var table=document.getElementById('rois');var body=table.tBodies[0];
var rows=Array.prototype.slice.call(body.rows);
var filter=document.getElementById('label-filter');var count=document.getElementById('shown');
function key(row,col){return row.cells[col].getAttribute('data-value');}
function compare(a,b,col,type,dir){var x=key(a,col),y=key(b,col);
 if(x===''&&y==='')return 0;if(x==='')return 1;if(y==='')return -1;
 if(type==='number'){return dir*(parseFloat(x)-parseFloat(y));}
 return dir*x.localeCompare(y,undefined,{numeric:true});}
var heads=table.tHead.rows[0].cells;
Array.prototype.forEach.call(heads,function(th,col){var button=th.querySelector('button');
 if(!button)return;button.addEventListener('click',function(){
  var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
  Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort',dir===1?'ascending':'descending');
  var type=th.getAttribute('data-type');
  rows.sort(function(a,b){return compare(a,b,col,type,dir)||
   (parseInt(a.getAttribute('data-position'))-parseInt(b.getAttribute('data-position')));});
  rows.forEach(function(r){body.appendChild(r);});});});
function apply(){var wanted=filter.value;var n=0;
 rows.forEach(function(r){var show=!wanted||r.getAttribute('data-label')===wanted;
  r.hidden=!show;if(show)n++;});
 count.textContent=n+' of '+rows.length+' ROIs shown';}
filter.addEventListener('change',apply);apply();})();"""


def _facts(ev, title: str) -> str:
    attrs = ev.attrs
    rows = [("Session", title)]
    for key, name in (("source_file", "Source file"), ("subject", "Subject"),
                      ("session", "Session"), ("day", "Day"), ("signal", "Signal"),
                      ("method", "Method"), ("null", "Test"), ("alpha", "Alpha (on q)")):
        if key in attrs and str(attrs[key]) != str(title):
            rows.append((name, attrs[key]))
    for kind, name in (("baseline", "Baseline window (s)"), ("run", "Runs (s)"),
                       ("post_run", "Post-run windows (s)")):
        windows = attrs.get(f"evidence_{kind}_windows_s") or []
        if windows:
            rows.append((name, ", ".join(f"{a:.1f}-{b:.1f}" for a, b in windows)))
    return '<table class="facts">' + "".join(
        f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows) + "</table>"


_LEGEND = ("Each figure shows the ROI over the whole session, time from the recording start: "
           "run epochs shaded yellow; above the axes the pre-run baseline (hatched) and the "
           "post-run windows (green); the frame-level trace as the minimum and maximum of each "
           "display block (light grey); the binned means the model fits (dots); the fitted "
           "session model (line, in the label's colour) and the same model without its "
           "post-run response terms (dashed). Where the two lines part after the run is the "
           "post-run effect that was tested. Click a thumbnail for the full-size figure.")


def _page(ev, names, title: str) -> str:
    labels = np.asarray(ev["label"].values, dtype=str)
    has_iscell = "iscell" in ev.coords
    options = [f'<option value="">all ({labels.size})</option>']
    order = list(CLASS_ORDER) + sorted(set(labels) - set(CLASS_ORDER))
    for label in order:
        n = int((labels == label).sum())
        if n or label in CLASS_ORDER:
            options.append(f'<option value="{_esc(label)}">{_esc(label)} ({n})</option>')
    heads = ['<th scope="col">evidence</th>']
    for text, kind in (("ROI", "text"), ("label", "text"), ("effect", "number"),
                       ("p", "number"), ("q", "number")) + ((("iscell", "text"),)
                                                            if has_iscell else ()):
        heads.append(f'<th scope="col" data-type="{kind}"><button type="button">{text}'
                     "</button></th>")
    rois = ev["roi"].values
    effect, p, q = (np.asarray(ev[v].values, float) for v in ("effect", "p_value", "q_value"))
    iscell = np.asarray(ev["iscell"].values) if has_iscell else None
    body = []
    for i, name in enumerate(names):
        roi, label = _esc(rois[i]), _esc(labels[i])
        colour = CLASS_COLORS.get(labels[i], "#999999")
        cells = [f'<td class="thumb"><a href="figures/{name}"><img src="thumbs/{name}" '
                 f'width="{int(THUMB_SIZE_IN[0] * THUMB_DPI)}" '
                 f'height="{int(THUMB_SIZE_IN[1] * THUMB_DPI)}" loading="lazy" '
                 f'alt="evidence of ROI {roi}"></a></td>',
                 f'<td data-value="{roi}">{roi}</td>',
                 f'<td data-value="{label}"><span class="swatch" style="background:{colour}">'
                 f"</span>{label}</td>"]
        for value, kind in ((effect[i], "effect"), (p[i], "p"), (q[i], "p")):
            sort_key, shown = _number(value, kind)
            cells.append(f'<td class="num" data-value="{sort_key}">{_esc(shown)}</td>')
        if iscell is not None:
            cells.append(f'<td data-value="{_esc(iscell[i])}">{_esc(iscell[i])}</td>')
        body.append(f'<tr id="roi-{i}" data-position="{i}" data-label="{label}">'
                    + "".join(cells) + "</tr>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Evidence: {_esc(title)}</title><style>{_CSS}</style></head><body>\n"
            f"<h1>Per-neuron evidence: {_esc(title)}</h1>\n{_facts(ev, title)}\n"
            f'<p class="legend">{_esc(_LEGEND)}</p>\n'
            '<div class="controls"><label>Label <select id="label-filter">'
            + "".join(options) + '</select></label><span id="shown"></span></div>\n'
            f'<table class="rois" id="rois"><thead><tr>{"".join(heads)}</tr></thead>\n<tbody>\n'
            + "\n".join(body) + "\n</tbody></table>\n"
            f"<p>Written by sfone {_esc(__version__)}.</p>\n<script>{_JS}</script>\n"
            "</body></html>\n")


def write_evidence_page(result, folder, *, trace=None, runs=None, title: str | None = None,
                        jobs: int = 1, time_unit: str = "min") -> Path:
    """Write a session's evidence page and figures into ``folder``, atomically.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`sfone.classify.label_responses` result or
        :func:`sfone.figures.evidence.prepare_evidence` output.
    folder : str or os.PathLike
        The page folder; built beside it and renamed into place, so a failure leaves no
        half-written folder (an earlier page there stays as it was). Its parent must exist; an
        existing folder is replaced only if it is empty or an earlier evidence page.
    trace : xarray.DataArray or list of xarray.DataArray, optional
        The frame-level trace that was classified (see
        :func:`sfone.figures.evidence.prepare_evidence`).
    runs : xarray.Dataset, str, os.PathLike, pandas.DataFrame or array_like, optional
        Run epochs (s), for the windows of results that do not state them.
    title : str, optional
        Page title (default: the result's ``subject`` and ``session`` attrs, or its source file).
    jobs : int, default 1
        Processes drawing the figures (the ROIs are split between them).
    time_unit : {"min", "s"}, default "min"
        Unit of the figures' time axis.

    Returns
    -------
    pathlib.Path
        ``folder / "index.html"``.

    Raises
    ------
    sfone.exceptions.SfoneError
        When ``folder`` exists and is neither empty nor an earlier evidence page.
    """
    folder = Path(folder)
    check_folder(folder)
    if not folder.absolute().parent.is_dir():
        raise SfoneError(f"{folder}: folder '{folder.absolute().parent}' does not exist: create "
                         "it first")
    ev = prepare_evidence(result, trace, runs=runs)
    attrs = ev.attrs
    if title is None:
        parts = [str(attrs[k]) for k in ("subject", "session") if attrs.get(k)]
        title = " ".join(parts) or Path(str(attrs.get("source_file", "session"))).name
    n = ev.sizes["roi"]
    names = [f"{i:05d}.png" for i in range(n)]
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        (tmp / "thumbs").mkdir()
        (tmp / "figures").mkdir()
        jobs = max(1, min(int(jobs), n // 20 or 1))  # a process costs ~1 s to start
        if jobs == 1:
            render_figures(_Session.from_dataset(ev), tmp, names, time_unit=time_unit)
        else:
            _render_parallel(ev, tmp, names, jobs, time_unit)
        (tmp / "index.html").write_text(_page(ev, names, title), encoding="utf-8")
        marker = {"written_by": f"sfone {__version__}", "title": title, "n_rois": n,
                  "source_file": str(attrs.get("source_file", "")),
                  "method": str(attrs.get("method", ""))}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote the evidence page of %d ROIs to %s", n, folder)
    return folder / "index.html"


def _render_parallel(ev, folder: Path, names, jobs: int, time_unit: str) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    parts = np.array_split(np.arange(len(names)), jobs)
    work = [(_Session.from_dataset(ev, part), folder, [names[i] for i in part], time_unit)
            for part in parts]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        list(pool.map(_render_part, work))
