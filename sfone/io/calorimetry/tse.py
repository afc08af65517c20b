"""TSE PhenoMaster / LabMaster CSV exports (row-wise "long" and column-wise "wide" layouts).

The column-wise layout (``Box;Parameter;<time 1>;...``) follows the description of CalR's
``loadTSEFile``; no real column-wise export was available to test against.

Handles comma or semicolon separators, decimal commas, Latin-1 text, ``\\r\\r\\n`` line ends, the
animal table (Box, Animal No., Weight [g], texts) and the ``(1)/(2)/(3)`` suffixes (per kg,
per kg^0.75, absolute). Cumulative Feed/Drink are detected per subject as CalR does (no step
below -0.001 g): then ``feed`` is the difference (first value 0) and ``feed_acc`` the raw series.

Files whose decimals a spreadsheet destroyed (RER 901, H(3) 422) are refused with an error naming
the columns and lines; ``repair="decimal"`` divides the comma-less cells of those columns by 1000
and warns. A data row written twice (every cell equal to an earlier row, as in the V6.9.5 DAKO
export) is dropped with a warning naming the subject and count; rows that share a time but
differ stay an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._docs import fill_doc
from ..._logging import warn
from ..._validate import _check_option
from ...exceptions import DataRepairWarning, FormatError
from ._common import drop_duplicate_rows, long_to_dataset, read_table, read_text, to_number
from ._dates import parse_datetimes

__all__ = ["read_tse", "PLAUSIBLE_RANGES"]

#: column -> (low, high): values outside mean a damaged file (mouse/rat scale, generous)
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "RER": (0.0, 3.0), "H(3)": (0.0, 10.0), "H(1)": (0.0, 200.0), "H(2)": (0.0, 60.0),
    "Ref.CO2": (-1.0, 5.0), "CO2": (-1.0, 5.0), "dO2": (-5.0, 5.0), "dCO2": (-5.0, 5.0),
    "Ref.O2": (0.0, 25.0), "O2": (0.0, 25.0),
}
CUMULATIVE_TOLERANCE = 0.001  # CalR: a series with no step below -0.001 is cumulative


def _split(line: str, sep: str) -> list[str]:
    return [c.strip() for c in line.split(sep)]


def _sections(lines: list[str], sep: str, path):
    """Indices of the animal table header and the data header, and the layout."""
    animal = next((i for i, line in enumerate(lines[:50]) if _split(line, sep)[0] == "Box"
                   and "Animal No." in line), None)
    data = next((i for i, line in enumerate(lines) if _split(line, sep)[:1] == ["Date"]
                 or _split(line, sep)[:1] == ["Date Time"]), None)
    if data is not None:
        return animal, data, "long"
    wide = next((i for i, line in enumerate(lines) if i != animal
                 and _split(line, sep)[:2] == ["Box", "Parameter"]), None)
    if wide is not None:
        return animal, wide, "wide"
    raise FormatError("no data header: expected a line starting with 'Date' (row-wise export) "
                      "or 'Box;Parameter' (column-wise export)", path=path)


def _long_table(lines, sep, data, path):
    """Row-wise export: the table below the ``Date;Time;...`` header and its units line."""
    cells = _split(lines[data], sep)
    header = cells[:max(i for i, h in enumerate(cells) if h) + 1]
    if data + 1 >= len(lines):
        raise FormatError(f"header only: no data rows after line {data + 1}", path=path)
    units = dict(zip(header, _split(lines[data + 1], sep), strict=False))
    names = header + [f"_blank{i}" for i in range(len(cells) - len(header))]
    raw = read_table(lines[data + 2:], line_numbers=list(range(data + 3, len(lines) + 1)),
                     path=path, what=f"data table under the header on line {data + 1}", sep=sep,
                     names=names)
    if not raw.attrs["line_numbers"]:
        raise FormatError(f"header only: no data rows after line {data + 2}", path=path)
    first = raw.attrs["line_numbers"][0]
    return raw[header], header, units, first


def _wide_table(lines, sep, start, animals: pd.DataFrame, path):
    """Column-wise export (``Box;Parameter;<time 1>;<time 2>...``, one row per box and
    parameter; layout as described by CalR's ``loadTSEFile``) -> the row-wise table."""
    stamps = [h for h in _split(lines[start], sep)[2:] if h]
    rows = [_split(line, sep)[:2 + len(stamps)] for line in lines[start + 1:]
            if line.strip(sep + " ")]
    table = pd.DataFrame(rows, columns=["Box", "Parameter", *stamps])
    names = table["Parameter"].str.extract(r"^(.*?)\s*(?:\[(.*)\])?$")
    table["Parameter"] = names[0]
    units = dict(zip(names[0], names[1].fillna(""), strict=True))
    long = table.melt(id_vars=["Box", "Parameter"], var_name="Date Time", value_name="value")
    raw = long.pivot(index=["Box", "Date Time"], columns="Parameter", values="value")
    raw = raw.reset_index()
    boxes = list(dict.fromkeys(table["Box"]))
    raw = raw.assign(_box=pd.Categorical(raw["Box"], boxes),
                     _time=pd.Categorical(raw["Date Time"], stamps))
    raw = raw.sort_values(["_box", "_time"]).drop(columns=["_box", "_time"])
    if animals is None:
        raise FormatError("column-wise export without an animal table (Box -> Animal No.)",
                          path=path)
    raw.insert(0, "Animal No.", raw["Box"].map(dict(zip(animals["Box"],
                                                        animals["Animal No."], strict=True))))
    raw.columns.name = None
    header = list(raw.columns)
    return raw.reset_index(drop=True), header, units, start + 2


def _animal_table(lines, start, end, sep) -> pd.DataFrame:
    header = [h for h in _split(lines[start], sep)]
    rows = []
    for line in lines[start + 1:end]:
        cells = _split(line, sep)
        if not any(cells):
            break
        rows.append(cells[:len(header)] + [""] * (len(header) - len(cells)))
    table = pd.DataFrame(rows, columns=header)
    return table.loc[:, [c for c in table.columns if c]]


def _meta(animals: pd.DataFrame, decimal_comma: bool, group_column: str | None, path):
    missing = [c for c in ("Box", "Animal No.") if c not in animals.columns]
    if missing:
        raise FormatError(f"the animal table has no {', '.join(missing)} column; found "
                          f"{', '.join(map(str, animals.columns[:8]))}", path=path)
    weight = next((c for c in animals.columns if c.lower().startswith("weight")), None)
    meta = pd.DataFrame({
        "body_mass": to_number(animals[weight], decimal_comma=decimal_comma).to_numpy()
        if weight else np.nan,
        "cage": animals["Box"].to_numpy(), "group": ""},
        index=pd.Index(animals["Animal No."].astype(str).to_numpy(), name="subject"))
    for column in animals.columns:
        if column in ("Box", "Animal No.", weight):
            continue
        key = re.sub(r"\W+", "_", column.strip().lower()).strip("_")
        meta[key] = animals[column].astype(str).str.strip().to_numpy()
    if group_column is not None:
        key = re.sub(r"\W+", "_", group_column.strip().lower()).strip("_")
        if key not in meta:
            raise FormatError(f"group_column {group_column!r} is not in the animal table "
                              f"({', '.join(animals.columns)})", path=path)
        meta["group"] = meta[key]
    return meta


def _damaged_cells(raw: pd.DataFrame, values: pd.DataFrame, first_line: int):
    """Per damaged column: (count, first line, first text) of values outside PLAUSIBLE_RANGES."""
    report = {}
    for column, (low, high) in PLAUSIBLE_RANGES.items():
        if column not in values:
            continue
        bad = (values[column] < low) | (values[column] > high)
        if bad.any():
            where = int(np.flatnonzero(bad.to_numpy())[0])
            lines = raw.attrs.get("line_numbers")
            line = lines[where] if lines else first_line + where
            report[column] = (int(bad.sum()), line, raw[column].iloc[where])
    return report


def _check_or_repair(raw, values, first_line, repair, decimal, path):
    report = _damaged_cells(raw, values, first_line)
    if not report:
        return values
    detail = "; ".join(f"{c}: {n} rows outside {PLAUSIBLE_RANGES[c]} (first at line {line}: "
                       f"{text!r})" for c, (n, line, text) in report.items())
    if repair != "decimal":
        raise FormatError(
            "implausible values, the decimal separators look destroyed by a spreadsheet: "
            f"{detail}. Pass repair='decimal' to divide the cells of these columns that lost "
            "their decimal separator by 1000 (check the result).", path=path)
    for column in report:
        no_separator = ~raw[column].astype("string").str.contains(re.escape(decimal), regex=True)
        values.loc[no_separator.fillna(False).to_numpy(), column] /= 1000.0
    left = _damaged_cells(raw, values, first_line)
    if left:
        raise FormatError(f"repair='decimal' could not fix: {left}", path=path)
    warn(f"{path}: repaired spreadsheet-damaged decimals (cells without a decimal separator "
         f"divided by 1000) in {', '.join(report)}: {detail}", DataRepairWarning)
    return values


def _gas(values, units, mass_by_row, name) -> tuple[pd.Series | None, str]:
    """Absolute mL/h from VO2(3), else VO2(1) x kg, else VO2(2) x kg^0.75."""
    for suffix, scale in (("(3)", None), ("(1)", 1.0), ("(2)", 0.75)):
        column = f"{name}{suffix}"
        if column in values:
            if scale is None:
                return values[column], units.get(column, "")
            return values[column] * (mass_by_row / 1000.0) ** scale, units.get(column, "")
    if name in values:
        return values[name], units.get(name, "")
    return None, ""


def _intake(series: pd.Series, subjects: pd.Series) -> tuple[pd.Series, pd.Series]:
    """CalR's rule per subject: cumulative -> (diff with first 0, raw); else (raw, cumsum)."""
    steps = series.groupby(subjects, sort=False).diff()
    cumulative = (steps >= -CUMULATIVE_TOLERANCE) | steps.isna()
    is_cum = cumulative.groupby(subjects, sort=False).transform("all")
    diff = steps.fillna(0.0)
    acc = series.groupby(subjects, sort=False).cumsum()
    return diff.where(is_cum, series), series.where(is_cum, acc)


def _standard_columns(values, units, subjects, mass_by_row) -> tuple[pd.DataFrame, dict]:
    out = pd.DataFrame(index=values.index)
    source = {}
    for name, column in (("vo2", "VO2"), ("vco2", "VCO2")):
        series, unit = _gas(values, units, mass_by_row, column)
        if series is None:
            raise KeyError(column)
        out[name], source[name] = series, unit
    if "H(3)" in values:
        out["ee_vendor"], source["ee_vendor"] = values["H(3)"], units.get("H(3)", "")
    if "RER" in values:
        out["rer_vendor"] = values["RER"]
    for name, single, pair in (("xytot", "XT+YT", ("XT", "YT")), ("xyamb", "XA+YA", ("XA", "YA"))):
        if single in values:
            out[name] = values[single]
        elif all(p in values for p in pair):
            out[name] = values[pair[0]] + values[pair[1]]
    for name, prefix in (("feed", "Feed"), ("drink", "Drink")):
        channels = [c for c in values if re.fullmatch(rf"{prefix}C?(\.?\d+)?", c)]
        if channels:
            total = values[channels].sum(axis=1, min_count=1)
            out[name], out[f"{name}_acc"] = _intake(total, subjects)
            source[name] = units.get(channels[0], "")
    if "SumR.L" in values:
        out["wheel"] = values["SumR.L"]
    if "LightC" in values:  # light sensor: on when above zero
        out["light"] = (values["LightC"] > 0).astype(float).where(values["LightC"].notna())
    return out, source


@fill_doc
def read_tse(path, *, repair: str | None = None, group_column: str | None = None) -> xr.Dataset:
    """Read a TSE PhenoMaster/LabMaster CSV export (row-wise or column-wise layout).

    Parameters
    ----------
    path : str or os.PathLike
        TSE CSV export (``;`` or ``,`` separated) with its animal table.
    repair : {None, "decimal"}
        ``"decimal"`` fixes spreadsheet-destroyed decimals (see module docstring) with a warning;
        by default such a file is refused.
    group_column : str, optional
        Animal-table column (e.g. ``"Genotype"``) to use as the ``group`` coordinate.

    Returns
    -------
    %(calorimetry_dataset)s

    Raises
    ------
    FormatError
        If the data header has no ``Animal No.`` column, decimals were destroyed by a spreadsheet
        (without ``repair="decimal"``), or the file breaks the layout (naming the line).
    ValueError
        If ``repair`` is not None or "decimal".
    """
    path = Path(path)
    _check_option("repair", repair, (None, "decimal"))
    lines = read_text(path).split("\n")
    sep = ";" if ";" in lines[0] else ","
    decimal = "," if sep == ";" else "."
    animal, data, layout = _sections(lines, sep, path)
    animals = _animal_table(lines, animal, data, sep) if animal is not None else None
    if layout == "long":
        raw, header, units, first = _long_table(lines, sep, data, path)
    else:
        raw, header, units, first = _wide_table(lines, sep, data, animals, path)
    if "Animal No." not in header:
        raise FormatError(f"the data header (line {data + 1}) has no 'Animal No.' column; found "
                          f"{', '.join(header[:8])}", path=path)
    raw = drop_duplicate_rows(raw, subject_column="Animal No.", path=path)
    ids = raw["Animal No."].astype("string").str.strip()
    numeric = [c for c in header if c not in ("Date", "Time", "Animal No.", "Box", "Date Time")]
    values = pd.DataFrame({c: to_number(raw[c], decimal_comma=decimal == ",", path=path)
                           for c in numeric})
    values = _check_or_repair(raw, values, first, repair, decimal, path)
    if animals is None:
        boxes = raw["Box"] if "Box" in raw else pd.Series("", index=raw.index)
        animals = pd.DataFrame({"Box": boxes.to_numpy(), "Animal No.": ids.to_numpy()}
                               ).drop_duplicates("Animal No.")
    meta = _meta(animals, decimal == ",", group_column, path)
    repeated = sorted(set(meta.index[meta.index.duplicated()]))
    if repeated:
        raise FormatError(f"the animal table lists animal(s) {repeated} more than once; expected "
                          "one row per animal", path=path)
    unknown = sorted(set(ids) - set(meta.index))
    if unknown:
        raise FormatError(f"animals {unknown} have data but are not in the animal table", path=path)
    mass_by_row = ids.map(meta["body_mass"]).astype(float)
    try:
        long, source_units = _standard_columns(values, units, ids, mass_by_row)
    except KeyError as exc:
        raise FormatError(f"no {exc.args[0]} column (expected {exc.args[0]}(3), (1) or (2)); "
                          f"found {', '.join(header)}", path=path) from None
    stamp = (raw["Date"].str.strip() + " " + raw["Time"].str.strip()) if "Date" in raw \
        else raw["Date Time"]
    long.insert(0, "subject", ids.to_numpy())
    if raw.attrs.get("line_numbers"):
        long["_line"] = list(raw.attrs["line_numbers"])
    long["datetime"] = parse_datetimes(stamp, path=path, column="Date/Time",
                                       line_numbers=raw.attrs.get("line_numbers")).to_numpy()
    meta = meta.loc[[s for s in meta.index if s in set(ids)]]
    version = _split(lines[1], sep)[1] if len(_split(lines[1], sep)) > 1 else ""
    return long_to_dataset(long, meta, path=path, source_format="tse", source_units=source_units,
                           attrs={"instrument": version, "experiment": _split(lines[0], sep)[0]})


def _sniff(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("latin-1")
    lines = head.replace("\r", "\n").split("\n")
    lines = [line for line in lines if line.strip()][:4]
    return any("TSE" in line and ("LabMaster" in line or "PhenoMaster" in line) for line in lines)
