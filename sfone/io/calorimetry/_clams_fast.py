"""Single-pass reading of regular Oxymax/CLAMS per-cage files (the usual case), all cages at once.

The general reader (:mod:`sfone.io.calorimetry.clams`) splits each file into lines, parses the
data block as text and converts every column on its own; for a cohort of per-cage files most of
its time is per-file overhead. Here every file's ``:DATA`` block is located in the raw bytes, the
blocks of files sharing one column header are joined and parsed by one Arrow CSV call straight
into numbers. The rest is the general reader's: its column map and unit conversion
(:func:`~._clams_header.standard_variables`) and its timestamp parsing
(:func:`~._dates.us_12h_datetimes`, the usual layout of :func:`~._dates.parse_datetimes`, and
CalR's month-first rule :func:`~._dates.month_first_consistent`, checked per file).

The fast path only takes files it can read exactly as the general reader would: ASCII text, the
usual block layout (header, ``#`` units row, ``===`` rules, rows of one field count, optional
``:EVENTS``), plain numbers or ``ERR:0``-style missing cells, and ``M/D/YYYY h:mm:ss AM``
timestamps that increase. Anything else (a damaged cell, a cut-off last row, another date layout,
a missing column ...) makes :func:`read_cages_fast` return ``None`` and the general reader runs,
with its warnings and its errors naming the file and line. ``tests/test_calorimetry_clams_fast.py``
checks that both paths give identical Datasets.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ...exceptions import FormatError
from ._clams_header import COLUMN_MAP, cage_info, standard_variables
from ._common import MISSING_CELLS, VARIABLE_UNITS
from ._dates import month_first_consistent, us_12h_datetimes

__all__ = ["read_cages_fast"]
_DATA_LINE = re.compile(rb"^[ \t]*:DATA,*[ \t\r]*$", re.M)
_MAX_EXTRA_FIELDS = 5  # the general reader accepts up to 5 fields beyond the header


class _Irregular(Exception):
    """The file needs the general reader."""


def _cage_layout(path: Path) -> dict:
    """Header text, columns, units and the raw data block of one per-cage file."""
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    if not raw.isascii():
        raise _Irregular
    match = _DATA_LINE.search(raw)
    if match is None:
        raise _Irregular
    position = match.end() + 1  # the first line after ":DATA"
    prelude = []  # the column header and the units row, without the "===" rules
    for line in raw[position:].split(b"\n", 8)[:-1]:
        text = line.rstrip(b"\r")
        if prelude and text and not text.startswith((b"=", b"#")):
            break  # the first data row
        position += len(line) + 1
        if not text.startswith(b"==="):
            prelude.append(text.decode())
    else:
        raise _Irregular
    head = raw[:match.start()].decode().replace("\r\n", "\n")
    if "\r" in head or any("\r" in line for line in prelude):
        raise _Irregular  # a lone CR: the general reader normalises it to a line break
    if len(prelude) != 2 or not prelude[1].startswith("#") or prelude[0].startswith("#"):
        raise _Irregular  # header then units row, with rules around them: the usual layout
    header = [h.strip() for h in prelude[0].rstrip(",").split(",")]
    units = [u.strip() for u in prelude[1].rstrip(",").split(",")]
    if len(set(header)) != len(header) or "" in header \
            or not {"DATE/TIME", "VO2", "VCO2"} <= set(header):
        raise _Irregular
    events = raw.rfind(b"\n:EVENTS", position - 1)  # near the end; a second one fails parsing
    stop = len(raw) if events < 0 else events
    while stop > position and raw[stop - 1] in b"\r\n":  # blank lines before :EVENTS / EOF
        stop -= 1
    if stop <= position:
        raise _Irregular
    # Rows are counted by their LF; blank lines, lone CRs or a row cut short inside the block make
    # Arrow's row or field count differ and send the file to the general reader.
    block = memoryview(raw)[position:stop]
    newline = raw.find(b"\n", position, stop)
    n_fields = raw.count(b",", position, stop if newline < 0 else newline) + 1
    if not len(header) <= n_fields <= len(header) + _MAX_EXTRA_FIELDS:
        raise _Irregular
    names = header + [f"_extra{i}" for i in range(n_fields - len(header))]
    used = ["DATE/TIME"] + [c for columns in COLUMN_MAP.values() for c in columns if c in header]
    if "ROOM LIGHT" in header:
        used.append("ROOM LIGHT")
    return {"path": path, "head": head, "names": tuple(names), "used": tuple(dict.fromkeys(used)),
            "block": block, "n_rows": raw.count(b"\n", position, stop) + 1,
            "unit_of": {h: (units[i] if i < len(units) else "") for i, h in enumerate(header)}}


def _parse_blocks(layouts: list[dict]) -> pa.Table:
    """One Arrow CSV parse of the joined data blocks of files with the same columns."""
    first = layouts[0]
    types = {c: pa.string() if c in ("DATE/TIME", "ROOM LIGHT") else pa.float64()
             for c in first["used"]}
    try:
        table = pacsv.read_csv(
            pa.py_buffer(b"\n".join(layout["block"] for layout in layouts) + b"\n"),
            read_options=pacsv.ReadOptions(column_names=list(first["names"]),
                                           block_size=1 << 20),
            parse_options=pacsv.ParseOptions(quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types, include_columns=list(first["used"]), null_values=list(MISSING_CELLS),
                strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        raise _Irregular from None
    if table.num_rows != sum(layout["n_rows"] for layout in layouts):
        raise _Irregular
    return table


def _variables(table: pa.Table, rows: slice, unit_of: dict, mass_g: float):
    """Standard variables of one cage's rows of ``table`` and their source units."""
    columns = {name: table[name].slice(rows.start, rows.stop - rows.start)
               for name in table.column_names if name != "DATE/TIME"}
    try:
        return standard_variables(
            columns, unit_of, mass_g, path=None,
            number=lambda c: columns[c].to_numpy().astype(float, copy=False))
    except FormatError:
        raise _Irregular from None  # the general reader raises it, naming the file


