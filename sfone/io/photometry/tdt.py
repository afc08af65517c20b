"""TDT Synapse/OpenEx block folders (``.tsq`` + ``.tev``), read through the ``tdt`` package.

* Streams (``490R``, ``405R``, ``Fi1r``...) become channels, each on its own clock
  ``time_<store>`` (own rate and start time); multi-channel stores give ``<store>_ch<n>``.
* Epocs (``PAB/``, ``Tick``, ``Vid1``) become variables on clock ``time_<store>`` (onset times) with
  their values, plus ``<store>_offset`` (s). :func:`read_tdt_epocs` returns one epoc store as an
  events Dataset (``start``/``end``, ``label`` = value).
* Scalar stores become ``scalar_<store>`` attrs ordered by channel (``Fi1i``: lock-in settings).
* Stream samples live in the ``.tev`` file; epoc times and values live in the ``.tsq`` header
  index. A block without its ``.tev`` (as in headers-only copies) raises a ``FormatError`` naming
  the missing file unless ``signals=False``, which reads the epocs (events) only.

Store names are kept as in the block (``490R``, not the package's ``_490R``); ``/`` becomes ``_``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..._docs import fill_doc
from ...exceptions import FormatError
from ...schema import make_events
from ._common import Channel, build_dataset, safe_name

__all__ = ["read_tdt", "read_tdt_epocs"]


# tdt.StructType subclasses dict but keeps its fields in __dict__: use .items(), never .values()


def _quiet(call, *args, **kwargs):
    """Run a ``tdt`` function without its prints and warnings; its exceptions become FormatError."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def _tsq(path: Path) -> Path:
    found = sorted(path.glob("*.tsq"))
    if len(found) != 1:
        raise FormatError(f"expected one .tsq header file in the block folder, found "
                          f"{len(found)}", path=path)
    return found[0]


def _headers(path: Path):
    import tdt

    try:
        return _quiet(tdt.read_block, str(path), headers=1)
    except Exception as exc:
        raise FormatError(f"cannot read the TDT block headers ({_tsq(path).name}): {exc}",
                          path=path) from exc


def _epoc_channels(stores) -> list[Channel]:
    channels = []
    for _key, store in stores.items():
        if store.type_str != "epocs":
            continue
        name = safe_name(store.name)
        onset = np.asarray(store.onset, dtype=float)
        offset = np.asarray(store.offset, dtype=float)
        attrs = {"kind": "epoc", "store": str(store.name)}
        channels.append(Channel(name, np.asarray(store.data, dtype=float), onset, name, "1",
                                attrs))
        channels.append(Channel(f"{name}_offset", offset, onset, name, "s",
                                {**attrs, "note": "inf: no offset recorded"}))
    return channels


def _scalar_attrs(stores) -> dict[str, list[float]]:
    """Scalar stores (e.g. ``Fi1i``, lock-in settings) as ``scalar_<name>`` attrs, by channel."""
    attrs = {}
    for _key, store in stores.items():
        if store.type_str == "scalars" and "data" in store.keys():
            order = np.argsort(np.asarray(store.chan), kind="stable")
            values = np.asarray(store.data, dtype=float).ravel()[order]
            attrs[f"scalar_{safe_name(store.name)}"] = [float(v) for v in values]
    return attrs


def _stream_channels(streams, names: dict[str, str]) -> list[Channel]:
    channels = []
    for key, stream in streams.items():
        name = names.get(key, key)
        data = np.atleast_2d(np.asarray(stream.data, dtype=float))
        time = float(stream.start_time) + np.arange(data.shape[1]) / float(stream.fs)
        attrs = {"kind": "stream", "fs": float(stream.fs), "store": name}
        for i, row in enumerate(data):
            label = name if data.shape[0] == 1 else f"{name}_ch{i + 1}"
            channels.append(Channel(label, row, time, name, "V", attrs))
    return channels


def _signal_file_missing(path: Path, tsq: Path) -> bool:
    return not tsq.with_suffix(".tev").exists() and not any(path.glob("*.sev"))


