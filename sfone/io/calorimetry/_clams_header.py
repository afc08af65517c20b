"""Oxymax/CLAMS per-cage files: header fields, column names, units and the standard variables
(shared by the general reader in :mod:`~sfone.io.calorimetry.clams` and its single-pass fast
path)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ...exceptions import FormatError

__all__ = ["COLUMN_MAP", "parse_clams_header", "cage_info", "absolute_gas", "standard_variables",
           "light_state"]

#: CLAMS column -> standard variable (summed when several are listed)
COLUMN_MAP: dict[str, tuple[str, ...]] = {
    "vo2": ("VO2",), "vco2": ("VCO2",), "ee_vendor": ("HEAT",), "rer_vendor": ("RER",),
    "feed": ("FEED1",), "feed_acc": ("FEED1 ACC",), "drink": ("DRINK1",),
    "drink_acc": ("DRINK1 ACC",), "xytot": ("XTOT", "YTOT"), "xyamb": ("XAMB", "YAMB"),
    "ztot": ("ZTOT",), "wheel": ("WHEEL",), "wheel_acc": ("WHEEL ACC",),
    "body_temp": ("BODY TEMP",), "heart_rate": ("HEART RATE",), "flow": ("FLOW",),
    # treadmill (Oxymax Metabolic Modular Treadmill style) columns
    "speed": ("SPEED",), "incline": ("INCLINE",), "shock": ("SHOCK TIME",), "stage": ("STAGE",),
}
_KEYS = {"subject id": "subject", "subject mass": "body_mass", "group/cage": "cage",
         "experiment started": "experiment_started", "experiment start": "experiment_started",
         "data filename": "data_filename", "cage settle time": "cage_settle_s",
         "cage measure time": "cage_measure_s", "heat calculation method": "heat_method",
         "reference method": "reference_method"}


def _header_key(line: str) -> tuple[str, str] | None:
    line = line.strip().rstrip(",")
    if not line:
        return None
    if "," in line:
        key, value = line.split(",", 1)
    elif ":" in line:
        key, value = line.split(":", 1)
    else:
        return None
    key = re.sub(r"\s*\(.*?\)\s*$", "", key.strip()).lower()
    return key, value.strip().strip(",").strip()


def parse_clams_header(lines: list[str]) -> dict[str, str]:
    """Metadata of a per-cage file from the lines before ``:DATA`` (both header styles).

    Parameters
    ----------
    lines : list of str
        The file's lines before ``:DATA`` (the first line, the file title, is skipped).

    Returns
    -------
    dict of str to str
        Header field -> value as written (e.g. subject id, body mass text, interval).
    """
    meta: dict[str, str] = {}
    for line in lines[1:]:
        item = _header_key(line)
        if item and item[0] in _KEYS:
            meta[_KEYS[item[0]]] = item[1]
    return meta


def _body_mass_g(text: str | None, path) -> float:
    match = re.search(r"[-+]?\d+(?:\.\d+)?", text or "")
    if not match:
        raise FormatError(f"header field 'Subject Mass': found {text!r}, expected a mass in g",
                          path=path)
    return float(match.group())


def cage_info(path: Path, head: list[str]) -> dict:
    """Subject, body mass (g) and cage of a per-cage file, from its lines before ``:DATA``."""
    meta = parse_clams_header(head)
    return {"subject": meta.get("subject") or meta.get("cage") or path.stem,
            "body_mass": _body_mass_g(meta.get("body_mass"), path), "cage": meta.get("cage", ""),
            "group": "", "file": path.name}


def absolute_gas(values, unit: str, mass_g: float, *, column: str, path):
    """VO2/VCO2 in absolute mL/h: values in ml/kg/hr times the body mass (g) / 1000; ml/hr
    (or no unit) as they are; any other unit is a FormatError naming the column."""
    if "/kg" in unit.lower():
        return values * mass_g / 1000.0
    if unit and "ml/h" not in unit.lower():
        raise FormatError(f"column {column!r}: unit {unit!r}, expected ml/kg/hr or ml/hr",
                          path=path)
    return values


def light_state(values) -> np.ndarray:
    """``ROOM LIGHT`` cells (text or an Arrow string array) as 1.0 (ON), 0.0 (OFF) or NaN."""
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(pd.Series(values, dtype="string"), type=pa.string())
    light = pc.utf8_upper(pc.utf8_trim_whitespace(values))
    on = pc.fill_null(pc.equal(light, "ON"), False).to_numpy(zero_copy_only=False)
    off = pc.fill_null(pc.equal(light, "OFF"), False).to_numpy(zero_copy_only=False)
    return np.where(on, 1.0, np.where(off, 0.0, np.nan))


def standard_variables(columns: Mapping, unit_of: dict, mass_g: float, *, path,
                       number: Callable | None = None) -> tuple[dict, dict]:
    """Standard variables of one cage's CLAMS ``columns`` (name -> cells) and their source units.

    Columns listed together in :data:`COLUMN_MAP` are summed, VO2/VCO2 become absolute mL/h
    (:func:`absolute_gas`) and ``ROOM LIGHT`` becomes ``light``; ``number(name)`` gives a column
    as numbers (default: the column as it is, already numeric).
    """
    number = number or columns.__getitem__
    values, units = {}, {}
    for name, sources in COLUMN_MAP.items():
        present = [c for c in sources if c in columns]
        if not present:
            continue
        total = sum(number(c) for c in present)
        units[name] = unit_of.get(present[0], "")
        if name in ("vo2", "vco2"):
            total = absolute_gas(total, units[name], mass_g, column=present[0], path=path)
        values[name] = total
    if "ROOM LIGHT" in columns:
        values["light"] = light_state(columns["ROOM LIGHT"])
    return values, units
