"""Outputs of a reproduction run: ``stats.csv`` (every number a figure shows) and ``report.html``.

:class:`StatsTable` collects one row per shown number; :func:`write_report_html` builds a single
self-contained page: a table of contents, figures embedded as base64 PNG at their natural
(print) size with captions, the statistics grouped by figure with readable numbers, and the
provenance (date, inputs with sha256, package versions, every parameter). Every text that comes
from input files (subject, file and column names) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import json
import math
import struct
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .._atomic import atomic_path, write_csv

__all__ = ["STATS_COLUMNS", "StatsTable", "write_report_html"]

STATS_COLUMNS = ("figure", "quantity", "group", "value", "n", "ci_low", "ci_high", "test",
                 "statistic", "p_value")
_NUMERIC = ("value", "ci_low", "ci_high", "statistic", "p_value")


def _number(name: str, value) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"stats row: {name} must be a number, got {value!r}") from None


class StatsTable:
    """Collector of the numbers shown in figures, written as ``stats.csv``.

    Quantities whose name starts with ``fraction`` must be fractions in [0, 1] (not percent);
    p-values must lie in [0, 1]. Rows keep the order in which they were added.

    Examples
    --------
    >>> stats = StatsTable()
    >>> stats.add("fig1", "fraction_activated", "day1", 0.318, n=88)
    >>> stats.to_frame().loc[0, "value"]
    np.float64(0.318)
    """

    def __init__(self):
        self._rows: list[dict] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, figure: str, quantity: str, group: str, value, *, n=None, ci_low=None,
            ci_high=None, test: str = "", statistic=None, p_value=None) -> None:
        """Add one row; ``n`` is the count behind ``value`` (ROIs, mice, cells).

        Parameters
        ----------
        figure : str
            Figure id (e.g. ``"fig1"``).
        quantity : str
            What ``value`` is; a name starting with ``fraction`` must be a fraction in [0, 1].
        group : str
            Group, day or subject the row is about.
        value : float or None
            The number shown (NaN/None for a test row).
        n : int, optional
            Count behind ``value``.
        ci_low, ci_high : float, optional
            Confidence interval of ``value``.
        test : str, default ""
            Test description.
        statistic : float, optional
            Test statistic.
        p_value : float, optional
            p-value, in [0, 1].

        Raises
        ------
        ValueError
            If a fraction is outside [0, 1], a p-value outside [0, 1], or a number is not numeric.
        """
        row = {"figure": str(figure), "quantity": str(quantity), "group": str(group),
               "value": _number("value", value), "n": None if n is None else int(n),
               "ci_low": _number("ci_low", ci_low), "ci_high": _number("ci_high", ci_high),
               "test": str(test or ""), "statistic": _number("statistic", statistic),
               "p_value": _number("p_value", p_value)}
        if quantity.startswith("fraction") and not (math.isnan(row["value"])
                                                    or 0.0 <= row["value"] <= 1.0):
            raise ValueError(f"stats row {figure}/{quantity}/{group}: a fraction must be in "
                             f"[0, 1], got {row['value']!r} (percent given?)")
        if not math.isnan(row["p_value"]) and not 0.0 <= row["p_value"] <= 1.0:
            raise ValueError(f"stats row {figure}/{quantity}/{group}: p_value must be in [0, 1], "
                             f"got {row['p_value']!r}")
        self._rows.append(row)

    def add_test(self, figure: str, quantity: str, group: str, result, *, n=None) -> None:
        """Add a test row from a result with ``test``, ``statistic``, ``p_value``.

        ``value`` is left empty: the row carries the test, the compared values have their own rows.

        Parameters
        ----------
        figure : str
            Figure id.
        quantity : str
            What was tested.
        group : str
            Groups compared.
        result : dict, pandas.Series, pandas.DataFrame or object
            Test result with ``test``, ``statistic``, ``p_value`` (see
            :func:`sfone.figures._style.as_test_result`); ``None`` adds nothing.
        n : int, optional
            Count behind the test.
        """
        from ..figures._style import as_test_result

        result = as_test_result(result)
        if result is None:
            return
        self.add(figure, quantity, group, None, n=n, test=result["test"],
                 statistic=result["statistic"], p_value=result["p_value"])

    def extend(self, other: StatsTable) -> None:
        """Append the rows of another table.

        Parameters
        ----------
        other : StatsTable
            Table whose rows are appended (copied).
        """
        self._rows.extend(dict(row) for row in other._rows)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with exactly :data:`STATS_COLUMNS`.

        Returns
        -------
        pandas.DataFrame
            One row per added row, columns :data:`STATS_COLUMNS` (``n`` nullable Int64, numbers float).
        """
        frame = pd.DataFrame(self._rows, columns=list(STATS_COLUMNS))
        frame["n"] = frame["n"].astype("Int64")
        for column in _NUMERIC:
            frame[column] = frame[column].astype(float)
        return frame

    def write(self, path) -> Path:
        """Write ``stats.csv`` atomically (full float precision, empty cells for missing).

        Parameters
        ----------
        path : str or os.PathLike
            Output CSV.

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        return write_csv(self.to_frame(), path)



_CSS_PX_PER_INCH = 96.0
#: Figures are shown at 1.5 x their print size: one scale for all, so a 7 pt label reads the same
#: in a single-column and a double-column figure (about 14 px), and a double-column figure
#: (174 mm) is 987 px wide.
DISPLAY_SCALE = 1.5


def _png_size(data: bytes) -> tuple[int, int, float]:
    """Width, height (pixels) and resolution (pixels per inch, 96 if not stored) of a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    ppi = _CSS_PX_PER_INCH
    at = data.find(b"pHYs")
    if at > 0:
        x, _, unit = struct.unpack(">IIB", data[at + 4:at + 13])
        if unit == 1 and x > 0:  # pixels per metre
            ppi = x * 0.0254
    return width, height, ppi


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _figure_html(title: str, png_path, caption: str = "", anchor: str = "",
                 warnings=()) -> str:
    """One figure at its natural size: its print size (pixels / dpi) times
    :data:`DISPLAY_SCALE`, in CSS pixels; its warnings in a marked box above it."""
    raw = Path(png_path).read_bytes()
    width, height, ppi = _png_size(raw)
    css_w = round(width / ppi * _CSS_PX_PER_INCH * DISPLAY_SCALE)
    css_h = round(height / ppi * _CSS_PX_PER_INCH * DISPLAY_SCALE)
    data = base64.b64encode(raw).decode("ascii")
    ident = f' id="{_esc(anchor)}"' if anchor else ""
    text = f"<strong>{_esc(title)}</strong>" + (f" {_esc(caption)}" if caption else "")
    boxes = "".join(f'<p class="warning" role="note">{_esc(w)}</p>' for w in warnings)
    return (f'<figure{ident}>{boxes}<img alt="{_esc(title)}" width="{css_w}" height="{css_h}" '
            f'src="data:image/png;base64,{data}"><figcaption>{text}</figcaption></figure>')


