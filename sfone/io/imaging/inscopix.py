"""Inscopix IDPS / ``isx`` CSV exports: cell-set traces (imaging) and GPIO / event sets (events).

Cell-set traces (``isx.export_cell_set_to_csv_tiff``)::

     , C00, C01
    Time(s)/Cell Status, accepted, rejected
    0, 0.0, 42
    0.05, 0.01, 42.01

Separators are ``", "``; statuses are ``accepted | undecided | rejected``; time is seconds from
the first sample (or unix seconds with ``time_ref='unix'``). Exports without the status row
(first cell blank or ``Time``, then ``C000, C001, ...``; values from line 2) are read too.
GPIO and event sets are long tables ``Time (s), Channel Name, Value`` and
``Time (s), Cell Name, Value`` (the DAQ also writes ``Time, Channel Name, Value``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._docs import fill_doc
from ..._guard import head_lines
from ..._logging import warn
from ...exceptions import DataRepairWarning, FormatError
from ...footprints import add_footprints, chunk_footprints, mask_centroids, masks_from_images
from ...schema import finalize_dataset, make_events, rate_from_times
from .._lazy import to_dask
from ._common import finite_columns, imaging_dataset, read_csv_strict
from ._isxd import (
    CELLSET_TYPE,
    EVENT_METRICS,
    EVENTSET_TYPE,
    read_isxd_cellset,
    read_isxd_eventset,
    read_isxd_header,
)

__all__ = ["read_inscopix", "read_inscopix_isxd", "read_inscopix_isxd_events", "events_to_grid",
           "read_inscopix_events", "read_gpio_table", "STATUSES"]

STATUSES = ("accepted", "undecided", "rejected")
_STATUS_LABEL = "Time(s)/Cell Status"
_CELL_NAME = re.compile(r"C\d+")
_TIME_HEADERS = ("Time (s)", "Time")
_UNIX_SECONDS = 1e8  # times beyond ~3 years are unix epoch seconds (time_ref='unix')


def _header(path: Path) -> tuple[list[str], list[str]]:
    names, status = ([c.strip() for c in line.rstrip("\r\n").split(",")]
                     for line in _first_lines(path, 2))
    return names, status


def _roi_ids(names: list[str]) -> np.ndarray:
    numbers = [re.fullmatch(r"[A-Za-z]*(\d+)", n) for n in names]
    if all(numbers):
        ids = np.array([int(m.group(1)) for m in numbers])
        if np.unique(ids).size == ids.size:
            return ids
    return np.arange(len(names))


def _has_status_row(names: list[str], status: list[str]) -> bool:
    """False for an export without the status row: cell names, then numbers on line 2."""
    if status and status[0] == _STATUS_LABEL:
        return True
    return not (names and names[0] in ("", "Time", "Time (s)", "Time(s)") and len(names) > 1
                and all(_CELL_NAME.fullmatch(n) for n in names[1:]) and len(status) > 1
                and pd.to_numeric(pd.Series(status), errors="coerce").notna().all())


def _check_header(path: Path, names: list[str], status: list[str]) -> None:
    if not status or status[0] != _STATUS_LABEL:
        raise FormatError(f"line 2 starts with {status[:1]!r}, expected {_STATUS_LABEL!r} "
                          "(an IDPS cell-set traces export)", path=path)
    if len(names) != len(status):
        raise FormatError(f"line 1 has {len(names)} columns but line 2 has {len(status)}",
                          path=path)
    bad = [(n, s) for n, s in zip(names[1:], status[1:], strict=True) if s not in STATUSES]
    if bad:
        raise FormatError(f"line 2: cell {bad[0][0]} has status {bad[0][1]!r}, expected one of "
                          f"{', '.join(STATUSES)}", path=path)


def _read_values(path: Path, n_columns: int, skip: int = 2) -> np.ndarray:
    try:
        table = pd.read_csv(path, skiprows=skip, header=None, skipinitialspace=True,
                            dtype=float, na_values=["nan", "NaN", ""])
    except (ValueError, pd.errors.ParserError) as exc:
        raise FormatError(f"cannot parse the trace rows (from line {skip + 1}): {exc}",
                          path=path) from exc
    if table.shape[1] != n_columns:
        raise FormatError(f"trace rows have {table.shape[1]} columns, expected {n_columns} "
                          "(time + one per cell)", path=path)
    return table.to_numpy(dtype=float)


def _time_axis(path: Path, time: np.ndarray) -> tuple[np.ndarray, dict]:
    if time.size < 2 or not np.all(np.isfinite(time)):
        raise FormatError("the time column needs at least two finite values", path=path)
    steps = np.diff(time)
    if np.any(steps <= 0):
        row = int(np.argmax(steps <= 0)) + 4
        raise FormatError(f"line {row}: time {time[row - 3]} does not increase after "
                          f"{time[row - 4]}", path=path)
    if time[0] <= _UNIX_SECONDS:  # time_ref='start': already seconds from the recording start
        return time, {}
    start = pd.Timestamp(time[0], unit="s", tz="UTC").isoformat()
    return time - time[0], {"session_start": start, "time_ref": "unix"}


@fill_doc
def read_inscopix(path) -> xr.Dataset:
    """Read an IDPS cell-set traces CSV into an imaging Dataset (``F`` over ``(roi, time)``).

    ``iscell`` is True for ``accepted`` cells; the coord ``status`` keeps the IDPS status and
    ``cell_name`` the name (``roi`` is its number). Time is taken from the file (seconds from
    the recording start; unix times are shifted to start at 0 and set ``session_start``) and
    ``fs`` (Hz) is inferred from the times by :func:`sfone.schema.rate_from_times` (rounded to
    the precision the printed times support).
    Values are in the cell set's trace units (IDPS does not write them; attr
    ``trace_units_note``). An export without the status row has ``status`` "unknown" and
    ``iscell`` False for every cell (unknown is not accepted; attr ``cell_status`` says so).

    Parameters
    ----------
    path : str or os.PathLike
        IDPS cell-set traces CSV (cell names row, status row, then ``time, value...`` rows).

    Returns
    -------
    %(imaging_dataset)s
        ``F`` over ``(roi, time)``, coordinates ``status`` and ``cell_name``.
    """
    path = Path(path)
    names, status = _header(path)
    with_status = _has_status_row(names, status)
    if with_status:
        _check_header(path, names, status)
    values = _read_values(path, len(names), skip=2 if with_status else 1)
    time, time_attrs = _time_axis(path, values[:, 0])
    cells = names[1:]
    if with_status:
        statuses = np.array(status[1:])
    else:
        statuses = np.full(len(cells), "unknown")
        time_attrs["cell_status"] = ("not in file (no status row): status 'unknown', iscell "
                                     "False (not accepted)")
    ds = imaging_dataset({"F": values[:, 1:].T}, fs=rate_from_times(time),
                         roi=_roi_ids(cells), iscell=statuses == "accepted",
                         time=time, coords={"cell_name": (np.array(cells), None),
                                 "status": (statuses, None)})
    session_start = time_attrs.pop("session_start", None)
    return finalize_dataset(ds, modality="imaging", source_format="inscopix",
                            source_file=path, session_start=session_start, pipeline="inscopix",
                            trace_units_note="as exported by IDPS (dF/F or dF/noise); not in file",
                            **time_attrs)


#: footprint pixels of an .isxd cell image: above this fraction of the image's peak (the
#: positive lobe of a PCA-ICA / CNMF-E image: one connected blob per cell in the real fixtures)
ISXD_MASK_THRESHOLD = 0.1


def _image_footprints(images) -> tuple[dict, tuple]:
    """The footprint pixels of each cell image (above ``ISXD_MASK_THRESHOLD`` x its peak) and
    their centroids (:func:`sfone.footprints.mask_centroids`, pixels).

    Images are taken one at a time, so only one dense image is in memory besides the file map.
    """
    parts = [masks_from_images(np.asarray(images[i], dtype=float)[None],
                               threshold=ISXD_MASK_THRESHOLD) for i in range(images.shape[0])]
    parts = [(roi + i, y, x, weight) for i, (roi, y, x, weight) in enumerate(parts)]
    masks = tuple(np.concatenate(column) for column in zip(*parts, strict=True))
    cy, cx = mask_centroids(*masks, images.shape[0])
    return {"y": (cy, "pixel"), "x": (cx, "pixel")}, masks


@fill_doc
def read_inscopix_isxd(path, *, chunks=None) -> xr.Dataset:
    """Read an Inscopix ``.isxd`` cell set (no ``isx`` needed) into an imaging Dataset.

    Same layout as :func:`read_inscopix` (``F``, ``status``, ``cell_name``); the footprints
    (``mask_*`` over ``mask_pixel``, see :mod:`sfone.footprints`) are the pixels of each cell
    image above ``ISXD_MASK_THRESHOLD`` (0.1) times its peak, weighted by the image, and
    ``y``/``x`` their weighted centroids (pixels; within about a pixel of the largest-component
    centres isx stores in the file's ``cellMetrics``); ``session_start`` is the
    recording start; the trace units are in the attr ``trace_units`` (e.g. "dF over F").
    ``chunks`` (``"auto"``, int, tuple or dict over ``roi``/``time``) returns ``F`` as a dask
    array that reads the file when computed.

    Parameters
    ----------
    path : str or os.PathLike
        ``.isxd`` cell set.

    %(chunks)s

    Returns
    -------
    %(imaging_dataset)s
        ``F`` over ``(roi, time)``, ``status``, ``cell_name``, footprints (``mask_*``).
    """
    path = Path(path)
    cells = read_isxd_cellset(path, lazy=chunks is not None)
    if chunks is not None:
        cells["traces"] = to_dask(cells["traces"], chunks, ("roi", "time"))
    n_times = cells["traces"].shape[1]
    statuses = np.array(cells["statuses"])
    centroids, (roi, y, x, weight) = _image_footprints(cells["images"])
    coords = {"cell_name": (np.array(cells["names"]), None), "status": (statuses, None),
              **centroids}
    ds = imaging_dataset({"F": cells["traces"]}, fs=1.0 / cells["period"],
                         roi=_roi_ids(cells["names"]), iscell=statuses == "accepted",
                         time=np.arange(n_times) * cells["period"], coords=coords)
    ds = add_footprints(ds, roi=roi, y=y, x=x, weight=weight, shape=cells["images"].shape[1:],
                        source=f"cell images above {ISXD_MASK_THRESHOLD} x their peak")
    ds = chunk_footprints(ds, chunks)
    start = pd.Timestamp(cells["start_ns"], unit="ns", tz="UTC").isoformat()
    attrs = {"trace_units": cells["units"]} if cells["units"] else {}
    return finalize_dataset(ds, modality="imaging", source_format="inscopix-isxd",
                            source_file=path, session_start=start, pipeline="inscopix",
                            Ly=int(cells["images"].shape[1]), Lx=int(cells["images"].shape[2]),
                            **attrs)


def _metric_vars(metrics: np.ndarray) -> dict:
    """The verified isx event metrics (NaN for a cell without metrics)."""
    column = {name: metrics[:, j] for j, name in enumerate(EVENT_METRICS)}
    return {"snr": ("roi", column["snr"], {"units": "1", "long_name": "isx event SNR"}),
            "event_rate": ("roi", column["event_rate"],
                           {"units": "Hz", "long_name": "isx event rate"})}


def read_inscopix_isxd_events(path) -> xr.Dataset:
    """Read an Inscopix ``.isxd`` event set (no ``isx`` needed) into an events Dataset.

    Same layout as the event-set CSV export read by :func:`read_inscopix_events`: one epoch per
    event with ``start == end`` (s from the recording start, exact to 1 µs), ``label`` = cell
    name and ``value`` = amplitude (units from the file, e.g. "dF over noise"). Epoch coords
    ``event_roi`` (the cell's ``roi``) and ``sample`` (index on the event set's grid,
    ``time = sample / fs``). A second dimension ``roi`` lists every cell (also those without
    events): ``cell_name``, ``iscell`` (True: event sets carry no statuses), ``n_events`` and
    the isx event metrics ``snr`` and ``event_rate`` (Hz; NaN where the file stores none). Attrs ``fs`` (Hz) and
    ``n_samples`` describe the grid; :func:`events_to_grid` gives the dense ``(roi, time)`` array.

    Parameters
    ----------
    path : str or os.PathLike
        ``.isxd`` event set.

    Returns
    -------
    xarray.Dataset
        Events over ``epoch`` (``start == end`` in s, ``value``, ``event_roi``, ``sample``) and the
        cells over ``roi``; attrs ``fs`` (Hz) and ``n_samples``.
    """
    path = Path(path)
    ev = read_isxd_eventset(path)
    units = ev["units"] or "a.u."
    sample = np.rint(ev["offset_us"] / (ev["period"] * 1e6)).astype(np.int64)
    late = np.flatnonzero(sample >= ev["n_samples"])
    if late.size:
        raise FormatError(f"event {late[0]} at {ev['offset_us'][late[0]]} µs lies after the last "
                          f"of the event set's {ev['n_samples']} samples", path=path)
    names, time = np.array(ev["names"]), ev["offset_us"] / 1e6
    roi = _roi_ids(ev["names"])
    ds = make_events(time, time, label=names[ev["cell"]], source_format="inscopix-isxd-events",
                     source_file=path)
    ds = ds.assign(value=("epoch", ev["value"], {"units": units, "long_name": "event amplitude"}),
                   n_events=("roi", np.bincount(ev["cell"], minlength=names.size),
                             {"units": "1", "long_name": "events of the cell"}),
                   **_metric_vars(ev["metrics"]))
    ds = ds.assign_coords(event_roi=("epoch", roi[ev["cell"]]), sample=("epoch", sample),
                          roi=("roi", roi), cell_name=("roi", names),
                          iscell=("roi", np.ones(names.size, dtype=bool)))
    start = pd.Timestamp(ev["start_ns"], unit="ns", tz="UTC").isoformat()
    return finalize_dataset(ds, modality="events", source_format="inscopix-isxd-events",
                            source_file=path, session_start=start, event_kind="cell events",
                            fs=1.0 / ev["period"], n_samples=ev["n_samples"], event_units=units)


def events_to_grid(events: xr.Dataset) -> xr.DataArray:
    """Dense ``(roi, time)`` event amplitudes of :func:`read_inscopix_isxd_events` output.

    Amplitude at each event's sample, 0 elsewhere; ``time = arange(n_samples) / fs`` in s.

    Parameters
    ----------
    events : xarray.Dataset
        Output of :func:`read_inscopix_isxd_events` (``value``, ``event_roi``, ``sample``; attrs
        ``fs``, ``n_samples``).

    Returns
    -------
    xarray.DataArray
        Event amplitude over ``(roi, time)`` in the event set's ``units``; coordinates ``roi``,
        ``cell_name`` and ``time`` (s).
    """
    n_samples, fs = int(events.attrs["n_samples"]), float(events.attrs["fs"])
    grid = np.zeros((events.sizes["roi"], n_samples), dtype=np.float32)
    row = pd.Index(events["roi"].values).get_indexer(events["event_roi"].values)
    grid[row, events["sample"].values] = events["value"].values
    return xr.DataArray(grid, dims=("roi", "time"), name="events",
                        coords={"roi": events["roi"].values, "cell_name": ("roi", events[
                            "cell_name"].values), "time": ("time", np.arange(n_samples) / fs,
                                                          {"units": "s"})},
                        attrs={"units": events["value"].attrs["units"],
                               "long_name": "event amplitude (0: no event)"})


def _read_long(path: Path) -> tuple[pd.DataFrame, str]:
    table = read_csv_strict(path, what="Inscopix long CSV")
    if len(table.columns) != 3 or table.columns[0] not in _TIME_HEADERS or \
            table.columns[1] not in ("Channel Name", "Cell Name") or table.columns[2] != "Value":
        raise FormatError(f"header is {list(table.columns)}, expected 'Time (s), Channel Name, "
                          "Value' or 'Time (s), Cell Name, Value'", path=path)
    kind = table.columns[1]
    numbers = finite_columns(table, [table.columns[0], table.columns[2]], path=path)
    table = pd.DataFrame({"time": numbers[table.columns[0]], "name": table[kind].str.strip(),
                          "value": numbers[table.columns[2]]})
    return table, kind


def _gpio_epochs(table: pd.DataFrame, path: Path):
    starts, ends, labels = [], [], []
    end_of_file = float(table["time"].max())
    analog = [n for n in table["name"].unique() if re.search(r"_AI$|analog", n, re.I)]
    if analog:
        warn(f"{path}: analog GPIO channel(s) {', '.join(analog)} are not epochs; skipped",
             DataRepairWarning)
    for name, rows in table[~table["name"].isin(analog)].groupby("name", sort=False):
        rows = rows.sort_values("time")
        on = rows["value"].to_numpy(float) > 0
        change = np.diff(on.astype(int), prepend=0)
        rise, fall = rows["time"].to_numpy()[change == 1], rows["time"].to_numpy()[change == -1]
        if rise.size > fall.size:  # still high at its last change: close at the file's end
            fall = np.append(fall, end_of_file)
        starts += list(rise)
        ends += list(fall)
        labels += [name] * rise.size
    return np.array(starts, float), np.array(ends, float), labels


def read_inscopix_events(path) -> xr.Dataset:
    """Read an ``isx`` GPIO or event-set long CSV into an events Dataset (``epoch``).

    * GPIO (``Time (s), Channel Name, Value``): each digital channel's high periods (value > 0)
      become epochs ``start``/``end`` in seconds, ``label`` = channel name; a channel still high
      at its last listed change stays high until the last time in the file. Analog channels
      (``*_AI``) are skipped with a warning.
    * Event sets (``Time (s), Cell Name, Value``): one epoch per event with ``start == end``,
      ``label`` = cell name and ``value`` = event amplitude.

    Parameters
    ----------
    path : str or os.PathLike
        Long CSV export of ``isx`` (GPIO or event set).

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s) over ``epoch``, coordinate ``label``.
        For event sets also the variable ``value`` (event amplitude).
    """
    path = Path(path)
    table, kind = _read_long(path)
    if kind.lower().startswith("cell"):
        ds = make_events(table["time"], table["time"], label=table["name"].to_numpy(),
                         source_format="inscopix-events", source_file=path,
                         event_kind="cell events")
        values = table["value"].to_numpy(float)
        return ds.assign(value=("epoch", values, {"units": "a.u.", "long_name": "amplitude"}))
    start, end, labels = _gpio_epochs(table, path)
    order = np.argsort(start, kind="stable")
    return make_events(start[order], end[order], label=np.array(labels, dtype=str)[order],
                       source_format="inscopix-events", source_file=path,
                       event_kind="GPIO high periods")


def _indicator_epochs(time: np.ndarray, values: np.ndarray, names: list[str]):
    """High periods of 0/1 indicator columns ``values`` (T, n) sampled at state changes."""
    on = values > 0
    change = np.diff(on.astype(int), axis=0, prepend=0)
    starts, ends, labels = [], [], []
    for j, name in enumerate(names):
        rise, fall = time[change[:, j] == 1], time[change[:, j] == -1]
        if rise.size > fall.size:
            fall = np.append(fall, time[-1])
        starts += list(rise)
        ends += list(fall)
        labels += [name] * rise.size
    order = np.argsort(starts, kind="stable")
    return (np.asarray(starts, float)[order], np.asarray(ends, float)[order],
            np.asarray(labels, dtype=str)[order])


def read_gpio_table(path) -> xr.Dataset:
    """Read a wide 0/1 GPIO table (``Time(s),Lick,Rinse,...``) into events (epochs).

    Such tables are derived from IDPS GPIO exports by analysis scripts (one row per state
    change, one 0/1 column per line). Each column's high periods become epochs labelled with
    the column name; a line still high at the last row ends at the last time.

    Parameters
    ----------
    path : str or os.PathLike
        CSV whose first column is ``Time(s)`` and the others 0/1.

    Returns
    -------
    xarray.Dataset
        Events Dataset: ``start``/``end`` (s) over ``epoch``, coordinate ``label``.

    Raises
    ------
    FormatError
        If the header does not start with ``Time(s)``, or a value is not finite or not 0/1
        (naming line and column).
    """
    path = Path(path)
    table = read_csv_strict(path, what="GPIO table")
    if table.columns[0] != "Time(s)" or table.shape[1] < 2:
        raise FormatError(f"header starts with {table.columns[0]!r}, expected 'Time(s)' and "
                          "one 0/1 column per GPIO line", path=path)
    numbers = finite_columns(table, list(table.columns), path=path)
    values = np.column_stack([numbers[c] for c in table.columns[1:]])
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise FormatError(f"line {table.attrs['line_numbers'][row]}, column "
                          f"{table.columns[col + 1]!r}: found {float(values[row, col])!r}, "
                          "expected 0 or 1", path=path)
    time = numbers["Time(s)"]
    if np.any(np.diff(time) < 0):
        raise FormatError("the Time(s) column decreases", path=path)
    start, end, label = _indicator_epochs(time, values, list(table.columns[1:]))
    return make_events(start, end, label=label, source_format="gpio-table", source_file=path,
                       event_kind="GPIO high periods")


def _first_lines(path: Path, n: int) -> list[str]:
    return head_lines(path, n, max_bytes=4 * 2**20)  # a header row of 100,000 cells fits


def _sniff_traces(path: Path) -> bool:
    lines = _first_lines(path, 2)
    if lines[1].lstrip().startswith(_STATUS_LABEL + ","):
        return True
    names, values = ([c.strip() for c in line.rstrip("\r\n").split(",")] for line in lines)
    return len(names) > 2 and len(names) == len(values) and not _has_status_row(names, values)


def _sniff_events(path: Path) -> bool:
    header = [c.strip() for c in _first_lines(path, 1)[0].split(",")]
    return len(header) == 3 and header[0] in _TIME_HEADERS and header[1] in (
        "Channel Name", "Cell Name") and header[2] == "Value"


def _sniff_gpio_table(path: Path) -> bool:
    lines = [line.strip() for line in _first_lines(path, 20) if line.strip()]
    if len(lines) < 2 or not lines[0].startswith("Time(s),"):
        return False
    rows = [line.split(",")[1:] for line in lines[1:]]
    return all(v.strip() in ("0", "1") for row in rows for v in row)


def _sniff_isxd(path: Path) -> bool:
    return read_isxd_header(path)[0].get("type") == CELLSET_TYPE


def _sniff_isxd_events(path: Path) -> bool:
    header = read_isxd_header(path)[0]
    return header.get("type") == EVENTSET_TYPE and "channel list" in header
