"""Shared machinery of the calorimetry loaders: a per-subject long table -> ``(subject, time)``.

Each loader parses its vendor file into a long :class:`pandas.DataFrame` (one row per subject and
reading) with standard column names in standard units, plus a per-subject metadata table, and hands
both to :func:`long_to_dataset`, which pivots, recomputes EE and RER, runs the QC flags and stamps
the provenance.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._logging import warn
from ...exceptions import DataRepairWarning, FormatError, QualityWarning
from ...schema import finalize_dataset
from .._text import LineNumbers, parse_table
from ._plausibility import check_body_mass, check_physiology, check_reading_intervals

__all__ = ["VARIABLE_UNITS", "long_to_dataset", "grids_to_dataset", "read_text", "read_table", "to_number",
           "drop_duplicate_rows",
           "MISSING_CELLS", "QC_IMPLAUSIBLE_RER", "QC_ANIMAL_REMOVED"]

#: cells that are a missing value (NaN), not damage: read without a warning by :func:`to_number`
MISSING_CELLS = ("ERR:0", "-", "NA", "NaN", "nan", "")

#: standard variable name -> (units, long name)
VARIABLE_UNITS: dict[str, tuple[str, str]] = {
    "vo2": ("mL/h", "O2 consumption (absolute)"),
    "vco2": ("mL/h", "CO2 production (absolute)"),
    "ee": ("kcal/h", "energy expenditure"),
    "rer": ("1", "respiratory exchange ratio VCO2/VO2"),
    "ee_vendor": ("kcal/h", "energy expenditure as computed by the instrument (not used)"),
    "rer_vendor": ("1", "RER as written by the instrument"),
    "feed": ("g", "food intake in the interval"),
    "feed_acc": ("g", "cumulative food intake"),
    "drink": ("mL", "water intake in the interval"),
    "drink_acc": ("mL", "cumulative water intake"),
    "xytot": ("count", "total beam breaks X+Y in the interval"),
    "xyamb": ("count", "ambulatory beam breaks X+Y in the interval"),
    "ztot": ("count", "rearing beam breaks in the interval"),
    "wheel": ("count", "wheel revolutions in the interval"),
    "wheel_acc": ("count", "cumulative wheel revolutions"),
    "pedmeter": ("m", "pedestrian distance in the interval"),
    "allmeter": ("m", "total distance in the interval"),
    "body_temp": ("degC", "body temperature"),
    "body_mass_series": ("g", "body mass measured in the cage"),
    "heart_rate": ("1/min", "heart rate"),
    "light": ("1", "lights on (1) or off (0) from the cage's light sensor"),
    "flow": ("L/min", "air flow"),
    "speed": ("m/min", "treadmill belt speed"),
    "incline": ("deg", "treadmill incline"),
    "shock": ("s", "time on the shock grid during the interval"),
    "stage": ("1", "protocol stage index (0-based; ramp steps continue the count)"),
}

QC_IMPLAUSIBLE_RER = 1
QC_ANIMAL_REMOVED = 2
RER_PLAUSIBLE = (0.5, 1.5)
ABSENT_FRACTION = 0.1  # VO2 below 10 % of the subject's median: nobody is breathing in the cage


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (BOM stripped) or Latin-1 fallback; ``\\r\\r\\n``/CRLF -> ``\\n``."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return re.sub(r"\r+\n?", "\n", text)


def read_table(lines: list[str], *, path, line_numbers: list[int] | None = None,
               what: str = "data table", sep: str = ",", names: list[str] | None = None,
               skipinitialspace: bool = False, min_fields: int | None = None) -> pd.DataFrame:
    """Parse text lines into a table of strings (see :func:`sfone.io._text.parse_table`): a
    header and data rows are required and a shorter last row (file cut off) is dropped."""
    return parse_table(lines, path=path, line_numbers=line_numbers, what=what, sep=sep,
                       names=names, skipinitialspace=skipinitialspace, min_fields=min_fields)


def to_number(values: pd.Series, *, decimal_comma: bool = False, path=None) -> pd.Series:
    """Numbers from text cells; ``ERR:0``, ``-``, ``NA`` and blanks become NaN.

    With ``path``, other text that is not a number (a damaged cell) is also read as NaN but
    reported in a ``DataRepairWarning`` naming the column and the first line (from
    ``values.attrs["line_numbers"]``, set by :func:`read_table`).
    """
    text = values.astype("string").str.strip()
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    text = text.mask(text.isin(MISSING_CELLS))
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    damaged = (numbers.isna() & text.notna()).to_numpy()
    if path is not None and damaged.any():
        i = int(damaged.argmax())
        lines = values.attrs.get("line_numbers")
        where = f"line {lines[i]}" if lines is not None and len(lines) == len(values) \
            else f"data row {i + 1}"
        warn(f"{path}: column {values.name!r}: {int(damaged.sum())} cell(s) are not numbers "
             f"(first at {where}: {text.iloc[i]!r}); read as missing", DataRepairWarning)
    return numbers


def drop_duplicate_rows(raw: pd.DataFrame, *, subject_column: str, path) -> pd.DataFrame:
    """``raw`` (text cells; ``attrs["line_numbers"]``) without the rows that repeat an earlier
    row cell for cell (a reading the export wrote twice), with a :class:`DataRepairWarning`
    naming the file, each subject and its count. Rows that share a time but differ in any cell
    are kept (the clock check refuses them).
    """
    cells = raw.apply(lambda column: column.astype("string").str.strip())
    repeated = cells.duplicated(keep="first").to_numpy()
    if not repeated.any():
        return raw
    lines = list(raw.attrs.get("line_numbers") or range(1, len(raw) + 1))
    parts = []
    for subject, rows in pd.Series(np.flatnonzero(repeated)).groupby(
            cells[subject_column].to_numpy()[repeated], sort=False):
        shown = ", ".join(str(lines[i]) for i in rows.iloc[:5])
        parts.append(f"subject {subject!r}: {rows.size} (line{'s' if rows.size > 1 else ''} "
                     f"{shown}{' ...' if rows.size > 5 else ''})")
    warn(f"{path}: dropped {int(repeated.sum())} exact duplicate row(s), each equal cell for cell "
         f"to an earlier row: {'; '.join(parts)}", DataRepairWarning)
    kept = raw.loc[~repeated].reset_index(drop=True)
    kept.attrs["line_numbers"] = LineNumbers(n for n, r in zip(lines, repeated, strict=True)
                                             if not r)
    return kept


def _check_clock(long: pd.DataFrame, path) -> None:
    """Every reading has a timestamp and each subject's timestamps increase strictly.

    Loaders check their own time columns with line numbers; this is the net under all of them
    (a ``_line`` column, when present, gives the file line of each row).
    """
    stamps = pd.to_datetime(long["datetime"])
    lines = long["_line"] if "_line" in long else pd.Series(long.index, index=long.index) + 1
    where = "line" if "_line" in long else "row"
    missing = stamps.isna().to_numpy()
    if missing.any():
        first = lines[missing].iloc[:5].tolist()
        raise FormatError(f"{int(missing.sum())} reading(s) have no valid timestamp ({where}s "
                          f"{first}{' ...' if missing.sum() > 5 else ''}); expected a date/time "
                          "on every data row", path=path)
    step = stamps.groupby(long["subject"].to_numpy(), sort=False).diff()
    back = (step <= pd.Timedelta(0)).to_numpy()
    if back.any():
        i = int(np.flatnonzero(back)[0])
        raise FormatError(f"subject {long['subject'].iloc[i]!r}, {where} {lines.iloc[i]}: "
                          f"timestamp {stamps.iloc[i]} does not come after the previous reading "
                          f"{stamps.iloc[i] - step.iloc[i]} ({int(back.sum())} such step(s)); "
                          "expected strictly increasing times per subject", path=path)


def _time_axis(datetimes: np.ndarray) -> np.ndarray:
    """Seconds from each subject's first reading, the median across subjects (exact when shared)."""
    first = datetimes[:, :1]
    elapsed = (datetimes - first) / np.timedelta64(1, "ns") / 1e9
    elapsed = np.where(np.isnat(datetimes), np.nan, elapsed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns of ragged subjects
        axis = np.nanmedian(elapsed, axis=0)
    return axis.astype(np.float64)


def _pivot(long: pd.DataFrame, subjects: list[str], variables: list[str]):
    long = long.copy()
    long["_row"] = long.groupby("subject", sort=False).cumcount()
    n_time = int(long["_row"].max()) + 1
    index = {s: i for i, s in enumerate(subjects)}
    s_idx = long["subject"].map(index).to_numpy()
    t_idx = long["_row"].to_numpy()
    arrays = {}
    for var in variables:
        grid = np.full((len(subjects), n_time), np.nan)
        grid[s_idx, t_idx] = long[var].to_numpy(dtype=float, na_value=np.nan)
        arrays[var] = grid
    stamps = np.full((len(subjects), n_time), np.datetime64("NaT"), dtype="datetime64[ns]")
    stamps[s_idx, t_idx] = long["datetime"].to_numpy(dtype="datetime64[ns]")
    extra = {}
    for column in ("exp_hour", "exp_day"):
        if column in long:
            grid = np.full((len(subjects), n_time), np.nan)
            grid[s_idx, t_idx] = long[column].to_numpy(dtype=float)
            extra[column] = grid
    return arrays, stamps, extra


def removed_animal_rows(vo2: np.ndarray) -> np.ndarray:
    """Boolean ``(subject, time)``: the trailing readings after the animal left the cage.

    A reading counts as "empty cage" when VO2 is below ``ABSENT_FRACTION`` of the subject's
    median VO2; the flagged rows are the final run of such readings (at least two).
    """
    vo2 = np.atleast_2d(vo2)
    median = np.nanmedian(np.where(vo2 > 0, vo2, np.nan), axis=1, keepdims=True)
    present = np.isfinite(vo2) & (vo2 >= ABSENT_FRACTION * median)
    measured = np.isfinite(vo2)
    n = vo2.shape[1]
    idx = np.arange(n)
    last_present = np.where(present, idx, -1).max(axis=1, keepdims=True)
    last_measured = np.where(measured, idx, -1).max(axis=1, keepdims=True)
    tail = (idx > last_present) & measured
    enough = (last_measured - last_present) >= 2
    return tail & enough


def quality_flags(vo2: np.ndarray, rer: np.ndarray) -> np.ndarray:
    """``qc_flag`` bit mask: 1 implausible RER (outside 0.5-1.5), 2 animal removed (trailing)."""
    flags = np.zeros(vo2.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        bad_rer = np.isfinite(rer) & ((rer < RER_PLAUSIBLE[0]) | (rer > RER_PLAUSIBLE[1]))
    flags[bad_rer] |= QC_IMPLAUSIBLE_RER
    flags[removed_animal_rows(vo2)] |= QC_ANIMAL_REMOVED
    return flags


def _warn_quality(flags: np.ndarray, subjects: list[str], path) -> None:
    removed = (flags & QC_ANIMAL_REMOVED).astype(bool)
    implausible = (flags & QC_IMPLAUSIBLE_RER).astype(bool)
    parts = []
    if removed.any():
        per = [f"{s}: {n}" for s, n in zip(subjects, removed.sum(axis=1), strict=True) if n]
        parts.append("trailing readings after the animal was removed flagged "
                     f"(qc_flag bit 2) for {', '.join(per)}")
    if implausible.any():
        parts.append(f"{int(implausible.sum())} reading(s) with RER outside {RER_PLAUSIBLE} "
                     "flagged (qc_flag bit 1)")
    if parts:
        warn(f"{path}: " + "; ".join(parts) + ". They are kept; mask them with "
             "sfone.calorimetry.mask_flagged(ds).", QualityWarning)


def long_to_dataset(long: pd.DataFrame, meta: pd.DataFrame, *, path, source_format: str,
                    source_units: dict[str, str], ee_from_file: bool = False,
                    attrs: dict | None = None) -> xr.Dataset:
    """Pivot a long table to the calorimetry contract.

    Parameters
    ----------
    long : DataFrame
        Columns ``subject``, ``datetime`` and standard variables (see :data:`VARIABLE_UNITS`),
        already in standard units (vo2/vco2 absolute mL/h). Row order within a subject is time.
    meta : DataFrame
        Indexed by subject (in output order) with ``body_mass`` (g), ``group``, ``cage`` and any
        other per-subject text/number columns.
    source_units : dict
        Standard variable -> unit text as written in the file (kept in ``source_units`` attrs).
    ee_from_file : bool
        Keep ``long["ee"]`` as the dataset's EE (CalR files). Otherwise EE is recomputed by Weir.
    """
    if long.empty:
        raise FormatError("no data rows", path=path)
    missing = [c for c in ("vo2", "vco2") if c not in long.columns]
    if missing:
        raise FormatError(f"no {' or '.join(missing)} column found; expected both VO2 and VCO2",
                          path=path)
    _check_clock(long, path)
    subjects = [str(s) for s in meta.index]
    variables = [c for c in VARIABLE_UNITS if c in long.columns]
    arrays, stamps, extra = _pivot(long, subjects, variables)
    return grids_to_dataset(arrays, stamps, meta, path=path, source_format=source_format,
                            source_units=source_units, extra=extra,
                            ee_from_file=ee_from_file and "ee" in long, attrs=attrs)


def grids_to_dataset(arrays: dict[str, np.ndarray], stamps: np.ndarray, meta: pd.DataFrame, *,
                     path, source_format: str, source_units: dict[str, str],
                     extra: dict | None = None, ee_from_file: bool = False,
                     attrs: dict | None = None) -> xr.Dataset:
    """The calorimetry contract from ``(subject, time)`` grids (what :func:`long_to_dataset`
    builds; loaders that parse straight into grids call this directly).

    ``arrays`` maps standard variables (in :data:`VARIABLE_UNITS` order, standard units) to
    float grids padded with NaN; ``stamps`` is the ``datetime64[ns]`` grid padded with NaT, each
    subject's readings left-aligned and strictly increasing; ``extra`` holds ``exp_hour`` /
    ``exp_day`` grids. EE is recomputed by Weir unless ``ee_from_file`` and ``arrays`` has ``ee``.
    """
    from .derived import energy_expenditure

    arrays = dict(arrays)
    subjects = [str(s) for s in meta.index]
    ee_from_file = ee_from_file and "ee" in arrays
    if not ee_from_file:
        arrays["ee"] = energy_expenditure(arrays["vo2"], arrays["vco2"])
    with np.errstate(divide="ignore", invalid="ignore"):
        arrays["rer"] = np.where(np.asarray(arrays["vo2"]) != 0,
                                 np.asarray(arrays["vco2"]) / np.asarray(arrays["vo2"]), np.nan)
    check_body_mass(_body_mass(meta), subjects, path=path)
    flags = quality_flags(arrays["vo2"], arrays["rer"])
    _warn_quality(flags, subjects, path)
    check_physiology(arrays, flags, subjects, _body_mass(meta), source_format=source_format,
                     path=path)
    check_reading_intervals(stamps, subjects, path=path)
    data_vars = {}
    for name, values in arrays.items():
        units, long_name = VARIABLE_UNITS[name]
        var_attrs = {"units": units, "long_name": long_name}
        if name in source_units:
            var_attrs["source_units"] = source_units[name]
        data_vars[name] = (("subject", "time"), np.asarray(values, dtype=float), var_attrs)
    data_vars["ee"][2]["equation"] = "as in file" if ee_from_file else "weir"
    data_vars["qc_flag"] = (("subject", "time"), flags, {
        "units": "1", "flag_masks": [QC_IMPLAUSIBLE_RER, QC_ANIMAL_REMOVED],
        "flag_meanings": "implausible_rer animal_removed"})
    coords = _coords(meta, subjects, stamps, extra or {})
    ds = xr.Dataset(data_vars, coords=coords)
    axis = _time_axis(stamps)
    if not np.all(np.isfinite(axis)) or np.any(np.diff(axis) <= 0):
        raise FormatError("the subjects' clocks do not give one strictly increasing time axis "
                          "(ragged or misaligned readings); read the subjects separately",
                          path=path)
    ds.coords["time"] = ("time", axis, {
        "units": "s", "long_name": "seconds from each subject's first reading (median over "
        "subjects); the wall clock of every reading is the 'datetime' coordinate"})
    start = pd.Timestamp(np.nanmin(stamps[~np.isnat(stamps)]))
    unit_text = "; ".join(f"{k}={v}" for k, v in source_units.items())
    extra_attrs = dict(attrs or {})
    return finalize_dataset(ds, modality="calorimetry", source_format=source_format,
                            source_file=path, session_start=start.isoformat(),
                            source_units=unit_text, **extra_attrs)


def _body_mass(meta: pd.DataFrame) -> np.ndarray:
    """Per-subject body mass (g), NaN where absent."""
    return pd.to_numeric(meta.get("body_mass", pd.Series(np.nan, index=meta.index)),
                         errors="coerce").to_numpy(dtype=float)


def _coords(meta: pd.DataFrame, subjects, stamps, extra) -> dict:
    coords: dict = {"subject": ("subject", np.asarray(subjects, dtype=str)),
                    "datetime": (("subject", "time"), stamps, {"long_name": "wall-clock time"})}
    mass = _body_mass(meta)
    coords["body_mass"] = ("subject", mass, {"units": "g"})
    for column in meta.columns:
        if column == "body_mass":
            continue
        values = meta[column]
        if pd.api.types.is_numeric_dtype(values):
            coords[column] = ("subject", values.to_numpy(dtype=float))
        else:
            coords[column] = ("subject", values.fillna("").astype(str).to_numpy(dtype=str))
    for name in ("group", "cage"):
        if name not in coords:
            coords[name] = ("subject", np.full(len(subjects), "", dtype=str))
    for name, grid in extra.items():
        coords[name] = (("subject", "time"), grid, {"units": "h" if name == "exp_hour" else "d"})
    return coords
