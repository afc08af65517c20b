"""Sable Systems Promethion One-Click-Macro long summary (one row per animal and interval).

The layout a Promethion lab usually shares: the header starts ``StartDate,`` and every row holds
one animal's averages (``Avg_*``) and sums (``Sum_*``) over one interval of fixed length (30 min
bins are common). Columns read (names matched case-insensitively):

============================  =============  ================================================
column                        units in file  sfone variable
============================  =============  ================================================
``StartDate``, ``StartTime``  M/D/YYYY etc.  ``datetime`` (start of the interval)
``Animal``                    text/number    ``subject`` (and ``cage``)
``Avg_VO2``, ``Avg_VCO2``     mL/min         ``vo2``, ``vco2`` (x 60 -> mL/h)
``Avg_RQ``                    1              ``rer_vendor``
``Avg_EE``                    kcal/h         ``ee_vendor`` (checked against Weir)
``Sum_FoodA`` (+ ``B``)       g              ``feed`` (``feed_acc`` its running sum)
``Sum_WaterA`` (+ ``B``)      mL             ``drink`` (``drink_acc`` its running sum)
``Sum_XBreak`` + ``Sum_YBreak``  counts      ``xytot``
``Sum_AllMeters``             m              ``allmeter``
``Sum_PedMeters``             m              ``pedmeter``
``Avg_BodyMass``              g              ``body_mass_series`` (median -> ``body_mass``)
============================  =============  ================================================

Other columns (``EndDate``, ``EndTime``, ``Interval`` ...) are listed in the ``unread_columns``
attr. ``Avg_EE`` must equal Weir from ``Avg_VO2``/``Avg_VCO2`` in mL/min,
``EE [kcal/h] = 60 (3.941 VO2 + 1.106 VCO2) / 1000``: the file is refused when the typical row
disagrees by more than 5 % (wrong units or another equation: the error says which factor fits),
and rows off by more than printing precision are reported in a ``QualityWarning``. The dataset's
``ee`` is always Weir recomputed from VO2 and VCO2.

Sable's own description of the macro's outputs was not available here: the units follow the
issue's description and the Sable variable dictionary in docs/calorimetry.md section 3.3
(VO2/VCO2 mL/min, kcal_hr Weir). sfone.simulate writes a sample in this layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._docs import fill_doc
from ..._logging import logger, warn
from ...exceptions import FormatError, QualityWarning
from ._common import long_to_dataset, read_table, read_text, to_number
from ._dates import parse_datetimes

__all__ = ["read_promethion_oneclick", "WEIR_KCAL_H_PER_ML_MIN"]

#: Weir with VO2/VCO2 in mL/min and EE in kcal/h: 60 x (3.941, 1.106) / 1000
WEIR_KCAL_H_PER_ML_MIN = (0.23646, 0.06636)
_REQUIRED = ("startdate", "starttime", "animal", "avg_vo2", "avg_vco2")
_SUMS = {"feed": ("sum_fooda", "sum_foodb"), "drink": ("sum_watera", "sum_waterb"),
         "allmeter": ("sum_allmeters",), "pedmeter": ("sum_pedmeters",)}
_READ = set(_REQUIRED) | {"avg_rq", "avg_ee", "sum_xbreak", "sum_ybreak", "avg_bodymass"} \
    | {c for names in _SUMS.values() for c in names}
EE_REFUSE_FRACTION = 0.05  # median |Avg_EE / Weir - 1| above this: not Weir of these columns
EE_ROUNDING = (0.005, 0.0006)  # per-row tolerance: relative, absolute kcal/h (printed precision)


def _columns(table: pd.DataFrame, path) -> dict[str, str]:
    """Lower-case name -> the file's column name; the required ones must be there."""
    lookup = {c.strip().lower(): c for c in table.columns}
    missing = [c for c in _REQUIRED if c not in lookup]
    if missing:
        raise FormatError(f"Promethion One-Click-Macro summary: missing column(s) "
                          f"{', '.join(missing)}; found {', '.join(table.columns[:12])}",
                          path=path)
    return lookup


def _check_weir(long: pd.DataFrame, lines, path) -> None:
    """``Avg_EE`` against Weir from the file's mL/min VO2 and VCO2: refuse or warn."""
    a, b = WEIR_KCAL_H_PER_ML_MIN
    weir = a * long["vo2"] / 60.0 + b * long["vco2"] / 60.0
    ee = long["ee_vendor"]
    ok = ee.notna() & weir.notna() & (weir > 0)
    if not ok.any():
        return
    ratio = float(np.median(ee[ok] / weir[ok]))
    if abs(ratio - 1.0) > EE_REFUSE_FRACTION:
        hint = next((text for factor, text in ((60.0, "x 60: VO2/VCO2 in mL/h?"),
                                               (1 / 60.0, "/ 60: EE in kcal/min?"),
                                               (1000.0, "x 1000: VO2/VCO2 in L/min?"),
                                               (4.184, "x 4.184: EE in kJ/h?"))
                     if abs(ratio / factor - 1.0) < EE_REFUSE_FRACTION), "no unit factor fits")
        raise FormatError(f"column 'Avg_EE' is {ratio:.4g} x Weir of Avg_VO2/Avg_VCO2 (median "
                          f"of {int(ok.sum())} rows; {hint}); expected Avg_EE [kcal/h] = "
                          "60 (3.941 VO2 + 1.106 VCO2) / 1000 with VO2, VCO2 in mL/min",
                          path=path)
    off = ok & ((ee - weir).abs() > np.maximum(EE_ROUNDING[0] * weir, EE_ROUNDING[1]))
    if off.any():
        i = int(np.flatnonzero(off.to_numpy())[0])
        warn(f"{path}: {int(off.sum())} row(s) have Avg_EE differing from Weir of "
             f"Avg_VO2/Avg_VCO2 by more than rounding (first at line {lines[i]}: "
             f"{ee.iloc[i]:.5g} vs {weir.iloc[i]:.5g} kcal/h); sfone uses Weir ('ee') and keeps "
             "the file's value as 'ee_vendor'", QualityWarning)


