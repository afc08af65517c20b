"""Sable Systems Promethion One-Click-Macro long summary (one row per animal and interval).

The layout a Promethion lab usually shares: the header starts ``StartDate,`` and every row holds
one animal's means and sums over one interval of fixed length (30 min bins are common). A real
export (16 mice, 2023; studied, not copied: its repository has no licence) has the header
``StartDate,StartTime,EndTime,Cycle,Animal,Age_months,Genotype,id_code,Sex,InitMass_g,BP_kPa,
EvniroLightLux,...,Avg_EE,Tot_EE,Avg_VO2,Avg_VCO2,Avg_RQ,...,UptakeA_g,UptakeA_N,UptakeA_Sum,...,
uptakeW_g,uptakeW_N,uptakeW_Sum,...,BodyMass_g,BodyMass_SD,YBreaks,XBreaks,ZBreaks,AllMeters,
PedMeters,...``, dates ``5/22/23``, hours without a leading zero (``0:00:00``), ``.`` for a
missing value, a UTF-8 BOM. Columns read (names matched case-insensitively):

==================================  ==============  =============================================
column                              units in file   sfone variable (checked against)
==================================  ==============  =============================================
``StartDate``, ``StartTime``        M/D/YY(YY)      ``datetime`` (start of the interval)
``EndDate``/``EndTime``             as above        the interval length (``interval_s`` attr)
``Animal``                          text/number     ``subject`` (and ``cage``)
``Avg_VO2``, ``Avg_VCO2``           mL/min          ``vo2``, ``vco2`` (x 60 -> mL/h)
``Avg_RQ``                          1               ``rer_vendor``
``Avg_EE``                          kcal/h          ``ee_vendor`` (Weir of Avg_VO2/Avg_VCO2)
``Tot_EE``                          kcal            (Avg_EE x interval; not stored)
``UptakeA_Sum`` (+ B, ...)          g per interval  ``feed`` (UptakeA_g x UptakeA_N); ``feed_acc``
``uptakeW_Sum``                     g per interval  ``drink`` in mL (1 g = 1 mL); ``drink_acc``
``XBreaks`` + ``YBreaks``           counts          ``xytot``; ``ZBreaks`` -> ``ztot``
``AllMeters``, ``PedMeters``        m               ``allmeter``, ``pedmeter`` (PedMeters <= All)
``BodyMass_g``                      g (0: none)     ``body_mass_series`` (0 -> NaN)
``InitMass_g``                      g               ``body_mass`` (else the median BodyMass_g)
``Genotype``                        text            ``group`` (unless ``group=``)
``EvniroLightLux`` (sic)            0-1 or lx       ``light``: lit fraction > 0.5, or lx > 10
==================================  ==============  =============================================

The older names ``Sum_FoodA``/``Sum_FoodB``, ``Sum_WaterA``/``B``, ``Sum_XBreak``/``YBreak``,
``Sum_AllMeters``, ``Sum_PedMeters`` and ``Avg_BodyMass`` are read the same way. Every other
column is listed in a warning and in the ``unread_columns`` attr (nothing is dropped silently).

Units are checked against the file's own values: ``Avg_EE`` must equal Weir from
``Avg_VO2``/``Avg_VCO2`` in mL/min, ``EE [kcal/h] = 60 (3.941 VO2 + 1.106 VCO2) / 1000``;
``Tot_EE`` must be ``Avg_EE`` times the interval in hours; an uptake ``_Sum`` must be its ``_g``
(the mean bout) times ``_N`` (the bouts); ``PedMeters`` cannot exceed ``AllMeters``. A typical
row off by more than 5 % refuses the file (the error names a unit factor that fits); single rows
off by more than printing precision are reported in a ``QualityWarning``. The light sensor
column holds, in the real export, the fraction of the interval with the light on (0-1); values
above 1 are read as illuminance (lx), lit above 10 lx. The dataset's ``ee`` is always Weir
recomputed from VO2 and VCO2.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._docs import fill_doc
from ..._logging import logger, warn
from ...exceptions import FormatError, QualityWarning, SfoneWarning
from ._common import long_to_dataset, read_table, read_text, to_number
from ._dates import parse_datetimes

__all__ = ["read_promethion_oneclick", "WEIR_KCAL_H_PER_ML_MIN", "LIGHT_ON_LUX"]

#: Weir with VO2/VCO2 in mL/min and EE in kcal/h: 60 x (3.941, 1.106) / 1000
WEIR_KCAL_H_PER_ML_MIN = (0.23646, 0.06636)
#: an illuminance light sensor (values above 1) counts the cage as lit above this (lx): dark
#: phases of rodent rooms stay below a few lx, light phases are tens to hundreds
LIGHT_ON_LUX = 10.0
_REQUIRED = ("startdate", "starttime", "animal", "avg_vo2", "avg_vco2")
_OLD_SUMS = {"feed": ("sum_fooda", "sum_foodb"), "drink": ("sum_watera", "sum_waterb"),
             "allmeter": ("sum_allmeters",), "pedmeter": ("sum_pedmeters",)}
_RENAMED = {"allmeter": "allmeters", "pedmeter": "pedmeters"}
_UPTAKE = re.compile(r"^uptake([a-z])_sum$")
_LIGHT = ("evnirolightlux", "envirolightlux")
REFUSE_FRACTION = 0.05  # median row off by more than this: the column is not what it is named
ROUNDING = (0.005, 0.0006)  # per-row tolerance: relative, absolute (printed precision)
MASS_SPREAD = 0.2  # body-mass readings spread (10th-90th percentile) beyond 20 % of the median
INIT_MASS_TOLERANCE = 0.25  # InitMass_g vs the median weighing: a week's gain or loss is less
MISSING = "."  # Sable's missing value


class _Columns:
    """The file's columns by lower-case name, and which of them were read."""

    def __init__(self, table: pd.DataFrame, path):
        self.table, self.path = table, path
        self.lookup = {c.strip().lower(): c for c in table.columns}
        self.used: set[str] = set()
        missing = [c for c in _REQUIRED if c not in self.lookup]
        if missing:
            raise FormatError(f"Promethion One-Click-Macro summary: missing column(s) "
                              f"{', '.join(missing)}; found {', '.join(table.columns[:12])}",
                              path=path)

    def __contains__(self, name: str) -> bool:
        return name in self.lookup

    def text(self, name: str) -> pd.Series:
        self.used.add(name)
        return self.table[self.lookup[name]].str.strip()

    def number(self, name: str) -> np.ndarray:
        return to_number(self.text(name).mask(self.text(name) == MISSING),
                         path=self.path).to_numpy()

    def unread(self) -> list[str]:
        return [c for c in self.table.columns if c.strip().lower() not in self.used]


