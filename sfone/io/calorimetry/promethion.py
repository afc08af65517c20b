"""Sable Systems Promethion "CalR macro" wide export.

One ``Date_Time_1`` column, then per cage N: ``vo2_N``, ``vco2_N`` (mL/min), ``kcal_hr_N``
(Sable's Weir, kept as ``ee_vendor``), ``rq_N``, ``foodupa_N``/``waterupa_N`` (cumulative g/mL),
``xbreak_N``, ``ybreak_N``, ``pedmeters_N``, ``allmeters_N``, ``bodymass_N``, ``bodytemp_N``,
``wheelmeters_N`` ... (docs/calorimetry.md section 1.2, from CalR's ``loadSableFile``).

No real file is public; sfone.simulate writes one from the documented layout. Sable does not
export animal ids or masses: subjects are ``cage_N`` unless ``subjects=`` maps them, and the body
mass is the median of ``bodymass_N`` unless ``body_mass=`` is given. Unlike CalR, rows with a
missing value are kept (NaN), not dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._docs import fill_doc
from ...exceptions import FormatError
from ._common import long_to_dataset, read_table, read_text, to_number
from ._dates import parse_datetimes

__all__ = ["read_promethion"]

_PER_CAGE = {"vo2": "vo2", "vco2": "vco2", "kcal_hr": "ee_vendor", "rq": "rer_vendor",
             "foodupa": "feed_acc", "waterupa": "drink_acc", "pedmeters": "pedmeter",
             "allmeters": "allmeter", "bodytemp": "body_temp", "bodymass": "body_mass_series",
             "wheelmeters": "wheel_acc"}


def _cage_numbers(columns) -> list[int]:
    return sorted({int(m.group(1)) for c in columns if (m := re.fullmatch(r"vo2_(\d+)", c))})


def _cage_long(table: pd.DataFrame, n: int, stamps, path) -> pd.DataFrame:
    if f"vco2_{n}" not in table:
        raise FormatError(f"cage {n} has 'vo2_{n}' but no 'vco2_{n}' column; expected both for "
                          "every cage", path=path)
    long = pd.DataFrame({"datetime": stamps})
    for prefix, name in _PER_CAGE.items():
        column = f"{prefix}_{n}"
        if column in table:
            long[name] = to_number(table[column], path=path).to_numpy()
    long["vo2"] *= 60.0  # mL/min -> mL/h
    long["vco2"] *= 60.0
    for acc, diff in (("feed_acc", "feed"), ("drink_acc", "drink")):
        if acc in long:  # CalR: feed = diff of the cumulative, first value = first reading
            long[diff] = long[acc].diff().fillna(long[acc].iloc[0])
    if f"xbreak_{n}" in table and f"ybreak_{n}" in table:
        long["xytot"] = (to_number(table[f"xbreak_{n}"]) + to_number(table[f"ybreak_{n}"])).to_numpy()
    return long


@fill_doc
def read_promethion(path, *, subjects: dict[int, str] | None = None,
                    body_mass: dict[str, float] | None = None,
                    group: dict[str, str] | None = None) -> xr.Dataset:
    """Read a Promethion CalR-macro wide CSV into a Dataset over ``subject`` (one per cage).

    Parameters
    ----------
    path : str or os.PathLike
        Wide CSV with ``Date_Time_1`` and per-cage ``vo2_N``/``vco2_N`` columns.
    subjects : dict of int to str, optional
        Cage number -> subject name (default ``cage_<N>``).
    body_mass : dict of str to float, optional
        Subject -> body mass (g).
    group : dict of str to str, optional
        Subject -> group label.

    Returns
    -------
    %(calorimetry_dataset)s

    Raises
    ------
    FormatError
        If the file lacks ``Date_Time_1`` or per-cage columns.
    """
    path = Path(path)
    table = read_table(read_text(path).split("\n"), path=path, what="Promethion CSV")
    cages = _cage_numbers(table.columns)
    if "Date_Time_1" not in table or not cages:
        raise FormatError("expected 'Date_Time_1' and per-cage 'vo2_N' columns; found "
                          f"{', '.join(table.columns[:8])}", path=path)
    stamps = parse_datetimes(table["Date_Time_1"], path=path, column="Date_Time_1",
                             line_numbers=table.attrs["line_numbers"]).to_numpy()
    longs, rows = [], []
    for n in cages:
        name = (subjects or {}).get(n, f"cage_{n}")
        long = _cage_long(table, n, stamps, path)
        long.insert(0, "subject", name)
        mass = (body_mass or {}).get(name)
        if mass is None and "body_mass_series" in long:
            mass = float(np.nanmedian(long["body_mass_series"]))
        rows.append({"subject": name, "body_mass": mass if mass is not None else np.nan,
                     "cage": str(n), "group": (group or {}).get(name, "")})
        longs.append(long)
    meta = pd.DataFrame(rows).set_index("subject")
    units = {"vo2": "mL/min", "vco2": "mL/min", "ee_vendor": "kcal/hr"}
    return long_to_dataset(pd.concat(longs, ignore_index=True), meta, path=path,
                           source_format="promethion", source_units=units)


def _sniff(path: Path) -> bool:
    with open(path, "rb") as fh:
        first = fh.read(4096).decode("latin-1").split("\n", 1)[0]
    return bool(re.search(r"(^|,)\"?Date_Time_\d", first)) and "vo2_1" in first
