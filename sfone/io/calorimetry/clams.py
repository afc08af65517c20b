"""Columbus Instruments Oxymax/CLAMS CSV exports.

Two layouts:

* per-cage "subject CSV" files, with either header style (``Oxymax CSV File`` + ``Key,Value``
  lines, or the older ``OXYMAX CSV DATA FILE`` + ``KEY:VALUE``), a ``:DATA`` block (``===`` rows,
  column names, a ``#`` units row) and an optional ``:EVENTS`` block;
* lab-merged long tables (``clams-merged``): the header fields became columns (``EarTag``,
  ``Subject Mass [g]``, ``VO2 [ml/kg/hr]`` ...), possibly with a BOM and European dates.

VO2/VCO2 in ml/kg/hr are multiplied by the header mass (g) / 1000 to absolute mL/h. ``ERR:0`` is
NaN. EE is recomputed by Weir; the vendor ``HEAT`` (0.1 kcal/h resolution) is kept as
``ee_vendor``. Rows after the animal was taken out are flagged in ``qc_flag``, not dropped.

Several per-cage files become one Dataset over ``subject``: ``read_clams([path1, path2])``.
Regular exports (the usual case) are read in a single pass over all files by
:mod:`~sfone.io.calorimetry._clams_fast`, with the same result; anything irregular comes here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xarray as xr

from ..._docs import fill_doc
from ..._logging import warn
from ...exceptions import DataRepairWarning, FormatError
from .._text import LineNumbers
from ._clams_fast import read_cages_fast
from ._clams_header import cage_info, parse_clams_header, standard_variables
from ._common import grids_to_dataset, long_to_dataset, read_table, read_text, to_number
from ._dates import parse_datetimes

__all__ = ["read_clams", "read_clams_merged", "parse_clams_header"]

def _split_sections(text: str, path):
    """Header lines, column names, units, and the data rows with their 1-based file lines."""
    lines = text.split("\n")
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().rstrip(",") == ":DATA")
    except StopIteration:
        raise FormatError("no ':DATA' line: not a complete Oxymax/CLAMS export", path=path) from None
    body = [(i + 1, line) for i, line in enumerate(lines[start + 1:], start + 1)
            if not line.startswith("===")]
    end = next((i for i, (_, line) in enumerate(body) if line.strip().startswith(":EVENTS")),
               len(body))
    header = body[0][1].rstrip(",").split(",") if body else []
    units_line = next((line for _, line in body[1:3] if line.startswith("#")), "")
    rows = [(n, line) for n, line in body[1:end]
            if line.strip() and not line.startswith(("#", "="))]
    units = units_line.rstrip(",").split(",")
    return lines[:start], [h.strip() for h in header], units, rows


def _read_cage(path: Path) -> tuple[pd.DataFrame, list[str], dict]:
    text = read_text(path)
    head, header, units, rows = _split_sections(text, path)
    if not header or "VO2" not in header:
        raise FormatError(f"no column header with VO2 after ':DATA' (found {header[:5]})", path=path)
    missing = [c for c in ("DATE/TIME", "VCO2") if c not in header]
    if missing:
        raise FormatError(f"the column header after ':DATA' has no {', '.join(missing)}; "
                          "expected DATE/TIME, VO2 and VCO2 columns", path=path)
    if not rows:
        raise FormatError("header only: no data rows between ':DATA' and ':EVENTS'", path=path)
    table = read_table([line for _, line in rows], line_numbers=[n for n, _ in rows], path=path,
                       what="data block after ':DATA'",
                       names=header + [f"_extra{i}" for i in range(5)], min_fields=len(header))
    table = table[[c for c in table.columns if not c.startswith("_extra")]]
    unit_of = {h: (units[i].strip() if i < len(units) else "") for i, h in enumerate(header)}
    return table, head, unit_of


def _column_number(values: pd.Series, path=None) -> pd.Series:
    """``to_number`` of one CLAMS column; one arrow cast when every cell is a plain number or
    empty (the usual case, ~20x faster), else ``to_number`` (``ERR:0``, ``-``, ``NA`` ..., and
    the warning that names damaged cells)."""
    try:
        numbers = pc.cast(pc.utf8_trim_whitespace(pa.array(values, type=pa.string())),
                          pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return to_number(values, path=path)
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=values.index, dtype=float)


def _standardise(table: pd.DataFrame, unit_of: dict, mass_g: float,
                 path) -> tuple[pd.DataFrame, dict]:
    """Standard columns from CLAMS columns (see :func:`~._clams_header.standard_variables`)."""
    values, source_units = standard_variables(
        table, unit_of, mass_g, path=path, number=lambda c: _column_number(table[c], path))
    return pd.DataFrame(values, index=table.index), source_units


def _cage_long(path: Path) -> tuple[pd.DataFrame, dict, dict]:
    table, head, unit_of = _read_cage(path)
    info = cage_info(path, head)
    long, source_units = _standardise(table, unit_of, info["body_mass"], path)
    long["datetime"] = parse_datetimes(table["DATE/TIME"], path=path,
                                       line_numbers=table.attrs["line_numbers"]).to_numpy()
    long.insert(0, "subject", info["subject"])
    return long, info, source_units


@fill_doc
def read_clams(path, *, group: dict[str, str] | None = None) -> xr.Dataset:
    """Read one or several Oxymax/CLAMS per-cage CSV files into one Dataset over ``subject``.

    Parameters
    ----------
    path : path or list of paths
        Per-cage exports (each file one subject); both header styles.
    group : dict, optional
        Subject id -> group label, stored in the ``group`` coordinate.

    Returns
    -------
    %(calorimetry_dataset)s

    Raises
    ------
    FormatError
        If no file is given or a file breaks the CLAMS layout (the message names file and line).
    """
    paths = [Path(p) for p in ([path] if isinstance(path, str | Path) else path)]
    if not paths:
        raise FormatError("read_clams() got no files")
    source = paths[0] if len(paths) == 1 else ";".join(str(p) for p in paths)
    fast = read_cages_fast(paths)
    if fast is not None:
        arrays, stamps, infos, units = fast
        return grids_to_dataset(arrays, stamps, _cage_table(infos, group), path=source,
                                source_format="clams", source_units=units)
    longs, infos, units = [], [], {}
    for one in paths:
        long, info, source_units = _cage_long(one)
        if info["subject"] in {i["subject"] for i in infos}:
            raise FormatError(f"subject {info['subject']!r} appears in two files", path=one)
        longs.append(long)
        infos.append(info)
        units.update(source_units)
    return long_to_dataset(pd.concat(longs, ignore_index=True), _cage_table(infos, group),
                           path=source, source_format="clams", source_units=units)


def _cage_table(infos: list[dict], group: dict | None) -> pd.DataFrame:
    meta = pd.DataFrame(infos).set_index("subject")
    if group:
        meta["group"] = [group.get(s, "") for s in meta.index]
    return meta


# ---------------------------------------------------------------- merged long tables

def _merged_columns(columns) -> tuple[dict[str, str], dict[str, str]]:
    """Map 'VO2 [ml/kg/hr]' / 'FEED1.ACC [g]' / 'DATE.TIME' to CLAMS names and their units."""
    names, units = {}, {}
    for column in columns:
        match = re.match(r"^(.*?)\s*(?:\[(.*)\])?\s*$", str(column))
        name = match.group(1).strip().replace(".", " ").upper()
        if name == "DATE TIME":
            name = "DATE/TIME"
        names[column] = name
        units[name] = (match.group(2) or "").strip()
    return names, units


@fill_doc
def read_clams_merged(path, *, group: dict[str, str] | None = None,
                      day_first: bool | None = None) -> xr.Dataset:
    """Read a lab-merged long CLAMS table (one row per cage and interval) into one Dataset.

    Subjects are ``EarTag`` (or ``Subject ID``); cages labelled ``EMPTY`` (reference/empty cages)
    are dropped with a :class:`DataRepairWarning`.

    Parameters
    ----------
    path : str or os.PathLike
        Merged CSV with ``DATE/TIME``, an ``EarTag`` (or ``Subject ID``) and a mass column.
    group : dict of str to str, optional
        Subject id -> group label, stored in the ``group`` coordinate.
    day_first : bool, optional
        Read ambiguous dates as day/month; default: decided from the dates themselves.

    Returns
    -------
    %(calorimetry_dataset)s
    """
    path = Path(path)
    table = read_table(read_text(path).split("\n"), path=path, what="merged CLAMS table",
                       skipinitialspace=True)
    names, unit_of = _merged_columns(table.columns)
    table = table.rename(columns=names)
    columns = list(table.columns)
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise FormatError(f"merged CLAMS table: column(s) {repeated} appear twice once their "
                          "units are removed; expected one column per variable", path=path)
    id_column = next((c for c in ("EARTAG", "SUBJECT ID", "SUBJECT") if c in table.columns), None)
    mass_column = next((c for c in table.columns if c.startswith("SUBJECT MASS")), None)
    if (id_column is None or mass_column is None
            or not {"VO2", "VCO2", "DATE/TIME"} <= set(table.columns)):
        raise FormatError("merged CLAMS table needs EarTag (or Subject ID), 'Subject Mass [g]', "
                          "'DATE/TIME', 'VO2' and 'VCO2' columns; found "
                          f"{', '.join(table.columns[:12])}", path=path)
    ids = table[id_column].astype("string").str.strip()
    lines = np.asarray(table.attrs["line_numbers"])
    empty = ids.str.upper().isin(["EMPTY", "REF", "REFERENCE"])
    if empty.any():
        cages = sorted(set(table.get("GROUP/CAGE", ids)[empty]))
        warn(f"{path}: dropped {int(empty.sum())} rows of empty/reference cage(s) {cages} "
             "(EarTag EMPTY)", DataRepairWarning)
        table, ids = table[~empty].reset_index(drop=True), ids[~empty].reset_index(drop=True)
        lines = lines[~empty.to_numpy()]
        table.attrs["line_numbers"] = LineNumbers(lines.tolist())
    mass = to_number(table[mass_column])
    long, source_units = _standardise(table, unit_of, 1.0, path)
    for name in ("vo2", "vco2"):  # _standardise used mass 1 g: apply each row's own mass
        if "/kg" in source_units.get(name, "").lower():
            long[name] = long[name] * mass  # (raw / 1000) * mass_g
    long.insert(0, "subject", ids.to_numpy())
    long["datetime"] = parse_datetimes(table["DATE/TIME"], path=path, day_first=day_first,
                                       line_numbers=lines).to_numpy()
    long["_line"] = lines
    long = long.sort_values(["subject", "datetime"], kind="stable")
    order = list(dict.fromkeys(ids))
    first = table.groupby(ids.to_numpy(), sort=False).first()
    meta = pd.DataFrame({"body_mass": mass.groupby(ids.to_numpy(), sort=False).first(),
                         "cage": first.get("GROUP/CAGE", ""), "group": ""}).loc[order]
    if "LABID" in first:
        meta["lab_id"] = first["LABID"].loc[order]
    if group:
        meta["group"] = [group.get(s, "") for s in meta.index]
    long["subject"] = pd.Categorical(long["subject"], categories=order)
    long = long.sort_values("subject", kind="stable")
    long["subject"] = long["subject"].astype(str)
    return long_to_dataset(long, meta, path=path, source_format="clams-merged",
                           source_units=source_units)


def _first_line(path: Path, n: int = 2048) -> str:
    with open(path, "rb") as fh:
        head = fh.read(n)
    return head.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf").split("\n", 1)[0]


def _sniff(path: Path) -> bool:
    return "oxymax" in _first_line(path).lower()


def _sniff_merged(path: Path) -> bool:
    first = _first_line(path, 8192).lower()
    return "subject mass" in first and "vo2 [ml/kg/hr]" in first