@fill_doc
def read_tdt(path, *, signals: bool = True, stores: tuple[str, ...] | None = None) -> xr.Dataset:
    """Read a TDT block folder into a photometry Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        TDT block folder (with its ``.tsq`` header index); extra ``tdt``.
    signals : bool
        Read the stream samples (needs the ``.tev``/``.sev`` files). ``False`` reads only the
        epocs from the ``.tsq`` header index (works on headers-only blocks).
    stores : tuple of str, optional
        Store names to read (as in the block: ``("490R", "405R", "PAB/")``); default all.

    Returns
    -------
    %(photometry_dataset)s
        Each epoc store gives its values (units "1") and a ``<store>_offset`` channel (s; inf
        when no offset was recorded) on the store's onset clock. Attrs ``duration_s``,
        ``signals_read``, ``stores`` and ``session_start`` (UTC).

    Raises
    ------
    FormatError
        If ``signals=True`` and the block has no ``.tev``/``.sev`` signal files, or the streams
        cannot be read.
    """
    import tdt

    path = Path(path)
    tsq = _tsq(path)
    headers = _headers(path)
    stream_names = {k: str(v.name) for k, v in headers.stores.items()
                    if v.type_str == "streams"}
    wanted = None if stores is None else {str(s) for s in stores}
    channels = [c for c in _epoc_channels(headers.stores)
                if wanted is None or c.attrs["store"] in wanted]
    if signals:
        if _signal_file_missing(path, tsq):
            raise FormatError(
                f"signal file {tsq.with_suffix('.tev').name} is missing (and no .sev files): the "
                f"stream stores {', '.join(stream_names.values())} cannot be read. Read the "
                "epocs (events) only with read_tdt(path, signals=False) or read_tdt_epocs()",
                path=path)
        chosen = [s for s in stream_names.values() if wanted is None or s in wanted]
        try:
            block = _quiet(tdt.read_block, str(path), evtype=["streams"], store=chosen)
        except Exception as exc:
            raise FormatError(f"cannot read the streams: {exc}", path=path) from exc
        channels += _stream_channels(block.streams, stream_names)
    start, stop = float(headers.start_time[0]), float(headers.stop_time[0])
    session = _dt.datetime.fromtimestamp(start, tz=_dt.UTC).isoformat()
    return build_dataset(channels, path=path, source_format="tdt", session_start=session,
                         duration_s=stop - start, signals_read=int(signals),
                         stores=[str(v.name) for _k, v in headers.stores.items()],
                         **_scalar_attrs(headers.stores))


def read_tdt_epocs(path, store: str) -> xr.Dataset:
    """One epoc store of a TDT block (``"PAB/"`` or its Python name ``"PAB_"``) as events.

    ``start``/``end`` are onset/offset in seconds; a missing last offset (``inf``) becomes the
    block's end. ``label`` holds the epoc value. Needs only the ``.tsq`` header index.

    Parameters
    ----------
    path : str or os.PathLike
        TDT block folder.
    store : str
        Epoc store name (``"PAB/"``) or its Python name (``"PAB_"``).

    Returns
    -------
    xarray.Dataset
        Events Dataset (see :func:`sfone.schema.make_events`): ``start``/``end`` (s) over ``epoch``,
        coordinate ``label`` (the epoc value), attr ``store``.

    Raises
    ------
    FormatError
        If the block has no such epoc store (the message lists those it has).
    """
    path = Path(path)
    headers = _headers(path)
    match = [v for k, v in headers.stores.items()
             if v.type_str == "epocs" and store in (k, str(v.name), safe_name(v.name))]
    if not match:
        epocs = [str(v.name) for _k, v in headers.stores.items() if v.type_str == "epocs"]
        raise FormatError(f"no epoc store {store!r}; the block has {', '.join(epocs)}", path=path)
    epoc = match[0]
    duration = float(headers.stop_time[0] - headers.start_time[0])
    end = np.where(np.isfinite(epoc.offset), epoc.offset, duration)
    labels = [f"{v:g}" for v in np.asarray(epoc.data, dtype=float)]
    return make_events(np.asarray(epoc.onset, dtype=float), end, label=labels,
                       source_format="tdt", source_file=path, store=str(epoc.name))


def _sniff(path: Path) -> bool:
    return path.is_dir() and len(list(path.glob("*.tsq"))) == 1