def _compare(value, expected, *, what: str, hint: str, lines, path) -> None:
    """``value`` against ``expected`` row by row: refuse when the median row is off by more
    than 5 % (the columns mean something else), warn for single rows off by more than
    printing precision."""
    ok = np.isfinite(value) & np.isfinite(expected) & (np.abs(expected) > 0)
    if not ok.any():
        return
    ratio = float(np.median(value[ok] / expected[ok]))
    if abs(ratio - 1.0) > REFUSE_FRACTION:
        raise FormatError(f"{what}: the file's values are {ratio:.4g} x {hint} (median of "
                          f"{int(ok.sum())} rows); the column does not hold what its name says",
                          path=path)
    finite = np.isfinite(value) & np.isfinite(expected)
    off = finite & (np.abs(value - expected) > np.maximum(ROUNDING[0] * np.abs(expected),
                                                          ROUNDING[1]))
    if off.any():
        i = int(np.flatnonzero(off)[0])
        warn(f"{path}: {what}: {int(off.sum())} row(s) differ from {hint} by more than rounding "
             f"(first at line {lines[i]}: {value[i]:.5g} vs {expected[i]:.5g}); kept",
             QualityWarning)


def _check_weir(cols: _Columns, long: pd.DataFrame, lines, path) -> None:
    """``Avg_EE`` against Weir from the file's mL/min VO2 and VCO2: refuse or warn."""
    a, b = WEIR_KCAL_H_PER_ML_MIN
    weir = (a * long["vo2"] / 60.0 + b * long["vco2"] / 60.0).to_numpy()
    ee = long["ee_vendor"].to_numpy()
    ok = np.isfinite(ee) & np.isfinite(weir) & (weir > 0)
    ratio = float(np.median(ee[ok] / weir[ok])) if ok.any() else 1.0
    if abs(ratio - 1.0) > REFUSE_FRACTION:
        hint = next((text for factor, text in ((60.0, "x 60: VO2/VCO2 in mL/h?"),
                                               (1 / 60.0, "/ 60: EE in kcal/min?"),
                                               (1000.0, "x 1000: VO2/VCO2 in L/min?"),
                                               (4.184, "x 4.184: EE in kJ/h?"))
                     if abs(ratio / factor - 1.0) < REFUSE_FRACTION), "no unit factor fits")
        raise FormatError(f"column 'Avg_EE' is {ratio:.4g} x Weir of Avg_VO2/Avg_VCO2 (median "
                          f"of {int(ok.sum())} rows; {hint}); expected Avg_EE [kcal/h] = "
                          "60 (3.941 VO2 + 1.106 VCO2) / 1000 with VO2, VCO2 in mL/min",
                          path=path)
    _compare(ee, weir, what="column 'Avg_EE'", hint="Weir of Avg_VO2/Avg_VCO2", lines=lines,
             path=path)


