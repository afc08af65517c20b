"""Shared docstring paragraphs, filled in with :func:`fill_doc` (MNE's ``fill_doc`` idea).

A paragraph that several docstrings repeat word for word (a reader's ``Returns`` entry, the
``ax`` parameter of every ``plot_*``) is written once in :data:`docdict` and named in a docstring
as ``%(name)s``, on a line of its own at the docstring's section level::

    @fill_doc
    def read_x(path):
        \"\"\"Read an X file.

        Returns
        -------
        %(calorimetry_dataset)s
            Anything particular to X, indented as a description.
        \"\"\"

:func:`fill_doc` replaces each placeholder at import time, indenting the paragraph's lines like
the docstring, so ``help()``, ``inspect.getdoc`` and tests/test_docstrings.py see the finished
text. Entries are written without the docstring's indentation: a ``name : type`` line, then its
description indented by 4 spaces (or, for a ``Returns`` entry, the type line and description).
"""

from __future__ import annotations

import re

__all__ = ["docdict", "fill_doc"]

#: name -> paragraph; keep entries in numpydoc form (``name : type`` then an indented description)
docdict: dict[str, str] = {}

# --- readers ------------------------------------------------------------------------------------

docdict["chunks"] = """\
chunks : "auto", int, tuple or dict, optional
    Dask chunks (a tuple is ``(roi, time)``); the traces then stay on disk and are read when
    computed. ``None`` (default) reads them into memory."""

docdict["imaging_dataset"] = """\
xarray.Dataset
    Imaging Dataset: traces over ``(roi, time)`` (time in s), coordinates ``roi``, ``iscell``,
    ``y``/``x`` (pixels) where known, attr ``fs`` (Hz)."""

docdict["photometry_dataset"] = """\
xarray.Dataset
    Photometry Dataset: one variable per channel (``units`` attr: "a.u."/"V" for light,
    "1" for digital lines) over ``time``, or over ``time_<clock>`` (float64 s) when
    channels have separate clocks."""

docdict["calorimetry_dataset"] = """\
xarray.Dataset
    Calorimetry Dataset over ``(subject, time)``: ``vo2``, ``vco2`` (absolute mL/h), ``ee``
    (kcal/h, Weir), ``rer`` and the file's other standard variables, plus ``qc_flag``; ``time``
    is seconds from each subject's first reading, ``datetime`` the wall clock of every reading;
    per-subject coordinates ``body_mass`` (g) and the file's other per-subject fields
    (``group``, ``cage``, ...)."""

# --- figures ------------------------------------------------------------------------------------

docdict["ax"] = """\
ax : matplotlib.axes.Axes, optional
    Axes to draw in; default a new figure of the journal size."""

docdict["stats_table"] = """\
stats : sfone.reproduce.StatsTable, optional
    Collector of the figure's numbers; rows as described above."""

# --- statistics ---------------------------------------------------------------------------------

docdict["mice_ab"] = """\
mice_a, mice_b : array_like or list, optional
    Subject id of every cell (arrays), or of every list element (lists)."""

docdict["two_group_names"] = """\
groups : tuple of str, default ("day 1", "day 8")
    Names of the two groups."""

docdict["test_row"] = """\
test : str
    Row name of :attr:`tests`."""

docdict["animal_table"] = """\
table : pandas.DataFrame
    One row per animal.
value : str
    Column tested.
group : str
    Column naming each row's group."""

docdict["two_groups_order"] = """\
order : sequence of str
    The two groups compared (statistic of ``order[0]`` minus ``order[1]``)."""

docdict["two_sample_returns"] = """\
dict
    ``{"test", "statistic", "p_value", "n"}`` (``n``: values used)."""

docdict["two_sample_raises"] = """\
ValueError
    If a group has fewer than 2 values."""

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _indented(text: str, indent: str) -> str:
    first, *rest = text.splitlines()
    return first + "".join("\n" + (indent + line if line else "") for line in rest)


def fill_doc(obj):
    """Replace every ``%(name)s`` in ``obj``'s docstring by ``docdict[name]``, indented.

    Parameters
    ----------
    obj : function or class
        Its ``__doc__`` is rewritten in place (nothing happens without a docstring, e.g.
        under ``python -OO``).

    Returns
    -------
    function or class
        ``obj`` itself, so that ``fill_doc`` works as a decorator.

    Raises
    ------
    KeyError
        If the docstring names a paragraph :data:`docdict` does not have.
    """
    doc = obj.__doc__
    if not doc:
        return obj
    lines = doc.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()),
                 default=0)

    def paragraph(match):
        name = match.group(1)
        if name not in docdict:
            raise KeyError(f"{obj.__module__}.{obj.__qualname__}: no shared docstring paragraph "
                           f"{name!r} in sfone._docs.docdict (it has {', '.join(sorted(docdict))})")
        return _indented(docdict[name], " " * indent)

    obj.__doc__ = _PLACEHOLDER.sub(paragraph, doc)
    return obj