def _readable(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if kind == "p":
        from ..figures._style import format_p

        return format_p(value).removeprefix("p = ")
    if kind == "n":
        return f"{int(value):d}"
    value = float(value)
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def _stats_rows_html(frame: pd.DataFrame) -> str:
    head = ("<tr><th>quantity</th><th>group</th><th>value</th><th>n</th><th>95 % CI</th>"
            "<th>test</th><th>statistic</th><th>p</th></tr>")
    rows = []
    for row in frame.itertuples(index=False):
        low, high = _readable(row.ci_low, "x"), _readable(row.ci_high, "x")
        ci = f"{low} to {high}" if low and high else ""
        cells = [row.quantity.replace("_", " "), row.group.replace("_", " "),
                 _readable(row.value, "x"), _readable(row.n, "n"), ci, row.test,
                 _readable(row.statistic, "x"), _readable(row.p_value, "p")]
        rows.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>")
    return f'<table class="data">{head}{"".join(rows)}</table>'


def _stats_html(frame: pd.DataFrame, titles: Mapping[str, str]) -> str:
    """The stats table split by figure; within a figure, the tests first."""
    parts = []
    for figure, part in frame.groupby("figure", sort=False):
        tests = part[part["test"].astype(str) != ""]
        values = part[part["test"].astype(str) == ""]
        anchor = f"stats-{figure}"
        parts.append(f'<h3 id="{_esc(anchor)}">{_esc(titles.get(figure, figure))}</h3>')
        if len(tests):
            parts.append("<h4>Tests</h4>" + _stats_rows_html(tests))
        if len(values):
            parts.append("<h4>Values shown</h4>" + _stats_rows_html(values))
    return "\n".join(parts)


def _table_html(title: str, table) -> str:
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, float | int) and not isinstance(value, bool):
                value = _readable(value, "n" if isinstance(value, int) else "x")
            cells.append(f"<td>{_esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<h3>{_esc(title)}</h3><table class=\"data\"><tr>{head}</tr>"
            f"{''.join(body)}</table>")


