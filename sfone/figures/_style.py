"""Publication style: colour-blind-safe palette, journal sizes, fonts, saving and annotations.

Colours are the Okabe-Ito palette (Okabe & Ito 2008), distinguishable with every common form of
colour blindness. Sizes follow journal columns: single column 85 mm, 1.5 column 114 mm, double
column 174 mm. Fonts are 6-7 pt, the range journals ask for at print size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib as mpl
import numpy as np

from .._atomic import atomic_path
from ..schema import POST_RUN_LABELS

__all__ = [
    "OKABE_ITO", "CLASS_COLORS", "CLASS_ORDER", "CLASS_NAMES", "figure_style", "figsize",
    "save_figure", "color_for", "format_p", "annotate_test", "annotate_corner", "as_test_result",
    "label_with_n", "label_panels", "significance_stars", "STARS_KEY", "COLUMN_WIDTH_MM",
    "MIN_FONT_PT",
]

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

#: Post-run classes in display order (bars bottom-up, heatmap rows top-down, legends).
CLASS_ORDER = POST_RUN_LABELS
CLASS_NAMES = {"activated": "Activated", "inhibited": "Inhibited", "unchanged": "No change"}
CLASS_COLORS = {"activated": OKABE_ITO["vermillion"], "inhibited": OKABE_ITO["blue"],
                "unchanged": "#BBBBBB"}

#: Fixed colours of the groups that appear in the paper, so a group keeps its colour everywhere.
GROUP_COLORS = {
    "day1": OKABE_ITO["sky_blue"], "day8": OKABE_ITO["blue"],
    "control": OKABE_ITO["black"], "silenced": OKABE_ITO["blue"], "inhibit": OKABE_ITO["blue"],
    "inhibit_15min": OKABE_ITO["blue"], "stimulate_60min": OKABE_ITO["vermillion"],
    "sedentary": OKABE_ITO["grey"], "one_run": OKABE_ITO["orange"],
}
_CYCLE = ("orange", "bluish_green", "reddish_purple", "sky_blue", "yellow", "vermillion")

#: Display names of groups and days (anything else is shown as given).
GROUP_NAMES = {
    "day1": "Day 1", "day8": "Day 8", "control": "Control", "silenced": "SF1-silenced",
    "inhibit": "Post-run inhibition", "inhibit_15min": "Post-run inhibition (15 min)",
    "stimulate_60min": "Post-run stimulation (60 min)", "sedentary": "Sedentary",
    "one_run": "One run", "treated": "Treated", "trained": "Trained",
}

#: Short names for crowded tick labels.
SHORT_NAMES = {"inhibit_15min": "Inhibit\n15 min", "stimulate_60min": "Stimulate\n60 min",
               "inhibit": "Post-run\ninhibition"}

COLUMN_WIDTH_MM = {"single": 85.0, "1.5": 114.0, "double": 174.0}
#: Smallest font size (pt at print size) of any text in a figure; journals ask for 6-8 pt.
MIN_FONT_PT = 6.0
#: Panel letters: bold, 8 pt (the size journals ask for).
PANEL_LETTER_PT = 8.0
_MM_PER_INCH = 25.4

_RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans"],
    "font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 6,
    "ytick.labelsize": 6, "legend.fontsize": 6, "legend.title_fontsize": 6,
    "figure.titlesize": 8,
    "axes.linewidth": 0.6, "xtick.major.width": 0.6, "ytick.major.width": 0.6,
    "xtick.major.size": 2.5, "ytick.major.size": 2.5, "lines.linewidth": 1.0,
    "lines.markersize": 3, "axes.spines.top": False, "axes.spines.right": False,
    "legend.frameon": False, "legend.handlelength": 1.4, "axes.titlepad": 4,
    "axes.titleweight": "bold",
    "savefig.bbox": "tight", "savefig.pad_inches": 0.02, "figure.dpi": 100,
    "pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none", "svg.hashsalt": "sfone",
    "image.interpolation": "nearest",
}


@contextlib.contextmanager
def figure_style():
    """Context manager applying sfone's publication rcParams (restored on exit).

    Yields
    ------
    None
        The sfone rcParams are active inside the block.
    """
    with mpl.rc_context(_RC):
        yield


def figsize(width: str | float = "single", height_mm: float = 60.0) -> tuple[float, float]:
    """Figure size in inches for a journal column (``"single"``, ``"1.5"``, ``"double"``) or mm.

    Parameters
    ----------
    width : {"single", "1.5", "double"} or float, default "single"
        Journal column (85, 114 or 174 mm) or a width in mm.
    height_mm : float, default 60.0
        Height (mm).

    Returns
    -------
    tuple of float
        ``(width, height)`` in inches.
    """
    width_mm = COLUMN_WIDTH_MM[width] if isinstance(width, str) else float(width)
    return width_mm / _MM_PER_INCH, height_mm / _MM_PER_INCH


def color_for(group, index: int = 0) -> str:
    """Colour of a group, day or class; unknown names cycle through the palette by ``index``."""
    key = str(group)
    if key in CLASS_COLORS:
        return CLASS_COLORS[key]
    if key in GROUP_COLORS:
        return GROUP_COLORS[key]
    return OKABE_ITO[_CYCLE[index % len(_CYCLE)]]


def display_name(group, short: bool = False) -> str:
    """Human-readable name of a group, day or class (``short`` for tick labels)."""
    key = str(group)
    if short and key in SHORT_NAMES:
        return SHORT_NAMES[key]
    return CLASS_NAMES.get(key) or GROUP_NAMES.get(key) or key.replace("_", " ")


def label_with_n(name, n: int, unit: str = "") -> str:
    """``"Day 1 (n = 12 mice)"``; ``unit`` names what is counted."""
    unit = f" {unit}" if unit else ""
    return f"{display_name(name)} (n = {int(n)}{unit})"


def save_figure(fig, stem, formats: Iterable[str] = ("png", "svg", "pdf"),
                dpi: int = 300) -> list[Path]:
    """Write ``fig`` as ``<stem>.<format>`` for each format, each file atomically.

    Dates are left out of the SVG and PDF metadata so a re-run writes identical files.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    stem : str or os.PathLike
        Output path without suffix.
    formats : iterable of str, default ("png", "svg", "pdf")
        File formats.
    dpi : int, default 300
        Resolution of raster formats.

    Returns
    -------
    list of pathlib.Path
        The written paths.
    """
    stem = Path(stem)
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}
    written = []
    with figure_style():
        for fmt in formats:
            dest = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_path(dest) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata.get(fmt))
            written.append(dest)
    return written


def format_p(p: float) -> str:
    """``"p = 0.031"``, ``"p = 3.1e-04"``; ``"p < 1e-10"`` below that.

    Parameters
    ----------
    p : float
        p-value.

    Returns
    -------
    str
        ``"p = n/a"`` for a non-finite ``p``.
    """
    p = float(p)
    if not np.isfinite(p):
        return "p = n/a"
    if p < 1e-10:
        return "p < 1e-10"
    if p < 0.001:
        return f"p = {p:.1e}"
    return f"p = {p:.2g}" if p < 0.01 else f"p = {p:.3f}".rstrip("0").rstrip(".")


def as_test_result(result) -> dict | None:
    """Normalise a test result to ``{"test", "statistic", "p_value"}``.

    Accepts a mapping or pandas Series with those keys, a one-row DataFrame, or an object with
    attributes of those names (a dataclass). ``None`` stays ``None``.
    """
    if result is None:
        return None
    if hasattr(result, "iloc") and getattr(result, "ndim", 1) == 2:
        if len(result) != 1:
            raise ValueError(f"expected one test result row, got {len(result)} rows")
        result = result.iloc[0]
    if isinstance(result, Mapping) or hasattr(result, "index"):
        get = result.get
    else:
        def get(key, default=None):
            return getattr(result, key, default)
    if get("p_value") is None:
        raise ValueError("a test result needs at least a 'p_value' (and 'test', 'statistic')")
    statistic = get("statistic")
    return {"test": str(get("test", "") or ""), "p_value": float(get("p_value")),
            "statistic": np.nan if statistic is None else float(statistic)}


def test_label(result: dict, sep: str = ", ") -> str:
    """``"Fisher exact test, p = 0.004"`` from a normalised test result (a test that was not
    computed shows its name and reason only)."""
    name = result["test"]
    if "not computed" in name and not np.isfinite(result["p_value"]):
        import textwrap

        return textwrap.fill(name, 40)
    return f"{name}{sep}{format_p(result['p_value'])}" if name else format_p(result["p_value"])


test_label.__test__ = False  # not a pytest test despite the name


def short_test_label(result: dict) -> str:
    """``"Mann-Whitney U, p = 0.0048"``: the test's name without its qualifiers (what follows
    its first comma or parenthesis; the caption gives them) and the p-value, short enough for
    the bracket over a narrow panel."""
    name = result["test"].split(" (")[0].split(", ")[0].strip()
    if "not computed" in result["test"] and not np.isfinite(result["p_value"]):
        return f"{name.split(':')[0]}: not computed"
    return f"{name}, {format_p(result['p_value'])}" if name else format_p(result["p_value"])


#: What the asterisks of a per-time-point comparison mean (thresholds of
#: :func:`significance_stars`).
STARS_KEY = "* p < 0.05, ** p < 0.01, *** p < 0.001"


def significance_stars(p: float) -> str:
    """``"***"`` (p < 0.001), ``"**"`` (< 0.01), ``"*"`` (< 0.05) or ``""`` (see :data:`STARS_KEY`).

    Parameters
    ----------
    p : float
        p-value (as corrected by the caller).

    Returns
    -------
    str
    """
    p = float(p)
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def label_panels(axes, letters: str = "abcdefghijklmnop", *, x_pt: float = -26.0,
                 y_pt: float = 6.0) -> list:
    """Write the panel letter (bold, 8 pt) above the top-left corner of each axes.

    The letter sits ``x_pt`` points right of (negative: left of) the axes' left edge, over the
    y tick labels, and ``y_pt`` points above its top, so captions can refer to "(a)", "(b)".

    Parameters
    ----------
    axes : sequence of matplotlib.axes.Axes
        The panels, in letter order.
    letters : str, default "abcdefghijklmnop"
        Letters in order.
    x_pt, y_pt : float
        Offset of the letter from the axes' top-left corner (points).

    Returns
    -------
    list of matplotlib.text.Annotation
        The letters (gid "panel:<letter>").
    """
    out = []
    for ax, letter in zip(axes, letters, strict=False):
        out.append(ax.annotate(letter, (0.0, 1.0), xycoords="axes fraction",
                               xytext=(x_pt, y_pt), textcoords="offset points", ha="left",
                               va="bottom", fontsize=PANEL_LETTER_PT, fontweight="bold",
                               gid=f"panel:{letter}", annotation_clip=False))
    return out


def annotate_test(ax, result, *, x0: float = 0.0, x1: float = 1.0, y: float = 1.02,
                  bracket: bool = True, text: str | None = None):
    """Draw a bracket from ``x0`` to ``x1`` (data x) at height ``y`` (axes fraction) with the label.

    Returns the Text artist, or ``None`` when ``result`` is ``None``.
    """
    result = as_test_result(result)
    if result is None:
        return None
    transform = ax.get_xaxis_transform()
    if bracket:
        ax.plot([x0, x0, x1, x1], [y - 0.02, y, y, y - 0.02], transform=transform,
                color="black", lw=0.6, clip_on=False)
    label = text if text is not None else test_label(result)
    return ax.text((x0 + x1) / 2, y + 0.01, label, transform=transform, ha="center",
                   va="bottom", fontsize=6, clip_on=False)


def annotate_corner(ax, result, *, prefix: str = "", x: float = 0.02, y: float = 0.98,
                    ha: str = "left", sep: str = ", "):
    """Write ``prefix + "test, p = ..."`` in a corner of ``ax`` (axes fraction); None if no result."""
    result = as_test_result(result)
    if result is None:
        return None
    return ax.text(x, y, prefix + test_label(result, sep), transform=ax.transAxes, ha=ha, va="top",
                   fontsize=6)


def new_axes(ax, size: tuple[float, float]):
    """``ax`` itself, or a new styled Figure/Axes of ``size`` (inches) when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    with figure_style():
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def mean_sem(values, axis=0):
    """Mean, standard error of the mean (ddof 1) and n of the finite values along ``axis``.

    SEM is NaN where fewer than two values are finite.
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    n = finite.sum(axis=axis)
    filled = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=axis) / n
        centred = np.where(finite, values - np.expand_dims(mean, axis), 0.0)
        sd = np.sqrt((centred**2).sum(axis=axis) / (n - 1))
        sem = np.where(n > 1, sd / np.sqrt(n), np.nan)
    return mean, sem, n


def styled(function):
    """Run a plotting function inside :func:`figure_style` so its text uses the sfone fonts."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with figure_style():
            return function(*args, **kwargs)

    return wrapper
