"""CalR-exact period summaries: one row per subject and period (full_day, light, dark).

The recipe follows CalR (Mina et al., Cell Metab 2018) as reproduced on a published CalR summary
(docs/calorimetry.md section 1.4):

1. window: readings with ``xrange[0] <= exp_hour <= xrange[1]`` (both inclusive);
2. light/dark by the clock, light when ``on <= clock time < off`` (a CalR session's stored
   ``light`` is converted on reading: 6/18 -> (7, 19), see :mod:`.timebins`);
3. VO2, VCO2, EE, RER and activity: plain means of the interval values (RER is the mean of the
   RER values, not a ratio of means);
4. hourly food intake [kcal/h] = sum(feed [g]) x diet kcal/g / number of distinct exp_hour values;
5. cumulative food [kcal] = (feed_acc at the period's last reading - feed_acc at the window's
   first reading) x diet kcal/g;
6. energy balance [kcal/h] = hourly food intake - EE;
7. masses from the session's MRI table (total, lean, fat) when given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._logging import logger
from ..io.calorimetry.timebins import DEFAULT_LIGHT, describe_light, is_light, to_long

__all__ = ["summarize_periods", "hourly_table", "SUMMARY_COLUMNS", "PERIODS"]

PERIODS = ("full_day", "light", "dark")
SUMMARY_COLUMNS = ["subject", "group", "period", "vo2_ml_h", "vco2_ml_h", "ee_kcal_h", "rer",
                   "food_kcal_h", "cumulative_food_kcal", "energy_balance_kcal_h",
                   "locomotor_activity"]
_MEANS = {"vo2": "vo2_ml_h", "vco2": "vco2_ml_h", "ee": "ee_kcal_h", "rer": "rer",
          "xytot": "locomotor_activity", "xyamb": "ambulatory_activity"}


def _settings(ds, session, window, light, diet_kcal_per_g, groups):
    """Resolve window, light (and where it came from), per-subject group and kcal/g from the
    session and overrides."""
    subjects = ds["subject"].values.astype(str)
    group_of = dict(zip(subjects, ds["group"].values.astype(str), strict=True)) \
        if "group" in ds.coords else dict.fromkeys(subjects, "")
    kcal = {}
    light_source = "argument" if light is not None else None
    if session is not None:
        group_of.update(session.group_of())
        kcal = {s: session.diet_kcal_per_g.get(g, np.nan) for s, g in group_of.items()}
        window = window if window is not None else session.xrange
        if light is None and session.light_in_file:
            light, light_source = session.light, "session file"
    if groups:
        group_of.update(groups)
    if diet_kcal_per_g is not None:
        if isinstance(diet_kcal_per_g, dict):
            kcal.update({s: diet_kcal_per_g.get(g, np.nan) for s, g in group_of.items()})
        else:
            kcal = dict.fromkeys(subjects, float(diet_kcal_per_g))
    if not kcal and "cal_g" in ds.coords:
        kcal = dict(zip(subjects, ds["cal_g"].values.astype(float), strict=True))
    if light is None:
        light, light_source = DEFAULT_LIGHT, "default: no session light and no light= given"
    return window, tuple(float(v) for v in light), light_source, group_of, kcal


def _light_sensor(table: pd.DataFrame, ds: xr.Dataset) -> np.ndarray:
    """Light phase from the dataset's light sensor; an error when there is none."""
    source = ds.attrs.get("source_file", "the dataset")
    if "light" not in table or table["light"].isna().all():
        raise ValueError(f"{source}: use_light_sensor / --light-sensor needs a cage light sensor "
                         "(variable 'light', e.g. CLAMS ROOM LIGHT or TSE LightC) but the data "
                         "have none; give the clock schedule with light=(on, off) / --light ON OFF")
    missing = table["light"].isna()
    if missing.any():
        raise ValueError(f"{source}: the light sensor has no value for {int(missing.sum())} "
                         "reading(s) in the analysis window; expected 1 (on) or 0 (off) on every "
                         "reading, or use the clock schedule instead")
    return table["light"].to_numpy() > 0.5


