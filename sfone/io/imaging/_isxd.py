"""Minimal reader of Inscopix ``.isxd`` *cell sets* and *event sets* without the ``isx`` package.

Layout (isxcore ``CellSetFile``, checked against ``isx.CellSet`` exports): the file ends with a
JSON header followed by its size as a little-endian uint64 (the size excludes the opening
brace). The header has ``type`` 1 (cell set), ``CellNames``, ``CellStatuses`` (0 accepted,
1 undecided, 2 rejected), ``timingInfo`` (``numTimes``, ``period`` as a fraction of seconds,
``start`` in ms since the epoch) and ``spacingInfo`` (``numPixels`` x, y). The data section holds,
for each cell, its image (float32, y by x) and then its trace (float32, ``numTimes``).

Event sets (isxcore ``EventBasedFileV2``, header ``type`` 5, ``fileType`` 2) have the same
JSON-at-the-end framing. The header has ``channel list`` (cell names), ``global times`` (start
and end, ms since the epoch), ``signalSteps`` (the sample period per cell as a fraction of
seconds), ``signalTypes`` (0 sparse), ``numSamples`` (events per cell), ``startOffsets`` (first
event per cell, µs) and ``metrics`` (per cell: SNR, MAD, event rate in Hz, amplitude median and
SD, rise median and SD, decay median and SD, in seconds where a time). The data section is a
sequence of packed 20-byte packets: time offset from the start (uint64, µs), cell index (uint64),
amplitude (float32). Checked against ``isx.EventSet`` (isx 2.1.0) and its CSV export.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...exceptions import FormatError
from .._lazy import RawArray

__all__ = ["read_isxd_header", "read_isxd_cellset", "read_isxd_eventset", "ISXD_STATUSES",
           "CELLSET_TYPE", "EVENTSET_TYPE", "EVENT_METRICS"]

ISXD_STATUSES = ("accepted", "undecided", "rejected")
CELLSET_TYPE = 1
EVENTSET_TYPE = 5
#: per-cell event metrics in the order isxcore stores them. Only ``snr`` (= the SNR column of
#: isx's event-properties CSV) and ``event_rate`` (Hz, = events / recording duration) are
#: verified; the amplitude metrics do not match the stored amplitudes' units, so they are not used.
EVENT_METRICS = ("snr", "mad", "event_rate", "event_amp_median", "event_amp_sd", "rise_median",
                 "rise_sd", "decay_median", "decay_sd")
#: largest JSON header read (bytes): 100,000 cells' names and statuses take about 3 MB
MAX_HEADER_BYTES = 64 * 2**20
_PACKET = np.dtype([("offset_us", "<u8"), ("cell", "<u8"), ("value", "<f4")])


def read_isxd_header(path: Path) -> tuple[dict, int]:
    """The JSON header of an ``.isxd`` file and the byte size of its data section."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if size < 10:
            raise FormatError("too short for an .isxd file", path=path)
        fh.seek(size - 8)
        n = int(np.frombuffer(fh.read(8), dtype="<u8")[0])
        if n + 9 > size:
            raise FormatError(f"header size {n} bytes exceeds the file size {size}", path=path)
        if n > MAX_HEADER_BYTES:
            raise FormatError(f"header size {n} bytes; .isxd JSON headers are read up to "
                              f"{MAX_HEADER_BYTES} bytes", path=path)
        fh.seek(size - 8 - n - 1)
        raw = fh.read(n + 1)
    try:
        header = json.loads(raw.rstrip(b"\x00").decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FormatError(f"unreadable .isxd JSON header: {exc}", path=path) from exc
    return header, size - 8 - n - 1


def _fraction(value: dict) -> float:
    return float(value["num"]) / float(value["den"])


def _ns_since_epoch(value: dict) -> int:
    since_epoch = value["secsSinceEpoch"]
    return int(since_epoch["num"]) * 10**9 // int(since_epoch["den"])


def read_isxd_cellset(path: Path, *, lazy: bool = False) -> dict:
    """Traces ``(n_cells, n_times)``, images, names, statuses, period (s), start (unix ns).

    With ``lazy`` the traces are a :class:`~sfone.io._lazy.RawArray` (read when indexed) and
    the images ``(n_cells, rows, cols)`` a view of a memory map of the file."""
    header, data_bytes = read_isxd_header(path)
    if header.get("type") != CELLSET_TYPE:
        raise FormatError(f".isxd type {header.get('type')!r} is not a cell set (type 1); "
                          "event sets: read_inscopix_isxd_events; movies and GPIO need "
                          "Inscopix's isx package", path=path)
    try:
        names = list(header["CellNames"])
        statuses = [ISXD_STATUSES[int(s)] for s in header["CellStatuses"]]
        timing, pixels = header["timingInfo"], header["spacingInfo"]["numPixels"]
        n_times, period = int(timing["numTimes"]), _fraction(timing["period"])
        height, width = int(pixels["y"]), int(pixels["x"])
        start_ns = _ns_since_epoch(timing["start"])
    except (KeyError, TypeError, IndexError, ValueError, ZeroDivisionError) as exc:
        raise FormatError(f".isxd cell-set header lacks or garbles {exc!r}", path=path) from exc
    per_cell = height * width + n_times
    if data_bytes != 4 * per_cell * len(names):
        raise FormatError(f"data section has {data_bytes} bytes, expected {len(names)} cells x "
                          f"({height}x{width} image + {n_times} samples) x 4 bytes", path=path)
    if lazy:
        data = np.memmap(path, dtype="<f4", mode="r", shape=(len(names), per_cell))
        traces = RawArray(path, "<f4", (len(names), per_cell), columns=slice(height * width, None))
    else:
        data = np.fromfile(path, dtype="<f4", count=per_cell * len(names)).reshape(len(names), -1)
        traces = data[:, height * width:]
    # a view (of the memmap when lazy): readers take the cell images one at a time
    images = data[:, :height * width].reshape(len(names), height, width)
    return {"traces": traces, "images": images, "names": names, "statuses": statuses,
            "period": period, "start_ns": start_ns, "units": _trace_units(header)}


def _trace_units(header: dict) -> str | None:
    extra = header.get("extraProperties")
    try:
        return str(extra["idps"]["cellset"]["units"])
    except (KeyError, TypeError):
        return None



def _eventset_header(path: Path, header: dict) -> dict:
    try:
        names = [str(n) for n in header["channel list"]]
        counts = np.asarray(header["numSamples"], dtype=np.int64)
        periods = {_fraction(step) for step in header["signalSteps"]}
        start_ns, end_ns = (_ns_since_epoch(t) for t in header["global times"][:2])
        metrics = list(header.get("metrics") or [])
    except (KeyError, TypeError, IndexError, ValueError, ZeroDivisionError) as exc:
        raise FormatError(f".isxd event-set header lacks or garbles {exc!r}", path=path) from exc
    if counts.shape != (len(names),):
        raise FormatError(f"event-set header lists {len(names)} cells but {counts.size} "
                          "numSamples entries", path=path)
    if len(periods) != 1 or not next(iter(periods)) > 0:
        raise FormatError(f"event-set signalSteps give periods {sorted(periods)} s, expected one "
                          "positive sample period shared by all cells", path=path)
    if end_ns < start_ns:
        raise FormatError(f"event-set 'global times' end ({end_ns} ns) is before the start "
                          f"({start_ns} ns)", path=path)
    return {"names": names, "counts": counts, "period": periods.pop(), "start_ns": start_ns,
            "end_ns": end_ns, "metrics": metrics}


def _metrics_table(metrics: list, n_cells: int) -> np.ndarray:
    """Per-cell metrics ``(n_cells, 9)``; NaN where a cell has none."""
    table = np.full((n_cells, len(EVENT_METRICS)), np.nan)
    for i, row in enumerate(metrics[:n_cells]):
        if isinstance(row, list) and len(row) == len(EVENT_METRICS):
            table[i] = np.asarray(row, dtype=float)
    return table


def read_isxd_eventset(path: Path) -> dict:
    """Events of an ``.isxd`` event set.

    Returns a dict: ``offset_us`` (uint64, µs from the start), ``cell`` (index into ``names``),
    ``value`` (float32 amplitude) per event in file order; ``names``; ``period`` (s);
    ``n_samples`` (the event set's number of samples); ``start_ns`` (unix ns); ``metrics``
    ``(n_cells, 9)`` (see ``EVENT_METRICS``); ``units`` (trace units or None).
    """
    header, data_bytes = read_isxd_header(path)
    if header.get("type") != EVENTSET_TYPE:
        raise FormatError(f".isxd type {header.get('type')!r} is not an event set (type 5)",
                          path=path)
    info = _eventset_header(path, header)
    n_events = int(info["counts"].sum())
    if data_bytes != _PACKET.itemsize * n_events:
        raise FormatError(f"data section has {data_bytes} bytes, expected {n_events} events x "
                          f"{_PACKET.itemsize} bytes (numSamples in the header)", path=path)
    packets = np.fromfile(path, dtype=_PACKET, count=n_events)
    found = np.bincount(packets["cell"].astype(np.int64, copy=False),
                        minlength=len(info["names"])) if n_events else info["counts"]
    if found.size != info["counts"].size or np.any(found != info["counts"]):
        raise FormatError("events per cell in the data section do not match the header's "
                          "numSamples (or a cell index is out of range)", path=path)
    # the end time is stored to the ms, so nearest (not floor) gives the sample count isx reports
    duration_s = (info["end_ns"] - info["start_ns"]) / 1e9
    return {"offset_us": packets["offset_us"], "cell": packets["cell"].astype(np.int64),
            "value": packets["value"], "names": info["names"], "period": info["period"],
            "n_samples": int(round(duration_s / info["period"])),
            "start_ns": info["start_ns"],
            "metrics": _metrics_table(info["metrics"], len(info["names"])),
            "units": _trace_units(header)}
