"""Bruker PrairieView ``VoltageRecording`` CSV: the DAQ's analog inputs (treadmill, TTL lines).

PrairieView writes ``<series>_Cycle00001_VoltageRecording_001.csv`` beside a T-series::

    Time(ms), Input 0, Input 1, Input 2
    0,0.0164794921875,0.00579833984375,-0.0006103515625

``Time(ms)`` is milliseconds from the start of the recording; every other column is one
enabled input in volts, named ``Input <n>`` or as the user named it in PrairieView
(``Locomotion``, ``VisStim``, ...); names follow ``", "`` (a leading space). These are behaviour
and synchronisation signals, not fluorescence, so the file is read as an **events** Dataset:

* every input is a variable over ``time`` (s, float64), in volts, kept in full;
* an input that is a TTL line (at least 98 % of its samples within 5 % of its range from its
  low or high level, and a range of at least 1 V) also gives epochs: its high periods (above the
  midpoint), labelled with the input's name; attr ``kind`` says ``digital`` or ``analog``.

A treadmill speed or encoder trace stays analog: turn it into run epochs with
:func:`sfone.events.epochs_from_speed` after your calibration.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._guard import head_lines
from ...exceptions import FormatError
from ...schema import make_events, rate_from_times
from .._checks import check_monotonic

__all__ = ["read_bruker_voltage", "TTL_MIN_RANGE_V", "TTL_LEVEL_FRACTION"]

TIME_COLUMN = "Time(ms)"
TTL_MIN_RANGE_V = 1.0  # a TTL line swings 3.3-5 V; a quiet analog input far less
TTL_LEVEL_FRACTION = 0.98  # share of samples at the low or the high level (within 5 %)
TTL_LEVEL_WIDTH = 0.05  # of the range: a TTL level is flat, a treadmill signal is not
_DEFAULT_NAME = re.compile(r"Input \d+")


def _header(path: Path) -> list[str]:
    line = head_lines(path, 1)[0]  # bounded: a file without a line end is not read whole
    return [c.strip() for c in line.rstrip("\r\n").split(",")]


def _read(path: Path, names: list[str]) -> pd.DataFrame:
    if not names or names[0] != TIME_COLUMN or len(names) < 2:
        raise FormatError(f"header starts with {names[:2]}, expected '{TIME_COLUMN}' then one "
                          "column per input (a PrairieView VoltageRecording CSV)", path=path)
    repeated = sorted({n for n in names if names.count(n) > 1 or not n})
    if repeated:
        raise FormatError(f"header has empty or repeated column names {repeated}", path=path)
    try:
        table = pd.read_csv(path, skipinitialspace=True, encoding="utf-8-sig", dtype=float,
                            keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raw = pd.read_csv(path, skipinitialspace=True, encoding="utf-8-sig", dtype=str,
                          keep_default_na=False, on_bad_lines="error")
        for column in raw.columns:
            bad = pd.to_numeric(raw[column], errors="coerce").isna().to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise FormatError(f"line {i + 2}, column {column.strip()!r}: found "
                                  f"{raw[column].iloc[i]!r}, expected a number", path=path) from exc
        raise FormatError(f"cannot parse the VoltageRecording rows: {exc}", path=path) from exc
    table.columns = names
    if table.empty:
        raise FormatError("header only: no samples", path=path)
    bad = np.argwhere(~np.isfinite(table.to_numpy()))
    if bad.size:
        raise FormatError(f"line {bad[0][0] + 2}, column {names[bad[0][1]]!r} is not a finite "
                          "number", path=path)
    return table


def _ttl(values: np.ndarray) -> float | None:
    """The threshold (V) of a TTL line, or None for an analog input."""
    low, high = float(values.min()), float(values.max())
    span = high - low
    if span < TTL_MIN_RANGE_V:
        return None
    near = (values <= low + TTL_LEVEL_WIDTH * span) | (values >= high - TTL_LEVEL_WIDTH * span)
    return low + span / 2 if near.mean() >= TTL_LEVEL_FRACTION else None


def _high_periods(time: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    change = np.diff(high.astype(np.int8), prepend=np.int8(0))  # high at the start: a rise
    rise, fall = time[change == 1], time[change == -1]
    if rise.size > fall.size:  # still high at the end: closed at the last sample
        fall = np.append(fall, time[-1])
    return rise, fall


def read_bruker_voltage(path) -> xr.Dataset:
    """Read a PrairieView ``VoltageRecording`` CSV: inputs over ``time``, TTL high periods as epochs.

    Parameters
    ----------
    path : str or os.PathLike
        ``*_VoltageRecording_*.csv`` (``Time(ms)`` then one column per input, volts).

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s) over ``epoch`` for the high periods of the TTL
        inputs (``label`` = input name), and every input as a variable over ``time`` (s from the
        recording start, float64) in ``V`` with attr ``kind`` (``digital``/``analog``) and, for a
        TTL line, ``threshold_V``. Attrs ``fs`` (Hz, from the times), ``digital_inputs``,
        ``analog_inputs``.

    Raises
    ------
    FormatError
        If the header is not ``Time(ms), <inputs>``, a cell is not a number (naming line and
        column), or the times do not increase.
    """
    path = Path(path)
    names = _header(path)
    table = _read(path, names)
    time = table[TIME_COLUMN].to_numpy() / 1000.0
    check_monotonic(time, what=f"column {TIME_COLUMN!r}", path=path)
    starts, ends, labels, variables, digital, analog = [], [], [], {}, [], []
    for name in names[1:]:
        values = table[name].to_numpy()
        threshold = _ttl(values)
        attrs = {"units": "V", "long_name": f"DAQ input {name}"}
        if threshold is None:
            analog.append(name)
            attrs["kind"] = "analog"
        else:
            digital.append(name)
            attrs.update(kind="digital", threshold_V=threshold)
            rise, fall = _high_periods(time, values > threshold)
            starts += list(rise)
            ends += list(fall)
            labels += [name] * rise.size
        variables[name] = ("time", values, attrs)
    order = np.argsort(starts, kind="stable")
    ds = make_events(np.asarray(starts, float)[order], np.asarray(ends, float)[order],
                     label=np.asarray(labels, dtype=str)[order], source_format="bruker-voltage",
                     source_file=path, event_kind="TTL high periods of the DAQ inputs",
                     fs=rate_from_times(time) if time.size > 1 else float("nan"),
                     digital_inputs=digital, analog_inputs=analog)
    ds = ds.assign_coords(time=("time", time, {"units": "s",
                                               "long_name": "time from the recording start"}))
    return ds.assign(variables)


def _sniff(path: Path) -> bool:
    names = _header(path)
    if len(names) < 2 or names[0] != TIME_COLUMN:
        return False
    return "voltagerecording" in path.name.lower() or all(_DEFAULT_NAME.fullmatch(n)
                                                          for n in names[1:])