def _excluded(table: pd.DataFrame, session, subjects: np.ndarray) -> pd.Series:
    """Readings after a subject's CalR exclusion hour ``exc`` (session), if any; ``table``'s
    ``subject`` holds positions in ``subjects``."""
    if session is None or "exc" not in session.subjects:
        return pd.Series(False, index=table.index)
    exc_by_position = pd.Series(subjects).map(session.subjects["exc"]).astype(float)
    exc = table["subject"].map(exc_by_position)
    return exc.notna() & (table["exp_hour"] > exc)


def _period_rows(part: pd.DataFrame, start_acc: pd.Series, kcal: pd.Series) -> pd.DataFrame:
    by = part.groupby("subject", sort=False)
    out = pd.DataFrame(index=pd.Index(by.size().index, name="subject"))
    for var, column in _MEANS.items():
        if var in part:
            out[column] = by[var].mean()
    factor = kcal.reindex(out.index).astype(float)
    if "feed" in part:
        hours = by["exp_hour"].nunique()
        out["food_kcal_h"] = by["feed"].sum(min_count=1) * factor / hours
    if "feed_acc" in part:
        out["cumulative_food_kcal"] = (by["feed_acc"].last() - start_acc.reindex(out.index)) \
            * factor
    if "food_kcal_h" in out and "ee_kcal_h" in out:
        out["energy_balance_kcal_h"] = out["food_kcal_h"] - out["ee_kcal_h"]
    return out


def summarize_periods(ds: xr.Dataset, session=None, *, window=None, light=None,
                      diet_kcal_per_g=None, groups=None, use_light_sensor: bool = False
                      ) -> pd.DataFrame:
    """Per-subject means over full day, light and dark, exactly as CalR computes them.

    Parameters
    ----------
    ds : Dataset
        Calorimetry dataset (``vo2``, ``vco2``, ``ee``, ``rer``, ``feed``, ``feed_acc``,
        ``xytot`` ...). Readings flagged in ``qc_flag`` are used as they are: mask them first
        with :func:`sfone.calorimetry.mask_flagged` if wanted.
    session : CalRSession or path, optional
        Groups, kcal/g per group, window (``xrange``), light schedule and MRI masses.
    window : (start, end), optional
        Experiment hours, inclusive; overrides the session. Default: all readings.
    light : (on, off), optional
        Lights on and off on the clock in hours, minutes allowed (6.5 = 06:30); light when
        ``on <= clock time < off``. Default: the session's (converted from CalR's convention),
        else (7, 19), which is logged.
    diet_kcal_per_g : float or dict group -> float, optional
        Diet energy density; overrides the session.
    groups : dict subject -> group, optional
    use_light_sensor : bool
        Use the dataset's ``light`` variable (1 = on) instead of the clock; an error when the
        data have no light sensor.

    Returns
    -------
    DataFrame with :data:`SUMMARY_COLUMNS` (+ ``ambulatory_activity``, ``total_mass``,
    ``lean_mass``, ``fat_mass`` when known, and ``light_schedule``: the schedule used and where it
    came from), one row per subject and period.
    """
    if isinstance(session, str | Path):
        from ..io.calorimetry.calr import read_calr_session

        session = read_calr_session(session)
    window, light, light_source, group_of, kcal = _settings(ds, session, window, light,
                                                            diet_kcal_per_g, groups)
    subjects = ds["subject"].values.astype(str)
    table = to_long(ds, subject_codes=True)  # subject: position in `subjects`, until the end
    table = table[~_excluded(table, session, subjects)]
    if window is not None:
        table = table[(table["exp_hour"] >= window[0]) & (table["exp_hour"] <= window[1])]
    if table.empty:
        raise ValueError(f"no readings in the analysis window {window} (experiment hours)")
    if use_light_sensor:
        lit = _light_sensor(table, ds)
        schedule = "light from the cage light sensor"
    else:
        lit = is_light(table["datetime"].to_numpy(), light)
        schedule = describe_light(light, light_source)
    logger.info("calorimetry summary: %s", schedule)
    start_acc = table.groupby("subject", sort=False)["feed_acc"].first() \
        if "feed_acc" in table else pd.Series(dtype=float)
    kcal_series = pd.Series([kcal.get(s, np.nan) for s in subjects], dtype=float)
    parts = {"full_day": table, "light": table[lit], "dark": table[~lit]}
    frames = []
    for period in PERIODS:
        rows = _period_rows(parts[period], start_acc, kcal_series)
        rows.insert(0, "period", period)
        frames.append(rows.reset_index())
    out = pd.concat(frames, ignore_index=True)
    out["subject"] = subjects[out["subject"].to_numpy(dtype=int)]
    out.insert(1, "group", out["subject"].map(group_of).fillna(""))
    for column in SUMMARY_COLUMNS:
        if column not in out:
            out[column] = np.nan
    out = _finish(out, ds, session)
    out["light_schedule"] = schedule
    return out