def read_cages_fast(paths: list[Path]) -> tuple | None:
    """``(arrays, stamps, infos, units)`` of per-cage files (``infos``: per-cage dicts as
    :func:`~._clams_header.cage_info` gives them), or ``None`` when any file needs the general
    reader."""
    try:
        layouts = [_cage_layout(path) for path in paths]
        infos = [cage_info(layout["path"], layout["head"].split("\n")) for layout in layouts]
    except (_Irregular, FormatError):  # the general reader raises it with its context
        return None
    subjects = [info["subject"] for info in infos]
    if len(set(subjects)) != len(subjects):
        return None
    groups: dict[tuple, list[int]] = {}
    for i, layout in enumerate(layouts):
        groups.setdefault((layout["names"], layout["used"]), []).append(i)
    n_time = max(layout["n_rows"] for layout in layouts)
    stamps = np.full((len(paths), n_time), np.datetime64("NaT"), dtype="datetime64[ns]")
    grids: dict[str, np.ndarray] = {}
    file_units: list[dict] = [{}] * len(paths)
    try:
        for members in groups.values():
            table = _parse_blocks([layouts[i] for i in members])
            try:
                times = us_12h_datetimes(table["DATE/TIME"])
            except ValueError:
                return None
            start = 0
            for i in members:
                rows = slice(start, start + layouts[i]["n_rows"])
                start = rows.stop
                if np.any(np.diff(times[rows]) <= np.timedelta64(0)) \
                        or not month_first_consistent(times[rows]):
                    return None  # the general reader names the line, or reads it day-first
                stamps[i, :layouts[i]["n_rows"]] = times[rows]
                values, file_units[i] = _variables(table, rows, layouts[i]["unit_of"],
                                                   infos[i]["body_mass"])
                for name, column in values.items():
                    grid = grids.setdefault(name, np.full((len(paths), n_time), np.nan))
                    grid[i, :len(column)] = column
    except _Irregular:
        return None
    units: dict[str, str] = {}
    for one in file_units:  # in file order, as the general reader merges them
        units.update(one)
    arrays = {name: grids[name] for name in VARIABLE_UNITS if name in grids}
    return arrays, stamps, infos, units
