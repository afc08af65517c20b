"""Clock and experiment time: CalR's experiment minute/hour/day, light/dark, a long table view.

CalR conventions (checked against the R output of ``loadTSEFile`` + ``modTSE`` in the fixtures):

* ``exp_minute``/``exp_hour`` = whole minutes/hours between the timestamp floored to the
  minute/hour and the earliest timestamp of the cohort floored likewise;
* ``exp_day`` = calendar days since the date of the earliest timestamp;
* light/dark by the clock (sfone's convention everywhere): ``light = (on, off)`` means lights on
  at ``on`` o'clock and off at ``off`` o'clock, i.e. a reading is light when
  ``on <= clock time < off`` (clock time in hours with minutes, e.g. 6.5 = 06:30). A CalR session
  file stores ``light`` differently (its 6/18 selects readings with ``6 < floor(hour) <= 18``, which
  is what reproduces CalR's published summaries): :func:`light_from_calr_session` converts it on
  reading and :func:`light_to_calr_session` on writing. The default (7, 19) = 07:00-19:00 is CalR
  2's default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["DEFAULT_LIGHT", "experiment_time", "is_light", "to_long", "light_from_calr_session",
           "light_to_calr_session", "describe_light"]

DEFAULT_LIGHT = (7.0, 19.0)


def light_from_calr_session(values) -> tuple[float, float]:
    """Clock schedule (on, off) from a CalR session's ``light`` pair.

    CalR counts a reading as light when ``session_on < floor(hour) <= session_off``; that is
    ``floor(session_on) + 1 <= clock < floor(session_off) + 1``. The session's 6/18 is lights on at
    07:00 and off at 19:00.

    Parameters
    ----------
    values : (float, float)
        The session file's ``light`` pair.

    Returns
    -------
    tuple of float
        ``(on, off)`` clock hours.
    """
    on, off = (float(v) for v in values)
    return float(np.floor(on) + 1) % 24, float(np.floor(off) + 1) % 24


def light_to_calr_session(light) -> tuple[float, float]:
    """The CalR session ``light`` pair for a clock schedule (whole hours only).

    Parameters
    ----------
    light : (float, float)
        Clock schedule ``(on, off)`` in whole hours.

    Returns
    -------
    tuple of float
        The pair CalR stores (e.g. (7, 19) -> (6, 18)).

    Raises
    ------
    ValueError
        If the schedule has minutes (CalR stores none).
    """
    on, off = (float(v) for v in light)
    if on != int(on) or off != int(off):
        raise ValueError(f"light schedule {light}: a CalR session file stores whole hours only; "
                         "round the schedule or keep it outside the session file")
    return (on - 1) % 24, (off - 1) % 24


def _clock(hours: float) -> str:
    minutes = int(round(hours * 60)) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def describe_light(light, source: str) -> str:
    """Text naming a schedule and where it came from, e.g. ``light 07:00-19:00 (default)``.

    Parameters
    ----------
    light : (float, float)
        Clock schedule ``(on, off)`` in hours.
    source : str
        Where it came from (e.g. ``"default"``, ``"session file"``).

    Returns
    -------
    str
    """
    on, off = light
    return f"light {_clock(on)}-{_clock(off)} ({source})"


def experiment_time(datetimes, origin=None) -> dict[str, np.ndarray]:
    """CalR ``exp_minute``, ``exp_hour`` and ``exp_day`` (floats, NaN where NaT).

    Whole minutes, hours and calendar days since ``origin`` (each floored to its unit first).

    Parameters
    ----------
    datetimes : array_like of datetime64
        Wall-clock time of each reading (any shape).
    origin : datetime-like, optional
        Experiment start; default the earliest of ``datetimes``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``exp_minute`` (min), ``exp_hour`` (h) and ``exp_day`` (d), shaped like ``datetimes``.
    """
    stamps = pd.DatetimeIndex(np.asarray(datetimes, dtype="datetime64[ns]").ravel())
    shape = np.shape(datetimes)
    start = pd.Timestamp(origin) if origin is not None else stamps.min()
    out = {}
    for name, unit, freq in (("exp_minute", "1min", "min"), ("exp_hour", "1h", "h")):
        delta = (stamps.floor(freq) - start.floor(freq)) / pd.Timedelta(unit)
        out[name] = np.asarray(delta, dtype=float).reshape(shape)
    days = (stamps.normalize() - start.normalize()) / pd.Timedelta("1D")
    out["exp_day"] = np.asarray(days, dtype=float).reshape(shape)
    return out


def is_light(datetimes, light=DEFAULT_LIGHT):
    """True where the clock time is in the light phase: ``on <= clock time < off``.

    When ``on > off`` (lights on in the evening) the phase wraps past midnight.

    Parameters
    ----------
    datetimes : array_like of datetime64
        Wall-clock times (any shape).
    light : (float, float), default DEFAULT_LIGHT
        Clock schedule ``(on, off)`` in hours, minutes allowed (6.5 = 06:30); light when
        ``on <= clock time < off``.

    Returns
    -------
    numpy.ndarray of bool
        Shaped like ``datetimes``.

    Raises
    ------
    ValueError
        If ``on`` or ``off`` is outside [0, 24) or they are equal.
    """
    light_on, light_off = (float(v) for v in light)
    if not (0 <= light_on < 24 and 0 <= light_off < 24) or light_on == light_off:
        raise ValueError(f"light schedule {tuple(light)}: expected two different clock times in "
                         "hours, 0 <= on, off < 24 (lights on, lights off)")
    stamps = pd.DatetimeIndex(np.asarray(datetimes, dtype="datetime64[ns]").ravel())
    clock = (stamps.hour + stamps.minute / 60.0 + stamps.second / 3600.0
             + stamps.microsecond / 3.6e9)
    clock = np.asarray(clock, dtype=float).reshape(np.shape(datetimes))
    if light_on < light_off:
        return (clock >= light_on) & (clock < light_off)
    return (clock >= light_on) | (clock < light_off)


def to_long(ds: xr.Dataset, *, variables=None, subject_codes: bool = False) -> pd.DataFrame:
    """One row per subject and reading: subject, group, datetime, exp_minute/hour/day, variables.

    ``exp_*`` come from the dataset's own ``exp_hour``/``exp_day`` coordinates when present (CalR
    files), otherwise from the earliest timestamp of the whole dataset (CalR's import rule).

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset over ``(subject, time)`` with a ``datetime`` coordinate.
    variables : list of str, optional
        Variables to include (those over ``(subject, time)``); default all.
    subject_codes : bool, default False
        The ``subject`` column is the subject's position in ``ds.subject`` and there is no
        ``group`` column (grouping by integers is much faster than by text).

    Returns
    -------
    pandas.DataFrame
        Columns ``subject``, ``group``, ``row`` (reading index), ``datetime``, ``exp_minute``,
        ``exp_hour``, ``exp_day`` and the variables (units of ``ds``); readings without a
        timestamp are left out.
    """
    variables = [v for v in (variables or ds.data_vars) if ds[v].dims == ("subject", "time")]
    stamps = ds["datetime"].transpose("subject", "time").values
    times = experiment_time(stamps)
    for name in ("exp_hour", "exp_day"):
        if name in ds.coords:
            times[name] = ds[name].transpose("subject", "time").values
    n_subject, n_time = stamps.shape
    if subject_codes:
        labels = {"subject": np.repeat(np.arange(n_subject), n_time)}
    else:
        labels = {"subject": np.repeat(ds["subject"].values.astype(str), n_time),
                  "group": np.repeat(ds["group"].values.astype(str), n_time)
                  if "group" in ds.coords else ""}
    table = pd.DataFrame({**labels, "row": np.tile(np.arange(n_time), n_subject),
                          "datetime": stamps.ravel()})
    for name, values in times.items():
        table[name] = values.ravel()
    for var in variables:
        table[var] = ds[var].transpose("subject", "time").values.ravel()
    return table[~pd.isna(table["datetime"])].reset_index(drop=True)
