"""Run epochs: build them from a runs CSV, TTL/GPIO lines, a treadmill speed trace or a protocol,
and validate them against a recording.

Every builder returns one events Dataset (:func:`sfone.schema.make_events`): dim ``epoch`` with
``start`` and ``end`` in seconds from session start. :func:`validate_epochs` sorts, merges
overlaps and clips to the recording, each fix reported with a :class:`DataRepairWarning`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ._logging import warn
from .exceptions import DataRepairWarning, SchemaError
from .io.events.runs_csv import read_runs_csv
from .schema import make_events

__all__ = ["prerun_window", "epochs_from_csv", "epochs_from_ttl", "epochs_from_speed", "epochs_from_protocol",
           "validate_epochs", "as_epochs", "time_range"]


def epochs_from_csv(path, *, recording=None) -> xr.Dataset:
    """Read run epochs from a ``start_s,end_s`` CSV; validated against ``recording`` if given.

    Parameters
    ----------
    path : str or os.PathLike
        Runs CSV (see :func:`sfone.io.events.runs_csv.read_runs_csv`).
    recording : xarray.Dataset, xarray.DataArray or (float, float), optional
        Recording with a ``time`` coordinate, or its (first, last) time in s; epochs are checked
        against it (see :func:`validate_epochs`).

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s from session start) over ``epoch``.
    """
    events = read_runs_csv(path)
    return validate_epochs(events, recording=recording)


def _segments(active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of first and one-past-last sample of every run of True in ``active``."""
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _edge_times(time, first, last):
    """Epoch start/end times: the crossing sample for starts, the first sample after for ends."""
    start = time[first]
    end = time[np.minimum(last, time.size - 1)]  # still active at the end: last timestamp
    return start, end


def _check_trace(time, values, name):
    time = np.asarray(time, dtype=float)
    values = np.asarray(values, dtype=float)
    if time.ndim != 1 or time.shape != values.shape:
        raise SchemaError(f"{name}: time {time.shape} and values {values.shape} must be 1-D and "
                          "of equal length")
    if time.size > 1 and np.any(np.diff(time) <= 0):
        raise SchemaError(f"{name}: time must be strictly increasing seconds")
    return time, values


def _truncated_warning(active, name):
    if active.size and active[0]:
        warn(f"{name}: the line is already active at the first sample; the first epoch starts at "
             "the recording start (its true onset is unknown)", DataRepairWarning)
    if active.size and active[-1]:
        warn(f"{name}: the line is still active at the last sample; the last epoch ends at the "
             "recording end", DataRepairWarning)


def epochs_from_ttl(time, line, *, threshold: float | None = None, active_high: bool = True,
                    min_duration_s: float = 0.0, source="<ttl>") -> xr.Dataset:
    """Run epochs from a TTL/GPIO line: a rising edge starts an epoch, a falling edge ends it.

    Parameters
    ----------
    time : array_like of float
        Sample times (s).
    line : array_like of float
        Line values (V or 0/1).
    threshold : float, optional
        Level separating low from high; default halfway between min and max.
    active_high : bool, default True
        False for active-low lines (epoch while the line is low).
    min_duration_s : float, default 0.0
        Epochs shorter than this (s) are dropped, with a DataRepairWarning.
    source : str, default "<ttl>"
        Name of the line in messages and the ``source_file`` attr.

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s from session start) over ``epoch``.
    """
    time, line = _check_trace(time, line, source)
    if threshold is None:
        threshold = 0.5 * (np.nanmin(line) + np.nanmax(line))
    active = line > threshold if active_high else line < threshold
    _truncated_warning(active, source)
    first, last = _segments(active)
    start, end = _edge_times(time, first, last)
    return _finish(start, end, min_duration_s, source, "ttl")


