"""CalR standard files (one row per subject and reading) and CalR session files: read and write.

A CalR standard file has columns ``subject.id, subject.mass, cage, Date.Time, vo2, vco2, ee, rer,
feed, feed.acc, drink, drink.acc, xytot, xyamb, wheel, wheel.acc, pedmeter, allmeter, body.temp,
[minute, hour, day], exp.minute, exp.hour, exp.day, ee.acc`` (vo2/vco2 mL/h absolute, ee kcal/h);
extra columns are allowed. Its ``ee`` is kept as the dataset's EE (CalR computed it); the file's
``exp.hour``/``exp.day`` are kept as coordinates because CalR analyses windows on them.

A session file is positional (see :class:`CalRSession`). Its ``light`` pair is converted to
sfone's clock convention on reading (CalR's stored 6/18 means lights on 07:00, off 19:00; see
:func:`sfone.io.calorimetry.timebins.light_from_calr_session`) and back on writing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._atomic import write_csv
from ..._docs import fill_doc
from ...exceptions import FormatError
from ._common import long_to_dataset, read_table, read_text, to_number
from ._dates import parse_datetimes
from .timebins import (
    DEFAULT_LIGHT,
    experiment_time,
    light_from_calr_session,
    light_to_calr_session,
)

__all__ = ["read_calr", "write_calr", "to_calr_frame", "CalRSession", "read_calr_session",
           "write_calr_session"]

#: CalR column -> sfone variable
CALR_VARIABLES = {"vo2": "vo2", "vco2": "vco2", "ee": "ee", "rer": "rer_vendor", "feed": "feed",
                  "feed.acc": "feed_acc", "drink": "drink", "drink.acc": "drink_acc",
                  "xytot": "xytot", "xyamb": "xyamb", "wheel": "wheel", "wheel.acc": "wheel_acc",
                  "pedmeter": "pedmeter", "allmeter": "allmeter", "body.temp": "body_temp"}
STANDARD_COLUMNS = ["subject.id", "subject.mass", "cage", "Date.Time", *CALR_VARIABLES,
                    "minute", "hour", "day", "exp.minute", "exp.hour", "exp.day", "ee.acc"]
_DERIVED = {"minute", "hour", "day", "exp.minute", "exp.hour", "exp.day", "ee.acc"}


def _safe_name(column: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"\W", "_", column.strip().lower())).strip("_")


def _extras(table: pd.DataFrame, subjects: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    """Extra columns constant within each subject become per-subject coordinates."""
    known = set(STANDARD_COLUMNS) | {"Unnamed: 0", ""}
    per_subject, varying = {}, []
    for column in table.columns:
        if column in known:
            continue
        if (table[column].groupby(subjects, sort=False).nunique(dropna=False) <= 1).all():
            first = table[column].groupby(subjects, sort=False).first()
            numeric = pd.to_numeric(first, errors="coerce")
            per_subject[_safe_name(column)] = numeric if numeric.notna().all() else first
        else:
            varying.append(column)
    return pd.DataFrame(per_subject), varying


@fill_doc
def read_calr(path) -> xr.Dataset:
    """Read a CalR standard CSV into a calorimetry Dataset (masses from ``subject.mass``).

    Parameters
    ----------
    path : str or os.PathLike
        CalR standard CSV (``subject.id``, ``Date.Time``, ``vo2``, ``vco2``, ...).

    Returns
    -------
    %(calorimetry_dataset)s
        ``ee`` is the file's (kcal/h) when it has an ``ee`` column; CalR's ``rer`` is kept as
        ``rer_vendor``; extra columns constant per subject become per-subject coordinates.

    Raises
    ------
    FormatError
        If a required CalR column is missing (the message lists the columns found).
    """
    path = Path(path)
    table = read_table(read_text(path).split("\n"), path=path, what="CalR CSV")
    missing = [c for c in ("subject.id", "Date.Time", "vo2", "vco2") if c not in table.columns]
    if missing:
        raise FormatError(f"missing CalR column(s) {', '.join(missing)}; found "
                          f"{', '.join(table.columns[:10])}", path=path)
    subjects = table["subject.id"].str.strip()
    long = pd.DataFrame({"subject": subjects})
    for column, name in CALR_VARIABLES.items():
        if column in table:
            long[name] = to_number(table[column], path=path)
    for column, name in (("exp.hour", "exp_hour"), ("exp.day", "exp_day")):
        if column in table:
            long[name] = to_number(table[column], path=path)
    long["datetime"] = parse_datetimes(table["Date.Time"], path=path, column="Date.Time",
                                       line_numbers=table.attrs["line_numbers"]).to_numpy()
    extras, varying = _extras(table, subjects)
    order = list(dict.fromkeys(subjects))
    first = table.groupby(subjects, sort=False).first()
    meta = pd.DataFrame({"body_mass": to_number(first["subject.mass"]) if "subject.mass" in first
                         else np.nan,
                         "cage": first["cage"] if "cage" in first else "", "group": ""}).loc[order]
    meta = meta.join(extras.loc[order]) if not extras.empty else meta
    long = long.iloc[np.argsort(pd.Categorical(long["subject"], categories=order).codes,
                                kind="stable")]
    units = {"vo2": "ml/h", "vco2": "ml/h", "ee": "kcal/h"}
    ds = long_to_dataset(long, meta, path=path, source_format="calr", source_units=units,
                         ee_from_file="ee" in table,
                         attrs={"varying_extra_columns": varying} if varying else None)
    return ds


def _hours_text(stamps: pd.Series, freq: str, fmt: str) -> pd.Series:
    return stamps.dt.floor(freq).dt.strftime(fmt)


def to_calr_frame(ds: xr.Dataset, *, vendor_values: bool = False) -> pd.DataFrame:
    """The Dataset as a CalR standard table (R's ``modTSE``/``modOxy`` output columns).

    ``vendor_values=True`` uses the instrument's own EE and RER (``ee_vendor``, ``rer_vendor``)
    where present, which is what CalR's importers do; by default the dataset's ``ee`` (Weir)
    and ``rer`` are written.

    Parameters
    ----------
    ds : xarray.Dataset
        Contract-valid calorimetry Dataset.
    vendor_values : bool, default False
        Write the instrument's ``ee_vendor``/``rer_vendor`` where present.

    Returns
    -------
    pandas.DataFrame
        One row per subject and reading, columns in :data:`STANDARD_COLUMNS` order (``subject.id``,
        ``subject.mass`` g, ``cage``, ``Date.Time``, ``vo2``/``vco2`` mL/h, ``ee`` kcal/h, ...,
        ``exp.hour``, ``ee.acc`` kcal).
    """
    from .timebins import to_long

    long = to_long(ds)
    out = pd.DataFrame({"subject.id": long["subject"],
                        "subject.mass": long["subject"].map(
                            pd.Series(ds["body_mass"].values, index=ds["subject"].values)),
                        "cage": long["subject"].map(pd.Series(ds["cage"].values,
                                                              index=ds["subject"].values)),
                        "Date.Time": long["datetime"].dt.strftime("%Y-%m-%d %H:%M:%S")})
    for column, name in CALR_VARIABLES.items():
        source = name
        if column == "ee" and vendor_values and "ee_vendor" in long:
            source = "ee_vendor"
        if column == "rer":
            source = "rer_vendor" if vendor_values and "rer_vendor" in long else "rer"
        out[column] = long[source] if source in long else np.nan
    out["minute"] = _hours_text(long["datetime"], "min", "%Y-%m-%d %H:%M:%S")
    out["hour"] = _hours_text(long["datetime"], "h", "%Y-%m-%d %H:%M:%S")
    out["day"] = long["datetime"].dt.strftime("%Y-%m-%d")
    computed = experiment_time(long["datetime"].to_numpy())
    out["exp.minute"] = computed["exp_minute"]
    out["exp.hour"] = long["exp_hour"]
    out["exp.day"] = long["exp_day"]
    out["ee.acc"] = out.groupby("subject.id", sort=False)["ee"].cumsum()
    return out


def write_calr(ds: xr.Dataset, path, *, vendor_values: bool = False) -> Path:
    """Write ``ds`` as a CalR standard CSV (``NA`` for missing), atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Contract-valid calorimetry Dataset.
    path : str or os.PathLike
        Output CSV.
    vendor_values : bool, default False
        Write the instrument's EE and RER where present (see :func:`to_calr_frame`).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    frame = to_calr_frame(ds, vendor_values=vendor_values)
    return write_csv(frame, path, na_rep="NA", float_format="%.15g")


# --------------------------------------------------------------------- session files

@dataclass
class CalRSession:
    """A CalR session: groups, diets, analysis window, light schedule and MRI masses.

    Attributes
    ----------
    groups : dict
        Group name -> list of subject ids (in group order).
    diet_kcal_per_g : dict
        Group name -> diet energy density (kcal/g), CalR ``dietCal``.
    diet_names : dict
        Group name -> diet name, CalR ``diet_names``.
    colors : dict
        Group name -> plot colour, CalR ``colors``.
    xrange : tuple or None
        Analysis window (start, end) in experiment hours, both inclusive.
    light : tuple
        (on, off): lights on and off on the clock (light when on <= clock time < off). Read
        from the file's ``light`` column, converted from CalR's convention (stored 6/18 ->
        (7, 19)); :data:`~sfone.io.calorimetry.timebins.DEFAULT_LIGHT` when the file has none.
    light_in_file : bool
        Whether ``light`` came from the file (False: the default was used).
    subjects : DataFrame
        Indexed by subject id: ``total_mass``, ``lean_mass``, ``fat_mass``, ``exc`` ... (g, h).
    options : dict
        CalR analysis options as written (``outliers``, ``errorbars``, ``mri``, ``feedCutoff``).
    """

    groups: dict[str, list[str]]
    diet_kcal_per_g: dict[str, float] = field(default_factory=dict)
    diet_names: dict[str, str] = field(default_factory=dict)
    colors: dict[str, str] = field(default_factory=dict)
    xrange: tuple[float, float] | None = None
    light: tuple[float, float] = DEFAULT_LIGHT
    light_in_file: bool = False
    subjects: pd.DataFrame = field(default_factory=pd.DataFrame)
    options: dict[str, str] = field(default_factory=dict)

    def group_of(self) -> dict[str, str]:
        """Subject id -> group name (the inverse of :attr:`groups`).

        Returns
        -------
        dict of str to str
        """
        return {s: g for g, members in self.groups.items() for s in members}


_SUBJECT_COLUMNS = {"Total.Mass": "total_mass", "Lean.Mass": "lean_mass", "Fat.Mass": "fat_mass",
                    "Mass.Change": "mass_change", "exc": "exc"}
_OPTIONS = ("outliers", "errorbars", "mri", "feedCutoff")


def _column(table, name, n=None) -> list[str]:
    if name not in table:
        return []
    values = [v.strip() for v in table[name].tolist()]
    return values[:n] if n is not None else values


def _session_number(text: str, column: str, path) -> float:
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"column {column!r}: found {text!r}, expected a number",
                          path=path) from None