def _interval_hours(cols: _Columns, start: pd.Series, lines, path) -> np.ndarray | None:
    """Each row's interval length (h) from EndDate/EndTime (EndTime alone: modulo a day)."""
    if "endtime" not in cols:
        return None
    if "enddate" in cols:
        end = parse_datetimes(cols.text("enddate") + " " + cols.text("endtime"), path=path,
                              column="EndDate EndTime", line_numbers=lines)
        return ((end - start).dt.total_seconds() / 3600.0).to_numpy()
    clock = pd.to_timedelta(cols.text("endtime"), errors="coerce")
    if clock.isna().any():
        i = int(np.flatnonzero(clock.isna().to_numpy())[0])
        raise FormatError(f"line {lines[i]}, column 'EndTime': found "
                          f"{cols.text('endtime').iloc[i]!r}, expected H:MM:SS", path=path)
    since_midnight = start - start.dt.normalize()
    return (((clock - since_midnight).dt.total_seconds() % 86400.0) / 3600.0).to_numpy()


def _uptakes(cols: _Columns, lines, path) -> dict[str, np.ndarray]:
    """``feed`` and ``drink`` (g per interval) from ``Uptake<X>_Sum`` (X = W: water) checked
    against ``_g x _N``, or from the older ``Sum_Food*``/``Sum_Water*``."""
    parts: dict[str, list[np.ndarray]] = {"feed": [], "drink": []}
    for name in sorted(n for n in cols.lookup if _UPTAKE.match(n)):
        letter = _UPTAKE.match(name).group(1)
        total = cols.number(name)
        mean, count = f"uptake{letter}_g", f"uptake{letter}_n"
        if mean in cols and count in cols:
            _compare(total, cols.number(mean) * cols.number(count),
                     what=f"column {cols.lookup[name]!r}",
                     hint=f"{cols.lookup[mean]} x {cols.lookup[count]}", lines=lines, path=path)
        parts["drink" if letter == "w" else "feed"].append(total)
    for variable, names in _OLD_SUMS.items():
        if variable in parts:
            parts[variable] += [cols.number(n) for n in names if n in cols]
    return {variable: np.sum(values, axis=0) for variable, values in parts.items() if values}


def _activity(cols: _Columns, lines, path) -> dict[str, np.ndarray]:
    out = {}
    for x, y in (("xbreaks", "ybreaks"), ("sum_xbreak", "sum_ybreak")):
        if x in cols and y in cols:
            out["xytot"] = cols.number(x) + cols.number(y)
            break
    if "zbreaks" in cols:
        out["ztot"] = cols.number("zbreaks")
    for variable, names in _OLD_SUMS.items():
        if variable in ("allmeter", "pedmeter"):
            name = next((n for n in (_RENAMED[variable], *names) if n in cols), None)
            if name:
                out[variable] = cols.number(name)
    if "allmeter" in out and "pedmeter" in out:
        over = out["pedmeter"] > out["allmeter"] * (1 + ROUNDING[0]) + ROUNDING[1]
        if over.any():
            i = int(np.flatnonzero(over)[0])
            warn(f"{path}: {int(over.sum())} row(s) have more pedestrian than total meters "
                 f"(first at line {lines[i]}: {out['pedmeter'][i]:g} > {out['allmeter'][i]:g} "
                 "m; columns swapped?); kept", QualityWarning)
    return out


