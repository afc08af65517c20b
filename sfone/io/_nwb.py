"""NWB pieces shared by the imaging and photometry readers and by :mod:`sfone.nwb` (the writer):
the error context, which kind of NWB file this is, run epochs as a ``TimeIntervals`` table.

pynwb and hdmf are imported inside the functions only.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr

from ..exceptions import FormatError
from .imaging._common import hdf5_errors

__all__ = ["FP_TYPE", "nwb_errors", "is_photometry_nwb", "add_intervals"]

FP_TYPE = "FiberPhotometryResponseSeries"


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


def is_photometry_nwb(f) -> bool:
    """True for an open NWB HDF5 file (h5py) with fiber photometry in ``acquisition``."""
    group = f.get("acquisition")
    return group is not None and any(
        group[k].attrs.get("neurodata_type") == FP_TYPE for k in group)


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