def _parameters_html(parameters: Mapping) -> str:
    text = json.dumps(parameters, indent=2, sort_keys=True, default=str)
    return f"<pre>{html.escape(text)}</pre>"


def _provenance_html(provenance: Mapping) -> str:
    parts = []
    facts = [("Study", provenance.get("study", "")), ("Created", provenance.get("created_utc", "")),
             ("Run time", f"{provenance['runtime_s']} s" if "runtime_s" in provenance else "")]
    parts.append('<table class="facts">' + "".join(
        f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts if v) + "</table>")
    if provenance.get("description"):
        parts.append(f"<p>{_esc(provenance['description'])}</p>")
    versions = provenance.get("versions") or {}
    if versions:
        parts.append('<h3 id="versions">Package versions</h3><table class="data">'
                     "<tr><th>package</th><th>version</th></tr>" + "".join(
                         f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>"
                         for k, v in versions.items()) + "</table>")
    inputs = provenance.get("inputs") or []
    if inputs:
        parts.append(f'<h3 id="inputs">Inputs ({len(inputs)} files)</h3><table class="data '
                     'inputs"><tr><th>entry</th><th>file</th><th>bytes</th><th>sha256</th></tr>'
                     + "".join(f"<tr><td>{_esc(r['entry'])}</td><td>{_esc(r['file'])}</td>"
                               f"<td>{_esc(r['bytes'])}</td><td class=\"hash\">"
                               f"{_esc(r['sha256'])}</td></tr>" for r in inputs) + "</table>")
    return "\n".join(parts)


_CSS = """body{font-family:Arial,Helvetica,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.4}figure{margin:1.5em 0 2.5em}
img{max-width:100%;height:auto;display:block}figcaption{font-size:90%;color:#333;
max-width:720px;margin-top:.5em}nav ul.toc-figures{list-style:none;padding-left:1em;
columns:2 22em;column-gap:3em;margin:.3em 0 .6em}nav ul.toc-figures li{break-inside:avoid;
padding:.1em 0}h3{margin-top:1.6em}
table{border-collapse:collapse;font-size:85%;max-width:100%}td,th{padding:2px 8px;
border-bottom:1px solid #ddd;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td.hash{font-family:monospace;font-size:90%;word-break:break-all}
p.warning{max-width:720px;margin:.3em 0 .6em;padding:.4em .8em;border-left:4px solid #D55E00;
background:#FFF3EB;font-size:90%;overflow-wrap:anywhere}
pre{background:#f6f6f6;padding:1em;font-size:85%;white-space:pre-wrap;overflow-wrap:anywhere}"""