def _long_table(table: pd.DataFrame, lookup: dict, path) -> pd.DataFrame:
    def number(name):
        return to_number(table[lookup[name]], path=path).to_numpy()

    stamps = parse_datetimes(table[lookup["startdate"]].str.strip() + " "
                             + table[lookup["starttime"]].str.strip(), path=path,
                             column="StartDate StartTime",
                             line_numbers=table.attrs["line_numbers"])
    long = pd.DataFrame({"subject": table[lookup["animal"]].str.strip().to_numpy(),
                         "datetime": stamps.to_numpy(),
                         "_line": table.attrs["line_numbers"]})
    if (long["subject"] == "").any():
        i = int(np.flatnonzero((long["subject"] == "").to_numpy())[0])
        raise FormatError(f"line {long['_line'].iloc[i]}: empty 'Animal'; expected an animal id "
                          "on every row", path=path)
    long["vo2"] = number("avg_vo2") * 60.0  # mL/min -> mL/h
    long["vco2"] = number("avg_vco2") * 60.0
    for name, variable in (("avg_rq", "rer_vendor"), ("avg_ee", "ee_vendor"),
                           ("avg_bodymass", "body_mass_series")):
        if name in lookup:
            long[variable] = number(name)
    for variable, names in _SUMS.items():
        present = [n for n in names if n in lookup]
        if present:
            long[variable] = np.sum([number(n) for n in present], axis=0)
    if "sum_xbreak" in lookup and "sum_ybreak" in lookup:
        long["xytot"] = number("sum_xbreak") + number("sum_ybreak")
    by_subject = long.groupby("subject", sort=False)
    for variable, acc in (("feed", "feed_acc"), ("drink", "drink_acc")):
        if variable in long:
            long[acc] = by_subject[variable].cumsum()
    return long


@fill_doc
def read_promethion_oneclick(path, *, body_mass: dict[str, float] | None = None,
                             group: dict[str, str] | None = None) -> xr.Dataset:
    """Read a Promethion One-Click-Macro long summary into a Dataset over ``subject``.

    Parameters
    ----------
    path : str or os.PathLike
        One-Click-Macro summary CSV (one row per animal and interval).
    body_mass : dict animal -> g, optional
        Masses (Sable does not export them); default the median of ``Avg_BodyMass`` if present.
    group : dict animal -> group, optional
        Group labels, stored in the ``group`` coordinate.

    Returns
    -------
    %(calorimetry_dataset)s
    """
    path = Path(path)
    table = read_table(read_text(path).split("\n"), path=path,
                       what="Promethion One-Click-Macro summary", skipinitialspace=True)
    lookup = _columns(table, path)
    long = _long_table(table, lookup, path)
    if "ee_vendor" in long:
        _check_weir(long, long["_line"].to_numpy(), path)
    order = list(dict.fromkeys(long["subject"]))
    long = long.iloc[np.argsort(pd.Categorical(long["subject"], categories=order).codes,
                                kind="stable")].reset_index(drop=True)
    rows = []
    for subject in order:
        mass = (body_mass or {}).get(subject)
        if mass is None and "body_mass_series" in long:
            values = long.loc[long["subject"] == subject, "body_mass_series"]
            mass = float(np.nanmedian(values)) if values.notna().any() else np.nan
        rows.append({"subject": subject, "body_mass": np.nan if mass is None else mass,
                     "cage": subject, "group": (group or {}).get(subject, "")})
    unread = [c for c in table.columns if c.strip().lower() not in _READ]
    if unread:
        logger.info("%s: columns not read: %s", path, ", ".join(unread))
    units = {"vo2": "mL/min", "vco2": "mL/min", "ee_vendor": "kcal/h", "feed": "g",
             "drink": "mL"}
    return long_to_dataset(long, pd.DataFrame(rows).set_index("subject"), path=path,
                           source_format="promethion-oneclick",
                           source_units={k: v for k, v in units.items() if k in long},
                           attrs={"unread_columns": unread} if unread else None)


def _sniff(path: Path) -> bool:
    with open(path, "rb") as fh:
        first = fh.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff").split("\n", 1)[0]
    names = {c.strip().strip('"').lower() for c in first.split(",")}
    return bool(re.match(r'\s*"?StartDate"?\s*,', first, flags=re.IGNORECASE)) \
        and {"avg_vo2", "avg_vco2", "animal"} <= names
