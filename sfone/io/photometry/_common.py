"""Helpers shared by the photometry loaders: assembling a contract-valid Dataset from channels.

Each channel keeps its own clock: a :class:`Channel` names the clock it was sampled on, and every
distinct clock becomes one ``time_<clock>`` coordinate (``time`` when the whole file has one clock).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from ..._guard import read_head
from ..._logging import warn
from ...exceptions import DataRepairWarning, FormatError
from ...schema import finalize_dataset
from .._checks import check_monotonic
from ._plausibility import check_channels

__all__ = ["Channel", "build_dataset", "safe_name", "read_head"]


@dataclass
class Channel:
    """One recorded channel: samples on a named clock (times in seconds)."""

    name: str
    values: np.ndarray
    time: np.ndarray
    clock: str
    units: str = "V"
    attrs: dict = field(default_factory=dict)


def safe_name(name: str) -> str:
    """A netCDF-safe version of a channel or clock name (``/`` is not allowed)."""
    return re.sub(r"/+", "_", str(name).strip()) or "unnamed"


def _drop_empty(channels: list[Channel], path) -> list[Channel]:
    kept = []
    for channel in channels:
        values = np.asarray(channel.values, dtype=float)
        if values.size and np.all(np.isnan(values)):
            warn(f"{path}: channel {channel.name!r} is entirely NaN (unused demodulation or "
                 "disconnected input); dropped", DataRepairWarning)
            continue
        kept.append(channel)
    return kept


def build_dataset(channels: list[Channel], *, path, source_format: str,
                  subject: str | None = None, session_start: str | None = None,
                  clock_coords: dict | None = None, **attrs) -> xr.Dataset:
    """Assemble channels into a photometry Dataset, one time coordinate per clock.

    Impossible samples (inf, 1e308) become NaN with a :class:`DataRepairWarning`, missing
    samples inside a light channel are reported and a channel mostly missing is refused
    (:func:`~sfone.io.photometry._plausibility.check_channels`); all-NaN channels are then
    dropped with a :class:`DataRepairWarning`. Leading/trailing NaNs (demodulator warm-up) are
    kept. ``clock_coords`` maps a clock to further
    coordinates along its time dimension, ``{clock: {base name: (values, attrs)}}``; each is
    named like the dimension (``raw_time`` on ``time``, ``raw_time_470`` on ``time_470``).
    """
    check_channels(channels, path=path)
    channels = _drop_empty(channels, path)
    if not channels:
        raise FormatError("no channel with data found", path=path)
    clocks = list(dict.fromkeys(c.clock for c in channels))
    single = len(clocks) == 1
    dims = {clock: "time" if single else f"time_{safe_name(clock)}" for clock in clocks}
    coords, data_vars = {}, {}
    for channel in channels:
        dim = dims[channel.clock]
        time = np.asarray(channel.time, dtype=np.float64)
        if dim not in coords:
            check_monotonic(time, what=f"clock {channel.clock!r}", path=path)
            coords[dim] = (dim, time, {"units": "s", "long_name": f"time of clock {channel.clock}"})
        elif coords[dim][1].shape != time.shape:
            raise FormatError(f"channel {channel.name!r} has {time.size} samples but its clock "
                              f"{channel.clock!r} has {coords[dim][1].size}", path=path)
        name = safe_name(channel.name)
        if name in data_vars:
            raise FormatError(f"two channels are both named {name!r}", path=path)
        var_attrs = {"units": channel.units, **channel.attrs}
        if name != channel.name:
            var_attrs["source_name"] = channel.name
        data_vars[name] = (dim, np.asarray(channel.values), var_attrs)
    for clock, extra in (clock_coords or {}).items():
        if clock not in dims:
            continue  # every channel of that clock was dropped
        dim = dims[clock]
        for base, (values, attrs_) in extra.items():
            name = base if dim == "time" else f"{base}_{dim[len('time_'):]}"
            if np.shape(values) != coords[dim][1].shape:
                raise FormatError(f"{name} has {np.size(values)} values but its clock {clock!r} "
                                  f"has {coords[dim][1].size} samples", path=path)
            coords[name] = (dim, np.asarray(values), dict(attrs_))
    ds = xr.Dataset(data_vars, coords=coords)
    return finalize_dataset(ds, modality="photometry", source_format=source_format,
                            source_file=Path(path), subject=subject,
                            session_start=session_start, **attrs)