def read_calr_session(path) -> CalRSession:
    """Read a CalR session CSV (positional layout, NA padding).

    Parameters
    ----------
    path : str or os.PathLike
        CalR session CSV (``group_names``, ``group1``..., ``dietCal``, ``light``, ``id``...).

    Returns
    -------
    CalRSession
    """
    path = Path(path)
    table = read_table(read_text(path).split("\n"), path=path, what="CalR session CSV")
    group_columns = sorted((c for c in table.columns if re.fullmatch(r"group\d+", c)),
                           key=lambda c: int(c[5:]))
    if not group_columns or "group_names" not in table:
        raise FormatError("not a CalR session file: no group1.. / group_names columns", path=path)
    n = len(group_columns)
    names = _column(table, "group_names", n)
    if len(names) != n:
        raise FormatError(f"column 'group_names': found {names}, expected {n} names (one per "
                          f"group column)", path=path)
    groups = {name: [v for v in _column(table, col) if v not in ("", "NA")]
              for name, col in zip(names, group_columns, strict=True)}
    diet = {name: _session_number(value, "dietCal", path)
            for name, value in zip(names, _column(table, "dietCal", n), strict=False)
            if value not in ("", "NA")}

    def pair(column):
        values = [_session_number(v, column, path) for v in _column(table, column, 2)
                  if v not in ("", "NA")]
        return tuple(values) if len(values) == 2 else None

    ids = _column(table, "id")
    keep = [i for i, v in enumerate(ids) if v not in ("", "NA")]
    subjects = pd.DataFrame({key: to_number(table[col].iloc[keep]).to_numpy()
                             for col, key in _SUBJECT_COLUMNS.items() if col in table},
                            index=pd.Index([ids[i] for i in keep], name="subject"))
    options = {k: _column(table, k, 1)[0] for k in _OPTIONS if k in table}
    stored_light = pair("light")
    return CalRSession(groups=groups, diet_kcal_per_g=diet,
                       diet_names={k: v for k, v in zip(names, _column(table, "diet_names", n),
                                                        strict=False) if v not in ("", "NA")},
                       colors={k: v for k, v in zip(names, _column(table, "colors", n),
                                                    strict=False) if v not in ("", "NA")},
                       xrange=pair("xrange"),
                       light=light_from_calr_session(stored_light) if stored_light
                       else DEFAULT_LIGHT, light_in_file=stored_light is not None,
                       subjects=subjects, options=options)


