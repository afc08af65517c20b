"""Impossible and missing samples of photometry channels, checked for every photometry reader.

:func:`~sfone.io.photometry._common.build_dataset` (which every photometry reader ends with)
calls :func:`check_channels` on the light channels (not digital lines, TDT epocs or timestamp
copies):

* **impossible samples** - ``inf``/``-inf``, a magnitude beyond :data:`ABSOLUTE_LIMIT` for the
  channel's units (1000 V: no photodetector or ADC reaches it), or farther from the channel's
  median than :data:`OUTLIER_FACTOR` times its 0.5-99.5 % spread - are set to NaN with a
  :class:`~sfone.exceptions.DataRepairWarning` naming the channel, the count and the first
  sample. One ``1e308`` sample otherwise gives a control fit slope of 1e287 and a dF/F of inf.
  On the real fixtures the farthest sample is 35 spreads from the median;
* **missing samples** (NaN) between the first and the last valid one are reported in a
  :class:`~sfone.exceptions.QualityWarning` with their count (leading and trailing NaN, e.g. a
  lock-in's warm-up, are only logged); a channel with more than :data:`MAX_MISSING_FRACTION`
  of its samples missing is refused.

:func:`check_missing_rows` is the same limit for rows a reader drops (rows without a readable
time in a CSV).
"""

from __future__ import annotations

import numpy as np

from ..._logging import logger, warn
from ...exceptions import DataRepairWarning, FormatError
from ...sampling import EVENT_KINDS
from .._checks import quality_issue

__all__ = ["check_channels", "check_missing_rows", "impossible_samples", "ABSOLUTE_LIMIT",
           "OUTLIER_FACTOR", "MAX_MISSING_FRACTION"]

#: largest plausible magnitude per units; other units (a.u., counts) 1e12
ABSOLUTE_LIMIT = {"V": 1e3, "mV": 1e6, "1": 1e3}
DEFAULT_LIMIT = 1e12
#: a sample this many 0.5-99.5 % spreads from the channel's median is not a measurement
OUTLIER_FACTOR = 1e4
#: more missing samples (or dropped rows) than this fraction of a channel: refused
MAX_MISSING_FRACTION = 0.25


def impossible_samples(values, units: str = "a.u.") -> np.ndarray:
    """Boolean mask of the samples that cannot be measurements (see the module docstring).

    Parameters
    ----------
    values : array_like of float
        One channel's samples (NaN is missing, never impossible).
    units : str, default "a.u."
        The channel's units (selects :data:`ABSOLUTE_LIMIT`).

    Returns
    -------
    numpy.ndarray of bool
        True where the sample is infinite, beyond the absolute limit, or an extreme outlier.
    """
    x = np.asarray(values, dtype=float)
    bad = np.isinf(x)
    with np.errstate(invalid="ignore", over="ignore"):
        bad |= np.abs(x) > ABSOLUTE_LIMIT.get(units, DEFAULT_LIMIT)
        rest = x[np.isfinite(x) & ~bad]
        if rest.size >= 10:
            low, median, high = np.percentile(rest, [0.5, 50, 99.5])
            spread = high - low
            if spread > 0:
                bad |= np.abs(x - median) > OUTLIER_FACTOR * spread
    return bad


def _refuse_missing(what: str, n_missing: int, n: int, path, unit: str = "samples") -> None:
    if n and n_missing / n > MAX_MISSING_FRACTION:
        raise FormatError(f"{what}: {n_missing} of {n} {unit} ({100 * n_missing / n:.1f} %) "
                          f"are missing or unreadable; more than {100 * MAX_MISSING_FRACTION:g} % "
                          "of a recording missing is refused (a damaged export?)", path=path)


def check_missing_rows(n_dropped: int, n_rows: int, *, what: str, first: str, path) -> None:
    """Report rows a reader drops; refuse when they exceed :data:`MAX_MISSING_FRACTION`.

    Parameters
    ----------
    n_dropped, n_rows : int
        Rows dropped, rows in the table.
    what : str
        Why they are dropped (e.g. ``"rows without a readable time in column 'Time(s)'"``).
    first : str
        Where the first one is (e.g. ``"data row 201"``).
    path : str or os.PathLike
        The file read.
    """
    if not n_dropped:
        return
    _refuse_missing(what, n_dropped, n_rows, path, unit="rows")
    warn(f"{path}: {n_dropped} of {n_rows} {what} (first at {first}); dropped",
         DataRepairWarning)


def _first_sample(time, index: int) -> str:
    return f"sample {index}, t = {float(time[index]):.6g} s"


def check_channels(channels, *, path) -> None:
    """Repair impossible samples (NaN, warned) and report or refuse missing ones, in place.

    Parameters
    ----------
    channels : list of sfone.io.photometry._common.Channel
        The channels a reader built; ``values`` of light channels are replaced by float
        copies with impossible samples set to NaN.
    path : str or os.PathLike
        The file read.

    Raises
    ------
    FormatError
        If a light channel has more than :data:`MAX_MISSING_FRACTION` of its samples missing.
    """
    for channel in channels:
        if channel.attrs.get("kind") in EVENT_KINDS or channel.units == "s":
            continue
        values = np.array(channel.values, dtype=float)
        if not values.size:
            continue
        missing = np.isnan(values)  # as recorded (the impossible samples are reported apart)
        bad = impossible_samples(values, channel.units)
        if bad.any():
            i = int(np.argmax(bad))
            warn(f"{path}: channel {channel.name!r}: {int(bad.sum())} impossible sample(s) "
                 f"(first {values[i]:g} at {_first_sample(channel.time, i)}) set to NaN: "
                 f"infinite, beyond {ABSOLUTE_LIMIT.get(channel.units, DEFAULT_LIMIT):g} "
                 f"{channel.units} or {OUTLIER_FACTOR:g} times the channel's spread from its "
                 "median", DataRepairWarning)
            values[bad] = np.nan
            channel.values = values
        if np.isnan(values).all():
            continue  # an all-NaN channel is dropped (with a warning) by build_dataset
        _refuse_missing(f"channel {channel.name!r}", int(np.isnan(values).sum()), values.size,
                        path)
        if not missing.any():
            continue
        valid = np.flatnonzero(~missing)
        interior = missing[valid[0]:valid[-1] + 1]
        edges = int(missing.sum() - interior.sum())
        if edges:
            logger.info("%s: channel %r: %d NaN sample(s) before the first or after the last "
                        "valid one (warm-up); kept", path, channel.name, edges)
        if interior.any():
            i = valid[0] + int(np.argmax(interior))
            quality_issue(f"channel {channel.name!r}: {int(interior.sum())} of {values.size} "
                          f"samples ({100 * interior.sum() / values.size:.3g} %) are missing "
                          f"(NaN) inside the recording, first at {_first_sample(channel.time, i)}"
                          "; kept as NaN (dF/F is NaN there)", path=path)
