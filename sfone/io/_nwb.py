"""NWB pieces shared by the imaging and photometry readers and by :mod:`sfone.nwb` (the writer):
the error context, which kind of NWB file this is, run epochs as a ``TimeIntervals`` table, the
marker of a segmentation without masks.

pynwb and hdmf are imported inside the functions only.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr

from ..exceptions import FormatError
from .imaging._common import hdf5_errors

__all__ = ["FP_TYPE", "NO_MASKS", "nwb_errors", "is_photometry_nwb", "add_intervals", "add_runs",
           "RUN_COLUMN"]

FP_TYPE = "FiberPhotometryResponseSeries"
#: in a PlaneSegmentation description: the source had neither footprints nor centroids, so the
#: table has an empty ``image_mask`` (pynwb cannot read a PlaneSegmentation without a mask
#: column, and nwbinspector 0.7 fails on an empty ``pixel_mask``)
NO_MASKS = "no footprints or centroids in the source: image_mask is empty (0 x 0)"
#: boolean column of sfone's ``runs`` table: True for a run, False for the periods around them
RUN_COLUMN = "is_run"


@contextmanager
def nwb_errors(path: Path):
    """:func:`hdf5_errors` plus pynwb's ``ConstructError`` (a damaged table, a column of the
    wrong length) as a ``FormatError`` naming the file."""
    from hdmf.build.errors import ConstructError

    with hdf5_errors(path, "NWB"):
        try:
            yield
        except ConstructError as exc:
            raise FormatError(f"cannot read as NWB (damaged or inconsistent object): "
                              f"{str(exc)[-300:]}", path=path) from exc


def _sfone_channel(attrs) -> bool:
    """A series sfone wrote for a photometry channel: JSON description with the variable and
    its clock (a digital line of a recording without analog channels is such a TimeSeries)."""
    text = attrs.get("description", "")
    text = text.decode() if isinstance(text, bytes) else str(text)
    return '"sfone_variable"' in text and '"clock"' in text


def is_photometry_nwb(f) -> bool:
    """True for an open NWB HDF5 file (h5py) with fiber photometry in ``acquisition``
    (``FiberPhotometryResponseSeries``, or channels sfone wrote)."""
    group = f.get("acquisition")
    return group is not None and any(
        group[k].attrs.get("neurodata_type") == FP_TYPE or _sfone_channel(group[k].attrs)
        for k in group)


def add_intervals(nwbfile, events: xr.Dataset, *, name: str = "runs",
                  description: str = "run epochs (seconds from session start)") -> None:
    """An events Dataset (``start``/``end`` in s, optional ``label``) as a TimeIntervals table."""
    from pynwb.epoch import TimeIntervals

    table = TimeIntervals(name=name, description=description)
    table.add_column(name="label", description="epoch label")
    labels = (events["label"].values.astype(str) if "label" in events.coords
              else np.full(events.sizes["epoch"], name))
    for start, end, label in zip(events["start"].values, events["end"].values, labels,
                                 strict=True):
        table.add_row(start_time=float(start), stop_time=float(end), label=str(label))
    nwbfile.add_time_intervals(table)


def _periods(start: np.ndarray, end: np.ndarray, span: tuple[float, float]) -> list:
    """(start, end, label) of the recording periods before, between and after the runs."""
    order = np.argsort(start, kind="stable")
    start, end = start[order], end[order]
    bounds = [(span[0], start[0] if start.size else span[1],
               "pre-run" if start.size else "no run")]
    bounds += [(end[i], start[i + 1], "between runs") for i in range(start.size - 1)]
    if start.size:
        bounds.append((float(np.max(end)), span[1], "post-run"))
    return [(float(a), float(b), label) for a, b, label in bounds if b > a]


def add_runs(nwbfile, events: xr.Dataset, *, span: tuple[float, float]) -> None:
    """Run epochs as the ``runs`` TimeIntervals table, with the recording periods before,
    between and after them (``span``: first and last sample, s) as rows of their own.

    Columns ``label`` (the run's label, or ``pre-run`` / ``between runs`` / ``post-run``) and
    ``is_run`` (:data:`RUN_COLUMN`), rows in time order. The periods make a session with one run
    a table of several rows (the NWB Inspector flags one-row tables) and say what the
    recording holds outside the runs; :func:`sfone.io.imaging.nwb.read_nwb_events` returns the
    runs only.
    """
    from pynwb.epoch import TimeIntervals

    start = np.asarray(events["start"].values, dtype=float)
    end = np.asarray(events["end"].values, dtype=float)
    labels = (events["label"].values.astype(str) if "label" in events.coords
              else np.array([f"run{i + 1}" for i in range(start.size)]))
    rows = [(float(a), float(b), str(label), True)
            for a, b, label in zip(start, end, labels, strict=True)]
    rows += [(a, b, label, False) for a, b, label in _periods(start, end, span)]
    rows.sort(key=lambda row: (row[0], row[1]))
    table = TimeIntervals(name="runs", description=(
        "run epochs (is_run True) and the recording periods before, between and after them "
        "(is_run False); seconds from session start"))
    table.add_column(name="label", description="run label, or pre-run / between runs / post-run")
    table.add_column(name=RUN_COLUMN, description="True for a run epoch")
    for a, b, label, is_run in rows:
        table.add_row(start_time=a, stop_time=b, label=label, is_run=is_run)
    nwbfile.add_time_intervals(table)
