"""Neurophotometrics FP3001/FP3002 (Bonsai) CSV files, and IBL's Parquet re-exports of them.

Photometry frames (``FrameCounter,SystemTimestamp,LedState,ComputerTimestamp,G0,...`` or the old
``FrameCounter,Timestamp,Flags,Region0R,...``) are demultiplexed by ``LedState``/``Flags & 7``
(1 = 415 nm, 2 = 470 nm, 4 = 560 nm). Frames with no LED (0) or all LEDs (7) are dropped with a
``DataRepairWarning``. Each LED gets its own clock ``time_<nm>`` (frames are sequential, not
simultaneous) and each ROI column one variable per LED: ``G0_470``, ``Region1G_415``. Flag bits
above the LED field that change (digital inputs in old files) become 0/1 variables on the frame
clock ``time_frame``.

Digital-input files in three layouts are read too: ``Timestamp,Value``;
``Timestamp,Value.Seconds,Value.Value`` (timed by the hardware ``Value.Seconds``: ``Timestamp``
repeats within a Bonsai buffer); ``ChannelName,Channel,AlwaysTrue,SystemTimestamp,
ComputerTimestamp`` (one variable per ``ChannelName``, one sample per event).

Files a lab's own Bonsai workflow writes without a header (space-separated: clock, frame counter,
one value per fiber) are read by :mod:`sfone.io.photometry.npm_headerless`.

Time is seconds from the first timestamp of the file unless ``time_origin`` (in the file's clock,
seconds) is given, e.g. to put a digital-input file on its photometry file's time base; the origin
used is kept in the ``time_origin_s`` attr, and the file's clock itself (s) in the coordinate
``raw_time`` (``raw_time_<clock>``) along each clock, so the file can be aligned with other
devices (NeuroConv keeps that clock as the timestamps). ``ComputerTimestamp`` (ms since midnight)
is converted to seconds. ``FrameCounter`` is the coordinate ``frame`` (``frame_<clock>``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._docs import fill_doc
from ..._logging import warn
from ...exceptions import DataRepairWarning, FormatError, QualityWarning
from .._reading import format_reader
from .._text import csv_parse_error
from ._common import Channel, build_dataset, read_head

__all__ = ["read_npm"]

LED_NAMES = {1: "415", 2: "470", 4: "560"}
ROI_PATTERN = re.compile(r"^(Region\d+[A-Z]|[GR]\d+)$")
TIME_COLUMNS = ("SystemTimestamp", "Timestamp", "ComputerTimestamp")
MS_COLUMNS = ("ComputerTimestamp", "msTimestamp")
DIGITAL_LAYOUTS = (
    ("Timestamp", "Value"),
    ("Timestamp", "Value.Seconds", "Value.Value"),
    ("ChannelName", "Channel", "AlwaysTrue", "SystemTimestamp", "ComputerTimestamp"),
)
PARQUET_SUFFIXES = (".pqt", ".parquet")


def _load_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            return pd.read_parquet(path)
        except Exception as exc:
            raise FormatError(f"cannot read as Parquet: {exc}", path=path) from exc
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise csv_parse_error(exc, path=path, what="Neurophotometrics CSV") from exc


def _drop_unnamed(table: pd.DataFrame, path) -> pd.DataFrame:
    unnamed = [c for c in table.columns if str(c).startswith("Unnamed:") or not str(c).strip()]
    if unnamed:
        warn(f"{path}: dropped {len(unnamed)} unnamed column(s) {unnamed} (index or copies "
             "written by a re-save, not part of the Neurophotometrics layout)", DataRepairWarning)
    return table.drop(columns=unnamed)


def _time_seconds(table: pd.DataFrame, column: str | None, path) -> tuple[np.ndarray, str]:
    if column is None:
        column = next((c for c in TIME_COLUMNS if c in table.columns), None)
    if column is None or column not in table.columns:
        raise FormatError(f"no time column {column or ' or '.join(TIME_COLUMNS)}; found "
                          f"{', '.join(map(str, table.columns))}", path=path)
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        row = int(np.flatnonzero(~np.isfinite(values))[0])
        raise FormatError(f"row {row + 1}, column {column!r}: found {table[column].iloc[row]!r}, "
                          "expected a number", path=path)
    return (values / 1000.0 if column in MS_COLUMNS else values), column


def _led_name(code: int) -> str:
    return "+".join(LED_NAMES[bit] for bit in (1, 2, 4) if code & bit)


def _flag_channels(flags: np.ndarray, time: np.ndarray) -> list[Channel]:
    channels = []
    for bit in range(3, 16):
        level = ((flags >> bit) & 1).astype(np.int8)
        if level.min() != level.max():
            channels.append(Channel(f"Flags_bit{bit}", level, time, "frame", "1",
                                    {"kind": "digital", "source": f"bit {bit} of Flags"}))
    return channels


def _warn_frame_gaps(table: pd.DataFrame, path) -> None:
    if "FrameCounter" not in table.columns:
        return
    steps = np.diff(pd.to_numeric(table["FrameCounter"], errors="coerce").to_numpy(dtype=float))
    gaps = np.flatnonzero(steps != 1)
    if gaps.size:
        warn(f"{path}: FrameCounter jumps at {gaps.size} place(s) (first after row {gaps[0] + 1}, "
             f"step {steps[gaps[0]]:g}): dropped frames; each LED keeps its own timestamps",
             QualityWarning)


def _check_frame_counter(table: pd.DataFrame, path) -> None:
    """FrameCounter holds whole frame numbers; anything else means swapped or renamed columns."""
    if "FrameCounter" not in table.columns:
        return
    counts = pd.to_numeric(table["FrameCounter"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(counts) | (counts != np.round(counts)))
    if bad.size:
        raise FormatError(f"row {bad[0] + 1}, column 'FrameCounter': found "
                          f"{table['FrameCounter'].iloc[bad[0]]}, expected a whole frame "
                          "number (columns swapped or renamed?)", path=path)


def _photometry_channels(table, time, path) -> tuple[list[Channel], dict]:
    """The ROI channels per LED (and old files' flag bits) and each clock's rows."""
    _check_frame_counter(table, path)
    _warn_frame_gaps(table, path)
    state_col = "LedState" if "LedState" in table.columns else "Flags"
    flags = pd.to_numeric(table[state_col], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    led = flags & 7
    bad = (led == 0) | (led == 7)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        warn(f"{path}: dropped {int(bad.sum())} frame(s) with no LED or all LEDs lit "
             f"({state_col} & 7 in {{0, 7}}; rows {rows})", DataRepairWarning)
    rois = [c for c in table.columns if ROI_PATTERN.match(str(c))]
    if not rois:
        raise FormatError(f"no ROI column (Region<n><colour> or G<n>/R<n>); found "
                          f"{', '.join(map(str, table.columns))}", path=path)
    channels, clock_rows = [], {}
    for code in np.unique(led[~bad]):
        rows = (led == code) & ~bad
        clock = _led_name(int(code))
        clock_rows[clock] = np.flatnonzero(rows)
        for roi in rois:
            values = pd.to_numeric(table[roi], errors="coerce").to_numpy(dtype=float)[rows]
            channels.append(Channel(f"{roi}_{clock}", values, time[rows], clock, "a.u.",
                                    {"roi": roi, "excitation_nm": clock, "led_code": int(code)}))
    if state_col == "Flags":
        channels += _flag_channels(flags, time)
        clock_rows["frame"] = np.arange(len(time))
    return channels, clock_rows


def _digital_channels(table, layout, time, used) -> tuple[list[Channel], dict]:
    if layout[0] == "ChannelName":
        channels, clock_rows = [], {}
        for name, rows in table.groupby("ChannelName", sort=True).indices.items():
            values = table["AlwaysTrue"].to_numpy()[rows].astype(np.int8)
            channels.append(Channel(str(name), values, time[rows], str(name), "1",
                                    {"kind": "digital", "note": "one sample per input event"}))
            clock_rows[str(name)] = rows
        return channels, clock_rows
    value_col = "Value" if "Value" in table.columns else "Value.Value"
    channels = [Channel(value_col, table[value_col].to_numpy().astype(np.int8), time,
                        "digital_input", "1", {"kind": "digital",
                                               "note": "level after each state change"})]
    for other in (c for c in ("Timestamp", "Value.Seconds") if c in table.columns and c != used):
        channels.append(Channel(other, table[other].to_numpy(dtype=float), time,
                                "digital_input", "s", {"note": "the file's other timestamp, "
                                                       "raw (not re-based)"}))
    return channels, {"digital_input": np.arange(len(time))}


def _clock_coords(table: pd.DataFrame, raw: np.ndarray, used: str, clock_rows: dict) -> dict:
    """Per clock: ``raw_time`` (the file's clock, s) and ``frame`` (FrameCounter) coordinates."""
    frames = (pd.to_numeric(table["FrameCounter"], errors="coerce").to_numpy()
              if "FrameCounter" in table.columns else None)
    out = {}
    for clock, rows in clock_rows.items():
        out[clock] = {"raw_time": (raw[rows], {
            "units": "s", "long_name": "the file's clock, s (time + time_origin_s)",
            "source": used + (" (ms)" if used in MS_COLUMNS else "")})}
        if frames is not None and clock != "frame":  # the flag bits' clock is every frame
            out[clock]["frame"] = (frames[rows].astype(np.int64), {
                "long_name": "hardware frame counter", "source": "FrameCounter"})
    return out


def _digital_layout(columns) -> tuple[str, ...] | None:
    names = tuple(map(str, columns))
    return next((layout for layout in DIGITAL_LAYOUTS if names == layout), None)


@format_reader
@fill_doc
def read_npm(path, *, time_column: str | None = None,
             time_origin: float | None = None) -> xr.Dataset:
    """Read a Neurophotometrics photometry or digital-input file (CSV or IBL Parquet).

    Parameters
    ----------
    path : str or os.PathLike
        Neurophotometrics CSV, or IBL Parquet table.
    time_column : str, optional
        Timestamp column (default: SystemTimestamp, else Timestamp, else ComputerTimestamp).
    time_origin : float, optional
        Time zero in the file's clock (s); default the file's first timestamp.

    Returns
    -------
    xarray.Dataset
        Photometry Dataset: one variable per channel (``units`` attr: "a.u."/"V" for light,
        "1" for digital lines) over ``time``, or over ``time_<clock>`` (float64 s) when
        channels have separate clocks.
        Time is seconds from ``time_origin``; the file's own clock (s) is kept per clock as
        the coordinate ``raw_time`` (``raw_time_<clock>``) and ``FrameCounter`` as ``frame``
        (``frame_<clock>``); attrs ``time_column``, ``time_origin_s`` and ``npm_layout``
        ("photometry" or "digital-inputs").

    Raises
    ------
    FormatError
        If the table is neither a photometry nor a digital-input layout, or has no data rows.
    """
    path = Path(path)
    table = _drop_unnamed(_load_table(path), path)
    layout = _digital_layout(table.columns)
    if layout is None and not ({"LedState", "Flags"} & set(table.columns)):
        raise FormatError("neither a photometry table (LedState or Flags column) nor a "
                          f"digital-input layout; found {', '.join(map(str, table.columns))}",
                          path=path)
    if layout is not None and time_column is None:
        # hardware clocks: Harp seconds (Timestamp repeats within a Bonsai buffer)
        time_column = {"ChannelName": "SystemTimestamp", "Timestamp": "Timestamp"}[layout[0]]
        if "Value.Seconds" in layout:
            time_column = "Value.Seconds"
    if table.empty:
        raise FormatError("the table has a header but no data rows; expected one row per frame",
                          path=path)
    raw, used = _time_seconds(table, time_column, path)
    origin = float(raw[0]) if time_origin is None else float(time_origin)
    time = raw - origin
    if layout is not None:
        channels, clock_rows = _digital_channels(table, layout, time, used)
    else:
        channels, clock_rows = _photometry_channels(table, time, path)
    return build_dataset(channels, path=path, source_format="npm", time_column=used,
                         clock_coords=_clock_coords(table, raw, used, clock_rows),
                         time_origin_s=origin,
                         npm_layout="digital-inputs" if layout else "photometry")


def _columns(path: Path) -> list[str]:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    head = read_head(path, 4096).decode("utf-8-sig", errors="replace")
    return [c.strip() for c in head.splitlines()[0].split(",")] if head else []


def _sniff(path: Path) -> bool:
    columns = _columns(path)
    if _digital_layout(columns):
        return True
    has_state = "LedState" in columns or "Flags" in columns
    return has_state and any(ROI_PATTERN.match(c) for c in columns)