def epochs_from_speed(time, speed, *, threshold: float = 1.0, min_duration_s: float = 10.0,
                      merge_gap_s: float = 5.0, source="<speed>") -> xr.Dataset:
    """Run epochs from a treadmill speed trace.

    Running is speed above ``threshold`` for at least ``min_duration_s``, after merging pauses
    shorter than ``merge_gap_s``. NaN speed counts as not running.

    Parameters
    ----------
    time : array_like of float
        Sample times (s).
    speed : array_like of float
        Speed at each sample (trace units, e.g. m/min or cm/s).
    threshold : float, default 1.0
        Running speed threshold, in the trace's units.
    min_duration_s : float, default 10.0
        Shorter epochs (s) are dropped.
    merge_gap_s : float, default 5.0
        Pauses shorter than this (s) are merged into one epoch.
    source : str, default "<speed>"
        Name of the trace in messages and the ``source_file`` attr.

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s from session start) over ``epoch``.
    """
    time, speed = _check_trace(time, speed, source)
    active = np.nan_to_num(speed, nan=-np.inf) > threshold
    _truncated_warning(active, source)
    first, last = _segments(active)
    start, end = _edge_times(time, first, last)
    if start.size > 1:
        heads = np.flatnonzero(np.concatenate([[True], start[1:] - end[:-1] >= merge_gap_s]))
        start, end = start[heads], np.maximum.reduceat(end, heads)
    return _finish(start, end, min_duration_s, source, "speed")


def _finish(start, end, min_duration_s, source, kind):
    short = (end - start) < max(min_duration_s, 0.0)
    short |= end <= start
    if short.any():
        warn(f"{source}: dropped {int(short.sum())} {kind} epoch(s) shorter than "
             f"{min_duration_s} s (at {', '.join(f'{s:.3f}' for s in start[short][:5])} s)",
             DataRepairWarning)
    return make_events(start[~short], end[~short], source_format=kind, source_file=str(source))


def epochs_from_protocol(protocol, *, day: int, run_start_s: float) -> xr.Dataset:
    """One run epoch from a treadmill-training protocol.

    The run of training ``day`` starts at ``run_start_s`` and lasts the day's ``duration_min``.

    Parameters
    ----------
    protocol : TrainingProtocol, str or os.PathLike
        A treadmill-training protocol, or its YAML path.
    day : int
        Training day listed in the protocol.
    run_start_s : float
        Run start (s from session start).

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s from session start) over ``epoch``.
        One epoch, labelled ``"day <day>: <speed> m/min"``.

    Raises
    ------
    SchemaError
        If ``protocol`` is not a treadmill-training protocol or lacks ``day``.
    """
    from .protocols import TrainingProtocol, load_protocol

    source = "<protocol>"
    if isinstance(protocol, str | Path):
        source = str(protocol)
        protocol = load_protocol(protocol)
    if not isinstance(protocol, TrainingProtocol):
        raise SchemaError(f"{source}: expected a treadmill_training protocol, got "
                          f"{type(protocol).__name__}")
    days = {d.day: d for d in protocol.days}
    if day not in days:
        raise SchemaError(f"{source}: day {day} is not in the protocol (days {sorted(days)})")
    entry = days[day]
    return make_events([run_start_s], [run_start_s + 60.0 * entry.duration_min],
                       label=[f"day {day}: {entry.speed_m_min} m/min"],
                       source_format="protocol", source_file=source)


def time_range(recording) -> tuple[float, float]:
    """(first, last) timestamp (s) of a Dataset/DataArray with a ``time`` coordinate, or a pair.

    Parameters
    ----------
    recording : xarray.Dataset, xarray.DataArray or (float, float)
        Recording with a ``time`` coordinate (s), or a (first, last) pair.

    Returns
    -------
    tuple of float
    """
    if isinstance(recording, xr.Dataset | xr.DataArray):
        time = np.asarray(recording["time"].values, dtype=float)
        return float(time[0]), float(time[-1])
    first, last = recording
    return float(first), float(last)


def _repair(start, end, label, first, last, source):
    """Sort, merge overlaps, clip to [first, last]; returns the repaired arrays."""
    order = np.argsort(start, kind="stable")
    if np.any(order != np.arange(start.size)):
        warn(f"{source}: epochs were not sorted by start; sorted them", DataRepairWarning)
        start, end, label = start[order], end[order], label[order]
    if start.size > 1 and np.any(start[1:] < np.maximum.accumulate(end)[:-1]):
        new_group = np.concatenate([[True], start[1:] >= np.maximum.accumulate(end)[:-1]])
        heads = np.flatnonzero(new_group)
        warn(f"{source}: {start.size - heads.size} overlapping epoch(s) merged into the one "
             "before", DataRepairWarning)
        end = np.maximum.reduceat(end, heads)
        start, label = start[heads], label[heads]
    outside = (end <= first) | (start >= last)
    if outside.any():
        warn(f"{source}: dropped {int(outside.sum())} epoch(s) entirely outside the recording "
             f"({first:.3f}-{last:.3f} s)", DataRepairWarning)
        start, end, label = start[~outside], end[~outside], label[~outside]
    clipped = (start < first) | (end > last)
    if clipped.any():
        warn(f"{source}: clipped {int(clipped.sum())} epoch(s) to the recording "
             f"({first:.3f}-{last:.3f} s)", DataRepairWarning)
        start, end = np.clip(start, first, last), np.clip(end, first, last)
    return start, end, label