def _finish(out: pd.DataFrame, ds: xr.Dataset, session) -> pd.DataFrame:
    """Add session MRI masses, order rows by subject then period, standard columns first."""
    if session is not None and not session.subjects.empty:
        for key in ("total_mass", "lean_mass", "fat_mass"):
            if key in session.subjects:
                out[key] = out["subject"].map(session.subjects[key])
    if "total_mass" not in out and "body_mass" in ds.coords:  # no MRI: the file's body mass
        out["total_mass"] = out["subject"].map(dict(zip(ds["subject"].values.astype(str),
                                                        ds["body_mass"].values, strict=True)))
    order = {s: i for i, s in enumerate(ds["subject"].values.astype(str))}
    out["_order"] = out["subject"].map(order)
    out["_period"] = out["period"].map({p: i for i, p in enumerate(PERIODS)})
    out = out.sort_values(["_order", "_period"]).drop(columns=["_order", "_period"])
    extra = [c for c in out.columns if c not in SUMMARY_COLUMNS]
    return out[SUMMARY_COLUMNS + extra].reset_index(drop=True)


_HOURLY_SUM = ("feed", "drink", "pedmeter", "allmeter")


def hourly_table(ds: xr.Dataset, *, light=DEFAULT_LIGHT) -> pd.DataFrame:
    """One row per subject and experiment hour, aggregated as CalR's hourly table does.

    Rates (VO2, VCO2, EE, RER, activity, temperature) are averaged; intake and distances
    (``feed``, ``drink``, ``pedmeter``, ``allmeter``) are summed; cumulative series (``*_acc``)
    take their maximum.

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset over ``(subject, time)``.
    light : (float, float), default DEFAULT_LIGHT
        Clock schedule ``(on, off)`` in hours, minutes allowed (6.5 = 06:30); light when
        ``on <= clock time < off``.
        An hour is light when its first reading is.

    Returns
    -------
    pandas.DataFrame
        Columns ``subject``, ``exp_hour``, the aggregated variables (units of ``ds``),
        ``datetime`` (first reading), ``light`` (bool), ``group`` and ``n_readings``.
    """
    table = to_long(ds)
    table["light"] = is_light(table["datetime"].to_numpy(), light)
    variables = [v for v in ds.data_vars if v in table and v != "qc_flag"]
    how = {v: ("sum" if v in _HOURLY_SUM else "max" if v.endswith("_acc") else "mean")
           for v in variables}
    how.update({"datetime": "first", "light": "first", "group": "first"})
    out = table.groupby(["subject", "exp_hour"], sort=False).agg(how).reset_index()
    out["n_readings"] = table.groupby(["subject", "exp_hour"], sort=False).size().to_numpy()
    return out
