"""Outputs of a reproduction run: ``stats.csv`` (every number a figure shows) and ``report.html``.

:class:`StatsTable` collects one row per shown number; :func:`write_report_html` builds a single
self-contained page (figures embedded as base64 PNG, tables as HTML, parameters, sfone version).
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ._atomic import atomic_path

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
        """Add one row; ``n`` is the count behind ``value`` (ROIs, mice, cells)."""
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
        """
        from .figures._style import as_test_result

        result = as_test_result(result)
        if result is None:
            return
        self.add(figure, quantity, group, None, n=n, test=result["test"],
                 statistic=result["statistic"], p_value=result["p_value"])

    def extend(self, other: StatsTable) -> None:
        """Append the rows of another table."""
        self._rows.extend(dict(row) for row in other._rows)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with exactly :data:`STATS_COLUMNS`."""
        frame = pd.DataFrame(self._rows, columns=list(STATS_COLUMNS))
        frame["n"] = frame["n"].astype("Int64")
        for column in _NUMERIC:
            frame[column] = frame[column].astype(float)
        return frame

    def write(self, path) -> Path:
        """Write ``stats.csv`` atomically (full float precision, empty cells for missing)."""
        path = Path(path)
        with atomic_path(path) as tmp:
            self.to_frame().to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
        return path


def _figure_html(title: str, png_path) -> str:
    data = base64.b64encode(Path(png_path).read_bytes()).decode("ascii")
    title = html.escape(str(title))
    return (f'<figure><img alt="{title}" src="data:image/png;base64,{data}">'
            f"<figcaption>{title}</figcaption></figure>")


def _table_html(title: str, table) -> str:
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    body = frame.to_html(index=False, border=0, na_rep="", float_format=lambda v: f"{v:.4g}",
                         classes="data")
    return f"<h3>{html.escape(str(title))}</h3>{body}"


def _parameters_html(parameters: Mapping) -> str:
    text = json.dumps(parameters, indent=2, sort_keys=True, default=str)
    return f"<pre>{html.escape(text)}</pre>"


_CSS = """body{font-family:Arial,Helvetica,sans-serif;max-width:1100px;margin:2em auto;color:#222}
figure{margin:1.5em 0}img{max-width:100%}figcaption{font-size:90%;color:#555}
table.data{border-collapse:collapse;font-size:85%}table.data td,table.data th{padding:2px 8px;
border-bottom:1px solid #ddd;text-align:right}pre{background:#f6f6f6;padding:1em;font-size:85%}"""


def write_report_html(out_dir, figures: Mapping[str, object] | Sequence[tuple[str, object]],
                      tables: Mapping[str, object], parameters: Mapping, version: str, *,
                      title: str = "sfone reproduction report",
                      filename: str = "report.html") -> Path:
    """Write ONE self-contained HTML page into ``out_dir`` and return its path.

    Parameters
    ----------
    out_dir : path
        Output folder (created if needed); the page is ``out_dir / filename``.
    figures : mapping or sequence of (title, PNG path)
        Figures in display order; each PNG is embedded as a base64 data URI.
    tables : mapping title -> DataFrame (or anything ``pandas.DataFrame`` accepts)
        Shown as HTML tables, e.g. the stats table.
    parameters : mapping
        Analysis parameters (JSON-serialisable, others shown via ``str``).
    version : str
        The sfone version that produced the outputs.

    The page references no external file, stylesheet or script.
    """
    items = figures.items() if isinstance(figures, Mapping) else figures
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>sfone version <code>{html.escape(str(version))}</code></p>", "<h2>Figures</h2>"]
    parts += [_figure_html(name, png) for name, png in items]
    parts.append("<h2>Tables</h2>")
    parts += [_table_html(name, table) for name, table in tables.items()]
    parts += ["<h2>Parameters</h2>", _parameters_html(parameters)]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
    dest = Path(out_dir) / filename
    with atomic_path(dest) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return dest
