"""Neurophotometrics files written by a lab's own Bonsai workflow, without a header.

The layout of a real lab's workflow: space-separated rows, no header, one row per camera frame::

    57887085.8496 673702795 0.02131 0.01984 0.02403 0.01871
    57887107.8144 673702796 0.03310 0.02967 0.03517 0.02894

that is the system clock (ms since midnight), the hardware frame counter, then one value per
fiber ROI; often with a one-column companion timestamp file (ms). Older workflows write a
timestamp then the fibers, or the fibers only with the companion file. The file does not say
which LEDs are interleaved: ``leds=(415, 470, 560)`` (the first frame's LED first).

Column roles are read from the values, never from their position alone:

* **clock**: the first column when it rises strictly (a fiber value never does over a file);
  its unit from the frame interval, ``time_unit="auto"``: a median step of 1 or more is ms (a
  camera frame every 5-100 ms), 0.5 or less is s; anything between is refused. A ms clock
  since midnight that passes midnight is unwrapped (a day added, with a warning).
* **frame counter**: the next column when it holds whole numbers rising by 1 per frame
  (median step 1). It is kept as the ``frame`` coordinate and assigns the LEDs (``counter mod
  len(leds)``), so a dropped frame does not shift the LEDs of the frames after it.
* every further column is a fiber: ``G0``, ``G1``, ...

Time is seconds from the first frame; the clock itself, in seconds, is the coordinate
``raw_time`` (``raw_time_<nm>`` per LED) so that the file can be aligned with other devices on
the same clock (NeuroConv keeps it as the timestamps).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._logging import warn
from ..._validate import _check_option
from ...exceptions import DataRepairWarning, FormatError, QualityWarning
from .._reading import format_reader
from ._common import Channel, build_dataset, read_head

__all__ = ["read_npm_headerless", "OPTIONS"]

#: the clock unit -> what to divide by for seconds (a division: 1234.5 ms -> 1.2345 s exactly)
PER_SECOND = {"s": 1.0, "ms": 1000.0}
#: frame intervals (in the clock's unit) that tell ms from s: cameras run at 10-200 Hz
MS_MIN_STEP, S_MAX_STEP = 1.0, 0.5
DAY = {"s": 86400.0, "ms": 86400e3}
#: the reader's options, for ``sfone.read(path, **options)`` and the command line
OPTIONS = {
    "leds": "LEDs interleaved frame by frame, first frame's first: 415,470 or 415,470,560 "
            "(nm; required: the file does not say)",
    "n_fibers": "number of fiber columns, checked against the file",
    "timestamps": "companion timestamp file (one number per frame)",
    "time_unit": "unit of the clock: auto (from the frame interval), s or ms",
}


def _read_rows(path: Path, what: str) -> np.ndarray:
    """Rows of numbers separated by spaces (or commas), no header, as a 2-D float array."""
    head = read_head(path, 4096).decode("utf-8-sig", errors="replace")
    sep = "," if "," in head.split("\n", 1)[0] else r"\s+"
    try:
        table = pd.read_csv(path, sep=sep, header=None, dtype=float, skip_blank_lines=True)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FormatError(f"{what}: expected rows of numbers separated by spaces (no header): "
                          f"{exc}", path=path) from exc
    values = table.to_numpy(dtype=float)
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        raise FormatError(f"{what}: line {bad[0][0] + 1}, column {bad[0][1] + 1} is not a "
                          "finite number", path=path)
    return values


def _rises(column: np.ndarray) -> bool:
    step = np.diff(column)
    return column.size > 1 and bool(np.all((step > 0) | (step < -0.5 * np.abs(column).max())))


def _is_counter(column: np.ndarray) -> bool:
    """Whole numbers rising by 1 per frame (median), never falling: a hardware frame counter."""
    step = np.diff(column)
    return (column.size > 1 and bool(np.all(column == np.round(column)))
            and bool(np.all(step >= 1)) and float(np.median(step)) == 1.0)


def _unit(clock: np.ndarray, given: str, path) -> str:
    if given != "auto":
        return given
    step = float(np.median(np.diff(clock)))
    if step >= MS_MIN_STEP:
        return "ms"
    if step <= S_MAX_STEP:
        return "s"
    raise FormatError(f"the clock advances {step:g} per frame (median): neither ms (a frame "
                      f"every 5-100 ms) nor s (0.005-0.1 s); pass time_unit='s' or 'ms'",
                      path=path)


def _unwrap_midnight(clock: np.ndarray, unit: str, path) -> np.ndarray:
    """A time-of-day clock that passes midnight: add a day from there on (with a warning);
    any other step back is an error naming the line."""
    step = np.diff(clock)
    back = np.flatnonzero(step <= 0)
    if not back.size:
        return clock
    wraps = [i for i in back if clock[i] > 0.9 * DAY[unit] and clock[i + 1] < 0.1 * DAY[unit]]
    other = sorted(set(back) - set(wraps))
    if other:
        i = other[0]
        raise FormatError(f"line {i + 2}: the clock goes from {clock[i]!r} to {clock[i + 1]!r}; "
                          "expected it to increase", path=path)
    warn(f"{path}: the clock passes midnight after line {wraps[0] + 1} ({clock[wraps[0]]!r} then "
         f"{clock[wraps[0] + 1]!r} {unit}); a day added from there on", DataRepairWarning)
    out = clock.copy()
    for i in wraps:
        out[i + 1:] += DAY[unit]
    return out


def _leds(leds, path) -> list[str]:
    if isinstance(leds, str):
        leds = [part for part in leds.replace(" ", "").split(",") if part]
    if not leds:
        raise FormatError("a headerless NPM file does not say which LEDs are interleaved: pass "
                          "leds=(415, 470) (the first frame's LED first) or leds=(470,)",
                          path=path)
    names = [str(led).strip() for led in leds]
    bad = [n for n in names if not n.replace(".", "", 1).isdigit()]
    if bad:
        raise FormatError(f"leds={leds!r}: {bad[0]!r} is not a wavelength in nm; expected e.g. "
                          "(415, 470, 560)", path=path)
    if len(set(names)) != len(names):
        raise FormatError(f"leds={leds!r} names an LED twice", path=path)
    return names


def _roles(values: np.ndarray, stamps: np.ndarray | None, path) -> tuple[int | None, int | None]:
    """Column index of the clock and of the frame counter (None when absent)."""
    clock = 0 if values.shape[1] > 1 and _rises(values[:, 0]) else None
    if stamps is None and clock is None:
        raise FormatError("the first column does not increase, so it is not a clock: expected a "
                          "timestamp then one value per fiber (or pass timestamps=<file>)",
                          path=path)
    start = 0 if clock is None else 1
    counter = start if values.shape[1] > start + 1 and _is_counter(values[:, start]) else None
    return clock, counter


def _check_fibers(n_fibers, n_found: int, clock, counter, path) -> None:
    if n_fibers is None or int(n_fibers) == n_found:
        return
    roles = [what for what, col in (("the clock", clock), ("the frame counter", counter))
             if col is not None]
    where = "column 1" if len(roles) == 1 else "columns 1-2"
    why = f" after {' and '.join(roles)} ({where})" if roles else ""
    raise FormatError(f"n_fibers={n_fibers} but the file has {n_found} fiber column(s){why}",
                      path=path)


def _frame_gaps(counter: np.ndarray, path) -> None:
    step = np.diff(counter)
    gaps = np.flatnonzero(step != 1)
    if gaps.size:
        warn(f"{path}: the frame counter jumps at {gaps.size} place(s) (first after line "
             f"{gaps[0] + 1}, by {step[gaps[0]]:g}): dropped frames; the LEDs are assigned by the "
             "counter", QualityWarning)


@format_reader
def read_npm_headerless(path, *, leds=None, n_fibers: int | None = None, timestamps=None,
                        time_unit: str = "auto") -> xr.Dataset:
    """Read a headerless Neurophotometrics Bonsai file: clock, frame counter, one value per fiber.

    Parameters
    ----------
    path : str or os.PathLike
        Space- (or comma-) separated numbers, one row per camera frame, no header.
    leds : tuple of int or str, or str
        The LEDs interleaved frame by frame, the first frame's first, e.g. ``(415, 470, 560)``
        or ``"415,470"``; ``(470,)`` for one LED. Required: the file does not say.
    n_fibers : int, optional
        Fiber columns, checked against the file (clock and frame counter are not fibers).
    timestamps : path, optional
        A companion timestamp file (one number per frame, same row count): the frame times;
        a clock column of ``path`` is then kept as the coordinate ``file_clock``.
    time_unit : {"auto", "s", "ms"}
        Unit of the clock; ``"auto"`` reads it from the frame interval (module docstring).

    Returns
    -------
    xarray.Dataset
        Variables ``G<k>_<nm>`` (``k`` = fiber, ``nm`` = LED) on clocks ``time_<nm>``, seconds
        from the first frame; per clock the coordinates ``raw_time_<nm>`` (the file's clock, s)
        and ``frame_<nm>`` (the hardware frame counter, when the file has one). Attrs
        ``leds``, ``n_fibers``, ``time_unit``, ``time_origin_s`` (the first frame on the
        file's clock, s) and ``clock_source``; ``excitation_nm`` and ``roi`` per variable.

    Raises
    ------
    FormatError
        Without ``leds``, with a timestamp file whose rows do not match, a clock that neither
        increases nor passes midnight, an undecidable clock unit, or ``n_fibers`` other than
        the file's fiber columns.
    ValueError
        If ``time_unit`` is not "auto", "s" or "ms".
    """
    path = Path(path)
    names = _leds(leds, path)
    _check_option("time_unit", time_unit, ("auto", *PER_SECOND))
    values = _read_rows(path, "headerless NPM file")
    stamps = None
    if timestamps is not None:
        stamps = _read_rows(Path(timestamps), "NPM timestamp file")
        if stamps.shape[1] != 1 or stamps.shape[0] != values.shape[0]:
            raise FormatError(f"timestamp file {timestamps} has {stamps.shape[0]} rows x "
                              f"{stamps.shape[1]} columns; expected one column and "
                              f"{values.shape[0]} rows (one per frame of the data file)",
                              path=path)
        stamps = stamps[:, 0]
    clock_col, counter_col = _roles(values, stamps, path)
    first_fiber = sum(c is not None for c in (clock_col, counter_col))
    data = values[:, first_fiber:]
    _check_fibers(n_fibers, data.shape[1], clock_col, counter_col, path)
    if data.shape[1] == 0:
        raise FormatError("no fiber column after the clock and frame counter", path=path)
    raw = stamps if stamps is not None else values[:, clock_col]
    unit = _unit(raw, time_unit, path)
    raw = _unwrap_midnight(raw, unit, path) / PER_SECOND[unit]
    time = raw - raw[0]
    counter = values[:, counter_col].astype(np.int64) if counter_col is not None else None
    if counter is not None:
        _frame_gaps(counter, path)
    phase = ((counter - counter[0]) if counter is not None else np.arange(len(raw))) % len(names)
    clock_coords, channels = {}, []
    source = (f"timestamp file {Path(timestamps).name}" if stamps is not None
              else "column 1") + f" ({unit})"
    for j, led in enumerate(names):
        rows = phase == j
        extra = {"raw_time": (raw[rows], {"units": "s", "long_name": "the file's clock, s",
                                          "source": source})}
        if counter is not None:
            extra["frame"] = (counter[rows], {"long_name": "hardware frame counter",
                                              "source": f"column {counter_col + 1}"})
        if stamps is not None and clock_col is not None:
            extra["file_clock"] = (values[rows, clock_col],
                                   {"long_name": "the data file's own clock column, as written"})
        clock_coords[led] = extra
        for k in range(data.shape[1]):
            channels.append(Channel(name=f"G{k}_{led}", values=data[rows, k], time=time[rows],
                                    clock=led, units="a.u.",
                                    attrs={"roi": f"G{k}", "excitation_nm": led}))
    return build_dataset(channels, path=path, source_format="npm-headerless",
                         clock_coords=clock_coords, npm_layout="headerless Bonsai", leds=names,
                         n_fibers=int(data.shape[1]), time_unit=unit,
                         time_origin_s=float(raw[0]), clock_source=source)


def _sniff_headerless(path: Path) -> bool:
    """A clock, a frame counter rising by 1 per line and at least one more number per line,
    space-separated, no header (the lab Bonsai layout); older headerless files (no counter)
    cannot be told apart from other number tables: read them with format='npm-headerless'."""
    text = read_head(path, 4096).decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(text) == 4096:
        lines = lines[:-1]  # cut off by the read
    rows = [line.split() for line in lines if line.strip()]
    if len(rows) < 3 or any("," in line for line in lines):
        return False
    try:
        table = np.array([[float(v) for v in row] for row in rows])
    except ValueError:  # ragged or not numbers
        return False
    if table.ndim != 2 or table.shape[1] < 3 or not np.all(np.isfinite(table)):
        return False
    return bool(np.all(np.diff(table[:, 0]) > 0) and np.all(np.diff(table[:, 1]) == 1)
                and np.all(table[:, 1] == np.round(table[:, 1])))
