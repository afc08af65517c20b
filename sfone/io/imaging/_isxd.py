"""Minimal reader of Inscopix ``.isxd`` *cell sets* without the ``isx`` package.

Layout (isxcore ``CellSetFile``, checked against ``isx.CellSet`` exports): the file ends with a
JSON header followed by its size as a little-endian uint64 (the size excludes the opening
brace). The header has ``type`` 1 (cell set), ``CellNames``, ``CellStatuses`` (0 accepted,
1 undecided, 2 rejected), ``timingInfo`` (``numTimes``, ``period`` as a fraction of seconds,
``start`` in ms since the epoch) and ``spacingInfo`` (``numPixels`` x, y). The data section holds,
for each cell, its image (float32, y by x) and then its trace (float32, ``numTimes``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...exceptions import FormatError

__all__ = ["read_isxd_header", "read_isxd_cellset", "ISXD_STATUSES", "CELLSET_TYPE"]

ISXD_STATUSES = ("accepted", "undecided", "rejected")
CELLSET_TYPE = 1


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
        fh.seek(size - 8 - n - 1)
        raw = fh.read(n + 1)
    try:
        header = json.loads(raw.rstrip(b"\x00").decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"unreadable .isxd JSON header: {exc}", path=path) from exc
    return header, size - 8 - n - 1


def _fraction(value: dict) -> float:
    return float(value["num"]) / float(value["den"])


def read_isxd_cellset(path: Path) -> dict:
    """Traces ``(n_cells, n_times)``, images, names, statuses, period (s), start (unix ns)."""
    header, data_bytes = read_isxd_header(path)
    if header.get("type") != CELLSET_TYPE:
        raise FormatError(f".isxd type {header.get('type')!r} is not a cell set (type 1); "
                          "movies, event sets and GPIO need Inscopix's isx package", path=path)
    try:
        names = list(header["CellNames"])
        statuses = [ISXD_STATUSES[int(s)] for s in header["CellStatuses"]]
        timing, pixels = header["timingInfo"], header["spacingInfo"]["numPixels"]
        n_times, period = int(timing["numTimes"]), _fraction(timing["period"])
        height, width = int(pixels["y"]), int(pixels["x"])
        since_epoch = timing["start"]["secsSinceEpoch"]
        start_ns = int(since_epoch["num"]) * 10**9 // int(since_epoch["den"])
    except (KeyError, TypeError, IndexError, ValueError, ZeroDivisionError) as exc:
        raise FormatError(f".isxd cell-set header lacks or garbles {exc!r}", path=path) from exc
    per_cell = height * width + n_times
    if data_bytes != 4 * per_cell * len(names):
        raise FormatError(f"data section has {data_bytes} bytes, expected {len(names)} cells x "
                          f"({height}x{width} image + {n_times} samples) x 4 bytes", path=path)
    data = np.fromfile(path, dtype="<f4", count=per_cell * len(names)).reshape(len(names), -1)
    return {"traces": data[:, height * width:], "images": data[:, :height * width].reshape(
        len(names), height, width), "names": names, "statuses": statuses, "period": period,
        "start_ns": start_ns, "units": _trace_units(header)}


def _trace_units(header: dict) -> str | None:
    extra = header.get("extraProperties")
    try:
        return str(extra["idps"]["cellset"]["units"])
    except (KeyError, TypeError):
        return None