def _light(cols: _Columns) -> tuple[np.ndarray, str] | None:
    name = next((n for n in _LIGHT if n in cols), None)
    if name is None:
        return None
    values = cols.number(name)
    if np.nanmax(values, initial=0.0) <= 1.0:  # the fraction of the interval lit (real export)
        return np.where(np.isfinite(values), (values > 0.5).astype(float), np.nan), \
            f"{cols.lookup[name]} (fraction of the interval lit) > 0.5"
    return np.where(np.isfinite(values), (values > LIGHT_ON_LUX).astype(float), np.nan), \
        f"{cols.lookup[name]} (lx) > {LIGHT_ON_LUX:g}"


def _long_table(cols: _Columns, path) -> tuple[pd.DataFrame, dict]:
    lines = cols.table.attrs["line_numbers"]
    stamps = parse_datetimes(cols.text("startdate") + " " + cols.text("starttime"), path=path,
                             column="StartDate StartTime", line_numbers=lines)
    long = pd.DataFrame({"subject": cols.text("animal").to_numpy(),
                         "datetime": stamps.to_numpy(), "_line": lines})
    if (long["subject"] == "").any():
        i = int(np.flatnonzero((long["subject"] == "").to_numpy())[0])
        raise FormatError(f"line {long['_line'].iloc[i]}: empty 'Animal'; expected an animal id "
                          "on every row", path=path)
    long["vo2"] = cols.number("avg_vo2") * 60.0  # mL/min -> mL/h
    long["vco2"] = cols.number("avg_vco2") * 60.0
    if "avg_rq" in cols:
        long["rer_vendor"] = cols.number("avg_rq")
    attrs: dict = {}
    hours = _interval_hours(cols, stamps, lines, path)
    if hours is not None:
        attrs["interval_s"] = float(np.median(hours) * 3600.0)
    if "avg_ee" in cols:
        long["ee_vendor"] = cols.number("avg_ee")
        _check_weir(cols, long, lines, path)
        if "tot_ee" in cols and hours is not None:
            _compare(cols.number("tot_ee"), long["ee_vendor"].to_numpy() * hours,
                     what="column 'Tot_EE'", hint="Avg_EE x the interval (h)", lines=lines,
                     path=path)
    for name in ("bodymass_g", "avg_bodymass"):
        if name in cols:
            mass = cols.number(name)
            long["body_mass_series"] = np.where(mass > 0, mass, np.nan)  # 0: not weighed
            break
    for variable, values in {**_uptakes(cols, lines, path), **_activity(cols, lines, path)}.items():
        long[variable] = values
    light = _light(cols)
    if light is not None:
        long["light"], attrs["light_source"] = light
    by_subject = long.groupby("subject", sort=False)
    for variable, acc in (("feed", "feed_acc"), ("drink", "drink_acc")):
        if variable in long:
            long[acc] = by_subject[variable].cumsum()
    return long, attrs


def _per_animal(cols: _Columns, long: pd.DataFrame, name: str, numeric: bool) -> dict:
    """One value per animal of a per-animal column (``InitMass_g``, ``Genotype``); missing
    (``.``) cells are left out; an animal with two different values is an error."""
    if name not in cols:
        return {}
    text = cols.text(name)
    values = pd.Series(cols.number(name) if numeric else text.mask(text.isin(("", MISSING))))
    out = {}
    for subject, rows in values.groupby(long["subject"].to_numpy(), sort=False):
        given = rows.dropna().unique()
        if len(given) > 1:
            raise FormatError(f"column {cols.lookup[name]!r}: animal {subject!r} has "
                              f"{len(given)} different values ({', '.join(map(str, given[:3]))}); "
                              "expected one per animal", path=cols.path)
        if len(given):
            out[subject] = given[0]
    return out


def _body_mass(long: pd.DataFrame, subject: str, path) -> float:
    values = long.loc[long["subject"] == subject, "body_mass_series"].dropna()
    if values.empty:
        return np.nan
    median = float(values.median())
    low, high = values.quantile(0.1), values.quantile(0.9)
    if high - low > MASS_SPREAD * median:
        warn(f"{path}: animal {subject!r}: body-mass readings spread from {low:.3g} to "
             f"{high:.3g} g (10th-90th percentile); body_mass is their median {median:.3g} g "
             "(pass body_mass= to set it)", QualityWarning)
    return median


