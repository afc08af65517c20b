"""Doric Neuroscience Studio ``.doric`` (HDF5), both layouts.

* Legacy ("v1", DNS <= 5): ``/Traces/Console/Time(s)/Console_time(s)`` is the one time vector of
  every channel ``/Traces/Console/<name>/<name>`` (``AIn-1 - Dem (AOut-1)``, ``DI--O-1``...).
* v6: under ``/DataAcquisition`` every group holding a ``Time`` dataset is its own timebase and
  every other 1-D dataset in it is a channel on that clock. A ``Values`` dataset takes its group's
  name (``AIN01xAOUT01-LockIn``); other datasets keep theirs (``AIN01``, ``DIO01``).

All-NaN channels (unused demodulations) are dropped with a ``DataRepairWarning``; NaNs at the start
of a channel (demodulator warm-up) are kept. Times are the file's own seconds, never re-based per
group, so clocks stay aligned.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

from ..._docs import fill_doc
from ..._hdf5 import is_hdf5
from ...exceptions import FormatError
from .._checks import check_declared_size, check_sampling_rate
from .._reading import format_reader
from ._common import Channel, build_dataset

__all__ = ["read_doric"]

V1_TIME = "Traces/Console/Time(s)/Console_time(s)"


def _units_for(name: str) -> tuple[str, str]:
    """(units, kind) from a Doric channel name: digital lines are 0/1 levels."""
    upper = name.upper()
    if upper.startswith(("DIO", "DI--O", "DI/O")):
        return "1", "digital"
    return "V", "analog"


def _load(dataset: h5py.Dataset, path, dtype=None) -> np.ndarray:
    """A 1-D numeric dataset as an array, its declared size checked before anything is read."""
    if dataset.ndim != 1 or dataset.dtype.kind not in "biuf":
        raise FormatError(f"{dataset.name} is a {dataset.ndim}-D {dataset.dtype} dataset; "
                          "expected a 1-D numeric vector", path=path)
    check_declared_size(int(dataset.size) * dataset.dtype.itemsize, what=dataset.name, path=path)
    try:
        return np.asarray(dataset[()], dtype=dtype)
    except (OSError, ValueError, TypeError) as exc:  # corrupt chunks, filters
        raise FormatError(f"{dataset.name}: cannot read the data ({exc})", path=path) from exc


def _time_vector(dataset: h5py.Dataset, path) -> np.ndarray:
    """A clock's time vector (s); irregular steps are flagged against its median rate."""
    time = _load(dataset, path, np.float64)
    steps = np.diff(time)
    if time.size > 2 and np.all(np.isfinite(time)) and np.all(steps > 0):
        check_sampling_rate(time, 1.0 / float(np.median(steps)), what=dataset.name, path=path)
    return time


def _channel(name: str, values, time, clock: str) -> Channel:
    units, kind = _units_for(name)
    return Channel(name, np.asarray(values, dtype=float), time, clock, units, {"kind": kind})


def _read_v1(fh: h5py.File, path) -> list[Channel]:
    console = fh["Traces/Console"]
    if not isinstance(fh[V1_TIME], h5py.Dataset):
        raise FormatError(f"{V1_TIME} is a group; expected the time dataset", path=path)
    time = _time_vector(fh[V1_TIME], path)
    channels = []
    for name, group in console.items():
        if name == "Time(s)" or not isinstance(group, h5py.Group):
            continue
        if not isinstance(group.get(name), h5py.Dataset):
            raise FormatError(f"/Traces/Console/{name} holds no dataset {name!r} (legacy Doric "
                              "layout puts each channel at /Traces/Console/<name>/<name>)",
                              path=path)
        if group[name].shape != time.shape:
            raise FormatError(f"channel {name!r} has {group[name].size} samples but "
                              f"{V1_TIME} has {time.size}", path=path)
        values = _load(group[name], path)
        channels.append(_channel(name, values, time, "console"))
    return channels


def _timebase_groups(root: h5py.Group) -> list[h5py.Group]:
    found: list[h5py.Group] = []

    def visit(_name, obj):
        if isinstance(obj, h5py.Group) and isinstance(obj.get("Time"), h5py.Dataset):
            found.append(obj)

    root.visititems(visit)
    return found


def _read_v6(fh: h5py.File, path) -> list[Channel]:
    groups = _timebase_groups(fh["DataAcquisition"])
    if not groups:
        raise FormatError("/DataAcquisition has no group with a 'Time' dataset", path=path)
    leaf_names = [g.name.rsplit("/", 1)[-1] for g in groups]
    channels = []
    for group, leaf in zip(groups, leaf_names, strict=True):
        clock = leaf if leaf_names.count(leaf) == 1 else group.name.removeprefix(
            "/DataAcquisition/").replace("/", "_")
        time = _time_vector(group["Time"], path)
        for name, item in group.items():
            if name == "Time" or not isinstance(item, h5py.Dataset) or item.ndim != 1:
                continue
            if item.shape != time.shape:
                raise FormatError(f"{item.name} has {item.size} samples but {group.name}/Time "
                                  f"has {time.size}", path=path)
            label = leaf if name == "Values" else name
            if leaf_names.count(leaf) > 1:
                label = f"{clock}_{label}" if name != "Values" else clock
            channel = _channel(label, _load(item, path), time, clock)
            channel.attrs["hdf5_path"] = item.name
            channels.append(channel)
    return channels


def _session_start(fh: h5py.File) -> str | None:
    created = fh.attrs.get("Created")
    if created is None:
        return None
    text = created.decode() if isinstance(created, bytes) else str(created)
    try:
        return _dt.datetime.strptime(text, "%a %b %d %H:%M:%S %Y").isoformat()
    except ValueError:
        return text


def _read_layout(fh: h5py.File, path) -> tuple[str, list[Channel]]:
    if isinstance(fh.get("DataAcquisition"), h5py.Group):
        return "v6", _read_v6(fh, path)
    if V1_TIME in fh and isinstance(fh.get("Traces/Console"), h5py.Group):
        return "v1", _read_v1(fh, path)
    raise FormatError(f"HDF5 file with top-level groups {sorted(fh.keys())}; expected "
                      "'DataAcquisition' (Doric v6) or 'Traces/Console' (legacy)", path=path)


@format_reader
@fill_doc
def read_doric(path) -> xr.Dataset:
    """Read a ``.doric`` file (legacy ``Traces/Console`` or v6 ``DataAcquisition``).

    Parameters
    ----------
    path : str or os.PathLike
        .doric (HDF5) file.

    Returns
    -------
    %(photometry_dataset)s
        Attr doric_layout names the layout read.

    Raises
    ------
    FormatError
        Not an HDF5 file, or an HDF5 file with neither Doric layout.
    """
    path = Path(path)
    try:
        fh = h5py.File(path, "r", locking=False)  # never lock (or need write access to) the input
    except OSError as exc:
        raise FormatError(f"not a readable HDF5 file ({exc}); a .doric file is HDF5",
                          path=path) from exc
    with fh:
        try:
            layout, channels = _read_layout(fh, path)
            start = _session_start(fh)
        except FormatError:
            raise
        except (OSError, KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise FormatError(f"damaged HDF5 structure ({type(exc).__name__}: {exc})",
                              path=path) from exc
    return build_dataset(channels, path=path, source_format="doric", session_start=start,
                         doric_layout=layout)


def _sniff(path: Path) -> bool:
    if not is_hdf5(path):
        return False
    with h5py.File(path, "r", locking=False) as fh:
        return "DataAcquisition" in fh or V1_TIME in fh