def write_report_html(out_dir, figures, tables: Mapping[str, object], parameters: Mapping,
                      version: str, *, provenance: Mapping | None = None,
                      title: str = "sfone reproduction report",
                      filename: str = "report.html", evidence_pages=()) -> Path:
    """Write ONE self-contained HTML page into ``out_dir`` and return its path.

    The page references no external file, stylesheet or script; its only links to other files
    are those of ``evidence_pages``.

    Parameters
    ----------
    out_dir : path
        Output folder (created if needed); the page is ``out_dir / filename``.
    figures : mapping title -> PNG path, or sequence of tuples
        ``(title, PNG path[, caption[, anchor[, warnings]]])``.
        Figures in display order; each PNG is embedded as a base64 data URI and shown at one
        common scale of its print size (pixels / dpi x :data:`DISPLAY_SCALE`); ``warnings``
        (a sequence of str, e.g. the sensitivity check of figures 1 and 4) are shown in a
        marked box above the figure.
    tables : mapping title -> DataFrame
        A table titled ``"stats"`` with :data:`STATS_COLUMNS` is shown grouped by figure with
        readable numbers; others are shown as they are.
    parameters : mapping
        Every analysis parameter used (JSON-serialisable, others shown via ``str``).
    version : str
        The sfone version that produced the outputs.
    provenance : mapping, optional
        ``study``, ``created_utc``, ``runtime_s``, ``versions``, ``inputs`` (rows with entry,
        file, bytes, sha256), as ``sfone reproduce`` writes to ``provenance.json``.
    title : str, default "sfone reproduction report"
        Page heading and title.
    filename : str, default "report.html"
        File name inside ``out_dir``.
    evidence_pages : sequence of (str, str), default ()
        (session, link relative to ``out_dir``) of each session's per-ROI evidence page,
        listed in a section of their own.

    Returns
    -------
    pathlib.Path
        ``out_dir / filename``.
    """
    items = list(figures.items()) if isinstance(figures, Mapping) else list(figures)
    items = [tuple(item) + ("",) * (4 - len(item)) + ((),) * (len(item) < 5) for item in items]
    items = [(t, p, c, a or f"figure-{i + 1}", tuple(w))
             for i, (t, p, c, a, w) in enumerate(items)]
    titles = {a: t for t, _, _, a, _ in items}
    # the figure entries carry their own "Figure N." (no list numbers beside them) in a
    # two-column list whose entries never break or run into the next column
    toc = ['<li><a href="#figures">Figures</a><ul class="toc-figures">'] + [
        f'<li><a href="#{_esc(a)}">{_esc(t)}</a></li>' for t, _, _, a, _ in items] + ["</ul></li>"]
    toc += ['<li><a href="#evidence">Per-neuron evidence</a></li>'] if evidence_pages else []
    toc += ['<li><a href="#statistics">Statistics</a></li>',
            '<li><a href="#provenance">Provenance</a></li>',
            '<li><a href="#parameters">Parameters</a></li>']
    parts = [f"<h1>{_esc(title)}</h1>",
             f"<p>sfone version <code>{_esc(version)}</code>"
             + (f", created {_esc(provenance['created_utc'])}" if provenance
                and provenance.get("created_utc") else "") + "</p>",
             '<nav><h2>Contents</h2><ol>' + "".join(toc) + "</ol></nav>",
             '<h2 id="figures">Figures</h2>']
    parts += [_figure_html(t, p, c, a, w) for t, p, c, a, w in items]
    if evidence_pages:
        parts.append('<h2 id="evidence">Per-neuron evidence</h2><p>Each session\'s ROIs with '
                     "their label, effect, p and q and the figure behind each label (sortable, "
                     "filter by label):</p><ul>" + "".join(
                         f'<li><a href="{_esc(href)}">{_esc(name)}</a></li>'
                         for name, href in evidence_pages) + "</ul>")
    parts.append('<h2 id="statistics">Statistics</h2>')
    for name, table in tables.items():
        frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
        if name == "stats" and tuple(frame.columns) == STATS_COLUMNS:
            parts.append("<p>Every number the figures show (full precision in stats.csv), "
                         "grouped by figure. p-values are as the test row names them (Holm-"
                         "corrected where it says so).</p>")
            parts.append(_stats_html(frame, titles))
        else:
            parts.append(_table_html(name, frame))
    parts.append('<h2 id="provenance">Provenance</h2>')
    parts.append(_provenance_html(provenance or {}))
    parts += ['<h2 id="parameters">Parameters</h2>', _parameters_html(parameters)]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
    dest = Path(out_dir) / filename
    with atomic_path(dest) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return dest