def validate_epochs(events: xr.Dataset, *, recording=None) -> xr.Dataset:
    """Check run epochs: end after start, sorted, non-overlapping and inside the recording.

    Fixes (sorting, merging overlaps, clipping, dropping epochs outside) warn with
    DataRepairWarning.

    Parameters
    ----------
    events : xarray.Dataset
        Events Dataset (``start``/``end`` in s, optional ``label``).
    recording : xarray.Dataset, xarray.DataArray or (float, float), optional
        Recording with a ``time`` coordinate, or its (first, last) time in s.

    Returns
    -------
    xarray.Dataset
        ``events`` itself when nothing needed repair, else a repaired events Dataset.

    Raises
    ------
    SchemaError
        If a start or end is not finite, or an epoch ends at or before it starts.
    """
    source = events.attrs.get("source_file", "<epochs>")
    start = np.asarray(events["start"].values, float)
    end = np.asarray(events["end"].values, float)
    if not (np.all(np.isfinite(start)) and np.all(np.isfinite(end))):
        raise SchemaError(f"{source}: epoch start/end must be finite seconds")
    bad = np.flatnonzero(end <= start)
    if bad.size:
        raise SchemaError(f"{source}: epoch {int(bad[0])} ends ({end[bad[0]]} s) at or before it "
                          f"starts ({start[bad[0]]} s)")
    label = (np.asarray(events["label"].values, str) if "label" in events.coords
             else np.array([""] * start.size))
    first, last = (-np.inf, np.inf) if recording is None else time_range(recording)
    new = _repair(start, end, label, first, last, source)
    if new[0].size == start.size and np.array_equal(new[0], start) and np.array_equal(new[1], end):
        return events
    has_label = "label" in events.coords
    return make_events(new[0], new[1], label=new[2] if has_label else None,
                       source_format=events.attrs.get("source_format", "in-memory"),
                       source_file=source)


def as_epochs(epochs, *, recording=None) -> xr.Dataset:
    """Coerce run epochs given in any accepted form to a validated events Dataset.

    Parameters
    ----------
    epochs : xarray.Dataset, str, os.PathLike, pandas.DataFrame or array_like
        An events Dataset, a runs-CSV path, a DataFrame (``start_s,end_s`` or ``start,end``) or an
        (n, 2) array of seconds.
    recording : xarray.Dataset, xarray.DataArray or (float, float), optional
        Recording with a ``time`` coordinate, or its (first, last) time in s; epochs are checked
        against it (see :func:`validate_epochs`).

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s from session start) over ``epoch``.
    """
    if isinstance(epochs, xr.Dataset):
        events = epochs
    elif isinstance(epochs, str | Path):
        events = read_runs_csv(epochs)
    elif isinstance(epochs, pd.DataFrame):
        cols = ("start_s", "end_s") if "start_s" in epochs else ("start", "end")
        events = make_events(epochs[cols[0]].to_numpy(), epochs[cols[1]].to_numpy())
    else:
        pairs = np.asarray(epochs, dtype=float).reshape(-1, 2)
        events = make_events(pairs[:, 0], pairs[:, 1])
    return validate_epochs(events, recording=recording)


def prerun_window(epochs: xr.Dataset, baseline_s=(-600.0, 0.0)) -> tuple[float, float]:
    """Absolute (start, end) of a baseline window relative to the start of the first run.

    E.g. to take dF/F's F0 and z-score statistics from before the run.

    Parameters
    ----------
    epochs : xarray.Dataset
        Events Dataset; its first ``start`` (s) is the reference.
    baseline_s : (float, float), default (-600.0, 0.0)
        Window relative to the first run's start (s).

    Returns
    -------
    tuple of float
        ``(start, end)`` in s from session start.
    """
    start = float(epochs["start"].values[0])
    return start + float(baseline_s[0]), start + float(baseline_s[1])