def _check_init_mass(long: pd.DataFrame, subject: str, init: float, path) -> None:
    """``InitMass_g`` against the animal's median cage weighing (both g)."""
    values = long.loc[long["subject"] == subject, "body_mass_series"].dropna()
    if values.size and abs(float(values.median()) / init - 1.0) > INIT_MASS_TOLERANCE:
        warn(f"{path}: animal {subject!r}: InitMass_g {init:g} g but its cage weighings have a "
             f"median of {float(values.median()):.3g} g; body_mass is InitMass_g", QualityWarning)


@fill_doc
def read_promethion_oneclick(path, *, body_mass: dict[str, float] | None = None,
                             group: dict[str, str] | None = None) -> xr.Dataset:
    """Read a Promethion One-Click-Macro long summary into a Dataset over ``subject``.

    Parameters
    ----------
    path : str or os.PathLike
        One-Click-Macro summary CSV (one row per animal and interval).
    body_mass : dict animal -> g, optional
        Masses; default the file's ``InitMass_g``, else the median of the animal's
        ``BodyMass_g`` (or ``Avg_BodyMass``) readings.
    group : dict animal -> group, optional
        Group labels, stored in the ``group`` coordinate; default the file's ``Genotype``.

    Returns
    -------
    xarray.Dataset
        Calorimetry Dataset over ``(subject, time)``: ``vo2``, ``vco2`` (absolute mL/h), ``ee``
        (kcal/h, Weir), ``rer`` and the file's other standard variables (``feed``, ``drink``,
        ``xytot``, ``allmeter``, ``light``, ...), plus ``qc_flag``; ``time`` is seconds from each
        subject's first reading, ``datetime`` the wall clock of every reading; per-subject
        coordinates ``body_mass`` (g), ``group`` and ``cage``. Attr ``unread_columns`` lists the
        columns not read (also warned about).

    Raises
    ------
    FormatError
        A required column is missing, a timestamp does not parse, or a column's values do not
        fit its units (Avg_EE not Weir, Tot_EE not Avg_EE x interval, an uptake sum not mean x
        bouts).
    """
    path = Path(path)
    table = read_table(read_text(path).split("\n"), path=path,
                       what="Promethion One-Click-Macro summary", skipinitialspace=True)
    cols = _Columns(table, path)
    long, attrs = _long_table(cols, path)
    init_mass = _per_animal(cols, long, "initmass_g", numeric=True)
    genotype = _per_animal(cols, long, "genotype", numeric=False)
    order = list(dict.fromkeys(long["subject"]))
    long = long.iloc[np.argsort(pd.Categorical(long["subject"], categories=order).codes,
                                kind="stable")].reset_index(drop=True)
    rows = []
    for subject in order:
        mass = (body_mass or {}).get(subject, init_mass.get(subject))
        if mass is None and "body_mass_series" in long:
            mass = _body_mass(long, subject, path)
        elif subject in init_mass and "body_mass_series" in long:
            _check_init_mass(long, subject, float(init_mass[subject]), path)
        rows.append({"subject": subject, "body_mass": np.nan if mass is None else float(mass),
                     "cage": subject,
                     "group": (group or {}).get(subject, genotype.get(subject, ""))})
    unread = cols.unread()
    if unread:
        warn(f"{path}: {len(unread)} column(s) not read (not part of the sfone calorimetry "
             f"variables): {', '.join(unread)}", SfoneWarning)
        logger.info("%s: columns not read: %s", path, ", ".join(unread))
        attrs["unread_columns"] = unread
    units = {"vo2": "mL/min", "vco2": "mL/min", "ee_vendor": "kcal/h", "feed": "g",
             "drink": "g (water, 1 g = 1 mL)", "allmeter": "m", "pedmeter": "m",
             "body_mass_series": "g", "light": attrs.get("light_source", "")}
    return long_to_dataset(long, pd.DataFrame(rows).set_index("subject"), path=path,
                           source_format="promethion-oneclick",
                           source_units={k: v for k, v in units.items() if k in long},
                           attrs=attrs or None)


def _sniff(path: Path) -> bool:
    with open(path, "rb") as fh:
        first = fh.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff").split("\n", 1)[0]
    names = {c.strip().strip('"').lower() for c in first.split(",")}
    return bool(re.match(r'\s*"?StartDate"?\s*,', first, flags=re.IGNORECASE)) \
        and {"avg_vo2", "avg_vco2", "animal"} <= names
