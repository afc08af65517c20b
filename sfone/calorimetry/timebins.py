"""Clock and experiment time: CalR's experiment minute/hour/day, light/dark, a long table view.

CalR conventions (checked against the R output of ``loadTSEFile`` + ``modTSE`` in the fixtures):

* ``exp_minute``/``exp_hour`` = whole minutes/hours between the timestamp floored to the
  minute/hour and the earliest timestamp of the cohort floored likewise;
* ``exp_day`` = calendar days since the date of the earliest timestamp;
* light/dark by the clock hour of each reading. A CalR session stores ``light`` as
  (6, 18) and its published summaries use readings with 6 < hour <= 18 as light, so the pair
  ``(light_on, light_off)`` means: light when ``light_on < floor(hour) <= light_off``. The
  default (6, 18) gives light 07:00-18:59, CalR 2's default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["DEFAULT_LIGHT", "experiment_time", "is_light", "to_long"]

DEFAULT_LIGHT = (6, 18)


def experiment_time(datetimes, origin=None) -> dict[str, np.ndarray]:
    """CalR ``exp_minute``, ``exp_hour`` and ``exp_day`` (floats, NaN where NaT)."""
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
    """True where the clock hour is in the light phase: ``light_on < hour <= light_off``.

    ``light`` = (light_on, light_off) in CalR session convention (see module docstring). When
    ``light_on > light_off`` (lights on in the evening) the phase wraps past midnight.
    """
    light_on, light_off = light
    hours = pd.DatetimeIndex(np.asarray(datetimes, dtype="datetime64[ns]").ravel()).hour
    hours = np.asarray(hours, dtype=float).reshape(np.shape(datetimes))
    if light_on <= light_off:
        return (hours > light_on) & (hours <= light_off)
    return (hours > light_on) | (hours <= light_off)


def to_long(ds: xr.Dataset, *, variables=None, subject_codes: bool = False) -> pd.DataFrame:
    """One row per subject and reading: subject, group, datetime, exp_minute/hour/day, variables.

    ``exp_*`` come from the dataset's own ``exp_hour``/``exp_day`` coordinates when present (CalR
    files), otherwise from the earliest timestamp of the whole dataset (CalR's import rule).
    With ``subject_codes`` the ``subject`` column is the subject's position in ``ds.subject`` and
    there is no ``group`` column (grouping by integers is much faster than by text).
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