def write_calr_session(session: CalRSession, path) -> Path:
    """Write a CalR session CSV in CalR's positional layout (``NA`` padding), atomically.

    ``session.light`` (clock convention) is written in CalR's convention: (7, 19) -> 6/18.

    Parameters
    ----------
    session : CalRSession
        Groups, diets, window, light schedule and subject table to write.
    path : str or os.PathLike
        Output CSV.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    names = list(session.groups)
    n_rows = max([2, len(session.subjects)] + [len(m) for m in session.groups.values()])
    columns: dict[str, list] = {}

    def put(name, values):
        columns[name] = list(values) + ["NA"] * (n_rows - len(values))

    for i, name in enumerate(names, start=1):
        put(f"group{i}", session.groups[name])
    put("group_names", names)
    put("diet_names", [session.diet_names.get(g, "NA") for g in names])
    put("dietCal", [repr(float(session.diet_kcal_per_g[g])) if g in session.diet_kcal_per_g
                    else "NA" for g in names])
    put("colors", [session.colors.get(g, "NA") for g in names])
    put("xrange", [f"{v:g}" for v in session.xrange] if session.xrange else [])
    for key in _OPTIONS:
        if key in session.options:
            put(key, [session.options[key]])
    put("light", [f"{v:g}" for v in light_to_calr_session(session.light)])
    for column, key in _SUBJECT_COLUMNS.items():
        if key in session.subjects:
            put(column, [f"{v:g}" if np.isfinite(v) else "NA" for v in session.subjects[key]])
    put("id", list(session.subjects.index))
    frame = pd.DataFrame(columns, index=range(1, n_rows + 1))
    return write_csv(frame, path, index=True)


def _sniff(path: Path) -> bool:
    with open(path, "rb") as fh:
        first = fh.read(4096).decode("latin-1").split("\n", 1)[0]
    columns = {c.strip().strip('"') for c in first.split(",")}
    return {"subject.id", "vo2", "vco2"} <= columns
